package keys

import (
	"encoding/asn1"
	"math/big"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// parseDER recognises one DER structure by its shape, not a label: PEM labels lie ("PRIVATE
// KEY" around PKCS#1) and bare base64 has none. Format names the structure found.
func parseDER(der []byte) (Key, bool) {
	for _, f := range []func([]byte) (Key, bool){
		parseSPKI, parseEncryptedPKCS8, parsePKCS8, parseCertificate, parseCSR, parseIntegerSeq, parseSEC1,
	} {
		if k, ok := f(der); ok {
			return k, true
		}
	}
	return Key{}, false
}

// parseSPKI reads a SubjectPublicKeyInfo.
func parseSPKI(der []byte) (Key, bool) {
	s := cryptobyte.String(der)
	var elem cryptobyte.String
	if !s.ReadASN1Element(&elem, cbasn1.SEQUENCE) {
		return Key{}, false
	}
	k, ok := keyFromSPKI(elem)
	k.Format = "spki"
	return k, ok
}

func keyFromSPKI(elem cryptobyte.String) (Key, bool) {
	raw := []byte(elem)
	var body, alg cryptobyte.String
	var oid asn1.ObjectIdentifier
	var bits asn1.BitString
	if !elem.ReadASN1(&body, cbasn1.SEQUENCE) || !body.ReadASN1(&alg, cbasn1.SEQUENCE) ||
		!alg.ReadASN1ObjectIdentifier(&oid) || !body.ReadASN1BitString(&bits) || !body.Empty() {
		return Key{}, false
	}
	pub := bits.Bytes
	switch {
	case oid.Equal(oidRSA) || oid.Equal(oidRSAPSS):
		in := cryptobyte.String(pub)
		var seq cryptobyte.String
		n, e := new(big.Int), new(big.Int)
		if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1Integer(n) || !seq.ReadASN1Integer(e) {
			return Key{}, false
		}
		return rsaKey(n, e, nil, nil, nil)
	case oid.Equal(oidEC):
		var curveOID asn1.ObjectIdentifier
		if !alg.ReadASN1ObjectIdentifier(&curveOID) {
			// Explicit curve parameters: a key, but no curve we can name.
			return Key{Type: "ecdsa", PublicSHA256: sha256Hex(raw)}, true
		}
		ci := curveByOID(curveOID)
		k := ecKey(ci, pub, nil)
		if ci == nil || k.PublicSHA256 == "" {
			// A compressed point or an unknown curve: the SPKI as found is all we have.
			k.PublicSHA256 = sha256Hex(raw)
		}
		return k, true
	case oid.Equal(oidDSA):
		var params cryptobyte.String
		p, q, g, y := new(big.Int), new(big.Int), new(big.Int), new(big.Int)
		in := cryptobyte.String(pub)
		if !alg.ReadASN1(&params, cbasn1.SEQUENCE) || !params.ReadASN1Integer(p) || !params.ReadASN1Integer(q) ||
			!params.ReadASN1Integer(g) || !in.ReadASN1Integer(y) {
			return Key{}, false
		}
		return dsaKey(p, q, g, y, nil)
	}
	if k, ok := okpKey(oid, pub, nil); ok {
		if k.PublicSHA256 == "" {
			k.PublicSHA256 = sha256Hex(raw)
		}
		return k, true
	}
	// An algorithm we do not know (post-quantum, GOST, …): still a public key whose SPKI
	// fingerprint the inventory cross-check can match.
	return Key{Type: "unknown", PublicSHA256: sha256Hex(raw)}, true
}

// parsePKCS8 reads a PrivateKeyInfo / OneAsymmetricKey (RFC 5958).
func parsePKCS8(der []byte) (Key, bool) {
	s := cryptobyte.String(der)
	var seq, alg, priv cryptobyte.String
	var version int
	var oid asn1.ObjectIdentifier
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1Integer(&version) || (version != 0 && version != 1) ||
		!seq.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&oid) ||
		!seq.ReadASN1(&priv, cbasn1.OCTET_STRING) || !seq.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return Key{}, false
	}
	var pubField cryptobyte.String
	var hasPub bool
	if !seq.ReadOptionalASN1(&pubField, &hasPub, cbasn1.Tag(1).ContextSpecific()) {
		return Key{}, false
	}
	var pub []byte
	if hasPub && len(pubField) > 1 && pubField[0] == 0 {
		pub = pubField[1:]
	}
	k, ok := pkcs8Inner(oid, alg, priv, pub)
	k.Format = "pkcs8"
	k.Private = true
	return k, ok
}

