package rules

import (
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"
	"unsafe"

	ahocorasick "github.com/BobuSumisu/aho-corasick"
	"github.com/zricethezav/gitleaks/v8/config"
	"github.com/zricethezav/gitleaks/v8/detect/codec"
)

const (
	// defaultDecodeDepth is gitleaks' default --max-decode-depth.
	defaultDecodeDepth = 5
	// longWindow is how far past a keyword a rule whose matches have no line bound (PEM
	// private keys, multi-line curl commands) is run. A match longer than this is missed,
	// where gitleaks, running over the whole text, would find it.
	longWindow = 64 << 10
)

// Allow comments: a line holding one of these suppresses the matches on it.
var allowSignatures = []string{"gitleaks:allow", "keywarden:allow"}

// DetectorOptions configures a Detector.
type DetectorOptions struct {
	// MaxDecodeDepth is how many decoding passes (base64, hex, percent, unicode escapes)
	// follow the plain one: 0 means gitleaks' default of 5, -1 disables decoding.
	MaxDecodeDepth int
}

// Detector finds rule matches with gitleaks' semantics, running each regex only near its
// keywords. It is immutable once built and safe for concurrent use.
//
// gitleaks lower-cases the text, looks for every rule's keywords with one Aho-Corasick pass, and
// runs each rule whose keyword occurs over the whole text. The same pass here also records
// where keywords occur, and a rule runs only over windows of whole lines around them, as wide
// as its regex allows a match to reach (see analyze and keywordPass.window). Rules whose
// matches need not contain a keyword, or that anchor on the start of the text, still run over
// the whole text when a keyword occurs, and rules without keywords always do. Everything after
// the regex (secret group, entropy, allow comments, allowlists, decoding passes, generic rules
// giving way to specific ones, composite rules) follows gitleaks' detect.go step by step.
//
// Known differences from gitleaks v8.30.1, all deliberate:
//   - a match reaching more than 64 KiB past its keyword (a PEM key that long) is missed;
//   - columns count code points and are right on every line (gitleaks counts bytes and is one
//     off after the first line, gitleaks#1424);
//   - on a last line without a newline, allow comments and line allowlists see that line, where
//     gitleaks sees the whole text up to it; and line allowlists never see gitleaks' leading
//     newline, so a ^ in them works on every line;
//   - entropy is summed in a fixed order, so it does not vary in its last bits between runs;
//   - withinColumns of composite rules compares these code-point columns.
type Detector struct {
	rules    []*drule // rules with a regex, sorted by ID
	byID     map[string]*drule
	pathOnly []*drule

	trie    *ahocorasick.Trie
	kwRules [][]int32 // trie pattern number -> indices into rules

	globals        []*config.Allowlist // all global allowlists, for path and commit checks
	globalContent  []*config.Allowlist // global allowlists Detect decides on
	globalDeferred []*config.Allowlist // global AND allowlists that also need path or commit

	maxDepth int
	states   sync.Pool
}

// drule is a rule with what detection precomputes for it.
type drule struct {
	config.Rule // without Regex: see rx
	// rx is the rule's regex, compiled on first use for a built-in rule. Rules are run only
	// where their keywords occur, so a small scan compiles few of them.
	rx    *lazyRegex
	idx   int
	shape shape
	// generic is how much of a guess the rule is: 2 for gitleaks' generic rules (an ID with
	// "generic"), 1 for keywarden's fallback rules (tag "generic", such as
	// password-assignment), 0 for the rest. A match gives way to a less generic one.
	generic int
	// contentAllow are the allowlists decidable from a match alone; deferredAllow are AND
	// allowlists that also need a path or commit.
	contentAllow  []*config.Allowlist
	deferredAllow []*config.Allowlist
	// conditional means Allowed may suppress a match Detect kept, which matters to the
	// matches it supersedes (generic ones) or completes (composite ones).
	conditional bool
	required    []dreq
	// gated rules (a path, no keywords) run only over text from a file their path fits.
	gated bool
	// refine checks or splits the rule's matches where a regex cannot (see refiners).
	refine func(Match) []Match

	viableOnce sync.Once
	viab       *viability
}

// viable returns the rule's viability checker, built on first use.
func (r *drule) viable() *viability {
	r.viableOnce.Do(func() { r.viab = newViability(r.rx.expr) })
	return r.viab
}

