package report

// What GitHub code scanning needs beyond a schema-valid log: stable rule IDs and fingerprints,
// paths relative to the repository, regions it can place, and logs within its upload limits.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/rules"
	"github.com/keywarden/keywarden/scanner"
)

// checkRuleIndexes checks that each result's ruleIndex points at the rule it names.
func checkRuleIndexes(t *testing.T, log sarifLog) {
	t.Helper()
	run := log.Runs[0]
	for i, r := range run.Results {
		if r.RuleIndex < 0 || r.RuleIndex >= len(run.Tool.Driver.Rules) {
			t.Fatalf("result %d: ruleIndex %d out of range (%d rules)", i, r.RuleIndex, len(run.Tool.Driver.Rules))
		}
		if id := run.Tool.Driver.Rules[r.RuleIndex].ID; id != r.RuleID {
			t.Errorf("result %d: ruleIndex %d points at %s, want %s", i, r.RuleIndex, id, r.RuleID)
		}
	}
}

// rawRules returns each rule entry of a log as JSON, by rule ID.
func rawRules(t *testing.T, out []byte) map[string]string {
	t.Helper()
	var log struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Rules []json.RawMessage `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(out, &log); err != nil {
		t.Fatalf("decoding SARIF: %v", err)
	}
	byID := map[string]string{}
	for _, raw := range log.Runs[0].Tool.Driver.Rules {
		var r struct{ ID string }
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatal(err)
		}
		byID[r.ID] = string(raw)
	}
	return byID
}

func TestSARIFStableAcrossRuns(t *testing.T) {
	first := gitResult()
	// A later scan of the same repository: another time, target, root and stats, the findings
	// in another order, one moved to another line, and a new rule that sorts before the others
	// so that every ruleIndex changes.
	second := gitResult()
	second.Started = second.Started.Add(48 * time.Hour)
	second.Target, second.Root = "/home/ci/work/repo", "/home/ci/work/repo"
	second.Stats = scanner.Stats{Blobs: 1, Duration: time.Second}
	slices.Reverse(second.Findings)
	second.Findings[2].Locations = slices.Clone(second.Findings[2].Locations)
	second.Findings[2].Locations[0].Line += 10
	second.Findings = append(second.Findings, scanner.Finding{
		RuleID: "kw-aaa-first", Description: "Sorts before every other rule", Severity: "low",
		Secret: "aaa_fake_secret_value_0000", Fingerprint: "0123456789abcdef0123456789abcdef",
		Locations: []scanner.Location{{Source: "git", Path: "new.txt", Line: 1, Column: 1, EndLine: 1, EndColumn: 26}},
	})

	type seen struct {
		RuleID       string
		Fingerprints map[string]string
	}
	byFingerprint := func(res *Result) (map[string]seen, map[string]int, map[string]string) {
		out := render(t, SARIF{}, res)
		log := decodeSARIF(t, out)
		checkRuleIndexes(t, log)
		got, index := map[string]seen{}, map[string]int{}
		for i, r := range log.Runs[0].Results {
			f := res.Findings[i]
			if diff := cmp.Diff(map[string]string{SARIFFingerprintKey: f.Fingerprint}, r.PartialFingerprints); diff != "" {
				t.Errorf("%s: partialFingerprints are not the finding's fingerprint (-want +got):\n%s", f.RuleID, diff)
			}
			got[f.Fingerprint] = seen{r.RuleID, r.PartialFingerprints}
			index[r.RuleID] = r.RuleIndex
		}
		return got, index, rawRules(t, out)
	}
	got1, index1, rules1 := byFingerprint(first)
	got2, index2, rules2 := byFingerprint(second)
	for fp, s1 := range got1 {
		if diff := cmp.Diff(s1, got2[fp]); diff != "" {
			t.Errorf("finding %s differs between runs (-first +second):\n%s", fp, diff)
		}
	}
	for id, r1 := range rules1 {
		if diff := cmp.Diff(r1, rules2[id]); diff != "" {
			t.Errorf("rule %s differs between runs (-first +second):\n%s", id, diff)
		}
	}
	// The runs really do differ where indexes are concerned, so the checks above mean something.
	if index1["kw-test-token"] == index2["kw-test-token"] {
		t.Errorf("ruleIndex of kw-test-token is %d in both runs; the second run should shift it", index1["kw-test-token"])
	}
}

func TestSARIFOneRunPerScan(t *testing.T) {
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			run := readSARIF(t, tc.res()).Runs[0] // readSARIF fails unless there is exactly one run
			d := run.Tool.Driver
			if diff := cmp.Diff([]string{testTool.Name, testTool.Version, testTool.InformationURI},
				[]string{d.Name, d.Version, d.InformationURI}); diff != "" {
				t.Errorf("tool.driver name, version, informationUri (-want +got):\n%s", diff)
			}
			// upload-sarif fills automationDetails from its category input only when the log has none.
			if run.AutomationDetails != nil {
				t.Errorf("run has automationDetails %s; it would override the workflow's category", run.AutomationDetails)
			}
		})
	}
}

// oneFinding is a scan result with a single finding at loc under root.
func oneFinding(root string, loc scanner.Location) *Result {
	if loc.Source == "" {
		loc.Source = "dir"
	}
	target := root
	if target == "" {
		target = "."
	}
	return &Result{
		Tool: testTool, Source: "dir", Target: target, Root: root,
		Findings: []scanner.Finding{{
			RuleID: ruleGeneric.ID, Description: ruleGeneric.Description, Severity: "medium",
			Secret: secretGeneric, Fingerprint: "e2fc714c4727ee9395f324cd2e7f331f",
			Locations: []scanner.Location{loc},
		}},
		Rules: map[string]rules.RuleInfo{ruleGeneric.ID: ruleGeneric},
	}
}

func TestSARIFArtifactLocations(t *testing.T) {
	tests := []struct {
		name     string
		root     string
		path     string
		wantURI  string
		wantBase bool // relative to %SRCROOT%
	}{
		{"relative", "/srv/project", "src/app.env", "src/app.env", true},
		{"dot slash", "/srv/project", "./src/app.env", "src/app.env", true},
		{"dot segments", "/srv/project", "src/./x/../app.env", "src/app.env", true},
		{"backslashes", "/srv/project", `src\win\app.env`, "src/win/app.env", true},
		{"dot backslash", "/srv/project", `.\src\app.env`, "src/app.env", true},
		{"absolute under root", "/srv/project", "/srv/project/src/app.env", "src/app.env", true},
		{"root with trailing slash", "/srv/project/", "/srv/project/src/app.env", "src/app.env", true},
		{"absolute outside root", "/srv/project", "/etc/app.env", "file:///etc/app.env", false},
		{"sibling sharing a prefix", "/srv/project", "/srv/project-old/app.env", "file:///srv/project-old/app.env", false},
		{"windows absolute under root", `C:\work\repo`, `C:\work\repo\src\app.env`, "src/app.env", true},
		{"windows absolute outside root", `C:\work\repo`, `D:\keys\app.env`, "file:///D:/keys/app.env", false},
		{"space hash percent", "/srv/project", "a dir/#1 100%.env", "a%20dir/%231%20100%25.env", true},
		{"question mark", "/srv/project", "what?.env", "what%3F.env", true},
		{"non-ASCII", "/srv/project", "設定/clé ü.env", "%E8%A8%AD%E5%AE%9A/cl%C3%A9%20%C3%BC.env", true},
		{"no root", "", "/srv/project/app.env", "file:///srv/project/app.env", false},
		{"relative without root", "", "src/app.env", "src/app.env", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := oneFinding(tt.root, scanner.Location{Path: tt.path, Line: 1, Column: 1, EndLine: 1, EndColumn: 3})
			out := render(t, SARIF{}, res)
			if err := validateSARIF(t, out); err != nil {
				t.Fatalf("invalid SARIF: %v", err)
			}
			run := decodeSARIF(t, out).Runs[0]
			art := run.Results[0].Locations[0].PhysicalLocation.ArtifactLocation
			if art.URI != tt.wantURI || (art.URIBaseID == srcRoot) != tt.wantBase {
				t.Fatalf("artifactLocation = %q (uriBaseId %q), want %q (relative to %%SRCROOT%%: %v)",
					art.URI, art.URIBaseID, tt.wantURI, tt.wantBase)
			}
			if !tt.wantBase {
				if art.URIBaseID != "" {
					t.Errorf("absolute URI %q has uriBaseId %q", art.URI, art.URIBaseID)
				}
				return
			}
			// A relative URI must resolve to the file under the root %SRCROOT% names.
			var base struct{ URI string }
			if err := json.Unmarshal(run.OriginalURIBaseIDs[srcRoot], &base); err != nil {
				t.Fatal(err)
			}
			if tt.root == "" {
				if base.URI != "" {
					t.Errorf("%%SRCROOT%% is %q for a scan without a root", base.URI)
				}
				return
			}
			baseURL, err := url.Parse(base.URI)
			if err != nil || !baseURL.IsAbs() || !strings.HasSuffix(base.URI, "/") {
				t.Fatalf("%%SRCROOT%% uri %q is not an absolute directory URI (%v)", base.URI, err)
			}
			ref, err := url.Parse(art.URI)
			if err != nil || ref.IsAbs() {
				t.Fatalf("uri %q is not a relative reference (%v)", art.URI, err)
			}
			resolved := baseURL.ResolveReference(ref)
			wantPath, _ := url.PathUnescape(tt.wantURI)
			if !strings.HasPrefix(resolved.String(), base.URI) || resolved.Path != baseURL.Path+wantPath {
				t.Errorf("uri %q resolves to %q, want %s under %s", art.URI, resolved, wantPath, base.URI)
			}
		})
	}
}

func TestSARIFRegions(t *testing.T) {
	tests := []struct {
		name string
		loc  scanner.Location
		want *sarifRegionT
	}{
		{"one line", scanner.Location{Line: 3, Column: 5, EndLine: 3, EndColumn: 9},
			&sarifRegionT{StartLine: 3, StartColumn: 5, EndLine: 3, EndColumn: 10}},
		{"one character", scanner.Location{Line: 3, Column: 5, EndLine: 3, EndColumn: 5},
			&sarifRegionT{StartLine: 3, StartColumn: 5, EndLine: 3, EndColumn: 6}},
		{"two lines", scanner.Location{Line: 3, Column: 5, EndLine: 4, EndColumn: 2},
			&sarifRegionT{StartLine: 3, StartColumn: 5, EndLine: 4, EndColumn: 3}},
		{"path only", scanner.Location{}, nil},
		{"no line but columns", scanner.Location{Column: 4, EndLine: 2, EndColumn: 9}, nil},
		{"negative line", scanner.Location{Line: -1, Column: 1, EndLine: -1, EndColumn: 2}, nil},
		{"line without columns", scanner.Location{Line: 7}, &sarifRegionT{StartLine: 7, EndLine: 7}},
		{"end line before start", scanner.Location{Line: 7, Column: 2, EndLine: 3, EndColumn: 4},
			&sarifRegionT{StartLine: 7, StartColumn: 2, EndLine: 7, EndColumn: 5}},
		{"end column before start", scanner.Location{Line: 7, Column: 9, EndLine: 7, EndColumn: 3},
			&sarifRegionT{StartLine: 7, StartColumn: 9, EndLine: 7}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.loc.Path = "config/app.env"
			out := render(t, SARIF{}, oneFinding("/srv/project", tt.loc))
			if err := validateSARIF(t, out); err != nil {
				t.Fatalf("invalid SARIF: %v", err)
			}
			got := decodeSARIF(t, out).Runs[0].Results[0].Locations[0].PhysicalLocation.Region
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("region (-want +got):\n%s", diff)
			}
		})
	}
}

// columnSlice returns the text between SARIF columns start and end (exclusive) of line,
// counting columns the way kind says.
func columnSlice(t *testing.T, line string, start, end int, kind string) string {
	t.Helper()
	switch kind {
	case "unicodeCodePoints":
		r := []rune(line)
		if start < 1 || end-1 > len(r) || start > end {
			return fmt.Sprintf("<columns %d-%d out of range>", start, end)
		}
		return string(r[start-1 : end-1])
	case "utf16CodeUnits", "": // SARIF's default
		u := utf16.Encode([]rune(line))
		if start < 1 || end-1 > len(u) || start > end {
			return fmt.Sprintf("<columns %d-%d out of range>", start, end)
		}
		return string(utf16.Decode(u[start-1 : end-1]))
	}
	t.Fatalf("unknown columnKind %q", kind)
	return ""
}

func TestSARIFColumnsNonASCII(t *testing.T) {
	tests := []struct {
		name   string
		line   string
		secret string
		astral bool // code points and UTF-16 code units count differently before the secret's end
	}{
		{"ASCII", `token = "kwfake_0123456789abcdef"`, "kwfake_0123456789abcdef", false},
		{"after CJK", `令牌 = "kwfake_0123456789abcdef" # 注释`, "kwfake_0123456789abcdef", false},
		{"after emoji", `🔑🔑 token: kwfake_0123456789abcdef 🙂`, "kwfake_0123456789abcdef", true},
		{"after CJK and emoji", `# 密钥 😀 -> kwfake_0123456789abcdef # 完`, "kwfake_0123456789abcdef", true},
		{"emoji inside the secret", `pass = "pw😀fake_0123456789"`, "pw😀fake_0123456789", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The scanner's columns: 1-based code points, inclusive end.
			at := strings.Index(tt.line, tt.secret)
			col := utf8.RuneCountInString(tt.line[:at]) + 1
			loc := scanner.Location{Path: "a.env", Line: 2, Column: col, EndLine: 2,
				EndColumn: col + utf8.RuneCountInString(tt.secret) - 1}
			out := render(t, SARIF{}, oneFinding("/srv/project", loc))
			run := decodeSARIF(t, out).Runs[0]
			reg := run.Results[0].Locations[0].PhysicalLocation.Region
			if got := columnSlice(t, tt.line, reg.StartColumn, reg.EndColumn, run.ColumnKind); got != tt.secret {
				t.Errorf("columns %d-%d read as %q (columnKind %q) give %q, want %q",
					reg.StartColumn, reg.EndColumn, tt.line, run.ColumnKind, got, tt.secret)
			}
			// Lines with characters outside the BMP must tell the two column kinds apart, or
			// this test could not notice a log declaring the wrong one.
			other := map[string]string{"unicodeCodePoints": "utf16CodeUnits", "utf16CodeUnits": "unicodeCodePoints", "": "unicodeCodePoints"}[run.ColumnKind]
			if tt.astral && columnSlice(t, tt.line, reg.StartColumn, reg.EndColumn, other) == tt.secret {
				t.Errorf("columns %d-%d give the secret as %s too", reg.StartColumn, reg.EndColumn, other)
			}
		})
	}
}

