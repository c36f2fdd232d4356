package scanner

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/maphash"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/keywarden/keywarden/rules"
	"github.com/keywarden/keywarden/rules/keyfind"
)

// Detector finds rule matches in text and decides which locations they count at.
// *rules.Detector is the implementation; the interface is the seam the engine depends on.
type Detector interface {
	Detect(text []byte) []rules.Match
	// DetectAt is Detect for text from the file at path, which rules for one kind of file
	// (a path and no keywords) need to run at all.
	DetectAt(text []byte, path string) []rules.Match
	Allowed(m *rules.Match, path, commit string) bool
	PathMatches(path, commit string) []rules.Match
}

// RuleLookup describes rules for findings (description, severity, tags).
type RuleLookup interface {
	Rule(id string) (rules.RuleInfo, bool)
}

// Engine runs detection over a Source. Configure it, then call Run; an Engine is not reused
// concurrently.
type Engine struct {
	Detector Detector
	Rules    RuleLookup
	// Workers is the number of detection goroutines (0 = runtime.NumCPU()).
	Workers int
	// Salt keys the content fingerprints, so that a fingerprint is stable for a repository but is
	// no dictionary oracle for a secret. See FingerprintSalt.
	Salt string
	// SaltFunc, when Salt is empty, gives the salt on first need: finding a repository's root
	// commit walks its whole history, which a clean pre-commit scan should not pay for.
	SaltFunc func() string
	// Suppress lists fingerprints and gitleaks-style location keys to leave out.
	Suppress Suppressions
	// WholeBlobs turns off line-level dedup: every blob is scanned in full. It exists to check the
	// dedup against a plain scan; it is slower on histories.
	WholeBlobs bool
	// Warn receives non-fatal problems (one unreadable blob). Nil drops them.
	Warn func(error)
	// Progress, if set, is called from the reading goroutine about every 100ms.
	Progress func(Stats)
	// Binary, if set, finds keys in binary blobs (DER, key text, AES schedules), which are
	// otherwise skipped.
	Binary *keyfind.Finder

	starts   []int  // scratch of dispatch
	novel    []bool // scratch of dispatch
	saltOnce sync.Once
}

func (e *Engine) salt() string {
	e.saltOnce.Do(func() {
		if e.Salt == "" && e.SaltFunc != nil {
			e.Salt = e.SaltFunc()
		}
	})
	return e.Salt
}

// Suppressions are findings to leave out: whole findings by content fingerprint, single
// locations by gitleaks-style keys "commit:path:rule:line" or "path:rule:line".
type Suppressions struct {
	Fingerprints map[string]bool
	Locations    map[string]bool
}

// Merge adds o's entries to s.
func (s *Suppressions) Merge(o Suppressions) {
	if s.Fingerprints == nil {
		s.Fingerprints = map[string]bool{}
	}
	if s.Locations == nil {
		s.Locations = map[string]bool{}
	}
	for k := range o.Fingerprints {
		s.Fingerprints[k] = true
	}
	for k := range o.Locations {
		s.Locations[k] = true
	}
}

// contextLines is how many unchanged lines around new ones are handed to detection, so that
// matches spanning a few lines (a PEM header before a new key body) are still seen whole.
const contextLines = 2

// sniffLen is how much of a blob is checked for NUL bytes, as git does to call a file binary.
const sniffLen = 8000

// binaryHead reports whether a blob whose first sniffLen bytes are head is binary: it holds a
// NUL and is not UTF-16 text, which the engine decodes and scans (see utf16Text).
func binaryHead(head []byte) bool {
	return bytes.IndexByte(head, 0) >= 0 && utf16Order(head) == nil
}

// utf16Order says whether head starts UTF-16 text, and in which byte order: a byte-order mark
// (FF FE, FE FF), or without one ASCII text in UTF-16, a NUL in every other byte and none
// between, over all of head (at least two characters).
func utf16Order(head []byte) binary.ByteOrder {
	switch {
	case len(head) >= 2 && head[0] == 0xff && head[1] == 0xfe:
		return binary.LittleEndian
	case len(head) >= 2 && head[0] == 0xfe && head[1] == 0xff:
		return binary.BigEndian
	case len(head) >= 4 && alternatingNUL(head, 1):
		return binary.LittleEndian
	case len(head) >= 4 && alternatingNUL(head, 0):
		return binary.BigEndian
	}
	return nil
}

