package keys

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"testing"
)

// TestEncryptedPKCS8WeakProtection: an encrypted PKCS#8 key at 10,000 PBKDF2 iterations, as
// Parse finds it in text, is flagged weak-protection; at OWASP's 600,000 it is not.
func TestEncryptedPKCS8WeakProtection(t *testing.T) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		iter int
		weak bool
	}{{10000, true}, {600000, false}} {
		text := "key: |\n" + pemText("ENCRYPTED PRIVATE KEY", encryptPKCS8(t, der, c.iter), nil)
		ks := Parse([]byte(text))
		if len(ks) != 1 || !ks[0].Encrypted || ks[0].KDF == nil || ks[0].KDF.Iterations != c.iter {
			t.Fatalf("%d iterations: parsed %+v", c.iter, ks)
		}
		got := false
		for _, w := range Check(ks[0]) {
			got = got || w.ID == "weak-protection"
		}
		if got != c.weak {
			t.Errorf("%d iterations: weak-protection %v, want %v", c.iter, got, c.weak)
		}
	}
}
