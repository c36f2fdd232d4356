package keyfind

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"math/big"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
	"golang.org/x/crypto/ssh"

	"github.com/keywarden/keywarden/rules/keys"
)

// canonicalPEM is the one text a private key is reported as, whichever encoding it was found
// in: the same key as PKCS#8 in one place and PKCS#1 in another is one finding with two
// locations. Keys the standard library cannot re-encode keep the encoding they were found in.
func canonicalPEM(k keys.Key, der []byte, detector string) string {
	if s, ok := canonicalRSA(k); ok {
		return s
	}
	var priv any
	var err error
	switch detector {
	case DetectorDERSEC1:
		priv, err = x509.ParseECPrivateKey(der)
	case DetectorDERPKCS8:
		priv, err = x509.ParsePKCS8PrivateKey(der)
	default:
		err = errNoCanon
	}
	if err == nil {
		if s, ok := marshalPrivate(priv); ok {
			return s
		}
	}
	label := "PRIVATE KEY"
	switch {
	case detector == DetectorDERSEC1:
		label = "EC PRIVATE KEY"
	case k.Format == "dsa":
		label = "DSA PRIVATE KEY"
	case detector == DetectorDERPKCS1:
		label = "RSA PRIVATE KEY"
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: label, Bytes: der}))
}

// canonicalText is canonicalPEM for a key found as text (PEM, OpenSSH, PuTTY, JWK): encrypted
// keys and formats the standard library cannot read stay as found.
func canonicalText(k keys.Key, text []byte) string {
	if s, ok := canonicalRSA(k); ok {
		return s
	}
	if !k.Encrypted {
		if priv, err := ssh.ParseRawPrivateKey(text); err == nil {
			if s, ok := marshalPrivate(priv); ok {
				return s
			}
		}
	}
	return string(text)
}

var errNoCanon = errors.New("no canonical form")

// canonicalRSA encodes a consistent RSA private key as PKCS#1 from its numbers: crypto/rsa
// refuses keys below 1024 bits, which are exactly the ones worth reporting.
func canonicalRSA(k keys.Key) (string, bool) {
	r := k.RSA
	if k.Type != "rsa" || r == nil {
		return "", false
	}
	if _, ok := confirmRSA(r); !ok {
		return "", false
	}
	der, ok := pkcs1DER(r.N, r.E, r.D, r.P, r.Q)
	if !ok {
		return "", false
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: der})), true
}

// pkcs1DER encodes an RSAPrivateKey with its CRT values computed from p and q.
func pkcs1DER(n, e, d, p, q *big.Int) ([]byte, bool) {
	one := big.NewInt(1)
	dp := new(big.Int).Mod(d, new(big.Int).Sub(p, one))
	dq := new(big.Int).Mod(d, new(big.Int).Sub(q, one))
	qinv := new(big.Int).ModInverse(q, p)
	if qinv == nil {
		return nil, false
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(0)
		for _, x := range []*big.Int{n, e, d, p, q, dp, dq, qinv} {
			b.AddASN1BigInt(x)
		}
	})
	der, err := b.Bytes()
	return der, err == nil
}

// marshalPrivate encodes an EC or Edwards private key the standard way.
func marshalPrivate(priv any) (string, bool) {
	switch pk := priv.(type) {
	case *ecdsa.PrivateKey:
		if der, err := x509.MarshalECPrivateKey(pk); err == nil {
			return string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})), true
		}
	case *ed25519.PrivateKey:
		return marshalPrivate(*pk)
	case ed25519.PrivateKey, *ecdh.PrivateKey:
		if der, err := x509.MarshalPKCS8PrivateKey(pk); err == nil {
			return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), true
		}
	}
	return "", false
}
