package keys

import (
	"bytes"
	"crypto"
	"crypto/dsa" //nolint:staticcheck // DSA keys are still found in the wild and must be reported
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"math"
	"math/big"
	"slices"
	"sort"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
	"golang.org/x/crypto/ssh"
)

// Parse finds every key in data — a whole file, or the text a rule matched — and parses it.
// Unparseable or truncated material is skipped, never an error: a scan must go on. It never panics.
func Parse(data []byte) (keys []Key) {
	p := &keyParser{data: data}
	defer func() {
		// A bug in one format's keyParser must not stop a scan; keep what was found before it.
		if recover() != nil {
			keys = p.result()
		}
	}()
	p.run()
	return p.result()
}

type kpSpan struct{ off, end int }

type keyParser struct {
	data []byte
	keys []Key
	// claimed holds the ranges a structured format (PEM, PPK, JWK, SSH line) explained, so
	// the base64 and hex sniffers do not report the same bytes a second time.
	claimed []kpSpan
}

func (p *keyParser) run() {
	p.scanPEM(p.data)
	p.scanRFC4716()
	p.scanPPK()
	p.scanSSHLines()
	p.scanJWK()
	p.scanBinaryDER()
	p.scanBase64()
	p.scanHexModulus()
}

// add records k at data[off:end]; the kpSpan is claimed so the sniffers skip it.
func (p *keyParser) add(k Key, off, end int) {
	k.Offset, k.Length = off, end-off
	p.keys = append(p.keys, k)
	p.claim(off, end)
}

// claim keeps claimed sorted by offset, so isClaimed stays a binary search in files with
// thousands of keys.
func (p *keyParser) claim(off, end int) {
	i := sort.Search(len(p.claimed), func(i int) bool { return p.claimed[i].off > off })
	p.claimed = slices.Insert(p.claimed, i, kpSpan{off, end})
}

func (p *keyParser) isClaimed(off, end int) bool {
	// The first span starting at or after end cannot overlap; of those before it, spans
	// nest or follow each other, so checking back while they could reach off is enough.
	i := sort.Search(len(p.claimed), func(i int) bool { return p.claimed[i].off >= end })
	for j := i - 1; j >= 0; j-- {
		if p.claimed[j].end > off {
			return true
		}
		if i-j > 64 {
			break
		}
	}
	return false
}

func (p *keyParser) result() []Key {
	sort.SliceStable(p.keys, func(i, j int) bool { return p.keys[i].Offset < p.keys[j].Offset })
	type id struct {
		off, n         int
		typ, fmt, spki string
		ssh            string
	}
	seen := map[id]bool{}
	out := p.keys[:0:0]
	for _, k := range p.keys {
		i := id{k.Offset, k.Length, k.Type, k.Format, k.PublicSHA256, k.SSHFingerprint}
		if seen[i] {
			continue
		}
		seen[i] = true
		out = append(out, k)
	}
	return out
}

// Object identifiers of the algorithms and kpCurves recognised in SPKI, PKCS#8 and SEC1.
var (
	oidRSA       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidRSAPSS    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}
	oidDSA       = asn1.ObjectIdentifier{1, 2, 840, 10040, 4, 1}
	oidEC        = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidX25519    = asn1.ObjectIdentifier{1, 3, 101, 110}
	oidX448      = asn1.ObjectIdentifier{1, 3, 101, 111}
	oidEd25519   = asn1.ObjectIdentifier{1, 3, 101, 112}
	oidEd448     = asn1.ObjectIdentifier{1, 3, 101, 113}
	oidSecp256k1 = asn1.ObjectIdentifier{1, 3, 132, 0, 10}
)

type kpCurve struct {
	name  string
	bits  int
	oid   asn1.ObjectIdentifier
	curve elliptic.Curve // nil when Go cannot compute with the curve
}

var kpCurves = []kpCurve{
	{"P-224", 224, asn1.ObjectIdentifier{1, 3, 132, 0, 33}, elliptic.P224()},
	{"P-256", 256, asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}, elliptic.P256()},
	{"P-384", 384, asn1.ObjectIdentifier{1, 3, 132, 0, 34}, elliptic.P384()},
	{"P-521", 521, asn1.ObjectIdentifier{1, 3, 132, 0, 35}, elliptic.P521()},
	{"secp256k1", 256, oidSecp256k1, nil},
	{"brainpoolP256r1", 256, asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, 7}, nil},
	{"brainpoolP384r1", 384, asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, 11}, nil},
	{"brainpoolP512r1", 512, asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, 13}, nil},
}

