package rules

import (
	"encoding/base64"
	"hash/fnv"
	"math/rand/v2"
	"regexp/syntax"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/pelletier/go-toml/v2"
	"github.com/zricethezav/gitleaks/v8/config"
)

// Example is a text that a rule reports, or one that it does not, for showing people what the
// rule finds. Every example was run through the detector of the ruleset it came from.
type Example struct {
	Path     string // the file the text is taken to be in; "" when the rule looks at no path
	Text     string // "" for a path-only rule, which reports the file itself
	Secret   string // what the rule reports; "" when Reported is false
	Reported bool
	Note     string // why a text that is not reported is not
}

// RuleDetail is what RuleInfo leaves out of a rule, for explaining one rule in full.
type RuleDetail struct {
	Entropy     float64 // minimum Shannon entropy of the secret; 0 for none
	SecretGroup int     // regex group holding the secret; 0 for the first non-empty one
	Required    []string
	SkipReport  bool // reported only as part of a rule that requires it
	Allowlists  []AllowlistInfo
	Keywarden   bool // one of keywarden's own rules (rules/keywarden.toml) rather than gitleaks'
}

// AllowlistInfo describes one of a rule's allowlists as its config file states it.
type AllowlistInfo struct {
	Description string
	Condition   string // "OR" or "AND"
	Target      string // what Regexes test: "secret", "match" or "line"
	Regexes     []string
	Paths       []string
	StopWords   []string
	Commits     []string
}

// Detail describes what RuleInfo leaves out of the rule with the given ID.
func (rs *Ruleset) Detail(id string) (RuleDetail, bool) {
	r, ok := rs.cfg.Rules[id]
	if !ok {
		return RuleDetail{}, false
	}
	d := RuleDetail{
		Entropy:     r.Entropy,
		SecretGroup: r.SecretGroup,
		SkipReport:  r.SkipReport,
		Keywarden:   rs.path == "" && slices.Contains(keywardenIDs(), id),
	}
	for _, req := range r.RequiredRules {
		d.Required = append(d.Required, req.RuleID)
	}
	for _, a := range r.Allowlists {
		d.Allowlists = append(d.Allowlists, allowlistInfo(a))
	}
	return d, true
}

func allowlistInfo(a *config.Allowlist) AllowlistInfo {
	info := AllowlistInfo{
		Description: a.Description,
		Condition:   a.MatchCondition.String(),
		Target:      a.RegexTarget,
		StopWords:   slices.Clone(a.StopWords),
		Commits:     slices.Clone(a.Commits),
	}
	if info.Target == "" {
		info.Target = "secret"
	}
	for _, re := range a.Regexes {
		info.Regexes = append(info.Regexes, re.String())
	}
	for _, re := range a.Paths {
		info.Paths = append(info.Paths, re.String())
	}
	return info
}

// keywardenIDs lists the rules rules/keywarden.toml defines; the file is embedded, so a
// failure to decode it is a build defect that TestRuleExamples reports.
func keywardenIDs() []string {
	var f struct {
		Rules []struct {
			ID string `toml:"id"`
		} `toml:"rules"`
	}
	_ = toml.Unmarshal(keywardenTOML, &f)
	ids := make([]string, 0, len(f.Rules))
	for _, r := range f.Rules {
		ids = append(ids, r.ID)
	}
	return ids
}

