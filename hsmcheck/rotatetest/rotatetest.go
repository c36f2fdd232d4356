// Package rotatetest is the contract every hsmcheck.Rotator runs in its tests: a plan changes
// nothing, a rotation leaves the old key listed and out of use and exactly one replacement in
// use, and a run interrupted at any step boundary (killed, or failed by the backend before or
// after it acted) finishes on resume without a second replacement.
package rotatetest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/keywarden/keywarden/hsmcheck"
)

// Fixture is what a backend gives the suite.
type Fixture struct {
	// Open opens the backend afresh, as a new process would. The result must be a Rotator.
	Open func(t *testing.T) hsmcheck.Inventory
	// NewKey makes a fresh live key to rotate and returns its Key.ID and Key.Version.
	NewKey func(t *testing.T) (id string, version int)
	// Reason is the rotation reason to use; compromise when empty.
	Reason hsmcheck.Reason
	// Short runs only the full rotation and the plan checks, not the crash points, for
	// fixtures whose keys are slow to make.
	Short bool
}

// Run runs the suite against f.
func Run(t *testing.T, f Fixture) {
	t.Helper()
	if f.Reason == "" {
		f.Reason = hsmcheck.ReasonCompromise
	}
	t.Run("PlanChangesNothing", func(t *testing.T) { planChangesNothing(t, f) })
	t.Run("Rotate", func(t *testing.T) { rotate(t, f) })
	if f.Short {
		return
	}
	// Step count comes from a plan; every key of a fixture plans the same steps.
	steps := len(plan(t, f, f.Open(t), newKey(t, f, f.Open(t))).Steps)
	for _, b := range hsmcheck.Boundaries(steps) {
		t.Run("KilledAt/"+b.String(), func(t *testing.T) { interrupted(t, f, killAt(b)) })
	}
	for i := range steps {
		t.Run(fmt.Sprintf("BackendFailsBefore/%d", i), func(t *testing.T) { interrupted(t, f, failStep(i, false)) })
		t.Run(fmt.Sprintf("BackendFailsAfter/%d", i), func(t *testing.T) { interrupted(t, f, failStep(i, true)) })
	}
}

func rotator(t *testing.T, inv hsmcheck.Inventory) hsmcheck.Rotator {
	t.Helper()
	r, ok := inv.(hsmcheck.Rotator)
	if !ok {
		t.Fatalf("%s is not a Rotator", inv.Name())
	}
	return r
}

func list(t *testing.T, inv hsmcheck.Inventory) []hsmcheck.Key {
	t.Helper()
	var ks []hsmcheck.Key
	if err := inv.Keys(context.Background(), func(k hsmcheck.Key) error { ks = append(ks, k); return nil }); err != nil {
		t.Fatalf("listing %s: %v", inv.Name(), err)
	}
	return ks
}

func newKey(t *testing.T, f Fixture, inv hsmcheck.Inventory) hsmcheck.Key {
	t.Helper()
	id, ver := f.NewKey(t)
	for _, k := range list(t, inv) {
		if k.ID == id && k.Version == ver {
			return k
		}
	}
	t.Fatalf("new key %s v%d is not listed in %s", id, ver, inv.Name())
	return hsmcheck.Key{}
}

func plan(t *testing.T, f Fixture, inv hsmcheck.Inventory, k hsmcheck.Key) *hsmcheck.Plan {
	t.Helper()
	p, err := rotator(t, inv).PlanRotation(context.Background(), k, f.Reason)
	if err != nil {
		t.Fatalf("planning rotation of %s: %v", k.Ref(), err)
	}
	if len(p.Steps) == 0 || p.OldKey == "" || p.ID == "" || p.Key.ID != k.ID {
		t.Fatalf("plan = %+v, want steps, an old-key sentence, an ID and the key", p)
	}
	return p
}

func planChangesNothing(t *testing.T, f Fixture) {
	inv := f.Open(t)
	k := newKey(t, f, inv)
	before := list(t, inv)
	p := plan(t, f, inv, k)
	for _, s := range p.Steps {
		if s.Name == "" || s.Action == "" {
			t.Errorf("step %+v has no name or action", s)
		}
	}
	after := list(t, inv)
	if len(after) != len(before) {
		t.Errorf("planning changed the key count from %d to %d", len(before), len(after))
	}
	for _, a := range after {
		if a.ID == k.ID && a.Version == k.Version && a.State != k.State {
			t.Errorf("planning changed the key's state from %s to %s", k.State, a.State)
		}
	}
}

