package report

// Reports of keys found in binary data (scan dump, --binary): locations with a byte offset, an
// address and a detector instead of lines.

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"encoding/pem"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"

	"github.com/keywarden/keywarden/rules"
	"github.com/keywarden/keywarden/scanner"
)

var (
	ruleKeyInBinary = rules.RuleInfo{ID: "private-key-in-binary", Description: "Private key in binary data", Severity: "critical",
		Tags: []string{"key", "binary"}}
	ruleAESSchedule = rules.RuleInfo{ID: "aes-key-schedule", Description: "AES key schedule in memory", Severity: "high",
		Tags: []string{"key", "binary"}}
)

// Where the fixture's keys lie in the dump.
const (
	dumpPath    = "crash/core.4711"
	dumpAddress = "0x7f3a00001234"
	rsaConfirm  = "n = p·q, d·e ≡ 1 mod λ(n)"
	aesConfirm  = "key expansion holds for all 15 round keys"
)

func offsetPtr(v int64) *int64 { return &v }

// testPEM is a private key generated for the test, PEM-encoded as the binary detectors report
// keys they recover.
func testPEM(t *testing.T) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), nil)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// testJWK is an AES-256 key, as a JWK the way an AES key schedule finding holds it, from a
// seeded source so that failures reproduce.
func testJWK() string {
	r := rand.New(rand.NewPCG(10, 10))
	k := make([]byte, 32)
	for i := range k {
		k[i] = byte(r.UintN(256))
	}
	return `{"kty":"oct","k":"` + base64.RawURLEncoding.EncodeToString(k) + `"}`
}

// dumpResult has a private key at offset 0 of a core file and again at 0x2000, an AES key
// schedule at 0x1234 mapped at a virtual address, and a text finding that must look as before.
func dumpResult(t *testing.T) *Result {
	t.Helper()
	return &Result{
		Tool: testTool, Source: "dump", Target: dumpPath, Root: "/srv/incident", Started: testStarted,
		Findings: []scanner.Finding{
			{
				RuleID: ruleKeyInBinary.ID, Description: ruleKeyInBinary.Description, Severity: "critical",
				Kind: "private-key", Secret: testPEM(t), Fingerprint: "0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f",
				Tags: []string{"binary", "detector:der-pkcs8"},
				Locations: []scanner.Location{
					{Source: "dump", Path: dumpPath, Offset: offsetPtr(0), Length: 138, Detector: "der-pkcs8", Confirmed: "public point matches the scalar"},
					{Source: "dump", Path: dumpPath, Offset: offsetPtr(0x2000), Length: 138, Address: "0x7f3a00002000", Detector: "der-pkcs8", Confirmed: "public point matches the scalar"},
				},
				Key: &scanner.KeyInfo{Type: "ecdsa", Bits: 256, Curve: "P-256", Format: "pkcs8", Private: true, PublicSHA256: "ab12"},
			},
			{
				RuleID: ruleAESSchedule.ID, Description: ruleAESSchedule.Description, Severity: "high",
				Kind: "secret-key", Secret: testJWK(), Fingerprint: "1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e",
				Tags: []string{"binary", "detector:aes-schedule"},
				Locations: []scanner.Location{
					{Source: "dump", Path: dumpPath, Offset: offsetPtr(0x1234), Length: 240, Address: dumpAddress, Detector: "aes-schedule", Confirmed: aesConfirm},
				},
				Key:      &scanner.KeyInfo{Type: "aes", Bits: 256, Format: "aes-key-schedule", Private: true},
				Strength: &rules.Strength{Grade: "strong"},
			},
			{
				RuleID: ruleToken.ID, Description: ruleToken.Description, Severity: "critical",
				Secret: secretTokenA, Fingerprint: "5d41402abc4b2a76b9719d911017c592",
				Locations: []scanner.Location{{Source: "dir", Path: "config/app.env", Line: 3, Column: 14, EndLine: 3, EndColumn: 50}},
			},
		},
		Stats: scanner.Stats{Blobs: 1, Bytes: 1 << 20},
		Rules: map[string]rules.RuleInfo{ruleKeyInBinary.ID: ruleKeyInBinary, ruleAESSchedule.ID: ruleAESSchedule, ruleToken.ID: ruleToken},
	}
}

