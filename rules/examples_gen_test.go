package rules

import (
	"math/rand/v2"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/google/go-cmp/cmp"
)

// checkExamples checks that ex holds a text rule id reports and one it does not, re-running
// the detector itself rather than trusting Examples.
func checkExamples(t *testing.T, d *Detector, id string, ex []Example) {
	t.Helper()
	if len(ex) != 2 {
		t.Fatalf("%d examples, want a reported one and one that is not: %+v", len(ex), ex)
	}
	tp, fp := ex[0], ex[1]
	if !tp.Reported || fp.Reported || fp.Note == "" {
		t.Errorf("Reported = %v, %v (note %q), want true, false with a note", tp.Reported, fp.Reported, fp.Note)
	}
	for _, e := range ex {
		if e.Path != "" && d.PathExcluded(e.Path) {
			t.Errorf("example path %q is one a scan never reads", e.Path)
		}
		for _, r := range e.Text {
			if !unicode.IsPrint(r) && r != '\n' && r != '\t' {
				t.Errorf("example text %q holds %U, which a terminal would not show", e.Text, r)
			}
		}
	}
	if tp.Text == "" { // a path-only rule
		got := func(path string) bool {
			return slices.ContainsFunc(d.PathMatches(path, ""), func(m Match) bool { return m.RuleID == id })
		}
		if !got(tp.Path) || got(fp.Path) {
			t.Errorf("path-only examples %q (reported: %v) and %q (reported: %v)", tp.Path, got(tp.Path), fp.Path, got(fp.Path))
		}
		return
	}
	if got := reported(d, id, ruleExample{Path: tp.Path, Text: tp.Text}); !slices.Contains(got, tp.Secret) {
		t.Errorf("reported example %q at %q: rule reports %q, want %q among them", tp.Text, tp.Path, got, tp.Secret)
	}
	if got := reported(d, id, ruleExample{Path: fp.Path, Text: fp.Text}); len(got) > 0 {
		t.Errorf("unreported example %q at %q (%s): rule reports %q", fp.Text, fp.Path, fp.Note, got)
	}
}

// TestExamplesEveryRule checks that every default rule, gitleaks' and keywarden's, gets a text
// it reports and one it does not, the same on every call.
func TestExamplesEveryRule(t *testing.T) {
	rs, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	d := NewDetector(rs, DetectorOptions{})
	for _, info := range rs.Rules() {
		t.Run(info.ID, func(t *testing.T) {
			ex := rs.examples(d, info.ID)
			if detail, _ := rs.Detail(info.ID); detail.SkipReport {
				if ex != nil {
					t.Errorf("examples for a rule that is never reported alone: %+v", ex)
				}
				return
			}
			checkExamples(t, d, info.ID, ex)
			if diff := cmp.Diff(ex, rs.examples(d, info.ID)); diff != "" {
				t.Errorf("examples differ between calls (-first +second):\n%s", diff)
			}
		})
	}
}

// TestExamplesUserConfig checks examples of a user's rules, which have no curated ones.
func TestExamplesUserConfig(t *testing.T) {
	rs, err := LoadBytes("user.toml", []byte(`
[[rules]]
id = "acme-token"
regex = '''\b(acme_[a-f0-9]{32})\b'''
keywords = ["acme_"]

[[rules]]
id = "acme-keystore"
path = '''(?i)\.acmeks$'''

[[rules]]
id = "acme-ini-secret"
regex = '''(?i)^secret\s*=\s*(\w{12,})$'''
path = '''(?:^|/)acme\.ini$'''

[[rules]]
id = "impossible"
regex = '''a\bb'''

[[rules]]
id = "acme-client-id"
regex = '''\b(acmeid_[0-9]{12})\b'''
keywords = ["acmeid_"]

[[rules]]
id = "acme-client-secret"
regex = '''\b(acmesecret_[A-Za-z0-9]{24})\b'''
keywords = ["acmesecret_"]
[[rules.required]]
id = "acme-client-id"
withinLines = 2

[[rules]]
id = "loop"
regex = '''\b(loop_[a-z]{16})\b'''
keywords = ["loop_"]
[[rules.required]]
id = "loop"
`))
	if err != nil {
		t.Fatal(err)
	}
	d := NewDetector(rs, DetectorOptions{})
	for _, id := range []string{"acme-token", "acme-keystore", "acme-ini-secret", "acme-client-secret"} {
		t.Run(id, func(t *testing.T) {
			checkExamples(t, d, id, rs.Examples(id))
		})
	}
	t.Run("unsatisfiable", func(t *testing.T) {
		if ex := rs.Examples("impossible"); ex != nil {
			t.Errorf("examples for a rule nothing matches: %+v", ex)
		}
	})
	t.Run("requiring itself", func(t *testing.T) {
		_ = rs.Examples("loop") // must return, with or without examples
	})
	t.Run("unknown", func(t *testing.T) {
		if ex := rs.Examples("no-such-rule"); ex != nil {
			t.Errorf("examples for an unknown rule: %+v", ex)
		}
	})
}

