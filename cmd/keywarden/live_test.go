package main

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keywarden/keywarden/hsmcheck"
	"github.com/keywarden/keywarden/hsmcheck/kmip"
	"github.com/keywarden/keywarden/hsmcheck/kmip/kmiptest"
	"github.com/keywarden/keywarden/hsmcheck/pkcs11/softhsmtest"
	"github.com/keywarden/keywarden/report"
	"github.com/keywarden/keywarden/scanner/gittest"
)

// exposureOf returns each finding's exposure by its first path: "status severity by/confirmation".
func exposureOf(t *testing.T, rep *report.JSONReport) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, f := range rep.Findings {
		if f.Exposure == nil {
			t.Fatalf("finding %s has no exposure", f.RuleID)
		}
		s := f.Exposure.Status + " " + f.Severity
		if len(f.Exposure.Matches) > 0 {
			m := f.Exposure.Matches[0]
			s += " " + m.By
			if m.Confirmation != "" {
				s += "/" + m.Confirmation
			}
		}
		out[f.Locations[0].Path] = s
	}
	return out
}

func checkExposures(t *testing.T, got, want map[string]string) {
	t.Helper()
	for p, w := range want {
		if got[p] != w {
			t.Errorf("%s: %q, want %q", p, got[p], w)
		}
	}
}

