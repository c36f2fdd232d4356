package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keywarden/keywarden/hsmcheck"
	"github.com/keywarden/keywarden/hsmcheck/pkcs11/softhsmtest"
	"github.com/keywarden/keywarden/report"
	"github.com/keywarden/keywarden/rules/keys"
	"github.com/keywarden/keywarden/scanner/dumptest"
)

// TestScanDumpOfRealCore is issue #10's acceptance test: a process holding an RSA key, an EC
// key and an AES-256 key (the raw AES key zeroed, so it survives only as crypto/aes's expanded
// schedule) is dumped with gdb's gcore, and scan dump finds all three, confirmed, at virtual
// addresses. The RSA signing key and the AES key live in a real SoftHSM2 token too, so both
// are live exposures; the EC key is in no inventory.
func TestScanDumpOfRealCore(t *testing.T) {
	tk := softhsmtest.New(t)
	tk.UsePINEnv(t)
	signing := tk.GenerateRSA(t, "dump-signing", []byte{0x21}, 2048)
	aesKey := make([]byte, 32)
	rand.Read(aesKey)
	tk.CreateAES(t, "dump-data-key", []byte{0x22}, aesKey)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, err := x509.MarshalECPrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files := map[string][]byte{
		"rsa.pem": pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(signing)}),
		"ec.pem":  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: ecDER}),
		"aes.hex": []byte(hex.EncodeToString(aesKey) + "\n"),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	core, _ := dumptest.Gcore(t, filepath.Join("..", "..", "testdata", "dumpproc"),
		filepath.Join(dir, "rsa.pem"), filepath.Join(dir, "ec.pem"), filepath.Join(dir, "aes.hex"))

	rep, res := scanJSON(t, "scan", "dump", core, "--inventory", tk.URI())
	if res.code != exitFindings {
		t.Fatalf("exit %d, want %d: %s", res.code, exitFindings, res.stderr)
	}
	spki := func(pub any) string {
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		return keys.Parse(der)[0].PublicSHA256
	}
	type want struct {
		rule, keyType, exposure string
		detectors               []string
	}
	wants := map[string]want{
		spki(&signing.PublicKey): {"private-key-in-binary", "rsa", hsmcheck.Live, []string{"der-pkcs1"}},
		spki(&ec.PublicKey):      {"private-key-in-binary", "ecdsa", hsmcheck.NoMatch, []string{"der-sec1"}},
		"aes":                    {"aes-key-schedule", "aes", hsmcheck.Live, []string{"aes-schedule"}},
	}
	found := map[string]bool{}
	for _, f := range rep.Findings {
		if f.Key == nil {
			t.Errorf("finding %s has no key", f.RuleID)
			continue
		}
		id := f.Key.PublicSHA256
		if f.Key.Type == "aes" {
			id = "aes"
		}
		w, ok := wants[id]
		if !ok {
			t.Errorf("unexpected finding %s (%s %s)", f.RuleID, f.Key.Type, f.Key.Format)
			continue
		}
		found[id] = true
		if f.RuleID != w.rule || f.Key.Type != w.keyType || f.Exposure == nil || f.Exposure.Status != w.exposure {
			t.Errorf("%s key: rule %s, exposure %+v; want %s, %s", w.keyType, f.RuleID, f.Exposure, w.rule, w.exposure)
		}
		if w.exposure == hsmcheck.Live && f.Severity != "critical" {
			t.Errorf("live %s key has severity %s", w.keyType, f.Severity)
		}
		var dets []string
		for _, l := range f.Locations {
			if l.Source != "dump" || l.Path != core || l.Offset == nil || !strings.HasPrefix(l.Address, "0x") || l.Confirmed == "" {
				t.Errorf("%s key location %+v: want a dump location with offset, address and confirmation", w.keyType, l)
			}
			dets = append(dets, l.Detector)
		}
		for _, d := range w.detectors {
			if !contains(dets, d) {
				t.Errorf("%s key found by %v, want %s among them", w.keyType, dets, d)
			}
		}
	}
	for id, w := range wants {
		if !found[id] {
			t.Errorf("the %s key was not found in the core", w.keyType)
		}
	}
	if f := findingByType(rep, "aes"); f != nil && f.Key.Bits != 256 {
		t.Errorf("AES key of %d bits, want 256", f.Key.Bits)
	}

	// Nothing of the keys reaches the report or the terminal without --show-secrets.
	for _, format := range []string{"text", "json", "sarif", "csv", "html"} {
		r := keywarden(t, "scan", "dump", core, "--format", format)
		for name, secret := range map[string]string{
			"AES key": hex.EncodeToString(aesKey),
			"RSA PEM": strings.Split(string(files["rsa.pem"]), "\n")[3],
			"EC PEM":  strings.Split(string(files["ec.pem"]), "\n")[1],
			"AES JWK": jwkK(aesKey),
		} {
			if strings.Contains(r.stdout, secret) || strings.Contains(r.stderr, secret) {
				t.Errorf("--format %s prints the %s", format, name)
			}
		}
	}
	// With --show-secrets the key comes out whole, as PEM or JWK, for incident response.
	r := keywarden(t, "scan", "dump", core, "--format", "json", "--show-secrets")
	if !strings.Contains(r.stdout, jwkK(aesKey)) {
		t.Error("--show-secrets does not print the AES key as a JWK")
	}
}

