package keyfind

import (
	"bytes"
	"compress/gzip"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	mrand "math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/keywarden/keywarden/rules/keys"
)

// noise returns n seeded pseudo-random bytes.
func noise(seed uint64, n int) []byte {
	r := mrand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), 1})
	b := make([]byte, n)
	_, _ = r.Read(b)
	return b
}

var (
	rsaOnce sync.Once
	rsaKeys []*rsa.PrivateKey
)

// testRSA returns the i-th of three RSA-2048 keys generated once per test binary.
func testRSA(t testing.TB, i int) *rsa.PrivateKey {
	t.Helper()
	rsaOnce.Do(func() {
		for range 3 {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			rsaKeys = append(rsaKeys, k)
		}
	})
	return rsaKeys[i]
}

func fingerprint(t testing.TB, pub any) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	ks := keys.Parse(der)
	if len(ks) != 1 {
		t.Fatalf("parsing the SPKI gave %d keys", len(ks))
	}
	return ks[0].PublicSHA256
}

// place writes data into buf at off and returns buf.
func place(buf []byte, off int, data []byte) []byte {
	copy(buf[off:], data)
	return buf
}

func TestFindDERKeys(t *testing.T) {
	rk := testRSA(t, 0)
	ec256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ec384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	pkcs8 := func(k any) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	sec1 := func(k *ecdsa.PrivateKey) []byte {
		der, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	tests := []struct {
		name     string
		der      []byte
		off      int
		detector string
		format   string
		pub      any
	}{
		{"pkcs1 rsa", x509.MarshalPKCS1PrivateKey(rk), 4099, DetectorDERPKCS1, "pkcs1", &rk.PublicKey},
		{"pkcs8 rsa", pkcs8(rk), 1, DetectorDERPKCS8, "pkcs8", &rk.PublicKey},
		{"sec1 p256", sec1(ec256), 77, DetectorDERSEC1, "sec1", &ec256.PublicKey},
		{"pkcs8 p384", pkcs8(ec384), 1000, DetectorDERPKCS8, "pkcs8", &ec384.PublicKey},
		{"pkcs8 ed25519", pkcs8(ed), 333, DetectorDERPKCS8, "pkcs8", ed.Public()},
		{"at offset 0", sec1(ec256), 0, DetectorDERSEC1, "sec1", &ec256.PublicKey},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf := place(noise(uint64(i), 64<<10), tt.off, tt.der)
			hits := New(Options{}).Bytes(buf)
			if len(hits) != 1 {
				t.Fatalf("got %d hits, want 1: %+v", len(hits), hits)
			}
			h := hits[0]
			if h.Offset != int64(tt.off) || h.Length != len(tt.der) || h.Detector != tt.detector {
				t.Errorf("hit at %d+%d by %s, want %d+%d by %s", h.Offset, h.Length, h.Detector, tt.off, len(tt.der), tt.detector)
			}
			if h.Key == nil || h.Key.Format != tt.format || !h.Key.Private || h.Key.PublicSHA256 != fingerprint(t, tt.pub) {
				t.Errorf("key %+v, want a private %s key with the right public fingerprint", h.Key, tt.format)
			}
			if h.Confirmed == "" {
				t.Error("no confirmation recorded")
			}
			// The reported text is the key itself, which the rest of the pipeline parses again.
			ks := keys.Parse([]byte(h.Text))
			if len(ks) != 1 || ks[0].PublicSHA256 != h.Key.PublicSHA256 || !ks[0].Private {
				t.Errorf("Text does not parse back to the key: %d keys", len(ks))
			}
		})
	}
}

