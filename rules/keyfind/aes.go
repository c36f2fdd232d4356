package keyfind

import (
	"encoding/binary"
	"math/bits"
)

// AES key schedules are found with the aeskeyfind method (Halderman et al., "Lest We Remember:
// Cold Boot Attacks on Encryption Keys", 2008): take the first Nk words at an offset as a key,
// expand it with the FIPS-197 key expansion and compare the result with the memory that
// follows. Expanding at every offset would run at a few MB/s, so a pre-filter comes first.
//
// Pre-filter. Within a schedule, w[i] = w[i-1] ^ w[i-Nk] for every i that is not a multiple of
// Nk (for AES-256, not ≡ 4 mod 8 either). The relation is bytewise, so it holds in both storage
// orders and at byte granularity: c(x) = b[x] ^ b[x-4] ^ b[x-4·Nk] is zero over the bytes of
// those words. The first such run is bytes [20,32) of an AES-128 schedule (words 5–7), [28,48)
// of AES-192 (words 7–11) and [36,48) of AES-256 (words 9–11); each is ≥ 12 bytes long, so its
// first 4-byte window starting at a multiple of 4 lies inside it. The scan evaluates c for
// every such window and all three key sizes, two windows per 64-bit XOR of three unaligned
// loads, which catches a schedule at any byte offset; random data passes one window in 2^32.
// Zero memory satisfies the relation everywhere, so a trigger also needs c to be non-zero in
// the 8 bytes before the window, which hold the S-box slot w[Nk] ^ w[Nk-1] ^ w[0] =
// SubWord(RotWord(w[Nk-1])) ^ 01000000 ^ w[Nk-1]. That word is never zero, for any key: all
// four bytes are zero only if the first byte b of w[Nk-1] has S(S(S(S(b)))) ^ 1 = b, and no
// byte has (a test checks it). Zero pages, and any data that satisfies the linear relations but not the
// S-box, then cost nothing beyond the scan. With a tolerance, a schedule whose bit errors
// exactly cancel every set bit of that slot is missed.
//
// Candidates. A trigger is confirmed against more windows of the first six runs (confirm),
// and then means a schedule starting at one of four offsets (q - run start - 3 … q - run
// start). The three key sizes' triggers are delayed so that every candidate
// offset is examined once, in increasing order, largest key first: one schedule gives one hit,
// the longest key size valid at its offset, and nothing inside a reported schedule is examined
// again, so an AES-256 schedule is not also reported as a shorter one.
//
// Verification. Both word orders are tried (byte order first); the expansion stops as soon as
// the differing bits exceed the tolerance, which for nearly all candidates is at the first S-box
// word. With a tolerance, a candidate whose first Nk words are damaged expands to garbage, so
// the schedule is also recovered backwards from its last Nk words (the key expansion is
// invertible), which finds it as long as the errors are not in both the first and the last
// round keys. aeskeyfind only expands forwards and reports nothing in that case.

// aesHit is one expanded AES key schedule found in a buffer.
type aesHit struct {
	off       int    // offset of the schedule's first byte in buf
	key       []byte // the cipher key: 16, 24 or 32 bytes (a fresh slice, not aliasing buf)
	swapped   bool   // the schedule is stored as host-order (little-endian) 32-bit words, as OpenSSL's AES_KEY and Go's generic crypto/aes keep it, rather than in byte order (AES-NI code, Go's amd64 crypto/aes)
	bitErrors int    // bits that differ between the memory and the schedule key expands to
	length    int    // bytes of the schedule present in buf: 176, 208 or 240
}

// Window positions. The first window that can trigger is 20, where an AES-128 schedule at
// offset 0 has its first XOR run; delaying triggers aligns all key sizes' candidates to
// q-39 … q-36 at window q.
const (
	aesFirstWindow = 20
	aesFastStart   = 40 // from here every load of the fast loop, slot words included, is in buf
	aesCandLo      = 39 // candidates at window q are q-aesCandLo … q-aesCandHi
	aesCandHi      = 36
)

// aesRunStart is, per Nk, the byte offset of the schedule's first run of XOR-only words.
var aesRunStart = [9]int{4: 20, 6: 28, 8: 36}

