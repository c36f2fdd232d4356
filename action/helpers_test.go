package action

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/keywarden/keywarden/report/sariftest"
	"github.com/keywarden/keywarden/scanner/gittest"
)

// keywardenBin is the real CLI and actionBin the action's program, built once by TestMain.
var keywardenBin, actionBin string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "keywarden-action-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "creating temp dir:", err)
		return 2
	}
	defer os.RemoveAll(dir)
	keywardenBin, actionBin = filepath.Join(dir, "keywarden"), filepath.Join(dir, "keywarden-action")
	cmd := exec.Command("go", "build", "-o", dir+string(filepath.Separator),
		"github.com/keywarden/keywarden/cmd/keywarden", "github.com/keywarden/keywarden/action/cmd/keywarden-action")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building keywarden:", err)
		return 2
	}
	return m.Run()
}

// testConfig adds rules of every severity to the defaults (severity follows from the rule ID:
// "private-key" is critical, "generic" medium, a path-only rule low; github-pat is high).
const testConfig = `
[extend]
useDefault = true

[[rules]]
id = "kwtest-private-key"
description = "Test private key"
regex = '''kwpk_[a-z0-9]{24}'''
keywords = ["kwpk_"]

[[rules]]
id = "kwtest-generic"
description = "Test generic secret"
regex = '''kwgen_[a-z0-9]{24}'''
keywords = ["kwgen_"]

[[rules]]
id = "kwtest-file"
description = "Test credential file"
path = '''\.kwlow$'''
`

// Secrets of each severity, built at run time so that no source line holds one.
func highSecret(seed int) string { return gittest.FakeToken(seed) }

func criticalSecret(seed int) string {
	return "kwpk" + "_" + strings.ToLower(gittest.FakeToken(seed)[4:28])
}

func mediumSecret(seed int) string {
	return "kwgen" + "_" + strings.ToLower(gittest.FakeToken(seed)[4:28])
}

// ghEnv is a fake GitHub Actions environment for one run of the action.
type ghEnv struct {
	t       *testing.T
	vars    map[string]string
	secrets []string // raw values that must never appear in any output
}

// newEnv prepares an environment for event name with payload, the workspace at workspace.
func newEnv(t *testing.T, name string, payload any, workspace string) *ghEnv {
	t.Helper()
	dir := t.TempDir()
	eventPath := filepath.Join(dir, "event.json")
	data, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, eventPath, string(data))
	config := filepath.Join(dir, "keywarden.toml")
	writeFile(t, config, testConfig)
	runnerTemp := filepath.Join(dir, "runner-temp")
	if err := os.Mkdir(runnerTemp, 0o700); err != nil {
		t.Fatal(err)
	}
	e := &ghEnv{t: t, vars: map[string]string{
		"GITHUB_ACTIONS":      "true",
		"GITHUB_EVENT_NAME":   name,
		"GITHUB_EVENT_PATH":   eventPath,
		"GITHUB_WORKSPACE":    workspace,
		"GITHUB_OUTPUT":       filepath.Join(dir, "output"),
		"GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary.md"),
		"RUNNER_TEMP":         runnerTemp,
		"KEYWARDEN_BIN":       keywardenBin,
		"INPUT_CONFIG":        config,
	}}
	// The runner creates both files empty before the step.
	writeFile(t, e.vars["GITHUB_OUTPUT"], "")
	writeFile(t, e.vars["GITHUB_STEP_SUMMARY"], "")
	return e
}

func (e *ghEnv) set(k, v string) *ghEnv { e.vars[k] = v; return e }

// result is what one run of the action produced.
type result struct {
	code           int
	stdout, stderr string
	outputs        map[string]string
	summary        string
	sarif          []byte // nil when no SARIF was written
	report         []byte // keywarden's JSON report, nil when none
}

// annotations returns the ::error and ::warning lines.
func (r result) annotations() []string {
	var out []string
	for _, l := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(l, "::error ") || strings.HasPrefix(l, "::warning ") {
			out = append(out, l)
		}
	}
	return out
}

func (e *ghEnv) run() result {
	e.t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), func(k string) string { return e.vars[k] }, &out, &errb)
	r := result{code: code, stdout: out.String(), stderr: errb.String(), summary: readFile(e.t, e.vars["GITHUB_STEP_SUMMARY"])}
	r.outputs = parseOutputs(e.t, readFile(e.t, e.vars["GITHUB_OUTPUT"]))
	if p := r.outputs["sarif-path"]; p != "" {
		r.sarif = []byte(readFile(e.t, p))
		checkMode(e.t, p)
		jsonPath := filepath.Join(filepath.Dir(p), "keywarden.json")
		r.report = []byte(readFile(e.t, jsonPath))
		checkMode(e.t, jsonPath)
	}
	e.checkNoSecrets(r)
	if e.t.Failed() {
		e.t.Logf("stdout:\n%s\nstderr:\n%s\nsummary:\n%s", r.stdout, r.stderr, r.summary)
	}
	return r
}