type dreq struct {
	rule          *drule
	withinLines   *int
	withinColumns *int
}

// NewDetector prepares rs for detection.
func NewDetector(rs *Ruleset, opts DetectorOptions) *Detector {
	cfg := &rs.cfg // not Config, which compiles every regex
	d := &Detector{byID: map[string]*drule{}, maxDepth: opts.MaxDecodeDepth}
	switch {
	case opts.MaxDecodeDepth == 0:
		d.maxDepth = defaultDecodeDepth
	case opts.MaxDecodeDepth < 0:
		d.maxDepth = 0
	}

	d.globals = cfg.Allowlists
	for _, a := range cfg.Allowlists {
		switch {
		case a.MatchCondition == config.AllowlistMatchAnd && hasPathOrCommit(a) && hasContent(a):
			d.globalDeferred = append(d.globalDeferred, a)
		case hasContent(a):
			d.globalContent = append(d.globalContent, a)
		}
	}

	for _, id := range sortedIDs(cfg.Rules) {
		r := &drule{Rule: cfg.Rules[id]}
		switch {
		case strings.Contains(strings.ToLower(id), "generic"):
			r.generic = 2
		case slices.Contains(r.Tags, "generic"):
			r.generic = 1
		}
		r.Tags = ruleTags(r.Tags)
		r.gated = r.Path != nil && len(r.Keywords) == 0
		r.refine = refiners[id]
		if r.Regex == nil {
			if r.Path != nil {
				d.pathOnly = append(d.pathOnly, r)
			}
			continue
		}
		// A built-in rule's Regex is a placeholder that must never run; with Regex cleared,
		// any use of it instead of rx fails loudly for every rule.
		r.rx, r.Regex = rs.regex(id), nil
		r.idx = len(d.rules)
		r.shape = analyzeCached(r.rx.expr, r.Keywords)
		r.conditional = r.Path != nil || len(d.globalDeferred) > 0
		for _, a := range r.Allowlists {
			if hasPathOrCommit(a) {
				r.conditional = true
			}
			switch {
			case a.MatchCondition == config.AllowlistMatchAnd && hasPathOrCommit(a) && hasContent(a):
				r.deferredAllow = append(r.deferredAllow, a)
			case hasContent(a):
				r.contentAllow = append(r.contentAllow, a)
			}
		}
		d.rules = append(d.rules, r)
		d.byID[id] = r
	}
	for _, r := range d.rules {
		for _, req := range r.RequiredRules {
			// A path-only rule cannot be a required part: it has no position to be near.
			if rr := d.byID[req.RuleID]; rr != nil {
				r.required = append(r.required, dreq{rr, req.WithinLines, req.WithinColumns})
			}
		}
	}

	// One trie over every keyword; duplicates would make the trie forget all but one number.
	patterns := map[string]int{}
	var words []string
	for _, r := range d.rules {
		for _, k := range r.Keywords {
			if k == "" {
				continue
			}
			p, ok := patterns[k]
			if !ok {
				p = len(words)
				patterns[k] = p
				words = append(words, k)
				d.kwRules = append(d.kwRules, nil)
			}
			if n := len(d.kwRules[p]); n == 0 || d.kwRules[p][n-1] != int32(r.idx) {
				d.kwRules[p] = append(d.kwRules[p], int32(r.idx))
			}
		}
	}
	d.trie = ahocorasick.NewTrieBuilder().AddStrings(words).Build()
	d.states.New = func() any { return &state{} }
	return d
}

func hasPathOrCommit(a *config.Allowlist) bool { return len(a.Paths) > 0 || len(a.Commits) > 0 }
func hasContent(a *config.Allowlist) bool      { return len(a.Regexes) > 0 || len(a.StopWords) > 0 }

// Detect finds rule matches in text, which is a run of whole lines (possibly a window cut from
// a larger file). Path- and commit-dependent checks are deferred to Allowed, so every match must
// be passed through Allowed with the place it was found at: some matches are only valid there
// (a generic match stands if the specific match superseding it is allowlisted at that path).
// Safe for concurrent use; text must not change during the call.
func (d *Detector) Detect(text []byte) []Match { return d.DetectAt(text, "") }

