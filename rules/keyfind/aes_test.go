package keyfind

import (
	"bytes"
	"compress/gzip"
	"crypto/aes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"unsafe"
)

// refSbox computes the S-box the slow way, independently of aesSbox: the inverse by search,
// then the FIPS-197 affine map.
func refSbox() (s [256]byte) {
	mul := func(a, b byte) (p byte) {
		for ; b != 0; b >>= 1 {
			if b&1 != 0 {
				p ^= a
			}
			a = a<<1 ^ (a>>7)*0x1b
		}
		return p
	}
	for x := range 256 {
		var inv byte
		for y := 1; y < 256 && x != 0; y++ {
			if mul(byte(x), byte(y)) == 1 {
				inv = byte(y)
				break
			}
		}
		var out byte
		for i := range 8 {
			bit := inv>>i ^ inv>>((i+4)%8) ^ inv>>((i+5)%8) ^ inv>>((i+6)%8) ^ inv>>((i+7)%8) ^ 0x63>>i
			out |= (bit & 1) << i
		}
		s[x] = out
	}
	return s
}

var testSbox = refSbox()

// refExpand is the FIPS-197 key expansion written as in the standard, for building schedules.
func refExpand(key []byte) []uint32 {
	nk := len(key) / 4
	n := 4 * (nk + 7)
	sub := func(x uint32) uint32 {
		return uint32(testSbox[x>>24])<<24 | uint32(testSbox[x>>16&0xff])<<16 |
			uint32(testSbox[x>>8&0xff])<<8 | uint32(testSbox[x&0xff])
	}
	w := make([]uint32, n)
	rcon := uint32(1)
	for i := range n {
		switch {
		case i < nk:
			w[i] = binary.BigEndian.Uint32(key[4*i:])
			continue
		case i%nk == 0:
			t := w[i-1]
			w[i] = w[i-nk] ^ sub(t<<8|t>>24) ^ rcon<<24
			rcon <<= 1
			if rcon == 0x100 {
				rcon = 0x1b
			}
		case nk == 8 && i%nk == 4:
			w[i] = w[i-nk] ^ sub(w[i-1])
		default:
			w[i] = w[i-nk] ^ w[i-1]
		}
	}
	return w
}

// scheduleBytes lays a schedule out in memory in byte order or as little-endian words.
func scheduleBytes(key []byte, swapped bool) []byte {
	w := refExpand(key)
	out := make([]byte, 4*len(w))
	for i, x := range w {
		if swapped {
			binary.LittleEndian.PutUint32(out[4*i:], x)
		} else {
			binary.BigEndian.PutUint32(out[4*i:], x)
		}
	}
	return out
}

func collectAES(buf []byte, limit, maxErr int) []aesHit {
	var hits []aesHit
	findAES(buf, limit, maxErr, func(h aesHit) { hits = append(hits, h) })
	return hits
}

func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], r.Uint64())
		copy(b[i:], w[:])
	}
	return b
}

// describe summarises hits without key bytes, so that failures never print keys.
func describe(hits []aesHit) string {
	var s []string
	for _, h := range hits {
		s = append(s, fmt.Sprintf("{off %d, %d-bit, swapped %v, %d bit errors, length %d}",
			h.off, 8*len(h.key), h.swapped, h.bitErrors, h.length))
	}
	return "[" + strings.Join(s, " ") + "]"
}

// wantOne asserts that hits is exactly the schedule of key at off.
func wantOne(t *testing.T, hits []aesHit, key []byte, off int, swapped bool, bitErrors int) {
	t.Helper()
	if len(hits) != 1 {
		t.Fatalf("got %d hits %s, want 1 at %d", len(hits), describe(hits), off)
	}
	h := hits[0]
	if h.off != off || h.swapped != swapped || h.bitErrors != bitErrors || h.length != 4*4*(len(key)/4+7) {
		t.Fatalf("got %s, want {off %d, %d-bit, swapped %v, %d bit errors, length %d}",
			describe(hits), off, 8*len(key), swapped, bitErrors, 4*4*(len(key)/4+7))
	}
	if !bytes.Equal(h.key, key) {
		t.Fatalf("hit at %d recovered the wrong %d-bit key", off, 8*len(key))
	}
}

func TestAESSbox(t *testing.T) {
	if aesSbox != testSbox {
		t.Fatal("aesSbox differs from the S-box computed by inversion")
	}
}

