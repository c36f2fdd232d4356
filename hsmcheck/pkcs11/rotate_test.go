package pkcs11_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/aes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	p11 "github.com/miekg/pkcs11"

	"github.com/keywarden/keywarden/hsmcheck"
	"github.com/keywarden/keywarden/hsmcheck/pkcs11"
	"github.com/keywarden/keywarden/hsmcheck/pkcs11/internal/p11mod"
	"github.com/keywarden/keywarden/hsmcheck/pkcs11/softhsmtest"
	"github.com/keywarden/keywarden/hsmcheck/rotatetest"
)

// rotationFixture runs the rotation contract on a fresh token, making each key to rotate with
// create.
func rotationFixture(create func(tok *softhsmtest.Token, t *testing.T, label string, id []byte)) func(t *testing.T) rotatetest.Fixture {
	return func(t *testing.T) rotatetest.Fixture {
		tok := softhsmtest.New(t)
		n := 0
		return rotatetest.Fixture{
			Open: func(t *testing.T) hsmcheck.Inventory { return open(t, tok.URI(), tok.PIN) },
			NewKey: func(t *testing.T) (string, int) {
				n++
				id := []byte{0xa0, byte(n)}
				create(tok, t, fmt.Sprintf("key-%d", n), id)
				return hex.EncodeToString(id), 0
			},
		}
	}
}

func TestRotationContract(t *testing.T) {
	tests := []struct {
		name    string
		fixture func(t *testing.T) rotatetest.Fixture
		short   bool
		reason  hsmcheck.Reason
	}{
		{"RSA pair", rotationFixture(func(tok *softhsmtest.Token, t *testing.T, label string, id []byte) {
			tok.GenerateRSA(t, label, id, 1024)
		}), false, hsmcheck.ReasonCompromise},
		{"AES", rotationFixture(func(tok *softhsmtest.Token, t *testing.T, label string, id []byte) {
			tok.CreateAES(t, label, id, randBytes(t, 32))
		}), false, hsmcheck.ReasonScheduled},
		{"EC pair", rotationFixture(func(tok *softhsmtest.Token, t *testing.T, label string, id []byte) {
			tok.GenerateEC(t, label, id, elliptic.P384())
		}), true, hsmcheck.ReasonPersonnel},
		{"generic secret", rotationFixture(func(tok *softhsmtest.Token, t *testing.T, label string, id []byte) {
			tok.CreateGenericSecret(t, label, id, randBytes(t, 32))
		}), true, hsmcheck.ReasonCompromise},
		{"Ed25519 pair", rotationFixture(func(tok *softhsmtest.Token, t *testing.T, label string, id []byte) {
			tok.GenerateEd25519(t, label, id)
		}), true, hsmcheck.ReasonCompromise},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.fixture(t)
			f.Short, f.Reason = tt.short, tt.reason
			rotatetest.Run(t, f)
		})
	}
}

// listKeys lists inv by Key.ID.
func listKeys(t *testing.T, inv hsmcheck.Inventory) map[string]hsmcheck.Key {
	t.Helper()
	out := map[string]hsmcheck.Key{}
	if err := inv.Keys(context.Background(), func(k hsmcheck.Key) error { out[k.ID] = k; return nil }); err != nil {
		t.Fatalf("listing keys: %v", err)
	}
	return out
}

func keyByID(t *testing.T, inv hsmcheck.Inventory, id string) hsmcheck.Key {
	t.Helper()
	k, ok := listKeys(t, inv)[id]
	if !ok {
		t.Fatalf("key %s is not listed", id)
	}
	return k
}

// rotation is one rotation run to its end or its first failure.
type rotation struct {
	plan     *hsmcheck.Plan
	journal  string // path
	outcomes []string
	err      error
}

// rotate plans the rotation of key id and runs it with a journal in a temporary directory.
func rotate(t *testing.T, inv *pkcs11.Inventory, id string) rotation {
	t.Helper()
	p, err := inv.PlanRotation(context.Background(), keyByID(t, inv, id), hsmcheck.ReasonCompromise)
	if err != nil {
		t.Fatalf("planning rotation of %s: %v", id, err)
	}
	j, err := hsmcheck.CreateJournal(t.TempDir(), p)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	err = hsmcheck.Run(context.Background(), inv, j, hsmcheck.RunOptions{
		Progress: func(_ int, s hsmcheck.Step, outcome string) { t.Logf("%s: %s", s.Name, outcome) },
	})
	return rotation{plan: j.Plan(), journal: j.Progress().Path, outcomes: j.Progress().Outcomes, err: err}
}

func mustRotate(t *testing.T, inv *pkcs11.Inventory, id string) rotation {
	t.Helper()
	r := rotate(t, inv, id)
	if r.err != nil {
		t.Fatalf("rotating %s: %v", id, r.err)
	}
	return r
}

