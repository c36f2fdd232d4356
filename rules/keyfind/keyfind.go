// Package keyfind finds key material in binary data: crash dumps, core files, memory images and
// binary files. It locates DER private keys by their ASN.1 headers, PEM, OpenSSH and JWK text
// (UTF-8 and UTF-16LE), expanded AES key schedules, and RSA primes that divide a known modulus,
// and confirms each candidate before reporting it, so that random bytes do not become findings.
package keyfind

import (
	"github.com/keywarden/keywarden/rules/keys"
)

// Detector names, as findings report them.
const (
	DetectorDERPKCS1  = "der-pkcs1"    // PKCS#1 RSAPrivateKey
	DetectorDERPKCS8  = "der-pkcs8"    // PKCS#8 PrivateKeyInfo
	DetectorDERSEC1   = "der-sec1"     // SEC1 ECPrivateKey
	DetectorText      = "text"         // PEM, OpenSSH, PuTTY or JWK text
	DetectorTextUTF16 = "text-utf16le" // the same, stored as UTF-16LE
	DetectorAES       = "aes-schedule" // an expanded AES key schedule
	DetectorRSAPrimes = "rsa-primes"   // a prime dividing a modulus found elsewhere
)

// Hit is one key found in binary data.
type Hit struct {
	Offset   int64  // byte offset of the key's first byte in the data scanned
	Length   int    // bytes the key occupies there
	Detector string // one of the Detector* names
	// Key is the parsed asymmetric key; nil for AES keys.
	Key *keys.Key
	// Text is the key as PEM (or, for AES keys, JWK) text, for reports that show
	// secrets and for the rest of the pipeline, which parses it again.
	Text string
	// AES is the recovered AES cipher key (16, 24 or 32 bytes); nil for asymmetric keys.
	AES []byte
	// Confirmed says which consistency checks the key passed ("n = p·q, d·e ≡ 1 mod λ(n)").
	Confirmed string
	// BitErrors is the number of bits in an AES schedule that differed from the schedule the
	// recovered key expands to: 0 unless a tolerance was set.
	BitErrors int
}