// remediations are the next steps for a finding of each kind.
var remediations = map[string]string{
	KindPrivateKey:       "Replace the key pair: make a new key, trust its public half wherever the old one was trusted (authorized_keys, deploy keys, certificates, JWKS), then remove the old public key everywhere and revoke its certificate if it has one.",
	KindCloudCredential:  "Deactivate the access key in the cloud provider's IAM console, create a new one, and read the provider's audit log (CloudTrail, Activity Log, Cloud Audit Logs) for its use.",
	KindToken:            "Revoke the token at the service that issued it, issue a new one with the least scope needed, and check the service's audit log for its use.",
	KindPassword:         "Change the password on every account and system that uses it, and check their logins for its use.",
	KindConnectionString: "Change the password of the account in the connection string, and limit where that account may connect from.",
	KindPasswordHash:     "Treat the passwords behind the hashes as known, since cracking them needs no access to anything: force a reset of the accounts they belong to.",
	KindSecretKey:        "Make a new signing or encryption secret and deploy it. Anything signed or encrypted under the old one can be forged or read: invalidate those sessions and tokens, and re-encrypt that data.",
	KindEncryptedStore:   "The store is encrypted, so it is no leak by itself: check that its passphrase or key is not committed too, and move the store out of the repository.",
	KindGeneric:          "Check what the value is: a generic rule found it by its shape. If it is a credential, revoke it at its issuer and issue a new one.",
}

// KindRemedy says what rotating a secret of kind means (the generic advice for an unknown
// kind), for every output that gives remediation hints.
func KindRemedy(kind string) string {
	if step, ok := remediations[kind]; ok {
		return step
	}
	return remediations[KindGeneric]
}

// Remediation is what to do about a finding of rule: first the step for its kind, then the
// one every leaked credential shares.
func Remediation(rule RuleInfo) string {
	step := KindRemedy(rule.Kind)
	if rule.Kind == KindEncryptedStore {
		return step
	}
	return step + " Deleting it from the code does not remove it from git history: rotate it first."
}

// maxRequiredDepth bounds how deep composite rules' examples are built from their required
// rules' ones.
const maxRequiredDepth = 3

// maxAttempts bounds the texts generated for one rule: the first takes every repeat's minimum
// and every alternation's first branch, the rest choose at random.
const maxAttempts = 48

// Examples returns a text that rule id reports and, where one is found, a close variant of it
// that the rule does not report, each checked with the ruleset's own detector: allowlists,
// path constraints and the placeholder grade included. A rule for which no reported text can
// be built, such as one reported only as part of another, gets none.
func (rs *Ruleset) Examples(id string) []Example {
	if r, ok := rs.cfg.Rules[id]; !ok || r.SkipReport {
		return nil
	}
	return rs.examples(NewDetector(rs, DetectorOptions{}), id)
}

// examples is Examples with the ruleset's detector d.
func (rs *Ruleset) examples(d *Detector, id string) []Example {
	r, ok := rs.cfg.Rules[id]
	if !ok || r.SkipReport {
		return nil
	}
	var tp Example
	switch {
	case r.Regex == nil && r.Path == nil:
		return nil
	case r.Regex == nil:
		tp, ok = pathOnlyExample(d, id, r.Path.String())
	default:
		tp, ok = rs.reportedExample(d, id, r, 0)
	}
	if !ok {
		return nil
	}
	out := []Example{tp}
	if fp, ok := unreported(d, id, tp, r.Path != nil); ok {
		out = append(out, fp)
	}
	return out
}

