package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/keywarden/keywarden/hsmcheck"
	"github.com/keywarden/keywarden/report"
	"github.com/keywarden/keywarden/rules"
	"github.com/keywarden/keywarden/rules/keyfind"
	"github.com/keywarden/keywarden/scanner"
)

type scanFlags struct {
	binary         bool     // look for keys in binary files too
	dumps          []string // the files of scan dump
	aesBitErrors   int
	primeBudget    int
	config         string
	format         string
	output         string
	quiet          bool
	showSecrets    bool
	exitCode       int
	baseline       string
	maxFileSize    string
	maxDecodeDepth int
	workers        int
	noColor        bool
	noProgress     bool
	wholeBlobs     bool
	placeholders   bool
	cpuProfile     string

	rangeSpec string
	not       []string
	prePush   bool

	platform        string
	insecure        bool
	maxArchiveDepth int
	gitReader       string
	branch          string
	since           string

	inv        inventoryFlags
	rotateLive bool
	rotate     rotateFlags
	audit      auditFlags
}

func newScanCmd() *cobra.Command {
	f := &scanFlags{}
	scan := &cobra.Command{
		Use:   "scan",
		Short: "Scan a source for secrets",
		Args:  cobra.ArbitraryArgs,
		// Without this, cobra answers an unknown source with help and exit 0, which a CI job
		// would take for a clean scan.
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return c.Help()
			}
			return &exitCodeError{code: exitError, err: fmt.Errorf("unknown source %q for \"keywarden scan\" (want git, staged, dir, image or dump)", args[0])}
		},
	}
	pf := scan.PersistentFlags()
	pf.StringVarP(&f.config, "config", "c", "", "gitleaks-format TOML config (default: .keywarden.toml or .gitleaks.toml at the scan root, else built-in rules)")
	pf.StringVarP(&f.format, "format", "f", "text", "report format: "+strings.Join(report.Formats, ", "))
	pf.StringVarP(&f.output, "output", "o", "", "write the report to this file (mode 0600) instead of stdout")
	pf.BoolVarP(&f.quiet, "quiet", "q", false, "no progress, warnings or summary on stderr")
	pf.BoolVar(&f.showSecrets, "show-secrets", false, "print raw secret values in reports (default: redacted)")
	pf.IntVar(&f.exitCode, "exit-code", exitFindings, "exit code when there are findings")
	pf.StringVar(&f.baseline, "baseline", "", "suppress findings present in this earlier report (keywarden or gitleaks JSON)")
	pf.StringVar(&f.maxFileSize, "max-file-size", "10MiB", "skip (and report) files and blobs larger than this; 0 for no limit")
	pf.IntVar(&f.maxDecodeDepth, "max-decode-depth", 5, "decode base64/hex/percent-encoded text up to this depth; 0 disables decoding")
	pf.IntVarP(&f.workers, "jobs", "j", 0, "detection workers (default: number of CPUs)")
	pf.BoolVar(&f.noColor, "no-color", false, "deprecated: use --color=never")
	_ = pf.MarkHidden("no-color") // kept for scripts and older action versions; useColor reads it
	pf.BoolVar(&f.noProgress, "no-progress", false, "no progress bar on stderr")
	pf.BoolVar(&f.placeholders, "include-placeholders", false, "keep findings whose value is a placeholder (EXAMPLE, changeme, ${VAR}, xxxx), dropped by default")
	pf.BoolVar(&f.wholeBlobs, "whole-blobs", false, "scan every blob in full instead of only new lines (slower; for checking)")
	_ = pf.MarkHidden("whole-blobs")
	pf.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile (for benchmarking)")
	_ = pf.MarkHidden("cpuprofile")
	f.inv.register(pf)
	pf.BoolVar(&f.rotateLive, "rotate-live", false, "plan the rotation of every key found live in an inventory; with --apply, rotate them")
	f.rotate.register(pf)
	f.audit.register(pf, false)

	git := &cobra.Command{
		Use:   "git [PATH|URL]",
		Short: "Scan the full history of every ref of a repository (or a range of it)",
		Long: "Scans every unique blob reachable from any ref once, and attributes each finding to the commit\n" +
			"that introduced it. A URL (https://, file://, ssh://) is cloned bare into a temporary directory.",
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			target := "."
			if len(args) == 1 {
				target = args[0]
			}
			return runScan(c, f, "git", target)
		},
	}
	git.Flags().StringVar(&f.rangeSpec, "range", "", "scan only commits in A..B")
	git.Flags().StringVar(&f.branch, "branch", "", "scan only history reachable from this ref")
	git.Flags().StringArrayVar(&f.not, "not", nil, "leave out history reachable from this revision (repeatable)")
	git.Flags().BoolVar(&f.prePush, "pre-push", false, "scan the commits a push sends, read as git's pre-push hook input from stdin")
	git.Flags().StringVar(&f.gitReader, "git-reader", "auto", "how blobs are read: auto (git cat-file when git is on PATH, else go-git), go-git, or git")
	git.Flags().StringVar(&f.since, "since", "", "scan only commits since this date (2006-01-02, RFC 3339, or a duration such as 720h or 30d)")

	dir := &cobra.Command{
		Use:   "dir PATH",
		Short: "Scan files on disk",
		Long:  "Scans files under PATH, skipping .git/, binary files and files over --max-file-size.",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return runScan(c, f, "dir", args[0])
		},
	}
	staged := &cobra.Command{
		Use:   "staged [PATH]",
		Short: "Scan what the index adds relative to HEAD (for pre-commit hooks)",
		Long: "Scans the staged content of added, modified and renamed files, as it will be committed\n" +
			"(a partly staged file is scanned as staged), and reports only what the change brings:\n" +
			"secrets already in HEAD's version of a file are not reported again.",
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			target := "."
			if len(args) == 1 {
				target = args[0]
			}
			return runScan(c, f, "staged", target)
		},
	}
	image := &cobra.Command{
		Use:   "image REF",
		Short: "Scan every layer of a container image, deleted files included, and its config",
		Long: "REF is a registry reference (registry.example:5000/app:1.2, host/app@sha256:…), a docker save\n" +
			"archive (docker-archive:FILE.tar) or an OCI layout (oci:DIR, oci:DIR:TAG, oci:DIR@sha256:…).\n" +
			"Layers are streamed, never extracted. Files a later layer deletes are still reported: anyone\n" +
			"who pulls the image can extract them. Archives in layers (jar, war, zip, tar, tar.gz, gz) are\n" +
			"opened. The config's Env, Cmd, Entrypoint, Labels and history are scanned too. Registry\n" +
			"credentials come from the docker config (docker login); loopback registries use plain HTTP.",
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return runScan(c, f, "image", args[0])
		},
	}
	image.Flags().StringVar(&f.platform, "platform", "all", "from a multi-platform image, scan only os/arch[/variant] (default: every platform)")
	image.Flags().BoolVar(&f.insecure, "insecure", false, "allow plain HTTP to a registry that is not on a loopback address")
	image.Flags().IntVar(&f.maxArchiveDepth, "max-archive-depth", 3, "open archives inside archives this deep (0: do not open archives)")
	dump := &cobra.Command{
		Use:   "dump FILE...",
		Short: "Find key material in crash dumps, core files, minidumps and memory images",
		Long: "Reads ELF core files (gcore, systemd-coredump, kdump's ELF vmcore) by their memory segments,\n" +
			"Windows minidumps by their memory lists, and any other file (a raw memory image, a binary) as\n" +
			"raw bytes. It finds DER private keys (PKCS#1, PKCS#8, SEC1), PEM, OpenSSH, PuTTY and JWK key\n" +
			"text (also as UTF-16LE), expanded AES key schedules, and RSA private keys rebuilt from a prime\n" +
			"that divides a modulus seen in the same scan. Every key is confirmed from its own numbers\n" +
			"before it is reported, with the file offset and, for cores and minidumps, the virtual\n" +
			"address. With an inventory, a key that is still active there is a live exposure.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			f.dumps = args
			target := args[0]
			if len(args) > 1 {
				target = fmt.Sprintf("%s and %d more", args[0], len(args)-1)
			}
			return runScan(c, f, "dump", target)
		},
	}
	dump.Flags().IntVar(&f.aesBitErrors, "aes-bit-errors", 0, "accept AES key schedules with up to this many flipped bits (decayed memory of a cold-boot image)")
	dump.Flags().IntVar(&f.primeBudget, "prime-budget", 0, "divisibility tests the RSA prime search may make (default 1048576, a few seconds at most; -1 turns it off)")
	for _, sc := range []*cobra.Command{git, dir, image} {
		sc.Flags().BoolVar(&f.binary, "binary", false, "also look for keys in binary files (DER keys, key text, AES key schedules), which are skipped otherwise")
	}
	scan.AddCommand(git, staged, dir, image, dump)
	return scan
}

