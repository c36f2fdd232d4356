package hsmcheck_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/keywarden/keywarden/hsmcheck"
	"github.com/keywarden/keywarden/hsmcheck/rotatetest"
)

// memStore is a backend's durable state: it outlives the memRotator "processes" that open it.
type memStore struct {
	mu      sync.Mutex
	keys    []hsmcheck.Key
	n       int
	creates int
	// buggy makes the generate step ignore a replacement a killed run already made, as a
	// careless backend would: the suite must catch it.
	buggy bool
}

type memRotator struct{ s *memStore }

func (m memRotator) Name() string { return "mem:test" }

func (m memRotator) Keys(_ context.Context, yield func(hsmcheck.Key) error) error {
	m.s.mu.Lock()
	ks := append([]hsmcheck.Key(nil), m.s.keys...)
	m.s.mu.Unlock()
	for _, k := range ks {
		if err := yield(k); err != nil {
			return err
		}
	}
	return nil
}

func (m memRotator) PlanRotation(_ context.Context, k hsmcheck.Key, r hsmcheck.Reason) (*hsmcheck.Plan, error) {
	p, err := hsmcheck.NewPlan(m, k, r)
	if err != nil {
		return nil, err
	}
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	m.s.n++
	p.Set(hsmcheck.StateNewID, fmt.Sprintf("k%d", 1000+m.s.n))
	p.Set(hsmcheck.StateNewLabel, hsmcheck.NextLabel(k.Label, nil))
	p.Step("generate-replacement", "make "+p.State[hsmcheck.StateNewLabel])
	p.Step("retire-old", "deactivate "+k.Ref())
	p.OldKey = "kept, deactivated"
	return p, nil
}

func (m memRotator) RotateStep(_ context.Context, p *hsmcheck.Plan, i int) (string, error) {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	switch p.Steps[i].Name {
	case "generate-replacement":
		for _, k := range m.s.keys {
			if k.ID == p.State[hsmcheck.StateNewID] && !m.s.buggy {
				return "replacement already made", nil
			}
		}
		m.s.creates++
		m.s.keys = append(m.s.keys, hsmcheck.Key{ID: p.State[hsmcheck.StateNewID], Label: p.State[hsmcheck.StateNewLabel], Class: hsmcheck.Secret, State: hsmcheck.Active})
		return "made " + p.State[hsmcheck.StateNewID], nil
	case "retire-old":
		for j := range m.s.keys {
			if m.s.keys[j].ID == p.Key.ID {
				m.s.keys[j].State = hsmcheck.Deactivated
				return "deactivated", nil
			}
		}
		return "", errors.New("old key gone")
	}
	return "", fmt.Errorf("no step %q", p.Steps[i].Name)
}

func (m memRotator) fixture() rotatetest.Fixture {
	return rotatetest.Fixture{
		Open: func(*testing.T) hsmcheck.Inventory { return m },
		NewKey: func(*testing.T) (string, int) {
			m.s.mu.Lock()
			defer m.s.mu.Unlock()
			m.s.n++
			id := fmt.Sprintf("k%d", m.s.n)
			m.s.keys = append(m.s.keys, hsmcheck.Key{ID: id, Label: "key-" + id, Class: hsmcheck.Secret, State: hsmcheck.Active})
			return id, 0
		},
	}
}

// TestRotateContract runs the rotation contract on an in-memory backend, which checks the
// journal and runner that every backend shares.
func TestRotateContract(t *testing.T) {
	rotatetest.Run(t, memRotator{&memStore{}}.fixture())
}

// TestRotateContractCatchesDoubleCreate: a backend whose generate step is not idempotent
// makes a second replacement on resume, and the contract's re-check must say so.
func TestRotateContractCatchesDoubleCreate(t *testing.T) {
	s := &memStore{buggy: true}
	m := memRotator{s}
	f := m.fixture()
	id, _ := f.NewKey(t)
	k := hsmcheck.Key{ID: id, Label: "key-" + id, Class: hsmcheck.Secret, State: hsmcheck.Active}
	p, err := m.PlanRotation(context.Background(), k, hsmcheck.ReasonCompromise)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	j, err := hsmcheck.CreateJournal(dir, p)
	if err != nil {
		t.Fatal(err)
	}
	path := j.Progress().Path
	func() {
		defer func() { recover() }()
		_ = hsmcheck.Run(context.Background(), m, j, hsmcheck.RunOptions{At: func(b hsmcheck.Boundary) {
			if b == (hsmcheck.Boundary{Step: 0, Phase: hsmcheck.PhaseActed}) {
				panic("killed")
			}
		}})
	}()
	j.Close()
	j2, err := hsmcheck.OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	defer j2.Close()
	if pr := j2.Progress(); pr.Next != 0 || !pr.Begun || !strings.Contains(pr.Where(), "started and not finished") {
		t.Errorf("progress after a kill between act and record: %+v (%s)", pr, pr.Where())
	}
	if err := hsmcheck.Run(context.Background(), m, j2, hsmcheck.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	rc, err := hsmcheck.CheckRotation(context.Background(), m, j2.Plan())
	if err != nil {
		t.Fatal(err)
	}
	if rc.OK() || rc.Replacements != 2 || s.creates != 2 {
		t.Errorf("re-check of a doubled replacement: %+v (creates %d), want a problem naming 2 replacements", rc, s.creates)
	}
}

func TestJournal(t *testing.T) {
	m := memRotator{&memStore{}}
	id, _ := m.fixture().NewKey(t)
	k := hsmcheck.Key{ID: id, Label: "signing", State: hsmcheck.Active}
	p, err := m.PlanRotation(context.Background(), k, "")
	if err != nil {
		t.Fatal(err)
	}
	if p.Reason != hsmcheck.ReasonCompromise {
		t.Errorf("default reason %q, want compromise", p.Reason)
	}
	dir := filepath.Join(t.TempDir(), "rotations")
	j, err := hsmcheck.CreateJournal(dir, p)
	if err != nil {
		t.Fatal(err)
	}
	path := j.Progress().Path
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("journal mode: %v %v, want 0600", fi, err)
	}
	if _, err := hsmcheck.OpenJournal(path); err == nil || !strings.Contains(err.Error(), "another keywarden process") {
		t.Errorf("opening a journal another run holds: err = %v, want it refused", err)
	}
	if err := hsmcheck.Run(context.Background(), m, j, hsmcheck.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := j.Complete(); err != nil {
		t.Fatal(err)
	}
	j.Close()

	// A torn last line (a crash in the middle of a write) is ignored; the rest is read.
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"time":"2026-11-22T00:00:00Z","event":"beg`)
	f.Close()
	all, err := hsmcheck.Journals(dir)
	if err != nil || len(all) != 1 {
		t.Fatalf("Journals = %v, %v", all, err)
	}
	pr := all[0]
	if !pr.Complete || pr.Next != 2 || pr.Plan.State[hsmcheck.StateNewID] == "" || pr.Outcomes[0] == "" || pr.Where() != "complete" {
		t.Errorf("progress = %+v", pr)
	}

	// A corrupt line that is not the last is an error, not a silently shorter journal.
	b, _ := os.ReadFile(path)
	lines := strings.SplitAfter(string(b), "\n")
	lines[1] = "{not json}\n"
	os.WriteFile(path, []byte(strings.Join(lines, "")), 0o600)
	if _, err := hsmcheck.ReadJournal(path); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("corrupt journal: err = %v, want it to name line 2", err)
	}
}