// findAES reports every expanded AES-128/192/256 encryption key schedule that STARTS at an
// offset in [0, limit) of buf; buf[limit:] is look-ahead only (the next chunk scans it).
// maxBitErrors is the tolerance (0 = exact). Hits are reported in increasing offset order. A
// tolerance is meant to be small (aeskeyfind's default is 10): the pre-filter passes 32-bit
// windows with up to maxBitErrors set bits, so large values make the scan slower, never wrong.
func findAES(buf []byte, limit int, maxBitErrors int, emit func(aesHit)) {
	limit = min(limit, len(buf))
	if limit <= 0 || len(buf) < 176 {
		return
	}
	s := aesScan{buf: buf, limit: limit, maxErr: max(maxBitErrors, 0), emit: emit}
	// Window last is the last that can yield a candidate below limit. The fast loops take
	// windows in pairs from a 64-bit load at Q (a multiple of 8), so Q+8 ≤ len(buf).
	last := limit - 1 + aesCandLo
	qEnd := min(len(buf)-8, last-4)
	qEnd -= qEnd % 8
	var pend uint32
	for r := aesFirstWindow; r <= last; r += 4 {
		if r == aesFastStart && qEnd >= aesFastStart {
			if s.maxErr == 0 {
				pend = s.scanExact(r, qEnd, pend)
			} else {
				pend = s.scanTolerant(r, qEnd, pend)
			}
			r = qEnd + 4
			continue
		}
		pend = s.step(r, s.fires(r, 4), s.fires(r, 6), s.fires(r, 8), pend)
	}
}

// aesScan is the state of one findAES call.
type aesScan struct {
	buf    []byte
	limit  int
	maxErr int
	emit   func(aesHit)
	skip   int        // candidates below this offset lie inside a reported schedule
	w      [60]uint32 // expansion scratch space
}

// Delayed triggers: an AES-128 trigger at window q is handled at q+16 and an AES-192 one at q+8,
// so that all candidates of window q are q-39 … q-36 and come in increasing order. pend holds
// the AES-128 triggers of the last 4 windows in bits 0–4 and the AES-192 ones in bits 8–10; bit
// 0 and bit 8 are due now.
const (
	pend128Bit = 1 << 4
	pend192Bit = 1 << 10
	pendDue    = 1 | 1<<8
)

// Trigger bits the fast loops pass to step2: the window at Q (low half of the 64-bit pre-filter
// word) and the window at Q+4 (high half), for each key size.
const (
	trig128Lo = 1 << iota
	trig192Lo
	trig256Lo
	trig128Hi
	trig192Hi
	trig256Hi
)

// scanExact is the hot loop with no tolerance, for the windows Q and Q+4 of every Q in
// q0, q0+8 … q1 (q0 ≥ 40 and a multiple of 8, q1+8 ≤ len(buf)). a, b and c are the pre-filter
// words for AES-128, -192 and -256; the previous one of each gives the S-box slot, the 8 bytes
// before a window, without loading it again.
func (s *aesScan) scanExact(q0, q1 int, pend uint32) uint32 {
	buf := s.buf
	a1, b1, c1 := aesC(buf, q0-8, 4), aesC(buf, q0-8, 6), aesC(buf, q0-8, 8)
	for q := q0; q <= q1; q += 8 {
		w := buf[q-32 : q+8 : q+8]
		x := binary.LittleEndian.Uint64(w[32:]) ^ binary.LittleEndian.Uint64(w[28:])
		a := x ^ binary.LittleEndian.Uint64(w[16:])
		b := x ^ binary.LittleEndian.Uint64(w[8:])
		c := x ^ binary.LittleEndian.Uint64(w[0:])
		var m uint32
		if uint32(a) == 0 && a1 != 0 {
			m |= trig128Lo
		}
		if a>>32 == 0 && a1>>32|a<<32 != 0 {
			m |= trig128Hi
		}
		if uint32(b) == 0 && b1 != 0 {
			m |= trig192Lo
		}
		if b>>32 == 0 && b1>>32|b<<32 != 0 {
			m |= trig192Hi
		}
		if uint32(c) == 0 && c1 != 0 {
			m |= trig256Lo
		}
		if c>>32 == 0 && c1>>32|c<<32 != 0 {
			m |= trig256Hi
		}
		if m|pend != 0 {
			pend = s.step2(q, m, pend)
		}
		a1, b1, c1 = a, b, c
	}
	return pend
}

