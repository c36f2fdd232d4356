package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/keywarden/keywarden/report"
	"github.com/keywarden/keywarden/rules"
)

// newReportCmd is the report command group: work on reports already written.
func newReportCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Merge and convert keywarden JSON reports",
		Args:  cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return c.Help()
			}
			return &exitCodeError{code: exitError, err: fmt.Errorf("unknown command %q for %q", args[0], c.CommandPath())}
		},
	}
	cmd.AddCommand(newReportMergeCmd())
	return cmd
}

func newReportMergeCmd() *cobra.Command {
	var (
		format, output, config string
		showSecrets, quiet     bool
		exitCode               int
	)
	cmd := &cobra.Command{
		Use:   "merge REPORT.json...",
		Short: "Merge keywarden JSON reports (the shards of an audit) into one report",
		Long: "Merges keywarden JSON reports, such as the shards of \"keywarden audit repos --shard I/N\" or\n" +
			"scans of several repositories, into one report in any format. Findings with the same\n" +
			"fingerprint become one finding with every location; a missing shard is a warning and a shard\n" +
			"given twice an error. Shards must have been scanned with the same KEYWARDEN_FINGERPRINT_SALT\n" +
			"(or none) for the same secret to merge. Secrets stay as redacted as the inputs were.",
		Example: "  keywarden report merge shard-*.json --format html -o audit.html\n" +
			"  keywarden report merge a.json b.json --format sarif -o audit.sarif",
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			fail := func(err error) error { return &exitCodeError{code: exitError, err: err} }
			w, err := report.ByName(format)
			if err != nil {
				return fail(err)
			}
			var rf *reportFile
			if output != "" && output != "-" {
				if rf, err = createReportFile(output); err != nil {
					return fail(err)
				}
				defer rf.discard()
			}
			reps := make([]*report.JSONReport, 0, len(args))
			for _, name := range args {
				fh, err := os.Open(name)
				if err != nil {
					return fail(fmt.Errorf("reading report %q: %w", name, errors.Unwrap(err)))
				}
				rep, err := report.ReadJSON(fh)
				fh.Close()
				if err != nil {
					return fail(fmt.Errorf("reading report %q: %w (merge takes keywarden JSON reports: --format json)", name, err))
				}
				reps = append(reps, rep)
			}
			merged, warnings, err := report.Merge(reps, args)
			if err != nil {
				return fail(err)
			}
			if !quiet {
				for _, m := range warnings {
					fmt.Fprintf(c.ErrOrStderr(), "keywarden: warning: %s\n", m)
				}
			}
			res := merged.Result(showSecrets)
			// Rule details (tags, help) come from the rules that found them, when known here.
			var rs *rules.Ruleset
			if config != "" {
				rs, err = rules.LoadFile(config)
			} else {
				rs, err = rules.Default()
			}
			if err != nil {
				return fail(err)
			}
			res.Rules = map[string]rules.RuleInfo{}
			for _, f := range res.Findings {
				if ri, ok := rs.Rule(f.RuleID); ok {
					res.Rules[f.RuleID] = ri
				}
			}
			if err := writeReport(c, w, res, &scanFlags{output: output, showSecrets: showSecrets}, rf); err != nil {
				return fail(err)
			}
			if !quiet && output != "" {
				fmt.Fprintf(c.ErrOrStderr(), "merged %d reports: %d findings in %d repositories\n", len(args), len(res.Findings), len(res.Repos))
			}
			return findingsExit(res.Findings, exitCode)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&format, "format", "f", "json", "report format: "+strings.Join(report.Formats, ", "))
	fl.StringVarP(&output, "output", "o", "", "write the report to this file (mode 0600) instead of stdout")
	fl.StringVarP(&config, "config", "c", "", "the config the reports were scanned with, for rule details (default: built-in rules)")
	fl.BoolVar(&showSecrets, "show-secrets", false, "keep raw secret values the inputs hold (default: redact them)")
	fl.BoolVarP(&quiet, "quiet", "q", false, "no warnings or summary on stderr")
	fl.IntVar(&exitCode, "exit-code", exitFindings, "exit code when the merged report has findings")
	return cmd
}
