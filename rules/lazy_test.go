package rules

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/zricethezav/gitleaks/v8/config"
)

// freshDefault builds the default rules with lazy regexes of their own, none compiled yet;
// Default's are shared by the whole test binary.
func freshDefault(t testing.TB) *Ruleset {
	t.Helper()
	cfg, lazy, err := buildDefault(config.DefaultConfig, keywardenTOML)
	if err != nil {
		t.Fatal(err)
	}
	return newRuleset(cfg, lazy, "")
}

// compiledIDs lists the rules whose lazy regex has been compiled.
func compiledIDs(lazy lazyRegexes) []string {
	var ids []string
	for id, l := range lazy {
		if l.re.Load() != nil {
			ids = append(ids, id)
		}
	}
	return ids
}

// TestBuiltinRegexes checks every built-in rule's regex as loading checks a user's: the
// built-in ones are compiled only when first used, where an error could not be reported. The
// package's tests run with and without -tags gore2regex,re2_cgo, so both engines are checked.
func TestBuiltinRegexes(t *testing.T) {
	cfg, lazy, err := buildDefault(config.DefaultConfig, keywardenTOML)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, id := range sortedIDs(cfg.Rules) {
		r := cfg.Rules[id]
		l, ok := lazy[id]
		if ok != (r.Regex == lazyPlaceholder) {
			t.Errorf("rule %q: regex is the placeholder: %v, has a lazy regex: %v", id, r.Regex == lazyPlaceholder, ok)
			continue
		}
		if !ok {
			continue
		}
		n++
		re, err := compile(l.expr)
		if err != nil {
			t.Errorf("rule %q: invalid regex: %v", id, err)
			continue
		}
		// A copy that Validate has not seen yet.
		v := config.Rule{RuleID: r.RuleID, Description: r.Description, Entropy: r.Entropy, SecretGroup: r.SecretGroup,
			Regex: re, Path: r.Path, Tags: r.Tags, Keywords: r.Keywords, Allowlists: r.Allowlists,
			RequiredRules: r.RequiredRules, SkipReport: r.SkipReport}
		if err := v.Validate(); err != nil {
			t.Errorf("rule %q: %v", id, err)
		}
		if got := l.get(); got.String() != l.expr || got.NumSubexp() != re.NumSubexp() {
			t.Errorf("rule %q: lazily compiled %q with %d groups, want %q with %d", id, got, got.NumSubexp(), l.expr, re.NumSubexp())
		}
	}
	if n != len(lazy) {
		t.Errorf("%d lazy regexes, but %d rules use one", len(lazy), n)
	}
	if n < gitleaksDefaultRules*9/10 {
		t.Errorf("only %d built-in rules have a lazy regex", n)
	}
}

// TestLazyRegexes checks that detection compiles only the regexes it runs, and that nothing
// else sees the difference.
func TestLazyRegexes(t *testing.T) {
	rs := freshDefault(t)
	d := NewDetector(rs, DetectorOptions{})
	if ids := compiledIDs(rs.lazy); len(ids) > 0 {
		t.Errorf("NewDetector compiled %v", ids)
	}
	// Rules without keywords run over every text; no other rule's keyword occurs here.
	var always []string
	for _, r := range d.rules {
		if r.shape.mode == modeAlways {
			always = append(always, r.RuleID)
		}
	}
	if ms := d.Detect([]byte("func main() {\n\tfmt.Println(1 + 2)\n}\n")); len(ms) > 0 {
		t.Errorf("matches in plain code: %+v", ms)
	}
	ignoreOrder := cmpopts.SortSlices(func(a, b string) bool { return a < b })
	if diff := cmp.Diff(always, compiledIDs(rs.lazy), ignoreOrder, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("compiled by plain code (-rules without keywords +compiled):\n%s", diff)
	}

	ms := d.Detect([]byte("gh := \"ghp_" + "8LuhfTcUn6qEHM3XZdW2mA9JvqNrRb0sPyTk\"\n"))
	if len(ms) != 1 || ms[0].RuleID != "github-pat" {
		t.Errorf("matches = %+v, want one of github-pat", ms)
	}
	if n := len(compiledIDs(rs.lazy)); n > len(always)+10 {
		t.Errorf("one token compiled %d regexes", n)
	}

	info, _ := rs.Rule("github-pat")
	if !strings.HasPrefix(info.Regex, "ghp_") || info.Regex != rs.lazy["github-pat"].expr {
		t.Errorf("RuleInfo.Regex = %q, want the expression", info.Regex)
	}
	// Config hands out compiled regexes, the same ones detection uses.
	cfg := rs.Config()
	if ids := compiledIDs(rs.lazy); len(ids) != len(rs.lazy) {
		t.Errorf("Config compiled %d of %d regexes", len(ids), len(rs.lazy))
	}
	for id, l := range rs.lazy {
		if got := cfg.Rules[id].Regex; got != l.re.Load() {
			t.Errorf("Config().Rules[%q].Regex = %v, want the lazily compiled one", id, got)
		}
		if rs.cfg.Rules[id].Regex != lazyPlaceholder {
			t.Errorf("Config changed the Ruleset's own rule %q", id)
		}
	}
	if gl := rs.GitleaksConfig(); gl.Rules["github-pat"].Regex == lazyPlaceholder {
		t.Error("GitleaksConfig holds a placeholder regex")
	}
}

