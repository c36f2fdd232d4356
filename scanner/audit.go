package scanner

import (
	"bufio"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/keywarden/keywarden/rules"
	"github.com/keywarden/keywarden/rules/keys"
)

// RepoStatus is one repository of a multi-repo audit: what its scan did, or why it failed.
type RepoStatus struct {
	Repo       string `json:"repo"`             // as listed, credentials removed
	Status     string `json:"status"`           // "ok" or "failed"
	Phase      string `json:"phase,omitempty"`  // where a failed repo stopped: clone, fetch, open, scan
	Error      string `json:"error,omitempty"`  // one line, credentials removed
	Cached     bool   `json:"cached,omitempty"` // updated by fetch, not cloned
	Blobs      int64  `json:"blobs"`
	Bytes      int64  `json:"bytes"`
	Commits    int64  `json:"commits"`
	Findings   int    `json:"findings"`
	DurationMS int64  `json:"duration_ms"`
}

// Repo status values.
const (
	RepoOK     = "ok"
	RepoFailed = "failed"
)

// Phases a scan or an audited repository goes through, for progress displays.
const (
	PhaseQueued    = "queued"
	PhaseClone     = "clone"     // cloning into the audit's cache
	PhaseFetch     = "fetch"     // updating a cached mirror
	PhaseEnumerate = "enumerate" // walking history or listing files
	PhaseScan      = "scan"      // reading and detecting
	PhaseDone      = "done"
	PhaseFailed    = "failed"
)

// Progress is a progress event: where a scan is and what it has done. Repo is set in audits.
type Progress struct {
	Repo  string
	Phase string
	Stats Stats
	// CommitsDone of CommitsTotal have had their blobs read, when the source knows (git):
	// the basis of an ETA. Zero totals mean unknown.
	CommitsDone, CommitsTotal int64
}

// AuditSalt keys an audit's fingerprints when KEYWARDEN_FINGERPRINT_SALT is unset. A per-repo
// salt would give the same secret a different fingerprint in every repository, and finding
// that reuse is the point of an audit; shards of one audit must share the salt to merge.
const AuditSalt = "keywarden-audit-v1"

// AuditOptions configures Audit.
type AuditOptions struct {
	// Repos are the repositories to scan: URLs, or paths of local repositories (scanned in
	// place), as ParseRepoList returns them.
	Repos []string
	// CacheDir holds one bare mirror per URL, reused and fetched on later runs; "" clones into
	// a temp dir that is removed afterwards.
	CacheDir string
	// Jobs is how many repositories are cloned and scanned at once (0 = DefaultAuditJobs).
	Jobs int
	// Scan is the template of each repository's scan: Kind, Target, Salt and the callbacks are
	// set per repository.
	Scan ScanOptions
	// OnProgress receives progress events, Repo set; it may be called from several goroutines
	// at once.
	OnProgress func(Progress)
	// Warn receives non-fatal problems, prefixed with the repository; it may be called from
	// several goroutines at once.
	Warn func(error)
}

// DefaultAuditJobs is the default number of repositories an audit works on at once: clones wait
// on the network, so more than one keeps the CPUs busy.
const DefaultAuditJobs = 4

// AuditOutput is a finished audit: findings merged across repositories by fingerprint, stats
// summed, and every repository's status in list order.
type AuditOutput struct {
	*Result
	Repos []RepoStatus
	Rules *rules.Ruleset // the rules the scans ran; nil when no repository got that far
	// ConfigFile is the config the scans used ("" for the built-in rules).
	ConfigFile string
}

// Failed returns the repositories that failed.
func (a *AuditOutput) Failed() []RepoStatus {
	var out []RepoStatus
	for _, r := range a.Repos {
		if r.Status == RepoFailed {
			out = append(out, r)
		}
	}
	return out
}

