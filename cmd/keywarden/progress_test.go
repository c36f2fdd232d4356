package main

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/report"
	"github.com/keywarden/keywarden/scanner"
	"github.com/keywarden/keywarden/scanner/gittest"
)

// lockedBuffer is a bytes.Buffer that a display's goroutines and the test may share.
type lockedBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes++
	return l.b.Write(p)
}

// waitWrites waits until n more writes have reached the buffer: a display redraws on its own
// ticker, and a loaded CI machine may take far longer than the tick between two redraws.
func (l *lockedBuffer) waitWrites(t *testing.T, n int) {
	l.mu.Lock()
	want := l.writes + n
	l.mu.Unlock()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		l.mu.Lock()
		done := l.writes >= want
		l.mu.Unlock()
		if done {
			return
		}
	}
	t.Errorf("the display did not redraw %d times in 10s", n)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// setProgressVar changes one of the display's timings for the test.
func setProgressVar(t *testing.T, v *time.Duration, d time.Duration) {
	old := *v
	*v = d
	t.Cleanup(func() { *v = old })
}

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var ansi = regexp.MustCompile(`\x1b\[[0-9;]*[A-Za-z]`)

// plainLines is what a terminal would have shown, line by line: escapes removed.
func plainLines(s string) []string {
	var out []string
	for _, l := range strings.Split(ansi.ReplaceAllString(s, "\n"), "\n") {
		if l = strings.TrimRight(l, " "); l != "" {
			out = append(out, l)
		}
	}
	return out
}

const mib = 1 << 20

func TestProgressStatusLines(t *testing.T) {
	type step struct {
		after time.Duration // on the clock, before the event
		p     scanner.Progress
	}
	scan := func(repo string, blobs, bytes int64, dur time.Duration, done, total int64) scanner.Progress {
		return scanner.Progress{Repo: repo, Phase: scanner.PhaseScan, Stats: scanner.Stats{Blobs: blobs, Bytes: bytes, Duration: dur}, CommitsDone: done, CommitsTotal: total}
	}
	tests := []struct {
		name  string
		total int
		steps []step
		end   time.Duration // clock moves on before the lines are asked for
		want  []string
	}{
		{
			name:  "scan walking history",
			total: 1,
			steps: []step{{0, scanner.Progress{Repo: "/src/app", Phase: scanner.PhaseEnumerate}}},
			end:   3 * time.Second,
			want:  []string{"keywarden: enumerating /src/app for 3.0s"},
		},
		{
			name:  "scan with an ETA",
			total: 1,
			steps: []step{
				{0, scanner.Progress{Repo: "/src/app", Phase: scanner.PhaseEnumerate}},
				{3 * time.Second, scan("/src/app", 100, mib, time.Second, 0, 5000)},
				{2 * time.Second, scan("/src/app", 40000, 120*mib, 4*time.Second, 1000, 5000)},
			},
			want: []string{"keywarden: scanning /src/app: 40,000 blobs, 120 MiB, 30 MiB/s, commit 1,000 of 5,000 (20%), ETA 8.0s"},
		},
		{
			name:  "directory scan",
			total: 1,
			steps: []step{{0, scan("site", 1234, 5*mib/2, 2*time.Second, 0, 0)}},
			want:  []string{"keywarden: scanning site: 1,234 blobs, 2.5 MiB, 1.2 MiB/s"},
		},
		{
			name:  "audit",
			total: 12,
			steps: []step{
				{0, scanner.Progress{Repo: "https://github.com/org/a.git", Phase: scanner.PhaseQueued}},
				{0, scanner.Progress{Repo: "https://github.com/org/b.git", Phase: scanner.PhaseQueued}},
				{0, scanner.Progress{Repo: "https://github.com/org/b.git", Phase: scanner.PhaseClone}},
				{0, scanner.Progress{Repo: "https://***@github.com/org/c.git", Phase: scanner.PhaseClone}},
				{0, scanner.Progress{Repo: "/srv/d", Phase: scanner.PhaseEnumerate}},
				{time.Second, scanner.Progress{Repo: "https://github.com/org/a.git", Phase: scanner.PhaseFetch}},
				{time.Second, scanner.Progress{Repo: "https://***@github.com/org/c.git", Phase: scanner.PhaseFailed}},
				{0, scan("/srv/d", 10, mib, 2*time.Second, 3, 4)},
				{0, scanner.Progress{Repo: "/srv/d", Phase: scanner.PhaseDone, Stats: scanner.Stats{Blobs: 12}}},
				{0, scan("https://github.com/org/b.git", 40000, 120*mib, 4*time.Second, 0, 0)},
			},
			end: 5 * time.Second,
			want: []string{
				"keywarden: scanning repo 1/12 (github.com/org/b): 40,000 blobs, 120 MiB, 30 MiB/s",
				"keywarden: fetching repo 4/12 (github.com/org/a) for 6.0s",
				"keywarden: repos: 1 done, 1 failed, 2 running of 12",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
			var out lockedBuffer
			ui := newProgressUI(&out, progressLines, false, tt.total, clock.now)
			defer ui.finish()
			for _, s := range tt.steps {
				clock.advance(s.after)
				ui.event(s.p)
			}
			clock.advance(tt.end)
			ui.mu.Lock()
			got := ui.statusLines(clock.now())
			ui.mu.Unlock()
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("status lines (-want +got):\n%s", diff)
			}
		})
	}
}

