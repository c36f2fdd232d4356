package scanner

import (
	"os"
	"path/filepath"
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