// The FIPS-197 Appendix A key expansion examples: the cipher key and a few expanded words.
func TestAESKeyExpansionVectors(t *testing.T) {
	tests := []struct {
		name   string
		cipher string
		words  map[int]uint32
	}{
		{"A.1 AES-128", "2b7e151628aed2a6abf7158809cf4f3c",
			map[int]uint32{4: 0xa0fafe17, 5: 0x88542cb1, 6: 0x23a33939, 7: 0x2a6c7605, 40: 0xd014f9a8, 41: 0xc9ee2589, 42: 0xe13f0cc8, 43: 0xb6630ca6}},
		{"A.2 AES-192", "8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b",
			map[int]uint32{6: 0xfe0c91f7, 7: 0x2402f5a5, 48: 0xe98ba06f, 49: 0x448c773c, 50: 0x8ecc7204, 51: 0x01002202}},
		{"A.3 AES-256", "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
			map[int]uint32{8: 0x9ba35411, 9: 0x8e6925af, 12: 0xa8b09c1a, 56: 0xfe4890d1, 57: 0xe6188d0b, 58: 0x046df344, 59: 0x706c631e}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := hex.DecodeString(tt.cipher)
			if err != nil {
				t.Fatal(err)
			}
			w := refExpand(k)
			for i, want := range tt.words {
				if w[i] != want {
					t.Errorf("reference expansion: w[%d] = %08x, want %08x", i, w[i], want)
				}
			}
			var scratch [60]uint32
			for _, swapped := range []bool{false, true} {
				mem := scheduleBytes(k, swapped)
				if d, ok := aesForward(mem, len(k)/4, swapped, 0, &scratch); !ok || d != 0 || !equalWords(scratch[:len(w)], w) {
					t.Errorf("swapped %v: aesForward = %d errors, %v; want the FIPS-197 schedule", swapped, d, ok)
				}
				if d, ok := aesBackward(mem, len(k)/4, swapped, 0, &scratch); !ok || d != 0 || !equalWords(scratch[:len(w)], w) {
					t.Errorf("swapped %v: aesBackward = %d errors, %v; want the FIPS-197 schedule", swapped, d, ok)
				}
				buf := make([]byte, 1024)
				copy(buf[301:], mem)
				wantOne(t, collectAES(buf, len(buf), 0), k, 301, swapped, 0)
			}
		})
	}
}

func equalWords(a, b []uint32) bool {
	return reflect.DeepEqual(a, b)
}

func TestFindAESEmbedded(t *testing.T) {
	const size = 64 << 10
	r := rand.New(rand.NewPCG(1, 2))
	random := randBytes(r, size)
	type bg struct {
		name string
		data []byte
	}
	for _, back := range []bg{{"random", random}, {"zeros", make([]byte, size)}} {
		for _, keyLen := range []int{16, 24, 32} {
			for _, swapped := range []bool{false, true} {
				sched := 4 * 4 * (keyLen/4 + 7)
				for _, off := range []int{0, 1, 2, 3, 5, 38, 1000, 1001, 4099, 4100, size - sched - 1, size - sched} {
					for _, zeroKey := range []bool{false, true} {
						name := fmt.Sprintf("%s/AES-%d/swapped=%v/off=%d/zerokey=%v", back.name, 8*keyLen, swapped, off, zeroKey)
						t.Run(name, func(t *testing.T) {
							k := randBytes(r, keyLen)
							if zeroKey {
								k = make([]byte, keyLen)
							}
							buf := bytes.Clone(back.data)
							copy(buf[off:], scheduleBytes(k, swapped))
							wantOne(t, collectAES(buf, len(buf), 0), k, off, swapped, 0)
							wantOne(t, collectAES(buf, len(buf), 8), k, off, swapped, 0)
						})
					}
				}
			}
		}
	}
}