func TestProgressLinesEveryInterval(t *testing.T) {
	setProgressVar(t, &progressInterval, 10*time.Millisecond)
	var out lockedBuffer
	ui := newProgress(&out, false, false, 3)
	ui.event(scanner.Progress{Repo: "org/a", Phase: scanner.PhaseScan, Stats: scanner.Stats{Blobs: 7, Bytes: mib, Duration: time.Second}})
	const want = "keywarden: scanning repo 1/3 (org/a): 7 blobs, 1.0 MiB, 1.0 MiB/s\nkeywarden: repos: 0 done, 0 failed, 1 running of 3\n"
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), want) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	ui.warn(errors.New("one\nwarning"))
	ui.finish()
	got := out.String()
	if !strings.Contains(got, want) {
		t.Fatalf("no status lines after 5s; stderr:\n%s", got)
	}
	if !strings.HasSuffix(got, "keywarden: warning: one warning\n") {
		t.Errorf("stderr does not end with the warning:\n%s", got)
	}
	time.Sleep(30 * time.Millisecond)
	if after := out.String(); after != got {
		t.Errorf("lines printed after finish:\n%s", strings.TrimPrefix(after, got))
	}
}

func TestProgressOff(t *testing.T) {
	setProgressVar(t, &progressInterval, time.Millisecond)
	setProgressVar(t, &progressDelay, 0)
	tests := []struct {
		name              string
		quiet, noProgress bool
		want              string
	}{
		{name: "quiet", quiet: true, want: ""},
		{name: "no progress", noProgress: true, want: "keywarden: warning: disk full\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out lockedBuffer
			ui := newProgress(&out, tt.quiet, tt.noProgress, 2)
			if ui.mode != progressOff {
				t.Fatalf("mode = %d, want off", ui.mode)
			}
			ui.event(scanner.Progress{Repo: "org/a", Phase: scanner.PhaseScan, Stats: scanner.Stats{Blobs: 7}})
			time.Sleep(20 * time.Millisecond)
			ui.warn(errors.New("disk full"))
			ui.event(scanner.Progress{Repo: "org/a", Phase: scanner.PhaseDone})
			ui.finish()
			if got := out.String(); got != tt.want {
				t.Errorf("stderr = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestProgressModeFor(t *testing.T) {
	tests := []struct {
		name              string
		quiet, noProgress bool
		want              progressMode
	}{
		{"not a terminal", false, false, progressLines},
		{"quiet", true, false, progressOff},
		{"no progress", false, true, progressOff},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := progressModeFor(&bytes.Buffer{}, tt.quiet, tt.noProgress); got != tt.want {
				t.Errorf("progressModeFor = %d, want %d", got, tt.want)
			}
		})
	}
}

// TestProgressBars renders through mpb into a buffer, as on a terminal 100 columns wide.
func TestProgressBars(t *testing.T) {
	setProgressVar(t, &progressRefresh, 5*time.Millisecond)
	tests := []struct {
		name  string
		delay time.Duration
		total int
		run   func(ui *progressUI, hold func()) // hold waits for several redraws
		want  []string                          // lines the terminal showed at some point (escapes removed), in order
		lines []string                          // whole lines, anywhere
	}{
		{
			name:  "audit",
			total: 3,
			run: func(ui *progressUI, hold func()) {
				var wg sync.WaitGroup
				for _, r := range []string{"org/alpha", "org/bravo", "org/charlie"} {
					ui.event(scanner.Progress{Repo: r, Phase: scanner.PhaseQueued})
				}
				wg.Add(3)
				go func() {
					defer wg.Done()
					r := "org/alpha"
					ui.event(scanner.Progress{Repo: r, Phase: scanner.PhaseClone})
					hold()
					ui.event(scanner.Progress{Repo: r, Phase: scanner.PhaseEnumerate})
					hold()
					ui.event(scanner.Progress{Repo: r, Phase: scanner.PhaseScan, CommitsTotal: 100})
					time.Sleep(20 * time.Millisecond)
					ui.event(scanner.Progress{Repo: r, Phase: scanner.PhaseScan, Stats: scanner.Stats{Blobs: 1000, Bytes: 3 * mib, Duration: time.Second}, CommitsDone: 50, CommitsTotal: 100})
					ui.warn(errors.New("org/alpha: 2 objects missing"))
					hold()
					ui.event(scanner.Progress{Repo: r, Phase: scanner.PhaseDone, Stats: scanner.Stats{Blobs: 1234, Bytes: 3565158}})
				}()
				go func() {
					defer wg.Done()
					r := "org/bravo"
					ui.event(scanner.Progress{Repo: r, Phase: scanner.PhaseClone})
					hold()
					ui.event(scanner.Progress{Repo: r, Phase: scanner.PhaseFailed})
				}()
				go func() {
					defer wg.Done()
					r := "org/charlie"
					ui.event(scanner.Progress{Repo: r, Phase: scanner.PhaseFetch})
					hold()
					ui.event(scanner.Progress{Repo: r, Phase: scanner.PhaseScan, Stats: scanner.Stats{Blobs: 10, Bytes: mib, Duration: time.Second}})
					hold()
					ui.event(scanner.Progress{Repo: r, Phase: scanner.PhaseDone, Stats: scanner.Stats{Blobs: 10, Bytes: mib}})
				}()
				wg.Wait()
			},
			want: []string{
				`^  org/alpha    clone\b`,
				`^  org/alpha    enumerate\b`,
				`^  org/alpha    scan\s+\[=+>-+\]\s+50%\s+1,000 blobs 1,000/s\s+3\.0 MiB 3\.0 MiB/s\s+ETA \d`,
				`^✓ org/alpha  1,234 blobs  3\.4 MiB  \d+\.\ds$`,
				`^repos: 2 done, 1 failed, 0 running of 3 in \d`,
			},
			lines: []string{
				`^  org/bravo    clone\b`,
				`^  org/charlie  fetch\b`,
				`^  org/charlie  scan\s+10 blobs 10/s\s+1\.0 MiB 1\.0 MiB/s$`,
				`^✗ org/bravo  failed: clone$`,
				`^✓ org/charlie  10 blobs  1\.0 MiB  \d+\.\ds$`,
				`^repos: 0 done, 0 failed, 3 running of 3  \d`,
				`^keywarden: warning: org/alpha: 2 objects missing$`,
			},
		},
		{
			name:  "scan",
			total: 1,
			run: func(ui *progressUI, hold func()) {
				ui.event(scanner.Progress{Repo: "/src/app", Phase: scanner.PhaseEnumerate})
				hold()
				ui.event(scanner.Progress{Repo: "/src/app", Phase: scanner.PhaseFailed})
			},
			want: []string{`^  /src/app  enumerate\s+\d+\.\ds$`, `^✗ /src/app  failed: enumerate$`},
		},
		{
			name:  "quick run draws nothing",
			delay: time.Hour,
			total: 1,
			run: func(ui *progressUI, hold func()) {
				ui.event(scanner.Progress{Repo: "/src/app", Phase: scanner.PhaseEnumerate})
				ui.event(scanner.Progress{Repo: "/src/app", Phase: scanner.PhaseDone, Stats: scanner.Stats{Blobs: 3}})
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setProgressVar(t, &progressDelay, tt.delay)
			var out lockedBuffer
			ui := newProgressUI(&out, progressBars, false, tt.total, time.Now)
			if tt.delay == 0 {
				waitDisplay(t, ui)
			}
			tt.run(ui, func() { out.waitWrites(t, 6) })
			ui.finish()
			got := plainLines(out.String())
			if len(tt.want)+len(tt.lines) == 0 && len(got) > 0 {
				t.Errorf("drew %q, want nothing", got)
			}
			i := 0
			for _, w := range tt.want {
				re := regexp.MustCompile(w)
				for i < len(got) && !re.MatchString(got[i]) {
					i++
				}
				if i == len(got) {
					t.Errorf("no line matching %q (in order) in:\n%s", w, strings.Join(got, "\n"))
					i = 0
				}
			}
			for _, w := range tt.lines {
				re := regexp.MustCompile(w)
				if !matchAny(re, got) {
					t.Errorf("no line matching %q in:\n%s", w, strings.Join(got, "\n"))
				}
			}
		})
	}
}

// waitDisplay waits until the bars are up, so that every phase is drawn.
func waitDisplay(t *testing.T, ui *progressUI) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		ui.mu.Lock()
		up := ui.p != nil
		ui.mu.Unlock()
		if up {
			return
		}
	}
	t.Fatal("the display did not appear")
}

