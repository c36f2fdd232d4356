package report

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/keywarden/keywarden/hsmcheck"
)

// Rotation is what one rotation would do (a dry run) or did, as the user sees it.
type Rotation struct {
	Plan     *hsmcheck.Plan
	Applied  bool              // false: a dry run, nothing changed
	Outcomes []string          // per step, once done
	Status   string            // hsmcheck.Progress.Where()
	Journal  string            // the journal's path, once applied
	Recheck  *hsmcheck.Recheck // after all steps ran
	Err      error             // what stopped it
}

// FollowUps are the backend's follow-ups and then the ones every rotation leaves.
func (r *Rotation) FollowUps() []string {
	return append(append([]string(nil), r.Plan.FollowUps...), hsmcheck.FollowUps...)
}

// WriteRotationText prints r for a terminal: the plan, each step's outcome, the re-check, and
// what is left to the user.
func WriteRotationText(w io.Writer, r *Rotation) error {
	p := r.Plan
	var b strings.Builder
	mode := "dry run: nothing will change"
	if r.Applied {
		mode = "applied"
	}
	fmt.Fprintf(&b, "Rotation %s (%s)\n", p.ID, mode)
	fmt.Fprintf(&b, "  key:     %s in %s", p.Key.Ref(), p.Inventory)
	if p.Key.Algorithm != "" {
		fmt.Fprintf(&b, ", %s", p.Key.Algorithm)
	}
	fmt.Fprintf(&b, ", %s\n", p.Key.State)
	fmt.Fprintf(&b, "  reason:  %s\n", p.Reason)
	fmt.Fprintf(&b, "  old key: %s\n", p.OldKey)
	b.WriteString("  steps:\n")
	for i, s := range p.Steps {
		mark := " "
		if i < len(r.Outcomes) && r.Outcomes[i] != "" {
			mark = "✓"
		}
		fmt.Fprintf(&b, "    %s %d. %s: %s\n", mark, i+1, s.Name, s.Action)
		if i < len(r.Outcomes) && r.Outcomes[i] != "" {
			fmt.Fprintf(&b, "         → %s\n", r.Outcomes[i])
		}
	}
	if r.Journal != "" {
		fmt.Fprintf(&b, "  journal: %s (%s)\n", r.Journal, r.Status)
	}
	if r.Err != nil {
		fmt.Fprintf(&b, "  stopped: %s\n", strings.ReplaceAll(r.Err.Error(), "\n", "; "))
		b.WriteString("  Nothing was deleted. Fix the cause and run `keywarden rotate --resume` to finish from where it stopped.\n")
	}
	if rc := r.Recheck; rc != nil {
		b.WriteString("  re-check:\n")
		if rc.Old != nil {
			fmt.Fprintf(&b, "    old key %s is %s\n", rc.Old.Ref(), rc.Old.State)
		}
		if rc.New != nil {
			fmt.Fprintf(&b, "    replacement %s is %s\n", rc.New.Ref(), rc.New.State)
		}
		if rc.SourcesChecked {
			if rc.InSources {
				b.WriteString("    the replacement matches a secret in the scanned sources\n")
			} else {
				b.WriteString("    the replacement is not in the scanned sources\n")
			}
		}
		for _, pr := range rc.Problems {
			fmt.Fprintf(&b, "    PROBLEM: %s\n", pr)
		}
	}
	if !r.Applied {
		b.WriteString("Run again with --apply to rotate.\n")
	} else if r.Recheck != nil {
		b.WriteString("What you must still do (a tool cannot):\n")
		for _, f := range r.FollowUps() {
			fmt.Fprintf(&b, "  - %s\n", f)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// RotationJSON is one rotation in `keywarden rotate --format json`.
type RotationJSON struct {
	ID        string            `json:"id"`
	Inventory string            `json:"inventory"`
	Key       RotationKey       `json:"key"`
	Reason    string            `json:"reason"`
	Applied   bool              `json:"applied"`
	Steps     []RotationStep    `json:"steps"`
	OldKey    string            `json:"old_key"`
	State     map[string]string `json:"state,omitempty"`
	Status    string            `json:"status,omitempty"`
	Journal   string            `json:"journal,omitempty"`
	Error     string            `json:"error,omitempty"`
	Recheck   *RecheckJSON      `json:"recheck,omitempty"`
	FollowUps []string          `json:"follow_ups"`
}

// RotationKey names a key in rotation output; nothing in it is secret.
type RotationKey struct {
	ID         string `json:"id"`
	Label      string `json:"label,omitempty"`
	Version    int    `json:"version,omitempty"`
	Algorithm  string `json:"algorithm,omitempty"`
	State      string `json:"state"`
	SPKISHA256 string `json:"spki_sha256,omitempty"`
}

// RotationStep is one step and, once done, its outcome.
type RotationStep struct {
	Name    string `json:"name"`
	Action  string `json:"action"`
	Outcome string `json:"outcome,omitempty"`
}

// RecheckJSON is the inventory's view after a rotation.
type RecheckJSON struct {
	Old            *RotationKey `json:"old,omitempty"`
	New            *RotationKey `json:"new,omitempty"`
	OK             bool         `json:"ok"`
	Replacements   int          `json:"replacements"`
	SourcesChecked bool         `json:"sources_checked"`
	InSources      bool         `json:"in_sources"`
	Problems       []string     `json:"problems,omitempty"`
}

// KeyOf summarises k for rotation output.
func KeyOf(k hsmcheck.Key) RotationKey {
	rk := RotationKey{ID: k.ID, Label: k.Label, Version: k.Version, Algorithm: k.Algorithm, State: string(k.State)}
	if k.HasSPKI() {
		rk.SPKISHA256 = hex.EncodeToString(k.SPKIHash[:])
	}
	return rk
}

// JSON converts r for --format json.
func (r *Rotation) JSON() RotationJSON {
	p := r.Plan
	out := RotationJSON{ID: p.ID, Inventory: p.Inventory, Key: KeyOf(p.Key), Reason: string(p.Reason), Applied: r.Applied,
		OldKey: p.OldKey, State: p.State, Status: r.Status, Journal: r.Journal, FollowUps: r.FollowUps()}
	for i, s := range p.Steps {
		st := RotationStep{Name: s.Name, Action: s.Action}
		if i < len(r.Outcomes) {
			st.Outcome = r.Outcomes[i]
		}
		out.Steps = append(out.Steps, st)
	}
	if r.Err != nil {
		out.Error = strings.ReplaceAll(r.Err.Error(), "\n", "; ")
	}
	if rc := r.Recheck; rc != nil {
		j := &RecheckJSON{OK: rc.OK(), Replacements: rc.Replacements, SourcesChecked: rc.SourcesChecked, InSources: rc.InSources, Problems: rc.Problems}
		if rc.Old != nil {
			k := KeyOf(*rc.Old)
			j.Old = &k
		}
		if rc.New != nil {
			k := KeyOf(*rc.New)
			j.New = &k
		}
		out.Recheck = j
	}
	return out
}

// WriteRotationsJSON writes rotations as one JSON document.
func WriteRotationsJSON(w io.Writer, rs []*Rotation) error {
	doc := struct {
		Rotations []RotationJSON `json:"rotations"`
	}{Rotations: []RotationJSON{}}
	for _, r := range rs {
		doc.Rotations = append(doc.Rotations, r.JSON())
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}