// DetectAt is Detect for text from the file at path. A rule with a path and no keywords (the
// DES-crypt lines of an .htpasswd file have nothing to key on) would otherwise run over every
// text; it runs only where path fits, or everywhere when path is "". The path only saves
// work: Allowed still decides each location.
func (d *Detector) DetectAt(text []byte, path string) []Match {
	if len(text) == 0 {
		return nil
	}
	// No copy of what may be megabytes: every string kept in a Match is cloned.
	raw := unsafe.String(unsafe.SliceData(text), len(text))
	st := d.states.Get().(*state)
	defer d.states.Put(st)
	st.origNL = newlines(st.origNL[:0], raw)
	orig := lines{text: raw, nl: st.origNL}

	var found []Match
	p := pass{orig: orig, current: raw, nl: st.origNL, path: path}
	var dec *codec.Decoder
	for depth := 0; ; depth++ {
		found = d.scanPass(st, &p, found)
		if depth >= d.maxDepth || !mayDecode(p.current) {
			break
		}
		if dec == nil {
			dec = codec.NewDecoder()
		}
		p.current, p.segs = dec.Decode(p.current, p.segs)
		if len(p.segs) == 0 {
			break
		}
		st.curNL = newlines(st.curNL[:0], p.current)
		p.nl = st.curNL
	}
	return d.supersede(found)
}

// pass is one scan of the text as it stands after some decoding passes.
type pass struct {
	orig    lines // the text handed to Detect, where matches are located
	current string
	nl      []int // newline offsets in current
	segs    []*codec.EncodedSegment
	path    string // "" when unknown
}

// state is the scratch space of one Detect call, pooled.
type state struct {
	origNL, curNL, lowNL []int
	lower                []byte
	present              []bool
	ranges               [][]lineRange
	unsorted             []bool
	pending              []pendingLine
}

type lineRange struct{ first, last int } // 0-based, inclusive

// pendingLine collects one rule's keyword hits on one line, offsets in the lower-cased text.
type pendingLine struct {
	line      int // -1 when there is none
	minEnd    int // earliest end of a hit
	lastStart int // latest start of a hit
}

// scanPass runs the keyword pass over p.current and every rule over its windows.
func (d *Detector) scanPass(st *state, p *pass, found []Match) []Match {
	n := len(d.rules)
	if cap(st.present) < n {
		st.present = make([]bool, n)
		st.ranges = make([][]lineRange, n)
		st.unsorted = make([]bool, n)
		st.pending = make([]pendingLine, n)
	}
	st.present, st.ranges, st.unsorted, st.pending = st.present[:n], st.ranges[:n], st.unsorted[:n], st.pending[:n]
	for i := range n {
		st.present[i], st.ranges[i], st.unsorted[i], st.pending[i] = false, st.ranges[i][:0], false, pendingLine{line: -1}
	}

	// gitleaks lower-cases with strings.ToLower, which can change byte offsets outside ASCII;
	// lower-casing keeps newlines and runes one for one, so hits map back by line and rune.
	var ascii bool
	st.lower, ascii = lowerASCII(st.lower[:0], p.current)
	k := keywordPass{d: d, st: st, p: p, lower: st.lower, lnl: p.nl, ascii: ascii}
	if !ascii {
		ls := strings.ToLower(p.current)
		k.lower = unsafe.Slice(unsafe.StringData(ls), len(ls))
		st.lowNL = newlines(st.lowNL[:0], ls)
		k.lnl = st.lowNL
	}
	cur := lineCursor{nl: k.lnl}
	d.trie.Walk(k.lower, func(end, size, pat int64) bool {
		start := int(end - size + 1)
		line := cur.line(start)
		for _, ri := range d.kwRules[pat] {
			st.present[ri] = true
			if d.rules[ri].shape.mode != modeWindow {
				continue
			}
			pl := &st.pending[ri]
			if pl.line == line {
				pl.minEnd, pl.lastStart = min(pl.minEnd, start+int(size)), max(pl.lastStart, start)
				continue
			}
			if pl.line >= 0 {
				k.window(int(ri), *pl)
			}
			*pl = pendingLine{line: line, minEnd: start + int(size), lastStart: start}
		}
		return true
	})
	for ri := range st.pending {
		if st.pending[ri].line >= 0 {
			k.window(ri, st.pending[ri])
		}
	}

	for _, r := range d.rules {
		if r.SkipReport || r.gated && p.path != "" && !r.Path.MatchString(p.path) {
			continue
		}
		ms := d.ruleMatches(st, p, r, false)
		if len(ms) == 0 {
			continue
		}
		if len(r.required) > 0 {
			ms = d.withRequired(st, p, r, ms)
		}
		found = append(found, ms...)
	}
	return found
}