func matchAny(re *regexp.Regexp, lines []string) bool {
	for _, l := range lines {
		if re.MatchString(l) {
			return true
		}
	}
	return false
}

// TestProgressConcurrentEvents drives the bars from many goroutines at once, as an audit does;
// run it with -race.
func TestProgressConcurrentEvents(t *testing.T) {
	setProgressVar(t, &progressRefresh, 2*time.Millisecond)
	for _, mode := range []progressMode{progressBars, progressLines} {
		t.Run(fmt.Sprint(mode), func(t *testing.T) {
			setProgressVar(t, &progressDelay, 0)
			setProgressVar(t, &progressInterval, time.Millisecond)
			const repos = 8
			var out lockedBuffer
			ui := newProgressUI(&out, mode, false, repos, time.Now)
			var wg sync.WaitGroup
			for i := range repos {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := fmt.Sprintf("org/svc-%d", i)
					ui.event(scanner.Progress{Repo: r, Phase: scanner.PhaseClone})
					for n := range int64(200) {
						ui.event(scanner.Progress{Repo: r, Phase: scanner.PhaseScan, Stats: scanner.Stats{Blobs: n, Bytes: n * 1000, Duration: time.Millisecond * time.Duration(n+1)}, CommitsDone: n, CommitsTotal: 200})
						if n%50 == 0 {
							ui.warn(fmt.Errorf("%s: warning %d", r, n))
						}
						time.Sleep(100 * time.Microsecond)
					}
					phase := scanner.PhaseDone
					if i%4 == 3 {
						phase = scanner.PhaseFailed
					}
					ui.event(scanner.Progress{Repo: r, Phase: phase, Stats: scanner.Stats{Blobs: 200}})
				}()
			}
			wg.Wait()
			ui.finish()
			ui.event(scanner.Progress{Repo: "late", Phase: scanner.PhaseScan}) // dropped, no panic
			got := plainLines(out.String())
			warnings := 0
			for _, l := range got {
				if strings.HasPrefix(l, "keywarden: warning: org/svc-") {
					warnings++
				}
			}
			if warnings != repos*4 {
				t.Errorf("%d warning lines, want %d", warnings, repos*4)
			}
			if mode != progressBars {
				return
			}
			for i := range repos {
				want := fmt.Sprintf(`^✓ org/svc-%d  200 blobs`, i)
				if i%4 == 3 {
					want = fmt.Sprintf(`^✗ org/svc-%d  failed: scan$`, i)
				}
				if !matchAny(regexp.MustCompile(want), got) {
					t.Errorf("no line matching %q", want)
				}
			}
			if !matchAny(regexp.MustCompile(`^repos: 6 done, 2 failed, 0 running of 8 in `), got) {
				t.Errorf("no final totals line in:\n%s", strings.Join(got[max(0, len(got)-20):], "\n"))
			}
		})
	}
}

