package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestJSONRoundTrip(t *testing.T) {
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			res := tc.res()
			out := render(t, JSON{}, res)
			rep, err := ReadJSON(bytes.NewReader(out))
			if err != nil {
				t.Fatalf("ReadJSON: %v", err)
			}
			// Writing what was read gives the same bytes: ReadJSON keeps every field.
			var again bytes.Buffer
			enc := json.NewEncoder(&again)
			enc.SetIndent("", "  ")
			enc.SetEscapeHTML(false)
			if err := enc.Encode(rep); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(out), again.String()); diff != "" {
				t.Errorf("re-encoded report differs (-written +re-encoded):\n%s", diff)
			}
			if got, want := len(rep.Findings), len(res.Findings); got != want {
				t.Errorf("read %d findings, want %d", got, want)
			}
			for i, f := range res.Findings {
				if got, want := rep.Findings[i].Secret, f.Redacted(); got != want {
					t.Errorf("finding %d secret = %q, want the redacted %q", i, got, want)
				}
				if got, want := len(rep.Findings[i].Locations), len(f.Locations); got != want {
					t.Errorf("finding %d has %d locations, want %d", i, got, want)
				}
				for j, l := range f.Locations {
					if got := rep.Findings[i].Locations[j].Date; !got.Equal(l.Date) {
						t.Errorf("finding %d location %d date = %v, want %v", i, j, got, l.Date)
					}
				}
			}
		})
	}
}

func TestJSONFields(t *testing.T) {
	rep, err := ReadJSON(bytes.NewReader(render(t, JSON{}, dirResult())))
	if err != nil {
		t.Fatalf("ReadJSON: %v", err)
	}
	want := &JSONReport{
		SchemaVersion: 1,
		Tool:          JSONTool{Name: "keywarden", Version: "0.0.0-test", InformationURI: "https://github.com/keywarden/keywarden"},
		Scan:          JSONScan{Source: "dir", Target: "/srv/project", Started: testStarted},
		Findings: []JSONFinding{
			{
				RuleID: "kw-test-generic", Description: "Generic high-entropy test value", Severity: "medium",
				Secret: "gene…", Fingerprint: "e2fc714c4727ee9395f324cd2e7f331f", Entropy: 4.5, Tags: []string{"generic"},
				Locations: []JSONLocation{
					{Source: "dir", Path: "src/settings.py", Line: 5, Column: 12, EndLine: 5, EndColumn: 53},
					{Source: "dir", Path: "src/settings_test.py", Line: 9, Column: 1, EndLine: 9, EndColumn: 42},
				},
			},
			{
				RuleID: "kw-test-keyfile", Description: "Test private key file", Severity: "low", Secret: "…",
				Fingerprint: "ad0234829205b9033196ba818f7a872b", Tags: []string{},
				Locations: []JSONLocation{{Source: "dir", Path: "keys/id_test"}},
			},
		},
		Stats:   JSONStats{Blobs: 12, Bytes: 20480, ScannedBytes: 20480, DurationMS: 150},
		Skipped: []JSONSkipped{},
	}
	if diff := cmp.Diff(want, rep); diff != "" {
		t.Errorf("ReadJSON (-want +got):\n%s", diff)
	}
}

func TestJSONShape(t *testing.T) {
	tests := []struct {
		name string
		res  *Result
		// keys that must and must not be in the first location object (if any)
		locHas, locLacks []string
	}{
		{name: "empty", res: emptyResult()},
		{name: "git", res: gitResult(),
			locHas: []string{"source", "path", "line", "column", "end_line", "end_column", "commit", "author", "email", "date", "message"}},
		{name: "dir", res: dirResult(),
			locHas:   []string{"source", "path", "line", "column", "end_line", "end_column"},
			locLacks: []string{"commit", "author", "email", "date", "message"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := render(t, JSON{}, tt.res)
			if bytes.Contains(out, []byte("null")) {
				t.Errorf("output has a null:\n%s", out)
			}
			var raw struct {
				SchemaVersion *int `json:"schema_version"`
				Findings      []struct {
					Tags      []string         `json:"tags"`
					Locations []map[string]any `json:"locations"`
				} `json:"findings"`
				Stats   map[string]any `json:"stats"`
				Skipped []any          `json:"skipped"`
			}
			if err := json.Unmarshal(out, &raw); err != nil {
				t.Fatal(err)
			}
			if raw.SchemaVersion == nil || *raw.SchemaVersion != 1 {
				t.Errorf("schema_version = %v, want 1", raw.SchemaVersion)
			}
			if raw.Findings == nil || raw.Skipped == nil {
				t.Errorf("findings or skipped missing: %s", out)
			}
			var statKeys []string
			for _, k := range []string{"blobs", "bytes", "scanned_bytes", "skipped", "commits", "duration_ms"} {
				if _, ok := raw.Stats[k]; ok {
					statKeys = append(statKeys, k)
				}
			}
			if diff := cmp.Diff([]string{"blobs", "bytes", "scanned_bytes", "skipped", "commits", "duration_ms"}, statKeys); diff != "" {
				t.Errorf("stats keys (-want +got):\n%s", diff)
			}
			if len(raw.Findings) == 0 {
				return
			}
			loc := raw.Findings[0].Locations[0]
			for _, k := range tt.locHas {
				if _, ok := loc[k]; !ok {
					t.Errorf("location lacks %q: %v", k, loc)
				}
			}
			for _, k := range tt.locLacks {
				if _, ok := loc[k]; ok {
					t.Errorf("location has %q: %v", k, loc)
				}
			}
		})
	}
}

