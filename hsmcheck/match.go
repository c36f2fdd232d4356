package hsmcheck

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
)

// Exposure statuses, worst first.
const (
	Live    = "live"    // matches a key that is in use (or will be) in some backend
	Retired = "retired" // matches only keys taken out of use: data under them must be re-protected
	NoMatch = "unknown" // matches nothing in the inventories checked
)

// Ways a finding can match an inventory key.
const (
	BySPKI      = "spki-sha256" // public-key fingerprint of a leaked private key
	ByKCV       = "kcv"         // 3-byte key check value: a candidate until confirmed
	ByChallenge = "challenge"   // the backend computed with its key; the leaked value reproduced it
	ByTokenHMAC = "token-hmac"  // salted HMAC of an API token recorded in an inventory file
)

// Confirmation of a symmetric match.
const (
	Confirmed = "confirmed" // the backend's output was reproduced under the leaked value
	KCVOnly   = "kcv-only"  // only the check value matched: the backend could not be asked
)

// Candidate is what the cross-check knows of one found secret. Values in it stay in this
// process: only the backends' own outputs travel, never a candidate.
type Candidate struct {
	SPKIHash  [32]byte // set when the secret is, or holds, a private key
	Symmetric [][]byte // raw symmetric keys the value may encode (SymmetricCandidates)
	Value     string   // the secret as found: HMAC keys and API tokens are matched on it
}

func (c Candidate) empty() bool {
	return c.SPKIHash == [32]byte{} && len(c.Symmetric) == 0 && c.Value == ""
}

// Match is one inventory key a finding matched.
type Match struct {
	Inventory    string `json:"inventory"`
	KeyID        string `json:"key_id"`
	Label        string `json:"label,omitempty"`
	Version      int    `json:"version,omitempty"`
	State        State  `json:"state"`
	Scope        string `json:"scope,omitempty"`
	Algorithm    string `json:"algorithm,omitempty"`
	By           string `json:"by"`                     // BySPKI, ByKCV, ByChallenge, ByTokenHMAC
	Confirmation string `json:"confirmation,omitempty"` // Confirmed or KCVOnly, for symmetric matches
}

// Ref names the matched key for messages.
func (m Match) Ref() string {
	return Key{ID: m.KeyID, Label: m.Label, Version: m.Version}.Ref()
}

// Exposure is the cross-check's verdict on one finding.
type Exposure struct {
	Status     string   `json:"status"` // Live, Retired or NoMatch
	Matches    []Match  `json:"matches,omitempty"`
	ScopeReuse bool     `json:"scope_reuse,omitempty"` // matched keys in more than one scope
	Scopes     []string `json:"scopes,omitempty"`
}

// Loaded is one inventory's keys, read once for every candidate of a scan.
type Loaded struct {
	Inventory Inventory
	Keys      []Key
	Err       error // non-nil: the inventory was skipped (Keys may hold what was read first)

	mu         sync.Mutex
	challenges map[int]challengeResult

	indexOnce sync.Once
	bySPKI    map[[32]byte][]int
	byKCV     map[string][]int // check value → keys
	byToken   map[string][]int // token HMAC → keys
	probe     []int            // secret keys without a check value: only a challenge finds them
	salt      []byte
}

// index builds the lookups Check uses, once per Loaded.
func (l *Loaded) index() {
	l.indexOnce.Do(func() {
		l.bySPKI, l.byKCV, l.byToken = map[[32]byte][]int{}, map[string][]int{}, map[string][]int{}
		if ts, ok := l.Inventory.(TokenSalter); ok {
			l.salt = ts.TokenSalt()
		}
		for i, k := range l.Keys {
			if k.HasSPKI() {
				l.bySPKI[k.SPKIHash] = append(l.bySPKI[k.SPKIHash], i)
			}
			if len(k.TokenHMAC) > 0 {
				l.byToken[string(k.TokenHMAC)] = append(l.byToken[string(k.TokenHMAC)], i)
			}
			if k.Class != Secret {
				continue
			}
			switch {
			case len(k.CheckValue) > 0:
				l.byKCV[string(k.CheckValue)] = append(l.byKCV[string(k.CheckValue)], i)
			case len(k.TokenHMAC) == 0 && challengeable(k):
				l.probe = append(l.probe, i)
			}
		}
	})
}

type challengeResult struct {
	c   Challenge
	err error
}

// TokenSalter is the optional ability of an inventory that records API tokens as
// HMAC-SHA256(salt, token) to say its salt.
type TokenSalter interface {
	TokenSalt() []byte
}

// Load reads every inventory's keys. An inventory that fails is kept with its error, so callers
// can report it as skipped and go on; Load returns an error only when ctx ends.
func Load(ctx context.Context, invs []Inventory) ([]*Loaded, error) {
	out := make([]*Loaded, len(invs))
	var wg sync.WaitGroup
	for i, inv := range invs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := &Loaded{Inventory: inv}
			// Backends name themselves in their errors; callers add "inventory NAME skipped".
			l.Err = inv.Keys(ctx, func(k Key) error { l.Keys = append(l.Keys, k); return nil })
			out[i] = l
		}()
	}
	wg.Wait()
	return out, ctx.Err()
}