// severityFinding is a finding of severity with a location at path.
func severityFinding(i int, severity, path string) scanner.Finding {
	return scanner.Finding{
		RuleID: "kw-" + severity, Description: "Test " + severity + " secret", Severity: severity,
		Secret: fmt.Sprintf("kwfake_%06d_not_a_secret", i), Fingerprint: fmt.Sprintf("%032x", i+1),
		Locations: []scanner.Location{{Source: "git", Path: path, Line: 1, Column: 1, EndLine: 1, EndColumn: 24,
			Commit: fmt.Sprintf("%040x", i+1)}},
	}
}

// checkNoSecrets fails if out shows any part of a secret the redacted form hides.
func checkNoSecrets(t *testing.T, out []byte, res *Result) {
	t.Helper()
	for _, f := range res.Findings {
		for _, p := range hiddenPart(f.Secret) {
			if bytes.Contains(out, []byte(p)) {
				t.Fatalf("SARIF shows %q of secret %q without ShowSecrets", p, f.Secret)
			}
		}
	}
}

// noteWith returns the run's tool execution notification whose message contains text.
func noteWith(t *testing.T, log sarifLog, text string) (level string, props map[string]any) {
	t.Helper()
	for _, inv := range log.Runs[0].Invocations {
		for _, n := range inv.Notifications {
			if strings.Contains(n.Message.Text, text) {
				return n.Level, n.Properties
			}
		}
	}
	t.Fatalf("no tool execution notification mentions %q: %+v", text, log.Runs[0].Invocations)
	return "", nil
}

