package action

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/keywarden/keywarden/report"
	"github.com/keywarden/keywarden/scanner"
)

// Exit codes of the action, the CLI's: 0 clean, 1 findings at or above fail-on, 2 error.
const (
	exitClean    = 0
	exitFindings = 1
	exitError    = 2
)

// maxAnnotations caps the annotations one run prints; GitHub shows no more than 50 a job.
const maxAnnotations = 50

// failNever is the fail-on value that never fails the job for findings (errors still do).
const failNever = "never"

// severities are the severities fail-on accepts, most severe first.
var severities = []string{"critical", "high", "medium", "low", "info"}

// inputSpec is one input of action.yml: action.yml passes it to the program in the
// environment variable inputEnv(name), and def is its default in both places.
type inputSpec struct{ name, def string }

// inputSpecs lists the action's inputs; a test checks action.yml and the docs against it.
var inputSpecs = []inputSpec{
	{"path", "."},
	{"scan", "git"},
	{"image", ""},
	{"config", ""},
	{"baseline", ""},
	{"fail-on", "low"},
	{"upload-sarif", "true"},
	{"args", ""},
}

// inputEnv names the environment variable an input reaches the program in. Composite actions
// do not set INPUT_* themselves, so action.yml does, with "-" turned into "_" for the shell.
func inputEnv(name string) string {
	return "INPUT_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// inputs are the action's validated inputs.
type inputs struct {
	path, scan, image, config, baseline, failOn string
	upload                                      bool
	args                                        []string
}

func readInputs(getenv func(string) string) (inputs, error) {
	get := func(name string) string {
		for _, s := range inputSpecs {
			if s.name == name {
				if v := strings.TrimSpace(getenv(inputEnv(name))); v != "" {
					return v
				}
				return s.def
			}
		}
		panic("unknown input " + name)
	}
	in := inputs{
		path:     get("path"),
		scan:     strings.ToLower(get("scan")),
		image:    get("image"),
		config:   get("config"),
		baseline: get("baseline"),
		failOn:   strings.ToLower(get("fail-on")),
	}
	switch in.scan {
	case "git", "dir", "image":
	default:
		return in, fmt.Errorf("reading input scan: %q is not git, dir or image", in.scan)
	}
	if in.failOn != failNever && severityRank(in.failOn) == len(severities) {
		return in, fmt.Errorf("reading input fail-on: %q is not critical, high, medium, low or never", in.failOn)
	}
	switch u := strings.ToLower(get("upload-sarif")); u {
	case "true":
		in.upload = true
	case "false":
	default:
		return in, fmt.Errorf("reading input upload-sarif: %q is not true or false", u)
	}
	if in.scan == "image" && in.image == "" {
		return in, errors.New("reading input image: scan is image but no image is given")
	}
	if strings.HasPrefix(in.image, "-") {
		return in, fmt.Errorf("reading input image: %q is not an image reference", in.image)
	}
	args, err := splitArgs(getenv(inputEnv("args")))
	if err != nil {
		return in, fmt.Errorf("reading input args: %w", err)
	}
	in.args = args
	return in, nil
}

// severityRank orders severities: 0 for critical up to 3 for low, and len(severities) for
// anything else.
func severityRank(s string) int {
	for i, v := range severities {
		if v == s {
			return i
		}
	}
	return len(severities)
}

// findingRank is severityRank with an unknown severity treated as medium, as the SARIF
// writer does, so that a severity added later neither escapes fail-on nor always fails.
func findingRank(s string) int {
	if r := severityRank(s); r < len(severities) {
		return r
	}
	return severityRank("medium")
}

// Run runs the action: it reads the inputs and the workflow event from getenv, scans, and
// writes annotations to stdout and the summary and step outputs to the files
// $GITHUB_STEP_SUMMARY and $GITHUB_OUTPUT name. It returns the exit code the job should end
// with: 0 clean, 1 findings at or above fail-on, 2 error. The keywarden binary is
// $KEYWARDEN_BIN, or keywarden on PATH.
func Run(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) int {
	o := &outcome{}
	o.err = scan(ctx, getenv, stdout, o)
	o.code = o.exitCode()
	if err := finish(getenv, stdout, o); err != nil {
		fmt.Fprintf(stderr, "keywarden-action: %v\n", err)
		return exitError
	}
	return o.code
}

// outcome is everything a run learned, for the annotations, summary and outputs.
type outcome struct {
	in        inputs
	plan      scanPlan
	rep       *report.JSONReport // nil if keywarden wrote no report
	exposure  []string           // per finding of rep: its exposure, "" if absent; nil if no finding has one
	notices   []string
	err       error
	sarifPath string
	checkout  string // the repository's root: report paths are made relative to it
	prefix    string // slash-separated path of the scan root inside checkout, "" for the root itself
	code      int
}

func (o *outcome) exitCode() int {
	switch {
	case o.err != nil:
		return exitError
	case len(o.gating()) > 0:
		return exitFindings
	}
	return exitClean
}

// gating returns the indexes of the findings at or above fail-on.
func (o *outcome) gating() []int {
	if o.rep == nil || o.in.failOn == failNever {
		return nil
	}
	var idx []int
	for i, f := range o.rep.Findings {
		if findingRank(f.Severity) <= severityRank(o.in.failOn) {
			idx = append(idx, i)
		}
	}
	return idx
}

// scan plans and runs the scan and writes the SARIF file, filling in o.
func scan(ctx context.Context, getenv func(string) string, stdout io.Writer, o *outcome) error {
	in, err := readInputs(getenv)
	o.in = in
	if err != nil {
		return err
	}
	workspace := getenv("GITHUB_WORKSPACE")
	if workspace == "" {
		if workspace, err = os.Getwd(); err != nil {
			return fmt.Errorf("finding the workspace: %w", err)
		}
	}
	target := in.path
	if !filepath.IsAbs(target) {
		target = filepath.Join(workspace, target)
	}
	o.checkout = workspace

	// Git and keywarden print what the repository holds (ref names, paths): no workflow
	// command of theirs may reach the runner.
	defer stopCommands(stdout)()
	notice := func(s string) {
		o.notices = append(o.notices, s)
		fmt.Fprintln(stdout, "keywarden-action: "+s)
	}

	g := git{dir: target, log: stdout}
	if in.scan != "image" {
		// Report paths must be relative to the repository root for code scanning and
		// annotations; a directory outside any repository is taken as the workspace's.
		if top, err := g.topLevel(ctx); err == nil {
			o.checkout = top
		}
	}
	switch in.scan {
	case "git":
		ev, err := readEvent(getenv("GITHUB_EVENT_PATH"))
		if err != nil {
			return err
		}
		if o.plan, err = planGit(ctx, g, getenv("GITHUB_EVENT_NAME"), ev, in.path, notice); err != nil {
			return err
		}
	case "dir":
		// git prints the top level with symlinks resolved.
		real := target
		if r, err := filepath.EvalSymlinks(target); err == nil {
			real = r
		}
		if rel, err := filepath.Rel(o.checkout, real); err == nil && rel != "." && !strings.HasPrefix(rel, "..") {
			o.prefix = filepath.ToSlash(rel)
		}
		o.plan = scanPlan{args: []string{"scan", "dir", operand(in.path)}, scope: "the files in " + mdCode(in.path), category: categoryDir}
	case "image":
		o.plan = scanPlan{args: []string{"scan", "image", in.image}, scope: "image " + mdCode(in.image), category: categoryImage}
	}
	if o.plan.skip != "" {
		return nil
	}

	base := getenv("RUNNER_TEMP")
	if base == "" {
		base = os.TempDir()
	}
	dir, err := os.MkdirTemp(base, "keywarden-")
	if err != nil {
		return fmt.Errorf("creating report directory: %w", err)
	}
	jsonPath := filepath.Join(dir, "keywarden.json")
	args := append(append([]string{}, o.plan.args...), in.args...)
	if in.config != "" {
		args = append(args, "--config="+in.config)
	}
	if in.baseline != "" {
		args = append(args, "--baseline="+in.baseline)
	}
	// Last, so that nothing in the args input can change them: pflag keeps a flag's last value.
	args = append(args, "--format", "json", "--output", jsonPath, "--show-secrets=false",
		"--exit-code", "1", "--no-color", "--no-progress")

	bin := getenv("KEYWARDEN_BIN")
	if bin == "" {
		bin = "keywarden"
	}
	cliCode, tail, err := runCLI(ctx, bin, args, workspace, stdout)
	if err != nil {
		return err
	}
	rep, exposure, readErr := readReport(jsonPath)
	o.rep, o.exposure = rep, exposure
	switch {
	case cliCode != exitClean && cliCode != exitFindings:
		if tail == "" {
			tail = fmt.Sprintf("keywarden exited with code %d", cliCode)
		}
		return errors.New(tail)
	case errors.Is(readErr, fs.ErrNotExist):
		return fmt.Errorf("running keywarden: it exited with code %d and wrote no report", cliCode)
	case readErr != nil:
		return readErr
	}

	// An incomplete scan (the error cases above) writes no SARIF: uploaded, it would close
	// the alerts of whatever it could not read.
	o.sarifPath = filepath.Join(dir, "keywarden.sarif")
	return writeSARIF(o.sarifPath, rep, o.checkout, o.prefix)
}

// operand keeps a path from passing as an option: "-x" becomes "./-x".
func operand(p string) string {
	if strings.HasPrefix(p, "-") {
		return "./" + p
	}
	return p
}

// runCLI runs keywarden in dir with its output in the log, and returns its exit code and its
// last error line ("keywarden: ..."), if any.
func runCLI(ctx context.Context, bin string, args []string, dir string, log io.Writer) (int, string, error) {
	fmt.Fprintf(log, "keywarden-action: running keywarden %s\n", strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	var errb bytes.Buffer
	lw := &lockedWriter{w: log}
	cmd.Stdout = lw
	cmd.Stderr = io.MultiWriter(lw, &errb)
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee) && ee.ExitCode() >= 0:
		return ee.ExitCode(), errorLine(errb.String()), nil
	case err != nil:
		return 0, "", fmt.Errorf("running keywarden %q: %w", bin, err)
	}
	return 0, errorLine(errb.String()), nil
}

