package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/keywarden/keywarden/report/auditlog"
)

// auditLog writes a log of n entries and returns its path and the head after each append.
func auditLog(t *testing.T, key []byte, n int) (string, []string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), ".keywarden", "audit.jsonl")
	l, err := auditlog.Open(path, key)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var heads []string
	for i := range n {
		h, err := l.Append(auditlog.Entry{
			Command: "keywarden rotate app-signing --apply",
			Event:   "rotation-step",
			Keys:    []auditlog.KeyRef{{Inventory: "pkcs11:app", ID: "0a0b", Label: "app-signing", Version: 1}},
			Details: map[string]any{"step": i},
		})
		if err != nil {
			t.Fatal(err)
		}
		heads = append(heads, h)
	}
	return path, heads
}

// auditKeyFile writes a fresh random key as hex to a file of the given mode.
func auditKeyFile(t *testing.T, mode os.FileMode) (string, []byte) {
	t.Helper()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "audit.key")
	if err := os.WriteFile(path, []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path, key
}

// editLine applies edit to line i (1-based) of the file.
func editLine(t *testing.T, path string, i int, edit func([]byte) []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(b, []byte("\n"))
	lines[i-1] = edit(lines[i-1])
	if err := os.WriteFile(path, bytes.Join(lines, nil), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestAuditVerify(t *testing.T) {
	keyPath, key := auditKeyFile(t, 0o600)
	otherKeyPath, _ := auditKeyFile(t, 0o600)
	looseKeyPath, _ := auditKeyFile(t, 0o644)
	const n = 5
	type setup struct {
		path  string
		heads []string
	}
	plain := func(t *testing.T) setup { p, h := auditLog(t, nil, n); return setup{p, h} }
	keyed := func(t *testing.T) setup { p, h := auditLog(t, key, n); return setup{p, h} }
	tests := []struct {
		name     string
		log      func(*testing.T) setup
		tamper   func(t *testing.T, s setup)
		args     func(s setup) []string // after "audit verify FILE"
		wantCode int
		wantOut  string // regexp the one stdout line must match
		wantErr  string // part of the one stderr line
	}{
		{
			name:     "ok",
			log:      plain,
			wantCode: exitClean,
			wantOut:  `^audit log ok: 5 lines, chain [0-9a-f]{32}, head HEAD5\n$`,
		},
		{
			name:     "keyed ok",
			log:      keyed,
			args:     func(setup) []string { return []string{"--audit-hmac-key-file", keyPath} },
			wantCode: exitClean,
			wantOut:  `^audit log ok: 5 lines, keyed chain [0-9a-f]{32}, head HEAD5\n$`,
		},
		{
			name: "edited line",
			log:  plain,
			tamper: func(t *testing.T, s setup) {
				editLine(t, s.path, 3, func(b []byte) []byte { return bytes.Replace(b, []byte(`"step":2`), []byte(`"step":7`), 1) })
			},
			wantCode: exitFindings,
			wantErr:  "broken at line 3: line changed",
		},
		{
			name: "edited line, keyed",
			log:  keyed,
			tamper: func(t *testing.T, s setup) {
				editLine(t, s.path, 2, func(b []byte) []byte { return bytes.Replace(b, []byte("app-signing"), []byte("app-signing-old"), 1) })
			},
			args:     func(setup) []string { return []string{"--audit-hmac-key-file", keyPath} },
			wantCode: exitFindings,
			wantErr:  "broken at line 2: HMAC does not verify",
		},
		{
			name:     "deleted line",
			log:      plain,
			tamper:   func(t *testing.T, s setup) { editLine(t, s.path, 2, func([]byte) []byte { return nil }) },
			wantCode: exitFindings,
			wantErr:  "broken at line 2: seq 3, want 2",
		},
		{
			name:     "expected head of the last line",
			log:      plain,
			args:     func(s setup) []string { return []string{"--expect-head", s.heads[n-1]} },
			wantCode: exitClean,
			wantOut:  `^audit log ok: 5 lines, chain [0-9a-f]{32}, head HEAD5\n$`,
		},
		{
			name:     "expected head recorded earlier, upper case",
			log:      plain,
			args:     func(s setup) []string { return []string{"--expect-head", strings.ToUpper(s.heads[1])} },
			wantCode: exitClean,
			wantOut:  `^audit log ok: 5 lines`,
		},
		{
			name: "truncated, head recorded",
			log:  plain,
			tamper: func(t *testing.T, s setup) {
				editLine(t, s.path, 5, func([]byte) []byte { return nil })
				editLine(t, s.path, 4, func([]byte) []byte { return nil })
			},
			args:     func(s setup) []string { return []string{"--expect-head", s.heads[n-1]} },
			wantCode: exitFindings,
			wantErr:  "broken at line 4: no line has the expected head",
		},
		{
			name: "truncated, no head: the shorter log verifies",
			log:  plain,
			tamper: func(t *testing.T, s setup) {
				editLine(t, s.path, 5, func([]byte) []byte { return nil })
			},
			wantCode: exitClean,
			wantOut:  `^audit log ok: 4 lines, chain [0-9a-f]{32}, head HEAD4\n$`,
		},
		{
			name:     "torn last line",
			log:      plain,
			tamper:   func(t *testing.T, s setup) { editLine(t, s.path, 5, func(b []byte) []byte { return b[:len(b)-10] }) },
			wantCode: exitFindings,
			wantErr:  "broken at line 5: torn line",
		},
		{
			name:     "keyed, wrong key",
			log:      keyed,
			args:     func(setup) []string { return []string{"--audit-hmac-key-file", otherKeyPath} },
			wantCode: exitFindings,
			wantErr:  "broken at line 1: HMAC does not verify: the key is wrong",
		},
		{
			name:     "unkeyed, key given",
			log:      plain,
			args:     func(setup) []string { return []string{"--audit-hmac-key-file", keyPath} },
			wantCode: exitFindings,
			wantErr:  "broken at line 1: the chain is not keyed",
		},
		{
			name:     "keyed, no key",
			log:      keyed,
			wantCode: exitError,
			wantErr:  "give --audit-hmac-key-file",
		},
		{
			name:     "missing file",
			log:      func(t *testing.T) setup { return setup{path: filepath.Join(t.TempDir(), "nope.jsonl")} },
			wantCode: exitError,
			wantErr:  "opening audit log: open ",
		},
		{
			name:     "missing key file",
			log:      keyed,
			args:     func(setup) []string { return []string{"--audit-hmac-key-file", keyPath + ".nope"} },
			wantCode: exitError,
			wantErr:  "reading audit HMAC key file",
		},
		{
			name:     "key file readable by others",
			log:      keyed,
			args:     func(setup) []string { return []string{"--audit-hmac-key-file", looseKeyPath} },
			wantCode: exitError,
			wantErr:  "accessible to group or others (mode 0644)",
		},
		{
			name:     "malformed expected head",
			log:      plain,
			args:     func(setup) []string { return []string{"--expect-head", "9b1c"} },
			wantCode: exitError,
			wantErr:  "want 64 hex digits",
		},
		{
			name: "empty log",
			log: func(t *testing.T) setup {
				p := filepath.Join(t.TempDir(), "audit.jsonl")
				writeFile(t, p, "")
				return setup{path: p}
			},
			wantCode: exitClean,
			wantOut:  `^audit log ok: empty, no chain yet\n$`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.log(t)
			if tt.tamper != nil {
				tt.tamper(t, s)
			}
			args := []string{"audit", "verify", s.path}
			if tt.args != nil {
				args = append(args, tt.args(s)...)
			}
			res := keywarden(t, args...)
			if res.code != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", res.code, tt.wantCode, res.stdout, res.stderr)
			}
			if tt.wantOut != "" {
				re := tt.wantOut
				for i, h := range s.heads {
					re = strings.ReplaceAll(re, "HEAD"+string(rune('1'+i)), h)
				}
				if !regexp.MustCompile(re).MatchString(res.stdout) {
					t.Errorf("stdout %q, want it to match %q", res.stdout, re)
				}
			} else if res.stdout != "" {
				t.Errorf("stdout %q, want nothing", res.stdout)
			}
			if tt.wantErr == "" {
				if res.stderr != "" {
					t.Errorf("stderr %q, want nothing", res.stderr)
				}
				return
			}
			if !strings.Contains(res.stderr, tt.wantErr) || strings.Count(res.stderr, "\n") != 1 {
				t.Errorf("stderr %q, want one line containing %q", res.stderr, tt.wantErr)
			}
			if strings.Contains(res.stderr, hex.EncodeToString(key)) {
				t.Error("the key is in the error")
			}
		})
	}
}

