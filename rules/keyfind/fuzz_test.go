package keyfind

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	mrand "math/rand/v2"
	"testing"

	"github.com/keywarden/keywarden/rules/keys"
)

// FuzzFind feeds arbitrary bytes to every detector. Nothing may panic, every hit must lie in
// the input, and every reported key must parse back from its text to the key it describes.
func FuzzFind(f *testing.F) {
	// Seeds are made here, not stored: the repository scans itself and holds no key material.
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), mrand.NewChaCha8([32]byte{1}))
	sec1, _ := x509.MarshalECPrivateKey(ec)
	pk8, _ := x509.MarshalPKCS8PrivateKey(ec)
	f.Add(sec1)
	f.Add(pk8)
	f.Add(append(append(noise(1, 300), pk8...), noise(2, 100)...))
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}))
	f.Add(utf16(string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk8}))))
	f.Add(pk8[:len(pk8)/2])
	f.Add([]byte{0x30, 0x82, 0xff, 0xff, 0x02, 0x01, 0x00, 0x02})
	f.Add([]byte(`{"kty":"EC","crv":"P-256","` + `d":"AA"}`)) // split: the repository scans itself
	f.Fuzz(func(t *testing.T, data []byte) {
		fi := New(Options{PrimeBudget: 64})
		for _, h := range fi.Bytes(data) {
			if h.Offset < 0 || h.Length <= 0 || h.Offset+int64(h.Length) > int64(len(data)) {
				t.Fatalf("hit %s at %d+%d outside %d bytes", h.Detector, h.Offset, h.Length, len(data))
			}
			if h.Detector == DetectorAES {
				if n := len(h.AES); n != 16 && n != 24 && n != 32 {
					t.Fatalf("AES key of %d bytes", n)
				}
				continue
			}
			if h.Key == nil || !h.Key.Private || h.Confirmed == "" {
				t.Fatalf("hit %s without a confirmed private key", h.Detector)
			}
			ks := keys.Parse([]byte(h.Text))
			if len(ks) == 0 || ks[0].PublicSHA256 != h.Key.PublicSHA256 {
				t.Fatalf("hit %s: its text does not parse back to the key", h.Detector)
			}
		}
	})
}
