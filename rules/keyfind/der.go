package keyfind

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"math/big"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/keywarden/keywarden/rules/keys"
)

// maxDER bounds the DER structures tried: an RSA-8192 private key is about 4.7 KiB, and a
// bigger claimed length is garbage that must not make the scan read far ahead.
const maxDER = 8 << 10

var (
	versionTag = []byte{0x02, 0x01} // INTEGER of length 1: the version of every private-key structure
	oidEC      = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	// rsaOIDBytes is rsaEncryption as DER: every RSA SubjectPublicKeyInfo (alone or in a
	// certificate) carries it, which is how the moduli for the prime search are found.
	rsaOIDBytes = []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01}
)

// seqAt returns the end of the DER SEQUENCE whose header starts at s and whose contents start at
// c, or -1 when the header at s is no definite-length SEQUENCE ending exactly there.
func seqAt(buf []byte, s, c int) int {
	if s < 0 || buf[s] != 0x30 {
		return -1
	}
	var n int
	switch h := c - s; {
	case h == 2 && buf[s+1] < 0x80:
		n = int(buf[s+1])
	case h == 3 && buf[s+1] == 0x81 && buf[s+2] >= 0x80:
		n = int(buf[s+2])
	case h == 4 && buf[s+1] == 0x82 && buf[s+2] != 0:
		n = int(buf[s+2])<<8 | int(buf[s+3])
	default:
		return -1
	}
	if n > maxDER || c+n > len(buf) {
		return -1
	}
	return c + n
}

// findDER reports the confirmed private keys in DER whose first byte lies in [from, limit);
// keys nested in one already reported (PKCS#1 inside PKCS#8) are not reported again, and
// structures starting before from are still parsed so that their nested keys are recognised.
// RSA public keys seen along the way are handed to pub.
func findDER(buf []byte, from, limit int, emit func(Hit), pub func(n, e *big.Int)) {
	claimedEnd := 0
	for i := max(from-maxDER, 0); i < min(limit+8, len(buf)); {
		j := bytes.Index(buf[i:min(limit+8, len(buf))], versionTag)
		if j < 0 {
			break
		}
		v := i + j
		i = v + 1
		if v+3 >= len(buf) || buf[v+2] > 1 {
			continue
		}
		next := buf[v+3]
		// PKCS#1 and DSA continue with INTEGER, PKCS#8 with the AlgorithmIdentifier, SEC1
		// (version 1) with the private scalar's OCTET STRING.
		if !(buf[v+2] == 0 && next == 0x02 || next == 0x30 || buf[v+2] == 1 && next == 0x04) {
			continue
		}
		for h := 2; h <= 4; h++ {
			s := v - h
			if s < 0 || s < claimedEnd {
				continue
			}
			end := seqAt(buf, s, v)
			if end < 0 {
				continue
			}
			hit, ok := confirmDER(buf[s:end])
			if !ok {
				continue
			}
			claimedEnd = end
			if s >= from && s < limit {
				hit.Offset, hit.Length = int64(s), end-s
				emit(hit)
			}
			break
		}
	}
	findRSAPublic(buf, from, limit, pub)
}

// findRSAPublic hands the modulus of every RSA SubjectPublicKeyInfo (alone or inside a
// certificate) whose OID lies in [from, limit) to pub.
func findRSAPublic(buf []byte, from, limit int, pub func(n, e *big.Int)) {
	if pub == nil {
		return
	}
	for i := from; i < limit; {
		j := bytes.Index(buf[i:min(limit+len(rsaOIDBytes), len(buf))], rsaOIDBytes)
		if j < 0 {
			return
		}
		o := i + j
		i = o + 1
		// SEQUENCE { SEQUENCE { OID, NULL }, BIT STRING }: the AlgorithmIdentifier header is
		// 2 bytes before the OID, the SPKI header 2 to 4 before that.
		a := o - 2
		if a < 0 || buf[a] != 0x30 {
			continue
		}
		for h := 2; h <= 4; h++ {
			end := seqAt(buf, a-h, a)
			if end < 0 {
				continue
			}
			if k, err := x509.ParsePKIXPublicKey(buf[a-h : end]); err == nil {
				if rk, ok := k.(*rsa.PublicKey); ok {
					pub(rk.N, big.NewInt(int64(rk.E)))
				}
			}
			break
		}
	}
}

