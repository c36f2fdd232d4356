package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/keywarden/keywarden/hsmcheck"
	"github.com/keywarden/keywarden/report"
	"github.com/keywarden/keywarden/report/auditlog"
	"github.com/keywarden/keywarden/scanner"
)

// rotateAt is called at every step boundary of a rotation. Tests set it (in the re-executed
// binary only) to kill the process there; it is nil in keywarden itself.
var rotateAt func(hsmcheck.Boundary)

// rotateFlags are shared by `rotate` and `scan --rotate-live`.
type rotateFlags struct {
	apply      bool
	yes        bool
	reason     string
	journalDir string
	audit      auditFlags
}

func (f *rotateFlags) register(fs *pflag.FlagSet) {
	fs.BoolVar(&f.apply, "apply", false, "carry the rotation out (default: print the plan and change nothing)")
	fs.BoolVarP(&f.yes, "yes", "y", false, "with --apply, do not ask for confirmation on a terminal")
	fs.StringVar(&f.reason, "reason", string(hsmcheck.ReasonCompromise), "why: compromise (revoke as compromised), scheduled or personnel (deactivate)")
	fs.StringVar(&f.journalDir, "journal-dir", hsmcheck.DefaultJournalDir, "where rotation journals are kept, for --resume")
}

func newRotateCmd() *cobra.Command {
	var (
		f       rotateFlags
		inv     inventoryFlags
		config  string
		backend string
		resume  bool
		status  bool
		format  string
	)
	cmd := &cobra.Command{
		Use:   "rotate [KEYREF]",
		Short: "Rotate a key in its HSM or KMS: replacement first, old key kept but out of use",
		Long: "KEYREF is a key's ID, label or spki-sha256 fingerprint in one of the inventories (the config's\n" +
			"[[inventory]] tables and --inventory). Without --apply, rotate prints the plan and changes\n" +
			"nothing. With --apply it brings a replacement (or new version) into use, then takes the old key\n" +
			"out of use for new operations; the old key is never deleted. Every step is journaled before and\n" +
			"after it runs: a run that is killed or fails is finished with --resume. Afterwards the inventory\n" +
			"is re-checked, and every plan, step and outcome is appended to the hash-chained audit log.",
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			fail := func(err error) error { return &exitCodeError{code: exitError, err: err} }
			if format != "text" && format != "json" {
				return fail(fmt.Errorf("unknown --format %q (want text or json)", format))
			}
			ref := ""
			if len(args) == 1 {
				ref = args[0]
			}
			if status {
				return rotationStatus(c, f.journalDir, ref)
			}
			reason, err := hsmcheck.ParseReason(f.reason)
			if err != nil {
				return fail(err)
			}
			if ref == "" && !resume {
				return fail(errors.New("name the key to rotate (its ID, label or spki-sha256), or pass --resume or --status"))
			}
			if config == "" {
				config = defaultConfig()
			}
			specs, _, err := inv.specs(config)
			if err != nil {
				return fail(err)
			}
			if len(specs) == 0 {
				return fail(errors.New("no key inventory to rotate in: pass --inventory URI or add an [[inventory]] table to the config"))
			}
			warn := stderrWarn(c)
			aud, err := f.audit.open(c, true, warn)
			if err != nil {
				return fail(err)
			}
			loaded, done, err := loadInventories(c.Context(), specs, inv.timeout, warn)
			if err != nil {
				aud.close()
				return fail(err)
			}
			defer done()
			r := &rotator{c: c, f: f, out: c.OutOrStdout(), json: format == "json", loaded: loaded, aud: aud, warn: warn}
			var rs []*report.Rotation
			var runErr error
			if resume {
				rs, runErr = r.resume(ref)
			} else {
				var rot *report.Rotation
				rot, runErr = r.start(ref, backend, reason)
				if rot != nil {
					rs = append(rs, rot)
				}
			}
			if format == "json" {
				if err := report.WriteRotationsJSON(c.OutOrStdout(), rs); err != nil {
					runErr = errors.Join(runErr, err)
				}
			}
			if err := aud.close(); err != nil {
				runErr = errors.Join(runErr, err)
			}
			return r.exit(rs, runErr)
		},
	}
	fl := cmd.Flags()
	f.register(fl)
	f.audit.register(fl, true)
	inv.register(fl)
	fl.StringVarP(&config, "config", "c", "", "keywarden config with [[inventory]] tables (default: .keywarden.toml of the current repository)")
	fl.StringVar(&backend, "backend", "", "look for KEYREF only in this inventory (its name, or a scheme such as pkcs11)")
	fl.BoolVar(&resume, "resume", false, "finish unfinished rotations from their journals (only KEYREF's, when given)")
	fl.BoolVar(&status, "status", false, "list the rotations in the journal directory and where each stands")
	fl.StringVarP(&format, "format", "f", "text", "output format: text or json")
	return cmd
}

