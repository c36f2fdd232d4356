package kmip_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/aes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/hsmcheck"
	"github.com/keywarden/keywarden/hsmcheck/inventorytest"
	"github.com/keywarden/keywarden/hsmcheck/kmip"
	"github.com/keywarden/keywarden/hsmcheck/kmip/kmiptest"
)

// One pykmip-server serves every test in this binary; tests tell their objects apart by
// identifier and by names of their own.
func TestMain(m *testing.M) { os.Exit(kmiptest.Main(m)) }

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// name returns an object name unique to the test and to this run of it (with -count=N the
// server keeps the objects of earlier runs).
func name(t *testing.T, what string) string {
	return fmt.Sprintf("%s/%s/%x", t.Name(), what, randomBytes(t, 4))
}

func open(t *testing.T, s *kmiptest.Server, extra string) *kmip.Inventory {
	t.Helper()
	spec, err := hsmcheck.ParseSpec(s.URI() + extra)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := kmip.Open(ctx(t), spec)
	if err != nil {
		t.Fatalf("Open(%q): %v", spec.Redacted(), err)
	}
	t.Cleanup(func() { inv.(io.Closer).Close() })
	return inv.(*kmip.Inventory)
}

func keys(t *testing.T, inv hsmcheck.Inventory) []hsmcheck.Key {
	t.Helper()
	var ks []hsmcheck.Key
	if err := inv.Keys(ctx(t), func(k hsmcheck.Key) error { ks = append(ks, k); return nil }); err != nil {
		t.Fatalf("Keys: %v", err)
	}
	return ks
}

func byID(t *testing.T, ks []hsmcheck.Key, id string) hsmcheck.Key {
	t.Helper()
	return inventorytest.Find(t, ks, "with id "+id, func(k hsmcheck.Key) bool { return k.ID == id })
}

func hasID(ks []hsmcheck.Key, id string) bool {
	return slices.ContainsFunc(ks, func(k hsmcheck.Key) bool { return k.ID == id })
}

func randomBytes(t *testing.T, n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func TestContract(t *testing.T) {
	s := kmiptest.Start(t)
	s.RegisterAES(t, randomBytes(t, 32), name(t, "aes"))
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	s.RegisterKeyPair(t, rsaKey, name(t, "rsa"))
	inv := open(t, s, "")
	ks := inventorytest.Run(t, inv)
	if want := "kmip:" + s.Addr; inv.Name() != want {
		t.Errorf("Name() = %q, want %q", inv.Name(), want)
	}
	for _, k := range ks {
		if k.Scope != s.Addr {
			t.Errorf("key %s has scope %q, want the server address %q", k.Ref(), k.Scope, s.Addr)
		}
	}
}

func TestKeyPairs(t *testing.T) {
	s := kmiptest.Start(t)
	tests := []struct {
		name      string
		key       func() (crypto.Signer, error)
		algorithm string
	}{
		{"RSA-2048", func() (crypto.Signer, error) { return rsa.GenerateKey(rand.Reader, 2048) }, "RSA-2048"},
		{"EC-P256", func() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) }, "EC-P256"},
		{"EC-P384", func() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P384(), rand.Reader) }, "EC-P384"},
		{"Ed25519", func() (crypto.Signer, error) { _, k, err := ed25519.GenerateKey(rand.Reader); return k, err }, "Ed25519"},
	}
	type pair struct{ priv, pub, name string }
	pairs := map[string]pair{}
	want := map[string][32]byte{}
	for _, tc := range tests {
		priv, err := tc.key()
		if err != nil {
			t.Fatal(err)
		}
		// Every pair gets the same label; RegisterKeyPair's second name tells them apart.
		n := "deploy-key"
		p, q := s.RegisterKeyPair(t, priv, n)
		pairs[tc.name] = pair{p, q, n}
		if want[tc.name], err = hsmcheck.SPKIHash(priv.Public()); err != nil {
			t.Fatal(err)
		}
	}
	ks := keys(t, open(t, s, ""))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := pairs[tc.name]
			k := byID(t, ks, p.priv)
			if k.SPKIHash != want[tc.name] {
				t.Errorf("SPKIHash %x, want %x (meta %v)", k.SPKIHash, want[tc.name], k.Meta)
			}
			if isRSA := tc.name == "RSA-2048"; isRSA != (k.RSAPublic() != nil) {
				t.Errorf("RSA public key %v for a %s pair", k.RSAPublic(), tc.name)
			}
			got := []string{string(k.Class), string(k.State), k.Algorithm, k.Label, strings.Join(k.Usage, ","), k.Meta["kmip-public-key-id"]}
			wantFacts := []string{"private", "active", tc.algorithm, p.name, "sign", p.pub}
			if diff := cmp.Diff(wantFacts, got); diff != "" {
				t.Errorf("class, state, algorithm, label, usage, public key (-want +got):\n%s", diff)
			}
			if k.Created.IsZero() || time.Since(k.Created) > time.Hour {
				t.Errorf("Created = %v, want the registration time", k.Created)
			}
			if hasID(ks, p.pub) {
				t.Errorf("the public half %s was also yielded on its own", p.pub)
			}
		})
	}
}