// fingerprints lists the results' fingerprints in order.
func fingerprints(log sarifLog) []string {
	out := []string{}
	for _, r := range log.Runs[0].Results {
		out = append(out, r.PartialFingerprints[SARIFFingerprintKey])
	}
	return out
}

func TestSARIFResultLimit(t *testing.T) {
	sev := []string{"low", "critical", "medium", "high", "unknown", "critical", "low"}
	res := &Result{Tool: testTool, Source: "git", Target: ".", Started: testStarted}
	for i, s := range sev {
		res.Findings = append(res.Findings, severityFinding(i, s, fmt.Sprintf("f%d.env", i)))
	}
	lim := githubLimits
	lim.results = 4
	out, err := res.renderSARIF(lim)
	if err != nil {
		t.Fatal(err)
	}
	if err := validateSARIF(t, out); err != nil {
		t.Fatalf("invalid SARIF: %v", err)
	}
	log := decodeSARIF(t, out)
	checkRuleIndexes(t, log)
	// Both criticals, the high and the first medium ("unknown" ranks as medium, after it), in
	// report order.
	want := []string{res.Findings[1].Fingerprint, res.Findings[2].Fingerprint, res.Findings[3].Fingerprint, res.Findings[5].Fingerprint}
	if diff := cmp.Diff(want, fingerprints(log)); diff != "" {
		t.Errorf("results kept (-want +got):\n%s", diff)
	}
	var ruleIDs []string
	for _, r := range log.Runs[0].Tool.Driver.Rules {
		ruleIDs = append(ruleIDs, r.ID)
	}
	if diff := cmp.Diff([]string{"kw-critical", "kw-high", "kw-medium"}, ruleIDs); diff != "" {
		t.Errorf("rules (-want +got):\n%s", diff)
	}
	level, props := noteWith(t, log, "3 of 7 findings are left out")
	if diff := cmp.Diff(map[string]any{"findings": 7.0, "results": 4.0, "omitted": 3.0}, props); level != "warning" || diff != "" {
		t.Errorf("note level %q, properties (-want +got):\n%s", level, diff)
	}
	if inv := log.Runs[0].Invocations; len(inv) != 1 || !inv[0].ExecutionSuccessful {
		t.Errorf("invocations = %+v, want one that succeeded: leaving results out is not a failed scan", inv)
	}
	checkNoSecrets(t, out, res)
}