func jwkK(key []byte) string { return base64.RawURLEncoding.EncodeToString(key) }

func findingByType(rep *report.JSONReport, typ string) *report.JSONFinding {
	for i := range rep.Findings {
		if rep.Findings[i].Key != nil && rep.Findings[i].Key.Type == typ {
			return &rep.Findings[i]
		}
	}
	return nil
}

// TestScanDumpPrimeAgainstInventory: the key's DER is damaged and no public key is in the
// image, but one prime survives as big-number limbs. Only the HSM's modulus lets scan dump
// rebuild the key, and that key is live.
func TestScanDumpPrimeAgainstInventory(t *testing.T) {
	tk := softhsmtest.New(t)
	tk.UsePINEnv(t)
	signing := tk.GenerateRSA(t, "dump-prime", []byte{0x31}, 2048)
	img := make([]byte, 4<<20)
	rand.Read(img)
	broken := x509.MarshalPKCS1PrivateKey(signing)
	broken[0], broken[4] = 0, 0 // the SEQUENCE and version headers are gone
	copy(img[0x10000:], broken)
	limbs := signing.Primes[0].FillBytes(make([]byte, 128))
	for i, j := 0, len(limbs)-1; i < j; i, j = i+1, j-1 {
		limbs[i], limbs[j] = limbs[j], limbs[i]
	}
	copy(img[0x200008:], limbs)
	path := filepath.Join(t.TempDir(), "memory.raw")
	if err := os.WriteFile(path, img, 0o600); err != nil {
		t.Fatal(err)
	}

	if rep, res := scanJSON(t, "scan", "dump", path, "--no-inventory"); len(rep.Findings) != 0 || res.code != exitClean {
		t.Fatalf("without the inventory: exit %d, %d findings; want a clean scan", res.code, len(rep.Findings))
	}
	rep, res := scanJSON(t, "scan", "dump", path, "--inventory", tk.URI())
	if res.code != exitFindings || len(rep.Findings) != 1 {
		t.Fatalf("exit %d, %d findings; want 1: %s", res.code, len(rep.Findings), res.stderr)
	}
	f := rep.Findings[0]
	l := f.Locations[0]
	der, _ := x509.MarshalPKIXPublicKey(&signing.PublicKey)
	if f.RuleID != "rsa-key-from-primes" || f.Key == nil || f.Key.PublicSHA256 != keys.Parse(der)[0].PublicSHA256 {
		t.Errorf("finding %s with key %+v, want the rebuilt signing key", f.RuleID, f.Key)
	}
	if f.Exposure == nil || f.Exposure.Status != hsmcheck.Live || f.Severity != "critical" {
		t.Errorf("exposure %+v, severity %s; want live and critical", f.Exposure, f.Severity)
	}
	if l.Detector != "rsa-primes" || l.Offset == nil || *l.Offset != 0x200008 || !strings.Contains(l.Confirmed, "dump-prime") {
		t.Errorf("location %+v: want the prime's offset and the inventory key named", l)
	}
}
