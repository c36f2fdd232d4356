package pkcs11_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	p11 "github.com/miekg/pkcs11"

	"github.com/keywarden/keywarden/hsmcheck"
	"github.com/keywarden/keywarden/hsmcheck/inventorytest"
	"github.com/keywarden/keywarden/hsmcheck/pkcs11"
	"github.com/keywarden/keywarden/hsmcheck/pkcs11/internal/p11mod"
	"github.com/keywarden/keywarden/hsmcheck/pkcs11/softhsmtest"
)

// open opens uri with the PIN given through Spec.Getenv, closing the inventory when the test
// ends.
func open(t *testing.T, uri, pin string) *pkcs11.Inventory {
	t.Helper()
	inv, err := openErr(t, uri, map[string]string{pkcs11.PINEnv: pin})
	if err != nil {
		t.Fatalf("Open(%q): %v", uri, err)
	}
	return inv
}

func openErr(t *testing.T, uri string, env map[string]string) (*pkcs11.Inventory, error) {
	t.Helper()
	s, err := hsmcheck.ParseSpec(uri)
	if err != nil {
		t.Fatal(err)
	}
	s.Getenv = func(k string) string { return env[k] }
	inv, err := pkcs11.Open(context.Background(), s)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() {
		if err := inv.(*pkcs11.Inventory).Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return inv.(*pkcs11.Inventory), nil
}

func writePKCS8(t *testing.T, key crypto.PrivateKey) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func spkiHash(t *testing.T, pub crypto.PublicKey) [32]byte {
	t.Helper()
	h, err := hsmcheck.SPKIHash(pub)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func randBytes(t *testing.T, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// fixture is a token holding one key of every kind the backend reads.
type fixture struct {
	tok               *softhsmtest.Token
	spki              map[string][32]byte // by key ID
	aesValue, hmacKey []byte
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	tok := softhsmtest.New(t)
	f := fixture{tok: tok, spki: map[string][32]byte{}, aesValue: randBytes(t, 32), hmacKey: randBytes(t, 32)}

	rsaGen := tok.GenerateRSA(t, "rsa-generated", []byte{0x01}, 2048)
	f.spki["01"] = spkiHash(t, &rsaGen.PublicKey)
	ecGen := tok.GenerateEC(t, "ec-generated", []byte{0x02}, elliptic.P256())
	f.spki["02"] = spkiHash(t, &ecGen.PublicKey)
	edGen := tok.GenerateEd25519(t, "ed25519-generated", []byte{0x03})
	f.spki["03"] = spkiHash(t, edGen.Public())

	rsaImp, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tok.ImportPEM(t, "rsa-imported", []byte{0x04}, writePKCS8(t, rsaImp))
	f.spki["04"] = spkiHash(t, &rsaImp.PublicKey)
	ecImp, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tok.ImportPEM(t, "ec-imported", []byte{0x05}, writePKCS8(t, ecImp))

	tok.CreateAES(t, "aes", []byte{0x06}, f.aesValue)
	tok.CreateGenericSecret(t, "hmac", []byte{0x07}, f.hmacKey)

	lone, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tok.CreatePublic(t, "public-only", []byte{0x08}, &lone.PublicKey)
	f.spki["08"] = spkiHash(t, &lone.PublicKey)
	return f
}

// view is the part of a Key the table compares.
type view struct {
	Label, Algorithm, Scope string
	Class                   hsmcheck.Class
	State                   hsmcheck.State
	Usage                   []string
	Extractable, Sensitive  *bool
	HasSPKI                 bool
	PublicObject            string
}

func TestKeys(t *testing.T) {
	f := newFixture(t)
	inv := open(t, f.tok.URI(), f.tok.PIN)
	if got, want := inv.Name(), "pkcs11:"+f.tok.Label; got != want {
		t.Errorf("Name() = %q, want %q", got, want)
	}
	keys := inventorytest.Run(t, inv)

	yes, no := hsmcheck.BoolPtr(true), hsmcheck.BoolPtr(false)
	scope := f.tok.Label
	tests := []struct {
		name string
		id   string
		want view
	}{
		{"token-generated RSA pair", "01", view{"rsa-generated", "RSA-2048", scope, hsmcheck.Private, hsmcheck.Active, []string{"sign", "verify", "encrypt", "decrypt"}, yes, no, true, "true"}},
		{"token-generated EC pair", "02", view{"ec-generated", "EC-P256", scope, hsmcheck.Private, hsmcheck.Active, []string{"sign", "verify"}, yes, no, true, "true"}},
		{"token-generated Ed25519 pair", "03", view{"ed25519-generated", "Ed25519", scope, hsmcheck.Private, hsmcheck.Active, []string{"sign", "verify"}, yes, no, true, "true"}},
		{"imported RSA key without public object", "04", view{"rsa-imported", "RSA-2048", scope, hsmcheck.Private, hsmcheck.Active, []string{"sign", "decrypt", "unwrap"}, no, yes, true, "false"}},
		{"imported EC key without public object", "05", view{"ec-imported", "EC-P384", scope, hsmcheck.Private, hsmcheck.Active, []string{"sign"}, no, yes, false, "false"}},
		{"AES key", "06", view{"aes", "AES-256", scope, hsmcheck.Secret, hsmcheck.Active, []string{"encrypt", "decrypt"}, no, yes, false, ""}},
		{"generic secret", "07", view{"hmac", "GENERIC-SECRET-32", scope, hsmcheck.Secret, hsmcheck.Active, []string{"sign", "verify", "mac"}, no, yes, false, ""}},
		{"lone public key", "08", view{"public-only", "EC-P256", scope, hsmcheck.Public, hsmcheck.Active, []string{"verify"}, nil, nil, true, ""}},
	}
	if len(keys) != len(tests) {
		t.Errorf("Keys yielded %d keys, want %d (one per pair, none for a pair's public object)", len(keys), len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := inventorytest.Find(t, keys, "with ID "+tt.id, func(k hsmcheck.Key) bool { return k.ID == tt.id })
			got := view{k.Label, k.Algorithm, k.Scope, k.Class, k.State, k.Usage, k.Extractable, k.Sensitive, k.HasSPKI(), k.Meta["public_object"]}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("key mismatch (-want +got):\n%s", diff)
			}
			if want, ok := f.spki[tt.id]; ok && k.SPKIHash != want {
				t.Errorf("SPKIHash = %x, want %x, the hash of the locally computed SubjectPublicKeyInfo", k.SPKIHash, want)
			}
			if k.Meta["token"] != f.tok.Label || k.Meta["slot"] == "" || k.Meta["key_type"] == "" {
				t.Errorf("Meta = %v, want token, slot and key_type", k.Meta)
			}
			if !k.Activated.IsZero() || !k.Expires.IsZero() {
				t.Errorf("Activated, Expires = %v, %v; want both unset", k.Activated, k.Expires)
			}
		})
	}

	t.Run("check values", func(t *testing.T) {
		aes := inventorytest.Find(t, keys, "aes", func(k hsmcheck.Key) bool { return k.ID == "06" })
		if diff := cmp.Diff(hsmcheck.AESKCV(f.aesValue), aes.CheckValue); diff != "" {
			t.Errorf("AES CheckValue mismatch (-want +got):\n%s", diff)
		}
		gs := inventorytest.Find(t, keys, "hmac", func(k hsmcheck.Key) bool { return k.ID == "07" })
		if diff := cmp.Diff(hsmcheck.GenericKCV(f.hmacKey), gs.CheckValue); diff != "" {
			t.Errorf("generic secret CheckValue mismatch (-want +got):\n%s", diff)
		}
		for _, k := range keys {
			if k.Class != hsmcheck.Secret && len(k.CheckValue) > 0 {
				t.Errorf("%s key %s has a check value", k.Class, k.Ref())
			}
		}
	})

	t.Run("confirms", func(t *testing.T) {
		inventorytest.Confirms(t, inv, inventorytest.Find(t, keys, "aes", func(k hsmcheck.Key) bool { return k.ID == "06" }), f.aesValue)
		inventorytest.Confirms(t, inv, inventorytest.Find(t, keys, "hmac", func(k hsmcheck.Key) bool { return k.ID == "07" }), f.hmacKey)
	})

	t.Run("scope and name", func(t *testing.T) {
		inv := open(t, f.tok.URI()+"&scope=prod&name=hsm-a", f.tok.PIN)
		if inv.Name() != "hsm-a" {
			t.Errorf("Name() = %q, want hsm-a", inv.Name())
		}
		n := 0
		err := inv.Keys(context.Background(), func(k hsmcheck.Key) error {
			n++
			if k.Scope != "prod" {
				t.Errorf("key %s has scope %q, want prod", k.Ref(), k.Scope)
			}
			return nil
		})
		if err != nil || n != len(keys) {
			t.Errorf("Keys yielded %d keys and %v, want %d and nil", n, err, len(keys))
		}
	})
}

// TestStates changes one key's life-cycle attributes per case and reads its state back, for a
// secret key and for a key pair, whose public object gets the same changes.
func TestStates(t *testing.T) {
	tok := softhsmtest.New(t)
	today := time.Now().UTC()
	day := func(n int) time.Time {
		d := today.AddDate(0, 0, n)
		return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
	}
	tests := []struct {
		name       string
		change     func(id []byte)
		want       hsmcheck.State
		start, end time.Time
	}{
		{"untouched", func([]byte) {}, hsmcheck.Active, time.Time{}, time.Time{}},
		{"deactivated", func(id []byte) { tok.Deactivate(t, id) }, hsmcheck.Deactivated, time.Time{}, day(-1)},
		{"disabled", func(id []byte) { tok.Disable(t, id) }, hsmcheck.Disabled, time.Time{}, time.Time{}},
		{"start date ahead", func(id []byte) { tok.SetDates(t, id, day(1), time.Time{}) }, hsmcheck.PreActive, day(1), time.Time{}},
		{"start date past", func(id []byte) { tok.SetDates(t, id, day(-30), time.Time{}) }, hsmcheck.Active, day(-30), time.Time{}},
		{"end date ahead", func(id []byte) { tok.SetDates(t, id, time.Time{}, day(30)) }, hsmcheck.Active, time.Time{}, day(30)},
		{"end date today", func(id []byte) { tok.SetDates(t, id, time.Time{}, day(0)) }, hsmcheck.Deactivated, time.Time{}, day(0)},
		{"end date past beats disabled", func(id []byte) { tok.Disable(t, id); tok.SetDates(t, id, time.Time{}, day(-2)) }, hsmcheck.Deactivated, time.Time{}, day(-2)},
	}
	kinds := []struct {
		name   string
		create func(label string, id []byte)
	}{
		{"secret", func(label string, id []byte) { tok.CreateAES(t, label, id, randBytes(t, 16)) }},
		{"pair", func(label string, id []byte) { tok.GenerateEC(t, label, id, elliptic.P256()) }},
	}
	ids := map[string][]byte{}
	for i, kind := range kinds {
		for j, tt := range tests {
			id := []byte{byte(i + 1), byte(j + 1)}
			kind.create(kind.name+"/"+tt.name, id)
			tt.change(id)
			ids[kind.name+"/"+tt.name] = id
		}
	}
	inv := open(t, tok.URI(), tok.PIN)
	got := map[string]hsmcheck.Key{}
	if err := inv.Keys(context.Background(), func(k hsmcheck.Key) error { got[k.ID] = k; return nil }); err != nil {
		t.Fatal(err)
	}
	for _, kind := range kinds {
		for _, tt := range tests {
			t.Run(kind.name+"/"+tt.name, func(t *testing.T) {
				k, ok := got[hex.EncodeToString(ids[kind.name+"/"+tt.name])]
				if !ok {
					t.Fatal("key not listed")
				}
				if k.State != tt.want {
					t.Errorf("State = %q, want %q (usage %v)", k.State, tt.want, k.Usage)
				}
				if !k.Activated.Equal(tt.start) || !k.Expires.Equal(tt.end) {
					t.Errorf("Activated, Expires = %v, %v; want %v, %v", k.Activated, k.Expires, tt.start, tt.end)
				}
			})
		}
	}
	t.Run("deactivated key has sign cleared", func(t *testing.T) {
		for _, kind := range kinds {
			k := got[hex.EncodeToString(ids[kind.name+"/deactivated"])]
			for _, u := range k.Usage {
				if u == "sign" || u == "encrypt" || u == "wrap" {
					t.Errorf("%s: deactivated key still has %s", kind.name, u)
				}
			}
		}
	})
	t.Run("challenge needs encrypt", func(t *testing.T) {
		k := got[hex.EncodeToString(ids["secret/disabled"])]
		if _, err := inv.Challenge(context.Background(), k); !errors.Is(err, hsmcheck.ErrUnsupported) {
			t.Errorf("Challenge on a disabled AES key = %v, want ErrUnsupported", err)
		}
	})
}

func TestOpenErrors(t *testing.T) {
	tok := softhsmtest.New(t)
	tok.CreateAES(t, "aes", []byte{1}, randBytes(t, 16))
	pin := map[string]string{pkcs11.PINEnv: tok.PIN}
	tests := []struct {
		name     string
		uri      string
		env      map[string]string
		is       error  // errors.Is target; nil = any error
		contains string // in the message
	}{
		{"wrong PIN", tok.URI(), map[string]string{pkcs11.PINEnv: "0000" + tok.PIN}, hsmcheck.ErrAuth, "CKR_PIN_INCORRECT"},
		{"no PIN", tok.URI(), nil, hsmcheck.ErrAuth, pkcs11.PINEnv},
		{"unreadable pin-file", tok.URI() + "&pin-file=" + filepath.Join(t.TempDir(), "missing"), nil, hsmcheck.ErrAuth, "pin-file"},
		{"unknown token", "pkcs11:" + tok.Module + "?token=no-such-token", pin, nil, `"` + tok.Label + `"`},
		{"unknown slot", "pkcs11:" + tok.Module + "?slot=4294967290", pin, nil, tok.Label},
		{"label and slot disagree", tok.URI() + "&slot=4294967290", pin, nil, "no such token"},
		{"pin in URI", tok.URI() + "&pin=" + tok.PIN, pin, hsmcheck.ErrConfig, "pin"},
		{"pin-value in URI", tok.URI() + "&pin-value=" + tok.PIN, pin, hsmcheck.ErrConfig, "pin-value"},
		{"slot not a number", "pkcs11:" + tok.Module + "?slot=first", pin, hsmcheck.ErrConfig, "first"},
		{"no module", "pkcs11:?token=" + tok.Label, pin, hsmcheck.ErrConfig, "MODULE_PATH"},
		{"two module paths", tok.URI() + "&module-path=/other.so", pin, hsmcheck.ErrConfig, "module-path"},
		{"module missing", "pkcs11:/nonexistent/libnothing.so?token=x", pin, nil, "/nonexistent/libnothing.so"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := openErr(t, tt.uri, tt.env)
			if err == nil {
				t.Fatal("Open succeeded, want an error")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("Open error %q does not wrap %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("Open error %q does not mention %q", err, tt.contains)
			}
			if strings.Contains(err.Error(), tok.PIN) {
				t.Errorf("Open error %q contains the PIN", err)
			}
		})
	}
	if p11mod.InUse(tok.Module) {
		t.Error("failed Opens left the module initialised")
	}
}

// TestPINSources opens the token every way a user can name it and give the PIN.
func TestPINSources(t *testing.T) {
	tok := softhsmtest.New(t)
	tok.CreateAES(t, "aes", []byte{1}, randBytes(t, 16))
	pinFile := tok.PINFile(t)
	slot := func() string {
		inv := open(t, tok.URI(), tok.PIN)
		var s string
		_ = inv.Keys(context.Background(), func(k hsmcheck.Key) error { s = k.Meta["slot"]; return nil })
		if err := inv.Close(); err != nil {
			t.Fatal(err)
		}
		return s
	}()
	rel, err := filepath.Rel(filepath.Dir(pinFile), pinFile)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		uri     string
		env     map[string]string
		baseDir string
	}{
		{"PIN from the environment", tok.URI(), map[string]string{pkcs11.PINEnv: tok.PIN}, ""},
		{"PIN from pin-file", tok.URI() + "&pin-file=" + pinFile, nil, ""},
		{"pin-file relative to the config file", tok.URI() + "&pin-file=" + rel, nil, filepath.Dir(pinFile)},
		{"environment before pin-file", tok.URI() + "&pin-file=" + filepath.Join(t.TempDir(), "missing"), map[string]string{pkcs11.PINEnv: tok.PIN}, ""},
		{"slot instead of label", "pkcs11:" + tok.Module + "?slot=" + slot, map[string]string{pkcs11.PINEnv: tok.PIN}, ""},
		{"module-path param", "pkcs11:?module-path=" + tok.Module + "&token=" + tok.Label, map[string]string{pkcs11.PINEnv: tok.PIN}, ""},
		{"RFC 7512 path attributes", "pkcs11:token=" + tok.Label + ";slot-id=" + slot + "?module-path=" + tok.Module, map[string]string{pkcs11.PINEnv: tok.PIN}, ""},
		{"the only token", "pkcs11:" + tok.Module, map[string]string{pkcs11.PINEnv: tok.PIN}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := hsmcheck.ParseSpec(tt.uri)
			if err != nil {
				t.Fatal(err)
			}
			s.BaseDir = tt.baseDir
			s.Getenv = func(k string) string { return tt.env[k] }
			inv, err := pkcs11.Open(context.Background(), s)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer inv.(*pkcs11.Inventory).Close()
			n := 0
			if err := inv.Keys(context.Background(), func(hsmcheck.Key) error { n++; return nil }); err != nil || n != 1 {
				t.Errorf("Keys yielded %d keys and %v, want 1 and nil", n, err)
			}
		})
	}
	t.Run("PIN from the process environment", func(t *testing.T) {
		tok.UsePINEnv(t)
		s, err := hsmcheck.ParseSpec(tok.URI())
		if err != nil {
			t.Fatal(err)
		}
		inv, err := pkcs11.Open(context.Background(), s)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if err := inv.(*pkcs11.Inventory).Close(); err != nil {
			t.Error(err)
		}
	})
}