func pkcs8Inner(oid asn1.ObjectIdentifier, params, priv cryptobyte.String, pub []byte) (Key, bool) {
	switch {
	case oid.Equal(oidRSA) || oid.Equal(oidRSAPSS):
		k, ok := parseIntegerSeq(priv)
		return k, ok && k.Type == "rsa" && k.Private
	case oid.Equal(oidEC):
		var curveOID asn1.ObjectIdentifier
		var ci *kpCurve
		if params.ReadASN1ObjectIdentifier(&curveOID) {
			ci = curveByOID(curveOID)
		}
		return ecPrivateKey(priv, ci)
	case oid.Equal(oidDSA):
		var ps cryptobyte.String
		p, q, g, x := new(big.Int), new(big.Int), new(big.Int), new(big.Int)
		if !params.ReadASN1(&ps, cbasn1.SEQUENCE) || !ps.ReadASN1Integer(p) || !ps.ReadASN1Integer(q) ||
			!ps.ReadASN1Integer(g) || !priv.ReadASN1Integer(x) {
			return Key{}, false
		}
		return dsaKey(p, q, g, nil, x)
	}
	var seed []byte
	if !priv.ReadASN1Bytes(&seed, cbasn1.OCTET_STRING) {
		seed = nil
	}
	if k, ok := okpKey(oid, pub, seed); ok {
		k.Private = true
		return k, true
	}
	return Key{Type: "unknown", Private: true}, true
}

// parseSEC1 reads an RFC 5915 ECPrivateKey ("EC PRIVATE KEY").
func parseSEC1(der []byte) (Key, bool) {
	k, ok := ecPrivateKey(cryptobyte.String(der), nil)
	k.Format = "sec1"
	return k, ok
}

// sec1 reads an ECPrivateKey; ci is the curve from an enclosing PKCS#8, if any.
func ecPrivateKey(s cryptobyte.String, ci *kpCurve) (Key, bool) {
	var seq, params, pubField cryptobyte.String
	var version int
	var priv []byte
	var hasParams, hasPub bool
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1Integer(&version) || version != 1 ||
		!seq.ReadASN1Bytes(&priv, cbasn1.OCTET_STRING) ||
		!seq.ReadOptionalASN1(&params, &hasParams, cbasn1.Tag(0).Constructed().ContextSpecific()) ||
		!seq.ReadOptionalASN1(&pubField, &hasPub, cbasn1.Tag(1).Constructed().ContextSpecific()) {
		return Key{}, false
	}
	var curveOID asn1.ObjectIdentifier
	if hasParams && params.ReadASN1ObjectIdentifier(&curveOID) {
		if c := curveByOID(curveOID); c != nil {
			ci = c
		}
	}
	var point asn1.BitString
	if hasPub && !pubField.ReadASN1BitString(&point) {
		return Key{}, false
	}
	k := ecKey(ci, point.Bytes, priv)
	k.Private = true
	return k, true
}

// parseIntegerSeq reads the all-INTEGER SEQUENCEs: PKCS#1 RSAPublicKey (n, e), PKCS#1
// RSAPrivateKey (version, n, e, d, p, q, dp, dq, qinv) and OpenSSL's DSA private key
// (version, p, q, g, y, x). They are parsed by hand because crypto/x509 rejects the broken
// keys (e=1, even e, p==q) the weakness checks must see.
func parseIntegerSeq(der []byte) (Key, bool) {
	s := cryptobyte.String(der)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return Key{}, false
	}
	var ints []*big.Int
	for len(ints) < 9 && seq.PeekASN1Tag(cbasn1.INTEGER) {
		x := new(big.Int)
		if !seq.ReadASN1Integer(x) {
			return Key{}, false
		}
		ints = append(ints, x)
	}
	rest := seq.Empty()
	switch {
	case len(ints) == 2 && rest:
		k, ok := rsaKey(ints[0], ints[1], nil, nil, nil)
		k.Format = "pkcs1"
		return k, ok
	case len(ints) == 9 && ints[0].Sign() == 0 || len(ints) == 9 && ints[0].Cmp(big.NewInt(1)) == 0:
		k, ok := rsaKey(ints[1], ints[2], ints[3], ints[4], ints[5])
		k.Format = "pkcs1"
		return k, ok
	case len(ints) == 6 && rest && ints[0].Sign() == 0:
		k, ok := dsaKey(ints[1], ints[2], ints[3], ints[4], ints[5])
		k.Format = "dsa"
		return k, ok
	}
	return Key{}, false
}

