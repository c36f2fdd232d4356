package scanner

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/scanner/gittest"
)

func TestParseRepoList(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string
		inErr    string
	}{
		{"comments and blanks", "# org repos\n\nhttps://github.com/o/a.git\n  git@github.com:o/b.git   # team b\nhttps://github.com/o/a.git\n", []string{"https://github.com/o/a.git", "git@github.com:o/b.git"}, ""},
		{"relative path", "svc/api\n/abs/repo\n", []string{"/base/svc/api", "/abs/repo"}, ""},
		{"tab comment", "ssh://git@host/r.git\t# r\n", []string{"ssh://git@host/r.git"}, ""},
		{"two on a line", "a b\n", nil, "line 1: want one repository per line"},
		{"token redacted in error", "https://u:" + "s3cr3t" + "@h/r x\n", nil, "***@h/r"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseRepoList(strings.NewReader(tc.in), "/base")
			if tc.inErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.inErr) || strings.Contains(err.Error(), "s3cr3t") {
					t.Fatalf("err = %v, want %q and no token", err, tc.inErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestShard(t *testing.T) {
	var repos []string
	for i := range 23 {
		repos = append(repos, fmt.Sprintf("https://git.example/o/r%02d.git", (i*7)%23))
	}
	for _, n := range []int{1, 2, 5, 23, 40} {
		seen := map[string]int{}
		minLen, maxLen := len(repos), 0
		for i := 1; i <= n; i++ {
			s, err := Shard(repos, i, n)
			if err != nil {
				t.Fatal(err)
			}
			// The same slice whatever the order of the list.
			rev := append([]string(nil), repos...)
			for a, b := 0, len(rev)-1; a < b; a, b = a+1, b-1 {
				rev[a], rev[b] = rev[b], rev[a]
			}
			if s2, _ := Shard(rev, i, n); !cmp.Equal(s, s2) {
				t.Errorf("%d/%d depends on the list's order: %v vs %v", i, n, s, s2)
			}
			for _, r := range s {
				seen[r]++
			}
			minLen, maxLen = min(minLen, len(s)), max(maxLen, len(s))
		}
		if len(seen) != len(repos) {
			t.Errorf("N=%d: %d repositories covered, want %d", n, len(seen), len(repos))
		}
		for r, c := range seen {
			if c != 1 {
				t.Errorf("N=%d: %s in %d shards", n, r, c)
			}
		}
		if maxLen-minLen > 1 {
			t.Errorf("N=%d: shard sizes from %d to %d, want a difference of at most 1", n, minLen, maxLen)
		}
	}
	for _, s := range []string{"0/3", "4/3", "1/0", "x", "1/", "2-3"} {
		if _, _, err := ParseShard(s); err == nil {
			t.Errorf("ParseShard(%q) accepted", s)
		}
	}
	if i, n, err := ParseShard(" 2/8"); err != nil || i != 2 || n != 8 {
		t.Errorf("ParseShard(2/8) = %d, %d, %v", i, n, err)
	}
}

func TestMirrorName(t *testing.T) {
	a := MirrorName("https://github.com/org/app.git")
	if !strings.HasPrefix(a, "app-") || !strings.HasSuffix(a, ".git") {
		t.Errorf("MirrorName = %q, want app-HASH.git", a)
	}
	for _, other := range []string{"https://github.com/fork/app.git", "git@github.com:org/app.git"} {
		if MirrorName(other) == a {
			t.Errorf("%q and the org's app share a cache entry", other)
		}
	}
	// A token in the URL neither names nor splits the cache entry.
	withToken := MirrorName("https://x-access-token:" + "tok3n" + "@github.com/org/app.git")
	if strings.Contains(withToken, "tok3n") || withToken != MirrorName("https://y:"+"other"+"@github.com/org/app.git") {
		t.Errorf("MirrorName with credentials = %q", withToken)
	}
	for _, hostile := range []string{"https://h/../..", "https://h/", "git@h:..."} {
		if n := MirrorName(hostile); strings.Contains(n, "/") || strings.HasPrefix(n, ".") {
			t.Errorf("MirrorName(%q) = %q escapes the cache dir", hostile, n)
		}
	}
}

func TestMergeFindings(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2024, 1, d, 0, 0, 0, 0, time.UTC) }
	in := []Finding{
		{RuleID: "r1", Severity: "medium", Fingerprint: "fp1", Locations: []Location{{Repo: "b", Path: "x", Date: day(5)}}},
		{RuleID: "r2", Severity: "high", Fingerprint: "fp2", Locations: []Location{{Repo: "a", Path: "y", Date: day(2)}}},
		{RuleID: "r1", Severity: "critical", Fingerprint: "fp1", Locations: []Location{{Repo: "a", Path: "x", Date: day(9)}}},
		{RuleID: "r1", Severity: "medium", Fingerprint: "fp1", Locations: []Location{{Repo: "b", Path: "x", Date: day(5)}}}, // the same place twice
	}
	got := MergeFindings(in)
	if len(got) != 2 {
		t.Fatalf("%d findings, want 2", len(got))
	}
	if got[0].Fingerprint != "fp1" || got[0].Severity != "critical" {
		t.Errorf("first finding = %s %s, want fp1 critical (the worst severity wins, worst first)", got[0].Fingerprint, got[0].Severity)
	}
	var repos []string
	for _, l := range got[0].Locations {
		repos = append(repos, l.Repo)
	}
	if diff := cmp.Diff([]string{"a", "b"}, repos); diff != "" {
		t.Errorf("fp1's repositories (-want +got):\n%s", diff)
	}
}

// An audit goes on past a repository that is missing or corrupt, keeps what a corrupt one
// yielded, and merges a secret shared by two repositories into one finding.
func TestAuditFailuresAndReuse(t *testing.T) {
	tok := gittest.FakeToken(77)
	good := gittest.New(t)
	good.Commit(map[string]string{"a.env": "TOKEN=" + tok + "\n"}, "one")
	corrupt := gittest.New(t)
	corrupt.Commit(map[string]string{"b.env": "TOKEN=" + tok + "\n", "c.txt": "will be damaged\n"}, "one")
	bad := filepath.Join(corrupt.GitDir(), "objects", HashBlob([]byte("will be damaged\n")).String()[:2], HashBlob([]byte("will be damaged\n")).String()[2:])
	if err := os.Chmod(bad, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := "file://" + filepath.Join(t.TempDir(), "gone.git")
	// The audited repository's own allowlist does not hide its secret from the auditor.
	allow := "[extend]\nuseDefault = true\n[allowlist]\npaths = ['''a\\.env''']\n"
	if err := os.WriteFile(filepath.Join(good.Path(), ".keywarden.toml"), []byte(allow), 0o644); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	phases := map[string][]string{}
	out, err := Audit(context.Background(), AuditOptions{
		Repos:    []string{good.Path(), corrupt.Path(), missing},
		CacheDir: t.TempDir(),
		Jobs:     2,
		OnProgress: func(p Progress) {
			mu.Lock()
			defer mu.Unlock()
			if ps := phases[p.Repo]; len(ps) == 0 || ps[len(ps)-1] != p.Phase {
				phases[p.Repo] = append(ps, p.Phase)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range out.Repos {
		got[r.Repo] = r.Status + " " + r.Phase
	}
	want := map[string]string{good.Path(): "ok ", corrupt.Path(): "failed scan", missing: "failed clone"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if len(out.Findings) != 1 || len(out.Findings[0].Locations) != 2 {
		var locs [][]Location
		for _, f := range out.Findings {
			locs = append(locs, f.Locations)
		}
		t.Fatalf("findings at %+v, want the shared token once, at both repositories", locs)
	}
	for _, p := range []string{good.Path(), corrupt.Path(), missing} {
		ps := phases[p]
		if len(ps) < 2 || ps[0] != PhaseQueued {
			t.Errorf("%s: phases %v, want queued first", p, ps)
		}
		last := ps[len(ps)-1]
		if (p == good.Path()) != (last == PhaseDone) || (p != good.Path()) != (last == PhaseFailed) {
			t.Errorf("%s: phases %v end wrong", p, ps)
		}
	}
}