func TestNextLabel(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "signing", "signing.v2"},
		{"versioned", "signing.v2", "signing.v3"},
		{"not a version", "app.vault", "app.vault.v2"},
		{"taken", "db", "db.v3"},
	}
	taken := func(l string) bool { return l == "db.v2" }
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := hsmcheck.NextLabel(tt.in, taken); got != tt.want {
				t.Errorf("NextLabel(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestNewPlanRefusesRetired(t *testing.T) {
	_, err := hsmcheck.NewPlan(memRotator{&memStore{}}, hsmcheck.Key{ID: "x", State: hsmcheck.Compromised}, hsmcheck.ReasonScheduled)
	if !errors.Is(err, hsmcheck.ErrRetired) {
		t.Errorf("err = %v, want ErrRetired", err)
	}
	if _, err := hsmcheck.ParseReason("because"); err == nil {
		t.Error("ParseReason accepted an unknown reason")
	}
}

func TestCheckSources(t *testing.T) {
	inv := memRotator{&memStore{}}
	spki := [32]byte{9}
	tests := []struct {
		name      string
		newKey    *hsmcheck.Key
		cands     []hsmcheck.Candidate
		checked   bool
		inSources bool
	}{
		{"replacement found in the sources", &hsmcheck.Key{ID: "n", Class: hsmcheck.Private, State: hsmcheck.Active, SPKIHash: spki}, []hsmcheck.Candidate{{SPKIHash: [32]byte{1}}, {SPKIHash: spki}}, true, true},
		{"replacement not in the sources", &hsmcheck.Key{ID: "n", Class: hsmcheck.Private, State: hsmcheck.Active, SPKIHash: spki}, []hsmcheck.Candidate{{SPKIHash: [32]byte{1}}}, true, false},
		{"nothing scanned", &hsmcheck.Key{ID: "n", SPKIHash: spki}, nil, false, false},
		{"no replacement listed", nil, []hsmcheck.Candidate{{SPKIHash: spki}}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := &hsmcheck.Recheck{New: tt.newKey}
			hsmcheck.CheckSources(context.Background(), inv, rc, tt.cands, nil)
			if rc.SourcesChecked != tt.checked || rc.InSources != tt.inSources || rc.OK() == tt.inSources {
				t.Errorf("recheck = %+v, want checked %v, in sources %v", rc, tt.checked, tt.inSources)
			}
		})
	}
}

func TestUnfinished(t *testing.T) {
	m := memRotator{&memStore{}}
	id, _ := m.fixture().NewKey(t)
	p, err := m.PlanRotation(context.Background(), hsmcheck.Key{ID: id, Label: "k", State: hsmcheck.Active}, "")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if pr, err := hsmcheck.Unfinished(dir, m.Name(), id); pr != nil || err != nil {
		t.Fatalf("Unfinished before any journal = %v, %v", pr, err)
	}
	j, err := hsmcheck.CreateJournal(dir, p)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if pr, _ := hsmcheck.Unfinished(dir, m.Name(), id); pr == nil || pr.Plan.ID != p.ID {
		t.Errorf("Unfinished = %v, want rotation %s", pr, p.ID)
	}
	if pr, _ := hsmcheck.Unfinished(dir, "other:inv", id); pr != nil {
		t.Errorf("Unfinished for another inventory = %v", pr)
	}
	if err := hsmcheck.Run(context.Background(), m, j, hsmcheck.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := j.Complete(); err != nil {
		t.Fatal(err)
	}
	if pr, _ := hsmcheck.Unfinished(dir, m.Name(), id); pr != nil {
		t.Errorf("Unfinished after completion = %v", pr)
	}
}
