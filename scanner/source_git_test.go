package scanner_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/google/go-cmp/cmp"
	"github.com/keywarden/keywarden/scanner"
	"github.com/keywarden/keywarden/scanner/gittest"
	"github.com/keywarden/keywarden/scanner/sourcetest"
)

// yield is one Blob as a test sees it.
type yield struct {
	Commit  string
	Path    string
	Content string
	Skip    string
	Repeat  bool // a later sighting: no content, only another origin
	Base    bool // content from before the scanned history, for comparison only
}

func base(commit, path, content string) yield {
	return yield{Commit: commit, Path: path, Content: content, Base: true}
}

func intro(commit, path, content string) yield {
	return yield{Commit: commit, Path: path, Content: content}
}

func repeat(commit, path string) yield {
	return yield{Commit: commit, Path: path, Repeat: true}
}

// scanGit opens target and collects what Blobs yields and warns.
func scanGit(t *testing.T, target string, opts scanner.GitOptions) ([]yield, []string, error) {
	t.Helper()
	var warns []string
	opts.Warn = func(err error) { warns = append(warns, err.Error()) }
	src, closeFn, err := scanner.OpenGit(context.Background(), target, opts)
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if err := closeFn(); err != nil {
			t.Errorf("closing source: %v", err)
		}
	}()
	got, err := collect(src)
	return got, warns, err
}

func collect(src scanner.Source) ([]yield, error) {
	var got []yield
	seen := map[scanner.BlobID]bool{}
	err := src.Blobs(context.Background(), func(b scanner.Blob) error {
		o, ok := b.Origin.(scanner.GitOrigin)
		if !ok {
			return fmt.Errorf("origin %T, want GitOrigin", b.Origin)
		}
		y := yield{Commit: o.Commit, Path: o.Path, Content: string(b.Content), Skip: b.Skip, Repeat: seen[b.ID], Base: b.Base}
		seen[b.ID] = true
		got = append(got, y)
		return nil
	})
	return got, err
}

// gitCase builds a repository and says what scanning it must yield.
type gitCase struct {
	name   string
	build  func(t *testing.T) (r *gittest.Repo, opts scanner.GitOptions, want []yield)
	noPack bool // go-git's repack cannot walk symlinks or submodules
}