func runScan(c *cobra.Command, f *scanFlags, kind, target string) error {
	ctx := c.Context()
	stderr := c.ErrOrStderr()
	fail := func(err error) error { return &exitCodeError{code: exitError, err: err} }

	// A hook prints a terse report unless asked for another format.
	format := f.format
	if (kind == "staged" || f.prePush) && !c.Flags().Changed("format") {
		format = "brief"
	}
	w, err := report.ByName(format)
	if err != nil {
		return fail(err)
	}
	if (f.rotate.apply || c.Flags().Changed("reason")) && !f.rotateLive {
		return fail(errors.New("--apply and --reason rotate keys only with --rotate-live"))
	}
	reason, err := hsmcheck.ParseReason(f.rotate.reason)
	if err != nil {
		return fail(err)
	}
	if f.exitCode < 0 || f.exitCode > 255 {
		return fail(fmt.Errorf("invalid --exit-code %d (want 0 to 255)", f.exitCode))
	}
	// Open the report file before scanning, so a bad --output fails in a second, not after a
	// full-history scan; it is renamed into place only once the report is complete.
	var rf *reportFile
	if f.output != "" && f.output != "-" {
		if rf, err = createReportFile(f.output); err != nil {
			return fail(err)
		}
		defer rf.discard()
	}
	maxSize, err := parseSize(f.maxFileSize)
	if err != nil {
		return fail(fmt.Errorf("parsing --max-file-size: %w", err))
	}
	opts := scanner.ScanOptions{
		Kind:                kind,
		Target:              target,
		ConfigPath:          f.config,
		MaxFileSize:         maxSize,
		Workers:             f.workers,
		MaxDecodeDepth:      f.maxDecodeDepth,
		WholeBlobs:          f.wholeBlobs,
		IncludePlaceholders: f.placeholders,
		Git:                 scanner.GitOptions{Range: f.rangeSpec, Branch: f.branch, Not: f.not},
		Binary:              f.binary,
		Dumps:               f.dumps,
		KeyFind:             keyfind.Options{AESBitErrors: f.aesBitErrors, PrimeBudget: f.primeBudget, Workers: f.workers},
	}
	if f.aesBitErrors < 0 || f.aesBitErrors > 64 {
		return fail(fmt.Errorf("invalid --aes-bit-errors %d (want 0 to 64)", f.aesBitErrors))
	}
	switch f.gitReader {
	case "auto", "":
	case scanner.ReaderGoGit, scanner.ReaderGit:
		opts.Git.Reader = f.gitReader
	default:
		return fail(fmt.Errorf("unknown --git-reader %q (want auto, go-git or git)", f.gitReader))
	}
	if kind == "image" {
		if f.maxArchiveDepth < 0 {
			return fail(fmt.Errorf("invalid --max-archive-depth %d (want 0 or more)", f.maxArchiveDepth))
		}
		opts.Image = scanner.ImageOptions{Platform: f.platform, Insecure: f.insecure}
		opts.Archives = scanner.DefaultArchiveLimits
		opts.Archives.MaxDepth = f.maxArchiveDepth
		if f.maxArchiveDepth == 0 {
			opts.Archives.MaxDepth = -1
		}
	}
	if f.prePush {
		ups, err := scanner.ParsePrePush(c.InOrStdin())
		if err != nil {
			return fail(err)
		}
		opts.Git.Push = ups
	}
	if f.maxDecodeDepth == 0 {
		opts.MaxDecodeDepth = -1
	}
	if f.since != "" {
		t, err := parseSince(f.since, time.Now())
		if err != nil {
			return fail(fmt.Errorf("parsing --since: %w", err))
		}
		opts.Git.Since = t
	}
	if f.baseline != "" {
		b, err := report.ReadBaseline(f.baseline)
		if err != nil {
			return fail(err)
		}
		opts.Baseline = scanner.Suppressions{Fingerprints: b.Fingerprints, Locations: b.Locations}
		opts.BaselinePath = f.baseline
	}
	// Warnings go through the progress display, which prints them above its bars.
	ui := newProgress(stderr, f.quiet, f.noProgress, 1)
	defer ui.finish()
	warned := 0
	opts.Warn = func(err error) {
		warned++
		ui.warn(err)
	}
	// Opened before the scan, so that a log that cannot be written fails in a second and
	// before any key is rotated.
	aud, err := f.audit.open(c, f.rotateLive, opts.Warn)
	if err != nil {
		return fail(err)
	}
	defer aud.close()
	progressName := scanner.RedactURL(target)
	if ui.mode != progressOff {
		opts.OnProgress = func(p scanner.Progress) {
			p.Repo = progressName
			ui.event(p)
		}
	}

	if f.cpuProfile != "" {
		pfile, err := os.Create(f.cpuProfile)
		if err != nil {
			return fail(fmt.Errorf("creating profile: %w", err))
		}
		defer pfile.Close()
		if err := pprof.StartCPUProfile(pfile); err != nil {
			return fail(fmt.Errorf("starting profile: %w", err))
		}
		defer pprof.StopCPUProfile()
	}
	// A dump scan opens the inventories first: the RSA moduli they hold let it rebuild a
	// private key from a prime in memory. The others open them only when there are findings.
	var pre struct {
		loaded []*hsmcheck.Loaded
		done   func()
		err    error
	}
	if kind == "dump" {
		cfg := f.config
		if cfg == "" {
			cfg = defaultConfig()
		}
		pre.loaded, pre.done, pre.err = openInventories(ctx, &f.inv, cfg, opts.Warn)
		opts.KeyFind.Moduli = inventoryModuli(pre.loaded)
	}
	started := time.Now()
	out, scanErr := scanner.Scan(ctx, opts)
	if out == nil || scanErr != nil {
		ui.event(scanner.Progress{Repo: progressName, Phase: scanner.PhaseFailed})
	} else {
		ui.event(scanner.Progress{Repo: progressName, Phase: scanner.PhaseDone, Stats: out.Stats})
	}
	ui.finish() // the display ends before the report, its summary and any later message
	// Interrupted (SIGINT, SIGTERM), the scan returns what it found so far: that is reported,
	// marked incomplete, and nothing else (inventories, rotation) is started.
	stopped := scanErr != nil && ctx.Err() != nil
	if out == nil {
		if pre.done != nil {
			pre.done()
		}
		if stopped {
			return &exitCodeError{code: interruptCode(ctx), err: fmt.Errorf("%w: stopped before any result was ready, no report written", context.Cause(ctx))}
		}
		return fail(scanErr)
	}
	// A broken inventory configuration must not cost the scan's results: they are reported,
	// and the error decides the exit code afterwards.
	loaded, invDone, invErr := pre.loaded, pre.done, pre.err
	switch {
	case stopped:
		invDone = func() {}
		if pre.done != nil {
			invDone = pre.done
		}
	case pre.done == nil:
		loaded, invDone, invErr = crossCheckOpen(ctx, &f.inv, out.ConfigFile, out.Result, opts.Warn)
	case invErr == nil && len(loaded) > 0:
		scanner.CrossCheck(ctx, out.Result, loaded, opts.Warn)
	}
	defer invDone()

	res := &report.Result{
		Tool:        report.Tool{Name: "keywarden", Version: toolVersion(), InformationURI: "https://github.com/keywarden/keywarden"},
		Source:      kind,
		Target:      scanner.RedactURL(target),
		Root:        out.Root,
		Started:     started.UTC(),
		Findings:    out.Findings,
		Stats:       out.Stats,
		Skipped:     out.Skipped,
		Inventories: out.Inventories,
		ShowSecrets: f.showSecrets,
		Incomplete:  stopped,
	}
	res.Rules = map[string]rules.RuleInfo{}
	for _, fi := range out.Findings {
		if ri, ok := out.Rules.Rule(fi.RuleID); ok {
			res.Rules[fi.RuleID] = ri
		}
	}

	// A hook's brief report of nothing found would read as a pass next to the error.
	if _, brief := w.(report.Brief); !brief || scanErr == nil || len(res.Findings) > 0 || stopped {
		if err := writeReport(c, w, res, f, rf); err != nil {
			return fail(err)
		}
	}
	if !f.quiet && (format != "text" && format != "brief" || f.output != "") {
		fmt.Fprintln(stderr, summary(res))
	}
	aud.recordScan(res)
	if stopped {
		if err := aud.close(); err != nil {
			opts.Warn(err)
		}
		what := "the report holds what was found so far, marked incomplete"
		if f.output != "" && f.output != "-" {
			what = fmt.Sprintf("the report %q holds what was found so far, marked incomplete", f.output)
		}
		return &exitCodeError{code: interruptCode(ctx), err: fmt.Errorf("%w: %s", context.Cause(ctx), what)}
	}
	var rotErr error
	if f.rotateLive {
		rotErr = rotateLive(c, f, reason, loaded, out.Findings, aud, opts.Warn)
	}
	if err := aud.close(); err != nil {
		return fail(err)
	}
	if scanErr != nil {
		return fail(scanErr)
	}
	if rotErr != nil {
		return fail(rotErr)
	}
	if invErr != nil {
		return fail(fmt.Errorf("checking the key inventory: %w", invErr))
	}
	return findingsExit(out.Findings, f.exitCode)
}

