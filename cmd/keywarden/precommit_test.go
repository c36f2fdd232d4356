package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// requireTool finds a program the test needs; CI (KEYWARDEN_REQUIRE_TOOLS=1) installs every
// one of them, so there a missing tool fails instead of skipping.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("KEYWARDEN_REQUIRE_TOOLS") == "1" {
			t.Fatalf("%s is not on PATH (.ci/run installs it)", name)
		}
		t.Skipf("%s is not on PATH", name)
	}
	return p
}

// snapshotCheckout commits the module's current source (tracked and new files, as the work
// tree has them) into a fresh repository and returns its path and commit, so that the
// pre-commit framework installs this code, not whatever the checkout last committed.
func snapshotCheckout(t *testing.T, r *gitRepo) (string, string) {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	ls := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	ls.Dir = root
	out, err := ls.Output()
	if err != nil {
		t.Skipf("the source is not a git checkout: %v", err)
	}
	snap := filepath.Join(t.TempDir(), "keywarden-src")
	for _, rel := range strings.Split(string(out), "\x00") {
		if rel == "" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			continue // deleted in the work tree
		}
		writeFile(t, filepath.Join(snap, rel), string(data))
	}
	src := &gitRepo{t: t, dir: snap, env: r.env}
	src.git("init", "-q", "-b", "main")
	src.git("add", "-A")
	src.git("commit", "-q", "--no-verify", "-m", "snapshot")
	return snap, src.git("rev-parse", "HEAD")
}

// TestPreCommitFramework runs .pre-commit-hooks.yaml through the real pre-commit framework:
// it builds keywarden with `language: golang` and blocks a commit that adds a key.
func TestPreCommitFramework(t *testing.T) {
	if testing.Short() {
		t.Skip("builds keywarden through pre-commit")
	}
	pc := requireTool(t, "pre-commit")
	goBin := requireTool(t, "go")
	r := newGitRepo(t)
	snap, rev := snapshotCheckout(t, r)

	// The framework's Go environment gets its own GOPATH; the module and build caches are
	// shared with this test run's, so nothing is downloaded and the build is incremental.
	goenv := func(name string) string {
		out, err := exec.Command(goBin, "env", name).Output()
		if err != nil {
			t.Fatalf("go env %s: %v", name, err)
		}
		return strings.TrimSpace(string(out))
	}
	r.env = append(r.env,
		"PRE_COMMIT_HOME="+t.TempDir(),
		"GOMODCACHE="+goenv("GOMODCACHE"), "GOCACHE="+goenv("GOCACHE"),
		"GOFLAGS=-mod=readonly", "GOPROXY=off", "GOTOOLCHAIN=local",
	)
	r.write(".pre-commit-config.yaml", "repos:\n  - repo: "+snap+"\n    rev: "+rev+"\n    hooks:\n      - id: keywarden\n")
	r.git("add", ".pre-commit-config.yaml")
	r.git("commit", "-q", "--no-verify", "-m", "pre-commit config")

	cmd := exec.Command(pc, "install")
	cmd.Dir, cmd.Env = r.dir, r.env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pre-commit install: %v\n%s", err, out)
	}
	hook, err := os.ReadFile(filepath.Join(r.dir, ".git", "hooks", "pre-commit"))
	if err != nil || !bytes.Contains(hook, []byte("pre-commit")) {
		t.Fatalf("pre-commit install wrote no hook: %v", err)
	}

	r.write("clean.txt", "nothing secret here\n")
	r.git("add", "clean.txt")
	if out, err := r.try(nil, "commit", "-q", "-m", "clean"); err != nil {
		t.Fatalf("clean commit failed under pre-commit: %v\n%s", err, out)
	}

	secret := fakeToken(40)
	r.write("deploy/key.env", "GITHUB_TOKEN="+secret+"\n")
	r.git("add", "deploy/key.env")
	out, err := r.try(nil, "commit", "-q", "-m", "leak")
	if err == nil {
		t.Fatalf("commit with a key went through pre-commit:\n%s", out)
	}
	for _, want := range []string{"keywarden", "Failed", "deploy/key.env:1", "github-pat"} {
		if !strings.Contains(out, want) {
			t.Errorf("pre-commit output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, secret) {
		t.Error("pre-commit output holds the raw secret")
	}
	if head := r.git("log", "-1", "--format=%s"); head != "clean" {
		t.Errorf("HEAD is %q, want the clean commit", head)
	}
}
