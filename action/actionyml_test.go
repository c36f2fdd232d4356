package action

import (
	"bytes"
	"errors"
	"go/build"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
)

// actionMeta is the part of action.yml the tests check.
type actionMeta struct {
	Runs struct {
		Using string `yaml:"using"`
		Steps []struct {
			Name             string            `yaml:"name"`
			ID               string            `yaml:"id"`
			If               string            `yaml:"if"`
			Uses             string            `yaml:"uses"`
			Run              string            `yaml:"run"`
			Shell            string            `yaml:"shell"`
			Env              map[string]string `yaml:"env"`
			With             map[string]string `yaml:"with"`
			ContinueOnError  string            `yaml:"continue-on-error"`
			WorkingDirectory string            `yaml:"working-directory"`
		} `yaml:"steps"`
	} `yaml:"runs"`
	Inputs map[string]struct {
		Description string  `yaml:"description"`
		Default     *string `yaml:"default"`
	} `yaml:"inputs"`
	Outputs map[string]struct {
		Description string `yaml:"description"`
		Value       string `yaml:"value"`
	} `yaml:"outputs"`
}

func readActionYML(t *testing.T) (actionMeta, string) {
	t.Helper()
	text := readFile(t, filepath.Join("..", "action.yml"))
	var meta actionMeta
	if err := yaml.Unmarshal([]byte(text), &meta); err != nil {
		t.Fatalf("parsing action.yml: %v", err)
	}
	return meta, text
}

func TestActionYML(t *testing.T) {
	meta, text := readActionYML(t)
	if meta.Runs.Using != "composite" {
		t.Errorf("runs.using = %q, want composite", meta.Runs.Using)
	}

	// The inputs, their defaults and the program's agree.
	want := map[string]string{}
	for _, s := range inputSpecs {
		want[s.name] = s.def
	}
	got := map[string]string{}
	for name, in := range meta.Inputs {
		if in.Default == nil {
			t.Errorf("input %s has no default", name)
			continue
		}
		if in.Description == "" {
			t.Errorf("input %s has no description", name)
		}
		got[name] = *in.Default
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("action.yml inputs and defaults differ from inputSpecs (-want +got):\n%s", diff)
	}
	for _, m := range regexp.MustCompile(`inputs\.([A-Za-z0-9_-]+)`).FindAllStringSubmatch(text, -1) {
		if _, ok := meta.Inputs[m[1]]; !ok {
			t.Errorf("action.yml uses inputs.%s, which it does not declare", m[1])
		}
	}

	steps := map[string]int{}
	for i, s := range meta.Runs.Steps {
		steps[s.ID] = i
		if s.Run != "" {
			if s.Shell != "bash" {
				t.Errorf("step %q: shell %q, want bash", s.Name, s.Shell)
			}
			// Expressions in a script are spliced in before the shell parses it: values
			// must come in through env.
			if strings.Contains(s.Run, "${{") {
				t.Errorf("step %q interpolates an expression into its script", s.Name)
			}
		}
	}
	i, ok := steps["scan"]
	if !ok {
		t.Fatal("action.yml has no step with id scan")
	}
	scan := meta.Runs.Steps[i]
	for _, s := range inputSpecs {
		if v := scan.Env[inputEnv(s.name)]; v != "${{ inputs."+s.name+" }}" {
			t.Errorf("scan step env %s = %q, want ${{ inputs.%s }}", inputEnv(s.name), v, s.name)
		}
	}
	if !strings.Contains(scan.Run, "--defer-exit") {
		t.Errorf("scan step does not defer its exit code: findings would fail it before the upload")
	}

	// Outputs: the three documented ones, from the scan step; every step output action.yml
	// reads is one the program writes.
	written := stepOutputs(&outcome{})
	var outs []string
	for name, out := range meta.Outputs {
		outs = append(outs, name)
		if out.Value != "${{ steps.scan.outputs."+name+" }}" {
			t.Errorf("output %s = %q, want the scan step's", name, out.Value)
		}
	}
	sort.Strings(outs)
	if diff := cmp.Diff([]string{"exit-code", "findings", "sarif-path"}, outs); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
	for _, m := range regexp.MustCompile(`steps\.scan\.outputs\.([A-Za-z0-9_-]+)`).FindAllStringSubmatch(text, -1) {
		if _, ok := written[m[1]]; !ok {
			t.Errorf("action.yml reads steps.scan.outputs.%s, which the program does not write", m[1])
		}
	}

	pins := usesComments(text)

	// The order: scan, upload (unless the scan wrote no SARIF), then fail with the code.
	var upload, last int = -1, len(meta.Runs.Steps) - 1
	for i, s := range meta.Runs.Steps {
		if strings.HasPrefix(s.Uses, "github/codeql-action/upload-sarif@") {
			upload = i
			if m := pinnedUses.FindStringSubmatch(s.Uses + " # " + pins[s.Uses]); m == nil || m[3] != "3" {
				t.Errorf("upload step uses %s # %s, want a v3 release pinned by commit", s.Uses, pins[s.Uses])
			}
			for _, c := range []string{"inputs.upload-sarif == 'true'", "steps.scan.outputs.sarif-path != ''", "!cancelled()"} {
				if !strings.Contains(s.If, c) {
					t.Errorf("upload step's if %q lacks %q", s.If, c)
				}
			}
		}
		if strings.HasPrefix(s.Uses, "actions/setup-go@") {
			if !strings.Contains(s.With["cache-dependency-path"], "github.action_path") || !strings.HasSuffix(s.With["cache-dependency-path"], "/go.sum") {
				t.Errorf("setup-go cache-dependency-path %q is not the action's go.sum", s.With["cache-dependency-path"])
			}
		}
	}
	if !(steps["scan"] < upload && upload < last) {
		t.Errorf("steps out of order: scan %d, upload %d, last %d", steps["scan"], upload, last)
	}
	final := meta.Runs.Steps[last]
	if !strings.Contains(final.If, "!cancelled()") || final.Env["EXIT_CODE"] != "${{ steps.scan.outputs.exit-code }}" {
		t.Errorf("last step (if %q, env %v) does not always end the job with the scan's exit code", final.If, final.Env)
	}
}

