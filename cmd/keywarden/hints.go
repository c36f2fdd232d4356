package main

// The one-line error that ends with what to do next.

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/keywarden/keywarden/scanner"
)

// argCountError matches cobra's messages for a wrong number of arguments, which name neither
// the command nor its usage.
var argCountError = regexp.MustCompile(`^(?:accepts|requires) .*arg\(s\)`)

// nextStep adds to err, returned by command c, what the user can do about it where that is
// known: the usage of a command given the wrong arguments, the closest flag to an unknown one,
// what to check when a path does not exist. It adds only fixed text and names from the
// command line, never anything read from a scanned file.
func nextStep(c *cobra.Command, err error) error {
	if c == nil || err == nil {
		return err
	}
	msg := err.Error()
	help := fmt.Sprintf("see '%s --help'", c.CommandPath())
	var (
		unknownFlag *pflag.NotExistError
		badValue    *pflag.InvalidValueError
		noValue     *pflag.ValueRequiredError
		num         *strconv.NumError
	)
	switch {
	case errors.As(err, &unknownFlag):
		if s := closestFlag(c, unknownFlag.GetSpecifiedName()); s != "" {
			return withHint(msg, fmt.Sprintf("did you mean --%s? %s", s, help))
		}
		return withHint(msg, help)
	case errors.As(err, &badValue) && errors.As(err, &num):
		// "strconv.ParseInt: parsing \"x\": invalid syntax" says nothing a user can act on.
		return withHint(strings.Replace(msg, num.Error(), "want a whole number", 1), help)
	case errors.As(err, &badValue):
		if strings.HasPrefix(errors.Unwrap(badValue).Error(), "want ") {
			return err // it lists the valid values already
		}
		return withHint(msg, help)
	case errors.As(err, &noValue):
		return withHint(msg, help)
	case argCountError.MatchString(msg):
		return withHint(c.CommandPath()+": "+msg, "usage: "+strings.TrimSuffix(c.UseLine(), " [flags]"))
	case strings.HasPrefix(msg, "unknown command "):
		return unknownCommand(c, msg)
	case errors.Is(err, scanner.ErrNotRepo) || strings.Contains(msg, "not a git repository"):
		hint := "run it inside a repository or pass the repository's path"
		if c.Name() == "git" {
			hint += "; for files outside git use 'keywarden scan dir'"
		}
		return withHint(msg, hint)
	case errors.Is(err, fs.ErrNotExist):
		switch {
		case strings.HasPrefix(msg, "loading config"):
			return withHint(msg, "check the --config path, or leave --config out to use the built-in rules")
		case strings.HasPrefix(msg, "reading baseline"):
			return withHint(msg, "check the --baseline path; write a baseline with --format json --output FILE")
		case strings.HasPrefix(msg, "creating report"):
			return withHint(msg, "create the directory or choose another --output")
		}
		return withHint(msg, "check the path")
	}
	return err
}

// unknownCommand rewrites cobra's unknown-command error, whose suggestions span lines.
func unknownCommand(c *cobra.Command, msg string) error {
	msg, _, _ = strings.Cut(msg, "\n")
	var name string
	if _, err := fmt.Sscanf(msg, "unknown command %q", &name); err != nil {
		return withHint(msg, fmt.Sprintf("see '%s --help'", c.CommandPath()))
	}
	if c.SuggestionsMinimumDistance <= 0 {
		c.SuggestionsMinimumDistance = 2 // cobra's default, which only its own error path sets
	}
	return withHint(msg, suggest(c.SuggestionsFor(name), fmt.Sprintf("see '%s --help'", c.CommandPath())))
}

// suggest joins suggestions ("did you mean a or b?") and a final pointer.
func suggest(names []string, then string) string {
	switch len(names) {
	case 0:
		return then
	case 1:
		return fmt.Sprintf("did you mean %s? %s", names[0], then)
	}
	return fmt.Sprintf("did you mean %s or %s? %s", strings.Join(names[:len(names)-1], ", "), names[len(names)-1], then)
}

// withHint appends a next step to a one-line message, inside its final parenthesis if it
// ends with one.
func withHint(msg, hint string) error {
	if strings.HasSuffix(msg, ")") {
		return errors.New(strings.TrimSuffix(msg, ")") + "; " + hint + ")")
	}
	return errors.New(msg + " (" + hint + ")")
}

// closestFlag returns the name of c's flag nearest to name, if one is near enough to be a typo.
func closestFlag(c *cobra.Command, name string) string {
	var names []string
	add := func(f *pflag.Flag) {
		if !f.Hidden {
			names = append(names, f.Name)
		}
	}
	c.Flags().VisitAll(add)
	c.InheritedFlags().VisitAll(add)
	if best := closest(name, names, 1); len(best) > 0 {
		return best[0]
	}
	return ""
}

// closest returns up to n of candidates nearest to s by edit distance, nearest first, among
// those close enough to be a typo of it; a candidate holding s (a prefix typed) counts too.
func closest(s string, candidates []string, n int) []string {
	type scored struct {
		name string
		d    int
	}
	limit := max(2, len(s)/3)
	var best []scored
	for _, c := range candidates {
		d := editDistance(s, c)
		if strings.Contains(c, s) && len(s) >= 3 {
			d = min(d, limit)
		}
		if d <= limit {
			best = append(best, scored{c, d})
		}
	}
	slices.SortFunc(best, func(a, b scored) int {
		return cmp.Or(cmp.Compare(a.d, b.d), strings.Compare(a.name, b.name))
	})
	var out []string
	for i := 0; i < len(best) && i < n; i++ {
		out = append(out, best[i].name)
	}
	return out
}

// editDistance is the Levenshtein distance between a and b, by byte.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