func today() time.Time {
	y, m, d := time.Now().UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func TestRotationPlan(t *testing.T) {
	tok := softhsmtest.New(t)
	tok.GenerateRSA(t, "sign", []byte{0x01}, 1024)
	tok.CreateAES(t, "sign.v2", []byte{0x02}, randBytes(t, 16)) // takes the first versioned label
	tok.CreateAES(t, "data", []byte{0x03}, randBytes(t, 32))
	tok.GenerateEC(t, "ec", []byte{0x04}, elliptic.P384())
	tok.GenerateEd25519(t, "ed", []byte{0x05})
	tok.CreateGenericSecret(t, "mac", []byte{0x06}, randBytes(t, 32))
	tok.CreateAES(t, "unnamed", nil, randBytes(t, 16))
	rsaImp, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	tok.ImportPEM(t, "imported", []byte{0x07}, writePKCS8(t, rsaImp))
	lone, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tok.CreatePublic(t, "public-only", []byte{0x08}, &lone.PublicKey)
	tok.Session(t, func(c *p11.Ctx, sh p11.SessionHandle) {
		_, err := c.CreateObject(sh, []*p11.Attribute{
			p11.NewAttribute(p11.CKA_CLASS, p11.CKO_SECRET_KEY),
			p11.NewAttribute(p11.CKA_KEY_TYPE, p11.CKK_SHA256_HMAC),
			p11.NewAttribute(p11.CKA_TOKEN, true),
			p11.NewAttribute(p11.CKA_LABEL, "hmac-type"),
			p11.NewAttribute(p11.CKA_ID, []byte{0x09}),
			p11.NewAttribute(p11.CKA_VALUE, randBytes(t, 32)),
			p11.NewAttribute(p11.CKA_SIGN, true),
		})
		if err != nil {
			t.Fatalf("creating an HMAC-SHA256 key: %v", err)
		}
	})
	tok.CreateAES(t, "retired", []byte{0x0a}, randBytes(t, 16))
	tok.Deactivate(t, []byte{0x0a})

	inv := open(t, tok.URI(), tok.PIN)
	before := listKeys(t, inv)
	tests := []struct {
		name      string
		id        string
		label     string   // the replacement's
		actions   []string // in the generate and retire actions, in order
		oldKey    string
		followUps []string // each in one of Plan.FollowUps
		err       error
	}{
		{
			name:  "RSA pair, first versioned label taken",
			id:    "01",
			label: "sign.v3",
			actions: []string{
				`generate a new RSA-1024 key pair labelled "sign.v3" with CKA_ID {newid} on token "{token}", whose private key may sign, sign-recover and decrypt and public key may verify, verify-recover and encrypt; both CKA_TOKEN true, the private key CKA_PRIVATE and CKA_SENSITIVE true, CKA_EXTRACTABLE false`,
				`take sign (01) out of use for new operations: set CKA_END_DATE to {today} and clear CKA_SIGN and CKA_SIGN_RECOVER on the private key; set CKA_END_DATE to {today} and clear CKA_ENCRYPT on the public key; each attribute separately, reporting what the token refuses; never destroy it`,
			},
			oldKey:    "kept on the token for verify and decrypt; CKA_END_DATE set to {today} and sign/sign-recover/encrypt cleared where the token allows; never destroyed",
			followUps: []string{`CKA_LABEL "sign" or CKA_ID 01 at the replacement: CKA_LABEL "sign.v3", CKA_ID {newid}`, "certificate for the replacement's public key", "cannot mark a key compromised"},
		},
		{
			name:  "AES key",
			id:    "03",
			label: "data.v2",
			actions: []string{
				`generate a new AES-256 key labelled "data.v2" with CKA_ID {newid} on token "{token}" that may encrypt and decrypt; CKA_TOKEN, CKA_PRIVATE and CKA_SENSITIVE true, CKA_EXTRACTABLE false`,
				`take data (03) out of use for new operations: set CKA_END_DATE to {today} and clear CKA_ENCRYPT on the secret key;`,
			},
			oldKey:    "kept on the token for decrypt; CKA_END_DATE set to {today} and encrypt cleared",
			followUps: []string{`CKA_LABEL "data" or CKA_ID 03 at the replacement: CKA_LABEL "data.v2", CKA_ID {newid}`},
		},
		{
			name:    "EC pair",
			id:      "04",
			label:   "ec.v2",
			actions: []string{`generate a new EC-P384 key pair labelled "ec.v2"`, `clear CKA_SIGN and CKA_SIGN_RECOVER on the private key; set CKA_END_DATE to {today} on the public key;`},
			oldKey:  "kept on the token for verify;",
		},
		{
			name:    "Ed25519 pair",
			id:      "05",
			label:   "ed.v2",
			actions: []string{`generate a new Ed25519 key pair labelled "ed.v2"`, "clear CKA_SIGN and CKA_SIGN_RECOVER on the private key"},
			oldKey:  "kept on the token for verify;",
		},
		{
			name:    "generic secret",
			id:      "06",
			label:   "mac.v2",
			actions: []string{`generate a new GENERIC-SECRET-32 key labelled "mac.v2" with CKA_ID {newid} on token "{token}" that may sign and verify;`, "set CKA_END_DATE to {today} and clear CKA_SIGN on the secret key"},
			oldKey:  "kept on the token for verify; CKA_END_DATE set to {today} and sign cleared",
		},
		{
			name:      "key without a CKA_ID",
			id:        "label:unnamed",
			label:     "unnamed.v2",
			actions:   []string{`generate a new AES-128 key labelled "unnamed.v2"`, "take unnamed (label:unnamed) out of use"},
			followUps: []string{`find the key by CKA_LABEL "unnamed" at the replacement`},
		},
		{
			name:      "imported private key without its public object",
			id:        "07",
			label:     "imported.v2",
			actions:   []string{`generate a new RSA-1024 key pair labelled "imported.v2" with CKA_ID {newid} on token "{token}", whose private key may sign, sign-recover, decrypt and unwrap and public key may verify, verify-recover, encrypt and wrap`, "clear CKA_SIGN and CKA_SIGN_RECOVER on the private key; each"},
			oldKey:    "kept on the token for decrypt and unwrap;",
			followUps: []string{"softhsm/SoftHSMv2#655", "which keeps decrypt and unwrap, may still list as in use"},
		},
		{name: "lone public key", id: "08", err: hsmcheck.ErrUnsupported},
		{name: "HMAC key type", id: "09", err: hsmcheck.ErrUnsupported},
		{name: "key out of use already", id: "0a", err: hsmcheck.ErrRetired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := inv.PlanRotation(context.Background(), before[tt.id], hsmcheck.ReasonCompromise)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("PlanRotation = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("PlanRotation: %v", err)
			}
			newID := p.State[hsmcheck.StateNewID]
			if newID != p.ID || p.State[hsmcheck.StateNewLabel] != tt.label {
				t.Errorf("new id, label = %q, %q; want the plan's ID %q and %q", newID, p.State[hsmcheck.StateNewLabel], p.ID, tt.label)
			}
			if _, taken := before[newID]; taken {
				t.Errorf("the new CKA_ID %s is taken", newID)
			}
			var names []string
			for _, s := range p.Steps {
				names = append(names, s.Name)
			}
			if diff := cmp.Diff([]string{"generate-replacement", "retire-old"}, names); diff != "" {
				t.Fatalf("steps (-want +got):\n%s", diff)
			}
			fill := strings.NewReplacer("{newid}", newID, "{token}", tok.Label, "{today}", today().Format(time.DateOnly)).Replace
			for i, want := range tt.actions {
				if !strings.Contains(p.Steps[i].Action, fill(want)) {
					t.Errorf("step %s action\n%s\ndoes not contain\n%s", p.Steps[i].Name, p.Steps[i].Action, fill(want))
				}
			}
			if !strings.HasPrefix(p.OldKey, fill(tt.oldKey)) {
				t.Errorf("OldKey = %q, want it to start with %q", p.OldKey, fill(tt.oldKey))
			}
			for _, want := range tt.followUps {
				if !slices.ContainsFunc(p.FollowUps, func(f string) bool { return strings.Contains(f, fill(want)) }) {
					t.Errorf("no follow-up mentions %q in %q", fill(want), p.FollowUps)
				}
			}
			if !slices.ContainsFunc(p.FollowUps, func(f string) bool { return strings.Contains(f, `CKA_LABEL "`+tt.label+`"`) }) {
				t.Errorf("no follow-up names the new label: %q", p.FollowUps)
			}
		})
	}
	if diff := cmp.Diff(before, listKeys(t, inv)); diff != "" {
		t.Errorf("planning changed the token (-before +after):\n%s", diff)
	}
}