// scanTolerant is scanExact with a tolerance: a window passes with up to maxErr set bits. One
// flipped bit of memory changes c at x, x+4 and x+16, so at most one bit of a 4-byte window.
func (s *aesScan) scanTolerant(q0, q1 int, pend uint32) uint32 {
	buf := s.buf
	t := s.maxErr
	a1, b1, c1 := aesC(buf, q0-8, 4), aesC(buf, q0-8, 6), aesC(buf, q0-8, 8)
	for q := q0; q <= q1; q += 8 {
		w := buf[q-32 : q+8 : q+8]
		x := binary.LittleEndian.Uint64(w[32:]) ^ binary.LittleEndian.Uint64(w[28:])
		a := x ^ binary.LittleEndian.Uint64(w[16:])
		b := x ^ binary.LittleEndian.Uint64(w[8:])
		c := x ^ binary.LittleEndian.Uint64(w[0:])
		// A window at Q is the first of a run only if the window at Q+4 passes too: every run
		// is ≥ 12 bytes long. That halves the triggers in sparse data at no cost.
		alo, ahi := bits.OnesCount32(uint32(a)) <= t, bits.OnesCount32(uint32(a>>32)) <= t
		blo, bhi := bits.OnesCount32(uint32(b)) <= t, bits.OnesCount32(uint32(b>>32)) <= t
		clo, chi := bits.OnesCount32(uint32(c)) <= t, bits.OnesCount32(uint32(c>>32)) <= t
		var m uint32
		if alo && ahi && a1 != 0 {
			m |= trig128Lo
		}
		if ahi && a1>>32|a<<32 != 0 {
			m |= trig128Hi
		}
		if blo && bhi && b1 != 0 {
			m |= trig192Lo
		}
		if bhi && b1>>32|b<<32 != 0 {
			m |= trig192Hi
		}
		if clo && chi && c1 != 0 {
			m |= trig256Lo
		}
		if chi && c1>>32|c<<32 != 0 {
			m |= trig256Hi
		}
		if m|pend != 0 {
			pend = s.step2(q, m, pend)
		}
		a1, b1, c1 = a, b, c
	}
	return pend
}

// step2 runs step for the windows Q and Q+4 of one fast-loop iteration.
func (s *aesScan) step2(q int, m, pend uint32) uint32 {
	pend = s.step(q, m&trig128Lo != 0, m&trig192Lo != 0, m&trig256Lo != 0, pend)
	return s.step(q+4, m&trig128Hi != 0, m&trig192Hi != 0, m&trig256Hi != 0, pend)
}

// aesC is the pre-filter word for key size nk at q, that is c over bytes q … q+7;
// q ≥ 4·nk and q+8 ≤ len(buf).
func aesC(buf []byte, q, nk int) uint64 {
	return binary.LittleEndian.Uint64(buf[q:]) ^ binary.LittleEndian.Uint64(buf[q-4:]) ^
		binary.LittleEndian.Uint64(buf[q-4*nk:])
}

// fires is the pre-filter for one window and key size with every bound checked, for the few
// windows at the ends of buf that the fast loops do not cover.
func (s *aesScan) fires(q, nk int) bool {
	if q-4*nk < 0 || q+4 > len(s.buf) || q-aesRunStart[nk]-3 >= s.limit {
		return false
	}
	c := binary.LittleEndian.Uint32(s.buf[q:]) ^ binary.LittleEndian.Uint32(s.buf[q-4:]) ^
		binary.LittleEndian.Uint32(s.buf[q-4*nk:])
	if bits.OnesCount32(c) > s.maxErr {
		return false
	}
	// Near the start of buf the S-box slot may not be there to read; passing is only slower.
	return q-8-4*nk < 0 || aesC(s.buf, q-8, nk) != 0
}

