package hsmcheck_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"

	"github.com/keywarden/keywarden/hsmcheck"
)

// BenchmarkCheck matches the findings of a large scan against a large inventory: 10,000 keys
// (half key pairs, half AES keys with check values) and 2,000 candidates per iteration.
func BenchmarkCheck(b *testing.B) {
	inv := &memInventory{name: "bench"}
	for i := range 10000 {
		k := hsmcheck.Key{ID: hex.EncodeToString([]byte{byte(i >> 8), byte(i)}), State: hsmcheck.Active}
		if i%2 == 0 {
			k.Class = hsmcheck.Private
			rand.Read(k.SPKIHash[:])
		} else {
			k.Class = hsmcheck.Secret
			k.CheckValue = hsmcheck.AESKCV(random(16))
		}
		inv.keys = append(inv.keys, k)
	}
	cands := make([]hsmcheck.Candidate, 2000)
	for i := range cands {
		if i%2 == 0 {
			rand.Read(cands[i].SPKIHash[:])
		} else {
			cands[i] = hsmcheck.Candidate{Symmetric: [][]byte{random(32)}, Value: hex.EncodeToString(random(32))}
		}
	}
	loaded, _ := hsmcheck.Load(context.Background(), []hsmcheck.Inventory{inv})
	b.ResetTimer()
	for b.Loop() {
		hsmcheck.Check(context.Background(), loaded, cands, nil)
	}
}