// confirmDER parses der as a PKCS#1, PKCS#8, SEC1 or OpenSSL DSA private key and checks that
// its numbers belong together; ok is false for anything else, or a key that is inconsistent.
func confirmDER(der []byte) (Hit, bool) {
	if len(der) < 32 {
		return Hit{}, false
	}
	var detector string
	in := cryptobyte.String(der)
	var seq cryptobyte.String
	var version int
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() || !seq.ReadASN1Integer(&version) {
		return Hit{}, false
	}
	switch {
	case seq.PeekASN1Tag(cbasn1.SEQUENCE):
		detector = DetectorDERPKCS8
	case version == 1 && seq.PeekASN1Tag(cbasn1.OCTET_STRING):
		detector = DetectorDERSEC1
	case version == 0 && seq.PeekASN1Tag(cbasn1.INTEGER):
		detector = DetectorDERPKCS1
	default:
		return Hit{}, false
	}
	k, ok := parseOne(der)
	if !ok || !k.Private {
		return Hit{}, false
	}
	confirmed, ok := confirmKey(k, der, detector)
	if !ok {
		return Hit{}, false
	}
	switch detector {
	case DetectorDERPKCS8:
		k.Format = "pkcs8"
	case DetectorDERSEC1:
		k.Format = "sec1"
	default:
		if k.Type == "dsa" {
			k.Format = "dsa"
		} else {
			k.Format = "pkcs1"
		}
	}
	text := canonicalPEM(k, der, detector)
	// crypto/x509, which confirmed the key and re-encoded it, reads some encodings that are not
	// DER (an explicit tag's length ignored) otherwise than keys does: unless both read the
	// same key, the text would not be the key reported.
	if ks := keys.Parse([]byte(text)); len(ks) == 0 || ks[0].PublicSHA256 != k.PublicSHA256 {
		return Hit{}, false
	}
	return Hit{Detector: detector, Key: &k, Text: text, Confirmed: confirmed}, true
}

// parseOne parses der as exactly one key.
func parseOne(der []byte) (keys.Key, bool) {
	for _, k := range keys.Parse(der) {
		if k.Offset == 0 && k.Length == len(der) {
			return k, true
		}
	}
	return keys.Key{}, false
}

// confirmKey checks a private key's internal consistency and says what was checked.
func confirmKey(k keys.Key, der []byte, detector string) (string, bool) {
	switch k.Type {
	case "rsa":
		return confirmRSA(k.RSA)
	case "ecdsa", "ed25519", "x25519":
		return confirmEC(der, detector)
	case "dsa":
		if k.Public == nil {
			return "", false
		}
		return "y = g^x mod p", true // dsaKey computed y from x when the structure had none
	}
	return "", false
}

// confirmRSA checks n = p·q and d·e ≡ 1 mod λ(n): random bytes shaped like RSAPrivateKey do
// not pass, and neither does a key with a corrupted number.
func confirmRSA(r *keys.RSAParts) (string, bool) {
	if r == nil || r.P == nil || r.Q == nil || r.D == nil || r.N.BitLen() < 256 || r.P.Sign() <= 0 || r.Q.Sign() <= 0 {
		return "", false
	}
	if new(big.Int).Mul(r.P, r.Q).Cmp(r.N) != 0 {
		return "", false
	}
	one := big.NewInt(1)
	p1, q1 := new(big.Int).Sub(r.P, one), new(big.Int).Sub(r.Q, one)
	g := new(big.Int).GCD(nil, nil, p1, q1)
	if g.Sign() == 0 {
		return "", false
	}
	lambda := new(big.Int).Mul(p1, q1)
	lambda.Quo(lambda, g)
	de := new(big.Int).Mul(r.D, r.E)
	if de.Mod(de, lambda).Cmp(one) != 0 {
		return "", false
	}
	return "n = p·q, d·e ≡ 1 mod λ(n)", true
}