// aesRunStep is, per Nk, the distance between the XOR-only runs of a schedule.
var aesRunStep = [9]int{4: 16, 6: 24, 8: 16}

// confirm checks the trigger at q for key size nk against the first two 4-byte windows of each
// of the schedule's first six XOR-only runs, the trigger window among them. One flipped bit of
// memory changes c at x, x+4 and x+4·Nk: at most one bit of any 4-byte window, and at most
// three bits of all windows together. So in a schedule with maxErr errors every window holds
// at most maxErr set bits and all of them together at most 3·maxErr. Sparse data (small
// integers, pointers) passes single windows far more often than random data; the sum over
// twelve windows is what sets it apart with a tolerance.
func (s *aesScan) confirm(q, nk int) bool {
	const runs = 6
	st := aesRunStep[nk]
	if q+(runs-1)*st+8 > len(s.buf) {
		return false // no room for any schedule from this trigger
	}
	sum, limit := 0, 3*s.maxErr
	for x := q; x < q+runs*st; x += st {
		w := s.buf[x-4*nk : x+8]
		d := binary.LittleEndian.Uint64(w[4*nk:]) ^ binary.LittleEndian.Uint64(w[4*nk-4:]) ^
			binary.LittleEndian.Uint64(w)
		lo, hi := bits.OnesCount32(uint32(d)), bits.OnesCount32(uint32(d>>32))
		if sum += lo + hi; lo > s.maxErr || hi > s.maxErr || sum > limit {
			return false
		}
	}
	return true
}

// step records the triggers of window r and examines the candidates due at r.
func (s *aesScan) step(r int, f4, f6, f8 bool, pend uint32) uint32 {
	if f4 && s.confirm(r, 4) {
		pend |= pend128Bit
	}
	if f6 && s.confirm(r, 6) {
		pend |= pend192Bit
	}
	f8 = f8 && s.confirm(r, 8)
	do4, do6 := pend&1 != 0, pend&(1<<8) != 0
	if do4 || do6 || f8 {
		for p := max(r-aesCandLo, 0, s.skip); p <= r-aesCandHi && p < s.limit; p++ {
			if (f8 && s.try(p, 8)) || (do6 && s.try(p, 6)) || (do4 && s.try(p, 4)) {
				p = s.skip - 1
			}
		}
	}
	return (pend &^ pendDue) >> 1
}

// try verifies a schedule of key size nk at p in both orders and reports it.
func (s *aesScan) try(p, nk int) bool {
	n := 4 * (nk + 7) // words in the schedule
	if p+4*n > len(s.buf) {
		return false
	}
	mem := s.buf[p : p+4*n]
	for _, swapped := range [2]bool{false, true} {
		// The first S-box word rejects nearly every candidate before a full expansion starts.
		w0, wl, wn := aesWord(mem, 0, swapped), aesWord(mem, nk-1, swapped), aesWord(mem, nk, swapped)
		ok := bits.OnesCount32(wn^w0^aesSubWord(wl<<8|wl>>24)^1<<24) <= s.maxErr
		d := 0
		if ok {
			d, ok = aesForward(mem, nk, swapped, s.maxErr, &s.w)
		}
		if !ok && s.maxErr > 0 {
			d, ok = aesBackward(mem, nk, swapped, s.maxErr, &s.w)
		}
		if ok {
			key := make([]byte, 4*nk)
			for i := range nk {
				binary.BigEndian.PutUint32(key[4*i:], s.w[i])
			}
			s.emit(aesHit{off: p, key: key, swapped: swapped, bitErrors: d, length: len(mem)})
			s.skip = p + len(mem)
			return true
		}
	}
	return false
}

// aesWord reads FIPS-197 word i of a schedule stored in either order.
func aesWord(mem []byte, i int, swapped bool) uint32 {
	if swapped {
		return binary.LittleEndian.Uint32(mem[4*i:])
	}
	return binary.BigEndian.Uint32(mem[4*i:])
}

