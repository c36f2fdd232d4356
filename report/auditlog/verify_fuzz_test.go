package auditlog

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// fzKey keys the fuzzed keyed chains. It is derived, not stored: the repository holds no key.
var fzKey = func() []byte {
	k := sha256.Sum256([]byte("keywarden audit log fuzz key"))
	return k[:]
}()

// fzLog is a valid log of n entries, built line by line as Append builds them (the same
// encode, sums and first-line fields) but with a fixed chain ID, clock, user and host, so that
// a fuzz input that edits it means the same edit on every run. It returns the log and its head.
func fzLog(t testing.TB, key []byte, n int) ([]byte, string) {
	t.Helper()
	l := &Log{key: key}
	var out []byte
	var prev string
	for i := 1; i <= n; i++ {
		e := Entry{
			Seq: i, Time: time.Date(2025, 1, 2, 3, 4, i, 5000*i, time.UTC), User: "alice", Host: "build-1",
			Command: "keywarden scan git . --audit-log", Event: []string{"scan", "exposure", "rotation-step"}[i%3],
			Keys:    []KeyRef{{Inventory: "pkcs11:app", ID: fmt.Sprintf("%02x", i), Label: "app <&> \"signing\"", Version: i, Fingerprint: "spki-sha256:5e5e"}},
			Details: map[string]any{"step": i, "outcome": "ok\nnext line"},
		}
		if i == 1 {
			e.Chain, e.Keyed = "00112233445566778899aabbccddeeff", key != nil
		} else {
			e.Prev = prev
		}
		line, err := l.encode(e)
		if err != nil {
			t.Fatal(err)
		}
		out = append(append(out, line...), '\n')
		prev = lineSum(key, line)
	}
	rep, err := Verify(bytes.NewReader(out), key, prev)
	if err != nil || rep.Lines != n {
		t.Fatalf("the fuzz tests' log does not verify: %+v, %v", rep, err)
	}
	return out, prev
}

// FuzzVerify feeds arbitrary bytes to Verify, with and without the key and an expected head.
// It must not panic; an error is one line, and a broken chain names a line within the file (or
// the one after it); a log it accepts has as many lines as it reports and verifies again
// against its own head. A keyed log it accepts with the key must be a valid log's first lines,
// since nobody without the key can write others, and with that log's head the whole log; an
// unkeyed log accepted with a valid log's head must begin with that log.
func FuzzVerify(f *testing.F) {
	keyed, keyedHead := fzLog(f, fzKey, 4)
	plain, plainHead := fzLog(f, nil, 4)
	f.Add(keyed)
	f.Add(plain)
	f.Add(keyed[:len(keyed)-1])
	f.Add(plain[:bytes.IndexByte(plain, '\n')+1])
	f.Add(append(bytes.Clone(plain), plain...))
	f.Add([]byte("{\"seq\":1,\"chain\":\"00\",\"keyed\":true}\n"))
	f.Add([]byte("{}\n\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := bytes.Count(data, []byte("\n"))
		for _, c := range []struct {
			key  []byte
			head string
		}{{nil, ""}, {fzKey, ""}, {nil, plainHead}, {fzKey, keyedHead}} {
			rep, err := Verify(bytes.NewReader(data), c.key, c.head)
			if err != nil {
				if rep != nil {
					t.Fatalf("report %+v with error %v", rep, err)
				}
				if msg := err.Error(); strings.ContainsAny(msg, "\n\r") {
					t.Fatalf("error %q is not one line", msg)
				}
				var be *BrokenError
				if errors.As(err, &be) && (be.Line < 1 || be.Line > lines+1) {
					t.Fatalf("broken at line %d of %d", be.Line, lines)
				}
				continue
			}
			if rep.Lines != lines || rep.Keyed != (c.key != nil && lines > 0) {
				t.Fatalf("report %+v for %d lines verified with key %v", rep, lines, c.key != nil)
			}
			if lines > 0 {
				if _, err := Verify(bytes.NewReader(data), c.key, rep.Head); err != nil {
					t.Fatalf("does not verify against its own head %s: %v", rep.Head, err)
				}
			}
			switch {
			case c.key != nil && c.head == "" && !bytes.HasPrefix(keyed, data):
				t.Fatalf("a keyed log nobody with the key wrote verifies:\n%s", data)
			case c.key != nil && c.head != "" && !bytes.Equal(keyed, data):
				t.Fatalf("a keyed log other than the one with this head verifies:\n%s", data)
			case c.key == nil && c.head != "" && !bytes.HasPrefix(data, plain):
				t.Fatalf("an unkeyed log that does not begin with the one with this head verifies:\n%s", data)
			}
		}
	})
}

