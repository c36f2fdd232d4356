package auditlog

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden logs in testdata")

// appenderEnv makes this test binary append to a log instead of running the tests (see
// TestMain), so that TestConcurrentProcesses can run real processes against one file.
const appenderEnv = "KEYWARDEN_AUDITLOG_TEST_APPEND"

func TestMain(m *testing.M) {
	if spec := os.Getenv(appenderEnv); spec != "" {
		if err := appendAsChild(spec); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// appendAsChild appends count entries named after the process, as "path|count|name|keyhex".
func appendAsChild(spec string) error {
	parts := strings.Split(spec, "|")
	if len(parts) != 4 {
		return fmt.Errorf("bad %s %q", appenderEnv, spec)
	}
	count, err := strconv.Atoi(parts[1])
	if err != nil {
		return err
	}
	var key []byte
	if parts[3] != "" {
		if key, err = hex.DecodeString(parts[3]); err != nil {
			return err
		}
	}
	l, err := Open(parts[0], key)
	if err != nil {
		return err
	}
	for i := range count {
		if _, err := l.Append(Entry{Command: "keywarden test", Event: "scan", Details: map[string]any{"proc": parts[2], "i": i}}); err != nil {
			return err
		}
	}
	return l.Close()
}

func randomKey(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

// buildLog appends n entries to a new log and returns its path and the head after each append.
func buildLog(t *testing.T, key []byte, n int) (string, []string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l, err := Open(path, key)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var heads []string
	for i := range n {
		h, err := l.Append(Entry{
			Command: "keywarden rotate pkcs11:token/app-signing --apply",
			Event:   "rotation-step",
			Keys:    []KeyRef{{Inventory: "pkcs11:softhsm", ID: "0a0b", Label: "app-signing", Version: i + 1, Fingerprint: "spki-sha256:" + strings.Repeat("ab", 32)}},
			Details: map[string]any{"step": i, "outcome": "created app-signing.v2 <&>"},
		})
		if err != nil {
			t.Fatal(err)
		}
		heads = append(heads, h)
	}
	return path, heads
}

func readLines(t *testing.T, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.SplitAfter(b, []byte("\n"))[:bytes.Count(b, []byte("\n"))]
}

func verifyFile(t *testing.T, path string, key []byte, head string) (*Report, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return Verify(f, key, head)
}

func TestAppendFillsEntries(t *testing.T) {
	for _, keyed := range []bool{false, true} {
		t.Run(fmt.Sprintf("keyed=%v", keyed), func(t *testing.T) {
			var key []byte
			if keyed {
				key = randomKey(t)
			}
			path := filepath.Join(t.TempDir(), "audit.jsonl")
			l, err := Open(path, key)
			if err != nil {
				t.Fatal(err)
			}
			before := time.Now().UTC()
			var heads []string
			for i := range 3 {
				// Whatever the caller puts in the chain fields is replaced.
				h, err := l.Append(Entry{Seq: 99, Chain: "forged", Keyed: !keyed, Prev: "forged", User: "mallory", MAC: "forged",
					Command: "keywarden scan git .", Event: "scan", Details: map[string]any{"n": i}})
				if err != nil {
					t.Fatal(err)
				}
				heads = append(heads, h)
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := l.Append(Entry{Event: "scan"}); err == nil {
				t.Error("Append after Close succeeded")
			}

			lines := readLines(t, path)
			if len(lines) != 3 {
				t.Fatalf("got %d lines, want 3", len(lines))
			}
			var got []Entry
			for _, line := range lines {
				var e Entry
				if err := json.Unmarshal(line, &e); err != nil {
					t.Fatal(err)
				}
				got = append(got, e)
			}
			if len(got[0].Chain) != 32 || got[1].Chain != "" || got[2].Chain != "" {
				t.Errorf("chain IDs = %q, %q, %q: want a 32-hex ID on line 1 only", got[0].Chain, got[1].Chain, got[2].Chain)
			}
			for i, e := range got {
				if e.Seq != i+1 {
					t.Errorf("line %d: seq %d", i+1, e.Seq)
				}
				if e.Keyed != (keyed && i == 0) {
					t.Errorf("line %d: keyed %v", i+1, e.Keyed)
				}
				if e.User == "" || e.User == "mallory" || e.Host == "" {
					t.Errorf("line %d: user %q host %q, want this process's", i+1, e.User, e.Host)
				}
				if e.Time.Before(before.Add(-time.Second)) || e.Time.Location() != time.UTC {
					t.Errorf("line %d: time %v", i+1, e.Time)
				}
				if (e.MAC != "") != keyed {
					t.Errorf("line %d: mac %q", i+1, e.MAC)
				}
				wantPrev := ""
				if i > 0 {
					wantPrev = heads[i-1]
				}
				if e.Prev != wantPrev {
					t.Errorf("line %d: prev %q, want the head Append returned for line %d (%q)", i+1, e.Prev, i, wantPrev)
				}
			}
			if !bytes.Contains(lines[0], []byte(`"command":"keywarden scan git ."`)) {
				t.Errorf("line 1 does not hold the command: %s", lines[0])
			}
			if keyed && !bytes.HasSuffix(bytes.TrimSuffix(lines[2], []byte("\n")), []byte(`,"mac":"`+got[2].MAC+`"}`)) {
				t.Errorf("mac is not the last field: %s", lines[2])
			}
			if !keyed {
				sum := sha256.Sum256(bytes.TrimSuffix(lines[2], []byte("\n")))
				if h := hex.EncodeToString(sum[:]); h != heads[2] {
					t.Errorf("head %s, want the SHA-256 of the last line %s", heads[2], h)
				}
			}

			rep, err := verifyFile(t, path, key, "")
			if err != nil {
				t.Fatal(err)
			}
			want := &Report{Lines: 3, Chain: got[0].Chain, Keyed: keyed, Head: heads[2], First: got[0].Time, Last: got[2].Time}
			if diff := cmp.Diff(want, rep); diff != "" {
				t.Errorf("report (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFileModes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no unix modes")
	}
	dir := filepath.Join(t.TempDir(), "new", ".keywarden")
	path := filepath.Join(dir, "audit.jsonl")
	l, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(Entry{Event: "scan"}); err != nil {
		t.Fatal(err)
	}
	l.Close()
	for p, want := range map[string]os.FileMode{path: 0o600, dir: 0o700} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %04o, want %04o", p, got, want)
		}
	}
}

// tamper is an edit to a log made by someone without the key: it sees the lines (with their
// newlines) and returns the file's new content.
type tamper func(t *testing.T, lines [][]byte) []byte

func join(lines [][]byte) []byte { return bytes.Join(lines, nil) }

// replaceIn changes old to new in line i (0-based), failing the test when old is not there.
func replaceIn(i int, old, new string) tamper {
	return func(t *testing.T, lines [][]byte) []byte {
		if !bytes.Contains(lines[i], []byte(old)) {
			t.Fatalf("line %d has no %q: %s", i+1, old, lines[i])
		}
		lines[i] = bytes.Replace(lines[i], []byte(old), []byte(new), 1)
		return join(lines)
	}
}

// rechain recomputes every seq and prev with SHA-256, as an attacker on an unkeyed chain can.
func rechain(lines [][]byte) []byte {
	var out [][]byte
	prev := ""
	for i, line := range lines {
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			panic(err)
		}
		m["seq"] = i + 1
		if i > 0 {
			m["prev"] = prev
		}
		b, _ := json.Marshal(m)
		sum := sha256.Sum256(b)
		prev = hex.EncodeToString(sum[:])
		out = append(out, append(b, '\n'))
	}
	return join(out)
}

func TestTampering(t *testing.T) {
	const n = 6 // lines in each log
	type want struct {
		line   int    // 0: verifies
		reason string // a part of BrokenError.Reason
	}
	tests := []struct {
		name    string
		tamper  tamper
		head    int  // 1-based line whose head Verify expects; 0: none
		unkeyed want // verified without a key
		keyed   want // the same edit to a keyed log, verified with its key
	}{
		{
			name:    "untouched",
			tamper:  func(_ *testing.T, l [][]byte) []byte { return join(l) },
			head:    n,
			unkeyed: want{}, keyed: want{},
		},
		{
			name:    "edited line",
			tamper:  replaceIn(2, "created app-signing.v2", "created app-signing.v9"),
			unkeyed: want{3, "line changed: its hash does not match the prev recorded on line 4"},
			keyed:   want{3, "HMAC does not verify"},
		},
		{
			name:    "edited prev",
			tamper:  replaceIn(3, `"prev":"`, `"prev":"0`),
			unkeyed: want{4, "line changed or replaced"},
			keyed:   want{4, "HMAC does not verify"},
		},
		{
			name:    "edited second-to-last line",
			tamper:  replaceIn(n-2, `"step":4`, `"step":40`),
			unkeyed: want{n - 1, "line changed"},
			keyed:   want{n - 1, "HMAC does not verify"},
		},
		{
			// Nothing follows the last line: only a recorded head or a key covers it.
			name:    "edited last line",
			tamper:  replaceIn(n-1, `"step":5`, `"step":50`),
			unkeyed: want{}, keyed: want{n, "HMAC does not verify"},
		},
		{
			name:    "edited last line, head recorded",
			tamper:  replaceIn(n-1, `"step":5`, `"step":50`),
			head:    n,
			unkeyed: want{n + 1, "no line has the expected head"},
			keyed:   want{n, "HMAC does not verify"},
		},
		{
			// json.Marshal of a map sorts the fields: a keyed line's mac is no longer last.
			name: "edited line, chain recomputed",
			tamper: func(t *testing.T, l [][]byte) []byte {
				l[2] = bytes.Replace(l[2], []byte("v2"), []byte("v9"), 1)
				return rechain(l)
			},
			unkeyed: want{},
			keyed:   want{1, "malformed mac"},
		},
		{
			name: "edited line, chain recomputed, head recorded",
			tamper: func(t *testing.T, l [][]byte) []byte {
				l[2] = bytes.Replace(l[2], []byte("v2"), []byte("v9"), 1)
				return rechain(l)
			},
			head:    4,
			unkeyed: want{n + 1, "no line has the expected head"},
			keyed:   want{1, "malformed mac"},
		},
		{
			name:    "deleted line",
			tamper:  func(_ *testing.T, l [][]byte) []byte { return join(append(l[:2:2], l[3:]...)) },
			unkeyed: want{3, "seq 4, want 3"},
			keyed:   want{3, "seq 4, want 3"},
		},
		{
			name:    "deleted first line",
			tamper:  func(_ *testing.T, l [][]byte) []byte { return join(l[1:]) },
			unkeyed: want{1, "seq 2, want 1"},
			keyed:   want{1, "seq 2, want 1"},
		},
		{
			name: "inserted copy of a line",
			tamper: func(_ *testing.T, l [][]byte) []byte {
				forged := bytes.Replace(l[2], []byte("created"), []byte("skipped"), 1)
				return join(append(l[:3:3], append([][]byte{forged}, l[3:]...)...))
			},
			unkeyed: want{4, "seq 3, want 4"},
			keyed:   want{4, "seq 3, want 4"},
		},
		{
			// A line that fits where it stands: seq 4, and prev the SHA-256 of line 3.
			name: "inserted line",
			tamper: func(_ *testing.T, l [][]byte) []byte {
				sum := sha256.Sum256(bytes.TrimSuffix(l[2], []byte("\n")))
				var e Entry
				json.Unmarshal(l[2], &e)
				forged := bytes.Replace(l[2], []byte(`"seq":3,`), []byte(`"seq":4,`), 1)
				forged = bytes.Replace(forged, []byte(e.Prev), []byte(hex.EncodeToString(sum[:])), 1)
				return join(append(l[:3:3], append([][]byte{forged}, l[3:]...)...))
			},
			unkeyed: want{5, "seq 4, want 5"},
			keyed:   want{4, "HMAC does not verify"},
		},
		{
			name: "inserted line with its own seq",
			tamper: func(_ *testing.T, l [][]byte) []byte {
				return join(append(l[:3:3], append([][]byte{[]byte(`{"seq":4,"user":"x"}` + "\n")}, l[3:]...)...))
			},
			unkeyed: want{4, "no prev"},
			keyed:   want{4, "no prev"},
		},
		{
			name: "blank line",
			tamper: func(_ *testing.T, l [][]byte) []byte {
				return join(append(l[:2:2], append([][]byte{[]byte("\n")}, l[2:]...)...))
			},
			unkeyed: want{3, "not a JSON entry"},
			keyed:   want{3, "not a JSON entry"},
		},
		{
			name:    "reordered lines",
			tamper:  func(_ *testing.T, l [][]byte) []byte { l[2], l[3] = l[3], l[2]; return join(l) },
			unkeyed: want{3, "seq 4, want 3"},
			keyed:   want{3, "seq 4, want 3"},
		},
		{
			name:    "truncated tail",
			tamper:  func(_ *testing.T, l [][]byte) []byte { return join(l[:4]) },
			unkeyed: want{}, keyed: want{},
		},
		{
			name:    "truncated tail, head recorded",
			tamper:  func(_ *testing.T, l [][]byte) []byte { return join(l[:4]) },
			head:    n,
			unkeyed: want{5, "no line has the expected head"},
			keyed:   want{5, "no line has the expected head"},
		},
		{
			name:    "truncated tail, older head recorded",
			tamper:  func(_ *testing.T, l [][]byte) []byte { return join(l[:4]) },
			head:    3,
			unkeyed: want{}, keyed: want{},
		},
		{
			name:    "truncated to nothing, head recorded",
			tamper:  func(_ *testing.T, l [][]byte) []byte { return nil },
			head:    1,
			unkeyed: want{1, "no line has the expected head"},
			keyed:   want{1, "no line has the expected head"},
		},
		{
			name:    "torn last line",
			tamper:  func(_ *testing.T, l [][]byte) []byte { b := join(l); return b[:len(b)-1] },
			unkeyed: want{n, "torn line"},
			keyed:   want{n, "torn line"},
		},
		{
			name:    "torn in the middle of the last line",
			tamper:  func(_ *testing.T, l [][]byte) []byte { b := join(l); return b[:len(b)-len(l[n-1])/2] },
			unkeyed: want{n, "torn line"},
			keyed:   want{n, "torn line"},
		},
		{
			name:    "chain ID on a later line",
			tamper:  replaceIn(3, `"seq":4,`, `"seq":4,"chain":"0123456789abcdef0123456789abcdef",`),
			unkeyed: want{4, "chain ID \"0123456789abcdef0123456789abcdef\" on a later line"},
			keyed:   want{4, "on a later line"},
		},
		{
			name: "chain ID missing on line 1",
			tamper: func(t *testing.T, l [][]byte) []byte {
				var e Entry
				json.Unmarshal(l[0], &e)
				return replaceIn(0, `"chain":"`+e.Chain+`",`, "")(t, l)
			},
			unkeyed: want{1, "no chain ID on the first line"},
			keyed:   want{1, "no chain ID on the first line"},
		},
		{
			name:    "seq not consecutive",
			tamper:  replaceIn(3, `"seq":4,`, `"seq":5,`),
			unkeyed: want{4, "seq 5, want 4"},
			keyed:   want{4, "seq 5, want 4"},
		},
	}
	for _, tt := range tests {
		for _, keyed := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/keyed=%v", tt.name, keyed), func(t *testing.T) {
				var key []byte
				w := tt.unkeyed
				if keyed {
					key, w = randomKey(t), tt.keyed
				}
				path, heads := buildLog(t, key, n)
				if err := os.WriteFile(path, tt.tamper(t, readLines(t, path)), 0o600); err != nil {
					t.Fatal(err)
				}
				head := ""
				if tt.head > 0 {
					head = heads[tt.head-1]
				}
				rep, err := verifyFile(t, path, key, head)
				if w.line == 0 {
					if err != nil {
						t.Fatalf("Verify: %v, want the log to verify", err)
					}
					if rep.Head != heads[rep.Lines-1] && tt.name != "edited last line" && !strings.Contains(tt.name, "recomputed") {
						t.Errorf("head %s, want the head of line %d: %s", rep.Head, rep.Lines, heads[rep.Lines-1])
					}
					return
				}
				var be *BrokenError
				if !errors.As(err, &be) {
					t.Fatalf("Verify = %v, want a BrokenError at line %d", err, w.line)
				}
				if be.Line != w.line || !strings.Contains(be.Reason, w.reason) {
					t.Errorf("broken at line %d: %s\nwant line %d: …%s…", be.Line, be.Reason, w.line, w.reason)
				}
				if rep != nil {
					t.Errorf("report %+v with an error, want nil", rep)
				}
			})
		}
	}
}

func TestKeys(t *testing.T) {
	key, other := randomKey(t), randomKey(t)
	keyedPath, _ := buildLog(t, key, 3)
	plainPath, _ := buildLog(t, nil, 3)
	// A keyed log rewritten as unkeyed by someone without the key: the flag and MACs dropped,
	// the chain recomputed with SHA-256.
	var stripped [][]byte
	for _, line := range readLines(t, keyedPath) {
		var e Entry
		json.Unmarshal(line, &e)
		e.Keyed, e.MAC = false, ""
		b, _ := json.Marshal(e)
		stripped = append(stripped, append(b, '\n'))
	}
	strippedPath := filepath.Join(t.TempDir(), "audit.jsonl")
	if err := os.WriteFile(strippedPath, rechain(stripped), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := verifyFile(t, strippedPath, nil, ""); err != nil {
		t.Fatalf("the stripped log does not verify without a key: %v", err)
	}

	tests := []struct {
		name     string
		path     string
		key      []byte
		wantLine int    // BrokenError line; 0 with wantErr or for success
		reason   string // part of the reason or error
		wantErr  error  // a sentinel from Verify and Open
		openErr  error  // the sentinel Open fails with, where Verify reports a broken line
	}{
		{name: "keyed with its key", path: keyedPath, key: key},
		{name: "unkeyed without a key", path: plainPath},
		{name: "keyed with the wrong key", path: keyedPath, key: other, wantLine: 1, reason: "the key is wrong", openErr: ErrWrongKey},
		{name: "keyed without a key", path: keyedPath, wantErr: ErrKeyRequired},
		{name: "unkeyed with a key", path: plainPath, key: key, wantLine: 1, reason: "the chain is not keyed, but a key was given", openErr: ErrNotKeyed},
		{name: "keyed log rewritten unkeyed, with the key", path: strippedPath, key: key, wantLine: 1, reason: "the chain is not keyed", openErr: ErrNotKeyed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := os.ReadFile(tt.path)
			_, verr := verifyFile(t, tt.path, tt.key, "")
			l, oerr := Open(tt.path, tt.key)
			if oerr == nil {
				l.Close()
			}
			switch {
			case tt.wantErr != nil:
				if !errors.Is(verr, tt.wantErr) || !errors.Is(oerr, tt.wantErr) {
					t.Errorf("Verify = %v, Open = %v; want %v", verr, oerr, tt.wantErr)
				}
			case tt.wantLine != 0:
				var be *BrokenError
				if !errors.As(verr, &be) || be.Line != tt.wantLine || !strings.Contains(be.Reason, tt.reason) {
					t.Errorf("Verify = %v, want line %d: …%s…", verr, tt.wantLine, tt.reason)
				}
				if !errors.Is(oerr, tt.openErr) {
					t.Errorf("Open = %v, want %v", oerr, tt.openErr)
				}
			default:
				if verr != nil || oerr != nil {
					t.Errorf("Verify = %v, Open = %v; want both to succeed", verr, oerr)
				}
			}
			if after, _ := os.ReadFile(tt.path); !bytes.Equal(before, after) {
				t.Error("Open changed the file")
			}
		})
	}

	t.Run("short key", func(t *testing.T) {
		_, err := Open(filepath.Join(t.TempDir(), "a.jsonl"), make([]byte, MinKeySize-1))
		if err == nil || !strings.Contains(err.Error(), "want at least 16") {
			t.Errorf("Open with a 15-byte key = %v, want an error", err)
		}
	})
	t.Run("new log, other process keyed it first", func(t *testing.T) {
		// Open saw an empty file; Append must still check what is there by the time it locks.
		path := filepath.Join(t.TempDir(), "a.jsonl")
		plain, err := Open(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer plain.Close()
		keyedLog, err := Open(path, key)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := keyedLog.Append(Entry{Event: "scan"}); err != nil {
			t.Fatal(err)
		}
		keyedLog.Close()
		if _, err := plain.Append(Entry{Event: "scan"}); !errors.Is(err, ErrKeyRequired) {
			t.Errorf("Append to a log keyed since Open = %v, want ErrKeyRequired", err)
		}
	})
}

func TestAppendRefusesBrokenTail(t *testing.T) {
	tests := []struct {
		name   string
		tail   string
		reason string
	}{
		{name: "torn line", tail: `{"seq":4,"time":"2026-01-02T03:04:05Z"`, reason: "torn"},
		{name: "not an entry", tail: "garbage\n", reason: "not an entry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, _ := buildLog(t, nil, 3)
			l, err := Open(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			// Another process breaks the tail after this one opened the log.
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString(tt.tail)
			f.Close()
			before, _ := os.ReadFile(path)
			if _, err = l.Append(Entry{Event: "scan"}); err == nil || !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("Append = %v, want an error saying %q", err, tt.reason)
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
				t.Error("Append changed a log it refused")
			}
			// Opening it afterwards fails at once, before a command does anything worth logging.
			if l2, err := Open(path, nil); err == nil || !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("Open = %v, want an error saying %q", err, tt.reason)
				if err == nil {
					l2.Close()
				}
			}
		})
	}
}