// TestGenerate checks that generated strings match their regex, for regexes with nothing the
// generator leaves to the detector to check.
func TestGenerate(t *testing.T) {
	tests := []struct {
		name, expr string
	}{
		{"literal", `ghp_abc`},
		{"fold case", `(?i)password=([a-z0-9]{8})`},
		{"classes and repeats", `x{2,4}y+z*[A-F0-9]{16}`},
		{"optional and alternation", `(a|bc)?d(?:ef|gh|ij)`},
		{"negated class", `[^\s'"]{8,}`},
		{"digits", `\d{3}-\d{4}`},
		{"any char", `host.{3}\.example`},
		{"word boundaries", `\bauthorization\b.{0,4}\bBasic\s+(\w{8,})`},
		{"multi-line", `(?m)^begin\r?\n(?:[0-9a-f]{4}\r?\n){2}end$`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			re, err := syntax.Parse(tt.expr, syntax.Perl)
			if err != nil {
				t.Fatal(err)
			}
			std := regexp.MustCompile(`^(?:` + tt.expr + `)$`)
			rng := rand.New(rand.NewPCG(1, 2))
			for i := range 20 {
				g := generator{rng: rng, minimal: i == 0}
				s, ok := g.generate(re)
				if !ok || !std.MatchString(s) {
					t.Errorf("attempt %d: generated %q (ok %v), which %s does not match", i, s, ok, tt.expr)
				}
			}
		})
	}
}

func TestRemediation(t *testing.T) {
	seen := map[string]string{}
	for _, kind := range Kinds {
		t.Run(kind, func(t *testing.T) {
			got := Remediation(RuleInfo{ID: "x", Kind: kind})
			if got == "" || got == Remediation(RuleInfo{ID: "x", Kind: "no-such-kind"}) && kind != KindGeneric {
				t.Errorf("no remediation of its own: %q", got)
			}
			if prev, ok := seen[got]; ok {
				t.Errorf("same remediation as %s: %q", prev, got)
			}
			seen[got] = kind
			// An encrypted store is not a leak alone; everything else must be rotated.
			if history := strings.Contains(got, "git history"); history == (kind == KindEncryptedStore) {
				t.Errorf("mentions git history: %v, want %v: %q", history, kind != KindEncryptedStore, got)
			}
		})
	}
}

func TestDetail(t *testing.T) {
	rs, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, id      string
		keywarden     bool
		entropy       float64
		allowlistPath string // a substring of one allowlist path
	}{
		{"gitleaks rule with a path allowlist", "github-pat", false, 3, "octokit"},
		{"keywarden rule", "password-assignment", true, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, ok := rs.Detail(tt.id)
			if !ok {
				t.Fatalf("no detail for %s", tt.id)
			}
			if d.Keywarden != tt.keywarden || d.Entropy != tt.entropy {
				t.Errorf("Keywarden, Entropy = %v, %v; want %v, %v", d.Keywarden, d.Entropy, tt.keywarden, tt.entropy)
			}
			var paths []string
			for _, a := range d.Allowlists {
				paths = append(paths, a.Paths...)
				if a.Condition != "OR" && a.Condition != "AND" || a.Target == "" {
					t.Errorf("allowlist condition %q, target %q", a.Condition, a.Target)
				}
			}
			if tt.allowlistPath != "" && !slices.ContainsFunc(paths, func(p string) bool { return strings.Contains(p, tt.allowlistPath) }) {
				t.Errorf("allowlist paths %q, want one with %q", paths, tt.allowlistPath)
			}
		})
	}
	if _, ok := rs.Detail("no-such-rule"); ok {
		t.Error("detail for an unknown rule")
	}
}

// TestCuratedExamples checks that every hand-written example is of a keywarden rule and is
// reported as written: one that is not would silently give way to a generated one.
func TestCuratedExamples(t *testing.T) {
	rs, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	d := NewDetector(rs, DetectorOptions{})
	ids := keywardenRuleIDs(t)
	for id, c := range curated() {
		t.Run(id, func(t *testing.T) {
			if !slices.Contains(ids, id) {
				t.Errorf("curated example for %q, which rules/keywarden.toml does not define", id)
			}
			if got := reported(d, id, ruleExample{Path: c.Path, Text: c.Text}); len(got) == 0 {
				t.Errorf("not reported at %q: %q", c.Path, c.Text)
			}
			ex := rs.Examples(id)
			if len(ex) == 0 || ex[0].Text != c.Text {
				t.Errorf("Examples does not use the curated text: %+v", ex)
			}
		})
	}
}
