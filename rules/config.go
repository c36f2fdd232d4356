package rules

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp/syntax"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/pelletier/go-toml/v2"
	"github.com/rs/zerolog"
	"github.com/spf13/viper"
	"github.com/zricethezav/gitleaks/v8/config"
	"github.com/zricethezav/gitleaks/v8/logging"
	"github.com/zricethezav/gitleaks/v8/regexp"
)

//go:embed keywarden.toml
var keywardenTOML []byte

func init() {
	// The gitleaks packages log to stderr through this package-global logger (the decoder even
	// logs every segment at debug level). keywarden reports through its own channels, so the
	// library must stay silent whatever level someone sets.
	logging.Logger = zerolog.Nop()
}

// maxExtendDepth is gitleaks' limit: a config may extend a config that extends a third one; the
// third one's own [extend] is ignored.
const maxExtendDepth = 2

// Ruleset is a loaded rule configuration: the gitleaks default rules, keywarden's own and/or a
// user's gitleaks-format TOML.
//
// Loading does not go through gitleaks' ViperConfig.Translate. Translate reads the global viper
// instance, keeps its extend depth in a package global that is never reset (a second load of a
// config with [extend] silently stops extending), resolves extend paths against the working
// directory instead of the config's, and panics on a bad regex. The TOML is still decoded into
// gitleaks' own ViperConfig with a private viper instance, so the file format is exactly
// gitleaks'; what is re-done here is the short translation and extend merge, which mirror
// config.go of gitleaks v8.30.1 except where noted. Loads may run concurrently; they share
// only the default rules, built once, whose regexes are compiled once, on first use.
type Ruleset struct {
	// cfg is the configuration as loaded: the Regex of a built-in rule is lazyPlaceholder
	// and its expression is in lazy.
	cfg   config.Config
	lazy  lazyRegexes
	path  string
	infos map[string]RuleInfo
	ids   []string

	compiledOnce sync.Once
	compiled     config.Config // cfg with every regex compiled, for Config
}

// lazyRegex is a built-in rule's regex, compiled on first use. A pre-commit scan runs the
// regexes of the few rules whose keywords occur in its change, and compiling all ~220 default
// ones at every start was most of its start-up. The built-in expressions are fixed, and
// TestBuiltinRegexes proves that each one compiles (with the engine of the build) and suits
// its rule's secretGroup, which is what loading checks for a user's rules.
type lazyRegex struct {
	expr string
	once sync.Once
	re   atomic.Pointer[regexp.Regexp]
}

// lazyRegexes holds, by rule ID, the expressions of the rules whose Regex is lazyPlaceholder.
// Once built it is only read: the defaults' one is shared by every Ruleset that extends them,
// so each regex is compiled once per process.
type lazyRegexes map[string]*lazyRegex

// lazyPlaceholder stands in config.Rule.Regex for a built-in rule's regex until it is
// compiled, so that the rule still reads as one with a regex. It is not a compiled expression:
// matching with it by mistake panics instead of silently finding nothing.
var lazyPlaceholder = new(regexp.Regexp)

// compiledRegex wraps an already compiled regex.
func compiledRegex(re *regexp.Regexp) *lazyRegex {
	l := &lazyRegex{expr: re.String()}
	l.re.Store(re)
	return l
}

// get returns the compiled regex, compiling it on the first call. Detection calls it for
// every window and match, so all but the first call is one atomic load, inlined.
func (l *lazyRegex) get() *regexp.Regexp {
	if re := l.re.Load(); re != nil {
		return re
	}
	return l.compile()
}

func (l *lazyRegex) compile() *regexp.Regexp {
	l.once.Do(func() {
		// Neither compile's check with Go's parser nor its recovery: the expression is a
		// built-in one, which TestBuiltinRegexes compiles.
		l.re.Store(regexp.MustCompile(l.expr))
	})
	return l.re.Load()
}

var defaults struct {
	once sync.Once
	cfg  config.Config
	lazy lazyRegexes
	err  error
}

// Default returns the gitleaks default rules with keywarden's own rules layered over them.
func Default() (*Ruleset, error) {
	cfg, lazy, err := defaultConfig()
	if err != nil {
		return nil, err
	}
	return newRuleset(cfg, lazy, ""), nil
}

