// Package gittest builds real git repositories inside tests with go-git, so tests need no git
// binary. Commits get a fixed author and dates one hour apart from Epoch, so hashes are stable
// from run to run.
package gittest

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Epoch is the date of a repository's first commit; each later commit is an hour later.
var Epoch = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// Default author of commits and tags.
const (
	AuthorName  = "Test Author"
	AuthorEmail = "author@example.com"
)

// Repo is a repository under construction. Its work tree is left empty: only objects and refs
// are written, which is all a history scan reads.
type Repo struct {
	t     testing.TB
	path  string
	repo  *git.Repository
	n     int                                // commits made, for dates
	files map[plumbing.Hash]map[string]entry // commit → path → entry, to build children
}

// entry is a non-tree entry of a tree: a file, symlink or submodule.
type entry struct {
	hash plumbing.Hash
	mode filemode.FileMode
}

// Option changes one commit.
type Option func(*commitOptions)

type commitOptions struct {
	deletes  []string
	symlinks map[string]string // path → target
	raw      map[string]entry  // entries copied as they are
	name     string
	email    string
	when     time.Time
}

// Delete removes paths from the commit's tree.
func Delete(paths ...string) Option {
	return func(o *commitOptions) { o.deletes = append(o.deletes, paths...) }
}

// Symlink adds a symbolic link at path pointing to target.
func Symlink(path, target string) Option {
	return func(o *commitOptions) {
		if o.symlinks == nil {
			o.symlinks = map[string]string{}
		}
		o.symlinks[path] = target
	}
}

// Submodule adds a submodule (gitlink) at path pinned to commit, which need not exist here.
func Submodule(path, commit string) Option {
	return rawEntry(path, entry{hash: plumbing.NewHash(commit), mode: filemode.Submodule})
}

func rawEntry(path string, e entry) Option {
	return func(o *commitOptions) {
		if o.raw == nil {
			o.raw = map[string]entry{}
		}
		o.raw[path] = e
	}
}

// Author sets the commit's author and committer.
func Author(name, email string) Option {
	return func(o *commitOptions) { o.name, o.email = name, email }
}

// At sets the commit's author and committer date instead of the next hour after Epoch.
func At(when time.Time) Option {
	return func(o *commitOptions) { o.when = when }
}

// New initialises an empty repository in a temporary directory, HEAD on an unborn "main".
func New(t testing.TB) *Repo {
	t.Helper()
	return Init(t, t.TempDir(), false)
}

// Init initialises an empty repository at dir, bare or with a .git directory.
func Init(t testing.TB, dir string, bare bool) *Repo {
	t.Helper()
	repo, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{
		InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName("main")},
		Bare:        bare,
	})
	if err != nil {
		t.Fatalf("initialising repository: %v", err)
	}
	return &Repo{t: t, path: dir, repo: repo, files: map[plumbing.Hash]map[string]entry{}}
}

// Path returns the repository's directory (the work tree, or the repository if bare).
func (r *Repo) Path() string { return r.path }

// GitDir returns the directory holding objects and refs.
func (r *Repo) GitDir() string {
	if _, err := os.Stat(filepath.Join(r.path, ".git")); err == nil {
		return filepath.Join(r.path, ".git")
	}
	return r.path
}

// Repository returns the go-git handle, for what this package does not cover.
func (r *Repo) Repository() *git.Repository { return r.repo }

// Head returns the commit HEAD points to, or "" on an unborn branch.
func (r *Repo) Head() string {
	h, ok := r.head()
	if !ok {
		return ""
	}
	return h.String()
}

// Commit writes files (path → content) over HEAD's tree, removes any Delete paths, and commits
// the result on the current branch. It returns the commit hash.
func (r *Repo) Commit(files map[string]string, msg string, opts ...Option) string {
	r.t.Helper()
	var parents []plumbing.Hash
	if h, ok := r.head(); ok {
		parents = append(parents, h)
	}
	return r.commit(parents, files, msg, opts)
}

