package rules

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Strength grades a secret value.
type Strength struct {
	Grade  string `json:"grade"`            // "strong", "weak" or "placeholder"
	Reason string `json:"reason,omitempty"` // why it is weak or a placeholder, one line ("all one character", "dictionary word and digits: password123", "a Unix timestamp: 2025-03-01", "entropy 2.1 bits/char, below 3.0 for 24 hex characters")
}

const (
	gradeStrong      = "strong"
	gradeWeak        = "weak"
	gradePlaceholder = "placeholder"
)

// strengthAlphabet is the smallest character set a value fits in. Random values drawn from a
// smaller set have less entropy per character, so each set gets its own thresholds.
type strengthAlphabet int

const (
	alphaDecimal   strengthAlphabet = iota // 0-9
	alphaHex                               // 0-9 and a-f, or 0-9 and A-F
	alphaOneCase                           // 0-9 and a-z, or 0-9 and A-Z: base32, base36, letters only
	alphaAlnum                             // 0-9, a-z and A-Z
	alphaBase64                            // alphanumeric plus + / - _ (base64 and base64url; padding dropped)
	alphaPrintable                         // anything else, spaces and non-ASCII included
)

func (a strengthAlphabet) String() string {
	return [...]string{"decimal", "hex", "single-case alphanumeric", "alphanumeric", "base64", "printable"}[a]
}

// strengthThreshold is one row of the entropy table: a value of alphabet and at least minLen
// characters (up to the next row's minLen) is weak below minBits of Shannon entropy per
// character.
type strengthThreshold struct {
	alphabet strengthAlphabet
	minLen   int
	minBits  float64
}

// strengthThresholds is the one table of entropy thresholds. Each minBits is the 0.01%
// quantile of shannonEntropy over 100,000 crypto/rand values of the row's alphabet at the
// row's shortest length, rounded down to 0.05, so at most about 1 in 10,000 random values (and
// fewer at the longer lengths of a band) falls below it. The single-case row is the lowest of
// base26 (letters only), base32 and base36; the printable row the lower of 94 printable
// characters and alphanumeric plus 8 symbols (what most password generators use). Entropy per
// character cannot exceed log2(length), so short bands can only catch very repetitive values;
// human choices show at 20 characters and more. docs/strength.md lists the measurements.
var strengthThresholds = []strengthThreshold{
	{alphaDecimal, 8, 1.00}, {alphaDecimal, 12, 1.50}, {alphaDecimal, 16, 1.90}, {alphaDecimal, 20, 2.10},
	{alphaDecimal, 24, 2.30}, {alphaDecimal, 32, 2.50}, {alphaDecimal, 48, 2.75}, {alphaDecimal, 64, 2.90},

	{alphaHex, 8, 1.25}, {alphaHex, 12, 1.85}, {alphaHex, 16, 2.25}, {alphaHex, 20, 2.50},
	{alphaHex, 24, 2.70}, {alphaHex, 32, 2.95}, {alphaHex, 48, 3.30}, {alphaHex, 64, 3.45},

	{alphaOneCase, 8, 1.50}, {alphaOneCase, 12, 2.15}, {alphaOneCase, 16, 2.55}, {alphaOneCase, 20, 2.85},
	{alphaOneCase, 24, 3.05}, {alphaOneCase, 32, 3.35}, {alphaOneCase, 48, 3.75}, {alphaOneCase, 64, 3.95},

	{alphaAlnum, 8, 1.80}, {alphaAlnum, 12, 2.55}, {alphaAlnum, 16, 3.05}, {alphaAlnum, 20, 3.30},
	{alphaAlnum, 24, 3.55}, {alphaAlnum, 32, 3.90}, {alphaAlnum, 48, 4.40}, {alphaAlnum, 64, 4.70},

	{alphaBase64, 8, 1.80}, {alphaBase64, 12, 2.55}, {alphaBase64, 16, 3.05}, {alphaBase64, 20, 3.30},
	{alphaBase64, 24, 3.55}, {alphaBase64, 32, 3.90}, {alphaBase64, 48, 4.40}, {alphaBase64, 64, 4.70},

	{alphaPrintable, 8, 1.95}, {alphaPrintable, 12, 2.55}, {alphaPrintable, 16, 3.10}, {alphaPrintable, 20, 3.40},
	{alphaPrintable, 24, 3.60}, {alphaPrintable, 32, 4.00}, {alphaPrintable, 48, 4.45}, {alphaPrintable, 64, 4.80},
}