// rotator carries rotations out for one command run.
type rotator struct {
	c      *cobra.Command
	f      rotateFlags
	out    io.Writer // plans and outcomes; stderr under scan, whose stdout is the report
	json   bool
	loaded []*hsmcheck.Loaded
	aud    *auditor
	warn   func(error)
	// cands are the scan's candidates, when rotating what a scan found: the re-check makes
	// sure the replacement is not among them.
	cands []hsmcheck.Candidate
}

// start plans the rotation of the key ref names and, with --apply, carries it out.
func (r *rotator) start(ref, backend string, reason hsmcheck.Reason) (*report.Rotation, error) {
	loc, err := hsmcheck.Resolve(r.loaded, ref, backend)
	if err != nil {
		for _, l := range r.loaded {
			if l.Err != nil {
				err = fmt.Errorf("%w (inventory %s was skipped)", err, l.Inventory.Name())
			}
		}
		return nil, err
	}
	return r.rotate(loc, reason)
}

// rotate plans the rotation of one located key and, with --apply, carries it out.
func (r *rotator) rotate(loc hsmcheck.Located, reason hsmcheck.Reason) (*report.Rotation, error) {
	ctx := r.c.Context()
	name := loc.Inventory.Name()
	rot, ok := loc.Inventory.(hsmcheck.Rotator)
	if !ok {
		return nil, fmt.Errorf("rotating %s: inventory %s cannot rotate keys (%w); rotate it in the HSM or KMS that holds it", loc.Key.Ref(), name, hsmcheck.ErrUnsupported)
	}
	if pr, err := hsmcheck.Unfinished(r.f.journalDir, name, loc.Key.ID); err != nil || pr != nil {
		if err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("rotation %s of %s is unfinished (%s): run keywarden rotate --resume", pr.Plan.ID, loc.Key.Ref(), pr.Where())
	}
	p, err := rot.PlanRotation(ctx, loc.Key, reason)
	if err != nil {
		return nil, err
	}
	res := &report.Rotation{Plan: p}
	r.aud.record("rotation-plan", []auditlog.KeyRef{keyRef(name, loc.Key)}, map[string]any{
		"rotation": p.ID, "reason": string(p.Reason), "apply": r.f.apply, "steps": stepNames(p),
	})
	if !r.f.apply {
		return res, r.print(res)
	}
	if err := r.confirm(p); err != nil {
		return res, err
	}
	j, err := hsmcheck.CreateJournal(r.f.journalDir, p)
	if err != nil {
		return res, err
	}
	defer j.Close()
	return res, r.run(rot, loc.Inventory, j, res)
}

