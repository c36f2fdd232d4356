package keys

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that Parse never panics and that what it returns is self-consistent. It
// runs the keyParser without Parse's recover, so a panic is a failure rather than a lost key.
func FuzzParse(f *testing.F) {
	for _, k := range testKeys(f) {
		for _, e := range encodings(f, k) {
			f.Add([]byte(e.text))
		}
	}
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "keys", "badkeys", "*"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p := &keyParser{data: data}
		p.run()
		for _, k := range p.result() {
			checkConsistent(t, data, k)
		}
	})
}