// findingsExit is the outcome of a run whose report holds findings: code (--exit-code) when
// any is above info. An informational finding (an ansible-vault file, an encrypted browser
// store) is reported but is no reason to block a commit or fail a job.
func findingsExit(findings []scanner.Finding, code int) error {
	for _, fd := range findings {
		if fd.Severity != "info" {
			return &exitCodeError{code: code}
		}
	}
	return nil
}

// reportFile is a report being written next to its final name: a temp file with mode 0600
// (a report says where secrets are), renamed into place only when complete, so that a failed
// write leaves no partial file.
type reportFile struct {
	tmp  *os.File
	name string
	done bool
	// direct: name is a device or a pipe (/dev/stdout, a fifo a CI step reads), written in
	// place. A rename would replace it with a regular file, even /dev/full for root.
	direct bool
}

func createReportFile(name string) (*reportFile, error) {
	if fi, err := os.Stat(name); err == nil && !fi.Mode().IsRegular() {
		if fi.IsDir() {
			return nil, fmt.Errorf("creating report %q: is a directory", name)
		}
		f, err := os.OpenFile(name, os.O_WRONLY, 0)
		if err != nil {
			return nil, fmt.Errorf("creating report %q: %w", name, errors.Unwrap(err))
		}
		return &reportFile{tmp: f, name: name, direct: true}, nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), ".keywarden-report-*")
	if err != nil {
		return nil, fmt.Errorf("creating report %q: %w", name, errors.Unwrap(err))
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("creating report %q: %w", name, err)
	}
	return &reportFile{tmp: tmp, name: name}, nil
}

