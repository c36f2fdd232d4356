package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/report"
)

// gitRepo is a repository driven by the real git CLI, as a user's is: staged scans and hooks
// read the index and run from git itself.
type gitRepo struct {
	t   *testing.T
	dir string
	env []string
}

func requireGit(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		if os.Getenv("KEYWARDEN_REQUIRE_TOOLS") == "1" {
			t.Fatal("git is not on PATH")
		}
		t.Skip("git is not on PATH")
	}
}

func newGitRepo(t *testing.T) *gitRepo {
	t.Helper()
	requireGit(t)
	home := t.TempDir()
	r := &gitRepo{t: t, dir: filepath.Join(t.TempDir(), "repo")}
	r.env = append(os.Environ(),
		"HOME="+home, "XDG_CONFIG_HOME="+home, "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=Dev", "GIT_AUTHOR_EMAIL=dev@example.com",
		"GIT_COMMITTER_NAME=Dev", "GIT_COMMITTER_EMAIL=dev@example.com",
		// The hook runs this test binary as keywarden (see TestMain).
		childEnv+"=1",
	)
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	r.git("init", "-q", "-b", "main")
	return r
}

// git runs git in the repository and fails the test on error.
func (r *gitRepo) git(args ...string) string {
	r.t.Helper()
	out, err := r.try(nil, args...)
	if err != nil {
		r.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(out)
}

// try runs git with stdin and returns its combined output.
func (r *gitRepo) try(stdin []byte, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = r.dir
	cmd.Env = r.env
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (r *gitRepo) write(path, content string) {
	r.t.Helper()
	writeFile(r.t, filepath.Join(r.dir, path), content)
}

// commit stages files and commits them without hooks.
func (r *gitRepo) commit(files map[string]string, msg string) string {
	r.t.Helper()
	for p, c := range files {
		r.write(p, c)
		r.git("add", "--", p)
	}
	r.git("commit", "-q", "--no-verify", "--allow-empty", "-m", msg)
	return r.git("rev-parse", "HEAD")
}

// staged runs `keywarden scan staged` on the repository and decodes its JSON report.
func (r *gitRepo) staged(extra ...string) (*report.JSONReport, cliResult) {
	r.t.Helper()
	return scanJSON(r.t, append([]string{"scan", "staged", r.dir}, extra...)...)
}

type stagedLoc struct {
	Rule, Path string
	Line       int
}

func stagedLocs(rep *report.JSONReport) []stagedLoc {
	var out []stagedLoc
	for _, f := range rep.Findings {
		for _, l := range f.Locations {
			if l.Source != "staged" || l.Commit != "" {
				panic("staged location with source " + l.Source + " commit " + l.Commit)
			}
			out = append(out, stagedLoc{f.RuleID, l.Path, l.Line})
		}
	}
	return out
}

func TestScanStaged(t *testing.T) {
	old, fresh, other := fakeToken(31), fakeToken(32), fakeToken(33)
	tests := []struct {
		name  string
		setup func(r *gitRepo)
		want  []stagedLoc
	}{{
		name: "first commit on an unborn branch",
		setup: func(r *gitRepo) {
			r.write("app.env", "# settings\n\nGITHUB_TOKEN="+fresh+"\n")
			r.git("add", "app.env")
		},
		want: []stagedLoc{{"github-pat", "app.env", 3}},
	}, {
		name: "nothing staged",
		setup: func(r *gitRepo) {
			r.commit(map[string]string{"a.txt": "a\n"}, "init")
			r.write("wip.env", "GITHUB_TOKEN="+fresh+"\n") // in the work tree only
		},
	}, {
		name: "an edit next to a secret already committed reports only the new one",
		setup: func(r *gitRepo) {
			r.commit(map[string]string{"deploy.sh": "#!/bin/sh\nGITHUB_TOKEN=" + old + "\necho deploy\n"}, "old")
			r.write("deploy.sh", "#!/bin/sh\n# new header line\nGITHUB_TOKEN="+old+"\necho deploy now\nexport GH2="+fresh+"\n")
			r.git("add", "deploy.sh")
		},
		want: []stagedLoc{{"github-pat", "deploy.sh", 5}},
	}, {
		name: "line numbers are the staged content's, not the work tree's",
		setup: func(r *gitRepo) {
			r.commit(map[string]string{"a.txt": "one\n"}, "init")
			r.write("a.txt", "one\ntwo\nGITHUB_TOKEN="+fresh+"\n")
			r.git("add", "a.txt")
			r.write("a.txt", "zero\nzero\nzero\none\ntwo\nGITHUB_TOKEN="+fresh+"\n") // unstaged edit above
		},
		want: []stagedLoc{{"github-pat", "a.txt", 3}},
	}, {
		name: "a secret only in the unstaged part of a partly staged file is not reported",
		setup: func(r *gitRepo) {
			r.commit(map[string]string{"a.txt": "one\n"}, "init")
			r.write("a.txt", "one\ntwo\n")
			r.git("add", "a.txt")
			r.write("a.txt", "one\ntwo\nGITHUB_TOKEN="+fresh+"\n")
		},
	}, {
		name: "a secret staged and then removed from the work tree is still reported",
		setup: func(r *gitRepo) {
			r.commit(map[string]string{"a.txt": "one\n"}, "init")
			r.write("a.txt", "one\nGITHUB_TOKEN="+fresh+"\n")
			r.git("add", "a.txt")
			r.write("a.txt", "one\n")
		},
		want: []stagedLoc{{"github-pat", "a.txt", 2}},
	}, {
		name: "a rename carries its secret along",
		setup: func(r *gitRepo) {
			r.commit(map[string]string{"old.env": "x=1\nGITHUB_TOKEN=" + old + "\ny=2\n"}, "init")
			r.git("mv", "old.env", "new.env")
		},
	}, {
		name: "a rename with an edit reports only the new secret",
		setup: func(r *gitRepo) {
			r.commit(map[string]string{"old.env": "a=1\nb=2\nc=3\nd=4\nGITHUB_TOKEN=" + old + "\ne=5\n"}, "init")
			r.git("mv", "old.env", "new.env")
			r.write("new.env", "a=1\nb=2\nc=3\nd=4\nGITHUB_TOKEN="+old+"\ne=5\nGH2="+fresh+"\n")
			r.git("add", "new.env")
		},
		want: []stagedLoc{{"github-pat", "new.env", 7}},
	}, {
		name: "a copy to a new file is a new location",
		setup: func(r *gitRepo) {
			r.commit(map[string]string{"a.env": "GITHUB_TOKEN=" + old + "\n"}, "init")
			r.write("b.env", "GITHUB_TOKEN="+old+"\n")
			r.git("add", "b.env")
		},
		want: []stagedLoc{{"github-pat", "b.env", 1}},
	}, {
		name: "a deletion scans nothing",
		setup: func(r *gitRepo) {
			r.commit(map[string]string{"a.env": "GITHUB_TOKEN=" + old + "\n", "b.txt": "b\n"}, "init")
			r.git("rm", "-q", "a.env")
		},
	}, {
		name: "binary files are skipped",
		setup: func(r *gitRepo) {
			r.commit(map[string]string{"a.txt": "a\n"}, "init")
			r.write("blob.bin", "\x00\x01GITHUB_TOKEN="+fresh+"\n")
			r.git("add", "blob.bin")
		},
	}, {
		name: "allow comment and ignore file",
		setup: func(r *gitRepo) {
			r.commit(map[string]string{"a.txt": "a\n"}, "init")
			r.write("a.env", "GITHUB_TOKEN="+fresh+" # keywarden:allow\nGH2="+other+"\n")
			r.git("add", "a.env")
		},
		want: []stagedLoc{{"github-pat", "a.env", 2}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newGitRepo(t)
			tt.setup(r)
			rep, res := r.staged()
			if diff := cmp.Diff(tt.want, stagedLocs(rep)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			wantCode := exitClean
			if len(tt.want) > 0 {
				wantCode = exitFindings
			}
			if res.code != wantCode {
				t.Errorf("exit %d, want %d; stderr: %s", res.code, wantCode, res.stderr)
			}
		})
	}
}

// TestScanStagedIgnoreFileByFingerprint: the fingerprint a blocked commit prints, put in
// .keywardenignore, lets the commit through, and it is the one a history scan gives later.
func TestScanStagedIgnoreFileByFingerprint(t *testing.T) {
	secret := fakeToken(34)
	r := newGitRepo(t)
	r.commit(map[string]string{"README": "hi\n"}, "init")
	r.write("a.env", "GITHUB_TOKEN="+secret+"\n")
	r.git("add", "a.env")
	res := keywarden(t, "scan", "staged", r.dir)
	if res.code != exitFindings {
		t.Fatalf("exit %d, want 1: %s", res.code, res.stderr)
	}
	for _, want := range []string{"a.env:1", "github-pat", "keywarden:allow", ".keywardenignore", "--no-verify"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("blocked-commit message lacks %q:\n%s", want, res.stdout)
		}
	}
	if strings.Contains(res.stdout+res.stderr, secret) {
		t.Fatal("raw secret printed")
	}
	rep, _ := r.staged()
	fp := rep.Findings[0].Fingerprint
	if !strings.Contains(res.stdout, fp) {
		t.Errorf("message does not give the fingerprint %s:\n%s", fp, res.stdout)
	}
	r.git("commit", "-q", "--no-verify", "-m", "add")
	hist, _ := scanJSON(t, "scan", "git", r.dir)
	if len(hist.Findings) != 1 || hist.Findings[0].Fingerprint != fp {
		t.Fatalf("history scan fingerprint differs from the staged one %s: %+v", fp, hist.Findings)
	}
	r.write(".keywardenignore", fp+"    # github-pat, a test value\n")
	if res := keywarden(t, "scan", "staged", r.dir); res.code != exitClean {
		t.Errorf("ignored finding still blocks: exit %d\n%s", res.code, res.stdout)
	}
	if res := keywarden(t, "scan", "git", r.dir, "-q"); res.code != exitClean {
		t.Errorf("ignored finding still reported by the history scan: exit %d\n%s", res.code, res.stdout)
	}
}

// TestStagedAndHookBadInput: each fails with one line on stderr, exit 2, and no report that
// could pass for a clean result.
func TestStagedAndHookBadInput(t *testing.T) {
	requireGit(t)
	bare := filepath.Join(t.TempDir(), "bare.git")
	if out, err := exec.Command("git", "init", "-q", "--bare", bare).CombinedOutput(); err != nil {
		t.Fatalf("git init --bare: %v\n%s", err, out)
	}
	corrupt := newGitRepo(t)
	corrupt.commit(map[string]string{"a.txt": "a\n"}, "init")
	corrupt.write("a.txt", "b\n")
	corrupt.git("add", "a.txt")
	writeFile(t, filepath.Join(corrupt.dir, ".git", "index"), "garbage")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"not a repository", []string{"scan", "staged", t.TempDir()}, "not a git repository"},
		{"bare repository", []string{"scan", "staged", bare}, "bare"},
		{"corrupt index", []string{"scan", "staged", corrupt.dir}, "index"},
		{"hook install outside a repository", []string{"hook", "install", t.TempDir()}, "not a git repository"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := keywarden(t, tt.args...)
			if res.code != exitError || !strings.Contains(res.stderr, tt.want) || strings.Count(res.stderr, "\n") != 1 || strings.Contains(res.stderr, "fatal:") {
				t.Errorf("exit %d, stderr %q; want exit 2 and one line about %q", res.code, res.stderr, tt.want)
			}
			if res.stdout != "" {
				t.Errorf("stdout %q; want nothing", res.stdout)
			}
		})
	}
}