// TestServerGeneratedPair covers a pair PyKMIP generates itself: it stores the public key as
// PKCS#1 and refuses to convert it to X.509, so the inventory falls back to the stored format.
func TestServerGeneratedPair(t *testing.T) {
	s := kmiptest.Start(t)
	c := s.Client(t)
	common := []kmip.Attribute{kmip.AlgorithmAttribute(kmip.AlgRSA), kmip.LengthAttribute(2048), kmip.NameAttribute(name(t, "pair"))}
	privID, pubID, err := c.CreateKeyPair(ctx(t), common,
		[]kmip.Attribute{kmip.UsageAttribute(kmip.UsageSign)}, []kmip.Attribute{kmip.UsageAttribute(kmip.UsageVerify)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(ctx(t), pubID, kmip.FormatX509); kmip.Reason(err) != kmip.ReasonKeyFormatTypeNotSupported {
		t.Fatalf("Get as X.509: %v; the test expects PyKMIP to refuse the conversion", err)
	}
	o, err := c.Get(ctx(t), pubID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if o.Format != kmip.FormatPKCS1 || o.Algorithm != kmip.AlgRSA || o.Length != 2048 || o.Type != kmip.ObjectPublicKey {
		t.Errorf("public key object: %s %s %d %s, want PKCS#1 RSA 2048 Public Key", o.Format, o.Algorithm, o.Length, o.Type)
	}
	pub, err := x509.ParsePKCS1PublicKey(o.Material)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := hsmcheck.SPKIHash(pub)

	k := byID(t, keys(t, open(t, s, "")), privID)
	if k.SPKIHash != want {
		t.Errorf("SPKIHash %x, want %x (meta %v)", k.SPKIHash, want, k.Meta)
	}
	if k.State != hsmcheck.PreActive || k.Algorithm != "RSA-2048" {
		t.Errorf("state %s, algorithm %s; want pre-active RSA-2048", k.State, k.Algorithm)
	}
}

func TestLonePublicKey(t *testing.T) {
	s := kmiptest.Start(t)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	obj, err := kmip.KeyObject(kmip.ObjectPublicKey, kmip.FormatX509, kmip.AlgEC, 256, der)
	if err != nil {
		t.Fatal(err)
	}
	id, err := s.Client(t).Register(ctx(t), kmip.ObjectPublicKey, obj, kmip.UsageAttribute(kmip.UsageVerify), kmip.NameAttribute(name(t, "pub")))
	if err != nil {
		t.Fatal(err)
	}
	k := byID(t, keys(t, open(t, s, "")), id)
	want, _ := hsmcheck.SPKIHash(&key.PublicKey)
	if k.Class != hsmcheck.Public || k.SPKIHash != want || k.State != hsmcheck.PreActive || k.Algorithm != "EC-P256" {
		t.Errorf("got %s %s %s %x, want a pre-active EC-P256 public key with hash %x", k.Class, k.State, k.Algorithm, k.SPKIHash, want)
	}
}

func TestConfirm(t *testing.T) {
	s := kmiptest.Start(t)
	tests := []struct {
		name      string
		register  func(value []byte) string
		size      int
		algorithm string
		usage     []string
	}{
		{"AES-128", func(v []byte) string { return s.RegisterAES(t, v, name(t, "aes128")) }, 16, "AES-128", []string{"encrypt", "decrypt"}},
		{"AES-256", func(v []byte) string { return s.RegisterAES(t, v, name(t, "aes256")) }, 32, "AES-256", []string{"encrypt", "decrypt"}},
		{"HMAC-SHA256", func(v []byte) string { return s.RegisterHMAC(t, kmip.AlgHMACSHA256, v, name(t, "hmac")) }, 32, "HMAC-SHA256", []string{"mac"}},
	}
	values := map[string][]byte{}
	ids := map[string]string{}
	for _, tc := range tests {
		values[tc.name] = randomBytes(t, tc.size)
		ids[tc.name] = tc.register(values[tc.name])
	}
	inv := open(t, s, "")
	ks := keys(t, inv)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := byID(t, ks, ids[tc.name])
			if k.Class != hsmcheck.Secret || k.State != hsmcheck.Active || k.Algorithm != tc.algorithm || !slices.Equal(k.Usage, tc.usage) {
				t.Errorf("got %s %s %s %v, want an active secret %s key with usage %v", k.Class, k.State, k.Algorithm, k.Usage, tc.algorithm, tc.usage)
			}
			if k.HasSPKI() || k.CheckValue != nil {
				t.Errorf("secret key carries a fingerprint: %x %x", k.SPKIHash, k.CheckValue)
			}
			inventorytest.Confirms(t, inv, k, values[tc.name])
		})
	}
}

