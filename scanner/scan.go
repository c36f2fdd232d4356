package scanner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/keywarden/keywarden/rules"
	"github.com/keywarden/keywarden/rules/keyfind"
)

// ConfigFiles are picked up from the scan root when no config is named, keywarden's first.
var ConfigFiles = []string{".keywarden.toml", ".gitleaks.toml"}

// StateDir is the directory, at a repository or scan root, where keywarden keeps its audit log
// and rotation journals. Directory scans skip it.
const StateDir = ".keywarden"

// SaltEnv names the environment variable that overrides the fingerprint salt, for teams that
// share ignore files across forks whose histories differ.
const SaltEnv = "KEYWARDEN_FINGERPRINT_SALT"

// DefaultMaxFileSize is the size above which files and blobs are skipped (and reported).
const DefaultMaxFileSize = 10 << 20

// ScanOptions configures Scan.
type ScanOptions struct {
	Kind   string   // "git", "staged", "dir", "image" or "dump"
	Target string   // path, URL or image reference
	Dumps  []string // the files of a "dump" scan: core files, minidumps, memory images
	// Binary also looks for keys in binary files (DER, key text, AES key schedules), which
	// are skipped otherwise; a dump scan always does.
	Binary         bool
	KeyFind        keyfind.Options
	Git            GitOptions
	Image          ImageOptions
	Archives       ArchiveLimits // archives inside image layers
	MaxFileSize    int64         // 0 = DefaultMaxFileSize, <0 = no limit
	ConfigPath     string        // gitleaks-format TOML; "" = auto-discover at the scan root, else defaults
	Baseline       Suppressions
	BaselinePath   string // the baseline's file, left out of dir scans as gitleaks does
	Workers        int
	MaxDecodeDepth int
	WholeBlobs     bool
	// IncludePlaceholders keeps findings whose value is a placeholder (EXAMPLE, changeme,
	// ${VAR}), which are dropped by default.
	IncludePlaceholders bool
	// AuditorRulesOnly ignores the config and ignore files at the scan root: an audit judges
	// every repository by the auditor's rules (ConfigPath or the built-in ones), not by
	// allowlists the audited repository carries.
	AuditorRulesOnly bool
	// Salt, when set, keys the fingerprints instead of the repository's root commit (or
	// KEYWARDEN_FINGERPRINT_SALT): a multi-repo audit uses one salt for every repository so that
	// the same secret has one fingerprint wherever it is.
	Salt string
	Warn func(error)
	// Progress, if set, is called with the running stats about every 100ms while blobs are
	// read. OnProgress says more.
	Progress func(Stats)
	// OnProgress, if set, receives progress events from one goroutine at a time: PhaseClone
	// when a URL is cloned, PhaseEnumerate when the source starts (a git source walks all of
	// history before it yields a blob), PhaseScan about every 100ms while blobs are read and
	// once more with the final stats. Sources that know (git) fill CommitsDone and
	// CommitsTotal. PhaseDone and PhaseFailed are the caller's to send: it knows the outcome.
	OnProgress func(Progress)
}

// ScanOutput is a finished scan with the rules it ran.
type ScanOutput struct {
	*Result
	Rules *rules.Ruleset
	Root  string // directory paths in locations are relative to ("" for a URL)
	// ConfigFile is the keywarden or gitleaks config the scan used ("" for the built-in rules);
	// its [[inventory]] tables name the backends the cross-check uses.
	ConfigFile string
}