// lockedWriter serialises writes from a child's stdout and stderr copiers.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// errorLine returns the last line of keywarden's stderr that reports an error, not a warning.
func errorLine(stderr string) string {
	lines := strings.Split(stderr, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if strings.HasPrefix(l, "keywarden: ") && !strings.HasPrefix(l, "keywarden: warning:") {
			return l
		}
	}
	return ""
}

// readReport reads keywarden's JSON report, and the exposure status of each finding (nil when
// no inventory was checked).
func readReport(path string) (*report.JSONReport, []string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, err
		}
		return nil, nil, fmt.Errorf("reading report: %w", err)
	}
	rep, err := report.ReadJSON(bytes.NewReader(data))
	if err != nil {
		return nil, nil, fmt.Errorf("reading report: %w", err)
	}
	for i := range rep.Findings {
		// Reports written with --show-secrets hold raw values; the action never passes it, and
		// redacting again here keeps that true whatever wrote the file.
		rep.Findings[i].Secret = redacted(rep.Findings[i].Secret)
	}
	var exposure []string
	for i, f := range rep.Findings {
		if f.Exposure == nil {
			continue
		}
		if exposure == nil {
			exposure = make([]string, len(rep.Findings))
		}
		exposure[i] = cmp.Or(f.Exposure.Status, "unrecognised")
	}
	return rep, exposure, nil
}

