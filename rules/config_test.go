package rules

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pelletier/go-toml/v2"
	"github.com/spf13/viper"
	"github.com/zricethezav/gitleaks/v8/config"
)

// gitleaksDefaultRules is the number of rules in gitleaks v8.30.1's default config.
const gitleaksDefaultRules = 222

func TestDefault(t *testing.T) {
	rs, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	own, err := parseLayer(keywardenTOML)
	if err != nil {
		t.Fatal(err)
	}
	added := 0
	for id := range own.cfg.Rules {
		if _, ok := rs.Rule(id); ok {
			added++
		}
	}
	if got, want := rs.Len(), gitleaksDefaultRules+added-len(own.cfg.Extend.DisabledRules); got != want {
		t.Errorf("Len() = %d, want %d", got, want)
	}
	if rs.Path() != "" {
		t.Errorf("Path() = %q, want empty", rs.Path())
	}
	infos := rs.Rules()
	if !sort.SliceIsSorted(infos, func(i, j int) bool { return infos[i].ID < infos[j].ID }) {
		t.Error("Rules() is not sorted by ID")
	}
	aws, ok := rs.Rule("aws-access-token")
	if !ok || aws.Regex == "" || len(aws.Keywords) == 0 || aws.Description == "" || aws.Severity != "critical" {
		t.Errorf("Rule(aws-access-token) = %+v, %v", aws, ok)
	}
	if p, _ := rs.Rule("pkcs12-file"); p.Regex != "" || p.Path == "" {
		t.Errorf("pkcs12-file = %+v, want a path-only rule", p)
	}
	// Every call hands out its own copy: changing one must not leak into the next.
	rs.Config().Rules["injected"] = config.Rule{RuleID: "injected"}
	again, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := again.Config().Rules["injected"]; ok {
		t.Error("Default() returned a shared, modified config")
	}
}

// ruleView is what must agree between our translation and gitleaks' Translate.
type ruleView struct {
	Regex, Path   string
	Entropy       float64
	SecretGroup   int
	Keywords      []string
	Tags          []string
	SkipReport    bool
	Allowlists    []allowlistView
	RequiredRules int
}

type allowlistView struct {
	Condition          string
	Target             string
	Commits, StopWords []string
	Regexes, Paths     []string
	Description        string
}

func viewConfig(c config.Config) (map[string]ruleView, []allowlistView) {
	rules := map[string]ruleView{}
	for id, r := range c.Rules {
		v := ruleView{Entropy: r.Entropy, SecretGroup: r.SecretGroup, Keywords: r.Keywords, Tags: r.Tags, SkipReport: r.SkipReport, RequiredRules: len(r.RequiredRules)}
		if r.Regex != nil {
			v.Regex = r.Regex.String()
		}
		if r.Path != nil {
			v.Path = r.Path.String()
		}
		for _, a := range r.Allowlists {
			v.Allowlists = append(v.Allowlists, viewAllowlist(a))
		}
		rules[id] = v
	}
	var globals []allowlistView
	for _, a := range c.Allowlists {
		globals = append(globals, viewAllowlist(a))
	}
	return rules, globals
}

func viewAllowlist(a *config.Allowlist) allowlistView {
	v := allowlistView{Condition: a.MatchCondition.String(), Target: a.RegexTarget, Description: a.Description,
		Commits: append([]string(nil), a.Commits...), StopWords: append([]string(nil), a.StopWords...)}
	sort.Strings(v.Commits)
	sort.Strings(v.StopWords)
	for _, re := range a.Regexes {
		v.Regexes = append(v.Regexes, re.String())
	}
	for _, re := range a.Paths {
		v.Paths = append(v.Paths, re.String())
	}
	return v
}

// viperDecode decodes TOML as gitleaks does, with viper and mapstructure.
func viperDecode(t *testing.T, data []byte) config.ViperConfig {
	t.Helper()
	v := viper.New()
	v.SetConfigType("toml")
	if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	var vc config.ViperConfig
	if err := v.Unmarshal(&vc); err != nil {
		t.Fatal(err)
	}
	return vc
}