// alternatingNUL reports whether the byte at offset zero of every pair in head is NUL and the
// other one is not.
func alternatingNUL(head []byte, zero int) bool {
	for i := 0; i+1 < len(head); i += 2 {
		if head[i+zero] != 0 || head[i+1-zero] == 0 {
			return false
		}
	}
	return true
}

// utf16Text returns content decoded to UTF-8 when it is UTF-16 text, which Windows tools write
// (PowerShell 5's > and Out-File, regedit exports, .NET's Encoding.Unicode): its NULs would
// make it binary and its secrets unread. Lines stay lines and a character stays one code point,
// so locations in the decoded text are right in the file. Text holding U+0000 is no text.
func utf16Text(content []byte) ([]byte, bool) {
	head := content[:min(len(content), sniffLen)]
	if bytes.IndexByte(head, 0) < 0 {
		return nil, false // UTF-16 text of any length holds NULs in its first lines, ASCII or not
	}
	order := utf16Order(head)
	if order == nil {
		return nil, false
	}
	body := content
	if len(body) >= 2 && (body[0] == 0xff && body[1] == 0xfe || body[0] == 0xfe && body[1] == 0xff) {
		body = body[2:]
	}
	out := make([]byte, 0, len(body)/2+len(body)/8)
	for i := 0; i+1 < len(body); i += 2 {
		r := rune(order.Uint16(body[i:]))
		if utf16.IsSurrogate(r) {
			pair := unicode.ReplacementChar
			if i+3 < len(body) {
				pair = utf16.DecodeRune(r, rune(order.Uint16(body[i+2:])))
			}
			if pair != unicode.ReplacementChar {
				i += 2
			}
			r = pair
		}
		if r == 0 {
			return nil, false
		}
		out = utf8.AppendRune(out, r)
	}
	return out, true
}

type blobState struct {
	id      BlobID
	order   int
	unread  bool // seen so far only at paths the rules exclude
	origins []Origin
	// path is where the blob is scanned as being: rules that apply to one kind of file only
	// (.htpasswd) run when it fits. Set before the blob's jobs are sent.
	path string
	// lines holds the hash of every line when some of them were seen before: matches found on
	// those lines elsewhere are located here afterwards, without scanning them again.
	lines []uint64
}

// hit is a match at a line of one blob.
type hit struct {
	blob  *blobState
	m     rules.Match
	span  []uint64 // hashes of lines StartLine..EndLine, to recognise the same text elsewhere
	path  bool     // a path-only rule match for the blob's origin pathOrigin
	porig Origin
}

// job is one blob's runs of lines to scan; one job per blob keeps goroutine hand-offs few.
type job struct {
	blob    *blobState
	content []byte
	runs    [][2]int // byte ranges of content, each a run of whole lines
	offsets []int    // line number of each run's first line, minus one
	hashes  []uint64
	binary  bool // content is binary: Engine.Binary looks for keys in it
}

