package hsmcheck

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// DefaultJournalDir is where rotation journals live unless the caller says otherwise.
const DefaultJournalDir = ".keywarden/rotations"

// Journal events, one JSON line each.
const (
	evPlan     = "plan"     // the whole plan, first line
	evBegin    = "begin"    // a step is about to run
	evDone     = "done"     // a step took effect; state as it stands after it
	evFailed   = "failed"   // a step returned an error; it is re-run on resume
	evComplete = "complete" // every step is done
)

type journalEntry struct {
	Time    time.Time         `json:"time"`
	Event   string            `json:"event"`
	Step    *int              `json:"step,omitempty"`
	Name    string            `json:"name,omitempty"`
	Outcome string            `json:"outcome,omitempty"`
	Error   string            `json:"error,omitempty"`
	State   map[string]string `json:"state,omitempty"`
	Plan    *Plan             `json:"plan,omitempty"`
}

// Progress is where a rotation stands, as its journal tells it.
type Progress struct {
	Plan     *Plan
	Path     string
	Outcomes []string // per step: its outcome line once done
	Done     []bool
	Next     int    // the first step not done; len(Plan.Steps) when all are
	Begun    bool   // step Next was started and did not finish: the backend may or may not have acted
	Failed   string // the error step Next last failed with
	Complete bool
}

// Where says in one line where the rotation stands.
func (p *Progress) Where() string {
	switch {
	case p.Complete:
		return "complete"
	case p.Next >= len(p.Plan.Steps):
		return "all steps done, re-check pending"
	}
	s := fmt.Sprintf("step %d of %d (%s)", p.Next+1, len(p.Plan.Steps), p.Plan.Steps[p.Next].Name)
	switch {
	case p.Failed != "":
		return s + " failed: " + p.Failed
	case p.Begun:
		return s + " was started and not finished"
	}
	return s + " not started"
}

// Journal is the durable record of one rotation: every step is written before and after it
// runs, each line synced, so that a run killed at any point can be resumed from the file. An
// open Journal holds an exclusive lock on its file: two processes cannot run the same rotation.
type Journal struct {
	f        *os.File
	progress Progress
}

// CreateJournal starts the journal of p in dir (created 0700 if missing) and locks it.
func CreateJournal(dir string, p *Plan) (*Journal, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating journal directory: %w", err)
	}
	path := filepath.Join(dir, p.ID+".jsonl")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("creating journal: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking journal %s: %w", path, err)
	}
	j := &Journal{f: f, progress: Progress{Plan: p, Path: path, Outcomes: make([]string, len(p.Steps)), Done: make([]bool, len(p.Steps))}}
	if err := j.write(journalEntry{Event: evPlan, Plan: p}); err != nil {
		j.Close()
		return nil, err
	}
	return j, nil
}

// OpenJournal reopens a journal to resume it, locking it. It fails when another process holds
// it.
func OpenJournal(path string) (*Journal, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening journal: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking journal %s: %w", path, err)
	}
	pr, err := readProgress(f, path)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &Journal{f: f, progress: *pr}, nil
}

// ReadJournal reads where the rotation a journal records stands, without locking it.
func ReadJournal(path string) (*Progress, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening journal: %w", err)
	}
	defer f.Close()
	return readProgress(f, path)
}

// Journals lists the rotations recorded in dir, oldest first. A missing dir holds none.
func Journals(dir string) ([]*Progress, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if err != nil {
		return nil, err
	}
	var out []*Progress
	for _, p := range paths {
		pr, err := ReadJournal(p)
		if err != nil {
			return out, err
		}
		out = append(out, pr)
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Plan.ID < out[b].Plan.ID })
	return out, nil
}

// Unfinished returns the unfinished rotation of key id in inventory inv recorded in dir, if
// there is one: a new rotation of that key must wait for it (--resume), or it could make a
// second replacement.
func Unfinished(dir, inv, id string) (*Progress, error) {
	all, err := Journals(dir)
	if err != nil {
		return nil, err
	}
	for _, pr := range all {
		if !pr.Complete && pr.Plan.Inventory == inv && pr.Plan.Key.ID == id {
			return pr, nil
		}
	}
	return nil, nil
}

