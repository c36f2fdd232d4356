package keys

import (
	"crypto/rand"
	"math/big"
	mrand "math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func ints(xs ...int64) []*big.Int {
	out := make([]*big.Int, len(xs))
	for i, x := range xs {
		out[i] = big.NewInt(x)
	}
	return out
}

// strs renders results for cmp, which cannot look inside big.Int; nil stays "<nil>".
func strs(xs []*big.Int) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = x.String()
	}
	return out
}

// naiveGCD is the definition itself: gcd of each modulus with the full product of the other
// distinct moduli.
func naiveGCD(moduli []*big.Int) []*big.Int {
	uniq, back := distinctModuli(moduli)
	out := make([]*big.Int, len(moduli))
	for i, u := range back {
		if u < 0 {
			continue
		}
		p := big.NewInt(1)
		for v, m := range uniq {
			if v != u {
				p.Mul(p, m)
			}
		}
		out[i] = p.GCD(nil, nil, uniq[u], p)
	}
	return out
}

func TestBatchGCD(t *testing.T) {
	tests := []struct {
		name   string
		moduli []*big.Int
		want   []*big.Int // nil: only compare with the definition
	}{
		{name: "empty", moduli: nil, want: []*big.Int{}},
		{name: "one", moduli: ints(15), want: ints(1)},
		{name: "two coprime", moduli: ints(15, 77), want: ints(1, 1)},
		{name: "two sharing", moduli: ints(15, 21), want: ints(3, 3)},
		{name: "one pair among coprimes", moduli: ints(6, 35, 143, 323, 22), want: ints(2, 1, 11, 1, 22)},
		// Each shares one prime with each of the others, so each is fully shared.
		{name: "triangle", moduli: ints(6, 15, 10), want: ints(6, 15, 10)},
		{name: "duplicate alone", moduli: ints(15, 15, 77), want: ints(1, 1, 1)},
		{name: "duplicate of a shared one", moduli: ints(15, 21, 15), want: ints(3, 3, 3)},
		{name: "square of a prime", moduli: ints(9, 3, 35), want: ints(3, 3, 1)},
		{name: "square and its prime twice", moduli: ints(9, 6, 15), want: ints(9, 3, 3)},
		{name: "one as a modulus", moduli: ints(1, 15, 21), want: ints(1, 3, 3)},
		{name: "nil zero negative", moduli: []*big.Int{nil, big.NewInt(15), big.NewInt(0), big.NewInt(-21), big.NewInt(21)},
			want: []*big.Int{nil, big.NewInt(3), nil, nil, big.NewInt(3)}},
		{name: "all nil", moduli: []*big.Int{nil, nil}, want: []*big.Int{nil, nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := BatchGCD(tt.moduli)
			if diff := cmp.Diff(strs(tt.want), strs(got)); diff != "" {
				t.Errorf("BatchGCD mismatch (-want +got):\n%s", diff)
			}
			// The tree must agree even on inputs this small, which BatchGCD gives to the
			// quadratic method.
			uniq, _ := distinctModuli(tt.moduli)
			if diff := cmp.Diff(strs(quadraticGCD(uniq)), strs(treeGCD(uniq))); diff != "" {
				t.Errorf("treeGCD differs from quadraticGCD (-quadratic +tree):\n%s", diff)
			}
		})
	}
}

func TestBatchGCDDoesNotChangeInput(t *testing.T) {
	moduli := ints(6, 15, 10, 6)
	got := BatchGCD(moduli)
	got[0].SetInt64(99) // a duplicate's result is a separate number
	if diff := cmp.Diff([]string{"6", "15", "10", "6"}, strs(moduli)); diff != "" {
		t.Errorf("moduli changed (-want +got):\n%s", diff)
	}
	if got[3].Int64() != 6 {
		t.Errorf("changing result 0 changed result 3 to %v", got[3])
	}
}

