package report

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"

	"github.com/keywarden/keywarden/report/sariftest"
	"github.com/keywarden/keywarden/rules"
	"github.com/keywarden/keywarden/scanner"
)

// validateSARIF checks out against the OASIS SARIF 2.1.0 schema.
func validateSARIF(t *testing.T, out []byte) error {
	t.Helper()
	return sariftest.Validate(t, out)
}

func TestSARIFSchema(t *testing.T) {
	for _, tc := range testCases {
		for _, show := range []bool{false, true} {
			name := tc.name + "/redacted"
			if show {
				name = tc.name + "/shown"
			}
			t.Run(name, func(t *testing.T) {
				res := tc.res()
				res.ShowSecrets = show
				out := render(t, SARIF{}, res)
				if err := validateSARIF(t, out); err != nil {
					t.Errorf("SARIF output is not valid SARIF 2.1.0: %v", err)
				}
				rep, err := sarif.FromBytes(out, sarif.WithStrictValidation())
				if err != nil {
					t.Fatalf("go-sarif decoding: %v", err)
				}
				if err := rep.Validate(); err != nil {
					t.Errorf("go-sarif Validate: %v", err)
				}
			})
		}
	}
}

func TestSARIFSchemaRejects(t *testing.T) {
	// The schema check must be able to fail.
	good := string(render(t, SARIF{}, gitResult()))
	tests := []struct {
		name string
		from string
		to   string
	}{
		{"bad level", `"level": "error"`, `"level": "fatal"`},
		{"zero start line", `"startLine": 3`, `"startLine": 0`},
		{"bad version", `"version": "2.1.0"`, `"version": "2.0.0"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(good, tt.from) {
				t.Fatalf("output lacks %s", tt.from)
			}
			bad := strings.Replace(good, tt.from, tt.to, 1)
			if err := validateSARIF(t, []byte(bad)); err == nil {
				t.Errorf("schema accepted SARIF with %s", tt.to)
			}
		})
	}
}

// sarifLog is the part of a SARIF log the tests look at.
type sarifLog struct {
	Runs []struct {
		ColumnKind         string                     `json:"columnKind"`
		OriginalURIBaseIDs map[string]json.RawMessage `json:"originalUriBaseIds"`
		AutomationDetails  json.RawMessage            `json:"automationDetails"`
		Invocations        []sarifInvocationT         `json:"invocations"`
		Tool               struct {
			Driver struct {
				Name           string       `json:"name"`
				Version        string       `json:"version"`
				InformationURI string       `json:"informationUri"`
				Rules          []sarifRuleT `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		Results []sarifResultT `json:"results"`
	} `json:"runs"`
}

type sarifInvocationT struct {
	ExecutionSuccessful bool `json:"executionSuccessful"`
	Notifications       []struct {
		Level      string         `json:"level"`
		Message    sarifText      `json:"message"`
		Properties map[string]any `json:"properties"`
	} `json:"toolExecutionNotifications"`
}

type sarifText struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown"`
}

type sarifRuleT struct {
	ID               string         `json:"id"`
	ShortDescription sarifText      `json:"shortDescription"`
	FullDescription  sarifText      `json:"fullDescription"`
	Help             sarifText      `json:"help"`
	Properties       map[string]any `json:"properties"`
}

type sarifResultT struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             sarifText         `json:"message"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	Locations           []sarifLocT       `json:"locations"`
	RelatedLocations    []sarifLocT       `json:"relatedLocations"`
	Properties          map[string]any    `json:"properties"`
}

type sarifLocT struct {
	ID               int       `json:"id"`
	Message          sarifText `json:"message"`
	PhysicalLocation struct {
		ArtifactLocation struct {
			URI       string `json:"uri"`
			URIBaseID string `json:"uriBaseId"`
		} `json:"artifactLocation"`
		Region *sarifRegionT `json:"region"`
	} `json:"physicalLocation"`
}

type sarifRegionT struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn"`
	EndLine     int `json:"endLine"`
	EndColumn   int `json:"endColumn"`
}

func readSARIF(t *testing.T, res *Result) sarifLog {
	t.Helper()
	return decodeSARIF(t, render(t, SARIF{}, res))
}

func decodeSARIF(t *testing.T, out []byte) sarifLog {
	t.Helper()
	var log sarifLog
	if err := json.Unmarshal(out, &log); err != nil {
		t.Fatalf("decoding SARIF: %v", err)
	}
	if len(log.Runs) != 1 {
		t.Fatalf("got %d runs, want 1", len(log.Runs))
	}
	return log
}

