package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/hsmcheck"
	"github.com/keywarden/keywarden/report"
	"github.com/keywarden/keywarden/scanner/gittest"
)

var fakeToken = gittest.FakeToken

type cliResult struct {
	code           int
	stdout, stderr string
}

func keywarden(t *testing.T, args ...string) cliResult {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return cliResult{code, out.String(), errb.String()}
}

// scanJSON runs a scan with --format json and decodes the report.
func scanJSON(t *testing.T, args ...string) (*report.JSONReport, cliResult) {
	t.Helper()
	r := keywarden(t, append(args, "--format", "json", "--quiet")...)
	if r.code == exitError {
		t.Fatalf("keywarden %v: exit 2: %s", args, r.stderr)
	}
	rep, err := report.ReadJSON(strings.NewReader(r.stdout))
	if err != nil {
		t.Fatalf("decoding report: %v\n%s", err, r.stdout)
	}
	return rep, r
}

type loc struct {
	Rule, Commit, Path string
	Line               int
}

func locations(rep *report.JSONReport) [][]loc {
	var out [][]loc
	for _, f := range rep.Findings {
		var ls []loc
		for _, l := range f.Locations {
			ls = append(ls, loc{f.RuleID, l.Commit, l.Path, l.Line})
		}
		out = append(out, ls)
	}
	return out
}

