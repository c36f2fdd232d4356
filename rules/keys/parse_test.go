package keys

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/dsa" //nolint:staticcheck // DSA keys are still found and must be parsed
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
	"golang.org/x/crypto/pbkdf2"
	"golang.org/x/crypto/ssh"
)

// kpTestKey is a generated key with what every kpEncoding of it must parse to.
type kpTestKey struct {
	name       string
	priv       crypto.Signer // nil for x25519
	x25519     *ecdh.PrivateKey
	pub        crypto.PublicKey
	typ, curve string
	bits       int
}

var (
	testKeysOnce sync.Once
	testKeysVal  []kpTestKey
	testCA       ed25519.PrivateKey
)

func testKeys(t testing.TB) []kpTestKey {
	t.Helper()
	testKeysOnce.Do(func() {
		must := func(err error) {
			if err != nil {
				panic(err)
			}
		}
		// 1024 bits: the size does not matter to parsing, and generation stays fast.
		r, err := rsa.GenerateKey(rand.Reader, 1024)
		must(err)
		testKeysVal = append(testKeysVal, kpTestKey{name: "rsa1024", priv: r, pub: &r.PublicKey, typ: "rsa", bits: 1024})
		for _, c := range []struct {
			curve elliptic.Curve
			name  string
			bits  int
		}{{elliptic.P256(), "P-256", 256}, {elliptic.P384(), "P-384", 384}, {elliptic.P521(), "P-521", 521}} {
			k, err := ecdsa.GenerateKey(c.curve, rand.Reader)
			must(err)
			testKeysVal = append(testKeysVal, kpTestKey{name: "ecdsa-" + c.name, priv: k, pub: &k.PublicKey, typ: "ecdsa", curve: c.name, bits: c.bits})
		}
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		must(err)
		testKeysVal = append(testKeysVal, kpTestKey{name: "ed25519", priv: priv, pub: pub, typ: "ed25519", curve: "Ed25519", bits: 256})
		x, err := ecdh.X25519().GenerateKey(rand.Reader)
		must(err)
		testKeysVal = append(testKeysVal, kpTestKey{name: "x25519", x25519: x, pub: x.PublicKey(), typ: "x25519", curve: "X25519", bits: 256})
		_, testCA, err = ed25519.GenerateKey(rand.Reader)
		must(err)
	})
	return testKeysVal
}

func pemText(typ string, der []byte, headers map[string]string) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Headers: headers, Bytes: der}))
}

// kpEncoding is one way to write a key down, and what Parse must report for it.
type kpEncoding struct {
	name      string
	text      string
	format    string
	private   bool
	encrypted bool
	kdf       *KDF
	noPublic  bool   // the public half is not recoverable (encrypted, hex modulus)
	typ       string // overrides the key's type ("unknown" for encrypted PKCS#8)
}

var testPassphrase = []byte("correct horse battery staple")

