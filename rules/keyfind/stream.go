package keyfind

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/keywarden/keywarden/rules/keys"
)

// Chunking: each worker reads ChunkSize bytes of starting positions plus Overlap bytes either
// side. A key up to Overlap bytes long that straddles a chunk boundary is read whole by the
// chunk it starts in; the bytes before a chunk let it recognise a key nested in one that
// started earlier (a PKCS#1 key inside PKCS#8) instead of reporting it twice.
const (
	ChunkSize = 8 << 20
	Overlap   = 64 << 10
)

// Options configures a Finder.
type Options struct {
	// AESBitErrors is how many bits of an expanded AES key schedule may differ from the
	// schedule its first round key expands to (decayed memory); 0 means exact.
	AESBitErrors int
	// PrimeBudget bounds the prime search's divisibility tests: 0 means DefaultPrimeBudget,
	// a negative value turns the search off.
	PrimeBudget int
	// Workers is how many chunks are scanned at once (0 = runtime.NumCPU()).
	Workers int
	// Moduli are RSA public keys known before the scan (an HSM's or KMS's keys) whose private
	// keys the prime search looks for, as for those seen in the input.
	Moduli []Modulus
}

// Modulus is a known RSA public key and where it is from ("jwt-signing (01) in pkcs11:prod").
type Modulus struct {
	Key   *rsa.PublicKey
	Where string
}

// Finder finds keys in binary data. Moduli of the RSA public keys it sees (and those added with
// AddModulus) are kept across calls, so the prime search can rebuild a private key whose
// structure is damaged from a prime found anywhere in the same input. It is safe for
// concurrent use.
type Finder struct {
	opts      Options
	mu        sync.Mutex
	moduli    map[string]modulus
	solved    map[string]bool
	budget    atomic.Int64
	exhausted atomic.Bool
}

// New returns a Finder.
func New(o Options) *Finder {
	f := &Finder{opts: o, moduli: map[string]modulus{}, solved: map[string]bool{}}
	b := int64(o.PrimeBudget)
	if b == 0 {
		b = DefaultPrimeBudget
	}
	f.budget.Store(max(b, 0))
	for _, m := range o.Moduli {
		if m.Key != nil {
			f.AddModulus(m.Key.N, m.Key.E, "the inventory key "+m.Where)
		}
	}
	return f
}

// AddModulus adds an RSA public key (from an inventory, say) for the prime search; where names
// it in findings.
func (f *Finder) AddModulus(n *big.Int, e int, where string) {
	f.addModulus(n, big.NewInt(int64(e)), where)
}

func (f *Finder) addModulus(n, e *big.Int, where string) {
	if n == nil || e == nil || n.BitLen() < 512 || n.BitLen() > 16384 || e.Sign() <= 0 {
		return
	}
	k := string(n.Bytes())
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.moduli[k]; !ok {
		f.moduli[k] = modulus{n: n, e: e, where: where}
	}
}

func (f *Finder) solve(n *big.Int) {
	f.mu.Lock()
	f.solved[string(n.Bytes())] = true
	f.mu.Unlock()
}

// NeedPrimePass reports whether RSA public keys were seen whose private key was not found, so
// that a second pass (ScanPrimesAt) may rebuild it from a prime.
func (f *Finder) NeedPrimePass() bool {
	return f.opts.PrimeBudget >= 0 && len(f.unsolved()) > 0 && f.budget.Load() > 0
}

// PrimeBudgetExhausted reports whether the prime search stopped at its budget.
func (f *Finder) PrimeBudgetExhausted() bool { return f.exhausted.Load() }

// scan runs the single-pass detectors over the starting positions [from, limit) of buf, whose
// first byte is at offset base of the input.
func (f *Finder) scan(buf []byte, from, limit int, base int64, emit func(Hit)) {
	pub := func(where func() string) func(n, e *big.Int) {
		return func(n, e *big.Int) { f.addModulus(n, e, where()) }
	}
	out := func(h Hit) {
		if h.Key != nil && h.Key.RSA != nil {
			f.solve(h.Key.RSA.N)
		}
		h.Offset += base
		emit(h)
	}
	findDER(buf, from, limit, out, pub(func() string { return "an RSA public key in the same input" }))
	findText(buf, from, limit, out, pub(func() string { return "an RSA public key in the same input" }))
	if limit > from {
		findAES(buf[from:], limit-from, f.opts.AESBitErrors, func(a aesHit) {
			emit(Hit{
				Offset:    base + int64(from+a.off),
				Length:    a.length,
				Detector:  DetectorAES,
				AES:       a.key,
				Text:      AESJWK(a.key),
				Confirmed: aesConfirmed(a),
				BitErrors: a.bitErrors,
			})
		})
	}
}