// ruleMatches runs r over the windows it needs and returns the matches that pass every check
// Detect can decide. A required rule (aux) is run even when none of its keywords occurs, as
// gitleaks does.
func (d *Detector) ruleMatches(st *state, p *pass, r *drule, aux bool) []Match {
	var windows [][2]int
	switch {
	case r.shape.mode == modeAlways,
		r.shape.mode == modeKeyword && (st.present[r.idx] || aux):
		windows = append(windows, [2]int{0, len(p.current)})
	case r.shape.mode == modeWindow:
		rs := st.ranges[r.idx]
		if st.unsorted[r.idx] {
			rs = mergeRanges(rs)
		}
		for _, lr := range rs {
			windows = append(windows, [2]int{lineStart(p.nl, lr.first), lineEndNL(p.nl, lr.last, len(p.current))})
		}
	}
	var out []Match
	for _, w := range windows {
		if p.segs != nil && len(codec.SegmentsWithDecodedOverlap(p.segs, w[0], w[1])) == 0 {
			continue // only matches touching decoded text count in a decoding pass
		}
		for _, loc := range r.rx.get().FindAllStringIndex(p.current[w[0]:w[1]], -1) {
			m, ok := d.check(p, r, loc[0]+w[0], loc[1]+w[0])
			switch {
			case !ok:
			case r.refine != nil:
				out = append(out, r.refine(m)...)
			default:
				out = append(out, m)
			}
		}
	}
	return out
}

// keywordPass turns the keyword hits of one pass into line windows.
type keywordPass struct {
	d     *Detector
	st    *state
	p     *pass
	lower []byte // p.current lower-cased
	lnl   []int  // newline offsets in lower
	ascii bool   // lower has p.current's offsets
}

// window adds the lines a rule's regex must see for its hits on one line: every match holding
// such a hit lies within shape.before lines above and shape.after lines below. The bounds are
// shrunk to the line itself when the text between the line's end and the hits cannot lie
// inside a match (see viability).
//
// Why windows this size give gitleaks' matches exactly, without margins: a match of the
// whole text holds a hit, so it lies inside that hit's window, and overlapping windows are
// merged, so no match of the text crosses a merged window's edge. A window starts after a
// newline, where \b, \B and (?m)^ behave as at the start of a text (rules using ^ or \A
// without (?m) are never windowed). So scanning a window can only differ from scanning the
// text by a match that ends exactly at the window's end, and thereby holds that last line's
// newline; that match holds a hit less than shape.after lines up whose own window, or
// viability check, would have reached past the end. FindAll's non-overlapping scan thus
// steps through the same matches in both.
func (k *keywordPass) window(ri int, pl pendingLine) {
	r := k.d.rules[ri]
	p := k.p
	before, after := r.shape.before, r.shape.after
	line, nLines := pl.line, len(p.nl)+1
	if (before > 0 || after > 0) && r.viable() != nil {
		if after > 0 && line < nLines-1 {
			from := k.orig(line, pl.lastStart)
			if !r.viable().alive(p.current[from:lineEndNL(p.nl, line, len(p.current))]) {
				after = 0
			}
		}
		if before > 0 && line > 0 {
			to := k.orig(line, pl.minEnd)
			if !r.viable().alive(p.current[lineStart(p.nl, line)-1 : to]) {
				before = 0
			}
		}
	}
	first, last := max(0, line-before), line+after
	if after >= unbounded {
		last = lineOf(k.lnl, min(pl.lastStart+longWindow, len(k.lower)))
	}
	last = min(last, nLines-1)
	rs := k.st.ranges[ri]
	if n := len(rs) - 1; n >= 0 && first >= rs[n].first && first <= rs[n].last+1 {
		rs[n].last = max(rs[n].last, last)
		return
	} else if n >= 0 && first < rs[n].first {
		k.st.unsorted[ri] = true
	}
	k.st.ranges[ri] = append(rs, lineRange{first, last})
}