func encodings(t testing.TB, k kpTestKey) []kpEncoding {
	t.Helper()
	var out []kpEncoding
	add := func(e kpEncoding) { out = append(out, e) }
	check := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var privKey any = k.priv
	if k.x25519 != nil {
		privKey = k.x25519
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(privKey)
	check(err)
	spkiDER, err := x509.MarshalPKIXPublicKey(k.pub)
	check(err)
	pkcs8PEM := pemText("PRIVATE KEY", pkcs8, nil)
	add(kpEncoding{name: "pkcs8", text: pkcs8PEM, format: "pkcs8", private: true})
	add(kpEncoding{name: "spki", text: pemText("PUBLIC KEY", spkiDER, nil), format: "spki"})
	add(kpEncoding{name: "pkcs8-crlf-indented", format: "pkcs8", private: true,
		text: "key: |\r\n    " + strings.ReplaceAll(strings.TrimSpace(pkcs8PEM), "\n", "\r\n    ") + "\r\nnext: 1\r\n"})
	js, _ := json.Marshal(map[string]string{"type": "service_account", "private_key": pkcs8PEM})
	add(kpEncoding{name: "pkcs8-in-json", text: string(js), format: "pkcs8", private: true})
	add(kpEncoding{name: "pkcs8-double-escaped", format: "pkcs8", private: true,
		text: `PRIVATE_KEY="` + strings.ReplaceAll(pkcs8PEM, "\n", `\\n`) + `"`})
	add(kpEncoding{name: "pkcs8-base64-pem", format: "pkcs8", private: true,
		text: "tls.key: " + base64.StdEncoding.EncodeToString([]byte(pkcs8PEM)) + "\n"})
	add(kpEncoding{name: "der-in-json", text: `{"key":"` + base64.StdEncoding.EncodeToString(pkcs8) + `"}`, format: "der", private: true})
	add(kpEncoding{name: "der-url-unpadded", text: "KEY=" + base64.RawURLEncoding.EncodeToString(spkiDER) + "\n", format: "der"})
	add(kpEncoding{name: "der-binary", text: string(pkcs8), format: "der", private: true})
	add(kpEncoding{name: "pkcs8-encrypted", text: pemText("ENCRYPTED PRIVATE KEY", encryptPKCS8(t, pkcs8, 2048), nil),
		format: "pkcs8-encrypted", private: true, encrypted: true, noPublic: true, typ: "unknown",
		kdf: &KDF{Name: "pbkdf2", Hash: "hmac-sha256", Iterations: 2048, Cipher: "aes-256-cbc"}})

	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: k.name},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<31, 0)}
	// crypto/x509 cannot put an X25519 key in a certificate.
	if cert, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.pub, testCA); err == nil || k.x25519 == nil {
		check(err)
		add(kpEncoding{name: "x509", text: pemText("CERTIFICATE", cert, nil), format: "x509"})
	}
	if k.priv != nil {
		csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: k.name}}, k.priv)
		check(err)
		add(kpEncoding{name: "csr", text: pemText("CERTIFICATE REQUEST", csr, nil), format: "csr"})
		add(kpEncoding{name: "csr-new", text: pemText("NEW CERTIFICATE REQUEST", csr, nil), format: "csr"})

		block, err := ssh.MarshalPrivateKey(k.priv, "test@example")
		check(err)
		add(kpEncoding{name: "openssh", text: string(pem.EncodeToMemory(block)), format: "openssh", private: true})
		block, err = ssh.MarshalPrivateKeyWithPassphrase(k.priv, "test@example", testPassphrase)
		check(err)
		add(kpEncoding{name: "openssh-encrypted", text: string(pem.EncodeToMemory(block)), format: "openssh", private: true,
			encrypted: true, kdf: &KDF{Name: "bcrypt", Iterations: 16, Cipher: "aes256-ctr"}})

		sp, err := ssh.NewPublicKey(k.pub)
		check(err)
		line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sp)))
		add(kpEncoding{name: "authorized_keys", format: "ssh-public",
			text: "# deploy\nfrom=\"10.0.0.0/8\",no-pty " + line + " deploy@ci\n"})
		pub := sp.Marshal()
		var privBlob []byte
		if r, ok := k.priv.(*rsa.PrivateKey); ok {
			privBlob = ssh.Marshal(struct{ D, P, Q, Iqmp *big.Int }{r.D, r.Primes[0], r.Primes[1], r.Precomputed.Qinv})
		} else {
			privBlob = make([]byte, 48)
		}
		add(kpEncoding{name: "ppk2", text: kpPPK(2, sp.Type(), pub, privBlob, false), format: "ppk2", private: true})
		add(kpEncoding{name: "ppk2-encrypted", text: kpPPK(2, sp.Type(), pub, privBlob, true), format: "ppk2", private: true,
			encrypted: true, kdf: &KDF{Name: "sha1", Iterations: 1, Cipher: "aes256-cbc"}})
		add(kpEncoding{name: "ppk3", text: kpPPK(3, sp.Type(), pub, privBlob, false), format: "ppk3", private: true})
		add(kpEncoding{name: "ppk3-encrypted", text: kpPPK(3, sp.Type(), pub, privBlob, true), format: "ppk3", private: true,
			encrypted: true, kdf: &KDF{Name: "argon2id", Iterations: 13, Memory: 8192, Cipher: "aes256-cbc"}})
	}

	switch priv := k.priv.(type) {
	case *rsa.PrivateKey:
		pkcs1 := x509.MarshalPKCS1PrivateKey(priv)
		add(kpEncoding{name: "pkcs1", text: pemText("RSA PRIVATE KEY", pkcs1, nil), format: "pkcs1", private: true})
		add(kpEncoding{name: "pkcs1-public", text: pemText("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&priv.PublicKey), nil), format: "pkcs1"})
		add(kpEncoding{name: "pkcs1-mislabelled", text: pemText("PRIVATE KEY", pkcs1, nil), format: "pkcs1", private: true})
		//nolint:staticcheck // legacy encryption is what is being recognised
		blk, err := x509.EncryptPEMBlock(rand.Reader, "RSA PRIVATE KEY", pkcs1, testPassphrase, x509.PEMCipher3DES)
		check(err)
		add(kpEncoding{name: "pem-encrypted", text: string(pem.EncodeToMemory(blk)), format: "pem-encrypted", private: true,
			encrypted: true, noPublic: true, kdf: &KDF{Name: "md5", Iterations: 1, Cipher: "des-ede3-cbc"}})
		n := priv.N.Text(16)
		add(kpEncoding{name: "rsa-modulus-hex", text: "modulus = 0x" + n + "\n", format: "rsa-modulus-hex", noPublic: true})
		add(kpEncoding{name: "jwk", text: jwkJSON(map[string][]byte{"n": priv.N.Bytes(), "e": big.NewInt(int64(priv.E)).Bytes(),
			"d": priv.D.Bytes(), "p": priv.Primes[0].Bytes(), "q": priv.Primes[1].Bytes()}, "RSA", ""), format: "jwk", private: true})
		add(kpEncoding{name: "jwks-public", text: `{"keys":[` + jwkJSON(map[string][]byte{"n": priv.N.Bytes(), "e": big.NewInt(int64(priv.E)).Bytes()}, "RSA", "") + `]}`,
			format: "jwk"})
	case *ecdsa.PrivateKey:
		sec1, err := x509.MarshalECPrivateKey(priv)
		check(err)
		add(kpEncoding{name: "sec1", text: pemText("EC PRIVATE KEY", sec1, nil), format: "sec1", private: true})
		//nolint:staticcheck // legacy encryption is what is being recognised
		blk, err := x509.EncryptPEMBlock(rand.Reader, "EC PRIVATE KEY", sec1, testPassphrase, x509.PEMCipherAES256)
		check(err)
		add(kpEncoding{name: "pem-encrypted", text: string(pem.EncodeToMemory(blk)), format: "pem-encrypted", private: true,
			encrypted: true, noPublic: true, kdf: &KDF{Name: "md5", Iterations: 1, Cipher: "aes-256-cbc"}})
		pt, err := priv.PublicKey.Bytes()
		check(err)
		size := (len(pt) - 1) / 2
		d, err := priv.Bytes()
		check(err)
		x, y := pt[1:1+size], pt[1+size:]
		add(kpEncoding{name: "jwk", text: jwkJSON(map[string][]byte{"x": x, "y": y, "d": d}, "EC", k.curve), format: "jwk", private: true})
		add(kpEncoding{name: "jwks-public", text: `{"keys":[` + jwkJSON(map[string][]byte{"x": x, "y": y}, "EC", k.curve) + `]}`, format: "jwk"})
	case ed25519.PrivateKey:
		add(kpEncoding{name: "jwk", text: jwkJSON(map[string][]byte{"x": priv.Public().(ed25519.PublicKey), "d": priv.Seed()}, "OKP", "Ed25519"),
			format: "jwk", private: true})
	}
	if k.x25519 != nil {
		add(kpEncoding{name: "jwk", text: jwkJSON(map[string][]byte{"x": k.x25519.PublicKey().Bytes(), "d": k.x25519.Bytes()}, "OKP", "X25519"),
			format: "jwk", private: true})
	}
	return out
}

func jwkJSON(members map[string][]byte, kty, crv string) string {
	m := map[string]string{"kty": kty, "kid": "test"}
	if crv != "" {
		m["crv"] = crv
	}
	for k, v := range members {
		m[k] = base64.RawURLEncoding.EncodeToString(v)
	}
	b, _ := json.MarshalIndent(m, "", "  ")
	return string(b)
}

// ppk writes a PuTTY key file by hand; the MAC is not checked by Parse, so it is fake.
func kpPPK(version int, algo string, pub, priv []byte, encrypted bool) string {
	lines := func(b []byte) (int, string) {
		s := base64.StdEncoding.EncodeToString(b)
		var out []string
		for len(s) > 64 {
			out = append(out, s[:64])
			s = s[64:]
		}
		out = append(out, s)
		return len(out), strings.Join(out, "\r\n")
	}
	var b strings.Builder
	enc := "none"
	if encrypted {
		enc = "aes256-cbc"
		priv = append(priv, make([]byte, 16-len(priv)%16)...)
	}
	fmt.Fprintf(&b, "PuTTY-User-Key-File-%d: %s\r\nEncryption: %s\r\nComment: \r\n", version, algo, enc)
	n, s := lines(pub)
	fmt.Fprintf(&b, "Public-Lines: %d\r\n%s\r\n", n, s)
	if version == 3 && encrypted {
		b.WriteString("Key-Derivation: Argon2id\r\nArgon2-Memory: 8192\r\nArgon2-Passes: 13\r\nArgon2-Parallelism: 1\r\nArgon2-Salt: 0123456789abcdef0123456789abcdef\r\n")
	}
	n, s = lines(priv)
	fmt.Fprintf(&b, "Private-Lines: %d\r\n%s\r\nPrivate-MAC: %s\r\n", n, s, strings.Repeat("ab", 32))
	return b.String()
}

var (
	oidHMACSHA256 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidAES256CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
)

// encryptPKCS8 builds a PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) EncryptedPrivateKeyInfo as
// OpenSSL writes it.
func encryptPKCS8(t testing.TB, der []byte, iter int) []byte {
	t.Helper()
	salt, iv := make([]byte, 16), make([]byte, 16)
	rand.Read(salt)
	rand.Read(iv)
	key := pbkdf2.Key(testPassphrase, salt, iter, 32, sha256.New)
	pad := 16 - len(der)%16
	pt := append(bytes.Clone(der), bytes.Repeat([]byte{byte(pad)}, pad)...)
	block, _ := aes.NewCipher(key)
	ct := make([]byte, len(pt))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(ct, pt)
	return buildEncryptedPKCS8(oidPBES2, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(oidPBKDF2)
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1OctetString(salt)
					b.AddASN1Int64(int64(iter))
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1ObjectIdentifier(oidHMACSHA256)
						b.AddASN1NULL()
					})
				})
			})
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(oidAES256CBC)
				b.AddASN1OctetString(iv)
			})
		})
	}, ct)
}

