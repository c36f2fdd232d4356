package keys

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// wkTestLoad reads a badkeys vector into a Key without the package's parsers, which are
// tested on their own.
func wkTestLoad(t *testing.T, name string) Key {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "keys", "badkeys", name))
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Ext(name) == ".json" {
		var jwk struct{ N, E string }
		if err := json.Unmarshal(data, &jwk); err != nil {
			t.Fatal(err)
		}
		return wkTestRSAKey(new(big.Int).SetBytes(wkTestB64(jwk.N)), new(big.Int).SetBytes(wkTestB64(jwk.E)), nil, "jwk")
	}
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatalf("%s: no PEM block", name)
	}
	switch block.Type {
	case "RSA PUBLIC KEY":
		var pub struct{ N, E *big.Int }
		if _, err := asn1.Unmarshal(block.Bytes, &pub); err != nil {
			t.Fatal(err)
		}
		return wkTestRSAKey(pub.N, pub.E, nil, "pkcs1")
	case "RSA PRIVATE KEY":
		var priv struct {
			Version                     int
			N, E, D, P, Q, Dp, Dq, Qinv *big.Int
		}
		if _, err := asn1.Unmarshal(block.Bytes, &priv); err != nil {
			t.Fatal(err)
		}
		k := wkTestRSAKey(priv.N, priv.E, priv.D, "pkcs1")
		k.RSA.P, k.RSA.Q = priv.P, priv.Q
		return k
	case "PUBLIC KEY":
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return Key{Type: "unknown", Format: "spki"} // x448: not in the standard library
		}
		if r, ok := pub.(*rsa.PublicKey); ok {
			return wkTestRSAKey(r.N, big.NewInt(int64(r.E)), nil, "spki")
		}
		return Key{Type: "ec", Format: "spki", Public: pub}
	}
	t.Fatalf("%s: unexpected PEM type %q", name, block.Type)
	return Key{}
}

func wkTestRSAKey(n, e, d *big.Int, format string) Key {
	return Key{Type: "rsa", Bits: n.BitLen(), Format: format, Private: d != nil,
		RSA: &RSAParts{N: n, E: e, D: d}}
}

func wkTestIDs(ws []Weakness) []string {
	ids := []string{}
	for _, w := range ws {
		ids = append(ids, w.ID)
	}
	return ids
}

func TestCheckBadkeysVectors(t *testing.T) {
	tests := []struct {
		name string
		file string
		want []string
	}{
		{name: "roca", file: "rsa-roca.key", want: []string{"roca"}},
		{name: "fermat square modulus", file: "rsa-fermat-pkcs1.key", want: []string{"fermat"}},
		{name: "small factors", file: "rsa-smallfactors-valid.key", want: []string{"small-factors"}},
		// The modulus of this vector is RFC 9500's testRSA2048, with d and e switched.
		{name: "small d", file: "rsa-small-d.key", want: []string{"published-key", "small-d"}},
		{name: "e = 1", file: "rsa-e1.key", want: []string{"rsa-exponent"}},
		// A FIPS test vector with a large e but an ordinary d: only the unencrypted private key.
		{name: "large e", file: "rsa-large-e.key", want: []string{"unencrypted-private-key"}},
		{name: "EC RFC example", file: "ec-p256-rfc-example.key", want: []string{"published-key"}},
		{name: "Ed25519 RFC example", file: "ed25519-rfc-example.key", want: []string{"published-key"}},
		{name: "JWK RFC 7517", file: "jwk-rsa-rfc7517.json", want: []string{"published-key"}},
		{name: "RSA ok", file: "rsa-ok.key", want: []string{}},
		{name: "JWK RSA ok", file: "jwk-rsa-ok.json", want: []string{}},
		{name: "X448 ok", file: "x448-ok.key", want: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := Check(wkTestLoad(t, tt.file))
			if diff := cmp.Diff(tt.want, wkTestIDs(ws)); diff != "" {
				t.Errorf("Check(%s) IDs mismatch (-want +got):\n%s\n%+v", tt.file, diff, ws)
			}
			for _, w := range ws {
				if w.Summary == "" || w.Reference == "" || w.Severity == "" {
					t.Errorf("incomplete weakness %+v", w)
				}
			}
		})
	}
}

