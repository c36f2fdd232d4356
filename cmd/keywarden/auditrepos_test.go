package main

import (
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/report"
	"github.com/keywarden/keywarden/scanner"
	"github.com/keywarden/keywarden/scanner/gittest"
)

// auditFixture is five repositories for a multi-repo audit: alpha and bravo share a token (key
// reuse across services), charlie has its own, delta is clean, and echo is not a repository.
type auditFixture struct {
	dir    string
	list   string
	urls   map[string]string // name → file:// URL
	shared string            // the token in alpha and bravo
	repos  map[string]*gittest.Repo
}

func newAuditFixture(t *testing.T) *auditFixture {
	t.Helper()
	f := &auditFixture{dir: t.TempDir(), urls: map[string]string{}, repos: map[string]*gittest.Repo{}, shared: fakeToken(901)}
	files := map[string]map[string]string{
		"alpha":   {"deploy/.env": "GITHUB_TOKEN=" + f.shared + "\n"},
		"bravo":   {"ci/settings.env": "GH_TOKEN=" + f.shared + "\n", "README.md": "bravo\n"},
		"charlie": {"config/app.env": "TOKEN=" + fakeToken(902) + "\n"},
		"delta":   {"main.go": "package main\n"},
	}
	for _, name := range []string{"alpha", "bravo", "charlie", "delta"} {
		dir := filepath.Join(f.dir, name)
		r := gittest.Init(t, dir, false)
		r.Commit(files[name], "initial commit of "+name)
		f.repos[name] = r
		f.urls[name] = "file://" + dir
	}
	broken := filepath.Join(f.dir, "echo")
	writeFile(t, filepath.Join(broken, "README"), "not a repository\n")
	f.urls["echo"] = "file://" + broken
	f.list = filepath.Join(f.dir, "repos.txt")
	var b strings.Builder
	b.WriteString("# services to audit\n\n")
	for _, name := range []string{"alpha", "bravo", "charlie", "delta", "echo"} {
		b.WriteString(f.urls[name] + "   # " + name + "\n")
	}
	writeFile(t, f.list, b.String())
	return f
}

// auditJSON runs an audit (or merge) that writes a JSON report to a file and reads it back.
func auditJSON(t *testing.T, wantCode int, args ...string) (*report.JSONReport, cliResult) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "report.json")
	res := keywarden(t, append(args, "--format", "json", "-o", out)...)
	if res.code != wantCode {
		t.Fatalf("keywarden %v: exit %d, want %d: %s", args, res.code, wantCode, res.stderr)
	}
	fh, err := os.Open(out)
	if err != nil {
		t.Fatalf("no report written: %v", err)
	}
	defer fh.Close()
	if fi, _ := fh.Stat(); fi.Mode().Perm() != 0o600 {
		t.Errorf("report mode %v, want 0600", fi.Mode().Perm())
	}
	rep, err := report.ReadJSON(fh)
	if err != nil {
		t.Fatal(err)
	}
	return rep, res
}

// findingRepos maps each finding's fingerprint to the repositories it was found in.
func findingRepos(rep *report.JSONReport) map[string][]string {
	out := map[string][]string{}
	for _, f := range rep.Findings {
		var repos []string
		for _, l := range f.Locations {
			if !slices.Contains(repos, l.Repo) {
				repos = append(repos, l.Repo)
			}
		}
		sort.Strings(repos)
		out[f.Fingerprint] = repos
	}
	return out
}

func repoStatus(rep *report.JSONReport) map[string]string {
	out := map[string]string{}
	for _, r := range rep.Repos {
		out[r.Repo] = r.Status + " " + r.Phase
	}
	return out
}