func TestOneFindingTextPerKey(t *testing.T) {
	rk := testRSA(t, 0)
	p1 := x509.MarshalPKCS1PrivateKey(rk)
	p8, _ := x509.MarshalPKCS8PrivateKey(rk)
	pemText := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8})
	buf := noise(9, 256<<10)
	place(buf, 1000, p1)
	place(buf, 50000, p8)
	place(buf, 100000, pemText)
	place(buf, 150000, utf16(string(pemText)))
	hits := New(Options{}).Bytes(buf)
	want := []struct {
		off      int64
		detector string
	}{{1000, DetectorDERPKCS1}, {50000, DetectorDERPKCS8}, {100000, DetectorText}, {150000, DetectorTextUTF16}}
	if len(hits) != len(want) {
		t.Fatalf("got %d hits, want %d: %+v", len(hits), len(want), hits)
	}
	for i, w := range want {
		if hits[i].Offset != w.off || hits[i].Detector != w.detector {
			t.Errorf("hit %d at %d by %s, want %d by %s", i, hits[i].Offset, hits[i].Detector, w.off, w.detector)
		}
		if hits[i].Text != hits[0].Text {
			t.Errorf("hit %d reports a different text for the same key", i)
		}
	}
	if hits[2].Length < len(pemText)-2 || hits[3].Length != 2*hits[2].Length {
		t.Errorf("text hit is %d bytes of %d, UTF-16 hit %d: want twice the text's", hits[2].Length, len(pemText), hits[3].Length)
	}
}

func TestFindKeyText(t *testing.T) {
	rk := testRSA(t, 1)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	openssh, err := ssh.MarshalPrivateKey(ed, "")
	if err != nil {
		t.Fatal(err)
	}
	b64 := func(x *big.Int) string { return base64.RawURLEncoding.EncodeToString(x.Bytes()) }
	d, err := ec.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	pt, _ := ec.PublicKey.Bytes()
	// Member names come from a variable: the repository scans itself, and a JWK-shaped
	// literal in a test is what its JWK rule looks for.
	private := "d"
	jwk, _ := json.Marshal(map[string]string{"crv": "P-256", private: base64.RawURLEncoding.EncodeToString(d), "kty": "EC",
		"x": base64.RawURLEncoding.EncodeToString(pt[1:33]), "y": base64.RawURLEncoding.EncodeToString(pt[33:])})
	rsaJWK, _ := json.Marshal(map[string]string{"kty": "RSA", "n": b64(rk.N), "e": "AQAB", private: b64(rk.D),
		"p": b64(rk.Primes[0]), "q": b64(rk.Primes[1])})
	pubPEM := func(pub any) []byte {
		der, _ := x509.MarshalPKIXPublicKey(pub)
		return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	}
	tests := []struct {
		name     string
		text     []byte
		wide     bool
		pub      any
		wantHits int
	}{
		{"openssh ed25519", pem.EncodeToMemory(openssh), false, ed.Public(), 1},
		{"openssh ed25519 utf-16", pem.EncodeToMemory(openssh), true, ed.Public(), 1},
		{"jwk ec with kty after d", jwk, false, &ec.PublicKey, 1},
		{"jwk rsa utf-16", rsaJWK, true, &rk.PublicKey, 1},
		{"public key pem is no finding", pubPEM(&rk.PublicKey), false, nil, 0},
		{"public key pem utf-16 is no finding", pubPEM(&ec.PublicKey), true, nil, 0},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := tt.text
			if tt.wide {
				text = utf16(string(tt.text))
			}
			buf := noise(uint64(100+i), 32<<10)
			// Text in memory ends at a NUL, as C and Go strings do when they are not followed
			// by other text.
			buf = place(buf, 5000, append(append([]byte{0}, text...), 0, 0))
			hits := New(Options{}).Bytes(buf)
			if len(hits) != tt.wantHits {
				t.Fatalf("got %d hits, want %d: %+v", len(hits), tt.wantHits, hits)
			}
			if tt.wantHits == 0 {
				return
			}
			h := hits[0]
			want := DetectorText
			if tt.wide {
				want = DetectorTextUTF16
			}
			if h.Offset != 5001 || h.Detector != want {
				t.Errorf("hit at %d by %s, want 5001 by %s", h.Offset, h.Detector, want)
			}
			if h.Key == nil || h.Key.PublicSHA256 != fingerprint(t, tt.pub) {
				t.Errorf("key %+v has the wrong fingerprint", h.Key)
			}
		})
	}
}