// TestSharedModule opens the module several times in one process: concurrently, alongside a
// user that initialised it without this package, and with a second token.
func TestSharedModule(t *testing.T) {
	tok := softhsmtest.New(t)
	tok.CreateAES(t, "aes", []byte{1}, randBytes(t, 16))
	tok.CreateGenericSecret(t, "hmac", []byte{2}, randBytes(t, 32))

	t.Run("concurrent opens", func(t *testing.T) {
		const n = 4
		invs := make([]*pkcs11.Inventory, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				s, _ := hsmcheck.ParseSpec(tok.URI())
				s.Getenv = func(string) string { return tok.PIN }
				inv, err := pkcs11.Open(context.Background(), s)
				if err != nil {
					errs[i] = err
					return
				}
				invs[i] = inv.(*pkcs11.Inventory)
				for range 3 {
					count := 0
					if err := invs[i].Keys(context.Background(), func(hsmcheck.Key) error { count++; return nil }); err != nil || count != 2 {
						errs[i] = errors.Join(err, errors.New("wrong key count"))
						return
					}
				}
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("inventory %d: %v", i, err)
			}
		}
		// Closing all but one must leave that one working: its login and the module live on.
		for _, inv := range invs[:n-1] {
			if inv != nil {
				if err := inv.Close(); err != nil {
					t.Error(err)
				}
			}
		}
		if last := invs[n-1]; last != nil {
			if err := last.Keys(context.Background(), func(hsmcheck.Key) error { return nil }); err != nil {
				t.Errorf("Keys after the other inventories closed: %v", err)
			}
			if err := last.Close(); err != nil {
				t.Error(err)
			}
			if err := last.Keys(context.Background(), func(hsmcheck.Key) error { return nil }); err == nil {
				t.Error("Keys after Close succeeded")
			}
		}
		if p11mod.InUse(tok.Module) {
			t.Error("module still initialised after every inventory closed")
		}
	})

	t.Run("second login with another PIN", func(t *testing.T) {
		open(t, tok.URI(), tok.PIN)
		_, err := openErr(t, tok.URI(), map[string]string{pkcs11.PINEnv: "0000" + tok.PIN})
		if !errors.Is(err, hsmcheck.ErrAuth) {
			t.Errorf("Open with a wrong PIN while logged in = %v, want ErrAuth", err)
		}
	})

	t.Run("initialised outside the backend", func(t *testing.T) {
		ctx := p11.New(tok.Module)
		if ctx == nil {
			t.Fatal("loading the module")
		}
		if err := ctx.Initialize(); err != nil {
			t.Fatalf("C_Initialize: %v", err)
		}
		defer ctx.Finalize()
		inv := open(t, tok.URI(), tok.PIN)
		if err := inv.Keys(context.Background(), func(hsmcheck.Key) error { return nil }); err != nil {
			t.Fatal(err)
		}
		if err := inv.Close(); err != nil {
			t.Fatal(err)
		}
		// The backend did not initialise the module, so it must not have finalized it.
		if _, err := ctx.GetSlotList(true); err != nil {
			t.Errorf("the module was finalized under its owner: %v", err)
		}
	})

	t.Run("two tokens", func(t *testing.T) {
		other := softhsmtest.New(t)
		if other.Conf != tok.Conf {
			t.Fatalf("the subtest's token has its own configuration %q, want its parent's %q", other.Conf, tok.Conf)
		}
		other.CreateAES(t, "other-aes", []byte{9}, randBytes(t, 16))
		a, b := open(t, tok.URI(), tok.PIN), open(t, other.URI(), other.PIN)
		for _, c := range []struct {
			inv  *pkcs11.Inventory
			want int
		}{{a, 2}, {b, 1}} {
			n := 0
			if err := c.inv.Keys(context.Background(), func(hsmcheck.Key) error { n++; return nil }); err != nil || n != c.want {
				t.Errorf("%s: Keys yielded %d keys and %v, want %d", c.inv.Name(), n, err, c.want)
			}
		}
		_, err := openErr(t, "pkcs11:"+tok.Module, map[string]string{pkcs11.PINEnv: tok.PIN})
		if !errors.Is(err, hsmcheck.ErrConfig) || !strings.Contains(err.Error(), other.Label) {
			t.Errorf("Open without a token name among two tokens = %v, want ErrConfig naming both", err)
		}
	})
}

