package report

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/keywarden/keywarden/hsmcheck"
	"github.com/keywarden/keywarden/scanner"
)

// Text writes a short human-readable report: one block per finding, then a summary line.
type Text struct{}

// ANSI escapes for the severity labels.
const (
	ansiReset = "\x1b[0m"
	ansiGreen = "\x1b[32m"
	// ansiBanner is white on red, bold: the live-exposure banner must not be skimmed past.
	ansiBanner = "\x1b[1;97;41m"
)

var severityColors = map[string]string{
	"critical": "\x1b[1;31m", // bold red
	"high":     "\x1b[31m",   // red
	"medium":   "\x1b[33m",   // yellow
	"low":      "\x1b[36m",   // cyan
}

// textIndent lines up a finding's detail lines under its rule ID.
const textIndent = "          "

// Write implements Writer.
func (Text) Write(w io.Writer, res *Result) error {
	bw := bufio.NewWriter(w)
	if res.Incomplete {
		bw.WriteString(incompleteLine + "\n\n")
	}
	if b := liveBanner(res); b != "" {
		if res.Color {
			b = ansiBanner + b + ansiReset
		}
		bw.WriteString(b + "\n\n")
	}
	for _, f := range res.Findings {
		res.writeTextFinding(bw, f)
		bw.WriteString("\n")
	}
	sum := textSummary(res)
	if len(res.Findings) == 0 && res.Color {
		sum = ansiGreen + sum + ansiReset
	}
	bw.WriteString(sum + "\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing text report: %w", err)
	}
	return nil
}

// writeTextFinding writes one finding's block.
func (r *Result) writeTextFinding(w *bufio.Writer, f scanner.Finding) {
	sev := strings.ToUpper(clean(f.Severity))
	if sev == "" {
		sev = "UNKNOWN"
	}
	label := fmt.Sprintf("%-8s", sev)
	if c, ok := severityColors[f.Severity]; ok && r.Color {
		label = c + label + ansiReset
	}
	if f.Secret == "" && f.Description != "" {
		// A finding without a value (an inventory audit issue) is told by its description.
		fmt.Fprintf(w, "%s  %s  %s\n", label, clean(f.RuleID), clean(f.Description))
	} else {
		fmt.Fprintf(w, "%s  %s  %s\n", label, clean(f.RuleID), clean(r.secret(f)))
	}

	if len(f.Locations) > 0 {
		l := f.Locations[0]
		where := clean(l.Path)
		if l.Line > 0 {
			where += ":" + strconv.Itoa(l.Line)
		}
		where += binaryWhere(l) + detectorTag(l)
		if l.Image != "" {
			where += "  in " + clean(l.Image)
			if l.Layer > 0 {
				where += fmt.Sprintf(" layer %d", l.Layer)
			} else {
				where += " config"
			}
		}
		if l.Commit != "" {
			where += "  commit " + clean(shortCommit(l.Commit))
			if l.Author != "" {
				where += ", " + clean(l.Author)
			}
			if !l.Date.IsZero() {
				where += ", " + l.Date.Format(time.DateOnly)
			}
		}
		fmt.Fprintf(w, "%s%s\n", textIndent, where)
		if l.Note != "" {
			fmt.Fprintf(w, "%s%s\n", textIndent, clean(l.Note))
		}
		if l.Confirmed != "" {
			fmt.Fprintf(w, "%sconfirmed: %s\n", textIndent, clean(l.Confirmed))
		}
		if n := len(f.Locations) - 1; n > 0 {
			fmt.Fprintf(w, "%s+%d more %s\n", textIndent, n, plural(n, "location", "locations"))
		}
	}
	if k := f.Key; k != nil {
		desc := keyTypeName(k)
		if k.Bits > 0 && k.Type != "aes" { // "AES-256" has them
			desc += fmt.Sprintf(" %d", k.Bits)
		}
		if k.Curve != "" {
			desc += " " + k.Curve
		}
		if k.Encrypted {
			desc += ", encrypted"
		}
		if k.SSHFingerprint != "" {
			desc += ", " + k.SSHFingerprint
		}
		fmt.Fprintf(w, "%skey %s\n", textIndent, clean(desc))
	}
	for _, wk := range f.Weaknesses {
		if wk.ID == "unencrypted-private-key" {
			continue // every private key finding is one; it says nothing new
		}
		fmt.Fprintf(w, "%sweak: %s (%s): %s\n", textIndent, clean(wk.ID), clean(wk.Severity), clean(wk.Summary))
	}
	if s := f.Strength; s != nil && s.Grade != "strong" {
		fmt.Fprintf(w, "%s%s secret: %s\n", textIndent, clean(s.Grade), clean(s.Reason))
	}
	if e := f.Exposure; e != nil {
		writeTextExposure(w, e, r.Color)
	}
	if f.Fingerprint != "" {
		fmt.Fprintf(w, "%sfingerprint %s\n", textIndent, clean(f.Fingerprint))
	}
}