// parseCertificate reads the public key an X.509 certificate carries. It walks the ASN.1
// itself so certificates for keys crypto/x509 refuses (secp256k1, Ed448, e=1) still count.
func parseCertificate(der []byte) (Key, bool) {
	s := cryptobyte.String(der)
	var cert, tbs, spkiElem cryptobyte.String
	if !s.ReadASN1(&cert, cbasn1.SEQUENCE) || !cert.ReadASN1(&tbs, cbasn1.SEQUENCE) ||
		!cert.SkipASN1(cbasn1.SEQUENCE) || !cert.SkipASN1(cbasn1.BIT_STRING) ||
		!tbs.SkipOptionalASN1(cbasn1.Tag(0).Constructed().ContextSpecific()) ||
		!tbs.SkipASN1(cbasn1.INTEGER) || !tbs.SkipASN1(cbasn1.SEQUENCE) || !tbs.SkipASN1(cbasn1.SEQUENCE) ||
		!tbs.SkipASN1(cbasn1.SEQUENCE) || !tbs.SkipASN1(cbasn1.SEQUENCE) || !tbs.ReadASN1Element(&spkiElem, cbasn1.SEQUENCE) {
		return Key{}, false
	}
	k, ok := keyFromSPKI(spkiElem)
	k.Format = "x509"
	return k, ok
}

// parseCSR reads the public key a PKCS#10 certification request carries.
func parseCSR(der []byte) (Key, bool) {
	s := cryptobyte.String(der)
	var csr, info, spkiElem cryptobyte.String
	if !s.ReadASN1(&csr, cbasn1.SEQUENCE) || !csr.ReadASN1(&info, cbasn1.SEQUENCE) ||
		!csr.SkipASN1(cbasn1.SEQUENCE) || !csr.SkipASN1(cbasn1.BIT_STRING) ||
		!info.SkipASN1(cbasn1.INTEGER) || !info.SkipASN1(cbasn1.SEQUENCE) ||
		!info.ReadASN1Element(&spkiElem, cbasn1.SEQUENCE) || !info.PeekASN1Tag(cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return Key{}, false
	}
	k, ok := keyFromSPKI(spkiElem)
	k.Format = "csr"
	return k, ok
}

// Encryption algorithms of PKCS#5/PKCS#8/PKCS#12, named as OpenSSL names the kpCiphers.
var (
	oidPBES2  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidScrypt = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11591, 4, 11}
)

var kpPRFs = map[string]string{
	"1.2.840.113549.2.7":  "hmac-sha1",
	"1.2.840.113549.2.8":  "hmac-sha224",
	"1.2.840.113549.2.9":  "hmac-sha256",
	"1.2.840.113549.2.10": "hmac-sha384",
	"1.2.840.113549.2.11": "hmac-sha512",
	"1.2.840.113549.2.12": "hmac-sha512-224",
	"1.2.840.113549.2.13": "hmac-sha512-256",
	"1.2.156.10197.1.401": "hmac-sm3",
	"1.2.643.7.1.1.4.2":   "hmac-streebog-512",
}

var kpCiphers = map[string]string{
	"2.16.840.1.101.3.4.1.2":    "aes-128-cbc",
	"2.16.840.1.101.3.4.1.22":   "aes-192-cbc",
	"2.16.840.1.101.3.4.1.42":   "aes-256-cbc",
	"2.16.840.1.101.3.4.1.6":    "aes-128-gcm",
	"2.16.840.1.101.3.4.1.26":   "aes-192-gcm",
	"2.16.840.1.101.3.4.1.46":   "aes-256-gcm",
	"1.2.840.113549.3.7":        "des-ede3-cbc",
	"1.3.14.3.2.7":              "des-cbc",
	"1.2.840.113549.3.2":        "rc2-cbc",
	"1.2.840.113549.3.9":        "rc5-cbc",
	"1.2.156.10197.1.104.2":     "sm4-cbc",
	"1.2.392.200011.61.1.1.1.2": "camellia-128-cbc",
	"1.2.392.200011.61.1.1.1.4": "camellia-256-cbc",
}

