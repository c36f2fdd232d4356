package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/keywarden/keywarden/hsmcheck"
	"github.com/keywarden/keywarden/report/sariftest"
	"github.com/keywarden/keywarden/rules"
	"github.com/keywarden/keywarden/rules/keys"
	"github.com/keywarden/keywarden/scanner"
)

// fzCanary stands for a secret in the fuzz seeds: made at run time (the repository scans
// itself), with a fixed seed so that a failure reproduces.
var fzCanary = func() string {
	r := mrand.New(mrand.NewPCG(11, 5))
	return fmt.Sprintf("kwcanary%016x%016x", r.Uint64(), r.Uint64())
}()

// fzFlags says which optional parts a fuzzed Result has.
const (
	fzShow     = 1 << iota // ShowSecrets
	fzBinary               // the first location is in a binary file (offset, address)
	fzImage                // the first location is in an image layer
	fzTwo                  // a second finding, of the same rule, with two locations
	fzKey                  // the finding describes a key, its weaknesses, strength and exposure
	fzRoot                 // the scan root is known, so paths under it are relative
	fzSkipped              // a skipped blob
	fzSeverity             // the finding has an unknown severity
)

// fzResult builds a Result from fuzzed values, within what a scan can produce: times within
// years 1–9999 and a finite entropy (encoding/json refuses the rest, and a scan makes neither).
func fzResult(secret, rule, desc, path, commit, author string, line, col int, sec int64, entropy float64, flags uint8) *Result {
	when := time.Unix(1+sec%253402300000, 0).UTC() // 1970..9999
	if math.IsNaN(entropy) || math.IsInf(entropy, 0) {
		entropy = 0
	}
	loc := scanner.Location{Source: "git", Path: path, Line: line, Column: col, EndLine: line + col%3, EndColumn: col + 7,
		Commit: commit, Author: author, Email: author + "@example.com", Date: when, Message: desc}
	if flags&fzBinary != 0 {
		off := int64(line)<<8 | int64(col&0xff)
		loc.Line, loc.Column, loc.EndLine, loc.EndColumn = 0, 0, 0, 0
		loc.Offset, loc.Length, loc.Address, loc.Detector, loc.Confirmed = &off, col, fmt.Sprintf("0x%x", off), "der", "parsed"
	}
	if flags&fzImage != 0 {
		loc.Source, loc.Image, loc.ImageDigest = "image", "registry.example:5000/"+rule+":1", "sha256:"+commit
		loc.Layer, loc.LayerDigest, loc.RemovedInLayer, loc.Note = 1+col%4, "sha256:"+commit, 2+col%4, desc
	}
	sev := []string{"critical", "high", "medium", "low", "info"}[uint(line)%5]
	if flags&fzSeverity != 0 {
		sev = desc
	}
	f := scanner.Finding{RuleID: rule, Description: desc, Severity: sev, Kind: "token", Secret: secret,
		Fingerprint: fmt.Sprintf("%032x", sec), Entropy: entropy, Tags: []string{rule, desc}, Locations: []scanner.Location{loc}}
	if flags&fzKey != 0 {
		f.Key = &scanner.KeyInfo{Type: "rsa", Bits: col, Format: desc, Private: true, PublicSHA256: commit, Encrypted: true,
			KDF: &keys.KDF{Name: "pbkdf2", Hash: author, Iterations: line}}
		f.Weaknesses = []keys.Weakness{{ID: "rsa-short", Severity: sev, Summary: desc, Reference: path}}
		f.Strength = &rules.Strength{Grade: "weak", Reason: desc}
		f.Exposure = &hsmcheck.Exposure{Status: "live", Scopes: []string{author},
			Matches: []hsmcheck.Match{{Inventory: path, KeyID: commit, Label: desc, By: "spki"}}}
	}
	res := &Result{
		Tool:     Tool{Name: "keywarden", Version: "v0.0.0-fuzz", InformationURI: "https://example.invalid/keywarden"},
		Source:   "git",
		Target:   path,
		Started:  when,
		Findings: []scanner.Finding{f},
		Stats: scanner.Stats{Blobs: int64(line), Bytes: sec, ScannedBytes: sec / 2, Skipped: int64(col),
			Commits: 3, Duration: time.Duration(col) * time.Millisecond},
		Rules:       map[string]rules.RuleInfo{rule: {ID: rule, Description: desc, Severity: sev, Tags: []string{desc, author}}},
		ShowSecrets: flags&fzShow != 0,
	}
	if flags&fzRoot != 0 {
		res.Root = "/" + strings.TrimLeft(commit, "/")
	}
	if flags&fzTwo != 0 {
		g := f
		g.Secret, g.Fingerprint = secret+author, fmt.Sprintf("%032x", sec+1)
		l2 := loc
		l2.Path, l2.Line = commit+"/"+path, line+1
		g.Locations = []scanner.Location{l2, loc}
		res.Findings = append(res.Findings, g)
	}
	if flags&fzSkipped != 0 {
		res.Skipped = []scanner.SkippedBlob{{Path: path, Reason: desc, Size: sec}}
	}
	return res
}