// Scan loads the rules, opens the source, applies ignore files and the baseline, and runs the
// engine. A non-nil error with a non-nil output means the scan finished with an error (a corrupt
// object, say) and the output holds everything that was found.
func Scan(ctx context.Context, o ScanOptions) (*ScanOutput, error) {
	warn := o.Warn
	if warn == nil {
		warn = func(error) {}
	}
	maxSize := o.MaxFileSize
	switch {
	case maxSize == 0:
		maxSize = DefaultMaxFileSize
	case maxSize < 0:
		maxSize = 0
	}

	// The root comes first: it holds the config, whose rules say which paths sources need not
	// read at all.
	var root, abs string
	switch o.Kind {
	case "git":
		if !isRemote(o.Target) {
			root = repoWorkTree(o.Target)
		}
	case "staged":
		if root = repoWorkTree(o.Target); root == "" {
			return nil, fmt.Errorf("scanning staged changes in %q: %w (or a bare one, which has no index to commit from)", o.Target, ErrNotRepo)
		}
	case "dir":
		var err error
		if abs, err = filepath.Abs(o.Target); err != nil {
			return nil, fmt.Errorf("resolving %q: %w", o.Target, err)
		}
		fi, err := os.Stat(abs)
		if err != nil {
			return nil, fmt.Errorf("opening directory %q: %w", o.Target, errors.Unwrap(err))
		}
		root = abs
		if !fi.IsDir() {
			root = filepath.Dir(abs)
		}
	case "image", "dump":
		// An image (or a dump) has no work tree: config and ignore files come from where keywarden runs
		// (the repository that builds the image, in CI).
		wd, err := os.Getwd()
		if err != nil {
			return nil, fmt.Errorf("finding the working directory: %w", err)
		}
		if root = repoWorkTree(wd); root == "" {
			root = wd
		}
	default:
		return nil, fmt.Errorf("unknown source kind %q", o.Kind)
	}
	cfgRoot := root
	if o.AuditorRulesOnly {
		cfgRoot = ""
	}
	rs, cfgPath, err := loadRules(o.ConfigPath, cfgRoot)
	if err != nil {
		return nil, err
	}
	det := rules.NewDetector(rs, rules.DetectorOptions{MaxDecodeDepth: o.MaxDecodeDepth})
	// gitleaks skips its own config and baseline files: their allowlist regexes and recorded
	// secrets would be found again.
	var skipFiles []string
	for _, p := range []string{cfgPath, o.BaselinePath} {
		if p != "" {
			if a, err := filepath.Abs(p); err == nil {
				skipFiles = append(skipFiles, a)
			}
		}
	}

	var (
		src      Source
		salt     string
		saltFunc func() string
		closeFn  = func() error { return nil }
	)
	switch o.Kind {
	case "git":
		gopts := o.Git
		gopts.MaxFileSize, gopts.Warn, gopts.Excluded, gopts.Binary = maxSize, warn, det.PathExcluded, o.Binary
		if o.OnProgress != nil && isRemote(o.Target) {
			o.OnProgress(Progress{Phase: PhaseClone})
		}
		gs, c, err := OpenGit(ctx, o.Target, gopts)
		if err != nil {
			return nil, err
		}
		// The salt is found when a finding needs it: a range or a push in a long history
		// should not walk all of it for nothing.
		src, closeFn, saltFunc = gs, c, gs.RootCommit
		if gs.Shallow() && os.Getenv(SaltEnv) == "" {
			warn(fmt.Errorf("history is cut short (shallow clone): fingerprints are unsalted and differ from a full clone's; fetch full history or set %s", SaltEnv))
		}
	case "staged":
		src = &StagedSource{Dir: root, MaxFileSize: maxSize, Excluded: det.PathExcluded}
		saltFunc = func() string {
			s, _ := RootCommitOf(root)
			return s
		}
	case "image":
		images, closeImages, err := OpenImages(ctx, o.Target, o.Image)
		if err != nil {
			return nil, err
		}
		src = &ImageSource{Images: images, MaxFileSize: maxSize, Archives: o.Archives, Excluded: det.PathExcluded, Warn: warn, Binary: o.Binary}
		closeFn = closeImages
		// Salted like the repository keywarden runs in, so that a secret in both the image and
		// the repository that built it has one fingerprint.
		saltFunc = func() string {
			s, _ := RootCommitOf(root)
			return s
		}
	case "dump":
		if len(o.Dumps) == 0 {
			return nil, errors.New("no dump files named")
		}
		saltFunc = func() string {
			s, _ := RootCommitOf(root)
			return s
		}
	case "dir":
		salt, _ = RootCommitOf(abs)
		ds := &DirSource{Root: abs, MaxFileSize: maxSize, Warn: warn}
		ds.Exclude = func(rel string) bool {
			if det.PathExcluded(rel) {
				return true
			}
			full := filepath.Join(root, filepath.FromSlash(rel))
			for _, p := range skipFiles {
				if full == p {
					return true
				}
			}
			return false
		}
		src = ds
	}
	defer closeFn()
	if s := os.Getenv(SaltEnv); s != "" {
		salt = s
	}
	if o.Salt != "" {
		salt = o.Salt
	}

	supp := Suppressions{}
	supp.Merge(o.Baseline)
	if cfgRoot != "" {
		ig, err := LoadIgnoreFiles(root, warn)
		if err != nil {
			return nil, err
		}
		supp.Merge(ig)
	}

	e := &Engine{
		Detector:   det,
		Rules:      rs,
		Workers:    o.Workers,
		Salt:       salt,
		SaltFunc:   saltFunc,
		Suppress:   supp,
		WholeBlobs: o.WholeBlobs,
		Warn:       warn,
		Progress:   o.Progress,
	}
	if o.Binary || o.Kind == "dump" {
		e.Binary = keyfind.New(o.KeyFind)
	}
	if o.OnProgress != nil {
		o.OnProgress(Progress{Phase: PhaseEnumerate})
		e.Progress = progressTicks(src, o.Progress, o.OnProgress)
	}
	start := time.Now()
	var res *Result
	if o.Kind == "dump" {
		res, err = e.RunDumps(ctx, o.Dumps, e.Binary)
	} else {
		res, err = e.Run(ctx, src)
	}
	if res == nil {
		return nil, err
	}
	if is, ok := src.(*ImageSource); ok {
		is.annotate(res.Findings)
	}
	res.Findings = judge(res.Findings, o.IncludePlaceholders)
	res.Stats.Duration = time.Since(start)
	if o.OnProgress != nil {
		p := Progress{Phase: PhaseScan, Stats: res.Stats}
		if cp, ok := src.(commitProgress); ok {
			p.CommitsDone, p.CommitsTotal = cp.CommitProgress()
		}
		o.OnProgress(p)
	}
	return &ScanOutput{Result: res, Rules: rs, Root: root, ConfigFile: cfgPath}, err
}

// commitProgress is the optional ability of a source to say how far through its commits it is,
// for an ETA. It is read from the goroutine that consumes the blobs.
type commitProgress interface {
	CommitProgress() (done, total int64)
}

// progressTicks turns the engine's stats ticks into PhaseScan events, with the source's commit
// counts when it keeps them, and passes the stats on to stats when that is set.
func progressTicks(src Source, stats func(Stats), events func(Progress)) func(Stats) {
	cp, _ := src.(commitProgress)
	return func(s Stats) {
		if stats != nil {
			stats(s)
		}
		p := Progress{Phase: PhaseScan, Stats: s}
		if cp != nil {
			p.CommitsDone, p.CommitsTotal = cp.CommitProgress()
		}
		events(p)
	}
}

// loadRules reads the named config, else the first config file found at root, else defaults.
func loadRules(path, root string) (*rules.Ruleset, string, error) {
	if path == "" && root != "" {
		for _, name := range ConfigFiles {
			p := filepath.Join(root, name)
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
				path = p
				break
			}
		}
	}
	if path == "" {
		rs, err := rules.Default()
		return rs, "", err
	}
	rs, err := rules.LoadFile(path)
	return rs, path, err
}