// challenge asks the backend once per key and remembers the answer for every candidate. A
// failure other than ErrUnsupported is passed to warn the first time only.
func (l *Loaded) challenge(ctx context.Context, i int, warn func(error)) (Challenge, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if r, ok := l.challenges[i]; ok {
		return r.c, r.err == nil
	}
	ch, ok := l.Inventory.(Challenger)
	var r challengeResult
	if !ok {
		r.err = fmt.Errorf("challenging %s: %w", l.Inventory.Name(), ErrUnsupported)
	} else {
		r.c, r.err = ch.Challenge(ctx, l.Keys[i])
	}
	if r.err != nil && !errors.Is(r.err, ErrUnsupported) {
		warn(fmt.Errorf("confirming a match on %s in %s: %w", l.Keys[i].Ref(), l.Inventory.Name(), r.err))
	}
	if l.challenges == nil {
		l.challenges = map[int]challengeResult{}
	}
	l.challenges[i] = r
	return r.c, r.err == nil
}

// Check matches candidates against the loaded inventories and classifies each one. Keys that
// only a challenge can identify (KMS HMAC keys, KMIP AES keys) are challenged at most once per
// Check, and only when some candidate could be one. warn receives backend errors that leave a
// match unconfirmed.
func Check(ctx context.Context, loaded []*Loaded, cands []Candidate, warn func(error)) []Exposure {
	if warn == nil {
		warn = func(error) {}
	}
	out := make([]Exposure, len(cands))
	for ci, c := range cands {
		if c.empty() {
			out[ci] = Exposure{Status: NoMatch}
			continue
		}
		var ms []Match
		for _, l := range loaded {
			ms = append(ms, matchOne(ctx, l, c, warn)...)
		}
		out[ci] = Classify(ms)
	}
	return out
}

func matchOne(ctx context.Context, l *Loaded, c Candidate, warn func(error)) []Match {
	l.index()
	var ms []Match
	match := func(i int, by, conf string) {
		k := l.Keys[i]
		ms = append(ms, Match{Inventory: l.Inventory.Name(), KeyID: k.ID, Label: k.Label, Version: k.Version,
			State: k.State, Scope: k.Scope, Algorithm: k.Algorithm, By: by, Confirmation: conf})
	}
	if c.SPKIHash != [32]byte{} {
		for _, i := range l.bySPKI[c.SPKIHash] {
			match(i, BySPKI, "")
		}
	}
	if c.Value != "" && len(l.salt) > 0 && len(l.byToken) > 0 {
		for _, i := range l.byToken[string(TokenHMAC(l.salt, c.Value))] {
			match(i, ByTokenHMAC, "")
		}
	}
	if len(l.byKCV) > 0 {
		seen := map[int]bool{}
		for _, cand := range c.Symmetric {
			// The AES check value for AES keys, PKCS#11's SHA-1 one for generic secrets.
			for _, kcv := range [][]byte{AESKCV(cand), GenericKCV(cand)} {
				for _, i := range l.byKCV[string(kcv)] {
					if seen[i] {
						continue
					}
					seen[i] = true
					conf := KCVOnly
					if ch, ok := l.challenge(ctx, i, warn); ok {
						if !ch.Verify(cand) {
							continue // the check value collided; the key is someone else's
						}
						conf = Confirmed
					}
					match(i, ByKCV, conf)
				}
			}
		}
	}
	if len(c.Symmetric) > 0 || c.Value != "" {
		for _, i := range l.probe {
			if ch, ok := l.challenge(ctx, i, warn); ok && verifiesAny(ch, c) {
				match(i, ByChallenge, Confirmed)
			}
		}
	}
	return ms
}

// challengeable reports whether a secret key without a check value is worth a backend call:
// it must still be present (a destroyed key computes nothing).
func challengeable(k Key) bool {
	return k.State != Destroyed
}

func verifiesAny(ch Challenge, c Candidate) bool {
	for _, s := range c.Symmetric {
		if ch.Verify(s) {
			return true
		}
	}
	// An HMAC key is often the configured string itself rather than its decoding.
	return ch.Mechanism != AESECB && c.Value != "" && ch.Verify([]byte(c.Value))
}

// Classify turns matches into an exposure: live when any matched key is live, retired when
// matches exist but none is, unknown otherwise.
func Classify(ms []Match) Exposure {
	e := Exposure{Status: NoMatch, Matches: ms}
	if len(ms) == 0 {
		e.Matches = nil
		return e
	}
	e.Status = Retired
	scopes := map[string]bool{}
	for _, m := range ms {
		if m.State.Live() {
			e.Status = Live
		}
		if m.Scope != "" {
			scopes[m.Scope] = true
		}
	}
	for s := range scopes {
		e.Scopes = append(e.Scopes, s)
	}
	sort.Strings(e.Scopes)
	e.ScopeReuse = len(e.Scopes) > 1
	slices.SortStableFunc(e.Matches, func(a, b Match) int {
		if a.State.Live() != b.State.Live() {
			if a.State.Live() {
				return -1
			}
			return 1
		}
		return 0
	})
	return e
}
