package scanner

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/storage/filesystem"
	"golang.org/x/exp/mmap"
)

// objectCacheSize bounds each repository handle's cache of decoded objects (mostly delta bases).
const objectCacheSize = 32 * cache.MiByte

// openRepo opens the repository holding path: a work tree anywhere inside it, its .git
// directory, or a bare repository.
func openRepo(path string) (*git.Repository, billy.Filesystem, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, nil, fmt.Errorf("opening repository %q: %w", path, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, nil, fmt.Errorf("opening repository %q: %w", path, unwrapPath(err))
	}
	dir := abs
	if !fi.IsDir() {
		dir = filepath.Dir(abs)
	}
	// go-git's own DetectDotGit only looks for .git, so it would miss a bare repository or
	// find the work tree around one; walk up ourselves and accept either.
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Lstat(filepath.Join(d, git.GitDirName)); err == nil || isGitDir(d) {
			repo, err := git.PlainOpenWithOptions(d, &git.PlainOpenOptions{EnableDotGitCommonDir: true})
			if errors.Is(err, git.ErrRepositoryNotExists) {
				err = ErrNotRepo
			}
			if err != nil {
				return nil, nil, fmt.Errorf("opening repository %q: %w", path, err)
			}
			st, ok := repo.Storer.(*filesystem.Storage)
			if !ok {
				return nil, nil, fmt.Errorf("opening repository %q: unexpected storage %T", path, repo.Storer)
			}
			return repo, st.Filesystem(), nil
		}
		if filepath.Dir(d) == d {
			return nil, nil, fmt.Errorf("opening repository %q: %w", path, ErrNotRepo)
		}
	}
}