// binaryFields is what a location says about where a key lies in binary data.
type binaryFields struct {
	Path      string
	Offset    *int64
	Length    int
	Address   string
	Detector  string
	Confirmed string
}

func binaryOf(ls []scanner.Location) []binaryFields {
	var out []binaryFields
	for _, l := range ls {
		out = append(out, binaryFields{l.Path, l.Offset, l.Length, l.Address, l.Detector, l.Confirmed})
	}
	return out
}

// TestBinaryJSONMergeRoundTrip: offsets (0 included), lengths, addresses, detectors and checks
// survive writing JSON, reading it, merging and writing JSON again; text locations get no
// offset.
func TestBinaryJSONMergeRoundTrip(t *testing.T) {
	res := dumpResult(t)
	first := render(t, JSON{}, res)

	var raw struct {
		Findings []struct {
			Locations []map[string]any `json:"locations"`
		} `json:"findings"`
	}
	if err := json.Unmarshal(first, &raw); err != nil {
		t.Fatal(err)
	}
	if got, ok := raw.Findings[0].Locations[0]["offset"]; !ok || got != 0.0 {
		t.Errorf("offset 0 written as %v (present: %v), want 0", got, ok)
	}
	if got := raw.Findings[1].Locations[0]["address"]; got != dumpAddress {
		t.Errorf("address written as %v, want %s", got, dumpAddress)
	}
	for _, k := range []string{"offset", "length", "address", "detector", "confirmed"} {
		if _, ok := raw.Findings[2].Locations[0][k]; ok {
			t.Errorf("text location has %q", k)
		}
	}

	rep, err := ReadJSON(bytes.NewReader(first))
	if err != nil {
		t.Fatal(err)
	}
	merged, warnings, err := Merge([]*JSONReport{rep}, []string{"dump.json"})
	if err != nil || len(warnings) > 0 {
		t.Fatalf("Merge: %v %v", warnings, err)
	}
	again, err := ReadJSON(bytes.NewReader(render(t, JSON{}, merged.Result(false))))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]binaryFields{}
	for _, f := range again.Findings {
		got[f.RuleID] = binaryOf(f.finding().Locations)
	}
	want := map[string][]binaryFields{}
	for _, f := range res.Findings {
		want[f.RuleID] = binaryOf(f.Locations)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("binary locations after JSON → merge → JSON (-want +got):\n%s", diff)
	}
}