// defaultConfig builds the default configuration once and hands out copies that callers may
// merge into, all with the same lazy regexes.
func defaultConfig() (config.Config, lazyRegexes, error) {
	defaults.once.Do(func() {
		defaults.cfg, defaults.lazy, defaults.err = buildDefault(config.DefaultConfig, keywardenTOML)
	})
	if defaults.err != nil {
		return config.Config{}, nil, defaults.err
	}
	return cloneConfig(defaults.cfg), defaults.lazy, nil
}

// buildDefault layers keywarden's rules (kw) over the gitleaks defaults (gl), leaving the
// rules' regexes to be compiled on first use.
func buildDefault(gl string, kw []byte) (config.Config, lazyRegexes, error) {
	base, err := parseBuiltinLayer([]byte(gl))
	if err != nil {
		return config.Config{}, nil, fmt.Errorf("loading gitleaks default config: %w", err)
	}
	if err := base.finish(true); err != nil {
		return config.Config{}, nil, fmt.Errorf("loading gitleaks default config: %w", err)
	}
	l, err := parseBuiltinLayer(kw)
	if err != nil {
		return config.Config{}, nil, fmt.Errorf("loading keywarden.toml: %w", err)
	}
	// keywarden.toml always sits on the gitleaks defaults, whatever its [extend] says.
	l.extend(base.cfg, base.lazy)
	if err := l.finish(true); err != nil {
		return config.Config{}, nil, fmt.Errorf("loading keywarden.toml: %w", err)
	}
	l.cfg.Path = ""
	return l.cfg, l.lazy, nil
}

// LoadFile loads a gitleaks-format TOML config file.
func LoadFile(path string) (*Ruleset, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("loading config: %w", err)
	}
	return LoadBytes(path, data)
}

// LoadBytes loads a gitleaks-format TOML config held in data; name is used in errors and as the
// directory against which a relative [extend] path is resolved.
func LoadBytes(name string, data []byte) (*Ruleset, error) {
	l, err := loadConfig(name, data, 0)
	if err != nil {
		return nil, fmt.Errorf("loading config %q: %w", name, err)
	}
	l.cfg.Path = name
	return newRuleset(l.cfg, l.lazy, name), nil
}

// loadConfig loads one config and, below maxExtendDepth, merges in what it extends. The
// config's own regexes are compiled; the default rules it extends keep theirs lazy.
func loadConfig(name string, data []byte, depth int) (*layer, error) {
	l, err := parseLayer(data)
	if err != nil {
		return nil, err
	}
	if ext := l.cfg.Extend; depth < maxExtendDepth {
		switch {
		case ext.Path != "" && ext.UseDefault:
			return nil, errors.New("extend.path and extend.useDefault are both set")
		case ext.UseDefault:
			base, lazy, err := defaultConfig()
			if err != nil {
				return nil, err
			}
			l.extend(base, lazy)
		case ext.Path != "":
			// Unlike gitleaks, which resolves it against the working directory, a relative
			// path is taken relative to the extending config, so a config works from anywhere.
			p := ext.Path
			if !filepath.IsAbs(p) {
				p = filepath.Join(filepath.Dir(name), p)
			}
			data, err := readExtended(p)
			if err != nil {
				return nil, fmt.Errorf("reading extended config: %w", err)
			}
			base, err := loadConfig(p, data, depth+1)
			if err != nil {
				return nil, fmt.Errorf("extending %q: %w", ext.Path, err)
			}
			l.extend(base.cfg, base.lazy)
		}
	}
	if err := l.finish(depth == 0); err != nil {
		return nil, err
	}
	return l, nil
}

// maxExtendedSize bounds an extended config: the [extend] path of a config found in a scanned
// repository is the repository's to choose, and /dev/zero would otherwise be read until memory
// runs out (and a FIFO waited on forever).
const maxExtendedSize = 16 << 20

