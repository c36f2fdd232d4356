// Package inventorytest is the contract suite every hsmcheck backend's tests run.
package inventorytest

import (
	"context"
	"errors"
	"testing"

	"github.com/keywarden/keywarden/hsmcheck"
)

// Run checks the Inventory contract on inv, which must hold at least one key: Name is set,
// every key has an ID, a class and a state, Keys returns yield's first error unchanged and
// stops calling yield, and a cancelled context ends Keys with ctx.Err(). It returns the keys
// for further checks.
func Run(t *testing.T, inv hsmcheck.Inventory) []hsmcheck.Key {
	t.Helper()
	if inv.Name() == "" {
		t.Error("Name() is empty")
	}
	ctx := context.Background()
	var all []hsmcheck.Key
	if err := inv.Keys(ctx, func(k hsmcheck.Key) error { all = append(all, k); return nil }); err != nil {
		t.Fatalf("Keys: %v", err)
	}
	if len(all) == 0 {
		t.Fatal("Keys yielded nothing; the suite needs at least one key")
	}
	for _, k := range all {
		if k.ID == "" {
			t.Errorf("key %q has no ID", k.Label)
		}
		switch k.Class {
		case hsmcheck.Secret, hsmcheck.Private, hsmcheck.Public:
		default:
			t.Errorf("key %s has class %q", k.Ref(), k.Class)
		}
		if k.State == "" {
			t.Errorf("key %s has no state", k.Ref())
		}
		if k.Class != hsmcheck.Secret && !k.HasSPKI() && k.State != hsmcheck.Destroyed {
			t.Logf("note: %s key %s has no public fingerprint", k.Class, k.Ref())
		}
	}

	stop := errors.New("stop here")
	calls := 0
	err := inv.Keys(ctx, func(hsmcheck.Key) error { calls++; return stop })
	if err != stop {
		t.Errorf("Keys returned %v after yield failed, want yield's error unchanged", err)
	}
	if calls != 1 {
		t.Errorf("yield was called %d times after it failed, want 1", calls)
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	calls = 0
	err = inv.Keys(cctx, func(hsmcheck.Key) error { calls++; return nil })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Keys on a cancelled context returned %v, want context.Canceled", err)
	}
	if calls > 0 {
		t.Errorf("Keys on a cancelled context called yield %d times", calls)
	}

	mid, cancelMid := context.WithCancel(ctx)
	defer cancelMid()
	err = inv.Keys(mid, func(hsmcheck.Key) error { cancelMid(); return nil })
	if len(all) > 1 && !errors.Is(err, context.Canceled) {
		t.Errorf("Keys cancelled during the first yield returned %v, want context.Canceled", err)
	}
	return all
}

// Find returns the first key that pred accepts, failing the test when none does.
func Find(t *testing.T, ks []hsmcheck.Key, what string, pred func(hsmcheck.Key) bool) hsmcheck.Key {
	t.Helper()
	for _, k := range ks {
		if pred(k) {
			return k
		}
	}
	t.Fatalf("no key %s among %d", what, len(ks))
	return hsmcheck.Key{}
}

// Confirms checks that inv's Challenger proves candidate is k's key material and that a
// different candidate is not.
func Confirms(t *testing.T, inv hsmcheck.Inventory, k hsmcheck.Key, candidate []byte) {
	t.Helper()
	ch, ok := inv.(hsmcheck.Challenger)
	if !ok {
		t.Fatalf("%s is not a Challenger", inv.Name())
	}
	c, err := ch.Challenge(context.Background(), k)
	if err != nil {
		t.Fatalf("Challenge(%s): %v", k.Ref(), err)
	}
	if !c.Verify(candidate) {
		t.Errorf("Challenge(%s) did not verify against the key's material", k.Ref())
	}
	other := append([]byte(nil), candidate...)
	other[0] ^= 1
	if c.Verify(other) {
		t.Errorf("Challenge(%s) verified a different candidate", k.Ref())
	}
	c2, err := ch.Challenge(context.Background(), k)
	if err == nil && string(c2.Input) == string(c.Input) {
		t.Errorf("two challenges used the same input; it must be fresh and random")
	}
}
