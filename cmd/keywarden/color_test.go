package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"github.com/keywarden/keywarden/scanner/gittest"
)

// openPTY opens a pseudo-terminal and returns its terminal end, which a program sees as a TTY,
// and a function that closes it and returns everything written to it.
func openPTY(t *testing.T) (*os.File, func() string) {
	t.Helper()
	// TIOCSPTLCK and TIOCGPTN as on Linux's common architectures; the syscall package has
	// no portable names for them.
	if runtime.GOOS != "linux" || !strings.Contains(" amd64 arm64 386 arm riscv64 ", " "+runtime.GOARCH+" ") {
		t.Skip("pseudo-terminals are opened the Linux way")
	}
	const tiocsptlck, tiocgptn = 0x40045431, 0x80045430
	ptm, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	var unlock, n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, ptm.Fd(), tiocsptlck, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		t.Fatalf("unlocking pty: %v", e)
	}
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, ptm.Fd(), tiocgptn, uintptr(unsafe.Pointer(&n))); e != 0 {
		t.Fatalf("naming pty: %v", e)
	}
	pts, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Read as the program writes: a terminal's buffer holds only a few KiB.
	var buf bytes.Buffer
	done := make(chan struct{})
	go func() {
		io.Copy(&buf, ptm) // ends with EIO once the terminal end is closed
		close(done)
	}()
	t.Cleanup(func() { ptm.Close(); pts.Close() })
	return pts, func() string {
		pts.Close()
		<-done
		return buf.String()
	}
}

// TestColor checks when output is coloured, for the text report and for rules list, on a pipe
// and on a real terminal.
func TestColor(t *testing.T) {
	dirty := t.TempDir()
	writeFile(t, filepath.Join(dirty, "x.env"), "GITHUB_TOKEN="+gittest.FakeToken(90)+"\n")
	commands := map[string][]string{
		"scan":  {"scan", "dir", dirty, "--quiet"},
		"rules": {"rules", "list", "--tag", "password-hash"},
	}
	tests := []struct {
		name    string
		flags   []string
		env     map[string]string
		tty     bool
		colored bool
	}{
		{"auto on a pipe", nil, nil, false, false},
		{"auto on a terminal", nil, nil, true, true},
		{"explicit auto on a terminal", []string{"--color=auto"}, nil, true, true},
		{"NO_COLOR on a terminal", nil, map[string]string{"NO_COLOR": "1"}, true, false},
		{"empty NO_COLOR is unset", nil, map[string]string{"NO_COLOR": ""}, true, true},
		{"dumb terminal", nil, map[string]string{"TERM": "dumb"}, true, false},
		{"always on a pipe", []string{"--color=always"}, nil, false, true},
		{"always beats NO_COLOR", []string{"--color", "always"}, map[string]string{"NO_COLOR": "1"}, false, true},
		{"never on a terminal", []string{"--color=never"}, nil, true, false},
		{"deprecated --no-color", []string{"--no-color"}, nil, true, false},
		{"explicit --color beats --no-color", []string{"--no-color", "--color=always"}, nil, false, true},
	}
	for cmdName, args := range commands {
		for _, tt := range tests {
			if cmdName == "rules" && strings.Contains(tt.name, "no-color") {
				continue // --no-color is scan's alone
			}
			t.Run(cmdName+"/"+tt.name, func(t *testing.T) {
				t.Setenv("NO_COLOR", "")
				os.Unsetenv("NO_COLOR")
				t.Setenv("TERM", "xterm")
				for k, v := range tt.env {
					t.Setenv(k, v)
				}
				all := append(append([]string{}, args...), tt.flags...)
				var stdout string
				var stderr bytes.Buffer
				var code int
				if tt.tty {
					pts, read := openPTY(t)
					code = run(context.Background(), all, pts, &stderr)
					stdout = read()
				} else {
					var out bytes.Buffer
					code = run(context.Background(), all, &out, &stderr)
					stdout = out.String()
				}
				if code == exitError {
					t.Fatalf("exit 2: %s", stderr.String())
				}
				if got := strings.Contains(stdout, "\x1b["); got != tt.colored {
					t.Errorf("coloured = %v, want %v:\n%q", got, tt.colored, stdout)
				}
				if !strings.Contains(stdout, "high") && !strings.Contains(stdout, "medium") {
					t.Errorf("no severity in the output: %q", stdout)
				}
			})
		}
	}
}

// TestErrorNextSteps checks that the common mistakes end in one line that says what to do.
func TestErrorNextSteps(t *testing.T) {
	notRepo := t.TempDir()
	writeFile(t, filepath.Join(notRepo, "f.txt"), "nothing\n")
	missing := filepath.Join(notRepo, "nope")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"not a repository", []string{"scan", "git", notRepo},
			"not a git repository (run it inside a repository or pass the repository's path; for files outside git use 'keywarden scan dir')"},
		{"staged outside a repository", []string{"scan", "staged", notRepo},
			"(or a bare one, which has no index to commit from; run it inside a repository or pass the repository's path)"},
		{"missing directory", []string{"scan", "dir", missing}, "no such file or directory (check the path)"},
		{"missing config", []string{"scan", "dir", notRepo, "--config", missing}, "(check the --config path, or leave --config out to use the built-in rules)"},
		{"missing baseline", []string{"scan", "dir", notRepo, "--baseline", missing}, "(check the --baseline path; write a baseline with --format json --output FILE)"},
		{"report directory missing", []string{"scan", "dir", notRepo, "--output", filepath.Join(missing, "r.json")}, "(create the directory or choose another --output)"},
		{"mistyped flag", []string{"scan", "dir", notRepo, "--fromat", "json"}, "keywarden scan dir: unknown flag: --fromat (did you mean --format? see 'keywarden scan dir --help')"},
		{"unknown flag", []string{"scan", "dir", notRepo, "--frobnicate"}, "unknown flag: --frobnicate (see 'keywarden scan dir --help')"},
		{"flag without its value", []string{"scan", "dir", notRepo, "--exit-code"}, "flag needs an argument: --exit-code (see 'keywarden scan dir --help')"},
		{"not a number", []string{"scan", "dir", notRepo, "-j", "x"}, `invalid argument "x" for "-j, --jobs" flag: want a whole number (see 'keywarden scan dir --help')`},
		{"missing argument", []string{"scan", "dir"}, "keywarden scan dir: accepts 1 arg(s), received 0 (usage: keywarden scan dir PATH)"},
		{"mistyped command", []string{"sacn", "dir", "."}, `unknown command "sacn" for "keywarden" (did you mean scan? see 'keywarden --help')`},
		{"bad colour", []string{"scan", "dir", notRepo, "--color=sometimes"}, `invalid argument "sometimes" for "--color" flag: want auto, always or never`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := keywarden(t, tt.args...)
			if r.code != exitError {
				t.Errorf("exit %d, want 2", r.code)
			}
			if !strings.HasPrefix(r.stderr, "keywarden: ") || !strings.HasSuffix(r.stderr, tt.want+"\n") || strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("stderr %q, want one keywarden: line ending in %q", r.stderr, tt.want)
			}
		})
	}
}
