package file_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keywarden/keywarden/hsmcheck"
	"github.com/keywarden/keywarden/hsmcheck/file"
	"github.com/keywarden/keywarden/hsmcheck/inventorytest"
)

func TestExampleInventory(t *testing.T) {
	s, err := hsmcheck.ParseSpec("file:../../testdata/inventories/example.yaml?scope=default")
	if err != nil {
		t.Fatal(err)
	}
	inv, err := file.Open(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	ks := inventorytest.Run(t, inv)
	if len(ks) != 4 {
		t.Fatalf("got %d keys, want 4", len(ks))
	}
	jwt := inventorytest.Find(t, ks, "jwt-signing-2025", func(k hsmcheck.Key) bool { return k.ID == "jwt-signing-2025" })
	if jwt.Class != hsmcheck.Private || jwt.State != hsmcheck.Active || jwt.RotationPeriod != 365*24*time.Hour ||
		jwt.Created != time.Date(2025, 1, 15, 0, 0, 0, 0, time.UTC) || jwt.Owner == "" || !jwt.HasSPKI() || jwt.Location != "pkcs11:prod-hsm" {
		t.Errorf("jwt entry read as %+v", jwt)
	}
	dek := inventorytest.Find(t, ks, "payments-dek", func(k hsmcheck.Key) bool { return k.ID == "payments-dek" })
	if dek.Class != hsmcheck.Secret || len(dek.CheckValue) != 3 || dek.State != hsmcheck.Active {
		t.Errorf("dek entry read as %+v", dek)
	}
	legacy := inventorytest.Find(t, ks, "legacy", func(k hsmcheck.Key) bool { return k.ID == "legacy-signing" })
	if legacy.State != hsmcheck.Deactivated || legacy.Scope != "staging" {
		t.Errorf("legacy entry read as %+v", legacy)
	}
	tok := inventorytest.Find(t, ks, "token", func(k hsmcheck.Key) bool { return k.ID == "ci-deploy-token" })
	if len(tok.TokenHMAC) != 32 || tok.Scope != "ci" {
		t.Errorf("token entry read as %+v", tok)
	}
	if salt := inv.(hsmcheck.TokenSalter).TokenSalt(); string(salt) != "keywarden-example-salt" {
		t.Errorf("salt %q", salt)
	}
}

func TestInventoryFileErrors(t *testing.T) {
	const spki = "3f1c0c1f8e4b1e5a9d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a291807f6e5d4c3b2"
	tests := []struct {
		name, doc, want string
	}{
		{"not yaml", "keys: [", "parsing inventory file"},
		{"newer version", "version: 7\nkeys: []", "version 7"},
		{"no id", "keys:\n  - fingerprints: {kcv: 010203}", "keys[0] (): no id"},
		{"bad kcv", "keys:\n  - id: a\n    fingerprints: {kcv: 0102}", "keys[0] (a): kcv"},
		{"bad spki", "keys:\n  - id: a\n    fingerprints: {spki_sha256: abc}", "keys[0] (a): parsing SHA-256"},
		{"nothing to match", "keys:\n  - id: a\n    owner: me", "nothing can match it"},
		{"bad state", "keys:\n  - id: a\n    state: sleepy\n    fingerprints: {spki_sha256: " + spki + "}", `state "sleepy"`},
		{"bad date", "keys:\n  - id: a\n    created: yesterday\n    fingerprints: {spki_sha256: " + spki + "}", "created"},
		{"bad period", "keys:\n  - id: a\n    rotation_period: soon\n    fingerprints: {spki_sha256: " + spki + "}", "rotation_period"},
		{"duplicate", "keys:\n  - id: a\n    fingerprints: {kcv: 010203}\n  - id: a\n    fingerprints: {kcv: 040506}", "appears twice"},
		{"token without salt", "keys:\n  - id: t\n    fingerprints: {token_hmac: " + spki + "}", "token_salt"},
		{"short salt", "token_salt: abcd\nkeys: []", "token_salt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "inv.yaml")
			os.WriteFile(p, []byte(tt.doc), 0o600)
			_, err := file.New(context.Background(), file.Config{Path: p})
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, hsmcheck.ErrConfig) {
				t.Errorf("error %v, want ErrConfig mentioning %q", err, tt.want)
			}
		})
	}
	if _, err := file.New(context.Background(), file.Config{Path: filepath.Join(t.TempDir(), "missing.yaml")}); err == nil {
		t.Error("a missing file did not fail")
	}
}

func TestEntriesRoundTrip(t *testing.T) {
	ks := []hsmcheck.Key{
		{ID: "01", Label: "sig", Class: hsmcheck.Private, State: hsmcheck.Active, SPKIHash: [32]byte{1}, Created: time.Date(2024, 2, 3, 0, 0, 0, 0, time.UTC), Usage: []string{"sign"}},
		{ID: "transit/k", Label: "k", Version: 2, Class: hsmcheck.Secret, State: hsmcheck.OldVersion, RotationPeriod: 90 * 24 * time.Hour},
	}
	old := &file.Document{Keys: []file.Entry{{ID: "whatever", Owner: "team-a", Purpose: "signing", Fingerprints: file.Fingerprints{SPKISHA256: "01" + strings.Repeat("00", 31)}}}}
	es := file.Entries("pkcs11:t", ks, old)
	if es[0].Owner != "team-a" || es[0].Purpose != "signing" || es[0].Created != "2024-02-03" || es[0].Location != "pkcs11:t" {
		t.Errorf("entry 0 = %+v", es[0])
	}
	if es[1].Version != 2 || es[1].State != "old-version" || es[1].RotationPeriod != "90d" || es[1].Owner != "" {
		t.Errorf("entry 1 = %+v", es[1])
	}
}