var gitCases = []gitCase{
	{
		name: "secret added then deleted is introduced once",
		build: func(t *testing.T) (*gittest.Repo, scanner.GitOptions, []yield) {
			r := gittest.New(t)
			c1 := r.Commit(map[string]string{"README": "hello", "deploy/prod.env": "TOKEN=s3cret"}, "add config")
			r.Commit(nil, "remove secret", gittest.Delete("deploy/prod.env"))
			c3 := r.Commit(map[string]string{"README": "hello again"}, "docs")
			return r, scanner.GitOptions{}, []yield{
				intro(c1, "README", "hello"),
				intro(c1, "deploy/prod.env", "TOKEN=s3cret"),
				intro(c3, "README", "hello again"),
			}
		},
	},
	{
		name: "same content at two paths on two branches",
		build: func(t *testing.T) (*gittest.Repo, scanner.GitOptions, []yield) {
			r := gittest.New(t)
			c1 := r.Commit(map[string]string{"a.txt": "base"}, "base")
			r.Branch("feat")
			r.Checkout("feat")
			c2 := r.Commit(map[string]string{"b.txt": "shared"}, "feat adds")
			r.Checkout("main")
			c3 := r.Commit(map[string]string{"sub/c.txt": "shared"}, "main adds")
			return r, scanner.GitOptions{}, []yield{
				intro(c1, "a.txt", "base"),
				intro(c2, "b.txt", "shared"),
				repeat(c3, "sub/c.txt"),
			}
		},
	},
	{
		name: "renamed file is a new origin of the same blob",
		build: func(t *testing.T) (*gittest.Repo, scanner.GitOptions, []yield) {
			r := gittest.New(t)
			c1 := r.Commit(map[string]string{"old.txt": "content"}, "add")
			c2 := r.Commit(map[string]string{"new.txt": "content"}, "rename", gittest.Delete("old.txt"))
			return r, scanner.GitOptions{}, []yield{intro(c1, "old.txt", "content"), repeat(c2, "new.txt")}
		},
	},
	{
		name: "commit reachable only from a lightweight tag",
		build: func(t *testing.T) (*gittest.Repo, scanner.GitOptions, []yield) {
			r := gittest.New(t)
			c1 := r.Commit(map[string]string{"a.txt": "a"}, "base")
			r.Branch("tmp")
			r.Checkout("tmp")
			c2 := r.Commit(map[string]string{"key": "tagged secret"}, "tagged")
			r.Tag("v1", c2)
			r.Checkout("main")
			r.DeleteBranch("tmp")
			return r, scanner.GitOptions{}, []yield{intro(c1, "a.txt", "a"), intro(c2, "key", "tagged secret")}
		},
	},
	{
		name: "commit reachable only from an annotated tag of a tag",
		build: func(t *testing.T) (*gittest.Repo, scanner.GitOptions, []yield) {
			r := gittest.New(t)
			c1 := r.Commit(map[string]string{"a.txt": "a"}, "base")
			r.Branch("tmp")
			r.Checkout("tmp")
			c2 := r.Commit(map[string]string{"key": "tagged secret"}, "tagged")
			inner := r.AnnotatedTag("inner", c2, "inner tag")
			r.AnnotatedTag("outer", inner, "tag of a tag")
			if err := r.Repository().DeleteTag("inner"); err != nil {
				t.Fatal(err)
			}
			r.Checkout("main")
			r.DeleteBranch("tmp")
			return r, scanner.GitOptions{}, []yield{intro(c1, "a.txt", "a"), intro(c2, "key", "tagged secret")}
		},
	},
	{
		name: "merge resolution with new content is introduced by the merge",
		build: func(t *testing.T) (*gittest.Repo, scanner.GitOptions, []yield) {
			r := gittest.New(t)
			c1 := r.Commit(map[string]string{"app.conf": "v1", "x/keep": "keep"}, "base")
			r.Branch("feat")
			r.Checkout("feat")
			c2 := r.Commit(map[string]string{"app.conf": "feat", "x/feat": "f"}, "feat")
			r.Checkout("main")
			c3 := r.Commit(map[string]string{"app.conf": "main", "y/main": "m"}, "main")
			m := r.Merge("feat", map[string]string{"app.conf": "resolved"}, "merge feat")
			return r, scanner.GitOptions{}, []yield{
				intro(c1, "app.conf", "v1"),
				intro(c1, "x/keep", "keep"),
				intro(c2, "app.conf", "feat"),
				intro(c2, "x/feat", "f"),
				intro(c3, "app.conf", "main"),
				intro(c3, "y/main", "m"),
				intro(m, "app.conf", "resolved"),
			}
		},
	},
	{
		name: "merge taking one side unchanged introduces nothing",
		build: func(t *testing.T) (*gittest.Repo, scanner.GitOptions, []yield) {
			r := gittest.New(t)
			c1 := r.Commit(map[string]string{"app.conf": "v1"}, "base")
			r.Branch("feat")
			r.Checkout("feat")
			c2 := r.Commit(map[string]string{"app.conf": "feat", "x/feat": "f"}, "feat")
			r.Checkout("main")
			c3 := r.Commit(map[string]string{"y/main": "m"}, "main")
			r.Merge("feat", map[string]string{"app.conf": "feat"}, "merge feat")
			return r, scanner.GitOptions{}, []yield{
				intro(c1, "app.conf", "v1"),
				intro(c2, "app.conf", "feat"),
				intro(c2, "x/feat", "f"),
				intro(c3, "y/main", "m"),
			}
		},
	},
	{
		name: "range excludes the history of its start",
		build: func(t *testing.T) (*gittest.Repo, scanner.GitOptions, []yield) {
			r := gittest.New(t)
			r.Commit(map[string]string{"a": "1", "b": "unchanged"}, "one")
			r.Commit(map[string]string{"a": "2"}, "two")
			r.Commit(map[string]string{"a": "3"}, "three")
			r.Branch("feat")
			r.Checkout("feat")
			c4 := r.Commit(map[string]string{"a": "1"}, "revert to old content")
			c5 := r.Commit(map[string]string{"c": "5"}, "five")
			return r, scanner.GitOptions{Range: "main..feat"}, []yield{
				// Content from before the range is new to the range, so it is yielded in full,
				// after the version it replaced, which is compared against but not reported.
				base(c4, "a", "3"),
				intro(c4, "a", "1"),
				intro(c5, "c", "5"),
			}
		},
	},
	{
		name: "range of hashes",
		build: func(t *testing.T) (*gittest.Repo, scanner.GitOptions, []yield) {
			r := gittest.New(t)
			c1 := r.Commit(map[string]string{"a": "1"}, "one")
			c2 := r.Commit(map[string]string{"a": "2"}, "two")
			c3 := r.Commit(map[string]string{"b": "3"}, "three")
			r.Commit(map[string]string{"a": "4"}, "four")
			return r, scanner.GitOptions{Range: c1 + ".." + c3}, []yield{base(c2, "a", "1"), intro(c2, "a", "2"), intro(c3, "b", "3")}
		},
	},
	{
		name: "not leaves out the history of other revisions",
		build: func(t *testing.T) (*gittest.Repo, scanner.GitOptions, []yield) {
			r := gittest.New(t)
			r.Commit(map[string]string{"a": "1"}, "one")
			r.Branch("other")
			r.Checkout("other")
			r.Commit(map[string]string{"o": "other"}, "other")
			r.Checkout("main")
			c3 := r.Commit(map[string]string{"b": "2"}, "three")
			return r, scanner.GitOptions{Branch: "main", Not: []string{"other"}}, []yield{intro(c3, "b", "2")}
		},
	},
	{
		name: "start points with remote-tracking refs left out",
		build: func(t *testing.T) (*gittest.Repo, scanner.GitOptions, []yield) {
			r := gittest.New(t)
			c1 := r.Commit(map[string]string{"a": "1"}, "one")
			r.Ref("refs/remotes/origin/main", c1)
			c2 := r.Commit(map[string]string{"a": "2"}, "two")
			return r, scanner.GitOptions{Starts: []string{c2}, NotRemotes: true}, []yield{base(c2, "a", "1"), intro(c2, "a", "2")}
		},
	},
	{
		name: "no start points scan nothing",
		build: func(t *testing.T) (*gittest.Repo, scanner.GitOptions, []yield) {
			r := gittest.New(t)
			r.Commit(map[string]string{"a": "1"}, "one")
			return r, scanner.GitOptions{Starts: []string{}}, nil
		},
	},
	{
		name: "branch limits the walk to one ref",
		build: func(t *testing.T) (*gittest.Repo, scanner.GitOptions, []yield) {
			r := gittest.New(t)
			c1 := r.Commit(map[string]string{"a": "1"}, "one")
			r.Branch("feat")
			r.Commit(map[string]string{"main-only": "m"}, "main")
			r.Checkout("feat")
			c3 := r.Commit(map[string]string{"feat-only": "f"}, "feat")
			r.Checkout("main")
			return r, scanner.GitOptions{Branch: "feat"}, []yield{intro(c1, "a", "1"), intro(c3, "feat-only", "f")}
		},
	},
	{
		name: "branch names an annotated tag",
		build: func(t *testing.T) (*gittest.Repo, scanner.GitOptions, []yield) {
			r := gittest.New(t)
			c1 := r.Commit(map[string]string{"a": "1"}, "one")
			r.AnnotatedTag("v1", c1, "release")
			r.Commit(map[string]string{"a": "2"}, "two")
			return r, scanner.GitOptions{Branch: "v1"}, []yield{intro(c1, "a", "1")}
		},
	},
	{
		name: "since drops older commits but diffs against them",
		build: func(t *testing.T) (*gittest.Repo, scanner.GitOptions, []yield) {
			r := gittest.New(t)
			r.Commit(map[string]string{"a": "1", "b": "old"}, "one")
			c2 := r.Commit(map[string]string{"a": "2"}, "two")
			c3 := r.Commit(map[string]string{"c": "3"}, "three")
			return r, scanner.GitOptions{Since: gittest.Epoch.Add(time.Hour)}, []yield{base(c2, "a", "1"), intro(c2, "a", "2"), intro(c3, "c", "3")}
		},
	},
	{
		name: "blobs over the size limit are skipped",
		build: func(t *testing.T) (*gittest.Repo, scanner.GitOptions, []yield) {
			r := gittest.New(t)
			c1 := r.Commit(map[string]string{"big": strings.Repeat("x", 100), "small": "ok"}, "one")
			return r, scanner.GitOptions{MaxFileSize: 99}, []yield{
				{Commit: c1, Path: "big", Skip: scanner.SkipTooLarge},
				intro(c1, "small", "ok"),
			}
		},
	},
	{
		name: "excluded paths are not read until the content turns up elsewhere",
		build: func(t *testing.T) (*gittest.Repo, scanner.GitOptions, []yield) {
			r := gittest.New(t)
			c1 := r.Commit(map[string]string{"vendor/a": "shared", "vendor/b": "only vendored"}, "one")
			c2 := r.Commit(map[string]string{"src/a": "shared"}, "two")
			c3 := r.Commit(map[string]string{"vendor/c": "shared"}, "three")
			opts := scanner.GitOptions{Excluded: func(p string) bool { return strings.HasPrefix(p, "vendor/") }}
			return r, opts, []yield{
				{Commit: c1, Path: "vendor/a", Skip: scanner.SkipExcluded},
				{Commit: c1, Path: "vendor/b", Skip: scanner.SkipExcluded},
				{Commit: c2, Path: "src/a", Content: "shared", Repeat: true},
				repeat(c3, "vendor/c"),
			}
		},
	},
	{
		name: "empty blob is yielded with empty content",
		build: func(t *testing.T) (*gittest.Repo, scanner.GitOptions, []yield) {
			r := gittest.New(t)
			c1 := r.Commit(map[string]string{"empty": "", "x": "y"}, "one")
			return r, scanner.GitOptions{}, []yield{intro(c1, "empty", ""), intro(c1, "x", "y")}
		},
	},
	{
		name: "tree order is path order",
		build: func(t *testing.T) (*gittest.Repo, scanner.GitOptions, []yield) {
			r := gittest.New(t)
			c1 := r.Commit(map[string]string{"a/x": "1", "a.txt": "2", "a-b": "3", "ab": "4"}, "one")
			return r, scanner.GitOptions{}, []yield{
				intro(c1, "a-b", "3"), intro(c1, "a.txt", "2"), intro(c1, "a/x", "1"), intro(c1, "ab", "4"),
			}
		},
	},
	{
		name:   "symlinks are yielded, submodules skipped",
		noPack: true,
		build: func(t *testing.T) (*gittest.Repo, scanner.GitOptions, []yield) {
			r := gittest.New(t)
			c1 := r.Commit(map[string]string{"a": "a"}, "one",
				gittest.Symlink("link", "target/path"),
				gittest.Submodule("vendor/lib", strings.Repeat("ab", 20)))
			return r, scanner.GitOptions{}, []yield{intro(c1, "a", "a"), intro(c1, "link", "target/path")}
		},
	},
	{
		name: "empty repository yields nothing",
		build: func(t *testing.T) (*gittest.Repo, scanner.GitOptions, []yield) {
			return gittest.New(t), scanner.GitOptions{}, nil
		},
	},
}