// readExtended reads the config at p if it is a regular file of at most maxExtendedSize.
func readExtended(p string) ([]byte, error) {
	// Non-blocking, so that opening a FIFO returns at once, to be refused as no regular file.
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%q is not a regular file", p)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxExtendedSize+1))
	if err == nil && len(data) > maxExtendedSize {
		err = fmt.Errorf("%q is larger than %d MiB", p, maxExtendedSize>>20)
	}
	return data, err
}

// layer is one config file translated on its own, before the merge with what it extends.
type layer struct {
	cfg  config.Config
	lazy lazyRegexes // the built-in rules among cfg's, own or merged in
	// targeted holds [[allowlists]] with targetRules, by rule ID: the rules may only exist
	// once the extended config is merged in.
	targeted    map[string][]*config.Allowlist
	targetOrder []string
}

// parseLayer decodes TOML into gitleaks' ViperConfig with a private viper and translates it.
func parseLayer(data []byte) (*layer, error) {
	v := viper.New()
	v.SetConfigType("toml")
	if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
		return nil, tomlError(err)
	}
	var vc config.ViperConfig
	if err := v.Unmarshal(&vc); err != nil {
		return nil, fmt.Errorf("decoding config: %s", oneLine(err.Error()))
	}
	return translate(&vc, false)
}

// parseBuiltinLayer is parseLayer for a built-in config: its rules' regexes are left to
// compile on first use, and it is decoded by go-toml alone, which viper runs anyway before
// mapstructure's slower decode of the result (about 8 ms of a start for the gitleaks
// defaults). TestBuiltinDecode checks that both decodings agree on the built-in files.
func parseBuiltinLayer(data []byte) (*layer, error) {
	var vc config.ViperConfig
	if err := toml.Unmarshal(data, &vc); err != nil {
		return nil, tomlError(err)
	}
	return translate(&vc, true)
}

// tomlError turns a TOML syntax error into one line with its position.
func tomlError(err error) error {
	var de *toml.DecodeError
	if errors.As(err, &de) {
		row, col := de.Position()
		return fmt.Errorf("invalid TOML at line %d, column %d: %s", row, col,
			strings.TrimPrefix(oneLine(de.Error()), "toml: "))
	}
	var pe viper.ConfigParseError
	if errors.As(err, &pe) && pe.Unwrap() != nil {
		err = pe.Unwrap()
	}
	return fmt.Errorf("invalid TOML: %s", strings.TrimPrefix(oneLine(err.Error()), "toml: "))
}

// oneLine folds a multi-line message (mapstructure lists its errors on separate lines).
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}