// strengthMinLen is the length below which a secret is weak whatever its characters.
const strengthMinLen = 8

// thresholdFor returns the index of the row of strengthThresholds for a value of alphabet a and
// n characters, or -1 when n is below every row.
func thresholdFor(a strengthAlphabet, n int) int {
	best := -1
	for i, t := range strengthThresholds {
		if t.alphabet == a && n >= t.minLen && (best < 0 || t.minLen > strengthThresholds[best].minLen) {
			best = i
		}
	}
	return best
}

// The window in which a number is taken for a timestamp. Wide enough for keys minted since
// 2000 and for expiry dates, narrow enough that most random numbers of a timestamp's length
// fall outside it.
var (
	tsFrom = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	tsTo   = time.Date(2036, 1, 1, 0, 0, 0, 0, time.UTC)
	// Calendar dates reach further back: birthdays are classic password material.
	dateFromYear, dateToYear = 1970, 2035
)

// GradeSecret grades secret, the value a rule matched (its secret group). ruleID helps where the
// rule knows the format (a private key is graded by its key checks, not here: return strong for
// rule IDs containing "private-key").
func GradeSecret(ruleID, secret string) Strength {
	if strings.Contains(strings.ToLower(ruleID), "private-key") {
		return Strength{Grade: gradeStrong}
	}
	return gradeValue(secret, true)
}

// gradeValue grades v; decode says whether a hex or base64 encoding of readable text may be
// decoded and graded in turn (once: the decoded text is not decoded again).
func gradeValue(v string, decode bool) Strength {
	v = strings.TrimSpace(v)
	if v == "" {
		return placeholderGrade("empty value")
	}
	if r := templateReason(v); r != "" {
		return placeholderGrade(r)
	}
	if r := markerReason(v); r != "" {
		return placeholderGrade(r)
	}
	body := secretBody(v)
	if body != v {
		if r := templateReason(body); r != "" {
			return placeholderGrade(r)
		}
	}
	if r := patternReason(body); r != "" {
		return placeholderGrade(r)
	}
	// Before masks: a zero-padded timestamp is mostly zeros.
	if r := uuidV1Reason(v); r != "" {
		return weakGrade(r)
	}
	if r := timeReason(body); r != "" {
		return weakGrade(r)
	}
	if r := maskReason(body); r != "" {
		return placeholderGrade(r)
	}
	if n := utf8.RuneCountInString(body); n < strengthMinLen {
		return weakGrade(fmt.Sprintf("too short: %d characters", n))
	}
	if r := dictionaryReason(v); r != "" {
		return weakGrade(r)
	}
	if body != v {
		if r := dictionaryReason(body); r != "" {
			return weakGrade(r)
		}
	}
	if decode {
		if s, how := decodeReadable(body); how != "" {
			// Short text inside a long encoding is not short.
			if g := gradeValue(s, false); g.Grade != gradeStrong && !strings.HasPrefix(g.Reason, "too short") {
				g.Reason = "decoded from " + how + ", " + g.Reason
				return g
			}
		}
	}
	if r := entropyReason(body); r != "" {
		return weakGrade(r)
	}
	return Strength{Grade: gradeStrong}
}

func placeholderGrade(reason string) Strength {
	return Strength{Grade: gradePlaceholder, Reason: reason}
}
func weakGrade(reason string) Strength { return Strength{Grade: gradeWeak, Reason: reason} }

