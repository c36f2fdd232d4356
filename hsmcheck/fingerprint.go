package hsmcheck

import (
	"crypto"
	"crypto/aes"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"math/big"
	"strings"

	"github.com/keywarden/keywarden/rules/keys"
)

// SPKIHash returns the SHA-256 of a public key's SubjectPublicKeyInfo DER.
func SPKIHash(pub crypto.PublicKey) ([32]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return [32]byte{}, fmt.Errorf("encoding public key: %w", err)
	}
	return sha256.Sum256(der), nil
}

// SPKIHashDER returns the SHA-256 of a SubjectPublicKeyInfo given as DER, after checking that it
// is one, so a backend that hands back PKCS#1 by mistake does not produce a silent non-match.
func SPKIHashDER(der []byte) ([32]byte, error) {
	var spki struct {
		Algo      asn1.RawValue
		PublicKey asn1.BitString
	}
	if rest, err := asn1.Unmarshal(der, &spki); err != nil || len(rest) > 0 {
		return [32]byte{}, fmt.Errorf("parsing SubjectPublicKeyInfo: not DER SPKI")
	}
	return sha256.Sum256(der), nil
}

// RSAPublicDER returns the RSA public key a DER SubjectPublicKeyInfo holds, or nil.
func RSAPublicDER(der []byte) *rsa.PublicKey {
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil
	}
	rk, _ := pub.(*rsa.PublicKey)
	return rk
}

// SPKIHashRSA returns the fingerprint of an RSA public key given by its modulus and exponent
// (PKCS#11 CKA_MODULUS and CKA_PUBLIC_EXPONENT, big-endian).
func SPKIHashRSA(modulus, exponent []byte) [32]byte {
	return sha256.Sum256(keys.RSASPKI(new(big.Int).SetBytes(modulus), new(big.Int).SetBytes(exponent)))
}

// SPKIHashEC returns the fingerprint of an EC public key from the DER of its ECParameters
// (CKA_EC_PARAMS) and its point, either raw (04‖X‖Y) or wrapped in a DER OCTET STRING as
// PKCS#11 CKA_EC_POINT holds it.
func SPKIHashEC(params, point []byte) ([32]byte, error) {
	if len(point) > 0 && point[0] == 0x04 {
		// 0x04 is both the OCTET STRING tag and the uncompressed-point prefix; a wrapped point
		// is exactly its length prefix plus content.
		var inner []byte
		if rest, err := asn1.Unmarshal(point, &inner); err == nil && len(rest) == 0 && len(inner) > 0 &&
			(inner[0] == 0x04 || inner[0] == 0x02 || inner[0] == 0x03) {
			point = inner
		}
	}
	if len(params) == 0 || len(point) == 0 {
		return [32]byte{}, fmt.Errorf("encoding EC public key: missing params or point")
	}
	return sha256.Sum256(keys.ECSPKI(params, point)), nil
}

// ParseSPKIHash parses a fingerprint written as hex, with or without a "sha256:" prefix and
// colons.
func ParseSPKIHash(s string) ([32]byte, error) {
	var h [32]byte
	s = strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), "sha256:")
	b, err := hex.DecodeString(strings.ReplaceAll(s, ":", ""))
	if err != nil || len(b) != 32 {
		return h, fmt.Errorf("parsing SHA-256 fingerprint %q: want 64 hex digits", s)
	}
	copy(h[:], b)
	return h, nil
}

// KCVLen is the length of a key check value as PKCS#11 defines CKA_CHECK_VALUE.
const KCVLen = 3

// AESKCV returns the AES key check value: the first 3 bytes of AES-ECB over a zero block. It
// returns nil unless key is 16, 24 or 32 bytes.
func AESKCV(key []byte) []byte {
	c, err := aes.NewCipher(key)
	if err != nil {
		return nil
	}
	var out [aes.BlockSize]byte
	c.Encrypt(out[:], make([]byte, aes.BlockSize))
	return out[:KCVLen]
}

// GenericKCV returns the check value PKCS#11 v3 gives generic-secret and HMAC keys: the first 3
// bytes of the SHA-1 of the key value.
func GenericKCV(key []byte) []byte {
	h := sha1.Sum(key)
	return h[:KCVLen]
}

// TokenHMAC returns the fingerprint an inventory file records for an API token: HMAC-SHA256
// under the inventory's salt.
func TokenHMAC(salt []byte, token string) []byte {
	m := hmac.New(sha256.New, salt)
	m.Write([]byte(token))
	return m.Sum(nil)
}

// SymmetricCandidates returns the byte strings a secret value may stand for as a symmetric key:
// its hex decoding, else its base64 decoding (standard or URL alphabet, padded or not), when
// that is 16, 24 or 32 bytes long. Duplicates are removed.
func SymmetricCandidates(value string) [][]byte {
	v := strings.TrimSpace(value)
	v = strings.TrimPrefix(strings.TrimPrefix(v, "0x"), "0X")
	var out [][]byte
	add := func(b []byte) {
		if n := len(b); n != 16 && n != 24 && n != 32 {
			return
		}
		for _, o := range out {
			if string(o) == string(b) {
				return
			}
		}
		out = append(out, b)
	}
	if strings.HasPrefix(v, "{") {
		// A JWK of a symmetric key ("kty":"oct"), as keys recovered from memory are reported.
		var jwk struct{ Kty, K string }
		if json.Unmarshal([]byte(v), &jwk) == nil && jwk.Kty == "oct" {
			if b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(jwk.K, "=")); err == nil {
				add(b)
			}
		}
		return out
	}
	if b, err := hex.DecodeString(strings.ReplaceAll(v, ":", "")); err == nil {
		// Hex digits are base64 characters too; a value that is all hex is hex, since random
		// base64 of this length is all hex digits about once in 10^10.
		add(b)
		return out
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(v); err == nil {
			add(b)
		}
	}
	return out
}

// Compute recomputes a challenge's mechanism locally under candidate.
func Compute(m Mechanism, candidate, input []byte) ([]byte, error) {
	var h func() hash.Hash
	switch m {
	case AESECB:
		c, err := aes.NewCipher(candidate)
		if err != nil {
			return nil, err
		}
		if len(input)%aes.BlockSize != 0 {
			return nil, fmt.Errorf("aes-ecb input of %d bytes is not whole blocks", len(input))
		}
		out := make([]byte, len(input))
		for i := 0; i < len(input); i += aes.BlockSize {
			c.Encrypt(out[i:i+aes.BlockSize], input[i:i+aes.BlockSize])
		}
		return out, nil
	case HMACSHA1:
		h = sha1.New
	case HMACSHA224:
		h = sha256.New224
	case HMACSHA256:
		h = sha256.New
	case HMACSHA384:
		h = sha512.New384
	case HMACSHA512:
		h = sha512.New
	default:
		return nil, fmt.Errorf("mechanism %q: %w", m, ErrUnsupported)
	}
	mac := hmac.New(h, candidate)
	mac.Write(input)
	return mac.Sum(nil), nil
}

// Verify reports whether candidate is the key that produced c. A truncated MAC output is
// compared over its length, which must be at least 10 bytes.
func (c Challenge) Verify(candidate []byte) bool {
	got, err := Compute(c.Mechanism, candidate, c.Input)
	if err != nil || len(c.Output) == 0 {
		return false
	}
	if c.Mechanism != AESECB && len(c.Output) < len(got) {
		if len(c.Output) < 10 {
			return false
		}
		got = got[:len(c.Output)]
	}
	return hmac.Equal(got, c.Output)
}
