package scanner

import (
	"context"
	"encoding/hex"

	"github.com/keywarden/keywarden/hsmcheck"
)

// Candidate returns what the inventory cross-check may match a finding on: the public-key
// fingerprint of a private key it holds, and its value as a symmetric key or token. A public
// key alone is no exposure and gives no fingerprint.
func Candidate(f Finding) hsmcheck.Candidate {
	var c hsmcheck.Candidate
	if f.Key != nil && f.Key.Type != "aes" {
		if f.Key.Private && f.Key.PublicSHA256 != "" {
			if b, err := hex.DecodeString(f.Key.PublicSHA256); err == nil && len(b) == 32 {
				copy(c.SPKIHash[:], b)
			}
		}
		return c
	}
	c.Symmetric = hsmcheck.SymmetricCandidates(f.Secret)
	c.Value = f.Secret
	return c
}

// CrossCheck matches every finding against the loaded inventories, records the verdict on it,
// and raises its severity: a live key is critical, a retired one at least high. It also
// records each inventory's status on the result.
func CrossCheck(ctx context.Context, res *Result, loaded []*hsmcheck.Loaded, warn func(error)) {
	for _, l := range loaded {
		st := InventoryStatus{Name: l.Inventory.Name(), Keys: len(l.Keys)}
		if l.Err != nil {
			st.Skipped = l.Err.Error()
		}
		res.Inventories = append(res.Inventories, st)
	}
	cands := make([]hsmcheck.Candidate, len(res.Findings))
	for i, f := range res.Findings {
		cands[i] = Candidate(f)
	}
	exps := hsmcheck.Check(ctx, loaded, cands, warn)
	for i := range res.Findings {
		f := &res.Findings[i]
		e := exps[i]
		f.Exposure = &e
		switch e.Status {
		case hsmcheck.Live:
			f.Severity = "critical"
		case hsmcheck.Retired:
			if r, ok := severityRank[f.Severity]; !ok || r > severityRank["high"] {
				f.Severity = "high"
			}
		}
	}
}
