package keys

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
	"golang.org/x/crypto/ssh"
)

// FuzzParse checks that Parse never panics and that what it returns is self-consistent. It
// runs the keyParser without Parse's recover, so a panic is a failure rather than a lost key.
func FuzzParse(f *testing.F) {
	for _, k := range testKeys(f) {
		for _, e := range encodings(f, k) {
			f.Add([]byte(e.text))
		}
	}
	// The formats encodings does not write: RFC 4716 and DSA public keys, known_hosts lines,
	// OpenSSL's DSA private key, and DER under labels that do not say what it is.
	for _, blob := range fzSSHSeeds(f) {
		if bytes.HasPrefix(blob, []byte("openssh-key-v1")) {
			continue
		}
		b64 := base64.StdEncoding.EncodeToString(blob)
		var wrapped strings.Builder
		for len(b64) > 70 {
			wrapped.WriteString(b64[:70] + "\n")
			b64 = b64[70:]
		}
		wrapped.WriteString(b64)
		f.Add([]byte("---- BEGIN SSH2 PUBLIC KEY ----\nComment: \"fuzz key\"\n" + wrapped.String() + "\n---- END SSH2 PUBLIC KEY ----\n"))
		algo := string(blob[4 : 4+int(blob[3])])
		f.Add([]byte("|1|c2FsdA==|aGFzaA== " + algo + " " + base64.StdEncoding.EncodeToString(blob) + "\n"))
	}
	for _, der := range fzDERSeeds(f) {
		f.Add(pem.EncodeToMemory(&pem.Block{Type: "DSA PRIVATE KEY", Bytes: der}))
	}
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "keys", "badkeys", "*"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p := &keyParser{data: data}
		p.run()
		for _, k := range p.result() {
			checkConsistent(t, data, k)
		}
	})
}

// FuzzParseDER feeds arbitrary bytes to the DER parser directly, so that the fuzzer mutates
// ASN.1 rather than its base64 or PEM armour. Nothing may panic, what it returns must be
// self-consistent, and it must agree with crypto/x509. A key, certificate or request in the
// encoding x509 itself writes is read as a key of the same type with the same
// SubjectPublicKeyInfo fingerprint, and so is any private key both read in full, whose public
// half both derive from it. x509 also takes encodings that are not DER (a SEQUENCE with
// elements after those it knows, a bit string with unused bits, which it shifts, an explicit
// tag whose length it ignores), which this parser may refuse or read otherwise.
func FuzzParseDER(f *testing.F) {
	for _, der := range fzDERSeeds(f) {
		f.Add(der)
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		k, ok := parseDER(der)
		if ok {
			k.Offset, k.Length = 0, len(der)
			checkConsistent(t, der, k)
		}
		pub, what, private, canonical := fzStdlibKey(der)
		if pub == nil {
			return
		}
		want, known := keyFromCrypto(pub)
		switch {
		case !known || !canonical && !(private && ok && k.PublicSHA256 != ""):
		case !ok:
			t.Fatalf("crypto/x509 reads a %s with a %T; parseDER reads nothing", what, pub)
		case k.Type != want.Type:
			t.Fatalf("crypto/x509 reads a %s with a %T; parseDER reads a %s key", what, pub, k.Type)
		case want.PublicSHA256 != "" && k.PublicSHA256 != want.PublicSHA256:
			t.Fatalf("%s: SPKI fingerprint %s, crypto/x509's key has %s", what, k.PublicSHA256, want.PublicSHA256)
		}
	})
}

