package action

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/keywarden/keywarden/scanner/gittest"
	"github.com/keywarden/keywarden/scanner/imagetest"
)

const zeros = "0000000000000000000000000000000000000000"

func prEvent(n int, base, head string) map[string]any {
	return map[string]any{"number": n, "pull_request": map[string]any{
		"number": n,
		"base":   map[string]any{"ref": "main", "sha": base},
		"head":   map[string]any{"ref": "feature", "sha": head},
	}}
}

func pushEvent(ref, before, after string) map[string]any {
	return map[string]any{"ref": ref, "before": before, "after": after, "created": zeroCommit(before), "deleted": zeroCommit(after)}
}

// checkStopCommands checks that everything before the annotations ran with workflow commands
// stopped, and that the annotations come after commands resumed.
func checkStopCommands(t *testing.T, stdout string) {
	t.Helper()
	lines := strings.Split(stdout, "\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "::stop-commands::") {
		t.Fatalf("stdout does not start with ::stop-commands::; first line %q", lines[0])
	}
	token := strings.TrimPrefix(lines[0], "::stop-commands::")
	if len(token) != 32 {
		t.Errorf("stop-commands token %q is not 32 hex digits", token)
	}
	resumed := false
	for _, l := range lines[1:] {
		if l == "::"+token+"::" {
			resumed = true
			continue
		}
		if strings.HasPrefix(l, "::") && !resumed {
			t.Errorf("workflow command printed while commands are stopped: %q", l)
		}
	}
	if !resumed {
		t.Errorf("commands never resumed (no ::%s:: line)", token)
	}
}

