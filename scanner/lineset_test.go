package scanner

import (
	"math/rand/v2"
	"testing"
)

func TestLineSetAgreesWithMap(t *testing.T) {
	s := newLineSet(0)
	m := map[uint64]bool{}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200000; i++ {
		// Small keys repeat often; zero must work too.
		h := r.Uint64()
		if i%3 == 0 {
			h = uint64(r.IntN(5000))
		}
		if got, want := s.add(h), !m[h]; got != want {
			t.Fatalf("add(%d) = %v, want %v (after %d adds)", h, got, want, i)
		}
		m[h] = true
	}
	if s.n+boolInt(s.hasZero) != len(m) {
		t.Errorf("set holds %d, map %d", s.n+boolInt(s.hasZero), len(m))
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