// TestFindAESMatchesNaive compares findAES with trying every offset, key size and order, on a
// buffer packed with schedules at every alignment, zero runs and random runs.
func TestFindAESMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var buf []byte
	for len(buf) < 48<<10 {
		switch r.IntN(4) {
		case 0:
			buf = append(buf, make([]byte, r.IntN(300))...)
		case 1:
			buf = append(buf, randBytes(r, r.IntN(300))...)
		default:
			k := randBytes(r, []int{16, 24, 32}[r.IntN(3)])
			if r.IntN(8) == 0 {
				clear(k)
			}
			buf = append(buf, scheduleBytes(k, r.IntN(2) == 1)...)
		}
	}
	type found struct {
		off, keyLen int
		swapped     bool
	}
	var want []found
	for p := 0; p < len(buf); {
		next := p + 1
	sizes:
		for _, keyLen := range []int{32, 24, 16} {
			for _, swapped := range []bool{false, true} {
				n := 4 * 4 * (keyLen/4 + 7)
				if p+n > len(buf) {
					continue
				}
				k := make([]byte, keyLen)
				for i := 0; i < keyLen; i += 4 {
					w := buf[p+i : p+i+4]
					if swapped {
						k[i], k[i+1], k[i+2], k[i+3] = w[3], w[2], w[1], w[0]
					} else {
						copy(k[i:], w)
					}
				}
				if bytes.Equal(scheduleBytes(k, swapped), buf[p:p+n]) {
					want = append(want, found{p, keyLen, swapped})
					next = p + n
					break sizes
				}
			}
		}
		p = next
	}
	if len(want) < 100 {
		t.Fatalf("the naive scan found only %d schedules; the test data is wrong", len(want))
	}
	var got []found
	for _, h := range collectAES(buf, len(buf), 0) {
		got = append(got, found{h.off, len(h.key), h.swapped})
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("findAES found %d schedules, the naive scan %d:\n got %v\nwant %v", len(got), len(want), got, want)
	}
}

// TestFindAESGoCipher finds the schedule inside a real crypto/aes cipher's memory. A child run
// with GODEBUG=cpu.aes=off covers Go's generic code, which keeps host-order words.
func TestFindAESGoCipher(t *testing.T) {
	switch runtime.GOARCH {
	case "s390x", "ppc64", "ppc64le":
		// crypto/aes keeps the raw key for the CPU's instructions here, or a layout of its own.
		t.Skipf("crypto/aes on %s keeps no schedule in a layout this test knows", runtime.GOARCH)
	}
	child := os.Getenv("KEYWARDEN_TEST_AES_GENERIC") == "1"
	r := rand.New(rand.NewPCG(5, 6))
	for _, keyLen := range []int{16, 24, 32} {
		t.Run(fmt.Sprintf("AES-%d", 8*keyLen), func(t *testing.T) {
			k := randBytes(r, keyLen)
			block, err := aes.NewCipher(k)
			if err != nil {
				t.Fatal(err)
			}
			// The interface holds a pointer to the cipher's state; read exactly that object.
			v := reflect.ValueOf(block)
			if v.Kind() != reflect.Pointer {
				t.Fatalf("crypto/aes returned a %s, want a pointer", v.Type())
			}
			mem := bytes.Clone(unsafe.Slice((*byte)(v.UnsafePointer()), v.Elem().Type().Size()))
			// Where the key's first word sits says how this build stored the schedule.
			swapped := bytes.Contains(mem, []byte{k[3], k[2], k[1], k[0], k[7], k[6], k[5], k[4]})
			if !swapped && !bytes.Contains(mem, k[:8]) {
				t.Fatalf("the key is not in the %d bytes of %s", len(mem), v.Type())
			}
			if child && !swapped {
				t.Fatal("with GODEBUG=cpu.aes=off crypto/aes still stores the schedule in byte order")
			}
			t.Logf("AES-%d in %s (%d bytes): schedule stored swapped=%v", 8*keyLen, v.Type(), len(mem), swapped)
			// Surround the state with random memory as a heap would.
			buf := append(append(randBytes(r, 777), mem...), randBytes(r, 555)...)
			hits := collectAES(buf, len(buf), 0)
			if len(hits) != 1 {
				t.Fatalf("got %d hits %s, want 1", len(hits), describe(hits))
			}
			wantOne(t, hits, k, hits[0].off, swapped, 0)
			if off := hits[0].off - 777; off < 0 || off+hits[0].length > len(mem) {
				t.Fatalf("hit at %d is outside the cipher's state", off)
			}
		})
	}
	if child || testing.Short() || (runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64") {
		return // elsewhere crypto/aes is generic already, or GODEBUG cannot turn its assembly off
	}
	t.Run("generic", func(t *testing.T) {
		cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestFindAESGoCipher$", "-test.v")
		cmd.Env = append(os.Environ(), "GODEBUG=cpu.aes=off", "KEYWARDEN_TEST_AES_GENERIC=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child test with GODEBUG=cpu.aes=off: %v\n%s", err, out)
		}
		if n := bytes.Count(out, []byte("swapped=true")); n != 3 {
			t.Fatalf("child test ran %d swapped cases, want 3:\n%s", n, out)
		}
		for line := range strings.Lines(string(out)) {
			if strings.Contains(line, "swapped=") {
				t.Log("GODEBUG=cpu.aes=off:", strings.TrimSpace(line))
			}
		}
	})
}

