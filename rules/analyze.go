package rules

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp/syntax"
	"strings"
	"sync"
	"unicode"
)

// scanMode says where a rule's regex has to run for Detect to find exactly what gitleaks finds
// running it over the whole text whenever one of its keywords occurs anywhere.
type scanMode int

const (
	// modeWindow: every match contains one of the rule's keywords, within a bounded number of
	// lines, so the regex only has to run on lines around keyword hits.
	modeWindow scanMode = iota
	// modeKeyword: the rule has keywords but a match need not contain one (or the regex
	// anchors on the start of the text), so it runs on the whole text when a keyword occurs.
	modeKeyword
	// modeAlways: the rule has no keywords; gitleaks runs it on every text.
	modeAlways
)

// unbounded stands for "any number of lines" in the shape of a regex.
const unbounded = 1 << 30

// maxFinite caps the strings enumerated for a finite piece of a regex: enough for keyword-sized
// alternations such as (?:ghu|ghs)_, small enough to stay cheap.
const (
	maxFinite      = 512
	maxFiniteClass = 32
)

// shape is what the windowing needs to know about a rule's regex.
type shape struct {
	mode scanMode
	// before and after bound the newlines a match can hold before and after the keyword it
	// contains; after may be unbounded (a PEM body), which makes the window run forward a
	// long way instead.
	before, after int
}

// shapes memoises analyze: the analysis of the 222 default regexes takes tens of milliseconds
// and depends only on the regex and the keywords, so a process that builds several detectors
// (an audit of many repositories, the benchmarks) pays for it once.
var shapes sync.Map // string -> shape

func analyzeCached(expr string, keywords []string) shape {
	key := shapeKey(expr, keywords)
	if v, ok := shapes.Load(key); ok {
		return v.(shape)
	}
	// The default rules' shapes are generated ahead of time (shapes_default.go): analysing
	// them at every start would cost a pre-commit scan about 40 ms.
	sh, ok := defaultShapes[key]
	if !ok {
		sh = analyze(expr, keywords)
	}
	shapes.Store(key, sh)
	return sh
}