// FuzzVerifyTamper makes one edit to a valid log (a byte changed, deleted or inserted, a line
// deleted, swapped with the next, duplicated, or the log cut short) and verifies the result:
// a keyed log must fail at the first line the edit touched, unless the edit only dropped lines
// from the end, which its head still catches; an unkeyed log must fail against its head, at
// that line or next to it: a changed last line is seen only as the head missing (the line
// after it), and a changed line is told from a changed prev by the line after it, which the
// last line lacks (the line before it is blamed).
func FuzzVerifyTamper(f *testing.F) {
	logs := map[bool][]byte{}
	heads := map[bool]string{}
	logs[true], heads[true] = fzLog(f, fzKey, 5)
	logs[false], heads[false] = fzLog(f, nil, 5)
	for op := range uint8(7) {
		for _, pos := range []uint16{0, 17, 200, 1000, 65535} {
			f.Add(op%2 == 0, op, pos, byte(op*37+1))
		}
	}
	f.Fuzz(func(t *testing.T, isKeyed bool, op uint8, pos uint16, val byte) {
		valid := logs[isKeyed]
		lines := bytes.SplitAfter(valid, []byte("\n"))
		lines = lines[:len(lines)-1] // the empty rest after the last newline
		at := int(pos) % (len(valid) + 1)
		ln := int(pos) % len(lines)
		var got []byte
		switch op % 7 {
		case 0: // change a byte
			if at == len(valid) {
				at--
			}
			got = bytes.Clone(valid)
			got[at] ^= max(val, 1)
		case 1: // delete a byte
			if at == len(valid) {
				at--
			}
			got = append(bytes.Clone(valid[:at]), valid[at+1:]...)
		case 2: // insert a byte
			got = append(append(bytes.Clone(valid[:at]), val), valid[at:]...)
		case 3: // delete a line
			got = bytes.Join(append(append([][]byte{}, lines[:ln]...), lines[ln+1:]...), nil)
		case 4: // swap a line with the next
			if ln == len(lines)-1 {
				ln--
			}
			swapped := append([][]byte{}, lines...)
			swapped[ln], swapped[ln+1] = swapped[ln+1], swapped[ln]
			got = bytes.Join(swapped, nil)
		case 5: // duplicate a line
			got = bytes.Join(append(append(append([][]byte{}, lines[:ln+1]...), lines[ln]), lines[ln+1:]...), nil)
		case 6: // cut short
			got = bytes.Clone(valid[:at])
		}
		if bytes.Equal(got, valid) {
			return
		}
		first := fzFirstDiffLine(valid, got)
		var key []byte
		if isKeyed {
			key = fzKey
			_, err := Verify(bytes.NewReader(got), key, "")
			dropped := bytes.HasPrefix(valid, got) && (len(got) == 0 || got[len(got)-1] == '\n')
			switch {
			case err == nil && !dropped:
				t.Fatalf("edit %d at %d/%d verifies with the key:\n%s", op%7, at, ln, got)
			case err != nil && dropped:
				t.Fatalf("lines dropped from the end fail without a head: %v", err)
			case err != nil:
				var be *BrokenError
				if !errors.As(err, &be) || be.Line != first {
					t.Fatalf("edit %d at %d/%d, first touching line %d: %v", op%7, at, ln, first, err)
				}
			}
		}
		_, err := Verify(bytes.NewReader(got), key, heads[isKeyed])
		var be *BrokenError
		switch {
		case err == nil:
			t.Fatalf("edit %d at %d/%d verifies against the head:\n%s", op%7, at, ln, got)
		case !errors.As(err, &be):
			t.Fatalf("edit %d at %d/%d: %v, not a broken chain", op%7, at, ln, err)
		case be.Line != first && (isKeyed || be.Line < first-1 || be.Line > first+1):
			t.Fatalf("edit %d at %d/%d, first touching line %d: %v", op%7, at, ln, first, err)
		}
	})
}

// fzFirstDiffLine is the 1-based line of got where it first differs from valid (the line
// after the last when got is valid cut short at a line's end).
func fzFirstDiffLine(valid, got []byte) int {
	i := 0
	for i < len(valid) && i < len(got) && valid[i] == got[i] {
		i++
	}
	return bytes.Count(got[:i], []byte("\n")) + 1
}
