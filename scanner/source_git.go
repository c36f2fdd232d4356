package scanner

import (
	"bytes"
	"cmp"
	"container/heap"
	"container/list"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// GitOptions selects the part of a repository's history a GitSource scans.
type GitOptions struct {
	Range  string // "A..B": commits reachable from B and not from A
	Branch string // only this ref (branch, tag, remote ref, or any rev go-git resolves)
	// Starts are revisions to scan the history of, instead of every ref; an empty non-nil
	// slice scans nothing (a pre-push that only deletes).
	Starts []string
	// Not are revisions whose history is left out, as with git's --not.
	Not []string
	// NotRemotes leaves out history reachable from any remote-tracking ref (refs/remotes/*):
	// what a remote already has.
	NotRemotes bool
	// Push, when non-nil, scans exactly the commits a push sends (pre-push hook input); it
	// cannot be combined with Range, Branch or Starts. An empty non-nil Push scans nothing.
	Push        []PushUpdate
	Since       time.Time // only commits whose committer date is >= Since
	MaxFileSize int64     // blobs larger are yielded with Skip=SkipTooLarge (0 = no limit)
	Workers     int       // parallel inflation workers (0 = runtime.NumCPU()); go-git reader only
	Reader      string    // ReaderAuto, ReaderGoGit or ReaderGit
	// Excluded names paths whose content is never scanned (gitleaks' global path allowlist):
	// a blob seen only at such paths is yielded with Skip=SkipExcluded and not read.
	Excluded func(path string) bool
	Warn     func(error) // non-fatal problems; nil = ignore
	// Binary reads binary blobs too, for the engine's key finder, instead of skipping them.
	Binary bool
}

// GitSource yields every blob a repository's history introduces, oldest commit first.
type GitSource struct {
	repo     *git.Repository
	fs       billy.Filesystem // the repository directory; every goroutine opens its own handle on it
	opts     GitOptions
	starts   []plumbing.Hash // nil: every ref and HEAD
	excludes []plumbing.Hash // the A of A..B: its history is left out
	commits  atomic.Int64
	// commitsDone counts the commits of the running Blobs call whose blobs have all been
	// yielded, for progress displays on another goroutine.
	commitsDone atomic.Int64
	rootOnce    sync.Once
	root        string
}

// OpenGit opens a local repository (a work tree anywhere inside it, or a bare repo) or clones a
// URL (https://, http://, file://, ssh://, git@host:path) bare, with all refs, into a temp dir.
// close removes the temp dir; it is always non-nil when err is nil.
func OpenGit(ctx context.Context, target string, opts GitOptions) (src *GitSource, close func() error, err error) {
	closeFn := func() error { return nil }
	path := target
	if isRemote(target) {
		dir, err := cloneMirror(ctx, target)
		if err != nil {
			return nil, nil, err
		}
		if dir != "" {
			path = dir
			closeFn = func() error { return os.RemoveAll(dir) }
		} else {
			path = localPathOf(target)
		}
	}
	repo, fs, err := openRepo(path)
	if err != nil {
		closeFn()
		return nil, nil, err
	}
	if alt := withAlternates(fs); alt != nil {
		fs = alt
		repo, err = git.Open(newStorage(fs, 0), nil)
		if err != nil {
			closeFn()
			return nil, nil, fmt.Errorf("opening repository %q: %w", target, err)
		}
	}
	s := &GitSource{repo: repo, fs: fs, opts: opts}
	if err := s.resolveStarts(); err != nil {
		closeFn()
		return nil, nil, err
	}
	return s, closeFn, nil
}

// alternatesFS is a repository directory whose objects/info/alternates names object
// directories elsewhere (git clone --shared or --reference, CI caches). go-git looks for them
// through the filesystem it reads the repository with, which is rooted at the repository and
// refuses paths outside it, so a scan would find the history missing; this filesystem answers
// for exactly the directories the alternates file names, from the OS.
type alternatesFS struct {
	billy.Filesystem
	dirs map[string]bool // absolute object directories the alternates file names
}

// withAlternates returns fs wrapped when its repository has absolute alternates, else nil.
// (git writes absolute paths; a relative one is left to go-git, which reads it from the
// repository's root.)
func withAlternates(fs billy.Filesystem) billy.Filesystem {
	f, err := fs.Open("objects/info/alternates")
	if err != nil {
		return nil
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return nil
	}
	dirs := map[string]bool{}
	for _, l := range strings.Split(string(data), "\n") {
		if l = strings.TrimSpace(l); filepath.IsAbs(l) {
			dirs[filepath.Clean(l)] = true
		}
	}
	if len(dirs) == 0 {
		return nil
	}
	return alternatesFS{Filesystem: fs, dirs: dirs}
}

func (a alternatesFS) Stat(name string) (os.FileInfo, error) {
	if a.dirs[filepath.Clean(name)] {
		return os.Stat(name)
	}
	return a.Filesystem.Stat(name)
}

// Chroot is how go-git opens an alternate: at the directory above its objects directory.
func (a alternatesFS) Chroot(dir string) (billy.Filesystem, error) {
	if a.dirs[filepath.Join(filepath.Clean(dir), "objects")] {
		return osfs.New(dir, osfs.WithBoundOS()), nil
	}
	return a.Filesystem.Chroot(dir)
}

// RedactURL hides the user information of a URL (https://user:token@host/...), which often
// holds a token, so that it appears in no message or report. Other strings pass unchanged.
func RedactURL(target string) string {
	if !strings.Contains(target, "://") {
		return target
	}
	u, err := url.Parse(target)
	if err != nil {
		// Unparseable: drop everything between the scheme and the last '@' of the authority.
		scheme, rest, _ := strings.Cut(target, "://")
		host, path, _ := strings.Cut(rest, "/")
		if i := strings.LastIndex(host, "@"); i >= 0 {
			host = "***@" + host[i+1:]
		}
		return scheme + "://" + host + "/" + path
	}
	if u.User == nil {
		return target
	}
	u.User = nil
	scheme, rest, _ := strings.Cut(u.String(), "://")
	return scheme + "://***@" + rest
}

// scrubURL removes target's user information from err's message: go-git masks a password in
// its errors but prints the user name, which is often the token itself.
func scrubURL(err error, target string) error {
	u, perr := url.Parse(target)
	if perr != nil || u.User == nil {
		return err
	}
	msg := err.Error()
	if p, ok := u.User.Password(); ok && p != "" {
		msg = strings.ReplaceAll(msg, p, "***")
	}
	if name := u.User.Username(); name != "" {
		msg = strings.ReplaceAll(msg, name, "***")
	}
	return errors.New(msg)
}

// isRemote reports whether target is a URL or scp-style address rather than a local path.
func isRemote(target string) bool {
	if _, err := os.Stat(target); err == nil {
		return false
	}
	if strings.Contains(target, "://") {
		return true
	}
	// git@host:path, as git reads it: a colon before any slash, after a user@host.
	host, _, ok := strings.Cut(target, ":")
	return ok && strings.Contains(host, "@") && !strings.Contains(host, "/")
}

// cloneMirror clones url bare with all refs into a new temp dir and returns it. For a file://
// URL on a machine without git's upload-pack (which go-git's file transport runs) it returns
// "" so the repository is read in place, which gives the same history.
func cloneMirror(ctx context.Context, target string) (string, error) {
	if strings.HasPrefix(target, "file://") && !haveUploadPack() {
		return "", nil
	}
	dir, err := os.MkdirTemp("", "keywarden-clone-")
	if err != nil {
		return "", fmt.Errorf("cloning %q: %w", RedactURL(target), err)
	}
	// The same credentials and messages as Mirror (remote.go).
	if err := cloneInto(ctx, parseRemote(target), dir, MirrorOptions{}); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("cloning %q: %w", RedactURL(target), err)
	}
	return dir, nil
}