// confirmEC checks that an EC or Edwards private key's stored public key belongs to its private
// scalar or seed; a key that stores none is confirmed by its structure and a valid scalar.
func confirmEC(der []byte, detector string) (string, bool) {
	var priv any
	var err error
	if detector == DetectorDERSEC1 {
		priv, err = x509.ParseECPrivateKey(der)
	} else {
		priv, err = x509.ParsePKCS8PrivateKey(der)
	}
	stored := storedPublic(der, detector)
	switch pk := priv.(type) {
	case *ecdsa.PrivateKey:
		if err != nil {
			return "", false
		}
		if stored == nil {
			return "valid scalar (no public point stored)", true
		}
		point, perr := pk.PublicKey.Bytes()
		if perr != nil || !bytes.Equal(point, stored) {
			return "", false
		}
		return "public point = scalar·G", true
	case ed25519.PrivateKey:
		if stored != nil && !bytes.Equal(pk.Public().(ed25519.PublicKey), stored) {
			return "", false
		}
		if stored == nil {
			return "Ed25519 seed (no public key stored)", true
		}
		return "public key = seed's", true
	case *ecdh.PrivateKey:
		if stored != nil && !bytes.Equal(pk.PublicKey().Bytes(), stored) {
			return "", false
		}
		return "X25519 private key", true
	}
	// A curve crypto/x509 does not implement (secp256k1, Brainpool): the structure parsed and
	// keys named the curve; it cannot be checked further here.
	if err != nil && storedCurveKnown(der) {
		return "structure only (curve not implemented by crypto/x509)", true
	}
	return "", false
}

// storedPublic returns the public key an ECPrivateKey ([1] publicKey) or OneAsymmetricKey
// ([1] publicKey) carries, or nil.
func storedPublic(der []byte, detector string) []byte {
	in := cryptobyte.String(der)
	var seq cryptobyte.String
	var version int
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1Integer(&version) {
		return nil
	}
	if detector == DetectorDERPKCS8 {
		var alg, priv cryptobyte.String
		var oid asn1.ObjectIdentifier
		if !seq.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&oid) || !seq.ReadASN1(&priv, cbasn1.OCTET_STRING) {
			return nil
		}
		if oid.Equal(oidEC) {
			return storedPublic(priv, DetectorDERSEC1)
		}
		seq.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific())
		var pub cryptobyte.String
		var has bool
		if seq.ReadOptionalASN1(&pub, &has, cbasn1.Tag(1).ContextSpecific()) && has && len(pub) > 1 && pub[0] == 0 {
			return pub[1:]
		}
		return nil
	}
	var priv []byte
	var params, pubField cryptobyte.String
	var hasParams, hasPub bool
	if !seq.ReadASN1Bytes(&priv, cbasn1.OCTET_STRING) ||
		!seq.ReadOptionalASN1(&params, &hasParams, cbasn1.Tag(0).Constructed().ContextSpecific()) ||
		!seq.ReadOptionalASN1(&pubField, &hasPub, cbasn1.Tag(1).Constructed().ContextSpecific()) || !hasPub {
		return nil
	}
	var bits asn1.BitString
	if !pubField.ReadASN1BitString(&bits) {
		return nil
	}
	return bits.Bytes
}

// storedCurveKnown reports whether keys named the curve of an EC key crypto/x509 refused.
func storedCurveKnown(der []byte) bool {
	k, ok := parseOne(der)
	return ok && k.Curve != ""
}
