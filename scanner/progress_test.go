package scanner_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/scanner"
	"github.com/keywarden/keywarden/scanner/gittest"
)

func TestScanProgressPhases(t *testing.T) {
	const commits = 5
	r := gittest.New(t)
	for i := range commits {
		r.Commit(map[string]string{fmt.Sprintf("f%d.txt", i): fmt.Sprintf("file %d\n", i)}, "commit")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.txt"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		kind        string
		target      string
		wantPhases  []string
		wantCommits int64
	}{
		{"git path", "git", r.Path(), []string{scanner.PhaseEnumerate, scanner.PhaseScan}, commits},
		{"git URL", "git", "file://" + r.GitDir(), []string{scanner.PhaseClone, scanner.PhaseEnumerate, scanner.PhaseScan}, commits},
		{"dir", "dir", dir, []string{scanner.PhaseEnumerate, scanner.PhaseScan}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var events []scanner.Progress
			out, err := scanner.Scan(context.Background(), scanner.ScanOptions{
				Kind:       tt.kind,
				Target:     tt.target,
				OnProgress: func(p scanner.Progress) { events = append(events, p) },
			})
			if err != nil {
				t.Fatal(err)
			}
			var phases []string
			for _, e := range events {
				if len(phases) == 0 || phases[len(phases)-1] != e.Phase {
					phases = append(phases, e.Phase)
				}
			}
			if diff := cmp.Diff(tt.wantPhases, phases); diff != "" {
				t.Errorf("phases (-want +got):\n%s", diff)
			}
			last := events[len(events)-1]
			if last.CommitsDone != tt.wantCommits || last.CommitsTotal != tt.wantCommits {
				t.Errorf("last event commits = %d of %d, want %d of %d", last.CommitsDone, last.CommitsTotal, tt.wantCommits, tt.wantCommits)
			}
			if last.Stats.Blobs != out.Stats.Blobs || last.Stats.Blobs == 0 {
				t.Errorf("last event has %d blobs, the scan %d (want equal and > 0)", last.Stats.Blobs, out.Stats.Blobs)
			}
			var done int64
			for _, e := range events {
				if e.CommitsDone < done || e.CommitsDone > e.CommitsTotal {
					t.Errorf("commits went from %d to %d of %d", done, e.CommitsDone, e.CommitsTotal)
				}
				done = e.CommitsDone
			}
		})
	}
}

// TestGitCommitProgress checks the count a progress display reads while the blobs of each
// commit are yielded: the commits before it are done.
func TestGitCommitProgress(t *testing.T) {
	r := gittest.New(t)
	var want []string
	for i := range 4 {
		h := r.Commit(map[string]string{fmt.Sprintf("f%d.txt", i): fmt.Sprintf("file %d\n", i)}, "commit")
		want = append(want, fmt.Sprintf("%s: 4 commits, %d done", h[:7], i))
	}
	for _, reader := range []string{scanner.ReaderGoGit, scanner.ReaderGit} {
		t.Run(reader, func(t *testing.T) {
			if _, err := exec.LookPath("git"); err != nil && reader == scanner.ReaderGit {
				if os.Getenv("KEYWARDEN_REQUIRE_TOOLS") == "1" {
					t.Fatal("git is not on PATH")
				}
				t.Skip("git is not on PATH")
			}
			src, closeFn, err := scanner.OpenGit(context.Background(), r.Path(), scanner.GitOptions{Reader: reader})
			if err != nil {
				t.Fatal(err)
			}
			defer closeFn()
			var got []string
			err = src.Blobs(context.Background(), func(b scanner.Blob) error {
				done, total := src.CommitProgress()
				got = append(got, fmt.Sprintf("%s: %d commits, %d done", b.Origin.(scanner.GitOrigin).Commit[:7], total, done))
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("progress at each blob (-want +got):\n%s", diff)
			}
			if done, total := src.CommitProgress(); done != 4 || total != 4 {
				t.Errorf("after the scan: %d of %d commits done, want 4 of 4", done, total)
			}
		})
	}
}
