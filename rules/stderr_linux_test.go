package rules

import (
	"io"
	"os"
	"syscall"
	"testing"

	"github.com/zricethezav/gitleaks/v8/logging"
)

// captureFD2 runs f with file descriptor 2 redirected to a pipe and returns what was written.
// Redirecting the descriptor, not os.Stderr, is what catches writers that captured os.Stderr
// at init time (gitleaks' logger) and foreign code (RE2 inside go-re2).
func captureFD2(t *testing.T, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved, err := syscall.Dup(2)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Dup3(int(w.Fd()), 2, 0); err != nil {
		t.Fatal(err)
	}
	out := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		out <- string(b)
	}()
	func() {
		defer func() {
			if err := syscall.Dup3(saved, 2, 0); err != nil {
				t.Fatal(err)
			}
			syscall.Close(saved)
			w.Close()
		}()
		f()
	}()
	return <-out
}

// TestNoStderr checks that loading and detecting print nothing, including on the paths where
// the gitleaks library logs (warnings, decoder debug output) or RE2 reports a bad regex.
func TestNoStderr(t *testing.T) {
	// The capture itself must work, or the test below would pass vacuously.
	if got := captureFD2(t, func() { syscall.Write(2, []byte("probe")) }); got != "probe" {
		t.Fatalf("capture = %q, want %q", got, "probe")
	}
	got := captureFD2(t, func() {
		logging.Warn().Msg("this must not be printed")
		logging.Error().Msg("nor this")
		rs, err := Default()
		if err != nil {
			t.Error(err)
			return
		}
		for _, toml := range []string{
			"[[rules]]\nid = \"r\"\nregex = '''(abc'''\n",
			"[extend]\nuseDefault = true\ndisabledRules = [\"no-such-rule\"]\n",
			"minVersion = \"v99.0.0\"\n[[rules]]\nid = \"r\"\nregex = 'x{3}'\n",
			"[[rules]\n",
		} {
			LoadBytes("x.toml", []byte(toml))
		}
		d := NewDetector(rs, DetectorOptions{})
		d.Detect([]byte("blob: dG9rZW4gPSAiZ2hwX0FCQ0RFRmdoaWprbG1ub3BxcnN0dXZ3eHl6MDEyMzQ1Njc4OSI=\nkey = %41%42%43\n"))
	})
	if got != "" {
		t.Errorf("stderr output: %q", got)
	}
}
