package hsmcheck

import (
	"context"
	"encoding/hex"
	"errors"
	"testing"
)

type namedInv string

func (n namedInv) Name() string                                { return string(n) }
func (n namedInv) Keys(context.Context, func(Key) error) error { return nil }

func TestResolve(t *testing.T) {
	spki := [32]byte{1, 2, 3}
	hsm := &Loaded{Inventory: namedInv("pkcs11:prod"), Keys: []Key{
		{ID: "0a01", Label: "signing", Class: Private, State: Active, SPKIHash: spki},
		{ID: "0a02", Label: "db", Class: Secret, State: Active},
	}}
	transit := &Loaded{Inventory: namedInv("vault:transit"), Keys: []Key{
		{ID: "transit/db", Label: "db", Version: 1, State: OldVersion},
		{ID: "transit/db", Label: "db", Version: 2, State: Active},
	}}
	down := &Loaded{Inventory: namedInv("kmip:down"), Err: errors.New("unreachable"), Keys: []Key{{ID: "signing"}}}
	loaded := []*Loaded{hsm, transit, down}
	tests := []struct {
		name, ref, backend string
		wantInv, wantID    string
		wantVer, wantCands int
	}{
		{name: "by id", ref: "0a01", wantInv: "pkcs11:prod", wantID: "0a01"},
		{name: "by label", ref: "signing", wantInv: "pkcs11:prod", wantID: "0a01"},
		{name: "by spki", ref: "spki-sha256:" + hex.EncodeToString(spki[:]), wantInv: "pkcs11:prod", wantID: "0a01"},
		{name: "by bare spki", ref: hex.EncodeToString(spki[:]), wantInv: "pkcs11:prod", wantID: "0a01"},
		{name: "ambiguous label", ref: "db", wantCands: 2},
		{name: "backend picks", ref: "db", backend: "vault", wantInv: "vault:transit", wantID: "transit/db", wantVer: 2},
		{name: "backend by full name", ref: "db", backend: "pkcs11:prod", wantInv: "pkcs11:prod", wantID: "0a02"},
		{name: "versioned key resolves to its live version", ref: "transit/db", wantInv: "vault:transit", wantID: "transit/db", wantVer: 2},
		{name: "nothing", ref: "nope", wantCands: 0},
		{name: "a name is not a prefix", ref: "db", backend: "pkcs11:pro", wantCands: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Resolve(loaded, tt.ref, tt.backend)
			if tt.wantID == "" {
				var re *ResolveError
				if !errors.As(err, &re) || len(re.Candidates) != tt.wantCands {
					t.Fatalf("Resolve(%q) = %+v, %v; want a ResolveError with %d candidates", tt.ref, got, err, tt.wantCands)
				}
				return
			}
			if err != nil || got.Inventory.Name() != tt.wantInv || got.Key.ID != tt.wantID || got.Key.Version != tt.wantVer {
				t.Errorf("Resolve(%q, %q) = %s %s v%d, %v; want %s %s v%d", tt.ref, tt.backend, got.Inventory.Name(), got.Key.ID, got.Key.Version, err, tt.wantInv, tt.wantID, tt.wantVer)
			}
		})
	}
}