func TestSARIFUnderLimitsSaysNothing(t *testing.T) {
	for _, tc := range testCases {
		t.Run(tc.name, func(t *testing.T) {
			for _, inv := range readSARIF(t, tc.res()).Runs[0].Invocations {
				if !inv.ExecutionSuccessful || len(inv.Notifications) > 0 {
					t.Errorf("invocation %+v, want a successful one without notifications", inv)
				}
			}
		})
	}
}

func TestSARIFIncompleteScan(t *testing.T) {
	res := dirResult()
	res.Skipped = append(res.Skipped,
		scanner.SkippedBlob{Path: "secrets/locked.env", Reason: scanner.SkipUnreadable, Size: 10},
		scanner.SkippedBlob{Path: "big.bin", Reason: scanner.SkipTooLarge, Size: 1 << 30})
	out := render(t, SARIF{}, res)
	if err := validateSARIF(t, out); err != nil {
		t.Fatalf("invalid SARIF: %v", err)
	}
	log := decodeSARIF(t, out)
	if inv := log.Runs[0].Invocations; len(inv) != 1 || inv[0].ExecutionSuccessful {
		t.Errorf("invocations = %+v, want one that did not succeed: a file could not be read", inv)
	}
	level, props := noteWith(t, log, "could not be read")
	if diff := cmp.Diff(map[string]any{"unreadable": 1.0}, props); level != "error" || diff != "" {
		t.Errorf("note level %q, properties (-want +got):\n%s", level, diff)
	}
}