func buildEncryptedPKCS8(alg asn1.ObjectIdentifier, params func(*cryptobyte.Builder), ct []byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(alg)
			params(b)
		})
		b.AddASN1OctetString(ct)
	})
	return b.BytesOrPanic()
}

func TestParseFormats(t *testing.T) {
	for _, k := range testKeys(t) {
		spkiDER, err := x509.MarshalPKIXPublicKey(k.pub)
		if err != nil {
			t.Fatal(err)
		}
		wantSHA := sha256Hex(spkiDER)
		var wantSSH string
		if sp, err := ssh.NewPublicKey(k.pub); err == nil {
			wantSSH = ssh.FingerprintSHA256(sp)
		}
		for _, e := range encodings(t, k) {
			t.Run(k.name+"/"+e.name, func(t *testing.T) {
				text := "some text before\n" + e.text + "\nand after"
				if e.format == "der" && e.name == "der-binary" {
					text = e.text
				}
				got := Parse([]byte(text))
				if len(got) != 1 {
					t.Fatalf("Parse found %d keys, want 1: %+v", len(got), got)
				}
				g := got[0]
				checkConsistent(t, []byte(text), g)
				want := Key{Type: k.typ, Bits: k.bits, Curve: k.curve, Format: e.format, Private: e.private,
					Encrypted: e.encrypted, KDF: e.kdf, PublicSHA256: wantSHA, SSHFingerprint: wantSSH}
				if e.typ != "" {
					want.Type = e.typ
				}
				if e.noPublic {
					want.PublicSHA256, want.SSHFingerprint = "", ""
				}
				if want.Encrypted && e.noPublic || want.Type == "unknown" {
					want.Bits, want.Curve = 0, ""
				}
				gotCmp := g
				gotCmp.Public, gotCmp.RSA, gotCmp.Offset, gotCmp.Length = nil, nil, 0, 0
				if diff := cmp.Diff(want, gotCmp); diff != "" {
					t.Errorf("Parse mismatch (-want +got):\n%s", diff)
				}
				if !e.noPublic && g.Public == nil {
					t.Errorf("Public is nil")
				}
				if k.typ == "rsa" && !e.encrypted || k.typ == "rsa" && e.format == "openssh" || k.typ == "rsa" && strings.HasPrefix(e.format, "ppk") {
					r := k.priv.(*rsa.PrivateKey)
					if g.RSA == nil || g.RSA.N.Cmp(r.N) != 0 {
						t.Fatalf("RSA.N missing or wrong: %+v", g.RSA)
					}
					if e.format != "rsa-modulus-hex" && (g.RSA.E == nil || g.RSA.E.Int64() != int64(r.E)) {
						t.Errorf("RSA.E = %v", g.RSA.E)
					}
					if e.private && !e.encrypted && e.format != "der" || e.name == "der-in-json" || e.name == "der-binary" {
						if g.RSA.D == nil || g.RSA.D.Cmp(r.D) != 0 || g.RSA.P == nil || g.RSA.Q == nil {
							t.Errorf("RSA private parts missing: %+v", g.RSA)
						}
					}
				}
				if s := text[g.Offset : g.Offset+g.Length]; e.format != "der" && !strings.Contains(e.text, s) {
					t.Errorf("Offset/Length %d/%d point outside the key text: %q", g.Offset, g.Length, s)
				}
			})
		}
	}
}