func aesConfirmed(a aesHit) string {
	order := "byte order"
	if a.swapped {
		order = "32-bit little-endian words"
	}
	s := fmt.Sprintf("all %d round-key bytes follow from the key by AES key expansion (%s)", a.length, order)
	if a.bitErrors > 0 {
		s = fmt.Sprintf("the %d round-key bytes follow from the key by AES key expansion with %d bit errors (%s)", a.length, a.bitErrors, order)
	}
	return s
}

// AESJWK is the JWK (RFC 7517 "oct") of an AES key: how a recovered key is shown to incident
// responders who pass --show-secrets.
func AESJWK(key []byte) string {
	return fmt.Sprintf(`{"kty":"oct","alg":"A%dGCM","k":"%s"}`, 8*len(key), base64.RawURLEncoding.EncodeToString(key))
}

// Bytes finds every key in data, held whole in memory (a binary file of a repository), then
// runs the prime search over it if it holds RSA moduli without their private keys.
func (f *Finder) Bytes(data []byte) []Hit {
	var hits []Hit
	f.scan(data, 0, len(data), 0, func(h Hit) { hits = append(hits, h) })
	if ms := f.unsolved(); len(ms) > 0 && f.opts.PrimeBudget >= 0 {
		f.findPrimes(data, 0, len(data), 0, ms, func(h Hit) { hits = append(hits, h) })
	}
	sortHits(hits)
	return hits
}

// ScanAt finds every key in the size bytes of r at off, reading it in overlapping chunks on
// Workers goroutines; emit is called from one goroutine at a time, with offsets in r.
func (f *Finder) ScanAt(ctx context.Context, r io.ReaderAt, off, size int64, emit func(Hit)) error {
	return f.chunks(ctx, r, off, size, func(buf []byte, from, limit int, base int64, emit func(Hit)) {
		f.scan(buf, from, limit, base, emit)
	}, emit)
}

// ScanPrimesAt is the second pass: it looks for primes of the moduli seen so far in the size
// bytes of r at off.
func (f *Finder) ScanPrimesAt(ctx context.Context, r io.ReaderAt, off, size int64, emit func(Hit)) error {
	ms := f.unsolved()
	if len(ms) == 0 || f.opts.PrimeBudget < 0 {
		return nil
	}
	return f.chunks(ctx, r, off, size, func(buf []byte, from, limit int, base int64, emit func(Hit)) {
		f.findPrimes(buf, from, limit, base, ms, func(h Hit) {
			h.Offset += base
			emit(h)
		})
	}, emit)
}

type chunkFunc func(buf []byte, from, limit int, base int64, emit func(Hit))

func (f *Finder) chunks(ctx context.Context, r io.ReaderAt, off, size int64, run chunkFunc, emit func(Hit)) error {
	if size <= 0 {
		return nil
	}
	workers := f.opts.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	n := (size + ChunkSize - 1) / ChunkSize
	workers = int(min(int64(workers), n))
	var (
		next    atomic.Int64
		mu      sync.Mutex
		wg      sync.WaitGroup
		errOnce sync.Once
		firstEr error
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	fail := func(err error) {
		errOnce.Do(func() { firstEr = err; cancel() })
	}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A small region (most of a core's segments, most binaries) needs a small buffer: a
			// full-size one per call would cost more to allocate than to scan.
			buf := make([]byte, min(size, ChunkSize)+min(size, 2*Overlap))
			for {
				i := next.Add(1) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				cs := off + i*ChunkSize
				ce := min(cs+ChunkSize, off+size)
				rs := max(cs-Overlap, off)
				re := min(ce+Overlap, off+size)
				b := buf[:re-rs]
				got, err := r.ReadAt(b, rs)
				if err != nil && err != io.EOF {
					fail(fmt.Errorf("reading bytes %d to %d: %w", rs, re, err))
					return
				}
				if got < len(b) { // the file shrank under us: scan what is there
					if int64(got) <= cs-rs {
						continue
					}
					b = b[:got]
					ce = min(ce, rs+int64(got))
				}
				run(b, int(cs-rs), int(ce-rs), rs, func(h Hit) {
					mu.Lock()
					emit(h)
					mu.Unlock()
				})
			}
		}()
	}
	wg.Wait()
	if firstEr != nil {
		return firstEr
	}
	return ctx.Err()
}

func sortHits(hs []Hit) {
	sort.SliceStable(hs, func(i, j int) bool { return hs[i].Offset < hs[j].Offset })
}

// canonicalPEMOf is the PEM of a PKCS#1 RSAPrivateKey.
func canonicalPEMOf(der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: der}))
}

var _ = keys.Parse