// Merge commits on the current branch with HEAD and other (a branch name or commit hash) as
// parents. Its tree is HEAD's, plus any path only other has, with files and Delete applied on
// top: pass the resolved content of every path the two sides disagree on.
func (r *Repo) Merge(other string, files map[string]string, msg string, opts ...Option) string {
	r.t.Helper()
	ours, ok := r.head()
	if !ok {
		r.t.Fatalf("merging %q: HEAD has no commit", other)
	}
	theirs := r.resolve(other)
	oursFiles := r.snapshot(ours)
	var extra []Option
	for p, e := range r.snapshot(theirs) {
		if _, ok := oursFiles[p]; !ok {
			extra = append(extra, rawEntry(p, e))
		}
	}
	return r.commit([]plumbing.Hash{ours, theirs}, files, msg, append(extra, opts...))
}

// Branch creates branch name at HEAD's commit without switching to it.
func (r *Repo) Branch(name string) {
	r.t.Helper()
	h, ok := r.head()
	if !ok {
		r.t.Fatalf("creating branch %q: HEAD has no commit", name)
	}
	r.setRef(plumbing.NewHashReference(plumbing.NewBranchReferenceName(name), h))
}

// Checkout points HEAD at branch name; the branch need not exist yet (an orphan branch).
func (r *Repo) Checkout(name string) {
	r.t.Helper()
	r.setRef(plumbing.NewSymbolicReference(plumbing.HEAD, plumbing.NewBranchReferenceName(name)))
}

// DeleteBranch removes branch name, leaving its commits reachable only from other refs.
func (r *Repo) DeleteBranch(name string) {
	r.t.Helper()
	if err := r.repo.Storer.RemoveReference(plumbing.NewBranchReferenceName(name)); err != nil {
		r.t.Fatalf("deleting branch %q: %v", name, err)
	}
}

// Tag creates lightweight tag name pointing at target (a branch name or object hash).
func (r *Repo) Tag(name, target string) {
	r.t.Helper()
	r.setRef(plumbing.NewHashReference(plumbing.NewTagReferenceName(name), r.resolve(target)))
}

// Ref points the full reference name (refs/remotes/origin/main, say) at target.
func (r *Repo) Ref(name, target string) {
	r.t.Helper()
	r.setRef(plumbing.NewHashReference(plumbing.ReferenceName(name), r.resolve(target)))
}

// AnnotatedTag creates a tag object for target (a branch name, commit hash or the hash of
// another tag object) and ref refs/tags/name pointing at it. It returns the tag object's hash.
func (r *Repo) AnnotatedTag(name, target, msg string) string {
	r.t.Helper()
	h := r.resolve(target)
	obj, err := r.repo.Storer.EncodedObject(plumbing.AnyObject, h)
	if err != nil {
		r.t.Fatalf("tagging %q: %v", target, err)
	}
	tag := &object.Tag{
		Name:       name,
		Tagger:     object.Signature{Name: AuthorName, Email: AuthorEmail, When: Epoch.Add(time.Duration(r.n) * time.Hour)},
		Message:    msg + "\n",
		TargetType: obj.Type(),
		Target:     h,
	}
	th := r.store(tag)
	r.setRef(plumbing.NewHashReference(plumbing.NewTagReferenceName(name), th))
	return th.String()
}

// ObjectPath returns the file of loose object hash, for tests that corrupt or remove it.
func (r *Repo) ObjectPath(hash string) string {
	return filepath.Join(r.GitDir(), "objects", hash[:2], hash[2:])
}

// Pack moves every reachable object into one packfile with deltas, as git gc would, and
// removes the loose copies. go-git cannot pack a history holding symlinks or submodules.
func (r *Repo) Pack() {
	r.t.Helper()
	if err := r.repo.RepackObjects(&git.RepackConfig{}); err != nil {
		r.t.Fatalf("packing objects: %v", err)
	}
}