// flagAttrs are the attributes TestRotatedAttributes compares between the old key and its
// replacement, as they were before the rotation.
var flagAttrs = []uint{p11.CKA_SIGN, p11.CKA_SIGN_RECOVER, p11.CKA_VERIFY, p11.CKA_VERIFY_RECOVER, p11.CKA_ENCRYPT, p11.CKA_DECRYPT, p11.CKA_WRAP, p11.CKA_UNWRAP, p11.CKA_DERIVE}

// templateAttrs are the attributes a replacement copies from the old key, besides the flags.
var templateAttrs = []uint{p11.CKA_KEY_TYPE, p11.CKA_VALUE_LEN, p11.CKA_EC_PARAMS, p11.CKA_PUBLIC_EXPONENT}

// objectAttrs reads the attributes types of every object with CKA_ID id, by class; one the
// token does not return is left out.
func objectAttrs(t *testing.T, tok *softhsmtest.Token, id []byte, types ...uint) map[uint]map[uint][]byte {
	t.Helper()
	out := map[uint]map[uint][]byte{}
	tok.Session(t, func(c *p11.Ctx, sh p11.SessionHandle) {
		for class, h := range findByID(t, c, sh, id) {
			out[class] = map[uint][]byte{}
			for _, ty := range types {
				if a, err := c.GetAttributeValue(sh, h, []*p11.Attribute{p11.NewAttribute(ty, nil)}); err == nil {
					out[class][ty] = a[0].Value
				}
			}
		}
	})
	return out
}

// findByID returns the one object of each class with CKA_ID id.
func findByID(t *testing.T, c *p11.Ctx, sh p11.SessionHandle, id []byte) map[uint]p11.ObjectHandle {
	t.Helper()
	if err := c.FindObjectsInit(sh, []*p11.Attribute{p11.NewAttribute(p11.CKA_ID, id)}); err != nil {
		t.Fatal(err)
	}
	hs, _, err := c.FindObjects(sh, 10)
	_ = c.FindObjectsFinal(sh)
	if err != nil {
		t.Fatal(err)
	}
	out := map[uint]p11.ObjectHandle{}
	for _, h := range hs {
		a, err := c.GetAttributeValue(sh, h, []*p11.Attribute{p11.NewAttribute(p11.CKA_CLASS, nil)})
		if err != nil {
			t.Fatal(err)
		}
		var class uint
		switch v := a[0].Value; len(v) {
		case 8:
			class = uint(binary.NativeEndian.Uint64(v))
		case 4:
			class = uint(binary.NativeEndian.Uint32(v))
		default:
			t.Fatalf("CKA_CLASS of %d bytes", len(v))
		}
		if _, dup := out[class]; dup {
			t.Fatalf("two objects of class %d have CKA_ID %x", class, id)
		}
		out[class] = h
	}
	return out
}

func bits(b []byte) int { return new(big.Int).SetBytes(b).BitLen() }

