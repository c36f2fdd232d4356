package main

// Shell completion beyond what cobra derives: --format values, rule IDs, config files.

import (
	"regexp"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/keywarden/keywarden/report"
)

// formatList finds the values a --format flag's usage lists: "output format: text or json",
// "report format: text, json, sarif".
var formatList = regexp.MustCompile(`[a-z][a-z0-9-]*`)

// formatValues returns the values listed in a --format flag's usage, or report.Formats.
func formatValues(usage string) []string {
	if i := strings.LastIndex(usage, ":"); i >= 0 {
		usage = usage[i+1:]
	}
	var out []string
	for _, w := range formatList.FindAllString(usage, -1) {
		if w != "or" && w != "and" {
			out = append(out, w)
		}
	}
	if len(out) < 2 {
		return report.Formats
	}
	return out
}

// registerCompletions completes what cobra cannot guess: --format values, --git-reader, config
// and baseline files, and the paths scan's subcommands take. It runs once every command is
// added, and a completion a command registered itself is kept.
func registerCompletions(root *cobra.Command) {
	noFiles := cobra.ShellCompDirectiveNoFileComp
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		visit := func(f *pflag.Flag) {
			var fn cobra.CompletionFunc
			switch f.Name {
			case "format":
				fn = cobra.FixedCompletions(formatValues(f.Usage), noFiles)
			case "git-reader":
				fn = cobra.FixedCompletions([]string{"auto", "go-git", "git"}, noFiles)
			case "config":
				fn = fileExt("toml")
			case "baseline":
				fn = fileExt("json")
			default:
				return
			}
			_ = c.RegisterFlagCompletionFunc(f.Name, fn) // fails only when already registered
		}
		c.LocalFlags().VisitAll(visit)
		c.PersistentFlags().VisitAll(visit)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)

	dirs := func(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, noFiles
		}
		return nil, cobra.ShellCompDirectiveFilterDirs
	}
	for _, path := range [][]string{{"scan", "git"}, {"scan", "staged"}, {"scan", "dir"}} {
		if c, _, err := root.Find(path); err == nil && c.Name() == path[len(path)-1] && c.ValidArgsFunction == nil {
			c.ValidArgsFunction = dirs
		}
	}
	// An image is a registry reference or a file (docker-archive:FILE, oci:DIR): the shell's
	// own file completion is the best guess.
	if c, _, err := root.Find([]string{"scan", "image"}); err == nil && c.Name() == "image" && c.ValidArgsFunction == nil {
		c.ValidArgsFunction = func(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, noFiles
			}
			return nil, cobra.ShellCompDirectiveDefault
		}
	}
}

func fileExt(ext string) cobra.CompletionFunc {
	return func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return []cobra.Completion{ext}, cobra.ShellCompDirectiveFilterFileExt
	}
}