// orig maps an offset on a line of the lower-cased text to the same rune in p.current.
func (k *keywordPass) orig(line, pos int) int {
	if k.ascii {
		return pos
	}
	n := utf8.RuneCount(k.lower[lineStart(k.lnl, line):pos])
	off := lineStart(k.p.nl, line)
	for ; n > 0 && off < len(k.p.current); n-- {
		_, size := utf8.DecodeRuneInString(k.p.current[off:])
		off += size
	}
	return off
}

func mergeRanges(rs []lineRange) []lineRange {
	rs = append([]lineRange(nil), rs...)
	sort.Slice(rs, func(i, j int) bool { return rs[i].first < rs[j].first })
	out := rs[:0]
	for _, r := range rs {
		if k := len(out) - 1; k >= 0 && r.first <= out[k].last+1 {
			out[k].last = max(out[k].last, r.last)
			continue
		}
		out = append(out, r)
	}
	return out
}

// check turns the regex match [s, e) of p.current into a Match, following gitleaks'
// detectRule step by step, or reports that it is dropped.
func (d *Detector) check(p *pass, r *drule, s, e int) (Match, bool) {
	raw := p.current[s:e]
	match := strings.Trim(raw, "\n")
	var tags []string
	var current string
	var os, oe int
	if p.segs != nil {
		segs := codec.SegmentsWithDecodedOverlap(p.segs, s, e)
		if len(segs) == 0 {
			return Match{}, false // found in the plain text by an earlier pass
		}
		loc := codec.AdjustMatchIndex(segs, []int{s, e})
		os, oe = loc[0], loc[1]
		tags = codec.Tags(segs)
		current = strings.TrimPrefix(codec.CurrentLine(segs, p.current), "\n")
	} else {
		// gitleaks keeps the start of a match that began with a newline it trimmed off
		// (gitleaks#1352); the trimmed match is what is located here.
		os = s + strings.Index(raw, match)
		oe = os + len(match)
	}
	loc := p.orig.locate(os, oe)
	for _, sig := range allowSignatures {
		if strings.Contains(loc.line, sig) {
			return Match{}, false
		}
	}
	if current == "" {
		current = loc.line
	}

	secret := match
	if groups := r.rx.get().FindStringSubmatch(match); len(groups) >= 2 {
		if r.SecretGroup > 0 {
			if len(groups) <= r.SecretGroup {
				return Match{}, false
			}
			secret = groups[r.SecretGroup]
		} else {
			for _, g := range groups[1:] {
				if g != "" {
					secret = g
					break
				}
			}
		}
	}
	entropy := shannonEntropy(secret)
	if r.Entropy != 0 && entropy <= r.Entropy {
		return Match{}, false
	}

	m := Match{
		RuleID:      r.RuleID,
		Secret:      secret,
		Match:       match,
		Entropy:     entropy,
		Tags:        concat(r.Tags, tags),
		StartLine:   loc.startLine,
		EndLine:     loc.endLine,
		StartColumn: loc.startColumn,
		EndColumn:   loc.endColumn,
		Line:        loc.line,
		currentLine: current,
	}
	for _, a := range d.globalContent {
		if findingAllowed(a, &m, "", "") {
			return Match{}, false
		}
	}
	for _, a := range r.contentAllow {
		if findingAllowed(a, &m, "", "") {
			return Match{}, false
		}
	}
	// Keep no reference into the (possibly huge, possibly caller-owned) text.
	m.Secret, m.Match = strings.Clone(m.Secret), strings.Clone(m.Match)
	m.Line, m.currentLine = strings.Clone(clipLine(m.Line, m.Match)), strings.Clone(clipLine(m.currentLine, m.Match))
	return m, true
}

// Lines kept on a match are clipped around it when long: a match on a 500 MB single-line file
// must not hold the whole line (twice) for the allowlists checked later.
const (
	clipAround = 4 << 10 // bytes kept before and after the match
	clipTail   = 1 << 10 // bytes kept at the line's end, where allow comments sit
)

// clipLine returns line, or for a long one the part around match and the line's end, joined
// by " … ". Cuts fall on UTF-8 character boundaries.
func clipLine(line, match string) string {
	if len(line) <= 2*clipAround+clipTail+len(match) {
		return line
	}
	i := strings.Index(line, match)
	if i < 0 {
		i = 0
	}
	from, to := runeStart(line, max(0, i-clipAround)), runeStart(line, min(len(line), i+len(match)+clipAround))
	tail := runeStart(line, max(to, len(line)-clipTail))
	if tail <= to {
		return line[from:]
	}
	return line[from:to] + " … " + line[tail:]
}