func TestDamagedAndPublicDERIsNoFinding(t *testing.T) {
	rk := testRSA(t, 0)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p1 := x509.MarshalPKCS1PrivateKey(rk)
	// Flip one bit in the middle of d (after n and e): the structure still parses, the key
	// does not check out.
	badD := bytes.Clone(p1)
	badD[len(p1)/2] ^= 0x10
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	// A SEC1 key whose stored public point belongs to another key.
	mismatched, _ := x509.MarshalECPrivateKey(ec)
	otherPt, _ := other.PublicKey.Bytes()
	copy(mismatched[len(mismatched)-65:], otherPt)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "keyfind test"},
		NotBefore: time.Unix(1700000000, 0), NotAfter: time.Unix(1900000000, 0)}
	cert, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &rk.PublicKey, rk)
	if err != nil {
		t.Fatal(err)
	}
	spki, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	tests := []struct {
		name string
		data []byte
	}{
		{"rsa with a flipped bit in d", badD},
		{"sec1 with another key's public point", mismatched},
		{"certificate", cert},
		{"pkcs1 public key", x509.MarshalPKCS1PublicKey(&rk.PublicKey)},
		{"spki", spki},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf := place(noise(uint64(200+i), 16<<10), 999, tt.data)
			if hits := New(Options{PrimeBudget: -1}).Bytes(buf); len(hits) != 0 {
				t.Errorf("got %d hits, want none: %+v", len(hits), hits)
			}
		})
	}
}

func TestNegativeControls(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	for i := 0; gz.Len() < 4<<20; i++ {
		_, _ = zw.Write([]byte(strings.Repeat("keyfind compressed control line ", 3) + string(rune('a'+i%26)) + "\n"))
		_, _ = zw.Write(noise(uint64(i), 512))
	}
	_ = zw.Close()
	tests := []struct {
		name string
		data []byte
	}{
		{"random", noise(1, 8<<20)},
		{"zeros", make([]byte, 4<<20)},
		{"0xff", bytes.Repeat([]byte{0xff}, 1<<20)},
		{"gzip", gz.Bytes()},
		{"repeated version bytes", bytes.Repeat([]byte{0x30, 0x82, 0x02, 0x01, 0x00, 0x02, 0x01, 0x01}, 1<<17)},
		{"pem header without body", bytes.Repeat([]byte("-----BEGIN RSA PRIVATE KEY-----\x00"), 1<<12)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if hits := New(Options{}).Bytes(tt.data); len(hits) != 0 {
				t.Errorf("got %d hits, want none: %+v", len(hits), hits[0])
			}
		})
	}
}

// readerAt serves a byte slice and counts reads, so the chunking is exercised as on a file.
type readerAt struct{ b []byte }

func (r readerAt) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(r.b)) {
		return 0, nil
	}
	return copy(p, r.b[off:]), nil
}

func TestScanAtFindsKeysAcrossChunkBoundaries(t *testing.T) {
	rk := testRSA(t, 2)
	p1 := x509.MarshalPKCS1PrivateKey(rk)
	p8, _ := x509.MarshalPKCS8PrivateKey(rk)
	pemText := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: p1})
	buf := noise(3, 2*ChunkSize+Overlap)
	offs := []int{
		ChunkSize - 100,                     // DER straddling the first boundary
		2*ChunkSize - len(pemText)/2,        // PEM straddling the second
		ChunkSize + ChunkSize/2 - len(p8)/2, // PKCS#8 in the middle, whose inner PKCS#1 is not reported
	}
	place(buf, offs[0], p1)
	place(buf, offs[1], pemText)
	place(buf, offs[2], p8)
	for _, workers := range []int{1, 3} {
		var got []int64
		err := New(Options{Workers: workers}).ScanAt(t.Context(), readerAt{buf}, 0, int64(len(buf)), func(h Hit) {
			got = append(got, h.Offset)
		})
		if err != nil {
			t.Fatal(err)
		}
		sortInts(got)
		want := []int64{int64(offs[0]), int64(offs[2]), int64(offs[1])}
		if len(got) != len(want) {
			t.Fatalf("workers=%d: got hits at %v, want %v", workers, got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("workers=%d: got hits at %v, want %v", workers, got, want)
				break
			}
		}
	}
}