func readProgress(f *os.File, path string) (*Progress, error) {
	var pr *Progress
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	line := 0
	for sc.Scan() {
		line++
		var e journalEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			// Only the last line can be torn by a crash in the middle of a write: the entry it
			// would have recorded did not happen as far as the journal knows.
			if !bytes.HasSuffix(sc.Bytes(), []byte("}")) {
				continue
			}
			return nil, fmt.Errorf("reading journal %s: line %d: %w", path, line, err)
		}
		if pr == nil {
			if e.Event != evPlan || e.Plan == nil || e.Plan.ID == "" {
				return nil, fmt.Errorf("reading journal %s: first line is not a plan", path)
			}
			n := len(e.Plan.Steps)
			pr = &Progress{Plan: e.Plan, Path: path, Outcomes: make([]string, n), Done: make([]bool, n)}
			continue
		}
		if e.Step != nil && (*e.Step < 0 || *e.Step >= len(pr.Plan.Steps)) {
			return nil, fmt.Errorf("reading journal %s: line %d: no step %d", path, line, *e.Step)
		}
		switch e.Event {
		case evBegin:
			pr.Begun, pr.Failed = true, ""
		case evDone:
			pr.Done[*e.Step], pr.Outcomes[*e.Step] = true, e.Outcome
			pr.Begun, pr.Failed = false, ""
			if e.State != nil {
				pr.Plan.State = e.State
			}
		case evFailed:
			pr.Failed = e.Error
		case evComplete:
			pr.Complete = true
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading journal %s: %w", path, err)
	}
	if pr == nil {
		return nil, fmt.Errorf("reading journal %s: empty", path)
	}
	pr.Next = len(pr.Plan.Steps)
	for i, d := range pr.Done {
		if !d {
			pr.Next = i
			break
		}
	}
	return pr, nil
}

// Progress returns where the rotation stands now.
func (j *Journal) Progress() *Progress { return &j.progress }

// Plan is the journal's plan, with the state recorded so far.
func (j *Journal) Plan() *Plan { return j.progress.Plan }

// Close releases the journal's lock.
func (j *Journal) Close() error { return j.f.Close() }

func (j *Journal) write(e journalEntry) error {
	e.Time = time.Now().UTC()
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("writing journal: %w", err)
	}
	// One write per line with O_APPEND, then fsync: the line is on disk before anything it
	// announces happens.
	if _, err := j.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("writing journal %s: %w", j.progress.Path, err)
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("syncing journal %s: %w", j.progress.Path, err)
	}
	return nil
}

func stepPtr(i int) *int { return &i }

// Phase is a point in a step's life at which a run can be interrupted.
type Phase string

// Phases of a step, in order.
const (
	PhaseBegun Phase = "begun" // the journal says the step started; the backend has not been asked
	PhaseActed Phase = "acted" // the backend acted; the journal does not know yet
	PhaseDone  Phase = "done"  // the journal recorded the step as done
)

// Boundary is one point of a run between durable facts, where a crash test interrupts it.
type Boundary struct {
	Step  int
	Phase Phase
}

func (b Boundary) String() string { return fmt.Sprintf("%d:%s", b.Step, b.Phase) }

// Boundaries lists every boundary of a plan of n steps, in the order a run passes them.
func Boundaries(n int) []Boundary {
	var out []Boundary
	for i := range n {
		for _, ph := range []Phase{PhaseBegun, PhaseActed, PhaseDone} {
			out = append(out, Boundary{i, ph})
		}
	}
	return out
}

// RunOptions tune Run.
type RunOptions struct {
	// At is called at every boundary. Tests kill the process there; nil does nothing.
	At func(Boundary)
	// Progress is told each step's outcome as it finishes.
	Progress func(i int, s Step, outcome string)
}