func TestAuditHead(t *testing.T) {
	keyPath, key := auditKeyFile(t, 0o600)
	plainPath, plainHeads := auditLog(t, nil, 3)
	keyedPath, keyedHeads := auditLog(t, key, 3)
	tamperedPath, _ := auditLog(t, nil, 3)
	editLine(t, tamperedPath, 1, func(b []byte) []byte { return bytes.Replace(b, []byte(`"step":0`), []byte(`"step":9`), 1) })

	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{name: "unkeyed", args: []string{plainPath}, wantOut: plainHeads[2] + "\n"},
		{name: "keyed", args: []string{keyedPath, "--audit-hmac-key-file", keyPath}, wantOut: keyedHeads[2] + "\n"},
		{name: "tampered", args: []string{tamperedPath}, wantCode: exitFindings, wantErr: "broken at line 1: line changed"},
		{name: "keyed, no key", args: []string{keyedPath}, wantCode: exitError, wantErr: "give --audit-hmac-key-file"},
		{name: "no file argument", args: nil, wantCode: exitError, wantErr: "accepts 1 arg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := keywarden(t, append([]string{"audit", "head"}, tt.args...)...)
			if res.code != tt.wantCode || res.stdout != tt.wantOut || !strings.Contains(res.stderr, tt.wantErr) {
				t.Errorf("exit %d, stdout %q, stderr %q\nwant exit %d, stdout %q, stderr containing %q",
					res.code, res.stdout, res.stderr, tt.wantCode, tt.wantOut, tt.wantErr)
			}
		})
	}

	if res := keywarden(t, "audit", "verfy", plainPath); res.code != exitError || !strings.Contains(res.stderr, `unknown command "verfy" for "keywarden audit"`) {
		t.Errorf("mistyped subcommand: exit %d, stderr %q; want exit 2 naming it", res.code, res.stderr)
	}

	// The head printed now still verifies the log after it grows.
	l, err := auditlog.Open(plainPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(auditlog.Entry{Event: "scan"}); err != nil {
		t.Fatal(err)
	}
	l.Close()
	if res := keywarden(t, "audit", "verify", plainPath, "--expect-head", plainHeads[2]); res.code != exitClean {
		t.Errorf("verify with an earlier head after an append: exit %d: %s", res.code, res.stderr)
	}
}
