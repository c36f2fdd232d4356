package hsmcheck_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/hsmcheck"
	"github.com/keywarden/keywarden/hsmcheck/file"
)

// memInventory is an inventory whose Challenger computes with key material it holds, as an HSM
// would; the matcher under test never sees that material.
type memInventory struct {
	name     string
	keys     []hsmcheck.Key
	material map[string][]byte // by key ID
	mech     map[string]hsmcheck.Mechanism
	calls    int
	fail     error
}

func (m *memInventory) Name() string { return m.name }
func (m *memInventory) Keys(ctx context.Context, yield func(hsmcheck.Key) error) error {
	if m.fail != nil {
		return m.fail
	}
	for _, k := range m.keys {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := yield(k); err != nil {
			return err
		}
	}
	return ctx.Err()
}
func (m *memInventory) Challenge(_ context.Context, k hsmcheck.Key) (hsmcheck.Challenge, error) {
	m.calls++
	mat, ok := m.material[k.ID]
	if !ok {
		return hsmcheck.Challenge{}, fmt.Errorf("key %s: %w", k.ID, hsmcheck.ErrUnsupported)
	}
	in := make([]byte, 32)
	rand.Read(in)
	mech := m.mech[k.ID]
	out, err := hsmcheck.Compute(mech, mat, in)
	return hsmcheck.Challenge{Mechanism: mech, Input: in, Output: out}, err
}

