package hsmcheck_test

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keywarden/keywarden/hsmcheck"
)

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, ".keywarden.toml")
	os.WriteFile(p, []byte(`
[extend]
useDefault = true

[[inventory]]
uri = "pkcs11:/usr/lib/softhsm/libsofthsm2.so?token=prod"
name = "prod-hsm"
scope = "prod"
pin-file = "secrets/pin"

[[inventory]]
uri = "file:keywarden-inventory.yaml"

[inventory_policy.cryptoperiods]
sign = "18w"
`), 0o600)
	c, err := hsmcheck.LoadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Specs) != 2 {
		t.Fatalf("%d specs, want 2", len(c.Specs))
	}
	s := c.Specs[0]
	if s.Scheme() != "pkcs11" || s.Target() != "/usr/lib/softhsm/libsofthsm2.so" || s.Name != "prod-hsm" || s.Scope != "prod" ||
		s.Params.Get("token") != "prod" || s.Path("pin-file") != filepath.Join(dir, "secrets/pin") {
		t.Errorf("spec 0 = %+v", s)
	}
	if c.Specs[1].Target() != "keywarden-inventory.yaml" || c.Specs[1].BaseDir != dir {
		t.Errorf("spec 1 = %+v", c.Specs[1])
	}
	if c.Policy.Cryptoperiods["sign"] != 18*7*24*time.Hour || c.Policy.Cryptoperiods["encrypt"] != 2*365*24*time.Hour {
		t.Errorf("policy = %v", c.Policy.Cryptoperiods)
	}

	for name, body := range map[string]string{
		"no uri":        "[[inventory]]\nname = \"x\"\n",
		"unknown usage": "[inventory_policy.cryptoperiods]\nfrobnicate = \"1y\"\n",
		"bad period":    "[inventory_policy.cryptoperiods]\nsign = \"1 year\"\n",
		"bad toml":      "[[inventory]\n",
	} {
		t.Run(name, func(t *testing.T) {
			os.WriteFile(p, []byte(body), 0o600)
			if _, err := hsmcheck.LoadConfig(p); !errors.Is(err, hsmcheck.ErrConfig) {
				t.Errorf("LoadConfig = %v, want ErrConfig", err)
			}
		})
	}
	if c, err := hsmcheck.LoadConfig(filepath.Join(dir, "none.toml")); err != nil || len(c.Specs) != 0 {
		t.Errorf("missing config: %v, %v", c, err)
	}
}

func TestSpec(t *testing.T) {
	// Built at run time: the repository scans itself.
	s, err := hsmcheck.ParseSpec("KMIP://kms.example:5696?ca=ca.pem&cert=c.pem&key=k.pem&pass" + "word=hunter2")
	if err != nil {
		t.Fatal(err)
	}
	if s.Scheme() != "kmip" || s.Target() != "kms.example:5696" {
		t.Errorf("scheme %q target %q", s.Scheme(), s.Target())
	}
	if r := s.Redacted(); strings.Contains(r, "hunter2") || !strings.Contains(r, "ca=ca.pem") {
		t.Errorf("Redacted() = %q", r)
	}
	if err := s.Forbid("password"); !errors.Is(err, hsmcheck.ErrConfig) || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("Forbid = %v", err)
	}
	v, _ := hsmcheck.ParseSpec("vault://127.0.0.1:8200/transit?token=s.abcdef")
	if r := v.Redacted(); strings.Contains(r, "abcdef") {
		t.Errorf("vault Redacted() = %q shows the token", r)
	}
	a, _ := hsmcheck.ParseSpec("awskms://eu-west-1?endpoint=" + url.QueryEscape("https://user:"+"s3cr3t@kms.local/?X-Amz-Security-Token=abc"))
	if r := a.Redacted(); strings.Contains(r, "s3cr3t") || strings.Contains(r, "abc") || !strings.Contains(r, "kms.local") {
		t.Errorf("awskms Redacted() = %q", r)
	}
	p, _ := hsmcheck.ParseSpec("pkcs11:/m.so?token=prod-hsm")
	if r := p.Redacted(); !strings.Contains(r, "token=prod-hsm") {
		t.Errorf("pkcs11 Redacted() = %q hides the token label", r)
	}
	if _, err := hsmcheck.ParseSpec("/no/scheme"); !errors.Is(err, hsmcheck.ErrConfig) {
		t.Errorf("ParseSpec without scheme = %v", err)
	}

	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "pin"), []byte("1234\n"), 0o600)
	s, _ = hsmcheck.ParseSpec("pkcs11:/m.so?pin-file=pin")
	s.BaseDir = dir
	env := map[string]string{}
	s.Getenv = func(k string) string { return env[k] }
	if v, err := s.Credential("pin-file", "KEYWARDEN_PKCS11_PIN"); err != nil || v != "1234" {
		t.Errorf("Credential from file = %q, %v", v, err)
	}
	env["KEYWARDEN_PKCS11_PIN"] = "5678"
	if v, _ := s.Credential("pin-file", "KEYWARDEN_PKCS11_PIN"); v != "5678" {
		t.Errorf("Credential prefers %q over the environment", v)
	}
	s.Params.Set("pin-file", "missing")
	delete(env, "KEYWARDEN_PKCS11_PIN")
	if _, err := s.Credential("pin-file", "KEYWARDEN_PKCS11_PIN"); err == nil {
		t.Error("a missing pin file did not fail")
	}
}
