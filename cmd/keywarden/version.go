package main

// Commands about keywarden itself: version, and the shell completion cobra provides.

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
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