func TestAuditRepos(t *testing.T) {
	f := newAuditFixture(t)
	cache := filepath.Join(t.TempDir(), "cache")
	rep, res := auditJSON(t, exitError, "audit", "repos", "--list", f.list, "--cache-dir", cache, "--jobs", "3")

	// The broken repository is reported and the run went on: exit 2 after a full report.
	if !strings.Contains(res.stderr, f.urls["echo"]+" failed (clone)") || !strings.Contains(res.stderr, "1 of 5 repositories failed") {
		t.Errorf("stderr does not name the failed repository:\n%s", res.stderr)
	}
	wantStatus := map[string]string{
		f.urls["alpha"]: "ok ", f.urls["bravo"]: "ok ", f.urls["charlie"]: "ok ", f.urls["delta"]: "ok ",
		f.urls["echo"]: "failed clone",
	}
	if diff := cmp.Diff(wantStatus, repoStatus(rep)); diff != "" {
		t.Errorf("repository status (-want +got):\n%s", diff)
	}
	// The shared token is one finding listed in both repositories.
	got := map[string][]string{}
	for fp, repos := range findingRepos(rep) {
		got[strings.Join(repos, " ")] = append(got[strings.Join(repos, " ")], fp)
	}
	if len(rep.Findings) != 2 || len(got[f.urls["alpha"]+" "+f.urls["bravo"]]) != 1 || len(got[f.urls["charlie"]]) != 1 {
		t.Fatalf("findings by repositories = %v, want one in alpha+bravo and one in charlie", got)
	}
	for _, fd := range rep.Findings {
		if strings.Contains(fd.Secret, f.shared[8:]) {
			t.Errorf("report holds a raw secret: %q", fd.Secret)
		}
	}
	if rep.Stats.Commits != 4 || rep.Stats.Blobs < 5 {
		t.Errorf("stats = %+v, want 4 commits and every blob", rep.Stats)
	}

	// A second run fetches into the cache instead of cloning, and sees new history.
	f.repos["delta"].Commit(map[string]string{"ops/.env": "TOKEN=" + fakeToken(903) + "\n"}, "add ops env")
	rep2, _ := auditJSON(t, exitError, "audit", "repos", "--list", f.list, "--cache-dir", cache)
	for _, r := range rep2.Repos {
		if r.Status == scanner.RepoOK && !r.Cached {
			t.Errorf("%s was cloned again, want fetched from the cache", r.Repo)
		}
	}
	if len(rep2.Findings) != 3 {
		t.Errorf("second run: %d findings, want 3 (the new commit in delta fetched)", len(rep2.Findings))
	}
}

