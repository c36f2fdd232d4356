package softhsmtest_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	p11 "github.com/miekg/pkcs11"

	"github.com/keywarden/keywarden/hsmcheck/pkcs11/internal/p11mod"
	"github.com/keywarden/keywarden/hsmcheck/pkcs11/softhsmtest"
)

// classes counts the token's objects by class, through a session of its own.
func classes(t *testing.T, tok *softhsmtest.Token) map[uint]int {
	t.Helper()
	m, err := p11mod.Acquire(tok.Module)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Release()
	slots, err := m.GetSlotList(true)
	if err != nil {
		t.Fatal(err)
	}
	out := map[uint]int{}
	for _, s := range slots {
		ti, err := m.GetTokenInfo(s)
		if err != nil || strings.TrimRight(ti.Label, " ") != tok.Label {
			continue
		}
		sh, err := m.OpenSession(s, p11.CKF_SERIAL_SESSION)
		if err != nil {
			t.Fatal(err)
		}
		defer m.CloseSession(sh)
		if err := m.Login(sh, s, tok.PIN); err != nil {
			t.Fatal(err)
		}
		if err := m.FindObjectsInit(sh, nil); err != nil {
			t.Fatal(err)
		}
		hs, _, err := m.FindObjects(sh, 100)
		_ = m.FindObjectsFinal(sh)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hs {
			a, err := m.GetAttributeValue(sh, h, []*p11.Attribute{p11.NewAttribute(p11.CKA_CLASS, nil)})
			if err != nil {
				t.Fatal(err)
			}
			out[uint(a[0].Value[0])]++
		}
		return out
	}
	t.Fatalf("token %q not found", tok.Label)
	return nil
}

func TestObjects(t *testing.T) {
	tok := softhsmtest.New(t)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pemPath := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(pemPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		put  func()
		want map[uint]int // objects added, by class
	}{
		{"GenerateRSA makes a pair", func() { tok.GenerateRSA(t, "rsa", []byte{1}, 1024) }, map[uint]int{p11.CKO_PRIVATE_KEY: 1, p11.CKO_PUBLIC_KEY: 1}},
		{"GenerateEC makes a pair", func() { tok.GenerateEC(t, "ec", []byte{2}, elliptic.P384()) }, map[uint]int{p11.CKO_PRIVATE_KEY: 1, p11.CKO_PUBLIC_KEY: 1}},
		{"GenerateEd25519 makes a pair", func() { tok.GenerateEd25519(t, "ed", []byte{3}) }, map[uint]int{p11.CKO_PRIVATE_KEY: 1, p11.CKO_PUBLIC_KEY: 1}},
		{"ImportPEM makes a private key only", func() { tok.ImportPEM(t, "imported", []byte{4}, pemPath) }, map[uint]int{p11.CKO_PRIVATE_KEY: 1}},
		{"CreateAES", func() { tok.CreateAES(t, "aes", []byte{5}, make([]byte, 16)) }, map[uint]int{p11.CKO_SECRET_KEY: 1}},
		{"CreateGenericSecret", func() { tok.CreateGenericSecret(t, "hmac", []byte{6}, make([]byte, 32)) }, map[uint]int{p11.CKO_SECRET_KEY: 1}},
		{"CreatePublic", func() { tok.CreatePublic(t, "pub", []byte{7}, &key.PublicKey) }, map[uint]int{p11.CKO_PUBLIC_KEY: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := classes(t, tok)
			tt.put()
			after := classes(t, tok)
			got := map[uint]int{}
			for c, n := range after {
				if d := n - before[c]; d != 0 {
					got[c] = d
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("objects added (-want +got):\n%s", diff)
			}
		})
	}
	if p11mod.InUse(tok.Module) {
		t.Error("the helper left the module initialised")
	}
}

func TestToken(t *testing.T) {
	tok := softhsmtest.New(t)
	if os.Getenv("SOFTHSM2_CONF") != tok.Conf {
		t.Errorf("SOFTHSM2_CONF = %q, want %q", os.Getenv("SOFTHSM2_CONF"), tok.Conf)
	}
	if want := "pkcs11:" + tok.Module + "?token=" + tok.Label; tok.URI() != want {
		t.Errorf("URI() = %q, want %q", tok.URI(), want)
	}
	p := tok.PINFile(t)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(b)) != tok.PIN {
		t.Error("PINFile does not hold the PIN")
	}
	if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("PINFile mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	if strings.Contains(tok.String(), tok.PIN) || strings.Contains(tok.String(), tok.SOPIN) {
		t.Error("String() shows a PIN")
	}

	t.Run("subtest token shares the configuration", func(t *testing.T) {
		other := softhsmtest.New(t)
		if other.Conf != tok.Conf || other.Label == tok.Label || other.PIN == tok.PIN {
			t.Errorf("second token: conf %q label %q; want conf %q and a label and PIN of its own", other.Conf, other.Label, tok.Conf)
		}
		other.CreateAES(t, "aes", []byte{1}, make([]byte, 16))
		tok.CreateAES(t, "aes", []byte{1}, make([]byte, 16))
		if n := classes(t, other)[p11.CKO_SECRET_KEY]; n != 1 {
			t.Errorf("second token holds %d secret keys, want 1", n)
		}
	})
}