func curveByOID(oid asn1.ObjectIdentifier) *kpCurve {
	for i := range kpCurves {
		if kpCurves[i].oid.Equal(oid) {
			return &kpCurves[i]
		}
	}
	return nil
}

func curveByName(name string) *kpCurve {
	for i := range kpCurves {
		if kpCurves[i].name == name {
			return &kpCurves[i]
		}
	}
	return nil
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// setPublic fills the public half and both fingerprints from a key the standard library knows.
func (k *Key) setPublic(pub crypto.PublicKey) {
	k.Public = pub
	if der, err := x509.MarshalPKIXPublicKey(pub); err == nil {
		k.PublicSHA256 = sha256Hex(der)
	}
	if sp, err := ssh.NewPublicKey(pub); err == nil {
		k.SSHFingerprint = ssh.FingerprintSHA256(sp)
	}
}

// spki builds a SubjectPublicKeyInfo; used for keys crypto/x509 cannot marshal (DSA, RSA with
// an exponent that does not fit an int, secp256k1, Ed448, X448), in the same DER x509 writes.
func kpSPKI(alg asn1.ObjectIdentifier, params func(*cryptobyte.Builder), pub []byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(alg)
			if params != nil {
				params(b)
			}
		})
		b.AddASN1BitString(pub)
	})
	der, err := b.Bytes()
	if err != nil {
		return nil
	}
	return der
}

func kpASN1(f func(*cryptobyte.Builder)) []byte {
	var b cryptobyte.Builder
	f(&b)
	der, _ := b.Bytes()
	return der
}

// kpMaxBits bounds the numbers we compute with, so hostile input cannot make a scan crawl.
const kpMaxBits = 16384

// rsaKey builds an RSA key from its numbers without validating them: broken keys (e=1, even
// n, p==q) are exactly what the weakness checks need to see.
func rsaKey(n, e, d, p, q *big.Int) (Key, bool) {
	if n == nil || e == nil || n.Sign() <= 0 || e.Sign() <= 0 || n.BitLen() > 4*kpMaxBits {
		return Key{}, false
	}
	k := Key{Type: "rsa", Bits: n.BitLen(), RSA: &RSAParts{N: n, E: e, D: d, P: p, Q: q}}
	if d != nil {
		k.Private = true
	}
	if e.IsInt64() && e.Int64() <= math.MaxInt {
		k.Public = &rsa.PublicKey{N: n, E: int(e.Int64())}
	}
	k.PublicSHA256 = sha256Hex(kpSPKI(oidRSA, func(b *cryptobyte.Builder) { b.AddASN1NULL() },
		kpASN1(func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1BigInt(n)
				b.AddASN1BigInt(e)
			})
		})))
	var w []byte
	w = sshString(w, []byte("ssh-rsa"))
	w = sshString(w, sshMpint(e))
	w = sshString(w, sshMpint(n))
	k.SSHFingerprint = sshFingerprint(w)
	return k, true
}

func sshString(w, s []byte) []byte {
	w = append(w, byte(len(s)>>24), byte(len(s)>>16), byte(len(s)>>8), byte(len(s)))
	return append(w, s...)
}

// sshMpint encodes a non-negative integer as RFC 4251 mpint contents.
func sshMpint(x *big.Int) []byte {
	b := x.Bytes()
	if len(b) > 0 && b[0]&0x80 != 0 {
		b = append([]byte{0}, b...)
	}
	return b
}

func sshFingerprint(blob []byte) string {
	h := sha256.Sum256(blob)
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(h[:])
}

// ecKey builds an EC key from a curve and whichever of the point and private scalar is known.
func ecKey(ci *kpCurve, point, priv []byte) Key {
	k := Key{Type: "ecdsa", Private: priv != nil}
	if ci == nil {
		return k
	}
	k.Curve, k.Bits = ci.name, ci.bits
	if ci.curve != nil {
		// The private scalar first: it is what leaked, and a public point stored beside it
		// need not belong to it (crypto/x509 ignores that point too).
		if size := (ci.bits + 7) / 8; len(priv) > 0 && len(priv) <= size {
			raw := make([]byte, size)
			copy(raw[size-len(priv):], priv)
			if pk, err := ecdsa.ParseRawPrivateKey(ci.curve, raw); err == nil {
				k.setPublic(&pk.PublicKey)
				return k
			}
		}
		if len(point) > 0 {
			if pub, err := ecdsa.ParseUncompressedPublicKey(ci.curve, point); err == nil {
				k.setPublic(pub)
				return k
			}
		}
	}
	if len(point) > 0 {
		k.PublicSHA256 = sha256Hex(kpSPKI(oidEC, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(ci.oid) }, point))
	}
	return k
}