// FuzzJSONRoundTrip writes a fuzzed Result as a JSON report, reads it back with ReadJSON and
// writes what it read again: the two reports must be identical, the report must hold each
// secret redacted unless ShowSecrets, and its SARIF rendering, at GitHub's limits and at tiny
// ones, must be valid SARIF 2.1.0 within those limits that shows no more of the secret than
// the JSON report does.
func FuzzJSONRoundTrip(f *testing.F) {
	f.Add(fzCanary, "generic-api-key", "Generic API Key", "config/app.env", "0123456789abcdef0123456789abcdef01234567", "Dev", 12, 5, int64(1700000000), 4.2, uint8(0))
	f.Add(fzCanary, "private-key", "Private Key.", `C:\repo\key.pem`, "abc", "ü ñ", 1, 1, int64(-5), 0.0, uint8(fzShow|fzTwo|fzKey|fzSkipped))
	f.Add(fzCanary, "aws-access-token", "<b>&\"quoted\"</b>\n", "/srv/app/../etc/secret", "srv/app", "a\x00b", 0, 0, int64(1), 7.9, uint8(fzBinary|fzRoot))
	f.Add(fzCanary, "x", "", "app/lib.jar!/x.properties", "d1", "", 3, 9, int64(99), 1e308, uint8(fzImage|fzTwo|fzSeverity))
	f.Add("short", "r", strings.Repeat("long description ", 20), "a b/c%20d?.txt", "", "", -4, -2, int64(0), -1.0, uint8(0xff))
	f.Add("\xff\xfe", "r\xff", "\u2028", "\xff.txt", "c", "d", 2, 2, int64(2), 2.0, uint8(fzKey))
	f.Fuzz(func(t *testing.T, secret, rule, desc, path, commit, author string, line, col int, sec int64, entropy float64, flags uint8) {
		res := fzResult(secret, rule, desc, path, commit, author, line, col, sec, entropy, flags)
		var j1 bytes.Buffer
		if err := (JSON{}).Write(&j1, res); err != nil {
			t.Fatalf("writing JSON: %v", err)
		}
		rep, err := ReadJSON(bytes.NewReader(j1.Bytes()))
		if err != nil {
			t.Fatalf("reading back the JSON report: %v", err)
		}
		var j2 bytes.Buffer
		if err := (JSON{}).Write(&j2, rep.Result(res.ShowSecrets)); err != nil {
			t.Fatalf("writing the read report: %v", err)
		}
		// encoding/json writes a byte of invalid UTF-8 as the escape \ufffd, and that character
		// read back as itself: such reports are the same JSON, not the same bytes.
		if !fzSameJSON(j1.Bytes(), j2.Bytes()) ||
			fzValidUTF8(secret, rule, desc, path, commit, author) && !bytes.Equal(j1.Bytes(), j2.Bytes()) {
			t.Fatalf("JSON report changed in a round trip:\n%s\n%s", j1.Bytes(), j2.Bytes())
		}
		for i, jf := range rep.Findings {
			want := scanner.Redact(res.Findings[i].Secret)
			if res.ShowSecrets {
				want = res.Findings[i].Secret
			}
			if jf.Secret != string([]rune(want)) { // encoding/json writes each invalid byte as U+FFFD
				t.Fatalf("finding %d: secret %q in the report, want %q", i, jf.Secret, want)
			}
		}

		var sarifOut bytes.Buffer
		if err := (SARIF{}).Write(&sarifOut, res); err != nil {
			t.Fatalf("writing SARIF: %v", err)
		}
		fzCheckSARIF(t, sarifOut.Bytes(), githubLimits)
		tiny := sarifLimits{results: 1, locations: 1, tags: 1, gzipBytes: 1200}
		small, err := res.renderSARIF(tiny)
		if err != nil {
			t.Fatalf("rendering SARIF within %+v: %v", tiny, err)
		}
		fzCheckSARIF(t, small, tiny)
		if !res.ShowSecrets {
			fzCheckHidden(t, res, sarifOut.Bytes())
		}
	})
}

