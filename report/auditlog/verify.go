package auditlog

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Report is what Verify found.
type Report struct {
	Lines       int
	Chain       string // the chain ID; empty for an empty log
	Keyed       bool
	Head        string // hash (HMAC when keyed) of the last line; empty for an empty log
	First, Last time.Time
}

// BrokenError says where the chain breaks: the first line that does not verify, 1-based, and why.
type BrokenError struct {
	Line   int
	Reason string
}

// Error says "line N: reason".
func (e *BrokenError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Reason) }

// Verify checks the chain read from r. expectHead, when set, must be the hash of some line in
// the file (a head recorded earlier stays valid after later appends); when no line has it, the
// log was truncated or rewritten, reported as a BrokenError at the line after the last one.
//
// A chain that does not verify is a *BrokenError naming the first line at fault. A line whose
// seq does not count on is where lines were deleted, inserted or moved. In a keyed chain a
// changed line fails its own MAC. In an unkeyed chain a line whose hash no longer matches the
// next line's prev is reported as changed, unless the line after that does not chain on the
// next one either: then the next line itself was changed (its prev, or the whole line).
//
// A keyed log verified without a key is ErrKeyRequired, not a broken chain; an unkeyed log
// verified with a key, and a keyed one with the wrong key, are broken at line 1. A malformed
// expectHead and a read error are plain errors. Verify returns a nil Report with any error.
func Verify(r io.Reader, hmacKey []byte, expectHead string) (*Report, error) {
	expectHead = strings.ToLower(strings.TrimSpace(expectHead))
	if expectHead != "" {
		if b, err := hex.DecodeString(expectHead); err != nil || len(b) != 32 {
			return nil, fmt.Errorf("expected head %q: want 64 hex digits", expectHead)
		}
	}
	broken := func(line int, format string, args ...any) (*Report, error) {
		return nil, &BrokenError{Line: line, Reason: fmt.Sprintf(format, args...)}
	}
	var (
		rep   Report
		key   []byte // the key lines are hashed with: nil in an unkeyed chain
		prev  string // the sum of the previous line
		found bool
	)
	br := bufio.NewReader(r)
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if errors.Is(err, io.EOF) && len(line) == 0 {
			break
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("reading audit log: %w", err)
		}
		if err != nil {
			return broken(n, "torn line: no final newline (a write was cut short, or the line was edited)")
		}
		line = line[:len(line)-1]
		var e Entry
		if err := json.Unmarshal(line, &e); err != nil {
			return broken(n, "not a JSON entry: %v", err)
		}
		if e.Seq != n {
			return broken(n, "seq %d, want %d: lines were deleted, inserted or moved", e.Seq, n)
		}
		if n == 1 {
			switch {
			case e.Chain == "":
				return broken(n, "no chain ID on the first line")
			case !isHex(e.Chain, 16):
				return broken(n, "malformed chain ID %q: want 32 hex digits", e.Chain)
			case e.Prev != "":
				return broken(n, "the first line has a prev: lines before it were deleted")
			case e.Keyed && hmacKey == nil:
				return nil, ErrKeyRequired
			case !e.Keyed && hmacKey != nil:
				return broken(n, "the chain is not keyed, but a key was given: it may have been rewritten without the key")
			}
			if e.Keyed {
				key = hmacKey
			}
			rep.Chain, rep.Keyed, rep.First = e.Chain, e.Keyed, e.Time
		} else {
			switch {
			case e.Chain != "":
				return broken(n, "chain ID %q on a later line: only the first line has one (a line from another log?)", e.Chain)
			case e.Keyed:
				return broken(n, "keyed flag on a later line: only the first line has one")
			case e.Prev == "":
				return broken(n, "no prev")
			}
		}
		if key != nil {
			if why := macReason(line, e.MAC, key); why != "" {
				if n == 1 && strings.HasPrefix(why, "HMAC does not verify") {
					why = "HMAC does not verify: the key is wrong, or the line was changed"
				}
				return broken(n, "%s", why)
			}
		} else if e.MAC != "" {
			return broken(n, "mac in an unkeyed chain")
		}
		if n > 1 && e.Prev != prev {
			if key == nil {
				// Either line n-1 changed or line n did (its prev, or the whole line swapped for
				// another). The next line tells them apart: it still chains on line n only when
				// line n is as it was written.
				next, err := br.ReadBytes('\n')
				var ne Entry
				if err == nil && json.Unmarshal(next[:len(next)-1], &ne) == nil && ne.Prev != lineSum(nil, line) {
					return broken(n, "line changed or replaced: its prev does not match line %d, and line %d's prev does not match it", n-1, n+1)
				}
				return broken(n-1, "line changed: its hash does not match the prev recorded on line %d", n)
			}
			// Both lines carry a valid MAC, so neither was edited: line n was written after
			// another line, in another log under the same key.
			return broken(n, "prev does not match line %d: the line comes from another log under the same key", n-1)
		}
		prev = lineSum(key, line)
		if prev == expectHead {
			found = true
		}
		rep.Lines, rep.Head, rep.Last = n, prev, e.Time
	}
	if expectHead != "" && !found {
		return broken(rep.Lines+1, "no line has the expected head %s: the log was truncated or rewritten", expectHead)
	}
	return &rep, nil
}

func isHex(s string, size int) bool {
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == size && s == strings.ToLower(s)
}