func TestConcurrentProcesses(t *testing.T) {
	if !fileLocking {
		t.Skip("appends are not locked without flock")
	}
	const procs, each = 4, 50
	for _, keyed := range []bool{false, true} {
		t.Run(fmt.Sprintf("keyed=%v", keyed), func(t *testing.T) {
			var key []byte
			if keyed {
				key = randomKey(t)
			}
			path := filepath.Join(t.TempDir(), "logs", "audit.jsonl")
			exe, err := os.Executable()
			if err != nil {
				t.Fatal(err)
			}
			var cmds []*exec.Cmd
			var outs []*bytes.Buffer
			for p := range procs {
				cmd := exec.Command(exe, "-test.run=^$")
				cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s|%d|p%d|%x", appenderEnv, path, each, p, key))
				var out bytes.Buffer
				cmd.Stdout, cmd.Stderr = &out, &out
				cmds, outs = append(cmds, cmd), append(outs, &out)
			}
			for _, cmd := range cmds {
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
			}
			for i, cmd := range cmds {
				if err := cmd.Wait(); err != nil {
					t.Fatalf("appender %d: %v\n%s", i, err, outs[i])
				}
			}

			rep, err := verifyFile(t, path, key, "")
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if rep.Lines != procs*each || rep.Keyed != keyed {
				t.Errorf("report %+v, want %d lines, keyed %v", rep, procs*each, keyed)
			}
			seen := map[string]int{}
			for _, line := range readLines(t, path) {
				var e Entry
				if err := json.Unmarshal(line, &e); err != nil {
					t.Fatal(err)
				}
				seen[fmt.Sprintf("%v/%v", e.Details["proc"], e.Details["i"])]++
			}
			for p := range procs {
				for i := range each {
					if k := fmt.Sprintf("p%d/%d", p, i); seen[k] != 1 {
						t.Errorf("entry %s appears %d times", k, seen[k])
					}
				}
			}
			if fi, err := os.Stat(path); err == nil && fi.Mode().Perm() != 0o600 {
				t.Errorf("mode %04o, want 0600", fi.Mode().Perm())
			}
		})
	}
}