func TestRotatedAttributes(t *testing.T) {
	tok := softhsmtest.New(t)
	tests := []struct {
		name    string
		id      []byte
		create  func(id []byte)
		classes []uint
	}{
		{"RSA pair", []byte{1}, func(id []byte) { tok.GenerateRSA(t, "rsa", id, 1024) }, []uint{p11.CKO_PRIVATE_KEY, p11.CKO_PUBLIC_KEY}},
		{"EC pair", []byte{2}, func(id []byte) { tok.GenerateEC(t, "ec", id, elliptic.P384()) }, []uint{p11.CKO_PRIVATE_KEY, p11.CKO_PUBLIC_KEY}},
		{"Ed25519 pair", []byte{3}, func(id []byte) { tok.GenerateEd25519(t, "ed", id) }, []uint{p11.CKO_PRIVATE_KEY, p11.CKO_PUBLIC_KEY}},
		{"AES-128", []byte{4}, func(id []byte) { tok.CreateAES(t, "aes", id, randBytes(t, 16)) }, []uint{p11.CKO_SECRET_KEY}},
		{"generic secret", []byte{5}, func(id []byte) { tok.CreateGenericSecret(t, "mac", id, randBytes(t, 24)) }, []uint{p11.CKO_SECRET_KEY}},
	}
	types := slices.Concat([]uint{p11.CKA_MODULUS}, templateAttrs, flagAttrs)
	original := map[string]map[uint]map[uint][]byte{}
	for _, tt := range tests {
		tt.create(tt.id)
		original[tt.name] = objectAttrs(t, tok, tt.id, types...)
	}
	inv := open(t, tok.URI(), tok.PIN)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustRotate(t, inv, hex.EncodeToString(tt.id))
			newID, _ := hex.DecodeString(r.plan.State[hsmcheck.StateNewID])
			got := objectAttrs(t, tok, newID, slices.Concat(types, []uint{p11.CKA_LABEL, p11.CKA_SENSITIVE, p11.CKA_EXTRACTABLE, p11.CKA_TOKEN, p11.CKA_PRIVATE})...)
			old := objectAttrs(t, tok, tt.id, slices.Concat(flagAttrs, []uint{p11.CKA_END_DATE})...)
			yes, no := []byte{1}, []byte{0}
			for _, class := range tt.classes {
				want, g := original[tt.name][class], got[class]
				if g == nil {
					t.Fatalf("the replacement has no object of class %d", class)
				}
				// Same type, size or curve, and usage as the old key had.
				for _, ty := range slices.Concat(templateAttrs, flagAttrs) {
					if !bytes.Equal(want[ty], g[ty]) {
						t.Errorf("class %d: attribute 0x%x = %x, want the old key's %x", class, ty, g[ty], want[ty])
					}
				}
				if bits(want[p11.CKA_MODULUS]) != bits(g[p11.CKA_MODULUS]) {
					t.Errorf("modulus of %d bits, want %d", bits(g[p11.CKA_MODULUS]), bits(want[p11.CKA_MODULUS]))
				}
				if string(g[p11.CKA_LABEL]) != r.plan.State[hsmcheck.StateNewLabel] || !bytes.Equal(g[p11.CKA_TOKEN], yes) {
					t.Errorf("class %d: label %q, token %x; want %q on the token", class, g[p11.CKA_LABEL], g[p11.CKA_TOKEN], r.plan.State[hsmcheck.StateNewLabel])
				}
				if class != p11.CKO_PUBLIC_KEY {
					if !bytes.Equal(g[p11.CKA_SENSITIVE], yes) || !bytes.Equal(g[p11.CKA_EXTRACTABLE], no) || !bytes.Equal(g[p11.CKA_PRIVATE], yes) {
						t.Errorf("class %d: sensitive %x, extractable %x, private %x; want 01, 00, 01", class, g[p11.CKA_SENSITIVE], g[p11.CKA_EXTRACTABLE], g[p11.CKA_PRIVATE])
					}
				}

				// The old key: what made new output is cleared, what reads old output kept.
				for _, ty := range flagAttrs {
					wantOld := want[ty]
					switch ty {
					case p11.CKA_SIGN, p11.CKA_SIGN_RECOVER, p11.CKA_ENCRYPT, p11.CKA_WRAP:
						if wantOld != nil {
							wantOld = no
						}
					case p11.CKA_DERIVE:
						if wantOld != nil && class != p11.CKO_PUBLIC_KEY {
							wantOld = no
						}
					}
					if !bytes.Equal(old[class][ty], wantOld) {
						t.Errorf("old key, class %d: attribute 0x%x = %x, want %x", class, ty, old[class][ty], wantOld)
					}
				}
				// SoftHSM does not read back a date on a CKA_PRIVATE object; the listing shows
				// the pair's through its public object.
				if class != p11.CKO_PRIVATE_KEY && string(old[class][p11.CKA_END_DATE]) != today().Format("20060102") {
					t.Errorf("old key, class %d: CKA_END_DATE = %q, want today", class, old[class][p11.CKA_END_DATE])
				}
			}
			listed := listKeys(t, inv)
			o, n := listed[hex.EncodeToString(tt.id)], listed[r.plan.State[hsmcheck.StateNewID]]
			if o.State != hsmcheck.Deactivated || !o.Expires.Equal(today()) {
				t.Errorf("old key lists as %s expiring %v, want deactivated today", o.State, o.Expires)
			}
			if n.State != hsmcheck.Active || n.Label != r.plan.State[hsmcheck.StateNewLabel] || n.Algorithm != o.Algorithm || n.Class != o.Class {
				t.Errorf("replacement lists as %s %q %s %s, want active %q %s %s", n.State, n.Label, n.Algorithm, n.Class, r.plan.State[hsmcheck.StateNewLabel], o.Algorithm, o.Class)
			}
			if n.Sensitive == nil || !*n.Sensitive || n.Extractable == nil || *n.Extractable {
				t.Errorf("replacement lists as sensitive %v, extractable %v; want true, false", n.Sensitive, n.Extractable)
			}
		})
	}
}