// TestEncryptECB pins down the PyKMIP behaviour Challenge relies on: ECB with PKCS#5 padding of
// one block returns that block's AES encryption followed by the padding block's.
func TestEncryptECB(t *testing.T) {
	s := kmiptest.Start(t)
	key := randomBytes(t, 32)
	id := s.RegisterAES(t, key, name(t, "aes"))
	in := randomBytes(t, 16)
	out, iv, err := s.Client(t).Encrypt(ctx(t), id, kmip.CryptoParams{Mode: kmip.ModeECB, Padding: kmip.PaddingPKCS5, Algorithm: kmip.AlgAES}, in, nil)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := aes.NewCipher(key)
	want := make([]byte, 32)
	block.Encrypt(want[:16], in)
	block.Encrypt(want[16:], bytes.Repeat([]byte{16}, 16))
	if !bytes.Equal(out, want) || iv != nil {
		t.Errorf("ciphertext %x (iv %x), want %x", out, iv, want)
	}
}

func TestChallengeUnsupported(t *testing.T) {
	s := kmiptest.Start(t)
	c := s.Client(t)
	obj, _ := kmip.KeyObject(kmip.ObjectSymmetricKey, kmip.FormatRaw, kmip.AlgAES, 128, randomBytes(t, 16))
	preActive, err := c.Register(ctx(t), kmip.ObjectSymmetricKey, obj, kmip.UsageAttribute(kmip.UsageEncrypt), kmip.NameAttribute(name(t, "pre-active")))
	if err != nil {
		t.Fatal(err)
	}
	obj, _ = kmip.KeyObject(kmip.ObjectSymmetricKey, kmip.FormatRaw, kmip.AlgAES, 128, randomBytes(t, 16))
	wrapOnly, err := c.Register(ctx(t), kmip.ObjectSymmetricKey, obj, kmip.UsageAttribute(kmip.UsageWrapKey), kmip.NameAttribute(name(t, "wrap-only")))
	if err != nil {
		t.Fatal(err)
	}
	s.Activate(t, wrapOnly)
	revoked := s.RegisterAES(t, randomBytes(t, 16), name(t, "revoked"))
	s.Revoke(t, revoked, kmip.RevokeCessationOfOperation)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 1024)
	priv, _ := s.RegisterKeyPair(t, rsaKey, name(t, "rsa"))

	inv := open(t, s, "")
	ks := keys(t, inv)
	for _, tc := range []struct{ name, id string }{
		{"pre-active", preActive}, {"no encrypt usage", wrapOnly}, {"deactivated", revoked}, {"private key", priv},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := inv.Challenge(ctx(t), byID(t, ks, tc.id))
			if !errors.Is(err, hsmcheck.ErrUnsupported) {
				t.Errorf("Challenge: %v, want ErrUnsupported", err)
			}
		})
	}
	t.Run("server refuses", func(t *testing.T) {
		// The key claims to be usable, but the server knows it is not: PyKMIP answers Permission
		// Denied, which the inventory reports as an authorisation failure.
		k := byID(t, ks, preActive)
		k.State = hsmcheck.Active
		_, err := inv.Challenge(ctx(t), k)
		if !errors.Is(err, hsmcheck.ErrAuth) || kmip.Reason(err) != kmip.ReasonPermissionDenied {
			t.Errorf("Challenge: %v, want ErrAuth from permission denied", err)
		}
	})
}

