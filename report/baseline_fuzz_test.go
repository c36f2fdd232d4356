package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// fzLocationKey is what a gitleaks baseline entry becomes: "[commit:]path:rule:line".
var fzLocationKey = regexp.MustCompile(`:[1-9][0-9]*$`)

// FuzzReadBaseline feeds arbitrary bytes to ReadBaseline as a --baseline file. It must not
// panic; it fails with one line naming the file and not quoting it (the seeds hold a canary
// secret); a keywarden baseline gives exactly the fingerprints ReadJSON reads from it, a
// gitleaks one only location keys ending in a line number; and a byte-order mark or
// surrounding white space changes nothing.
func FuzzReadBaseline(f *testing.F) {
	for _, flags := range []uint8{0, fzTwo | fzKey | fzSkipped, fzShow | fzBinary | fzImage} {
		var b bytes.Buffer
		res := fzResult(fzCanary, "generic-api-key", "Generic API Key", "src/app.env", "c0ffee", "Dev", 4, 2, 1700000000, 3.5, flags)
		if err := (JSON{}).Write(&b, res); err != nil {
			f.Fatal(err)
		}
		f.Add(b.Bytes())
	}
	gl, err := json.MarshalIndent([]map[string]any{
		{"Description": "AWS", "StartLine": 3, "EndLine": 3, "StartColumn": 1, "EndColumn": 20, "Match": "key=" + fzCanary,
			"Secret": fzCanary, "File": `deploy\prod.env`, "Commit": "0123456789abcdef0123456789abcdef01234567", "Entropy": 4.1,
			"Author": "Dev", "Email": "dev@example.com", "Date": "2024-01-01T00:00:00Z", "Message": "add", "Tags": []string{},
			"RuleID": "aws-access-token", "Fingerprint": "0123456789abcdef0123456789abcdef01234567:deploy/prod.env:aws-access-token:3"},
		{"RuleID": "generic-api-key", "File": "a.txt", "StartLine": 1, "Secret": fzCanary},
	}, "", " ")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(gl)
	f.Add([]byte("\xef\xbb\xbf  []\n"))
	f.Add([]byte(`[{"RuleID":"r","File":"f","StartLine":0,"Secret":"` + fzCanary + `"}]`))
	f.Add([]byte(`{"schema_version":1,"findings":[{"fingerprint":"","secret":"` + fzCanary + `"}]}`))
	f.Add([]byte(`["` + fzCanary + `"]`))
	f.Add([]byte(fzCanary))
	f.Add([]byte{})
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "baseline.json")
		read := func(data []byte) (Baseline, error) {
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			return ReadBaseline(path)
		}
		b, err := read(data)
		if err != nil {
			fzCheckError(t, err)
			if !strings.HasPrefix(err.Error(), fmt.Sprintf("reading baseline %q: ", path)) {
				t.Fatalf("error %q does not name the file", err)
			}
		} else {
			trimmed := bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
			switch trimmed[0] {
			case '{':
				rep, err := ReadJSON(bytes.NewReader(trimmed))
				if err != nil {
					t.Fatalf("a baseline ReadJSON refuses: %v", err)
				}
				want := map[string]bool{}
				for _, f := range rep.Findings {
					want[f.Fingerprint] = true
				}
				if !maps.Equal(b.Fingerprints, want) || len(b.Locations) > 0 {
					t.Fatalf("baseline %+v, want the fingerprints %v", b, want)
				}
			case '[':
				if len(b.Fingerprints) > 0 {
					t.Fatalf("fingerprints %v from a gitleaks report", b.Fingerprints)
				}
				for k := range b.Locations {
					if !fzLocationKey.MatchString(k) {
						t.Fatalf("location key %q", k)
					}
				}
			default:
				t.Fatalf("accepted a baseline starting with %q", trimmed[0])
			}
		}
		if bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
			return // only one mark is taken off
		}
		for _, variant := range [][]byte{append([]byte("\xef\xbb\xbf"), data...), append(append([]byte("\n\t "), data...), " \r\n"...)} {
			vb, verr := read(variant)
			if (err == nil) != (verr == nil) || err != nil && err.Error() != verr.Error() ||
				!maps.Equal(b.Fingerprints, vb.Fingerprints) || !maps.Equal(b.Locations, vb.Locations) {
				t.Fatalf("a byte-order mark or white space changed the outcome: %v, %v", err, verr)
			}
		}
	})
}