// TestBatchGCDRandom checks both methods against the definition on products of a few small
// primes, repeated factors and duplicates included, across the size where BatchGCD switches.
func TestBatchGCDRandom(t *testing.T) {
	primes := []int64{2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71,
		73, 79, 83, 89, 97, 101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163}
	rng := mrand.New(mrand.NewPCG(5, 8))
	for _, size := range []int{1, 2, 3, 5, batchGCDTreeMin - 1, batchGCDTreeMin, batchGCDTreeMin + 1, 70} {
		for round := 0; round < 5; round++ {
			moduli := make([]*big.Int, size)
			for i := range moduli {
				n := big.NewInt(1)
				for range 1 + rng.IntN(3) {
					n.Mul(n, big.NewInt(primes[rng.IntN(len(primes))]))
				}
				moduli[i] = n
			}
			want := strs(naiveGCD(moduli))
			if diff := cmp.Diff(want, strs(BatchGCD(moduli))); diff != "" {
				t.Fatalf("size %d: BatchGCD(%v) mismatch (-want +got):\n%s", size, strs(moduli), diff)
			}
			uniq, back := distinctModuli(moduli)
			for name, gcds := range map[string]func([]*big.Int) []*big.Int{"tree": treeGCD, "quadratic": quadraticGCD} {
				g := gcds(uniq)
				got := make([]string, len(moduli))
				for i, u := range back {
					got[i] = g[u].String()
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Fatalf("size %d: %s(%v) mismatch (-want +got):\n%s", size, name, strs(uniq), diff)
				}
			}
		}
	}
}