func TestScanGitHistory(t *testing.T) {
	tok1, tok2, tok3, tok4 := fakeToken(1), fakeToken(2), fakeToken(3), fakeToken(4)
	r := gittest.New(t)
	base := r.Commit(map[string]string{"README.md": "# demo\n", "app.go": "package main\n"}, "init")
	added := r.Commit(map[string]string{"app.go": "package main\n\nvar token = \"" + tok1 + "\"\n"}, "add token")
	deleted := r.Commit(map[string]string{"app.go": "package main\n"}, "remove token")
	_ = base
	_ = deleted

	// The same token in two files on two branches.
	r.Branch("feature")
	onMain := r.Commit(map[string]string{"ci/deploy.sh": "#!/bin/sh\nGITHUB_TOKEN=" + tok2 + "\n"}, "deploy script")
	r.Checkout("feature")
	onFeature := r.Commit(map[string]string{"tools/sync.sh": "#!/bin/sh\n# sync\nGITHUB_TOKEN=" + tok2 + "\n"}, "sync script")

	// A commit reachable only from a tag.
	r.Checkout("tagged")
	tagOnly := r.Commit(map[string]string{"release.env": "TOKEN=" + tok3 + "\n"}, "release")
	r.AnnotatedTag("v1.0.0", tagOnly, "release")
	r.DeleteBranch("tagged")

	// A merge whose resolution holds content neither parent has.
	r.Checkout("main")
	merge := r.Merge("feature", map[string]string{"conflict.txt": "resolved with " + tok4 + "\n"}, "merge feature")

	rep, res := scanJSON(t, "scan", "git", r.Path())
	if res.code != exitFindings {
		t.Fatalf("exit code = %d, want 1 (findings); stderr: %s", res.code, res.stderr)
	}
	want := [][]loc{
		{{"github-pat", added, "app.go", 3}},
		{{"github-pat", onMain, "ci/deploy.sh", 2}, {"github-pat", onFeature, "tools/sync.sh", 3}},
		{{"github-pat", tagOnly, "release.env", 1}},
		{{"github-pat", merge, "conflict.txt", 1}},
	}
	got := locations(rep)
	sortFindings := func(x [][]loc) {
		sort.Slice(x, func(i, j int) bool { return x[i][0].Path < x[j][0].Path })
	}
	sortFindings(want)
	sortFindings(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	for _, f := range rep.Findings {
		if strings.HasPrefix(f.Secret, "ghp_") && len(f.Secret) > 8 {
			t.Errorf("secret not redacted in JSON: %q", f.Secret)
		}
	}
	if rep.Stats.Commits == 0 || rep.Stats.Blobs == 0 {
		t.Errorf("stats not filled: %+v", rep.Stats)
	}
}

func TestFileURLEqualsPath(t *testing.T) {
	r := gittest.New(t)
	r.Commit(map[string]string{"a.env": "T=" + fakeToken(5) + "\n"}, "one")
	r.Branch("other")
	r.Checkout("other")
	r.Commit(map[string]string{"b.env": "T=" + fakeToken(6) + "\n"}, "two")
	r.Pack()
	byPath, _ := scanJSON(t, "scan", "git", r.Path())
	byURL, _ := scanJSON(t, "scan", "git", "file://"+r.GitDir())
	if len(byPath.Findings) != 2 {
		t.Fatalf("path scan found %d findings, want 2", len(byPath.Findings))
	}
	if diff := cmp.Diff(byPath.Findings, byURL.Findings); diff != "" {
		t.Errorf("file:// scan differs from path scan (-path +url):\n%s", diff)
	}
}

func TestSuppressionMechanisms(t *testing.T) {
	keep, allowInline, ignored, custom := fakeToken(10), fakeToken(11), fakeToken(12), fakeToken(13)
	build := func(t *testing.T) *gittest.Repo {
		r := gittest.New(t)
		r.Commit(map[string]string{
			"keep.env":   "A=" + keep + "\n",
			"inline.go":  "var b = \"" + allowInline + "\" // keywarden:allow\n",
			"inline2.go": "var b2 = \"" + allowInline + "\" // gitleaks:allow\n",
			"ignored.sh": "C=" + ignored + "\n",
			"custom.txt": "internal-" + custom[4:20] + "-key\n",
		}, "secrets")
		return r
	}
	secrets := func(rep *report.JSONReport) []string {
		var s []string
		for _, f := range rep.Findings {
			s = append(s, f.RuleID+"@"+f.Locations[0].Path)
		}
		sort.Strings(s)
		return s
	}

	t.Run("inline allow comments", func(t *testing.T) {
		r := build(t)
		rep, _ := scanJSON(t, "scan", "git", r.Path())
		if diff := cmp.Diff([]string{"github-pat@ignored.sh", "github-pat@keep.env"}, secrets(rep)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("gitleaksignore path:rule:line", func(t *testing.T) {
		r := build(t)
		writeFile(t, filepath.Join(r.Path(), ".gitleaksignore"), "ignored.sh:github-pat:1\n")
		rep, _ := scanJSON(t, "scan", "git", r.Path())
		if diff := cmp.Diff([]string{"github-pat@keep.env"}, secrets(rep)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("keywardenignore fingerprint", func(t *testing.T) {
		r := build(t)
		before, _ := scanJSON(t, "scan", "git", r.Path())
		var fp string
		for _, f := range before.Findings {
			if f.Locations[0].Path == "keep.env" {
				fp = f.Fingerprint
			}
		}
		writeFile(t, filepath.Join(r.Path(), ".keywardenignore"), "# accepted risk\n"+fp+"\n")
		rep, _ := scanJSON(t, "scan", "git", r.Path())
		if diff := cmp.Diff([]string{"github-pat@ignored.sh"}, secrets(rep)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("baseline", func(t *testing.T) {
		r := build(t)
		base := filepath.Join(t.TempDir(), "base.json")
		if res := keywarden(t, "scan", "git", r.Path(), "--format", "json", "--output", base, "--quiet"); res.code != exitFindings {
			t.Fatalf("baseline run: exit %d: %s", res.code, res.stderr)
		}
		r.Commit(map[string]string{"new.env": "D=" + fakeToken(14) + "\n"}, "new secret")
		rep, res := scanJSON(t, "scan", "git", r.Path(), "--baseline", base)
		if diff := cmp.Diff([]string{"github-pat@new.env"}, secrets(rep)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		if res.code != exitFindings {
			t.Errorf("exit = %d, want 1", res.code)
		}
	})
	t.Run("custom toml adds a rule and allowlists a path", func(t *testing.T) {
		r := build(t)
		writeFile(t, filepath.Join(r.Path(), ".gitleaks.toml"), `
[extend]
useDefault = true

[[rules]]
id = "internal-key"
description = "Internal service key"
regex = '''internal-([A-Za-z0-9]{16})-key'''
keywords = ["internal-"]

[[allowlists]]
paths = ['''^ignored\.sh$''']
`)
		rep, _ := scanJSON(t, "scan", "git", r.Path())
		if diff := cmp.Diff([]string{"github-pat@keep.env", "internal-key@custom.txt"}, secrets(rep)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
}

func TestScanDir(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a", "config.yml"), "github_token: "+fakeToken(20)+"\n")
	writeFile(t, filepath.Join(dir, "b", "copy.yml"), "github_token: "+fakeToken(20)+"\n")
	writeFile(t, filepath.Join(dir, ".git", "config"), "token = "+fakeToken(21)+"\n")
	writeFile(t, filepath.Join(dir, "big.log"), strings.Repeat("x", 2048)+fakeToken(22)+"\n")
	writeFile(t, filepath.Join(dir, "bin.dat"), "\x00\x01"+fakeToken(23))
	rep, res := scanJSON(t, "scan", "dir", dir, "--max-file-size", "1KiB")
	if res.code != exitFindings {
		t.Fatalf("exit %d, want 1: %s", res.code, res.stderr)
	}
	if diff := cmp.Diff([][]loc{{{"github-pat", "", "a/config.yml", 1}, {"github-pat", "", "b/copy.yml", 1}}}, locations(rep)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	reasons := map[string]string{}
	for _, s := range rep.Skipped {
		reasons[s.Path] = s.Reason
	}
	if reasons["big.log"] != "too-large" || reasons["bin.dat"] != "binary" {
		t.Errorf("skipped = %v, want big.log too-large and bin.dat binary", reasons)
	}
}

func TestExitCodes(t *testing.T) {
	clean := t.TempDir()
	writeFile(t, filepath.Join(clean, "ok.txt"), "nothing to see\n")
	dirty := t.TempDir()
	writeFile(t, filepath.Join(dirty, "x.env"), "T="+fakeToken(30)+"\n")
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"clean", []string{"scan", "dir", clean}, 0},
		{"findings", []string{"scan", "dir", dirty}, 1},
		{"custom exit code", []string{"scan", "dir", dirty, "--exit-code", "7"}, 7},
		{"findings exit 0 on request", []string{"scan", "dir", dirty, "--exit-code", "0"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := keywarden(t, append(tt.args, "--quiet")...); got.code != tt.want {
				t.Errorf("exit = %d, want %d; stderr: %s", got.code, tt.want, got.stderr)
			}
		})
	}
}

// vaultHex is the first line of an ansible-vault body (random hex of the salt).
const vaultHex = "62313365396662343061393464336163383764373764613633653634306231386433626436623361"

// TestInfoFindingReported checks that an info finding exits 0 but is in the report, with its
// kind and severity (both halves, so that a scan finding nothing cannot pass it).
func TestInfoFindingReported(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "group_vars", "vault.yml"), "$ANSIBLE_VAULT;1.1;AES256\n"+vaultHex+"\n")
	rep, r := scanJSON(t, "scan", "dir", dir)
	if r.code != 0 {
		t.Errorf("exit %d, want 0", r.code)
	}
	if len(rep.Findings) != 1 || rep.Findings[0].RuleID != "ansible-vault" || rep.Findings[0].Severity != "info" || rep.Findings[0].Kind != "encrypted-store" {
		t.Fatalf("findings = %+v, want one ansible-vault info finding of kind encrypted-store", rep.Findings)
	}
}

func TestNoRawSecretInAnyFormat(t *testing.T) {
	secret := fakeToken(50)
	r := gittest.New(t)
	r.Commit(map[string]string{"s.env": "GITHUB_TOKEN=" + secret + "\n"}, "leak "+secret[:6])
	for _, format := range report.Formats {
		t.Run(format, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "report."+format)
			res := keywarden(t, "scan", "git", r.Path(), "--format", format, "--output", out)
			if res.code != exitFindings {
				t.Fatalf("exit %d: %s", res.code, res.stderr)
			}
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(data), secret) || strings.Contains(res.stderr+res.stdout, secret) {
				t.Errorf("raw secret in %s output", format)
			}
			if fi, _ := os.Stat(out); fi.Mode().Perm() != 0o600 {
				t.Errorf("report mode = %v, want 0600", fi.Mode().Perm())
			}
			shown := keywarden(t, "scan", "git", r.Path(), "--format", format, "--show-secrets")
			if !strings.Contains(shown.stdout, secret) {
				t.Errorf("--show-secrets did not show the secret in %s", format)
			}
		})
	}
}

func TestSelfScanClean(t *testing.T) {
	if testing.Short() {
		t.Skip("scans the whole repository")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	res := keywarden(t, "scan", "dir", root, "--format", "json", "--quiet")
	if res.code != exitClean {
		rep, _ := report.ReadJSON(strings.NewReader(res.stdout))
		var where []string
		if rep != nil {
			for _, f := range rep.Findings {
				where = append(where, f.RuleID+" at "+f.Locations[0].Path)
			}
		}
		t.Errorf("keywarden does not scan its own tree clean (exit %d): %v %s", res.code, where, res.stderr)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// blobHash finds the blob at path in commit.
func blobHash(t *testing.T, r *gittest.Repo, commit, path string) string {
	t.Helper()
	c, err := r.Repository().CommitObject(plumbing.NewHash(commit))
	if err != nil {
		t.Fatal(err)
	}
	f, err := c.File(path)
	if err != nil {
		t.Fatal(err)
	}
	return f.Hash.String()
}

// TestGitReadersAgree is the check that lets `git cat-file` stand in for go-git: both readers
// must give identical reports on a history with branches, a merge, a tag-only commit, a packed
// and a loose part, and a blob over the size limit.
func TestGitReadersAgree(t *testing.T) {
	r := gittest.New(t)
	r.Commit(map[string]string{
		"a.env":      "T=" + fakeToken(60) + "\n",
		"big.dat":    strings.Repeat("z", 300<<10),                                     // over --max-file-size
		"model.onnx": "\x00\x01" + strings.Repeat("q", 100<<10) + fakeToken(65) + "\n", // a large binary
	}, "one")
	r.Branch("side")
	r.Commit(map[string]string{"a.env": "T=" + fakeToken(61) + "\n"}, "two")
	r.Checkout("side")
	side := r.Commit(map[string]string{"s.env": "T=" + fakeToken(62) + "\n"}, "side")
	r.Checkout("main")
	r.Merge("side", map[string]string{"m.env": "T=" + fakeToken(63) + "\n"}, "merge")
	r.Pack()
	r.Checkout("tagged")
	r.Commit(map[string]string{"t.env": "T=" + fakeToken(64) + "\n"}, "tag only")
	r.AnnotatedTag("v1", "tagged", "v1")
	r.DeleteBranch("tagged")
	_ = side

	scan := func(reader string) *report.JSONReport {
		rep, res := scanJSON(t, "scan", "git", r.Path(), "--git-reader", reader, "--max-file-size", "200KiB")
		if res.code != exitFindings {
			t.Fatalf("%s: exit %d: %s", reader, res.code, res.stderr)
		}
		rep.Stats.DurationMS = 0
		rep.Scan = report.JSONScan{}
		return rep
	}
	goGit := scan("go-git")
	if len(goGit.Findings) != 5 || len(goGit.Skipped) != 2 {
		t.Fatalf("go-git reader: %d findings, %d skipped; want 5 and 2 (too large, binary)", len(goGit.Findings), len(goGit.Skipped))
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git binary: the cat-file reader is not used here")
	}
	if diff := cmp.Diff(goGit, scan("git")); diff != "" {
		t.Errorf("reports differ (-go-git +git):\n%s", diff)
	}
}

// childEnv makes this test binary run keywarden's main instead of the tests (see TestMain), so
// a test can run it as another user.
const childEnv = "KEYWARDEN_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		if at := os.Getenv(killAtEnv); at != "" {
			// A kill, not an exit: no deferred cleanup runs and no lock is released politely.
			rotateAt = func(b hsmcheck.Boundary) {
				if b.String() == at {
					syscall.Kill(os.Getpid(), syscall.SIGKILL)
					select {}
				}
			}
		}
		os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestUnreadableFile: a file the scan cannot read is a warning while the scan goes on, the
// report still holds every finding, and the run exits 2 with one line naming the file. Run as
// root (as CI is), keywarden is re-run as user nobody so that a mode-000 file is really
// unreadable.
func TestUnreadableFile(t *testing.T) {
	secret := fakeToken(70)
	dir, err := os.MkdirTemp("", "kw-unreadable-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	writeFile(t, filepath.Join(dir, "ok.env"), "T="+fakeToken(71)+"\n")
	writeFile(t, filepath.Join(dir, "locked.env"), "T="+secret+"\n")
	if err := os.Chmod(filepath.Join(dir, "locked.env"), 0); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil { // nobody writes the report here
		t.Fatal(err)
	}
	report := filepath.Join(dir, "report.json")
	args := []string{"scan", "dir", dir, "--format", "json", "--output", report}

	var res cliResult
	if os.Geteuid() != 0 {
		res = keywarden(t, args...)
	} else {
		res = runAsNobody(t, args...)
	}
	if res.code != exitError {
		t.Errorf("exit = %d, want 2; stderr: %s", res.code, res.stderr)
	}
	lines := strings.Split(strings.TrimSpace(res.stderr), "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "keywarden: ") || !strings.Contains(last, `"locked.env": permission denied`) {
		t.Errorf("last stderr line = %q, want the unreadable file named", last)
	}
	if !strings.Contains(res.stderr, "warning:") {
		t.Errorf("no warning while scanning: %s", res.stderr)
	}
	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatalf("report not written: %v", err)
	}
	if !strings.Contains(string(data), "ok.env") || !strings.Contains(string(data), `"unreadable"`) {
		t.Errorf("report lacks the finding or the skipped file:\n%s", data)
	}
	if strings.Contains(res.stderr+string(data), secret) {
		t.Error("raw secret in output")
	}
}

// runAsNobody runs keywarden (this test binary, see TestMain) as uid/gid 65534.
func runAsNobody(t *testing.T, args ...string) cliResult {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// The test binary sits in a directory only root may enter; nobody needs a copy it can run.
	bindir, err := os.MkdirTemp("", "kw-bin-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(bindir) })
	if err := os.Chmod(bindir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(bindir, "keywarden")
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), childEnv+"=1", "HOME="+bindir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running keywarden as nobody: %v", err)
	}
	return cliResult{code, out.String(), errb.String()}
}

// TestExcludedPaths: files at paths gitleaks' global allowlist names (images, lock files,
// node_modules, ...) are never read, with the same findings gitleaks gives; content met first
// at such a path is still scanned when it later turns up at a path that is not excluded.
func TestExcludedPaths(t *testing.T) {
	leak := "T=" + fakeToken(80) + "\n"
	r := gittest.New(t)
	c1 := r.Commit(map[string]string{"node_modules/pkg/conf.env": leak, "web/package-lock.json": "T=" + fakeToken(81) + "\n"}, "vendored")
	c2 := r.Commit(map[string]string{"config/app.env": leak}, "copied out")
	_ = c1
	rep, res := scanJSON(t, "scan", "git", r.Path())
	if res.code != exitFindings {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	if diff := cmp.Diff([][]loc{{{"github-pat", c2, "config/app.env", 1}}}, locations(rep)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if len(rep.Skipped) != 0 {
		t.Errorf("excluded paths reported as skipped: %+v", rep.Skipped)
	}

	// Content met first at an excluded path and then elsewhere too large to read is reported
	// as skipped there, not lost.
	big := strings.Repeat("y", 4096)
	r.Commit(map[string]string{"node_modules/blob.dat": big}, "vendored blob")
	r.Commit(map[string]string{"assets/blob.dat": big}, "copied out")
	rep, _ = scanJSON(t, "scan", "git", r.Path(), "--max-file-size", "1KiB")
	var skipped []string
	for _, sk := range rep.Skipped {
		skipped = append(skipped, sk.Path[strings.Index(sk.Path, ":")+1:]+" "+sk.Reason)
	}
	if diff := cmp.Diff([]string{"assets/blob.dat too-large"}, skipped); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}

	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "node_modules", "a.env"), leak)
	writeFile(t, filepath.Join(dir, "src", "a.env"), leak)
	drep, _ := scanJSON(t, "scan", "dir", dir)
	if diff := cmp.Diff([][]loc{{{"github-pat", "", "src/a.env", 1}}}, locations(drep)); diff != "" {
		t.Errorf("dir findings (-want +got):\n%s", diff)
	}
}

func TestSecretInCommitMessageRedacted(t *testing.T) {
	secret := fakeToken(90)
	r := gittest.New(t)
	r.Commit(map[string]string{"a.env": "T=" + secret + "\n"}, "oops, added "+secret)
	for _, format := range report.Formats {
		res := keywarden(t, "scan", "git", r.Path(), "--format", format)
		if res.code != exitFindings {
			t.Fatalf("%s: exit %d: %s", format, res.code, res.stderr)
		}
		if strings.Contains(res.stdout, secret) {
			t.Errorf("%s: raw secret from the commit message in the report", format)
		}
	}
}

// TestBaselineAndConfigNotScanned: a dir scan leaves out the --baseline file and the config,
// as gitleaks does; a gitleaks baseline records the secrets it lists.
func TestBaselineAndConfigNotScanned(t *testing.T) {
	dir := t.TempDir()
	old, fresh := fakeToken(91), fakeToken(92)
	writeFile(t, filepath.Join(dir, "a.env"), "T="+old+"\n")
	writeFile(t, filepath.Join(dir, "b.env"), "T="+fresh+"\n")
	writeFile(t, filepath.Join(dir, "baseline.json"), `[{"RuleID":"github-pat","File":"a.env","StartLine":1,"Secret":"`+old+`","Match":"T=`+old+`"}]`)
	rep, _ := scanJSON(t, "scan", "dir", dir, "--baseline", filepath.Join(dir, "baseline.json"))
	if diff := cmp.Diff([][]loc{{{"github-pat", "", "b.env", 1}}}, locations(rep)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

// TestLocationsAreIntroductions: a location is a commit that brought the secret to a path. A
// later commit that only carries it along is none; re-adding it after a removal, or adding it
// independently on another branch, is one; ignoring one introduction leaves the others.
func TestLocationsAreIntroductions(t *testing.T) {
	line := "T=" + fakeToken(95) + "\n"
	r := gittest.New(t)
	base := r.Commit(map[string]string{"a.env": "A=1\n"}, "base")
	r.Branch("other")
	added := r.Commit(map[string]string{"a.env": "A=1\n" + line}, "add")
	r.Commit(map[string]string{"a.env": "A=2\n" + line}, "edit another line")
	r.Commit(map[string]string{"a.env": "A=2\n"}, "remove")
	readded := r.Commit(map[string]string{"a.env": "A=3\n" + line}, "add again")
	r.Checkout("other")
	independent := r.Commit(map[string]string{"a.env": "B=1\n" + line}, "same secret on another branch")
	_ = base

	rep, _ := scanJSON(t, "scan", "git", r.Path())
	want := [][]loc{{{"github-pat", added, "a.env", 2}, {"github-pat", independent, "a.env", 2}, {"github-pat", readded, "a.env", 2}}}
	got := locations(rep)
	for _, g := range got {
		sort.Slice(g, func(i, j int) bool { return g[i].Commit < g[j].Commit })
	}
	for _, w := range want {
		sort.Slice(w, func(i, j int) bool { return w[i].Commit < w[j].Commit })
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("locations (-want +got):\n%s", diff)
	}

	writeFile(t, filepath.Join(r.Path(), ".gitleaksignore"), added+":a.env:github-pat:2\n")
	rep, res := scanJSON(t, "scan", "git", r.Path())
	if res.code != exitFindings {
		t.Fatalf("ignoring one introduction hid the others: exit %d", res.code)
	}
	if n := len(rep.Findings[0].Locations); n != 2 {
		t.Errorf("after ignoring one introduction: %d locations, want 2", n)
	}
}

func TestQuietKeepsStderrEmpty(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "x.env"), "T="+fakeToken(96)+"\n")
	for _, format := range report.Formats {
		res := keywarden(t, "scan", "dir", dir, "--quiet", "--format", format)
		if res.code != exitFindings || res.stderr != "" {
			t.Errorf("%s: exit %d, stderr %q; want 1 and nothing", format, res.code, res.stderr)
		}
	}
}

// A range scan reports what the range brings, not secrets its first commits only carry along,
// even on lines next to an edit, where detection sees them again.
func TestRangeReportsOnlyWhatItBrings(t *testing.T) {
	old, fresh := fakeToken(21), fakeToken(22)
	r := gittest.New(t)
	r.Commit(map[string]string{"deploy.sh": "#!/bin/sh\nGITHUB_TOKEN=" + old + "\necho deploy\n"}, "old secret")
	base := r.Commit(map[string]string{"README.md": "hi\n"}, "base")
	r.Branch("feature")
	r.Checkout("feature")
	edit := r.Commit(map[string]string{"deploy.sh": "#!/bin/sh\nGITHUB_TOKEN=" + old + "\necho deploy now\n"}, "edit next to it")
	add := r.Commit(map[string]string{"new.sh": "GITHUB_TOKEN=" + fresh + "\n"}, "new secret")

	for _, args := range [][]string{
		{"--range", base + "..feature"},
		{"--branch", "feature", "--not", "main"},
	} {
		rep, _ := scanJSON(t, append([]string{"scan", "git", r.Path()}, args...)...)
		want := [][]loc{{{"github-pat", add, "new.sh", 1}}}
		if diff := cmp.Diff(want, locations(rep)); diff != "" {
			t.Errorf("%v: findings (-want +got):\n%s", args, diff)
		}
		if rep.Stats.Commits != 2 {
			t.Errorf("%v: %d commits scanned, want 2 (%s and %s)", args, rep.Stats.Commits, edit, add)
		}
	}
	// The full history still has both.
	rep, _ := scanJSON(t, "scan", "git", r.Path())
	if len(rep.Findings) != 2 {
		t.Errorf("full history: %d findings, want 2", len(rep.Findings))
	}
}

// TestPathRulesSeeTheirFiles checks that a rule for one kind of file (DES crypt in .htpasswd)
// runs on that file in a scan and not on the same line elsewhere.
func TestPathRulesSeeTheirFiles(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "srv", ".htpasswd"), "legacy:uoxg5MRxJnSN/\n")
	writeFile(t, filepath.Join(dir, "notes.txt"), "legacy:Ab8Kq2Lm9xT.w\n")
	rep, _ := scanJSON(t, "scan", "dir", dir)
	var got []string
	for _, f := range rep.Findings {
		for _, l := range f.Locations {
			got = append(got, f.RuleID+" "+l.Path)
		}
	}
	if want := []string{"password-hash-descrypt srv/.htpasswd"}; !slices.Equal(got, want) {
		t.Errorf("findings %v, want %v", got, want)
	}
}