// TestLiveExposurePKCS11 is issue #7's acceptance test against a real SoftHSM2 token: a key
// generated in the token whose private half is committed is live; once the token key is
// deactivated it is retired; an unrelated key is unknown; an AES key pasted into a config
// matches by check value and is confirmed by the HSM encrypting a random block.
func TestLiveExposurePKCS11(t *testing.T) {
	tk := softhsmtest.New(t)
	tk.UsePINEnv(t)
	signing := tk.GenerateRSA(t, "jwt-signing", []byte{0x01}, 2048)
	aes := make([]byte, 32)
	rand.Read(aes)
	tk.CreateAES(t, "data-key", []byte{0x02}, aes)
	unrelated, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}

	r := gittest.New(t)
	r.Commit(map[string]string{
		"deploy/signing.pem":   pemKey(t, signing),
		"deploy/unrelated.pem": pemKey(t, unrelated),
		"config/app.env":       "AES_KEY=" + hex.EncodeToString(aes) + "\n",
	}, "add deployment keys")

	rep, res := scanJSON(t, "scan", "git", r.Path(), "--inventory", tk.URI())
	if res.code != exitFindings {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	checkExposures(t, exposureOf(t, rep), map[string]string{
		"deploy/signing.pem":   "live critical " + hsmcheck.BySPKI,
		"deploy/unrelated.pem": "unknown critical",
		"config/app.env":       "live critical " + hsmcheck.ByKCV + "/" + hsmcheck.Confirmed,
	})
	if len(rep.Inventories) != 1 || rep.Inventories[0].Name != "pkcs11:"+tk.Label || rep.Inventories[0].Keys != 2 {
		t.Errorf("inventories = %+v, want pkcs11:%s with 2 keys (the pair counts once)", rep.Inventories, tk.Label)
	}

	// The token's keys exported as an inventory file: both fingerprints, and facts for people
	// to fill in. The audit then finds the generated key extractable and not sensitive (the test
	// made it so, to leak it) and both entries without an owner.
	exported := filepath.Join(t.TempDir(), "keywarden-inventory.yaml")
	if res := keywarden(t, "inventory", "export", "--inventory", tk.URI(), "-o", exported); res.code != exitClean {
		t.Fatalf("export: exit %d: %s", res.code, res.stderr)
	}
	data, err := os.ReadFile(exported)
	if err != nil {
		t.Fatal(err)
	}
	spki, _ := hsmcheck.SPKIHash(&signing.PublicKey)
	// YAML quotes a check value that happens to read as a number (769205, 1e5000), so compare
	// without quotes rather than fail one run in a few dozen.
	unquoted := strings.ReplaceAll(string(data), `"`, "")
	for _, want := range []string{"spki_sha256: " + hex.EncodeToString(spki[:]), "kcv: " + hex.EncodeToString(hsmcheck.AESKCV(aes)), "location: pkcs11:" + tk.Label} {
		if !strings.Contains(unquoted, want) {
			t.Errorf("exported inventory lacks %q:\n%s", want, data)
		}
	}
	if fi, _ := os.Stat(exported); fi.Mode().Perm() != 0o600 {
		t.Errorf("exported inventory has mode %v", fi.Mode().Perm())
	}
	audit := keywarden(t, "inventory", "audit", "--inventory", tk.URI(), "--inventory", "file:"+exported, "--format", "json")
	if audit.code != exitFindings {
		t.Fatalf("audit: exit %d: %s", audit.code, audit.stderr)
	}
	for _, want := range []string{hsmcheck.CheckExtractable, hsmcheck.CheckNotSensitive, hsmcheck.CheckNoOwner} {
		if !strings.Contains(audit.stdout, `"rule_id": "`+want+`"`) {
			t.Errorf("audit does not report %s:\n%s", want, audit.stdout)
		}
	}
	if strings.Contains(audit.stdout, hsmcheck.CheckUndeclared) || strings.Contains(audit.stdout, hsmcheck.CheckMissingKey) {
		t.Errorf("the exported file and the token disagree:\n%s", audit.stdout)
	}

	tk.Deactivate(t, []byte{0x01})
	rep, res = scanJSON(t, "scan", "git", r.Path(), "--inventory", tk.URI())
	if res.code != exitFindings {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	checkExposures(t, exposureOf(t, rep), map[string]string{
		"deploy/signing.pem": "retired critical " + hsmcheck.BySPKI, // a private key in the clear stays critical
		"config/app.env":     "live critical " + hsmcheck.ByKCV + "/" + hsmcheck.Confirmed,
	})
	for _, f := range rep.Findings {
		if f.Locations[0].Path == "deploy/signing.pem" && f.Exposure.Matches[0].State != hsmcheck.Deactivated {
			t.Errorf("deactivated token key reads as %q", f.Exposure.Matches[0].State)
		}
	}

	// A wrong PIN skips the inventory with a warning; the findings stay, unmarked as live.
	t.Setenv(softhsmtest.PINEnv, "wrong-pin-1234")
	rep, res = scanJSON(t, "scan", "git", r.Path(), "--inventory", tk.URI())
	if res.code != exitFindings || len(rep.Inventories) != 1 || rep.Inventories[0].Skipped == "" {
		t.Errorf("wrong PIN: exit %d, inventories %+v, stderr %s", res.code, rep.Inventories, res.stderr)
	}
}

// TestLiveExposureKMIP is the same acceptance test against a real PyKMIP server; AES keys there
// have no check value and are confirmed by the server encrypting a random block.
func TestLiveExposureKMIP(t *testing.T) {
	srv := kmiptest.Start(t)
	signing, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	unrelated, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("e2e-%x", signing.N.Bytes()[:4])
	privID, _ := srv.RegisterKeyPair(t, signing, name)
	aes := make([]byte, 16)
	rand.Read(aes)
	srv.RegisterAES(t, aes, name+"-aes")

	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "signing.pem"), pemKey(t, signing))
	writeFile(t, filepath.Join(dir, "unrelated.pem"), pemKey(t, unrelated))
	writeFile(t, filepath.Join(dir, "app.env"), "AES_KEY="+hex.EncodeToString(aes)+"\n")

	rep, res := scanJSON(t, "scan", "dir", dir, "--inventory", srv.URI())
	if res.code != exitFindings {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	checkExposures(t, exposureOf(t, rep), map[string]string{
		"signing.pem":   "live critical " + hsmcheck.BySPKI,
		"unrelated.pem": "unknown critical",
		"app.env":       "live critical " + hsmcheck.ByChallenge + "/" + hsmcheck.Confirmed,
	})

	srv.Revoke(t, privID, kmip.RevokeKeyCompromise)
	rep, res = scanJSON(t, "scan", "dir", dir, "--inventory", srv.URI())
	if res.code != exitFindings {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	checkExposures(t, exposureOf(t, rep), map[string]string{
		"signing.pem": "retired critical " + hsmcheck.BySPKI,
	})
}