// flip flips bit b of buf.
func flip(buf []byte, b int) { buf[b/8] ^= 1 << (b % 8) }

func TestFindAESBitErrors(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	const off = 2001
	tests := []struct {
		name  string
		flips func(keyLen, n int) []int // bit positions within the schedule
		tol   int
		found bool
	}{
		{"3 bits after the key, exact", func(keyLen, n int) []int { return []int{8*keyLen + 5, 8*n/2 + 1, 8*n - 9} }, 0, false},
		{"3 bits after the key, tolerance 8", func(keyLen, n int) []int { return []int{8*keyLen + 5, 8*n/2 + 1, 8*n - 9} }, 8, true},
		{"3 bits in one word", func(keyLen, n int) []int { return []int{8 * 100, 8*100 + 9, 8*100 + 31} }, 3, true},
		// The pre-filter reads this word three times in one window.
		{"3 bits in one word of the first XOR run", func(keyLen, n int) []int {
			b := aesRunStart[keyLen/4] + 4
			return []int{8 * b, 8*(b+1) + 1, 8*(b+3) + 7}
		}, 3, true},
		// A damaged first round key gives a wrong key forwards; the schedule is recovered
		// backwards from its last round key instead.
		{"1 bit in the key, exact", func(keyLen, n int) []int { return []int{3} }, 0, false},
		{"1 bit in the key, tolerance 8", func(keyLen, n int) []int { return []int{3} }, 8, true},
		{"3 bits in the key, tolerance 8", func(keyLen, n int) []int { return []int{0, 8*keyLen - 1, 8*keyLen/2 + 3} }, 8, true},
		{"bits in the first and the last round key", func(keyLen, n int) []int { return []int{10, 8*n - 3} }, 8, false},
		{"9 bits, tolerance 8", func(keyLen, n int) []int {
			return []int{8*keyLen + 1, 8*keyLen + 40, 8*keyLen + 90, 8*keyLen + 200, 8*keyLen + 301, 8*keyLen + 333, 8*keyLen + 500, 8*keyLen + 640, 8*keyLen + 777}
		}, 8, false},
	}
	for _, tt := range tests {
		for _, keyLen := range []int{16, 24, 32} {
			for _, swapped := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/AES-%d/swapped=%v", tt.name, 8*keyLen, swapped), func(t *testing.T) {
					k := randBytes(r, keyLen)
					sched := scheduleBytes(k, swapped)
					flips := tt.flips(keyLen, len(sched))
					for _, b := range flips {
						flip(sched, b)
					}
					buf := randBytes(r, 8192)
					copy(buf[off:], sched)
					hits := collectAES(buf, len(buf), tt.tol)
					if !tt.found {
						if len(hits) != 0 {
							t.Fatalf("got %s, want no hits", describe(hits))
						}
						return
					}
					wantOne(t, hits, k, off, swapped, len(flips))
				})
			}
		}
	}
}

func TestFindAESLimit(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	const size = 4096
	tests := []struct {
		name   string
		off    int // where the schedule starts
		limit  int
		keep   int // bytes of buf kept (size if 0)
		keyLen int
		found  bool
	}{
		{"starts before limit, ends in look-ahead", 3000, 3001, 0, 32, true},
		{"starts before limit, odd offset", 2999, 3000, 0, 16, true},
		{"starts at limit", 3000, 3000, 0, 32, false},
		{"starts after limit", 3001, 3000, 0, 24, false},
		{"limit past the end of buf", 1000, 1 << 40, 0, 24, true},
		{"truncated at the end of buf", 3000, size, 3000 + 239, 32, false},
		{"ends exactly at the end of buf", 3000, size, 3000 + 240, 32, true},
		{"truncated AES-128", 3001, size, 3001 + 175, 16, false},
		{"ends exactly at the end, AES-128", 3001, size, 3001 + 176, 16, true},
		{"zero limit", 0, 0, 0, 16, false},
		{"negative limit", 0, -5, 0, 16, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := randBytes(r, tt.keyLen)
			buf := randBytes(r, size)
			copy(buf[tt.off:], scheduleBytes(k, false))
			if tt.keep > 0 {
				buf = buf[:tt.keep]
			}
			for _, tol := range []int{0, 8} {
				hits := collectAES(buf, tt.limit, tol)
				if !tt.found {
					if len(hits) != 0 {
						t.Fatalf("tolerance %d: got %s, want no hits", tol, describe(hits))
					}
					continue
				}
				wantOne(t, hits, k, tt.off, false, 0)
			}
		})
	}
}