// commit writes the report and renames it into place.
func (r *reportFile) commit(w report.Writer, res *report.Result) error {
	if err := w.Write(r.tmp, res); err != nil {
		return fmt.Errorf("writing report %q: %w", r.name, err)
	}
	if r.direct {
		r.done = true
		if err := r.tmp.Close(); err != nil {
			return fmt.Errorf("writing report %q: %w", r.name, err)
		}
		return nil
	}
	if err := r.tmp.Sync(); err != nil {
		return fmt.Errorf("writing report %q: %w", r.name, err)
	}
	if err := r.tmp.Close(); err != nil {
		return fmt.Errorf("writing report %q: %w", r.name, err)
	}
	if err := os.Rename(r.tmp.Name(), r.name); err != nil {
		return fmt.Errorf("writing report %q: %w", r.name, err)
	}
	r.done = true
	return nil
}

// discard removes the temp file unless the report was committed.
func (r *reportFile) discard() {
	if !r.done {
		r.tmp.Close()
		if !r.direct {
			os.Remove(r.tmp.Name())
		}
	}
}

// writeReport writes to stdout, or to the report file opened before the scan.
func writeReport(c *cobra.Command, w report.Writer, res *report.Result, f *scanFlags, rf *reportFile) error {
	if rf != nil {
		return rf.commit(w, res)
	}
	_, text := w.(report.Text)
	res.Color = text && useColor(c, c.OutOrStdout())
	if err := w.Write(c.OutOrStdout(), res); err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	return nil
}

