package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/rules"
	"github.com/keywarden/keywarden/scanner"
)

var update = flag.Bool("update", false, "rewrite golden files")

// Fixture secrets are obviously fake so that no scanner, ours included, mistakes them for real
// credentials.
const (
	secretTokenA   = "kw_test_0123456789abcdef_not_a_secret"
	secretTokenB   = "kw_test_fedcba9876543210_not_a_secret"
	secretPassword = "pw_fake_12345"
	secretGeneric  = "generic_fake_value_0123456789_not_a_secret"
)

var (
	testTool    = Tool{Name: "keywarden", Version: "0.0.0-test", InformationURI: "https://github.com/keywarden/keywarden"}
	testStarted = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	plusOne     = time.FixedZone("", 3600)

	ruleToken = rules.RuleInfo{ID: "kw-test-token", Description: "keywarden test token", Severity: "critical",
		Tags: []string{"test", "token"}, Regex: `kw_test_[0-9a-f]{16}_not_a_secret`, Keywords: []string{"kw_test_"}}
	rulePassword = rules.RuleInfo{ID: "kw-test-password", Description: "Test password assignment", Severity: "high",
		Tags: []string{"password"}, Regex: `pw_fake_[0-9]+`, Keywords: []string{"pw_fake_"}}
	ruleGeneric = rules.RuleInfo{ID: "kw-test-generic", Description: "Generic high-entropy test value", Severity: "medium",
		Tags: []string{"generic"}, Regex: `generic_fake_[a-z0-9_]+`, Keywords: []string{"generic_fake"}}
	ruleUnused = rules.RuleInfo{ID: "kw-unused", Description: "A rule no finding names", Severity: "low"}
)

// testCase names a fixture scan result.
type testCase struct {
	name string
	res  func() *Result
}

var testCases = []testCase{
	{"empty", emptyResult},
	{"git-multi-location", gitResult},
	{"dir-findings", dirResult},
}

func emptyResult() *Result {
	return &Result{
		Tool:   testTool,
		Source: "dir",
		Target: "testdata/empty",
		Rules:  map[string]rules.RuleInfo{ruleUnused.ID: ruleUnused, ruleToken.ID: ruleToken},
	}
}