// fzSameJSON reports whether a and b hold the same JSON value.
func fzSameJSON(a, b []byte) bool {
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return false
	}
	return reflect.DeepEqual(va, vb)
}

func fzValidUTF8(ss ...string) bool {
	for _, s := range ss {
		if !utf8.ValidString(s) {
			return false
		}
	}
	return true
}

// fzCheckSARIF checks that out is SARIF 2.1.0 within lim: the results, a result's locations
// and a rule's tags counted, and the size unless no result is left to leave out.
func fzCheckSARIF(t *testing.T, out []byte, lim sarifLimits) {
	t.Helper()
	var log struct {
		Runs []struct {
			Results []struct {
				Locations        []json.RawMessage `json:"locations"`
				RelatedLocations []json.RawMessage `json:"relatedLocations"`
			} `json:"results"`
			Tool struct {
				Driver struct {
					Rules []struct {
						Properties struct {
							Tags []string `json:"tags"`
						} `json:"properties"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(out, &log); err != nil {
		t.Fatalf("SARIF is not JSON: %v", err)
	}
	if err := sariftest.Validate(t, out); err != nil {
		t.Fatalf("SARIF does not match the schema: %v\n%s", err, out)
	}
	if len(log.Runs) != 1 {
		t.Fatalf("%d runs", len(log.Runs))
	}
	run := log.Runs[0]
	if len(run.Results) > lim.results {
		t.Fatalf("%d results, limit %d", len(run.Results), lim.results)
	}
	for i, r := range run.Results {
		if n := len(r.Locations) + len(r.RelatedLocations); n > lim.locations || len(r.Locations) != 1 {
			t.Fatalf("result %d: %d locations, %d related, limit %d in all", i, len(r.Locations), len(r.RelatedLocations), lim.locations)
		}
	}
	for i, r := range run.Tool.Driver.Rules {
		if len(r.Properties.Tags) > lim.tags {
			t.Fatalf("rule %d: %d tags, limit %d", i, len(r.Properties.Tags), lim.tags)
		}
	}
	if len(run.Results) > 0 && gzipSize(out) > lim.gzipBytes {
		t.Fatalf("%d bytes gzipped with %d results, limit %d", gzipSize(out), len(run.Results), lim.gzipBytes)
	}
}

// fzCheckHidden fails if a secret long enough to be redacted to a prefix occurs in out more
// often than in the same report of a result whose secrets are something else: what the
// fuzzer put in other fields may spell the secret too.
func fzCheckHidden(t *testing.T, res *Result, out []byte) {
	t.Helper()
	other := *res
	other.Findings = append([]scanner.Finding(nil), res.Findings...)
	for i := range other.Findings {
		other.Findings[i].Secret = strings.Repeat("\u2603", utf8.RuneCountInString(res.Findings[i].Secret))
	}
	var b bytes.Buffer
	if err := (SARIF{}).Write(&b, &other); err != nil {
		t.Fatalf("writing SARIF: %v", err)
	}
	for _, f := range res.Findings {
		if utf8.RuneCountInString(f.Secret) < 16 || !utf8.ValidString(f.Secret) {
			continue
		}
		enc, _ := json.Marshal(f.Secret)
		s := enc[1 : len(enc)-1]
		if bytes.Count(out, s) > bytes.Count(b.Bytes(), s) {
			t.Fatalf("SARIF shows the secret %q", f.Secret)
		}
	}
}

// FuzzReadJSON feeds arbitrary bytes to ReadJSON. It must not panic, and must fail with one
// line that does not quote the input (seeded with a canary secret); a report it accepts,
// rendered and read again, must render the same, and its SARIF must be valid.
func FuzzReadJSON(f *testing.F) {
	for _, flags := range []uint8{0, fzShow | fzTwo | fzKey | fzSkipped, fzShow | fzBinary | fzImage} {
		var b bytes.Buffer
		res := fzResult(fzCanary, "generic-api-key", "Generic API Key", "src/"+fzCanary+".env", "c0ffee", "Dev", 4, 2, 1700000000, 3.5, flags)
		res.Repos = []scanner.RepoStatus{{Repo: "https://example.invalid/" + fzCanary + ".git"}}
		res.Shard = "1/2"
		if err := (JSON{}).Write(&b, res); err != nil {
			f.Fatal(err)
		}
		f.Add(b.Bytes())
		f.Add(b.Bytes()[:b.Len()/2])
	}
	f.Add([]byte(`{"schema_version":1,"findings":[{"secret":1}]}`))
	f.Add([]byte(`{"schema_version":1,"findings":[{"locations":[{"line":"` + fzCanary + `"}]}]}`))
	f.Add([]byte(`{"schema_version":1,"stats":{"blobs":1e99},"findings":null,"skipped":[{"size":-1}]}`))
	f.Add([]byte(`{"schema_version":2}`))
	f.Add([]byte(`{"schema_version":1,"scan":{"started":"` + fzCanary + `"}}`))
	f.Add([]byte(`{"schema_version":1}{"` + fzCanary + `":1}`))
	f.Add([]byte(`[{"RuleID":"r","File":"f","StartLine":1,"Secret":"` + fzCanary + `"}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := ReadJSON(bytes.NewReader(data))
		if err != nil {
			fzCheckError(t, err)
			return
		}
		var j1, j2 bytes.Buffer
		if err := (JSON{}).Write(&j1, rep.Result(true)); err != nil {
			t.Fatalf("writing an accepted report: %v", err)
		}
		again, err := ReadJSON(bytes.NewReader(j1.Bytes()))
		if err != nil {
			t.Fatalf("reading a report written from an accepted one: %v\n%s", err, j1.Bytes())
		}
		if err := (JSON{}).Write(&j2, again.Result(true)); err != nil {
			t.Fatalf("writing it again: %v", err)
		}
		if !bytes.Equal(j1.Bytes(), j2.Bytes()) {
			t.Fatalf("report changed in a second round trip:\n%s\n%s", j1.Bytes(), j2.Bytes())
		}
		var s bytes.Buffer
		if err := (SARIF{}).Write(&s, rep.Result(false)); err != nil {
			t.Fatalf("writing SARIF of an accepted report: %v", err)
		}
		if err := sariftest.Validate(t, s.Bytes()); err != nil {
			t.Fatalf("SARIF of an accepted report does not match the schema: %v\n%s", err, s.Bytes())
		}
	})
}

// fzCheckError fails t unless err is one line that does not hold the seeds' canary.
func fzCheckError(t *testing.T, err error) {
	t.Helper()
	msg := err.Error()
	if msg == "" || strings.ContainsAny(msg, "\n\r") {
		t.Fatalf("error %q is not one line", msg)
	}
	if strings.Contains(msg, fzCanary[:12]) {
		t.Fatalf("error %q quotes the input", msg)
	}
}
