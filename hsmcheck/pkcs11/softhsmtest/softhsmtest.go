package softhsmtest

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/asn1"
	"encoding/hex"
	"fmt"
	"math/big"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	p11 "github.com/miekg/pkcs11"

	"github.com/keywarden/keywarden/hsmcheck/pkcs11/internal/p11mod"
)

// Environment variables the helper reads.
const (
	// RequireToolsEnv set to 1 turns a missing SoftHSM2 from a skip into a failure (CI).
	RequireToolsEnv = "KEYWARDEN_REQUIRE_TOOLS"
	// ModuleEnv names libsofthsm2.so when it is not in a usual place.
	ModuleEnv = "KEYWARDEN_SOFTHSM2_MODULE"
	// PINEnv is where the pkcs11 backend's Open looks for the PIN; UsePINEnv sets it.
	PINEnv = "KEYWARDEN_PKCS11_PIN"
)

// modulePaths are where distributions install libsofthsm2.so.
var modulePaths = []string{
	"/usr/lib/softhsm/libsofthsm2.so",
	"/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
	"/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
	"/usr/lib64/pkcs11/libsofthsm2.so",
	"/usr/lib64/softhsm/libsofthsm2.so",
	"/usr/lib/pkcs11/libsofthsm2.so",
	"/usr/local/lib/softhsm/libsofthsm2.so",
	"/opt/homebrew/lib/softhsm/libsofthsm2.so",
}

// Token is a SoftHSM2 token initialised for one test.
type Token struct {
	Module string // path of libsofthsm2.so
	Label  string // token label, random
	PIN    string // user PIN, random
	SOPIN  string // security officer PIN, random
	Conf   string // the softhsm2.conf SOFTHSM2_CONF names while the test runs
	Dir    string // the token directory Conf names

	util string // path of softhsm2-util
}

// confs maps every softhsm2.conf New wrote to its token directory.
var confs sync.Map

// New initialises a token with a random label and PINs. It skips the test when softhsm2-util or
// libsofthsm2.so is missing, unless $KEYWARDEN_REQUIRE_TOOLS is 1. It points SOFTHSM2_CONF (with
// t.Setenv, so the test must not be parallel) at a configuration whose token directory is a
// temporary one; a subtest's New adds its token to the configuration its parent's New set up,
// so that both tokens are visible. SoftHSM reads the configuration and finds tokens only when it
// is initialised, so New fails while a pkcs11 Inventory or a helper call holds the module.
func New(t testing.TB) *Token {
	t.Helper()
	util, err := exec.LookPath("softhsm2-util")
	if err != nil {
		missing(t, "softhsm2-util is not on PATH")
	}
	mod := findModule()
	if mod == "" {
		missing(t, "libsofthsm2.so not found; set "+ModuleEnv)
	}
	if p11mod.InUse(mod) {
		t.Fatalf("softhsmtest: %s is initialised in this process (a pkcs11 Inventory left open?); SoftHSM would not see a new token", mod)
	}
	tk := &Token{Module: mod, util: util, Label: "kw-" + randHex(t, 6), PIN: randHex(t, 8), SOPIN: randHex(t, 8)}
	tk.Conf, tk.Dir = conf(t)
	tk.run(t, "--init-token", "--free", "--label", tk.Label, "--so-pin", tk.SOPIN, "--pin", tk.PIN)
	return tk
}

func missing(t testing.TB, why string) {
	t.Helper()
	if os.Getenv(RequireToolsEnv) == "1" {
		t.Fatalf("softhsmtest: %s (and %s=1)", why, RequireToolsEnv)
	}
	t.Skipf("softhsmtest: %s", why)
}