// gitResult has one finding at 3 places across commits, one of another rule, and a second
// finding of the first rule, so that the SARIF rule list must dedupe.
func gitResult() *Result {
	return &Result{
		Tool:    testTool,
		Source:  "git",
		Target:  ".",
		Started: testStarted,
		Findings: []scanner.Finding{
			{
				RuleID: ruleToken.ID, Description: ruleToken.Description, Severity: "critical",
				Secret: secretTokenA, Fingerprint: "5d41402abc4b2a76b9719d911017c592", Entropy: 4.25,
				Tags: []string{"test", "token"},
				Locations: []scanner.Location{
					{Source: "git", Path: "config/app.env", Line: 3, Column: 14, EndLine: 3, EndColumn: 50,
						Commit: "4f6c1e2a9b8d7c6e5f4a3b2c1d0e9f8a7b6c5d4e", Author: "Alice Example",
						Email: "alice@example.invalid", Date: time.Date(2024, 3, 1, 10, 0, 0, 0, plusOne),
						Message: "Add app config"},
					{Source: "git", Path: "deploy/read me ü.env", Line: 10, Column: 1, EndLine: 10, EndColumn: 37,
						Commit: "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d", Author: "Bob Example",
						Email: "bob@example.invalid", Date: time.Date(2024, 4, 2, 11, 30, 0, 0, time.UTC),
						Message: "Copy config to deploy"},
					{Source: "git", Path: "docs/setup.md", Line: 42, Column: 5, EndLine: 43, EndColumn: 10,
						Commit: "7b7b7b7b1c1c1c1c2d2d2d2d3e3e3e3e4f4f4f4f", Author: "Carol Example",
						Email: "carol@example.invalid", Date: time.Date(2024, 5, 3, 12, 0, 0, 0, time.UTC),
						Message: "Document setup"},
				},
			},
			{
				RuleID: rulePassword.ID, Description: rulePassword.Description, Severity: "high",
				Secret: secretPassword, Fingerprint: "7d793037a0760186574b0282f2f435e7", Entropy: 3.1,
				Tags: []string{"password"},
				Locations: []scanner.Location{
					{Source: "git", Path: "scripts/deploy.sh", Line: 7, Column: 12, EndLine: 7, EndColumn: 24,
						Commit: "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d", Author: "Bob Example",
						Email: "bob@example.invalid", Date: time.Date(2024, 4, 2, 11, 30, 0, 0, time.UTC),
						Message: "Copy config to deploy"},
				},
			},
			{
				RuleID: ruleToken.ID, Description: ruleToken.Description, Severity: "critical",
				Secret: secretTokenB, Fingerprint: "098f6bcd4621d373cade4e832627b4f6", Entropy: 4.25,
				Tags: []string{"test", "token", "decoded:base64"},
				Locations: []scanner.Location{
					{Source: "git", Path: "config/old.env", Line: 1, Column: 7, EndLine: 1, EndColumn: 43,
						Commit: "4f6c1e2a9b8d7c6e5f4a3b2c1d0e9f8a7b6c5d4e", Author: "Alice Example",
						Email: "alice@example.invalid", Date: time.Date(2024, 3, 1, 10, 0, 0, 0, plusOne),
						Message: "Add app config"},
				},
			},
		},
		Stats: scanner.Stats{Blobs: 1234, Bytes: 47815065, ScannedBytes: 1048576, Skipped: 4, Commits: 56,
			Duration: 2300 * time.Millisecond},
		Skipped: []scanner.SkippedBlob{
			{Path: "vendor/big.bin", Reason: "too-large", Size: 104857600},
			{Path: "assets/logo.png", Reason: "binary", Size: 2048},
		},
		Rules: map[string]rules.RuleInfo{
			ruleToken.ID: ruleToken, rulePassword.ID: rulePassword, ruleUnused.ID: ruleUnused,
			ruleGeneric.ID: ruleGeneric,
		},
	}
}

// dirResult has findings in a directory scan, one at two places and one from a path-only rule
// (no secret, no line) that the Rules map does not describe.
func dirResult() *Result {
	return &Result{
		Tool:    testTool,
		Source:  "dir",
		Target:  "/srv/project",
		Started: testStarted,
		Findings: []scanner.Finding{
			{
				RuleID: ruleGeneric.ID, Description: ruleGeneric.Description, Severity: "medium",
				Secret: secretGeneric, Fingerprint: "e2fc714c4727ee9395f324cd2e7f331f", Entropy: 4.5,
				Tags: []string{"generic"},
				Locations: []scanner.Location{
					{Source: "dir", Path: "src/settings.py", Line: 5, Column: 12, EndLine: 5, EndColumn: 53},
					{Source: "dir", Path: "src/settings_test.py", Line: 9, Column: 1, EndLine: 9, EndColumn: 42},
				},
			},
			{
				RuleID: "kw-test-keyfile", Description: "Test private key file", Severity: "low",
				Fingerprint: "ad0234829205b9033196ba818f7a872b",
				Locations:   []scanner.Location{{Source: "dir", Path: "keys/id_test"}},
			},
		},
		Stats: scanner.Stats{Blobs: 12, Bytes: 20480, ScannedBytes: 20480, Duration: 150 * time.Millisecond},
		Rules: map[string]rules.RuleInfo{ruleGeneric.ID: ruleGeneric, ruleUnused.ID: ruleUnused},
	}
}

// formats are the writers under test with their golden file extensions.
var formats = []struct {
	name string
	ext  string
	w    Writer
}{
	{"text", "txt", Text{}},
	{"json", "json", JSON{}},
	{"sarif", "sarif", SARIF{}},
	{"csv", "csv", CSV{}},
}

func render(t *testing.T, w Writer, res *Result) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := w.Write(&buf, res); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return buf.Bytes()
}

// checkGolden compares got with testdata/golden/report/name, or rewrites it under -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("..", "testdata", "golden", "report", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("updating golden file: %v", err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run with -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