// fzStdlibKey returns the public key crypto/x509 finds in der, what der is to it, whether it
// is a private key, and whether der is the encoding x509 writes for it.
func fzStdlibKey(der []byte) (pub crypto.PublicKey, what string, private, canonical bool) {
	same := func(b []byte, err error) bool { return err == nil && bytes.Equal(b, der) }
	if pub, err := x509.ParsePKIXPublicKey(der); err == nil {
		return pub, "SubjectPublicKeyInfo", false, same(x509.MarshalPKIXPublicKey(pub))
	}
	if priv, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		if s, ok := priv.(interface{ Public() crypto.PublicKey }); ok {
			return s.Public(), "PKCS#8 key", true, same(x509.MarshalPKCS8PrivateKey(priv))
		}
	}
	if priv, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return priv.Public(), "PKCS#1 private key", true, same(x509.MarshalPKCS1PrivateKey(priv), nil)
	}
	if pub, err := x509.ParsePKCS1PublicKey(der); err == nil {
		return pub, "PKCS#1 public key", false, same(x509.MarshalPKCS1PublicKey(pub), nil)
	}
	if priv, err := x509.ParseECPrivateKey(der); err == nil {
		return priv.Public(), "SEC1 key", true, same(x509.MarshalECPrivateKey(priv))
	}
	spki := func(pub crypto.PublicKey, raw []byte) bool {
		b, err := x509.MarshalPKIXPublicKey(pub)
		return err == nil && bytes.Equal(b, raw)
	}
	if c, err := x509.ParseCertificate(der); err == nil && c.PublicKey != nil {
		return c.PublicKey, "certificate", false, bytes.Equal(c.Raw, der) && spki(c.PublicKey, c.RawSubjectPublicKeyInfo)
	}
	if c, err := x509.ParseCertificateRequest(der); err == nil && c.PublicKey != nil {
		return c.PublicKey, "certificate request", false, bytes.Equal(c.Raw, der) && spki(c.PublicKey, c.RawSubjectPublicKeyInfo)
	}
	return nil, "", false, false
}

// fzDERSeeds encodes every test key in every DER structure parseDER reads, and a DSA key.
func fzDERSeeds(t testing.TB) [][]byte {
	t.Helper()
	var out [][]byte
	add := func(der []byte, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, der)
	}
	for _, k := range testKeys(t) {
		var priv any = k.priv
		if k.x25519 != nil {
			priv = k.x25519
		}
		pk8, err := x509.MarshalPKCS8PrivateKey(priv)
		add(pk8, err)
		add(encryptPKCS8(t, pk8, 1), nil)
		add(x509.MarshalPKIXPublicKey(k.pub))
		switch p := k.priv.(type) {
		case *rsa.PrivateKey:
			add(x509.MarshalPKCS1PrivateKey(p), nil)
			add(x509.MarshalPKCS1PublicKey(&p.PublicKey), nil)
		case *ecdsa.PrivateKey:
			add(x509.MarshalECPrivateKey(p))
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: k.name},
			NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<31, 0)}
		if k.x25519 == nil {
			add(x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.pub, testCA))
			add(x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: tmpl.Subject}, k.priv))
		}
	}
	// DSA numbers that only have the shape of a key: parsing does not check them, and
	// generating real parameters takes seconds.
	rng := mrand.New(mrand.NewPCG(11, 7))
	num := func(bytes int) *big.Int {
		b := make([]byte, bytes)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		b[0] |= 0x80
		return new(big.Int).SetBytes(b)
	}
	p, q, g, y, x := num(128), num(20), num(127), num(127), num(19)
	dsaParams := kpASN1(func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1BigInt(p)
			b.AddASN1BigInt(q)
			b.AddASN1BigInt(g)
		})
	})
	out = append(out, kpSPKI(oidDSA, func(b *cryptobyte.Builder) { b.AddBytes(dsaParams) }, kpASN1(func(b *cryptobyte.Builder) { b.AddASN1BigInt(y) })))
	out = append(out, kpASN1(func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			for _, n := range []*big.Int{big.NewInt(0), p, q, g, y, x} {
				b.AddASN1BigInt(n)
			}
		})
	}))
	return out
}