// reportedExample builds a text rule id (r) reports, from the curated examples or its regex.
// depth counts the composite rules being built around it.
func (rs *Ruleset) reportedExample(d *Detector, id string, r config.Rule, depth int) (Example, bool) {
	// A curated text stands wherever the detector reports it, a user's config included.
	if c, ok := curated()[id]; ok {
		if secret, ok := reportedSecret(d, id, c.Text, c.Path); ok {
			return Example{Path: c.Path, Text: c.Text, Secret: secret, Reported: true}, true
		}
	}
	// Composite rules report only with their required rules' matches close by: one line each.
	var before []string
	for _, req := range r.RequiredRules {
		rr, ok := rs.cfg.Rules[req.RuleID]
		if !ok || rr.Regex == nil || depth >= maxRequiredDepth {
			return Example{}, false // a rule requiring itself, directly or not, never ends
		}
		ex, ok := rs.reportedExample(d, req.RuleID, rr, depth+1)
		if !ok {
			return Example{}, false
		}
		before = append(before, ex.Text)
	}
	expr := rs.regex(id).expr
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return Example{}, false
	}
	var pathRE *syntax.Regexp
	if r.Path != nil {
		if pathRE, err = syntax.Parse(r.Path.String(), syntax.Perl); err != nil {
			return Example{}, false
		}
	}
	rng := rand.New(rand.NewPCG(seed(id), 1))
	// Of the texts reported, the shortest with a strong secret reads best: random choices
	// also add optional context that a person would have to read past.
	var best Example
	bestStrong, found := false, false
	for i := range maxAttempts {
		if bestStrong && i >= maxAttempts/3 {
			break // enough choice
		}
		g := generator{rng: rng, minimal: i == 0}
		text, ok := g.generate(re)
		if !ok {
			continue
		}
		// A rule runs only where one of its keywords occurs, which its regex need not hold
		// (airtable's tokens start with "pat").
		if len(r.Keywords) > 0 && !containsAny(strings.ToLower(text), r.Keywords) {
			text = r.Keywords[0] + ": " + text
		}
		text = strings.Join(append(slices.Clone(before), text), "\n")
		texts := []string{text}
		if t := strings.TrimRight(text, " \t"); t != text {
			texts = []string{t, text} // without the space a terminator class gave, if it still matches
		}
		paths := []string{""}
		if pathRE != nil {
			pg := generator{rng: rng, minimal: i == 0}
			p, ok := pg.generate(pathRE)
			if !ok {
				continue
			}
			paths = pathNames(p)
		}
		ex, ok := firstReported(d, id, texts, paths)
		if !ok {
			continue
		}
		strong := GradeSecret(id, ex.Secret).Grade == gradeStrong
		switch {
		case !found, strong && !bestStrong, strong == bestStrong && len(ex.Text) < len(best.Text):
			best, bestStrong, found = ex, strong, true
		}
	}
	return best, found
}

// firstReported returns the first of texts, at the first of paths, that rule id reports.
func firstReported(d *Detector, id string, texts, paths []string) (Example, bool) {
	for _, text := range texts {
		for _, path := range paths {
			if secret, ok := reportedSecret(d, id, text, path); ok {
				return Example{Path: path, Text: text, Secret: secret, Reported: true}, true
			}
		}
	}
	return Example{}, false
}

// pathNames turns a string generated from a path regex into file names to try, the more
// natural first: ".yml" becomes "deploy/app.yml", then ".yml".
func pathNames(p string) []string {
	p = strings.TrimPrefix(p, "/")
	if p == "" || strings.ContainsAny(p, "\r\n") {
		return nil
	}
	if strings.HasPrefix(p, ".") && !strings.Contains(p, "/") {
		return []string{"deploy/app" + p, p}
	}
	return []string{p}
}

func containsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// pathOnlyExample builds a path a path-only rule reports.
func pathOnlyExample(d *Detector, id, pathExpr string) (Example, bool) {
	re, err := syntax.Parse(pathExpr, syntax.Perl)
	if err != nil {
		return Example{}, false
	}
	rng := rand.New(rand.NewPCG(seed(id), 1))
	for i := range maxAttempts {
		g := generator{rng: rng, minimal: i == 0}
		p, ok := g.generate(re)
		if !ok {
			continue
		}
		for _, path := range pathNames(p) {
			if pathReported(d, id, path) {
				return Example{Path: path, Reported: true}, true
			}
		}
	}
	return Example{}, false
}

func pathReported(d *Detector, id, path string) bool {
	for _, m := range d.PathMatches(path, "") {
		if m.RuleID == id {
			return true
		}
	}
	return false
}

// reportedSecret returns the first secret rule id reports in text at path after every check a
// scan makes, placeholders dropped.
func reportedSecret(d *Detector, id, text, path string) (string, bool) {
	if path != "" && d.PathExcluded(path) {
		return "", false
	}
	for _, m := range d.DetectAt([]byte(text), path) {
		if m.RuleID != id || d.Allowed(&m, path, "") || GradeSecret(id, m.Secret).Grade == gradePlaceholder {
			continue
		}
		return m.Secret, true
	}
	return "", false
}

