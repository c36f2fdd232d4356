package scanner

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/keywarden/keywarden/rules"
	"github.com/keywarden/keywarden/rules/keyfind"
)

// DumpOrigin is a crash dump, core file or memory image, or a binary file scanned for keys.
type DumpOrigin struct {
	Path   string // as the user named it
	Format string // DumpELFCore, DumpMinidump, DumpRaw
	// Regions map file offsets to virtual addresses, for cores and minidumps.
	Regions []Region
}

// Kind implements Origin.
func (o DumpOrigin) Kind() string { return "dump" }

// String implements Origin.
func (o DumpOrigin) String() string { return o.Path }

// PathInSource is the path findings are reported at.
func (o DumpOrigin) PathInSource() string { return o.Path }

// address is the virtual address the byte at file offset off was mapped at, in hex, or "".
func (o DumpOrigin) address(off int64) string {
	for _, r := range o.Regions {
		if r.Mapped && off >= r.Offset && off < r.Offset+r.Size {
			return "0x" + strconv.FormatUint(r.Addr+uint64(off-r.Offset), 16)
		}
	}
	return ""
}

// binaryRuleID is the rule a binary detector's hit is reported under.
func binaryRuleID(h keyfind.Hit) string {
	switch h.Detector {
	case keyfind.DetectorAES:
		return rules.RuleAESKeySchedule
	case keyfind.DetectorRSAPrimes:
		return rules.RuleRSAFromPrimes
	}
	return rules.RuleBinaryPrivateKey
}

// binaryMatch turns a binary detector's hit into a match the engine folds like any other: its
// secret is the key as PEM or JWK, so the same key found twice is one finding.
func binaryMatch(h keyfind.Hit) rules.Match {
	return rules.Match{
		RuleID:    binaryRuleID(h),
		Secret:    h.Text,
		Tags:      []string{"binary", "detector:" + h.Detector},
		Detector:  h.Detector,
		Offset:    h.Offset,
		Length:    h.Length,
		Confirmed: h.Confirmed,
	}
}

// RunDumps scans dump files for keys: every memory region of each, then, when RSA public keys
// were seen without their private keys, a second pass for their primes. A file that cannot be
// opened is reported in the error and the others are still scanned; the result holds every
// finding either way.
func (e *Engine) RunDumps(ctx context.Context, paths []string, finder *keyfind.Finder) (*Result, error) {
	start := time.Now()
	warn := e.Warn
	if warn == nil {
		warn = func(error) {}
	}
	type opened struct {
		d  *DumpFile
		st *blobState
		o  DumpOrigin
	}
	var (
		files []opened
		errs  []error
		hits  []hit
		res   = &Result{}
		order []*blobState
	)
	defer func() {
		for _, f := range files {
			f.d.Close()
		}
	}()
	for _, p := range paths {
		d, err := OpenDump(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, w := range d.Warnings {
			warn(fmt.Errorf("%s: %s", p, w))
		}
		o := DumpOrigin{Path: p, Format: d.Format, Regions: d.Regions}
		st := &blobState{id: unreadID("dump:" + p), order: len(order), origins: []Origin{o}, path: p}
		order = append(order, st)
		files = append(files, opened{d, st, o})
		res.Stats.Blobs++
		res.Stats.Bytes += d.Size
	}
	var scanned int64
	scan := func(pass func(context.Context, *DumpFile, Region, func(keyfind.Hit)) error) error {
		for _, f := range files {
			for _, r := range f.d.Regions {
				err := pass(ctx, f.d, r, func(h keyfind.Hit) {
					hits = append(hits, hit{blob: f.st, m: binaryMatch(h)})
				})
				if err != nil {
					if ctx.Err() != nil {
						return ctx.Err()
					}
					errs = append(errs, fmt.Errorf("scanning %s: %w", f.o.Path, err))
					break
				}
				if e.Progress != nil {
					s := res.Stats
					s.ScannedBytes = scanned
					s.Duration = time.Since(start)
					e.Progress(s)
				}
			}
		}
		return nil
	}
	err := scan(func(ctx context.Context, d *DumpFile, r Region, emit func(keyfind.Hit)) error {
		scanned += r.Size
		return finder.ScanAt(ctx, d, r.Offset, r.Size, emit)
	})
	if err == nil && finder.NeedPrimePass() {
		err = scan(func(ctx context.Context, d *DumpFile, r Region, emit func(keyfind.Hit)) error {
			return finder.ScanPrimesAt(ctx, d, r.Offset, r.Size, emit)
		})
		if finder.PrimeBudgetExhausted() {
			warn(errors.New("the search for RSA primes stopped at its budget of divisibility tests; raise --prime-budget to search further"))
		}
	}
	// An interrupted scan still reports what it found; the caller marks the report incomplete.
	res.Findings = e.fold(hits)
	res.Stats.ScannedBytes = scanned
	res.Stats.Duration = time.Since(start)
	if err != nil {
		return res, err
	}
	return res, errors.Join(errs...)
}
