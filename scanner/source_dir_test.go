package scanner_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/keywarden/keywarden/scanner"
	"github.com/keywarden/keywarden/scanner/sourcetest"
)

// dirYield is one Blob from a DirSource as a test sees it.
type dirYield struct {
	Path    string
	Content string
	Skip    string
	Size    int64
	Repeat  bool // content already yielded under another path
}

// writeTree creates files (slash path → content) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, c := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("cannot create symlinks here: %v", err)
	}
}

func scanDir(t *testing.T, src *scanner.DirSource) ([]dirYield, []string, error) {
	t.Helper()
	var warns []string
	src.Warn = func(err error) { warns = append(warns, err.Error()) }
	var got []dirYield
	seen := map[scanner.BlobID]bool{}
	err := src.Blobs(context.Background(), func(b scanner.Blob) error {
		o, ok := b.Origin.(scanner.DirOrigin)
		if !ok {
			return fmt.Errorf("origin %T, want DirOrigin", b.Origin)
		}
		if b.Content != nil && scanner.HashBlob(b.Content) != b.ID {
			t.Errorf("%s: ID is not the hash of the content", o.Path)
		}
		got = append(got, dirYield{Path: o.Path, Content: string(b.Content), Skip: b.Skip, Size: b.Size, Repeat: seen[b.ID]})
		seen[b.ID] = true
		return nil
	})
	return got, warns, err
}

func file(path, content string) dirYield {
	return dirYield{Path: path, Content: content, Size: int64(len(content))}
}

