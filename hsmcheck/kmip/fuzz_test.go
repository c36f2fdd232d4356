package kmip

import (
	"bytes"
	"testing"
)

// FuzzDecode checks that the decoder never panics and that whatever it accepts re-encodes to a
// canonical form that decodes and encodes to itself. (Comparing items with cmp instead is
// exponential on the nested structures the fuzzer finds.)
func FuzzDecode(f *testing.F) {
	for _, b := range specExamples(f) {
		f.Add(b)
	}
	f.Add(readHex(f, "usecase-3.1.1-create-request.hex"))
	f.Add(readHex(f, "usecase-3.1.1-create-response.hex"))
	f.Add(deep(maxDepth + 1))
	f.Add([]byte{0x42, 0x00, 0x20, 0x01, 0xFF, 0xFF, 0xFF, 0xF8})
	f.Fuzz(func(t *testing.T, b []byte) {
		it, err := Unmarshal(b)
		if err != nil {
			return
		}
		enc, err := it.MarshalBinary()
		if err != nil {
			t.Fatalf("re-encoding a decoded item: %v", err)
		}
		again, err := Unmarshal(enc)
		if err != nil {
			t.Fatalf("decoding a re-encoded item: %v", err)
		}
		enc2, err := again.MarshalBinary()
		if err != nil {
			t.Fatalf("re-encoding a second time: %v", err)
		}
		if !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding is not stable:\n% X\n% X", enc, enc2)
		}
	})
}
