package main

// The progress display of scan and audit, on stderr (stdout is the report's).
//
//	ui := newProgress(stderr, f.quiet, f.noProgress, len(repos)) // total: 1 for a scan
//	defer ui.finish()                     // idempotent; early returns need no more
//	opts.OnProgress = ui.event            // safe from several goroutines at once
//	opts.Warn = ui.warn                   // printed above the bars, never through them
//	out, err := scanner.Audit(ctx, opts)
//	ui.finish()                           // before the report's summary and later messages
//
// On a terminal, mpb draws one bar per repository that has started (name, phase, percent of
// commits, blobs/s, MiB/s, ETA) and, for an audit (total > 1), a totals line below them. A
// repository that ends (PhaseDone or PhaseFailed) collapses to one line that stays above the
// bars: "✓ org/svc  1,234 blobs  3.4 MiB  2.1s" or "✗ org/svc  failed: clone". Nothing is
// drawn for the first progressDelay, so quick pre-commit runs stay silent.
//
// Elsewhere (CI logs) a plain line per running repository is printed every progressInterval:
// "keywarden: scanning repo 3/12 (org/svc): 40,000 blobs, 120 MiB, 35 MiB/s", and for an
// audit a totals line. --quiet prints nothing, warnings included; --no-progress leaves
// warnings only.
//
// Events are keyed by Progress.Repo; a scan passes its target there. PhaseQueued only
// registers a repository. The failed phase shown is the last working phase the repository
// reported (clone, fetch, enumerate, scan). Events after finish are dropped; warnings after
// finish are printed directly.

import (
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/keywarden/keywarden/scanner"
)

// Timings of the display; variables so that tests can shorten them.
var (
	// progressDelay is how long a run must last before bars are drawn.
	progressDelay = time.Second
	// progressInterval is how often a line is printed when stderr is not a terminal.
	progressInterval = 5 * time.Second
	// progressRefresh is how often bars are redrawn.
	progressRefresh = 120 * time.Millisecond
)

const (
	progressWidth    = 100 // line width when the output is not a terminal (tests)
	progressBarWidth = 24  // the bar itself, brackets included
	maxNameWidth     = 40  // longer repository names are cut from the left
	phaseWidth       = len(scanner.PhaseEnumerate)
)

// progressMode is how progress is shown.
type progressMode int

const (
	progressOff   progressMode = iota
	progressLines              // a plain line every progressInterval, for logs
	progressBars               // live bars, for a terminal
)

// progressModeFor picks the mode for w: bars on a terminal, lines elsewhere, none when asked.
func progressModeFor(w io.Writer, quiet, noProgress bool) progressMode {
	switch {
	case quiet || noProgress:
		return progressOff
	case isTTY(w) && os.Getenv("TERM") != "dumb":
		return progressBars
	}
	return progressLines
}

// progressUI is the progress display of one scan or audit. Its methods are safe to call from
// several goroutines.
type progressUI struct {
	w     io.Writer
	mode  progressMode
	quiet bool
	total int // repositories of an audit; 0 or 1 for a single scan
	now   func() time.Time
	start time.Time

	nameWidth atomic.Int64           // widest name of a started repository, read by the bars
	totals    atomic.Pointer[string] // the totals line without the clock, read by its bar
	ended     atomic.Bool            // totals is final, clock included

	mu                     sync.Mutex
	repos                  map[string]*repoProgress
	order                  []*repoProgress // started repositories, in start order
	started, done, failed  int
	finished               bool
	p                      *mpb.Progress // nil until the display appears
	totalBar               *mpb.Bar
	stop                   chan struct{}
	wg                     sync.WaitGroup
	delay, interval, fresh time.Duration
}

// repoProgress is what is known of one repository. The bars read only view.
type repoProgress struct {
	name       string // as displayed in a bar
	fullName   string // as displayed in a log line
	n          int    // 1-based start order; 0 until it starts
	phase      string // the latest phase
	working    string // the latest phase before done or failed
	since      time.Time
	phaseSince time.Time
	stats      scanner.Stats
	done       int64 // commits
	total      int64
	etaFrom    time.Time // when the commit count became known, for the ETA
	etaDone    int64     // commits done then
	eta        time.Duration
	end        bool
	bar        *mpb.Bar
	view       atomic.Pointer[repoView]
}

// repoView is an immutable snapshot of a repository for its bar's decorators, which run on
// mpb's goroutines.
type repoView struct {
	name, phase string
	since       time.Time // of the phase, for a live clock outside the scan phase
	frac        float64   // of commits done; <0 when unknown
	info        string    // counts, rates and ETA while scanning
	final       string    // the one line of a repository that has ended
}

