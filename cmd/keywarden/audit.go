package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/keywarden/keywarden/report/auditlog"
)

// newAuditCmd is the audit command group: multi-repo audits and checks of keywarden's own
// hash-chained audit log.
func newAuditCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Audit many repositories, and check keywarden's hash-chained audit log",
		Args:  cobra.ArbitraryArgs,
		// A mistyped subcommand is bad input (exit 2), not a request for help.
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return c.Help()
			}
			return &exitCodeError{code: exitError, err: fmt.Errorf("unknown command %q for %q", args[0], c.CommandPath())}
		},
	}
	cmd.AddCommand(newAuditVerifyCmd(), newAuditHeadCmd(), newAuditReposCmd())
	return cmd
}

func newAuditVerifyCmd() *cobra.Command {
	var expectHead, keyFile string
	cmd := &cobra.Command{
		Use:   "verify FILE",
		Short: "Check the audit log's hash chain and report the first broken line",
		Long: "Checks that every line of the audit log chains on the one before it: an edited, deleted,\n" +
			"inserted or moved line breaks the chain, and the first broken line is reported (exit 1).\n" +
			"Dropping lines from the end leaves a valid chain; --expect-head catches it, given a head\n" +
			"printed earlier (by verify or head) and kept where the log's writers cannot change it.\n" +
			"A head stays valid as the log grows. A keyed log needs its --audit-hmac-key-file.",
		Example: "  keywarden audit verify .keywarden/audit.jsonl\n" +
			"  keywarden audit verify .keywarden/audit.jsonl --expect-head \"$(cat /secure/audit.head)\"",
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			rep, err := verifyAuditLog(args[0], keyFile, expectHead)
			if err != nil {
				return err
			}
			if rep.Lines == 0 {
				fmt.Fprintln(c.OutOrStdout(), "audit log ok: empty, no chain yet")
				return nil
			}
			chain := "chain"
			if rep.Keyed {
				chain = "keyed chain"
			}
			fmt.Fprintf(c.OutOrStdout(), "audit log ok: %d lines, %s %s, head %s\n", rep.Lines, chain, rep.Chain, rep.Head)
			return nil
		},
	}
	cmd.Flags().StringVar(&expectHead, "expect-head", "", "fail unless some line has this head (64 hex digits), recorded earlier: catches a truncated or rewritten log")
	cmd.Flags().StringVar(&keyFile, "audit-hmac-key-file", "", "file holding the key of a keyed audit chain (hex, base64 or raw; mode 0600)")
	return cmd
}

func newAuditHeadCmd() *cobra.Command {
	var keyFile string
	cmd := &cobra.Command{
		Use:   "head FILE",
		Short: "Verify the audit log and print only its head, to record elsewhere",
		Long: "Prints the hash (HMAC for a keyed log) of the last line, after verifying the whole chain.\n" +
			"Keep it somewhere the log's writers cannot change (a CI log, a ticket) and pass it to\n" +
			"keywarden audit verify --expect-head later: a truncated or rewritten log then fails.",
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			rep, err := verifyAuditLog(args[0], keyFile, "")
			if err != nil {
				return err
			}
			if rep.Lines == 0 {
				return &exitCodeError{code: exitError, err: fmt.Errorf("audit log %q is empty: it has no head yet", args[0])}
			}
			fmt.Fprintln(c.OutOrStdout(), rep.Head)
			return nil
		},
	}
	cmd.Flags().StringVar(&keyFile, "audit-hmac-key-file", "", "file holding the key of a keyed audit chain (hex, base64 or raw; mode 0600)")
	return cmd
}

// verifyAuditLog verifies the log at path. A broken chain is a finding (exit 1); a log it cannot
// read, a bad key file or a malformed expected head is an error (exit 2).
func verifyAuditLog(path, keyFile, expectHead string) (*auditlog.Report, error) {
	fail := func(err error) error { return &exitCodeError{code: exitError, err: err} }
	var key []byte
	if keyFile != "" {
		var err error
		if key, err = auditlog.ReadHMACKey(keyFile); err != nil {
			return nil, fail(err)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fail(fmt.Errorf("opening audit log: %w", err))
	}
	defer f.Close()
	rep, err := auditlog.Verify(f, key, expectHead)
	var be *auditlog.BrokenError
	switch {
	case errors.As(err, &be):
		return nil, &exitCodeError{code: exitFindings, err: fmt.Errorf("audit log %q broken at %w", path, be)}
	case errors.Is(err, auditlog.ErrKeyRequired):
		return nil, fail(fmt.Errorf("verifying audit log %q: %w: give --audit-hmac-key-file", path, err))
	case err != nil:
		return nil, fail(fmt.Errorf("verifying audit log %q: %w", path, err))
	}
	return rep, nil
}