// TestBinaryMergeDedupes: one place in a dump named by two reports is one location of the
// merged finding, not two.
func TestBinaryMergeDedupes(t *testing.T) {
	out := render(t, JSON{}, dumpResult(t))
	var reps []*JSONReport
	for range 2 {
		rep, err := ReadJSON(bytes.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		reps = append(reps, rep)
	}
	merged, _, err := Merge(reps, []string{"a.json", "b.json"})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range merged.Findings {
		var want int
		for _, wf := range reps[0].Findings {
			if wf.Fingerprint == f.Fingerprint {
				want = len(wf.Locations)
			}
		}
		if len(f.Locations) != want {
			t.Errorf("%s: %d locations after merging a report with itself, want %d", f.RuleID, len(f.Locations), want)
		}
	}
}

// binaryRegion is a SARIF region as the tests read it, binary properties included.
type binaryRegion struct {
	StartLine  *int `json:"startLine"`
	ByteOffset *int `json:"byteOffset"`
	ByteLength *int `json:"byteLength"`
}

type binarySARIFLoc struct {
	Message          sarifText `json:"message"`
	PhysicalLocation struct {
		ArtifactLocation struct {
			URI string `json:"uri"`
		} `json:"artifactLocation"`
		Region *binaryRegion `json:"region"`
	} `json:"physicalLocation"`
	Properties map[string]any `json:"properties"`
}

type binarySARIF struct {
	Runs []struct {
		Results []struct {
			RuleID           string           `json:"ruleId"`
			Message          sarifText        `json:"message"`
			Locations        []binarySARIFLoc `json:"locations"`
			RelatedLocations []binarySARIFLoc `json:"relatedLocations"`
			Properties       map[string]any   `json:"properties"`
		} `json:"results"`
	} `json:"runs"`
}

// TestBinarySARIF: a binary location's region is byteOffset and byteLength with no line, its
// address, detector and check are in properties, and two places in one dump stay apart. The
// log is valid SARIF 2.1.0.
func TestBinarySARIF(t *testing.T) {
	out := render(t, SARIF{}, dumpResult(t))
	if err := validateSARIF(t, out); err != nil {
		t.Fatalf("SARIF output is not valid SARIF 2.1.0: %v", err)
	}
	if _, err := sarif.FromBytes(out, sarif.WithStrictValidation()); err != nil {
		t.Fatalf("go-sarif decoding: %v", err)
	}
	var log binarySARIF
	if err := json.Unmarshal(out, &log); err != nil {
		t.Fatal(err)
	}
	results := log.Runs[0].Results
	if len(results) != 3 {
		t.Fatalf("%d results, want 3", len(results))
	}
	ptr := func(n int) *int { return &n }
	tests := []struct {
		name      string
		loc       binarySARIFLoc
		want      *binaryRegion
		wantProps map[string]any
	}{
		{"offset 0", results[0].Locations[0], &binaryRegion{ByteOffset: ptr(0), ByteLength: ptr(138)},
			map[string]any{"detector": "der-pkcs8", "confirmed": "public point matches the scalar"}},
		{"same key later in the dump", results[0].RelatedLocations[0], &binaryRegion{ByteOffset: ptr(0x2000), ByteLength: ptr(138)},
			map[string]any{"address": "0x7f3a00002000", "detector": "der-pkcs8", "confirmed": "public point matches the scalar"}},
		{"aes schedule", results[1].Locations[0], &binaryRegion{ByteOffset: ptr(0x1234), ByteLength: ptr(240)},
			map[string]any{"address": dumpAddress, "detector": "aes-schedule", "confirmed": aesConfirm}},
		// go-sarif writes the default -1 for an absent byteOffset.
		{"text", results[2].Locations[0], &binaryRegion{StartLine: ptr(3), ByteOffset: ptr(-1)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.loc.PhysicalLocation.Region); diff != "" {
				t.Errorf("region (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantProps, tt.loc.Properties); diff != "" {
				t.Errorf("location properties (-want +got):\n%s", diff)
			}
			if tt.wantProps != nil && tt.loc.PhysicalLocation.ArtifactLocation.URI != dumpPath {
				t.Errorf("artifact %q, want %s", tt.loc.PhysicalLocation.ArtifactLocation.URI, dumpPath)
			}
		})
	}

	aes := results[1]
	for k, want := range map[string]any{"source": "dump", "address": dumpAddress, "detector": "aes-schedule", "confirmed": aesConfirm} {
		if got := aes.Properties[k]; got != want {
			t.Errorf("result property %s = %v, want %v", k, got, want)
		}
	}
	if key, _ := aes.Properties["key"].(map[string]any); key["type"] != "aes" || key["bits"] != 256.0 {
		t.Errorf("result property key = %v, want an AES-256 key", aes.Properties["key"])
	}
	// Code scanning ignores byteOffset: the message must say where the key is.
	if msg := aes.Message.Text; !strings.Contains(msg, "(at byte 0x1234, vaddr "+dumpAddress+")") {
		t.Errorf("message %q does not say where in the dump the key is", msg)
	}
	if msg := results[0].Message.Text; !strings.Contains(msg, "(at byte 0x0)") {
		t.Errorf("message %q does not say the key is at offset 0", msg)
	}
	if msg := results[2].Message.Text; strings.Contains(msg, "at byte") {
		t.Errorf("text finding's message %q speaks of bytes", msg)
	}
	// Two places in the same file are told apart by offset, not by a line they do not have.
	if got, want := results[0].RelatedLocations[0].Message.Text, "Also found in "+dumpPath+" @ 0x2000 (vaddr 0x7f3a00002000)"; got != want {
		t.Errorf("related location message %q, want %q", got, want)
	}
}

// TestBinarySARIFLocationNames: locations that differ only in offset have different names.
func TestBinarySARIFLocationNames(t *testing.T) {
	seen := map[string]bool{}
	for _, off := range []int64{0, 1, 0x10, 0x1234} {
		name := locationName(scanner.Location{Path: dumpPath, Offset: offsetPtr(off)})
		if seen[name] {
			t.Errorf("offset %#x has the name %q of another offset", off, name)
		}
		seen[name] = true
	}
}

// TestBinaryText: a binary location is "path @ offset (vaddr address) [detector]" with its
// check on a line of its own; an AES key is AES-256.
func TestBinaryText(t *testing.T) {
	res := dumpResult(t)
	tests := []struct {
		name string
		f    scanner.Finding
		want string
	}{
		{
			name: "private key at offset 0",
			f:    res.Findings[0],
			want: "CRITICAL  private-key-in-binary  ----…\n" +
				"          crash/core.4711 @ 0x0 [der-pkcs8]\n" +
				"          confirmed: public point matches the scalar\n" +
				"          +1 more location\n" +
				"          key ecdsa 256 P-256\n" +
				"          fingerprint 0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f\n",
		},
		{
			name: "aes schedule at an address",
			f:    res.Findings[1],
			want: "HIGH      aes-key-schedule  {\"kt…\n" +
				"          crash/core.4711 @ 0x1234 (vaddr 0x7f3a00001234) [aes-schedule]\n" +
				"          confirmed: " + aesConfirm + "\n" +
				"          key AES-256\n" +
				"          fingerprint 1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e\n",
		},
		{
			name: "binary file in git history",
			f: scanner.Finding{RuleID: "private-key-in-binary", Severity: "critical", Secret: "-----BEGIN", Fingerprint: "ab",
				Locations: []scanner.Location{{Source: "git", Path: "bin/app", Offset: offsetPtr(0xbeef), Length: 1218,
					Detector: "der-pkcs1", Commit: "4f6c1e2a9b8d", Author: "Alice"}}},
			want: "CRITICAL  private-key-in-binary  --…\n" +
				"          bin/app @ 0xbeef [der-pkcs1]  commit 4f6c1e2, Alice\n" +
				"          fingerprint ab\n",
		},
		{
			name: "hostile address and detector escaped",
			f: scanner.Finding{RuleID: "r", Severity: "low", Secret: "pw_fake_12345",
				Locations: []scanner.Location{{Path: "d", Offset: offsetPtr(1), Address: "0x1\x1b[2J", Detector: "x\ny", Confirmed: "ok\r"}}},
			want: "LOW       r  pw_…\n" +
				"          d @ 0x1 (vaddr 0x1\\x1b[2J) [x\\ny]\n" +
				"          confirmed: ok\\r\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := string(render(t, Text{}, &Result{Findings: []scanner.Finding{tt.f}}))
			got, _, _ := strings.Cut(out, "\n\n")
			if diff := cmp.Diff(tt.want, got+"\n"); diff != "" {
				t.Errorf("finding block (-want +got):\n%s", diff)
			}
		})
	}
}