// unreported derives from tp a text the rule does not report: in another file, a character
// short, or with the secret's second half masked as placeholders are.
func unreported(d *Detector, id string, tp Example, hasPath bool) (Example, bool) {
	var tries []Example
	if tp.Text == "" { // a path-only rule
		tries = append(tries, Example{Path: "README.md", Note: "the rule looks only at the file's name"})
	} else {
		if hasPath {
			tries = append(tries, Example{Path: "README.md", Text: tp.Text, Note: "the same text outside the files the rule looks at"})
		}
		if i := strings.Index(tp.Text, tp.Secret); i >= 0 && tp.Secret != "" {
			head, tail := tp.Text[:i], tp.Text[i+len(tp.Secret):]
			s := []rune(tp.Secret)
			tries = append(tries,
				Example{Path: tp.Path, Text: head + string(s[:len(s)-1]) + tail, Note: "one character short"},
				Example{Path: tp.Path, Text: head + mask(s) + tail, Note: "a placeholder: the second half is x"},
				Example{Path: tp.Path, Text: head + string(s[:len(s)/2]) + tail, Note: "half the length"},
				Example{Path: tp.Path, Text: head + "${VALUE}" + tail, Note: "a variable reference instead of a value"},
			)
		}
	}
	for _, ex := range tries {
		if ex.Text == "" {
			if !pathReported(d, id, ex.Path) {
				return ex, true
			}
			continue
		}
		if _, ok := reportedSecret(d, id, ex.Text, ex.Path); !ok {
			return ex, true
		}
	}
	return Example{}, false
}

// mask replaces the letters and digits of the second half of s with x.
func mask(s []rune) string {
	out := slices.Clone(s)
	for i := len(out) / 2; i < len(out); i++ {
		if unicode.IsLetter(out[i]) || unicode.IsDigit(out[i]) {
			out[i] = 'x'
		}
	}
	return string(out)
}

// seed makes each rule's examples the same from run to run.
func seed(id string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return h.Sum64()
}

// generator writes a string that a parsed regex matches. Empty-width assertions (^, $, \b)
// are not enforced: the detector checks the result.
type generator struct {
	rng     *rand.Rand
	minimal bool // every repeat's minimum and every alternation's first branch
	b       strings.Builder
	steps   int
	last    rune // the last rune written
	// boundary is set by a \b after a word character: a word character written next gets a
	// space before it, which \b\w+\b words such as "authorization\b.*\bBasic" need.
	boundary bool
}

func (g *generator) write(r rune) {
	if g.boundary && isWord(r) {
		g.b.WriteByte(' ')
	}
	g.boundary = false
	g.b.WriteRune(r)
	g.last = r
}

func isWord(r rune) bool {
	return r == '_' || r < utf8.RuneSelf && strings.ContainsRune(exampleChars, r)
}

// maxGenerated bounds a generated text; no rule needs more than a few KiB to match.
const maxGenerated = 8 << 10

func (g *generator) generate(re *syntax.Regexp) (string, bool) {
	g.b.Reset()
	g.last, g.boundary = 0, false
	if !g.walk(re) || g.b.Len() > maxGenerated {
		return "", false
	}
	return g.b.String(), true
}