// Templates: a value that is mostly a reference to something filled in elsewhere. The
// anchored forms need word characters inside, so a random printable password that happens to
// start with "<" and end with ">" is not taken for one.
var (
	templateWhole = []*regexp.Regexp{
		regexp.MustCompile(`^<[A-Za-z0-9 _.\-:/]+>$`),                                                 // <your-api-key>
		regexp.MustCompile(`^\$([A-Z_]+[0-9]?|[a-z_]+)$`),                                             // $API_KEY, $password
		regexp.MustCompile(`^\$\([^()]+\)$`),                                                          // $(cat /run/secret)
		regexp.MustCompile(`^\$env:[A-Za-z_][A-Za-z0-9_]*$`),                                          // $env:TOKEN
		regexp.MustCompile(`^%([A-Z_]+[0-9]?|[a-z_]+)%$`),                                             // %API_KEY%
		regexp.MustCompile(`^\{[A-Za-z_][A-Za-z0-9_.]*\}$`),                                           // {password}
		regexp.MustCompile(`^__[A-Za-z0-9_]+__$`),                                                     // __API_KEY__
		regexp.MustCompile(`^@([A-Z_]+[0-9]?|[a-z_]+)@$`),                                             // @API_KEY@
		regexp.MustCompile(`^\[\[?[A-Za-z_][A-Za-z0-9_. ]*\]?\]$`),                                    // [[token]]
		regexp.MustCompile(`^(process\.env\.|os\.environ|os\.getenv\(|System\.getenv\(|ENV\[|env\()`), // code reading the environment
	}
	templateSpan = regexp.MustCompile(`\$\{\s*[A-Za-z_][A-Za-z0-9_.:\-]*\s*(:?[-=?+][A-Za-z0-9_./:@\-]*)?\}|#\{[A-Za-z_][A-Za-z0-9_.:\-]*\}|\$?\{\{[^{}]{1,100}\}\}|\{%\s[^{}]{1,100}\s%\}`)
)

func templateReason(v string) string {
	// Every template holds one of these (the code forms a dot or a parenthesis); most tokens
	// hold none, and skip the regexes.
	if !strings.ContainsAny(v, "<>${}%@[]_(.") {
		return ""
	}
	for _, re := range templateWhole {
		if re.MatchString(v) {
			return "template: " + clip(v)
		}
	}
	// ${VAR}, {{ .Values.x }}, #{x}: a template filling at least three quarters of the value
	// (GradeSecret also asks about the value without a prefix such as "Bearer "). Half would
	// take "6${c}9sg", a random password, for one.
	covered := 0
	var first string
	for _, loc := range templateSpan.FindAllStringIndex(v, -1) {
		covered += loc[1] - loc[0]
		if first == "" {
			first = v[loc[0]:loc[1]]
		}
	}
	if covered > 0 && 4*covered >= 3*len(v) {
		return "template: " + clip(first)
	}
	return ""
}

// clip keeps a reason on one short line.
func clip(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 40 {
		s = s[:37] + "..."
	}
	return s
}

// Word lists. markerWords flag a placeholder wherever they occur; all have at least six
// letters, which a random 64-character token holds about once in 10 million (five letters:
// once in 20,000 over this list, too often to drop real secrets for). Shorter markers such as
// "test" or "dummy" count only when every word of the value is a marker or filler
// ("test-key-123", "your_token_here", "dummy-password").
var markerWords = []string{
	"example", "placeholder", "changeme", "changeit", "replaceme", "redacted", "sample",
	"yourkey", "yourapikey", "yourtoken", "yoursecret", "yourpassword", "notasecret", "notreal",
	"foobar", "insertkey", "inserttoken", "insertyour", "enteryour", "changethis", "changeinprod",
}

const (
	wordFiller = 1 << iota // says nothing by itself: key, token, my
	wordMarker             // makes a value a placeholder when nothing but fillers surrounds it
	wordDict               // a common password root
)

// strengthWords maps lower-case words to their kinds.
var strengthWords = map[string]uint8{}

func addWords(kind uint8, list string) {
	for _, w := range strings.Fields(list) {
		strengthWords[w] |= kind
	}
}

