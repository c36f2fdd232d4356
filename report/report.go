package report

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/keywarden/keywarden/rules"
	"github.com/keywarden/keywarden/scanner"
)

// Result is everything a report shows, so every format shows the same facts.
type Result struct {
	Tool        Tool
	Source      string // "git", "dir", ...
	Target      string // what was scanned, as the user named it
	Root        string // absolute directory location paths are relative to; "" for a URL
	Started     time.Time
	Findings    []scanner.Finding
	Stats       scanner.Stats
	Skipped     []scanner.SkippedBlob
	Rules       map[string]rules.RuleInfo // at least every rule a finding names
	Inventories []scanner.InventoryStatus // key inventories the findings were checked against
	ShowSecrets bool                      // print raw secrets instead of redacted ones
	// Incomplete says the scan stopped before the end (interrupted by SIGINT or SIGTERM): the
	// findings are those found until then. Every format says so.
	Incomplete bool
	// Repos are a multi-repo audit's repositories, failed ones included; nil for one target.
	Repos []scanner.RepoStatus
	Shard string // "I/N" for one slice of an audit's list
	// Redacted says Findings' Secret fields already hold redacted values (a report merged from
	// JSON reports), so no format can show more.
	Redacted bool
	Color    bool // text only: ANSI colour
}

// Tool names the producing tool.
type Tool struct {
	Name           string
	Version        string
	InformationURI string
}

// Writer renders a finished scan. It must not close w.
type Writer interface {
	Write(w io.Writer, res *Result) error
}

// incompleteLine is the first line of a text or brief report of a scan that stopped early.
const incompleteLine = "INCOMPLETE: interrupted; the scan stopped before the end, so this report holds only what was found until then"

// Formats lists the names ByName accepts.
var Formats = []string{"text", "json", "sarif", "csv", "brief", "html"}

// ByName returns the writer for a format name.
func ByName(format string) (Writer, error) {
	switch format {
	case "text":
		return Text{}, nil
	case "json":
		return JSON{}, nil
	case "sarif":
		return SARIF{}, nil
	case "csv":
		return CSV{}, nil
	case "brief":
		return Brief{}, nil
	case "html":
		return HTML{}, nil
	}
	return nil, fmt.Errorf("unknown report format %q (want one of %v)", format, Formats)
}

// secret is what a report prints for a finding's secret.
func (r *Result) secret(f scanner.Finding) string {
	if r.Redacted {
		return f.Secret
	}
	if r.ShowSecrets {
		return f.Secret
	}
	return f.Redacted()
}

// rulesOf returns the rules the given findings (indexes into Findings) name, sorted by ID.
func (r *Result) rulesOf(findings []int) []rules.RuleInfo {
	seen := map[string]bool{}
	var out []rules.RuleInfo
	for _, i := range findings {
		f := r.Findings[i]
		if !seen[f.RuleID] {
			seen[f.RuleID] = true
			out = append(out, r.ruleFor(f))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// severities lists the known severities, most severe first.
var severities = []string{"critical", "high", "medium", "low", "info"}

// severityRank orders severities for display: 0 for critical up to 3 for low, 4 for anything else.
func severityRank(s string) int {
	for i, v := range severities {
		if v == s {
			return i
		}
	}
	return len(severities)
}

// ruleFor returns the rule a finding names, falling back to what the finding itself says.
func (r *Result) ruleFor(f scanner.Finding) rules.RuleInfo {
	if ri, ok := r.Rules[f.RuleID]; ok {
		if ri.ID == "" {
			ri.ID = f.RuleID
		}
		if ri.Description == "" {
			ri.Description = f.Description
		}
		if ri.Severity == "" {
			ri.Severity = f.Severity
		}
		return ri
	}
	ri := rules.RuleInfo{ID: f.RuleID, Description: f.Description, Severity: f.Severity}
	for _, t := range f.Tags {
		if !strings.HasPrefix(t, "decoded:") { // says how this finding was found, not what the rule is
			ri.Tags = append(ri.Tags, t)
		}
	}
	return ri
}
