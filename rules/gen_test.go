package rules

import (
	"math/rand/v2"
	"regexp/syntax"
	"strings"
	"unicode"
)

// sampler produces strings that a regex matches, by walking its parse tree with a seeded
// random source. It prefers printable ASCII and spaces over other characters so that samples
// sit in realistic lines; it cannot honour assertions (\b, ^, $), so callers check each sample
// against the real regex.
type sampler struct {
	rnd *rand.Rand
	// newlines is the chance of taking a newline where one may appear, for multi-line samples.
	newlines float64
}

func newSampler(seed uint64) *sampler {
	return &sampler{rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// sample returns a string generated from expr, or false if expr does not parse.
func (s *sampler) sample(expr string) (string, bool) {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return "", false
	}
	var sb strings.Builder
	s.gen(&sb, re)
	return sb.String(), true
}

func (s *sampler) gen(sb *strings.Builder, re *syntax.Regexp) {
	switch re.Op {
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			if re.Flags&syntax.FoldCase != 0 && r < unicode.MaxASCII && s.rnd.IntN(2) == 0 {
				r = flipCase(r)
			}
			sb.WriteRune(r)
		}
	case syntax.OpCharClass:
		sb.WriteRune(s.classRune(re.Rune))
	case syntax.OpAnyChar:
		if s.rnd.Float64() < s.newlines {
			sb.WriteByte('\n')
			return
		}
		sb.WriteByte(alnum[s.rnd.IntN(len(alnum))])
	case syntax.OpAnyCharNotNL:
		sb.WriteByte(alnum[s.rnd.IntN(len(alnum))])
	case syntax.OpCapture:
		s.gen(sb, re.Sub[0])
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			s.gen(sb, sub)
		}
	case syntax.OpAlternate:
		s.gen(sb, re.Sub[s.rnd.IntN(len(re.Sub))])
	case syntax.OpStar:
		s.repeat(sb, re.Sub[0], 0, 3)
	case syntax.OpPlus:
		s.repeat(sb, re.Sub[0], 1, 3)
	case syntax.OpQuest:
		s.repeat(sb, re.Sub[0], 0, 1)
	case syntax.OpRepeat:
		hi := re.Max
		if hi < 0 || hi > re.Min+4 {
			hi = re.Min + 4
		}
		s.repeat(sb, re.Sub[0], re.Min, hi)
	}
	// Assertions and empty matches produce nothing.
}

func (s *sampler) repeat(sb *strings.Builder, re *syntax.Regexp, lo, hi int) {
	n := lo
	if hi > lo {
		n += s.rnd.IntN(hi - lo + 1)
	}
	for range n {
		s.gen(sb, re)
	}
}

const alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// classRune picks a rune of a character class, preferring letters and digits, then other
// printable ASCII, then a space, then anything but a newline.
func (s *sampler) classRune(ranges []rune) rune {
	in := func(r rune) bool {
		for i := 0; i+1 < len(ranges); i += 2 {
			if ranges[i] <= r && r <= ranges[i+1] {
				return true
			}
		}
		return false
	}
	if in('\n') && s.rnd.Float64() < s.newlines {
		return '\n'
	}
	for _, pool := range []string{alnum, "_-.+/=~:@", "!#$%&()*,;<>?[]^{|}'\"`", " "} {
		var cands []rune
		for _, r := range pool {
			if in(r) {
				cands = append(cands, r)
			}
		}
		// Mostly take the preferred pool, but sometimes fall through to the next one so
		// that punctuation in classes like [\w.-] is exercised too.
		if len(cands) > 0 && (s.rnd.IntN(8) != 0 || pool == " ") {
			return cands[s.rnd.IntN(len(cands))]
		}
	}
	for i := 0; i+1 < len(ranges); i += 2 {
		for r := ranges[i]; r <= ranges[i+1] && r < 0x3000; r++ {
			if r != '\n' && r != '\r' && unicode.IsPrint(r) {
				return r
			}
		}
	}
	if len(ranges) > 0 {
		return ranges[0]
	}
	return 'x'
}

func flipCase(r rune) rune {
	if unicode.IsUpper(r) {
		return unicode.ToLower(r)
	}
	return unicode.ToUpper(r)
}