// runeStart moves i back to the start of the UTF-8 character it falls in.
func runeStart(s string, i int) int {
	for i > 0 && i < len(s) && !utf8.RuneStart(s[i]) {
		i--
	}
	return i
}

// withRequired keeps the matches of composite rule r that have a match of every required rule
// close by, as gitleaks' processRequiredRules does. Required matches that Allowed may still
// suppress are kept on the match, for Allowed to check.
func (d *Detector) withRequired(st *state, p *pass, r *drule, primary []Match) []Match {
	aux := make([][]Match, len(r.required))
	for i, req := range r.required {
		aux[i] = d.ruleMatches(st, p, req.rule, true)
	}
	var out []Match
outer:
	for _, m := range primary {
		var groups [][]Match
		for i, req := range r.required {
			var cond []Match
			satisfied := false
			for _, a := range aux[i] {
				if !withinProximity(m, a, req) {
					continue
				}
				if !d.conditional(&a) {
					satisfied = true
					break
				}
				cond = append(cond, a)
			}
			switch {
			case satisfied:
			case len(cond) == 0:
				continue outer
			default:
				groups = append(groups, cond)
			}
		}
		m.required = groups
		out = append(out, m)
	}
	return out
}

func withinProximity(primary, required Match, req dreq) bool {
	if req.withinLines != nil && abs(primary.StartLine-required.StartLine) > *req.withinLines {
		return false
	}
	if req.withinColumns != nil && abs(primary.StartColumn-required.StartColumn) > *req.withinColumns {
		return false
	}
	return true
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// conditional reports whether Allowed may suppress m although Detect kept it.
func (d *Detector) conditional(m *Match) bool {
	r := d.byID[m.RuleID]
	return r == nil || r.conditional || len(m.required) > 0
}

// supersede applies gitleaks' filter: a generic rule's match gives way to another rule's match
// on the same line whose secret contains its secret. When that other match may still be
// suppressed by Allowed, the generic one is kept with a note, for Allowed to decide. The
// result is sorted by position.
func (d *Detector) supersede(found []Match) []Match {
	byLine := map[int][]int{}
	for i := range found {
		if d.byID[found[i].RuleID].generic < 2 {
			byLine[found[i].StartLine] = append(byLine[found[i].StartLine], i)
		}
	}
	out := make([]Match, 0, len(found))
	for i := range found {
		f := found[i]
		if level := d.byID[f.RuleID].generic; level > 0 {
			drop := false
			for _, j := range byLine[f.StartLine] {
				g := &found[j]
				if d.byID[g.RuleID].generic >= level || !strings.Contains(g.Secret, f.Secret) {
					continue
				}
				if !d.conditional(g) {
					drop = true
					break
				}
				f.shadowedBy = append(f.shadowedBy, *g)
			}
			if drop {
				continue
			}
		}
		out = append(out, f)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := &out[i], &out[j]
		if a.StartLine != b.StartLine {
			return a.StartLine < b.StartLine
		}
		if a.StartColumn != b.StartColumn {
			return a.StartColumn < b.StartColumn
		}
		if a.RuleID != b.RuleID {
			return a.RuleID < b.RuleID
		}
		return a.Secret < b.Secret
	})
	return out
}

// Allowed reports whether m, found at path in commit ("" outside git), is suppressed by a
// path/commit-dependent allowlist (global or rule, OR and AND conditions) or fails the rule's
// `path` constraint. Content-only allowlists were already applied by Detect.
func (d *Detector) Allowed(m *Match, path, commit string) bool {
	r := d.byID[m.RuleID]
	if r == nil && m.Detector != "" {
		// A key in binary data: only the global path and commit allowlists say where not to look.
		return commitOrPathAllowed(d.globals, path, commit)
	}
	if r == nil {
		return false // a path-only rule's match: PathMatches decided it
	}
	if commitOrPathAllowed(d.globals, path, commit) || commitOrPathAllowed(r.Allowlists, path, commit) {
		return true
	}
	if r.Path != nil && !r.Path.MatchString(path) {
		return true
	}
	for _, a := range d.globalDeferred {
		if findingAllowed(a, m, path, commit) {
			return true
		}
	}
	for _, a := range r.deferredAllow {
		if findingAllowed(a, m, path, commit) {
			return true
		}
	}
	for i := range m.shadowedBy {
		if !d.Allowed(&m.shadowedBy[i], path, commit) {
			return true // the specific match stands here, so the generic one gives way
		}
	}
	for _, group := range m.required {
		stands := false
		for i := range group {
			if !d.Allowed(&group[i], path, commit) {
				stands = true
				break
			}
		}
		if !stands {
			return true
		}
	}
	return false
}