// checkConsistent asserts what must hold for every key Parse returns, whatever the input.
func checkConsistent(t testing.TB, data []byte, k Key) {
	t.Helper()
	switch k.Type {
	case "rsa", "ecdsa", "ed25519", "ed448", "x25519", "x448", "dsa", "unknown":
	default:
		t.Errorf("Type = %q", k.Type)
	}
	if k.Offset < 0 || k.Length <= 0 || k.Offset+k.Length > len(data) {
		t.Errorf("Offset/Length %d/%d outside data of %d bytes", k.Offset, k.Length, len(data))
	}
	if k.Format == "" {
		t.Errorf("Format is empty")
	}
	if k.RSA != nil {
		if k.Type != "rsa" {
			t.Errorf("RSA parts on a %q key", k.Type)
		}
		if k.RSA.N != nil && (k.Bits <= 0 || k.Bits != k.RSA.N.BitLen()) {
			t.Errorf("Bits = %d, modulus has %d", k.Bits, k.RSA.N.BitLen())
		}
	}
	if k.Encrypted != (k.KDF != nil) {
		t.Errorf("Encrypted = %v with KDF %+v", k.Encrypted, k.KDF)
	}
	if k.Encrypted && !k.Private {
		t.Errorf("encrypted but not private")
	}
	if k.PublicSHA256 != "" {
		if b, err := hex.DecodeString(k.PublicSHA256); err != nil || len(b) != 32 {
			t.Errorf("PublicSHA256 = %q", k.PublicSHA256)
		}
	}
	if k.SSHFingerprint != "" && !strings.HasPrefix(k.SSHFingerprint, "SHA256:") {
		t.Errorf("SSHFingerprint = %q", k.SSHFingerprint)
	}
	if k.Public != nil {
		if der, err := x509.MarshalPKIXPublicKey(k.Public); err == nil && sha256Hex(der) != k.PublicSHA256 {
			t.Errorf("PublicSHA256 %s does not match Public (%s)", k.PublicSHA256, sha256Hex(der))
		}
		if sp, err := ssh.NewPublicKey(k.Public); err == nil && ssh.FingerprintSHA256(sp) != k.SSHFingerprint &&
			!strings.HasPrefix(k.Format, "ssh") {
			t.Errorf("SSHFingerprint %s does not match Public", k.SSHFingerprint)
		}
	}
}

