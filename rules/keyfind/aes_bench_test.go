package keyfind

import (
	"math/rand/v2"
	"os"
	"testing"
)

// BenchmarkFindAES measures the AES schedule scan over 64 MiB with no keys in it: random
// bytes, zeros, and a Go binary (this test binary) repeated, as typical mixed memory.
func BenchmarkFindAES(b *testing.B) {
	const size = 64 << 20
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	bin, err := os.ReadFile(exe)
	if err != nil {
		b.Fatal(err)
	}
	gobinary := make([]byte, 0, size)
	for len(gobinary) < size {
		gobinary = append(gobinary, bin[:min(len(bin), size-len(gobinary))]...)
	}
	// Write the zeros so that the pages are mapped, as a file's would be after reading it.
	zeros := make([]byte, size)
	for i := range zeros {
		zeros[i] = 0
	}
	inputs := []struct {
		name string
		data []byte
	}{
		{"random", randBytes(rand.New(rand.NewPCG(1, 1)), size)},
		{"zeros", zeros},
		{"gobinary", gobinary},
	}
	for _, tol := range []int{0, 8} {
		for _, in := range inputs {
			name := in.name
			if tol > 0 {
				name += "-tol8"
			}
			b.Run(name, func(b *testing.B) {
				b.SetBytes(int64(len(in.data)))
				hits := 0
				for b.Loop() {
					findAES(in.data, len(in.data), tol, func(aesHit) { hits++ })
				}
				if hits != 0 {
					b.Fatalf("found %d schedules in data with none", hits)
				}
			})
		}
	}
}