// translate mirrors gitleaks' ViperConfig.Translate for one file, without its extend step,
// rule validation and targetRules resolution, which need the merged config (see finish). The
// rules' regexes of a builtin config are left to compile on first use.
func translate(vc *config.ViperConfig, builtin bool) (*layer, error) {
	l := &layer{
		cfg: config.Config{
			Title:       vc.Title,
			Description: vc.Description,
			Extend:      vc.Extend,
			Rules:       map[string]config.Rule{},
			Keywords:    map[string]struct{}{},
			MinVersion:  vc.MinVersion,
		},
		lazy:     lazyRegexes{},
		targeted: map[string][]*config.Allowlist{},
	}
	for i, vr := range vc.Rules {
		name := fmt.Sprintf("rule %q", vr.ID)
		if vr.ID == "" {
			name = fmt.Sprintf("rule #%d", i+1)
		}
		cr := config.Rule{
			RuleID:      vr.ID,
			Description: vr.Description,
			SecretGroup: vr.SecretGroup,
			Entropy:     vr.Entropy,
			Keywords:    []string{},
			Tags:        []string{},
			SkipReport:  vr.SkipReport,
		}
		var err error
		if vr.Path != "" {
			if cr.Path, err = compile(vr.Path); err != nil {
				return nil, fmt.Errorf("%s: invalid path regex: %w", name, err)
			}
		}
		delete(l.lazy, vr.ID) // a later rule with the same ID replaces an earlier one
		switch {
		case vr.Regex == "":
		case builtin:
			cr.Regex = lazyPlaceholder
			l.lazy[vr.ID] = &lazyRegex{expr: vr.Regex}
		default:
			if cr.Regex, err = compile(vr.Regex); err != nil {
				return nil, fmt.Errorf("%s: invalid regex: %w", name, err)
			}
		}
		for _, k := range vr.Keywords {
			k = strings.ToLower(k)
			cr.Keywords = append(cr.Keywords, k)
			l.cfg.Keywords[k] = struct{}{}
		}
		cr.Tags = append(cr.Tags, vr.Tags...)

		allowlists := vr.Allowlists
		if vr.AllowList != nil {
			if len(allowlists) > 0 {
				return nil, fmt.Errorf("%s: [rules.allowlist] is deprecated, it cannot be used alongside [[rules.allowlists]]", name)
			}
			allowlists = append(allowlists, vr.AllowList)
		}
		for _, a := range allowlists {
			al, err := parseAllowlist(a.Description, a.Condition, a.Commits, a.Paths, a.RegexTarget, a.Regexes, a.StopWords)
			if err != nil {
				return nil, fmt.Errorf("%s: [[rules.allowlists]]: %w", name, err)
			}
			cr.Allowlists = append(cr.Allowlists, al)
		}
		for _, r := range vr.Required {
			if r.ID == "" {
				return nil, fmt.Errorf("%s: [[rules.required]] rule ID is empty", name)
			}
			cr.RequiredRules = append(cr.RequiredRules, &config.Required{
				RuleID:        r.ID,
				WithinLines:   r.WithinLines,
				WithinColumns: r.WithinColumns,
			})
		}
		l.cfg.OrderedRules = append(l.cfg.OrderedRules, cr.RuleID)
		l.cfg.Rules[cr.RuleID] = cr
	}

	globals := vc.Allowlists
	if vc.AllowList != nil {
		if len(globals) > 0 {
			return nil, errors.New("[allowlist] is deprecated, it cannot be used alongside [[allowlists]]")
		}
		globals = append(globals, vc.AllowList)
	}
	for _, a := range globals {
		al, err := parseAllowlist(a.Description, a.Condition, a.Commits, a.Paths, a.RegexTarget, a.Regexes, a.StopWords)
		if err != nil {
			return nil, fmt.Errorf("[[allowlists]]: %w", err)
		}
		if len(a.TargetRules) == 0 {
			l.cfg.Allowlists = append(l.cfg.Allowlists, al)
			continue
		}
		for _, id := range a.TargetRules {
			if _, ok := l.targeted[id]; !ok {
				l.targetOrder = append(l.targetOrder, id)
			}
			l.targeted[id] = append(l.targeted[id], al)
		}
	}
	return l, nil
}

// finish attaches targeted allowlists once the extended rules are merged in and, for the
// config the user named, validates the result.
//
// gitleaks resolves targetRules only in the top-level config and silently drops those of an
// extended one; here every level's apply to the rules merged so far.
func (l *layer) finish(top bool) error {
	for _, id := range l.targetOrder {
		r, ok := l.cfg.Rules[id]
		if !ok {
			return fmt.Errorf("[[allowlists]] target rule ID %q does not exist", id)
		}
		r.Allowlists = append(append([]*config.Allowlist(nil), r.Allowlists...), l.targeted[id]...)
		l.cfg.Rules[id] = r
	}
	if !top {
		return nil
	}
	for _, id := range sortedIDs(l.cfg.Rules) {
		r := l.cfg.Rules[id]
		var err error
		if r.Regex == lazyPlaceholder {
			err = validateLazy(&r)
		} else {
			err = r.Validate()
		}
		if err != nil {
			// gitleaks' message holds the rule's ID, description and regex as written.
			return errors.New(oneLine(err.Error()))
		}
		// gitleaks checks required rules exist within the same file; checking the merged
		// config lets a composite rule require a default rule.
		for _, req := range r.RequiredRules {
			if _, ok := l.cfg.Rules[req.RuleID]; !ok {
				return fmt.Errorf("rule %q: [[rules.required]] rule ID %q does not exist", id, req.RuleID)
			}
		}
		l.cfg.Rules[id] = r
	}
	return nil
}