func TestPullRequest(t *testing.T) {
	tokBase, tokHead := highSecret(1), highSecret(2)
	origin := gittest.New(t)
	origin.Commit(map[string]string{"README.md": "# demo\n"}, "init")
	origin.Commit(map[string]string{"config/base.env": "TOKEN=" + tokBase + "\n"}, "secret on main")
	origin.Branch("feature")
	base := origin.Commit(map[string]string{"NEWS.md": "main moved on\n"}, "main moves on")
	origin.Checkout("feature")
	added := origin.Commit(map[string]string{"config/app.env": "# app\nTOKEN=" + tokHead + "\n"}, "add token")
	head := origin.Commit(map[string]string{"docs.md": "docs\n"}, "docs")
	// GitHub's refs/pull/7/merge: the head merged into the base.
	origin.Checkout("main")
	origin.Branch("merge-7")
	origin.Checkout("merge-7")
	merge := origin.Merge(head, nil, "Merge feature into main")
	setRef(t, origin, "refs/pull/7/merge", merge)
	origin.Checkout("main")
	origin.DeleteBranch("merge-7")

	for _, depth := range []int{0, 1} {
		t.Run(fmt.Sprintf("fetch-depth %d", depth), func(t *testing.T) {
			ws := checkout(t, origin, merge, "refs/remotes/pull/7/merge", depth)
			env := newEnv(t, "pull_request", prEvent(7, base, head), ws)
			env.secrets = []string{tokBase, tokHead}
			r := env.run()

			if r.code != exitFindings {
				t.Fatalf("exit code %d, want 1", r.code)
			}
			// The base's secret is not the pull request's doing.
			if diff := cmp.Diff([]string{"github-pat@config/app.env:2@" + short(added)}, findings(t, r.report)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			want := map[string]string{
				"findings": "1", "exit-code": "1", "sarif-path": r.outputs["sarif-path"],
				"sarif-category": "keywarden/pull-request", "checkout-path": ws,
			}
			if diff := cmp.Diff(want, r.outputs); diff != "" {
				t.Errorf("outputs (-want +got):\n%s", diff)
			}
			if !strings.HasPrefix(r.outputs["sarif-path"], env.vars["RUNNER_TEMP"]+string(filepath.Separator)) {
				t.Errorf("sarif-path %q is not under RUNNER_TEMP", r.outputs["sarif-path"])
			}
			if err := validateSARIF(t, r.sarif); err != nil {
				t.Errorf("SARIF is not valid SARIF 2.1.0: %v", err)
			}
			if diff := cmp.Diff([]string{"github-pat@config/app.env:2"}, sarifResults(t, r.sarif)); diff != "" {
				t.Errorf("SARIF results (-want +got):\n%s", diff)
			}
			ann := r.annotations()
			if len(ann) != 1 ||
				!strings.HasPrefix(ann[0], "::error file=config/app.env,line=2,endLine=2,col=7,endColumn=46,title=keywarden%3A github-pat (high)::") ||
				!strings.Contains(ann[0], "GitHub Personal Access Token") ||
				!strings.HasSuffix(ann[0], ": ghp_… (introduced in commit "+short(added)+")") {
				t.Errorf("annotations %q: want one error on config/app.env line 2, columns 7 to 46, showing ghp_…", ann)
			}
			checkStopCommands(t, r.stdout)
			for _, s := range []string{
				"### keywarden: 1 finding\n",
				"**Scanned:** pull request #7: the commits in `" + short(base) + ".." + short(head) + "`",
				"**Result:** exit code 1: 1 finding at or above `low` (fail-on) fails the job",
				"| high | 1 |",
				"| high | `github-pat` | `ghp_…` | `config/app.env:2` | `" + short(added) + "` |",
			} {
				if !strings.Contains(r.summary, s) {
					t.Errorf("summary lacks %q", s)
				}
			}
			shallowNote := strings.Contains(r.stdout, "::notice title=keywarden::the repository is a shallow clone")
			if shallowNote != (depth == 1) {
				t.Errorf("shallow-clone notice printed = %v, want %v", shallowNote, depth == 1)
			}
			if got := gitCmd(t, ws, "rev-parse", "--is-shallow-repository"); got != "false" {
				t.Errorf("workspace still shallow after the run")
			}
		})
	}
}

func TestMergeGroup(t *testing.T) {
	tokBase, tokHead := highSecret(5), highSecret(6)
	origin := gittest.New(t)
	base := origin.Commit(map[string]string{"base.env": "TOKEN=" + tokBase + "\n"}, "base")
	head := origin.Commit(map[string]string{"head.env": "TOKEN=" + tokHead + "\n"}, "queued")
	ws := checkout(t, origin, head, "refs/remotes/origin/gh-readonly-queue/main/pr-1", 1)
	env := newEnv(t, "merge_group", map[string]any{"merge_group": map[string]any{"base_sha": base, "head_sha": head}}, ws)
	env.secrets = []string{tokBase, tokHead}
	r := env.run()
	if r.code != exitFindings {
		t.Fatalf("exit code %d, want 1", r.code)
	}
	if diff := cmp.Diff([]string{"github-pat@head.env:1@" + short(head)}, findings(t, r.report)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if r.outputs["sarif-category"] != "keywarden/merge-group" {
		t.Errorf("sarif-category %q, want keywarden/merge-group", r.outputs["sarif-category"])
	}
}

func TestPush(t *testing.T) {
	tokOld, tokNew, tokForce := highSecret(10), highSecret(11), highSecret(12)
	origin := gittest.New(t)
	origin.Commit(map[string]string{"README.md": "# demo\n"}, "init")
	before := origin.Commit(map[string]string{"old.env": "TOKEN=" + tokOld + "\n"}, "old secret")
	origin.Branch("feature")
	added := origin.Commit(map[string]string{"new.env": "TOKEN=" + tokNew + "\n"}, "new secret")
	after := origin.Commit(map[string]string{"README.md": "# demo 2\n"}, "readme")
	origin.Checkout("feature")
	forced := origin.Commit(map[string]string{"force.env": "TOKEN=" + tokForce + "\n"}, "force-pushed")
	origin.Checkout("main")

	tests := []struct {
		name          string
		ref           string
		before, after string
		depth         int
		want          []string
		notice        string
	}{
		{name: "range", ref: "refs/heads/main", before: before, after: after,
			want: []string{"github-pat@new.env:1@" + short(added)}},
		{name: "range from a shallow clone", ref: "refs/heads/main", before: before, after: after, depth: 1,
			want: []string{"github-pat@new.env:1@" + short(added)}},
		// The commit before a force-push may be gone: what no other branch has is scanned.
		{name: "before is gone", ref: "refs/heads/feature", before: strings.Repeat("ab", 20), after: forced,
			want:   []string{"github-pat@force.env:1@" + short(forced)},
			notice: "cannot read the commit before the push"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			branch := strings.TrimPrefix(tt.ref, "refs/heads/")
			ws := checkout(t, origin, tt.after, "refs/remotes/origin/"+branch, tt.depth)
			env := newEnv(t, "push", pushEvent(tt.ref, tt.before, tt.after), ws)
			env.secrets = []string{tokOld, tokNew, tokForce}
			r := env.run()
			if r.code != exitFindings {
				t.Fatalf("exit code %d, want 1", r.code)
			}
			if diff := cmp.Diff(tt.want, findings(t, r.report)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			if r.outputs["sarif-category"] != "keywarden/push" {
				t.Errorf("sarif-category %q, want keywarden/push", r.outputs["sarif-category"])
			}
			if tt.notice != "" && !strings.Contains(r.stdout, "::notice title=keywarden::"+tt.notice) {
				t.Errorf("no notice %q", tt.notice)
			}
			if err := validateSARIF(t, r.sarif); err != nil {
				t.Errorf("SARIF is not valid SARIF 2.1.0: %v", err)
			}
		})
	}
}

func TestPushNewBranch(t *testing.T) {
	tokMain, tokBranch := highSecret(20), highSecret(21)
	origin := gittest.New(t)
	origin.Commit(map[string]string{"README.md": "# demo\n"}, "init")
	mainTip := origin.Commit(map[string]string{"main.env": "TOKEN=" + tokMain + "\n"}, "secret on main")
	origin.Branch("copy") // a new branch at a commit main already has
	origin.Branch("feature")
	origin.Checkout("feature")
	added := origin.Commit(map[string]string{"feature.env": "TOKEN=" + tokBranch + "\n"}, "secret on the branch")
	tip := origin.Commit(map[string]string{"README.md": "# feature\n"}, "readme")
	origin.Checkout("main")

	lone := gittest.New(t) // a repository's first push: no other branch to compare with
	lone.Commit(map[string]string{"README.md": "# lone\n"}, "init")
	loneTip := lone.Commit(map[string]string{"lone.env": "TOKEN=" + tokMain + "\n"}, "secret")

	tests := []struct {
		name   string
		origin *gittest.Repo
		branch string
		after  string
		depth  int
		code   int
		want   []string
		scope  string
	}{
		{"new branch", origin, "feature", tip, 0, exitFindings,
			[]string{"github-pat@feature.env:1@" + short(added)}, "(2 branches left out)"},
		{"new branch from a shallow clone", origin, "feature", tip, 1, exitFindings,
			[]string{"github-pat@feature.env:1@" + short(added)}, "(2 branches left out)"},
		{"new branch at an existing commit", origin, "copy", mainTip, 0, exitClean, nil, "(2 branches left out)"},
		{"first push", lone, "main", loneTip, 0, exitFindings,
			[]string{"github-pat@lone.env:1@" + short(loneTip)}, "the full history of `" + short(loneTip) + "` (there is no other branch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := checkout(t, tt.origin, tt.after, "refs/remotes/origin/"+tt.branch, tt.depth)
			env := newEnv(t, "push", pushEvent("refs/heads/"+tt.branch, zeros, tt.after), ws)
			env.secrets = []string{tokMain, tokBranch}
			r := env.run()
			if r.code != tt.code {
				t.Fatalf("exit code %d, want %d", r.code, tt.code)
			}
			if diff := cmp.Diff(tt.want, findings(t, r.report)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			if !strings.Contains(r.summary, "**Scanned:** push of new branch `refs/heads/"+tt.branch+"`") || !strings.Contains(r.summary, tt.scope) {
				t.Errorf("summary does not describe the scan as a new branch with %q", tt.scope)
			}
			if err := validateSARIF(t, r.sarif); err != nil {
				t.Errorf("SARIF is not valid SARIF 2.1.0: %v", err)
			}
			if strings.Contains(r.stdout+r.summary, "BASE and HEAD") {
				t.Errorf("trufflehog's failure leaked in")
			}
		})
	}
}

func TestPushSameCommit(t *testing.T) {
	tokParent, tokAfter, tokRoot := highSecret(30), highSecret(31), highSecret(32)
	tokSide, tokMain, tokMerge := highSecret(33), highSecret(34), highSecret(35)

	linear := gittest.New(t)
	linear.Commit(map[string]string{"parent.env": "TOKEN=" + tokParent + "\n"}, "parent")
	after := linear.Commit(map[string]string{"after.env": "TOKEN=" + tokAfter + "\n"}, "after")

	root := gittest.New(t)
	rootCommit := root.Commit(map[string]string{"root.env": "TOKEN=" + tokRoot + "\n"}, "root")

	merged := gittest.New(t)
	merged.Commit(map[string]string{"README.md": "# m\n"}, "init")
	merged.Branch("side")
	merged.Commit(map[string]string{"main.env": "TOKEN=" + tokMain + "\n"}, "main")
	merged.Checkout("side")
	merged.Commit(map[string]string{"side.env": "TOKEN=" + tokSide + "\n"}, "side")
	merged.Checkout("main")
	merge := merged.Merge("side", map[string]string{"resolved.env": "TOKEN=" + tokMerge + "\n"}, "merge side")

	tests := []struct {
		name   string
		origin *gittest.Repo
		commit string
		want   []string
	}{
		{"commit with a parent", linear, after, []string{"github-pat@after.env:1@" + short(after)}},
		{"root commit", root, rootCommit, []string{"github-pat@root.env:1@" + short(rootCommit)}},
		// Only what the merge itself brings, not the merged branch's commits.
		{"merge commit", merged, merge, []string{"github-pat@resolved.env:1@" + short(merge)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := checkout(t, tt.origin, tt.commit, "refs/remotes/origin/main", 0)
			env := newEnv(t, "push", pushEvent("refs/heads/main", tt.commit, tt.commit), ws)
			env.secrets = []string{tokParent, tokAfter, tokRoot, tokSide, tokMain, tokMerge}
			r := env.run()
			if r.code != exitFindings {
				t.Fatalf("exit code %d, want 1", r.code)
			}
			if diff := cmp.Diff(tt.want, findings(t, r.report)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			if !strings.Contains(r.summary, "**Scanned:** commit `"+short(tt.commit)+"` alone") {
				t.Errorf("summary does not say the commit was scanned alone")
			}
		})
	}
}

func TestPushDeletedBranch(t *testing.T) {
	origin := gittest.New(t)
	tip := origin.Commit(map[string]string{"a.env": "TOKEN=" + highSecret(40) + "\n"}, "init")
	ws := checkout(t, origin, tip, "refs/remotes/origin/main", 0)
	env := newEnv(t, "push", pushEvent("refs/heads/gone", tip, zeros), ws)
	r := env.run()
	if r.code != exitClean {
		t.Fatalf("exit code %d, want 0", r.code)
	}
	want := map[string]string{"findings": "0", "exit-code": "0", "sarif-path": "", "sarif-category": "keywarden/push", "checkout-path": ws}
	if diff := cmp.Diff(want, r.outputs); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
	if !strings.Contains(r.summary, "**Skipped:** the push deleted `refs/heads/gone`") {
		t.Errorf("summary does not say the branch was deleted")
	}
}

// historyRepo has a high-severity secret added and removed on main, and a medium and a low
// one on a branch.
func historyRepo(t *testing.T) (*gittest.Repo, []string) {
	tokHigh, tokMedium := highSecret(50), mediumSecret(51)
	r := gittest.New(t)
	r.Commit(map[string]string{"app.env": "TOKEN=" + tokHigh + "\n"}, "secret")
	r.Commit(map[string]string{"app.env": "TOKEN=from-env\n"}, "remove secret")
	r.Branch("feature")
	r.Checkout("feature")
	r.Commit(map[string]string{"conf/generic.txt": "key " + tokMedium + "\n", "conf/id.kwlow": "x\n"}, "more")
	r.Checkout("main")
	return r, []string{tokHigh, tokMedium}
}

func TestSchedule(t *testing.T) {
	origin, secrets := historyRepo(t)
	head := origin.Head()
	for _, tt := range []struct {
		event string
		depth int
	}{{"schedule", 0}, {"schedule", 1}, {"workflow_dispatch", 0}} {
		t.Run(fmt.Sprintf("%s depth %d", tt.event, tt.depth), func(t *testing.T) {
			ws := checkout(t, origin, head, "refs/remotes/origin/main", tt.depth)
			env := newEnv(t, tt.event, map[string]any{}, ws)
			env.secrets = secrets
			r := env.run()
			if r.code != exitFindings {
				t.Fatalf("exit code %d, want 1", r.code)
			}
			got := findings(t, r.report)
			for i := range got {
				got[i] = got[i][:strings.LastIndex(got[i], "@")]
			}
			want := []string{"github-pat@app.env:1", "kwtest-generic@conf/generic.txt:1", "kwtest-file@conf/id.kwlow:0"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			if r.outputs["sarif-category"] != "keywarden/history" {
				t.Errorf("sarif-category %q, want keywarden/history", r.outputs["sarif-category"])
			}
			for _, s := range []string{
				"**Scanned:** the full history of every ref",
				"| critical | 0 |\n| high | 1 |\n| medium | 1 |\n| low | 1 |\n",
				"| medium | `kwtest-generic` | `kwge…` | `conf/generic.txt:1` |",
			} {
				if !strings.Contains(r.summary, s) {
					t.Errorf("summary lacks %q", s)
				}
			}
			if strings.Contains(r.summary, "Live exposure") || strings.Contains(r.summary, "exposure |") {
				t.Errorf("summary shows exposure, which the report does not have")
			}
			if err := validateSARIF(t, r.sarif); err != nil {
				t.Errorf("SARIF is not valid SARIF 2.1.0: %v", err)
			}
			// A path-only finding has no line: its annotation names the file only.
			ann := r.annotations()
			if len(ann) != 3 || !strings.HasPrefix(ann[2], "::error file=conf/id.kwlow,title=keywarden%3A kwtest-file (low)::") {
				t.Errorf("annotations %q: want 3, the last on conf/id.kwlow without a line", ann)
			}
		})
	}
}

func TestFailOn(t *testing.T) {
	// Findings of medium and low severity only.
	origin := gittest.New(t)
	tokMedium := mediumSecret(60)
	tip := origin.Commit(map[string]string{"conf/generic.txt": "key " + tokMedium + "\n", "conf/id.kwlow": "x\n"}, "init")
	ws := checkout(t, origin, tip, "refs/remotes/origin/main", 0)
	tests := []struct {
		failOn string
		code   int
		levels []string // annotation level of the medium, then the low finding
	}{
		{"critical", exitClean, []string{"warning", "warning"}},
		{"high", exitClean, []string{"warning", "warning"}},
		{"medium", exitFindings, []string{"error", "warning"}},
		{"LOW", exitFindings, []string{"error", "error"}},
		{"never", exitClean, []string{"warning", "warning"}},
	}
	for _, tt := range tests {
		t.Run(tt.failOn, func(t *testing.T) {
			env := newEnv(t, "schedule", map[string]any{}, ws).set("INPUT_FAIL_ON", tt.failOn)
			env.secrets = []string{tokMedium}
			r := env.run()
			if r.code != tt.code {
				t.Errorf("exit code %d, want %d", r.code, tt.code)
			}
			if r.outputs["exit-code"] != fmt.Sprint(tt.code) || r.outputs["findings"] != "2" {
				t.Errorf("outputs exit-code=%q findings=%q, want %d and 2", r.outputs["exit-code"], r.outputs["findings"], tt.code)
			}
			var levels []string
			for _, a := range r.annotations() {
				levels = append(levels, strings.TrimPrefix(a[:strings.Index(a, " ")], "::"))
			}
			if diff := cmp.Diff(tt.levels, levels); diff != "" {
				t.Errorf("annotation levels (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAnnotationCap(t *testing.T) {
	origin := gittest.New(t)
	var lines, secrets []string
	for i := range 60 {
		secrets = append(secrets, highSecret(100+i))
		lines = append(lines, "TOKEN_"+fmt.Sprint(i)+"="+secrets[i])
	}
	tip := origin.Commit(map[string]string{"many.env": strings.Join(lines, "\n") + "\n"}, "many")
	ws := checkout(t, origin, tip, "refs/remotes/origin/main", 0)
	env := newEnv(t, "schedule", map[string]any{}, ws)
	env.secrets = secrets
	r := env.run()
	if r.outputs["findings"] != "60" {
		t.Fatalf("findings output %q, want 60", r.outputs["findings"])
	}
	ann := r.annotations()
	if len(ann) != maxAnnotations {
		t.Errorf("%d annotations, want %d", len(ann), maxAnnotations)
	}
	if !strings.Contains(r.stdout, "\n::notice title=keywarden::10 more findings not annotated (at most 50 are); see the job summary\n") {
		t.Errorf("no notice saying 10 findings were left out")
	}
	if !strings.Contains(r.summary, "**Annotations:** 50 of 60 findings annotated; 10 left out (at most 50 are)") {
		t.Errorf("summary does not say 10 findings were left out")
	}
	if n := strings.Count(r.summary, "| high | `github-pat` |"); n != 60 {
		t.Errorf("summary table has %d rows, want 60", n)
	}
}

func TestDirScan(t *testing.T) {
	ws := t.TempDir()
	tok := highSecret(70)
	writeFile(t, filepath.Join(ws, "sub", "conf", "app.env"), "\nTOKEN="+tok+"\n")
	writeFile(t, filepath.Join(ws, "outside.env"), "TOKEN="+highSecret(71)+"\n")
	env := newEnv(t, "push", pushEvent("refs/heads/main", zeros, strings.Repeat("1", 40)), ws).
		set("INPUT_SCAN", "dir").set("INPUT_PATH", "sub")
	env.secrets = []string{tok, highSecret(71)}
	r := env.run()
	if r.code != exitFindings {
		t.Fatalf("exit code %d, want 1", r.code)
	}
	// Paths are relative to the workspace, not to the scanned directory.
	if diff := cmp.Diff([]string{"github-pat@sub/conf/app.env:2"}, sarifResults(t, r.sarif)); diff != "" {
		t.Errorf("SARIF results (-want +got):\n%s", diff)
	}
	if err := validateSARIF(t, r.sarif); err != nil {
		t.Errorf("SARIF is not valid SARIF 2.1.0: %v", err)
	}
	if ann := r.annotations(); len(ann) != 1 || !strings.HasPrefix(ann[0], "::error file=sub/conf/app.env,line=2,") {
		t.Errorf("annotations %q, want one on sub/conf/app.env line 2", ann)
	}
	if r.outputs["sarif-category"] != "keywarden/dir" || r.outputs["checkout-path"] != ws {
		t.Errorf("outputs %v: want category keywarden/dir and checkout-path the workspace", r.outputs)
	}
	if !strings.Contains(r.summary, "**Scanned:** the files in `sub` (1 file,") {
		t.Errorf("summary does not describe the dir scan")
	}
}

// TestImageScan: scan: image finds a secret a later layer deleted; the SARIF names it
// "image-ref/path" and keeps the layers, and the annotation names no repository file.
func TestImageScan(t *testing.T) {
	ws := t.TempDir()
	tok := highSecret(72)
	img := imagetest.Image(t, imagetest.ConfigOptions{},
		imagetest.Layer(t, map[string]string{"app/.env": "TOKEN=" + tok + "\n"}),
		imagetest.Layer(t, map[string]string{"app/.wh..env": ""}))
	ref := "oci:" + imagetest.WriteOCILayout(t, map[string]v1.Image{"1.0": img}) + ":1.0"
	env := newEnv(t, "workflow_dispatch", map[string]any{}, ws).set("INPUT_SCAN", "image").set("INPUT_IMAGE", ref)
	env.secrets = []string{tok}
	r := env.run()
	if r.code != exitFindings {
		t.Fatalf("exit code %d, want 1", r.code)
	}
	if err := validateSARIF(t, r.sarif); err != nil {
		t.Errorf("SARIF is not valid SARIF 2.1.0: %v", err)
	}
	if !strings.Contains(string(r.sarif), `"removed_in_layer": 2`) || !strings.Contains(string(r.sarif), "app/.env") {
		t.Errorf("SARIF lacks the deleted file and its layers:\n%s", r.sarif)
	}
	ann := r.annotations()
	if len(ann) != 1 || strings.Contains(ann[0], "file=") || !strings.Contains(ann[0], "layer 1") || !strings.Contains(ann[0], "deleted in layer 2") {
		t.Errorf("annotations %q, want one without a file, naming layer 1 and the deletion in layer 2", ann)
	}
	if r.outputs["sarif-category"] != "keywarden/image" {
		t.Errorf("category %q, want keywarden/image", r.outputs["sarif-category"])
	}
}

func TestPathLikeAnOption(t *testing.T) {
	ws := t.TempDir()
	tok := highSecret(75)
	writeFile(t, filepath.Join(ws, "-o", "app.env"), "TOKEN="+tok+"\n")
	env := newEnv(t, "schedule", map[string]any{}, ws).set("INPUT_SCAN", "dir").set("INPUT_PATH", "-o")
	env.secrets = []string{tok}
	r := env.run()
	if r.code != exitFindings {
		t.Fatalf("exit code %d, want 1", r.code)
	}
	if diff := cmp.Diff([]string{"github-pat@-o/app.env:1"}, sarifResults(t, r.sarif)); diff != "" {
		t.Errorf("SARIF results (-want +got):\n%s", diff)
	}
}

func TestErrors(t *testing.T) {
	origin := gittest.New(t)
	tip := origin.Commit(map[string]string{"a.env": "TOKEN=" + highSecret(80) + "\n"}, "init")
	ws := checkout(t, origin, tip, "refs/remotes/origin/main", 0)
	tests := []struct {
		name    string
		inputs  map[string]string
		message string // in the ::error annotation and the summary
	}{
		{"bad fail-on", map[string]string{"INPUT_FAIL_ON": "severe"}, `reading input fail-on: "severe" is not critical, high, medium, low or never`},
		{"bad upload-sarif", map[string]string{"INPUT_UPLOAD_SARIF": "yes"}, `reading input upload-sarif: "yes" is not true or false`},
		{"bad scan", map[string]string{"INPUT_SCAN": "s3"}, `reading input scan: "s3" is not git, dir or image`},
		{"unterminated quote", map[string]string{"INPUT_ARGS": `--since "2020`}, "reading input args: parsing args: unterminated double quote"},
		{"image without image", map[string]string{"INPUT_SCAN": "image"}, "reading input image: scan is image but no image is given"},
		{"image like an option", map[string]string{"INPUT_SCAN": "image", "INPUT_IMAGE": "--help"}, `reading input image: "--help" is not an image reference`},
		{"missing config", map[string]string{"INPUT_CONFIG": "no-such.toml"}, "keywarden: "},
		{"unknown flag in args", map[string]string{"INPUT_ARGS": "--no-such-flag"}, "keywarden: "},
		{"image that does not exist", map[string]string{"INPUT_SCAN": "image", "INPUT_IMAGE": "oci:" + filepath.Join(ws, "no-such-layout")}, "keywarden: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv(t, "schedule", map[string]any{}, ws)
			for k, v := range tt.inputs {
				env.set(k, v)
			}
			env.secrets = []string{highSecret(80)}
			r := env.run()
			if r.code != exitError {
				t.Fatalf("exit code %d, want 2", r.code)
			}
			if r.outputs["exit-code"] != "2" || r.outputs["sarif-path"] != "" || r.outputs["findings"] != "0" {
				t.Errorf("outputs %v: want exit-code 2, no sarif-path, 0 findings", r.outputs)
			}
			if !strings.Contains(r.stdout, "::error title=keywarden::"+tt.message) {
				t.Errorf("no ::error annotation starting %q", tt.message)
			}
			if !strings.Contains(r.summary, "### keywarden: error\n") || !strings.Contains(r.summary, "**Error:** `"+tt.message) {
				t.Errorf("summary does not report the error %q", tt.message)
			}
		})
	}
}

func TestArgsCannotChangeTheReport(t *testing.T) {
	origin := gittest.New(t)
	tok := highSecret(90)
	tip := origin.Commit(map[string]string{"a.env": "TOKEN=" + tok + "\n"}, "init")
	ws := checkout(t, origin, tip, "refs/remotes/origin/main", 0)
	elsewhere := filepath.Join(t.TempDir(), "elsewhere.txt")
	env := newEnv(t, "schedule", map[string]any{}, ws).
		set("INPUT_ARGS", "--format text\n--output '"+elsewhere+"' --show-secrets --exit-code 7 -j 1")
	env.secrets = []string{tok}
	r := env.run()
	if r.code != exitFindings {
		t.Fatalf("exit code %d, want 1", r.code)
	}
	if diff := cmp.Diff([]string{"github-pat@a.env:1@" + short(tip)}, findings(t, r.report)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if _, err := os.Stat(elsewhere); err == nil {
		t.Errorf("the args input redirected the report")
	}
}

// fakeKeywarden writes a script that stands in for keywarden: it copies report to the path
// given with --output and exits with code.
func fakeKeywarden(t *testing.T, report string, code int) string {
	t.Helper()
	dir := t.TempDir()
	fixture := filepath.Join(dir, "fixture.json")
	writeFile(t, fixture, report)
	bin := filepath.Join(dir, "keywarden")
	script := fmt.Sprintf("#!/bin/sh\nout=\nwhile [ $# -gt 0 ]; do\n  if [ \"$1\" = --output ]; then out=$2; fi\n  shift\ndone\ncp '%s' \"$out\"\nexit %d\n", fixture, code)
	if err := os.WriteFile(bin, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	return bin
}

// exposureReport is a hand-written report of three findings; exposures gives each finding's
// exposure field as raw JSON, "" to leave it out. The second finding's secret is raw, as
// --show-secrets would write it.
func exposureReport(raw string, exposures ...string) string {
	var fs []string
	for i, secret := range []string{"ghp_…", raw, "kwge…"} {
		exp := ""
		if exposures[i] != "" {
			exp = `"exposure": ` + exposures[i] + ","
		}
		fs = append(fs, fmt.Sprintf(`{"rule_id": "github-pat", "description": "GitHub Personal Access Token", "severity": "high",
			"secret": %q, "fingerprint": "%032d", "entropy": 4.5, "tags": [], %s
			"locations": [{"source": "dir", "path": "f%d.env", "line": 1, "column": 7, "end_line": 1, "end_column": 46}]}`, secret, i, exp, i))
	}
	return `{"schema_version": 1, "tool": {"name": "keywarden", "version": "9.9.9", "information_uri": "https://github.com/keywarden/keywarden"},
		"scan": {"source": "dir", "target": "."}, "findings": [` + strings.Join(fs, ",") + `],
		"stats": {"blobs": 3, "bytes": 300, "scanned_bytes": 300, "skipped": 0, "commits": 0, "duration_ms": 5}, "skipped": []}`
}

func TestExposure(t *testing.T) {
	raw := highSecret(95)
	tests := []struct {
		name      string
		exposures []string
		line      string // "" for none
		cells     []string
	}{
		{"none", []string{"", "", ""}, "", nil},
		{"one live", []string{`{"status": "live"}`, `{"status": "retired"}`, ""},
			"> [!CAUTION]\n> **Live exposure:** 1 of 3 findings is live: rotate it first (others: 1 not checked, 1 retired)",
			[]string{"| `f0.env:1` |  | live |", "| `f1.env:1` |  | retired |", "| `f2.env:1` |  | not checked |"}},
		{"none live", []string{`{"status": "unknown"}`, `{"status": "unknown"}`, `{"state": "live"}`},
			"**Live exposure:** 0 of 3 findings are live (others: 2 unknown, 1 unrecognised)", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := t.TempDir()
			env := newEnv(t, "schedule", map[string]any{}, ws).set("INPUT_SCAN", "dir").
				set("KEYWARDEN_BIN", fakeKeywarden(t, exposureReport(raw, tt.exposures...), 1))
			r := env.run()
			for name, text := range map[string]string{"stdout": r.stdout, "summary": r.summary, "SARIF": string(r.sarif)} {
				if strings.Contains(text, raw) {
					t.Errorf("raw secret in %s", name)
				}
			}
			if !strings.Contains(r.summary, "| `github-pat` | `"+raw[:4]+"…` |") {
				t.Errorf("the raw secret in the report is not shown redacted")
			}
			if r.code != exitFindings || r.outputs["findings"] != "3" {
				t.Errorf("exit code %d, findings %q; want 1 and 3", r.code, r.outputs["findings"])
			}
			if tt.line == "" {
				if strings.Contains(r.summary, "exposure") {
					t.Errorf("summary mentions exposure, which no finding has")
				}
				return
			}
			if !strings.Contains(r.summary, "\n"+tt.line+"\n") {
				t.Errorf("summary lacks the line %q", tt.line)
			}
			if !strings.Contains(r.summary, "| severity | rule | secret | location | commit | exposure |") {
				t.Errorf("findings table has no exposure column")
			}
			for _, c := range tt.cells {
				if !strings.Contains(r.summary, c) {
					t.Errorf("summary lacks %q", c)
				}
			}
			if err := validateSARIF(t, r.sarif); err != nil {
				t.Errorf("SARIF is not valid SARIF 2.1.0: %v", err)
			}
		})
	}
}

func TestReportMissing(t *testing.T) {
	// keywarden exiting 0 without a report (as it does for an unknown subcommand) must not
	// pass as a clean scan.
	dir := t.TempDir()
	bin := filepath.Join(dir, "keywarden")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\necho 'Usage: keywarden scan [command]'\nexit 0\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	env := newEnv(t, "schedule", map[string]any{}, t.TempDir()).set("INPUT_SCAN", "dir").set("KEYWARDEN_BIN", bin)
	r := env.run()
	if r.code != exitError || r.outputs["exit-code"] != "2" {
		t.Errorf("exit code %d (output %q), want 2", r.code, r.outputs["exit-code"])
	}
	if !strings.Contains(r.summary, "it exited with code 0 and wrote no report") {
		t.Errorf("summary does not explain the missing report")
	}
}