func rotate(t *testing.T, f Fixture) {
	inv := f.Open(t)
	k := newKey(t, f, inv)
	before := len(list(t, inv))
	p := plan(t, f, inv, k)
	j, err := hsmcheck.CreateJournal(t.TempDir(), p)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if err := hsmcheck.Run(context.Background(), rotator(t, inv), j, hsmcheck.RunOptions{}); err != nil {
		t.Fatalf("rotating %s: %v", k.Ref(), err)
	}
	for i, o := range j.Progress().Outcomes {
		if o == "" {
			t.Errorf("step %d (%s) reported no outcome", i, p.Steps[i].Name)
		}
	}
	recheck(t, f.Open(t), j.Plan(), before)

	// The old key is out of use now: rotating it again is refused, not a second replacement.
	for _, ok := range list(t, inv) {
		if ok.ID == k.ID && ok.Version == k.Version {
			if _, err := rotator(t, inv).PlanRotation(context.Background(), ok, f.Reason); !errors.Is(err, hsmcheck.ErrRetired) {
				t.Errorf("planning a second rotation of the retired key: err = %v, want ErrRetired", err)
			}
		}
	}
}

// recheck asserts what a finished rotation leaves: the old key listed and retired, exactly
// one replacement, active, and one key more than before.
func recheck(t *testing.T, inv hsmcheck.Inventory, p *hsmcheck.Plan, before int) {
	t.Helper()
	rc, err := hsmcheck.CheckRotation(context.Background(), inv, p)
	if err != nil {
		t.Fatal(err)
	}
	if !rc.OK() || !rc.OldRetired || !rc.NewActive || rc.Replacements != 1 {
		t.Errorf("re-check: %+v, problems %v; want old retired, one replacement, active", rc, rc.Problems)
	}
	if after := len(list(t, inv)); after != before+1 {
		t.Errorf("%d keys after rotation, want %d (one replacement, the old key kept)", after, before+1)
	}
}

// interruption is how a run is stopped: by a crash at a boundary, or a failing backend.
type interruption struct {
	at   func(hsmcheck.Boundary)
	wrap func(hsmcheck.Rotator) hsmcheck.Rotator
}

type crash struct{ b hsmcheck.Boundary }

// killAt stops the run at b the way a kill would: nothing after b is written, nothing is
// cleaned up (the panic skips Run's remaining writes, and the journal is not told).
func killAt(b hsmcheck.Boundary) interruption {
	return interruption{at: func(got hsmcheck.Boundary) {
		if got == b {
			panic(crash{b})
		}
	}}
}

var errInjected = errors.New("injected backend failure: permission denied")

// failStep makes step i fail, before the backend acts or after it did (a timeout on a call
// that took effect).
func failStep(i int, after bool) interruption {
	return interruption{wrap: func(r hsmcheck.Rotator) hsmcheck.Rotator { return failing{r, i, after} }}
}

type failing struct {
	hsmcheck.Rotator
	step  int
	after bool
}

func (f failing) RotateStep(ctx context.Context, p *hsmcheck.Plan, i int) (string, error) {
	if i != f.step {
		return f.Rotator.RotateStep(ctx, p, i)
	}
	if f.after {
		if _, err := f.Rotator.RotateStep(ctx, p, i); err != nil {
			return "", err
		}
	}
	return "", fmt.Errorf("%w: %w", hsmcheck.ErrAuth, errInjected)
}

func interrupted(t *testing.T, f Fixture, in interruption) {
	inv := f.Open(t)
	k := newKey(t, f, inv)
	before := len(list(t, inv))
	p := plan(t, f, inv, k)
	dir := t.TempDir()
	j, err := hsmcheck.CreateJournal(dir, p)
	if err != nil {
		t.Fatal(err)
	}
	path := j.Progress().Path
	var r hsmcheck.Rotator = rotator(t, inv)
	if in.wrap != nil {
		r = in.wrap(r)
	}
	runErr := func() (err error) {
		defer func() {
			if c, ok := recover().(crash); ok {
				err = fmt.Errorf("killed at %s", c.b)
			}
		}()
		return hsmcheck.Run(context.Background(), r, j, hsmcheck.RunOptions{At: in.at})
	}()
	j.Close() // the process is gone: its lock goes with it
	if runErr == nil {
		t.Fatal("the interrupted run reported success")
	}
	if in.wrap != nil && !errors.Is(runErr, errInjected) {
		t.Errorf("run error %v does not carry the backend's error", runErr)
	}

	// A new process reads where things stand, then resumes.
	pr, err := hsmcheck.ReadJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	if pr.Complete || pr.Where() == "" {
		t.Errorf("journal after interruption: %+v", pr)
	}
	if in.wrap != nil && pr.Failed == "" {
		t.Errorf("journal does not record the failure: %s", pr.Where())
	}
	inv2 := f.Open(t)
	j2, err := hsmcheck.OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	defer j2.Close()
	if err := hsmcheck.Run(context.Background(), rotator(t, inv2), j2, hsmcheck.RunOptions{}); err != nil {
		t.Fatalf("resuming after %q: %v", pr.Where(), err)
	}
	recheck(t, inv2, j2.Plan(), before)
}