// validateLazy runs Validate on a built-in rule whose regex is not compiled yet, all but the
// check of secretGroup against the regex's groups, which TestBuiltinRegexes makes. A rule
// passes Validate once only, as in gitleaks: a user's config that extends the defaults and
// overrides a default rule's regex or secretGroup is not checked again.
func validateLazy(r *config.Rule) error {
	// Validate accepts a rule with a path and no regex without looking at secretGroup; the
	// placeholder stands in as that path.
	path := r.Path
	r.Regex, r.Path = nil, lazyPlaceholder
	err := r.Validate()
	r.Regex, r.Path = lazyPlaceholder, path
	return err
}

// parseAllowlist mirrors gitleaks' ViperConfig.parseAllowlist.
func parseAllowlist(desc, condition string, commits, paths []string, target string, regexes, stopwords []string) (*config.Allowlist, error) {
	var cond config.AllowlistMatchCondition
	switch strings.ToUpper(condition) {
	case "AND", "&&":
		cond = config.AllowlistMatchAnd
	case "", "OR", "||":
		cond = config.AllowlistMatchOr
	default:
		return nil, fmt.Errorf("unknown allowlist |condition| %q (expected 'and', 'or')", condition)
	}
	switch target {
	case "secret":
		target = ""
	case "", "match", "line":
	default:
		return nil, fmt.Errorf("unknown allowlist |regexTarget| %q (expected 'match', 'line')", target)
	}
	a := &config.Allowlist{
		Description:    desc,
		MatchCondition: cond,
		Commits:        commits,
		RegexTarget:    target,
	}
	for _, p := range regexes {
		re, err := compile(p)
		if err != nil {
			return nil, fmt.Errorf("invalid regex: %w", err)
		}
		a.Regexes = append(a.Regexes, re)
	}
	for _, p := range paths {
		re, err := compile(p)
		if err != nil {
			return nil, fmt.Errorf("invalid path regex: %w", err)
		}
		a.Paths = append(a.Paths, re)
	}
	// Validate builds the stopword trie, which for the default generic rule takes longer than
	// a whole pre-commit scan; containsStopWord builds it on first use instead. Validate sees a
	// stand-in that no lower-cased text contains, so that it marks the allowlist validated
	// (Rule.Validate would otherwise build the trie) and an allowlist of stopwords alone is
	// still accepted; gitleaks' own ContainsStopWord is never called on it.
	if len(stopwords) > 0 {
		a.StopWords = []string{"\x00KEYWARDEN-DEFERRED"}
	}
	if err := validateAllowlist(a); err != nil {
		return nil, err
	}
	a.StopWords = lowerUnique(stopwords)
	return a, nil
}

// lowerUnique lower-cases and de-duplicates stopwords, as Allowlist.Validate does.
func lowerUnique(words []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, w := range words {
		if w = strings.ToLower(w); !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

// validateAllowlist runs Allowlist.Validate, which joins the regexes with MustCompile: patterns
// that compile alone can still clash when joined (a capture group name used twice).
func validateAllowlist(a *config.Allowlist) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("invalid regexes: %s", regexPanic(r))
		}
	}()
	return a.Validate()
}

// compile compiles with the regex engine gitleaks is built with (stdlib or RE2), whose only
// entry point panics; the panic becomes an error without a stack. Go's parser sees the
// expression first because RE2, built into go-re2, logs parse errors straight to stderr.
func compile(expr string) (re *regexp.Regexp, err error) {
	if _, err := syntax.Parse(expr, syntax.Perl); err != nil {
		return nil, errors.New(oneLine(err.Error()))
	}
	defer func() {
		if r := recover(); r != nil {
			re, err = nil, errors.New(regexPanic(r))
		}
	}()
	return regexp.MustCompile(expr), nil
}

// regexPanic extracts the parse error from a MustCompile panic ("regexp: Compile(`x`): error
// parsing regexp: ..."), which repeats the whole expression first.
func regexPanic(r any) string {
	msg := oneLine(fmt.Sprint(r))
	if i := strings.Index(msg, "error parsing regexp"); i >= 0 {
		return msg[i:]
	}
	return msg
}