func haveUploadPack() bool {
	for _, bin := range []string{"git-upload-pack", "git"} {
		if _, err := exec.LookPath(bin); err == nil {
			return true
		}
	}
	return false
}

// localPathOf returns the path of a file:// URL.
func localPathOf(target string) string {
	u, err := url.Parse(target)
	if err != nil || u.Path == "" {
		return strings.TrimPrefix(target, "file://")
	}
	return u.Path
}

func (s *GitSource) resolveStarts() error {
	o := s.opts
	switch {
	case o.Range != "" && (o.Branch != "" || len(o.Starts) > 0):
		return fmt.Errorf("resolving range %q: cannot be combined with a branch or start points", o.Range)
	case o.Branch != "" && len(o.Starts) > 0:
		return fmt.Errorf("resolving branch %q: cannot be combined with start points", o.Branch)
	}
	if o.Push != nil {
		if o.Range != "" || o.Branch != "" || o.Starts != nil {
			return errors.New("pre-push input cannot be combined with a range, branch or start points")
		}
		var notRemotes bool
		s.starts, s.excludes, notRemotes = s.pushRevisions(o.Push)
		o.NotRemotes = o.NotRemotes || notRemotes
	}
	starts, nots := o.Starts, o.Not
	if o.Range != "" {
		a, b, ok := strings.Cut(o.Range, "..")
		if !ok || strings.HasPrefix(b, ".") {
			return fmt.Errorf("resolving range %q: want A..B", o.Range)
		}
		// Like git, an empty side means HEAD.
		starts, nots = []string{cmp.Or(b, "HEAD")}, append([]string{cmp.Or(a, "HEAD")}, nots...)
	}
	if o.Branch != "" {
		starts = []string{o.Branch}
	}
	for _, rev := range starts {
		h, err := resolveRev(s.repo, rev)
		if err != nil {
			return err
		}
		s.starts = append(s.starts, h)
	}
	if starts != nil && s.starts == nil {
		s.starts = []plumbing.Hash{} // start points given, none of them: nothing to scan
	}
	for _, rev := range nots {
		h, err := resolveRev(s.repo, rev)
		if err != nil {
			return err
		}
		s.excludes = append(s.excludes, h)
	}
	if o.NotRemotes {
		refs, err := s.repo.Storer.IterReferences()
		if err != nil {
			return fmt.Errorf("listing remote refs: %w", err)
		}
		defer refs.Close()
		err = refs.ForEach(func(ref *plumbing.Reference) error {
			if !ref.Name().IsRemote() || ref.Type() != plumbing.HashReference {
				return nil
			}
			if h, typ, err := peel(s.repo.Storer, ref.Hash()); err == nil && typ == plumbing.CommitObject {
				s.excludes = append(s.excludes, h)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("listing remote refs: %w", err)
		}
	}
	return nil
}

// resolveRev resolves rev to a commit. Ref names are tried first and peeled here because
// go-git's ResolveRevision cannot peel a tag of a tag.
func resolveRev(repo *git.Repository, rev string) (_ plumbing.Hash, err error) {
	defer func() {
		if p := recover(); p != nil { // go-git's revision parser has panicked on odd input
			err = fmt.Errorf("resolving %q: %v", rev, p)
		}
	}()
	for _, rule := range plumbing.RefRevParseRules {
		ref, err := storer.ResolveReference(repo.Storer, plumbing.ReferenceName(fmt.Sprintf(rule, rev)))
		if err != nil {
			continue
		}
		h, typ, err := peel(repo.Storer, ref.Hash())
		if err != nil {
			return h, fmt.Errorf("resolving %q: %w", rev, err)
		}
		if typ != plumbing.CommitObject {
			return h, fmt.Errorf("resolving %q: %s is a %s, not a commit", rev, h, typ)
		}
		return h, nil
	}
	h, err := repo.ResolveRevision(plumbing.Revision(rev))
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("resolving %q: %w", rev, err)
	}
	return *h, nil
}

// Commits returns the number of commits walked by the last Blobs call.
func (s *GitSource) Commits() int { return int(s.commits.Load()) }

// CommitProgress returns how many commits of the running Blobs call have had all their blobs
// yielded, of how many it yields in all; total is 0 while history is still being walked. It
// may be called from any goroutine.
func (s *GitSource) CommitProgress() (done, total int64) {
	return s.commitsDone.Load(), s.commits.Load()
}

// RootCommit returns the root commit of HEAD's first-parent history (the smallest root over
// all refs if there is no HEAD), a salt for fingerprints that is stable across clones.
func (s *GitSource) RootCommit() string {
	s.rootOnce.Do(func() {
		if s.Shallow() {
			return // as rootCommit says for a history cut short
		}
		// git walks a long first-parent history with its commit-graph, many times faster.
		if s.opts.Reader != ReaderGoGit {
			if s.root = rootCommitByGit(s.fs.Root()); s.root != "" {
				return
			}
		}
		fs := newPackFS(s.fs)
		defer fs.Close()
		st := newStorage(fs, 0)
		defer st.Close()
		s.root = rootCommit(st)
	})
	return s.root
}

// Shallow reports whether the repository is a shallow clone (its history is cut short).
func (s *GitSource) Shallow() bool {
	_, err := s.fs.Stat("shallow")
	return err == nil
}

// Blobs implements Source: commits in topological order (parents first, then oldest committer
// date), each commit's introduced blobs in path order.
func (s *GitSource) Blobs(ctx context.Context, yield func(Blob) error) error {
	fs := newPackFS(s.fs)
	defer fs.Close()
	r := &gitRun{
		src:      s,
		fs:       fs,
		st:       newStorage(fs, 0),
		missing:  map[plumbing.Hash]struct{}{},
		trees:    newTreeCache(treeCacheSize),
		badTrees: map[plumbing.Hash]error{},
	}
	s.commits.Store(0)
	s.commitsDone.Store(0)
	commits, err := r.walk(ctx)
	if err != nil {
		r.st.Close()
		return err
	}
	s.commits.Store(int64(len(commits)))
	// emit closes r.st and waits for its goroutines, so fs is unused once it returns.
	if err := r.emit(ctx, commits, yield); err != nil {
		return err
	}
	if n := len(r.missing); n > 0 && s.opts.Warn != nil {
		s.opts.Warn(fmt.Errorf("%d objects missing (shallow clone or incomplete repository); scanned what exists", n))
	}
	return r.corrupt
}

// gitRun is the state of one Blobs call.
type gitRun struct {
	src *GitSource
	fs  billy.Filesystem    // shared by the handles of this run
	st  *filesystem.Storage // the walking goroutine's handle

	mu      sync.Mutex
	missing map[plumbing.Hash]struct{}

	corrupt  error // the first corrupt object, returned once everything readable is yielded
	trees    *treeCache
	badTrees map[plumbing.Hash]error
}

func (r *gitRun) noteMissing(h plumbing.Hash) {
	r.mu.Lock()
	r.missing[h] = struct{}{}
	r.mu.Unlock()
}

func (r *gitRun) noteCorrupt(err error) {
	if r.corrupt == nil {
		r.corrupt = err
	}
}

// commitNode is one commit of the walked history.
type commitNode struct {
	hash       plumbing.Hash
	tree       plumbing.Hash
	rawParents []plumbing.Hash
	parents    []*commitNode // those present in the repository
	when       time.Time     // committer date
	origin     GitOrigin
	included   bool // in the scan, not only a diff base
	children   []*commitNode
	pending    int // included parents not yet ordered
}

// walk reads every commit reachable from the start points, then returns those in the scan in
// topological order.
func (r *gitRun) walk(ctx context.Context) ([]*commitNode, error) {
	starts := r.src.starts
	if starts == nil {
		var err error
		if starts, err = r.refStarts(); err != nil {
			return nil, err
		}
	}
	nodes := map[plumbing.Hash]*commitNode{}
	var only map[plumbing.Hash]bool // when set, the walk reads these commits and their parents
	visit := func(from []plumbing.Hash, include bool) error {
		stack := slices.Clone(from)
		for len(stack) > 0 {
			h := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if _, done := nodes[h]; done {
				continue
			}
			if len(nodes)%256 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			n := r.readCommit(h)
			nodes[h] = n // nil marks a missing or corrupt commit, already noted
			if n == nil {
				continue
			}
			n.included = include && !n.when.Before(r.src.opts.Since)
			if only != nil && !only[h] {
				n.included = false // a parent outside the scan, read as the base of a diff
				continue
			}
			stack = append(stack, n.rawParents...)
		}
		return nil
	}
	if inc, ok := r.revList(ctx, starts); ok {
		only = make(map[plumbing.Hash]bool, len(inc))
		for _, h := range inc {
			only[h] = true
		}
		// Only the commits in the scan and their parents are read: a push of one commit to a
		// long history need not walk all of it.
		for _, h := range inc {
			if err := visit([]plumbing.Hash{h}, true); err != nil {
				return nil, err
			}
		}
	} else {
		// The A of A..B goes first so the walk from B stops where the two histories meet.
		if err := visit(r.src.excludes, false); err != nil {
			return nil, err
		}
		if err := visit(starts, true); err != nil {
			return nil, err
		}
	}

	var ready commitHeap
	count := 0
	for _, n := range nodes {
		if n == nil {
			continue
		}
		for _, ph := range n.rawParents {
			if p := nodes[ph]; p != nil {
				n.parents = append(n.parents, p)
				if n.included && p.included {
					n.pending++
					p.children = append(p.children, n)
				}
			}
		}
	}
	for _, n := range nodes {
		if n != nil && n.included {
			count++
			if n.pending == 0 {
				ready = append(ready, n)
			}
		}
	}
	heap.Init(&ready)
	order := make([]*commitNode, 0, count)
	for ready.Len() > 0 {
		n := heap.Pop(&ready).(*commitNode)
		order = append(order, n)
		for _, c := range n.children {
			if c.pending--; c.pending == 0 {
				heap.Push(&ready, c)
			}
		}
	}
	return order, nil
}

// revList asks git for the commits reachable from starts and not from the excludes, when
// there are excludes. git stops where the histories meet (with its commit-graph, without
// reading the rest); go-git's walk reads everything the excludes reach. ok is false when git
// is not used or cannot answer, and the walk does it all itself.
func (r *gitRun) revList(ctx context.Context, starts []plumbing.Hash) (commits []plumbing.Hash, ok bool) {
	if len(r.src.excludes) == 0 || len(starts) == 0 || r.src.opts.Reader == ReaderGoGit {
		return nil, false
	}
	bin, err := exec.LookPath("git")
	if err != nil {
		return nil, false
	}
	var in bytes.Buffer
	for _, h := range starts {
		in.WriteString(h.String() + "\n")
	}
	for _, h := range r.src.excludes {
		in.WriteString("^" + h.String() + "\n") // git before 2.42 takes no --not on stdin
	}
	cmd := exec.CommandContext(ctx, bin, "--git-dir", r.src.fs.Root(), "rev-list", "--stdin")
	// go-git reads neither replace refs nor grafts; git must see the same history.
	cmd.Env = append(cmd.Environ(), "GIT_NO_REPLACE_OBJECTS=1", "GIT_NO_LAZY_FETCH=1")
	cmd.Stdin = &in
	out, err := cmd.Output()
	if err != nil {
		return nil, false // a missing or corrupt object: the walk reports it precisely
	}
	for _, line := range strings.Fields(string(out)) {
		if !plumbing.IsHash(line) {
			return nil, false
		}
		commits = append(commits, plumbing.NewHash(line))
	}
	return commits, true
}

// refStarts returns the commits every ref and HEAD point to, annotated tags peeled.
func (r *gitRun) refStarts() ([]plumbing.Hash, error) {
	refs, err := r.st.IterReferences()
	if err != nil {
		return nil, fmt.Errorf("listing references: %w", err)
	}
	names := []plumbing.ReferenceName{plumbing.HEAD}
	err = refs.ForEach(func(ref *plumbing.Reference) error {
		names = append(names, ref.Name())
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing references: %w", err)
	}
	var starts []plumbing.Hash
	for _, name := range names {
		ref, err := storer.ResolveReference(r.st, name)
		if err != nil {
			continue // an unborn HEAD or a dangling symbolic ref points at nothing
		}
		h, typ, err := peel(r.st, ref.Hash())
		switch {
		case errors.Is(err, plumbing.ErrObjectNotFound):
			r.noteMissing(h)
		case err != nil:
			r.noteCorrupt(fmt.Errorf("reading %s: %w", name, err))
		case typ == plumbing.CommitObject:
			starts = append(starts, h)
		}
	}
	slices.SortFunc(starts, func(a, b plumbing.Hash) int { return bytes.Compare(a[:], b[:]) })
	return slices.Compact(starts), nil
}

func (r *gitRun) readCommit(h plumbing.Hash) *commitNode {
	c, err := decodeCommit(r.st, h)
	if err != nil {
		if errors.Is(err, plumbing.ErrObjectNotFound) {
			r.noteMissing(h)
		} else {
			r.noteCorrupt(fmt.Errorf("reading commit %s: %w", short(h), err))
		}
		return nil
	}
	msg, _, _ := strings.Cut(c.Message, "\n")
	return &commitNode{
		hash:       h,
		tree:       c.TreeHash,
		rawParents: c.ParentHashes,
		when:       c.Committer.When,
		origin: GitOrigin{
			Commit:  h.String(),
			Author:  c.Author.Name,
			Email:   c.Author.Email,
			Date:    c.Author.When,
			Message: strings.TrimRight(msg, "\r"),
		},
	}
}

func decodeCommit(st storer.EncodedObjectStorer, h plumbing.Hash) (c *object.Commit, err error) {
	defer recoverMalformed(&err)
	obj, err := st.EncodedObject(plumbing.CommitObject, h)
	if err != nil {
		return nil, err
	}
	c = &object.Commit{}
	return c, c.Decode(obj)
}

// commitHeap orders ready commits by committer date, then hash, so the order is deterministic.
type commitHeap []*commitNode

func (h commitHeap) Len() int { return len(h) }
func (h commitHeap) Less(i, j int) bool {
	if !h[i].when.Equal(h[j].when) {
		return h[i].when.Before(h[j].when)
	}
	return bytes.Compare(h[i].hash[:], h[j].hash[:]) < 0
}
func (h commitHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *commitHeap) Push(x any)   { *h = append(*h, x.(*commitNode)) }
func (h *commitHeap) Pop() any {
	old := *h
	n := old[len(old)-1]
	*h = old[:len(old)-1]
	return n
}

// gitItem is one yield: a blob at a path in a commit. A first sighting is loaded by a worker,
// which closes ready when content, size, skip and err are set.
type gitItem struct {
	id      plumbing.Hash
	origin  GitOrigin
	first   bool
	ready   chan struct{}
	content []byte
	size    int64
	skip    string
	missing bool
	err     error // a corrupt object; with noBlob set, one found while diffing trees
	noBlob  bool
	// excluded: the first sighting of a blob at an excluded path, yielded unread.
	excluded bool
	base     bool  // content from before the scanned history, for comparison (Blob.Base)
	commit   int64 // 1-based position of the item's commit in the scan order, for progress
}

// emit diffs commits in order on one goroutine, inflates first sightings on Workers goroutines,
// and yields on the caller's goroutine in diff order. Tokens bound the blobs loaded but not
// yet yielded, so memory stays a few blobs deep whatever the worker speeds.
func (r *gitRun) emit(ctx context.Context, commits []*commitNode, yield func(Blob) error) error {
	workers := r.src.opts.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	inFlight := 2*workers + 2
	ctx2, cancel := context.WithCancel(ctx)
	cf, err := startCatFile(ctx2, []string{"--git-dir", r.src.fs.Root()}, r.src.opts.Reader)
	if err != nil {
		cancel()
		r.st.Close()
		return err
	}
	if cf != nil {
		cf.keepBinary = r.src.opts.Binary
		// Keep git's pipe busy: answers are small next to the round trip of one request.
		inFlight = 64
	}
	var (
		out    = make(chan *gitItem, 1024) // repeats are small; only tokens bound loaded content
		jobs   = make(chan *gitItem, inFlight)
		tokens = make(chan struct{}, inFlight)
		wg     sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer r.st.Close()
		r.produce(ctx2, commits, out, jobs, tokens)
	}()
	if cf != nil {
		r.catFileWorkers(ctx2, cf, jobs, inFlight, &wg)
	} else {
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				st := newStorage(r.fs, r.src.opts.MaxFileSize)
				defer st.Close()
				for it := range jobs {
					if ctx2.Err() == nil {
						r.load(st, it)
					}
					close(it.ready)
				}
			}()
		}
	}
	defer func() {
		cancel()
		for range out { // unblock the producer so it sees the cancellation
		}
		wg.Wait()
	}()

	for it := range out {
		if it.first {
			select {
			case <-it.ready:
			case <-ctx.Done():
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		// The commits before this item's have had all their blobs yielded.
		r.src.commitsDone.Store(it.commit - 1)
		if it.err != nil {
			r.noteCorrupt(it.err)
		}
		if it.noBlob {
			continue
		}
		if it.missing {
			r.noteMissing(it.id)
		}
		b := Blob{ID: BlobID(it.id), Origin: it.origin, Base: it.base}
		switch {
		case it.first:
			b.Content, b.Skip, b.Size = it.content, it.skip, it.size
			it.content = nil
		case it.excluded:
			b.Skip = SkipExcluded
		}
		err := yield(b)
		if it.first {
			<-tokens
		}
		if err != nil {
			return err
		}
	}
	if ctx.Err() == nil {
		r.src.commitsDone.Store(int64(len(commits)))
	}
	return ctx.Err()
}

// catFileWorkers feeds first sightings to git cat-file and fills them from its answers in
// order. If git cannot answer (it exits on a corrupt object, for one), that object and all later
// ones are read with go-git, so both readers yield the same blobs, skips and errors.
func (r *gitRun) catFileWorkers(ctx context.Context, cf *catFile, jobs <-chan *gitItem, inFlight int, wg *sync.WaitGroup) {
	type req struct {
		it    *gitItem
		asked bool
	}
	pending := make(chan req, inFlight)
	limit := r.src.opts.MaxFileSize
	wg.Add(2)
	go func() {
		defer wg.Done()
		defer close(pending)
		defer cf.finish()
		broken := false
		for it := range jobs {
			asked := !broken && cf.request(it.id) == nil
			broken = !asked
			pending <- req{it, asked}
		}
	}()
	go func() {
		defer wg.Done()
		var st *filesystem.Storage
		defer func() {
			if st != nil {
				st.Close()
			}
		}()
		fallback := false
		for p := range pending {
			it := p.it
			if ctx.Err() == nil {
				viaGoGit := !p.asked || fallback
				if !viaGoGit {
					content, size, skip, ok := cf.read(it.id, limit)
					switch {
					case !ok:
						fallback, viaGoGit = true, true
						_ = cf.cmd.Process.Kill() // unblocks the feeder, whose writes now fail
					case skip == SkipMissing:
						// git also says "missing" for a corrupt loose object; go-git tells
						// the two apart, and a missing object is rare enough to ask twice.
						viaGoGit = true
					case skip != "":
						it.size, it.skip = size, skip
					default:
						it.size, it.content = size, content
					}
				}
				if viaGoGit {
					if st == nil {
						st = newStorage(r.fs, limit)
					}
					r.load(st, it)
				}
			}
			close(it.ready)
		}
		cf.wait()
	}()
}

// introduced is a path at which a commit brings a blob that none of its parents has there.
type introduced struct {
	path string
	hash plumbing.Hash
	prev []plumbing.Hash // the blobs at path in the commit's parents, where it had one
}

func (r *gitRun) produce(ctx context.Context, commits []*commitNode, out, jobs chan<- *gitItem, tokens chan<- struct{}) {
	defer close(out)
	defer close(jobs)
	seen := map[plumbing.Hash]struct{}{}
	unread := map[plumbing.Hash]struct{}{} // seen only at excluded paths so far
	excluded := r.src.opts.Excluded
	var (
		entries []introduced
		errs    []error
	)
	send := func(it *gitItem) bool {
		select {
		case out <- it:
			return true
		case <-ctx.Done():
			return false
		}
	}
	for i, c := range commits {
		if ctx.Err() != nil {
			return
		}
		n := int64(i + 1)
		entries, errs = entries[:0], errs[:0]
		var parents []plumbing.Hash
		for _, p := range c.parents {
			parents = append(parents, p.tree)
		}
		// A commit whose parents are all missing (a shallow clone) introduces its whole tree.
		r.diff(c, "", c.tree, parents, &entries, &errs)
		for _, err := range errs {
			if !send(&gitItem{err: err, noBlob: true, commit: n}) {
				return
			}
		}
		// Tree order is path order for well-formed trees; sort in case a tree is not.
		if !slices.IsSortedFunc(entries, func(a, b introduced) int { return strings.Compare(a.path, b.path) }) {
			slices.SortStableFunc(entries, func(a, b introduced) int { return strings.Compare(a.path, b.path) })
		}
		// A commit at the edge of the scanned part of history (a range's first commits) is
		// compared against content the scan never read: its parents' versions of the files it
		// changes are read first as base content, so only what it brings is reported.
		edge := false
		for _, p := range c.parents {
			edge = edge || !p.included
		}
		for _, e := range entries {
			if !edge || excluded != nil && excluded(e.path) {
				continue
			}
			for _, p := range e.prev {
				if _, known := seen[p]; known {
					continue
				}
				seen[p] = struct{}{}
				it := &gitItem{id: p, origin: GitOrigin{Commit: c.origin.Commit, Path: e.path}, base: true, first: true, ready: make(chan struct{}), commit: n}
				select {
				case tokens <- struct{}{}:
				case <-ctx.Done():
					return
				}
				jobs <- it
				if !send(it) {
					return
				}
			}
		}
		for _, e := range entries {
			it := &gitItem{id: e.hash, origin: c.origin, commit: n}
			it.origin.Path = e.path
			for _, p := range e.prev {
				it.origin.PrevBlobs = append(it.origin.PrevBlobs, BlobID(p))
			}
			_, known := seen[e.hash]
			_, wasUnread := unread[e.hash]
			switch {
			case !known && excluded != nil && excluded(e.path):
				seen[e.hash], unread[e.hash] = struct{}{}, struct{}{}
				it.excluded = true
			case !known || wasUnread && (excluded == nil || !excluded(e.path)):
				// Content met at an excluded path first is read once it turns up elsewhere.
				delete(unread, e.hash)
				seen[e.hash] = struct{}{}
				it.first, it.ready = true, make(chan struct{})
				select {
				case tokens <- struct{}{}:
				case <-ctx.Done():
					return
				}
				jobs <- it // never blocks: jobs holds as many as there are tokens
			}
			if !send(it) {
				return
			}
		}
	}
}

// load fills a first sighting's content, or its skip reason, from the worker's handle st.
func (r *gitRun) load(st *filesystem.Storage, it *gitItem) {
	content, size, err := readBlob(st, it.id, r.src.opts.MaxFileSize)
	it.size = size
	switch {
	case err == nil:
		it.content = content
	case err == errTooLarge:
		it.skip = SkipTooLarge
	case errors.Is(err, plumbing.ErrObjectNotFound):
		it.skip, it.missing = SkipMissing, true
	default:
		it.skip, it.err = SkipUnreadable, fmt.Errorf("reading blob %s at %s: %w", short(it.id), it.origin, err)
	}
}

var errTooLarge = errors.New("too large")

// readBlob reads blob id unless it is larger than limit (when limit > 0), checking the size
// before inflating anything the handle did not already hold.
func readBlob(st storer.EncodedObjectStorer, id plumbing.Hash, limit int64) (content []byte, size int64, err error) {
	defer recoverMalformed(&err)
	obj, err := st.EncodedObject(plumbing.BlobObject, id)
	if err != nil {
		return nil, 0, err
	}
	size = obj.Size()
	if limit > 0 && size > limit {
		return nil, size, errTooLarge
	}
	content, err = readObject(obj)
	return content, size, err
}

// readObject returns an object's content; never nil, so an empty blob still counts as read.
func readObject(obj plumbing.EncodedObject) (content []byte, err error) {
	rd, err := obj.Reader()
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := rd.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	size := obj.Size()
	if size < 0 {
		return nil, fmt.Errorf("object header gives size %d", size)
	}
	if size <= 64<<20 {
		content = make([]byte, size)
		if _, err := io.ReadFull(rd, content); err != nil {
			return nil, err
		}
		return content, nil
	}
	// A corrupt header can claim any size: grow with what is actually there.
	content, err = io.ReadAll(io.LimitReader(rd, size))
	if err == nil && int64(len(content)) != size {
		err = io.ErrUnexpectedEOF
	}
	return content, err
}

// recoverMalformed turns a panic inside go-git, which some malformed objects provoke, into
// an error, so one bad object cannot take the whole scan down.
func recoverMalformed(err *error) {
	if p := recover(); p != nil {
		*err = fmt.Errorf("malformed object: %v", p)
	}
}

// diff appends to out the blobs under tree (at prefix) that are not at the same path in any
// of the parent trees, descending only into subtrees that differ from every parent's.
func (r *gitRun) diff(c *commitNode, prefix string, tree plumbing.Hash, parents []plumbing.Hash, out *[]introduced, errs *[]error) {
	t, ok := r.tree(c, prefix, tree, errs)
	if !ok {
		return
	}
	pts := make([]*gitTree, 0, len(parents))
	for _, ph := range parents {
		if pt, ok := r.tree(c, prefix, ph, errs); ok {
			pts = append(pts, pt)
		}
	}
	cursors := make([]int, len(pts))
	for _, e := range t.entries {
		if e.mode == filemode.Submodule {
			continue // a commit in another repository
		}
		dir := e.mode == filemode.Dir
		same := false
		var subs []plumbing.Hash
		for i, pt := range pts {
			pe, ok := pt.find(&cursors[i], e.name, dir)
			if !ok {
				continue
			}
			if pe.hash == e.hash {
				same = true
				break
			}
			subs = append(subs, pe.hash)
		}
		switch {
		case same:
		case dir:
			r.diff(c, prefix+e.name+"/", e.hash, subs, out, errs)
		default:
			*out = append(*out, introduced{path: prefix + e.name, hash: e.hash, prev: subs})
		}
	}
}

// tree returns the decoded tree h, noting it as missing or corrupt when it cannot be read.
func (r *gitRun) tree(c *commitNode, prefix string, h plumbing.Hash, errs *[]error) (*gitTree, bool) {
	if t, ok := r.trees.get(h); ok {
		return t, true
	}
	if err, bad := r.badTrees[h]; bad {
		if err != nil {
			*errs = append(*errs, err)
		}
		return nil, false
	}
	t, err := r.readTree(h)
	if err != nil {
		if errors.Is(err, plumbing.ErrObjectNotFound) {
			r.noteMissing(h)
			r.badTrees[h] = nil
		} else {
			err = fmt.Errorf("reading tree %s at %s:%s: %w", short(h), short(c.hash), prefix, err)
			r.badTrees[h] = err
			*errs = append(*errs, err)
		}
		return nil, false
	}
	r.trees.put(h, t)
	return t, true
}

func (r *gitRun) readTree(h plumbing.Hash) (t *gitTree, err error) {
	defer recoverMalformed(&err)
	obj, err := r.st.EncodedObject(plumbing.TreeObject, h)
	if err != nil {
		return nil, err
	}
	data, err := readObject(obj)
	if err != nil {
		return nil, err
	}
	return parseTree(data)
}

// gitTree is a decoded tree object, entries in git's order.
type gitTree struct {
	entries []treeEntry
	size    int // approximate bytes held, for the cache budget
}

type treeEntry struct {
	name string
	mode filemode.FileMode
	hash plumbing.Hash
}

var errBadTree = errors.New("malformed tree entry")

// parseTree decodes a raw tree. It is go-git's format, parsed here to avoid its per-entry
// allocations on the hot path.
func parseTree(data []byte) (*gitTree, error) {
	t := &gitTree{entries: make([]treeEntry, 0, bytes.Count(data, []byte{0}))}
	for len(data) > 0 {
		var mode uint32
		i := 0
		for ; i < len(data) && data[i] != ' '; i++ {
			if data[i] < '0' || data[i] > '7' {
				return nil, errBadTree
			}
			mode = mode<<3 | uint32(data[i]-'0')
		}
		if i == 0 || i == len(data) {
			return nil, errBadTree
		}
		data = data[i+1:]
		nul := bytes.IndexByte(data, 0)
		if nul <= 0 || len(data) < nul+1+len(plumbing.ZeroHash) {
			return nil, errBadTree
		}
		e := treeEntry{name: string(data[:nul]), mode: filemode.FileMode(mode)}
		copy(e.hash[:], data[nul+1:])
		data = data[nul+1+len(e.hash):]
		t.entries = append(t.entries, e)
		t.size += len(e.name) + 64
	}
	return t, nil
}

// find returns the entry named name (a tree if dir) at or after *cur, moving *cur forward:
// callers look names up in git's tree order, so one pass over each parent tree suffices.
func (t *gitTree) find(cur *int, name string, dir bool) (treeEntry, bool) {
	for *cur < len(t.entries) {
		e := t.entries[*cur]
		switch c := compareTreeNames(e.name, e.mode == filemode.Dir, name, dir); {
		case c < 0:
			*cur++
		case c == 0:
			return e, true
		default:
			return treeEntry{}, false
		}
	}
	return treeEntry{}, false
}

// compareTreeNames orders entries as git does: a tree sorts as if its name ended in '/'.
func compareTreeNames(a string, aDir bool, b string, bDir bool) int {
	n := min(len(a), len(b))
	if c := strings.Compare(a[:n], b[:n]); c != 0 {
		return c
	}
	next := func(s string, dir bool) byte {
		switch {
		case len(s) > n:
			return s[n]
		case dir:
			return '/'
		}
		return 0
	}
	return cmp.Compare(next(a, aDir), next(b, bDir))
}

// treeCacheSize bounds the decoded trees kept: merges and long-lived branches diff against
// the same trees over and over.
const treeCacheSize = 64 << 20

// treeCache is an LRU of decoded trees bounded by their approximate size.
type treeCache struct {
	max, size int
	ll        *list.List
	items     map[plumbing.Hash]*list.Element
}

type treeCacheEntry struct {
	hash plumbing.Hash
	tree *gitTree
}

func newTreeCache(max int) *treeCache {
	return &treeCache{max: max, ll: list.New(), items: map[plumbing.Hash]*list.Element{}}
}

func (c *treeCache) get(h plumbing.Hash) (*gitTree, bool) {
	el, ok := c.items[h]
	if !ok {
		return nil, false
	}
	c.ll.MoveToFront(el)
	return el.Value.(treeCacheEntry).tree, true
}

func (c *treeCache) put(h plumbing.Hash, t *gitTree) {
	if _, ok := c.items[h]; ok {
		return
	}
	c.items[h] = c.ll.PushFront(treeCacheEntry{h, t})
	c.size += t.size
	for c.size > c.max && c.ll.Len() > 1 {
		el := c.ll.Back()
		e := c.ll.Remove(el).(treeCacheEntry)
		delete(c.items, e.hash)
		c.size -= e.tree.size
	}
}

// short abbreviates a hash the way git does in messages.
func short(h plumbing.Hash) string { return h.String()[:7] }
