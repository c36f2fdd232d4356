package scanner

import (
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// DirSource yields the files under a directory as they are on disk.
type DirSource struct {
	Root        string
	MaxFileSize int64                     // default applied by caller (10 MiB); larger files yield Skip=SkipTooLarge with Size
	Warn        func(error)               // non-fatal problems; nil = ignore
	Exclude     func(relPath string) bool // optional: files to leave out entirely (e.g. the config/baseline being used)
}

// Blobs implements Source, walking Root in lexical order. It skips .git, never follows a
// directory symlink, and reads a file symlink only when its target is inside Root.
func (d *DirSource) Blobs(ctx context.Context, yield func(Blob) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	abs, err := filepath.Abs(d.Root)
	if err != nil {
		return fmt.Errorf("opening directory %q: %w", d.Root, err)
	}
	// Resolve the root itself so a root given through a symlink still has its files inside.
	root, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return fmt.Errorf("opening directory %q: %w", d.Root, unwrapPath(err))
	}
	fi, err := os.Stat(root)
	if err != nil {
		return fmt.Errorf("opening directory %q: %w", d.Root, unwrapPath(err))
	}
	w := &dirWalk{d: d, ctx: ctx, yield: yield, root: root, seen: map[BlobID]struct{}{}}
	if !fi.IsDir() {
		// Named as given: the caller reports paths relative to the directory it named.
		w.root = filepath.Dir(root)
		rel := filepath.Base(abs)
		if !fi.Mode().IsRegular() || d.Exclude != nil && d.Exclude(rel) {
			return nil
		}
		return w.done(w.file(root, rel, fi))
	}
	return w.done(filepath.WalkDir(root, w.visit))
}

// dirWalk is the state of one Blobs call.
type dirWalk struct {
	d        *DirSource
	ctx      context.Context
	yield    func(Blob) error
	root     string // symlinks resolved
	seen     map[BlobID]struct{}
	yieldErr error

	// unread counts files and directories that could not be read, and firstUnread is the
	// first such error: the walk goes on, and Blobs returns them once everything readable has
	// been yielded, because a scan that silently missed a file must not look clean.
	unread      int
	firstUnread error
}

// done returns the walk's outcome: err, else the unreadable summary, else ctx's error.
func (w *dirWalk) done(err error) error {
	if err != nil {
		return w.unwrap(err)
	}
	if w.unread > 0 {
		return fmt.Errorf("%d files or directories could not be read, first: %w", w.unread, w.firstUnread)
	}
	return w.ctx.Err()
}

func (w *dirWalk) noteUnread(err error) {
	if w.unread == 0 {
		w.firstUnread = err
	}
	w.unread++
	w.warn(err)
}

// errStop ends the walk; the reason is in yieldErr, kept apart so a yield error that happens
// to be fs.SkipDir is still returned unchanged.
var errStop = errors.New("stop walking")

func (w *dirWalk) unwrap(err error) error {
	if err == errStop {
		return w.yieldErr
	}
	return err
}

func (w *dirWalk) warn(err error) {
	if w.d.Warn != nil {
		w.d.Warn(err)
	}
}

func (w *dirWalk) visit(path string, de fs.DirEntry, err error) error {
	if cerr := w.ctx.Err(); cerr != nil {
		w.yieldErr = cerr
		return errStop
	}
	if path == w.root {
		if err != nil {
			return fmt.Errorf("opening directory %q: %w", w.d.Root, unwrapPath(err))
		}
		return nil
	}
	rel, rerr := filepath.Rel(w.root, path)
	if rerr != nil {
		return rerr
	}
	rel = filepath.ToSlash(rel)
	if err != nil {
		w.noteUnread(fmt.Errorf("reading %q: %w", rel, unwrapPath(err)))
		return nil // WalkDir skips what it could not list
	}
	if de.Name() == ".git" {
		if de.IsDir() {
			return filepath.SkipDir
		}
		return nil // a worktree's or submodule's pointer to its repository
	}
	if de.IsDir() {
		// keywarden's own state at the root (audit log, rotation journals) holds key IDs and
		// fingerprints, never secrets, and grows with every run.
		if rel == StateDir {
			return filepath.SkipDir
		}
		return nil
	}
	if w.d.Exclude != nil && w.d.Exclude(rel) {
		return nil
	}
	if de.Type()&fs.ModeSymlink != 0 {
		return w.symlink(path, rel)
	}
	if !de.Type().IsRegular() {
		return nil // fifos, sockets and devices have no content to scan, and a fifo would block
	}
	info, err := de.Info()
	if err != nil {
		return w.unreadable(rel, 0, err)
	}
	return w.file(path, rel, info)
}

// symlink reads a link to a file inside the root; links leaving the root are reported, not
// followed, and links to directories are never followed, so loops cannot form.
func (w *dirWalk) symlink(path, rel string) error {
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		return nil // dangling or looping: nothing to read
	}
	fi, err := os.Stat(target)
	if err != nil {
		return w.unreadable(rel, 0, err)
	}
	if !fi.Mode().IsRegular() {
		return nil // a directory (never followed) or a special file
	}
	if !within(w.root, target) {
		return w.emit(Blob{ID: unreadID(rel), Origin: DirOrigin{Path: rel}, Skip: SkipSymlink, Size: fi.Size()})
	}
	if inGitDir(w.root, target) {
		return nil
	}
	return w.file(target, rel, fi)
}

// file yields the regular file at path, or why it was not read.
func (w *dirWalk) file(path, rel string, info fs.FileInfo) error {
	if max := w.d.MaxFileSize; max > 0 && info.Size() > max {
		return w.emit(Blob{ID: unreadID(rel), Origin: DirOrigin{Path: rel}, Skip: SkipTooLarge, Size: info.Size()})
	}
	content, err := os.ReadFile(path)
	if err != nil {
		return w.unreadable(rel, info.Size(), err)
	}
	if content == nil {
		content = []byte{} // nil would read as "not read"
	}
	b := Blob{ID: HashBlob(content), Content: content, Origin: DirOrigin{Path: rel}, Size: int64(len(content))}
	if _, dup := w.seen[b.ID]; dup {
		b.Content = nil // the engine has it already; this is one more place it occurs
	}
	w.seen[b.ID] = struct{}{}
	return w.emit(b)
}

func (w *dirWalk) unreadable(rel string, size int64, err error) error {
	w.noteUnread(fmt.Errorf("reading %q: %w", rel, unwrapPath(err)))
	return w.emit(Blob{ID: unreadID(rel), Origin: DirOrigin{Path: rel}, Skip: SkipUnreadable, Size: size})
}

func (w *dirWalk) emit(b Blob) error {
	if err := w.ctx.Err(); err != nil {
		w.yieldErr = err
		return errStop
	}
	if err := w.yield(b); err != nil {
		w.yieldErr = err
		return errStop
	}
	return nil
}

// unreadID names a file whose content was not read. It derives from the path, so two unread
// files never share an ID and the engine reports each.
func unreadID(rel string) BlobID {
	return BlobID(sha1.Sum([]byte("keywarden unread file\x00" + rel)))
}

// within reports whether path is root or below it; both have symlinks resolved.
func within(root, path string) bool {
	rel, err := filepath.Rel(root, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// inGitDir reports whether path (inside root) is in a .git directory, which walks skip.
func inGitDir(root, path string) bool {
	rel, err := filepath.Rel(root, path)
	return err == nil && slices.Contains(strings.Split(filepath.ToSlash(rel), "/"), ".git")
}

// unwrapPath drops the operation and path from a *fs.PathError, which messages already name.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