// PathExcluded reports whether a global allowlist leaves out every file at path, whatever its
// content and commit, as gitleaks does before any rule runs (images, fonts, lock files, vendor
// trees in the default config). Sources use it to not read such files at all.
func (d *Detector) PathExcluded(path string) bool {
	return path != "" && commitOrPathAllowed(d.globals, path, "")
}

// PathMatches returns matches of path-only rules (rules with `path` and no `regex`) for a file.
func (d *Detector) PathMatches(path, commit string) []Match {
	if commitOrPathAllowed(d.globals, path, commit) {
		return nil
	}
	var out []Match
	for _, r := range d.pathOnly {
		if r.SkipReport || commitOrPathAllowed(r.Allowlists, path, commit) || !r.Path.MatchString(path) {
			continue
		}
		out = append(out, Match{
			RuleID: r.RuleID,
			Match:  "file detected: " + path,
			Tags:   concat(r.Tags, nil),
		})
	}
	return out
}

// commitOrPathAllowed mirrors gitleaks' checkCommitOrPathAllowed.
func commitOrPathAllowed(allowlists []*config.Allowlist, path, commit string) bool {
	if path == "" && commit == "" {
		return false
	}
	for _, a := range allowlists {
		commitOK, _ := a.CommitAllowed(commit)
		pathOK := a.PathAllowed(path)
		if a.MatchCondition == config.AllowlistMatchAnd {
			if hasContent(a) {
				continue // decided with the match, in findingAllowed
			}
			if (len(a.Commits) == 0 || commitOK) && (len(a.Paths) == 0 || pathOK) {
				return true
			}
		} else if commitOK || pathOK {
			return true
		}
	}
	return false
}

// findingAllowed mirrors gitleaks' checkFindingAllowed for one allowlist.
func findingAllowed(a *config.Allowlist, m *Match, path, commit string) bool {
	target := m.Secret
	switch a.RegexTarget {
	case "match":
		target = m.Match
	case "line":
		target = m.currentLine
	}
	if a.MatchCondition == config.AllowlistMatchAnd {
		if len(a.Commits) > 0 {
			if ok, _ := a.CommitAllowed(commit); !ok {
				return false
			}
		}
		if len(a.Paths) > 0 && !a.PathAllowed(path) {
			return false
		}
		if len(a.Regexes) > 0 && !a.RegexAllowed(target) {
			return false
		}
		if len(a.StopWords) > 0 && !containsStopWord(a, m.Secret) {
			return false
		}
		return true
	}
	if a.RegexAllowed(target) {
		return true
	}
	return containsStopWord(a, m.Secret)
}

// stopTrie is an allowlist's stopword matcher. The generic rule's ~1,500 stopwords take 30-45
// ms to build into a trie (gitleaks builds it when the config loads), more than a whole
// pre-commit scan, which asks a handful of times if at all. So the first stopLinearCalls
// questions are answered by a plain search, and only a scan that keeps asking builds the trie.
type stopTrie struct {
	calls atomic.Int64
	once  sync.Once
	trie  *ahocorasick.Trie
}

// stopLinearCalls is about where the plain search (some 30 µs a question) has cost as much as
// building the trie.
const stopLinearCalls = 1000

var stopTries sync.Map // *config.Allowlist -> *stopTrie