// cryptoOp is one operation a test has the token run with a key object.
type cryptoOp func(c *p11.Ctx, sh p11.SessionHandle, h p11.ObjectHandle) error

var errMismatch = errors.New("the token's result does not match")

// TestRotatedKeysWork uses the keys after a rotation: the old key still decrypts and verifies
// and no longer signs or encrypts; the replacement does both.
func TestRotatedKeysWork(t *testing.T) {
	tok := softhsmtest.New(t)
	msg := []byte("rotation test message")
	digest := sha256.Sum256(msg)
	oaep := []*p11.Mechanism{p11.NewMechanism(p11.CKM_RSA_PKCS_OAEP, p11.NewOAEPParams(p11.CKM_SHA_1, p11.CKG_MGF1_SHA1, p11.CKZ_DATA_SPECIFIED, nil))}
	mech := func(m uint) []*p11.Mechanism { return []*p11.Mechanism{p11.NewMechanism(m, nil)} }

	// Each op is run on the object of class cls; roundtrips sign and verify, or encrypt and
	// decrypt, with the token alone.
	sign := func(m uint) cryptoOp {
		return func(c *p11.Ctx, sh p11.SessionHandle, h p11.ObjectHandle) error {
			if err := c.SignInit(sh, mech(m), h); err != nil {
				return err
			}
			_, err := c.Sign(sh, msg)
			return err
		}
	}
	encrypt := func(ms []*p11.Mechanism) cryptoOp {
		return func(c *p11.Ctx, sh p11.SessionHandle, h p11.ObjectHandle) error {
			if err := c.EncryptInit(sh, ms, h); err != nil {
				return err
			}
			_, err := c.Encrypt(sh, make([]byte, 16))
			return err
		}
	}
	verify := func(m uint, sig func() []byte) cryptoOp {
		return func(c *p11.Ctx, sh p11.SessionHandle, h p11.ObjectHandle) error {
			if err := c.VerifyInit(sh, mech(m), h); err != nil {
				return err
			}
			return c.Verify(sh, msg, sig())
		}
	}
	verifyDigest := func(m uint, sig func() []byte) cryptoOp {
		return func(c *p11.Ctx, sh p11.SessionHandle, h p11.ObjectHandle) error {
			if err := c.VerifyInit(sh, mech(m), h); err != nil {
				return err
			}
			return c.Verify(sh, digest[:], sig())
		}
	}
	decrypt := func(ms []*p11.Mechanism, ct func() []byte, want []byte) cryptoOp {
		return func(c *p11.Ctx, sh p11.SessionHandle, h p11.ObjectHandle) error {
			if err := c.DecryptInit(sh, ms, h); err != nil {
				return err
			}
			pt, err := c.Decrypt(sh, ct())
			if err == nil && !bytes.Equal(pt, want) {
				return errMismatch
			}
			return err
		}
	}

	var rsaKey *rsa.PrivateKey
	var ecKey *ecdsa.PrivateKey
	aesValue, macValue := randBytes(t, 16), randBytes(t, 32)
	type use struct {
		class uint
		op    cryptoOp
	}
	tests := []struct {
		name   string
		id     []byte
		create func(id []byte)
		// Made by the test from the old key's material, checked by the old key on the token.
		oldWorks []use
		// Refused by the old key after the rotation.
		oldRefused []use
		// Run on the replacement: producing with it, then reading what it produced.
		newWorks func(c *p11.Ctx, sh p11.SessionHandle, objs map[uint]p11.ObjectHandle) error
	}{
		{
			name:   "RSA pair",
			id:     []byte{1},
			create: func(id []byte) { rsaKey = tok.GenerateRSA(t, "rsa", id, 1024) },
			oldWorks: []use{
				{p11.CKO_PRIVATE_KEY, decrypt(oaep, func() []byte {
					ct, err := rsa.EncryptOAEP(sha1.New(), rand.Reader, &rsaKey.PublicKey, msg, nil)
					if err != nil {
						t.Fatal(err)
					}
					return ct
				}, msg)},
				{p11.CKO_PUBLIC_KEY, verify(p11.CKM_SHA256_RSA_PKCS, func() []byte {
					sig, err := rsa.SignPKCS1v15(rand.Reader, rsaKey, crypto.SHA256, digest[:])
					if err != nil {
						t.Fatal(err)
					}
					return sig
				})},
			},
			oldRefused: []use{{p11.CKO_PRIVATE_KEY, sign(p11.CKM_SHA256_RSA_PKCS)}, {p11.CKO_PUBLIC_KEY, encrypt(oaep)}},
			newWorks: func(c *p11.Ctx, sh p11.SessionHandle, objs map[uint]p11.ObjectHandle) error {
				if err := c.SignInit(sh, mech(p11.CKM_SHA256_RSA_PKCS), objs[p11.CKO_PRIVATE_KEY]); err != nil {
					return err
				}
				sig, err := c.Sign(sh, msg)
				if err != nil {
					return err
				}
				if err := verify(p11.CKM_SHA256_RSA_PKCS, func() []byte { return sig })(c, sh, objs[p11.CKO_PUBLIC_KEY]); err != nil {
					return err
				}
				if err := c.EncryptInit(sh, oaep, objs[p11.CKO_PUBLIC_KEY]); err != nil {
					return err
				}
				ct, err := c.Encrypt(sh, msg)
				if err != nil {
					return err
				}
				return decrypt(oaep, func() []byte { return ct }, msg)(c, sh, objs[p11.CKO_PRIVATE_KEY])
			},
		},
		{
			// SoftHSM 2.6 has CKM_ECDSA only, over a digest the caller makes.
			name:   "EC pair",
			id:     []byte{2},
			create: func(id []byte) { ecKey = tok.GenerateEC(t, "ec", id, elliptic.P256()) },
			oldWorks: []use{{p11.CKO_PUBLIC_KEY, verifyDigest(p11.CKM_ECDSA, func() []byte {
				r, s, err := ecdsa.Sign(rand.Reader, ecKey, digest[:])
				if err != nil {
					t.Fatal(err)
				}
				return append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...)
			})}},
			oldRefused: []use{{p11.CKO_PRIVATE_KEY, sign(p11.CKM_ECDSA)}},
			newWorks: func(c *p11.Ctx, sh p11.SessionHandle, objs map[uint]p11.ObjectHandle) error {
				if err := c.SignInit(sh, mech(p11.CKM_ECDSA), objs[p11.CKO_PRIVATE_KEY]); err != nil {
					return err
				}
				sig, err := c.Sign(sh, digest[:])
				if err != nil {
					return err
				}
				return verifyDigest(p11.CKM_ECDSA, func() []byte { return sig })(c, sh, objs[p11.CKO_PUBLIC_KEY])
			},
		},
		{
			name:   "AES key",
			id:     []byte{3},
			create: func(id []byte) { tok.CreateAES(t, "aes", id, aesValue) },
			oldWorks: []use{{p11.CKO_SECRET_KEY, decrypt(mech(p11.CKM_AES_ECB), func() []byte {
				b, err := aes.NewCipher(aesValue)
				if err != nil {
					t.Fatal(err)
				}
				ct := make([]byte, 16)
				b.Encrypt(ct, msg[:16])
				return ct
			}, msg[:16])}},
			oldRefused: []use{{p11.CKO_SECRET_KEY, encrypt(mech(p11.CKM_AES_ECB))}},
			newWorks: func(c *p11.Ctx, sh p11.SessionHandle, objs map[uint]p11.ObjectHandle) error {
				if err := c.EncryptInit(sh, mech(p11.CKM_AES_ECB), objs[p11.CKO_SECRET_KEY]); err != nil {
					return err
				}
				ct, err := c.Encrypt(sh, msg[:16])
				if err != nil {
					return err
				}
				return decrypt(mech(p11.CKM_AES_ECB), func() []byte { return ct }, msg[:16])(c, sh, objs[p11.CKO_SECRET_KEY])
			},
		},
		{
			name:   "generic secret",
			id:     []byte{4},
			create: func(id []byte) { tok.CreateGenericSecret(t, "mac", id, macValue) },
			oldWorks: []use{{p11.CKO_SECRET_KEY, verify(p11.CKM_SHA256_HMAC, func() []byte {
				m := hmac.New(sha256.New, macValue)
				m.Write(msg)
				return m.Sum(nil)
			})}},
			oldRefused: []use{{p11.CKO_SECRET_KEY, sign(p11.CKM_SHA256_HMAC)}},
			newWorks: func(c *p11.Ctx, sh p11.SessionHandle, objs map[uint]p11.ObjectHandle) error {
				if err := c.SignInit(sh, mech(p11.CKM_SHA256_HMAC), objs[p11.CKO_SECRET_KEY]); err != nil {
					return err
				}
				sig, err := c.Sign(sh, msg)
				if err != nil {
					return err
				}
				return verify(p11.CKM_SHA256_HMAC, func() []byte { return sig })(c, sh, objs[p11.CKO_SECRET_KEY])
			},
		},
	}
	for _, tt := range tests {
		tt.create(tt.id)
	}
	inv := open(t, tok.URI(), tok.PIN)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustRotate(t, inv, hex.EncodeToString(tt.id))
			newID, _ := hex.DecodeString(r.plan.State[hsmcheck.StateNewID])
			tok.Session(t, func(c *p11.Ctx, sh p11.SessionHandle) {
				old := findByID(t, c, sh, tt.id)
				for i, u := range tt.oldWorks {
					if err := u.op(c, sh, old[u.class]); err != nil {
						t.Errorf("old key, use %d on class %d: %v", i, u.class, err)
					}
				}
				for i, u := range tt.oldRefused {
					if err := u.op(c, sh, old[u.class]); !p11mod.Is(err, p11.CKR_KEY_FUNCTION_NOT_PERMITTED) {
						t.Errorf("old key, use %d on class %d: %v, want CKR_KEY_FUNCTION_NOT_PERMITTED", i, u.class, err)
					}
				}
				if err := tt.newWorks(c, sh, findByID(t, c, sh, newID)); err != nil {
					t.Errorf("replacement: %v", err)
				}
			})
		})
	}
}