func init() {
	addWords(wordMarker, `test testing tests todo fixme tbd fake dummy demo mock mocked foo bar baz qux
		lorem ipsum dolor sit amet xxx none null nil undefined empty blank your yours insert replace enter put
		sample example placeholder changeme redacted stub`)
	// Two-letter words are few and chosen: most two-letter pairs ("at", "it") turn up in
	// random tokens all the time.
	addWords(wordFiller, `my our the for and with this that some own new
		old real actual api apis key keys token tokens secret secrets password passwords passwd pass
		pwd pw value val string str auth access client app db user username id account service
		private public prod dev staging local here goes super very top ultra mega strong long
		random default please set env config conf cred creds credential credentials login admin
		master root jwt bearer session signing encryption aes hmac salt code pin word phrase
		passphrase hash webhook bot change`)
	// Common password roots, after the public lists of most-used passwords (SplashData,
	// NordPass, the RockYou top thousand), plus words people build company passwords from.
	addWords(wordDict, `password passwd passcode passwort admin administrator root toor user guest
		login welcome letmein secret master dragon monkey qwerty shadow sunshine princess football
		baseball basketball soccer hockey golf tennis batman superman spiderman iloveyou trustno
		love lovely loveme hello whatever freedom charlie michael jordan jennifer hunter ranger
		buster tigger thomas robert daniel andrew joshua matthew jessica ashley michelle nicole
		amanda george william david james john maggie ginger pepper summer winter spring autumn
		january february march april june july august september october november december
		monday tuesday wednesday thursday friday saturday sunday computer internet network server
		database system default access secure security private public cookie cheese chocolate
		banana orange apple cherry lemon coffee butter flower rainbow purple yellow silver golden
		diamond crystal angel baby babygirl sweet sweetie honey sugar candy star starwars pokemon
		nintendo killer ninja pirate tiger lion eagle falcon wolf bear shark panther jaguar
		mustang ferrari porsche corvette harley yamaha mercedes chelsea arsenal liverpool
		barcelona madrid yankees cowboys lakers matrix zombie hacker cyber phoenix thunder
		lightning storm magic wizard merlin gandalf knight king queen prince castle london paris
		berlin tokyo america canada mexico texas florida family friends forever money cash
		bitcoin crypto business company corp corporate office enterprise service services support
		manager staff team sysadmin devops developer production staging stage develop
		development app application portal cloud azure google amazon microsoft oracle cisco
		linux ubuntu windows docker kubernetes jenkins github gitlab jira confluence mysql
		postgres postgresql redis mongo mongodb elastic kafka rabbit rabbitmq tomcat nginx apache
		jesus god heaven blessed faith hope snoopy mickey minnie garfield scooby rocky maverick
		superstar rockstar player gamer logon signin hottie flower cookie muffin pumpkin peanut
		bubbles jasmine samantha taylor austin hannah sophie soccer yankee dallas boston chicago
		sparky buddy lucky smokey bandit coco charlie max bella daisy molly oliver jack alex
		secure safe vault letmein open sesame gateway firewall backup monitor report finance
		payroll sales marketing world pass word acme contoso fabrikam northwind initech globex
		umbrella wayne stark dog cat puppy kitty horse bird mom dad life home house car boy girl
		blue red green black white pink sky sun moon fire water ice snow rain gold`)
}

// markerReason finds placeholder words: long ones anywhere, short ones when they dominate.
func markerReason(v string) string {
	norm := lettersDigitsLower(v)
	for _, m := range markerWords {
		if strings.Contains(norm, m) {
			return "placeholder word: " + m
		}
	}
	if w := dominantMarker(v); w != "" {
		return "placeholder word: " + w
	}
	return ""
}

// lettersDigitsLower lower-cases v and drops everything but ASCII letters and digits, so that
// "CHANGE_ME" and "change-me" read as "changeme".
func lettersDigitsLower(v string) string {
	b := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case 'A' <= c && c <= 'Z':
			b = append(b, c+'a'-'A')
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
			b = append(b, c)
		}
	}
	return string(b)
}

// dominantMarker returns a marker word when every letter run of v is made of marker and
// filler words only, at least one of them a marker.
func dominantMarker(v string) string {
	lower := strings.ToLower(v)
	var marker string
	letters := 0
	for _, run := range letterRuns(lower) {
		seg, ok := segmentWords(run, wordMarker|wordFiller)
		if !ok {
			return ""
		}
		letters += len(run)
		for _, w := range seg {
			if marker == "" && strengthWords[w]&wordMarker != 0 {
				marker = w
			}
		}
	}
	if letters < 3 {
		return ""
	}
	return marker
}

// letterRuns splits s at everything that is not an ASCII letter.
func letterRuns(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') })
}