// readers are the blob readers every git source test runs with: go-git alone (with one and
// with several workers) and the git cat-file accelerator, which must yield the same.
var readers = []struct {
	name    string
	reader  string
	workers int
}{
	{"go-git/workers=1", scanner.ReaderGoGit, 1},
	{"go-git/workers=3", scanner.ReaderGoGit, 3},
	{"git-cat-file", scanner.ReaderGit, 0},
}

func skipWithoutGit(t *testing.T, reader string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil && reader == scanner.ReaderGit {
		t.Skip("no git binary for the cat-file reader")
	}
}

func TestGitSource(t *testing.T) {
	for _, layout := range []string{"loose", "packed"} {
		for _, rd := range readers {
			for _, tc := range gitCases {
				t.Run(fmt.Sprintf("%s/%s/%s", tc.name, layout, rd.name), func(t *testing.T) {
					skipWithoutGit(t, rd.reader)
					if layout == "packed" && tc.noPack {
						t.Skip("go-git cannot pack this repository")
					}
					r, opts, want := tc.build(t)
					if layout == "packed" && r.Head() != "" {
						r.Pack()
					}
					opts.Workers, opts.Reader = rd.workers, rd.reader
					got, warns, err := scanGit(t, r.Path(), opts)
					if err != nil {
						t.Fatalf("scan: %v", err)
					}
					if diff := cmp.Diff(want, got); diff != "" {
						t.Errorf("yields (-want +got):\n%s", diff)
					}
					if len(warns) > 0 {
						t.Errorf("unexpected warnings: %q", warns)
					}
				})
			}
		}
	}
}