func TestHookPreCommit(t *testing.T) {
	secret := fakeToken(35)
	r := newGitRepo(t)
	r.commit(map[string]string{"README": "hi\n"}, "init")
	if res := keywarden(t, "hook", "install", r.dir); res.code != 0 {
		t.Fatalf("install: exit %d: %s", res.code, res.stderr)
	}
	r.write("ok.txt", "nothing to see\n")
	r.git("add", "ok.txt")
	if out, err := r.try(nil, "commit", "-q", "-m", "clean"); err != nil {
		t.Fatalf("clean commit blocked: %v\n%s", err, out)
	}
	r.write("a.env", "GITHUB_TOKEN="+secret+"\n")
	r.git("add", "a.env")
	out, err := r.try(nil, "commit", "-q", "-m", "leak")
	if err == nil {
		t.Fatalf("commit with a secret went through:\n%s", out)
	}
	if !strings.Contains(out, "commit blocked") || !strings.Contains(out, "a.env:1") || strings.Contains(out, secret) {
		t.Errorf("hook output:\n%s", out)
	}
	if head := r.git("log", "-1", "--format=%s"); head != "clean" {
		t.Errorf("HEAD is %q, want the clean commit", head)
	}
	// git commit -a stages through a temporary index, which the hook must read.
	r.git("reset", "-q", "HEAD", "a.env")
	r.write("ok.txt", "nothing\nGITHUB_TOKEN="+secret+"\n")
	if out, err := r.try(nil, "commit", "-q", "-a", "-m", "leak via -a"); err == nil {
		t.Fatalf("git commit -a with a secret went through:\n%s", out)
	}
	if out, err := r.try(nil, "commit", "-q", "-a", "--no-verify", "-m", "on purpose"); err != nil {
		t.Fatalf("--no-verify: %v\n%s", err, out)
	}
}

