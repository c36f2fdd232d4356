package pkcs11

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"

	p11 "github.com/miekg/pkcs11"

	"github.com/keywarden/keywarden/hsmcheck"
	"github.com/keywarden/keywarden/hsmcheck/pkcs11/internal/p11mod"
)

// challengeLen is the size of a challenge's random input: two AES blocks.
const challengeLen = 32

// Challenge has the token compute with secret key k over fresh random input: AES-ECB for an
// AES key that may encrypt, HMAC for a generic-secret or HMAC key that may sign (HMAC-SHA256
// for generic secrets, or HMAC-SHA1 when the token finds the key too short for SHA-256; the key
// type's own hash otherwise). Other keys give an error wrapping
// hsmcheck.ErrUnsupported. The key is found by k.ID (CKA_ID, or the label of a key without one)
// and, when several share it, by k.Label.
func (inv *Inventory) Challenge(ctx context.Context, k hsmcheck.Key) (hsmcheck.Challenge, error) {
	if k.Class != hsmcheck.Secret {
		return hsmcheck.Challenge{}, fmt.Errorf("challenging %s: %w: only secret keys compute over a challenge", k.Ref(), hsmcheck.ErrUnsupported)
	}
	if err := ctx.Err(); err != nil {
		return hsmcheck.Challenge{}, err
	}
	sh, done, err := inv.session()
	if err != nil {
		return hsmcheck.Challenge{}, err
	}
	defer done()
	o, err := inv.findSecret(ctx, sh, k)
	if err != nil {
		return hsmcheck.Challenge{}, err
	}

	// Each candidate mechanism is tried in turn: tokens refuse an HMAC whose key is shorter than
	// its hash (SoftHSM wants 32 bytes for HMAC-SHA256, 20 for HMAC-SHA1).
	type try struct {
		mech uint
		m    hsmcheck.Mechanism
	}
	var tries []try
	may := func(attr uint) bool { b := o.flag(attr); return b != nil && *b }
	switch {
	case o.keyType == p11.CKK_AES && may(p11.CKA_ENCRYPT):
		tries = []try{{p11.CKM_AES_ECB, hsmcheck.AESECB}}
	case o.keyType == p11.CKK_GENERIC_SECRET && may(p11.CKA_SIGN):
		tries = []try{{p11.CKM_SHA256_HMAC, hsmcheck.HMACSHA256}, {p11.CKM_SHA_1_HMAC, hsmcheck.HMACSHA1}}
	case hmacKeyTypes[o.keyType].mech != 0 && may(p11.CKA_SIGN):
		tries = []try{{hmacKeyTypes[o.keyType].mech, hmacKeyTypes[o.keyType].m}}
	default:
		return hsmcheck.Challenge{}, fmt.Errorf("challenging %s on token %q: %w: needs an AES key that may encrypt or an HMAC or generic-secret key that may sign", k.Ref(), inv.label, hsmcheck.ErrUnsupported)
	}
	in := make([]byte, challengeLen)
	if _, err := rand.Read(in); err != nil {
		return hsmcheck.Challenge{}, fmt.Errorf("challenging %s: %w", k.Ref(), err)
	}
	for _, tr := range tries {
		if err := ctx.Err(); err != nil {
			return hsmcheck.Challenge{}, err
		}
		var out []byte
		mechs := []*p11.Mechanism{p11.NewMechanism(tr.mech, nil)}
		if tr.m == hsmcheck.AESECB {
			if err = inv.mod.EncryptInit(sh, mechs, o.h); err == nil {
				out, err = inv.mod.Encrypt(sh, in)
			}
		} else if err = inv.mod.SignInit(sh, mechs, o.h); err == nil {
			out, err = inv.mod.Sign(sh, in)
		}
		if err == nil {
			return hsmcheck.Challenge{Mechanism: tr.m, Input: in, Output: out}, nil
		}
		if !p11mod.Is(err, p11.CKR_MECHANISM_INVALID, p11.CKR_KEY_SIZE_RANGE, p11.CKR_KEY_TYPE_INCONSISTENT, p11.CKR_KEY_FUNCTION_NOT_PERMITTED) {
			return hsmcheck.Challenge{}, inv.wrap("challenging "+k.Ref(), err)
		}
	}
	return hsmcheck.Challenge{}, fmt.Errorf("challenging %s on token %q: %w: %w", k.Ref(), inv.label, hsmcheck.ErrUnsupported, err)
}

// findSecret finds the one secret key object k stands for.
func (inv *Inventory) findSecret(ctx context.Context, sh p11.SessionHandle, k hsmcheck.Key) (*object, error) {
	tmpl := []*p11.Attribute{p11.NewAttribute(p11.CKA_CLASS, p11.CKO_SECRET_KEY)}
	byLabel := strings.HasPrefix(k.ID, "label:")
	if byLabel {
		tmpl = append(tmpl, p11.NewAttribute(p11.CKA_LABEL, strings.TrimPrefix(k.ID, "label:")))
	} else {
		id, err := hex.DecodeString(k.ID)
		if err != nil || len(id) == 0 {
			return nil, fmt.Errorf("challenging %s: key id %q is not a PKCS#11 CKA_ID in hex", k.Ref(), k.ID)
		}
		tmpl = append(tmpl, p11.NewAttribute(p11.CKA_ID, id))
	}
	hs, err := inv.findObjects(ctx, sh, tmpl)
	if err != nil {
		return nil, inv.wrap("finding "+k.Ref(), err)
	}
	var found []*object
	for _, h := range hs {
		o, err := inv.readObject(sh, h)
		if err != nil || o == nil {
			continue
		}
		if byLabel && len(o.bytes(p11.CKA_ID)) > 0 {
			continue // it has an ID, so it is not the key reported as label:…
		}
		found = append(found, o)
	}
	if len(found) > 1 && k.Label != "" {
		var same []*object
		for _, o := range found {
			if o.str(p11.CKA_LABEL) == k.Label {
				same = append(same, o)
			}
		}
		found = same
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("challenging %s: no such secret key on token %q", k.Ref(), inv.label)
	case 1:
		return found[0], nil
	}
	return nil, fmt.Errorf("challenging %s: %d secret keys on token %q share its id and label", k.Ref(), len(found), inv.label)
}
