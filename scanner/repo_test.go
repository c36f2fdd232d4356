package scanner

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/keywarden/keywarden/scanner/gittest"
)

// TestRepoWorkTree: config and ignore files come from the work tree of the repository actually
// scanned, never from a repository around a bare one.
func TestRepoWorkTree(t *testing.T) {
	outer := gittest.New(t)
	outer.Commit(map[string]string{"a": "1"}, "one")
	bare := filepath.Join(outer.Path(), "vendor", "mirror.git")
	gittest.Init(t, bare, true)
	sub := filepath.Join(outer.Path(), "src", "pkg")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, path, want string }{
		{"work tree root", outer.Path(), outer.Path()},
		{"inside the work tree", sub, outer.Path()},
		{"bare repository nested in a work tree", bare, ""},
		{"outside any repository", t.TempDir(), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := repoWorkTree(tt.path); got != tt.want {
				t.Errorf("repoWorkTree(%q) = %q, want %q", tt.path, got, tt.want)
			}
		})
	}
}

// TestRevListAsksGit: with git on PATH, a range is listed by git, which stops where the
// histories meet, and gives the same commits the go-git walk does. The walk's fallback gives
// the same answers too, so without this test a git that never answers would go unnoticed.
func TestRevListAsksGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not on PATH")
	}
	r := gittest.New(t)
	base := r.Commit(map[string]string{"a": "1"}, "one")
	r.Branch("other")
	c2 := r.Commit(map[string]string{"a": "2"}, "two")
	r.Checkout("other")
	o := r.Commit(map[string]string{"o": "x"}, "other")
	r.Checkout("main")
	m := r.Merge("other", map[string]string{"a": "2", "o": "x"}, "merge")
	src, closeFn, err := OpenGit(context.Background(), r.Path(), GitOptions{Branch: "main", Not: []string{base}, Reader: ReaderGit})
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	run := &gitRun{src: src}
	got, ok := run.revList(context.Background(), src.starts)
	if !ok {
		t.Fatal("git rev-list gave no answer")
	}
	var ids []string
	for _, h := range got {
		ids = append(ids, h.String())
	}
	slices.Sort(ids)
	want := []string{c2, o, m}
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Errorf("rev-list gave %v, want %v", ids, want)
	}
}