// newProgress returns the display for w (stderr): bars on a terminal, lines elsewhere.
// total is the number of repositories of an audit, 1 for a scan.
func newProgress(w io.Writer, quiet, noProgress bool, total int) *progressUI {
	return newProgressUI(w, progressModeFor(w, quiet, noProgress), quiet, total, time.Now)
}

func newProgressUI(w io.Writer, mode progressMode, quiet bool, total int, now func() time.Time) *progressUI {
	ui := &progressUI{
		w: w, mode: mode, quiet: quiet, total: total, now: now, start: now(),
		repos: map[string]*repoProgress{}, stop: make(chan struct{}),
		delay: progressDelay, interval: progressInterval, fresh: progressRefresh,
	}
	empty := ""
	ui.totals.Store(&empty)
	switch mode {
	case progressBars:
		ui.wg.Add(1)
		go ui.appear()
	case progressLines:
		ui.wg.Add(1)
		go ui.tick()
	}
	return ui
}

// appear starts the bars once the run has lasted progressDelay.
func (ui *progressUI) appear() {
	defer ui.wg.Done()
	t := time.NewTimer(ui.delay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ui.stop:
		return
	}
	ui.mu.Lock()
	defer ui.mu.Unlock()
	if ui.finished {
		return
	}
	ui.p = mpb.New(mpb.WithOutput(ui.w), mpb.WithWidth(progressWidth), mpb.WithAutoRefresh(),
		mpb.WithRefreshRate(ui.fresh), mpb.PopCompletedMode())
	for _, rp := range ui.order {
		ui.addBar(rp)
	}
	if ui.total > 1 {
		ui.totalBar = ui.p.New(0, mpb.NopStyle(), mpb.BarPriority(math.MaxInt32), mpb.BarNoPop(), mpb.BarFillerTrim(),
			mpb.PrependDecorators(decor.Any(func(decor.Statistics) string {
				if ui.ended.Load() {
					return *ui.totals.Load()
				}
				return *ui.totals.Load() + "  " + formatDuration(ui.now().Sub(ui.start))
			})))
	}
}

// tick prints the status lines every interval.
func (ui *progressUI) tick() {
	defer ui.wg.Done()
	t := time.NewTicker(ui.interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-ui.stop:
			return
		}
		ui.mu.Lock()
		if !ui.finished {
			for _, l := range ui.statusLines(ui.now()) {
				fmt.Fprintln(ui.w, l)
			}
		}
		ui.mu.Unlock()
	}
}

// event records a progress event and updates the display.
func (ui *progressUI) event(p scanner.Progress) {
	if ui.mode == progressOff {
		return
	}
	now := ui.now()
	ui.mu.Lock()
	defer ui.mu.Unlock()
	if ui.finished {
		return
	}
	rp := ui.repos[p.Repo]
	if rp == nil {
		rp = &repoProgress{name: displayName(p.Repo, maxNameWidth), fullName: displayName(p.Repo, 0)}
		ui.repos[p.Repo] = rp
	}
	if rp.end || p.Phase == scanner.PhaseQueued {
		return // a repository ends once; queued ones are not shown
	}
	if rp.n == 0 {
		ui.started++
		rp.n, rp.since = ui.started, now
		ui.order = append(ui.order, rp)
		if w := int64(utf8.RuneCountInString(rp.name)); w > ui.nameWidth.Load() {
			ui.nameWidth.Store(w)
		}
	}
	if p.Phase != rp.phase {
		rp.phase, rp.phaseSince = p.Phase, now
	}
	if p.Stats != (scanner.Stats{}) {
		rp.stats = p.Stats
	}
	switch p.Phase {
	case scanner.PhaseDone:
		rp.end = true
		ui.done++
	case scanner.PhaseFailed:
		rp.end = true
		ui.failed++
	default:
		rp.working = p.Phase
	}
	if p.CommitsTotal > 0 {
		if rp.etaFrom.IsZero() {
			rp.etaFrom, rp.etaDone = now, p.CommitsDone
		}
		rp.done, rp.total = p.CommitsDone, p.CommitsTotal
		if d := rp.done - rp.etaDone; d > 0 {
			rp.eta = time.Duration(float64(now.Sub(rp.etaFrom)) * float64(rp.total-rp.done) / float64(d))
		}
	}
	rp.view.Store(rp.makeView(now))
	t := ui.totalsLine()
	ui.totals.Store(&t)
	if ui.p == nil {
		return
	}
	if rp.bar == nil {
		ui.addBar(rp)
	} else if rp.end {
		endBar(rp)
	}
}

