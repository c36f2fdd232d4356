package scanner

// lineSet is an open-addressing set of 64-bit line hashes. The engine probes it once per line
// of history on its single reading goroutine, where a general map's hashing and control bytes
// cost more than the rest of the dedup; the keys are already uniform hashes, so a mask picks
// the slot. Zero is stored out of band.
type lineSet struct {
	slots   []uint64
	n       int
	hasZero bool
}

func newLineSet(capacity int) *lineSet {
	size := 1024
	for size < capacity*2 {
		size <<= 1
	}
	return &lineSet{slots: make([]uint64, size)}
}

// add inserts h and reports whether it was new.
func (s *lineSet) add(h uint64) bool {
	if h == 0 {
		if s.hasZero {
			return false
		}
		s.hasZero = true
		return true
	}
	mask := uint64(len(s.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case h:
			return false
		case 0:
			s.slots[i] = h
			s.n++
			if s.n*4 > len(s.slots)*3 {
				s.grow()
			}
			return true
		}
	}
}

func (s *lineSet) grow() {
	old := s.slots
	s.slots = make([]uint64, len(old)*2)
	mask := uint64(len(s.slots) - 1)
	for _, h := range old {
		if h == 0 {
			continue
		}
		i := h & mask
		for s.slots[i] != 0 {
			i = (i + 1) & mask
		}
		s.slots[i] = h
	}
}
