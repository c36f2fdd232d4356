package scanner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
)

// StagedOrigin is content staged in the index at Path, about to be committed.
type StagedOrigin struct {
	Path string // slash-separated, relative to the work tree
	// PrevBlobs is the blob the staged one replaces (HEAD's version, or the rename source's).
	PrevBlobs []BlobID
}

// Kind implements Origin.
func (o StagedOrigin) Kind() string { return "staged" }

// String implements Origin.
func (o StagedOrigin) String() string { return o.Path }

func (o StagedOrigin) prevBlobs() []BlobID { return o.PrevBlobs }

// StagedSource yields what the index adds relative to HEAD: the staged content of added,
// modified, renamed and type-changed files, each after the version it replaces (as Base), so
// that only what the commit brings is reported. Line numbers refer to the staged content, which
// is read from the index, not the work tree: a partly staged file is scanned as it will be
// committed. It runs the git binary, as the hook that calls it does, so that the index git
// uses (GIT_INDEX_FILE during `git commit -a`) is the one read.
type StagedSource struct {
	Dir         string // anywhere in the work tree
	MaxFileSize int64  // 0 = no limit
	// Excluded names paths whose content is never scanned (gitleaks' global path allowlist).
	Excluded func(path string) bool
}

// stagedChange is one line of `git diff --cached --raw`.
type stagedChange struct {
	status   byte   // A, M, R, C or T
	old, new string // blob IDs; old is all zeros for an added file
	path     string // the path in the index
}

// Blobs implements Source.
func (s *StagedSource) Blobs(ctx context.Context, yield func(Blob) error) error {
	changes, err := s.changes(ctx)
	if err != nil {
		return err
	}
	if len(changes) == 0 {
		return nil
	}
	ctx2, cancel := context.WithCancel(ctx)
	cf, err := startCatFileIn(ctx2, s.Dir)
	if err != nil {
		cancel()
		return err
	}
	defer func() {
		// Killing git after its last answer is harmless, and unblocks it after an early return.
		cf.finish()
		cancel()
		cf.wait()
	}()

	type want struct {
		id   plumbing.Hash
		blob Blob
	}
	var bases, staged []want
	for _, c := range changes {
		excluded := s.Excluded != nil && s.Excluded(c.path)
		o := StagedOrigin{Path: c.path}
		if c.old != "" {
			prev := plumbing.NewHash(c.old)
			o.PrevBlobs = []BlobID{BlobID(prev)}
			if !excluded {
				bases = append(bases, want{prev, Blob{ID: BlobID(prev), Origin: o, Base: true}})
			}
		}
		id := plumbing.NewHash(c.new)
		b := Blob{ID: BlobID(id), Origin: o}
		if excluded {
			b.Skip = SkipExcluded
		}
		staged = append(staged, want{id, b})
	}
	// Base content first: the engine must know it before the content that replaces it.
	all := append(bases, staged...)
	go func() {
		for _, w := range all {
			if w.blob.Skip == "" && cf.request(w.id) != nil {
				return // git exited; read reports it
			}
		}
	}()
	for _, w := range all {
		b := w.blob
		if b.Skip == "" {
			content, size, skip, ok := cf.read(w.id, s.MaxFileSize)
			if !ok {
				return fmt.Errorf("reading staged blob %s at %s: git cat-file stopped answering", short(w.id), b.Origin)
			}
			b.Content, b.Size, b.Skip = content, size, skip
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := yield(b); err != nil {
			return err
		}
	}
	return nil
}

// changes lists the index's changes against HEAD (against nothing on an unborn branch, which
// `git diff --cached` handles itself), in path order.
func (s *StagedSource) changes(ctx context.Context) ([]stagedChange, error) {
	bin, err := exec.LookPath("git")
	if err != nil {
		return nil, fmt.Errorf("scanning staged changes: %w", err)
	}
	cmd := exec.CommandContext(ctx, bin, "-C", s.Dir, "diff", "--cached", "--raw", "-z", "--no-abbrev",
		"-M", "--diff-filter=AMRT", "--no-ext-diff", "--no-textconv", "--ignore-submodules=all")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		msg := strings.TrimSpace(stderr.String())
		if i := strings.IndexByte(msg, '\n'); i >= 0 {
			msg = msg[:i]
		}
		msg = strings.TrimPrefix(msg, "fatal: ")
		if strings.Contains(msg, "not a git repository") {
			return nil, fmt.Errorf("scanning staged changes in %q: %w", s.Dir, ErrNotRepo)
		}
		return nil, fmt.Errorf("scanning staged changes in %q: git diff: %s", s.Dir, cmpOr(msg, err.Error()))
	}
	changes, err := parseRawDiff(out)
	if err != nil {
		return nil, fmt.Errorf("scanning staged changes in %q: %w", s.Dir, err)
	}
	sort.SliceStable(changes, func(i, j int) bool { return changes[i].path < changes[j].path })
	return changes, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// parseRawDiff reads `git diff --raw -z` output:
// ":<old mode> <new mode> <old id> <new id> <status>[score]\0<path>\0[<new path>\0]".
// Submodules (mode 160000) have no blob and are left out.
func parseRawDiff(out []byte) ([]stagedChange, error) {
	var changes []stagedChange
	fields := bytes.Split(out, []byte{0})
	for i := 0; i < len(fields); i++ {
		head := string(fields[i])
		if head == "" {
			continue
		}
		meta := strings.Fields(strings.TrimPrefix(head, ":"))
		if !strings.HasPrefix(head, ":") || len(meta) != 5 || meta[4] == "" {
			return nil, fmt.Errorf("unexpected git diff output %q", head)
		}
		status := meta[4][0]
		npaths := 1
		if status == 'R' || status == 'C' {
			npaths = 2
		}
		if i+npaths >= len(fields) {
			return nil, errors.New("unexpected end of git diff output")
		}
		path := string(fields[i+npaths])
		i += npaths
		if meta[1] == "160000" || !plumbing.IsHash(meta[3]) {
			continue
		}
		c := stagedChange{status: status, new: meta[3], path: path}
		if status != 'A' && meta[0] != "160000" && plumbing.IsHash(meta[2]) && meta[2] != plumbing.ZeroHash.String() {
			c.old = meta[2]
		}
		changes = append(changes, c)
	}
	return changes, nil
}

// startCatFileIn starts `git cat-file --batch` for the repository around dir.
func startCatFileIn(ctx context.Context, dir string) (*catFile, error) {
	return startCatFile(ctx, []string{"-C", dir}, ReaderGit)
}