// TestBinaryBrief: each place in a dump is a line with its offset, address and detector, and
// no check.
func TestBinaryBrief(t *testing.T) {
	out := string(render(t, Brief{}, dumpResult(t)))
	for _, want := range []string{
		"  crash/core.4711 @ 0x0 [der-pkcs8]  private-key-in-binary  ----…\n",
		"  crash/core.4711 @ 0x2000 (vaddr 0x7f3a00002000) [der-pkcs8]  private-key-in-binary  ----…\n",
		"  crash/core.4711 @ 0x1234 (vaddr 0x7f3a00001234) [aes-schedule]  aes-key-schedule  {\"kt…\n",
		"  config/app.env:3  kw-test-token  kw_t…\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("brief report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "confirmed") {
		t.Errorf("brief report shows the checks:\n%s", out)
	}
}

// TestBinaryCSV: the binary columns come last, after every column scripts already read, and are
// empty for text locations; offset 0 is "0".
func TestBinaryCSV(t *testing.T) {
	rows, err := csv.NewReader(bytes.NewReader(render(t, CSV{}, dumpResult(t)))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rows[0][len(rows[0])-4:], []string{"offset", "length", "address", "detector"}; !cmp.Equal(got, want) {
		t.Errorf("last header columns %v, want %v", got, want)
	}
	if got := rows[0][:22]; got[5] != "path" || got[6] != "line" || got[21] != "exposure_keys" {
		t.Errorf("existing columns moved: %v", got)
	}
	want := [][]string{
		{"0", "138", "", "der-pkcs8"},
		{"8192", "138", "0x7f3a00002000", "der-pkcs8"},
		{"4660", "240", dumpAddress, "aes-schedule"},
		{"", "", "", ""},
	}
	if len(rows) != 1+len(want) {
		t.Fatalf("%d rows, want %d", len(rows), 1+len(want))
	}
	for i, w := range want {
		row := rows[i+1]
		if len(row) != len(CSVHeader) {
			t.Fatalf("row %d has %d cells, want %d", i+1, len(row), len(CSVHeader))
		}
		if diff := cmp.Diff(w, row[len(row)-4:]); diff != "" {
			t.Errorf("row %d binary cells (-want +got):\n%s", i+1, diff)
		}
		if row[6] != "" && i < 3 {
			t.Errorf("row %d: binary location has line %q", i+1, row[6])
		}
	}
}

// TestBinaryHTML: the location shows the offset, address, detector and check; an AES key's
// details say AES-256.
func TestBinaryHTML(t *testing.T) {
	doc := parseHTML(t, render(t, HTML{}, dumpResult(t)))
	page := text(doc)
	for _, want := range []string{
		"crash/core.4711 @ 0x0",
		"crash/core.4711 @ 0x2000 (vaddr 0x7f3a00002000)",
		"crash/core.4711 @ 0x1234 (vaddr 0x7f3a00001234)",
		"found by der-pkcs8, 138 bytes; confirmed: public point matches the scalar",
		"found by aes-schedule, 240 bytes; confirmed: " + aesConfirm,
		"config/app.env:3",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// The AES finding's key facts, read from its detail.
	var facts map[string]string
	for _, tb := range elements(doc, "tbody") {
		if v, _ := attr(tb, "data-rule"); v != ruleAESSchedule.ID {
			continue
		}
		facts = map[string]string{}
		for _, dl := range elements(tb, "dl") {
			for _, div := range elements(dl, "div") {
				dts, dds := elements(div, "dt"), elements(div, "dd")
				if len(dts) == 1 && len(dds) == 1 {
					facts[text(dts[0])] = text(dds[0])
				}
			}
		}
	}
	if facts == nil {
		t.Fatal("no AES finding in the page")
	}
	if facts["Type"] != "AES-256" || facts["Holds"] != "a secret key" || facts["Format"] != "aes-key-schedule" {
		t.Errorf("AES key facts %v, want Type AES-256, Holds a secret key, Format aes-key-schedule", facts)
	}
	if _, ok := facts["Bits"]; ok {
		t.Errorf("AES key facts repeat the bits: %v", facts)
	}
}

// TestBinarySecretsRedacted: no format shows a recovered key (PEM or JWK) unless asked to.
func TestBinarySecretsRedacted(t *testing.T) {
	writers := []struct {
		name string
		w    Writer
	}{{"text", Text{}}, {"json", JSON{}}, {"sarif", SARIF{}}, {"csv", CSV{}}, {"brief", Brief{}}, {"html", HTML{}}}
	res := dumpResult(t)
	for _, wr := range writers {
		t.Run(wr.name, func(t *testing.T) {
			out := string(render(t, wr.w, res))
			for _, f := range res.Findings {
				for _, p := range hiddenPart(f.Secret) {
					if strings.Contains(out, p) {
						t.Errorf("%s report shows %q of a key", wr.name, p)
					}
				}
			}
		})
	}
}