func TestCheckSeverities(t *testing.T) {
	e1 := Check(wkTestLoad(t, "rsa-e1.key"))
	if e1[0].Severity != "critical" {
		t.Errorf("e = 1: severity %q, want critical", e1[0].Severity)
	}
	roca := Check(wkTestLoad(t, "rsa-roca.key"))
	if roca[0].Severity != "critical" {
		t.Errorf("roca: severity %q, want critical", roca[0].Severity)
	}
	if ws := Check(wkTestLoad(t, "rsa-fermat-pkcs1.key")); ws[0].Summary == Catalog["fermat"].Summary {
		t.Errorf("square modulus not called out: %q", ws[0].Summary)
	}
}

// wkTestKey caches generated RSA keys: generation dominates the test time.
var wkTestKeys = map[int][]*rsa.PrivateKey{}

func wkTestGen(t *testing.T, bits, count int) []*rsa.PrivateKey {
	t.Helper()
	for len(wkTestKeys[bits]) < count {
		k, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			t.Fatal(err)
		}
		wkTestKeys[bits] = append(wkTestKeys[bits], k)
	}
	return wkTestKeys[bits][:count]
}

func TestCheckGenerated(t *testing.T) {
	k1024 := wkTestGen(t, 1024, 1)[0]
	k2048 := wkTestGen(t, 2048, 1)[0]
	p, q := k2048.Primes[0], k2048.Primes[1]
	n := new(big.Int).Mul(p, q)
	pub := func(n *big.Int, e int64) Key { return wkTestRSAKey(n, big.NewInt(e), nil, "spki") }

	// A 2048-bit key with e = 3 (d may not exist for this n; the check is on the public key).
	// Close primes: q' is the next prime after p + 2^515, which Fermat's method finds
	// within its rounds (it needs about (p-q)²/(8·sqrt(n)) of them).
	near := new(big.Int).Add(p, new(big.Int).Lsh(big.NewInt(1), 515))
	for !near.ProbablyPrime(20) {
		near.Add(near, big.NewInt(1))
	}
	// A small d: d = 65537 and e its inverse mod φ(n), as in badkeys' rsa-small-d.
	phi := new(big.Int).Mul(new(big.Int).Sub(p, big.NewInt(1)), new(big.Int).Sub(q, big.NewInt(1)))
	smallD := big.NewInt(65537)
	bigE := new(big.Int).ModInverse(smallD, phi)
	// A small factor: 3 * n; and a prime "modulus": p.
	tripled := new(big.Int).Mul(big.NewInt(3), n)
	tests := []struct {
		name string
		key  Key
		want []Weakness
	}{
		{name: "rsa-1024", key: pub(k1024.N, 65537),
			want: []Weakness{wkNew("rsa-short", "high", "the RSA modulus has only 1024 bits, below the 2048-bit minimum")}},
		{name: "rsa-512", key: pub(new(big.Int).Rsh(n, 1536).SetBit(new(big.Int).Rsh(n, 1536), 0, 1), 65537)},
		{name: "e=3", key: pub(n, 3),
			want: []Weakness{wkNew("rsa-exponent", "low", "the public exponent 3 is below 65537 (warning: small exponents have a history of padding attacks)")}},
		{name: "e even", key: pub(n, 65536)},
		{name: "n even", key: pub(new(big.Int).Lsh(n, 1), 65537)},
		{name: "close primes", key: pub(new(big.Int).Mul(p, near), 65537), want: []Weakness{wkNew("fermat", "", "")}},
		{name: "small d public", key: wkTestRSAKey(n, bigE, nil, "spki"), want: []Weakness{wkNew("small-d", "", "")}},
		{name: "small d private", key: Key{Type: "rsa", Private: true, Encrypted: true, RSA: &RSAParts{N: n, E: big.NewInt(65537), D: big.NewInt(12345)}},
			want: []Weakness{wkNew("small-d", "", "")}},
		{name: "small factor", key: pub(tripled, 65537), want: []Weakness{wkNew("small-factors", "", "")}},
		{name: "prime n", key: pub(p, 65537)},
		{name: "private ok", key: Key{Type: "rsa", Private: true, RSA: &RSAParts{N: n, E: big.NewInt(65537), D: k2048.D, P: p, Q: q}},
			want: []Weakness{wkNew("unencrypted-private-key", "", "")}},
		{name: "encrypted ok", key: Key{Type: "rsa", Private: true, Encrypted: true, Format: "pkcs8-encrypted",
			KDF: &KDF{Name: "pbkdf2", Hash: "hmac-sha256", Iterations: 600000, Cipher: "aes-256-cbc"}, RSA: &RSAParts{N: n, E: big.NewInt(65537)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Check(tt.key)
			switch tt.name {
			case "rsa-512":
				if i := slices.IndexFunc(got, func(w Weakness) bool { return w.ID == "rsa-short" }); i < 0 || got[i].Severity != "critical" {
					t.Errorf("got %+v, want critical rsa-short", got)
				}
				return
			case "e even":
				if len(got) != 1 || got[0].ID != "rsa-exponent" || got[0].Severity != "high" {
					t.Errorf("got %+v, want high rsa-exponent", got)
				}
				return
			case "n even":
				ids := wkTestIDs(got)
				if !slices.Contains(ids, "rsa-invalid") || !slices.Contains(ids, "small-factors") {
					t.Errorf("got %v, want rsa-invalid and small-factors", ids)
				}
				return
			case "prime n":
				if len(got) == 0 || got[0].ID != "rsa-invalid" || got[0].Severity != "critical" {
					t.Errorf("got %+v, want critical rsa-invalid", got)
				}
				return
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Check mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCheckRandomKeys is the false-positive check, ROCA's in particular: fresh keys are clean.
func TestCheckRandomKeys(t *testing.T) {
	keys := wkTestGen(t, 2048, 20)
	for _, k := range keys {
		if ws := Check(wkTestRSAKey(k.N, big.NewInt(int64(k.E)), nil, "spki")); len(ws) != 0 {
			t.Errorf("random key flagged: %+v", ws)
		}
		if wkIsROCA(k.N) {
			t.Error("random key has the ROCA fingerprint")
		}
	}
}

// TestROCAMarkers compares the computed per-prime markers with the table published with
// the original detector (crocs-muni/roca, BrokenKey.java).
func TestROCAMarkers(t *testing.T) {
	published := []string{"6", "30", "126", "1026", "5658", "107286", "199410", "8388606", "536870910",
		"2147483646", "67109890", "2199023255550", "8796093022206", "140737488355326", "5310023542746834",
		"576460752303423486", "1455791217086302986", "147573952589676412926", "20052041432995567486",
		"6041388139249378920330", "207530445072488465666", "9671406556917033397649406",
		"618970019642690137449562110", "79228162521181866724264247298", "2535301200456458802993406410750",
		"1760368345969468176824550810518", "50079290986288516948354744811034",
		"473022961816146413042658758988474", "10384593717069655257060992658440190",
		"144390480366845522447407333004847678774", "2722258935367507707706996859454145691646",
		"174224571863520493293247799005065324265470", "696898287454081973172991196020261297061886",
		"713623846352979940529142984724747568191373310", "1800793591454480341970779146165214289059119882",
		"126304807362733370595828809000324029340048915994",
		"11692013098647223345629478661730264157247460343806",
		"187072209578355573530071658587684226515959365500926"}
	wkROCAOnce.Do(wkROCAInit)
	if len(published) != len(wkROCAPrimes) {
		t.Fatalf("%d markers for %d primes", len(published), len(wkROCAPrimes))
	}
	for i, s := range published {
		got := new(big.Int)
		for w := 2; w >= 0; w-- {
			got.Lsh(got, 64)
			got.Or(got, new(big.Int).SetUint64(wkROCAMarkers[i][w]))
		}
		if got.String() != s {
			t.Errorf("marker for %d = %s, want %s", wkROCAPrimes[i], got, s)
		}
	}
}

func TestCheckProtection(t *testing.T) {
	enc := func(format string, kdf *KDF) Key {
		return Key{Type: "ed25519", Private: true, Encrypted: true, Format: format, KDF: kdf}
	}
	tests := []struct {
		name string
		key  Key
		weak bool
	}{
		{name: "pkcs8 pbkdf2 10000", key: enc("pkcs8-encrypted", &KDF{Name: "pbkdf2", Hash: "hmac-sha256", Iterations: 10000, Cipher: "aes-256-cbc"}), weak: true},
		{name: "pkcs8 pbkdf2-sha256 600000", key: enc("pkcs8-encrypted", &KDF{Name: "pbkdf2", Hash: "hmac-sha256", Iterations: 600000, Cipher: "aes-256-cbc"})},
		{name: "pkcs8 pbkdf2-sha1 1000000", key: enc("pkcs8-encrypted", &KDF{Name: "pbkdf2", Hash: "hmac-sha1", Iterations: 1000000, Cipher: "aes-256-cbc"}), weak: true},
		{name: "pkcs8 pbkdf2-sha1 1300000", key: enc("pkcs8-encrypted", &KDF{Name: "pbkdf2", Hash: "hmac-sha1", Iterations: 1300000, Cipher: "aes-256-cbc"})},
		{name: "pkcs8 pbkdf2 default PRF 600000", key: enc("pkcs8-encrypted", &KDF{Name: "pbkdf2", Iterations: 600000, Cipher: "aes-256-cbc"}), weak: true},
		{name: "pkcs8 pbkdf2-sha512 210000", key: enc("pkcs8-encrypted", &KDF{Name: "pbkdf2", Hash: "hmac-sha512", Iterations: 210000, Cipher: "aes-256-cbc"})},
		{name: "pkcs8 pbkdf2-sha512 209999", key: enc("pkcs8-encrypted", &KDF{Name: "pbkdf2", Hash: "hmac-sha512", Iterations: 209999, Cipher: "aes-256-cbc"}), weak: true},
		{name: "pkcs8 3des", key: enc("pkcs8-encrypted", &KDF{Name: "pbkdf2", Hash: "hmac-sha256", Iterations: 1000000, Cipher: "des-ede3-cbc"}), weak: true},
		{name: "legacy pem aes", key: enc("pem-encrypted", &KDF{Name: "md5", Iterations: 1, Cipher: "aes-128-cbc"}), weak: true},
		{name: "legacy pem no kdf", key: enc("pem-encrypted", nil), weak: true},
		{name: "openssh bcrypt 8", key: enc("openssh", &KDF{Name: "bcrypt", Iterations: 8, Cipher: "aes256-ctr"}), weak: true},
		{name: "openssh bcrypt 16", key: enc("openssh", &KDF{Name: "bcrypt", Iterations: 16, Cipher: "aes256-ctr"})},
		{name: "ppk2", key: enc("ppk2", &KDF{Name: "md5", Cipher: "aes256-cbc"}), weak: true},
		{name: "ppk3 argon2id", key: enc("ppk3", &KDF{Name: "argon2id", Iterations: 13, Memory: 8192, Cipher: "aes256-cbc"})},
		{name: "ppk3 argon2id tiny", key: enc("ppk3", &KDF{Name: "argon2id", Iterations: 1, Memory: 64, Cipher: "aes256-cbc"}), weak: true},
		{name: "scrypt 2^14", key: enc("pkcs8-encrypted", &KDF{Name: "scrypt", Memory: 1 << 14, Cipher: "aes-256-cbc"})},
		{name: "scrypt 2^10", key: enc("pkcs8-encrypted", &KDF{Name: "scrypt", Memory: 1 << 10, Cipher: "aes-256-cbc"}), weak: true},
		{name: "unencrypted", key: Key{Type: "ed25519", Private: true, Format: "pkcs8"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Check(tt.key)
			ids := wkTestIDs(got)
			if slices.Contains(ids, "weak-protection") != tt.weak {
				t.Errorf("Check = %+v, weak-protection want %v", got, tt.weak)
			}
			if slices.Contains(ids, "unencrypted-private-key") == tt.key.Encrypted {
				t.Errorf("Check = %v: unencrypted-private-key wrong", ids)
			}
			for _, w := range got {
				if w.ID == "weak-protection" && w.Severity != "medium" {
					t.Errorf("severity %q, want medium", w.Severity)
				}
			}
		})
	}
}

// TestCheckHostile checks that malformed or huge keys neither panic nor take long.
func TestCheckHostile(t *testing.T) {
	huge := new(big.Int).Lsh(big.NewInt(1), 1<<20) // a 1 Mbit modulus
	huge.Sub(huge, big.NewInt(1))
	odd16k := new(big.Int).Lsh(big.NewInt(1), 16383)
	odd16k.Add(odd16k, big.NewInt(0x1234567))
	sixtyfourK := new(big.Int).Lsh(big.NewInt(1), 65535)
	sixtyfourK.Add(sixtyfourK, big.NewInt(0xabcdef))
	junk := make([]byte, 4096)
	if _, err := rand.Read(junk); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		key  Key
	}{
		{name: "nil parts", key: Key{Type: "rsa", RSA: &RSAParts{}}},
		{name: "nil e", key: Key{Type: "rsa", RSA: &RSAParts{N: big.NewInt(15)}}},
		{name: "negative n", key: Key{Type: "rsa", RSA: &RSAParts{N: big.NewInt(-15), E: big.NewInt(3)}}},
		{name: "zero n", key: Key{Type: "rsa", RSA: &RSAParts{N: new(big.Int), E: big.NewInt(3), D: new(big.Int)}}},
		{name: "tiny n", key: Key{Type: "rsa", RSA: &RSAParts{N: big.NewInt(1), E: big.NewInt(1)}}},
		{name: "1 Mbit n", key: Key{Type: "rsa", RSA: &RSAParts{N: huge, E: new(big.Int).Set(huge)}}},
		{name: "16 kbit odd n, huge e", key: Key{Type: "rsa", RSA: &RSAParts{N: odd16k, E: new(big.Int).Rsh(odd16k, 3).SetBit(new(big.Int).Rsh(odd16k, 3), 0, 1), D: odd16k}}},
		{name: "64 kbit odd n", key: Key{Type: "rsa", RSA: &RSAParts{N: sixtyfourK, E: big.NewInt(65537)}}},
		{name: "random 32 kbit", key: Key{Type: "rsa", RSA: &RSAParts{N: new(big.Int).SetBytes(junk), E: new(big.Int).SetBytes(junk[:2048])}}},
		{name: "empty", key: Key{}},
		{name: "bad ed25519", key: Key{Type: "ed25519", Public: ed25519.PublicKey{1, 2, 3}}},
		{name: "encrypted no kdf", key: Key{Private: true, Encrypted: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			_ = Check(tt.key)
			if d := time.Since(start); d > 300*time.Millisecond {
				t.Errorf("Check took %v", d)
			}
		})
	}
}

func TestCatalog(t *testing.T) {
	ids := []string{"roca", "fermat", "small-factors", "small-d", "rsa-short", "rsa-exponent", "rsa-invalid",
		"published-key", "weak-protection", "unencrypted-private-key", "shared-prime"}
	if len(Catalog) != len(ids) {
		t.Errorf("Catalog has %d entries, want %d", len(Catalog), len(ids))
	}
	for _, id := range ids {
		w, ok := Catalog[id]
		if !ok || w.ID != id || w.Summary == "" || w.Reference == "" {
			t.Errorf("Catalog[%q] = %+v", id, w)
		}
		if _, ok := wkSeverityRank[w.Severity]; !ok {
			t.Errorf("Catalog[%q] severity %q", id, w.Severity)
		}
	}
	if Catalog["shared-prime"].Severity != "critical" || Catalog["unencrypted-private-key"].Severity != "high" {
		t.Error("shared-prime must be critical and unencrypted-private-key high")
	}
}