// Run scans src and returns the folded findings. Errors from the source are returned together
// with everything found before and after them, so no result is lost; so is ctx's error when
// the scan is cancelled, with what was found until then.
func (e *Engine) Run(ctx context.Context, src Source) (*Result, error) {
	start := time.Now()
	workers := e.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	warn := e.Warn
	if warn == nil {
		warn = func(error) {}
	}

	var (
		seed    = maphash.MakeSeed()
		seen    = newLineSet(1 << 16)
		latest  = map[string][]uint64{} // line hashes of the latest version at each path
		blobs   = make(map[BlobID]*blobState)
		order   []*blobState
		stats   Stats
		scanned atomic.Int64
		res     = &Result{}
		jobs    = make(chan job, 4*workers)
		results = make([][]hit, workers)
		wg      sync.WaitGroup
		pathHit []hit
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for j := range jobs {
				if j.binary {
					scanned.Add(int64(len(j.content)))
					for _, h := range e.Binary.Bytes(j.content) {
						results[w] = append(results[w], hit{blob: j.blob, m: binaryMatch(h)})
					}
					continue
				}
				for r, run := range j.runs {
					text := j.content[run[0]:run[1]]
					scanned.Add(int64(len(text)))
					for _, m := range e.Detector.DetectAt(text, j.blob.path) {
						m.StartLine += j.offsets[r]
						m.EndLine += j.offsets[r]
						h := hit{blob: j.blob, m: m}
						if j.hashes != nil && m.StartLine >= 1 && m.EndLine <= len(j.hashes) {
							h.span = j.hashes[m.StartLine-1 : m.EndLine]
						}
						results[w] = append(results[w], h)
					}
				}
			}
		}(w)
	}

	lastProgress := time.Now()
	yield := func(b Blob) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		st, known := blobs[b.ID]
		if !known {
			st = &blobState{id: b.ID, order: len(order)}
			blobs[b.ID] = st
			order = append(order, st)
		}
		path, commit := originKey(b.Origin)
		if b.Base {
			st.origins = append(st.origins, baseOrigin{b.Origin})
			if b.Content == nil {
				return nil // nothing to compare against; the change is scanned whole
			}
		} else {
			st.origins = append(st.origins, b.Origin)
			for _, m := range e.Detector.PathMatches(path, commit) {
				pathHit = append(pathHit, hit{blob: st, m: m, path: true, porig: b.Origin})
			}
		}
		// A blob seen so far only at excluded paths is read the first time it turns up
		// elsewhere: that yield brings its content or the reason there is none.
		if known && !(st.unread && (b.Content != nil || b.Skip != "")) {
			return nil
		}
		if b.Skip == SkipExcluded {
			st.unread = true // read later if it turns up at a path that is not excluded
			return nil
		}
		st.unread = false
		if b.Skip == SkipBinary {
			// The source sniffed it; count it as the engine counts the binaries it sniffs.
			stats.Blobs++
			stats.Bytes += b.Size
		}
		if b.Skip != "" || b.Content == nil && b.Size > 0 {
			reason := b.Skip
			if reason == "" {
				reason = SkipUnreadable
			}
			stats.Skipped++
			res.Skipped = append(res.Skipped, SkippedBlob{Path: b.Origin.String(), Reason: reason, Size: b.Size})
			return nil
		}
		if !b.Base { // compared against, not part of what was scanned
			stats.Blobs++
			stats.Bytes += int64(len(b.Content))
		}
		if text, ok := utf16Text(b.Content); ok {
			b.Content = text // line for line the same text, so lines and columns stay right
		}
		if bytes.IndexByte(b.Content[:min(len(b.Content), sniffLen)], 0) >= 0 {
			if b.Base {
				return nil
			}
			if e.Binary != nil {
				st.path = path
				select {
				case jobs <- job{blob: st, content: b.Content, binary: true}:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			stats.Skipped++
			res.Skipped = append(res.Skipped, SkippedBlob{Path: b.Origin.String(), Reason: SkipBinary, Size: int64(len(b.Content))})
			return nil
		}
		st.path = path
		hashes, err := e.dispatch(ctx, st, b.Content, latest[path], seed, seen, jobs)
		if err != nil {
			return err
		}
		if hashes != nil {
			latest[path] = hashes
		}
		if e.Progress != nil && time.Since(lastProgress) > 100*time.Millisecond {
			lastProgress = time.Now()
			s := stats
			s.ScannedBytes = scanned.Load()
			s.Duration = time.Since(start)
			e.Progress(s)
		}
		return nil
	}
	// Cancelled or not, everything found so far is folded and returned with the error: an
	// interrupted scan still writes its partial report. The workers finish the jobs queued.
	srcErr := src.Blobs(ctx, yield)
	close(jobs)
	wg.Wait()

	var hits []hit
	for _, r := range results {
		hits = append(hits, r...)
	}
	hits = append(hits, relocate(hits, order)...)
	hits = append(hits, pathHit...)
	res.Findings = e.fold(hits)
	stats.ScannedBytes = scanned.Load()
	if c, ok := src.(interface{ Commits() int }); ok {
		stats.Commits = int64(c.Commits())
	}
	stats.Duration = time.Since(start)
	res.Stats = stats
	return res, srcErr
}

