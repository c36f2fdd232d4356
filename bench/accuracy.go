// Package bench holds keywarden's benchmarks (see scan_test.go and the scripts beside it) and
// the accuracy scorer: a labelled corpus's ground truth, the hits a scanner reported, and the
// precision and recall per kind of secret that follow (docs/accuracy.md).
package bench

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/keywarden/keywarden/rules"
)

// Kinds are the kinds of secret the corpus labels, in table order: rules.Kinds but
// KindGeneric.
var Kinds = []string{
	"password",
	"connection-string",
	"password-hash",
	"token",
	"secret-key",
	"cloud-credential",
	"private-key",
	"encrypted-store",
}

const (
	// KindGeneric is the kind of a rule that finds secrets of any kind (gitleaks'
	// generic-api-key): its hits match a truth entry of any kind.
	KindGeneric = rules.KindGeneric
	// KindUnknown is given to a hit whose rule is not in the ruleset or has no kind.
	KindUnknown = "unknown"
	// KindAll names the table's total row.
	KindAll = "all"
)

// ValidKind reports whether k is one of Kinds.
func ValidKind(k string) bool { return slices.Contains(Kinds, k) }

// Entry is one labelled secret: the file (relative to the corpus, slash-separated), the 1-based
// line the secret starts on, and its kind.
type Entry struct {
	Path string
	Line int
	Kind string
}

func (e Entry) String() string { return fmt.Sprintf("%s:%d:%s", e.Path, e.Line, e.Kind) }

// Truth is a corpus's ground truth: the secrets in it, and the files with nothing to find.
type Truth struct {
	Entries []Entry  // in file order
	Decoys  []string // paths, in file order
}

// Paths returns every path the truth names, entries' and decoys', sorted, each once.
func (t Truth) Paths() []string {
	var ps []string
	for _, e := range t.Entries {
		ps = append(ps, e.Path)
	}
	ps = append(ps, t.Decoys...)
	slices.Sort(ps)
	return slices.Compact(ps)
}

// LoadTruth reads a truth file (see ParseTruth).
func LoadTruth(name string) (Truth, error) {
	f, err := os.Open(name)
	if err != nil {
		return Truth{}, fmt.Errorf("reading truth file: %w", err)
	}
	defer f.Close()
	return ParseTruth(f, name)
}

// ParseTruth reads the truth file format, one item a line:
//
//	PATH:LINE:KIND   a secret of KIND (one of Kinds) starting on 1-based LINE of PATH
//	PATH:decoy       a file with nothing to find
//
// PATH is relative to the corpus, with forward slashes; it may itself hold colons, as the
// fields are split at the last ones. Blank lines are skipped, and so is everything from a "#"
// that starts a line or follows a space or tab. name is used in errors, which give the line
// number. A path both decoy and holding entries, a path listed as decoy twice, and the same
// entry twice are errors.
func ParseTruth(r io.Reader, name string) (Truth, error) {
	var (
		t       Truth
		seen    = map[Entry]int{}
		decoys  = map[string]int{}
		entries = map[string]int{} // path -> line number of its first entry
	)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		text := stripComment(sc.Text())
		if text == "" {
			continue
		}
		bad := func(format string, args ...any) error {
			return fmt.Errorf("%s:%d: %s (in %q; want PATH:LINE:KIND or PATH:decoy)", name, n, fmt.Sprintf(format, args...), text)
		}
		i := strings.LastIndexByte(text, ':')
		if i < 0 {
			return Truth{}, bad("no colon")
		}
		head, last := text[:i], text[i+1:]
		if last == "decoy" {
			p, err := cleanTruthPath(head)
			if err != nil {
				return Truth{}, bad("%v", err)
			}
			if prev, ok := decoys[p]; ok {
				return Truth{}, bad("%s is already a decoy on line %d", p, prev)
			}
			if prev, ok := entries[p]; ok {
				return Truth{}, bad("%s is a decoy but has an entry on line %d", p, prev)
			}
			decoys[p] = n
			t.Decoys = append(t.Decoys, p)
			continue
		}
		j := strings.LastIndexByte(head, ':')
		if j < 0 {
			return Truth{}, bad("%q is not \"decoy\" and there is no LINE field", last)
		}
		p, err := cleanTruthPath(head[:j])
		if err != nil {
			return Truth{}, bad("%v", err)
		}
		line, err := strconv.Atoi(strings.TrimSpace(head[j+1:]))
		if err != nil || line < 1 {
			return Truth{}, bad("LINE %q is not a line number (1 or more)", head[j+1:])
		}
		kind := strings.TrimSpace(last)
		if !ValidKind(kind) {
			return Truth{}, bad("unknown kind %q (want one of %s)", kind, strings.Join(Kinds, ", "))
		}
		if prev, ok := decoys[p]; ok {
			return Truth{}, bad("%s has an entry but is a decoy on line %d", p, prev)
		}
		e := Entry{Path: p, Line: line, Kind: kind}
		if prev, ok := seen[e]; ok {
			return Truth{}, bad("duplicate of line %d", prev)
		}
		seen[e] = n
		if _, ok := entries[p]; !ok {
			entries[p] = n
		}
		t.Entries = append(t.Entries, e)
	}
	if err := sc.Err(); err != nil {
		return Truth{}, fmt.Errorf("%s:%d: %w", name, n+1, err)
	}
	return t, nil
}