// TestRotationAuth loses the login in the middle of a rotation: planning and the step fail
// with ErrAuth and the journal says where things stand, a wrong PIN cannot resume, and the
// right one finishes the rotation with one replacement.
func TestRotationAuth(t *testing.T) {
	tok := softhsmtest.New(t)
	tok.CreateAES(t, "aes", []byte{1}, randBytes(t, 16))
	inv := open(t, tok.URI(), tok.PIN)
	k := keyByID(t, inv, "01")
	before := len(listKeys(t, inv))
	p, err := inv.PlanRotation(context.Background(), k, hsmcheck.ReasonCompromise)
	if err != nil {
		t.Fatal(err)
	}
	j, err := hsmcheck.CreateJournal(t.TempDir(), p)
	if err != nil {
		t.Fatal(err)
	}
	path := j.Progress().Path

	// Another application logs the token out: login is per application, so this session's
	// logout is the inventory's too.
	tok.Session(t, func(c *p11.Ctx, sh p11.SessionHandle) {
		if err := c.Logout(sh); err != nil {
			t.Fatal(err)
		}
	})
	if _, err := inv.PlanRotation(context.Background(), k, hsmcheck.ReasonCompromise); !errors.Is(err, hsmcheck.ErrAuth) {
		t.Errorf("PlanRotation without a login = %v, want ErrAuth", err)
	}
	err = hsmcheck.Run(context.Background(), inv, j, hsmcheck.RunOptions{})
	j.Close()
	if !errors.Is(err, hsmcheck.ErrAuth) {
		t.Fatalf("Run without a login = %v, want ErrAuth", err)
	}
	pr, err := hsmcheck.ReadJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	if pr.Next != 0 || !strings.Contains(pr.Where(), "generate-replacement") || !strings.Contains(pr.Failed, hsmcheck.ErrAuth.Error()) {
		t.Errorf("journal says %q, want step 1 failed with %q", pr.Where(), hsmcheck.ErrAuth)
	}

	if _, err := openErr(t, tok.URI(), map[string]string{pkcs11.PINEnv: "0000" + tok.PIN}); !errors.Is(err, hsmcheck.ErrAuth) {
		t.Errorf("opening with a wrong PIN to resume = %v, want ErrAuth", err)
	}
	inv2 := open(t, tok.URI(), tok.PIN)
	if n := len(listKeys(t, inv2)); n != before {
		t.Errorf("%d keys after the failed run, want %d: nothing made", n, before)
	}
	j2, err := hsmcheck.OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	defer j2.Close()
	if err := hsmcheck.Run(context.Background(), inv2, j2, hsmcheck.RunOptions{}); err != nil {
		t.Fatalf("resuming with the right PIN: %v", err)
	}
	rc, err := hsmcheck.CheckRotation(context.Background(), inv2, j2.Plan())
	if err != nil {
		t.Fatal(err)
	}
	if !rc.OK() || rc.Replacements != 1 {
		t.Errorf("re-check: %+v", rc)
	}
}

