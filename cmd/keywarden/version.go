package main

// Commands about keywarden itself: version, and the shell completion cobra provides.

import (
	"fmt"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/keywarden/keywarden/report"
)

// gitleaksModule is the module whose default rules keywarden builds on.
const gitleaksModule = "github.com/zricethezav/gitleaks/v8"

// buildInfo is what keywarden version reports.
type buildInfo struct {
	Version  string `json:"version"`
	Commit   string `json:"commit,omitempty"`
	Date     string `json:"date,omitempty"` // of the commit, RFC 3339
	Modified bool   `json:"modified"`       // built from a work tree with uncommitted changes
	Go       string `json:"go"`
	Platform string `json:"platform"`
	Gitleaks string `json:"gitleaks"` // version of the gitleaks rules library
}

// readBuildInfo describes a build. ver is toolVersion's answer, which an ldflags-set version
// decides; the rest comes from what the go command stamped into the binary.
func readBuildInfo(ver string, bi *debug.BuildInfo) buildInfo {
	info := buildInfo{Version: ver, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH, Gitleaks: "unknown"}
	if bi == nil {
		return info
	}
	if bi.GoVersion != "" {
		info.Go = bi.GoVersion
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Commit = s.Value
		case "vcs.time":
			info.Date = s.Value
		case "vcs.modified":
			info.Modified = s.Value == "true"
		}
	}
	for _, d := range bi.Deps {
		if d.Path != gitleaksModule {
			continue
		}
		info.Gitleaks = d.Version
		if d.Replace != nil {
			info.Gitleaks = d.Replace.Version
			if d.Replace.Version == "" {
				info.Gitleaks = "replaced by " + d.Replace.Path
			}
		}
	}
	return info
}

func currentBuildInfo() buildInfo {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	return readBuildInfo(toolVersion(), bi)
}

// gitleaksVersion is the version of the gitleaks rules built in.
func gitleaksVersion() string { return currentBuildInfo().Gitleaks }

func newVersionCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit, Go version, platform and gitleaks rules version",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			info := currentBuildInfo()
			w := c.OutOrStdout()
			switch format {
			case "json":
				return writeJSON(w, info)
			case "text":
			default:
				return &exitCodeError{code: exitError, err: fmt.Errorf("unknown format %q (want text or json)", format)}
			}
			fmt.Fprintf(w, "keywarden %s\n", info.Version)
			if info.Commit != "" {
				commit := info.Commit
				if info.Modified {
					commit += " (modified)"
				}
				fmt.Fprintf(w, "  commit:    %s\n", commit)
			}
			if info.Date != "" {
				fmt.Fprintf(w, "  date:      %s\n", info.Date)
			}
			fmt.Fprintf(w, "  go:        %s\n", info.Go)
			fmt.Fprintf(w, "  platform:  %s\n", info.Platform)
			fmt.Fprintf(w, "  rules:     gitleaks %s\n", info.Gitleaks)
			return nil
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "text", "output format: text or json")
	return cmd
}

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