// checkNoSecrets fails the test if a raw secret appears anywhere the action writes.
func (e *ghEnv) checkNoSecrets(r result) {
	e.t.Helper()
	for _, s := range e.secrets {
		for name, text := range map[string]string{
			"stdout": r.stdout, "stderr": r.stderr, "summary": r.summary,
			"outputs": fmt.Sprint(r.outputs), "SARIF": string(r.sarif), "report": string(r.report),
		} {
			if strings.Contains(text, s) {
				e.t.Errorf("raw secret %s… appears in %s", s[:4], name)
			}
		}
	}
}

func checkMode(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", filepath.Base(path), fi.Mode().Perm())
	}
}

var outputStart = regexp.MustCompile(`^([A-Za-z0-9_-]+)<<(.+)$`)

// parseOutputs reads a $GITHUB_OUTPUT file as the runner does, and fails on anything else.
func parseOutputs(t *testing.T, s string) map[string]string {
	t.Helper()
	out := map[string]string{}
	lines := strings.Split(s, "\n")
	for i := 0; i < len(lines); i++ {
		if lines[i] == "" && i == len(lines)-1 {
			break
		}
		m := outputStart.FindStringSubmatch(lines[i])
		if m == nil {
			t.Fatalf("output line %d is not name<<delimiter: %q", i+1, lines[i])
		}
		var value []string
		j := i + 1
		for ; j < len(lines) && lines[j] != m[2]; j++ {
			value = append(value, lines[j])
		}
		if j == len(lines) {
			t.Fatalf("output %s: no closing delimiter", m[1])
		}
		if _, dup := out[m[1]]; dup {
			t.Errorf("output %s written twice", m[1])
		}
		out[m[1]] = strings.Join(value, "\n")
		i = j
	}
	return out
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// gitCmd runs git in dir and returns its trimmed output.
func gitCmd(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// checkout makes a workspace the way actions/checkout does: a new repository with origin,
// then either every branch and tag in full (depth 0) or only commit sha at ref, one commit
// deep (depth 1, the default), and a detached checkout of sha.
func checkout(t *testing.T, origin *gittest.Repo, sha, ref string, depth int) string {
	t.Helper()
	ws := filepath.Join(t.TempDir(), "ws")
	gitCmd(t, filepath.Dir(ws), "init", "-q", ws)
	gitCmd(t, ws, "remote", "add", "origin", "file://"+origin.Path())
	if depth == 0 {
		gitCmd(t, ws, "fetch", "-q", "--prune", "origin", "+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*")
		if !strings.HasPrefix(ref, "refs/remotes/origin/") {
			gitCmd(t, ws, "fetch", "-q", "--no-tags", "origin", "+"+sha+":"+ref)
		}
	} else {
		gitCmd(t, ws, "fetch", "-q", "--no-tags", fmt.Sprintf("--depth=%d", depth), "origin", "+"+sha+":"+ref)
	}
	gitCmd(t, ws, "checkout", "-q", "--detach", sha)
	return ws
}

// setRef points ref (a full ref name) at commit in repo.
func setRef(t *testing.T, r *gittest.Repo, ref, commit string) {
	t.Helper()
	err := r.Repository().Storer.SetReference(plumbing.NewHashReference(plumbing.ReferenceName(ref), plumbing.NewHash(commit)))
	if err != nil {
		t.Fatal(err)
	}
}

// validateSARIF checks out against the OASIS SARIF 2.1.0 schema.
func validateSARIF(t *testing.T, out []byte) error {
	t.Helper()
	return sariftest.Validate(t, out)
}

// sarifResults returns "ruleId@uri:line" for each result of a SARIF log.
func sarifResults(t *testing.T, out []byte) []string {
	t.Helper()
	var log struct {
		Runs []struct {
			Results []struct {
				RuleID    string `json:"ruleId"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct {
							URI string `json:"uri"`
						} `json:"artifactLocation"`
						Region struct {
							StartLine int `json:"startLine"`
						} `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(out, &log); err != nil {
		t.Fatalf("decoding SARIF: %v", err)
	}
	var got []string
	for _, run := range log.Runs {
		for _, r := range run.Results {
			s := r.RuleID
			if len(r.Locations) > 0 {
				pl := r.Locations[0].PhysicalLocation
				s += fmt.Sprintf("@%s:%d", pl.ArtifactLocation.URI, pl.Region.StartLine)
			}
			got = append(got, s)
		}
	}
	return got
}

// findings returns "rule@path:line@commit" for each finding's first location in the report.
func findings(t *testing.T, report []byte) []string {
	t.Helper()
	var rep struct {
		Findings []struct {
			RuleID    string `json:"rule_id"`
			Locations []struct {
				Path   string `json:"path"`
				Line   int    `json:"line"`
				Commit string `json:"commit"`
			} `json:"locations"`
		} `json:"findings"`
	}
	if err := json.Unmarshal(report, &rep); err != nil {
		t.Fatalf("decoding report: %v", err)
	}
	var got []string
	for _, f := range rep.Findings {
		l := f.Locations[0]
		got = append(got, fmt.Sprintf("%s@%s:%d@%s", f.RuleID, l.Path, l.Line, short(l.Commit)))
	}
	return got
}
