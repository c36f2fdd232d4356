// Package keys parses key material found by a scan (PEM, DER, OpenSSH, PuTTY, JWK, X.509,
// RSA moduli in hex) and judges it: weak, broken or published keys, and weak protection.
package keys

import (
	"crypto"
	"math/big"
)

// Key is one key found in some text or file.
type Key struct {
	Type  string // "rsa", "ecdsa", "ed25519", "ed448", "x25519", "x448", "dsa", or "unknown"
	Bits  int    // modulus size for RSA and DSA, field size for curves
	Curve string // "P-256", "P-384", "P-521", "secp256k1", "Ed25519", …; "" for RSA and DSA
	// Format is where the key came from: "pkcs1", "pkcs8", "pkcs8-encrypted", "sec1",
	// "pem-encrypted" (legacy Proc-Type: 4,ENCRYPTED), "spki" (PUBLIC KEY), "openssh",
	// "ssh-public", "ppk1", "ppk2", "ppk3", "dsa" (OpenSSL DSA PRIVATE KEY), "jwk", "x509", "csr",
	// "der", "rsa-modulus-hex".
	Format  string
	Private bool // the material holds the private half (encrypted or not)
	// Public is the public key as crypto/x509 and golang.org/x/crypto/ssh know it; nil when
	// the public half is not known (an encrypted key whose public part is not stored in the
	// clear) or the type is not supported by the standard library (ed448, x448).
	Public crypto.PublicKey
	// PublicSHA256 is the lower-case hex SHA-256 of the DER SubjectPublicKeyInfo: the
	// fingerprint the inventory cross-check matches on. "" when the public half is unknown.
	PublicSHA256 string
	// SSHFingerprint is "SHA256:" and the unpadded base64 SHA-256 of the SSH wire-format
	// public key, as ssh-keygen -l prints it; "" when the type has no SSH form.
	SSHFingerprint string
	Encrypted      bool
	KDF            *KDF      // how an encrypted key is protected; nil when not encrypted
	RSA            *RSAParts // nil unless Type is "rsa"
	// Offset and Length locate the key's text (or bytes) in the data handed to Parse.
	Offset, Length int
}

// KDF describes the protection of an encrypted private key.
type KDF struct {
	Name       string // "pbkdf2", "scrypt", "bcrypt" (OpenSSH), "argon2id"/"argon2i"/"argon2d" (PPK v3), "md5" (legacy PEM EVP_BytesToKey), "sha1" (PPK v2), "pbkdf1", "pkcs12"
	Hash       string // PBKDF2's PRF: "hmac-sha1", "hmac-sha256", "hmac-sha512", …
	Iterations int    // PBKDF2 iterations, bcrypt rounds, argon2 passes
	Memory     int    // scrypt N or argon2 memory in KiB, when the KDF has one
	Cipher     string // "aes-256-cbc", "des-ede3-cbc", "des-cbc", "aes256-ctr", …
}

// RSAParts are the numbers of an RSA key; the private ones are nil for a public key.
type RSAParts struct {
	N, E    *big.Int
	D, P, Q *big.Int
}
