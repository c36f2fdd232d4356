package keys

import (
	"crypto"
	"crypto/dsa" //nolint:staticcheck // DSA keys are still found in the wild and must be recognised
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"math/big"
)

// The published-key blocklist follows badkeys (https://badkeys.info/): a key is identified
// by one public number, as the shortest big-endian bytes of the integer (no leading zero
// bytes): the modulus n for RSA, the x coordinate of the point for ECDSA, the raw public key
// for Ed25519 and X25519 (read as a big-endian integer), and y for DSA. The list stores the
// SHA-256 of those bytes truncated to 15 bytes (120 bits), hex-encoded, which is badkeys'
// format, so entries can be exchanged with its lists. The entries themselves are in
// published_table.go, generated from public numbers only by "go test -run
// TestPublishedTable -update".

// wkPublishedHashLen is the length of a truncated blocklist hash, in bytes.
const wkPublishedHashLen = 15

// wkPublicNumber returns the number that identifies k's public half in the blocklist, or
// nil when the public half is not known or its type is not supported.
func wkPublicNumber(k Key) []byte {
	if k.RSA != nil && k.RSA.N != nil {
		return k.RSA.N.Bytes()
	}
	pub := k.Public
	if c, ok := pub.(interface{ CryptoPublicKey() crypto.PublicKey }); ok { // an ssh.PublicKey
		pub = c.CryptoPublicKey()
	}
	var raw []byte
	switch p := pub.(type) {
	case *rsa.PublicKey:
		if p.N != nil {
			return p.N.Bytes()
		}
	case *ecdsa.PublicKey:
		if b, err := p.Bytes(); err == nil && len(b) > 1 && b[0] == 4 {
			raw = b[1 : 1+(len(b)-1)/2]
		} else if p.X != nil { //nolint:staticcheck // fallback for curves Bytes does not know
			return p.X.Bytes() //nolint:staticcheck
		}
	case ed25519.PublicKey:
		raw = p
	case *ecdh.PublicKey:
		b := p.Bytes()
		if p.Curve() == ecdh.X25519() {
			raw = b
		} else if len(b) > 1 && b[0] == 4 {
			raw = b[1 : 1+(len(b)-1)/2]
		}
	case *dsa.PublicKey:
		if p.Y != nil {
			return p.Y.Bytes()
		}
	}
	if raw == nil {
		return nil
	}
	return new(big.Int).SetBytes(raw).Bytes()
}

// wkPublishedHash returns the blocklist hash of a public number.
func wkPublishedHash(number []byte) string {
	sum := sha256.Sum256(new(big.Int).SetBytes(number).Bytes())
	return hex.EncodeToString(sum[:wkPublishedHashLen])
}

// wkCheckPublished reports whether k's public half is a published example key.
func wkCheckPublished(k Key) (Weakness, bool) {
	number := wkPublicNumber(k)
	if len(number) == 0 {
		return Weakness{}, false
	}
	entry, ok := wkPublishedKeys[wkPublishedHash(number)]
	if !ok {
		return Weakness{}, false
	}
	w := wkNew("published-key", "", "the key is a published example ("+entry.name+"): its private key is public")
	w.Reference = entry.ref
	return w, true
}

// wkPublished is one blocklist entry: where the key was published.
type wkPublished struct {
	name string // "RFC 9500 testRSA2048"
	ref  string // a URL
}