// okpKey builds an Ed25519/Ed448/X25519/X448 key from the public and/or private bytes.
func okpKey(oid asn1.ObjectIdentifier, pub, priv []byte) (Key, bool) {
	k := Key{Private: priv != nil}
	switch {
	case oid.Equal(oidEd25519):
		k.Type, k.Curve, k.Bits = "ed25519", "Ed25519", 256
		// The private half first, as for EC keys.
		if len(priv) == ed25519.SeedSize {
			k.setPublic(ed25519.NewKeyFromSeed(priv).Public())
		} else if len(pub) == ed25519.PublicKeySize {
			k.setPublic(ed25519.PublicKey(bytes.Clone(pub)))
		}
	case oid.Equal(oidX25519):
		k.Type, k.Curve, k.Bits = "x25519", "X25519", 256
		if sk, err := ecdh.X25519().NewPrivateKey(priv); err == nil {
			k.setPublic(sk.PublicKey())
		} else if pk, err := ecdh.X25519().NewPublicKey(pub); err == nil {
			k.setPublic(pk)
		}
	case oid.Equal(oidEd448):
		k.Type, k.Curve, k.Bits = "ed448", "Ed448", 448
		if len(pub) == 57 {
			k.PublicSHA256 = sha256Hex(kpSPKI(oid, nil, pub))
		}
	case oid.Equal(oidX448):
		k.Type, k.Curve, k.Bits = "x448", "X448", 448
		if len(pub) == 56 {
			k.PublicSHA256 = sha256Hex(kpSPKI(oid, nil, pub))
		}
	default:
		return Key{}, false
	}
	return k, true
}

// dsaKey builds a DSA key; y is computed from x when only the private key is known.
func dsaKey(p, q, g, y, x *big.Int) (Key, bool) {
	if p == nil || q == nil || g == nil || p.Sign() <= 0 || q.Sign() <= 0 || g.Sign() <= 0 {
		return Key{}, false
	}
	if y == nil && x != nil && p.BitLen() <= 4096 && x.BitLen() <= 512 && x.Sign() > 0 {
		y = new(big.Int).Exp(g, x, p)
	}
	k := Key{Type: "dsa", Bits: p.BitLen(), Private: x != nil}
	if y == nil || y.Sign() <= 0 {
		return k, true
	}
	pub := &dsa.PublicKey{Parameters: dsa.Parameters{P: p, Q: q, G: g}, Y: y}
	k.Public = pub
	k.PublicSHA256 = sha256Hex(kpSPKI(oidDSA, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1BigInt(p)
			b.AddASN1BigInt(q)
			b.AddASN1BigInt(g)
		})
	}, kpASN1(func(b *cryptobyte.Builder) { b.AddASN1BigInt(y) })))
	if sp, err := ssh.NewPublicKey(pub); err == nil {
		k.SSHFingerprint = ssh.FingerprintSHA256(sp)
	}
	return k, true
}

// scanBinaryDER handles data that is itself a DER key or certificate (a .der file).
func (p *keyParser) scanBinaryDER() {
	if len(p.data) < 32 || p.data[0] != 0x30 {
		return
	}
	if k, ok := parseDER(p.data); ok {
		k.Format = "der"
		p.add(k, 0, len(p.data))
	}
}

func kpIsB64(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/' || c == '-' || c == '_'
}

// minDERBase64 is the shortest base64 token tried as DER: an Ed25519 SPKI is 60 characters.
// Shorter tokens are too often something else, and DER must still parse strictly.
const minDERBase64 = 56

// pemInBase64 is "-----BEGIN" in base64, how Kubernetes secrets and CI variables hold PEM.
const pemInBase64 = "LS0tLS1CRUdJTi"

// scanBase64 finds standalone base64 tokens that decode to DER keys or to PEM text.
func (p *keyParser) scanBase64() {
	d := p.data
	for i := 0; i < len(d); {
		if !kpIsB64(d[i]) {
			i++
			continue
		}
		j := i
		for j < len(d) && kpIsB64(d[j]) {
			j++
		}
		end := j
		for end < len(d) && end < j+2 && d[end] == '=' {
			end++
		}
		start := i
		i = end
		if j-start < minDERBase64 || (d[start] != 'M' && d[start] != 'L') || p.isClaimed(start, end) {
			continue
		}
		raw := decodeB64(d[start:j])
		if raw == nil {
			continue
		}
		if d[start] == 'L' {
			if bytes.HasPrefix(d[start:j], []byte(pemInBase64)) {
				sub := &keyParser{data: raw}
				sub.scanPEM(raw)
				for _, k := range sub.keys {
					p.add(k, start, end)
				}
			}
			continue
		}
		if k, ok := parseDER(raw); ok {
			k.Format = "der"
			p.add(k, start, end)
		}
	}
}