func (r *Repo) commit(parents []plumbing.Hash, files map[string]string, msg string, opts []Option) string {
	r.t.Helper()
	r.n++
	o := commitOptions{name: AuthorName, email: AuthorEmail, when: Epoch.Add(time.Duration(r.n-1) * time.Hour)}
	for _, opt := range opts {
		opt(&o)
	}
	tree := map[string]entry{}
	if len(parents) > 0 {
		for p, e := range r.snapshot(parents[0]) {
			tree[p] = e
		}
	}
	for p, e := range o.raw {
		tree[p] = e
	}
	for p, c := range files {
		tree[p] = entry{hash: r.store(blob(c)), mode: filemode.Regular}
	}
	for p, target := range o.symlinks {
		tree[p] = entry{hash: r.store(blob(target)), mode: filemode.Symlink}
	}
	for _, p := range o.deletes {
		delete(tree, p)
	}
	sig := object.Signature{Name: o.name, Email: o.email, When: o.when}
	h := r.store(&object.Commit{
		Author:       sig,
		Committer:    sig,
		Message:      msg + "\n",
		TreeHash:     r.writeTree(tree),
		ParentHashes: parents,
	})
	r.files[h] = tree

	head, err := r.repo.Storer.Reference(plumbing.HEAD)
	if err != nil {
		r.t.Fatalf("reading HEAD: %v", err)
	}
	name := plumbing.HEAD
	if head.Type() == plumbing.SymbolicReference {
		name = head.Target()
	}
	r.setRef(plumbing.NewHashReference(name, h))
	return h.String()
}

// writeTree stores the nested trees for a flat path → entry map and returns the root's hash.
func (r *Repo) writeTree(files map[string]entry) plumbing.Hash {
	leaves := map[string]entry{}
	dirs := map[string]map[string]entry{}
	for p, e := range files {
		dir, rest, nested := strings.Cut(p, "/")
		if !nested {
			leaves[p] = e
			continue
		}
		if dirs[dir] == nil {
			dirs[dir] = map[string]entry{}
		}
		dirs[dir][rest] = e
	}
	t := &object.Tree{}
	for name, e := range leaves {
		t.Entries = append(t.Entries, object.TreeEntry{Name: name, Mode: e.mode, Hash: e.hash})
	}
	for name, sub := range dirs {
		t.Entries = append(t.Entries, object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: r.writeTree(sub)})
	}
	sort.Sort(object.TreeEntrySorter(t.Entries))
	return r.store(t)
}

// snapshot returns the files of commit h.
func (r *Repo) snapshot(h plumbing.Hash) map[string]entry {
	r.t.Helper()
	if files, ok := r.files[h]; ok {
		return files
	}
	c, err := r.repo.CommitObject(h)
	if err != nil {
		r.t.Fatalf("reading commit %s: %v", h, err)
	}
	tree, err := c.Tree()
	if err != nil {
		r.t.Fatalf("reading tree of %s: %v", h, err)
	}
	files := map[string]entry{}
	err = tree.Files().ForEach(func(f *object.File) error {
		files[f.Name] = entry{hash: f.Hash, mode: f.Mode}
		return nil
	})
	if err != nil {
		r.t.Fatalf("listing tree of %s: %v", h, err)
	}
	r.files[h] = files
	return files
}

func (r *Repo) head() (plumbing.Hash, bool) {
	ref, err := r.repo.Reference(plumbing.HEAD, true)
	if err != nil {
		return plumbing.ZeroHash, false
	}
	return ref.Hash(), true
}

// resolve turns a branch name, tag name or full hash into a hash.
func (r *Repo) resolve(target string) plumbing.Hash {
	r.t.Helper()
	for _, name := range []plumbing.ReferenceName{plumbing.NewBranchReferenceName(target), plumbing.NewTagReferenceName(target)} {
		if ref, err := r.repo.Reference(name, true); err == nil {
			return ref.Hash()
		}
	}
	if !plumbing.IsHash(target) {
		r.t.Fatalf("resolving %q: not a branch, tag or full hash", target)
	}
	return plumbing.NewHash(target)
}

func (r *Repo) setRef(ref *plumbing.Reference) {
	r.t.Helper()
	if err := r.repo.Storer.SetReference(ref); err != nil {
		r.t.Fatalf("setting %s: %v", ref.Name(), err)
	}
}

type encoder interface {
	Encode(plumbing.EncodedObject) error
}

func (r *Repo) store(v encoder) plumbing.Hash {
	r.t.Helper()
	obj := r.repo.Storer.NewEncodedObject()
	if err := v.Encode(obj); err != nil {
		r.t.Fatalf("encoding object: %v", err)
	}
	h, err := r.repo.Storer.SetEncodedObject(obj)
	if err != nil {
		r.t.Fatalf("storing object: %v", err)
	}
	return h
}

// blob is content that encodes itself as a git blob.
type blob string

func (b blob) Encode(o plumbing.EncodedObject) error {
	o.SetType(plumbing.BlobObject)
	o.SetSize(int64(len(b)))
	w, err := o.Writer()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte(b)); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}