func TestSARIFFindingWithoutPath(t *testing.T) {
	res := gitResult()
	res.Findings[0].Locations = []scanner.Location{{Source: "git", Commit: "4f6c1e2a9b8d7c6e5f4a3b2c1d0e9f8a7b6c5d4e"}}
	res.Findings[1].Locations = append([]scanner.Location{{Source: "git", Path: "./"}}, res.Findings[1].Locations...)
	out := render(t, SARIF{}, res)
	if err := validateSARIF(t, out); err != nil {
		t.Fatalf("invalid SARIF: %v", err)
	}
	log := decodeSARIF(t, out)
	checkRuleIndexes(t, log)
	if diff := cmp.Diff([]string{res.Findings[1].Fingerprint, res.Findings[2].Fingerprint}, fingerprints(log)); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	for _, r := range log.Runs[0].Results {
		if len(r.Locations) != 1 || r.Locations[0].PhysicalLocation.ArtifactLocation.URI == "" {
			t.Errorf("result %s: locations %+v, want one naming a file", r.RuleID, r.Locations)
		}
	}
	if got := log.Runs[0].Results[0].Locations[0].PhysicalLocation.ArtifactLocation.URI; got != "scripts/deploy.sh" {
		t.Errorf("location = %q, want the first that names a file", got)
	}
	if _, props := noteWith(t, log, "no location names a file"); props["omitted"] != 1.0 {
		t.Errorf("note properties = %v, want omitted 1", props)
	}
}