// TestFindAESChunks scans a buffer in chunks with look-ahead, as the streaming driver does, and
// expects every schedule exactly once, including those straddling a chunk boundary.
func TestFindAESChunks(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	data := randBytes(r, 1<<20)
	const chunk, ahead = 64 << 10, 240
	type want struct {
		off int
		key []byte
	}
	var wants []want
	for _, off := range []int{0, chunk - 1, 2*chunk - 100, 3*chunk - 239, 4*chunk + 7, 5*chunk - 176, len(data) - 240} {
		k := randBytes(r, []int{16, 24, 32}[len(wants)%3])
		copy(data[off:], scheduleBytes(k, len(wants)%2 == 1))
		wants = append(wants, want{off, k})
	}
	var got []aesHit
	for base := 0; base < len(data); base += chunk {
		end := min(base+chunk+ahead, len(data))
		findAES(data[base:end], chunk, 0, func(h aesHit) {
			h.off += base
			got = append(got, h)
		})
	}
	if len(got) != len(wants) {
		t.Fatalf("got %d hits %s, want %d", len(got), describe(got), len(wants))
	}
	for i, w := range wants {
		if got[i].off != w.off || !bytes.Equal(got[i].key, w.key) {
			t.Errorf("hit %d: got %s, want offset %d with its key", i, describe(got[i:i+1]), w.off)
		}
	}
}

// TestFindAESAdjacent checks that back-to-back schedules are each reported once, and that an
// AES-256 schedule is not also reported as a shorter one inside it.
func TestFindAESAdjacent(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	tests := []struct {
		name    string
		keyLens []int
		zeros   bool
	}{
		{"256 then 128", []int{32, 16}, false},
		{"128 then 256", []int{16, 32}, false},
		{"192 192 192", []int{24, 24, 24}, false},
		{"256 256 in zeros", []int{32, 32}, true},
		{"128 192 256 in zeros", []int{16, 24, 32}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf := randBytes(r, 4096)
			if tt.zeros {
				clear(buf)
			}
			off := 517
			var offs []int
			var ks [][]byte
			for _, n := range tt.keyLens {
				k := randBytes(r, n)
				s := scheduleBytes(k, false)
				copy(buf[off:], s)
				offs, ks = append(offs, off), append(ks, k)
				off += len(s)
			}
			for _, tol := range []int{0, 10} {
				hits := collectAES(buf, len(buf), tol)
				if len(hits) != len(offs) {
					t.Fatalf("tolerance %d: got %s, want %d hits at %v", tol, describe(hits), len(offs), offs)
				}
				for i := range hits {
					wantOne(t, hits[i:i+1], ks[i], offs[i], false, 0)
				}
			}
		})
	}
}

// xorRecurrence fills n bytes with words obeying w[i] = w[i-1] ^ w[i-nk] everywhere, the XOR
// relations of a schedule without its S-box words.
func xorRecurrence(r *rand.Rand, n, nk int) []byte {
	w := make([]uint32, n/4)
	for i := range w {
		if i < nk {
			w[i] = r.Uint32()
		} else {
			w[i] = w[i-1] ^ w[i-nk]
		}
	}
	b := make([]byte, n)
	for i, x := range w {
		binary.LittleEndian.PutUint32(b[4*i:], x)
	}
	return b
}

func TestFindAESNegatives(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	repeat := func(pattern []byte, n int) []byte { return bytes.Repeat(pattern, n/len(pattern)) }
	var text strings.Builder
	words := []string{"the", "key", "schedule", "memory", "dump", "crash", "core", "segment", "offset", "of", "and", "0x7f", "error", "\n"}
	for text.Len() < 4<<20 {
		text.WriteString(words[r.IntN(len(words))])
		text.WriteByte(' ')
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write([]byte(text.String())); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data []byte
	}{
		{"zeros", make([]byte, 1<<20)},
		{"0xff", repeat([]byte{0xff}, 1<<20)},
		{"repeated byte", repeat([]byte{0x63}, 1<<20)},
		{"4-byte pattern", repeat(randBytes(r, 4), 1<<20)},
		{"8-byte pattern", repeat(randBytes(r, 8), 1<<20)},
		{"16-byte pattern", repeat(randBytes(r, 16), 1<<20)},
		{"16-byte pattern with zeros", repeat([]byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0, 0, 0}, 1<<20)},
		{"xor relations of AES-128", xorRecurrence(r, 1<<20, 4)},
		{"xor relations of AES-192", xorRecurrence(r, 1<<20, 6)},
		{"xor relations of AES-256", xorRecurrence(r, 1<<20, 8)},
		{"random 16 MiB", randBytes(r, 16<<20)},
		{"gzip text", gz.Bytes()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, tol := range []int{0, 10} {
				if hits := collectAES(tt.data, len(tt.data), tol); len(hits) != 0 {
					t.Fatalf("tolerance %d: got %d hits %s, want none", tol, len(hits), describe(hits))
				}
			}
		})
	}
}