func TestHookInstallForeignAndHooksPath(t *testing.T) {
	r := newGitRepo(t)
	r.commit(map[string]string{"README": "hi\n"}, "init")
	hooks := filepath.Join(r.dir, "custom-hooks")
	r.git("config", "core.hooksPath", "custom-hooks")
	foreign := filepath.Join(hooks, "pre-commit")
	ran := filepath.Join(t.TempDir(), "foreign-ran")
	writeFile(t, foreign, "#!/bin/sh\necho ran > '"+ran+"'\nexit \"${FOREIGN_EXIT:-0}\"\n")
	if err := os.Chmod(foreign, 0o755); err != nil {
		t.Fatal(err)
	}

	res := keywarden(t, "hook", "install", r.dir)
	if res.code != exitError || !strings.Contains(res.stderr, "--force") {
		t.Fatalf("install over a foreign hook: exit %d, stderr %q; want exit 2 naming --force", res.code, res.stderr)
	}
	if data, _ := os.ReadFile(foreign); !strings.Contains(string(data), "foreign-ran") {
		t.Fatal("foreign hook was modified without --force")
	}
	if _, err := os.Stat(filepath.Join(r.dir, ".git", "hooks", "pre-commit")); err == nil {
		t.Fatal("hook written to .git/hooks although core.hooksPath is set")
	}
	if res := keywarden(t, "hook", "install", "--force", r.dir); res.code != 0 {
		t.Fatalf("install --force: exit %d: %s", res.code, res.stderr)
	}
	// Chained: the foreign hook runs first, and its failure blocks the commit.
	r.write("a.txt", "a\n")
	r.git("add", "a.txt")
	if out, err := r.try(nil, "commit", "-q", "-m", "one"); err != nil {
		t.Fatalf("clean commit: %v\n%s", err, out)
	}
	if _, err := os.Stat(ran); err != nil {
		t.Error("the backed-up hook did not run")
	}
	r.env = append(r.env, "FOREIGN_EXIT=3")
	r.write("b.txt", "b\n")
	r.git("add", "b.txt")
	if out, err := r.try(nil, "commit", "-q", "-m", "two"); err == nil {
		t.Errorf("a failing chained hook did not block the commit:\n%s", out)
	}
	// Installing again replaces keywarden's own hook without --force.
	if res := keywarden(t, "hook", "install", r.dir); res.code != 0 {
		t.Fatalf("re-install: exit %d: %s", res.code, res.stderr)
	}
	if res := keywarden(t, "hook", "uninstall", r.dir); res.code != 0 {
		t.Fatalf("uninstall: exit %d: %s", res.code, res.stderr)
	}
	if data, _ := os.ReadFile(foreign); !strings.Contains(string(data), "foreign-ran") {
		t.Errorf("uninstall did not restore the foreign hook; pre-commit is now:\n%s", data)
	}
	if _, err := os.Stat(foreign + ".keywarden-backup"); err == nil {
		t.Error("backup left behind after uninstall")
	}
	if res := keywarden(t, "hook", "uninstall", r.dir); res.code != exitError {
		t.Errorf("uninstall over a foreign hook: exit %d, want 2", res.code)
	}
}

