package hsmcheck_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/hsmcheck"
	"github.com/keywarden/keywarden/rules/keys"
)

func TestAESKCV(t *testing.T) {
	tests := []struct {
		name, key, want string
	}{
		// AES-128 of a zero block under the zero key is 66e94bd4ef8a2c3b… (FIPS-197 test usage).
		{"aes-128 zero key", "00000000000000000000000000000000", "66e94b"},
		// AES-256 zero key: dc95c078a2408989ad48a21492842087.
		{"aes-256 zero key", "0000000000000000000000000000000000000000000000000000000000000000", "dc95c0"},
		{"not an AES length", "000000000000000000000000000000", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, _ := hex.DecodeString(tt.key)
			if got := hex.EncodeToString(hsmcheck.AESKCV(k)); got != tt.want {
				t.Errorf("AESKCV = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSPKIHashFromNumbers(t *testing.T) {
	rk, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	want, err := hsmcheck.SPKIHash(&rk.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if got := hsmcheck.SPKIHashRSA(rk.N.Bytes(), big.NewInt(int64(rk.E)).Bytes()); got != want {
		t.Errorf("SPKIHashRSA differs from the SPKI of the same key")
	}
	// The scanner's fingerprint of the leaked private key must be the same bytes.
	pk := keys.Parse(pemOf(t, rk))
	if len(pk) != 1 || pk[0].PublicSHA256 != hex.EncodeToString(want[:]) {
		t.Errorf("scanner fingerprint %v differs from the inventory's %x", pk, want)
	}

	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	wantEC, _ := hsmcheck.SPKIHash(&ek.PublicKey)
	params, _ := asn1.Marshal(asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7})
	raw, _ := ek.PublicKey.Bytes()
	wrapped, _ := asn1.Marshal(raw) // CKA_EC_POINT is a DER OCTET STRING
	for name, point := range map[string][]byte{"raw point": raw, "DER-wrapped point": wrapped} {
		got, err := hsmcheck.SPKIHashEC(params, point)
		if err != nil || got != wantEC {
			t.Errorf("SPKIHashEC(%s) = %x, %v; want %x", name, got, err, wantEC)
		}
	}
	if _, err := hsmcheck.SPKIHashEC(nil, raw); err == nil {
		t.Error("SPKIHashEC without params did not fail")
	}

	der, _ := x509.MarshalPKIXPublicKey(&rk.PublicKey)
	if got, err := hsmcheck.SPKIHashDER(der); err != nil || got != want {
		t.Errorf("SPKIHashDER = %x, %v", got, err)
	}
	if _, err := hsmcheck.SPKIHashDER(x509.MarshalPKCS1PublicKey(&rk.PublicKey)); err == nil {
		t.Error("SPKIHashDER accepted PKCS#1")
	}
}

func pemOf(t *testing.T, k *rsa.PrivateKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func TestSymmetricCandidates(t *testing.T) {
	k16 := make([]byte, 16)
	k32 := make([]byte, 32)
	for i := range k32 {
		k32[i] = byte(i * 7)
	}
	copy(k16, k32)
	tests := []struct {
		name  string
		value string
		want  [][]byte
	}{
		{"hex 16", hex.EncodeToString(k16), [][]byte{k16}},
		{"upper hex with 0x", "0x" + hex.EncodeToString(k32), [][]byte{k32}},
		{"base64 32", base64.StdEncoding.EncodeToString(k32), [][]byte{k32}},
		{"base64url unpadded 32", base64.RawURLEncoding.EncodeToString(k32), [][]byte{k32}},
		{"password", "correct horse battery", nil},
		{"hex of 20 bytes", hex.EncodeToString(make([]byte, 20)), nil},
		{"jwk oct", `{"kty":"oct","alg":"A256GCM","k":"` + base64.RawURLEncoding.EncodeToString(k32) + `"}`, [][]byte{k32}},
		{"jwk of another type", `{"kty":"EC","k":"` + base64.RawURLEncoding.EncodeToString(k32) + `"}`, nil},
		{"jwk oct of 20 bytes", `{"kty":"oct","k":"` + base64.RawURLEncoding.EncodeToString(make([]byte, 20)) + `"}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, hsmcheck.SymmetricCandidates(tt.value)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestChallengeVerify(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	in := make([]byte, 32)
	aesOut, _ := hsmcheck.Compute(hsmcheck.AESECB, key, in)
	macOut, _ := hsmcheck.Compute(hsmcheck.HMACSHA256, key, in)
	tests := []struct {
		name string
		c    hsmcheck.Challenge
		cand []byte
		want bool
	}{
		{"aes", hsmcheck.Challenge{Mechanism: hsmcheck.AESECB, Input: in, Output: aesOut}, key, true},
		{"aes other key", hsmcheck.Challenge{Mechanism: hsmcheck.AESECB, Input: in, Output: aesOut}, key[:16], false},
		{"hmac", hsmcheck.Challenge{Mechanism: hsmcheck.HMACSHA256, Input: in, Output: macOut}, key, true},
		{"hmac truncated to 16", hsmcheck.Challenge{Mechanism: hsmcheck.HMACSHA256, Input: in, Output: macOut[:16]}, key, true},
		{"hmac truncated too far", hsmcheck.Challenge{Mechanism: hsmcheck.HMACSHA256, Input: in, Output: macOut[:4]}, key, false},
		{"no output", hsmcheck.Challenge{Mechanism: hsmcheck.HMACSHA256, Input: in}, key, false},
		{"unknown mechanism", hsmcheck.Challenge{Mechanism: "rot13", Input: in, Output: macOut}, key, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.Verify(tt.cand); got != tt.want {
				t.Errorf("Verify = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestTokenHMAC(t *testing.T) {
	a := hsmcheck.TokenHMAC([]byte("salt-one-16bytes"), "tok")
	if string(a) != string(hsmcheck.TokenHMAC([]byte("salt-one-16bytes"), "tok")) {
		t.Error("TokenHMAC is not deterministic")
	}
	if string(a) == string(hsmcheck.TokenHMAC([]byte("salt-two-16bytes"), "tok")) {
		t.Error("TokenHMAC ignores the salt")
	}
	if len(a) != 32 {
		t.Errorf("TokenHMAC is %d bytes", len(a))
	}
}