// TestFindAESSmallInputs checks that tiny and odd inputs neither panic nor report anything.
func TestFindAESSmallInputs(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	for _, n := range []int{0, 1, 7, 8, 20, 39, 40, 47, 48, 175, 176, 177, 239, 240, 241, 300} {
		for _, limit := range []int{-1, 0, 1, n / 2, n, n + 100} {
			for _, tol := range []int{-3, 0, 8, 100} {
				name := fmt.Sprintf("n=%d/limit=%d/tol=%d", n, limit, tol)
				t.Run(name, func(t *testing.T) {
					for _, data := range [][]byte{randBytes(r, n), make([]byte, n)} {
						if hits := collectAES(data, limit, tol); len(hits) != 0 {
							t.Fatalf("got %s, want none", describe(hits))
						}
					}
				})
			}
		}
	}
}

// TestAESSlotNeverZero checks the fact the zero-memory filter rests on: the S-box slot
// SubWord(RotWord(w)) ^ 01000000 ^ w is zero only if its first byte b has S⁴(b) ^ 1 = b.
func TestAESSlotNeverZero(t *testing.T) {
	for b := range 256 {
		if testSbox[testSbox[testSbox[testSbox[b]]]]^1 == byte(b) {
			t.Fatalf("byte %#02x gives a zero S-box slot; findAES would miss its schedules", b)
		}
	}
}

// slotKey returns a key whose S-box slot (the word c = w[Nk] ^ w[Nk-1] ^ w[0] that the zero
// filter needs non-zero) has only byte k non-zero, and whose last two words are equal so that
// in zero memory c is zero in the bytes before the slot as well: the least the filter can see.
func slotKey(r *rand.Rand, keyLen, k int) []byte {
	key := randBytes(r, keyLen)
	var b [4]byte
	// Slot byte j is S(b[j+1]) ^ b[j] (^ 1 for j = 0); make all but byte k zero.
	b[k] = byte(r.Uint32())
	for j := (k + 3) % 4; j != k; j = (j + 3) % 4 {
		b[j] = testSbox[b[(j+1)%4]]
		if j == 0 {
			b[j] ^= 1
		}
	}
	copy(key[keyLen-4:], b[:])
	copy(key[keyLen-8:], b[:])
	return key
}

func TestFindAESSparseSlot(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 20))
	for _, keyLen := range []int{16, 24, 32} {
		for k := range 4 {
			for _, swapped := range []bool{false, true} {
				for _, zeros := range []bool{false, true} {
					name := fmt.Sprintf("AES-%d/slot byte %d/swapped=%v/zeros=%v", 8*keyLen, k, swapped, zeros)
					t.Run(name, func(t *testing.T) {
						key := slotKey(r, keyLen, k)
						w := refExpand(key)
						nk := keyLen / 4
						if c := w[nk] ^ w[nk-1] ^ w[0]; c == 0 || c&^(0xff<<(24-8*k)) != 0 {
							t.Fatalf("slot word %08x does not have only byte %d set", c, k)
						}
						for align := range 8 { // the window pairs of the scan repeat every 8 bytes
							off := 1000 + align
							buf := randBytes(r, 2048)
							if zeros {
								clear(buf)
							}
							copy(buf[off:], scheduleBytes(key, swapped))
							for _, tol := range []int{0, 4} {
								hits := collectAES(buf, len(buf), tol)
								if len(hits) != 1 || hits[0].off != off {
									t.Fatalf("offset %d, tolerance %d: got %s, want one hit", off, tol, describe(hits))
								}
								wantOne(t, hits, key, off, swapped, 0)
							}
						}
					})
				}
			}
		}
	}
}
