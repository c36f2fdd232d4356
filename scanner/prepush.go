package scanner

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
)

// PushUpdate is one line of what git writes to a pre-push hook's standard input: a ref being
// pushed, deleted or created on the remote.
type PushUpdate struct {
	LocalRef, LocalSHA, RemoteRef, RemoteSHA string
}

// Deletion reports whether the update deletes the remote ref (nothing to scan).
func (u PushUpdate) Deletion() bool { return isZeroID(u.LocalSHA) }

// NewRef reports whether the remote does not have the ref yet.
func (u PushUpdate) NewRef() bool { return isZeroID(u.RemoteSHA) }

func isZeroID(s string) bool { return strings.Trim(s, "0") == "" }

// maxPushLines bounds the input read: git writes one line per ref pushed.
const maxPushLines = 1 << 20

// ParsePrePush reads git's pre-push input: "<local ref> <local sha> <remote ref> <remote sha>"
// per line (githooks(5)).
func ParsePrePush(r io.Reader) ([]PushUpdate, error) {
	ups := []PushUpdate{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 64<<10)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if n > maxPushLines {
			return nil, fmt.Errorf("reading pre-push input: more than %d lines", maxPushLines)
		}
		f := strings.Fields(line)
		if len(f) != 4 || !isObjectID(f[1]) || !isObjectID(f[3]) {
			return nil, fmt.Errorf("reading pre-push input line %d: want \"<local ref> <local sha> <remote ref> <remote sha>\", got %q", n, truncate(line, 200))
		}
		ups = append(ups, PushUpdate{LocalRef: f[0], LocalSHA: strings.ToLower(f[1]), RemoteRef: f[2], RemoteSHA: strings.ToLower(f[3])})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading pre-push input: %w", err)
	}
	return ups, nil
}

// isObjectID accepts SHA-1 and SHA-256 object IDs in hex.
func isObjectID(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// pushRevisions turns pushed updates into what to scan: the commits being pushed are those
// reachable from the pushed shas and not from what the remote has. For an update the remote
// has an older sha for, that sha bounds it; for a new ref, or an old sha this clone does not
// have (someone else pushed it), every remote-tracking ref stands for what the remote has.
func (s *GitSource) pushRevisions(ups []PushUpdate) (starts, nots []plumbing.Hash, notRemotes bool) {
	starts = []plumbing.Hash{}
	for _, u := range ups {
		if u.Deletion() {
			continue
		}
		// A pushed annotated tag is scanned as the commit it names; a tag of a tree or blob
		// brings no commit.
		if h, typ, err := peel(s.repo.Storer, plumbing.NewHash(u.LocalSHA)); err == nil && typ == plumbing.CommitObject {
			starts = append(starts, h)
		}
		if u.NewRef() {
			notRemotes = true
			continue
		}
		h, typ, err := peel(s.repo.Storer, plumbing.NewHash(u.RemoteSHA))
		if err != nil || typ != plumbing.CommitObject {
			notRemotes = true
			continue
		}
		nots = append(nots, h)
	}
	return starts, nots, notRemotes
}
