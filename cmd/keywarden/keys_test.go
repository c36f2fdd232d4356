package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/keywarden/keywarden/scanner/gittest"
)

// rsaWithPrimes builds an RSA private key from two given primes.
func rsaWithPrimes(t *testing.T, p, q *big.Int) string {
	t.Helper()
	n := new(big.Int).Mul(p, q)
	phi := new(big.Int).Mul(new(big.Int).Sub(p, big.NewInt(1)), new(big.Int).Sub(q, big.NewInt(1)))
	e := big.NewInt(65537)
	d := new(big.Int).ModInverse(e, phi)
	if d == nil {
		t.Skip("e not invertible for these primes; rerun")
	}
	k := &rsa.PrivateKey{PublicKey: rsa.PublicKey{N: n, E: 65537}, D: d, Primes: []*big.Int{p, q}}
	k.Precompute()
	if err := k.Validate(); err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
}

func prime(t *testing.T, bits int) *big.Int {
	t.Helper()
	p, err := rand.Prime(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestScanFlagsSharedPrimes: two RSA keys generated with a shared prime, in different files of
// one repository, are both flagged shared-prime, with their key described; a third key is not.
func TestScanFlagsSharedPrimes(t *testing.T) {
	shared := prime(t, 512)
	a := rsaWithPrimes(t, shared, prime(t, 512))
	b := rsaWithPrimes(t, shared, prime(t, 512))
	c := rsaWithPrimes(t, prime(t, 512), prime(t, 512))
	r := gittest.New(t)
	r.Commit(map[string]string{"deploy/a.pem": a}, "a")
	r.Commit(map[string]string{"ops/keys/b.pem": b, "c.pem": c}, "b and c")
	rep, res := scanJSON(t, "scan", "git", r.Path())
	if res.code != exitFindings {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	flagged := map[string]bool{}
	for _, f := range rep.Findings {
		if f.Key == nil || f.Key.Type != "rsa" || f.Key.Bits != 1024 || !f.Key.Private || f.Key.PublicSHA256 == "" {
			t.Errorf("finding at %s: key %+v, want an RSA-1024 private key with its SPKI fingerprint", f.Locations[0].Path, f.Key)
		}
		for _, w := range f.Weaknesses {
			if w.ID == "shared-prime" {
				flagged[f.Locations[0].Path] = true
				if f.Severity != "critical" {
					t.Errorf("%s: severity %s, want critical for a key anyone can factor", f.Locations[0].Path, f.Severity)
				}
			}
		}
	}
	var got []string
	for p := range flagged {
		got = append(got, p)
	}
	sort.Strings(got)
	if strings.Join(got, " ") != "deploy/a.pem ops/keys/b.pem" {
		t.Errorf("shared-prime on %v, want deploy/a.pem and ops/keys/b.pem", got)
	}
}

// TestKeysCheckBadkeys runs keys check over the badkeys vectors: each weak one gets its reason,
// the ok ones none, and the exit code says some are weak.
func TestKeysCheckBadkeys(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "keys", "badkeys")
	want := map[string]string{
		"rsa-roca.key":               "roca",
		"rsa-fermat-pkcs1.key":       "fermat",
		"rsa-smallfactors-valid.key": "small-factors",
		"rsa-small-d.key":            "small-d",
		"rsa-e1.key":                 "rsa-exponent",
		"ec-p256-rfc-example.key":    "published-key",
		"ed25519-rfc-example.key":    "published-key",
		"jwk-rsa-rfc7517.json":       "published-key",
		"rsa-ok.key":                 "",
		"jwk-rsa-ok.json":            "",
		"x448-ok.key":                "",
	}
	var files []string
	for f := range want {
		files = append(files, filepath.Join(dir, f))
	}
	sort.Strings(files)
	res := keywarden(t, append([]string{"keys", "check", "--format", "json"}, files...)...)
	if res.code != exitFindings {
		t.Fatalf("exit %d, want 1: %s", res.code, res.stderr)
	}
	var got []struct {
		File       string `json:"file"`
		Weaknesses []struct {
			ID string `json:"id"`
		} `json:"weaknesses"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &got); err != nil {
		t.Fatalf("decoding: %v\n%s", err, res.stdout)
	}
	seen := map[string]bool{}
	for _, k := range got {
		name := filepath.Base(k.File)
		seen[name] = true
		var ids []string
		for _, w := range k.Weaknesses {
			if w.ID != "unencrypted-private-key" {
				ids = append(ids, w.ID)
			}
		}
		switch w := want[name]; {
		case w == "" && len(ids) > 0:
			t.Errorf("%s: %v, want no weakness", name, ids)
		case w != "" && !contains(ids, w):
			t.Errorf("%s: %v, want %s", name, ids, w)
		}
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("%s: no key found", name)
		}
	}
	text := keywarden(t, append([]string{"keys", "check"}, files...)...)
	if !strings.Contains(text.stdout, "roca") || text.code != exitFindings {
		t.Errorf("text output (exit %d):\n%s", text.code, text.stdout)
	}
	ok := keywarden(t, "keys", "check", filepath.Join(dir, "rsa-ok.key"))
	if ok.code != exitClean {
		t.Errorf("an ok key: exit %d, want 0\n%s", ok.code, ok.stdout)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestPlaceholdersDropped: a documentation placeholder that a rule matches is dropped unless
// --include-placeholders, which keeps it graded; a real secret next to it gets a strength.
func TestPlaceholdersDropped(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "README.md"), "Set the webhook:\n\n    url = \"https://hooks.slack.com/services/"+
		"TXXXXXXXX/BXXXXXXXX/XXXXXXXXXXXXXXXXXXXXXXXX\"\n")
	writeFile(t, filepath.Join(dir, "app.env"), "GITHUB_TOKEN="+fakeToken(57)+"\n")
	rep, _ := scanJSON(t, "scan", "dir", dir)
	if len(rep.Findings) != 1 || rep.Findings[0].RuleID != "github-pat" {
		t.Fatalf("findings %+v, want only the real token", rep.Findings)
	}
	if s := rep.Findings[0].Strength; s == nil || s.Grade != "strong" {
		t.Errorf("real token's strength %+v, want strong", s)
	}
	rep, _ = scanJSON(t, "scan", "dir", dir, "--include-placeholders")
	if len(rep.Findings) != 2 {
		t.Fatalf("%d findings with --include-placeholders, want 2", len(rep.Findings))
	}
	for _, f := range rep.Findings {
		if f.RuleID == "slack-webhook-url" && (f.Strength == nil || f.Strength.Grade != "placeholder" || f.Strength.Reason == "") {
			t.Errorf("placeholder's strength %+v, want placeholder with a reason", f.Strength)
		}
	}
}