// binaryWhere says where a binary location's key lies in its file, " @ 0x1a2b", with the
// virtual address it was mapped at in a core file or minidump, " @ 0x1a2b (vaddr 0x7f3a…)";
// "" for a location in text. Offsets are hex, as a hex dump or debugger shows them.
func binaryWhere(l scanner.Location) string {
	if l.Offset == nil {
		return ""
	}
	s := " @ " + hexOffset(*l.Offset)
	if l.Address != "" {
		s += " (vaddr " + clean(l.Address) + ")"
	}
	return s
}

// detectorTag names the detector that found a binary location's key, " [der-pkcs8]"; "" for
// a location in text.
func detectorTag(l scanner.Location) string {
	if l.Detector == "" {
		return ""
	}
	return " [" + clean(l.Detector) + "]"
}

// hexOffset prints a byte offset in hex: "0x1a2b", "0x0".
func hexOffset(off int64) string {
	if off < 0 { // only a hand-edited report has one; show it rather than "0x-1"
		return "-0x" + strconv.FormatUint(uint64(-off), 16)
	}
	return "0x" + strconv.FormatInt(off, 16)
}

// keyTypeName names a key's algorithm for people: "AES-256" for an AES key, its type as the
// key analysis names it ("rsa", "ecdsa") otherwise.
func keyTypeName(k *scanner.KeyInfo) string {
	if k.Type != "aes" {
		return k.Type
	}
	if k.Bits > 0 {
		return "AES-" + strconv.Itoa(k.Bits)
	}
	return "AES"
}