// segmentWords splits the lower-case letters s into as few words of the given kinds as it can;
// ok is false when s is not such a concatenation.
func segmentWords(s string, kinds uint8) (words []string, ok bool) {
	const maxWord = 16
	n := len(s)
	if n == 0 || n > 64 {
		return nil, n == 0
	}
	// best[i] is the fewest words covering s[:i] (0 = unreachable, counts are stored plus one).
	var best, from [65]int
	best[0] = 1
	for i := 1; i <= n; i++ {
		for j := max(0, i-maxWord); j < i; j++ {
			if best[j] == 0 || (best[i] != 0 && best[j]+1 >= best[i]) {
				continue
			}
			w := s[j:i]
			if len(w) < 2 || strengthWords[w]&kinds == 0 {
				continue
			}
			best[i], from[i] = best[j]+1, j
		}
	}
	if best[n] == 0 {
		return nil, false
	}
	for i := n; i > 0; i = from[i] {
		words = append(words, s[from[i]:i])
	}
	for l, r := 0, len(words)-1; l < r; l, r = l+1, r-1 {
		words[l], words[r] = words[r], words[l]
	}
	return words, true
}

// Known token prefixes: what follows is the random part. Longest first where one is a prefix
// of another.
var knownPrefixes = []string{
	"github_pat_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "glpat-", "gldt-", "glrt-", "glptt-",
	"sk_live_", "sk_test_", "rk_live_", "rk_test_", "pk_live_", "pk_test_", "whsec_",
	"xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xoxe-", "xapp-",
	"sk-proj-", "sk-ant-", "sk-", "npm_", "pypi-", "hf_", "dop_v1_", "doo_v1_", "dor_v1_",
	"shpat_", "shpca_", "shppa_", "shpss_", "sq0atp-", "sq0csp-", "SG.", "AKIA", "ASIA", "ABIA",
	"ACCA", "AIza", "Bearer ", "bearer ", "Basic ", "basic ", "Token ", "token ",
}

// genericPrefix is a short word and a separator in front of a long random part ("live_",
// "prod-", "tok_"), the common shape of prefixes not in the list.
var genericPrefix = regexp.MustCompile(`^[A-Za-z]{2,10}[0-9]?[_\-.]`)

// uuidShape is a UUID in its usual form.
var uuidShape = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// secretBody returns the part of v that carries the secret: after a token prefix, and a UUID
// without its dashes.
func secretBody(v string) string {
	if uuidShape.MatchString(v) {
		return strings.ReplaceAll(v, "-", "")
	}
	if len(v) > 2 && (v[:2] == "0x" || v[:2] == "0X") && isHexDigits(v[2:]) {
		return v[2:]
	}
	body := v
	stripped := false
	for _, p := range knownPrefixes {
		if strings.HasPrefix(v, p) && len(v) > len(p) {
			body, stripped = v[len(p):], true
			break
		}
	}
	if !stripped {
		if loc := genericPrefix.FindStringIndex(v); loc != nil && len(v)-loc[1] >= 16 {
			body = v[loc[1]:]
		}
	}
	return body
}

// Sequences people type instead of a value. Digits wrap around ("7890123").
var typedSequences = []string{
	"01234567890123456789", "abcdefghijklmnopqrstuvwxyz", "qwertyuiop", "asdfghjkl", "zxcvbnm",
	"qwertzuiop", "azertyuiop", "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p", "1q2w3e4r5t6y7u8i9o0p",
	"!@#$%^&*()",
}

// patternReason finds repetition and typedSequences in the secret part.
func patternReason(body string) string {
	rs := []rune(body)
	n := len(rs)
	if n == 0 {
		return "empty value"
	}
	if unit := repeatUnit(rs); unit == 1 {
		return "all one character"
	} else if unit > 0 {
		return fmt.Sprintf("a repeated unit of %d characters", unit)
	}
	if n >= 6 && sequential(strings.ToLower(body)) {
		return "sequential or keyboard-row characters"
	}
	return ""
}

// maskReason finds masked values.
func maskReason(body string) string {
	rs := []rune(body)
	n := len(rs)
	// Masks: runs of x, *, • or 0 covering at least half the value ("AKIAXXXXXXXXXXXXXXXX",
	// "sk_live_****************abcd"). Runs are at least 6 long, or "10000218" would be one.
	const minMaskRun = 6
	masked, run := 0, 0
	var prev rune
	for i, r := range rs {
		if isMaskRune(r) && (run == 0 || sameMask(prev, r)) {
			run++
		} else {
			if run >= minMaskRun {
				masked += run
			}
			run = 0
			if isMaskRune(r) {
				run = 1
			}
		}
		prev = r
		if i == n-1 && run >= minMaskRun {
			masked += run
		}
	}
	if 2*masked >= n {
		return "masked: runs of x, * or 0"
	}
	return ""
}