// kpPBES1 are the single-step schemes of PKCS#5 v1.5 and PKCS#12: KDF name, hash, cipher.
var kpPBES1 = map[string][3]string{
	"1.2.840.113549.1.5.1":    {"pbkdf1", "md2", "des-cbc"},
	"1.2.840.113549.1.5.4":    {"pbkdf1", "md2", "rc2-cbc"},
	"1.2.840.113549.1.5.3":    {"pbkdf1", "md5", "des-cbc"},
	"1.2.840.113549.1.5.6":    {"pbkdf1", "md5", "rc2-cbc"},
	"1.2.840.113549.1.5.10":   {"pbkdf1", "sha1", "des-cbc"},
	"1.2.840.113549.1.5.11":   {"pbkdf1", "sha1", "rc2-cbc"},
	"1.2.840.113549.1.12.1.1": {"pkcs12", "sha1", "rc4-128"},
	"1.2.840.113549.1.12.1.2": {"pkcs12", "sha1", "rc4-40"},
	"1.2.840.113549.1.12.1.3": {"pkcs12", "sha1", "des-ede3-cbc"},
	"1.2.840.113549.1.12.1.4": {"pkcs12", "sha1", "des-ede-cbc"},
	"1.2.840.113549.1.12.1.5": {"pkcs12", "sha1", "rc2-128-cbc"},
	"1.2.840.113549.1.12.1.6": {"pkcs12", "sha1", "rc2-40-cbc"},
}

// parseEncryptedPKCS8 reads an EncryptedPrivateKeyInfo. The key inside stays unknown; what
// matters is how well it is protected.
func parseEncryptedPKCS8(der []byte) (Key, bool) {
	s := cryptobyte.String(der)
	var seq, alg cryptobyte.String
	var oid asn1.ObjectIdentifier
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1(&alg, cbasn1.SEQUENCE) ||
		!alg.ReadASN1ObjectIdentifier(&oid) || !seq.SkipASN1(cbasn1.OCTET_STRING) || !seq.Empty() {
		return Key{}, false
	}
	kdf := &KDF{Name: "unknown"}
	if v, ok := kpPBES1[oid.String()]; ok {
		kdf = &KDF{Name: v[0], Hash: v[1], Cipher: v[2]}
		var params cryptobyte.String
		if alg.ReadASN1(&params, cbasn1.SEQUENCE) && params.SkipASN1(cbasn1.OCTET_STRING) {
			params.ReadASN1Integer(&kdf.Iterations)
		}
	} else if oid.Equal(oidPBES2) {
		kdf = pbes2(alg)
	}
	return Key{Type: "unknown", Format: "pkcs8-encrypted", Private: true, Encrypted: true, KDF: kdf}, true
}

// pbes2 reads PBES2-params: the key derivation function and the encryption scheme.
func pbes2(alg cryptobyte.String) *KDF {
	kdf := &KDF{Name: "unknown"}
	var params, kdfAlg, enc, kdfParams cryptobyte.String
	var kdfOID, encOID asn1.ObjectIdentifier
	if !alg.ReadASN1(&params, cbasn1.SEQUENCE) || !params.ReadASN1(&kdfAlg, cbasn1.SEQUENCE) ||
		!kdfAlg.ReadASN1ObjectIdentifier(&kdfOID) {
		return kdf
	}
	if params.ReadASN1(&enc, cbasn1.SEQUENCE) && enc.ReadASN1ObjectIdentifier(&encOID) {
		kdf.Cipher = kpCiphers[encOID.String()]
		if kdf.Cipher == "" {
			kdf.Cipher = encOID.String()
		}
	}
	switch {
	case kdfOID.Equal(oidPBKDF2):
		kdf.Name, kdf.Hash = "pbkdf2", "hmac-sha1" // the PRF's DEFAULT
		if !kdfAlg.ReadASN1(&kdfParams, cbasn1.SEQUENCE) {
			return kdf
		}
		// The salt is a CHOICE; "otherSource" is an AlgorithmIdentifier.
		var tag cbasn1.Tag
		var skip cryptobyte.String
		if !kdfParams.ReadAnyASN1(&skip, &tag) || !kdfParams.ReadASN1Integer(&kdf.Iterations) {
			return kdf
		}
		kdfParams.SkipOptionalASN1(cbasn1.INTEGER) // keyLength
		var prf cryptobyte.String
		var prfOID asn1.ObjectIdentifier
		if kdfParams.ReadASN1(&prf, cbasn1.SEQUENCE) && prf.ReadASN1ObjectIdentifier(&prfOID) {
			if h, ok := kpPRFs[prfOID.String()]; ok {
				kdf.Hash = h
			} else {
				kdf.Hash = prfOID.String()
			}
		}
	case kdfOID.Equal(oidScrypt):
		kdf.Name = "scrypt"
		if kdfAlg.ReadASN1(&kdfParams, cbasn1.SEQUENCE) && kdfParams.SkipASN1(cbasn1.OCTET_STRING) {
			kdfParams.ReadASN1Integer(&kdf.Memory)
		}
	default:
		kdf.Name = kdfOID.String()
	}
	return kdf
}