func findModule() string {
	if p := os.Getenv(ModuleEnv); p != "" {
		return p
	}
	for _, p := range modulePaths {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// conf returns the configuration the current SOFTHSM2_CONF names when New wrote it, else a new
// one under t.TempDir, which it makes current.
func conf(t testing.TB) (string, string) {
	if cur := os.Getenv("SOFTHSM2_CONF"); cur != "" {
		if dir, ok := confs.Load(cur); ok {
			if _, err := os.Stat(cur); err == nil {
				return cur, dir.(string)
			}
		}
	}
	base := t.TempDir()
	dir := filepath.Join(base, "tokens")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	c := filepath.Join(base, "softhsm2.conf")
	text := "directories.tokendir = " + dir + "\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n"
	if err := os.WriteFile(c, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	confs.Store(c, dir)
	t.Setenv("SOFTHSM2_CONF", c)
	return c, dir
}

func randHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// run runs softhsm2-util on this token's configuration. Its arguments hold PINs, so failures
// name only the action.
func (tk *Token) run(t testing.TB, args ...string) {
	t.Helper()
	cmd := exec.Command(tk.util, args...)
	cmd.Env = append(os.Environ(), "SOFTHSM2_CONF="+tk.Conf)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("softhsm2-util %s: %v\n%s", args[0], err, out)
	}
}

// URI returns the inventory URI of the token: pkcs11:MODULE?token=LABEL.
func (tk *Token) URI() string {
	return "pkcs11:" + tk.Module + "?token=" + url.QueryEscape(tk.Label)
}

// PINFile writes the user PIN to a file only the owner may read and returns its path.
func (tk *Token) PINFile(t testing.TB) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "pin")
	if err := os.WriteFile(p, []byte(tk.PIN+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// UsePINEnv sets $KEYWARDEN_PKCS11_PIN to the user PIN for the rest of the test.
func (tk *Token) UsePINEnv(t testing.TB) {
	t.Setenv(PINEnv, tk.PIN)
}

// Session runs f in a read-write session logged in as the user, for what the other helpers do
// not cover: objects with templates of the test's own, reading attributes back, or operating
// with a key. It works while a pkcs11 Inventory on the token is open, sharing its module and
// login.
func (tk *Token) Session(t testing.TB, f func(c *p11.Ctx, sh p11.SessionHandle)) {
	t.Helper()
	tk.with(t, f)
}

// with runs f in a read-write session logged in as the user. It initialises the module only if
// nothing in the process holds it, and then finalizes it again before returning, so that the
// next test's SOFTHSM2_CONF is read.
func (tk *Token) with(t testing.TB, f func(c *p11.Ctx, sh p11.SessionHandle)) {
	t.Helper()
	if cur := os.Getenv("SOFTHSM2_CONF"); cur != tk.Conf {
		t.Fatalf("softhsmtest: SOFTHSM2_CONF is %q, not this token's %q", cur, tk.Conf)
	}
	m, err := p11mod.Acquire(tk.Module)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := m.Release(); err != nil {
			t.Error(err)
		}
	}()
	slot, ok := tk.slot(m)
	if !ok {
		t.Fatalf("softhsmtest: token %q is not among the module's tokens (a pkcs11 Inventory from another test still open?)", tk.Label)
	}
	sh, err := m.OpenSession(slot, p11.CKF_SERIAL_SESSION|p11.CKF_RW_SESSION)
	if err != nil {
		t.Fatalf("softhsmtest: opening session: %v", err)
	}
	defer m.CloseSession(sh)
	if err := m.Login(sh, slot, tk.PIN); err != nil {
		t.Fatalf("softhsmtest: logging in: %v", err)
	}
	f(m.Ctx, sh)
}

func (tk *Token) slot(m *p11mod.Module) (uint, bool) {
	slots, err := m.GetSlotList(true)
	if err != nil {
		return 0, false
	}
	for _, s := range slots {
		if ti, err := m.GetTokenInfo(s); err == nil && strings.TrimRight(ti.Label, " ") == tk.Label {
			return s, true
		}
	}
	return 0, false
}

func attrs(c *p11.Ctx, sh p11.SessionHandle, o p11.ObjectHandle, types ...uint) (map[uint][]byte, error) {
	tmpl := make([]*p11.Attribute, len(types))
	for i, t := range types {
		tmpl[i] = p11.NewAttribute(t, nil)
	}
	got, err := c.GetAttributeValue(sh, o, tmpl)
	if err != nil {
		return nil, err
	}
	out := map[uint][]byte{}
	for _, a := range got {
		out[a.Type] = a.Value
	}
	return out, nil
}

// pairTemplates returns the templates of a generated pair: token objects with the label and id,
// every usage flag explicit (SoftHSM sets the ones a template leaves out), the private half
// readable (CKA_SENSITIVE false, CKA_EXTRACTABLE true) so the test can plant it where the
// scanner looks. The pair may sign and verify; an RSA pair may also encrypt and decrypt.
func pairTemplates(label string, id []byte, rsa bool) (pub, priv []*p11.Attribute) {
	pub = []*p11.Attribute{
		p11.NewAttribute(p11.CKA_TOKEN, true),
		p11.NewAttribute(p11.CKA_LABEL, label),
		p11.NewAttribute(p11.CKA_ID, id),
		p11.NewAttribute(p11.CKA_VERIFY, true),
		p11.NewAttribute(p11.CKA_ENCRYPT, rsa),
		p11.NewAttribute(p11.CKA_WRAP, false),
		p11.NewAttribute(p11.CKA_DERIVE, false),
	}
	priv = []*p11.Attribute{
		p11.NewAttribute(p11.CKA_TOKEN, true),
		p11.NewAttribute(p11.CKA_PRIVATE, true),
		p11.NewAttribute(p11.CKA_LABEL, label),
		p11.NewAttribute(p11.CKA_ID, id),
		p11.NewAttribute(p11.CKA_SIGN, true),
		p11.NewAttribute(p11.CKA_DECRYPT, rsa),
		p11.NewAttribute(p11.CKA_UNWRAP, false),
		p11.NewAttribute(p11.CKA_DERIVE, false),
		p11.NewAttribute(p11.CKA_SENSITIVE, false),
		p11.NewAttribute(p11.CKA_EXTRACTABLE, true),
	}
	return pub, priv
}

// GenerateRSA generates an RSA key pair in the token (a private and a public object) and reads
// the private numbers back.
func (tk *Token) GenerateRSA(t testing.TB, label string, id []byte, bits int) *rsa.PrivateKey {
	t.Helper()
	var key *rsa.PrivateKey
	tk.with(t, func(c *p11.Ctx, sh p11.SessionHandle) {
		pub, priv := pairTemplates(label, id, true)
		pub = append(pub,
			p11.NewAttribute(p11.CKA_MODULUS_BITS, bits),
			p11.NewAttribute(p11.CKA_PUBLIC_EXPONENT, []byte{1, 0, 1}))
		_, ph, err := c.GenerateKeyPair(sh, []*p11.Mechanism{p11.NewMechanism(p11.CKM_RSA_PKCS_KEY_PAIR_GEN, nil)}, pub, priv)
		if err != nil {
			t.Fatalf("softhsmtest: generating RSA-%d: %v", bits, err)
		}
		a, err := attrs(c, sh, ph, p11.CKA_MODULUS, p11.CKA_PUBLIC_EXPONENT, p11.CKA_PRIVATE_EXPONENT, p11.CKA_PRIME_1, p11.CKA_PRIME_2)
		if err != nil {
			t.Fatalf("softhsmtest: reading the RSA private key back: %v", err)
		}
		n := func(t uint) *big.Int { return new(big.Int).SetBytes(a[t]) }
		key = &rsa.PrivateKey{
			PublicKey: rsa.PublicKey{N: n(p11.CKA_MODULUS), E: int(n(p11.CKA_PUBLIC_EXPONENT).Int64())},
			D:         n(p11.CKA_PRIVATE_EXPONENT),
			Primes:    []*big.Int{n(p11.CKA_PRIME_1), n(p11.CKA_PRIME_2)},
		}
		key.Precompute()
		if err := key.Validate(); err != nil {
			t.Fatalf("softhsmtest: the RSA key read back is invalid: %v", err)
		}
	})
	return key
}

// CreatePublic creates a lone public key object, with no private key on the token, from an
// *rsa.PublicKey or an *ecdsa.PublicKey. It may verify.
func (tk *Token) CreatePublic(t testing.TB, label string, id []byte, pub crypto.PublicKey) {
	t.Helper()
	tmpl := []*p11.Attribute{
		p11.NewAttribute(p11.CKA_CLASS, p11.CKO_PUBLIC_KEY),
		p11.NewAttribute(p11.CKA_TOKEN, true),
		p11.NewAttribute(p11.CKA_LABEL, label),
		p11.NewAttribute(p11.CKA_ID, id),
		p11.NewAttribute(p11.CKA_VERIFY, true),
		p11.NewAttribute(p11.CKA_ENCRYPT, false),
		p11.NewAttribute(p11.CKA_WRAP, false),
		p11.NewAttribute(p11.CKA_DERIVE, false),
	}
	switch k := pub.(type) {
	case *rsa.PublicKey:
		tmpl = append(tmpl,
			p11.NewAttribute(p11.CKA_KEY_TYPE, p11.CKK_RSA),
			p11.NewAttribute(p11.CKA_MODULUS, k.N.Bytes()),
			p11.NewAttribute(p11.CKA_PUBLIC_EXPONENT, big.NewInt(int64(k.E)).Bytes()))
	case *ecdsa.PublicKey:
		oid, ok := curveOIDs[k.Curve.Params().Name]
		raw, err := k.Bytes()
		if !ok || err != nil {
			t.Fatalf("softhsmtest: curve %s is not supported", k.Curve.Params().Name)
		}
		params, _ := asn1.Marshal(oid)
		point, _ := asn1.Marshal(raw)
		tmpl = append(tmpl,
			p11.NewAttribute(p11.CKA_KEY_TYPE, p11.CKK_EC),
			p11.NewAttribute(p11.CKA_EC_PARAMS, params),
			p11.NewAttribute(p11.CKA_EC_POINT, point))
	default:
		t.Fatalf("softhsmtest: CreatePublic does not take a %T", pub)
	}
	tk.with(t, func(c *p11.Ctx, sh p11.SessionHandle) {
		if _, err := c.CreateObject(sh, tmpl); err != nil {
			t.Fatalf("softhsmtest: creating public key %q: %v", label, err)
		}
	})
}

// curveOIDs are the named curves GenerateEC knows.
var curveOIDs = map[string]asn1.ObjectIdentifier{
	"P-224": {1, 3, 132, 0, 33},
	"P-256": {1, 2, 840, 10045, 3, 1, 7},
	"P-384": {1, 3, 132, 0, 34},
	"P-521": {1, 3, 132, 0, 35},
}

// GenerateEC generates an EC key pair on a NIST curve in the token and reads the private scalar
// back.
func (tk *Token) GenerateEC(t testing.TB, label string, id []byte, curve elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	oid, ok := curveOIDs[curve.Params().Name]
	if !ok {
		t.Fatalf("softhsmtest: curve %s is not supported", curve.Params().Name)
	}
	params, _ := asn1.Marshal(oid)
	var key *ecdsa.PrivateKey
	tk.with(t, func(c *p11.Ctx, sh p11.SessionHandle) {
		pub, priv := pairTemplates(label, id, false)
		pub = append(pub, p11.NewAttribute(p11.CKA_EC_PARAMS, params))
		pubH, privH, err := c.GenerateKeyPair(sh, []*p11.Mechanism{p11.NewMechanism(p11.CKM_EC_KEY_PAIR_GEN, nil)}, pub, priv)
		if err != nil {
			t.Fatalf("softhsmtest: generating EC %s: %v", curve.Params().Name, err)
		}
		d, point := readBack(t, c, sh, privH, pubH)
		size := (curve.Params().BitSize + 7) / 8
		if len(d) > size {
			t.Fatalf("softhsmtest: EC private value is %d bytes, want at most %d", len(d), size)
		}
		key, err = ecdsa.ParseRawPrivateKey(curve, append(make([]byte, size-len(d)), d...))
		if err != nil {
			t.Fatalf("softhsmtest: parsing the EC key read back: %v", err)
		}
		if b, err := key.PublicKey.Bytes(); err != nil || !bytes.Equal(b, point) {
			t.Fatalf("softhsmtest: the EC private key read back does not match the public object")
		}
	})
	return key
}

// ckmECEdwardsKeyPairGen is PKCS#11 v3.0's CKM_EC_EDWARDS_KEY_PAIR_GEN.
const ckmECEdwardsKeyPairGen = 0x1055

// GenerateEd25519 generates an Ed25519 key pair (CKK_EC_EDWARDS) in the token and reads the
// private key back. It skips the test when the SoftHSM build has no EdDSA.
func (tk *Token) GenerateEd25519(t testing.TB, label string, id []byte) ed25519.PrivateKey {
	t.Helper()
	params, _ := asn1.Marshal(asn1.ObjectIdentifier{1, 3, 101, 112})
	var key ed25519.PrivateKey
	tk.with(t, func(c *p11.Ctx, sh p11.SessionHandle) {
		pub, priv := pairTemplates(label, id, false)
		pub = append(pub, p11.NewAttribute(p11.CKA_EC_PARAMS, params))
		pubH, privH, err := c.GenerateKeyPair(sh, []*p11.Mechanism{p11.NewMechanism(ckmECEdwardsKeyPairGen, nil)}, pub, priv)
		if p11mod.Is(err, p11.CKR_MECHANISM_INVALID) {
			t.Skip("softhsmtest: this SoftHSM has no EdDSA")
		}
		if err != nil {
			t.Fatalf("softhsmtest: generating Ed25519: %v", err)
		}
		seed, point := readBack(t, c, sh, privH, pubH)
		if len(seed) != ed25519.SeedSize {
			t.Fatalf("softhsmtest: Ed25519 private value is %d bytes, want %d", len(seed), ed25519.SeedSize)
		}
		key = ed25519.NewKeyFromSeed(seed)
		if !bytes.Equal(key.Public().(ed25519.PublicKey), point) {
			t.Fatalf("softhsmtest: the Ed25519 private key read back does not match the public object")
		}
	})
	return key
}

// readBack returns CKA_VALUE of a private object and the unwrapped CKA_EC_POINT of its public
// object.
func readBack(t testing.TB, c *p11.Ctx, sh p11.SessionHandle, priv, pub p11.ObjectHandle) (value, point []byte) {
	t.Helper()
	a, err := attrs(c, sh, priv, p11.CKA_VALUE)
	if err != nil {
		t.Fatalf("softhsmtest: reading the private value back: %v", err)
	}
	p, err := attrs(c, sh, pub, p11.CKA_EC_POINT)
	if err != nil {
		t.Fatalf("softhsmtest: reading CKA_EC_POINT: %v", err)
	}
	point = p[p11.CKA_EC_POINT]
	var inner []byte
	if rest, err := asn1.Unmarshal(point, &inner); err == nil && len(rest) == 0 {
		point = inner
	}
	return a[p11.CKA_VALUE], point
}

// ImportPEM imports a PKCS#8 PEM private key with softhsm2-util --import --no-public-key, so the
// token holds the private object only, as many real imports leave it.
func (tk *Token) ImportPEM(t testing.TB, label string, id []byte, pkcs8PEMPath string) {
	t.Helper()
	tk.run(t, "--import", pkcs8PEMPath, "--token", tk.Label, "--label", label, "--id", hex.EncodeToString(id), "--pin", tk.PIN, "--no-public-key")
}

// secret creates a secret key object with the given usage flags set and every other one clear.
// It is not a CKA_PRIVATE object: SoftHSM 2.6 cannot read back a CKA_START_DATE or CKA_END_DATE
// set on one (softhsm/SoftHSMv2#655, #804), and Deactivate and SetDates must show.
func (tk *Token) secret(t testing.TB, keyType uint, label string, id, value []byte, set ...uint) {
	t.Helper()
	tmpl := []*p11.Attribute{
		p11.NewAttribute(p11.CKA_CLASS, p11.CKO_SECRET_KEY),
		p11.NewAttribute(p11.CKA_KEY_TYPE, keyType),
		p11.NewAttribute(p11.CKA_TOKEN, true),
		p11.NewAttribute(p11.CKA_PRIVATE, false),
		p11.NewAttribute(p11.CKA_LABEL, label),
		p11.NewAttribute(p11.CKA_ID, id),
		p11.NewAttribute(p11.CKA_VALUE, value),
		p11.NewAttribute(p11.CKA_SENSITIVE, true),
		p11.NewAttribute(p11.CKA_EXTRACTABLE, false),
	}
	for _, f := range usageFlags {
		on := false
		for _, s := range set {
			on = on || s == f
		}
		tmpl = append(tmpl, p11.NewAttribute(f, on))
	}
	tk.with(t, func(c *p11.Ctx, sh p11.SessionHandle) {
		if _, err := c.CreateObject(sh, tmpl); err != nil {
			t.Fatalf("softhsmtest: creating secret key %q: %v", label, err)
		}
	})
}

// CreateAES creates an AES key with the given value that may encrypt and decrypt, sensitive and
// not extractable.
func (tk *Token) CreateAES(t testing.TB, label string, id, value []byte) {
	t.Helper()
	tk.secret(t, p11.CKK_AES, label, id, value, p11.CKA_ENCRYPT, p11.CKA_DECRYPT)
}

// CreateGenericSecret creates a generic secret (an HMAC key) with the given value that may sign
// and verify, sensitive and not extractable.
func (tk *Token) CreateGenericSecret(t testing.TB, label string, id, value []byte) {
	t.Helper()
	tk.secret(t, p11.CKK_GENERIC_SECRET, label, id, value, p11.CKA_SIGN, p11.CKA_VERIFY)
}

// usageFlags are every usage attribute Disable clears.
var usageFlags = []uint{p11.CKA_SIGN, p11.CKA_VERIFY, p11.CKA_ENCRYPT, p11.CKA_DECRYPT, p11.CKA_WRAP, p11.CKA_UNWRAP, p11.CKA_DERIVE}

// Deactivate retires every object with CKA_ID id: CKA_END_DATE becomes yesterday (UTC) and
// every usage flag but CKA_VERIFY is cleared where the object has it (CKA_SIGN, CKA_DECRYPT,
// CKA_ENCRYPT, CKA_WRAP, and CKA_UNWRAP and CKA_DERIVE too). SoftHSM accepts all of it, but
// cannot read the end date back from a CKA_PRIVATE object (softhsm/SoftHSMv2#655, #804): a key
// pair shows it through its public object, an imported key without one reads as disabled,
// through its cleared flags, rather than deactivated.
func (tk *Token) Deactivate(t testing.TB, id []byte) {
	t.Helper()
	yesterday := time.Now().UTC().AddDate(0, 0, -1)
	tk.set(t, id, []*p11.Attribute{p11.NewAttribute(p11.CKA_END_DATE, date(yesterday))},
		p11.CKA_SIGN, p11.CKA_DECRYPT, p11.CKA_ENCRYPT, p11.CKA_WRAP, p11.CKA_UNWRAP, p11.CKA_DERIVE)
}

// Disable clears every usage flag (CKA_SIGN … CKA_DERIVE) of every object with CKA_ID id and
// leaves the dates alone.
func (tk *Token) Disable(t testing.TB, id []byte) {
	t.Helper()
	tk.set(t, id, nil, usageFlags...)
}

// SetDates sets CKA_START_DATE and CKA_END_DATE (as UTC dates) of every object with CKA_ID id;
// a zero time leaves that date alone. The caveat of Deactivate about CKA_PRIVATE objects
// applies.
func (tk *Token) SetDates(t testing.TB, id []byte, start, end time.Time) {
	t.Helper()
	var attrs []*p11.Attribute
	if !start.IsZero() {
		attrs = append(attrs, p11.NewAttribute(p11.CKA_START_DATE, date(start)))
	}
	if !end.IsZero() {
		attrs = append(attrs, p11.NewAttribute(p11.CKA_END_DATE, date(end)))
	}
	tk.set(t, id, attrs)
}

// date encodes a CK_DATE.
func date(d time.Time) []byte {
	return []byte(d.UTC().Format("20060102"))
}

// set sets attrs on every object with CKA_ID id and clears the flags in clear, skipping flags
// an object's class does not have (CKR_ATTRIBUTE_TYPE_INVALID). Anything else the token refuses
// fails the test.
func (tk *Token) set(t testing.TB, id []byte, attrs []*p11.Attribute, clear ...uint) {
	t.Helper()
	tk.with(t, func(c *p11.Ctx, sh p11.SessionHandle) {
		if err := c.FindObjectsInit(sh, []*p11.Attribute{p11.NewAttribute(p11.CKA_ID, id)}); err != nil {
			t.Fatalf("softhsmtest: finding objects: %v", err)
		}
		hs, _, err := c.FindObjects(sh, 1000)
		_ = c.FindObjectsFinal(sh)
		if err != nil {
			t.Fatalf("softhsmtest: finding objects: %v", err)
		}
		if len(hs) == 0 {
			t.Fatalf("softhsmtest: no object has CKA_ID %x", id)
		}
		for _, h := range hs {
			for _, a := range attrs {
				if err := c.SetAttributeValue(sh, h, []*p11.Attribute{a}); err != nil {
					t.Fatalf("softhsmtest: setting attribute 0x%x on object %d: %v", a.Type, h, err)
				}
			}
			for _, f := range clear {
				err := c.SetAttributeValue(sh, h, []*p11.Attribute{p11.NewAttribute(f, false)})
				if err != nil && !p11mod.Is(err, p11.CKR_ATTRIBUTE_TYPE_INVALID) {
					t.Fatalf("softhsmtest: clearing attribute 0x%x on object %d: %v", f, h, err)
				}
			}
		}
	})
}

// String describes the token without its PINs.
func (tk *Token) String() string {
	return fmt.Sprintf("SoftHSM token %q (%s)", tk.Label, tk.Conf)
}