func TestParseBadkeys(t *testing.T) {
	tests := []struct {
		file       string
		typ, curve string
		bits       int
		private    bool
		format     string
	}{
		{"ec-p256-rfc-example.key", "ecdsa", "P-256", 256, false, "spki"},
		{"ed25519-rfc-example.key", "ed25519", "Ed25519", 256, false, "spki"},
		{"jwk-rsa-ok.json", "rsa", "", 2048, false, "jwk"},
		{"jwk-rsa-rfc7517.json", "rsa", "", 2048, false, "jwk"},
		{"rsa-e1.key", "rsa", "", 2048, false, "pkcs1"},
		{"rsa-fermat-pkcs1.key", "rsa", "", 2048, false, "pkcs1"},
		{"rsa-large-e.key", "rsa", "", 2048, true, "pkcs1"},
		{"rsa-ok.key", "rsa", "", 2048, false, "pkcs1"},
		{"rsa-roca.key", "rsa", "", 2048, false, "pkcs1"},
		{"rsa-small-d.key", "rsa", "", 2048, false, "pkcs1"},
		{"rsa-smallfactors-valid.key", "rsa", "", 4096, false, "spki"},
		{"x448-ok.key", "x448", "X448", 448, false, "spki"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "keys", "badkeys", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			got := Parse(data)
			if len(got) != 1 {
				t.Fatalf("Parse found %d keys, want 1: %+v", len(got), got)
			}
			k := got[0]
			checkConsistent(t, data, k)
			if k.Type != tt.typ || k.Curve != tt.curve || k.Bits != tt.bits || k.Private != tt.private || k.Format != tt.format {
				t.Errorf("got %s/%s/%d private=%v %s, want %s/%s/%d private=%v %s", k.Type, k.Curve, k.Bits, k.Private, k.Format,
					tt.typ, tt.curve, tt.bits, tt.private, tt.format)
			}
			if k.PublicSHA256 == "" {
				t.Errorf("no PublicSHA256")
			}
			if tt.typ == "rsa" {
				if k.RSA == nil || k.RSA.N == nil || k.RSA.E == nil {
					t.Fatalf("RSA numbers missing: %+v", k.RSA)
				}
				if tt.private && (k.RSA.D == nil || k.RSA.P == nil || k.RSA.Q == nil) {
					t.Errorf("private RSA numbers missing")
				}
			}
		})
	}
}