func random(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func TestCheck(t *testing.T) {
	rsaSPKI := [32]byte{1, 2, 3}
	oldSPKI := [32]byte{9, 9, 9}
	aes := random(32)
	aesNoChallenge := random(16)
	hmacKey := []byte("webhook-signing-secret-of-ours-1")
	// A 3-byte check value collides by chance in a large inventory: key 05 is stored with the
	// check value of collider, but its material is another key, and the challenge must tell.
	collider := random(16)
	hsm := &memInventory{
		name: "pkcs11:prod",
		keys: []hsmcheck.Key{
			{ID: "01", Label: "jwt-signing", Class: hsmcheck.Private, State: hsmcheck.Active, Scope: "prod", SPKIHash: rsaSPKI},
			{ID: "02", Label: "old-signing", Class: hsmcheck.Private, State: hsmcheck.Deactivated, Scope: "prod", SPKIHash: oldSPKI},
			{ID: "03", Label: "data-key", Class: hsmcheck.Secret, State: hsmcheck.Active, Scope: "prod", Algorithm: "AES-256", CheckValue: hsmcheck.AESKCV(aes)},
			{ID: "04", Label: "wrap-key", Class: hsmcheck.Secret, State: hsmcheck.Active, Scope: "prod", Algorithm: "AES-128", CheckValue: hsmcheck.AESKCV(aesNoChallenge)},
			{ID: "05", Label: "other-key", Class: hsmcheck.Secret, State: hsmcheck.Active, Scope: "prod", Algorithm: "AES-128", CheckValue: hsmcheck.AESKCV(collider)},
		},
		material: map[string][]byte{"03": aes, "05": random(16)},
		mech:     map[string]hsmcheck.Mechanism{"03": hsmcheck.AESECB, "05": hsmcheck.AESECB},
	}
	kms := &memInventory{
		name: "aws-kms:eu-west-1",
		keys: []hsmcheck.Key{
			{ID: "k-1", Label: "webhooks", Class: hsmcheck.Secret, State: hsmcheck.Active, Scope: "staging", Algorithm: "HMAC-SHA256"},
			{ID: "k-2", Label: "jwt-signing-copy", Class: hsmcheck.Private, State: hsmcheck.Disabled, Scope: "staging", SPKIHash: rsaSPKI},
		},
		material: map[string][]byte{"k-1": hmacKey},
		mech:     map[string]hsmcheck.Mechanism{"k-1": hsmcheck.HMACSHA256},
	}
	down := &memInventory{name: "kmip:down", fail: fmt.Errorf("dialing: %w", hsmcheck.ErrAuth)}

	salt := random(16)
	token := "tok_" + fmt.Sprintf("%x", random(16))
	invFile := filepath.Join(t.TempDir(), "inv.yaml")
	os.WriteFile(invFile, []byte(fmt.Sprintf("version: 1\ntoken_salt: %x\nkeys:\n  - id: ci-token\n    scope: ci\n    fingerprints:\n      token_hmac: %x\n", salt, hsmcheck.TokenHMAC(salt, token))), 0o600)
	fi, err := file.New(context.Background(), file.Config{Path: invFile})
	if err != nil {
		t.Fatal(err)
	}

	loaded, err := hsmcheck.Load(context.Background(), []hsmcheck.Inventory{hsm, kms, down, fi})
	if err != nil {
		t.Fatal(err)
	}
	if loaded[2].Err == nil || !errors.Is(loaded[2].Err, hsmcheck.ErrAuth) {
		t.Fatalf("failing inventory loaded with error %v, want ErrAuth", loaded[2].Err)
	}

	type m struct{ Inv, Key, By, Conf string }
	tests := []struct {
		name       string
		cand       hsmcheck.Candidate
		status     string
		matches    []m
		scopeReuse bool
	}{
		{"rsa live in prod, disabled copy in staging", hsmcheck.Candidate{SPKIHash: rsaSPKI}, hsmcheck.Live,
			[]m{{"pkcs11:prod", "01", hsmcheck.BySPKI, ""}, {"aws-kms:eu-west-1", "k-2", hsmcheck.BySPKI, ""}}, true},
		{"rsa deactivated", hsmcheck.Candidate{SPKIHash: oldSPKI}, hsmcheck.Retired,
			[]m{{"pkcs11:prod", "02", hsmcheck.BySPKI, ""}}, false},
		{"aes confirmed by the HSM", hsmcheck.Candidate{Symmetric: [][]byte{aes}}, hsmcheck.Live,
			[]m{{"pkcs11:prod", "03", hsmcheck.ByKCV, hsmcheck.Confirmed}}, false},
		{"aes kcv only", hsmcheck.Candidate{Symmetric: [][]byte{aesNoChallenge}}, hsmcheck.Live,
			[]m{{"pkcs11:prod", "04", hsmcheck.ByKCV, hsmcheck.KCVOnly}}, false},
		{"aes kcv collision disproved", hsmcheck.Candidate{Symmetric: [][]byte{collider}}, hsmcheck.NoMatch, nil, false},
		{"hmac key as configured string", hsmcheck.Candidate{Value: string(hmacKey)}, hsmcheck.Live,
			[]m{{"aws-kms:eu-west-1", "k-1", hsmcheck.ByChallenge, hsmcheck.Confirmed}}, false},
		{"token in the inventory file", hsmcheck.Candidate{Value: token}, hsmcheck.Live,
			[]m{{fi.Name(), "ci-token", hsmcheck.ByTokenHMAC, ""}}, false},
		{"unrelated", hsmcheck.Candidate{SPKIHash: [32]byte{7}, Symmetric: [][]byte{random(16)}, Value: "x"}, hsmcheck.NoMatch, nil, false},
		{"nothing to match on", hsmcheck.Candidate{}, hsmcheck.NoMatch, nil, false},
	}
	cands := make([]hsmcheck.Candidate, len(tests))
	for i, tt := range tests {
		cands[i] = tt.cand
	}
	var warned []error
	exps := hsmcheck.Check(context.Background(), loaded, cands, func(err error) { warned = append(warned, err) })
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := exps[i]
			if e.Status != tt.status {
				t.Errorf("status %q, want %q", e.Status, tt.status)
			}
			var got []m
			for _, x := range e.Matches {
				got = append(got, m{x.Inventory, x.KeyID, x.By, x.Confirmation})
			}
			if diff := cmp.Diff(tt.matches, got); diff != "" {
				t.Errorf("matches (-want +got):\n%s", diff)
			}
			if e.ScopeReuse != tt.scopeReuse {
				t.Errorf("scope reuse %v, want %v (scopes %v)", e.ScopeReuse, tt.scopeReuse, e.Scopes)
			}
		})
	}
	if len(warned) > 0 {
		t.Errorf("unexpected warnings: %v", warned)
	}
	// Each challengeable key is asked once per Check, however many candidates there are.
	if hsm.calls > 3 || kms.calls > 1 {
		t.Errorf("backends challenged %d and %d times; want each key at most once", hsm.calls, kms.calls)
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name   string
		states []hsmcheck.State
		want   string
	}{
		{"none", nil, hsmcheck.NoMatch},
		{"active", []hsmcheck.State{hsmcheck.Active}, hsmcheck.Live},
		{"pre-active counts as live", []hsmcheck.State{hsmcheck.PreActive}, hsmcheck.Live},
		{"unknown state counts as live", []hsmcheck.State{hsmcheck.Unknown}, hsmcheck.Live},
		{"disabled", []hsmcheck.State{hsmcheck.Disabled}, hsmcheck.Retired},
		{"old version", []hsmcheck.State{hsmcheck.OldVersion}, hsmcheck.Retired},
		{"pending deletion", []hsmcheck.State{hsmcheck.PendingDeletion}, hsmcheck.Retired},
		{"one live among retired", []hsmcheck.State{hsmcheck.Compromised, hsmcheck.Active, hsmcheck.Destroyed}, hsmcheck.Live},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ms []hsmcheck.Match
			for _, s := range tt.states {
				ms = append(ms, hsmcheck.Match{State: s})
			}
			e := hsmcheck.Classify(ms)
			if e.Status != tt.want {
				t.Errorf("Classify = %q, want %q", e.Status, tt.want)
			}
			if len(ms) > 0 && e.Status == hsmcheck.Live && !e.Matches[0].State.Live() {
				t.Errorf("live match not listed first: %v", e.Matches)
			}
		})
	}
}