// nonModifiable creates objects SoftHSM refuses to change (CKA_MODIFIABLE false): an AES key,
// and an RSA pair whose private object alone is fixed.
func nonModifiable(t *testing.T, tok *softhsmtest.Token, aesID, pairID []byte) {
	t.Helper()
	tok.Session(t, func(c *p11.Ctx, sh p11.SessionHandle) {
		_, err := c.CreateObject(sh, []*p11.Attribute{
			p11.NewAttribute(p11.CKA_CLASS, p11.CKO_SECRET_KEY),
			p11.NewAttribute(p11.CKA_KEY_TYPE, p11.CKK_AES),
			p11.NewAttribute(p11.CKA_TOKEN, true),
			p11.NewAttribute(p11.CKA_PRIVATE, false),
			p11.NewAttribute(p11.CKA_MODIFIABLE, false),
			p11.NewAttribute(p11.CKA_LABEL, "fixed-aes"),
			p11.NewAttribute(p11.CKA_ID, aesID),
			p11.NewAttribute(p11.CKA_VALUE, randBytes(t, 16)),
			p11.NewAttribute(p11.CKA_ENCRYPT, true),
			p11.NewAttribute(p11.CKA_DECRYPT, true),
		})
		if err != nil {
			t.Fatalf("creating a fixed AES key: %v", err)
		}
		common := []*p11.Attribute{p11.NewAttribute(p11.CKA_TOKEN, true), p11.NewAttribute(p11.CKA_LABEL, "fixed-signer"), p11.NewAttribute(p11.CKA_ID, pairID)}
		pub := append(slices.Clone(common), p11.NewAttribute(p11.CKA_MODULUS_BITS, 1024), p11.NewAttribute(p11.CKA_VERIFY, true), p11.NewAttribute(p11.CKA_ENCRYPT, false))
		priv := append(slices.Clone(common), p11.NewAttribute(p11.CKA_PRIVATE, true), p11.NewAttribute(p11.CKA_MODIFIABLE, false), p11.NewAttribute(p11.CKA_SIGN, true), p11.NewAttribute(p11.CKA_DECRYPT, false))
		if _, _, err := c.GenerateKeyPair(sh, []*p11.Mechanism{p11.NewMechanism(p11.CKM_RSA_PKCS_KEY_PAIR_GEN, nil)}, pub, priv); err != nil {
			t.Fatalf("generating a pair with a fixed private key: %v", err)
		}
	})
}