func TestAuditReposShardedAndMerged(t *testing.T) {
	f := newAuditFixture(t)
	cache := filepath.Join(t.TempDir(), "cache")
	whole, _ := auditJSON(t, exitError, "audit", "repos", "--list", f.list, "--cache-dir", cache, "--jobs", "2")

	dir := t.TempDir()
	var shards []string
	seen := map[string]int{}
	for i, want := range []int{exitError, exitFindings, exitError} {
		_ = want
		shard := []string{"1/3", "2/3", "3/3"}[i]
		out := filepath.Join(dir, "shard-"+shard[:1]+".json")
		res := keywarden(t, "audit", "repos", "--list", f.list, "--cache-dir", cache, "--shard", shard, "--format", "json", "-o", out, "--quiet")
		if res.code == exitError && !strings.Contains(res.stderr, "repositories failed") {
			t.Fatalf("shard %s: %s", shard, res.stderr)
		}
		shards = append(shards, out)
		fh, err := os.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := report.ReadJSON(fh)
		fh.Close()
		if err != nil {
			t.Fatal(err)
		}
		if rep.Shard != shard {
			t.Errorf("shard report says shard %q, want %q", rep.Shard, shard)
		}
		for _, r := range rep.Repos {
			seen[r.Repo]++
		}
	}
	// Every repository is in exactly one shard.
	for _, name := range []string{"alpha", "bravo", "charlie", "delta", "echo"} {
		if seen[f.urls[name]] != 1 {
			t.Errorf("%s is in %d shards, want 1", name, seen[f.urls[name]])
		}
	}

	merged, res := auditJSON(t, exitFindings, append([]string{"report", "merge"}, shards...)...)
	if res.stderr == "" || strings.Contains(res.stderr, "missing") {
		t.Errorf("merge stderr: %s", res.stderr)
	}
	// The merge says what the unsharded audit says: same findings, each in the same
	// repositories (alpha and bravo are in different shards), same repository status.
	if diff := cmp.Diff(findingRepos(whole), findingRepos(merged)); diff != "" {
		t.Errorf("merged findings differ from one whole audit (-whole +merged):\n%s", diff)
	}
	if diff := cmp.Diff(repoStatus(whole), repoStatus(merged)); diff != "" {
		t.Errorf("merged repositories differ (-whole +merged):\n%s", diff)
	}
	if merged.Stats.Commits != whole.Stats.Commits || merged.Stats.Blobs != whole.Stats.Blobs {
		t.Errorf("merged stats %+v, whole %+v", merged.Stats, whole.Stats)
	}

	// The merge renders every format, HTML and SARIF included.
	for _, format := range []string{"html", "sarif", "text"} {
		out := filepath.Join(dir, "merged."+format)
		if r := keywarden(t, append([]string{"report", "merge", "--format", format, "-o", out, "--quiet"}, shards...)...); r.code != exitFindings {
			t.Errorf("merge --format %s: exit %d: %s", format, r.code, r.stderr)
		}
		data, err := os.ReadFile(out)
		if err != nil || !strings.Contains(string(data), "ghp_") || strings.Contains(string(data), f.shared[8:]) {
			t.Errorf("merge --format %s: want the redacted finding and no raw secret (err %v)", format, err)
		}
	}

	// Shards that do not belong together are refused; a missing one is a warning.
	for _, tc := range []struct {
		name  string
		args  []string
		code  int
		inErr string
	}{
		{"shard twice", []string{shards[0], shards[1], shards[0]}, exitError, "shard 1/3 is also in"},
		{"shard missing", []string{shards[0], shards[2]}, exitFindings, "shard 2/3 missing"},
		{"not a report", []string{f.list}, exitError, "merge takes keywarden JSON reports"},
		{"no such file", []string{filepath.Join(dir, "nope.json")}, exitError, "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := keywarden(t, append([]string{"report", "merge"}, tc.args...)...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.inErr) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", r.code, r.stderr, tc.code, tc.inErr)
			}
		})
	}
}

func TestAuditReposBadInput(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.txt")
	writeFile(t, empty, "# nothing yet\n\n")
	two := filepath.Join(dir, "two.txt")
	writeFile(t, two, "https://example.invalid/a.git https://example.invalid/b.git\n")
	for _, tc := range []struct {
		name  string
		args  []string
		inErr string
	}{
		{"no list", []string{"audit", "repos"}, `required flag(s) "list" not set`},
		{"missing list", []string{"audit", "repos", "--list", filepath.Join(dir, "nope.txt")}, "no such file"},
		{"empty list", []string{"audit", "repos", "--list", empty}, "no repositories in it"},
		{"two per line", []string{"audit", "repos", "--list", two}, "line 1: want one repository per line"},
		{"bad shard", []string{"audit", "repos", "--list", empty, "--shard", "3/2"}, `invalid shard "3/2"`},
		{"shard syntax", []string{"audit", "repos", "--list", two, "--shard", "x"}, `invalid shard "x"`},
		{"bad jobs", []string{"audit", "repos", "--list", empty, "--jobs", "0"}, "invalid --jobs 0"},
		{"bad format", []string{"audit", "repos", "--list", empty, "--format", "pdf"}, `unknown report format "pdf"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := keywarden(t, tc.args...)
			if r.code != exitError || !strings.Contains(r.stderr, tc.inErr) || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
				t.Errorf("exit %d, stderr %q; want exit 2 and one line with %q", r.code, r.stderr, tc.inErr)
			}
		})
	}
}
