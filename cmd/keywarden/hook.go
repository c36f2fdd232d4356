package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/keywarden/keywarden/scanner/githook"
)

func newHookCmd() *cobra.Command {
	var prePush, force bool
	hook := &cobra.Command{
		Use:   "hook",
		Short: "Install or remove keywarden's native git hooks",
	}
	name := func() string {
		if prePush {
			return githook.PrePush
		}
		return githook.PreCommit
	}
	fail := func(err error) error { return &exitCodeError{code: exitError, err: err} }
	install := &cobra.Command{
		Use:   "install [REPO]",
		Short: "Write a pre-commit (or pre-push) hook that scans what is committed (or pushed)",
		Long: "Writes the hook into the repository's hooks directory (core.hooksPath when set). A hook\n" +
			"keywarden did not write is left alone unless --force, which keeps it as\n" +
			"HOOK.keywarden-backup and runs it before keywarden's; uninstall puts it back.",
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			dir, err := hooksDir(c, args)
			if err != nil {
				return fail(err)
			}
			exe, err := os.Executable()
			if err != nil {
				return fail(fmt.Errorf("finding keywarden's own path: %w", err))
			}
			if r, err := filepath.EvalSymlinks(exe); err == nil {
				exe = r
			}
			res, err := githook.Install(dir, name(), exe, force)
			if err != nil {
				return fail(err)
			}
			fmt.Fprintf(c.OutOrStdout(), "installed %s\n", res.Path)
			if res.Backup != "" {
				fmt.Fprintf(c.OutOrStdout(), "kept the previous hook as %s; it runs first\n", res.Backup)
			}
			return nil
		},
	}
	install.Flags().BoolVar(&prePush, "pre-push", false, "install the pre-push hook instead of pre-commit")
	install.Flags().BoolVar(&force, "force", false, "replace a hook keywarden did not write, keeping it as a backup that runs first")
	uninstall := &cobra.Command{
		Use:   "uninstall [REPO]",
		Short: "Remove keywarden's hook and restore the one it replaced",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			dir, err := hooksDir(c, args)
			if err != nil {
				return fail(err)
			}
			res, err := githook.Uninstall(dir, name())
			if errors.Is(err, githook.ErrNotInstalled) {
				fmt.Fprintf(c.OutOrStdout(), "%s: nothing to remove\n", res.Path)
				return nil
			}
			if err != nil {
				return fail(err)
			}
			fmt.Fprintf(c.OutOrStdout(), "removed %s\n", res.Path)
			if res.Backup != "" {
				fmt.Fprintf(c.OutOrStdout(), "restored the previous hook\n")
			}
			return nil
		},
	}
	uninstall.Flags().BoolVar(&prePush, "pre-push", false, "remove the pre-push hook instead of pre-commit")
	hook.AddCommand(install, uninstall)
	return hook
}

func hooksDir(c *cobra.Command, args []string) (string, error) {
	repo := "."
	if len(args) == 1 {
		repo = args[0]
	}
	return githook.Dir(c.Context(), repo)
}