func TestSARIFLocationLimit(t *testing.T) {
	finding := func(n int, fp string) scanner.Finding {
		f := scanner.Finding{RuleID: ruleToken.ID, Description: ruleToken.Description, Severity: "critical",
			Secret: secretTokenA, Fingerprint: fp}
		for i := range n {
			f.Locations = append(f.Locations, scanner.Location{Source: "dir", Path: fmt.Sprintf("copies/f%04d.env", i),
				Line: 1, Column: 1, EndLine: 1, EndColumn: 37})
		}
		return f
	}
	res := &Result{Tool: testTool, Source: "dir", Target: "/srv/project", Findings: []scanner.Finding{
		finding(1500, "5d41402abc4b2a76b9719d911017c592"), finding(1000, "098f6bcd4621d373cade4e832627b4f6"),
	}}
	out := render(t, SARIF{}, res)
	if err := validateSARIF(t, out); err != nil {
		t.Fatalf("invalid SARIF: %v", err)
	}
	log := decodeSARIF(t, out)
	tests := []struct {
		name           string
		msg            string
		listed         any // the listed_locations property
		lastRelatedURI string
	}{
		{"over the limit", "(found in 1500 places; related locations list 999 of the others)", 1000.0, "copies/f0999.env"},
		{"at the limit", "(found in 1000 places; see related locations)", nil, "copies/f0999.env"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := log.Runs[0].Results[i]
			if n := len(r.Locations) + len(r.RelatedLocations); n != 1000 {
				t.Errorf("%d locations in all, want 1000", n)
			}
			ids := map[int]bool{}
			for _, rl := range r.RelatedLocations {
				ids[rl.ID] = true
			}
			if len(ids) != len(r.RelatedLocations) {
				t.Errorf("related location ids repeat")
			}
			if got := r.RelatedLocations[len(r.RelatedLocations)-1].PhysicalLocation.ArtifactLocation.URI; got != tt.lastRelatedURI {
				t.Errorf("last related location = %q, want %q", got, tt.lastRelatedURI)
			}
			if !strings.HasSuffix(r.Message.Text, tt.msg) {
				t.Errorf("message %q does not end %q", r.Message.Text, tt.msg)
			}
			if r.Properties["locations"] != float64(len(res.Findings[i].Locations)) || r.Properties["listed_locations"] != tt.listed {
				t.Errorf("properties locations %v, listed_locations %v; want %d, %v",
					r.Properties["locations"], r.Properties["listed_locations"], len(res.Findings[i].Locations), tt.listed)
			}
		})
	}
	if level, props := noteWith(t, log, "more than 1000 places"); level != "warning" || props["results"] != 1.0 {
		t.Errorf("note level %q, properties %v; want warning, results 1", level, props)
	}
}

func TestSARIFRuleTagLimit(t *testing.T) {
	ri := ruleToken
	ri.Tags = []string{"secret", "token"}
	for i := range 30 {
		ri.Tags = append(ri.Tags, fmt.Sprintf("tag%02d", i))
	}
	res := gitResult()
	res.Rules[ri.ID] = ri
	for _, r := range readSARIF(t, res).Runs[0].Tool.Driver.Rules {
		tags, _ := r.Properties["tags"].([]any)
		if r.ID != ri.ID {
			continue
		}
		want := []any{"security", "secret", "token"}
		for i := range 17 {
			want = append(want, fmt.Sprintf("tag%02d", i))
		}
		if diff := cmp.Diff(want, tags); diff != "" {
			t.Errorf("tags (-want +got):\n%s", diff)
		}
	}
}

// randomText is n letters and digits from rng: text gzip cannot shrink much.
func randomText(rng *rand.Rand, n int) string {
	const chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = chars[rng.IntN(len(chars))]
	}
	return string(b)
}