// Run carries the journal's rotation on from where it stands to its last step, journaling
// each step before and after it runs. A step that fails is journaled as failed and stops the
// run; the error names the step. Run does not re-check the inventory: that is Recheck's job,
// after which the caller calls Complete.
func Run(ctx context.Context, r Rotator, j *Journal, opt RunOptions) error {
	at := opt.At
	if at == nil {
		at = func(Boundary) {}
	}
	p := j.Plan()
	pr := &j.progress
	for i := pr.Next; i < len(p.Steps); i++ {
		if pr.Done[i] {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		s := p.Steps[i]
		if err := j.write(journalEntry{Event: evBegin, Step: stepPtr(i), Name: s.Name}); err != nil {
			return err
		}
		pr.Next, pr.Begun, pr.Failed = i, true, ""
		at(Boundary{i, PhaseBegun})
		out, err := r.RotateStep(ctx, p, i)
		if err != nil {
			err = fmt.Errorf("rotation %s, step %d of %d (%s): %w", p.ID, i+1, len(p.Steps), s.Name, err)
			pr.Failed = oneLine(err)
			if werr := j.write(journalEntry{Event: evFailed, Step: stepPtr(i), Name: s.Name, Error: pr.Failed}); werr != nil {
				return errors.Join(err, werr)
			}
			return err
		}
		at(Boundary{i, PhaseActed})
		if err := j.write(journalEntry{Event: evDone, Step: stepPtr(i), Name: s.Name, Outcome: out, State: p.State}); err != nil {
			return err
		}
		pr.Done[i], pr.Outcomes[i], pr.Begun = true, out, false
		pr.Next = i + 1
		at(Boundary{i, PhaseDone})
		if opt.Progress != nil {
			opt.Progress(i, s, out)
		}
	}
	return nil
}

// Complete records that the rotation finished and its re-check passed.
func (j *Journal) Complete() error {
	if err := j.write(journalEntry{Event: evComplete}); err != nil {
		return err
	}
	j.progress.Complete = true
	return nil
}

func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", "; ") }

// Recheck is the inventory's view of a rotation after it ran.
type Recheck struct {
	Old          *Key     `json:"old,omitempty"` // nil when the inventory no longer lists the key
	New          *Key     `json:"new,omitempty"`
	OldRetired   bool     `json:"old_retired"`  // the old key is listed and out of use (never gone: a rotation keeps it)
	NewActive    bool     `json:"new_active"`   // the replacement is listed and in use
	Replacements int      `json:"replacements"` // keys carrying the replacement's ID or label; 1 when all is well
	Problems     []string `json:"problems,omitempty"`
	// InSources is set by callers that scanned: whether the replacement matched anything found.
	SourcesChecked bool `json:"sources_checked"`
	InSources      bool `json:"in_sources,omitempty"`
}

// OK reports whether the re-check found what a finished rotation should leave.
func (r *Recheck) OK() bool { return len(r.Problems) == 0 }

// CheckRotation lists inv again and looks at the old key and its replacement.
func CheckRotation(ctx context.Context, inv Inventory, p *Plan) (*Recheck, error) {
	rc := &Recheck{}
	newID, newVer := p.State[StateNewID], p.NewVersion()
	newLabel := p.State[StateNewLabel]
	err := inv.Keys(ctx, func(k Key) error {
		isOld := k.ID == p.Key.ID && k.Version == p.Key.Version
		isNew := newID != "" && k.ID == newID && k.Version == newVer
		switch {
		case isOld:
			rc.Old = &k
		case isNew:
			rc.New = &k
		}
		// A second key under the replacement's label means a run made two.
		if !isOld && (isNew || newLabel != "" && k.Label == newLabel) {
			rc.Replacements++
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("re-checking %s after rotation: %w", inv.Name(), err)
	}
	switch {
	case rc.Old == nil:
		rc.Problems = append(rc.Problems, "the old key "+p.Key.Ref()+" is no longer listed")
	case rc.Old.State.Live():
		rc.Problems = append(rc.Problems, fmt.Sprintf("the old key %s is still %s", p.Key.Ref(), rc.Old.State))
	default:
		rc.OldRetired = true
	}
	switch {
	case rc.New == nil:
		rc.Problems = append(rc.Problems, "the replacement "+newRef(p)+" is not listed")
	case rc.New.State != Active:
		rc.Problems = append(rc.Problems, fmt.Sprintf("the replacement %s is %s, not active", rc.New.Ref(), rc.New.State))
	default:
		rc.NewActive = true
	}
	if rc.New != nil && rc.Old != nil && rc.New.HasSPKI() && rc.New.SPKIHash == rc.Old.SPKIHash {
		rc.Problems = append(rc.Problems, "the replacement has the old key's public key")
	}
	if rc.Replacements > 1 {
		rc.Problems = append(rc.Problems, fmt.Sprintf("%d replacements exist, want 1", rc.Replacements))
	}
	return rc, nil
}

// CheckSources records on rc whether the replacement matches any of cands, the candidates of
// the scan that found the leak: a replacement already in the sources would be leaked too.
func CheckSources(ctx context.Context, inv Inventory, rc *Recheck, cands []Candidate, warn func(error)) {
	if rc.New == nil || len(cands) == 0 {
		return
	}
	rc.SourcesChecked = true
	l := &Loaded{Inventory: inv, Keys: []Key{*rc.New}}
	for _, e := range Check(ctx, []*Loaded{l}, cands, warn) {
		if e.Status != NoMatch {
			rc.InSources = true
			rc.Problems = append(rc.Problems, "the replacement matches a secret in the scanned sources")
			return
		}
	}
}

func newRef(p *Plan) string {
	k := Key{ID: p.State[StateNewID], Label: p.State[StateNewLabel], Version: p.NewVersion()}
	if k.ID == "" && k.Label == "" {
		return "(not made yet)"
	}
	return k.Ref()
}