// Audit scans every repository of o.Repos, Jobs at a time, and merges the results. A repository
// that cannot be cloned, opened or scanned is recorded as failed and the audit goes on; the
// error is non-nil only when ctx is cancelled (with everything found so far) or the rules
// cannot be loaded.
func Audit(ctx context.Context, o AuditOptions) (*AuditOutput, error) {
	start := time.Now()
	jobs := o.Jobs
	if jobs <= 0 {
		jobs = DefaultAuditJobs
	}
	jobs = min(jobs, max(len(o.Repos), 1))
	cache := o.CacheDir
	if cache == "" {
		tmp, err := os.MkdirTemp("", "keywarden-audit-")
		if err != nil {
			return nil, fmt.Errorf("creating a clone directory: %w", err)
		}
		defer os.RemoveAll(tmp)
		cache = tmp
	} else if err := os.MkdirAll(cache, 0o700); err != nil {
		return nil, fmt.Errorf("creating cache dir %q: %w", o.CacheDir, errors.Unwrap(err))
	}
	// The rules are loaded once up front: a bad config is one error, not one per repository.
	if _, _, err := loadRules(o.Scan.ConfigPath, ""); err != nil {
		return nil, err
	}
	progress := o.OnProgress
	if progress == nil {
		progress = func(Progress) {}
	}
	workers := o.Scan.Workers
	if workers <= 0 {
		// Repositories are scanned side by side; each gets its share of the CPUs.
		workers = max(1, runtime.NumCPU()/jobs)
	}
	salt := os.Getenv(SaltEnv)
	if salt == "" {
		salt = AuditSalt
	}

	outs := make([]*ScanOutput, len(o.Repos))
	statuses := make([]RepoStatus, len(o.Repos))
	for i, r := range o.Repos {
		statuses[i] = RepoStatus{Repo: RedactURL(r), Status: RepoFailed, Phase: PhaseQueued, Error: "not scanned: the audit was interrupted"}
		progress(Progress{Repo: statuses[i].Repo, Phase: PhaseQueued})
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				outs[i], statuses[i] = auditRepo(ctx, o, cache, o.Repos[i], salt, workers, progress)
			}
		}()
	}
feed:
	for i := range o.Repos {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()

	out := &AuditOutput{Result: &Result{}, Repos: statuses}
	for i, so := range outs {
		if so == nil {
			continue
		}
		if out.Rules == nil {
			out.Rules, out.ConfigFile = so.Rules, so.ConfigFile
		}
		name := statuses[i].Repo
		for j := range so.Findings {
			for k := range so.Findings[j].Locations {
				so.Findings[j].Locations[k].Repo = name
			}
		}
		out.Findings = append(out.Findings, so.Findings...)
		for _, s := range so.Skipped {
			s.Path = name + ": " + s.Path
			out.Skipped = append(out.Skipped, s)
		}
		out.Stats.Blobs += so.Stats.Blobs
		out.Stats.Bytes += so.Stats.Bytes
		out.Stats.ScannedBytes += so.Stats.ScannedBytes
		out.Stats.Skipped += so.Stats.Skipped
		out.Stats.Commits += so.Stats.Commits
	}
	out.Findings = mergeFindings(out.Findings, true)
	out.Stats.Duration = time.Since(start)
	return out, ctx.Err()
}