func isMaskRune(r rune) bool {
	switch r {
	case 'x', 'X', '*', '•', '0', '#':
		return true
	}
	return false
}

// sameMask: x and X mix in one run ("xxXX"), other mask characters do not.
func sameMask(a, b rune) bool {
	return a == b || (a|0x20 == 'x' && b|0x20 == 'x')
}

// repeatUnit returns the length of the shortest unit rs repeats (at least twice, the last copy
// possibly cut short), 0 if none.
func repeatUnit(rs []rune) int {
	n := len(rs)
outer:
	for u := 1; 2*u <= n; u++ {
		for i := u; i < n; i++ {
			if rs[i] != rs[i-u] {
				continue outer
			}
		}
		return u
	}
	return 0
}

// sequential reports whether s is made entirely of at most four runs of at least three
// consecutive characters of one of the typedSequences, forwards or backwards ("123456789",
// "abcdef123456", "qwerty123", "987654").
func sequential(s string) bool {
	if d := undouble(s); d != s && len(d) >= 4 {
		return sequential(d) // "11223344", "aabbccdd"
	}
	runs := 0
	for i := 0; i < len(s); {
		l := longestSequenceRun(s[i:])
		if l < 3 {
			return false
		}
		i += l
		runs++
	}
	return runs <= 4
}

