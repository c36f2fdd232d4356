package rules

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/zricethezav/gitleaks/v8/config"
	"github.com/zricethezav/gitleaks/v8/detect/codec"
)

// testRules is a small config, used alone (no [extend]), for tests that need exact control.
const testRules = `
[[rules]]
id = "tok"
description = "test token"
regex = '''tok_[a-z0-9]{8}'''
keywords = ["tok_"]
tags = ["test"]

[[rules]]
id = "block"
description = "multi-line block"
regex = '''(?s)BEGIN BLOCK\n(.{1,80}?)\nEND BLOCK'''
keywords = ["begin block"]
`

func mustLoad(t *testing.T, toml string) *Ruleset {
	t.Helper()
	rs, err := LoadBytes("test.toml", []byte(toml))
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// position is the located part of a Match.
type position struct {
	Rule                   string
	Secret                 string
	StartLine, EndLine     int
	StartColumn, EndColumn int
	Line                   string
}

func positions(ms []Match) []position {
	var out []position
	for _, m := range ms {
		out = append(out, position{m.RuleID, m.Secret, m.StartLine, m.EndLine, m.StartColumn, m.EndColumn, m.Line})
	}
	return out
}

func TestDetectLocations(t *testing.T) {
	d := NewDetector(mustLoad(t, testRules), DetectorOptions{})
	tests := []struct {
		name string
		text string
		want []position
	}{{
		name: "first line",
		text: "x = tok_abcd1234\n",
		want: []position{{"tok", "tok_abcd1234", 1, 1, 5, 16, "x = tok_abcd1234"}},
	}, {
		// gitleaks reports column 6 here (gitleaks#1424).
		name: "third line",
		text: "a\nbb\nx = tok_abcd1234\n",
		want: []position{{"tok", "tok_abcd1234", 3, 3, 5, 16, "x = tok_abcd1234"}},
	}, {
		name: "after multi-byte characters",
		text: "// héllo\ns := \"日本語😀 tok_abcd1234\" // ✓\n",
		want: []position{{"tok", "tok_abcd1234", 2, 2, 12, 23, "s := \"日本語😀 tok_abcd1234\" // ✓"}},
	}, {
		name: "start of a line",
		text: "first\ntok_abcd1234 rest\n",
		want: []position{{"tok", "tok_abcd1234", 2, 2, 1, 12, "tok_abcd1234 rest"}},
	}, {
		name: "last line without newline",
		text: "first\nsecond tok_abcd1234",
		want: []position{{"tok", "tok_abcd1234", 2, 2, 8, 19, "second tok_abcd1234"}},
	}, {
		name: "CRLF line endings",
		text: "a\r\nb tok_abcd1234\r\nc\r\n",
		want: []position{{"tok", "tok_abcd1234", 2, 2, 3, 14, "b tok_abcd1234\r"}},
	}, {
		name: "two on one line",
		text: "tok_aaaa1111,tok_bbbb2222\n",
		want: []position{
			{"tok", "tok_aaaa1111", 1, 1, 1, 12, "tok_aaaa1111,tok_bbbb2222"},
			{"tok", "tok_bbbb2222", 1, 1, 14, 25, "tok_aaaa1111,tok_bbbb2222"},
		},
	}, {
		name: "multi-line match",
		text: "intro\n  BEGIN BLOCK\nsecret stuff ü\nEND BLOCK done\n",
		want: []position{{"block", "secret stuff ü", 2, 4, 3, 9, "  BEGIN BLOCK\nsecret stuff ü\nEND BLOCK done"}},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := positions(d.Detect([]byte(tc.text)))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Detect(%q) (-want +got):\n%s", tc.text, diff)
			}
		})
	}
}