// decodeB64 decodes standard or URL-safe base64, padded or not; nil when it is neither.
func decodeB64(s []byte) []byte {
	s = bytes.TrimRight(s, "=")
	enc := base64.RawStdEncoding
	if bytes.ContainsAny(s, "-_") {
		if bytes.ContainsAny(s, "+/") {
			return nil
		}
		enc = base64.RawURLEncoding
	}
	out := make([]byte, enc.DecodedLen(len(s)))
	n, err := enc.Decode(out, s)
	if err != nil {
		return nil
	}
	return out[:n]
}

func kpIsHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func kpIsWord(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_'
}

// scanHexModulus finds odd hex runs the size of a 1024–4096-bit modulus. The public exponent
// is not known from the modulus alone, so E stays nil and no SPKI hash is claimed: guessing
// 65537 would make a fingerprint the inventory might falsely match.
func (p *keyParser) scanHexModulus() {
	d := p.data
	for i := 0; i < len(d); {
		if !kpIsHex(d[i]) {
			i++
			continue
		}
		j := i
		for j < len(d) && kpIsHex(d[j]) {
			j++
		}
		start := i
		i = j
		if start > 0 && kpIsWord(d[start-1]) && !(start >= 2 && (d[start-1] == 'x' || d[start-1] == 'X') && d[start-2] == '0') {
			continue
		}
		if j < len(d) && kpIsWord(d[j]) {
			continue
		}
		run := d[start:j]
		if len(run) > 2 && run[0] == '0' && run[1] == '0' {
			run = run[2:]
		}
		switch len(run) {
		case 256, 384, 512, 768, 1024:
		default:
			continue
		}
		// A modulus printed at its size has its top bit set; other hex (hashes, random
		// tokens) would be odd and full-length only half as often.
		if !kpIsHex(run[0]) || run[0] < '8' || (run[0] > '9' && run[0] < 'A') {
			continue
		}
		if p.isClaimed(start, j) {
			continue
		}
		n, ok := new(big.Int).SetString(string(run), 16)
		if !ok || n.Bit(0) == 0 {
			continue
		}
		p.add(Key{Type: "rsa", Bits: n.BitLen(), Format: "rsa-modulus-hex", RSA: &RSAParts{N: n}}, start, j)
	}
}

// keyFromCrypto describes a public key the standard library already parsed.
func keyFromCrypto(pub crypto.PublicKey) (Key, bool) {
	switch pub := pub.(type) {
	case *rsa.PublicKey:
		return rsaKey(pub.N, big.NewInt(int64(pub.E)), nil, nil, nil)
	case *ecdsa.PublicKey:
		k := Key{Type: "ecdsa"}
		if ci := curveByName(pub.Curve.Params().Name); ci != nil {
			k.Curve, k.Bits = ci.name, ci.bits
		}
		k.setPublic(pub)
		return k, true
	case ed25519.PublicKey:
		return okpKey(oidEd25519, pub, nil)
	case *ecdh.PublicKey:
		if pub.Curve() == ecdh.X25519() {
			return okpKey(oidX25519, pub.Bytes(), nil)
		}
	case *dsa.PublicKey:
		return dsaKey(pub.P, pub.Q, pub.G, pub.Y, nil)
	}
	return Key{}, false
}

// RSASPKI returns the SubjectPublicKeyInfo DER of an RSA public key given by its numbers, the
// same bytes PublicSHA256 hashes; HSM inventories rebuild it from CKA_MODULUS and friends.
func RSASPKI(n, e *big.Int) []byte {
	return kpSPKI(oidRSA, func(b *cryptobyte.Builder) { b.AddASN1NULL() },
		kpASN1(func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1BigInt(n)
				b.AddASN1BigInt(e)
			})
		}))
}

// ECSPKI returns the SubjectPublicKeyInfo DER of an EC public key from the DER of its
// ECParameters (a named-curve OID, as in PKCS#11 CKA_EC_PARAMS) and its encoded point.
func ECSPKI(params, point []byte) []byte {
	return kpSPKI(oidEC, func(b *cryptobyte.Builder) { b.AddBytes(params) }, point)
}