// TestUnreadableDates covers SoftHSM 2.6 failing to read back the dates of a CKA_PRIVATE
// object (softhsm/SoftHSMv2#655, #804), which an imported key without a public object is: the
// listing must go on, and the state must not claim the key is active.
func TestUnreadableDates(t *testing.T) {
	tok := softhsmtest.New(t)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pemPath := writePKCS8(t, key)
	tests := []struct {
		name   string
		change func(id []byte)
		want   hsmcheck.State
		meta   string
	}{
		{"untouched", func([]byte) {}, hsmcheck.Active, ""},
		{"deactivated", func(id []byte) { tok.Deactivate(t, id) }, hsmcheck.Disabled, "CKA_END_DATE"},
		{"end date set", func(id []byte) { tok.SetDates(t, id, time.Time{}, time.Now().AddDate(1, 0, 0)) }, hsmcheck.Unknown, "CKA_END_DATE"},
	}
	for i, tt := range tests {
		id := []byte{byte(i + 1)}
		tok.ImportPEM(t, tt.name, id, pemPath)
		tt.change(id)
	}
	inv := open(t, tok.URI(), tok.PIN)
	keys := inventorytest.Run(t, inv)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := hex.EncodeToString([]byte{byte(i + 1)})
			k := inventorytest.Find(t, keys, id, func(k hsmcheck.Key) bool { return k.ID == id })
			if k.State != tt.want || k.Meta["unreadable"] != tt.meta {
				t.Errorf("State, Meta[unreadable] = %q, %q; want %q, %q", k.State, k.Meta["unreadable"], tt.want, tt.meta)
			}
		})
	}
}