func TestGitSourceOrigin(t *testing.T) {
	r := gittest.New(t)
	r.Commit(map[string]string{"a": "1"}, "first")
	c2 := r.Commit(map[string]string{"a": "2"}, "add key\n\nlong description", gittest.Author("Ann", "ann@example.com"))
	src, closeFn, err := scanner.OpenGit(context.Background(), r.Path(), scanner.GitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	var got []scanner.Origin
	err = src.Blobs(context.Background(), func(b scanner.Blob) error {
		got = append(got, b.Origin)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := scanner.GitOrigin{Commit: c2, Path: "a", Author: "Ann", Email: "ann@example.com", Date: gittest.Epoch.Add(time.Hour), Message: "add key",
		PrevBlobs: []scanner.BlobID{scanner.HashBlob([]byte("1"))}}
	if len(got) != 2 {
		t.Fatalf("got %d origins, want 2", len(got))
	}
	if diff := cmp.Diff(scanner.Origin(want), got[1]); diff != "" {
		t.Errorf("origin (-want +got):\n%s", diff)
	}
	if n := src.Commits(); n != 2 {
		t.Errorf("Commits() = %d, want 2", n)
	}
}

func TestGitSourceOpen(t *testing.T) {
	r := gittest.New(t)
	c1 := r.Commit(map[string]string{"a": "1"}, "one")
	sub := filepath.Join(r.Path(), "deep", "dir")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(sub, "file.txt")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	bare := gittest.Init(t, t.TempDir(), true)
	c2 := bare.Commit(map[string]string{"b": "2"}, "bare")

	// A linked work tree, laid out as "git worktree add" does: its .git file points at a
	// directory holding its HEAD, whose commondir holds the objects and refs.
	linked := gittest.New(t)
	c3 := linked.Commit(map[string]string{"c": "3"}, "linked")
	linked.Pack()
	wt := t.TempDir()
	admin := filepath.Join(linked.GitDir(), "worktrees", "wt")
	writeTree(t, admin, map[string]string{
		"HEAD":      "ref: refs/heads/main\n",
		"commondir": "../..\n",
		"gitdir":    filepath.Join(wt, ".git") + "\n",
	})
	writeTree(t, wt, map[string]string{".git": "gitdir: " + admin + "\n"})

	tests := []struct {
		name   string
		target string
		want   []yield
	}{
		{"work tree root", r.Path(), []yield{intro(c1, "a", "1")}},
		{"directory inside the work tree", sub, []yield{intro(c1, "a", "1")}},
		{"file inside the work tree", file, []yield{intro(c1, "a", "1")}},
		{".git directory", filepath.Join(r.Path(), ".git"), []yield{intro(c1, "a", "1")}},
		{"bare repository", bare.Path(), []yield{intro(c2, "b", "2")}},
		{"linked work tree", wt, []yield{intro(c3, "c", "3")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _, err := scanGit(t, tc.target, scanner.GitOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("yields (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGitSourceOpenErrors(t *testing.T) {
	r := gittest.New(t)
	r.Commit(map[string]string{"a": "1"}, "one")
	missing := filepath.Join(t.TempDir(), "nope")
	notRepo := t.TempDir()

	tests := []struct {
		name    string
		target  string
		opts    scanner.GitOptions
		wantErr string
		wantIs  error
	}{
		{name: "missing path", target: missing, wantErr: fmt.Sprintf("opening repository %q: no such file or directory", missing)},
		{name: "not a repository", target: notRepo, wantErr: fmt.Sprintf("opening repository %q: not a git repository", notRepo), wantIs: scanner.ErrNotRepo},
		{name: "unknown branch", target: r.Path(), opts: scanner.GitOptions{Branch: "foo"}, wantErr: `resolving "foo": reference not found`},
		{name: "unknown range end", target: r.Path(), opts: scanner.GitOptions{Range: "main..foo"}, wantErr: `resolving "foo": reference not found`},
		{name: "range without dots", target: r.Path(), opts: scanner.GitOptions{Range: "main"}, wantErr: `resolving range "main": want A..B`},
		{name: "symmetric range", target: r.Path(), opts: scanner.GitOptions{Range: "main...main"}, wantErr: `resolving range "main...main": want A..B`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src, closeFn, err := scanner.OpenGit(context.Background(), tc.target, tc.opts)
			if err == nil {
				closeFn()
				t.Fatalf("OpenGit succeeded with %v, want error %q", src, tc.wantErr)
			}
			if err.Error() != tc.wantErr {
				t.Errorf("error %q, want %q", err, tc.wantErr)
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("error %v does not wrap %v", err, tc.wantIs)
			}
		})
	}
}

// buildHistory makes a repository with branches, tags and merges for whole-history checks.
func buildHistory(t testing.TB) *gittest.Repo {
	r := gittest.New(t)
	r.Commit(map[string]string{"README": "hi", "src/a.go": "package a"}, "init")
	r.Branch("feat")
	r.Checkout("feat")
	r.Commit(map[string]string{"src/b.go": "package b // key=AKIA"}, "feat")
	r.Checkout("main")
	r.Commit(map[string]string{"src/a.go": "package a // v2"}, "main")
	r.Merge("feat", map[string]string{"src/a.go": "package a // merged"}, "merge")
	r.Checkout("side")
	r.Commit(map[string]string{"side.txt": "orphan root"}, "orphan")
	c := r.Commit(map[string]string{"side.txt": "tagged"}, "tagged")
	r.AnnotatedTag("v1", c, "release")
	r.Checkout("main")
	r.DeleteBranch("side")
	return r
}

func TestGitSourceFileURL(t *testing.T) {
	if _, err := exec.LookPath("git-upload-pack"); err != nil {
		t.Log("no git-upload-pack: file:// is read in place rather than cloned")
	}
	r := buildHistory(t)
	want, _, err := scanGit(t, r.Path(), scanner.GitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := scanGit(t, "file://"+r.Path(), scanner.GitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("file:// scan differs from path scan (-path +url):\n%s", diff)
	}
	if len(want) != 7 {
		t.Errorf("path scan yielded %d blobs, want 7: %+v", len(want), want)
	}
}

func TestGitSourceCloneRemovedOnClose(t *testing.T) {
	if _, err := exec.LookPath("git-upload-pack"); err != nil {
		t.Skip("go-git's file transport needs git-upload-pack to clone")
	}
	r := buildHistory(t)
	before, _ := filepath.Glob(filepath.Join(os.TempDir(), "keywarden-clone-*"))
	_, closeFn, err := scanner.OpenGit(context.Background(), "file://"+r.Path(), scanner.GitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	during, _ := filepath.Glob(filepath.Join(os.TempDir(), "keywarden-clone-*"))
	if len(during) != len(before)+1 {
		t.Errorf("clone dirs: %d before, %d while open; want one more", len(before), len(during))
	}
	if err := closeFn(); err != nil {
		t.Fatal(err)
	}
	after, _ := filepath.Glob(filepath.Join(os.TempDir(), "keywarden-clone-*"))
	if len(after) != len(before) {
		t.Errorf("clone dirs: %d before, %d after close", len(before), len(after))
	}
}

func TestGitSourceShallowClone(t *testing.T) {
	if _, err := exec.LookPath("git-upload-pack"); err != nil {
		t.Skip("go-git's file transport needs git-upload-pack for a shallow clone")
	}
	r := gittest.New(t)
	r.Commit(map[string]string{"a": "1", "b": "kept"}, "one")
	r.Commit(map[string]string{"a": "2"}, "two")
	c3 := r.Commit(map[string]string{"c": "3"}, "three")
	dir := t.TempDir()
	_, err := git.PlainClone(dir, true, &git.CloneOptions{URL: "file://" + r.Path(), Depth: 1})
	if err != nil {
		t.Fatalf("shallow clone: %v", err)
	}
	for _, rd := range readers {
		t.Run(rd.name, func(t *testing.T) {
			got, warns, err := scanGit(t, dir, scanner.GitOptions{Reader: rd.reader, Workers: rd.workers})
			if err != nil {
				t.Fatal(err)
			}
			want := []yield{intro(c3, "a", "2"), intro(c3, "b", "kept"), intro(c3, "c", "3")}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("yields (-want +got):\n%s", diff)
			}
			wantWarns := []string{"1 objects missing (shallow clone or incomplete repository); scanned what exists"}
			if diff := cmp.Diff(wantWarns, warns); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGitSourceDamagedObjects(t *testing.T) {
	tests := []struct {
		name      string
		damage    func(path string) error
		wantSkip  string
		wantWarns []string
		wantErr   string // prefix, then the blob's short hash; "" for no error
	}{
		{
			name:      "missing blob is skipped with a warning",
			damage:    os.Remove,
			wantSkip:  scanner.SkipMissing,
			wantWarns: []string{"1 objects missing (shallow clone or incomplete repository); scanned what exists"},
		},
		{
			name:     "corrupt blob is skipped and reported after the rest",
			damage:   garble,
			wantSkip: scanner.SkipUnreadable,
			wantErr:  "reading blob ",
		},
	}
	for _, tc := range tests {
		for _, rd := range readers {
			t.Run(tc.name+"/"+rd.name, func(t *testing.T) {
				skipWithoutGit(t, rd.reader)
				testDamagedObject(t, tc.damage, tc.wantSkip, tc.wantWarns, tc.wantErr, rd.reader, rd.workers)
			})
		}
	}
}

// testDamagedObject damages blob "b" of a two-commit repository and checks what the source
// yields, warns and returns with the given reader.
func testDamagedObject(t *testing.T, damage func(string) error, wantSkip string, wantWarns []string, wantErr, reader string, workers int) {
	t.Helper()
	r := gittest.New(t)
	c1 := r.Commit(map[string]string{"a": "first", "b": "damaged", "c": "third"}, "one")
	c2 := r.Commit(map[string]string{"d": "later"}, "two")
	id := scanner.HashBlob([]byte("damaged")).String()
	if err := damage(r.ObjectPath(id)); err != nil {
		t.Fatal(err)
	}
	got, warns, err := scanGit(t, r.Path(), scanner.GitOptions{Workers: workers, Reader: reader})
	want := []yield{
		intro(c1, "a", "first"),
		{Commit: c1, Path: "b", Skip: wantSkip},
		intro(c1, "c", "third"),
		intro(c2, "d", "later"),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("yields (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantWarns, warns); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	switch {
	case wantErr == "" && err != nil:
		t.Errorf("error %v, want none", err)
	case wantErr != "":
		wantPrefix := wantErr + id[:7] + " at " + c1[:7] + ":b: "
		if err == nil || !strings.HasPrefix(err.Error(), wantPrefix) {
			t.Errorf("error %v, want one starting %q", err, wantPrefix)
		}
	}
}

func garble(path string) error {
	if err := os.Chmod(path, 0o644); err != nil {
		return err
	}
	return os.WriteFile(path, []byte("garbage"), 0o644)
}

func TestGitSourceDamagedTreesAndCommits(t *testing.T) {
	// History: c1 adds ok/a, c2 adds bad/b and z, c3 adds c. The damage hits c2's tree "bad"
	// or c2 itself.
	tests := []struct {
		name      string
		damage    func(r *gittest.Repo, c2, badTree string) error
		want      func(c1, c2, c3 string) []yield
		wantWarns []string
		wantErr   func(c2, badTree string) string // prefix of the error; "" for none
	}{
		{
			name:   "corrupt tree: the rest is yielded, then an error",
			damage: func(r *gittest.Repo, _, badTree string) error { return garble(r.ObjectPath(badTree)) },
			want: func(c1, c2, c3 string) []yield {
				return []yield{intro(c1, "ok/a", "a"), intro(c2, "z", "z"), intro(c3, "c", "c")}
			},
			wantErr: func(c2, badTree string) string { return "reading tree " + badTree[:7] + " at " + c2[:7] + ":bad/: " },
		},
		{
			name:   "missing tree: the rest is yielded with a warning",
			damage: func(r *gittest.Repo, _, badTree string) error { return os.Remove(r.ObjectPath(badTree)) },
			want: func(c1, c2, c3 string) []yield {
				return []yield{intro(c1, "ok/a", "a"), intro(c2, "z", "z"), intro(c3, "c", "c")}
			},
			wantWarns: []string{"1 objects missing (shallow clone or incomplete repository); scanned what exists"},
		},
		{
			name:   "corrupt commit: its child introduces its whole tree, then an error",
			damage: func(r *gittest.Repo, c2, _ string) error { return garble(r.ObjectPath(c2)) },
			want: func(_, _, c3 string) []yield {
				return []yield{intro(c3, "bad/b", "b"), intro(c3, "c", "c"), intro(c3, "ok/a", "a"), intro(c3, "z", "z")}
			},
			wantErr: func(c2, _ string) string { return "reading commit " + c2[:7] + ": " },
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := gittest.New(t)
			c1 := r.Commit(map[string]string{"ok/a": "a"}, "one")
			c2 := r.Commit(map[string]string{"bad/b": "b", "z": "z"}, "two")
			c3 := r.Commit(map[string]string{"c": "c"}, "three")
			c, err := r.Repository().CommitObject(plumbing.NewHash(c2))
			if err != nil {
				t.Fatal(err)
			}
			tree, err := c.Tree()
			if err != nil {
				t.Fatal(err)
			}
			var badTree string
			for _, e := range tree.Entries {
				if e.Name == "bad" {
					badTree = e.Hash.String()
				}
			}
			if err := tc.damage(r, c2, badTree); err != nil {
				t.Fatal(err)
			}
			got, warns, err := scanGit(t, r.Path(), scanner.GitOptions{})
			if diff := cmp.Diff(tc.want(c1, c2, c3), got); diff != "" {
				t.Errorf("yields (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantWarns, warns); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
			wantErr := ""
			if tc.wantErr != nil {
				wantErr = tc.wantErr(c2, badTree)
			}
			switch {
			case wantErr == "" && err != nil:
				t.Errorf("error %v, want none", err)
			case wantErr != "" && (err == nil || !strings.HasPrefix(err.Error(), wantErr)):
				t.Errorf("error %v, want one starting %q", err, wantErr)
			}
		})
	}
}

func TestRootCommit(t *testing.T) {
	r := gittest.New(t)
	root := r.Commit(map[string]string{"a": "1"}, "root")
	r.Branch("feat")
	r.Checkout("other")
	r.Commit(map[string]string{"b": "1"}, "another root")
	r.Checkout("feat")
	r.Commit(map[string]string{"a": "2"}, "feat")
	r.Checkout("main")
	r.Commit(map[string]string{"a": "3"}, "main")
	r.Merge("other", nil, "merge the other root in")
	r.Merge("feat", map[string]string{"a": "4"}, "merge feat")

	src, closeFn, err := scanner.OpenGit(context.Background(), r.Path(), scanner.GitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	if got := src.RootCommit(); got != root {
		t.Errorf("RootCommit() = %s, want %s", got, root)
	}
	sub := filepath.Join(r.Path(), "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if got, ok := scanner.RootCommitOf(sub); got != root || !ok {
		t.Errorf("RootCommitOf(sub) = %s, %v; want %s, true", got, ok, root)
	}
	if got, ok := scanner.RootCommitOf(t.TempDir()); got != "" || ok {
		t.Errorf("RootCommitOf(not a repo) = %q, %v; want \"\", false", got, ok)
	}
}

func TestGitSourceConformance(t *testing.T) {
	r := buildHistory(t)
	sourcetest.Run(t, func(t *testing.T) scanner.Source {
		src, closeFn, err := scanner.OpenGit(context.Background(), r.Path(), scanner.GitOptions{Workers: 2})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { closeFn() })
		return src
	})
}

// BenchmarkGitSource measures Blobs over a generated history of 300 commits.
func BenchmarkGitSource(b *testing.B) {
	r := gittest.New(b)
	const files = 8
	content := strings.Repeat("some configuration line with a value\n", 200)
	for i := range 300 {
		changes := map[string]string{}
		for f := range 3 {
			changes[fmt.Sprintf("dir%d/file%d.txt", (i+f)%4, (i*3+f)%files)] = fmt.Sprintf("%d-%d\n%s", i, f, content)
		}
		r.Commit(changes, fmt.Sprintf("commit %d", i))
	}
	r.Pack()
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			src, closeFn, err := scanner.OpenGit(context.Background(), r.Path(), scanner.GitOptions{Workers: workers})
			if err != nil {
				b.Fatal(err)
			}
			defer closeFn()
			blobs := 0
			b.ResetTimer()
			for b.Loop() {
				err := src.Blobs(context.Background(), func(bl scanner.Blob) error {
					if bl.Content != nil {
						blobs++
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(blobs)/b.Elapsed().Seconds(), "blobs/s")
		})
	}
}
