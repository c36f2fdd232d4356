package hsmcheck

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Reason is why a key is rotated. It decides how the old key is taken out of use where the
// backend distinguishes (KMIP: Revoke with Key Compromise, or a non-compromise revocation that
// leaves the key Deactivated).
type Reason string

// Rotation reasons.
const (
	ReasonCompromise Reason = "compromise" // the key leaked: revoke as compromised
	ReasonScheduled  Reason = "scheduled"  // the cryptoperiod ended: deactivate
	ReasonPersonnel  Reason = "personnel"  // someone with access left: deactivate, privilege withdrawn
)

// ParseReason checks a --reason value.
func ParseReason(s string) (Reason, error) {
	switch r := Reason(s); r {
	case ReasonCompromise, ReasonScheduled, ReasonPersonnel:
		return r, nil
	}
	return "", fmt.Errorf("unknown rotation reason %q, want compromise, scheduled or personnel", s)
}

// ErrRetired is returned when asked to rotate a key that is already out of use.
var ErrRetired = errors.New("key is already out of use")

// Rotator is the optional ability of an inventory to rotate one of its keys: bring a
// replacement (or a new version) into use, then take the old key out of use for new operations
// while keeping it for decrypt and verify. It never deletes or destroys anything. Callers find
// it by type assertion.
//
// PlanRotation changes nothing. It decides everything a resumed run must repeat exactly (the
// replacement's label and id, the version it expects) and puts it in Plan.State, so that a run
// killed after the backend acted and started again makes the same replacement, never a second.
// Step names are stable: the journal records them.
//
// RotateStep runs p.Steps[i]. It is idempotent: it first looks whether the step already took
// effect (a run that died before the journal recorded it) and does only what is missing. It
// records in p.State what later steps and the re-check need (StateNewID, StateNewVersion) and
// returns one line for the user: version numbers, and what the backend refused. Errors wrap
// ErrAuth when credentials or permissions are refused. Neither method sees a secret value.
type Rotator interface {
	PlanRotation(ctx context.Context, k Key, reason Reason) (*Plan, error)
	RotateStep(ctx context.Context, p *Plan, i int) (string, error)
}

// Keys of Plan.State every backend fills in, for the re-check after rotation.
const (
	StateNewID      = "new_id"      // the replacement's Key.ID (the same ID for a new version)
	StateNewLabel   = "new_label"   // the replacement's Key.Label
	StateNewVersion = "new_version" // the replacement's Key.Version, for versioned backends
)

// Plan is one rotation: what will be done to which key, and what has been learnt on the way.
// Nothing in it is secret; it is written to the journal whole.
type Plan struct {
	ID        string            `json:"id"`        // random; names the journal and tags the replacement where the backend can
	Inventory string            `json:"inventory"` // Inventory.Name()
	Key       Key               `json:"key"`       // the key being rotated, as listed when planned
	Reason    Reason            `json:"reason"`
	Steps     []Step            `json:"steps"`
	OldKey    string            `json:"old_key"`              // what happens to the old key, one sentence
	FollowUps []string          `json:"follow_ups,omitempty"` // backend-specific things left to the user
	State     map[string]string `json:"state,omitempty"`      // carried between steps and across a resume
}

// Step is one idempotent backend action of a plan.
type Step struct {
	Name   string `json:"name"`   // "generate-replacement": stable, the journal records it
	Action string `json:"action"` // the plan line shown before anything runs
}

// NewPlan starts a plan for k with a fresh random ID. Backends call it from PlanRotation.
func NewPlan(inv Inventory, k Key, reason Reason) (*Plan, error) {
	if !k.State.Live() {
		return nil, fmt.Errorf("rotating %s in %s: %w (%s)", k.Ref(), inv.Name(), ErrRetired, k.State)
	}
	if reason == "" {
		reason = ReasonCompromise
	}
	id := make([]byte, 8)
	if _, err := rand.Read(id); err != nil {
		return nil, fmt.Errorf("planning rotation: %w", err)
	}
	return &Plan{ID: hex.EncodeToString(id), Inventory: inv.Name(), Key: k, Reason: reason, State: map[string]string{}}, nil
}

// Set records a fact in p.State.
func (p *Plan) Set(key, value string) {
	if p.State == nil {
		p.State = map[string]string{}
	}
	p.State[key] = value
}

// Step appends a step to the plan.
func (p *Plan) Step(name, action string) {
	p.Steps = append(p.Steps, Step{Name: name, Action: action})
}

// NewVersion returns the replacement's Version from p.State, 0 when the backend has none.
func (p *Plan) NewVersion() int {
	v, _ := strconv.Atoi(p.State[StateNewVersion])
	return v
}

// FollowUps are what a tool cannot do after any rotation; backends add their own in Plan.
var FollowUps = []string{
	"redeploy every consumer of the key so that it uses the replacement",
	"re-encrypt or re-sign data protected under the old key, then retire it for good",
	"revoke or rotate the leaked copy wherever it was shared: CI secrets, third parties, partners",
	"remove the leaked copy from the source it was found in, and from its history",
}

// NextLabel returns the versioned label of a replacement: "name" becomes "name.v2", "name.v2"
// becomes "name.v3". Labels already taken (taken reports them) are skipped, so a replacement
// never shares a label with another key.
func NextLabel(label string, taken func(string) bool) string {
	base, n := label, 1
	if i := strings.LastIndex(label, ".v"); i > 0 {
		if v, err := strconv.Atoi(label[i+2:]); err == nil && v > 0 {
			base, n = label[:i], v
		}
	}
	for {
		n++
		l := base + ".v" + strconv.Itoa(n)
		if taken == nil || !taken(l) {
			return l
		}
	}
}
