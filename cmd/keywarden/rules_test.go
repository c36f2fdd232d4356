package main

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/report"
	"github.com/keywarden/keywarden/rules"
)

// listedIDs returns the rule IDs of a rules list text table, checking its header.
func listedIDs(t *testing.T, out string) []string {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "ID ") || !strings.Contains(lines[0], "DESCRIPTION") {
		t.Fatalf("no table header: %q", out)
	}
	var ids []string
	for _, l := range lines[1:] {
		ids = append(ids, strings.Fields(l)[0])
	}
	return ids
}

// rulesWhere returns the IDs of the default rules that keep says to keep.
func rulesWhere(t *testing.T, keep func(rules.RuleInfo) bool) []string {
	t.Helper()
	rs, err := rules.Default()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range rs.Rules() {
		if keep(r) {
			ids = append(ids, r.ID)
		}
	}
	return ids
}

func TestRulesList(t *testing.T) {
	all := rulesWhere(t, func(rules.RuleInfo) bool { return true })
	hashOrConn := rulesWhere(t, func(r rules.RuleInfo) bool {
		return slices.Contains(r.Tags, "password-hash") || r.Kind == "password-hash" || r.Kind == "connection-string" || slices.Contains(r.Tags, "connection-string")
	})
	cloud := rulesWhere(t, func(r rules.RuleInfo) bool { return r.Kind == "cloud-credential" })
	if len(all) < 200 || len(hashOrConn) < 10 || !slices.Contains(cloud, "aws-access-token") {
		t.Fatalf("unexpected default rules: %d rules, %d hash or connection rules, cloud %v", len(all), len(hashOrConn), cloud)
	}

	cfg := filepath.Join(t.TempDir(), "only.toml")
	writeFile(t, cfg, "[[rules]]\nid = 'acme-token'\ndescription = 'ACME token'\nregex = '''acme_[a-f0-9]{32}'''\nkeywords = ['acme_']\ntags = ['token', 'acme']\n")

	tests := []struct {
		name       string
		args       []string
		want       []string
		wantStderr string
	}{
		{"every rule", nil, all, "rules (built-in: gitleaks v8"},
		{"repeated tags match any", []string{"--tag", "password-hash", "--tag", "connection-string"}, hashOrConn, "of "},
		{"comma-separated tags", []string{"--tag", "password-hash,connection-string"}, hashOrConn, ""},
		{"kind counts as a tag", []string{"-t", "CLOUD-CREDENTIAL"}, cloud, ""},
		{"user config", []string{"--config", cfg}, []string{"acme-token"}, cfg},
		{"user config by tag", []string{"--config", cfg, "--tag", "acme"}, []string{"acme-token"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := keywarden(t, append([]string{"rules", "list"}, tt.args...)...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			if diff := cmp.Diff(tt.want, listedIDs(t, r.stdout)); diff != "" {
				t.Errorf("rules listed (-want +got):\n%s", diff)
			}
			if !strings.Contains(r.stderr, tt.wantStderr) {
				t.Errorf("stderr %q, want it to contain %q", r.stderr, tt.wantStderr)
			}
			if strings.Contains(r.stdout, "\x1b[") {
				t.Errorf("colour in output to a pipe")
			}
		})
	}

	t.Run("json", func(t *testing.T) {
		r := keywarden(t, "rules", "list", "--format", "json", "--tag", "password-hash,connection-string")
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		var doc struct {
			Source string     `json:"source"`
			Rules  []ruleJSON `json:"rules"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
			t.Fatalf("decoding %q: %v", r.stdout, err)
		}
		var ids []string
		for _, rj := range doc.Rules {
			ids = append(ids, rj.ID)
			if rj.Description == "" || rj.Severity == "" || rj.Regex == "" && rj.Path == "" {
				t.Errorf("rule %s incomplete: %+v", rj.ID, rj)
			}
		}
		if doc.Source != "built-in" {
			t.Errorf("source %q, want built-in", doc.Source)
		}
		if diff := cmp.Diff(hashOrConn, ids); diff != "" {
			t.Errorf("rules (-want +got):\n%s", diff)
		}
	})

	// As keywarden scan dir . would, a config in the current directory is used.
	t.Run("config in the current directory", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, ".gitleaks.toml"), "[extend]\nuseDefault = true\n[[rules]]\nid = 'acme-token'\nregex = '''acme_[a-f0-9]{32}'''\nkeywords = ['acme_']\n")
		t.Chdir(dir)
		r := keywarden(t, "rules", "list")
		ids := listedIDs(t, r.stdout)
		if r.code != 0 || !slices.Contains(ids, "acme-token") || !slices.Contains(ids, "github-pat") {
			t.Errorf("exit %d, %d rules (acme-token: %v); stderr %s", r.code, len(ids), slices.Contains(ids, "acme-token"), r.stderr)
		}
		if !strings.Contains(r.stderr, ".gitleaks.toml") {
			t.Errorf("stderr %q does not name the config", r.stderr)
		}
	})
}

func TestRulesBadInput(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown rule", []string{"rules", "show", "githb-pat"}, `keywarden: unknown rule "githb-pat" (did you mean github-pat`},
		{"unknown rule by prefix", []string{"rules", "show", "aws"}, `(did you mean aws-access-token`},
		{"unknown rule ends with where to look", []string{"rules", "show", "no-such-rule-at-all"}, `unknown rule "no-such-rule-at-all" (see keywarden rules list)`},
		{"no rule has the tag", []string{"rules", "list", "--tag", "nope"}, `no rule has tag "nope"`},
		{"unknown format", []string{"rules", "list", "--format", "yaml"}, `unknown format "yaml" (want text or json)`},
		{"missing config", []string{"rules", "list", "--config", filepath.Join(t.TempDir(), "none.toml")}, "(check the --config path"},
		{"mistyped subcommand", []string{"rules", "lst"}, `unknown command "lst" for "keywarden rules" (did you mean list?`},
		{"no rule ID", []string{"rules", "show"}, "(usage: keywarden rules show ID)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := keywarden(t, tt.args...)
			if r.code != exitError {
				t.Errorf("exit %d, want 2", r.code)
			}
			last := strings.TrimSuffix(r.stderr, "\n")
			if !strings.Contains(last, tt.want) || strings.Count(r.stderr, "keywarden: ") != 1 {
				t.Errorf("stderr %q, want one keywarden: line containing %q", r.stderr, tt.want)
			}
		})
	}
}

// showJSON runs rules show --format json.
func showJSON(t *testing.T, id string) ruleShowJSON {
	t.Helper()
	r := keywarden(t, "rules", "show", id, "--format", "json")
	if r.code != 0 {
		t.Fatalf("rules show %s: exit %d: %s", id, r.code, r.stderr)
	}
	var doc ruleShowJSON
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("decoding %q: %v", r.stdout, err)
	}
	return doc
}

// scannedRules writes text to path under a new directory, scans it and returns the IDs of the
// rules reported.
func scannedRules(t *testing.T, path, text string) []string {
	t.Helper()
	dir := t.TempDir()
	if path == "" {
		path = "settings.conf"
	}
	writeFile(t, filepath.Join(dir, filepath.FromSlash(path)), text+"\n")
	rep, _ := scanJSON(t, "scan", "dir", dir)
	var ids []string
	for _, f := range rep.Findings {
		ids = append(ids, f.RuleID)
	}
	return ids
}

// TestRulesShowExamples checks that rules show describes a rule in full and that its examples
// are true to a real scan: the reported one is reported and the other is not.
func TestRulesShowExamples(t *testing.T) {
	tests := []struct {
		name, id string
		want     func(ruleShowJSON) bool // something particular to the rule
	}{
		{"gitleaks token rule", "github-pat", func(d ruleShowJSON) bool {
			return d.Entropy == 3 && len(d.Allowlists) == 1 && strings.Contains(strings.Join(d.Allowlists[0].Paths, ""), "octokit") &&
				strings.HasPrefix(d.Source, "gitleaks v8")
		}},
		{"cloud credential", "aws-access-token", func(d ruleShowJSON) bool {
			return d.Severity == "critical" && d.Kind == "cloud-credential" && strings.Contains(d.Remediation, "cloud provider")
		}},
		{"keywarden rule with a path allowlist", "password-in-config", func(d ruleShowJSON) bool {
			return strings.HasPrefix(d.Source, "keywarden") && len(d.Allowlists) > 0 && slices.Contains(d.Tags, "password")
		}},
		{"rule with a path constraint", "pgpass-password", func(d ruleShowJSON) bool {
			return d.Path != "" && d.Examples[1].Path == "README.md"
		}},
		{"path-only rule", "pkcs12-file", func(d ruleShowJSON) bool {
			return d.Regex == "" && d.Examples[0].Text == "" && d.Examples[0].Path != ""
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := showJSON(t, tt.id)
			if d.ID != tt.id || d.Description == "" || d.Remediation == "" {
				t.Errorf("incomplete: %+v", d)
			}
			if len(d.Examples) != 2 || !d.Examples[0].Reported || d.Examples[1].Reported || d.Examples[1].Note == "" {
				t.Fatalf("examples %+v, want a reported one, then one not reported with a note", d.Examples)
			}
			if !tt.want(d) {
				t.Errorf("rule details not as expected: %+v", d)
			}
			tp, fp := d.Examples[0], d.Examples[1]
			if got := scannedRules(t, tp.Path, tp.Text); !slices.Contains(got, tt.id) {
				t.Errorf("scanning the reported example %q at %q found %v, want %s", tp.Text, tp.Path, got, tt.id)
			}
			if got := scannedRules(t, fp.Path, fp.Text); slices.Contains(got, tt.id) {
				t.Errorf("scanning the unreported example %q at %q (%s) found %s", fp.Text, fp.Path, fp.Note, tt.id)
			}
		})
	}
}

func TestRulesShowText(t *testing.T) {
	d := showJSON(t, "github-pat")
	r := keywarden(t, "rules", "show", "github-pat")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	secret := d.Examples[0].Secret
	for _, want := range []string{
		"github-pat\n", "  severity     high\n", "  regex        ghp_[0-9a-zA-Z]{36}\n", "  keywords     ghp_\n",
		"octokit", "Remediation\n", "Examples\n", "  reported\n", "not reported (" + d.Examples[1].Note + ")",
		"    text:   " + d.Examples[0].Text + "\n", "    secret: ghp_…", "not real credentials",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
	// The example text is shown as a demonstration; what a report would show stays redacted.
	if strings.Count(r.stdout, secret) != 1 {
		t.Errorf("the example secret appears %d times, want once (in the example text):\n%s", strings.Count(r.stdout, secret), r.stdout)
	}
}

// TestCompletion checks cobra's completion scripts and the completions keywarden adds.
func TestCompletion(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		t.Run(shell, func(t *testing.T) {
			r := keywarden(t, "completion", shell)
			if r.code != 0 || !strings.Contains(r.stdout, "keywarden") || !strings.Contains(r.stdout, "__complete") {
				t.Errorf("exit %d, %d bytes of script without keywarden's __complete: %s", r.code, len(r.stdout), r.stderr)
			}
		})
	}
	aws := rulesWhere(t, func(r rules.RuleInfo) bool { return strings.HasPrefix(r.ID, "aws") })
	tests := []struct {
		name      string
		args      []string
		want      []string // completions, without descriptions
		directive string
	}{
		{"rule IDs", []string{"rules", "show", "aws"}, aws, ":4"},
		{"no second rule ID", []string{"rules", "show", "github-pat", ""}, nil, ":4"},
		{"scan report formats", []string{"scan", "dir", ".", "--format", ""}, report.Formats, ":4"},
		{"rules formats", []string{"rules", "list", "--format", ""}, []string{"text", "json"}, ":4"},
		{"version formats", []string{"version", "-f", ""}, []string{"text", "json"}, ":4"},
		{"colour", []string{"scan", "dir", ".", "--color", ""}, colorModes, ":4"},
		{"git reader", []string{"scan", "git", "--git-reader", ""}, []string{"auto", "go-git", "git"}, ":4"},
		{"scan subcommands", []string{"scan", ""}, []string{"dir", "dump", "git", "image", "staged"}, ":4"},
		{"scan git takes a directory", []string{"scan", "git", ""}, nil, ":16"},
		{"config files", []string{"scan", "dir", ".", "--config", ""}, []string{"toml"}, ":8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := keywarden(t, append([]string{"__complete"}, tt.args...)...)
			lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
			if r.code != 0 || len(lines) == 0 {
				t.Fatalf("exit %d: %q %s", r.code, r.stdout, r.stderr)
			}
			var got []string
			for _, l := range lines[:len(lines)-1] {
				name, _, _ := strings.Cut(l, "\t")
				got = append(got, name)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("completions (-want +got):\n%s", diff)
			}
			if last := lines[len(lines)-1]; last != tt.directive {
				t.Errorf("directive %q, want %q", last, tt.directive)
			}
		})
	}
}