// pushRepo is a clone whose origin is a bare repository in the test's temp dir.
func pushRepo(t *testing.T) (*gitRepo, string) {
	r := newGitRepo(t)
	remote := filepath.Join(t.TempDir(), "remote.git")
	if out, err := exec.Command("git", "init", "-q", "--bare", remote).CombinedOutput(); err != nil {
		t.Fatalf("git init --bare: %v\n%s", err, out)
	}
	r.git("remote", "add", "origin", remote)
	return r, remote
}

func TestPrePush(t *testing.T) {
	pushed, fresh, onBranch := fakeToken(36), fakeToken(37), fakeToken(38)
	r, _ := pushRepo(t)
	r.commit(map[string]string{"README": "hi\n"}, "init")
	// A secret already on the remote (pushed before the hook existed) is not this push's doing.
	old := r.commit(map[string]string{"old.env": "GITHUB_TOKEN=" + pushed + "\n"}, "old secret")
	r.git("push", "-q", "origin", "main")
	if res := keywarden(t, "hook", "install", "--pre-push", r.dir); res.code != 0 {
		t.Fatalf("install: exit %d: %s", res.code, res.stderr)
	}

	r.commit(map[string]string{"old.env": "GITHUB_TOKEN=" + pushed + "\nnext=1\n"}, "edit near the old secret")
	if out, err := r.try(nil, "push", "-q", "origin", "main"); err != nil {
		t.Fatalf("clean push blocked: %v\n%s", err, out)
	}

	leak := r.commit(map[string]string{"new.env": "GITHUB_TOKEN=" + fresh + "\n"}, "leak")
	r.commit(map[string]string{"README": "hi again\n"}, "after")
	out, err := r.try(nil, "push", "-q", "origin", "main")
	if err == nil {
		t.Fatalf("push with a secret went through:\n%s", out)
	}
	if !strings.Contains(out, "push blocked") || !strings.Contains(out, leak[:7]+" new.env:1") || strings.Contains(out, old[:7]) {
		t.Errorf("hook output:\n%s", out)
	}
	r.git("reset", "-q", "--hard", "HEAD~2")

	// A new branch: only commits no remote-tracking ref has are scanned.
	r.git("checkout", "-q", "-b", "feature")
	r.commit(map[string]string{"f.txt": "feature\n"}, "feature work")
	if out, err := r.try(nil, "push", "-q", "origin", "feature"); err != nil {
		t.Fatalf("new clean branch blocked (the old secret on main is not its doing): %v\n%s", err, out)
	}
	r.git("checkout", "-q", "-b", "feature2")
	r.commit(map[string]string{"g.env": "GH=" + onBranch + "\n"}, "branch leak")
	if out, err := r.try(nil, "push", "-q", "origin", "feature2"); err == nil {
		t.Fatalf("new branch with a secret went through:\n%s", out)
	}
	// Deleting a remote branch sends nothing to scan.
	if out, err := r.try(nil, "push", "-q", "origin", ":feature"); err != nil {
		t.Fatalf("deleting a branch blocked: %v\n%s", err, out)
	}
}