// TestParseBadkeysSame checks that the same key written as PKCS#1 and as a JWK gets the same
// fingerprint, and that broken exponents survive parsing.
func TestParseBadkeysSame(t *testing.T) {
	read := func(name string) Key {
		data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "keys", "badkeys", name))
		if err != nil {
			t.Fatal(err)
		}
		ks := Parse(data)
		if len(ks) != 1 {
			t.Fatalf("%s: %d keys", name, len(ks))
		}
		return ks[0]
	}
	if a, b := read("rsa-ok.key"), read("jwk-rsa-ok.json"); a.PublicSHA256 != b.PublicSHA256 || a.SSHFingerprint != b.SSHFingerprint {
		t.Errorf("rsa-ok.key and jwk-rsa-ok.json differ: %s %s", a.PublicSHA256, b.PublicSHA256)
	}
	if e := read("rsa-e1.key").RSA.E; e.Int64() != 1 {
		t.Errorf("rsa-e1 E = %v", e)
	}
	if k := read("rsa-small-d.key"); k.RSA.E.BitLen() < 1000 {
		t.Errorf("rsa-small-d E has %d bits, want a huge exponent", k.RSA.E.BitLen())
	}
}

// secp256k1's generator point: a valid public key Go cannot compute with.
const secp256k1G = "0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8"

