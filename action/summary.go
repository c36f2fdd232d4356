package action

import (
	"cmp"
	"fmt"
	"io"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/keywarden/keywarden/report"
)

// maxSummaryRows caps the findings table: a step summary may hold at most 1 MiB.
const maxSummaryRows = 200

// finish prints the annotations and writes the summary and the step outputs. Only a failure
// to write the outputs is an error: without them the job cannot end with the right code.
func finish(getenv func(string) string, stdout io.Writer, o *outcome) error {
	lines, omitted := annotations(o)
	for _, l := range lines {
		fmt.Fprintln(stdout, l)
	}
	if omitted > 0 {
		fmt.Fprintln(stdout, command("notice", []property{{"title", "keywarden"}},
			fmt.Sprintf("%d more %s not annotated (at most %d are); see the job summary", omitted, plural(omitted, "finding", "findings"), maxAnnotations)))
	}
	for _, n := range o.notices {
		fmt.Fprintln(stdout, command("notice", []property{{"title", "keywarden"}}, n))
	}
	if o.err != nil {
		fmt.Fprintln(stdout, command("error", []property{{"title", "keywarden"}}, o.err.Error()))
	}
	if p := getenv("GITHUB_STEP_SUMMARY"); p != "" {
		if err := appendFile(p, summary(o, len(lines), omitted)); err != nil {
			fmt.Fprintln(stdout, command("warning", []property{{"title", "keywarden"}}, "writing the job summary: "+err.Error()))
		}
	}
	if p := getenv("GITHUB_OUTPUT"); p != "" {
		if err := writeOutputs(p, stepOutputs(o)); err != nil {
			return fmt.Errorf("writing step outputs: %w", err)
		}
	}
	return nil
}

// stepOutputs are the scan step's outputs: action.yml passes on the first three as the
// action's outputs and uses the others for the upload.
func stepOutputs(o *outcome) map[string]string {
	findings := 0
	if o.rep != nil {
		findings = len(o.rep.Findings)
	}
	return map[string]string{
		"findings":       strconv.Itoa(findings),
		"sarif-path":     o.sarifPath,
		"exit-code":      strconv.Itoa(o.code),
		"sarif-category": o.plan.category,
		"checkout-path":  o.checkout,
	}
}

// ordered returns the indexes of the findings, most severe first, in report order within a
// severity.
func ordered(o *outcome) []int {
	if o.rep == nil {
		return nil
	}
	idx := make([]int, len(o.rep.Findings))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		return findingRank(o.rep.Findings[idx[a]].Severity) < findingRank(o.rep.Findings[idx[b]].Severity)
	})
	return idx
}

// annotations returns one workflow command a finding, at its first location: an error for
// findings at or above fail-on, a warning for the rest. It returns at most maxAnnotations
// and how many findings were left out.
func annotations(o *outcome) (lines []string, omitted int) {
	gate := map[int]bool{}
	for _, i := range o.gating() {
		gate[i] = true
	}
	for _, i := range ordered(o) {
		if len(lines) == maxAnnotations {
			omitted++
			continue
		}
		f := o.rep.Findings[i]
		level := "warning"
		if gate[i] {
			level = "error"
		}
		props := []property{}
		msg := fmt.Sprintf("%s: %s", strings.TrimSuffix(cmp.Or(strings.TrimSpace(f.Description), "secret matched by rule "+f.RuleID), "."), f.Secret)
		if len(f.Locations) > 0 {
			l := f.Locations[0]
			if file, ok := annotationFile(o.prefix, l); ok {
				props = append(props, property{"file", file})
				if l.Line > 0 {
					end := max(l.EndLine, l.Line)
					props = append(props, property{"line", strconv.Itoa(l.Line)}, property{"endLine", strconv.Itoa(end)})
					// GitHub takes columns only on single-line annotations; its endColumn is
					// inclusive, as ours.
					if end == l.Line && l.Column > 0 && l.EndColumn >= l.Column {
						props = append(props, property{"col", strconv.Itoa(l.Column)}, property{"endColumn", strconv.Itoa(l.EndColumn)})
					}
				}
			}
			if l.Commit != "" {
				msg += " (introduced in commit " + short(l.Commit) + ")"
			}
			if l.Image != "" {
				where := "config"
				if l.Layer > 0 {
					where = fmt.Sprintf("layer %d", l.Layer)
				}
				msg += fmt.Sprintf(" (in image %s, %s, %s)", l.Image, where, l.Path)
				if l.RemovedInLayer > 0 {
					msg += fmt.Sprintf("; deleted in layer %d but still extractable", l.RemovedInLayer)
				}
			}
			if n := len(f.Locations) - 1; n > 0 {
				msg += fmt.Sprintf("; %d more %s", n, plural(n, "place", "places"))
			}
		}
		props = append(props, property{"title", fmt.Sprintf("keywarden: %s (%s)", f.RuleID, f.Severity)})
		lines = append(lines, command(level, props, msg))
	}
	return lines, omitted
}