// TestConcurrentLogs appends from goroutines through separate Logs on one path (each its own
// open file, so flock excludes them) and through one shared Log.
func TestConcurrentLogs(t *testing.T) {
	if !fileLocking {
		t.Skip("appends are not locked without flock")
	}
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	shared, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer shared.Close()
	const workers, each = 6, 20
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			l := shared
			if w%2 == 1 {
				own, err := Open(path, nil)
				if err != nil {
					errs <- err
					return
				}
				defer own.Close()
				l = own
			}
			for range each {
				if _, err := l.Append(Entry{Event: "scan"}); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	rep, err := verifyFile(t, path, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Lines != workers*each {
		t.Errorf("%d lines, want %d", rep.Lines, workers*each)
	}
}

func TestReadHMACKey(t *testing.T) {
	key := randomKey(t)
	tests := []struct {
		name    string
		content []byte
		mode    os.FileMode
		want    []byte
		wantErr string
	}{
		{name: "hex", content: []byte(hex.EncodeToString(key) + "\n"), mode: 0o600, want: key},
		{name: "hex upper case", content: []byte(strings.ToUpper(hex.EncodeToString(key))), mode: 0o400, want: key},
		{name: "base64", content: []byte(base64.StdEncoding.EncodeToString(key) + "\n"), mode: 0o600, want: key},
		{name: "base64 wrapped", content: []byte(func() string {
			s := base64.StdEncoding.EncodeToString(append(key, key...))
			return s[:64] + "\n" + s[64:] + "\n"
		}()), mode: 0o600, want: append(key, key...)},
		{name: "raw bytes", content: append([]byte{0xff, 0x00}, key...), mode: 0o600, want: append([]byte{0xff, 0x00}, key...)},
		{name: "passphrase", content: []byte("correct horse battery staple!\n"), mode: 0o600, want: []byte("correct horse battery staple!\n")},
		{name: "short hex", content: []byte(hex.EncodeToString(key[:15])), mode: 0o600, wantErr: "key of 15 bytes: want at least 16"},
		{name: "empty", content: []byte("\n"), mode: 0o600, wantErr: "key of 0 bytes"},
		{name: "readable by others", content: []byte(hex.EncodeToString(key)), mode: 0o644, wantErr: "accessible to group or others (mode 0644): chmod 600"},
		{name: "group writable", content: []byte(hex.EncodeToString(key)), mode: 0o620, wantErr: "accessible to group or others"},
		{name: "too large", content: bytes.Repeat([]byte{1}, maxKeyFile+1), mode: 0o600, wantErr: "not a key file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if runtime.GOOS == "windows" && tt.mode&0o077 != 0 {
				t.Skip("no unix modes")
			}
			path := filepath.Join(t.TempDir(), "key")
			if err := os.WriteFile(path, tt.content, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tt.mode); err != nil {
				t.Fatal(err)
			}
			got, err := ReadHMACKey(path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ReadHMACKey = %v, want an error saying %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), hex.EncodeToString(key[:8])) {
					t.Errorf("the error shows the key: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("key (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("missing", func(t *testing.T) {
		_, err := ReadHMACKey(filepath.Join(t.TempDir(), "nope"))
		if !errors.Is(err, os.ErrNotExist) {
			t.Errorf("ReadHMACKey = %v, want a not-exist error", err)
		}
	})
	t.Run("directory", func(t *testing.T) {
		dir := t.TempDir()
		os.Chmod(dir, 0o700)
		if _, err := ReadHMACKey(dir); err == nil || !strings.Contains(err.Error(), "is a directory") {
			t.Errorf("ReadHMACKey = %v, want an error", err)
		}
	})
}

// goldenKey keys testdata/keyed.jsonl. It is derived, not stored: the fixture holds no key.
func goldenKey() []byte {
	k := sha256.Sum256([]byte("keywarden audit log golden fixture"))
	return k[:]
}

// TestGolden verifies logs written by an earlier build, so that a change to the line format
// that would make existing logs fail verification fails here first. -update rewrites them.
func TestGolden(t *testing.T) {
	for _, tt := range []struct {
		name string
		key  []byte
	}{{"unkeyed", nil}, {"keyed", goldenKey()}} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join("testdata", tt.name+".jsonl")
			headPath := filepath.Join("testdata", tt.name+".head")
			if *update {
				os.Remove(path)
				l, err := Open(path, tt.key)
				if err != nil {
					t.Fatal(err)
				}
				l.user, l.host = "alice", "build-1"
				var head string
				for i, ev := range []string{"scan", "exposure", "rotation-plan", "rotation-step", "rotation-complete"} {
					if head, err = l.Append(Entry{
						Command: "keywarden rotate pkcs11:/usr/lib/softhsm/libsofthsm2.so?token=app --apply",
						Event:   ev,
						Keys:    []KeyRef{{Inventory: "pkcs11:app", ID: "0a0b", Label: "app-signing", Version: 1, Fingerprint: "spki-sha256:" + strings.Repeat("5e", 32)}},
						Details: map[string]any{"step": i, "outcome": "ok <&> \"quoted\"\nnewline"},
					}); err != nil {
						t.Fatal(err)
					}
				}
				l.Close()
				if err := os.WriteFile(headPath, []byte(head+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			head, err := os.ReadFile(headPath)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := verifyFile(t, path, tt.key, string(head))
			if err != nil {
				t.Fatal(err)
			}
			if rep.Lines != 5 || rep.Keyed != (tt.key != nil) || rep.Head != strings.TrimSpace(string(head)) {
				t.Errorf("report %+v", rep)
			}
		})
	}
}
