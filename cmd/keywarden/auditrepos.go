package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/keywarden/keywarden/report"
	"github.com/keywarden/keywarden/rules"
	"github.com/keywarden/keywarden/scanner"
)

type auditReposFlags struct {
	list        string
	cacheDir    string
	jobs        int
	shard       string
	config      string
	format      string
	output      string
	quiet       bool
	noProgress  bool
	showSecrets bool
	exitCode    int
	maxFileSize string
	inv         inventoryFlags
	audit       auditFlags
}

func newAuditReposCmd() *cobra.Command {
	f := &auditReposFlags{}
	cmd := &cobra.Command{
		Use:   "repos --list FILE",
		Short: "Scan the full history of many repositories and write one merged report",
		Long: "Reads repository URLs or local paths, one per line (# starts a comment), mirrors each URL\n" +
			"bare into --cache-dir (fetched, not cloned again, on later runs) and scans --jobs of them at\n" +
			"once. Findings are merged across repositories by fingerprint: a secret found in 12\n" +
			"repositories is one finding with 12 repositories in its locations. A repository that cannot\n" +
			"be cloned or read is listed in the report's summary as failed and the audit goes on; the exit\n" +
			"code is then 2, after the report is written. --shard I/N scans one of N slices of the list,\n" +
			"for one worker of a CI matrix or an Indexed Job; \"keywarden report merge\" joins the shards.\n" +
			"Credentials come from the URL, the git credential helper, GITHUB_TOKEN (GitHub hosts) or the\n" +
			"SSH agent (docs/remote-auth.md).",
		Example: "  keywarden audit repos --list repos.txt --format html -o audit.html\n" +
			"  keywarden audit repos --list repos.txt --shard 2/8 --format json -o shard-2.json",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runAuditRepos(c, f) },
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.list, "list", "l", "", "file of repository URLs or paths, one per line (- for stdin)")
	fl.StringVar(&f.cacheDir, "cache-dir", "", "keep bare mirrors here and fetch them on later runs (default: the user cache dir's keywarden/repos)")
	fl.IntVarP(&f.jobs, "jobs", "j", scanner.DefaultAuditJobs, "repositories cloned and scanned at once")
	fl.StringVar(&f.shard, "shard", "", "scan only slice I of N of the list (I/N, 1-based), for one worker of a sharded audit")
	fl.StringVarP(&f.config, "config", "c", "", "gitleaks-format TOML config for every repository (default: built-in rules)")
	fl.StringVarP(&f.format, "format", "f", "text", "report format: "+strings.Join(report.Formats, ", "))
	fl.StringVarP(&f.output, "output", "o", "", "write the report to this file (mode 0600) instead of stdout")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "no progress, warnings or summary on stderr")
	fl.BoolVar(&f.noProgress, "no-progress", false, "no progress display on stderr")
	fl.BoolVar(&f.showSecrets, "show-secrets", false, "print raw secret values in reports (default: redacted)")
	fl.IntVar(&f.exitCode, "exit-code", exitFindings, "exit code when there are findings")
	fl.StringVar(&f.maxFileSize, "max-file-size", "10MiB", "skip (and report) blobs larger than this; 0 for no limit")
	f.inv.register(fl)
	f.audit.register(fl, false)
	_ = cmd.MarkFlagRequired("list")
	return cmd
}