func (g *generator) walk(re *syntax.Regexp) bool {
	if g.steps++; g.steps > 1<<16 || g.b.Len() > maxGenerated {
		return false
	}
	switch re.Op {
	case syntax.OpNoMatch:
		return false
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText,
		syntax.OpEndText, syntax.OpNoWordBoundary:
		return true
	case syntax.OpWordBoundary:
		g.boundary = g.last != 0 && isWord(g.last)
		return true
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			if re.Flags&syntax.FoldCase != 0 {
				r = unicode.ToLower(r)
			}
			g.write(r)
		}
		return true
	case syntax.OpCharClass:
		r, ok := g.pick(re.Rune)
		if ok {
			g.write(r)
		}
		return ok
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		// Mostly a dot: an unescaped one in a host name (hooks.slack.com) is a keyword.
		if g.minimal || g.rng.IntN(2) == 0 {
			g.write('.')
		} else {
			g.write(rune(exampleChars[g.rng.IntN(len(exampleChars))]))
		}
		return true
	case syntax.OpCapture:
		return g.walk(re.Sub[0])
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			if !g.walk(sub) {
				return false
			}
		}
		return true
	case syntax.OpAlternate:
		if g.minimal {
			return g.walk(re.Sub[0])
		}
		return g.walk(re.Sub[g.rng.IntN(len(re.Sub))])
	case syntax.OpStar:
		return g.repeat(re.Sub[0], 0, -1)
	case syntax.OpPlus:
		return g.repeat(re.Sub[0], 1, -1)
	case syntax.OpQuest:
		return g.repeat(re.Sub[0], 0, 1)
	case syntax.OpRepeat:
		return g.repeat(re.Sub[0], re.Min, re.Max)
	}
	return false
}

// repeat writes sub between lo and hi times (hi < 0: no limit). Choices at random stay within
// a few repetitions past the minimum, which is what real secrets and their context look like.
func (g *generator) repeat(sub *syntax.Regexp, lo, hi int) bool {
	n := lo
	if !g.minimal {
		spread := 8
		if separator(sub) {
			spread = 1 // one space between words, not eight
		}
		if hi >= 0 && hi-lo < spread {
			spread = hi - lo
		}
		// Optional context (a prefix such as [\w.-]{0,40}?) is mostly left out.
		if lo > 0 || g.rng.IntN(3) == 0 {
			n += g.rng.IntN(spread + 1)
		}
	}
	for range n {
		if !g.walk(sub) {
			return false
		}
	}
	return true
}

// separator reports whether re is a single character that is never a letter or digit, such
// as [ \t] or [\s'"].
func separator(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpLiteral:
		return len(re.Rune) == 1 && !strings.ContainsRune(exampleChars, re.Rune[0])
	case syntax.OpCharClass:
		for i := 0; i+1 < len(re.Rune); i += 2 {
			for _, c := range exampleChars {
				if re.Rune[i] <= c && c <= re.Rune[i+1] {
					return false
				}
			}
		}
		return true
	}
	return false
}

const exampleChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// pick chooses a rune from a character class (pairs of inclusive ranges), preferring letters
// and digits, then a space, then other printable ASCII, so that examples stay readable.
func (g *generator) pick(ranges []rune) (rune, bool) {
	if len(ranges) == 0 {
		return 0, false
	}
	in := func(r rune) bool {
		for i := 0; i+1 < len(ranges); i += 2 {
			if ranges[i] <= r && r <= ranges[i+1] {
				return true
			}
		}
		return false
	}
	var cand []rune
	for _, c := range exampleChars {
		if in(c) {
			cand = append(cand, c)
		}
	}
	if len(cand) == 0 && in(' ') {
		return ' ', true
	}
	if len(cand) == 0 {
		for c := rune('!'); c <= '~'; c++ {
			if in(c) {
				cand = append(cand, c)
			}
		}
		// Punctuation is syntax, not secret: the first (= before >) reads best.
		if g.minimal && len(cand) > 0 {
			return cand[0], true
		}
	}
	if len(cand) == 0 {
		r := ranges[0]
		if !utf8.ValidRune(r) {
			return 0, false
		}
		return r, true
	}
	return cand[g.rng.IntN(len(cand))], true
}

// curatedExample is a text a rule reports where one generated from its regex would not be:
// the secret must decode to something (user:password in base64) or sit in a larger structure.
type curatedExample struct {
	Path, Text string
}