// redacted returns s if it is already a redacted secret, else its redaction.
func redacted(s string) string {
	if strings.HasSuffix(s, "…") && len([]rune(s)) <= 5 {
		return s
	}
	return scanner.Redact(s)
}

// writeSARIF writes rep as SARIF with mode 0600, paths made relative to the repository root.
func writeSARIF(path string, rep *report.JSONReport, root, prefix string) error {
	res := &report.Result{
		Tool:    report.Tool{Name: rep.Tool.Name, Version: rep.Tool.Version, InformationURI: rep.Tool.InformationURI},
		Source:  rep.Scan.Source,
		Target:  rep.Scan.Target,
		Root:    root,
		Started: rep.Scan.Started,
		Stats: scanner.Stats{
			Blobs: rep.Stats.Blobs, Bytes: rep.Stats.Bytes, ScannedBytes: rep.Stats.ScannedBytes,
			Skipped: rep.Stats.Skipped, Commits: rep.Stats.Commits,
			Duration: time.Duration(rep.Stats.DurationMS) * time.Millisecond,
		},
		// Secret below holds the report's redacted value, which must be printed as it is:
		// redacting a redaction would shorten it further.
		ShowSecrets: true,
	}
	for _, s := range rep.Skipped {
		res.Skipped = append(res.Skipped, scanner.SkippedBlob{Path: s.Path, Reason: s.Reason, Size: s.Size})
	}
	for _, f := range rep.Findings {
		sf := scanner.Finding{
			RuleID: f.RuleID, Description: f.Description, Severity: f.Severity,
			Secret: f.Secret, Fingerprint: f.Fingerprint, Entropy: f.Entropy, Tags: f.Tags,
			Key: f.Key, Weaknesses: f.Weaknesses, Strength: f.Strength, Exposure: f.Exposure,
		}
		for _, l := range f.Locations {
			sf.Locations = append(sf.Locations, scanner.Location{
				Source: l.Source, Path: repoPath(prefix, l), Line: l.Line, Column: l.Column,
				EndLine: l.EndLine, EndColumn: l.EndColumn, Commit: l.Commit, Author: l.Author,
				Email: l.Email, Date: l.Date, Message: l.Message,
				Image: l.Image, ImageDigest: l.ImageDigest, Layer: l.Layer, LayerDigest: l.LayerDigest,
				RemovedInLayer: l.RemovedInLayer, Note: l.Note,
			})
		}
		res.Findings = append(res.Findings, sf)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("writing SARIF: %w", err)
	}
	if err := (report.SARIF{}).Write(f, res); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing SARIF %q: %w", path, err)
	}
	return nil
}

// repoPath returns a location's path relative to the repository root: dir scans report
// paths relative to the scanned directory.
func repoPath(prefix string, l report.JSONLocation) string {
	if prefix == "" || l.Source != "dir" || strings.HasPrefix(l.Path, "/") {
		return l.Path
	}
	return prefix + "/" + l.Path
}