func TestSharedPrimesSmall(t *testing.T) {
	tests := []struct {
		name   string
		moduli []*big.Int
		want   map[int][]int
	}{
		{name: "empty", moduli: nil, want: map[int][]int{}},
		{name: "one", moduli: ints(15), want: map[int][]int{}},
		{name: "coprime", moduli: ints(15, 77, 221), want: map[int][]int{}},
		{name: "pair", moduli: ints(15, 143, 21), want: map[int][]int{0: {2}, 2: {0}}},
		{name: "triangle", moduli: ints(6, 15, 10), want: map[int][]int{0: {1, 2}, 1: {0, 2}, 2: {0, 1}}},
		// 33 and 35 have gcds 3·11 and 5·7 that share nothing, though both are flagged.
		{name: "flagged but not partners", moduli: ints(33, 35, 21, 55), want: map[int][]int{
			0: {2, 3}, 1: {2, 3}, 2: {0, 1}, 3: {0, 1}}},
		{name: "duplicates", moduli: ints(15, 143, 15, 21), want: map[int][]int{0: {3}, 2: {3}, 3: {0, 2}}},
		{name: "duplicates only", moduli: ints(15, 15), want: map[int][]int{}},
		{name: "nil and zero", moduli: []*big.Int{nil, big.NewInt(0), big.NewInt(15), big.NewInt(21)},
			want: map[int][]int{2: {3}, 3: {2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, SharedPrimes(tt.moduli)); diff != "" {
				t.Errorf("SharedPrimes mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// primePool returns count random primes of the given size, made in parallel because
// crypto/rand.Prime is the slow part of these tests.
func primePool(t *testing.T, count, bits int) []*big.Int {
	t.Helper()
	out := make([]*big.Int, count)
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < count; i += workers {
				p, err := rand.Prime(rand.Reader, bits)
				if err != nil {
					t.Errorf("generating a prime: %v", err)
					return
				}
				out[i] = p
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return out
}

// TestSharedPrimesRSA plants a few shared primes among 200 moduli of real primes, enough for
// the tree path, with moduli of two sizes so that the tree is uneven.
func TestSharedPrimesRSA(t *testing.T) {
	p := primePool(t, 390, 256)
	big512 := primePool(t, 1, 512)[0]
	mul := func(a, b *big.Int) *big.Int { return new(big.Int).Mul(a, b) }
	var moduli []*big.Int
	for k := range 190 { // 0..189 share nothing: primes 0..379
		moduli = append(moduli, mul(p[2*k], p[2*k+1]))
	}
	moduli = append(moduli,
		mul(p[0], p[380]),                   // 190 shares p0 with 0
		mul(p[381], p[3]),                   // 191 shares p3 with 1
		mul(p[382], p[383]),                 // 192, 193, 194: each prime shared once,
		mul(p[383], p[384]),                 // so all three are fully shared
		mul(p[384], p[382]),                 //
		mul(p[100], p[102]),                 // 195 shares with 50 and 51: fully shared
		new(big.Int).Set(moduli[7]),         // 196 duplicates 7, which shares nothing
		new(big.Int).Set(mul(p[0], p[380])), // 197 duplicates 190
		mul(big512, p[385]),                 // 198 and 199 share a 512-bit prime
		mul(big512, p[386]),                 //
		nil,                                 // 200
		big.NewInt(0),                       // 201
	)
	wantGCD := map[int]*big.Int{
		0: p[0], 190: p[0], 197: p[0],
		1: p[3], 191: p[3],
		192: moduli[192], 193: moduli[193], 194: moduli[194],
		195: moduli[195], 50: p[100], 51: p[102],
		198: big512, 199: big512,
	}
	got := BatchGCD(moduli)
	for i, g := range got {
		want := wantGCD[i]
		switch {
		case i >= 200:
			if g != nil {
				t.Errorf("BatchGCD[%d] = %v, want nil", i, g)
			}
		case want == nil:
			if g.Cmp(bigOne) != 0 {
				t.Errorf("BatchGCD[%d] = %v, want 1", i, g)
			}
		case g.Cmp(want) != 0:
			t.Errorf("BatchGCD[%d] = %v, want %v", i, g, want)
		}
	}
	wantPairs := map[int][]int{
		0: {190, 197}, 190: {0}, 197: {0},
		1: {191}, 191: {1},
		192: {193, 194}, 193: {192, 194}, 194: {192, 193},
		50: {195}, 51: {195}, 195: {50, 51},
		198: {199}, 199: {198},
	}
	if diff := cmp.Diff(wantPairs, SharedPrimes(moduli)); diff != "" {
		t.Errorf("SharedPrimes mismatch (-want +got):\n%s", diff)
	}
}

// BenchmarkBatchGCD10000 is issue #5's target: 10,000 RSA-2048 moduli in under 10 s. The
// factors are random odd 1024-bit numbers, not primes (the cost does not depend on it), with
// a few planted shared factors so that some leaves do the full gcd.
func BenchmarkBatchGCD10000(b *testing.B) {
	moduli := benchModuli(10000, 2048)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	before := ms.TotalAlloc
	shared := 0
	for b.Loop() {
		shared = 0
		for _, g := range BatchGCD(moduli) {
			if g.BitLen() > 64 { // more than a small factor of two random numbers
				shared++
			}
		}
	}
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.TotalAlloc-before)/float64(b.N)/(1<<20), "MiB-alloc/op")
	b.ReportMetric(float64(ms.Sys)/(1<<20), "MiB-sys")
	if shared < 20 {
		b.Fatalf("%d moduli flagged with a large shared factor, want at least the 20 planted", shared)
	}
}

func benchModuli(count, bits int) []*big.Int {
	rng := mrand.New(mrand.NewPCG(1, 2))
	half := func() *big.Int {
		w := make([]byte, bits/16)
		for i := range w {
			w[i] = byte(rng.Uint32())
		}
		w[0] |= 0xc0 // so that the product has exactly bits bits
		w[len(w)-1] |= 1
		return new(big.Int).SetBytes(w)
	}
	out := make([]*big.Int, count)
	for i := range out {
		out[i] = new(big.Int).Mul(half(), half())
	}
	for k := range 10 { // 10 pairs far apart in the tree share a factor
		f := half()
		out[k*37] = new(big.Int).Mul(f, half())
		out[count-1-k*53] = new(big.Int).Mul(f, half())
	}
	return out
}