// resume finishes every unfinished rotation in the journal directory (ref's, when given).
func (r *rotator) resume(ref string) ([]*report.Rotation, error) {
	all, err := hsmcheck.Journals(r.f.journalDir)
	if err != nil {
		return nil, err
	}
	var out []*report.Rotation
	var errs []error
	for _, pr := range all {
		if pr.Complete || ref != "" && !journalMatches(pr, ref) {
			continue
		}
		res := &report.Rotation{Plan: pr.Plan, Applied: true, Journal: pr.Path, Status: pr.Where(), Outcomes: pr.Outcomes}
		out = append(out, res)
		err := r.resumeOne(pr, res)
		if err != nil {
			res.Err = err
			errs = append(errs, err)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no unfinished rotation in %s to resume", r.f.journalDir)
	}
	return out, errors.Join(errs...)
}

func (r *rotator) resumeOne(pr *hsmcheck.Progress, res *report.Rotation) error {
	var inv hsmcheck.Inventory
	for _, l := range r.loaded {
		if l.Inventory.Name() == pr.Plan.Inventory {
			if l.Err != nil {
				return fmt.Errorf("resuming rotation %s: inventory %s: %w", pr.Plan.ID, pr.Plan.Inventory, l.Err)
			}
			inv = l.Inventory
		}
	}
	if inv == nil {
		return fmt.Errorf("resuming rotation %s: inventory %s is not configured: pass it with --inventory", pr.Plan.ID, pr.Plan.Inventory)
	}
	rot, ok := inv.(hsmcheck.Rotator)
	if !ok {
		return fmt.Errorf("resuming rotation %s: inventory %s cannot rotate keys", pr.Plan.ID, pr.Plan.Inventory)
	}
	j, err := hsmcheck.OpenJournal(pr.Path)
	if err != nil {
		return err
	}
	defer j.Close()
	res.Plan = j.Plan()
	fmt.Fprintf(r.c.ErrOrStderr(), "keywarden: resuming rotation %s of %s: %s\n", pr.Plan.ID, pr.Plan.Key.Ref(), j.Progress().Where())
	r.aud.record("rotation-resume", []auditlog.KeyRef{keyRef(pr.Plan.Inventory, pr.Plan.Key)}, map[string]any{
		"rotation": pr.Plan.ID, "where": j.Progress().Where(),
	})
	return r.run(rot, inv, j, res)
}

// run carries the journal's rotation to its end, re-checks the inventory and prints the outcome.
func (r *rotator) run(rot hsmcheck.Rotator, inv hsmcheck.Inventory, j *hsmcheck.Journal, res *report.Rotation) error {
	ctx := r.c.Context()
	rot = scrubbingRotator{rot} // the journal records step errors
	p := j.Plan()
	res.Applied, res.Journal = true, j.Progress().Path
	old := []auditlog.KeyRef{keyRef(p.Inventory, p.Key)}
	err := hsmcheck.Run(ctx, rot, j, hsmcheck.RunOptions{
		At: rotateAt,
		Progress: func(i int, s hsmcheck.Step, outcome string) {
			r.aud.record("rotation-step", old, map[string]any{
				"rotation": p.ID, "step": i + 1, "name": s.Name, "outcome": outcome, "state": p.State,
			})
		},
	})
	pr := j.Progress()
	res.Outcomes, res.Status = pr.Outcomes, pr.Where()
	if err != nil {
		res.Err = err
		r.aud.record("rotation-failed", old, map[string]any{"rotation": p.ID, "where": pr.Where(), "error": oneLine(err)})
		if perr := r.print(res); perr != nil {
			return errors.Join(err, perr)
		}
		return err
	}
	rc, err := hsmcheck.CheckRotation(ctx, inv, p)
	if err != nil {
		res.Err = err
		_ = r.print(res)
		return err
	}
	hsmcheck.CheckSources(ctx, inv, rc, r.cands, r.warn)
	res.Recheck = rc
	keys := old
	if rc.New != nil {
		keys = append(keys, keyRef(p.Inventory, *rc.New))
	}
	details := map[string]any{"rotation": p.ID, "old_retired": rc.OldRetired, "new_active": rc.NewActive, "problems": rc.Problems}
	if rc.OK() {
		if err := j.Complete(); err != nil {
			return err
		}
		res.Status = j.Progress().Where()
		r.aud.record("rotation-complete", keys, details)
	} else {
		r.aud.record("rotation-recheck-failed", keys, details)
	}
	return r.print(res)
}

func (r *rotator) print(res *report.Rotation) error {
	if r.json {
		return nil
	}
	return report.WriteRotationText(r.out, res)
}

// confirm asks on a terminal before anything changes; --yes or a non-terminal stdin skips it.
func (r *rotator) confirm(p *hsmcheck.Plan) error {
	in := r.c.InOrStdin()
	fd, ok := in.(*os.File)
	if r.f.yes || !ok || !isatty.IsTerminal(fd.Fd()) {
		return nil
	}
	if err := report.WriteRotationText(r.c.ErrOrStderr(), &report.Rotation{Plan: p, Applied: true}); err != nil {
		return err
	}
	fmt.Fprintf(r.c.ErrOrStderr(), "Rotate %s in %s now? Type yes to go on: ", p.Key.Ref(), p.Inventory)
	line, _ := bufio.NewReader(in).ReadString('\n')
	if strings.TrimSpace(line) != "yes" {
		return errors.New("rotation cancelled: nothing changed")
	}
	return nil
}

// exit maps the outcome: 2 when something failed, 1 when a re-check found a problem.
func (r *rotator) exit(rs []*report.Rotation, err error) error {
	if err != nil {
		return &exitCodeError{code: exitError, err: err}
	}
	for _, res := range rs {
		if res.Recheck != nil && !res.Recheck.OK() {
			return &exitCodeError{code: exitFindings, err: fmt.Errorf("rotation %s: re-check: %s", res.Plan.ID, strings.Join(res.Recheck.Problems, "; "))}
		}
	}
	return nil
}

func journalMatches(pr *hsmcheck.Progress, ref string) bool {
	k := pr.Plan.Key
	return pr.Plan.ID == ref || k.ID == ref || k.Label == ref || k.Ref() == ref
}

func stepNames(p *hsmcheck.Plan) []string {
	var out []string
	for _, s := range p.Steps {
		out = append(out, s.Name)
	}
	return out
}

// rotationStatus lists the journal directory's rotations and where each stands.
func rotationStatus(c *cobra.Command, dir, ref string) error {
	all, err := hsmcheck.Journals(dir)
	if err != nil {
		return &exitCodeError{code: exitError, err: err}
	}
	w := c.OutOrStdout()
	n := 0
	for _, pr := range all {
		if ref != "" && !journalMatches(pr, ref) {
			continue
		}
		n++
		fmt.Fprintf(w, "%s  %s in %s  %s  (%s)\n", pr.Plan.ID, pr.Plan.Key.Ref(), pr.Plan.Inventory, pr.Where(), pr.Path)
	}
	if n == 0 {
		fmt.Fprintf(w, "no rotations in %s\n", dir)
	}
	return nil
}

// rotateLive plans (and with --apply carries out) the rotation of every inventory key a
// finding matched live, once per key. Output goes to stderr: stdout holds the scan's report.
func rotateLive(c *cobra.Command, f *scanFlags, reason hsmcheck.Reason, loaded []*hsmcheck.Loaded, findings []scanner.Finding, aud *auditor, warn func(error)) error {
	r := &rotator{c: c, f: f.rotate, out: c.ErrOrStderr(), loaded: loaded, aud: aud, warn: warn}
	for _, fd := range findings {
		r.cands = append(r.cands, scanner.Candidate(fd))
	}
	seen := map[string]bool{}
	var errs []error
	n := 0
	for _, fd := range findings {
		if fd.Exposure == nil || fd.Exposure.Status != hsmcheck.Live {
			continue
		}
		for _, m := range fd.Exposure.Matches {
			id := m.Inventory + "\x00" + m.KeyID + "\x00" + fmt.Sprint(m.Version)
			if !m.State.Live() || seen[id] {
				continue
			}
			seen[id] = true
			loc, ok := locate(loaded, m)
			if !ok {
				continue
			}
			n++
			if _, err := r.rotate(loc, reason); err != nil {
				errs = append(errs, err)
				warn(err)
			}
		}
	}
	if n == 0 {
		fmt.Fprintln(c.ErrOrStderr(), "keywarden: --rotate-live: no live key to rotate")
	}
	return errors.Join(errs...)
}

// locate finds the inventory key a match names.
func locate(loaded []*hsmcheck.Loaded, m hsmcheck.Match) (hsmcheck.Located, bool) {
	for _, l := range loaded {
		if l.Inventory.Name() != m.Inventory {
			continue
		}
		for _, k := range l.Keys {
			if k.ID == m.KeyID && k.Version == m.Version {
				return hsmcheck.Located{Inventory: l.Inventory, Key: k}, true
			}
		}
	}
	return hsmcheck.Located{}, false
}
