package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/keywarden/keywarden/hsmcheck"
)

func TestRotationOutput(t *testing.T) {
	plan := func() *hsmcheck.Plan {
		return &hsmcheck.Plan{ID: "ab12", Inventory: "pkcs11:prod", Reason: hsmcheck.ReasonCompromise,
			Key:       hsmcheck.Key{ID: "01", Label: "signing", State: hsmcheck.Active, Algorithm: "RSA-2048", SPKIHash: [32]byte{0xfe}},
			Steps:     []hsmcheck.Step{{Name: "generate-replacement", Action: "generate signing.v2"}, {Name: "retire-old", Action: "end-date signing"}},
			OldKey:    "kept for verify",
			FollowUps: []string{"point lookups at signing.v2"},
			State:     map[string]string{hsmcheck.StateNewID: "02"}}
	}
	tests := []struct {
		name      string
		rot       *Rotation
		want, not []string
	}{
		{"dry run", &Rotation{Plan: plan()},
			[]string{"Rotation ab12 (dry run: nothing will change)", "signing (01) in pkcs11:prod, RSA-2048, active", "1. generate-replacement: generate signing.v2", "Run again with --apply"},
			[]string{"What you must still do", "✓"}},
		{"stopped half way", &Rotation{Plan: plan(), Applied: true, Outcomes: []string{"made 02", ""}, Status: "step 2 of 2 (retire-old) failed: denied", Journal: "/j/ab12.jsonl", Err: errors.New("step 2: denied")},
			[]string{"✓ 1. generate-replacement", "→ made 02", "journal: /j/ab12.jsonl (step 2 of 2", "stopped: step 2: denied", "keywarden rotate --resume"},
			[]string{"Run again with --apply", "What you must still do"}},
		{"complete with a problem", &Rotation{Plan: plan(), Applied: true, Outcomes: []string{"made 02", "end-dated"}, Recheck: &hsmcheck.Recheck{
			Old: &hsmcheck.Key{ID: "01", Label: "signing", State: hsmcheck.Active}, Problems: []string{"the old key signing (01) is still active"}, SourcesChecked: true}},
			[]string{"old key signing (01) is active", "PROBLEM: the old key signing (01) is still active", "the replacement is not in the scanned sources", "What you must still do", "- point lookups at signing.v2", "- redeploy every consumer"},
			nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteRotationText(&b, tt.rot); err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, b.String())
				}
			}
			for _, n := range tt.not {
				if strings.Contains(b.String(), n) {
					t.Errorf("output has %q:\n%s", n, b.String())
				}
			}
		})
	}

	var b bytes.Buffer
	if err := WriteRotationsJSON(&b, []*Rotation{tests[2].rot}); err != nil {
		t.Fatal(err)
	}
	var doc struct{ Rotations []RotationJSON }
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	r := doc.Rotations[0]
	if r.Key.SPKISHA256 != "fe"+strings.Repeat("0", 62) || r.Recheck == nil || r.Recheck.OK || len(r.FollowUps) != 1+len(hsmcheck.FollowUps) || r.Steps[1].Outcome != "end-dated" {
		t.Errorf("JSON rotation = %+v", r)
	}
}
