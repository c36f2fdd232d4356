package report

import (
	"bufio"
	"fmt"
	"io"
	"strconv"

	"github.com/keywarden/keywarden/hsmcheck"
)

// Brief is what a git hook prints: one line per location (file:line, rule, redacted secret)
// and how to get past it, so that a blocked commit is understood without a manual.
type Brief struct{}

// Write implements Writer.
func (Brief) Write(w io.Writer, res *Result) error {
	bw := bufio.NewWriter(w)
	what, flag := "commit", "git commit --no-verify"
	if res.Source != "staged" {
		what, flag = "push", "git push --no-verify"
	}
	if res.Incomplete {
		bw.WriteString(incompleteLine + "\n")
	}
	if len(res.Findings) == 0 {
		fmt.Fprintf(bw, "keywarden: no secrets in this %s (%d blobs)\n", what, res.Stats.Blobs)
		return flush(bw)
	}
	n := len(res.Findings)
	noun := "secrets"
	if n == 1 {
		noun = "secret"
	}
	fmt.Fprintf(bw, "keywarden: %s blocked: %d %s found\n", what, n, noun)
	if b := liveBanner(res); b != "" {
		fmt.Fprintf(bw, "%s\n", b)
	}
	for _, f := range res.Findings {
		for _, l := range f.Locations {
			place := clean(l.Path)
			if l.Line > 0 {
				place += ":" + strconv.Itoa(l.Line)
			}
			place += binaryWhere(l) + detectorTag(l)
			if l.Commit != "" {
				place = shortCommit(l.Commit) + " " + place
			}
			live := ""
			if f.Exposure != nil && f.Exposure.Status == hsmcheck.Live {
				live = "  LIVE"
			}
			fmt.Fprintf(bw, "  %s  %s  %s%s\n", place, clean(f.RuleID), clean(res.secret(f)), live)
		}
	}
	bw.WriteString("\nIf a finding is not a secret, or is one on purpose:\n")
	bw.WriteString("  - end its line with a comment holding keywarden:allow (gitleaks:allow works too), or\n")
	bw.WriteString("  - add its fingerprint on a line of .keywardenignore at the repository root:\n")
	for _, f := range res.Findings {
		fmt.Fprintf(bw, "      %s    # %s\n", f.Fingerprint, clean(f.RuleID))
	}
	fmt.Fprintf(bw, "To %s anyway, this once: %s\n", what, flag)
	if res.Source == "staged" {
		bw.WriteString("A real secret belongs in the environment or a secret store: unstage it (git restore --staged FILE).\n")
	} else {
		bw.WriteString("A real secret is in local commits: rewrite them (git rebase -i) before pushing, and rotate it if it was shared.\n")
	}
	return flush(bw)
}

func flush(bw *bufio.Writer) error {
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	return nil
}
