package hsmcheck

import (
	"context"
	"crypto/rsa"
	"errors"
	"math/big"
	"strconv"
	"time"
)

// Inventory lists the keys an HSM or KMS holds. It is read-only.
//
// Keys calls yield from one goroutine at a time, returns yield's first error unchanged, and
// returns ctx.Err() once ctx is done. Errors a backend returns wrap ErrAuth when credentials are
// missing or refused, so that a cross-check can skip that inventory instead of failing.
type Inventory interface {
	Name() string // "pkcs11:prod-hsm", "aws-kms:eu-west-1"
	Keys(ctx context.Context, yield func(Key) error) error
}

// Challenger is the optional ability to have the backend compute its keyed function over a
// fresh random input, so that candidates are confirmed locally: the backend never sees a
// candidate, not even through this interface. It returns an error wrapping ErrUnsupported when
// the key cannot be used that way (no encrypt or MAC usage, say). Callers find it by type
// assertion.
type Challenger interface {
	Challenge(ctx context.Context, k Key) (Challenge, error)
}

// Challenge is one computation a backend made with a key: Output = Mechanism(key, Input).
type Challenge struct {
	Mechanism Mechanism
	Input     []byte
	Output    []byte
}

// Mechanism names a keyed function keywarden can recompute locally.
type Mechanism string

// Mechanisms a Challenger may use.
const (
	AESECB     Mechanism = "aes-ecb"     // Input is whole 16-byte blocks
	HMACSHA1   Mechanism = "hmac-sha1"   // Output may be truncated
	HMACSHA224 Mechanism = "hmac-sha224" // Output may be truncated
	HMACSHA256 Mechanism = "hmac-sha256" // Output may be truncated
	HMACSHA384 Mechanism = "hmac-sha384" // Output may be truncated
	HMACSHA512 Mechanism = "hmac-sha512" // Output may be truncated
)

// Sentinel errors that backends wrap together with the cause.
var (
	ErrAuth        = errors.New("not authorized")
	ErrUnsupported = errors.New("not supported by this backend or key")
	ErrConfig      = errors.New("bad inventory configuration")
)

// Class is what kind of key object a Key is.
type Class string

// Key classes.
const (
	Secret  Class = "secret"  // symmetric: AES, HMAC, generic secret
	Private Class = "private" // the private half of a key pair (SPKIHash is its public half's)
	Public  Class = "public"
)

// State is a key's life-cycle state, normalised across backends.
type State string

// Key states. Live reports which ones a leaked copy makes a live exposure.
const (
	Active          State = "active"
	PreActive       State = "pre-active" // created but not yet usable (KMIP Pre-Active, PKCS#11 start date ahead)
	Disabled        State = "disabled"   // switched off but restorable (KMS Disabled, PKCS#11 usage cleared)
	Deactivated     State = "deactivated"
	Compromised     State = "compromised"
	PendingDeletion State = "pending-deletion"
	Destroyed       State = "destroyed"
	OldVersion      State = "old-version" // a version that is still kept but no longer the current one
	Unknown         State = "unknown"
)

// Live reports whether a leaked copy of a key in this state is a live exposure: the key is in
// use, or will be, or the backend does not say otherwise.
func (s State) Live() bool {
	switch s {
	case Active, PreActive, Unknown, "":
		return true
	}
	return false
}

// Key is one key object or key version in an inventory. Nothing in it is secret: symmetric
// keys carry a 3-byte check value at most, asymmetric ones the hash of their public half.
type Key struct {
	ID        string // the backend's stable identifier: PKCS#11 CKA_ID in hex, KMIP unique id, KMS key id, "transit/NAME"
	Label     string // the human name: CKA_LABEL, KMIP Name, KMS alias, transit key name
	Version   int    // the key version, where the backend versions keys (transit); 0 otherwise
	Class     Class
	State     State
	Scope     string   // environment or tenant the key belongs to
	Algorithm string   // "RSA-2048", "EC-P256", "Ed25519", "AES-256", "HMAC-SHA256", "GENERIC-SECRET-32"
	Usage     []string // of: sign, verify, encrypt, decrypt, wrap, unwrap, derive, mac

	SPKIHash [32]byte // SHA-256 of the public half's SubjectPublicKeyInfo DER; zero for secret keys
	// RSAModulus (big-endian) and RSAExponent are an RSA key's public numbers, where the
	// backend returns them: the modulus lets a memory-dump scan rebuild the private key from a
	// prime it finds (rules/keyfind). Plain values, so that keys compare as data in tests.
	RSAModulus  []byte
	RSAExponent int
	CheckValue  []byte // KCV of a secret key (AES: AES-ECB of a zero block, first 3 bytes), if known
	TokenHMAC   []byte // HMAC-SHA256(salt, token) of an API token, for inventory files

	Created     time.Time // zero when unknown
	Activated   time.Time // PKCS#11 CKA_START_DATE, KMIP Activation Date
	Expires     time.Time // PKCS#11 CKA_END_DATE, KMIP Deactivation Date
	LastRotated time.Time

	// Optional facts: nil when the backend has no such notion.
	RotationEnabled *bool             // KMS automatic rotation
	RotationPeriod  time.Duration     // the rotation period or cryptoperiod the backend or file states
	Extractable     *bool             // PKCS#11 CKA_EXTRACTABLE
	Sensitive       *bool             // PKCS#11 CKA_SENSITIVE
	Owner, Purpose  string            // inventory-file facts
	Location        string            // where the key is stored, as the inventory file names it
	Meta            map[string]string // backend extras shown in reports
}

// RSAPublic returns the key's RSA public key, or nil when the backend gave no modulus.
func (k Key) RSAPublic() *rsa.PublicKey {
	if len(k.RSAModulus) == 0 || k.RSAExponent <= 0 {
		return nil
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(k.RSAModulus), E: k.RSAExponent}
}

// SetRSAPublic records pub's numbers on k; a nil pub leaves k unchanged.
func (k *Key) SetRSAPublic(pub *rsa.PublicKey) {
	if pub != nil {
		k.RSAModulus, k.RSAExponent = pub.N.Bytes(), pub.E
	}
}

// HasSPKI reports whether k carries a public-key fingerprint.
func (k Key) HasSPKI() bool { return k.SPKIHash != [32]byte{} }

// Ref is the key's identity for messages: label and id, version when there is one.
func (k Key) Ref() string {
	s := k.ID
	if k.Label != "" && k.Label != k.ID {
		if s == "" {
			s = k.Label
		} else {
			s = k.Label + " (" + k.ID + ")"
		}
	}
	if k.Version > 0 {
		s += " v" + strconv.Itoa(k.Version)
	}
	return s
}

// BoolPtr returns a pointer to b, for Key's optional facts.
func BoolPtr(b bool) *bool { return &b }