// TestLazyUserConfig checks which regexes a user's config leaves lazy: the default rules it
// extends keep theirs, its own are compiled (and checked) at load, also where they override a
// default rule's.
func TestLazyUserConfig(t *testing.T) {
	tests := []struct {
		name    string
		config  string
		lazy    []string // rules expected to keep a lazy regex
		notLazy []string
		regex   map[string]string // RuleInfo.Regex expected
		err     string
	}{{
		name:    "extend the defaults",
		config:  "[extend]\nuseDefault = true\n" + customRule,
		lazy:    []string{"github-pat", "generic-api-key"},
		notLazy: []string{"my-rule"},
		regex:   map[string]string{"my-rule": "myr_[a-z0-9]{12}"},
	}, {
		name:    "override a default rule's regex",
		config:  "[extend]\nuseDefault = true\n[[rules]]\nid = \"github-pat\"\nregex = '''ghp_[0-9]{36}'''\nsecretGroup = 0\n",
		lazy:    []string{"generic-api-key"},
		notLazy: []string{"github-pat"},
		regex:   map[string]string{"github-pat": "ghp_[0-9]{36}"},
	}, {
		// As in gitleaks, a default rule is validated once, before the merge: the regex of
		// sonar-api-token has two groups and its secretGroup is 2.
		name:    "override a default rule's regex with fewer groups than its secretGroup",
		config:  "[extend]\nuseDefault = true\n[[rules]]\nid = \"sonar-api-token\"\nregex = 'sonar_[a-z0-9]{40}'\n",
		lazy:    []string{"github-pat"},
		notLazy: []string{"sonar-api-token"},
		regex:   map[string]string{"sonar-api-token": "sonar_[a-z0-9]{40}"},
	}, {
		// Not checked against the regex, as in gitleaks: github-pat's has no group.
		name:   "override other fields, secretGroup too",
		config: "[extend]\nuseDefault = true\n[[rules]]\nid = \"github-pat\"\nentropy = 4.5\nsecretGroup = 3\n",
		lazy:   []string{"github-pat"},
	}, {
		name:    "disable a default rule",
		config:  "[extend]\nuseDefault = true\ndisabledRules = [\"github-pat\"]\n",
		lazy:    []string{"generic-api-key"},
		notLazy: []string{"github-pat"},
	}, {
		name:    "no extend",
		config:  customRule,
		notLazy: []string{"my-rule"},
	}, {
		name:   "bad regex overriding a default rule's",
		config: "[extend]\nuseDefault = true\n[[rules]]\nid = \"github-pat\"\nregex = '''(abc'''\n",
		err:    "rule \"github-pat\": invalid regex: error parsing regexp: missing closing ): `(abc`",
	}, {
		name:   "secretGroup beyond the groups of a user rule extending the defaults",
		config: "[extend]\nuseDefault = true\n[[rules]]\nid = \"mine\"\nregex = '''x(y)'''\nsecretGroup = 2\n",
		err:    "mine: invalid regex secret group 2, max regex secret group 1",
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.toml")
			rs, err := LoadBytes(path, []byte(tc.config))
			if tc.err != "" {
				if want := fmt.Sprintf("loading config %q: %s", path, tc.err); err == nil || err.Error() != want {
					t.Fatalf("error = %v\nwant    %s", err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range tc.lazy {
				if rs.cfg.Rules[id].Regex != lazyPlaceholder || rs.lazy[id] != defaults.lazy[id] {
					t.Errorf("rule %q: regex not the default's lazy one", id)
				}
			}
			for _, id := range tc.notLazy {
				if _, ok := rs.lazy[id]; ok || rs.cfg.Rules[id].Regex == lazyPlaceholder {
					t.Errorf("rule %q: regex left lazy", id)
				}
			}
			for id, want := range tc.regex {
				if info, _ := rs.Rule(id); info.Regex != want {
					t.Errorf("rule %q: RuleInfo.Regex = %q, want %q", id, info.Regex, want)
				}
			}
			for id, r := range rs.Config().Rules {
				if r.Regex == lazyPlaceholder {
					t.Errorf("Config().Rules[%q] holds the placeholder", id)
				}
			}
		})
	}
}

// TestDetectConcurrentFirstUse runs a Detector whose regexes are not compiled yet from many
// goroutines at once, so that first uses race (run with -race).
func TestDetectConcurrentFirstUse(t *testing.T) {
	rs, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	files, _, _ := buildCorpus(rs.Config())
	files = files[:300]
	ref := NewDetector(rs, DetectorOptions{})
	want := make([][]Match, len(files))
	for i, f := range files {
		want[i] = ref.Detect([]byte(f.text))
	}
	d := NewDetector(freshDefault(t), DetectorOptions{})
	detectConcurrently(t, d, files, want, "-compiled +lazy")
}