// curated holds hand-written examples of keywarden's own rules. The values are fake, and the
// words a rule keys on are split, so that this file scans clean.
var curated = sync.OnceValue(func() map[string]curatedExample {
	b64 := base64.StdEncoding.EncodeToString
	pw := "Vq8#Lm2p" + "Xz!4"
	pwURL := "Vq8Lm2p" + "Xz4Rt" // no character a URL would escape
	userPass := b64([]byte("deploy:" + pw))
	text := b64([]byte("Hq7vT2mL" + "x9Pz4Rk8" + "Wn3s"))
	pass := "pass" + "word"
	return map[string]curatedExample{
		"password-assignment": {"app/db.py",
			`DB_CONFIG = {"host": "db1", "` + pass + `": "` + pw + `"}`},
		"password-in-config": {"apps/shop/.env", "DB_PASS" + "WORD=" + pw},
		"password-xml-element": {"home/alice/.m2/settings.xml",
			"<server><id>nexus</id><" + pass + ">" + pw + "</" + pass + "></server>"},
		"password-in-call": {"Services/MailService.cs",
			`Credentials = new Network` + `Credential("portal@example.net", "` + pw + `")`},
		"credential-file-password": {"home/alice/.netrc",
			"machine ftp.example.net login alice " + pass + " " + pw},
		"connection-string-url": {"apps/api/config/production.json",
			`"mongo": "mongodb+srv://api:` + pwURL + `@cluster0.example.net/orders"`},
		"connection-string-password": {"apps/billing/appsettings.json",
			`"Default": "Server=sql1.internal;Database=Billing;User Id=billing;Pass` + `word=` + pw + `"`},
		"connection-string-password-param": {"src/main/resources/application.properties",
			"spring.datasource.url=jdbc:postgresql://db1.internal:5432/shop?user=shop&" + pass + "=" + pwURL},
		"connection-string-go-dsn": {"cmd/ingest/config.go",
			`defaultDSN = "ingest:` + pw + `@t` + `cp(mysql.internal:3306)/events"`},
		"postfix-sasl-password": {"etc/postfix/sasl_passwd", "[smtp.example.net]:587   alerts@example.net:" + pw},
		"pgpass-password":       {"home/alice/.pgpass", "db1.internal:5432:orders:app:" + pw},
		"redis-acl-password":    {"etc/redis/redis.conf", "user metrics on >" + pw + " ~* &* -@all +info"},
		"ldap-bind-password":    {"etc/nslcd.conf", "bind" + "pw " + pw},
		"s3cfg-credential":      {"home/alice/.s3cfg", "[default]\nsecret_" + "key = " + strings.TrimRight(b64([]byte("s3-"+pw+"-"+pw)), "=")},
		"docker-config-auth": {"home/alice/.docker/config.json",
			`{"auths": {"registry.example.net": {"` + "au" + `th": "` + userPass + `"}}}`},
		"authorization-basic": {"etc/nginx/conf.d/proxy.conf",
			`proxy_set_header Author` + `ization "Basic ` + userPass + `";`},
		"npmrc-auth": {"home/alice/.npmrc",
			"//nexus.example.net/repository/npm/:_" + "auth=" + userPass},
		"kubernetes-secret-password": {"deploy/k8s/db-secret.yaml",
			"kind: Secret\ndata:\n  DB_PASS" + "WORD: " + text},
		"kubernetes-secret-data": {"deploy/k8s/api-secret.yaml",
			"kind: Secret\ndata:\n  API_TO" + "KEN: " + text},
		"kubernetes-secret-key": {"deploy/k8s/web-secret.yaml",
			"kind: Secret\ndata:\n  session-" + "key: " + text},
		"sql-insert-password": {"db/legacy.sql",
			"INSERT INTO `members` (`id`, `login`, `" + pass + "`) VALUES (1,'jdoe','" + pw + "');"},
		"sql-dump-password": {"backups/crm.sql",
			"CREATE TABLE `members` (\n  `id` int NOT NULL,\n  `login` varchar(64),\n  `" + pass + "` varchar(64)\n);\n" +
				"INSERT INTO `members` VALUES (1,'jdoe','" + pw + "');"},
		"jwk-private-key": {"keys/signing.jwk",
			`{"k` + `ty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",` +
				`"y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","d":"jpsQnnGQmL-YBIffH1136c` + `LwjhWc5GKu8sRDAqNOV1E"}`},
	}
})