func TestRevoke(t *testing.T) {
	s := kmiptest.Start(t)
	tests := []struct {
		name string
		code kmip.RevocationReasonCode
		want hsmcheck.State
	}{
		{"key compromise", kmip.RevokeKeyCompromise, hsmcheck.Compromised},
		{"cessation of operation", kmip.RevokeCessationOfOperation, hsmcheck.Deactivated},
		{"superseded", kmip.RevokeSuperseded, hsmcheck.Deactivated},
	}
	pairs := map[string]string{}
	secrets := map[string]string{}
	for _, tc := range tests {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		priv, _ := s.RegisterKeyPair(t, key, name(t, tc.name+"/pair"))
		s.Revoke(t, priv, tc.code)
		pairs[tc.name] = priv
		secrets[tc.name] = s.RegisterAES(t, randomBytes(t, 16), name(t, tc.name+"/aes"))
		s.Revoke(t, secrets[tc.name], tc.code)
	}
	ks := keys(t, open(t, s, ""))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, id := range []string{pairs[tc.name], secrets[tc.name]} {
				k := byID(t, ks, id)
				if k.State != tc.want || k.State.Live() {
					t.Errorf("%s key %s is %s, want %s", k.Class, id, k.State, tc.want)
				}
			}
		})
	}
	t.Run("destroyed keys are gone", func(t *testing.T) {
		// PyKMIP deletes destroyed objects instead of keeping them in state Destroyed.
		id := secrets["cessation of operation"]
		s.Destroy(t, id)
		if hasID(keys(t, open(t, s, "")), id) {
			t.Errorf("destroyed key %s is still listed", id)
		}
		_, err := s.Client(t).GetAttributes(ctx(t), id)
		if kmip.Reason(err) != kmip.ReasonItemNotFound {
			t.Errorf("GetAttributes of a destroyed key: %v, want item not found", err)
		}
	})
}

