package scanner

import (
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// FuzzParsePrePush feeds arbitrary standard input to the pre-push parser. It must not panic,
// fail with anything but one line, or accept a line that is not four fields with object IDs;
// what it accepts, written back in git's format, must parse to the same updates.
func FuzzParsePrePush(f *testing.F) {
	rng := mrand.New(mrand.NewPCG(11, 1))
	oid := func(n int) string {
		b := make([]byte, n/2)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return fmt.Sprintf("%x", b)
	}
	zero := strings.Repeat("0", 40)
	f.Add([]byte("refs/heads/main " + oid(40) + " refs/heads/main " + oid(40) + "\n"))
	f.Add([]byte("refs/heads/new " + oid(40) + " refs/heads/new " + zero + "\n" +
		"(delete) " + zero + " refs/heads/old " + oid(40) + "\n"))
	f.Add([]byte("HEAD " + strings.ToUpper(oid(64)) + "\trefs/heads/sha256 " + oid(64) + "\r\n\n  \n"))
	f.Add([]byte("refs/heads/main " + oid(40) + " refs/heads/main\n"))                  // three fields
	f.Add([]byte("refs/heads/main " + oid(39) + "z refs/heads/main " + oid(40) + "\n")) // not hex
	f.Add([]byte("refs/heads/main\n" + strings.Repeat("x", 70<<10)))                    // a line past the buffer
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		ups, err := ParsePrePush(strings.NewReader(string(data)))
		if err != nil {
			fzCheckOneLine(t, err)
			if ups != nil {
				t.Fatalf("updates %v returned with error %v", ups, err)
			}
			return
		}
		var lines int
		for l := range strings.SplitSeq(string(data), "\n") {
			if strings.TrimSpace(l) != "" {
				lines++
			}
		}
		if len(ups) != lines {
			t.Fatalf("%d updates from %d non-blank lines", len(ups), lines)
		}
		var b strings.Builder
		for _, u := range ups {
			for _, s := range []string{u.LocalRef, u.RemoteRef} {
				if s == "" || strings.ContainsFunc(s, fzIsSpace) {
					t.Fatalf("ref %q is empty or holds a space", s)
				}
			}
			for _, s := range []string{u.LocalSHA, u.RemoteSHA} {
				if !isObjectID(s) || s != strings.ToLower(s) {
					t.Fatalf("object ID %q is not lower-case hex of 40 or 64 digits", s)
				}
			}
			fmt.Fprintf(&b, "%s %s %s %s\n", u.LocalRef, u.LocalSHA, u.RemoteRef, u.RemoteSHA)
		}
		again, err := ParsePrePush(strings.NewReader(b.String()))
		if err != nil {
			t.Fatalf("re-reading what was accepted: %v", err)
		}
		if !slices.Equal(ups, again) {
			t.Fatalf("re-read updates differ:\n%v\n%v", ups, again)
		}
	})
}

// fzIsSpace is what strings.Fields splits on, for ASCII and beyond.
func fzIsSpace(r rune) bool { return strings.TrimSpace(string(r)) == "" }

// fzCheckOneLine fails t unless err's message is one non-empty line: bad input gets a clear
// one-line error (issue #11). Joined errors are checked part by part, each its own line.
func fzCheckOneLine(t testing.TB, err error) {
	t.Helper()
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var msgs []string
		for _, e := range j.Unwrap() {
			msgs = append(msgs, e.Error())
		}
		if strings.Join(msgs, "\n") == err.Error() { // errors.Join: one problem per line
			for _, e := range j.Unwrap() {
				fzCheckOneLine(t, e)
			}
			return
		}
	}
	if msg := err.Error(); msg == "" || strings.ContainsAny(msg, "\n\r") {
		t.Fatalf("error %q is not one line", msg)
	}
}
