package scanner

import (
	"fmt"
	"math/big"
	"slices"
	"sort"

	"github.com/keywarden/keywarden/hsmcheck"
	"github.com/keywarden/keywarden/rules"
	"github.com/keywarden/keywarden/rules/keys"
)

// severityRank orders severities, most severe first.
var severityRank = map[string]int{"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}

// judge parses the key material of each finding and grades every secret: it attaches the key
// and its weaknesses (RSA moduli sharing a prime with another key of the same scan included)
// and a strength, raises the severity of broken keys, and drops placeholders unless keep.
func judge(findings []Finding, keepPlaceholders bool) []Finding {
	for i := range findings {
		f := &findings[i]
		if f.RuleID == rules.RuleAESKeySchedule {
			judgeAES(f)
			continue
		}
		if ks := keys.Parse([]byte(f.Secret)); len(ks) > 0 {
			k := ks[0]
			info := NewKeyInfo(k)
			f.Key = &info
			f.Weaknesses = keys.Check(k)
		}
		switch {
		case f.Key != nil:
			f.Strength = &rules.Strength{Grade: "strong"} // a key's strength is what its checks say
		case f.Secret != "": // a path-only rule's finding has no value to grade
			st := rules.GradeSecret(f.RuleID, f.Secret)
			f.Strength = &st
		}
	}
	markSharedPrimes(findings, "scan")
	out := findings[:0]
	for _, f := range findings {
		if f.Strength != nil && f.Strength.Grade == "placeholder" && !keepPlaceholders {
			continue
		}
		escalate(&f)
		out = append(out, f)
	}
	return out
}

// markSharedPrimes adds the shared-prime weakness to every RSA key among findings that shares
// a prime with another, replacing any it had: the batch GCD is only as wide as the set it sees,
// so an audit runs it again over every repository's keys. scope names the set ("scan").
func markSharedPrimes(findings []Finding, scope string) {
	type modulus struct {
		finding int
		n       *big.Int
	}
	var moduli []modulus
	for i := range findings {
		f := &findings[i]
		f.Weaknesses = slices.DeleteFunc(f.Weaknesses, func(w keys.Weakness) bool { return w.ID == "shared-prime" })
		if f.Key == nil || f.Key.Type != "rsa" {
			continue
		}
		if ks := keys.Parse([]byte(f.Secret)); len(ks) > 0 && ks[0].RSA != nil && ks[0].RSA.N != nil {
			moduli = append(moduli, modulus{i, ks[0].RSA.N})
		}
	}
	if len(moduli) < 2 {
		return
	}
	ns := make([]*big.Int, len(moduli))
	for i, m := range moduli {
		ns[i] = m.n
	}
	for i, others := range keys.SharedPrimes(ns) {
		w := keys.Catalog["shared-prime"]
		w.Summary = fmt.Sprintf("%s (with %d other %s found in this %s)", w.Summary, len(others), plural(len(others), "key", "keys"), scope)
		f := &findings[moduli[i].finding]
		f.Weaknesses = append(f.Weaknesses, w)
	}
}

// escalate sorts f's weaknesses, worst first, and raises f's severity to the worst of them.
func escalate(f *Finding) {
	sort.SliceStable(f.Weaknesses, func(a, b int) bool {
		return severityRank[f.Weaknesses[a].Severity] < severityRank[f.Weaknesses[b].Severity]
	})
	for _, w := range f.Weaknesses {
		// A broken or published key is worse than a leaked one: anyone can use it, leaked or not.
		if r, ok := severityRank[w.Severity]; ok && r < severityRank[f.Severity] && w.ID != "unencrypted-private-key" {
			f.Severity = w.Severity
		}
	}
}

// NewKeyInfo describes k for reports.
func NewKeyInfo(k keys.Key) KeyInfo {
	return KeyInfo{Type: k.Type, Bits: k.Bits, Curve: k.Curve, Format: k.Format, Private: k.Private,
		PublicSHA256: k.PublicSHA256, SSHFingerprint: k.SSHFingerprint, Encrypted: k.Encrypted, KDF: k.KDF}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// judgeAES describes an AES key recovered from memory: its size, and whether it is weak. A key
// expanded from few distinct bytes (all zeros, a repeated byte) is a test or default key.
func judgeAES(f *Finding) {
	c := hsmcheck.SymmetricCandidates(f.Secret)
	if len(c) == 0 {
		return
	}
	k := c[0]
	f.Key = &KeyInfo{Type: "aes", Bits: 8 * len(k), Format: "aes-key-schedule", Private: true}
	distinct := map[byte]bool{}
	for _, b := range k {
		distinct[b] = true
	}
	st := rules.Strength{Grade: "strong"}
	if len(distinct) <= 4 {
		st = rules.Strength{Grade: "weak", Reason: fmt.Sprintf("an AES key of %d distinct byte values", len(distinct))}
	}
	f.Strength = &st
}