// TestNoID lists and challenges keys that have a label but no CKA_ID, and pairs a private key
// with its public object by label.
func TestNoID(t *testing.T) {
	tok := softhsmtest.New(t)
	value := randBytes(t, 16)
	tok.CreateAES(t, "unnamed-aes", nil, value)
	ec := tok.GenerateEC(t, "unnamed-ec", nil, elliptic.P384())
	inv := open(t, tok.URI(), tok.PIN)
	keys := inventorytest.Run(t, inv)
	if len(keys) != 2 {
		t.Fatalf("Keys yielded %d keys, want 2", len(keys))
	}
	aes := inventorytest.Find(t, keys, "label:unnamed-aes", func(k hsmcheck.Key) bool { return k.ID == "label:unnamed-aes" })
	inventorytest.Confirms(t, inv, aes, value)
	pair := inventorytest.Find(t, keys, "label:unnamed-ec", func(k hsmcheck.Key) bool { return k.ID == "label:unnamed-ec" })
	if pair.Class != hsmcheck.Private || pair.SPKIHash != spkiHash(t, &ec.PublicKey) || pair.Algorithm != "EC-P384" {
		t.Errorf("pair = %s %s %x, want private EC-P384 with the key's fingerprint", pair.Class, pair.Algorithm, pair.SPKIHash)
	}
}