func TestDirSource(t *testing.T) {
	tests := []struct {
		name      string
		build     func(t *testing.T, dir string) *scanner.DirSource
		want      []dirYield
		wantWarns []string
	}{
		{
			name: "files in lexical order, .git skipped",
			build: func(t *testing.T, dir string) *scanner.DirSource {
				writeTree(t, dir, map[string]string{
					"b.txt":           "b",
					"a/z.txt":         "z",
					"a/b/c.txt":       "c",
					".git/config":     "[core]",
					"sub/.git":        "gitdir: ../.git/modules/sub",
					"sub/x.txt":       "x",
					".gitignore":      "*.log",
					"empty":           "",
					"deploy/prod.env": "TOKEN=1",
				})
				return &scanner.DirSource{Root: dir}
			},
			want: []dirYield{
				file(".gitignore", "*.log"),
				file("a/b/c.txt", "c"),
				file("a/z.txt", "z"),
				file("b.txt", "b"),
				file("deploy/prod.env", "TOKEN=1"),
				file("empty", ""),
				file("sub/x.txt", "x"),
			},
		},
		{
			name: "keywarden's state directory at the root is skipped, elsewhere it is scanned",
			build: func(t *testing.T, dir string) *scanner.DirSource {
				writeTree(t, dir, map[string]string{
					".keywarden/audit.jsonl":        `{"seq":1}`,
					".keywarden/rotations/1.jsonl":  `{"event":"plan"}`,
					"vendor/.keywarden/audit.jsonl": "v",
					".keywarden.toml":               "title = 'x'",
				})
				return &scanner.DirSource{Root: dir}
			},
			want: []dirYield{file(".keywarden.toml", "title = 'x'"), file("vendor/.keywarden/audit.jsonl", "v")},
		},
		{
			name: "files over the size limit are skipped with their size",
			build: func(t *testing.T, dir string) *scanner.DirSource {
				writeTree(t, dir, map[string]string{"big": strings.Repeat("x", 11), "small": "0123456789"})
				return &scanner.DirSource{Root: dir, MaxFileSize: 10}
			},
			want: []dirYield{{Path: "big", Skip: scanner.SkipTooLarge, Size: 11}, file("small", "0123456789")},
		},
		{
			name: "excluded files are left out",
			build: func(t *testing.T, dir string) *scanner.DirSource {
				writeTree(t, dir, map[string]string{".keywarden.toml": "[rules]", "conf/a": "a"})
				return &scanner.DirSource{Root: dir, Exclude: func(rel string) bool { return rel == ".keywarden.toml" }}
			},
			want: []dirYield{file("conf/a", "a")},
		},
		{
			name: "a file as root is scanned alone",
			build: func(t *testing.T, dir string) *scanner.DirSource {
				writeTree(t, dir, map[string]string{"one.env": "KEY=1", "other": "no"})
				return &scanner.DirSource{Root: filepath.Join(dir, "one.env")}
			},
			want: []dirYield{file("one.env", "KEY=1")},
		},
		{
			name: "symlink outside the root is not read",
			build: func(t *testing.T, dir string) *scanner.DirSource {
				outside := t.TempDir()
				writeTree(t, outside, map[string]string{"secret": "outside secret"})
				writeTree(t, dir, map[string]string{"a": "a"})
				symlink(t, filepath.Join(outside, "secret"), filepath.Join(dir, "link"))
				symlink(t, "../"+filepath.Base(dir)+"/../", filepath.Join(dir, "updir"))
				return &scanner.DirSource{Root: dir}
			},
			want: []dirYield{file("a", "a"), {Path: "link", Skip: scanner.SkipSymlink, Size: 14}},
		},
		{
			name: "symlink to a file inside the root is read",
			build: func(t *testing.T, dir string) *scanner.DirSource {
				writeTree(t, dir, map[string]string{"real/key": "k"})
				symlink(t, "real/key", filepath.Join(dir, "alias"))
				symlink(t, ".git/config", filepath.Join(dir, "gitconfig"))
				writeTree(t, dir, map[string]string{".git/config": "[core]"})
				return &scanner.DirSource{Root: dir}
			},
			want: []dirYield{file("alias", "k"), {Path: "real/key", Size: 1, Repeat: true}},
		},
		{
			name: "symlink loops and directory symlinks are not followed",
			build: func(t *testing.T, dir string) *scanner.DirSource {
				writeTree(t, dir, map[string]string{"d/f": "f"})
				symlink(t, "..", filepath.Join(dir, "d", "up"))
				symlink(t, "loop2", filepath.Join(dir, "loop1"))
				symlink(t, "loop1", filepath.Join(dir, "loop2"))
				symlink(t, "missing", filepath.Join(dir, "dangling"))
				return &scanner.DirSource{Root: dir}
			},
			want: []dirYield{file("d/f", "f")},
		},
		{
			name: "root given through a symlink",
			build: func(t *testing.T, dir string) *scanner.DirSource {
				writeTree(t, dir, map[string]string{"real/a": "a"})
				link := filepath.Join(t.TempDir(), "link")
				symlink(t, filepath.Join(dir, "real"), link)
				return &scanner.DirSource{Root: link}
			},
			want: []dirYield{file("a", "a")},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := tc.build(t, t.TempDir())
			done := make(chan struct{})
			var (
				got   []dirYield
				warns []string
				err   error
			)
			go func() {
				defer close(done)
				got, warns, err = scanDir(t, src)
			}()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("Blobs did not finish: a symlink loop?")
			}
			if err != nil {
				t.Fatalf("Blobs: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("yields (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantWarns, warns); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDirSourceUnreadable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("running as root, which reads files whatever their permissions")
	}
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"a": "a", "locked": "secret", "z": "z"})
	if err := os.Chmod(filepath.Join(dir, "locked"), 0); err != nil {
		t.Fatal(err)
	}
	got, warns, err := scanDir(t, &scanner.DirSource{Root: dir})
	wantErr := `1 files or directories could not be read, first: reading "locked": permission denied`
	if err == nil || err.Error() != wantErr {
		t.Errorf("error %v, want %q after everything readable", err, wantErr)
	}
	want := []dirYield{file("a", "a"), {Path: "locked", Skip: scanner.SkipUnreadable, Size: 6}, file("z", "z")}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("yields (-want +got):\n%s", diff)
	}
	wantWarns := []string{`reading "locked": permission denied`}
	if diff := cmp.Diff(wantWarns, warns); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

func TestDirSourceMissingRoot(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	err := (&scanner.DirSource{Root: missing}).Blobs(context.Background(), func(scanner.Blob) error { return nil })
	want := fmt.Sprintf("opening directory %q: no such file or directory", missing)
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
}

func TestDirSourceConformance(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"a": "one", "b/c": "two", "b/d": "one", "e": strings.Repeat("x", 100)})
	sourcetest.Run(t, func(t *testing.T) scanner.Source {
		return &scanner.DirSource{Root: dir, MaxFileSize: 50}
	})
}