func TestReadJSONErrors(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr string
	}{
		{"not JSON", "kw_test_leaky_content_not_a_secret", "invalid JSON at byte 1"},
		{"truncated", `{"schema_version": 1, "findings": [`, "unexpected end of JSON input"},
		{"no schema_version", `{"findings": []}`, "no schema_version"},
		{"future schema_version", `{"schema_version": 2}`, "unsupported schema_version 2"},
		{"wrong type", `{"schema_version": 1, "findings": [{"line": "x", "rule_id": 12345}]}`, `field "findings.rule_id": want a JSON string, have a JSON number`},
		{"trailing data", `{"schema_version": 1} {"schema_version": 1}`, "unexpected data after the report"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadJSON(strings.NewReader(tt.in))
			if err == nil {
				t.Fatalf("ReadJSON(%q) succeeded, want an error", tt.in)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not contain %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "leaky") || strings.Contains(err.Error(), "12345") {
				t.Errorf("error %q quotes the input", err)
			}
		})
	}
}

func TestReadBaseline(t *testing.T) {
	keywardenReport := string(render(t, JSON{}, gitResult()))
	tests := []struct {
		name    string
		content string
		want    Baseline
		wantErr string
	}{
		{
			name:    "keywarden report",
			content: keywardenReport,
			want: Baseline{
				Fingerprints: map[string]bool{
					"5d41402abc4b2a76b9719d911017c592": true,
					"7d793037a0760186574b0282f2f435e7": true,
					"098f6bcd4621d373cade4e832627b4f6": true,
				},
				Locations: map[string]bool{},
			},
		},
		{
			name:    "empty keywarden report",
			content: string(render(t, JSON{}, emptyResult())),
			want:    Baseline{Fingerprints: map[string]bool{}, Locations: map[string]bool{}},
		},
		{
			name: "gitleaks report",
			content: `[
  {"Description": "AWS", "StartLine": 3, "EndLine": 3, "StartColumn": 1, "EndColumn": 20, "Match": "x",
   "Secret": "kw_test_leaky_content_not_a_secret", "File": "config/app.env", "Commit": "4f6c1e2a9b8d7c6e5f4a3b2c1d0e9f8a7b6c5d4e",
   "RuleID": "aws-access-token", "Fingerprint": "4f6c1e2a9b8d7c6e5f4a3b2c1d0e9f8a7b6c5d4e:config/app.env:aws-access-token:3"},
  {"File": "src\\win.txt", "Commit": "", "RuleID": "generic-api-key", "StartLine": 12}
]`,
			want: Baseline{
				Fingerprints: map[string]bool{},
				Locations: map[string]bool{
					"4f6c1e2a9b8d7c6e5f4a3b2c1d0e9f8a7b6c5d4e:config/app.env:aws-access-token:3": true,
					"src/win.txt:generic-api-key:12":                                             true,
				},
			},
		},
		{
			name:    "empty gitleaks report",
			content: "[]\n",
			want:    Baseline{Fingerprints: map[string]bool{}, Locations: map[string]bool{}},
		},
		{name: "not JSON", content: "kw_test_leaky_content_not_a_secret", wantErr: "not a keywarden or gitleaks JSON report"},
		{name: "bad JSON", content: `{"schema_version": 1, "findings": [kw_test_leaky_content_not_a_secret]}`, wantErr: "invalid JSON at byte"},
		{name: "empty file", content: " \n", wantErr: "file is empty"},
		{name: "other JSON object", content: `{"secret": "kw_test_leaky_content_not_a_secret"}`, wantErr: "no schema_version"},
		{name: "gitleaks entry without rule", content: `[{"File": "kw_test_leaky_content_not_a_secret", "StartLine": 1}]`, wantErr: "entry 1: want RuleID, File and StartLine"},
		{name: "array of strings", content: `["kw_test_leaky_content_not_a_secret"]`, wantErr: "want a JSON object, have a JSON string"},
		{name: "finding without fingerprint", content: `{"schema_version": 1, "findings": [{"rule_id": "x"}]}`, wantErr: "finding 1 has no fingerprint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "baseline.json")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := ReadBaseline(path)
			if tt.wantErr != "" {
				checkBaselineErr(t, path, err, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatalf("ReadBaseline: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ReadBaseline (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadBaselineMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing.json")
	_, err := ReadBaseline(path)
	checkBaselineErr(t, path, err, "no such file or directory")
}

func checkBaselineErr(t *testing.T, path string, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("ReadBaseline succeeded, want an error containing %q", want)
	}
	msg := err.Error()
	if prefix := `reading baseline "` + path + `": `; !strings.HasPrefix(msg, prefix) {
		t.Errorf("error %q does not start with %q", msg, prefix)
	}
	if !strings.Contains(msg, want) {
		t.Errorf("error %q does not contain %q", msg, want)
	}
	if strings.Count(msg, path) != 1 {
		t.Errorf("error %q names the path more than once", msg)
	}
	if strings.Contains(msg, "\n") || strings.Contains(msg, "leaky") {
		t.Errorf("error %q is not one line or quotes the file", msg)
	}
}

func TestJSONStartedOmittedWhenZero(t *testing.T) {
	tests := []struct {
		name    string
		started time.Time
		want    bool
	}{
		{"zero", time.Time{}, false},
		{"set", testStarted, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := emptyResult()
			res.Started = tt.started
			got := bytes.Contains(render(t, JSON{}, res), []byte(`"started"`))
			if got != tt.want {
				t.Errorf("has started = %v, want %v", got, tt.want)
			}
		})
	}
}