// repoWorkTree returns the top of the work tree of the repository openRepo would open for path,
// or "" when that repository is bare (or path is in none): config and ignore files are read
// from a work tree only.
func repoWorkTree(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return ""
	}
	if fi, err := os.Stat(abs); err == nil && !fi.IsDir() {
		abs = filepath.Dir(abs)
	}
	for d := abs; ; d = filepath.Dir(d) {
		if _, err := os.Lstat(filepath.Join(d, git.GitDirName)); err == nil {
			return d
		}
		if isGitDir(d) {
			return ""
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

// isGitDir reports whether d looks like a repository directory (bare, or a .git).
func isGitDir(d string) bool {
	for _, name := range []string{"HEAD", "objects", "refs"} {
		if _, err := os.Stat(filepath.Join(d, name)); err != nil {
			return false
		}
	}
	return true
}

// newStorage opens a handle on the repository directory fs. go-git handles are not safe for
// concurrent use, so each goroutine gets its own; kept descriptors spare reopening packfiles
// on every object, and objects above largeObject are read lazily so their size can be checked
// before they are inflated.
func newStorage(fs billy.Filesystem, largeObject int64) *filesystem.Storage {
	return filesystem.NewStorageWithOptions(fs, cache.NewObjectLRU(objectCacheSize), filesystem.Options{
		KeepDescriptors:      true,
		LargeObjectThreshold: largeObject,
	})
}

// RootCommitOf returns RootCommit for the repository enclosing path, if any (for dir scans).
func RootCommitOf(path string) (string, bool) {
	_, fs, err := openRepo(path)
	if err != nil {
		return "", false
	}
	if _, err := fs.Stat("shallow"); err == nil {
		return "", false // as rootCommit says for a history cut short
	}
	// git walks a long history several times faster than go-git (it has the commit-graph);
	// go-git answers when git cannot (no git, no HEAD).
	if root := rootCommitByGit(fs.Root()); root != "" {
		return root, true
	}
	pfs := newPackFS(fs)
	defer pfs.Close()
	st := newStorage(pfs, 0)
	defer st.Close()
	root := rootCommit(st)
	return root, root != ""
}

// rootCommitByGit asks git for the root of HEAD's first-parent history; "" if it cannot say.
func rootCommitByGit(gitDir string) string {
	bin, err := exec.LookPath("git")
	if err != nil {
		return ""
	}
	cmd := exec.Command(bin, "--git-dir", gitDir, "rev-list", "--max-parents=0", "--first-parent", "HEAD")
	cmd.Env = append(cmd.Environ(), "GIT_NO_REPLACE_OBJECTS=1")
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	root := strings.TrimSpace(string(out))
	if !plumbing.IsHash(root) {
		return ""
	}
	return root
}

// rootCommit returns the root of HEAD's first-parent history, or with no HEAD the smallest
// root reachable from any ref. It returns "" when the history is cut short (a shallow clone),
// since the commit where it stops would change with every fetch and make a poor salt.
func rootCommit(st *filesystem.Storage) (root string) {
	defer func() {
		if recover() != nil { // go-git panics on some malformed objects
			root = ""
		}
	}()
	if ref, err := storer.ResolveReference(st, plumbing.HEAD); err == nil {
		if h, ok := peelCommit(st, ref.Hash()); ok {
			for {
				c, err := object.GetCommit(st, h)
				if err != nil {
					return ""
				}
				if len(c.ParentHashes) == 0 {
					return h.String()
				}
				h = c.ParentHashes[0]
			}
		}
	}
	refs, err := st.IterReferences()
	if err != nil {
		return ""
	}
	var stack []plumbing.Hash
	_ = refs.ForEach(func(ref *plumbing.Reference) error {
		if ref.Type() == plumbing.SymbolicReference {
			return nil
		}
		if h, ok := peelCommit(st, ref.Hash()); ok {
			stack = append(stack, h)
		}
		return nil
	})
	seen := map[plumbing.Hash]bool{}
	best := ""
	for len(stack) > 0 {
		h := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[h] {
			continue
		}
		seen[h] = true
		c, err := object.GetCommit(st, h)
		if err != nil {
			continue
		}
		if len(c.ParentHashes) == 0 && (best == "" || h.String() < best) {
			best = h.String()
		}
		stack = append(stack, c.ParentHashes...)
	}
	return best
}

// peelCommit follows annotated tags (and tags of tags) from h to a commit.
func peelCommit(st storer.EncodedObjectStorer, h plumbing.Hash) (plumbing.Hash, bool) {
	h, typ, err := peel(st, h)
	return h, err == nil && typ == plumbing.CommitObject
}

// peel follows annotated tags from h to the first object that is not a tag.
func peel(st storer.EncodedObjectStorer, h plumbing.Hash) (_ plumbing.Hash, _ plumbing.ObjectType, err error) {
	defer recoverMalformed(&err)
	for range 32 { // a longer tag chain is a loop or an attack
		obj, err := st.EncodedObject(plumbing.AnyObject, h)
		if err != nil {
			return h, plumbing.InvalidObject, err
		}
		if obj.Type() != plumbing.TagObject {
			return h, obj.Type(), nil
		}
		tag, err := object.DecodeTag(st, obj)
		if err != nil {
			return h, plumbing.InvalidObject, err
		}
		h = tag.Target
	}
	return h, plumbing.InvalidObject, fmt.Errorf("peeling %s: tag chain too long", h)
}

// packFS serves packfiles from memory maps shared by every handle of one scan: go-git seeks
// and refills a small buffer for each object it reads, and from a map that costs a copy
// rather than a system call. Anything it cannot map it opens as usual.
type packFS struct {
	billy.Filesystem
	mu   sync.Mutex
	maps map[string]*mmap.ReaderAt
}

func newPackFS(fs billy.Filesystem) *packFS {
	return &packFS{Filesystem: fs, maps: map[string]*mmap.ReaderAt{}}
}

// Open implements billy.Filesystem.
func (fs *packFS) Open(name string) (billy.File, error) {
	if !strings.HasSuffix(name, ".pack") {
		return fs.Filesystem.Open(name)
	}
	fs.mu.Lock()
	m, ok := fs.maps[name]
	if !ok {
		m = fs.mapFile(name)
		fs.maps[name] = m
	}
	fs.mu.Unlock()
	if m == nil {
		return fs.Filesystem.Open(name)
	}
	return &mappedFile{name: name, SectionReader: io.NewSectionReader(m, 0, int64(m.Len()))}, nil
}

// mapFile maps name if it is the OS file it appears to be, else returns nil.
func (fs *packFS) mapFile(name string) *mmap.ReaderAt {
	path := filepath.Join(fs.Root(), filepath.FromSlash(name))
	want, err := fs.Stat(name)
	if err != nil {
		return nil
	}
	// billy wraps file info, so os.SameFile cannot compare them.
	got, err := os.Stat(path)
	if err != nil || got.Size() != want.Size() || !got.ModTime().Equal(want.ModTime()) {
		return nil // e.g. a linked work tree, whose objects live in the common directory
	}
	m, err := mmap.Open(path)
	if err != nil {
		return nil
	}
	return m
}

// Close unmaps the packfiles; no file opened from fs may be used afterwards.
func (fs *packFS) Close() error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	var errs []error
	for name, m := range fs.maps {
		if m != nil {
			errs = append(errs, m.Close())
		}
		delete(fs.maps, name)
	}
	return errors.Join(errs...)
}

// mappedFile is a read-only view of a mapped packfile.
type mappedFile struct {
	name string
	*io.SectionReader
}

func (f *mappedFile) Name() string              { return f.name }
func (f *mappedFile) Write([]byte) (int, error) { return 0, os.ErrPermission }
func (f *mappedFile) Close() error              { return nil } // the map outlives its readers
func (f *mappedFile) Lock() error               { return nil }
func (f *mappedFile) Unlock() error             { return nil }
func (f *mappedFile) Truncate(int64) error      { return os.ErrPermission }