func TestGolden(t *testing.T) {
	for _, tc := range testCases {
		for _, f := range formats {
			t.Run(tc.name+"/"+f.name, func(t *testing.T) {
				got := render(t, f.w, tc.res())
				checkGolden(t, tc.name+"."+f.ext, got)
				// The same result renders the same bytes again (no unsorted map iteration).
				for range 3 {
					if again := render(t, f.w, tc.res()); !bytes.Equal(again, got) {
						t.Fatalf("second rendering differs:\n%s", cmp.Diff(string(got), string(again)))
					}
				}
			})
		}
	}
}

// hiddenPart returns the pieces of a secret that its redacted form must not show: the whole
// secret and every 8-rune window after the prefix Redact keeps.
func hiddenPart(secret string) []string {
	out := []string{secret}
	r := []rune(secret)
	keep := utf8.RuneCountInString(strings.TrimSuffix(scanner.Redact(secret), "…"))
	for i := keep; i+8 <= len(r); i++ {
		out = append(out, string(r[i:i+8]))
	}
	return out
}

func TestSecretsRedacted(t *testing.T) {
	for _, tc := range testCases {
		for _, f := range formats {
			for _, show := range []bool{false, true} {
				name := tc.name + "/" + f.name + "/redacted"
				if show {
					name = tc.name + "/" + f.name + "/shown"
				}
				t.Run(name, func(t *testing.T) {
					res := tc.res()
					res.ShowSecrets = show
					out := string(render(t, f.w, res))
					for _, fi := range res.Findings {
						if fi.Secret == "" {
							continue
						}
						if show {
							if !strings.Contains(out, fi.Secret) {
								t.Errorf("output lacks the raw secret %q although ShowSecrets is set", fi.Secret)
							}
							continue
						}
						for _, p := range hiddenPart(fi.Secret) {
							if strings.Contains(out, p) {
								t.Errorf("output shows %q of secret %q without ShowSecrets", p, fi.Secret)
							}
						}
						if !strings.Contains(out, fi.Redacted()) {
							t.Errorf("output lacks the redacted secret %q", fi.Redacted())
						}
					}
				})
			}
		}
	}
}

func TestHiddenPartCatchesLeaks(t *testing.T) {
	// The leak check itself must be able to fail: a suffix of the secret counts as a leak.
	tests := []struct {
		name string
		out  string
		leak bool
	}{
		{"redacted", "secret " + scanner.Redact(secretTokenA), false},
		{"whole", "secret " + secretTokenA, true},
		{"suffix", "secret …" + secretTokenA[20:], true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leak := false
			for _, p := range hiddenPart(secretTokenA) {
				leak = leak || strings.Contains(tt.out, p)
			}
			if leak != tt.leak {
				t.Errorf("leak = %v, want %v", leak, tt.leak)
			}
		})
	}
}

func TestByName(t *testing.T) {
	tests := []struct {
		name    string
		want    Writer
		wantErr bool
	}{
		{"text", Text{}, false},
		{"json", JSON{}, false},
		{"sarif", SARIF{}, false},
		{"csv", CSV{}, false},
		{"brief", Brief{}, false},
		{"html", HTML{}, false},
		{"xml", nil, true},
		{"", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ByName(tt.name)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ByName(%q) error = %v, wantErr %v", tt.name, err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ByName(%q) (-want +got):\n%s", tt.name, diff)
			}
		})
	}
}

func TestUsedRules(t *testing.T) {
	tests := []struct {
		name string
		res  *Result
		want []string
	}{
		{"empty", emptyResult(), nil},
		{"git deduped and sorted", gitResult(), []string{"kw-test-password", "kw-test-token"}},
		{"dir with a rule missing from Rules", dirResult(), []string{"kw-test-generic", "kw-test-keyfile"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			all := make([]int, len(tt.res.Findings))
			for i := range all {
				all[i] = i
			}
			for _, ri := range tt.res.rulesOf(all) {
				got = append(got, ri.ID)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("rulesOf (-want +got):\n%s", diff)
			}
		})
	}
}
