package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keywarden/keywarden/hsmcheck"
	"github.com/keywarden/keywarden/report/sariftest"
)

// leakFixture is a directory holding a leaked RSA private key and a leaked AES key, built at
// run time so that no key lives in the repository.
type leakFixture struct {
	dir     string
	rsa     *rsa.PrivateKey
	spki    [32]byte
	aes     []byte
	unknown *rsa.PrivateKey
}

func newLeakFixture(t *testing.T) *leakFixture {
	t.Helper()
	f := &leakFixture{dir: t.TempDir(), aes: make([]byte, 16)}
	var err error
	if f.rsa, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	if f.unknown, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	f.spki, _ = hsmcheck.SPKIHash(&f.rsa.PublicKey)
	rand.Read(f.aes)
	writeFile(t, filepath.Join(f.dir, "deploy", "signing.pem"), pemKey(t, f.rsa))
	writeFile(t, filepath.Join(f.dir, "deploy", "other.pem"), pemKey(t, f.unknown))
	writeFile(t, filepath.Join(f.dir, "app.env"), "AES_KEY="+hex.EncodeToString(f.aes)+"\n")
	return f
}

func pemKey(t *testing.T, k *rsa.PrivateKey) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// inventoryFile writes an inventory file listing the fixture's RSA key with rsaState and its AES
// key with aesState.
func (f *leakFixture) inventoryFile(t *testing.T, rsaState, aesState string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "keywarden-inventory.yaml")
	writeFile(t, p, fmt.Sprintf(`version: 1
keys:
  - id: jwt-signing
    owner: identity
    purpose: signs tokens
    scope: prod
    state: %s
    fingerprints: {spki_sha256: %x}
  - id: data-key
    algorithm: AES-128
    scope: staging
    state: %s
    fingerprints: {kcv: %x}
`, rsaState, f.spki, aesState, hsmcheck.AESKCV(f.aes)))
	return p
}