func TestParseUnsupportedCurves(t *testing.T) {
	point, _ := hex.DecodeString(secp256k1G)
	curve := func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidSecp256k1) }
	spkiDER := kpSPKI(oidEC, curve, point)
	wantSHA := sha256Hex(spkiDER)
	sec1DER := kpASN1(func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1Int64(1)
			b.AddASN1OctetString(append(make([]byte, 31), 1))
			b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), curve)
			b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) { b.AddASN1BitString(point) })
		})
	})
	pkcs8DER := kpASN1(func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1Int64(0)
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidEC); curve(b) })
			b.AddASN1OctetString(sec1DER)
		})
	})
	ed448Pub := bytes.Repeat([]byte{7}, 57)
	ed448SPKI := kpSPKI(oidEd448, nil, ed448Pub)
	tests := []struct {
		name, text string
		want       Key
	}{
		{"secp256k1-spki", pemText("PUBLIC KEY", spkiDER, nil), Key{Type: "ecdsa", Curve: "secp256k1", Bits: 256, Format: "spki", PublicSHA256: wantSHA}},
		{"secp256k1-sec1", pemText("EC PRIVATE KEY", sec1DER, nil), Key{Type: "ecdsa", Curve: "secp256k1", Bits: 256, Format: "sec1", Private: true, PublicSHA256: wantSHA}},
		{"secp256k1-pkcs8", pemText("PRIVATE KEY", pkcs8DER, nil), Key{Type: "ecdsa", Curve: "secp256k1", Bits: 256, Format: "pkcs8", Private: true, PublicSHA256: wantSHA}},
		{"secp256k1-jwk", jwkJSON(map[string][]byte{"x": point[1:33], "y": point[33:]}, "EC", "secp256k1"),
			Key{Type: "ecdsa", Curve: "secp256k1", Bits: 256, Format: "jwk", PublicSHA256: wantSHA}},
		{"ed448-spki", pemText("PUBLIC KEY", ed448SPKI, nil), Key{Type: "ed448", Curve: "Ed448", Bits: 448, Format: "spki", PublicSHA256: sha256Hex(ed448SPKI)}},
		{"ed448-jwk", jwkJSON(map[string][]byte{"x": ed448Pub}, "OKP", "Ed448"),
			Key{Type: "ed448", Curve: "Ed448", Bits: 448, Format: "jwk", PublicSHA256: sha256Hex(ed448SPKI)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Parse([]byte(tt.text))
			if len(got) != 1 {
				t.Fatalf("Parse found %d keys: %+v", len(got), got)
			}
			checkConsistent(t, []byte(tt.text), got[0])
			got[0].Offset, got[0].Length = 0, 0
			if diff := cmp.Diff(tt.want, got[0]); diff != "" {
				t.Errorf("Parse mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseEncryptedPKCS8Schemes(t *testing.T) {
	scrypt := buildEncryptedPKCS8(oidPBES2, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(oidScrypt)
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1OctetString(make([]byte, 8))
					b.AddASN1Int64(16384)
					b.AddASN1Int64(8)
					b.AddASN1Int64(1)
				})
			})
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(oidAES256CBC)
				b.AddASN1OctetString(make([]byte, 16))
			})
		})
	}, make([]byte, 64))
	kpPBES1 := buildEncryptedPKCS8(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 3}, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1OctetString(make([]byte, 8))
			b.AddASN1Int64(2048)
		})
	}, make([]byte, 64))
	tests := []struct {
		name string
		der  []byte
		want *KDF
	}{
		{"scrypt", scrypt, &KDF{Name: "scrypt", Memory: 16384, Cipher: "aes-256-cbc"}},
		{"pkcs12-3des", kpPBES1, &KDF{Name: "pkcs12", Hash: "sha1", Iterations: 2048, Cipher: "des-ede3-cbc"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Parse([]byte(pemText("ENCRYPTED PRIVATE KEY", tt.der, nil)))
			if len(got) != 1 {
				t.Fatalf("Parse found %d keys", len(got))
			}
			if diff := cmp.Diff(tt.want, got[0].KDF); diff != "" {
				t.Errorf("KDF mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseManyKeysOffsets(t *testing.T) {
	ks := testKeys(t)
	var b strings.Builder
	var starts []int
	for _, k := range ks {
		der, _ := x509.MarshalPKIXPublicKey(k.pub)
		b.WriteString("key " + k.name + ":\n")
		starts = append(starts, b.Len())
		b.WriteString(pemText("PUBLIC KEY", der, nil))
	}
	data := []byte(b.String() + b.String()[:starts[1]]) // the first key twice
	got := Parse(data)
	if len(got) != len(ks)+1 {
		t.Fatalf("Parse found %d keys, want %d", len(got), len(ks)+1)
	}
	for i, k := range got[:len(ks)] {
		if k.Offset != starts[i] || !bytes.HasPrefix(data[k.Offset:], []byte("-----BEGIN PUBLIC KEY-----")) ||
			!bytes.HasSuffix(data[:k.Offset+k.Length], []byte("-----END PUBLIC KEY-----")) {
			t.Errorf("key %d at %d+%d, want %d", i, k.Offset, k.Length, starts[i])
		}
		if k.Type != ks[i].typ {
			t.Errorf("key %d is %s, want %s", i, k.Type, ks[i].typ)
		}
	}
	if got[0].PublicSHA256 != got[len(ks)].PublicSHA256 {
		t.Errorf("the repeated key has another fingerprint")
	}
}

func TestParseGarbage(t *testing.T) {
	var inputs [][]byte
	for _, k := range testKeys(t)[:2] {
		for _, e := range encodings(t, k) {
			inputs = append(inputs, []byte(e.text))
		}
	}
	for _, in := range inputs {
		for cut := 0; cut < len(in); cut += 1 + len(in)/97 {
			for _, data := range [][]byte{in[:cut], in[cut:]} {
				for _, k := range Parse(data) {
					checkConsistent(t, data, k)
				}
			}
		}
		// Flipping bytes inside the base64 must not panic either.
		c := bytes.Clone(in)
		for i := len(c) / 3; i < len(c); i += 7 {
			c[i] ^= 0x01
		}
		for _, k := range Parse(c) {
			checkConsistent(t, c, k)
		}
	}
	for _, s := range []string{"", "-----BEGIN ", "-----BEGIN RSA PRIVATE " + "KEY-----\n-----END", "PuTTY-User-Key-File-2: ssh-rsa\nPublic-Lines: 99999999999\n",
		`{"kty":"RSA","n":"","e":""}`, `{"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA"}`, "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ",
		"-----BEGIN OPENSSH PRIVATE " + "KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB\n-----END OPENSSH PRIVATE KEY-----\n"} {
		for _, k := range Parse([]byte(s)) {
			checkConsistent(t, []byte(s), k)
		}
	}
}

func TestParseDSA(t *testing.T) {
	var priv dsa.PrivateKey
	if err := dsa.GenerateParameters(&priv.Parameters, rand.Reader, dsa.L1024N160); err != nil {
		t.Fatal(err)
	}
	if err := dsa.GenerateKey(&priv, rand.Reader); err != nil {
		t.Fatal(err)
	}
	type algo struct {
		OID    asn1.ObjectIdentifier
		Params struct{ P, Q, G *big.Int }
	}
	a := algo{OID: oidDSA}
	a.Params.P, a.Params.Q, a.Params.G = priv.P, priv.Q, priv.G
	y, _ := asn1.Marshal(priv.Y)
	spkiDER, err := asn1.Marshal(struct {
		Algo algo
		Key  asn1.BitString
	}{a, asn1.BitString{Bytes: y, BitLength: 8 * len(y)}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := x509.ParsePKIXPublicKey(spkiDER); err != nil {
		t.Fatalf("test SPKI is not valid: %v", err)
	}
	openssl, _ := asn1.Marshal(struct{ V, P, Q, G, Y, X *big.Int }{big.NewInt(0), priv.P, priv.Q, priv.G, priv.Y, priv.X})
	sp, err := ssh.NewPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, text, format string
		private            bool
	}{
		{"spki", pemText("PUBLIC KEY", spkiDER, nil), "spki", false},
		{"openssl", pemText("DSA PRIVATE KEY", openssl, nil), "dsa", true},
		{"authorized_keys", string(ssh.MarshalAuthorizedKey(sp)), "ssh-public", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Parse([]byte(tt.text))
			if len(got) != 1 {
				t.Fatalf("Parse found %d keys", len(got))
			}
			want := Key{Type: "dsa", Bits: 1024, Format: tt.format, Private: tt.private,
				PublicSHA256: sha256Hex(spkiDER), SSHFingerprint: ssh.FingerprintSHA256(sp)}
			g := got[0]
			g.Public, g.Offset, g.Length = nil, 0, 0
			if diff := cmp.Diff(want, g); diff != "" {
				t.Errorf("Parse mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