// docTable returns the first column (without backticks) and the second of the Markdown table
// under heading in doc.
func docTable(t *testing.T, doc, heading string) map[string]string {
	t.Helper()
	_, after, ok := strings.Cut(doc, "\n"+heading+"\n")
	if !ok {
		t.Fatalf("docs/github-action.md has no %q section", heading)
	}
	rows := map[string]string{}
	started := false
	for _, line := range strings.Split(after, "\n") {
		if !strings.HasPrefix(line, "|") {
			if started {
				break
			}
			continue
		}
		started = true
		cells := strings.Split(strings.Trim(line, "|"), "|")
		name := strings.Trim(strings.TrimSpace(cells[0]), "`")
		if name == "input" || name == "output" || strings.HasPrefix(name, "---") {
			continue
		}
		second := ""
		if len(cells) > 1 {
			second = strings.Trim(strings.TrimSpace(cells[1]), "`")
		}
		rows[name] = second
	}
	return rows
}

func TestDocsMatchActionYML(t *testing.T) {
	meta, _ := readActionYML(t)
	doc := readFile(t, filepath.Join("..", "docs", "github-action.md"))
	want := map[string]string{}
	for name, in := range meta.Inputs {
		want[name] = *in.Default
		if want[name] == "" {
			want[name] = "(empty)"
		}
	}
	if diff := cmp.Diff(want, docTable(t, doc, "## Inputs")); diff != "" {
		t.Errorf("inputs documented in docs/github-action.md differ from action.yml (-action.yml +docs):\n%s", diff)
	}
	var outs, docOuts []string
	for name := range meta.Outputs {
		outs = append(outs, name)
	}
	for name := range docTable(t, doc, "## Outputs") {
		docOuts = append(docOuts, name)
	}
	sort.Strings(outs)
	sort.Strings(docOuts)
	if diff := cmp.Diff(outs, docOuts); diff != "" {
		t.Errorf("outputs documented in docs/github-action.md differ from action.yml (-action.yml +docs):\n%s", diff)
	}
	// The ready workflow in the docs is the dogfood workflow, which actionlint checks.
	wf := readFile(t, filepath.Join("..", ".github", "workflows", "keywarden.yml"))
	_, body, _ := strings.Cut(wf, "\nname: ")
	if !strings.Contains(doc, "name: "+strings.ReplaceAll(body, "uses: ./\n", "uses: keywarden/keywarden@v1\n")) {
		t.Errorf("docs/github-action.md does not hold .github/workflows/keywarden.yml (from its name: line on, with uses: keywarden/keywarden@v1)")
	}
}