// TestTranslateMatchesGitleaks checks that our own translation of the default config gives
// what gitleaks' ViperConfig.Translate gives, loaded as the built-in layer it is (decoded by
// go-toml, regexes compiled on first use) and as a user's file.
func TestTranslateMatchesGitleaks(t *testing.T) {
	vc := viperDecode(t, []byte(config.DefaultConfig))
	want, err := vc.Translate()
	if err != nil {
		t.Fatal(err)
	}
	wantRules, wantGlobals := viewConfig(want)
	for _, tc := range []struct {
		name  string
		parse func([]byte) (*layer, error)
	}{
		{"builtin", parseBuiltinLayer},
		{"user", parseLayer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := tc.parse([]byte(config.DefaultConfig))
			if err != nil {
				t.Fatal(err)
			}
			if err := l.finish(true); err != nil {
				t.Fatal(err)
			}
			got := compileLazy(l.cfg, l.lazy)
			gotRules, gotGlobals := viewConfig(got)
			if diff := cmp.Diff(wantRules, gotRules); diff != "" {
				t.Errorf("rules (-gitleaks +ours):\n%s", diff)
			}
			if diff := cmp.Diff(wantGlobals, gotGlobals); diff != "" {
				t.Errorf("global allowlists (-gitleaks +ours):\n%s", diff)
			}
			if diff := cmp.Diff(want.Keywords, got.Keywords); diff != "" {
				t.Errorf("keywords (-gitleaks +ours):\n%s", diff)
			}
		})
	}
}

// TestBuiltinDecode checks that go-toml alone decodes the built-in configs as viper does for
// gitleaks (viper runs go-toml, then mapstructure, which converts weakly between types).
func TestBuiltinDecode(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"gitleaks", []byte(config.DefaultConfig)},
		{"keywarden.toml", keywardenTOML},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := viperDecode(t, tc.data)
			var got config.ViperConfig
			if err := toml.Unmarshal(tc.data, &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got, cmp.Exporter(func(reflect.Type) bool { return true })); diff != "" {
				t.Errorf("decoded config (-viper +go-toml):\n%s", diff)
			}
		})
	}
}

// TestKeywardenLayer checks how keywarden.toml is layered over the gitleaks defaults, with a
// stand-in for the embedded file.
func TestKeywardenLayer(t *testing.T) {
	cfg, _, err := buildDefault(config.DefaultConfig, []byte(`
[extend]
disabledRules = ["adafruit-api-key"]

[[rules]]
id = "keywarden-test-token"
regex = '''kwt_[a-z0-9]{16}'''
keywords = ["kwt_"]

[[rules]]
id = "generic-api-key"
entropy = 4.2
tags = ["tuned"]
`))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cfg.Rules["keywarden-test-token"]; !ok {
		t.Error("keywarden rule missing")
	}
	if _, ok := cfg.Rules["adafruit-api-key"]; ok {
		t.Error("disabled default rule still present")
	}
	g := cfg.Rules["generic-api-key"]
	if g.Entropy != 4.2 || g.Regex == nil || !strings.Contains(strings.Join(g.Tags, ","), "tuned") {
		t.Errorf("generic-api-key not merged: entropy %v, regex %v, tags %v", g.Entropy, g.Regex, g.Tags)
	}
	if _, ok := cfg.Keywords["kwt_"]; !ok {
		t.Error("keyword of the keywarden rule missing from the keyword set")
	}
	if len(cfg.Rules) != gitleaksDefaultRules {
		t.Errorf("%d rules, want %d", len(cfg.Rules), gitleaksDefaultRules)
	}
}

