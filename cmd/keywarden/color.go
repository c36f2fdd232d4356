package main

// Whether output gets colour: --color, the deprecated --no-color, NO_COLOR and the terminal.

import (
	"errors"
	"io"
	"os"

	"github.com/spf13/cobra"
)

// colorModes are the values of --color.
var colorModes = []string{"auto", "always", "never"}

// colorMode is the value of --color, checked when the flag is parsed so that a bad value fails
// before any work starts.
type colorMode string

func (m *colorMode) String() string { return string(*m) }
func (m *colorMode) Type() string   { return "when" }

func (m *colorMode) Set(s string) error {
	for _, v := range colorModes {
		if s == v {
			*m = colorMode(s)
			return nil
		}
	}
	return errors.New("want auto, always or never")
}

// addColorFlag gives every command --color.
func addColorFlag(root *cobra.Command) {
	mode := colorMode("auto")
	root.PersistentFlags().Var(&mode, "color", "colour output: auto (on a terminal, unless NO_COLOR is set), always or never")
	_ = root.RegisterFlagCompletionFunc("color", cobra.FixedCompletions(colorModes, cobra.ShellCompDirectiveNoFileComp))
}

// useColor decides whether output written to w gets ANSI colour. An explicit --color wins,
// then the deprecated --no-color; auto means colour only on a terminal, with NO_COLOR unset or
// empty (https://no-color.org) and TERM not "dumb". --color=always beats NO_COLOR because it is
// the more specific request: no-color.org lets a command-line flag override the variable.
func useColor(c *cobra.Command, w io.Writer) bool {
	mode := "auto"
	f := c.Flags().Lookup("color")
	if f != nil {
		mode = f.Value.String()
	}
	if nc := c.Flags().Lookup("no-color"); nc != nil && nc.Changed && nc.Value.String() == "true" && (f == nil || !f.Changed) {
		mode = "never"
	}
	switch mode {
	case "always":
		return true
	case "never":
		return false
	}
	return os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb" && isTTY(w)
}

// ANSI styles for severities, as the text report has them.
var severityStyles = map[string]string{
	"critical": "\x1b[1;31m", // bold red
	"high":     "\x1b[31m",   // red
	"medium":   "\x1b[33m",   // yellow
	"low":      "\x1b[36m",   // cyan
}

const (
	styleBold  = "\x1b[1m"
	styleReset = "\x1b[0m"
)

// paint wraps s in style when on is set.
func paint(on bool, style, s string) string {
	if !on || style == "" {
		return s
	}
	return style + s + styleReset
}