// dispatch splits content into lines, marks the ones never seen in this scan, and queues the
// runs of new lines (with context) for detection. It runs on the reading goroutine, so seen
// needs no lock and the first blob in introduction order owns each line.
func (e *Engine) dispatch(ctx context.Context, st *blobState, content []byte, prev []uint64, seed maphash.Seed, seen *lineSet, jobs chan<- job) ([]uint64, error) {
	send := func(j job) error {
		select {
		case jobs <- j:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if e.WholeBlobs {
		return nil, send(job{blob: st, content: content, runs: [][2]int{{0, len(content)}}, offsets: []int{0}})
	}
	// starts[i] is the offset of line i; a final entry marks the end. Counting lines first
	// sizes everything exactly; starts and novel are scratch reused across blobs.
	lines := bytes.Count(content, []byte{'\n'}) + 1
	if cap(e.starts) < lines+1 {
		e.starts = make([]int, 0, lines+lines/2+1)
		e.novel = make([]bool, 0, cap(e.starts))
	}
	var (
		starts  = e.starts[:0]
		hashes  = make([]uint64, 0, lines)
		novel   = e.novel[:0]
		anyOld  bool
		anyNew  bool
		pos     int
		lineEnd int
	)
	for pos < len(content) {
		nl := bytes.IndexByte(content[pos:], '\n')
		if nl < 0 {
			lineEnd = len(content)
		} else {
			lineEnd = pos + nl
		}
		starts = append(starts, pos)
		hashes = append(hashes, maphash.Bytes(seed, content[pos:lineEnd]))
		pos = lineEnd + 1
	}
	// Lines shared with the start and end of the previous version at this path were seen with
	// it: only the middle, where an edit is, needs the large seen-set, whose lookups miss the
	// CPU cache.
	head, tail := 0, 0
	for head < len(hashes) && head < len(prev) && hashes[head] == prev[head] {
		head++
	}
	for tail < len(hashes)-head && tail < len(prev)-head && hashes[len(hashes)-1-tail] == prev[len(prev)-1-tail] {
		tail++
	}
	for i, h := range hashes {
		if i < head || i >= len(hashes)-tail || !seen.add(h) {
			novel = append(novel, false)
			anyOld = true
		} else {
			novel = append(novel, true)
			anyNew = true
		}
	}
	starts = append(starts, len(content))
	if !anyNew {
		st.lines = hashes
		return hashes, nil
	}
	if !anyOld {
		return hashes, send(job{blob: st, content: content, runs: [][2]int{{0, len(content)}}, offsets: []int{0}, hashes: hashes})
	}
	st.lines = hashes
	n := len(hashes)
	j := job{blob: st, content: content, hashes: hashes}
	for i := 0; i < n; {
		if !novel[i] {
			i++
			continue
		}
		// Extend a run of new lines while the next new line is within reach of its context.
		last := i
		for k := i + 1; k < n && k <= last+2*contextLines+1; k++ {
			if novel[k] {
				last = k
			}
		}
		a, b := max(0, i-contextLines), min(n-1, last+contextLines)
		a, b = widenToBlock(content, starts, a, b)
		if k := len(j.runs) - 1; k >= 0 && starts[a] <= j.runs[k][1] {
			j.runs[k][1] = max(j.runs[k][1], starts[b+1]) // a widened run reached the last one
		} else {
			j.runs = append(j.runs, [2]int{starts[a], starts[b+1]})
			j.offsets = append(j.offsets, a)
		}
		i = last + 1
	}
	return hashes, send(j)
}

// maxBlockLines bounds how far widenToBlock looks for the edges of a block: a 16384-bit RSA key
// in PEM is about 200 lines.
const maxBlockLines = 256

var (
	blockBegin = []byte("-----BEGIN")
	blockEnd   = []byte("-----END")
)

// widenToBlock grows the run of lines a..b to the BEGIN and END lines of a PEM-style block it
// lies in, so that a key whose body was edited in the middle is scanned whole, as its rule
// needs. A blank line or the other marker ends the search, so ordinary text costs a few lines.
func widenToBlock(content []byte, starts []int, a, b int) (int, int) {
	n := len(starts) - 1
	line := func(i int) []byte { return bytes.TrimRight(content[starts[i]:starts[i+1]], "\r\n") }
	begin := -1
	for i := a; i >= 0 && i > a-maxBlockLines; i-- {
		l := line(i)
		if bytes.Contains(l, blockBegin) {
			begin = i
			break
		}
		if len(bytes.TrimSpace(l)) == 0 || i < a && bytes.Contains(l, blockEnd) {
			break
		}
	}
	if begin < 0 {
		return a, b
	}
	for i := b; i < n && i < b+maxBlockLines; i++ {
		l := line(i)
		if bytes.Contains(l, blockEnd) {
			return begin, i
		}
		if len(bytes.TrimSpace(l)) == 0 || i > b && bytes.Contains(l, blockBegin) {
			break
		}
	}
	return begin, b
}

// relocate finds, for every line that was not scanned because an earlier blob held the same
// text, the matches made on that earlier text, and places them here too.
func relocate(hits []hit, order []*blobState) []hit {
	byStart := map[uint64][]int{}
	for i, h := range hits {
		if len(h.span) > 0 {
			byStart[h.span[0]] = append(byStart[h.span[0]], i)
		}
	}
	if len(byStart) == 0 {
		return nil
	}
	var out []hit
	for _, st := range order {
		for i, lh := range st.lines {
			for _, hi := range byStart[lh] {
				h := hits[hi]
				if h.blob == st && h.m.StartLine == i+1 {
					continue
				}
				if i+len(h.span) > len(st.lines) || !equalHashes(st.lines[i:i+len(h.span)], h.span) {
					continue
				}
				moved := h
				moved.blob = st
				moved.m.EndLine = i + 1 + (h.m.EndLine - h.m.StartLine)
				moved.m.StartLine = i + 1
				out = append(out, moved)
			}
		}
	}
	return out
}

func equalHashes(a, b []uint64) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// originKey gives the path and commit allowlists and ignore entries are matched against.
func originKey(o Origin) (path, commit string) {
	switch o := o.(type) {
	case baseOrigin:
		return originKey(o.Origin)
	case GitOrigin:
		return o.Path, o.Commit
	case ImageOrigin:
		return o.Path, ""
	case DirOrigin:
		return o.Path, ""
	case interface{ PathInSource() string }:
		return o.PathInSource(), ""
	}
	return o.String(), ""
}

func location(o Origin, m rules.Match) Location {
	loc := Location{
		Source:    o.Kind(),
		Line:      m.StartLine,
		Column:    m.StartColumn,
		EndLine:   m.EndLine,
		EndColumn: m.EndColumn,
	}
	loc.Path, loc.Commit = originKey(o)
	if m.Detector != "" {
		off := m.Offset
		loc.Offset, loc.Length, loc.Detector, loc.Confirmed = &off, m.Length, m.Detector, m.Confirmed
		if d, ok := o.(DumpOrigin); ok {
			loc.Address = d.address(m.Offset)
		}
	}
	if im, ok := o.(ImageOrigin); ok {
		loc.Image, loc.ImageDigest, loc.Layer, loc.LayerDigest = im.Image, im.Digest, im.Layer, im.LayerDigest
	}
	if g, ok := o.(GitOrigin); ok {
		loc.Author, loc.Email, loc.Date, loc.Message = g.Author, g.Email, g.Date, g.Message
		// "remove token ghp_…" is a common commit message; reports must not print it whole.
		if m.Secret != "" && strings.Contains(loc.Message, m.Secret) {
			loc.Message = strings.ReplaceAll(loc.Message, m.Secret, Redact(m.Secret))
		}
	}
	return loc
}

// baseOrigin is where base content (Blob.Base) was: its secrets are known, never reported.
type baseOrigin struct{ Origin }

// occurrence is one place a (rule, secret) was matched, before allowlists and ignore entries.
type occurrence struct {
	m            rules.Match
	o            Origin
	blobID       BlobID
	blob, origin int // introduction order, for sorting
	path, commit string
	pathOnly     bool // a path-only rule: no content, so no content allowlists
}

func (a occurrence) before(b occurrence) bool {
	if a.blob != b.blob {
		return a.blob < b.blob
	}
	if a.origin != b.origin {
		return a.origin < b.origin
	}
	if a.m.StartLine != b.m.StartLine {
		return a.m.StartLine < b.m.StartLine
	}
	return a.m.StartColumn < b.m.StartColumn
}

// carried reports whether one of the parents' blobs at a path holds the secret too.
func carried(prev []BlobID, holders map[BlobID]bool) bool {
	for _, p := range prev {
		if holders[p] {
			return true
		}
	}
	return false
}

// fold turns hits into findings: one per (rule, secret), each with its locations ordered by
// introduction. Only commits that brought the secret to a path count, not later commits that
// carried it along (gitleaks, reading diffs, agrees). Allowlists and ignore entries then apply
// to those introductions.
func (e *Engine) fold(hits []hit) []Finding {
	type group struct {
		rule, secretKey string
		occs            []occurrence
	}
	groups := map[string]*group{}
	var keys []string
	for _, h := range hits {
		secretKey := h.m.Secret
		if h.path {
			secretKey = "\x00blob:" + h.blob.id.String()
		}
		key := h.m.RuleID + "\x00" + secretKey
		g := groups[key]
		if g == nil {
			g = &group{rule: h.m.RuleID, secretKey: secretKey}
			groups[key] = g
			keys = append(keys, key)
		}
		origins := h.blob.origins
		if h.path {
			origins = []Origin{h.porig}
		}
		for oi, o := range origins {
			path, commit := originKey(o)
			g.occs = append(g.occs, occurrence{m: h.m, o: o, blobID: h.blob.id, blob: h.blob.order, origin: oi, path: path, commit: commit, pathOnly: h.path})
		}
	}

	type result struct {
		f     Finding
		first occurrence
	}
	var results []result
	for _, k := range keys {
		g := groups[k]
		sort.SliceStable(g.occs, func(a, b int) bool { return g.occs[a].before(g.occs[b]) })
		// A commit whose parent already held the secret at the same path only carried it
		// along (or moved it within the file): that is no new location. Re-adding it after a
		// removal, or adding it independently on another branch, is.
		holders := map[BlobID]bool{}
		for _, oc := range g.occs {
			holders[oc.blobID] = true
		}
		seen := map[[5]any]bool{}
		var kept []occurrence
		for _, oc := range g.occs {
			if _, base := oc.o.(baseOrigin); base {
				continue
			}
			if po, ok := oc.o.(interface{ prevBlobs() []BlobID }); ok && carried(po.prevBlobs(), holders) {
				continue
			}
			dup := [5]any{oc.path, oc.commit, oc.m.StartLine, oc.m.StartColumn, oc.m.Offset}
			if seen[dup] {
				continue
			}
			seen[dup] = true
			m := oc.m
			if !oc.pathOnly && e.Detector.Allowed(&m, oc.path, oc.commit) {
				continue
			}
			if e.Suppress.Locations[fmt.Sprintf("%s:%s:%d", oc.path, m.RuleID, m.StartLine)] ||
				oc.commit != "" && e.Suppress.Locations[fmt.Sprintf("%s:%s:%s:%d", oc.commit, oc.path, m.RuleID, m.StartLine)] {
				continue
			}
			kept = append(kept, oc)
		}
		if len(kept) == 0 {
			continue
		}
		// The fingerprint comes last: its salt may walk the whole history, which a scan whose
		// only matches are carried along (an edit next to an old secret) should not pay for.
		fp := e.fingerprint(g.rule, g.secretKey)
		if e.Suppress.Fingerprints[fp] {
			continue
		}
		f := e.newFinding(kept[0].m, fp)
		for _, oc := range kept {
			f.Locations = append(f.Locations, location(oc.o, oc.m))
		}
		results = append(results, result{f, kept[0]})
	}
	sort.SliceStable(results, func(a, b int) bool {
		if results[a].first.before(results[b].first) {
			return true
		}
		if results[b].first.before(results[a].first) {
			return false
		}
		return results[a].f.RuleID < results[b].f.RuleID
	})
	out := make([]Finding, len(results))
	for i, r := range results {
		out[i] = r.f
	}
	return out
}

func (e *Engine) newFinding(m rules.Match, fp string) Finding {
	f := Finding{
		RuleID:      m.RuleID,
		Secret:      m.Secret,
		Fingerprint: fp,
		Entropy:     m.Entropy,
		Tags:        append([]string{}, m.Tags...),
		Severity:    "high",
		Kind:        rules.KindGeneric,
	}
	if e.Rules != nil {
		if ri, ok := e.Rules.Rule(m.RuleID); ok {
			f.Description, f.Severity, f.Kind = ri.Description, ri.Severity, ri.Kind
		}
	}
	return f
}

// fingerprint is a stable content hash of rule and secret, keyed by the salt: it survives
// rebases, line moves and squashes, and it does not reveal the secret to a dictionary attack
// without the salt.
func (e *Engine) fingerprint(ruleID, secret string) string {
	mac := hmac.New(sha256.New, []byte("keywarden-fingerprint-v1\x00"+e.salt()))
	mac.Write([]byte(ruleID))
	mac.Write([]byte{0})
	mac.Write([]byte(secret))
	return hex.EncodeToString(mac.Sum(nil)[:16])
}