// writeFiles creates files (relative name -> content) under a temporary directory.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const customRule = `
[[rules]]
id = "my-rule"
regex = '''myr_[a-z0-9]{12}'''
keywords = ["myr_"]
`

func TestLoad(t *testing.T) {
	defaults, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	n := defaults.Len()
	tests := []struct {
		name  string
		files map[string]string
		load  string // file to load
		want  int    // rule count
		check func(t *testing.T, rs *Ruleset)
	}{{
		name:  "alone without extend",
		files: map[string]string{"c.toml": customRule},
		load:  "c.toml",
		want:  1,
	}, {
		name:  "useDefault plus a rule",
		files: map[string]string{"c.toml": "[extend]\nuseDefault = true\n" + customRule},
		load:  "c.toml",
		want:  n + 1,
	}, {
		name:  "disabledRules",
		files: map[string]string{"c.toml": "[extend]\nuseDefault = true\ndisabledRules = [\"generic-api-key\", \"no-such-rule\"]\n"},
		load:  "c.toml",
		want:  n - 1,
		check: func(t *testing.T, rs *Ruleset) {
			if _, ok := rs.Rule("generic-api-key"); ok {
				t.Error("generic-api-key still present")
			}
		},
	}, {
		name: "extend path relative to the config",
		files: map[string]string{
			"base/base.toml": customRule,
			"sub/c.toml":     "[extend]\npath = \"../base/base.toml\"\n[[rules]]\nid = \"other\"\nregex = 'oth_[0-9]{9}'\n",
		},
		load: "sub/c.toml",
		want: 2,
	}, {
		name: "extend chain stops at depth two",
		files: map[string]string{
			"a.toml": "[extend]\npath = \"b.toml\"\n[[rules]]\nid = \"a\"\nregex = 'a{9}'\n",
			"b.toml": "[extend]\npath = \"c.toml\"\n[[rules]]\nid = \"b\"\nregex = 'b{9}'\n",
			"c.toml": "[extend]\nuseDefault = true\n[[rules]]\nid = \"c\"\nregex = 'c{9}'\n",
		},
		load: "a.toml",
		want: 3,
	}, {
		name: "override a default rule",
		files: map[string]string{"c.toml": `[extend]
useDefault = true
[[rules]]
id = "generic-api-key"
entropy = 5.5
keywords = ["extra-word"]
`},
		load: "c.toml",
		want: n,
		check: func(t *testing.T, rs *Ruleset) {
			r := rs.Config().Rules["generic-api-key"]
			if r.Entropy != 5.5 || r.Regex == nil || r.Keywords[len(r.Keywords)-1] != "extra-word" {
				t.Errorf("merged rule: entropy %v, regex %v, keywords %v", r.Entropy, r.Regex, r.Keywords)
			}
		},
	}, {
		name: "targetRules allowlist on a default rule",
		files: map[string]string{"c.toml": `minVersion = "v99.0.0"
[extend]
useDefault = true
[[allowlists]]
targetRules = ["aws-access-token", "my-rule"]
regexes = ['''EXAMPLE$''']
` + customRule},
		load: "c.toml",
		want: n + 1,
		check: func(t *testing.T, rs *Ruleset) {
			base := defaults.Config().Rules["aws-access-token"]
			got := rs.Config().Rules["aws-access-token"]
			if len(got.Allowlists) != len(base.Allowlists)+1 {
				t.Errorf("aws-access-token has %d allowlists, want %d", len(got.Allowlists), len(base.Allowlists)+1)
			}
			if len(rs.Config().Allowlists) != len(defaults.Config().Allowlists) {
				t.Error("a targeted allowlist became global")
			}
			if len(defaults.Config().Rules["aws-access-token"].Allowlists) != len(base.Allowlists) {
				t.Error("the default config was modified")
			}
		},
	}, {
		name: "deprecated allowlist tables",
		files: map[string]string{"c.toml": customRule + `
[rules.allowlist]
stopwords = ["test"]

[allowlist]
paths = ['''^vendor/''']
`},
		load: "c.toml",
		want: 1,
		check: func(t *testing.T, rs *Ruleset) {
			if len(rs.Config().Allowlists) != 1 || len(rs.Config().Rules["my-rule"].Allowlists) != 1 {
				t.Error("deprecated allowlists not loaded")
			}
		},
	}, {
		name: "composite rule requiring a default rule",
		files: map[string]string{"c.toml": "[extend]\nuseDefault = true\n" + customRule + `
