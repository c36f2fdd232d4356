package report

import (
	"bytes"
	"encoding/csv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/scanner"
)

func readCSV(t *testing.T, res *Result) [][]string {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(render(t, CSV{}, res))).ReadAll()
	if err != nil {
		t.Fatalf("reading CSV output: %v", err)
	}
	return rows
}

func TestCSVRows(t *testing.T) {
	tests := []struct {
		name      string
		res       *Result
		wantRows  int
		wantFirst []string
	}{
		{name: "empty", res: emptyResult(), wantRows: 0},
		{
			name: "git-multi-location", res: gitResult(), wantRows: 5, // 3 + 1 + 1 locations
			wantFirst: []string{"kw-test-token", "critical", "kw_t…", "5d41402abc4b2a76b9719d911017c592", "git",
				"config/app.env", "3", "14", "3", "50", "4f6c1e2a9b8d7c6e5f4a3b2c1d0e9f8a7b6c5d4e", "Alice Example",
				"alice@example.invalid", "2024-03-01T10:00:00+01:00", "Add app config", "", "", "", "", "", "", "",
				"", "", "", ""},
		},
		{
			name: "dir-findings", res: dirResult(), wantRows: 3,
			wantFirst: []string{"kw-test-generic", "medium", "gene…", "e2fc714c4727ee9395f324cd2e7f331f", "dir",
				"src/settings.py", "5", "12", "5", "53", "", "", "", "", "", "", "", "", "", "", "", "",
				"", "", "", ""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows := readCSV(t, tt.res)
			if diff := cmp.Diff(CSVHeader, rows[0]); diff != "" {
				t.Errorf("header (-want +got):\n%s", diff)
			}
			if got := len(rows) - 1; got != tt.wantRows {
				t.Errorf("got %d rows, want %d", got, tt.wantRows)
			}
			if tt.wantFirst != nil {
				if diff := cmp.Diff(tt.wantFirst, rows[1]); diff != "" {
					t.Errorf("first row (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestCSVFindingWithoutLocations(t *testing.T) {
	res := emptyResult()
	res.Findings = []scanner.Finding{{RuleID: "kw-test-token", Severity: "low", Secret: secretTokenA, Fingerprint: "ab"}}
	rows := readCSV(t, res)
	want := [][]string{CSVHeader, {"kw-test-token", "low", "kw_t…", "ab", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", ""}}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}

func TestCSVFormulaInjection(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"equals", `=HYPERLINK("http://example.invalid","x")`, `'=HYPERLINK("http://example.invalid","x")`},
		{"plus", "+1+1", "'+1+1"},
		{"minus", "-2+3", "'-2+3"},
		{"at", "@SUM(A1)", "'@SUM(A1)"},
		{"tab", "\t=1", "'\t=1"},
		{"carriage return", "\r=1", "'\r=1"},
		{"equals inside", "a=b", "a=b"},
		{"plain", "config/app.env", "config/app.env"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := csvSafe(tt.in); got != tt.want {
				t.Errorf("csvSafe(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestCSVFormulaInjectionInReport(t *testing.T) {
	res := emptyResult()
	res.Findings = []scanner.Finding{{
		RuleID: "-rule", Severity: "high", Secret: "=kw_test_formula_value_not_a_secret", Fingerprint: "ab",
		Locations: []scanner.Location{{
			Source: "git", Path: "@evil.csv", Line: 1, Column: 1, EndLine: 1, EndColumn: 3,
			Commit: "abc", Author: "+Mallory", Email: "=cmd|' /C calc'!A0", Message: "-2+3",
			Image: "=HYPERLINK(\"x\")", Layer: 2,
		}},
	}}
	tests := []struct {
		name string
		show bool
		want []string
	}{
		{"redacted", false, []string{"'-rule", "high", "'=kw_…", "ab", "git", "'@evil.csv", "1", "1", "1", "3", "abc",
			"'+Mallory", "'=cmd|' /C calc'!A0", "", "'-2+3", "'=HYPERLINK(\"x\")", "", "2", "", "", "", "",
			"", "", "", ""}},
		{"shown", true, []string{"'-rule", "high", "'=kw_test_formula_value_not_a_secret", "ab", "git", "'@evil.csv", "1", "1",
			"1", "3", "abc", "'+Mallory", "'=cmd|' /C calc'!A0", "", "'-2+3", "'=HYPERLINK(\"x\")", "", "2", "", "", "", "",
			"", "", "", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res.ShowSecrets = tt.show
			rows := readCSV(t, res)
			if diff := cmp.Diff(tt.want, rows[1]); diff != "" {
				t.Errorf("row (-want +got):\n%s", diff)
			}
		})
	}
}
