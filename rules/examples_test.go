package rules

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/pelletier/go-toml/v2"
)

// ruleExample is one text a rule must (tp) or must not (fp) report, from
// testdata/rules/examples.toml.
type ruleExample struct {
	Path    string   `toml:"path"`
	Text    string   `toml:"text"`
	Secret  string   `toml:"secret"`  // tp: one of the secrets reported
	Secrets []string `toml:"secrets"` // tp: exactly the secrets reported, in order
}

type ruleExamples struct {
	TP []ruleExample `toml:"tp"`
	FP []ruleExample `toml:"fp"`
}

// keywardenRuleIDs lists the rules rules/keywarden.toml defines.
func keywardenRuleIDs(t *testing.T) []string {
	t.Helper()
	var f struct {
		Rules []struct {
			ID string `toml:"id"`
		} `toml:"rules"`
	}
	if err := toml.Unmarshal(keywardenTOML, &f); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range f.Rules {
		ids = append(ids, r.ID)
	}
	return ids
}

// reported returns the secrets rule id reports in text at path, after every check a scan
// makes: allowlists, path, refiners and the placeholder grade.
func reported(d *Detector, id string, ex ruleExample) []string {
	var out []string
	for _, m := range d.DetectAt([]byte(ex.Text), ex.Path) {
		if m.RuleID != id || d.Allowed(&m, ex.Path, "") || GradeSecret(id, m.Secret).Grade == gradePlaceholder {
			continue
		}
		out = append(out, m.Secret)
	}
	return out
}

// TestRuleExamples checks every keywarden rule against its true- and false-positive examples.
// Each rule must have at least two of each, as gitleaks' rule generator requires.
func TestRuleExamples(t *testing.T) {
	data, err := os.ReadFile("../testdata/rules/examples.toml")
	if err != nil {
		t.Fatal(err)
	}
	var all map[string]ruleExamples
	if err := toml.Unmarshal(data, &all); err != nil {
		t.Fatal(err)
	}
	rs, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	d := NewDetector(rs, DetectorOptions{})
	ids := keywardenRuleIDs(t)
	for id := range all {
		if !slices.Contains(ids, id) {
			t.Errorf("examples for %q, which rules/keywarden.toml does not define", id)
		}
	}
	for _, id := range ids {
		t.Run(id, func(t *testing.T) {
			ex := all[id]
			if len(ex.TP) < 2 || len(ex.FP) < 2 {
				t.Fatalf("%d true- and %d false-positive examples, want at least 2 of each", len(ex.TP), len(ex.FP))
			}
			for i, tp := range ex.TP {
				got := reported(d, id, tp)
				// Files end in a newline, which anchors such as $ must get past.
				nl := tp
				nl.Text += "\n"
				if !slices.Equal(reported(d, id, nl), got) {
					t.Errorf("tp %d (%s): reported %q with a final newline, %q without", i, tp.Path, reported(d, id, nl), got)
				}
				switch {
				case len(got) == 0:
					t.Errorf("tp %d (%s): not reported:\n%s", i, tp.Path, tp.Text)
				case tp.Secret != "" && !slices.Contains(got, tp.Secret):
					t.Errorf("tp %d (%s): reported %q, want %q among them", i, tp.Path, got, tp.Secret)
				case tp.Secrets != nil && !slices.Equal(got, tp.Secrets):
					t.Errorf("tp %d (%s): reported %q, want %q", i, tp.Path, got, tp.Secrets)
				}
			}
			for i, fp := range ex.FP {
				if got := reported(d, id, fp); len(got) > 0 {
					t.Errorf("fp %d (%s): reported %q:\n%s", i, fp.Path, got, fp.Text)
				}
			}
		})
	}
}

// TestRulesDocumented checks that docs/rules.md lists every keywarden rule.
func TestRulesDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/rules.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range keywardenRuleIDs(t) {
		if !strings.Contains(string(doc), "| `"+id+"` |") {
			t.Errorf("docs/rules.md has no row for rule %s", id)
		}
	}
}