func TestScanMarksExposure(t *testing.T) {
	f := newLeakFixture(t)
	inv := f.inventoryFile(t, "active", "deactivated")
	rep, r := scanJSON(t, "scan", "dir", f.dir, "--inventory", "file:"+inv)
	if r.code != exitFindings {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	got := map[string]string{}
	for _, fd := range rep.Findings {
		if fd.Exposure == nil {
			t.Fatalf("finding %s at %s has no exposure", fd.RuleID, fd.Locations[0].Path)
		}
		got[fd.Locations[0].Path] = fd.Exposure.Status + " " + fd.Severity
		if fd.Locations[0].Path == "app.env" {
			if len(fd.Exposure.Matches) != 1 || fd.Exposure.Matches[0].By != hsmcheck.ByKCV || fd.Exposure.Matches[0].Confirmation != hsmcheck.KCVOnly {
				t.Errorf("AES match = %+v, want one kcv-only match", fd.Exposure.Matches)
			}
		}
	}
	want := map[string]string{
		"deploy/signing.pem": "live critical",
		"deploy/other.pem":   "unknown critical",
		"app.env":            "retired high",
	}
	for p, w := range want {
		if got[p] != w {
			t.Errorf("%s: %q, want %q", p, got[p], w)
		}
	}
	if len(rep.Inventories) != 1 || rep.Inventories[0].Keys != 2 || rep.Inventories[0].Skipped != "" {
		t.Errorf("inventories = %+v", rep.Inventories)
	}

	text := keywarden(t, "scan", "dir", f.dir, "--inventory", "file:"+inv, "--no-progress")
	if !strings.HasPrefix(text.stdout, "!! LIVE EXPOSURE: 1 leaked key is still active") {
		t.Errorf("text report does not open with the live banner:\n%s", text.stdout)
	}
	if !strings.Contains(text.stdout, "matches jwt-signing in file:"+inv+", active, scope prod, by spki-sha256") {
		t.Errorf("text report does not name the matched key:\n%s", text.stdout)
	}

	sarifOut := keywarden(t, "scan", "dir", f.dir, "--inventory", "file:"+inv, "--format", "sarif")
	if err := sariftest.Validate(t, []byte(sarifOut.stdout)); err != nil {
		t.Fatalf("SARIF invalid: %v", err)
	}
	var log struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Rules []struct {
						ID         string         `json:"id"`
						Properties map[string]any `json:"properties"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID  string `json:"ruleId"`
				Message struct{ Text string }
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(sarifOut.stdout), &log); err != nil {
		t.Fatal(err)
	}
	live := 0
	for _, ru := range log.Runs[0].Tool.Driver.Rules {
		if strings.HasSuffix(ru.ID, "/live-exposure") {
			live++
			if ru.Properties["security-severity"] != "10.0" {
				t.Errorf("live rule %s has security-severity %v, want 10.0", ru.ID, ru.Properties["security-severity"])
			}
		} else if ru.Properties["security-severity"] == "10.0" {
			t.Errorf("rule %s without a live finding scored 10.0", ru.ID)
		}
	}
	if live != 1 {
		t.Errorf("%d live rules, want 1", live)
	}
	for _, res := range log.Runs[0].Results {
		if strings.HasSuffix(res.RuleID, "/live-exposure") && !strings.Contains(res.Message.Text, "LIVE: matches jwt-signing") {
			t.Errorf("live result message %q", res.Message.Text)
		}
	}
}

func TestExposureFromConfigTable(t *testing.T) {
	f := newLeakFixture(t)
	inv := f.inventoryFile(t, "deactivated", "active")
	// A relative path in the config resolves against the config's directory.
	os.Rename(inv, filepath.Join(f.dir, "keywarden-inventory.yaml"))
	writeFile(t, filepath.Join(f.dir, ".keywarden.toml"), "[extend]\nuseDefault = true\n\n[[inventory]]\nuri = \"file:keywarden-inventory.yaml\"\nname = \"central\"\n")
	rep, r := scanJSON(t, "scan", "dir", f.dir)
	if r.code != exitFindings {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	states := map[string]string{}
	for _, fd := range rep.Findings {
		if fd.Exposure != nil {
			states[fd.Locations[0].Path] = fd.Exposure.Status
			if fd.Exposure.Status != hsmcheck.NoMatch && fd.Exposure.Matches[0].Inventory != "central" {
				t.Errorf("matched inventory %q, want the configured name", fd.Exposure.Matches[0].Inventory)
			}
		}
	}
	if states["deploy/signing.pem"] != "retired" || states["app.env"] != "live" {
		t.Errorf("exposures %v, want signing.pem retired and app.env live", states)
	}
	// --no-inventory leaves the config's inventories alone.
	rep, _ = scanJSON(t, "scan", "dir", f.dir, "--no-inventory")
	for _, fd := range rep.Findings {
		if fd.Exposure != nil {
			t.Errorf("--no-inventory: %s has exposure %+v", fd.RuleID, fd.Exposure)
		}
	}
}

func TestInventoryErrorsKeepResults(t *testing.T) {
	f := newLeakFixture(t)
	tests := []struct {
		name, uri, want string
		code            int
	}{
		{"unknown scheme", "gopher://x", "unknown scheme", exitError},
		{"broken file", "file:" + filepath.Join(f.dir, "app.env"), "parsing inventory file", exitError},
		{"pin on the command line", "pkcs11:/nonexistent.so?token=a&pin=1234", "would put a credential on the command line", exitError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := keywarden(t, "scan", "dir", f.dir, "--inventory", tt.uri, "--format", "json")
			if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want %d mentioning %q", r.code, r.stderr, tt.code, tt.want)
			}
			if strings.Contains(r.stderr, "1234") {
				t.Errorf("stderr shows the PIN: %s", r.stderr)
			}
			if strings.Contains(r.stderr, "AES_KEY") {
				t.Errorf("stderr quotes the file: %s", r.stderr)
			}
			lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
			if last := lines[len(lines)-1]; !strings.HasPrefix(last, "keywarden: checking the key inventory: ") || !strings.Contains(last, tt.want) {
				t.Errorf("last stderr line %q is not the one-line error", last)
			}
			if !strings.Contains(r.stdout, `"rule_id"`) {
				t.Errorf("the scan's findings were not reported")
			}
		})
	}
}

func TestInventoryCommands(t *testing.T) {
	f := newLeakFixture(t)
	inv := f.inventoryFile(t, "active", "active")

	r := keywarden(t, "inventory", "list", "--inventory", "file:"+inv, "--format", "json")
	if r.code != exitClean {
		t.Fatalf("list: exit %d: %s", r.code, r.stderr)
	}
	var listed []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &listed); err != nil || len(listed) != 2 || listed[0]["spki_sha256"] != hex.EncodeToString(f.spki[:]) {
		t.Errorf("list = %s (%v)", r.stdout, err)
	}

	r = keywarden(t, "inventory", "audit", "--inventory", "file:"+inv, "--format", "json")
	if r.code != exitFindings || !strings.Contains(r.stdout, hsmcheck.CheckNoOwner) || !strings.Contains(r.stdout, "data-key has no owner or purpose") {
		t.Errorf("audit: exit %d, stdout %s", r.code, r.stdout)
	}

	r = keywarden(t, "inventory", "audit")
	if r.code != exitError || !strings.Contains(r.stderr, "no inventory") {
		t.Errorf("audit without inventory: exit %d, %q", r.code, r.stderr)
	}

	// hash-token reads the token from stdin, with the file's salt.
	salted := filepath.Join(t.TempDir(), "inv.yaml")
	writeFile(t, salted, "version: 1\ntoken_salt: 000102030405060708090a0b0c0d0e0f\nkeys: []\n")
	token := "kw_" + strings.Repeat("tok", 8)
	var out, errb strings.Builder
	code := runIO(t.Context(), []string{"inventory", "hash-token", "--inventory", "file:" + salted}, strings.NewReader(token+"\n"), &out, &errb)
	want := hex.EncodeToString(hsmcheck.TokenHMAC([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, token))
	if code != exitClean || strings.TrimSpace(out.String()) != want {
		t.Errorf("hash-token: exit %d, %q, want %q (%s)", code, out.String(), want, errb.String())
	}

	r = keywarden(t, "inventory", "export", "--inventory", "file:"+inv)
	if r.code != exitError || !strings.Contains(r.stderr, "no backend to export from") {
		t.Errorf("export from an inventory file alone: exit %d: %s", r.code, r.stderr)
	}
}

func TestKeysCheckExposure(t *testing.T) {
	f := newLeakFixture(t)
	inv := f.inventoryFile(t, "active", "active")
	r := keywarden(t, "keys", "check", filepath.Join(f.dir, "deploy", "signing.pem"), filepath.Join(f.dir, "deploy", "other.pem"), "--inventory", "file:"+inv)
	if r.code != exitFindings || !strings.Contains(r.stdout, "LIVE: jwt-signing in file:") {
		t.Errorf("keys check: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = keywarden(t, "keys", "check", filepath.Join(f.dir, "deploy", "other.pem"), "--inventory", "file:"+inv)
	if r.code != exitClean {
		t.Errorf("keys check of an unknown key: exit %d\n%s", r.code, r.stdout)
	}
}