// stripComment removes a comment and surrounding blanks from a truth line.
func stripComment(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '#' && (i == 0 || s[i-1] == ' ' || s[i-1] == '\t') {
			s = s[:i]
			break
		}
	}
	return strings.TrimSpace(s)
}

// cleanTruthPath checks that p is a relative slash path inside the corpus.
func cleanTruthPath(p string) (string, error) {
	p = strings.TrimSpace(p)
	switch {
	case p == "":
		return "", errors.New("empty PATH")
	case strings.Contains(p, `\`):
		return "", fmt.Errorf("PATH %q has a backslash (use /)", p)
	case path.IsAbs(p):
		return "", fmt.Errorf("PATH %q is absolute (want it relative to the corpus)", p)
	}
	c := path.Clean(p)
	if c != p {
		return "", fmt.Errorf("PATH %q is not clean (want %q)", p, c)
	}
	if c == "." || c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("PATH %q is outside the corpus", p)
	}
	return c, nil
}

// Hit is one place a scanner reported a secret: a finding with several locations gives one hit
// per location. Path is relative to the corpus, slash-separated; lines are 1-based and
// inclusive. StartLine 0 means the finding has no position (a path-only rule, such as
// gitleaks' pkcs12-file, matched the file name): the hit covers the whole file.
type Hit struct {
	Path      string
	StartLine int
	EndLine   int
	RuleID    string
	Kind      string // one of Kinds, KindGeneric, or KindUnknown
}

func (h Hit) String() string {
	return fmt.Sprintf("%s:%d %s %s", h.Path, h.StartLine, h.RuleID, h.Kind)
}

// covers reports whether h spans line of its file.
func (h Hit) covers(line int) bool {
	if h.StartLine <= 0 {
		return true
	}
	end := max(h.EndLine, h.StartLine)
	return h.StartLine <= line && line <= end
}

// Row is one kind's line of a Table.
type Row struct {
	Kind  string
	Truth int // truth entries of this kind
	Found int // of those, matched by at least one hit
	TP    int // hits matching an entry, counted under the entry's kind
	FP    int // hits matching none, counted under the hit's own kind
}

// FN is the number of truth entries no hit matched.
func (r Row) FN() int { return r.Truth - r.Found }

// Precision is TP/(TP+FP); ok is false when the row has no hits.
func (r Row) Precision() (p float64, ok bool) {
	if r.TP+r.FP == 0 {
		return 0, false
	}
	return float64(r.TP) / float64(r.TP+r.FP), true
}

// Recall is Found/Truth; ok is false when the row has no truth entries.
func (r Row) Recall() (rc float64, ok bool) {
	if r.Truth == 0 {
		return 0, false
	}
	return float64(r.Found) / float64(r.Truth), true
}

// Table is a scanner's score on a corpus.
type Table struct {
	// Rows holds every kind of Kinds in order (each even when empty), then KindGeneric and any
	// other kind that had hits, then KindAll.
	Rows []Row
	FNs  []Entry // truth entries no hit matched, by path and line
	FPs  []Hit   // hits that matched no entry, by path and line
}

// Row returns the row of kind.
func (t Table) Row(kind string) (Row, bool) {
	for _, r := range t.Rows {
		if r.Kind == kind {
			return r, true
		}
	}
	return Row{}, false
}

// Score matches hits against the truth:
//
//   - A hit matches a truth entry with the same path and a line within the hit's
//     StartLine..EndLine (an EndLine below StartLine counts as StartLine; a StartLine of 0
//     covers the whole file), if the kinds agree or the hit's kind is KindGeneric, which
//     matches an entry of any kind.
//   - A hit that matches an entry is a true positive, counted once under the entry's kind. If
//     it matches several, it is counted under the first of them by line, then by the order of
//     Kinds; every entry it matches counts as found.
//   - A hit that matches nothing is a false positive, counted under its own kind (a generic
//     hit under KindGeneric), wherever it is: a decoy, a file with entries, or a file the
//     truth does not name.
//   - An entry no hit matches is a false negative.
//
// Recall per kind is found entries over entries; precision per kind is TP/(TP+FP) over the
// hits counted under that kind. The KindAll row sums every row.
func Score(truth Truth, hits []Hit) Table {
	byPath := map[string][]int{} // path -> indexes into truth.Entries
	for i, e := range truth.Entries {
		byPath[e.Path] = append(byPath[e.Path], i)
	}
	kindOrder := func(k string) int {
		if i := slices.Index(Kinds, k); i >= 0 {
			return i
		}
		return len(Kinds)
	}
	rows := map[string]*Row{}
	row := func(k string) *Row {
		r, ok := rows[k]
		if !ok {
			r = &Row{Kind: k}
			rows[k] = r
		}
		return r
	}
	for _, e := range truth.Entries {
		row(e.Kind).Truth++
	}
	found := make([]bool, len(truth.Entries))
	var t Table
	for _, h := range hits {
		if h.Kind == "" {
			h.Kind = KindUnknown
		}
		best := -1
		for _, i := range byPath[h.Path] {
			e := truth.Entries[i]
			if !h.covers(e.Line) || h.Kind != KindGeneric && h.Kind != e.Kind {
				continue
			}
			found[i] = true
			if b := best; b < 0 || e.Line < truth.Entries[b].Line ||
				e.Line == truth.Entries[b].Line && kindOrder(e.Kind) < kindOrder(truth.Entries[b].Kind) {
				best = i
			}
		}
		if best >= 0 {
			row(truth.Entries[best].Kind).TP++
			continue
		}
		row(h.Kind).FP++
		t.FPs = append(t.FPs, h)
	}
	for i, e := range truth.Entries {
		if found[i] {
			row(e.Kind).Found++
		} else {
			t.FNs = append(t.FNs, e)
		}
	}

	all := Row{Kind: KindAll}
	add := func(k string) {
		r := *row(k)
		t.Rows = append(t.Rows, r)
		all.Truth += r.Truth
		all.Found += r.Found
		all.TP += r.TP
		all.FP += r.FP
	}
	for _, k := range Kinds {
		add(k)
	}
	var extra []string
	for k := range rows {
		if !ValidKind(k) {
			extra = append(extra, k)
		}
	}
	slices.SortFunc(extra, func(a, b string) int { // generic first, then by name
		if (a == KindGeneric) != (b == KindGeneric) {
			if a == KindGeneric {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	for _, k := range extra {
		add(k)
	}
	t.Rows = append(t.Rows, all)

	slices.SortStableFunc(t.FNs, func(a, b Entry) int {
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return kindOrder(a.Kind) - kindOrder(b.Kind)
	})
	slices.SortStableFunc(t.FPs, func(a, b Hit) int {
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		if a.StartLine != b.StartLine {
			return a.StartLine - b.StartLine
		}
		return strings.Compare(a.RuleID, b.RuleID)
	})
	return t
}

// ratio formats a precision or recall: three decimals, "-" when there is nothing to divide.
func ratio(v float64, ok bool) string {
	if !ok {
		return "-"
	}
	return fmt.Sprintf("%.3f", v)
}

// Format writes the table, then its false negatives and false positives. It prints paths,
// lines, rule IDs and kinds only, never a secret.
func (t Table) Format(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "%-18s %6s %5s %5s %5s %9s %7s\n", "kind", "truth", "TP", "FP", "FN", "precision", "recall")
	for _, r := range t.Rows {
		p, pok := r.Precision()
		rc, rok := r.Recall()
		fmt.Fprintf(bw, "%-18s %6d %5d %5d %5d %9s %7s\n", r.Kind, r.Truth, r.TP, r.FP, r.FN(), ratio(p, pok), ratio(rc, rok))
	}
	t.formatLists(bw, "")
	return bw.Flush()
}

func (t Table) formatLists(w io.Writer, name string) {
	if name != "" {
		name += " "
	}
	fmt.Fprintf(w, "\n%sfalse negatives (%d): path:line:kind\n", name, len(t.FNs))
	for _, e := range t.FNs {
		fmt.Fprintf(w, "  %s\n", e)
	}
	fmt.Fprintf(w, "\n%sfalse positives (%d): path:line rule kind\n", name, len(t.FPs))
	for _, h := range t.FPs {
		fmt.Fprintf(w, "  %s\n", h)
	}
}

// Scored is one scanner's table, for FormatSideBySide.
type Scored struct {
	Name  string // column heading, e.g. "keywarden"
	Table Table
}

// FormatSideBySide writes one row per kind with each scanner's TP, FP, FN, precision and recall
// next to each other, then each scanner's false negatives and false positives (see Format).
// A kind is listed if any of the tables lists it.
func FormatSideBySide(w io.Writer, tools []Scored) error {
	var kinds []string
	truth := map[string]int{}
	for _, s := range tools {
		for _, r := range s.Table.Rows {
			if !slices.Contains(kinds, r.Kind) {
				kinds = append(kinds, r.Kind)
			}
			truth[r.Kind] = max(truth[r.Kind], r.Truth)
		}
	}
	// The tables list Kinds first and KindAll last; a kind only one of them has goes before
	// KindAll.
	if i := slices.Index(kinds, KindAll); i >= 0 {
		kinds = append(slices.Delete(kinds, i, i+1), KindAll)
	}
	const cell = "%5s %5s %5s %9s %7s"
	bw := bufio.NewWriter(w)
	var line strings.Builder
	endLine := func() {
		fmt.Fprintln(bw, strings.TrimRight(line.String(), " "))
		line.Reset()
	}
	fmt.Fprintf(&line, "%-18s %6s", "", "")
	for _, s := range tools {
		fmt.Fprintf(&line, " | %-35s", s.Name)
	}
	endLine()
	fmt.Fprintf(&line, "%-18s %6s", "kind", "truth")
	for range tools {
		fmt.Fprintf(&line, " | "+cell, "TP", "FP", "FN", "precision", "recall")
	}
	endLine()
	for _, k := range kinds {
		fmt.Fprintf(&line, "%-18s %6d", k, truth[k])
		for _, s := range tools {
			r, ok := s.Table.Row(k)
			if !ok {
				r = Row{Kind: k, Truth: truth[k]}
			}
			p, pok := r.Precision()
			rc, rok := r.Recall()
			fmt.Fprintf(&line, " | "+cell, strconv.Itoa(r.TP), strconv.Itoa(r.FP), strconv.Itoa(r.FN()), ratio(p, pok), ratio(rc, rok))
		}
		endLine()
	}
	for _, s := range tools {
		s.Table.formatLists(bw, s.Name)
	}
	return bw.Flush()
}

// RuleKinds returns a function giving the kind of a rule of rs (rules.RuleInfo.Kind):
// KindUnknown for a rule rs does not have or that has no kind.
func RuleKinds(rs *rules.Ruleset) func(ruleID string) string {
	return func(id string) string {
		info, ok := rs.Rule(id)
		if !ok || info.Kind == "" {
			return KindUnknown
		}
		return info.Kind
	}
}

// KeywardenHits reads a keywarden JSON report (docs/json-schema.md) of a scan of the corpus
// directory: one hit per location of each finding. A finding's kind is its "kind" field, or,
// in a report that has none, kindOf(rule_id).
func KeywardenHits(r io.Reader, kindOf func(ruleID string) string) ([]Hit, error) {
	var rep struct {
		SchemaVersion int `json:"schema_version"`
		Findings      *[]struct {
			RuleID    string `json:"rule_id"`
			Kind      string `json:"kind"`
			Locations []struct {
				Path    string `json:"path"`
				Line    int    `json:"line"`
				EndLine int    `json:"end_line"`
			} `json:"locations"`
		} `json:"findings"`
	}
	if err := json.NewDecoder(r).Decode(&rep); err != nil {
		return nil, fmt.Errorf("reading keywarden JSON report: %w", err)
	}
	if rep.Findings == nil {
		return nil, errors.New("reading keywarden JSON report: no \"findings\" (not a keywarden JSON report?)")
	}
	if rep.SchemaVersion != 1 {
		return nil, fmt.Errorf("reading keywarden JSON report: schema_version %d (want 1)", rep.SchemaVersion)
	}
	var hits []Hit
	for _, f := range *rep.Findings {
		kind := f.Kind
		if kind == "" {
			kind = kindOf(f.RuleID)
		}
		for _, l := range f.Locations {
			hits = append(hits, Hit{Path: filepath.ToSlash(l.Path), StartLine: l.Line, EndLine: l.EndLine, RuleID: f.RuleID, Kind: kind})
		}
	}
	return hits, nil
}

// GitleaksHits reads a gitleaks JSON report (an array of findings) of `gitleaks dir ROOT`: one
// hit per finding, with ROOT (the directory as given on gitleaks' command line) taken off the
// front of each File. A file outside ROOT is an error. kindOf gives each rule's kind.
func GitleaksHits(r io.Reader, root string, kindOf func(ruleID string) string) ([]Hit, error) {
	var rep []struct {
		RuleID    string
		File      string
		StartLine int
		EndLine   int
	}
	if err := json.NewDecoder(r).Decode(&rep); err != nil {
		return nil, fmt.Errorf("reading gitleaks JSON report: %w", err)
	}
	root = path.Clean(filepath.ToSlash(root))
	hits := make([]Hit, 0, len(rep))
	for _, f := range rep {
		p := path.Clean(filepath.ToSlash(f.File))
		if root != "." {
			rel, ok := strings.CutPrefix(p, strings.TrimSuffix(root, "/")+"/")
			if !ok {
				return nil, fmt.Errorf("reading gitleaks JSON report: file %q is not under %q", f.File, root)
			}
			p = rel
		}
		hits = append(hits, Hit{Path: p, StartLine: f.StartLine, EndLine: f.EndLine, RuleID: f.RuleID, Kind: kindOf(f.RuleID)})
	}
	return hits, nil
}
