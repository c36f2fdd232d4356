package scanner

import (
	"errors"
	"fmt"
	"maps"
	mrand "math/rand/v2"
	"strings"
	"testing"
)

// FuzzParseIgnore feeds arbitrary bytes to the .gitleaksignore/.keywardenignore parser. It must
// not panic; every warning and error is one line; every entry it keeps is a content
// fingerprint or a location of three or four fields with forward slashes in its path; and the
// entries it keeps, written back one per line, parse to the same suppressions without warnings.
func FuzzParseIgnore(f *testing.F) {
	rng := mrand.New(mrand.NewPCG(11, 2))
	hexOf := func(n int) string {
		b := make([]byte, n/2)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return fmt.Sprintf("%x", b)
	}
	f.Add([]byte("# findings we accept\n" + hexOf(32) + "\n" + hexOf(32) + " # test fixture\n"))
	f.Add([]byte(hexOf(40) + ":config/prod.env:generic-api-key:12\nsrc\\win\\app.ini:aws-access-token:3\r\n"))
	f.Add([]byte(strings.ToUpper(hexOf(32)) + "\nnot an entry\na:b\na:b:c:d:e\n\n   \t\n#" + hexOf(32) + "\n"))
	f.Add([]byte(hexOf(40) + ":C:\\repo\\key.pem:private-key:1\n")) // a Windows drive: five fields
	f.Add([]byte("path with spaces/a b.txt:rule:7 #not-a-comment#x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var warns []error
		warn := func(err error) { warns = append(warns, err) }
		s, err := ParseIgnore(strings.NewReader(string(data)), ".keywardenignore", warn)
		if err != nil {
			fzCheckOneLine(t, err)
		}
		for _, w := range warns {
			fzCheckOneLine(t, w)
		}
		if s.Fingerprints == nil || s.Locations == nil {
			t.Fatalf("nil maps in %+v", s)
		}
		var b strings.Builder
		for fp := range s.Fingerprints {
			if !fingerprintRe.MatchString(fp) {
				t.Fatalf("fingerprint %q is not 32 lower-case hex digits", fp)
			}
			b.WriteString(fp + "\n")
		}
		for loc := range s.Locations {
			parts := strings.Split(loc, ":")
			pathAt := map[int]int{3: 0, 4: 1}[len(parts)]
			if len(parts) != 3 && len(parts) != 4 {
				t.Fatalf("location %q has %d fields", loc, len(parts))
			}
			if strings.Contains(parts[pathAt], `\`) {
				t.Fatalf("location %q keeps a backslash in its path", loc)
			}
			if loc != strings.TrimSpace(loc) || strings.HasPrefix(loc, "#") || strings.Contains(loc, " #") {
				t.Fatalf("location %q keeps a comment or surrounding space", loc)
			}
			b.WriteString(loc + "\n")
		}
		if err != nil {
			return // what was read before the error is kept, but the rest is not to be compared
		}
		warns = nil
		again, err := ParseIgnore(strings.NewReader(b.String()), "again", warn)
		if err != nil || len(warns) > 0 {
			t.Fatalf("re-reading the kept entries: %v, warnings %v", err, errors.Join(warns...))
		}
		if !maps.Equal(s.Fingerprints, again.Fingerprints) || !maps.Equal(s.Locations, again.Locations) {
			t.Fatalf("re-read entries differ:\n%v\n%v", s, again)
		}
	})
}