// actionlintPath finds actionlint on PATH or where go install puts it.
func actionlintPath(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("actionlint"); err == nil {
		return p
	}
	if p := filepath.Join(build.Default.GOPATH, "bin", "actionlint"); fileExists(p) {
		return p
	}
	const install = "go install github.com/rhysd/actionlint/cmd/actionlint@v1.7.12"
	if os.Getenv("KEYWARDEN_REQUIRE_TOOLS") == "1" {
		t.Fatalf("actionlint not found on PATH or in GOPATH/bin (KEYWARDEN_REQUIRE_TOOLS=1); install it with %s", install)
	}
	t.Skipf("actionlint not found; install it with %s", install)
	return ""
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func TestActionlint(t *testing.T) {
	bin := actionlintPath(t)
	actionYML := readFile(t, filepath.Join("..", "action.yml"))
	lint := func(dir, workflow string) (string, error) {
		cmd := exec.Command(bin, "-no-color", workflow)
		cmd.Dir = dir
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), err
	}

	t.Run("example workflow", func(t *testing.T) {
		root, err := filepath.Abs("..")
		if err != nil {
			t.Fatal(err)
		}
		if out, err := lint(root, filepath.Join(".github", "workflows", "keywarden.yml")); err != nil {
			t.Errorf("actionlint: %v\n%s", err, out)
		}
	})

	// actionlint reads no action metadata, but it checks a reusable workflow's steps: the
	// composite's steps, wrapped in one with the same inputs, get their expressions and the
	// inputs they give setup-go and upload-sarif checked.
	// actionlint knows the inputs of popular actions by major version (actions/setup-go@v5),
	// not by commit: the steps are linted with each pin replaced by its release's major.
	actionYML = majorRefs(actionYML)
	t.Run("action.yml steps", func(t *testing.T) {
		dir := compositeAsWorkflow(t, actionYML)
		if out, err := lint(dir, filepath.Join(".github", "workflows", "composite.yml")); err != nil {
			t.Errorf("actionlint: %v\n%s", err, out)
		}
		bad := strings.Replace(actionYML, "cache-dependency-path:", "cache-dependency-paths:", 1)
		bad = strings.Replace(bad, "${{ inputs.fail-on }}", "${{ inputs.fail_on }}", 1)
		dir = compositeAsWorkflow(t, bad)
		out, err := lint(dir, filepath.Join(".github", "workflows", "composite.yml"))
		if err == nil {
			t.Fatalf("actionlint accepted steps with a misspelt input:\n%s", out)
		}
		for _, want := range []string{`input "cache-dependency-paths" is not defined`, `property "fail_on" is not defined`} {
			if !strings.Contains(out, want) {
				t.Errorf("actionlint output lacks %q:\n%s", want, out)
			}
		}
	})

	// The check must be able to fail: a workflow misusing the action's inputs and outputs.
	t.Run("misuse is caught", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.Mkdir(filepath.Join(dir, ".git"), 0o755); err != nil { // actionlint's project root
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, "action.yml"), actionYML)
		writeFile(t, filepath.Join(dir, ".github", "workflows", "bad.yml"), `name: bad
on: push
jobs:
  scan:
    runs-on: ubuntu-latest
    steps:
      - uses: ./
        id: kw
        with:
          fail_on: high
      - run: echo "${{ steps.kw.outputs.sarif_path }}"
`)
		out, err := lint(dir, filepath.Join(".github", "workflows", "bad.yml"))
		if err == nil {
			t.Fatalf("actionlint accepted a workflow passing an undeclared input:\n%s", out)
		}
		for _, want := range []string{`input "fail_on" is not defined`, `property "sarif_path" is not defined`} {
			if !strings.Contains(out, want) {
				t.Errorf("actionlint output lacks %q:\n%s", want, out)
			}
		}
	})
}

// TestScanStepContract runs the scan step's program as action.yml does: with --defer-exit,
// findings leave the step green and are recorded in exit-code for the last step.
func TestScanStepContract(t *testing.T) {
	origin, secrets := historyRepo(t)
	ws := checkout(t, origin, origin.Head(), "refs/remotes/origin/main", 0)
	tests := []struct {
		name     string
		args     []string
		inputs   map[string]string
		code     int
		exitCode string
	}{
		{"findings, deferred", []string{"--defer-exit"}, nil, 0, "1"},
		{"findings, not deferred", nil, nil, 1, "1"},
		{"below fail-on", []string{"--defer-exit"}, map[string]string{"INPUT_FAIL_ON": "critical"}, 0, "0"},
		{"error fails the step", []string{"--defer-exit"}, map[string]string{"INPUT_FAIL_ON": "bogus"}, 2, "2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv(t, "schedule", map[string]any{}, ws)
			for k, v := range tt.inputs {
				env.set(k, v)
			}
			cmd := exec.Command(actionBin, tt.args...)
			cmd.Env = os.Environ()
			for k, v := range env.vars {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			code, out := exitStatus(t, cmd)
			if code != tt.code {
				t.Errorf("exit code %d, want %d\n%s", code, tt.code, out)
			}
			outputs := parseOutputs(t, readFile(t, env.vars["GITHUB_OUTPUT"]))
			if outputs["exit-code"] != tt.exitCode {
				t.Errorf("exit-code output %q, want %q", outputs["exit-code"], tt.exitCode)
			}
			for _, s := range secrets {
				if strings.Contains(string(out), s) {
					t.Errorf("raw secret in the step's log")
				}
			}
		})
	}
}