// aesForward expands the first nk words of mem into w and counts the bits in which the
// expansion differs from mem, giving up once they exceed maxErr.
func aesForward(mem []byte, nk int, swapped bool, maxErr int, w *[60]uint32) (int, bool) {
	n := len(mem) / 4
	for i := range nk {
		w[i] = aesWord(mem, i, swapped)
	}
	d, k, rc := 0, 0, 0
	for i := nk; i < n; i++ {
		t := w[i-1]
		if k == 0 {
			t = aesSubWord(t<<8|t>>24) ^ uint32(aesRcon[rc])<<24
			rc++
		} else if nk == 8 && k == 4 {
			t = aesSubWord(t)
		}
		if k++; k == nk {
			k = 0
		}
		w[i] = w[i-nk] ^ t
		d += bits.OnesCount32(w[i] ^ aesWord(mem, i, swapped))
		if d > maxErr {
			return d, false
		}
	}
	return d, true
}

// aesBackward recovers the schedule from the last nk words of mem by running the expansion
// backwards, with the same error count as aesForward.
func aesBackward(mem []byte, nk int, swapped bool, maxErr int, w *[60]uint32) (int, bool) {
	n := len(mem) / 4
	// Going backwards, the first few words are XOR-only and match any sparse memory; check the
	// first S-box word, i0 = n-4 for every key size, before them. Its input w[i0-1] is in the
	// last nk words, or for AES-128 one XOR step below them.
	i0 := n - 4
	in := aesWord(mem, i0-1, swapped)
	if nk == 4 {
		in = aesWord(mem, i0+3, swapped) ^ aesWord(mem, i0+2, swapped)
	}
	first := aesWord(mem, i0, swapped) ^ aesSubWord(in<<8|in>>24) ^ uint32(aesRcon[aesLastRcon[nk]])<<24
	if bits.OnesCount32(first^aesWord(mem, i0-nk, swapped)) > maxErr {
		return maxErr + 1, false
	}
	for i := n - nk; i < n; i++ {
		w[i] = aesWord(mem, i, swapped)
	}
	d := 0
	for i := n - 1; i >= nk; i-- {
		t := w[i-1]
		if k := i % nk; k == 0 {
			t = aesSubWord(t<<8|t>>24) ^ uint32(aesRcon[i/nk-1])<<24
		} else if nk == 8 && k == 4 {
			t = aesSubWord(t)
		}
		w[i-nk] = w[i] ^ t
		d += bits.OnesCount32(w[i-nk] ^ aesWord(mem, i-nk, swapped))
		if d > maxErr {
			return d, false
		}
	}
	return d, true
}

// aesSubWord applies the S-box to each byte of w.
func aesSubWord(w uint32) uint32 {
	return uint32(aesSbox[w>>24])<<24 | uint32(aesSbox[w>>16&0xff])<<16 |
		uint32(aesSbox[w>>8&0xff])<<8 | uint32(aesSbox[w&0xff])
}

// aesLastRcon is, per Nk, the index of the round constant of the schedule's last S-box word.
var aesLastRcon = [9]int{4: 9, 6: 7, 8: 6}

// aesRcon holds the round constants x^(i) in GF(2^8); AES-128 uses all ten.
var aesRcon = [10]byte{0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0x1b, 0x36}

// aesSbox is the FIPS-197 S-box: the multiplicative inverse in GF(2^8) followed by the affine
// map. It is computed rather than listed so that it cannot hold a typo; the tests check it
// against the FIPS-197 key expansion vectors and against crypto/aes.
var aesSbox = func() (s [256]byte) {
	// p walks the powers of the generator 3 and q the matching powers of its inverse, so q is
	// always p's inverse.
	p, q := byte(1), byte(1)
	for {
		p ^= p<<1 ^ (p>>7)*0x1b
		q ^= q << 1
		q ^= q << 2
		q ^= q << 4
		if q&0x80 != 0 {
			q ^= 0x09
		}
		s[p] = q ^ bits.RotateLeft8(q, 1) ^ bits.RotateLeft8(q, 2) ^ bits.RotateLeft8(q, 3) ^
			bits.RotateLeft8(q, 4) ^ 0x63
		if p == 1 {
			break
		}
	}
	s[0] = 0x63
	return s
}()