// auditRepo mirrors (or opens) one repository and scans it.
func auditRepo(ctx context.Context, o AuditOptions, cache, repo, salt string, workers int, progress func(Progress)) (*ScanOutput, RepoStatus) {
	start := time.Now()
	st := RepoStatus{Repo: RedactURL(repo), Status: RepoFailed}
	fail := func(phase string, err error) (*ScanOutput, RepoStatus) {
		st.Phase, st.Error = phase, oneLine(scrubURL(err, repo).Error())
		st.DurationMS = time.Since(start).Milliseconds()
		progress(Progress{Repo: st.Repo, Phase: PhaseFailed})
		return nil, st
	}
	if err := ctx.Err(); err != nil {
		return fail(PhaseQueued, err)
	}
	target := repo
	if isRemote(repo) {
		dir := filepath.Join(cache, MirrorName(repo))
		unlock, err := lockMirror(ctx, dir)
		if err != nil {
			return fail(PhaseClone, err)
		}
		defer unlock()
		phase := PhaseClone
		if _, err := os.Stat(dir); err == nil {
			phase = PhaseFetch
		}
		progress(Progress{Repo: st.Repo, Phase: phase})
		fetched, err := Mirror(ctx, repo, dir)
		if err != nil {
			return fail(phase, err)
		}
		st.Cached, target = fetched, dir
	}
	so := o.Scan
	so.Kind, so.Target, so.Salt, so.Workers, so.AuditorRulesOnly = "git", target, salt, workers, true
	so.Progress = nil
	if o.Warn != nil {
		so.Warn = func(err error) { o.Warn(fmt.Errorf("%s: %w", st.Repo, err)) }
	}
	if o.OnProgress != nil {
		so.OnProgress = func(p Progress) {
			p.Repo = st.Repo
			progress(p)
		}
	} else {
		progress(Progress{Repo: st.Repo, Phase: PhaseScan})
	}
	out, err := Scan(ctx, so)
	st.DurationMS = time.Since(start).Milliseconds()
	if out != nil {
		st.Blobs, st.Bytes, st.Commits, st.Findings = out.Stats.Blobs, out.Stats.Bytes, out.Stats.Commits, len(out.Findings)
	}
	if err != nil {
		phase := PhaseScan
		if out == nil {
			phase = "open"
		}
		_, st = fail(phase, err)
		return out, st // what a broken repository did yield is kept
	}
	st.Status, st.Phase, st.Error = RepoOK, "", ""
	progress(Progress{Repo: st.Repo, Phase: PhaseDone, Stats: out.Stats})
	return out, st
}

// MergeFindings merges findings with the same fingerprint into one with every location, the
// worst severity and the union of weaknesses, and orders the result most severe first.
func MergeFindings(findings []Finding) []Finding { return mergeFindings(findings, false) }

// mergeFindings is MergeFindings; with raw secrets at hand, sharedPrimes recomputes the
// shared-prime weakness over the merged set, so that keys from different repositories are
// compared.
func mergeFindings(findings []Finding, sharedPrimes bool) []Finding {
	byFP := map[string]int{}
	var out []Finding
	for _, f := range findings {
		i, ok := byFP[f.Fingerprint]
		if !ok || f.Fingerprint == "" {
			byFP[f.Fingerprint] = len(out)
			f.Locations = slices.Clone(f.Locations)
			out = append(out, f)
			continue
		}
		m := &out[i]
		for _, l := range f.Locations {
			if !slices.Contains(m.Locations, l) {
				m.Locations = append(m.Locations, l)
			}
		}
		if severityRank[f.Severity] < severityRank[m.Severity] {
			m.Severity = f.Severity
		}
		for _, w := range f.Weaknesses {
			if !slices.ContainsFunc(m.Weaknesses, func(x keys.Weakness) bool { return x.ID == w.ID }) {
				m.Weaknesses = append(m.Weaknesses, w)
			}
		}
		if m.Exposure == nil {
			m.Exposure = f.Exposure
		}
	}
	if sharedPrimes {
		markSharedPrimes(out, "audit")
	}
	for i := range out {
		escalate(&out[i])
		sort.SliceStable(out[i].Locations, func(a, b int) bool { return locationBefore(out[i].Locations[a], out[i].Locations[b]) })
	}
	sort.SliceStable(out, func(a, b int) bool {
		if ra, rb := severityRank[out[a].Severity], severityRank[out[b].Severity]; ra != rb {
			return ra < rb
		}
		if out[a].RuleID != out[b].RuleID {
			return out[a].RuleID < out[b].RuleID
		}
		return locationBefore(first(out[a].Locations), first(out[b].Locations))
	})
	return out
}