func runAuditRepos(c *cobra.Command, f *auditReposFlags) error {
	ctx := c.Context()
	stderr := c.ErrOrStderr()
	fail := func(err error) error { return &exitCodeError{code: exitError, err: err} }

	w, err := report.ByName(f.format)
	if err != nil {
		return fail(err)
	}
	if f.jobs < 1 {
		return fail(fmt.Errorf("invalid --jobs %d (want 1 or more)", f.jobs))
	}
	if f.exitCode < 0 || f.exitCode > 255 {
		return fail(fmt.Errorf("invalid --exit-code %d (want 0 to 255)", f.exitCode))
	}
	shardI, shardN := 1, 1
	if f.shard != "" {
		if shardI, shardN, err = scanner.ParseShard(f.shard); err != nil {
			return fail(fmt.Errorf("parsing --shard: %w", err))
		}
	}
	repos, err := readRepoList(c, f.list)
	if err != nil {
		return fail(err)
	}
	if repos, err = scanner.Shard(repos, shardI, shardN); err != nil {
		return fail(err)
	}
	maxSize, err := parseSize(f.maxFileSize)
	if err != nil {
		return fail(fmt.Errorf("parsing --max-file-size: %w", err))
	}
	cache := f.cacheDir
	if cache == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			return fail(fmt.Errorf("finding a cache dir: %w (pass --cache-dir)", err))
		}
		cache = filepath.Join(dir, "keywarden", "repos")
	}
	var rf *reportFile
	if f.output != "" && f.output != "-" {
		if rf, err = createReportFile(f.output); err != nil {
			return fail(err)
		}
		defer rf.discard()
	}
	ui := newProgress(stderr, f.quiet, f.noProgress, len(repos))
	warn := func(err error) { ui.warn(err) }
	aud, err := f.audit.open(c, false, warn)
	if err != nil {
		return fail(err)
	}
	defer aud.close()

	started := time.Now()
	out, auditErr := scanner.Audit(ctx, scanner.AuditOptions{
		Repos:      repos,
		CacheDir:   cache,
		Jobs:       f.jobs,
		Scan:       scanner.ScanOptions{ConfigPath: f.config, MaxFileSize: maxSize, Warn: warn},
		OnProgress: ui.event,
		Warn:       warn,
	})
	ui.finish()
	if out == nil {
		return fail(auditErr)
	}
	loaded, invDone, invErr := crossCheckOpen(ctx, &f.inv, out.ConfigFile, out.Result, warn)
	defer invDone()
	_ = loaded

	for i := range out.Repos {
		out.Repos[i].Error = scrub(out.Repos[i].Error) // a clone's error may quote a credential
	}
	res := &report.Result{
		Tool:        report.Tool{Name: "keywarden", Version: toolVersion(), InformationURI: "https://github.com/keywarden/keywarden"},
		Source:      "git",
		Target:      fmt.Sprintf("%d repositories", len(repos)),
		Started:     started.UTC(),
		Findings:    out.Findings,
		Stats:       out.Stats,
		Skipped:     out.Skipped,
		Inventories: out.Inventories,
		Repos:       out.Repos,
		Shard:       f.shard,
		ShowSecrets: f.showSecrets,
		Rules:       map[string]rules.RuleInfo{},
	}
	if out.Rules != nil {
		for _, fi := range out.Findings {
			if ri, ok := out.Rules.Rule(fi.RuleID); ok {
				res.Rules[fi.RuleID] = ri
			}
		}
	}
	sf := &scanFlags{output: f.output, showSecrets: f.showSecrets}
	if err := writeReport(c, w, res, sf, rf); err != nil {
		return fail(err)
	}
	failed := out.Failed()
	if !f.quiet {
		fmt.Fprintln(stderr, auditSummary(res, failed))
		for _, r := range failed {
			fmt.Fprintf(stderr, "keywarden: %s failed (%s): %s\n", r.Repo, r.Phase, scrub(r.Error))
		}
	}
	aud.recordScan(res)
	if err := aud.close(); err != nil {
		return fail(err)
	}
	switch {
	case auditErr != nil:
		return fail(auditErr)
	case invErr != nil:
		return fail(fmt.Errorf("checking the key inventory: %w", invErr))
	case len(failed) > 0:
		return fail(fmt.Errorf("%d of %d repositories failed; the report covers the rest (see its summary)", len(failed), len(repos)))
	}
	return findingsExit(out.Findings, f.exitCode)
}

// readRepoList reads --list: a file, or stdin for "-". Relative paths in a file are taken
// relative to the file.
func readRepoList(c *cobra.Command, name string) ([]string, error) {
	var (
		r    io.Reader
		base string
	)
	if name == "-" {
		r = c.InOrStdin()
		base, _ = os.Getwd()
	} else {
		fh, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("reading repository list %q: %w", name, errors.Unwrap(err))
		}
		defer fh.Close()
		r, base = fh, filepath.Dir(name)
	}
	repos, err := scanner.ParseRepoList(r, base)
	if err != nil {
		return nil, fmt.Errorf("reading repository list %q: %w", name, err)
	}
	if len(repos) == 0 {
		return nil, fmt.Errorf("reading repository list %q: no repositories in it (one URL or path per line)", name)
	}
	return repos, nil
}

// auditSummary is the one-line summary of an audit on stderr.
func auditSummary(res *report.Result, failed []scanner.RepoStatus) string {
	s := res.Stats
	noun := "findings"
	if len(res.Findings) == 1 {
		noun = "finding"
	}
	return fmt.Sprintf("summary: %d %s in %d repositories (%d failed), %d blobs (%.1f MiB), %s",
		len(res.Findings), noun, len(res.Repos), len(failed), s.Blobs, float64(s.Bytes)/(1<<20),
		s.Duration.Round(time.Millisecond))
}