[[rules.required]]
id = "aws-access-token"
withinLines = 3
`},
		load: "c.toml",
		want: n + 1,
		check: func(t *testing.T, rs *Ruleset) {
			req := rs.Config().Rules["my-rule"].RequiredRules
			if len(req) != 1 || req[0].RuleID != "aws-access-token" || *req[0].WithinLines != 3 {
				t.Errorf("required rules = %+v", req)
			}
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFiles(t, tc.files)
			path := filepath.Join(dir, filepath.FromSlash(tc.load))
			rs, err := LoadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if rs.Len() != tc.want {
				t.Errorf("Len() = %d, want %d", rs.Len(), tc.want)
			}
			if rs.Path() != path || rs.Config().Path != path {
				t.Errorf("Path() = %q, Config().Path = %q, want %q", rs.Path(), rs.Config().Path, path)
			}
			if tc.check != nil {
				tc.check(t, rs)
			}
		})
	}
}

// TestLoadRepeatedExtend loads configs with [extend] several times in one process: gitleaks'
// Translate stops extending after the first load, because its depth counter is a global.
func TestLoadRepeatedExtend(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"base.toml":    customRule,
		"path.toml":    "[extend]\npath = \"base.toml\"\n[[rules]]\nid = \"x\"\nregex = 'x{9}'\n",
		"default.toml": "[extend]\nuseDefault = true\n",
	})
	defaults, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		for name, want := range map[string]int{"path.toml": 2, "default.toml": defaults.Len()} {
			rs, err := LoadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			if rs.Len() != want {
				t.Errorf("load %d of %s: Len() = %d, want %d", i+1, name, rs.Len(), want)
			}
		}
	}
	// Loads share no state, so they may also run at once (run with -race).
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rs, err := LoadFile(filepath.Join(dir, "path.toml"))
			if err != nil || rs.Len() != 2 {
				t.Errorf("concurrent load: %v, %v", rs, err)
			}
		}()
	}
	wg.Wait()
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string // the whole error, or its start if it ends in "..."
	}{{
		name:  "bad regex",
		files: map[string]string{"x.toml": "[[rules]]\nid = \"my-rule\"\nregex = '''(abc'''\n"},
		want:  "loading config \"x.toml\": rule \"my-rule\": invalid regex: error parsing regexp: missing closing ): `(abc`",
	}, {
		name:  "bad path regex",
		files: map[string]string{"x.toml": "[[rules]]\nid = \"my-rule\"\npath = '''[a-'''\n"},
		want:  "loading config \"x.toml\": rule \"my-rule\": invalid path regex: error parsing regexp: missing closing ]: `[a-`",
	}, {
		name:  "bad allowlist regex",
		files: map[string]string{"x.toml": customRule + "[[rules.allowlists]]\nregexes = ['''x{2,1}''']\n"},
		want:  "loading config \"x.toml\": rule \"my-rule\": [[rules.allowlists]]: invalid regex: error parsing regexp: invalid repeat count: `{2,1}`",
	}, {
		name:  "invalid TOML",
		files: map[string]string{"x.toml": "title = \"t\"\n\n[[rules]\nid = \"a\"\n"},
		want:  "loading config \"x.toml\": invalid TOML at line 3, column 9: expected character ]",
	}, {
		name:  "wrong type",
		files: map[string]string{"x.toml": "[[rules]]\nid = \"a\"\nregex = 'a'\nentropy = \"high\"\n"},
		want:  "loading config \"x.toml\": decoding config: ...",
	}, {
		name:  "useDefault and path",
		files: map[string]string{"x.toml": "[extend]\nuseDefault = true\npath = \"y.toml\"\n"},
		want:  "loading config \"x.toml\": extend.path and extend.useDefault are both set",
	}, {
		name:  "missing extended file",
		files: map[string]string{"x.toml": "[extend]\npath = \"nope.toml\"\n"},
		want:  "loading config \"x.toml\": reading extended config: open ...",
	}, {
		name: "bad regex in an extended file",
		files: map[string]string{
			"x.toml": "[extend]\npath = \"y.toml\"\n",
			"y.toml": "[[rules]]\nid = \"r\"\nregex = '*'\n",
		},
		want: "loading config \"x.toml\": extending \"y.toml\": rule \"r\": invalid regex: error parsing regexp: missing argument to repetition operator: `*`",
	}, {
		name:  "unknown target rule",
		files: map[string]string{"x.toml": "[[allowlists]]\ntargetRules = [\"nope\"]\nregexes = ['a']\n"},
		want:  "loading config \"x.toml\": [[allowlists]] target rule ID \"nope\" does not exist",
	}, {
		name:  "unknown required rule",
		files: map[string]string{"x.toml": customRule + "[[rules.required]]\nid = \"nope\"\n"},
		want:  "loading config \"x.toml\": rule \"my-rule\": [[rules.required]] rule ID \"nope\" does not exist",
	}, {
		name:  "unknown condition",
		files: map[string]string{"x.toml": "[[allowlists]]\ncondition = \"XOR\"\nregexes = ['a']\n"},
		want:  "loading config \"x.toml\": [[allowlists]]: unknown allowlist |condition| \"XOR\" (expected 'and', 'or')",
	}, {
		name:  "rule without regex or path",
		files: map[string]string{"x.toml": "[[rules]]\nid = \"empty\"\n"},
		want:  "loading config \"x.toml\": empty: both |regex| and |path| are empty, this rule will have no effect",
	}, {
		name:  "deprecated and new allowlists together",
		files: map[string]string{"x.toml": "[allowlist]\nregexes = ['a']\n[[allowlists]]\nregexes = ['b']\n"},
		want:  "loading config \"x.toml\": [allowlist] is deprecated, it cannot be used alongside [[allowlists]]",
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Load by a relative name, as a user would.
			t.Chdir(writeFiles(t, tc.files))
			_, err := LoadFile("x.toml")
			if err == nil {
				t.Fatalf("LoadFile succeeded, want error %q", tc.want)
			}
			got := err.Error()
			if strings.Contains(got, "\n") {
				t.Errorf("error spans lines: %q", got)
			}
			if prefix, ok := strings.CutSuffix(tc.want, "..."); ok {
				if !strings.HasPrefix(got, prefix) {
					t.Errorf("error = %q, want prefix %q", got, prefix)
				}
			} else if got != tc.want {
				t.Errorf("error = %q\nwant    %q", got, tc.want)
			}
		})
	}
}

func TestSeverity(t *testing.T) {
	rs, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		id   string
		want string
	}{
		{"private-key", "critical"},
		{"age-secret-key", "critical"},
		{"aws-access-token", "critical"},
		{"gcp-api-key", "critical"},
		{"azure-ad-client-secret", "critical"},
		{"github-pat", "high"},
		{"stripe-access-token", "high"},
		{"generic-api-key", "medium"},
		{"jwt", "medium"},
		{"discord-client-id", "medium"},
		{"pkcs12-file", "low"},
		{"password-assignment", "high"},       // from its kind tag
		{"password-hash-bcrypt", "medium"},    // from its kind tag
		{"password-hash-descrypt", "high"},    // from its severity tag
		{"ansible-vault", "info"},             // encrypted-store
		{"connection-string-url", "high"},     // connection-string
		{"aws-secret-access-key", "critical"}, // cloud-credential
	}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			r, ok := rs.Rule(tc.id)
			if !ok {
				t.Fatalf("no rule %q", tc.id)
			}
			if r.Severity != tc.want {
				t.Errorf("severity = %q, want %q", r.Severity, tc.want)
			}
		})
	}
	for _, r := range rs.Rules() {
		switch r.Severity {
		case "critical", "high", "medium", "low", "info":
		default:
			t.Errorf("rule %s: severity %q", r.ID, r.Severity)
		}
	}
}