// TestScanPrintsProgressLines runs a scan whose stderr is not a terminal (a CI log).
func TestScanPrintsProgressLines(t *testing.T) {
	setProgressVar(t, &progressInterval, time.Millisecond)
	r := gittest.New(t)
	for i := range 20 {
		r.Commit(map[string]string{fmt.Sprintf("pkg/f%d.go", i%5): fmt.Sprintf("package pkg\n\nconst v = %d\n", i)}, "commit")
	}
	line := regexp.MustCompile(`(?m)^keywarden: (enumerating|scanning) ` + regexp.QuoteMeta(r.Path()) + `\b`)
	tests := []struct {
		name      string
		flags     []string
		wantLines bool
	}{
		{"default", nil, true},
		{"quiet", []string{"--quiet"}, false},
		{"no progress", []string{"--no-progress"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := keywarden(t, append([]string{"scan", "git", r.Path(), "--format", "json"}, tt.flags...)...)
			if res.code != 0 {
				t.Fatalf("exit code %d; stderr:\n%s", res.code, res.stderr)
			}
			if got := line.MatchString(res.stderr); got != tt.wantLines {
				t.Errorf("progress lines on stderr = %v, want %v; stderr:\n%s", got, tt.wantLines, res.stderr)
			}
			rep, err := report.ReadJSON(strings.NewReader(res.stdout))
			if err != nil {
				t.Fatalf("stdout is not a JSON report: %v\n%s", err, res.stdout)
			}
			if rep.Stats.Commits != 20 {
				t.Errorf("report has %d commits, want 20", rep.Stats.Commits)
			}
		})
	}
}