// TestRotationRefused has the token refuse the retirement: wholly, which fails the step and
// leaves the rotation resumable without a second replacement, and in part, which the outcome
// reports.
func TestRotationRefused(t *testing.T) {
	tok := softhsmtest.New(t)
	nonModifiable(t, tok, []byte{1}, []byte{2})
	inv := open(t, tok.URI(), tok.PIN)

	t.Run("every change", func(t *testing.T) {
		before := len(listKeys(t, inv))
		r := rotate(t, inv, "01")
		if r.err == nil || !strings.Contains(r.err.Error(), "refused every change") || !strings.Contains(r.err.Error(), "CKA_END_DATE on the secret key (CKR_ACTION_PROHIBITED)") {
			t.Fatalf("Run = %v, want the retire step to fail naming what the token refused", r.err)
		}
		for range 2 { // resuming fails the same way, and makes nothing new
			pr, err := hsmcheck.ReadJournal(r.journal)
			if err != nil {
				t.Fatal(err)
			}
			if pr.Next != 1 || pr.Failed == "" || !strings.Contains(pr.Outcomes[0], "generated AES-128 key") {
				t.Errorf("journal says %q, outcomes %q; want the replacement made and retire-old failed", pr.Where(), pr.Outcomes)
			}
			j, err := hsmcheck.OpenJournal(r.journal)
			if err != nil {
				t.Fatal(err)
			}
			if err := hsmcheck.Run(context.Background(), inv, j, hsmcheck.RunOptions{}); err == nil {
				t.Error("resuming succeeded, want the same refusal")
			}
			j.Close()
			keys := listKeys(t, inv)
			if len(keys) != before+1 || keys["01"].State != hsmcheck.Active || keys[r.plan.State[hsmcheck.StateNewID]].State != hsmcheck.Active {
				t.Errorf("%d keys, old %s, replacement %s; want %d, both active", len(keys), keys["01"].State, keys[r.plan.State[hsmcheck.StateNewID]].State, before+1)
			}
		}
	})

	t.Run("the private key's changes", func(t *testing.T) {
		r := mustRotate(t, inv, "02")
		want := "old key fixed-signer (02): private key: CKA_END_DATE refused by the token (CKR_ACTION_PROHIBITED), CKA_SIGN refused by the token (CKR_ACTION_PROHIBITED)"
		if !strings.HasPrefix(r.outcomes[1], want) || !strings.Contains(r.outcomes[1], "public key: CKA_END_DATE set to "+today().Format(time.DateOnly)) {
			t.Errorf("retire outcome = %q, want it to start with %q and set the public key's end date", r.outcomes[1], want)
		}
		// The public object's end date still marks the pair: it lists as deactivated, while
		// the outcome says that it can still sign.
		if k := keyByID(t, inv, "02"); k.State != hsmcheck.Deactivated || !slices.Contains(k.Usage, "sign") {
			t.Errorf("old key lists as %s with usage %v, want deactivated and still able to sign", k.State, k.Usage)
		}
	})
}

// TestRotationUnreadableEndDate rotates keys whose end date SoftHSM 2.6 does not read back: a
// CKA_PRIVATE secret key, and imported private keys without a public object. Where the key
// keeps decrypt the listing cannot show it retired, and the rotation says so instead of
// claiming success; a key left with no usage reads as disabled.
func TestRotationUnreadableEndDate(t *testing.T) {
	tok := softhsmtest.New(t)
	tok.Session(t, func(c *p11.Ctx, sh p11.SessionHandle) {
		_, err := c.GenerateKey(sh, []*p11.Mechanism{p11.NewMechanism(p11.CKM_AES_KEY_GEN, nil)}, []*p11.Attribute{
			p11.NewAttribute(p11.CKA_TOKEN, true),
			p11.NewAttribute(p11.CKA_PRIVATE, true),
			p11.NewAttribute(p11.CKA_LABEL, "private-aes"),
			p11.NewAttribute(p11.CKA_ID, []byte{1}),
			p11.NewAttribute(p11.CKA_VALUE_LEN, 32),
			p11.NewAttribute(p11.CKA_ENCRYPT, true),
			p11.NewAttribute(p11.CKA_DECRYPT, true),
			p11.NewAttribute(p11.CKA_SIGN, false),
			p11.NewAttribute(p11.CKA_VERIFY, false),
			p11.NewAttribute(p11.CKA_WRAP, false),
			p11.NewAttribute(p11.CKA_UNWRAP, false),
			p11.NewAttribute(p11.CKA_DERIVE, false),
		})
		if err != nil {
			t.Fatal(err)
		}
	})
	rsaKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	tok.ImportPEM(t, "imported-rsa", []byte{2}, writePKCS8(t, rsaKey))
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tok.ImportPEM(t, "imported-ec", []byte{3}, writePKCS8(t, ecKey))
	inv := open(t, tok.URI(), tok.PIN)

	tests := []struct {
		name    string
		id      string
		state   hsmcheck.State
		usage   []string
		outcome string // in the retire step's outcome
	}{
		{"CKA_PRIVATE AES key", "01", hsmcheck.Unknown, []string{"decrypt"},
			"still lists as unknown: the token does not read back CKA_END_DATE on the secret key (SoftHSM 2.6 on CKA_PRIVATE objects: softhsm/SoftHSMv2#655) and the key keeps decrypt"},
		{"imported RSA key", "02", hsmcheck.Unknown, []string{"decrypt", "unwrap"},
			"still lists as unknown: the token does not read back CKA_END_DATE on the private key"},
		{"imported EC key that only signed", "03", hsmcheck.Disabled, nil, "lists as disabled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustRotate(t, inv, tt.id)
			if !strings.Contains(r.outcomes[1], tt.outcome) {
				t.Errorf("retire outcome = %q, want it to contain %q", r.outcomes[1], tt.outcome)
			}
			k := keyByID(t, inv, tt.id)
			if k.State != tt.state || !cmp.Equal(k.Usage, tt.usage) {
				t.Errorf("old key lists as %s with usage %v, want %s with %v", k.State, k.Usage, tt.state, tt.usage)
			}
			rc, err := hsmcheck.CheckRotation(context.Background(), inv, r.plan)
			if err != nil {
				t.Fatal(err)
			}
			if rc.OldRetired != !tt.state.Live() || !rc.NewActive || rc.Replacements != 1 {
				t.Errorf("re-check: %+v; want the replacement active, the old key retired only if it reads so", rc)
			}
			if tt.state.Live() && !slices.Contains(rc.Problems, "the old key "+r.plan.Key.Ref()+" is still unknown") {
				t.Errorf("re-check problems %q do not say the old key still reads as in use", rc.Problems)
			}
		})
	}
}