// FuzzParseSSH feeds arbitrary bytes to the SSH wire-format readers: as a public key blob and
// as the body of an openssh-key-v1 private key file. Nothing may panic, what they return must be
// self-consistent, and they must agree with golang.org/x/crypto/ssh: a public key blob the ssh
// package reads is read as a key with the same fingerprints, and a private key file it reads
// (unencrypted) yields a private key.
func FuzzParseSSH(f *testing.F) {
	for _, b := range fzSSHSeeds(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, blob []byte) {
		k, ok := sshPublicFromBlob(blob)
		if ok {
			k.Offset, k.Length, k.Format = 0, len(blob), "ssh-public"
			checkConsistent(t, blob, k)
		}
		if pk, err := ssh.ParsePublicKey(blob); err == nil {
			if _, cert := pk.(*ssh.Certificate); !cert {
				cp, isCrypto := pk.(ssh.CryptoPublicKey)
				want, known := Key{}, false
				if isCrypto {
					want, known = keyFromCrypto(cp.CryptoPublicKey())
				}
				switch {
				case !known:
				case !ok:
					t.Fatalf("the ssh package reads a %s key; sshPublicFromBlob reads nothing", pk.Type())
				case k.SSHFingerprint != ssh.FingerprintSHA256(pk):
					t.Fatalf("%s: SSH fingerprint %s, the ssh package's is %s", pk.Type(), k.SSHFingerprint, ssh.FingerprintSHA256(pk))
				case want.PublicSHA256 != "" && k.PublicSHA256 != want.PublicSHA256:
					t.Fatalf("%s: SPKI fingerprint %s, want %s", pk.Type(), k.PublicSHA256, want.PublicSHA256)
				}
			}
		}
		got := parseOpenSSHPrivate(blob)
		for _, k := range got {
			k.Offset, k.Length = 0, len(blob)
			checkConsistent(t, blob, k)
			if !k.Private || k.Format != "openssh" {
				t.Fatalf("openssh-key-v1 gave %+v", k)
			}
		}
		text := pem.EncodeToMemory(&pem.Block{Type: "OPENSSH PRIVATE KEY", Bytes: blob})
		if priv, err := ssh.ParseRawPrivateKey(text); err == nil {
			if _, known := keyFromCrypto(fzPublicOf(priv)); known && len(got) == 0 {
				t.Fatalf("the ssh package reads a %T; parseOpenSSHPrivate reads nothing", priv)
			}
		}
	})
}

// fzPublicOf is the public half of a private key the ssh package returns.
func fzPublicOf(priv any) crypto.PublicKey {
	switch p := priv.(type) {
	case *ed25519.PrivateKey: // ssh returns a pointer for ed25519
		return p.Public()
	case interface{ Public() crypto.PublicKey }:
		return p.Public()
	}
	return nil
}

// fzSSHSeeds are wire-format public keys of every test key, a certificate, a DSA and a
// security-key blob, and the openssh-key-v1 body of every private test key, plain and
// encrypted.
func fzSSHSeeds(t testing.TB) [][]byte {
	t.Helper()
	var out [][]byte
	for _, k := range testKeys(t) {
		if k.priv == nil {
			continue
		}
		sp, err := ssh.NewPublicKey(k.pub)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, sp.Marshal())
		block, err := ssh.MarshalPrivateKey(k.priv, "fuzz@example")
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, block.Bytes)
		if k.typ == "ed25519" {
			block, err := ssh.MarshalPrivateKeyWithPassphrase(k.priv, "", []byte("fuzz"))
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, block.Bytes)
			signer, err := ssh.NewSignerFromKey(k.priv)
			if err != nil {
				t.Fatal(err)
			}
			cert := &ssh.Certificate{Key: sp, CertType: ssh.UserCert, KeyId: "fuzz", ValidBefore: ssh.CertTimeInfinity}
			if err := cert.SignCert(rand.Reader, signer); err != nil {
				t.Fatal(err)
			}
			out = append(out, cert.Marshal())
			out = append(out, ssh.Marshal(struct {
				Name, Key []byte
				App       string
			}{[]byte(ssh.KeyAlgoSKED25519), []byte(k.pub.(ed25519.PublicKey)), "ssh:"}))
		}
	}
	rng := mrand.New(mrand.NewPCG(11, 8))
	num := func(n int) *big.Int {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		b[0] |= 0x40
		return new(big.Int).SetBytes(b)
	}
	out = append(out, ssh.Marshal(struct {
		Name       string
		P, Q, G, Y *big.Int
	}{ssh.KeyAlgoDSA, num(128), num(20), num(128), num(128)}))
	return out
}