// exitStatus runs cmd and returns its exit code and combined output.
func exitStatus(t *testing.T, cmd *exec.Cmd) (int, []byte) {
	t.Helper()
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.ExitCode(), out
	case err != nil:
		t.Fatal(err)
	}
	return 0, out
}

// TestFailStep runs the last step's script: the job ends with the recorded code, and with 2
// when the scan step recorded none.
func TestFailStep(t *testing.T) {
	meta, _ := readActionYML(t)
	script := meta.Runs.Steps[len(meta.Runs.Steps)-1].Run
	for _, tt := range []struct {
		exitCode string
		want     int
	}{{"0", 0}, {"1", 1}, {"2", 2}, {"", 2}, {"7", 2}} {
		cmd := exec.Command("bash", "-e", "-c", script)
		cmd.Env = append(os.Environ(), "EXIT_CODE="+tt.exitCode)
		code, out := exitStatus(t, cmd)
		if code != tt.want {
			t.Errorf("EXIT_CODE=%q: the step exits %d, want %d\n%s", tt.exitCode, code, tt.want, out)
		}
	}
}

// compositeAsWorkflow writes, in a new project directory, a reusable workflow with the inputs
// of the action.yml text and its steps as the one job's steps, and returns the directory.
func compositeAsWorkflow(t *testing.T, actionYML string) string {
	t.Helper()
	var meta struct {
		Inputs map[string]struct {
			Default string `yaml:"default"`
		} `yaml:"inputs"`
		Runs struct {
			Steps []any `yaml:"steps"`
		} `yaml:"runs"`
	}
	if err := yaml.Unmarshal([]byte(actionYML), &meta); err != nil {
		t.Fatalf("parsing action.yml: %v", err)
	}
	inputs := map[string]any{}
	for name, in := range meta.Inputs {
		inputs[name] = map[string]any{"type": "string", "required": false, "default": in.Default}
	}
	wf, err := yaml.Marshal(map[string]any{
		"name": "composite",
		"on":   map[string]any{"workflow_call": map[string]any{"inputs": inputs}},
		"jobs": map[string]any{"steps": map[string]any{"runs-on": "ubuntu-latest", "steps": meta.Runs.Steps}},
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, ".github", "workflows", "composite.yml"), string(wf))
	return dir
}

// pinnedUses is a third-party action pinned to a commit, with its release in a comment:
// "actions/setup-go@<40 hex> # v5.5.0". Group 1 is the action, 2 the commit, 3 the major.
var pinnedUses = regexp.MustCompile(`^([\w.-]+/[\w./-]+)@([0-9a-f]{40}) # v(\d+)\.\d+\.\d+$`)

var usesLine = regexp.MustCompile(`(?m)^(\s*(?:- )?uses: )(\S+)(?: # (v\d+(?:\.\d+)*))?.*$`)

// usesComments maps each uses: value in a workflow or action text to the release its trailing
// comment names ("v5.5.0"), or "".
func usesComments(text string) map[string]string {
	out := map[string]string{}
	for _, m := range usesLine.FindAllStringSubmatch(text, -1) {
		out[m[2]] = m[3]
	}
	return out
}

// majorRefs rewrites every pinned uses: in text to the release's major version tag.
func majorRefs(text string) string {
	return usesLine.ReplaceAllStringFunc(text, func(line string) string {
		m := usesLine.FindStringSubmatch(line)
		p := pinnedUses.FindStringSubmatch(m[2] + " # " + m[3])
		if p == nil {
			return line
		}
		return m[1] + p[1] + "@v" + p[3]
	})
}

// Every third-party action the Action, its own workflow and the docs' examples run is pinned to
// a commit, with the release in a trailing comment (a tag can be moved; a commit cannot).
func TestActionsPinned(t *testing.T) {
	files := []string{filepath.Join("..", "action.yml")}
	for _, glob := range []string{"../.github/workflows/*.yml", "../docs/examples/*.yml"} {
		m, err := filepath.Glob(glob)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	for _, f := range files {
		n := 0
		for _, m := range usesLine.FindAllStringSubmatch(readFile(t, f), -1) {
			if strings.HasPrefix(m[2], "./") {
				continue // this repository's own action
			}
			n++
			if pinnedUses.FindStringSubmatch(m[2]+" # "+m[3]) == nil {
				t.Errorf("%s: uses: %s # %s is not pinned as OWNER/REPO@<commit> # vX.Y.Z", f, m[2], m[3])
			}
		}
		if n == 0 && strings.HasSuffix(f, "action.yml") {
			t.Errorf("%s: no third-party uses: found; the check would pass vacuously", f)
		}
	}
	if got := majorRefs("      uses: actions/setup-go@" + strings.Repeat("ab", 20) + " # v5.5.0\n"); got != "      uses: actions/setup-go@v5\n" {
		t.Errorf("majorRefs = %q", got)
	}
}