func TestTLS(t *testing.T) {
	s := kmiptest.Start(t)
	s.RegisterAES(t, randomBytes(t, 16), name(t, "aes"))
	otherCA, otherCert, otherKey := kmiptest.UntrustedIdentity(t, kmiptest.ClientCN)
	tests := []struct {
		name     string
		cfg      kmip.Config
		auth     bool   // the error wraps hsmcheck.ErrAuth
		contains string // part of the error
		verify   any    // the error chain holds this kind of certificate error
	}{
		{
			name:     "client certificate from another CA",
			cfg:      kmip.Config{Addr: s.Addr, CAFile: s.CAFile, CertFile: otherCert, KeyFile: otherKey},
			auth:     true,
			contains: "refused the client certificate",
		},
		{
			name:     "server certificate not from the trusted CA",
			cfg:      kmip.Config{Addr: s.Addr, CAFile: otherCA, CertFile: s.CertFile, KeyFile: s.KeyFile},
			contains: "certificate signed by unknown authority",
			verify:   x509.UnknownAuthorityError{},
		},
		{
			name:     "server certificate for another name",
			cfg:      kmip.Config{Addr: s.Addr, CAFile: s.CAFile, CertFile: s.CertFile, KeyFile: s.KeyFile, ServerName: "kms.example"},
			contains: "wanted to match kms.example",
			verify:   x509.HostnameError{},
		},
		{
			name:     "system roots do not know the test CA",
			cfg:      kmip.Config{Addr: s.Addr, CertFile: s.CertFile, KeyFile: s.KeyFile},
			contains: "certificate signed by unknown authority",
			verify:   x509.UnknownAuthorityError{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inv, err := kmip.New(ctx(t), tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer inv.Close()
			err = inv.Keys(ctx(t), func(hsmcheck.Key) error { t.Error("a key came through"); return nil })
			if err == nil || !strings.Contains(err.Error(), tc.contains) {
				t.Fatalf("Keys: %v, want an error containing %q", err, tc.contains)
			}
			if errors.Is(err, hsmcheck.ErrAuth) != tc.auth {
				t.Errorf("errors.Is(%v, ErrAuth) = %v, want %v", err, !tc.auth, tc.auth)
			}
			switch v := tc.verify.(type) {
			case x509.UnknownAuthorityError:
				if !errors.As(err, &v) {
					t.Errorf("%v holds no x509.UnknownAuthorityError", err)
				}
			case x509.HostnameError:
				if !errors.As(err, &v) {
					t.Errorf("%v holds no x509.HostnameError", err)
				}
			}
		})
	}
}

func TestIdentities(t *testing.T) {
	s := kmiptest.Start(t)
	mine := s.RegisterAES(t, randomBytes(t, 16), name(t, "mine"))
	cert, key := s.Identity(t, "someone-else")
	other := s.ClientAs(t, cert, key)
	obj, _ := kmip.KeyObject(kmip.ObjectSymmetricKey, kmip.FormatRaw, kmip.AlgAES, 128, randomBytes(t, 16))
	theirs, err := other.Register(ctx(t), kmip.ObjectSymmetricKey, obj, kmip.UsageAttribute(kmip.UsageEncrypt), kmip.NameAttribute(name(t, "theirs")))
	if err != nil {
		t.Fatal(err)
	}
	ks := keys(t, open(t, s, ""))
	if !hasID(ks, mine) || hasID(ks, theirs) {
		t.Errorf("listing shows mine: %v, theirs: %v; want only mine", hasID(ks, mine), hasID(ks, theirs))
	}
	_, err = other.GetAttributes(ctx(t), mine)
	if !errors.Is(err, hsmcheck.ErrAuth) || kmip.Reason(err) != kmip.ReasonPermissionDenied {
		t.Errorf("reading another identity's key: %v, want ErrAuth from permission denied", err)
	}

	q := url.Values{"ca": {s.CAFile}, "cert": {cert}, "key": {key}, "scope": {"tenant-b"}, "name": {"kms-b"}}
	spec, err := hsmcheck.ParseSpec("kmip://" + s.Addr + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	inv, err := kmip.Open(ctx(t), spec)
	if err != nil {
		t.Fatal(err)
	}
	defer inv.(io.Closer).Close()
	k := byID(t, keys(t, inv), theirs)
	if inv.Name() != "kms-b" || k.Scope != "tenant-b" {
		t.Errorf("name %q, scope %q; want the spec's kms-b and tenant-b", inv.Name(), k.Scope)
	}
}

func TestClientOperations(t *testing.T) {
	s := kmiptest.Start(t)
	c := s.Client(t)
	t.Run("discover versions", func(t *testing.T) {
		vs, err := c.DiscoverVersions(ctx(t), kmip.ProtocolVersion{Major: 1, Minor: 2}, kmip.ProtocolVersion{Major: 9, Minor: 9})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]kmip.ProtocolVersion{kmip.Version12}, vs); diff != "" {
			t.Errorf("versions (-want +got):\n%s", diff)
		}
	})
	t.Run("query", func(t *testing.T) {
		q, err := c.Query(ctx(t), kmip.QueryOperations, kmip.QueryServerInformation)
		if err != nil {
			t.Fatal(err)
		}
		for _, op := range []kmip.Operation{kmip.OpLocate, kmip.OpGetAttributes, kmip.OpGet, kmip.OpEncrypt} {
			if !slices.Contains(q.Operations, op) {
				t.Errorf("Query does not list %s: %v", op, q.Operations)
			}
		}
		if !strings.HasPrefix(q.Vendor, "PyKMIP") {
			t.Errorf("vendor %q", q.Vendor)
		}
	})
	t.Run("create, rename, destroy", func(t *testing.T) {
		newName := name(t, "new")
		id, err := c.Create(ctx(t), kmip.ObjectSymmetricKey, kmip.AlgorithmAttribute(kmip.AlgAES), kmip.LengthAttribute(256),
			kmip.UsageAttribute(kmip.UsageEncrypt), kmip.NameAttribute(name(t, "old")))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.ModifyAttribute(ctx(t), id, kmip.NameAttribute(newName)); err != nil {
			t.Fatal(err)
		}
		as, err := c.GetAttributes(ctx(t), id, kmip.AttrName, kmip.AttrCryptographicLength, kmip.AttrState)
		if err != nil {
			t.Fatal(err)
		}
		length, _ := as.Int(kmip.AttrCryptographicLength)
		state, _ := as.Enum(kmip.AttrState)
		got := fmt.Sprint(as.Names(), length, kmip.State(state))
		if want := fmt.Sprint([]string{newName}, 256, kmip.StatePreActive); got != want {
			t.Errorf("attributes %s, want %s", got, want)
		}
		// PyKMIP cannot even parse an AddAttribute request; the failure must come back as a
		// typed error.
		err = c.AddAttribute(ctx(t), id, kmip.NameAttribute(name(t, "extra")))
		if kmip.Reason(err) != kmip.ReasonInvalidMessage {
			t.Errorf("AddAttribute: %v, want PyKMIP's invalid message", err)
		}
		ids, err := c.Locate(ctx(t), kmip.NameAttribute(newName))
		if err != nil || !slices.Equal(ids, []string{id}) {
			t.Errorf("Locate by name: %v, %v; want [%s]", ids, err, id)
		}
		if err := c.Destroy(ctx(t), id); err != nil {
			t.Fatal(err)
		}
		if ids, err := c.Locate(ctx(t), kmip.NameAttribute(newName)); err != nil || len(ids) != 0 {
			t.Errorf("Locate after Destroy: %v, %v; want nothing", ids, err)
		}
	})
	t.Run("paging", func(t *testing.T) {
		for i := range 5 {
			s.RegisterAES(t, randomBytes(t, 16), name(t, fmt.Sprint(i)))
		}
		all, err := c.Locate(ctx(t), kmip.ObjectTypeAttribute(kmip.ObjectSymmetricKey))
		if err != nil {
			t.Fatal(err)
		}
		paged := s.Client(t)
		paged.PageSize = 2
		got, err := paged.Locate(ctx(t), kmip.ObjectTypeAttribute(kmip.ObjectSymmetricKey))
		if err != nil {
			t.Fatal(err)
		}
		if len(all) < 5 {
			t.Fatalf("Locate found %d symmetric keys, want at least 5", len(all))
		}
		slices.Sort(all)
		slices.Sort(got)
		if diff := cmp.Diff(all, got); diff != "" {
			t.Errorf("paged Locate (-unpaged +paged):\n%s", diff)
		}
	})
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	pem := filepath.Join(dir, "x.pem")
	if err := os.WriteFile(pem, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		uri  string
		want string
	}{
		{"no client certificate", "kmip://kms.example:5696?ca=" + pem, "a client certificate is required"},
		{"certificate without key", "kmip://kms.example:5696?cert=" + pem, "a client certificate is required"},
		{"unknown parameter", "kmip://kms.example:5696?cafile=" + pem, `unknown parameter "cafile"`},
		{"password in the URI", "kmip://kms.example:5696?pass" + "word=hunter2", `"password" would put a credential on the command line`},
		{"CA file that is not PEM", "kmip://kms.example:5696?ca=" + pem + "&cert=" + pem + "&key=" + pem, "no PEM certificate"},
		{"missing certificate file", "kmip://kms.example?ca=&cert=" + pem + ".missing&key=" + pem, "loading client certificate"},
		{"no address", "kmip:///?cert=" + pem + "&key=" + pem, "no server address"},
		{"wrong scheme", "vault://kms.example", "scheme is not kmip"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec, err := hsmcheck.ParseSpec(tc.uri)
			if err != nil {
				t.Fatal(err)
			}
			inv, err := kmip.Open(context.Background(), spec)
			if err == nil {
				inv.(io.Closer).Close()
				t.Fatal("Open succeeded")
			}
			if !errors.Is(err, hsmcheck.ErrConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want ErrConfig containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error repeats the password: %v", err)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	s := kmiptest.Start(t) // for certificate files
	tests := []struct {
		name string
		addr string
		want string
	}{
		{"port defaults to 5696", "kms.example", "kmip:kms.example:5696"},
		{"IPv6 without port", "[2001:db8::1]", "kmip:[2001:db8::1]:5696"},
		{"explicit port", "kms.example:15696", "kmip:kms.example:15696"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inv, err := kmip.New(context.Background(), kmip.Config{Addr: tc.addr, CertFile: s.CertFile, KeyFile: s.KeyFile})
			if err != nil {
				t.Fatal(err)
			}
			defer inv.Close()
			if inv.Name() != tc.want {
				t.Errorf("Name() = %q, want %q", inv.Name(), tc.want)
			}
		})
	}
}

func TestKeysCancelled(t *testing.T) {
	s := kmiptest.Start(t)
	s.RegisterAES(t, randomBytes(t, 16), name(t, "aes"))
	inv := open(t, s, "")
	c, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	<-c.Done()
	if err := inv.Keys(c, func(hsmcheck.Key) error { return nil }); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Keys after the deadline: %v, want context.DeadlineExceeded", err)
	}
	// The inventory still works afterwards.
	if len(keys(t, inv)) == 0 {
		t.Error("no keys after a cancelled listing")
	}
}