// TestPrePushInput drives --pre-push with the lines git writes, directly.
func TestPrePushInput(t *testing.T) {
	secret := fakeToken(39)
	r, _ := pushRepo(t)
	base := r.commit(map[string]string{"README": "hi\n"}, "init")
	r.git("push", "-q", "origin", "main")
	leak := r.commit(map[string]string{"a.env": "GITHUB_TOKEN=" + secret + "\n"}, "leak")
	zero := strings.Repeat("0", 40)

	scan := func(stdin string) (*report.JSONReport, cliResult) {
		t.Helper()
		var out, errb bytes.Buffer
		code := runIO(context.Background(), []string{"scan", "git", "--pre-push", r.dir, "--format", "json", "-q"}, strings.NewReader(stdin), &out, &errb)
		var rep report.JSONReport
		if code != exitError {
			if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
				t.Fatalf("decoding: %v\n%s", err, out.String())
			}
		}
		return &rep, cliResult{code, out.String(), errb.String()}
	}
	tests := []struct {
		name, stdin string
		code        int
		commits     int64
	}{
		{"update", "refs/heads/main " + leak + " refs/heads/main " + base + "\n", exitFindings, 1},
		{"new branch", "refs/heads/x " + leak + " refs/heads/x " + zero + "\n", exitFindings, 1},
		{"new branch already on the remote", "refs/heads/y " + base + " refs/heads/y " + zero + "\n", exitClean, 0},
		{"deletion", "(delete) " + zero + " refs/heads/main " + base + "\n", exitClean, 0},
		{"nothing pushed", "", exitClean, 0},
		{"remote sha unknown here (someone else pushed)", "refs/heads/main " + leak + " refs/heads/main " + strings.Repeat("ab", 20) + "\n", exitFindings, 1},
		{"malformed", "refs/heads/main " + leak + "\n", exitError, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, res := scan(tt.stdin)
			if res.code != tt.code {
				t.Fatalf("exit %d, want %d: %s", res.code, tt.code, res.stderr)
			}
			if res.code != exitError && rep.Stats.Commits != tt.commits {
				t.Errorf("%d commits scanned, want %d", rep.Stats.Commits, tt.commits)
			}
		})
	}
}