func TestSARIFRules(t *testing.T) {
	tests := []struct {
		name      string
		res       *Result
		wantRules []string
		// security-severity and precision by rule
		wantSeverity  map[string]string
		wantPrecision map[string]string
	}{
		{name: "empty", res: emptyResult(), wantRules: []string{}},
		{
			name:          "git-multi-location",
			res:           gitResult(),
			wantRules:     []string{"kw-test-password", "kw-test-token"},
			wantSeverity:  map[string]string{"kw-test-password": "8.0", "kw-test-token": "9.5"},
			wantPrecision: map[string]string{"kw-test-password": "high", "kw-test-token": "high"},
		},
		{
			name:          "dir-findings",
			res:           dirResult(),
			wantRules:     []string{"kw-test-generic", "kw-test-keyfile"},
			wantSeverity:  map[string]string{"kw-test-generic": "5.5", "kw-test-keyfile": "3.0"},
			wantPrecision: map[string]string{"kw-test-generic": "medium", "kw-test-keyfile": "high"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := readSARIF(t, tt.res).Runs[0]
			got := []string{}
			gotSeverity, gotPrecision := map[string]string{}, map[string]string{}
			for _, r := range run.Tool.Driver.Rules {
				got = append(got, r.ID)
				sev, ok := r.Properties["security-severity"].(string)
				if !ok {
					t.Errorf("rule %s: security-severity is %T, want a string", r.ID, r.Properties["security-severity"])
				}
				gotSeverity[r.ID] = sev
				gotPrecision[r.ID], _ = r.Properties["precision"].(string)
				tags, _ := r.Properties["tags"].([]any)
				if !containsAny(tags, "security") || !containsAny(tags, "secret") {
					t.Errorf("rule %s: tags %v lack security and secret", r.ID, tags)
				}
				if r.ShortDescription.Text == "" || r.FullDescription.Text == "" {
					t.Errorf("rule %s: missing short or full description", r.ID)
				}
				for _, want := range []string{"Rotate", "history", "keywarden:allow", ".keywardenignore"} {
					if !strings.Contains(r.Help.Text, want) || !strings.Contains(r.Help.Markdown, want) {
						t.Errorf("rule %s: help text or markdown lacks %q", r.ID, want)
					}
				}
			}
			if diff := cmp.Diff(tt.wantRules, got); diff != "" {
				t.Errorf("rule IDs (-want +got):\n%s", diff)
			}
			if tt.wantSeverity != nil {
				if diff := cmp.Diff(tt.wantSeverity, gotSeverity); diff != "" {
					t.Errorf("security-severity (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(tt.wantPrecision, gotPrecision); diff != "" {
					t.Errorf("precision (-want +got):\n%s", diff)
				}
			}
			if got, want := run.ColumnKind, "unicodeCodePoints"; got != want {
				t.Errorf("columnKind = %q, want %q", got, want)
			}
			if _, ok := run.OriginalURIBaseIDs["%SRCROOT%"]; !ok {
				t.Errorf("originalUriBaseIds lacks %%SRCROOT%%: %v", run.OriginalURIBaseIDs)
			}
		})
	}
}

func containsAny(list []any, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestSARIFResults(t *testing.T) {
	type loc struct {
		URI    string
		Base   string
		Region *sarifRegionT
		ID     int
		Msg    string
	}
	type result struct {
		RuleID      string
		Level       string
		Fingerprint string
		Locations   []loc
		Related     []loc
		Commit      string
		NumLocs     float64
	}
	tests := []struct {
		name string
		res  *Result
		want []result
	}{
		{name: "empty", res: emptyResult(), want: []result{}},
		{
			name: "git-multi-location",
			res:  gitResult(),
			want: []result{
				{
					RuleID: "kw-test-token", Level: "error", Fingerprint: "5d41402abc4b2a76b9719d911017c592",
					Locations: []loc{{URI: "config/app.env", Base: "%SRCROOT%", ID: -1,
						Region: &sarifRegionT{StartLine: 3, StartColumn: 14, EndLine: 3, EndColumn: 51}}},
					Related: []loc{
						{URI: "deploy/read%20me%20%C3%BC.env", Base: "%SRCROOT%", ID: 1, Msg: "Also found in 9e8d7c6:deploy/read me ü.env:10",
							Region: &sarifRegionT{StartLine: 10, StartColumn: 1, EndLine: 10, EndColumn: 38}},
						{URI: "docs/setup.md", Base: "%SRCROOT%", ID: 2, Msg: "Also found in 7b7b7b7:docs/setup.md:42",
							Region: &sarifRegionT{StartLine: 42, StartColumn: 5, EndLine: 43, EndColumn: 11}},
					},
					Commit: "4f6c1e2a9b8d7c6e5f4a3b2c1d0e9f8a7b6c5d4e", NumLocs: 3,
				},
				{
					RuleID: "kw-test-password", Level: "error", Fingerprint: "7d793037a0760186574b0282f2f435e7",
					Locations: []loc{{URI: "scripts/deploy.sh", Base: "%SRCROOT%", ID: -1,
						Region: &sarifRegionT{StartLine: 7, StartColumn: 12, EndLine: 7, EndColumn: 25}}},
					Related: []loc{},
					Commit:  "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d", NumLocs: 1,
				},
				{
					RuleID: "kw-test-token", Level: "error", Fingerprint: "098f6bcd4621d373cade4e832627b4f6",
					Locations: []loc{{URI: "config/old.env", Base: "%SRCROOT%", ID: -1,
						Region: &sarifRegionT{StartLine: 1, StartColumn: 7, EndLine: 1, EndColumn: 44}}},
					Related: []loc{},
					Commit:  "4f6c1e2a9b8d7c6e5f4a3b2c1d0e9f8a7b6c5d4e", NumLocs: 1,
				},
			},
		},
		{
			name: "dir-findings",
			res:  dirResult(),
			want: []result{
				{
					RuleID: "kw-test-generic", Level: "warning", Fingerprint: "e2fc714c4727ee9395f324cd2e7f331f",
					Locations: []loc{{URI: "src/settings.py", Base: "%SRCROOT%", ID: -1,
						Region: &sarifRegionT{StartLine: 5, StartColumn: 12, EndLine: 5, EndColumn: 54}}},
					Related: []loc{{URI: "src/settings_test.py", Base: "%SRCROOT%", ID: 1, Msg: "Also found in src/settings_test.py:9",
						Region: &sarifRegionT{StartLine: 9, StartColumn: 1, EndLine: 9, EndColumn: 43}}},
					NumLocs: 2,
				},
				{
					RuleID: "kw-test-keyfile", Level: "note", Fingerprint: "ad0234829205b9033196ba818f7a872b",
					Locations: []loc{{URI: "keys/id_test", Base: "%SRCROOT%", ID: -1}},
					Related:   []loc{},
					NumLocs:   1,
				},
			},
		},
	}
	conv := func(ls []sarifLocT) []loc {
		out := []loc{}
		for _, l := range ls {
			out = append(out, loc{
				URI: l.PhysicalLocation.ArtifactLocation.URI, Base: l.PhysicalLocation.ArtifactLocation.URIBaseID,
				Region: l.PhysicalLocation.Region, ID: l.ID, Msg: l.Message.Text,
			})
		}
		return out
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := readSARIF(t, tt.res).Runs[0]
			got := []result{}
			for i, r := range run.Results {
				if r.RuleIndex < 0 || r.RuleIndex >= len(run.Tool.Driver.Rules) {
					t.Fatalf("result %d: ruleIndex %d out of range", i, r.RuleIndex)
				}
				if id := run.Tool.Driver.Rules[r.RuleIndex].ID; id != r.RuleID {
					t.Errorf("result %d: ruleIndex %d points at %s, want %s", i, r.RuleIndex, id, r.RuleID)
				}
				f := tt.res.Findings[i]
				for _, want := range []string{f.Description, f.Redacted()} {
					if !strings.Contains(r.Message.Text, want) {
						t.Errorf("result %d: message %q lacks %q", i, r.Message.Text, want)
					}
				}
				commit, _ := r.Properties["commit"].(string)
				numLocs, _ := r.Properties["locations"].(float64)
				got = append(got, result{
					RuleID: r.RuleID, Level: r.Level, Fingerprint: r.PartialFingerprints[SARIFFingerprintKey],
					Locations: conv(r.Locations), Related: conv(r.RelatedLocations), Commit: commit, NumLocs: numLocs,
				})
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("results (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSARIFRuleIndexAfterDedupe(t *testing.T) {
	// Findings whose rules sort in the opposite order to the findings still point at their own rule.
	res := gitResult()
	res.Findings[0], res.Findings[1] = res.Findings[1], res.Findings[0]
	run := readSARIF(t, res).Runs[0]
	var got []int
	for _, r := range run.Results {
		got = append(got, r.RuleIndex)
	}
	if diff := cmp.Diff([]int{0, 1, 1}, got); diff != "" {
		t.Errorf("ruleIndex (-want +got):\n%s", diff)
	}
}

func TestSARIFRoot(t *testing.T) {
	tests := []struct {
		name    string
		target  string
		root    string
		wantURI string
	}{
		{"absolute", "/srv/project", "", "file:///srv/project/"},
		{"absolute with slash", "/srv/project/", "", "file:///srv/project/"},
		{"absolute with space", "/srv/my project", "", "file:///srv/my%20project/"},
		{"relative", ".", "", ""},
		{"relative with root", ".", "/home/dev/app", "file:///home/dev/app/"},
		{"url", "https://example.invalid/repo.git", "", ""},
		{"windows", `C:\work\repo`, "", "file:///C:/work/repo/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := emptyResult()
			res.Target, res.Root = tt.target, tt.root
			root := readSARIF(t, res).Runs[0].OriginalURIBaseIDs["%SRCROOT%"]
			var got struct {
				URI         string    `json:"uri"`
				Description sarifText `json:"description"`
			}
			if err := json.Unmarshal(root, &got); err != nil {
				t.Fatal(err)
			}
			if got.URI != tt.wantURI {
				t.Errorf("%%SRCROOT%% uri = %q, want %q", got.URI, tt.wantURI)
			}
			if !strings.Contains(got.Description.Text, strconv.Quote(tt.target)) {
				t.Errorf("%%SRCROOT%% description %q does not name %q", got.Description.Text, tt.target)
			}
			if err := validateSARIF(t, render(t, SARIF{}, res)); err != nil {
				t.Errorf("invalid SARIF: %v", err)
			}
		})
	}
}

func TestArtifactURI(t *testing.T) {
	tests := []struct {
		name    string
		path    string
		root    string
		wantURI string
		wantRel bool
	}{
		{"plain", "src/a.go", "", "src/a.go", true},
		{"dot slash", "./src/a.go", "", "src/a.go", true},
		{"space and unicode", "a b/ü.txt", "", "a%20b/%C3%BC.txt", true},
		{"hash and percent", "a#b%c.txt", "", "a%23b%25c.txt", true},
		{"colon in first segment", "c:d.txt", "", "./c:d.txt", true},
		{"archive member", "dist.zip!inner/key.pem", "", "dist.zip%21inner/key.pem", true},
		{"backslashes", `src\win.txt`, "", "src/win.txt", true},
		{"absolute", "/etc/app.env", "", "file:///etc/app.env", false},
		{"absolute under root", "/srv/app/etc/app.env", "/srv/app", "etc/app.env", true},
		{"absolute under filesystem root", "/etc/app.env", "/", "etc/app.env", true},
		{"the root itself", "/srv/app", "/srv/app", "file:///srv/app", false},
		{"windows drive", `C:\keys\a.pem`, "", "file:///C:/keys/a.pem", false},
		{"empty", "", "", "", true},
		{"dot", "./", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			uri, rel := artifactURI(tt.path, tt.root)
			if uri != tt.wantURI || rel != tt.wantRel {
				t.Errorf("artifactURI(%q, %q) = %q, %v; want %q, %v", tt.path, tt.root, uri, rel, tt.wantURI, tt.wantRel)
			}
		})
	}
}

// TestSARIFInfo checks that an info finding (an encrypted credential store) is a note, with no
// security severity, so code scanning does not rank it among security alerts.
func TestSARIFInfo(t *testing.T) {
	ri := rules.RuleInfo{ID: "ansible-vault", Description: "Ansible Vault encrypted file", Severity: "info", Kind: "encrypted-store", Tags: []string{"encrypted-store"}}
	res := &Result{
		Tool: testTool, Source: "dir", Target: "/srv/project", Started: testStarted,
		Findings: []scanner.Finding{{
			RuleID: ri.ID, Description: ri.Description, Severity: "info", Kind: ri.Kind,
			Secret: strings.Repeat("6231", 10), Fingerprint: strings.Repeat("0f", 16), // split: keywarden scans itself
			Locations: []scanner.Location{{Source: "dir", Path: "group_vars/vault.yml", Line: 1, Column: 1, EndLine: 2, EndColumn: 80}},
		}},
		Rules: map[string]rules.RuleInfo{ri.ID: ri},
	}
	out := render(t, SARIF{}, res)
	if err := validateSARIF(t, out); err != nil {
		t.Fatal(err)
	}
	run := decodeSARIF(t, out).Runs[0]
	if len(run.Tool.Driver.Rules) != 1 || len(run.Results) != 1 {
		t.Fatalf("%d rules and %d results, want 1 and 1", len(run.Tool.Driver.Rules), len(run.Results))
	}
	if sev, ok := run.Tool.Driver.Rules[0].Properties["security-severity"]; ok {
		t.Errorf("info rule has security-severity %v", sev)
	}
	if got := run.Results[0].Level; got != "note" {
		t.Errorf("level = %q, want note", got)
	}
}