// shapeKey identifies a regex and keyword list: a digest, so that the generated table stays
// small.
func shapeKey(expr string, keywords []string) string {
	h := sha256.New()
	h.Write([]byte(expr))
	for _, k := range keywords {
		h.Write([]byte{0})
		h.Write([]byte(k))
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// analyze decides how a rule with regex expr and (lower-case) keywords may be windowed. It errs
// on the safe side: whatever it cannot prove falls back to gitleaks' whole-text behaviour.
//
// The proof obligation is: every match of the regex contains a keyword occurrence, found by
// the lower-casing keyword pass, with at most `before` newlines between match start and the
// keyword and at most `after` between the keyword and the match end. The case-insensitive
// flag is modelled by lower-casing literals, which is what gitleaks' prefilter does to the text.
// The one rune this misses is U+017F (long s), which (?i)s matches but which does not
// lower-case to "s": a match spelling its keyword with it ("ſecret") is found by gitleaks only
// if the keyword also occurs elsewhere in the text, and is missed here.
func analyze(expr string, keywords []string) shape {
	if len(keywords) == 0 {
		return shape{mode: modeAlways}
	}
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		// RE2 accepts a few things Go's parser does not; nothing can be proven about those.
		return shape{mode: modeKeyword}
	}
	if hasOp(re, syntax.OpBeginText) {
		// Without (?m), ^ and \A match only at the very start of the text, and a window
		// would make them match at its own start.
		return shape{mode: modeKeyword}
	}
	a := analyzer{keywords: keywords}
	for _, k := range keywords {
		a.maxLen = max(a.maxLen, len(k))
	}
	ok, before, after := a.contains(re)
	if !ok || before >= unbounded {
		return shape{mode: modeKeyword}
	}
	return shape{mode: modeWindow, before: before, after: after}
}

type analyzer struct {
	keywords []string
	maxLen   int // of the longest keyword, in bytes
}

// hasKeyword reports whether every string in set contains a keyword.
func (a *analyzer) hasKeyword(set []string) bool {
	for _, s := range set {
		found := false
		for _, k := range a.keywords {
			if k != "" && strings.Contains(s, k) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return len(set) > 0
}

// contains reports whether every match of re contains a keyword, and if so how many newlines a
// match can hold before and after it.
func (a *analyzer) contains(re *syntax.Regexp) (ok bool, before, after int) {
	// A concatenation is split below, which bounds the newlines on each side of the keyword
	// more tightly than counting all of them.
	if set, finite := finiteSet(re); finite && re.Op != syntax.OpConcat {
		if a.hasKeyword(set) {
			n := maxNewlines(re)
			return true, n, n
		}
		return false, 0, 0
	}
	switch re.Op {
	case syntax.OpCapture:
		return a.contains(re.Sub[0])
	case syntax.OpAlternate:
		for _, sub := range re.Sub {
			subOK, b, f := a.contains(sub)
			if !subOK {
				return false, 0, 0
			}
			before, after = max(before, b), max(after, f)
		}
		return true, before, after
	case syntax.OpPlus, syntax.OpRepeat:
		if re.Op == syntax.OpRepeat && re.Min < 1 {
			return false, 0, 0
		}
		subOK, b, f := a.contains(re.Sub[0])
		if !subOK {
			return false, 0, 0
		}
		// The first repetition holds the keyword; the others only add newlines after it.
		rest := unbounded
		if re.Op == syntax.OpRepeat && re.Max >= 0 {
			rest = mulSat(re.Max-1, maxNewlines(re.Sub[0]))
		} else if maxNewlines(re.Sub[0]) == 0 {
			rest = 0
		}
		return true, b, addSat(f, rest)
	case syntax.OpConcat:
		return a.containsConcat(re.Sub)
	}
	return false, 0, 0
}

// containsConcat looks for what in a concatenation guarantees a keyword: one sub-expression,
// or a junction where every suffix of the left part joined to every prefix of the right part
// holds one, as in "a" (?:3t[0-9a-z]|kia|sia) after the parser factored a common prefix out of
// an alternation. Of several it takes the one giving the smallest window.
func (a *analyzer) containsConcat(subs []*syntax.Regexp) (ok bool, before, after int) {
	best := 0
	consider := func(b, f int) {
		if cost := addSat(b, f); !ok || cost < best {
			ok, before, after, best = true, b, f, cost
		}
	}
	for i, sub := range subs {
		if subOK, b, f := a.contains(sub); subOK {
			consider(addSat(maxNewlinesAll(subs[:i]), b), addSat(f, maxNewlinesAll(subs[i+1:])))
		}
	}
	for i := 1; i < len(subs); i++ {
		left := a.suffixes(&syntax.Regexp{Op: syntax.OpConcat, Sub: subs[:i]})
		right := a.prefixes(&syntax.Regexp{Op: syntax.OpConcat, Sub: subs[i:]})
		if joined := product(left, right); joined != nil && a.hasKeyword(joined) {
			consider(maxNewlinesAll(subs[:i]), maxNewlinesAll(subs[i:]))
		}
	}
	return ok, before, after
}

// prefixes returns strings, cut to the longest keyword's length, one of which starts every
// (lower-cased) match of re; {""} when nothing is known.
func (a *analyzer) prefixes(re *syntax.Regexp) []string {
	return a.affixes(re, false)
}

// suffixes is prefixes for the end of a match.
func (a *analyzer) suffixes(re *syntax.Regexp) []string {
	return a.affixes(re, true)
}

func (a *analyzer) affixes(re *syntax.Regexp, suffix bool) []string {
	if set, ok := finiteSet(re); ok {
		return a.cut(set, suffix)
	}
	switch re.Op {
	case syntax.OpCapture, syntax.OpPlus:
		return a.affixes(re.Sub[0], suffix)
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return a.affixes(re.Sub[0], suffix)
		}
	case syntax.OpAlternate:
		var out []string
		for _, sub := range re.Sub {
			if out = append(out, a.affixes(sub, suffix)...); len(out) > maxFinite {
				return []string{""}
			}
		}
		return out
	case syntax.OpConcat:
		subs := re.Sub
		set := []string{""}
		for k := range subs {
			sub := subs[k]
			if suffix {
				sub = subs[len(subs)-1-k]
			}
			next, finite := finiteSet(sub)
			if !finite {
				next = a.affixes(sub, suffix)
			}
			var joined []string
			if suffix {
				joined = product(next, set)
			} else {
				joined = product(set, next)
			}
			if joined == nil {
				return set
			}
			set = a.cut(joined, suffix)
			if !finite || a.full(set) {
				return set
			}
		}
		return set
	}
	return []string{""}
}

// cut shortens affixes to the longest keyword's length and drops duplicates.
func (a *analyzer) cut(set []string, suffix bool) []string {
	seen := make(map[string]bool, len(set))
	out := make([]string, 0, len(set))
	for _, s := range set {
		if len(s) > a.maxLen {
			if suffix {
				s = s[len(s)-a.maxLen:]
			} else {
				s = s[:a.maxLen]
			}
		}
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// full reports whether every affix has reached the longest keyword's length.
func (a *analyzer) full(set []string) bool {
	for _, s := range set {
		if len(s) < a.maxLen {
			return false
		}
	}
	return true
}

// finiteSet returns every lower-cased string re can match when there are few of them.
func finiteSet(re *syntax.Regexp) ([]string, bool) {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText,
		syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return []string{""}, true
	case syntax.OpLiteral:
		return []string{lowerRunes(re.Rune)}, true
	case syntax.OpCharClass:
		seen := map[string]bool{}
		var out []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], re.Rune[i+1]
			if hi-lo >= maxFiniteClass {
				return nil, false
			}
			for r := lo; r <= hi; r++ {
				s := string(unicode.ToLower(r))
				if !seen[s] {
					seen[s] = true
					out = append(out, s)
				}
			}
			if len(out) > maxFiniteClass {
				return nil, false
			}
		}
		return out, len(out) > 0
	case syntax.OpCapture:
		return finiteSet(re.Sub[0])
	case syntax.OpConcat:
		set := []string{""}
		for _, sub := range re.Sub {
			next, ok := finiteSet(sub)
			if !ok {
				return nil, false
			}
			if set = product(set, next); set == nil {
				return nil, false
			}
		}
		return set, true
	case syntax.OpAlternate:
		var out []string
		for _, sub := range re.Sub {
			next, ok := finiteSet(sub)
			if !ok || len(out)+len(next) > maxFinite {
				return nil, false
			}
			out = append(out, next...)
		}
		return out, true
	case syntax.OpQuest:
		next, ok := finiteSet(re.Sub[0])
		if !ok || len(next) >= maxFinite {
			return nil, false
		}
		return append([]string{""}, next...), true
	case syntax.OpRepeat:
		if re.Max < 0 || re.Max > 8 {
			return nil, false
		}
		one, ok := finiteSet(re.Sub[0])
		if !ok {
			return nil, false
		}
		var out []string
		set := []string{""}
		for n := 0; n <= re.Max; n++ {
			if n >= re.Min {
				if out = append(out, set...); len(out) > maxFinite {
					return nil, false
				}
			}
			if n < re.Max {
				if set = product(set, one); set == nil {
					return nil, false
				}
			}
		}
		return out, true
	}
	return nil, false
}

// product concatenates every string of a with every string of b, or returns nil when that
// would be too many.
func product(a, b []string) []string {
	if len(a)*len(b) > maxFinite {
		return nil
	}
	out := make([]string, 0, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			out = append(out, x+y)
		}
	}
	return out
}