func TestChallenge(t *testing.T) {
	tok := softhsmtest.New(t)
	tests := []struct {
		name   string
		create func(id []byte) []byte // returns the key material, nil for a key pair
		change func(id []byte)
		want   hsmcheck.Mechanism // "" = ErrUnsupported
	}{
		{"AES-128", func(id []byte) []byte { v := randBytes(t, 16); tok.CreateAES(t, "a", id, v); return v }, nil, hsmcheck.AESECB},
		{"AES-256", func(id []byte) []byte { v := randBytes(t, 32); tok.CreateAES(t, "a", id, v); return v }, nil, hsmcheck.AESECB},
		{"generic secret of 32 bytes", func(id []byte) []byte { v := randBytes(t, 32); tok.CreateGenericSecret(t, "g", id, v); return v }, nil, hsmcheck.HMACSHA256},
		{"generic secret too short for SHA-256", func(id []byte) []byte { v := randBytes(t, 24); tok.CreateGenericSecret(t, "g", id, v); return v }, nil, hsmcheck.HMACSHA1},
		{"generic secret too short for any HMAC", func(id []byte) []byte { v := randBytes(t, 16); tok.CreateGenericSecret(t, "g", id, v); return v }, nil, ""},
		{"AES key that may not encrypt", func(id []byte) []byte { v := randBytes(t, 16); tok.CreateAES(t, "a", id, v); return v }, func(id []byte) { tok.Disable(t, id) }, ""},
		{"generic secret that may not sign", func(id []byte) []byte { v := randBytes(t, 32); tok.CreateGenericSecret(t, "g", id, v); return v }, func(id []byte) { tok.Disable(t, id) }, ""},
		{"key pair", func(id []byte) []byte { tok.GenerateEC(t, "e", id, elliptic.P256()); return nil }, nil, ""},
	}
	values := map[string][]byte{}
	for i, tt := range tests {
		id := []byte{byte(i + 1)}
		values[tt.name] = tt.create(id)
		if tt.change != nil {
			tt.change(id)
		}
	}
	inv := open(t, tok.URI(), tok.PIN)
	keys := inventorytest.Run(t, inv)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := hex.EncodeToString([]byte{byte(i + 1)})
			k := inventorytest.Find(t, keys, id, func(k hsmcheck.Key) bool { return k.ID == id })
			c, err := inv.Challenge(context.Background(), k)
			if tt.want == "" {
				if !errors.Is(err, hsmcheck.ErrUnsupported) {
					t.Errorf("Challenge = %v, want ErrUnsupported", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Challenge: %v", err)
			}
			if c.Mechanism != tt.want || len(c.Input) != 32 {
				t.Errorf("Challenge used %s over %d bytes, want %s over 32", c.Mechanism, len(c.Input), tt.want)
			}
			inventorytest.Confirms(t, inv, k, values[tt.name])
		})
	}
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		k := inventorytest.Find(t, keys, "01", func(k hsmcheck.Key) bool { return k.ID == "01" })
		if _, err := inv.Challenge(ctx, k); !errors.Is(err, context.Canceled) {
			t.Errorf("Challenge on a cancelled context = %v, want context.Canceled", err)
		}
	})
	t.Run("unknown key", func(t *testing.T) {
		k := hsmcheck.Key{ID: "ffff", Class: hsmcheck.Secret}
		if _, err := inv.Challenge(context.Background(), k); err == nil || errors.Is(err, hsmcheck.ErrUnsupported) {
			t.Errorf("Challenge of a missing key = %v, want a not-found error", err)
		}
	})
}