// locationBefore orders locations by repository, then the date they were introduced, then path
// and line, so a finding's first location is where it first appeared.
func locationBefore(a, b Location) bool {
	if a.Repo != b.Repo {
		return a.Repo < b.Repo
	}
	if !a.Date.Equal(b.Date) {
		if a.Date.IsZero() || b.Date.IsZero() {
			return !a.Date.IsZero()
		}
		return a.Date.Before(b.Date)
	}
	if a.Path != b.Path {
		return a.Path < b.Path
	}
	return a.Line < b.Line
}

func first(ls []Location) Location {
	if len(ls) == 0 {
		return Location{}
	}
	return ls[0]
}

// oneLine keeps an error message to one line for the summary.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// MirrorName is the cache directory name of a repository URL: readable (the URL's last path
// element) and unique (a hash of the URL without credentials), so "org/app" and "fork/app" do
// not collide and no token ends up in a file name.
func MirrorName(url string) string {
	u := RedactURL(url)
	base := strings.TrimSuffix(strings.TrimRight(u, "/"), ".git")
	if i := strings.LastIndexAny(base, "/:"); i >= 0 {
		base = base[i+1:]
	}
	base = strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return '_'
	}, base)
	base = strings.TrimLeft(base, ".")
	if base == "" {
		base = "repo"
	}
	sum := sha256.Sum256([]byte(u))
	return fmt.Sprintf("%s-%x.git", base, sum[:6])
}

// lockMirror takes an exclusive lock on a mirror directory's lock file, so that two audits
// sharing a cache do not fetch into the same mirror at once. It waits until ctx is done.
func lockMirror(ctx context.Context, dir string) (unlock func(), err error) {
	f, err := os.OpenFile(dir+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("locking cache entry: %w", err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("locking cache entry: %w", err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// ParseRepoList reads a list of repositories: one URL or path per line; blank lines and
// comments (from a # at the start of a line or after a space) are ignored, and duplicates are
// dropped. Relative paths are taken relative to base (the list's directory).
func ParseRepoList(r io.Reader, base string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if i := strings.Index(line, " #"); i >= 0 {
			line = line[:i]
		}
		if i := strings.Index(line, "\t#"); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.ContainsAny(line, " \t") {
			return nil, fmt.Errorf("line %d: want one repository per line, have %q", n, RedactURL(line))
		}
		if !isRemote(line) && !strings.Contains(line, "://") && !filepath.IsAbs(line) && base != "" {
			line = filepath.Join(base, line)
		}
		if !seen[line] {
			seen[line] = true
			out = append(out, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", n+1, err)
	}
	return out, nil
}

// Shard returns the i-th (1-based) of n deterministic slices of repos: the list is sorted and
// repository k goes to slice k mod n, so every repository is in exactly one slice, slices
// differ in size by at most one, and the order of the list file does not matter.
func Shard(repos []string, i, n int) ([]string, error) {
	if n < 1 || i < 1 || i > n {
		return nil, fmt.Errorf("invalid shard %d/%d (want I/N with 1 <= I <= N)", i, n)
	}
	sorted := slices.Clone(repos)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	var out []string
	for k, r := range sorted {
		if k%n == i-1 {
			out = append(out, r)
		}
	}
	return out, nil
}

// ParseShard parses "I/N".
func ParseShard(s string) (i, n int, err error) {
	a, b, ok := strings.Cut(s, "/")
	if ok {
		i, err = strconv.Atoi(strings.TrimSpace(a))
		if err == nil {
			n, err = strconv.Atoi(strings.TrimSpace(b))
		}
	}
	if !ok || err != nil || n < 1 || i < 1 || i > n {
		return 0, 0, fmt.Errorf("invalid shard %q (want I/N with 1 <= I <= N, such as 2/8)", s)
	}
	return i, n, nil
}