// liveBanner is the line a report opens with when some finding is a live key, "" otherwise.
func liveBanner(r *Result) string {
	n := 0
	for _, f := range r.Findings {
		if f.Exposure != nil && f.Exposure.Status == hsmcheck.Live {
			n++
		}
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("!! LIVE EXPOSURE: %d leaked %s still active in your key inventory. Rotate %s now in %s HSM or KMS, then re-protect what %s protected.",
		n, plural(n, "key is", "keys are"), plural(n, "it", "them"), plural(n, "its", "their"), plural(n, "it", "they"))
}

// writeTextExposure says which inventory keys a finding matched and what that means.
func writeTextExposure(w *bufio.Writer, e *hsmcheck.Exposure, color bool) {
	switch e.Status {
	case hsmcheck.Live:
		label := "LIVE"
		if color {
			label = ansiBanner + label + ansiReset
		}
		fmt.Fprintf(w, "%s%s: the key is active in the inventory\n", textIndent, label)
	case hsmcheck.Retired:
		fmt.Fprintf(w, "%sretired: the key is out of use in the inventory, but data protected under it must be re-protected\n", textIndent)
	default:
		fmt.Fprintf(w, "%sexposure unknown: no inventory key matches\n", textIndent)
	}
	for _, m := range e.Matches {
		line := fmt.Sprintf("matches %s in %s, %s", clean(m.Ref()), clean(m.Inventory), clean(string(m.State)))
		if m.Scope != "" {
			line += ", scope " + clean(m.Scope)
		}
		line += ", by " + clean(m.By)
		if m.Confirmation != "" {
			line += " (" + clean(m.Confirmation) + ")"
		}
		fmt.Fprintf(w, "%s%s\n", textIndent, line)
	}
	if e.ScopeReuse {
		fmt.Fprintf(w, "%sscope-reuse: the same key is trusted in %s\n", textIndent, clean(strings.Join(e.Scopes, ", ")))
	}
}

// textSummary is the closing line of a text report, such as
// "3 findings (1 critical, 2 high) in 1,234 blobs, 45.6 MiB, 2.3s; 4 skipped".
func textSummary(r *Result) string {
	var b strings.Builder
	if len(r.Findings) == 0 {
		b.WriteString("no leaks found")
	} else {
		counts := map[string]int{}
		for _, f := range r.Findings {
			counts[f.Severity]++
		}
		sevs := make([]string, 0, len(counts))
		for s := range counts {
			sevs = append(sevs, s)
		}
		sort.Slice(sevs, func(i, j int) bool {
			ri, rj := severityRank(sevs[i]), severityRank(sevs[j])
			if ri != rj {
				return ri < rj
			}
			return sevs[i] < sevs[j]
		})
		parts := make([]string, 0, len(sevs))
		for _, s := range sevs {
			name := clean(s)
			if name == "" {
				name = "unknown"
			}
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], name))
		}
		n := len(r.Findings)
		fmt.Fprintf(&b, "%s %s (%s)", thousands(int64(n)), plural(n, "finding", "findings"), strings.Join(parts, ", "))
	}
	if r.Source == "inventory" {
		keys := 0
		for _, inv := range r.Inventories {
			keys += inv.Keys
		}
		fmt.Fprintf(&b, " in %s %s of %d %s", thousands(int64(keys)), plural(keys, "key", "keys"), len(r.Inventories), plural(len(r.Inventories), "inventory", "inventories"))
		return b.String()
	}
	b.WriteString(" in ")
	if c := r.Stats.Commits; c > 0 {
		fmt.Fprintf(&b, "%s %s, ", thousands(c), plural(int(min(c, 2)), "commit", "commits"))
	}
	one, many := "blob", "blobs"
	if r.Source == "dump" {
		one, many = "file", "files"
	}
	fmt.Fprintf(&b, "%s %s, %s, %s", thousands(r.Stats.Blobs), plural(int(min(r.Stats.Blobs, 2)), one, many),
		humanBytes(r.Stats.Bytes), humanDuration(r.Stats.Duration))
	skipped := max(r.Stats.Skipped, int64(len(r.Skipped)))
	if skipped > 0 {
		fmt.Fprintf(&b, "; %s skipped", thousands(skipped))
	}
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// thousands prints n with comma thousands separators: 1234567 is "1,234,567".
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// humanBytes prints a size in binary units with one decimal: "512 B", "45.6 MiB".
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n)/unit, 0
	for v >= unit && i < 4 {
		v /= unit
		i++
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGTP"[i])
}

// humanDuration prints a scan time: "850ms", "2.3s", "1m5s".
func humanDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	case d < time.Minute:
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
	}
	return d.Round(time.Second).String()
}

// clean escapes control and bidirectional-override characters, so that a crafted path, author
// or secret cannot move the cursor, rewrite the terminal, break a line or reorder the text.
func clean(s string) string {
	if strings.IndexFunc(s, unsafeRune) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unsafeRune(r) {
			q := strconv.QuoteRuneToASCII(r) // '\x1b', '\n'
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// unsafeRune reports whether r is a control character or a bidirectional override.
func unsafeRune(r rune) bool {
	return unicode.IsControl(r) || r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069 || r == 0x200E || r == 0x200F
}