// warn prints a warning above the bars, unless quiet.
func (ui *progressUI) warn(err error) {
	if ui.quiet {
		return
	}
	line := "keywarden: warning: " + scrub(strings.ReplaceAll(err.Error(), "\n", " ")) + "\n"
	ui.mu.Lock()
	defer ui.mu.Unlock()
	if ui.p != nil {
		if _, err := ui.p.Write([]byte(line)); err == nil {
			return
		}
	}
	io.WriteString(ui.w, line)
}

// finish ends the display: finished repositories keep their line, running ones (a run that
// stopped early) lose their bar. It returns once everything is drawn, and may be called again.
func (ui *progressUI) finish() {
	ui.mu.Lock()
	if ui.finished {
		ui.mu.Unlock()
		return
	}
	ui.finished = true
	close(ui.stop)
	ui.mu.Unlock()
	ui.wg.Wait() // appear and tick take the lock: not held here

	ui.mu.Lock()
	defer ui.mu.Unlock()
	if ui.p == nil {
		return
	}
	for _, rp := range ui.order {
		if !rp.end {
			rp.bar.Abort(true)
		}
	}
	if ui.totalBar != nil {
		t := ui.totalsLine() + " in " + formatDuration(ui.now().Sub(ui.start))
		ui.totals.Store(&t)
		ui.ended.Store(true)
		ui.totalBar.SetTotal(-1, true)
	}
	ui.p.Wait()
	ui.p = nil
}

// addBar adds rp's bar to the display; called with ui.mu held once the display is up.
func (ui *progressUI) addBar(rp *repoProgress) {
	head := decor.Any(func(decor.Statistics) string {
		v := rp.view.Load()
		if v.final != "" {
			return v.final
		}
		// Two spaces stand where a finished line has its mark.
		return "  " + padRight(v.name, int(ui.nameWidth.Load())) + "  " + padRight(v.phase, phaseWidth)
	})
	info := decor.Any(func(decor.Statistics) string {
		v := rp.view.Load()
		switch {
		case v.final != "":
			return ""
		case v.info == "":
			return formatDuration(ui.now().Sub(v.since)) // a clone, fetch or walk: a live clock
		}
		return v.info
	})
	filler := mpb.BarFillerMiddleware(func(base mpb.BarFiller) mpb.BarFiller {
		return mpb.BarFillerFunc(func(w io.Writer, st decor.Statistics) error {
			v := rp.view.Load()
			switch {
			case v.final != "":
				return nil
			case v.frac < 0:
				_, err := io.WriteString(w, strings.Repeat(" ", min(progressBarWidth, st.AvailableWidth)))
				return err
			}
			// The bar shows commits done; mpb's own counters only mark the bar finished.
			st.Total, st.Current = 1000, int64(v.frac*1000)
			return base.Fill(w, st)
		})
	})
	rp.bar = ui.p.New(0, mpb.BarStyle(), mpb.BarWidth(progressBarWidth), filler,
		mpb.PrependDecorators(head), mpb.AppendDecorators(info))
	if rp.end {
		endBar(rp)
	}
}

// endBar completes a bar; PopCompletedMode then prints its final line above the running ones.
func endBar(rp *repoProgress) {
	if rp.phase == scanner.PhaseFailed {
		rp.bar.Abort(false)
		return
	}
	rp.bar.SetTotal(-1, true)
}

// makeView snapshots rp for its bar.
func (rp *repoProgress) makeView(now time.Time) *repoView {
	v := &repoView{name: rp.name, phase: rp.phase, since: rp.phaseSince, frac: -1}
	switch rp.phase {
	case scanner.PhaseDone:
		v.final = fmt.Sprintf("✓ %s  %s blobs  %s  %s", rp.name, commas(rp.stats.Blobs), formatMiB(rp.stats.Bytes), formatDuration(now.Sub(rp.since)))
		return v
	case scanner.PhaseFailed:
		v.final = "✗ " + rp.name + "  failed"
		if rp.working != "" {
			v.final += ": " + rp.working
		}
		return v
	case scanner.PhaseScan:
	default:
		return v
	}
	var parts []string
	if rp.total > 0 {
		v.frac = float64(rp.done) / float64(rp.total)
		parts = append(parts, fmt.Sprintf("%3.0f%%", 100*v.frac))
	}
	s := rp.stats
	if sec := s.Duration.Seconds(); sec > 0 {
		parts = append(parts,
			fmt.Sprintf("%s blobs %s/s", commas(s.Blobs), commas(int64(float64(s.Blobs)/sec))),
			fmt.Sprintf("%s %s/s", formatMiB(s.Bytes), formatMiB(int64(float64(s.Bytes)/sec))))
	} else {
		parts = append(parts, commas(s.Blobs)+" blobs", formatMiB(s.Bytes))
	}
	if rp.eta > 0 {
		parts = append(parts, "ETA "+formatDuration(rp.eta))
	}
	v.info = strings.Join(parts, "  ")
	return v
}