// extend merges ext, the config that l extends, with its lazy regexes extLazy, into l. It
// mirrors gitleaks' Config.extend but copies slices instead of appending to ext's, so that a
// cached ext stays untouched.
func (l *layer) extend(ext config.Config, extLazy lazyRegexes) {
	c := &l.cfg
	disabled := map[string]bool{}
	for _, id := range c.Extend.DisabledRules {
		disabled[id] = true
	}
	for _, id := range sortedIDs(ext.Rules) {
		if disabled[id] {
			continue
		}
		base := ext.Rules[id]
		cur, ok := c.Rules[id]
		if base.Regex == lazyPlaceholder && (!ok || cur.Regex == nil) {
			l.lazy[id] = extLazy[id]
		}
		if !ok {
			c.Rules[id] = base
			for _, k := range base.Keywords {
				c.Keywords[k] = struct{}{}
			}
			c.OrderedRules = append(c.OrderedRules, id)
			continue
		}
		// The rule exists: the extending config's non-zero fields override the base's and
		// its lists add to them. As in gitleaks, its skipReport and required do not carry over.
		if cur.Description != "" {
			base.Description = cur.Description
		}
		if cur.Entropy != 0 {
			base.Entropy = cur.Entropy
		}
		if cur.SecretGroup != 0 {
			base.SecretGroup = cur.SecretGroup
		}
		if cur.Regex != nil {
			base.Regex = cur.Regex
		}
		if cur.Path != nil {
			base.Path = cur.Path
		}
		base.Tags = concat(base.Tags, cur.Tags)
		base.Keywords = concat(base.Keywords, cur.Keywords)
		base.Allowlists = concat(base.Allowlists, cur.Allowlists)
		for _, k := range base.Keywords {
			c.Keywords[k] = struct{}{}
		}
		c.Rules[id] = base
	}
	c.Allowlists = concat(c.Allowlists, ext.Allowlists)
	sort.Strings(c.OrderedRules)
}

func concat[T any](a, b []T) []T {
	out := make([]T, 0, len(a)+len(b))
	return append(append(out, a...), b...)
}

// cloneConfig copies the maps and slices a merge writes to.
func cloneConfig(c config.Config) config.Config {
	out := c
	out.Rules = make(map[string]config.Rule, len(c.Rules))
	for id, r := range c.Rules {
		out.Rules[id] = r
	}
	out.Keywords = make(map[string]struct{}, len(c.Keywords))
	for k := range c.Keywords {
		out.Keywords[k] = struct{}{}
	}
	out.OrderedRules = append([]string(nil), c.OrderedRules...)
	out.Allowlists = append([]*config.Allowlist(nil), c.Allowlists...)
	out.Extend.DisabledRules = append([]string(nil), c.Extend.DisabledRules...)
	return out
}

func sortedIDs(m map[string]config.Rule) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

func newRuleset(cfg config.Config, lazy lazyRegexes, path string) *Ruleset {
	rs := &Ruleset{cfg: cfg, lazy: lazy, path: path, infos: make(map[string]RuleInfo, len(cfg.Rules))}
	rs.ids = sortedIDs(cfg.Rules)
	for _, id := range rs.ids {
		r := cfg.Rules[id]
		info := RuleInfo{
			ID:          id,
			Description: r.Description,
			Tags:        ruleTags(r.Tags),
			Severity:    severity(r),
			Kind:        kind(r),
			Keywords:    append([]string(nil), r.Keywords...),
		}
		switch {
		case r.Regex == lazyPlaceholder:
			info.Regex = rs.lazy[id].expr
		case r.Regex != nil:
			info.Regex = r.Regex.String()
		}
		if r.Path != nil {
			info.Path = r.Path.String()
		}
		rs.infos[id] = info
	}
	return rs
}

// Rules describes every rule, sorted by ID.
func (rs *Ruleset) Rules() []RuleInfo {
	out := make([]RuleInfo, 0, len(rs.ids))
	for _, id := range rs.ids {
		out = append(out, rs.infos[id])
	}
	return out
}

// Rule describes the rule with the given ID.
func (rs *Ruleset) Rule(id string) (RuleInfo, bool) {
	if info, ok := rs.infos[id]; ok {
		return info, true
	}
	return binaryRule(id)
}