// TestDetectWindows checks that matches are found once whatever the keyword density around
// them, and that merged or distant windows each see their matches.
func TestDetectWindows(t *testing.T) {
	d := NewDetector(mustLoad(t, testRules), DetectorOptions{})
	many := strings.Repeat("tok_ mentioned\n", 30)
	tests := []struct {
		name string
		text string
		want []string // secrets, in order
	}{{
		name: "keyword on every line around the match",
		text: many + "tok_abcd1234\n" + many,
		want: []string{"tok_abcd1234"},
	}, {
		name: "matches on adjacent lines",
		text: "tok_aaaa1111\ntok_bbbb2222\ntok_cccc3333\n",
		want: []string{"tok_aaaa1111", "tok_bbbb2222", "tok_cccc3333"},
	}, {
		name: "matches far apart",
		text: "tok_aaaa1111\n" + strings.Repeat("filler\n", 500) + "tok_bbbb2222\n",
		want: []string{"tok_aaaa1111", "tok_bbbb2222"},
	}, {
		name: "block spanning lines after its keyword",
		text: "begin block mentioned\nBEGIN BLOCK\n" + strings.Repeat("x", 70) + "\nEND BLOCK\n",
		want: []string{strings.Repeat("x", 70)},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, m := range d.Detect([]byte(tc.text)) {
				got = append(got, m.Secret)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("secrets (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDetectAllowComments(t *testing.T) {
	d := NewDetector(mustLoad(t, testRules), DetectorOptions{})
	tests := []struct {
		name string
		text string
		want int
	}{
		{"no comment", "x = tok_abcd1234\n", 1},
		{"gitleaks:allow", "x = tok_abcd1234 // gitleaks:allow\n", 0},
		{"keywarden:allow", "x = tok_abcd1234 # keywarden:allow\n", 0},
		{"comment on another line", "// keywarden:allow\nx = tok_abcd1234\n", 1},
		{"comment on the last line of a multi-line match", "BEGIN BLOCK\nsecret\nEND BLOCK # keywarden:allow\n", 0},
		{"last line without newline", "// keywarden:allow\nx = tok_abcd1234", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := len(d.Detect([]byte(tc.text))); got != tc.want {
				t.Errorf("Detect(%q) found %d matches, want %d", tc.text, got, tc.want)
			}
		})
	}
}

const allowlistRules = `
[[allowlists]]
description = "global: vendored code and one commit"
paths = ['''^vendor/''']
commits = ["1111111111111111111111111111111111111111"]

[[allowlists]]
description = "global AND: a test fixture value, only under testdata/"
condition = "AND"
paths = ['''^testdata/''']
regexes = ['''^tok_fixture''']

[[rules]]
id = "tok"
regex = '''tok_[a-z0-9]{8,12}'''
keywords = ["tok_"]

[[rules.allowlists]]
description = "OR: stopword or example marker on the line"
stopwords = ["dead"]
regexTarget = "line"
regexes = ['''# example''']

[[rules.allowlists]]
description = "AND: docs path and a demo secret"
condition = "AND"
paths = ['''\.md$''']
regexes = ['''demo''']

[[rules.allowlists]]
description = "AND: a commit and a stopword"
condition = "AND"
commits = ["2222222222222222222222222222222222222222"]
stopwords = ["beef"]

[[rules.allowlists]]
description = "OR: a path only"
paths = ['''^legacy/''']

[[rules.allowlists]]
description = "match target"
regexTarget = "match"
regexes = ['''^tok_0000''']
`

func TestAllowlists(t *testing.T) {
	d := NewDetector(mustLoad(t, allowlistRules), DetectorOptions{})
	const (
		commitGlobal = "1111111111111111111111111111111111111111"
		commitRule   = "2222222222222222222222222222222222222222"
	)
	tests := []struct {
		name         string
		text         string
		path, commit string
		want         bool // the match is reported
	}{
		{"plain", "tok_abcd1234\n", "main.go", "", true},
		{"stopword", "tok_abdead12\n", "main.go", "", false},
		{"line regex", "tok_abcd1234 # example\n", "main.go", "", false},
		{"match target", "tok_00001234\n", "main.go", "", false},
		{"global OR path", "tok_abcd1234\n", "vendor/x.go", "", false},
		{"global OR commit", "tok_abcd1234\n", "main.go", commitGlobal, false},
		{"global AND: path and regex", "tok_fixture1\n", "testdata/a.txt", "", false},
		{"global AND: regex without path", "tok_fixture1\n", "src/a.txt", "", true},
		{"global AND: path without regex", "tok_abcd1234\n", "testdata/a.txt", "", true},
		{"global AND: no path at all", "tok_fixture1\n", "", "", true},
		{"rule AND: path and regex", "tok_demo1234\n", "docs/README.md", "", false},
		{"rule AND: regex without path", "tok_demo1234\n", "main.go", "", true},
		{"rule AND: commit and stopword", "tok_beef1234\n", "main.go", commitRule, false},
		{"rule AND: stopword without commit", "tok_beef1234\n", "main.go", "", true},
		{"rule AND: commit without stopword", "tok_abcd1234\n", "main.go", commitRule, true},
		{"commit is case-insensitive", "tok_beef1234\n", "main.go", strings.ToUpper(commitRule), false},
		{"rule OR path", "tok_abcd1234\n", "legacy/old.go", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := false
			for _, m := range d.Detect([]byte(tc.text)) {
				if !d.Allowed(&m, tc.path, tc.commit) {
					got = true
				}
			}
			if got != tc.want {
				t.Errorf("reported = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestDecoding(t *testing.T) {
	rs := mustLoad(t, testRules)
	b64 := base64.StdEncoding.EncodeToString([]byte(`token = "tok_abcd1234"`)) // keywarden:allow (test value)
	twice := base64.StdEncoding.EncodeToString([]byte(b64))
	tests := []struct {
		name  string
		depth int
		text  string
		want  []position
		tags  [][]string
	}{{
		name:  "base64",
		depth: 0,
		text:  "config:\n  value: é " + b64 + "\n",
		want:  []position{{"tok", "tok_abcd1234", 2, 2, 12, 11 + len(b64), "  value: é " + b64}},
		tags:  [][]string{{"test", "decoded:base64", "decode-depth:1"}},
	}, {
		name:  "base64 twice",
		depth: 0,
		text:  "v: " + twice + "\n",
		want:  []position{{"tok", "tok_abcd1234", 1, 1, 4, 3 + len(twice), "v: " + twice}},
		tags:  [][]string{{"test", "decoded:base64", "decode-depth:2"}},
	}, {
		name:  "base64 twice with depth 1",
		depth: 1,
		text:  "v: " + twice + "\n",
	}, {
		name:  "decoding disabled",
		depth: -1,
		text:  "v: " + b64 + "\n",
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDetector(rs, DetectorOptions{MaxDecodeDepth: tc.depth})
			ms := d.Detect([]byte(tc.text))
			if diff := cmp.Diff(tc.want, positions(ms)); diff != "" {
				t.Errorf("positions (-want +got):\n%s", diff)
			}
			var tags [][]string
			for _, m := range ms {
				tags = append(tags, m.Tags)
			}
			if diff := cmp.Diff(tc.tags, tags); diff != "" {
				t.Errorf("tags (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSupersede checks gitleaks' rule that a generic match gives way to a specific match of
// the same secret on its line, including when the specific one is only valid at some paths.
func TestSupersede(t *testing.T) {
	rs := mustLoad(t, `
[[rules]]
id = "generic-thing"
regex = '''key=(\S{8,})'''
keywords = ["key="]

[[rules]]
id = "php-token"
regex = '''key=(php_[a-z0-9]{8})'''
path = '''\.php$'''
keywords = ["php_"]

[[rules]]
id = "plain-token"
regex = '''key=(pln_[a-z0-9]{8})'''
keywords = ["pln_"]
`)
	d := NewDetector(rs, DetectorOptions{})
	tests := []struct {
		name string
		text string
		path string
		want []string // rule IDs reported
	}{
		{"specific rule wins", "key=pln_abcd1234\n", "a.txt", []string{"plain-token"}}, // keywarden:allow (test value)
		{"generic alone", "key=other_value_1\n", "a.txt", []string{"generic-thing"}},
		{"path-constrained rule at its path", "key=php_abcd1234\n", "index.php", []string{"php-token"}},
		{"path-constrained rule elsewhere", "key=php_abcd1234\n", "index.txt", []string{"generic-thing"}},
		{"different lines", "key=pln_abcd1234\nkey=another_value\n", "a.txt", []string{"plain-token", "generic-thing"}}, // keywarden:allow (test value)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, m := range d.Detect([]byte(tc.text)) {
				if !d.Allowed(&m, tc.path, "") {
					got = append(got, m.RuleID)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("rules (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRequired(t *testing.T) {
	rs := mustLoad(t, `
[[rules]]
id = "db-user"
regex = '''user=(\w{3,})'''
keywords = ["user="]
[[rules.required]]
id = "db-pass"
withinLines = 1
[[rules.required]]
id = "db-host"

[[rules]]
id = "db-pass"
regex = '''pass=(\w{6,})'''
keywords = ["pass="]
skipReport = true

[[rules]]
id = "db-host"
regex = '''host=([\w.]+)'''
keywords = ["host="]
path = '''\.env$'''
`)
	d := NewDetector(rs, DetectorOptions{})
	tests := []struct {
		name string
		text string
		path string
		want []string
	}{
		{"all parts close by", "host=db.local\nuser=admin\npass=hunter22\n", "prod.env", []string{"db-host", "db-user"}},
		{"password too far", "host=db.local\nuser=admin\n\n\npass=hunter22\n", "prod.env", []string{"db-host"}},
		{"password missing", "host=db.local\nuser=admin\n", "prod.env", []string{"db-host"}},
		{"required part not valid at this path", "host=db.local\nuser=admin\npass=hunter22\n", "prod.txt", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, m := range d.Detect([]byte(tc.text)) {
				if !d.Allowed(&m, tc.path, "") {
					got = append(got, m.RuleID)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("rules (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPathMatches(t *testing.T) {
	rs, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	d := NewDetector(rs, DetectorOptions{})
	tests := []struct {
		name string
		path string
		want []string
	}{
		{"pkcs12 file", "certs/server.p12", []string{"pkcs12-file"}},
		{"pfx file", "Server.PFX", []string{"pkcs12-file"}},
		{"globally allowlisted path", "node_modules/lib/server.p12", nil},
		{"other file", "certs/server.pem", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, m := range d.PathMatches(tc.path, "") {
				got = append(got, m.RuleID)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("PathMatches(%q) (-want +got):\n%s", tc.path, diff)
			}
		})
	}
}

// TestDetectConcurrent runs one Detector from many goroutines (run with -race).
func TestDetectConcurrent(t *testing.T) {
	rs, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	d := NewDetector(rs, DetectorOptions{})
	files, _, _ := buildCorpus(rs.Config())
	files = files[:200]
	want := make([][]Match, len(files))
	for i, f := range files {
		want[i] = d.Detect([]byte(f.text))
	}
	detectConcurrently(t, d, files, want, "-sequential +concurrent")
}

// detectConcurrently runs d over files from 8 goroutines at once and compares each result with
// want; label names the two sides of a diff.
func detectConcurrently(t *testing.T, d *Detector, files []corpusFile, want [][]Match, label string) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan string, len(files))
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(files); i += 8 {
				got := d.Detect([]byte(files[i].text))
				if diff := cmp.Diff(want[i], got, cmpopts.IgnoreUnexported(Match{})); diff != "" {
					errs <- fmt.Sprintf("file %s (%s):\n%s", files[i].name, label, diff)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestAnalyze(t *testing.T) {
	tests := []struct {
		name     string
		regex    string
		keywords []string
		want     shape
	}{
		{"literal prefix", `ghp_[0-9a-zA-Z]{36}`, []string{"ghp_"}, shape{modeWindow, 0, 0}},
		{"factored alternation", `\b((?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b`, []string{"a3t", "akia", "asia", "abia", "acca"}, shape{modeWindow, 0, 0}},
		{"case-insensitive", `(?i)secret_key\s{0,2}=`, []string{"secret_key"}, shape{modeWindow, 0, 2}},
		{"newlines before keyword", `[\s'"]{0,3}(tok_[a-z]{8})`, []string{"tok_"}, shape{modeWindow, 3, 0}},
		{"unbounded after keyword", `-----BEGIN[\s\S]{64,}?-----END`, []string{"-----begin"}, shape{modeWindow, 0, unbounded}},
		{"keyword not in match", `[a-f0-9]{40}`, []string{"sourcegraph"}, shape{mode: modeKeyword}},
		{"dot is not a literal", `hooks.slack.com/[a-z]+`, []string{"hooks.slack.com"}, shape{mode: modeKeyword}},
		{"start of text", `(?:^|\s)(tok_[a-z]{8})`, []string{"tok_"}, shape{mode: modeKeyword}},
		{"unbounded before keyword", `\s+tok_[a-z]{8}`, []string{"tok_"}, shape{mode: modeKeyword}},
		{"no keywords", `tok_[a-z]{8}`, nil, shape{mode: modeAlways}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := analyze(tc.regex, tc.keywords)
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(shape{})); diff != "" {
				t.Errorf("analyze(%q) (-want +got):\n%s", tc.regex, diff)
			}
		})
	}
}

// TestMayDecode checks the decoder shortcut against the decoder itself: whenever mayDecode
// says there is nothing to decode, codec must find no segment.
func TestMayDecode(t *testing.T) {
	rs, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	files, _, _ := buildCorpus(rs.Config())
	texts := []string{
		"plain text without anything",
		"id: 0123456789abcdef0123456789abcdef0123",
		"v: " + base64.StdEncoding.EncodeToString([]byte("hello world, hello!")) + "\n",
		"v: " + base64.RawURLEncoding.EncodeToString([]byte("hello world, hello!?")) + "\n",
		"x = 48656c6c6f2c20776f726c642c2048656c6c6f21g" + base64.StdEncoding.EncodeToString([]byte("token=abcdef123456")), // keywarden:allow (test value)
		"fmt.Printf(\"%02x\", b)",
		"s := \"\\u0041\\u0042\"",
		"U+0041 U+0042",
		"user_session_token_value and ConfigurationManagerFactory",
	}
	for _, f := range files {
		texts = append(texts, f.text)
	}
	positives := 0
	for _, text := range texts {
		_, segs := codec.NewDecoder().Decode(text, nil)
		if len(segs) > 0 {
			positives++
			if !mayDecode(text) {
				t.Errorf("mayDecode(%q) = false, but the decoder finds %d segments", text, len(segs))
			}
		}
	}
	if positives == 0 {
		t.Error("no text with something to decode: the test proves nothing")
	}
	if mayDecode("user_session_token_value and ConfigurationManagerFactory") {
		t.Error("mayDecode is true for plain identifiers")
	}
}

func TestPathExcluded(t *testing.T) {
	rs, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	def := NewDetector(rs, DetectorOptions{})
	// An AND allowlist that also names a commit must not exclude a path on its own, since the
	// same path in other commits is still scanned.
	andCommit := NewDetector(mustLoad(t, `
[[rules]]
id = "r"
regex = '''x'''
[[allowlists]]
condition = "AND"
commits = ["abc123"]
paths = ['''^docs/''']
[[allowlists]]
paths = ['''^fixtures/''']
`), DetectorOptions{})
	tests := []struct {
		name string
		d    *Detector
		path string
		want bool
	}{
		{"image", def, "assets/logo.PNG", true},
		{"font", def, "static/fonts/a.woff2", true},
		{"lock file", def, "web/package-lock.json", true},
		{"go.sum", def, "go.sum", true},
		{"node_modules", def, "node_modules/x/index.js", true},
		{"source", def, "main.go", false},
		{"env file", def, "deploy/.env", false},
		{"empty path", def, "", false},
		{"AND with commit", andCommit, "docs/readme.md", false},
		{"OR path list", andCommit, "fixtures/a.txt", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.d.PathExcluded(tc.path); got != tc.want {
				t.Errorf("PathExcluded(%q) = %v, want %v", tc.path, got, tc.want)
			}
		})
	}
}

// TestStopWordMatchersAgree: the plain search that answers a scan's first stopword questions and
// the trie that answers the rest give the same answers, so results do not depend on how many
// candidates came before.
func TestStopWordMatchersAgree(t *testing.T) {
	rs, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	var a *config.Allowlist
	for _, al := range rs.Config().Rules["generic-api-key"].Allowlists {
		if len(al.StopWords) > 0 {
			a = al
		}
	}
	if a == nil {
		t.Fatal("generic-api-key has no stopword allowlist")
	}
	inputs := []string{"lxhaDObe8W04", "Zx8Kq2Lm4Np6", "EXAMPLEKEY123", "qwertyuiop", "9f8e7d6c5b4a", "ABCDEF", "x"}
	for _, w := range a.StopWords[:50] {
		inputs = append(inputs, "Q7"+strings.ToUpper(w)+"z9", "z"+w)
	}
	linear := map[string]bool{}
	for _, in := range inputs {
		linear[in] = containsStopWord(a, in)
	}
	v, _ := stopTries.Load(a)
	v.(*stopTrie).calls.Store(stopLinearCalls)
	matched := 0
	for _, in := range inputs {
		if got := containsStopWord(a, in); got != linear[in] {
			t.Errorf("%q: trie says %v, plain search %v", in, got, linear[in])
		}
		if linear[in] {
			matched++
		}
	}
	if v.(*stopTrie).trie == nil || matched < 100 || matched == len(inputs) {
		t.Fatalf("trie built %v, %d of %d inputs hold a stopword: the test does not compare both answers", v.(*stopTrie).trie != nil, matched, len(inputs))
	}
}

// TestFallbackGivesWay checks the three levels of generic rules: gitleaks' generic rules give
// way to keywarden's fallbacks, and both to specific rules, on a line where the other match
// holds their secret.
func TestFallbackGivesWay(t *testing.T) {
	rs, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	d := NewDetector(rs, DetectorOptions{})
	pw := "Xk82jQm4" + "Lp0vZr7tWq9n"
	awsSecret := "rxY4M2Yp" + "x992JLF6rbSjhLQ" + "AhNLHZef60HoeBvLb"
	tests := []struct {
		name, path, text string
		want             []string
	}{
		// The values are split so that keywarden, scanning its own source, does not find them.
		{"password fallback over generic-api-key", "app/config.py", `DB_PASSWORD = "` + pw + `"`, []string{"password-assignment"}},
		{"URL rule over password fallback", "app/config.py", `password = "postgres://app:` + pw + `@db1/orders"`, []string{"connection-string-url"}},
		{"fallback stays where the specific match holds another secret", "app/.env", "DB_PASSWORD=" + pw + " AWS_SECRET_ACCESS_KEY=" + awsSecret, []string{"aws-secret-access-key", "password-in-config"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, m := range d.DetectAt([]byte(tt.text), tt.path) {
				if !d.Allowed(&m, tt.path, "") {
					got = append(got, m.RuleID)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("rules = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestDetectAtGatesPathRules checks that a rule with a path and no keywords runs only on text
// from a file its path fits, and everywhere when the path is unknown.
func TestDetectAtGatesPathRules(t *testing.T) {
	rs, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	d := NewDetector(rs, DetectorOptions{})
	text := []byte("legacy:uoxg5MRxJnSN/\n")
	ran := func(path string) bool {
		for _, m := range d.DetectAt(text, path) {
			if m.RuleID == "password-hash-descrypt" {
				return true
			}
		}
		return false
	}
	if !ran("srv/www/.htpasswd") {
		t.Error("not run on .htpasswd")
	}
	if ran("notes.txt") {
		t.Error("run on notes.txt, which its path does not fit")
	}
	if !ran("") {
		t.Error("not run with the path unknown")
	}
}