func lowerRunes(rs []rune) string {
	var sb strings.Builder
	for _, r := range rs {
		sb.WriteRune(unicode.ToLower(r))
	}
	return sb.String()
}

// maxNewlines bounds how many newlines one match of re can contain.
func maxNewlines(re *syntax.Regexp) int {
	switch re.Op {
	case syntax.OpLiteral:
		n := 0
		for _, r := range re.Rune {
			if r == '\n' {
				n++
			}
		}
		return n
	case syntax.OpCharClass:
		for i := 0; i+1 < len(re.Rune); i += 2 {
			if re.Rune[i] <= '\n' && '\n' <= re.Rune[i+1] {
				return 1
			}
		}
		return 0
	case syntax.OpAnyChar:
		return 1
	case syntax.OpCapture, syntax.OpQuest:
		return maxNewlines(re.Sub[0])
	case syntax.OpStar, syntax.OpPlus:
		if maxNewlines(re.Sub[0]) > 0 {
			return unbounded
		}
		return 0
	case syntax.OpRepeat:
		n := maxNewlines(re.Sub[0])
		if n == 0 {
			return 0
		}
		if re.Max < 0 {
			return unbounded
		}
		return mulSat(re.Max, n)
	case syntax.OpConcat:
		return maxNewlinesAll(re.Sub)
	case syntax.OpAlternate:
		n := 0
		for _, sub := range re.Sub {
			n = max(n, maxNewlines(sub))
		}
		return n
	}
	return 0
}

func maxNewlinesAll(subs []*syntax.Regexp) int {
	n := 0
	for _, sub := range subs {
		n = addSat(n, maxNewlines(sub))
	}
	return n
}

func hasOp(re *syntax.Regexp, op syntax.Op) bool {
	if re.Op == op {
		return true
	}
	for _, sub := range re.Sub {
		if hasOp(sub, op) {
			return true
		}
	}
	return false
}

func addSat(a, b int) int {
	if a >= unbounded || b >= unbounded || a+b >= unbounded {
		return unbounded
	}
	return a + b
}

func mulSat(a, b int) int {
	if a <= 0 || b <= 0 {
		return 0
	}
	if a >= unbounded || b >= unbounded || a > unbounded/b {
		return unbounded
	}
	return a * b
}