// undouble collapses s when it is made of runs of one length of at least two ("112233" to
// "123"); otherwise it returns s.
func undouble(s string) string {
	k := 1
	for k < len(s) && s[k] == s[0] {
		k++
	}
	if k < 2 || len(s)%k != 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i += k {
		if strings.Count(s[i:i+k], s[i:i+1]) != k || i > 0 && s[i] == s[i-k] {
			return s
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func longestSequenceRun(s string) int {
	best := 1
	for _, seq := range typedSequences {
		for _, dir := range []int{1, -1} {
			l := 1
			for l < len(s) && followsIn(seq, s[l-1], s[l], dir) {
				l++
			}
			best = max(best, l)
		}
	}
	return best
}

// followsIn reports whether b comes right after a in seq (right before when dir is -1).
func followsIn(seq string, a, b byte, dir int) bool {
	for i := 0; i < len(seq); i++ {
		if seq[i] != a {
			continue
		}
		if j := i + dir; j >= 0 && j < len(seq) && seq[j] == b {
			return true
		}
	}
	return false
}

// Date layouts people write; time.Parse checks the calendar.
var dateLayouts = []string{
	"2006-01-02", "2006/01/02", "2006.01.02", "20060102", "02-01-2006", "02.01.2006", "02/01/2006",
	"01/02/2006", "2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05", "2006-01-02 15:04:05", "20060102150405", "20060102T150405Z",
}

// timeReason finds Unix timestamps, dates, hex-encoded timestamps and time-based UUIDs.
func timeReason(body string) string {
	if isDigits(body) {
		if r := decimalTimestamp(body); r != "" {
			return r
		}
	}
	if len(body) >= 8 && len(body) <= 35 && body[0] >= '0' && body[0] <= '9' &&
		strings.Trim(body, "0123456789-/.:TZ+ ") == "" {
		for _, layout := range dateLayouts {
			if t, err := time.Parse(layout, body); err == nil && t.Year() >= dateFromYear && t.Year() <= dateToYear {
				return "a date: " + t.Format(time.DateOnly)
			}
		}
	}
	if r := hexTimestamp(body); r != "" {
		return r
	}
	return ""
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// decimalTimestamp recognises seconds and milliseconds since the epoch by their length (10 or
// 13 digits) and the window. About 11% of random numbers of those lengths fall in the window;
// the issue wants them weak all the same, and such a number is a poor secret anyway. Micro- and
// nanoseconds are left out: 16- and 19-digit numbers are more often account or card numbers.
func decimalTimestamp(s string) string {
	var per int64
	var unit string
	switch len(s) {
	case 10:
		per = 1
	case 13:
		per, unit = 1e3, " in milliseconds"
	default:
		return ""
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return ""
	}
	if t, ok := inWindow(n / per); ok {
		return "a Unix timestamp" + unit + ": " + t
	}
	return ""
}

// hexTimestamp recognises a timestamp written in hex: seconds as 8 hex digits (%x of
// time.Now().Unix()), alone or zero-padded to 16 or 32, and milliseconds (10 or 11 digits)
// zero-padded to 16 or 32. Unpadded milliseconds and padded micro- or nanoseconds are left
// alone: 1 random value in 15 to 1,000 of those lengths would decode into the window. Seconds
// alone cannot be told from random 8-digit hex either (26% fall in the window), but 32 bits
// are a poor secret whichever they are.
func hexTimestamp(s string) string {
	// Without a letter it is a decimal number, which random 8-digit numbers (PINs, account
	// numbers) would decode into the window for more than a third of the time.
	if n := len(s); n != 8 && n != 16 && n != 32 || !isHexDigits(s) || isDigits(s) {
		return ""
	}
	sig := strings.TrimLeft(s, "0")
	if len(sig) > 16 || sig == "" {
		return ""
	}
	n, err := strconv.ParseUint(sig, 16, 64)
	if err != nil {
		return ""
	}
	per := uint64(0)
	switch {
	case len(sig) == 8:
		per = 1
	case len(sig) >= 10 && len(sig) <= 11 && len(s) > 11:
		per = 1e3
	default:
		return ""
	}
	if t, ok := inWindow(int64(n / per)); ok {
		return "hex of a Unix timestamp: " + t
	}
	return ""
}

func isHexDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return s != ""
}

// inWindow reports whether sec is a time in the timestamp window, as a date.
func inWindow(sec int64) (string, bool) {
	if sec < tsFrom.Unix() || sec >= tsTo.Unix() {
		return "", false
	}
	return time.Unix(sec, 0).UTC().Format(time.DateOnly), true
}

// uuidV1Reason recognises time-based UUIDs (dashes removed): their time and node fields are
// predictable, leaving 14 random bits.
func uuidV1Reason(v string) string {
	if !uuidShape.MatchString(v) || v[14] != '1' {
		return ""
	}
	h := strings.ReplaceAll(v, "-", "")
	hi, _ := strconv.ParseUint(h[13:16], 16, 64)
	mid, _ := strconv.ParseUint(h[8:12], 16, 64)
	lo, _ := strconv.ParseUint(h[0:8], 16, 64)
	ticks := hi<<48 | mid<<32 | lo // 100 ns since 1582-10-15
	const gregorianToUnix = 12219292800
	sec := int64(ticks/1e7) - gregorianToUnix
	return "a time-based (version 1) UUID: " + time.Unix(sec, 0).UTC().Format(time.DateOnly)
}

// Leet substitutions people make in dictionary words ("P@ssw0rd").
var leetI = strings.NewReplacer("0", "o", "1", "i", "3", "e", "4", "a", "5", "s", "7", "t", "8", "b", "9", "g", "@", "a", "$", "s", "!", "i", "+", "t", "|", "l")

// dictionaryReason finds values built from common words and a few digits or symbols, plain
// or with leet substitutions.
func dictionaryReason(v string) string {
	if len(v) > 64 {
		return ""
	}
	// Leet characters can turn into letters; anything else counts against the limit of ten.
	other := 0
	for i := 0; i < len(v); i++ {
		c := v[i] | 0x20
		if !('a' <= c && c <= 'z') && !strings.ContainsRune("01345789@$!+|", rune(v[i])) {
			other++
		}
	}
	if other > 10 {
		return ""
	}
	lower := strings.ToLower(v)
	variants := []string{lower, unleet(lower, false), unleet(lower, true)}
	if isHexDigits(v) {
		// Hex digits read as leet spell words by chance ("c0de", "ae5"); people choosing
		// a password rarely restrict themselves to hex.
		variants = variants[:1]
	}
	for _, variant := range variants {
		if r := dictionaryWords(variant); r != "" {
			return r
		}
	}
	return ""
}

// unleet replaces leet characters between two letters ("p@ssw0rd"), or, with edges, next to
// one ("4dmin", "j3$$1ca"), repeating until nothing changes so that runs of them convert.
// Digits after a word are converted too ("password1" to "passwordi"), which is why the
// unconverted value is tried as well.
func unleet(s string, edges bool) string {
	b := []byte(s)
	isLetter := func(i int) bool { return i >= 0 && i < len(b) && 'a' <= b[i] && b[i] <= 'z' }
	for changed := true; changed; {
		changed = false
		for i := range b {
			if isLetter(i) {
				continue
			}
			r := leetI.Replace(string(b[i : i+1]))
			if len(r) != 1 || r[0] == b[i] {
				continue
			}
			if isLetter(i-1) && isLetter(i+1) || edges && (isLetter(i-1) || isLetter(i+1)) {
				b[i], changed = r[0], true
			}
		}
	}
	return string(b)
}

// dictionaryWords reports a value whose letter runs are all known words (at most five, one of
// at least three letters) with at most ten other characters.
func dictionaryWords(s string) string {
	var root, longest string
	letters, words := 0, 0
	for _, run := range letterRuns(s) {
		seg, ok := segmentWords(run, wordDict|wordFiller|wordMarker)
		if !ok {
			return ""
		}
		letters += len(run)
		words += len(seg)
		for _, w := range seg {
			if strengthWords[w]&wordDict != 0 && len(w) > len(root) {
				root = w
			}
			if len(w) > len(longest) {
				longest = w
			}
		}
	}
	if root == "" {
		// Filler words alone ("api-key-value") need a long one: short ones ("pwd", "key")
		// turn up in random text.
		if len(longest) < 4 {
			return ""
		}
		root = longest
	}
	other := utf8.RuneCountInString(s) - letters
	if letters < 4 || words > 5 || len(root) < 3 || other > 10 {
		return ""
	}
	if strings.ContainsAny(s, "0123456789") {
		return "dictionary word and digits: " + root
	}
	return "dictionary word: " + root
}

// decodeReadable decodes body from hex or base64 when it encodes at least 8 bytes of readable
// ASCII. Random values do so about 1 time in 3,000 at 8 bytes, and the decoded text must then
// grade weak or placeholder in turn, which random printable text almost never does.
func decodeReadable(body string) (string, string) {
	body = unpadBase64(body)
	if len(body) >= 16 && len(body)%2 == 0 && isHexDigits(body) {
		if b, err := hex.DecodeString(body); err == nil && readableASCII(b) {
			return string(b), "hex"
		}
	}
	if len(body) >= 11 {
		for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
			if b, err := enc.DecodeString(body); err == nil && len(b) >= 8 && readableASCII(b) {
				return string(b), "base64"
			}
		}
	}
	return "", ""
}

func readableASCII(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	return len(b) > 0
}

// alphabetOf returns the smallest alphabet of strengthAlphabet that s fits in.
func alphabetOf(s string) strengthAlphabet {
	var digit, lowerHex, upperHex, lowerOther, upperOther, b64, other bool
	for _, r := range s {
		switch {
		case '0' <= r && r <= '9':
			digit = true
		case 'a' <= r && r <= 'f':
			lowerHex = true
		case 'A' <= r && r <= 'F':
			upperHex = true
		case 'g' <= r && r <= 'z':
			lowerOther = true
		case 'G' <= r && r <= 'Z':
			upperOther = true
		case r == '+' || r == '/' || r == '-' || r == '_':
			b64 = true
		default:
			other = true
		}
	}
	lower, upper := lowerHex || lowerOther, upperHex || upperOther
	switch {
	case other:
		return alphaPrintable
	case b64:
		return alphaBase64
	case lower && upper:
		return alphaAlnum
	case lowerOther || upperOther:
		return alphaOneCase
	case lowerHex || upperHex:
		return alphaHex
	case digit:
		return alphaDecimal
	}
	return alphaPrintable
}

// unpadBase64 drops base64 padding, which is structure, not content.
func unpadBase64(s string) string {
	t := strings.TrimRight(s, "=")
	if t == "" || len(s)-len(t) > 2 || len(s)%4 != 0 || alphabetOf(t) == alphaPrintable {
		return s
	}
	return t
}

// entropyReason compares the entropy of body with the table.
func entropyReason(body string) string {
	body = unpadBase64(body)
	a := alphabetOf(body)
	n := utf8.RuneCountInString(body)
	i := thresholdFor(a, n)
	if i < 0 {
		return ""
	}
	t := strengthThresholds[i]
	if e := shannonEntropy(body); e < t.minBits {
		return fmt.Sprintf("entropy %.2f bits/char, below %.2f for %d %s characters", e, t.minBits, n, a)
	}
	return ""
}
