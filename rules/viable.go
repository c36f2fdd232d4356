package rules

import (
	"regexp/syntax"
	"slices"
	"sync"
	"sync/atomic"
	"unicode/utf8"
	"unsafe"
)

// maxViableStates caps the cached states of one rule; past it, steps are computed each time.
const maxViableStates = 1024

// viability answers, for one rule, whether a piece of text can lie inside a match of its regex
// at all. It runs the regex's NFA from every state at once, so it needs no idea where a match
// would start, and treats assertions as always true: an answer of false is a proof, an answer
// of true is only a maybe. The state sets it meets are cached as a DFA shared by all
// goroutines.
//
// Detect uses it to shrink windows: a match can only run past the end of a keyword's line if
// the text from the keyword to and including the newline can lie inside one, which for most
// lines of code (a parenthesis, a semicolon, a word where a separator must be) it cannot.
type viability struct {
	prog    *syntax.Prog
	closure [][]uint32 // the consuming instructions reachable from each pc by empty moves
	start   *vstate

	mu     sync.Mutex
	states map[string]*vstate
}

// vstate is a set of NFA instructions waiting to consume a rune.
type vstate struct {
	pcs    []uint32
	cached bool                                  // interned, so others may point to it
	next   [utf8.RuneSelf]atomic.Pointer[vstate] // cached steps on ASCII bytes
}

// newViability compiles expr for viability checks, or returns nil if Go's parser rejects it
// (then nothing is ever proven unviable).
func newViability(expr string) *viability {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return nil
	}
	v := &viability{prog: prog, closure: make([][]uint32, len(prog.Inst)), states: map[string]*vstate{}}
	seen := make([]bool, len(prog.Inst))
	var all []uint32
	for pc := range prog.Inst {
		clear(seen)
		v.closure[pc] = v.follow(uint32(pc), seen, nil)
		if consumes(&prog.Inst[pc]) {
			all = append(all, uint32(pc))
		}
	}
	v.start = v.intern(all)
	return v
}

func consumes(in *syntax.Inst) bool {
	switch in.Op {
	case syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
		return true
	}
	return false
}

// follow collects the consuming instructions reachable from pc without consuming input.
func (v *viability) follow(pc uint32, seen []bool, out []uint32) []uint32 {
	if seen[pc] {
		return out
	}
	seen[pc] = true
	in := &v.prog.Inst[pc]
	switch in.Op {
	case syntax.InstAlt, syntax.InstAltMatch:
		out = v.follow(in.Out, seen, out)
		return v.follow(in.Arg, seen, out)
	case syntax.InstCapture, syntax.InstNop, syntax.InstEmptyWidth:
		return v.follow(in.Out, seen, out)
	}
	if consumes(in) {
		out = append(out, pc)
	}
	return out
}

// alive reports whether text may lie inside a match; false means it certainly cannot.
func (v *viability) alive(text string) bool {
	s := v.start
	for i := 0; i < len(text); {
		if c := text[i]; c < utf8.RuneSelf {
			n := s.next[c].Load()
			if n == nil {
				if n = v.step(s, rune(c)); n.cached {
					s.next[c].Store(n)
				}
			}
			s = n
			i++
		} else {
			r, size := utf8.DecodeRuneInString(text[i:])
			s = v.step(s, r)
			i += size
		}
		if len(s.pcs) == 0 {
			return false
		}
	}
	return true
}

func (v *viability) step(s *vstate, r rune) *vstate {
	seen := make([]bool, len(v.prog.Inst))
	var pcs []uint32
	for _, pc := range s.pcs {
		in := &v.prog.Inst[pc]
		var ok bool
		switch in.Op {
		case syntax.InstRune1:
			ok = r == in.Rune[0]
		case syntax.InstRune:
			ok = in.MatchRune(r)
		case syntax.InstRuneAny:
			ok = true
		case syntax.InstRuneAnyNotNL:
			ok = r != '\n'
		}
		if !ok {
			continue
		}
		for _, c := range v.closure[in.Out] {
			if !seen[c] {
				seen[c] = true
				pcs = append(pcs, c)
			}
		}
	}
	slices.Sort(pcs)
	return v.intern(pcs)
}

// intern returns the cached state for pcs (sorted), adding it while there is room.
func (v *viability) intern(pcs []uint32) *vstate {
	key := ""
	if len(pcs) > 0 {
		key = string(unsafe.Slice((*byte)(unsafe.Pointer(&pcs[0])), len(pcs)*4))
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if s, ok := v.states[key]; ok {
		return s
	}
	s := &vstate{pcs: pcs}
	if len(v.states) < maxViableStates {
		s.cached = true
		v.states[key] = s
	}
	return s
}
