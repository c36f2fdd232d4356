package keyfind

import (
	"bytes"
	"crypto/rsa"
	"math/big"

	"github.com/keywarden/keywarden/rules/keys"
)

// maxText bounds the text read around an anchor: an RSA-8192 private key in PEM is about
// 6.5 KiB, a JWK of one about 6 KiB, with room for CRLFs and escapes.
const maxText = 16 << 10

// textAnchors start the key texts keys.Parse recognises. A JWK's "kty" can sit anywhere in its
// object, so the window around a JWK anchor reaches back as well as forward.
var textAnchors = []struct {
	s    string
	back bool
}{
	{"-----BEGIN ", false},
	{"PuTTY-User-Key-File-", false},
	{`"kty"`, true},
}

// utf16 returns s as UTF-16LE.
func utf16(s string) []byte {
	out := make([]byte, 0, 2*len(s))
	for i := 0; i < len(s); i++ {
		out = append(out, s[i], 0)
	}
	return out
}

var (
	anchors8  [][]byte
	anchors16 [][]byte
)

func init() {
	for _, a := range textAnchors {
		anchors8 = append(anchors8, []byte(a.s))
		anchors16 = append(anchors16, utf16(a.s))
	}
}

// findText reports the private keys in PEM, OpenSSH, PuTTY and JWK text, stored as bytes or as
// UTF-16LE, whose text starts in [from, limit). Public keys and certificates seen give their
// RSA moduli to pub.
func findText(buf []byte, from, limit int, emit func(Hit), pub func(n, e *big.Int)) {
	seen := map[int]bool{} // key start offsets already reported: a JWK has several anchors
	for ai, a := range textAnchors {
		for _, wide := range []bool{false, true} {
			anchor := anchors8[ai]
			if wide {
				anchor = anchors16[ai]
			}
			for i := from; i < limit; {
				j := bytes.Index(buf[i:min(limit+len(anchor), len(buf))], anchor)
				if j < 0 {
					break
				}
				at := i + j
				i = at + len(anchor)
				var text []byte
				var start int
				if wide {
					text, start = narrow(buf, at, a.back)
				} else {
					text, start = window(buf, at, a.back)
				}
				for _, k := range keys.Parse(text) {
					off := start + k.Offset
					if wide {
						off = start + 2*k.Offset
					}
					if !k.Private {
						if k.RSA != nil && k.RSA.N != nil && pub != nil {
							pub(k.RSA.N, k.RSA.E)
						} else if rk, ok := k.Public.(*rsa.PublicKey); ok && pub != nil {
							pub(rk.N, big.NewInt(int64(rk.E)))
						}
						continue
					}
					if off < from || off >= limit || seen[off] {
						continue
					}
					seen[off] = true
					h := Hit{Offset: int64(off), Length: k.Length, Detector: DetectorText, Confirmed: "parsed " + k.Format}
					if wide {
						h.Detector, h.Length = DetectorTextUTF16, 2*k.Length
					}
					if k.RSA != nil && k.RSA.D != nil {
						c, ok := confirmRSA(k.RSA)
						if !ok {
							continue // a damaged key; the prime search may still rebuild it
						}
						h.Confirmed = c
					}
					kk := k
					kk.Offset, kk.Length = 0, 0
					h.Key = &kk
					h.Text = canonicalText(k, text[k.Offset:k.Offset+k.Length])
					emit(h)
				}
			}
		}
	}
}

// textByte reports whether c can be part of key text: printable ASCII and line breaks. NUL ends
// a C string, and a key never holds control bytes.
func textByte(c byte) bool {
	return c >= 0x20 && c < 0x7f || c == '\n' || c == '\r' || c == '\t'
}

// window returns the run of text bytes around the anchor at at: forward to the first non-text
// byte or maxText, and back the same way when back is set.
func window(buf []byte, at int, back bool) ([]byte, int) {
	start := at
	if back {
		for start > 0 && at-start < maxText && textByte(buf[start-1]) {
			start--
		}
	}
	end := at
	for end < len(buf) && end-at < maxText && textByte(buf[end]) {
		end++
	}
	return buf[start:end], start
}

// narrow is window for UTF-16LE text: it returns the ASCII the code units spell and the offset
// of the first one.
func narrow(buf []byte, at int, back bool) ([]byte, int) {
	start := at
	if back {
		for start >= 2 && at-start < 2*maxText && buf[start-1] == 0 && textByte(buf[start-2]) {
			start -= 2
		}
	}
	out := make([]byte, 0, 1024)
	for i := start; i+1 < len(buf) && i-at < 2*maxText && buf[i+1] == 0 && textByte(buf[i]); i += 2 {
		out = append(out, buf[i])
	}
	return out, start
}