// annotationFile returns a location's path relative to the repository root, if it is a file
// of the repository.
func annotationFile(prefix string, l report.JSONLocation) (string, bool) {
	if (l.Source != "git" && l.Source != "dir") || l.Path == "" || strings.HasPrefix(l.Path, "/") {
		return "", false
	}
	return path.Clean(repoPath(prefix, l)), true
}

// summary renders the job summary in Markdown. Secrets appear only redacted, as the report
// holds them.
func summary(o *outcome, annotated, omitted int) string {
	var b strings.Builder
	n := 0
	if o.rep != nil {
		n = len(o.rep.Findings)
	}
	gating := len(o.gating())
	switch {
	case o.err != nil:
		b.WriteString("### keywarden: error\n\n")
	case n == 0:
		b.WriteString("### keywarden: no secrets found\n\n")
	default:
		fmt.Fprintf(&b, "### keywarden: %d %s\n\n", n, plural(n, "finding", "findings"))
	}

	var facts []string
	if o.plan.scope != "" {
		s := "**Scanned:** " + o.plan.scope
		if o.rep != nil {
			st := o.rep.Stats
			s += fmt.Sprintf(" (%d %s, %d %s, %.1f MiB)", st.Commits, plural(int(st.Commits), "commit", "commits"),
				st.Blobs, plural(int(st.Blobs), "blob", "blobs"), float64(st.Bytes)/(1<<20))
			if st.Commits == 0 && o.rep.Scan.Source != "git" {
				s = "**Scanned:** " + o.plan.scope + fmt.Sprintf(" (%d %s, %.1f MiB)", st.Blobs, plural(int(st.Blobs), "file", "files"), float64(st.Bytes)/(1<<20))
			}
		}
		facts = append(facts, s)
	}
	if o.plan.skip != "" {
		facts = append(facts, "**Skipped:** "+o.plan.skip)
	}
	switch {
	case o.err != nil:
		facts = append(facts, "**Error:** "+mdCode(o.err.Error()))
		facts = append(facts, fmt.Sprintf("**Result:** exit code %d: the scan failed", o.code))
		if n > 0 {
			facts = append(facts, "The findings below come from an incomplete scan; no SARIF was written for it.")
		}
	case o.in.failOn == failNever:
		facts = append(facts, fmt.Sprintf("**Result:** exit code %d: fail-on is %s, so findings do not fail the job", o.code, mdCode(failNever)))
	case gating > 0:
		facts = append(facts, fmt.Sprintf("**Result:** exit code %d: %d %s at or above %s (fail-on) %s the job",
			o.code, gating, plural(gating, "finding", "findings"), mdCode(o.in.failOn), plural(gating, "fails", "fail")))
	default:
		facts = append(facts, fmt.Sprintf("**Result:** exit code %d: nothing at or above %s (fail-on)", o.code, mdCode(o.in.failOn)))
	}
	if o.sarifPath != "" {
		if o.in.upload {
			facts = append(facts, "**SARIF:** uploaded to code scanning by the next step (category "+mdCode(o.plan.category)+")")
		} else {
			facts = append(facts, "**SARIF:** written to "+mdCode(o.sarifPath)+"; upload-sarif is off")
		}
	}
	if omitted > 0 {
		facts = append(facts, fmt.Sprintf("**Annotations:** %d of %d findings annotated; %d left out (at most %d are)", annotated, n, omitted, maxAnnotations))
	}
	for _, no := range o.notices {
		facts = append(facts, "**Note:** "+mdText(no))
	}
	b.WriteString(strings.Join(facts, "  \n"))
	b.WriteString("\n\n")
	if n == 0 {
		return b.String()
	}

	counts := map[string]int{}
	other := 0
	for _, f := range o.rep.Findings {
		if severityRank(f.Severity) < len(severities) {
			counts[f.Severity]++
		} else {
			other++
		}
	}
	b.WriteString("| severity | findings |\n| --- | ---: |\n")
	for _, s := range severities {
		fmt.Fprintf(&b, "| %s | %d |\n", s, counts[s])
	}
	if other > 0 {
		fmt.Fprintf(&b, "| other | %d |\n", other)
	}
	b.WriteString("\n")
	if line := exposureLine(o.exposure); line != "" {
		b.WriteString(line + "\n\n")
	}

	b.WriteString("| severity | rule | secret | location | commit |")
	if o.exposure != nil {
		b.WriteString(" exposure |")
	}
	b.WriteString("\n| --- | --- | --- | --- | --- |")
	if o.exposure != nil {
		b.WriteString(" --- |")
	}
	b.WriteString("\n")
	rows := 0
	for _, i := range ordered(o) {
		if rows == maxSummaryRows {
			break
		}
		rows++
		f := o.rep.Findings[i]
		where, commit := "", ""
		if len(f.Locations) > 0 {
			l := f.Locations[0]
			where = repoPath(o.prefix, l)
			if l.Line > 0 {
				where += ":" + strconv.Itoa(l.Line)
			}
			where = mdCode(where)
			if more := len(f.Locations) - 1; more > 0 {
				where += fmt.Sprintf(" and %d more", more)
			}
			if l.Commit != "" {
				commit = mdCode(short(l.Commit))
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |", mdText(f.Severity), mdCode(f.RuleID), mdCode(f.Secret), where, commit)
		if o.exposure != nil {
			fmt.Fprintf(&b, " %s |", mdText(cmp.Or(o.exposure[i], "not checked")))
		}
		b.WriteString("\n")
	}
	if n > rows {
		fmt.Fprintf(&b, "\n%d more %s not listed; the SARIF file has them all.\n", n-rows, plural(n-rows, "finding", "findings"))
	}
	return b.String()
}

// exposureLine summarises the findings' exposure ("live": the credential still works), or
// returns "" when no finding has one: reports from before the field existed get no line.
func exposureLine(exposure []string) string {
	if exposure == nil {
		return ""
	}
	counts := map[string]int{}
	for _, e := range exposure {
		counts[cmp.Or(e, "not checked")]++
	}
	live := counts["live"]
	delete(counts, "live")
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var rest []string
	for _, k := range keys {
		rest = append(rest, fmt.Sprintf("%d %s", counts[k], mdText(k)))
	}
	s := fmt.Sprintf("**Live exposure:** %d of %d %s %s live", live, len(exposure), plural(len(exposure), "finding", "findings"), plural(live, "is", "are"))
	if live > 0 {
		s += ": rotate " + plural(live, "it", "them") + " first"
	}
	if len(rest) > 0 {
		s += " (others: " + strings.Join(rest, ", ") + ")"
	}
	if live > 0 {
		// GitHub renders a CAUTION alert as a red box: a live key is the one thing on the page
		// that cannot wait.
		return "> [!CAUTION]\n> " + s
	}
	return s
}

// mdCode renders s as a Markdown code span that is safe inside a table cell: the fence is
// longer than any backtick run in s, pipes are escaped (tables split cells before code spans
// are parsed) and line breaks become spaces.
func mdCode(s string) string {
	s = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ", "|", `\|`).Replace(s)
	longest, run := 0, 0
	for _, c := range s {
		if c == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if longest > 0 || strings.HasPrefix(s, " ") || strings.HasSuffix(s, " ") {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

// mdText escapes s as plain Markdown text: HTML and Markdown punctuation are escaped so that
// repository content cannot add links, images, mentions or markup.
func mdText(s string) string {
	var b strings.Builder
	for _, c := range strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s) {
		switch c {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '\\', '`', '*', '_', '[', ']', '(', ')', '#', '|', '!', '@', '~':
			b.WriteByte('\\')
			b.WriteRune(c)
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}
