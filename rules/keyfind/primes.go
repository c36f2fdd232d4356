package keyfind

import (
	"encoding/binary"
	"fmt"
	"math/big"
	"math/bits"
	"slices"
)

// DefaultPrimeBudget is how many divisibility tests (one candidate against one modulus) the
// prime search makes at most per Finder, which bounds it to a few seconds whatever the input.
const DefaultPrimeBudget = 1 << 20

// primeAlign is the alignment of the integers tried: big-number libraries (Go's math/big,
// OpenSSL's BIGNUM) keep their limbs in word-aligned arrays.
const primeAlign = 8

// modulus is an RSA public key whose private key the prime search looks for.
type modulus struct {
	n, e  *big.Int
	where string // where it was found, for the finding's Confirmed text
}

// primeLens returns the byte lengths of the primes of the unsolved moduli, and the moduli.
func (f *Finder) unsolved() []modulus {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []modulus
	for k, m := range f.moduli {
		if !f.solved[k] {
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(a, b modulus) int { return a.n.Cmp(b.n) })
	return out
}

// findPrimes reports RSA private keys rebuilt from an integer, big- or little-endian, at a
// primeAlign-aligned offset in [from, limit) of buf that divides one of ms. base is buf's
// offset in the whole input, which alignment is reckoned against.
func (f *Finder) findPrimes(buf []byte, from, limit int, base int64, ms []modulus, emit func(Hit)) {
	lens := map[int][]modulus{}
	for _, m := range ms {
		l := (m.n.BitLen() + 15) / 16 // bytes of a prime of half the modulus's size
		if l >= 32 {
			lens[l] = append(lens[l], m)
		}
	}
	first := from
	if r := (base + int64(first)) % primeAlign; r != 0 {
		first += int(primeAlign - r)
	}
	le := make([]byte, 0, 1024)
	p := new(big.Int)
	rem, quo := new(big.Int), new(big.Int)
	for l, group := range lens {
		for i := first; i < limit && i+l <= len(buf); i += primeAlign {
			c := buf[i : i+l]
			be := c[0]&0x80 != 0 && c[l-1]&1 == 1
			lit := c[l-1]&0x80 != 0 && c[0]&1 == 1
			if !be && !lit || !varied(c) {
				continue
			}
			for _, bigEndian := range []bool{true, false} {
				if bigEndian && !be || !bigEndian && !lit || !sieved(c, bigEndian) {
					continue
				}
				if bigEndian {
					p.SetBytes(c)
				} else {
					le = le[:0]
					for j := l - 1; j >= 0; j-- {
						le = append(le, c[j])
					}
					p.SetBytes(le)
				}
				for _, m := range group {
					if f.budget.Add(-1) < 0 {
						f.exhausted.Store(true)
						return
					}
					if quo.QuoRem(m.n, p, rem); rem.Sign() != 0 {
						continue
					}
					h, ok := rsaFromPrime(m, p)
					if !ok {
						continue
					}
					order := "big-endian"
					if !bigEndian {
						order = "little-endian"
					}
					h.Offset, h.Length = int64(i), l
					h.Confirmed = fmt.Sprintf("%d-bit %s prime divides the modulus of %s; n = p·q, d·e ≡ 1 mod λ(n)", p.BitLen(), order, m.where)
					f.solve(m.n)
					emit(h)
				}
			}
		}
	}
}

// varied rejects runs that are no big number: zeros with a set bit at each end, repeated
// words, ASCII text.
func varied(c []byte) bool {
	l := len(c)
	a := binary.LittleEndian.Uint64(c[0:])
	m := binary.LittleEndian.Uint64(c[l/2-4:])
	z := binary.LittleEndian.Uint64(c[l-8:])
	if a == m || m == z || a == z || m == 0 {
		return false
	}
	const hi = 0x8080808080808080
	return (a|m|z)&hi != 0 // text has no byte ≥ 0x80
}

// smallPrimes are the odd primes whose product, sieveModulus, fits in 64 bits.
var smallPrimes = []uint64{3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53}

const sieveModulus = 3 * 5 * 7 * 11 * 13 * 17 * 19 * 23 * 29 * 31 * 37 * 41 * 43 * 47 * 53

// sieved reports whether the integer c holds (in the given byte order) has no odd prime
// factor up to 53. Nearly three candidates in four have one, and this costs a word-sized
// division per 8 bytes instead of a big-number division by the candidate.
func sieved(c []byte, bigEndian bool) bool {
	if len(c)%8 != 0 {
		return true
	}
	var r uint64
	for i := 0; i < len(c); i += 8 {
		var w uint64
		if bigEndian {
			w = binary.BigEndian.Uint64(c[i:])
		} else {
			w = binary.LittleEndian.Uint64(c[len(c)-8-i:])
		}
		_, r = bits.Div64(r, w, sieveModulus)
	}
	for _, p := range smallPrimes {
		if r%p == 0 {
			return false
		}
	}
	return true
}

// rsaFromPrime rebuilds the private key of m from its prime factor p.
func rsaFromPrime(m modulus, p *big.Int) (Hit, bool) {
	one := big.NewInt(1)
	if p.Cmp(one) <= 0 || p.Cmp(m.n) >= 0 {
		return Hit{}, false
	}
	q := new(big.Int).Quo(m.n, p)
	p1, q1 := new(big.Int).Sub(p, one), new(big.Int).Sub(q, one)
	g := new(big.Int).GCD(nil, nil, p1, q1)
	lambda := new(big.Int).Mul(p1, q1)
	lambda.Quo(lambda, g)
	d := new(big.Int).ModInverse(m.e, lambda)
	if d == nil {
		return Hit{}, false
	}
	pp, qq := new(big.Int).Set(p), q
	if pp.Cmp(qq) < 0 { // p > q, as OpenSSL and crypto/rsa order them
		pp, qq = qq, pp
	}
	der, ok := pkcs1DER(m.n, m.e, d, pp, qq)
	if !ok {
		return Hit{}, false
	}
	k, ok := parseOne(der)
	if !ok {
		return Hit{}, false
	}
	k.Format = "pkcs1"
	return Hit{Detector: DetectorRSAPrimes, Key: &k, Text: canonicalPEMOf(der)}, true
}
