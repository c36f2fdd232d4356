package keyfind

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// BenchmarkScanAt measures the whole finder, every detector, over 256 MiB with no keys: random
// bytes (encrypted or compressed memory), zero pages, and the Go toolchain's own binary, which
// is what most of a process image looks like. MB/s is per run on all cores; divide by the core
// count for the per-core figure the issue asks for.
func BenchmarkScanAt(b *testing.B) {
	const size = 256 << 20
	goBin, err := os.ReadFile(filepath.Join(runtime.GOROOT(), "bin", "go"))
	if err != nil {
		b.Skip(err)
	}
	inputs := map[string][]byte{
		"random": noise(42, size),
		"zeros":  make([]byte, size),
	}
	tool := make([]byte, 0, size)
	for len(tool) < size {
		tool = append(tool, goBin[:min(len(goBin), size-len(tool))]...)
	}
	inputs["gobinary"] = tool
	for _, name := range []string{"random", "zeros", "gobinary"} {
		data := inputs[name]
		for _, workers := range []int{1, runtime.NumCPU()} {
			b.Run(name+"/workers="+itoa(workers), func(b *testing.B) {
				b.SetBytes(int64(len(data)))
				for b.Loop() {
					n := 0
					err := New(Options{Workers: workers}).ScanAt(b.Context(), readerAt{data}, 0, int64(len(data)), func(Hit) { n++ })
					if err != nil {
						b.Fatal(err)
					}
					if n != 0 {
						b.Fatalf("%d hits in a keyless input", n)
					}
				}
			})
		}
	}
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}