// totalsLine is the audit's totals, for the bar; called with ui.mu held.
func (ui *progressUI) totalsLine() string {
	running := ui.started - ui.done - ui.failed
	return fmt.Sprintf("repos: %d done, %d failed, %d running of %d", ui.done, ui.failed, running, ui.total)
}

// statusLines is what a log gets every interval: a line per running repository, and the
// audit's totals. Called with ui.mu held.
func (ui *progressUI) statusLines(now time.Time) []string {
	var out []string
	verbs := map[string]string{
		scanner.PhaseClone: "cloning", scanner.PhaseFetch: "fetching",
		scanner.PhaseEnumerate: "enumerating", scanner.PhaseScan: "scanning",
	}
	for _, rp := range ui.order {
		if rp.end {
			continue
		}
		verb := verbs[rp.phase]
		if verb == "" {
			verb = rp.phase
		}
		subject := rp.fullName
		if ui.total > 1 {
			subject = fmt.Sprintf("repo %d/%d (%s)", rp.n, ui.total, rp.fullName)
		}
		if rp.phase != scanner.PhaseScan {
			out = append(out, fmt.Sprintf("keywarden: %s %s for %s", verb, subject, formatDuration(now.Sub(rp.phaseSince))))
			continue
		}
		s := rp.stats
		line := fmt.Sprintf("keywarden: %s %s: %s blobs, %s", verb, subject, commas(s.Blobs), formatMiB(s.Bytes))
		if sec := s.Duration.Seconds(); sec > 0 {
			line += ", " + formatMiB(int64(float64(s.Bytes)/sec)) + "/s"
		}
		if rp.total > 0 {
			line += fmt.Sprintf(", commit %s of %s (%.0f%%)", commas(rp.done), commas(rp.total), 100*float64(rp.done)/float64(rp.total))
		}
		if rp.eta > 0 {
			line += ", ETA " + formatDuration(rp.eta)
		}
		out = append(out, line)
	}
	if ui.total > 1 {
		out = append(out, "keywarden: "+ui.totalsLine())
	}
	return out
}

// displayName shortens a repository for display: no scheme, user or .git, and at most max
// characters when max > 0 (the end, which names the repository, is kept).
func displayName(repo string, max int) string {
	name := repo
	if _, rest, ok := strings.Cut(name, "://"); ok {
		name = rest
	}
	if host, _, _ := strings.Cut(name, "/"); strings.Contains(host, "@") {
		name = name[strings.LastIndex(host, "@")+1:]
	}
	name = strings.TrimSuffix(strings.TrimSuffix(name, "/"), ".git")
	if name == "" {
		name = "-"
	}
	if n := utf8.RuneCountInString(name); max > 0 && n > max {
		r := []rune(name)
		name = "…" + string(r[n-max+1:])
	}
	return name
}

func padRight(s string, w int) string {
	if n := utf8.RuneCountInString(s); n < w {
		return s + strings.Repeat(" ", w-n)
	}
	return s
}

// commas formats n with thousands separators: 40,000.
func commas(n int64) string {
	if n < 0 {
		return "-" + commas(-n)
	}
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// formatMiB formats a byte count in MiB, with a decimal below 10.
func formatMiB(b int64) string {
	m := float64(b) / (1 << 20)
	if m >= 9.95 {
		return fmt.Sprintf("%.0f MiB", m)
	}
	return fmt.Sprintf("%.1f MiB", m)
}

// formatDuration formats d as 2.1s, 35s, 4m05s or 1h02m.
func formatDuration(d time.Duration) string {
	switch {
	case d < 0:
		d = 0
	case d >= time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	case d >= time.Minute:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	if d < 10*time.Second {
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return fmt.Sprintf("%ds", int(d.Seconds()))
}