func TestSARIFSizeLimit(t *testing.T) {
	const budget = 60_000
	sev := []string{"critical", "high", "medium", "low"}
	tests := []struct {
		name string
		res  func(rng *rand.Rand) *Result
		note string
		// what each result keeps
		wantRelated bool
		wantCommit  bool
		wantAll     bool
	}{
		{
			name: "related locations go first",
			res: func(rng *rand.Rand) *Result {
				res := &Result{Tool: testTool, Source: "git", Target: "."}
				for i := range 6 {
					f := severityFinding(i, sev[i%4], "first.env")
					f.Locations[0].Author = "Alice Example"
					for range 300 {
						f.Locations = append(f.Locations, scanner.Location{Source: "git", Path: randomText(rng, 40) + ".env",
							Line: 1, Column: 1, EndLine: 1, EndColumn: 24, Commit: f.Locations[0].Commit})
					}
					res.Findings = append(res.Findings, f)
				}
				return res
			},
			note: "leaves out related locations", wantCommit: true, wantAll: true,
		},
		{
			name: "then commit details and long descriptions",
			res: func(rng *rand.Rand) *Result {
				res := &Result{Tool: testTool, Source: "git", Target: "."}
				for i := range 6 {
					f := severityFinding(i, sev[i%4], "config.env")
					f.Description = strings.Repeat("A rule description long enough to be cut. ", 10)
					f.Locations[0].Author, f.Locations[0].Email = "Alice Example", "alice@example.invalid"
					f.Locations[0].Date = testStarted
					f.Locations[0].Message = randomText(rng, 20_000)
					res.Findings = append(res.Findings, f)
				}
				return res
			},
			note: "commit details and long descriptions", wantAll: true,
		},
		{
			name: "then the least severe findings",
			res: func(rng *rand.Rand) *Result {
				res := &Result{Tool: testTool, Source: "git", Target: "."}
				for i := range 400 {
					res.Findings = append(res.Findings, severityFinding(i, sev[rng.IntN(4)], randomText(rng, 200)+".env"))
				}
				return res
			},
			note: "of the least severe findings",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := tt.res(rand.New(rand.NewPCG(1, 2)))
			lim := githubLimits
			lim.gzipBytes = budget
			full, err := res.renderSARIF(githubLimits)
			if err != nil {
				t.Fatal(err)
			}
			if n := gzipSize(full); n <= budget {
				t.Fatalf("the unlimited log is %d bytes gzipped, under the %d the test limits it to", n, budget)
			}
			out, err := res.renderSARIF(lim)
			if err != nil {
				t.Fatal(err)
			}
			gz := gzipSize(out)
			if gz > budget {
				t.Errorf("log is %d bytes gzipped, over the limit of %d", gz, budget)
			}
			if err := validateSARIF(t, out); err != nil {
				t.Fatalf("invalid SARIF: %v", err)
			}
			checkNoSecrets(t, out, res)
			log := decodeSARIF(t, out)
			checkRuleIndexes(t, log)
			results := log.Runs[0].Results
			for _, r := range results {
				if got := len(r.RelatedLocations) > 0; got != tt.wantRelated {
					t.Errorf("result %s has %d related locations", r.RuleID, len(r.RelatedLocations))
				}
				if _, got := r.Properties["author"]; got != tt.wantCommit {
					t.Errorf("result %s: commit author kept = %v, want %v", r.RuleID, got, tt.wantCommit)
				}
				if len([]rune(r.Message.Text)) > 200 {
					t.Errorf("result %s: message of %d characters", r.RuleID, len([]rune(r.Message.Text)))
				}
			}
			_, props := noteWith(t, log, tt.note)
			if props["results"] != float64(len(results)) || props["omitted"] != float64(len(res.Findings)-len(results)) {
				t.Errorf("note properties %v, want results %d, omitted %d", props, len(results), len(res.Findings)-len(results))
			}
			if tt.wantAll {
				if len(results) != len(res.Findings) {
					t.Errorf("%d of %d findings kept, want all", len(results), len(res.Findings))
				}
				return
			}
			// The most severe are kept, earlier ones first among equals, and the log is not cut
			// much further than it must be.
			if gz < budget*8/10 {
				t.Errorf("log is %d bytes gzipped: more was left out than needed for %d", gz, budget)
			}
			kept := map[string]bool{}
			for _, fp := range fingerprints(log) {
				kept[fp] = true
			}
			worstKept, bestLeft := -1, math.MaxInt
			var order []int
			for i, f := range res.Findings {
				rank := severityRank(f.Severity)*len(res.Findings) + i
				if kept[f.Fingerprint] {
					worstKept = max(worstKept, rank)
					order = append(order, i)
				} else {
					bestLeft = min(bestLeft, rank)
				}
			}
			if worstKept > bestLeft {
				t.Errorf("a less severe or later finding was kept over a more important one")
			}
			if len(order) != len(results) || !slices.IsSorted(order) {
				t.Errorf("results are not in report order")
			}
		})
	}
}