// Len is the number of rules.
func (rs *Ruleset) Len() int { return len(rs.ids) }

// regex returns the regex of rule id, which must have one.
func (rs *Ruleset) regex(id string) *lazyRegex {
	r := rs.cfg.Rules[id]
	if r.Regex == lazyPlaceholder {
		return rs.lazy[id]
	}
	return compiledRegex(r.Regex)
}

// Config is the underlying gitleaks configuration; it must not be modified. The first call
// compiles the regexes of the built-in rules, which detection compiles only as it needs them.
// Its allowlists' stopwords are matched by this package only (see containsStopWord): hand
// GitleaksConfig, not this, to gitleaks' own detector.
func (rs *Ruleset) Config() *config.Config {
	if len(rs.lazy) == 0 {
		return &rs.cfg
	}
	rs.compiledOnce.Do(func() { rs.compiled = compileLazy(rs.cfg, rs.lazy) })
	return &rs.compiled
}

// compileLazy returns a copy of c with the built-in rules' regexes compiled.
func compileLazy(c config.Config, lazy lazyRegexes) config.Config {
	out := cloneConfig(c)
	for id, r := range out.Rules {
		if r.Regex == lazyPlaceholder {
			r.Regex = lazy[id].get()
			out.Rules[id] = r
		}
	}
	return out
}

// GitleaksConfig is a copy of the configuration that gitleaks' own detector can run, with every
// regex compiled and the stopword tries it expects built.
func (rs *Ruleset) GitleaksConfig() config.Config {
	c := cloneConfig(*rs.Config())
	rebuild := func(in []*config.Allowlist) []*config.Allowlist {
		out := make([]*config.Allowlist, len(in))
		for i, a := range in {
			out[i] = a
			if len(a.StopWords) > 0 {
				na := &config.Allowlist{Description: a.Description, MatchCondition: a.MatchCondition, Commits: a.Commits,
					Paths: a.Paths, RegexTarget: a.RegexTarget, Regexes: a.Regexes, StopWords: a.StopWords}
				_ = na.Validate() // a was validated with the same lists
				out[i] = na
			}
		}
		return out
	}
	c.Allowlists = rebuild(c.Allowlists)
	for id, r := range c.Rules {
		r.Allowlists = rebuild(r.Allowlists)
		c.Rules[id] = r
	}
	return c
}

// Path is the config file the rules were loaded from, "" for the defaults.
func (rs *Ruleset) Path() string { return rs.path }

// cloudProviders are ID prefixes of rules for cloud-provider credentials, which usually grant
// access to a whole account's infrastructure.
var cloudProviders = []string{"aws-", "gcp-", "azure-", "alibaba-", "digitalocean-", "yandex-", "ibm-", "oci-"}

// severity ranks a rule by what a leaked match usually gives away (gitleaks rules have none):
//
//	critical  private keys (PEM, age) and cloud-provider credentials
//	high      provider-specific API tokens and secrets (the default)
//	medium    generic and low-confidence rules, and identifiers that are not secrets alone
//	low       path-only rules that flag a file type (pkcs12-file), unless the ID names a key
//
// A rule may set its own with a tag ("severity:info"); a rule that names its kind gets the
// kind's severity (kindSeverity).
func severity(r config.Rule) string {
	for _, t := range r.Tags {
		if s, ok := strings.CutPrefix(t, severityTag); ok {
			return s
		}
	}
	for _, t := range r.Tags {
		if s, ok := kindSeverity[t]; ok {
			return s
		}
	}
	id := strings.ToLower(r.RuleID)
	has := func(subs ...string) bool {
		for _, s := range subs {
			if strings.Contains(id, s) {
				return true
			}
		}
		return false
	}
	switch {
	case has("private-key", "age-secret-key"):
		return "critical"
	case r.Regex == nil:
		if has("key") {
			return "critical"
		}
		return "low"
	case has("generic", "jwt", "curl-auth", "client-id", "access-id", "api-id", "pub-key", "public-key", "pub-api-key"):
		return "medium"
	}
	for _, p := range cloudProviders {
		if strings.HasPrefix(id, p) {
			return "critical"
		}
	}
	return "high"
}