func summary(res *report.Result) string {
	s := res.Stats
	noun := "findings"
	if len(res.Findings) == 1 {
		noun = "finding"
	}
	unit := "blobs"
	if res.Source == "dump" {
		unit = "files"
	}
	return fmt.Sprintf("summary: %d %s in %d %s (%.1f MiB, %.1f MiB after dedup), %d skipped, %s",
		len(res.Findings), noun, s.Blobs, unit, float64(s.Bytes)/(1<<20), float64(s.ScannedBytes)/(1<<20), s.Skipped,
		s.Duration.Round(time.Millisecond))
}

func isTTY(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// parseSize reads sizes such as 10MiB, 512k, 1G or a plain byte count.
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(strings.ToLower(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"gib", 1 << 30}, {"mib", 1 << 20}, {"kib", 1 << 10}, {"gb", 1e9}, {"mb", 1e6}, {"kb", 1e3}, {"g", 1 << 30}, {"m", 1 << 20}, {"k", 1 << 10}, {"b", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseFloat(t, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("invalid size %q (want e.g. 10MiB, 512k or 0)", s)
	}
	if n == 0 {
		return -1, nil
	}
	return int64(n * float64(mult)), nil
}

// parseSince accepts a date, an RFC 3339 time, or a duration back from now ("30d", "720h").
func parseSince(s string, now time.Time) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	if strings.HasSuffix(s, "d") {
		if n, err := strconv.Atoi(strings.TrimSuffix(s, "d")); err == nil && n >= 0 {
			return now.AddDate(0, 0, -n), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, errors.New("invalid date " + strconv.Quote(s) + " (want 2006-01-02, RFC 3339, or a duration such as 30d)")
}
