package report

import (
	"fmt"
	"io"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"

	"github.com/keywarden/keywarden/rules"
	"github.com/keywarden/keywarden/scanner"
)

// SARIF writes a SARIF 2.1.0 log fit for GitHub code scanning.
type SARIF struct{}

// SARIFFingerprintKey is the partialFingerprints key holding a finding's content fingerprint.
const SARIFFingerprintKey = "keywarden/v1"

// sarifTime formats SARIF's UTC times, to the millisecond.
const sarifTime = "2006-01-02T15:04:05.000Z"

// srcRoot is the uriBaseId artifact locations are relative to.
const srcRoot = "%SRCROOT%"

// Write implements Writer.
func (SARIF) Write(w io.Writer, res *Result) error {
	rep := res.sarifReport()
	if err := rep.PrettyWrite(w); err != nil {
		return fmt.Errorf("writing SARIF report: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("writing SARIF report: %w", err)
	}
	return nil
}

// sarifReport builds the SARIF log for r.
func (r *Result) sarifReport() *sarif.Report {
	name := r.Tool.Name
	if name == "" {
		name = "keywarden"
	}
	run := sarif.NewRunWithInformationURI(name, r.Tool.InformationURI)
	if r.Tool.InformationURI == "" {
		run.Tool.Driver.InformationURI = nil
	}
	if r.Tool.Version != "" {
		run.Tool.Driver.WithVersion(r.Tool.Version)
	}
	// Our columns count code points; SARIF's default is UTF-16 code units.
	run.WithColumnKind("unicodeCodePoints")
	run.WithOriginalUriBaseIds(map[string]sarif.ArtifactLocation{srcRoot: *r.sarifRoot()})
	if !r.Started.IsZero() {
		inv := sarif.NewInvocation().
			WithExecutionSuccessful(true).
			WithStartTimeUtc(r.Started.UTC().Format(sarifTime))
		if r.Stats.Duration > 0 {
			inv.WithEndTimeUtc(r.Started.Add(r.Stats.Duration).UTC().Format(sarifTime))
		}
		run.AddInvocation(inv)
	}
	run.WithProperties(sarif.NewPropertyBag().
		Add("source", r.Source).
		Add("target", r.Target).
		Add("blobs", r.Stats.Blobs).
		Add("bytes", r.Stats.Bytes).
		Add("skipped", r.Stats.Skipped).
		Add("commits", r.Stats.Commits).
		Add("duration_ms", r.Stats.Duration.Milliseconds()))

	index := map[string]int{}
	for i, ri := range r.usedRules() {
		index[ri.ID] = i
		run.Tool.Driver.AddRule(sarifRule(ri))
	}
	for _, f := range r.Findings {
		run.AddResult(r.sarifResult(f, index[f.RuleID]))
	}
	return sarif.NewReport().AddRun(run)
}

// sarifRoot describes %SRCROOT%: the scan root (or the target) as a file URI when it is an
// absolute path, else only a description naming it, since SARIF wants an absolute URI there.
func (r *Result) sarifRoot() *sarif.ArtifactLocation {
	root := sarif.NewArtifactLocation()
	dir := r.Root
	if dir == "" {
		dir = r.Target
	}
	if strings.HasPrefix(dir, "/") {
		p := path.Clean(dir)
		if !strings.HasSuffix(p, "/") {
			p += "/"
		}
		root.WithURI((&url.URL{Scheme: "file", Path: p}).String())
	}
	desc := "The root of the scanned target"
	if r.Target != "" {
		desc = fmt.Sprintf("The root of the scanned target %q", r.Target)
	}
	return root.WithDescription(sarif.NewTextMessage(desc))
}

// sarifRule describes one rule the way GitHub code scanning wants it.
func sarifRule(ri rules.RuleInfo) *sarif.ReportingDescriptor {
	desc := strings.TrimSpace(ri.Description)
	if desc == "" {
		desc = "Secret matched by rule " + ri.ID
	}
	full := fmt.Sprintf("%s. keywarden rule %s reports it as a %s-severity hard-coded secret.",
		strings.TrimSuffix(desc, "."), ri.ID, severityOrMedium(ri.Severity))

	tags := []string{"security", "secret"}
	for _, t := range ri.Tags {
		if t != "" && !contains(tags, t) {
			tags = append(tags, t)
		}
	}
	props := sarif.NewPropertyBag().WithTags(tags).
		Add("security-severity", securitySeverity(ri.Severity)).
		Add("precision", precision(ri))

	return sarif.NewRule(ri.ID).
		WithName(ri.ID).
		WithShortDescription(sarif.NewMultiformatMessageString().WithText(desc)).
		WithFullDescription(sarif.NewMultiformatMessageString().WithText(full)).
		WithHelp(sarif.NewMultiformatMessageString().
			WithText(helpText(ri.ID, desc)).
			WithMarkdown(helpMarkdown(ri.ID, desc))).
		WithDefaultConfiguration(sarif.NewReportingConfiguration().WithLevel(sarifLevel(ri.Severity))).
		WithProperties(props)
}

// sarifResult reports one finding: its first location as the result's location and the others
// as related locations.
func (r *Result) sarifResult(f scanner.Finding, ruleIndex int) *sarif.Result {
	desc := strings.TrimSpace(f.Description)
	if desc == "" {
		desc = "Secret matched by rule " + f.RuleID
	}
	text := fmt.Sprintf("%s: %s", strings.TrimSuffix(desc, "."), r.secret(f))
	if n := len(f.Locations); n > 1 {
		text += fmt.Sprintf(" (found in %d places; see related locations)", n)
	}
	res := sarif.NewRuleResult(f.RuleID).
		WithRuleIndex(ruleIndex).
		WithLevel(sarifLevel(f.Severity)).
		WithMessage(sarif.NewTextMessage(text))
	if f.Fingerprint != "" {
		res.WithPartialFingerprints(map[string]string{SARIFFingerprintKey: f.Fingerprint})
	}

	props := sarif.NewPropertyBag().Add("locations", len(f.Locations))
	if f.Entropy != 0 {
		props.Add("entropy", f.Entropy)
	}
	if len(f.Tags) > 0 {
		props.WithTags(append([]string{}, f.Tags...))
	}
	if len(f.Locations) > 0 {
		first := f.Locations[0]
		res.AddLocation(sarifLocation(first))
		for _, kv := range [][2]string{
			{"source", first.Source}, {"commit", first.Commit}, {"author", first.Author},
			{"email", first.Email}, {"message", first.Message},
		} {
			if kv[1] != "" {
				props.Add(kv[0], kv[1])
			}
		}
		if !first.Date.IsZero() {
			props.Add("date", first.Date.Format(time.RFC3339))
		}
	}
	for i, l := range f.Locations[min(1, len(f.Locations)):] {
		rl := sarifLocation(l).WithID(i + 1).
			WithMessage(sarif.NewTextMessage("Also found in " + locationName(l)))
		res.AddRelatedLocation(rl)
	}
	return res.WithProperties(props)
}

// sarifLocation converts a location, turning our inclusive end column into SARIF's exclusive
// one. A location without a line (a path-only rule) has no region.
func sarifLocation(l scanner.Location) *sarif.Location {
	uri, rel := artifactURI(l.Path)
	art := sarif.NewArtifactLocation().WithURI(uri)
	if rel {
		art.WithURIBaseID(srcRoot)
	}
	phys := sarif.NewPhysicalLocation().WithArtifactLocation(art)
	if l.Line > 0 {
		reg := sarif.NewRegion().WithStartLine(l.Line)
		endLine := max(l.EndLine, l.Line)
		reg.WithEndLine(endLine)
		if l.Column > 0 {
			reg.WithStartColumn(l.Column)
			if l.EndColumn > 0 && (endLine > l.Line || l.EndColumn >= l.Column) {
				reg.WithEndColumn(l.EndColumn + 1)
			}
		}
		phys.WithRegion(reg)
	}
	return sarif.NewLocationWithPhysicalLocation(phys)
}

// artifactURI turns a slash-separated path into a URI reference, and says whether it is
// relative to the scan root.
func artifactURI(p string) (uri string, relative bool) {
	p = strings.ReplaceAll(p, `\`, "/")
	if strings.HasPrefix(p, "/") {
		return (&url.URL{Scheme: "file", Path: p}).String(), false
	}
	p = strings.TrimPrefix(p, "./")
	return (&url.URL{Path: p}).String(), true
}

// locationName names a location as "commit:path" (short commit) or just the path.
func locationName(l scanner.Location) string {
	name := l.Path
	if l.Line > 0 {
		name += fmt.Sprintf(":%d", l.Line)
	}
	if l.Commit != "" {
		return shortCommit(l.Commit) + ":" + name
	}
	return name
}

// shortCommit abbreviates a commit ID the way git does by default.
func shortCommit(c string) string {
	if len(c) > 7 {
		return c[:7]
	}
	return c
}

// sarifLevel maps a severity to a SARIF result level.
func sarifLevel(severity string) string {
	switch severity {
	case "critical", "high":
		return sarif.LevelError
	case "low":
		return sarif.LevelNote
	}
	return sarif.LevelWarning
}

// securitySeverity maps a severity to GitHub's security-severity score, a string.
func securitySeverity(severity string) string {
	switch severity {
	case "critical":
		return "9.5"
	case "high":
		return "8.0"
	case "low":
		return "3.0"
	}
	return "5.5"
}

// severityOrMedium is the severity, with unknown ones treated as medium like the SARIF mapping.
func severityOrMedium(severity string) string {
	if severityRank(severity) < len(severities) {
		return severity
	}
	return "medium"
}

// precision is how sure a rule's matches are: generic rules guess more.
func precision(ri rules.RuleInfo) string {
	if strings.Contains(ri.ID, "generic") || contains(ri.Tags, "generic") {
		return "medium"
	}
	return "high"
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// helpText explains how to deal with a finding, in plain text.
func helpText(id, desc string) string {
	return fmt.Sprintf(`%s (keywarden rule %s).

A secret committed to a repository must be treated as compromised, even if the commit was later reverted.

1. Rotate it: revoke the credential at its issuer and issue a new one. Do this first.
2. Remove it from the code and load it at run time from the environment or a secret manager.
3. Purge it from git history (git filter-repo or BFG Repo-Cleaner), force-push, and ask everyone with a clone to re-clone. Rotation is still required: forks, caches and CI logs may keep copies.
4. If this is not a real secret (a test fixture or an example), mark it instead: put a comment containing keywarden:allow on the line, or add the finding's fingerprint (partialFingerprints %q) as a line of .keywardenignore at the repository root.`,
		strings.TrimSuffix(desc, "."), id, SARIFFingerprintKey)
}

// helpMarkdown explains how to deal with a finding, in Markdown.
func helpMarkdown(id, desc string) string {
	return fmt.Sprintf(`**%s** (keywarden rule `+"`%s`"+`)

A secret committed to a repository must be treated as compromised, even if the commit was later reverted.

1. **Rotate it**: revoke the credential at its issuer and issue a new one. Do this first.
2. **Remove it** from the code and load it at run time from the environment or a secret manager.
3. **Purge it from git history** with `+"`git filter-repo`"+` or BFG Repo-Cleaner, force-push, and ask everyone with a clone to re-clone. Rotation is still required: forks, caches and CI logs may keep copies.
4. **If this is not a real secret** (a test fixture or an example), mark it instead: put a comment containing `+"`keywarden:allow`"+` on the line, or add the finding's fingerprint (`+"`partialFingerprints[\"%s\"]`"+`) as a line of `+"`.keywardenignore`"+` at the repository root.`,
		strings.TrimSuffix(desc, "."), id, SARIFFingerprintKey)
}