// largeResult is a scan with n findings of 50 rules with long descriptions, each at one place
// introduced by a commit with a long message; lowEvery-th findings are of low severity.
func largeResult(n, lowEvery int) *Result {
	res := &Result{Tool: testTool, Source: "git", Target: ".", Started: testStarted,
		Stats: scanner.Stats{Duration: time.Minute}}
	for i := range n {
		sev := []string{"critical", "high", "medium"}[i%3]
		if i%lowEvery == lowEvery-1 {
			sev = "low"
		}
		rule := i % 50
		res.Findings = append(res.Findings, scanner.Finding{
			RuleID:      fmt.Sprintf("kw-large-%02d", rule),
			Description: fmt.Sprintf("Large scan rule %d. ", rule) + strings.Repeat("It describes the secret at length. ", 12),
			Severity:    sev, Secret: fmt.Sprintf("kwfake_%08d_not_a_secret", i), Fingerprint: fmt.Sprintf("%032x", i*7919+1),
			Locations: []scanner.Location{{
				Source: "git", Path: fmt.Sprintf("services/svc%03d/config/env%05d.env", i%300, i),
				Line: i%400 + 1, Column: 9, EndLine: i%400 + 1, EndColumn: 32,
				Commit: fmt.Sprintf("%040x", i*104729+3), Author: "Some Developer", Email: "dev@example.invalid",
				Date:    testStarted,
				Message: fmt.Sprintf("Change %d: update the service configuration\n\n%s", i, strings.Repeat("Explains the change. ", 15)),
			}},
		})
	}
	return res
}

func TestSARIFLargeScanFitsGitHub(t *testing.T) {
	if testing.Short() {
		t.Skip("renders 25,000 results")
	}
	const n, lowEvery = 25_040, 626 // 40 low-severity findings
	res := largeResult(n, lowEvery)
	start := time.Now()
	out := render(t, SARIF{}, res)
	t.Logf("%d findings: %d MB of SARIF in %v", n, len(out)>>20, time.Since(start).Round(time.Millisecond))
	if gz := gzipSize(out); gz >= 10_000_000 {
		t.Errorf("log is %d bytes gzipped; GitHub accepts less than 10 MB", gz)
	}
	if bytes.Contains(out, []byte("_not_a_secret")) {
		t.Errorf("the log shows secrets")
	}
	log := decodeSARIF(t, out)
	checkRuleIndexes(t, log)
	results := log.Runs[0].Results
	if len(results) != 25_000 {
		t.Fatalf("%d results, want 25000", len(results))
	}
	for _, r := range results {
		if r.Level == "note" {
			t.Fatalf("a low-severity finding was kept over more severe ones")
		}
	}
	if _, props := noteWith(t, log, "40 of 25040 findings are left out"); props["results"] != 25_000.0 {
		t.Errorf("note properties %v", props)
	}
	if inv := log.Runs[0].Invocations; len(inv) != 1 || !inv[0].ExecutionSuccessful {
		t.Errorf("invocations = %+v, want one that succeeded", inv)
	}
}

func TestSARIFLargeLocationsShrinkForGitHub(t *testing.T) {
	if testing.Short() {
		t.Skip("renders 15,000 locations with long paths")
	}
	// 15 findings, each at 1,000 places with long random paths: some 10 MB gzipped in full.
	rng := rand.New(rand.NewPCG(3, 4))
	res := &Result{Tool: testTool, Source: "dir", Target: "/srv/project"}
	for i := range 15 {
		f := severityFinding(i, "high", "first.env")
		for range 999 {
			f.Locations = append(f.Locations, scanner.Location{Source: "dir", Path: randomText(rng, 900) + ".env",
				Line: 1, Column: 1, EndLine: 1, EndColumn: 24})
		}
		res.Findings = append(res.Findings, f)
	}
	out := render(t, SARIF{}, res)
	if gz := gzipSize(out); gz > githubLimits.gzipBytes {
		t.Errorf("log is %d bytes gzipped, over the %d the writer keeps to", gz, githubLimits.gzipBytes)
	}
	log := decodeSARIF(t, out)
	if len(log.Runs[0].Results) != len(res.Findings) {
		t.Errorf("%d results, want %d: dropping related locations is enough", len(log.Runs[0].Results), len(res.Findings))
	}
	noteWith(t, log, "leaves out related locations")
}
