package hsmcheck_test

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/hsmcheck"
)

type declared struct{ *memInventory }

func (declared) DeclaresKeys() bool { return true }

func TestAudit(t *testing.T) {
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	yes, no := hsmcheck.BoolPtr(true), hsmcheck.BoolPtr(false)
	hsm := &memInventory{name: "pkcs11:prod", keys: []hsmcheck.Key{
		// Fine: young, sensitive, not extractable, declared in the file.
		{ID: "01", Label: "good", Class: hsmcheck.Private, State: hsmcheck.Active, Scope: "prod", SPKIHash: [32]byte{1},
			Usage: []string{"sign"}, Created: now.AddDate(-1, 0, 0), Extractable: no, Sensitive: yes},
		// Signing key 4 years old: beyond 3 years.
		{ID: "02", Label: "old-signer", Class: hsmcheck.Private, State: hsmcheck.Active, Scope: "prod", SPKIHash: [32]byte{2},
			Usage: []string{"sign"}, Created: now.AddDate(-4, 0, 0)},
		// Extractable and not sensitive; also the same material as staging's 11.
		{ID: "03", Label: "exportable", Class: hsmcheck.Secret, State: hsmcheck.Active, Scope: "prod", Algorithm: "AES-256",
			CheckValue: []byte{1, 2, 3}, Extractable: yes, Sensitive: no},
		// Past its end date, usage still on.
		{ID: "04", Label: "expired", Class: hsmcheck.Private, State: hsmcheck.Deactivated, Scope: "prod", SPKIHash: [32]byte{4},
			Usage: []string{"sign"}, Expires: now.AddDate(0, -1, 0)},
		// Past its end date and out of use: fine.
		{ID: "05", Label: "retired", Class: hsmcheck.Private, State: hsmcheck.Deactivated, Scope: "prod", SPKIHash: [32]byte{5},
			Usage: []string{"verify"}, Expires: now.AddDate(0, -1, 0), Created: now.AddDate(-9, 0, 0)},
	}}
	kms := &memInventory{name: "aws-kms:eu-west-1", keys: []hsmcheck.Key{
		{ID: "k1", Label: "no-rotation", Class: hsmcheck.Secret, State: hsmcheck.Active, Scope: "prod", Algorithm: "AES-256",
			RotationEnabled: no, Created: now.AddDate(0, -2, 0)},
		// Rotated automatically: its age is not its cryptoperiod.
		{ID: "k2", Label: "rotating", Class: hsmcheck.Secret, State: hsmcheck.Active, Scope: "prod", Algorithm: "AES-256",
			RotationEnabled: yes, Created: now.AddDate(-5, 0, 0)},
	}}
	staging := &memInventory{name: "pkcs11:staging", keys: []hsmcheck.Key{
		// Same material as prod's 03, which the file declares: declared by its check value.
		{ID: "11", Label: "exportable", Class: hsmcheck.Secret, State: hsmcheck.Active, Scope: "staging", Algorithm: "AES-256", CheckValue: []byte{1, 2, 3}},
		{ID: "12", Label: "undeclared", Class: hsmcheck.Private, State: hsmcheck.Active, Scope: "staging", SPKIHash: [32]byte{12}},
	}}
	file := declared{&memInventory{name: "file:inv.yaml", keys: []hsmcheck.Key{
		{ID: "01", Location: "pkcs11:prod", Owner: "a", Purpose: "b", SPKIHash: [32]byte{1}, State: hsmcheck.Active},
		{ID: "gone", Location: "pkcs11:prod", Owner: "a", SPKIHash: [32]byte{99}, State: hsmcheck.Active},
		{ID: "elsewhere", Location: "kmip:other", Owner: "a", Purpose: "b", SPKIHash: [32]byte{98}, State: hsmcheck.Active},
		{ID: "03", Location: "pkcs11:prod", Owner: "a", Purpose: "b", CheckValue: []byte{1, 2, 3}, Algorithm: "AES-256", State: hsmcheck.Active},
		{ID: "02", Location: "pkcs11:prod", Owner: "a", Purpose: "b", State: hsmcheck.Active},
		{ID: "04", Location: "pkcs11:prod", Owner: "a", Purpose: "b", State: hsmcheck.Active},
		{ID: "05", Location: "pkcs11:prod", Owner: "a", Purpose: "b", State: hsmcheck.Active},
		{ID: "k1", Location: "aws-kms:eu-west-1", Owner: "a", Purpose: "b", State: hsmcheck.Active},
		{ID: "k2", Location: "aws-kms:eu-west-1", Owner: "a", Purpose: "b", State: hsmcheck.Active},
	}}}
	down := &memInventory{name: "kmip:down", fail: hsmcheck.ErrAuth}
	loaded, err := hsmcheck.Load(context.Background(), []hsmcheck.Inventory{hsm, kms, staging, file, down})
	if err != nil {
		t.Fatal(err)
	}
	p := hsmcheck.DefaultPolicy()
	p.Now = now
	var got []string
	for _, is := range hsmcheck.Audit(loaded, p) {
		got = append(got, is.Check+" "+is.Inventory+" "+is.Key.ID+" "+is.Severity)
	}
	sort.Strings(got)
	want := []string{
		"inventory-cryptoperiod pkcs11:prod 02 medium",
		"inventory-entry-missing file:inv.yaml gone medium",
		"inventory-extractable pkcs11:prod 03 high",
		"inventory-no-owner file:inv.yaml gone low",
		"inventory-not-sensitive pkcs11:prod 03 high",
		"inventory-past-end-date pkcs11:prod 04 high",
		"inventory-rotation-off aws-kms:eu-west-1 k1 medium",
		"inventory-same-material pkcs11:prod 03 high",
		"inventory-undeclared-key pkcs11:staging 12 medium",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("issues (-want +got):\n%s", diff)
	}

	// A shorter signing cryptoperiod from the config flags the 1-year-old key too.
	p.Cryptoperiods["sign"] = 180 * 24 * time.Hour
	n := 0
	for _, is := range hsmcheck.Audit(loaded, p) {
		if is.Check == hsmcheck.CheckCryptoperiod {
			n++
			if !strings.Contains(is.Message, "180 days") {
				t.Errorf("message %q does not name the period", is.Message)
			}
		}
	}
	if n != 2 {
		t.Errorf("%d cryptoperiod issues with a 180-day signing period, want 2", n)
	}
}