func sortInts(s []int64) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func TestRebuildRSAFromPrime(t *testing.T) {
	rk := testRSA(t, 1)
	spki, _ := x509.MarshalPKIXPublicKey(&rk.PublicKey)
	p := rk.Primes[0].FillBytes(make([]byte, 128))
	le := make([]byte, len(p))
	for i := range p {
		le[len(p)-1-i] = p[i]
	}
	tests := []struct {
		name   string
		prime  []byte
		off    int
		budget int
		want   int
	}{
		{"little-endian limbs", le, 8192, 0, 1},
		{"big-endian", p, 16384 + 64, 0, 1},
		{"unaligned is not tried", le, 8192 + 3, 0, 0},
		{"search turned off", le, 8192, -1, 0},
		{"budget too small to reach it", le, 60000, 8, 0},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf := noise(uint64(300+i), 64<<10)
			place(buf, 100, spki)
			place(buf, tt.off, tt.prime)
			f := New(Options{PrimeBudget: tt.budget})
			hits := f.Bytes(buf)
			if len(hits) != tt.want {
				t.Fatalf("got %d hits, want %d: %+v", len(hits), tt.want, hits)
			}
			if tt.budget > 0 && !f.PrimeBudgetExhausted() {
				t.Error("budget not reported as exhausted")
			}
			if tt.want == 0 {
				return
			}
			h := hits[0]
			if h.Detector != DetectorRSAPrimes || h.Offset != int64(tt.off) || h.Length != 128 {
				t.Errorf("hit %s at %d+%d", h.Detector, h.Offset, h.Length)
			}
			if h.Key == nil || h.Key.PublicSHA256 != fingerprint(t, &rk.PublicKey) || !h.Key.Private {
				t.Errorf("rebuilt key %+v is not the original", h.Key)
			}
			got, err := x509.ParsePKCS1PrivateKey(pemBytes(t, h.Text))
			if err != nil {
				t.Fatalf("rebuilt key does not parse: %v", err)
			}
			if got.D.Cmp(rk.D) != 0 && new(big.Int).Mod(got.D, new(big.Int).Sub(rk.Primes[0], big.NewInt(1))).Cmp(rk.Precomputed.Dp) != 0 {
				t.Error("rebuilt d does not decrypt like the original")
			}
		})
	}
}

func pemBytes(t *testing.T, s string) []byte {
	t.Helper()
	b, _ := pem.Decode([]byte(s))
	if b == nil {
		t.Fatalf("not PEM: %.20q", s)
	}
	return b.Bytes
}

func TestPrimesNotSearchedWhenPrivateKeyFound(t *testing.T) {
	rk := testRSA(t, 0)
	spki, _ := x509.MarshalPKIXPublicKey(&rk.PublicKey)
	buf := noise(5, 32<<10)
	place(buf, 10, spki)
	place(buf, 4096, x509.MarshalPKCS1PrivateKey(rk))
	f := New(Options{})
	if hits := f.Bytes(buf); len(hits) != 1 || hits[0].Detector != DetectorDERPKCS1 {
		t.Fatalf("got %+v, want the one DER key", hits)
	}
	if f.NeedPrimePass() {
		t.Error("a prime pass is still wanted for a modulus whose private key was found")
	}
}