// containsStopWord is gitleaks' Allowlist.ContainsStopWord over the lower-cased stopwords that
// parseAllowlist left in a.StopWords.
func containsStopWord(a *config.Allowlist, s string) bool {
	if len(a.StopWords) == 0 || s == "" {
		return false
	}
	v, ok := stopTries.Load(a)
	if !ok {
		v, _ = stopTries.LoadOrStore(a, &stopTrie{})
	}
	st := v.(*stopTrie)
	lower := strings.ToLower(s)
	if st.calls.Add(1) <= stopLinearCalls {
		for _, w := range a.StopWords {
			if strings.Contains(lower, w) {
				return true
			}
		}
		return false
	}
	st.once.Do(func() { st.trie = ahocorasick.NewTrieBuilder().AddStrings(a.StopWords).Build() })
	return st.trie.MatchFirstString(lower) != nil
}

// shannonEntropy is gitleaks' entropy function (runes counted, bytes divided by), because
// thresholds are tuned against it. gitleaks sums over a map, so its last bits vary from run
// to run; here the terms are added in rune order, which makes results reproducible.
func shannonEntropy(data string) (entropy float64) {
	if data == "" {
		return 0
	}
	var ascii [utf8.RuneSelf]int
	var other map[rune]int
	for _, c := range data {
		if c < utf8.RuneSelf {
			ascii[c]++
			continue
		}
		if other == nil {
			other = map[rune]int{}
		}
		other[c]++
	}
	inv := 1.0 / float64(len(data))
	term := func(n int) float64 {
		freq := float64(n) * inv
		return freq * math.Log2(freq)
	}
	for _, n := range ascii {
		if n > 0 {
			entropy -= term(n)
		}
	}
	runes := make([]rune, 0, len(other))
	for r := range other {
		runes = append(runes, r)
	}
	sort.Slice(runes, func(i, j int) bool { return runes[i] < runes[j] })
	for _, r := range runes {
		entropy -= term(other[r])
	}
	return entropy
}

// lowerASCII lower-cases s into buf if s is ASCII; ok is false otherwise.
func lowerASCII(buf []byte, s string) (_ []byte, ok bool) {
	if cap(buf) < len(s) {
		buf = make([]byte, 0, len(s))
	}
	buf = buf[:len(s)]
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return buf[:0], false
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return buf, true
}

// newlines appends the offsets of every '\n' in s to nl.
func newlines(nl []int, s string) []int {
	for off := 0; ; {
		i := strings.IndexByte(s[off:], '\n')
		if i < 0 {
			return nl
		}
		nl = append(nl, off+i)
		off += i + 1
	}
}

// lineOf is the 0-based line holding byte pos.
func lineOf(nl []int, pos int) int { return sort.SearchInts(nl, pos) }

// lineStart is the offset of the first byte of 0-based line l.
func lineStart(nl []int, l int) int {
	if l == 0 {
		return 0
	}
	return nl[l-1] + 1
}

// lineEnd is the offset of the newline ending line l, or n for the last line.
func lineEnd(nl []int, l, n int) int {
	if l < len(nl) {
		return nl[l]
	}
	return n
}

// lineEndNL is lineEnd past the newline.
func lineEndNL(nl []int, l, n int) int {
	if l < len(nl) {
		return nl[l] + 1
	}
	return n
}

// lineCursor finds lines for nearly increasing offsets without a search each time.
type lineCursor struct {
	nl []int
	i  int // newlines before the last offset asked for
}

func (c *lineCursor) line(pos int) int {
	for c.i < len(c.nl) && c.nl[c.i] < pos {
		c.i++
	}
	for c.i > 0 && c.nl[c.i-1] >= pos {
		c.i--
	}
	return c.i
}

// lines locates byte ranges in a text.
type lines struct {
	text string
	nl   []int
}

type location struct {
	startLine, endLine, startColumn, endColumn int // 1-based; endColumn inclusive
	line                                       string
}

// locate finds [start, end) in code points, which is what editors and SARIF count; gitleaks
// counts bytes and is one column off after the first line (gitleaks#1424).
func (t lines) locate(start, end int) location {
	sl := lineOf(t.nl, start)
	el := sl
	if end > start {
		el = lineOf(t.nl, end-1)
	}
	ss, es := lineStart(t.nl, sl), lineStart(t.nl, el)
	return location{
		startLine:   sl + 1,
		endLine:     el + 1,
		startColumn: utf8.RuneCountInString(t.text[ss:start]) + 1,
		endColumn:   utf8.RuneCountInString(t.text[es:end]),
		line:        t.text[ss:lineEnd(t.nl, el, len(t.text))],
	}
}
