package scanner

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"path"
	"strconv"
	"strings"

	// klauspost/compress inflates a quarter faster than the standard library, with the same
	// API; inflating is most of what opening archives costs.
	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
)

// SkipArchiveLimit is an archive entry left unread because a zip-bomb bound stopped it.
const SkipArchiveLimit = "archive-limit"

// ArchiveLimits bounds recursive archive expansion against zip bombs.
type ArchiveLimits struct {
	MaxDepth int   // archive levels opened: 1 opens archives in a layer but none inside them (0 = default; <0 = none)
	MaxTotal int64 // decompressed bytes one outer file may expand to in all, every level counted (0 = default)
	MaxRatio int64 // an entry expanding more than this many times its compressed size is stopped (0 = default)
	MaxEntry int64 // an inner file larger than this is skipped with SkipTooLarge (the scan's --max-file-size; 0 = no limit)
}

// DefaultArchiveLimits are the limits keywarden uses unless told otherwise.
var DefaultArchiveLimits = ArchiveLimits{MaxDepth: 3, MaxTotal: 1 << 30, MaxRatio: 200}

// ArchiveEntry is one file found inside an archive.
type ArchiveEntry struct {
	Path    string // "outer.jar!/BOOT-INF/lib/inner.jar!/app.properties": each level's path, then "!/" and the entry's cleaned name
	Content []byte // nil when Skip is set
	Size    int64  // content size; when skipped, the declared size, else (gzip) what was read before stopping
	Skip    string // SkipTooLarge, SkipArchiveLimit or SkipUnreadable; binary content is left to the engine
}

// ratioGrace is what any stream may expand to whatever its ratio: a few hundred kilobytes of
// padding legitimately compress better than a bomb bound, and that much cannot bomb anything.
const ratioGrace = 1 << 20

// headLen is how much of an entry is read to recognise an archive: the ustar magic sits at
// offset 257, and checking an old tar header's checksum takes its whole first block.
const headLen = 512

// maxPrealloc caps the buffer reserved from a declared size, which may lie; past it the buffer
// grows as the content arrives.
const maxPrealloc = 1 << 20

// ctxEvery is how much a decompressor produces between looks at ctx, so that cancelling is
// noticed inside one large entry too.
const ctxEvery = 1 << 20

// errArchiveLimit marks a bound reached: the entry is skipped with SkipArchiveLimit.
var errArchiveLimit = errors.New("archive limit")

// errTotalLimit is the total bound, warned about once per outer file rather than per archive.
var errTotalLimit = fmt.Errorf("decompressed size bound: %w", errArchiveLimit)

// IsArchive reports whether a file with this name and these first bytes is an archive
// ExpandArchive opens. Magic bytes decide (zip, gzip, ustar tar); the name only vouches for a
// zip with something before its first entry (a launch script ahead of a Spring Boot jar) and for
// a pre-POSIX tar, whose header checksum must still hold.
func IsArchive(name string, head []byte) bool {
	f, _ := sniffArchive(name, head)
	return f != notArchive
}

type archiveFormat int

const (
	notArchive archiveFormat = iota
	zipArchive
	gzipArchive
	tarArchive
)

func sniffArchive(name string, head []byte) (f archiveFormat, byMagic bool) {
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")), bytes.HasPrefix(head, []byte("PK\x05\x06")):
		return zipArchive, true
	case len(head) >= 3 && head[0] == 0x1f && head[1] == 0x8b && head[2] == 8:
		return gzipArchive, true
	case isUstar(head):
		return tarArchive, true
	}
	lower := strings.ToLower(name)
	for _, ext := range []string{".zip", ".jar", ".war", ".ear", ".apk", ".aar"} {
		if strings.HasSuffix(lower, ext) && len(head) > 0 {
			return zipArchive, false
		}
	}
	// An empty tar is only its end marker: zero blocks.
	if strings.HasSuffix(lower, ".tar") && (tarChecksumOK(head) || len(head) >= 512 && allZero(head[:512])) {
		return tarArchive, false
	}
	return notArchive, false
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

func isUstar(head []byte) bool {
	return len(head) >= 262 && string(head[257:262]) == "ustar"
}

// tarChecksumOK reports whether head starts with a tar header block whose checksum holds, the
// only sign an old (v7) tar gives.
func tarChecksumOK(head []byte) bool {
	if len(head) < 512 || head[0] == 0 {
		return false
	}
	field := strings.Trim(string(head[148:156]), " \x00")
	stored, err := strconv.ParseInt(field, 8, 64)
	if err != nil {
		return false
	}
	var sum int64
	for i, c := range head[:512] {
		if i >= 148 && i < 156 {
			c = ' '
		}
		sum += int64(c)
	}
	return sum == stored
}

// ExpandArchive calls yield for every file inside the archive at path, whose bytes are data,
// recursing into archives inside it up to lim.MaxDepth. Problems with the archive itself
// (corrupt, truncated, a bound reached) go to warn and expansion goes on with what it can read;
// yield's error stops it and is returned unchanged, as is ctx.Err() once ctx is done. depth is
// how many archives deep path already is (0 for a file in a layer or directory).
//
// MaxDepth counts the levels opened, path's own included, as gitleaks' --max-archive-depth
// does: with depth 0 and the default 3, path, an archive in it and an archive in that are
// opened, and an archive inside the last is yielded as a file.
//
// An archive that is not opened (deeper than lim.MaxDepth allows, MaxDepth < 0, or nothing in it
// readable) is yielded whole as a plain file at path, so a caller may hand every file IsArchive
// accepts to ExpandArchive. yield is called from the calling goroutine, and Content is never
// written to afterwards. Nothing is written to disk.
func ExpandArchive(ctx context.Context, path string, data []byte, depth int, lim ArchiveLimits, warn func(error), yield func(ArchiveEntry) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if warn == nil {
		warn = func(error) {}
	}
	d := DefaultArchiveLimits
	if lim.MaxDepth == 0 {
		lim.MaxDepth = d.MaxDepth
	}
	if lim.MaxTotal <= 0 {
		lim.MaxTotal = d.MaxTotal
	}
	if lim.MaxRatio <= 0 {
		lim.MaxRatio = d.MaxRatio
	}
	lim.MaxEntry = max(lim.MaxEntry, 0)
	x := &expansion{ctx: ctx, lim: lim, warn: warn, yield: yield}
	return x.expand(path, data, depth)
}

// expansion is the state of one ExpandArchive call, shared by every level below it.
type expansion struct {
	ctx   context.Context
	lim   ArchiveLimits
	warn  func(error)
	yield func(ArchiveEntry) error

	total       int64 // bytes decompressed so far, all levels
	warnedTotal bool
	warnedDepth bool
}

// archive is one archive being read.
type archive struct {
	x       *expansion
	path    string
	depth   int
	entries int // headers read, of any type

	// pending holds problems met before any entry: whether they are worth a warning depends on
	// whether the file was an archive at all.
	pending       []error
	warnedOutside bool
	warnedLimit   bool
}

// expand opens the archive at p, or yields it as a plain file when it is too deep or unreadable.
func (x *expansion) expand(p string, data []byte, depth int) error {
	if depth >= x.lim.MaxDepth {
		if x.lim.MaxDepth > 0 {
			x.depthReached(p)
		}
		return x.plain(p, data)
	}
	format, byMagic := sniffArchive(p, data[:min(len(data), headLen)])
	a := &archive{x: x, path: p, depth: depth}
	var err error
	switch format {
	case zipArchive:
		err = a.zip(data)
	case gzipArchive:
		err = a.gzip(data)
	case tarArchive:
		err = a.tar(bytes.NewReader(data), true)
	default:
		return x.plain(p, data)
	}
	if err != nil {
		return err
	}
	if a.entries == 0 && len(a.pending) > 0 {
		// A name alone promised an archive: the file is simply not one.
		if byMagic {
			a.flush()
		}
		return x.plain(p, data)
	}
	a.flush()
	return nil
}

// plain yields bytes as one file: an archive too deep to open, or not readable as one.
func (x *expansion) plain(p string, data []byte) error {
	size := int64(len(data))
	if x.lim.MaxEntry > 0 && size > x.lim.MaxEntry {
		return x.yield(ArchiveEntry{Path: p, Size: size, Skip: SkipTooLarge})
	}
	return x.yield(ArchiveEntry{Path: p, Content: data, Size: size})
}

func (x *expansion) depthReached(p string) {
	if !x.warnedDepth {
		x.warnedDepth = true
		x.warn(fmt.Errorf("expanding %q: not opened, archives nested more than %d levels deep are scanned as plain files", p, x.lim.MaxDepth))
	}
}

func (a *archive) problem(err error) {
	if a.entries == 0 {
		a.pending = append(a.pending, err)
		return
	}
	a.flush()
	a.x.warn(err)
}

func (a *archive) flush() {
	for _, err := range a.pending {
		a.x.warn(err)
	}
	a.pending = nil
}

// name turns an entry name into a path for display inside the archive. Nothing is extracted, so
// a name climbing out of the archive or an absolute one cannot reach anything, but it is a red
// flag (zip-slip) worth a warning. Backslashes are zip's Windows separators, not tar's.
func (a *archive) name(raw string, windows bool) string {
	n := raw
	abs := strings.HasPrefix(n, "/")
	if windows {
		n = strings.ReplaceAll(n, `\`, "/")
		if len(n) >= 2 && n[1] == ':' && ('a' <= n[0]|0x20 && n[0]|0x20 <= 'z') {
			n = n[2:]
			abs = true
		}
		abs = abs || strings.HasPrefix(n, "/")
	}
	n = path.Clean(strings.TrimLeft(n, "/"))
	if (abs || n == ".." || strings.HasPrefix(n, "../")) && !a.warnedOutside {
		a.warnedOutside = true
		a.problem(fmt.Errorf("expanding %q: entry with a path outside the archive: %q", a.path, raw))
	}
	return n
}

// limited reports a bound that stopped name, once per archive (the total once per outer file),
// and yields the entry as skipped so the report shows what was not scanned.
func (a *archive) limited(name string, size int64, err error) error {
	x := a.x
	if errors.Is(err, errTotalLimit) {
		if !x.warnedTotal {
			x.warnedTotal = true
			a.problem(fmt.Errorf("expanding %q: stopped at %q: %w", a.path, name, err))
		}
	} else if !a.warnedLimit {
		a.warnedLimit = true
		a.problem(fmt.Errorf("expanding %q: stopped at %q: %w", a.path, name, err))
	}
	return x.yield(ArchiveEntry{Path: a.path + "!/" + name, Size: size, Skip: SkipArchiveLimit})
}

// failed reports why an entry could not be read, yields it as skipped, and returns only an
// error that stops everything.
func (a *archive) failed(name string, size int64, err error) error {
	if ctxErr := a.x.ctx.Err(); ctxErr != nil && errors.Is(err, ctxErr) {
		return ctxErr
	}
	if errors.Is(err, errArchiveLimit) {
		return a.limited(name, size, err)
	}
	a.problem(fmt.Errorf("expanding %q: reading %q: %w", a.path, name, err))
	return a.x.yield(ArchiveEntry{Path: a.path + "!/" + name, Size: size, Skip: SkipUnreadable})
}

// broken reports why the archive's own structure could not be read further, and returns only
// an error that stops everything.
func (a *archive) broken(err error) error {
	if ctxErr := a.x.ctx.Err(); ctxErr != nil && errors.Is(err, ctxErr) {
		return ctxErr
	}
	switch {
	case errors.Is(err, errTotalLimit):
		if a.x.warnedTotal {
			return nil
		}
		a.x.warnedTotal = true
	case errors.Is(err, errArchiveLimit):
		if a.warnedLimit {
			return nil
		}
		a.warnedLimit = true
	}
	a.problem(fmt.Errorf("expanding %q: %w", a.path, err))
	return nil
}

// member handles one regular file of the archive: it opens an archive inside, or yields the
// file. size is the declared size (-1 when unknown), r the content, metered. ok is false when
// the content could not be read to its end, which ends a stream (tar, gzip) for good.
func (a *archive) member(name string, size int64, r io.Reader) (ok bool, err error) {
	x := a.x
	p := a.path + "!/" + name
	c := int64(headLen)
	if size > headLen {
		c = min(size, maxPrealloc, max(x.lim.MaxTotal-x.total+1, headLen))
		if x.lim.MaxEntry > 0 {
			c = min(c, max(x.lim.MaxEntry+1, headLen))
		}
	}
	buf, err := readUpTo(r, make([]byte, 0, c), headLen)
	n := len(buf)
	if err != nil {
		return false, a.failed(name, max(size, int64(n)), err)
	}
	nested := IsArchive(name, buf)
	if nested && a.depth+1 >= x.lim.MaxDepth {
		x.depthReached(p)
		nested = false
	}
	limit := int64(-1)
	if !nested && x.lim.MaxEntry > 0 {
		if size > x.lim.MaxEntry || int64(n) > x.lim.MaxEntry {
			return true, x.yield(ArchiveEntry{Path: p, Size: max(size, int64(n)), Skip: SkipTooLarge})
		}
		limit = x.lim.MaxEntry + 1
	}
	if n == headLen {
		buf, err = readUpTo(r, buf, limit)
		if err != nil {
			return false, a.failed(name, max(size, int64(len(buf))), err)
		}
	}
	if limit >= 0 && int64(len(buf)) >= limit {
		return true, x.yield(ArchiveEntry{Path: p, Size: max(size, int64(len(buf))), Skip: SkipTooLarge})
	}
	if nested {
		return true, x.expand(p, buf, a.depth+1)
	}
	return true, x.yield(ArchiveEntry{Path: p, Content: buf, Size: int64(len(buf))})
}

// readUpTo appends r's content to buf until EOF or until buf holds limit bytes (limit < 0: no
// limit).
func readUpTo(r io.Reader, buf []byte, limit int64) ([]byte, error) {
	for {
		if limit >= 0 && int64(len(buf)) >= limit {
			return buf, nil
		}
		if len(buf) == cap(buf) {
			// Doubling up to the limit, not append's gentler growth: a big entry would
			// otherwise cost several times its size in discarded buffers.
			n := int64(max(2*cap(buf), 4096))
			if limit >= 0 {
				n = min(n, limit)
			}
			buf = append(make([]byte, 0, n), buf...)
		}
		room := buf[len(buf):cap(buf)]
		if limit >= 0 && int64(len(room)) > limit-int64(len(buf)) {
			room = room[:limit-int64(len(buf))]
		}
		n, err := r.Read(room)
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// meter counts what a decompressor produces and stops it at the ratio and total bounds: the
// sizes an archive declares are what a bomb lies about.
type meter struct {
	x       *expansion
	r       io.Reader
	n       int64 // bytes produced
	cap     int64 // the ratio bound; <0 = none (an uncompressed tar)
	csize   int64 // compressed size the ratio bound was set from
	nextCtx int64
	err     error // sticky
}

func (x *expansion) meter(r io.Reader, csize int64) *meter {
	m := &meter{x: x, r: r, cap: -1, csize: csize, nextCtx: ctxEvery}
	if csize >= 0 {
		m.cap = x.ratioCap(csize)
	}
	return m
}

// ratioCap is the most a stream of csize compressed bytes may expand to.
func (x *expansion) ratioCap(csize int64) int64 {
	if csize > math.MaxInt64/x.lim.MaxRatio {
		return math.MaxInt64
	}
	return max(ratioGrace, csize*x.lim.MaxRatio)
}

func (x *expansion) ratioErr(csize int64) error {
	return fmt.Errorf("expands to more than %d times its %d compressed bytes: %w", x.lim.MaxRatio, csize, errArchiveLimit)
}

func (m *meter) Read(p []byte) (int, error) {
	if m.err != nil {
		return 0, m.err
	}
	room := m.x.lim.MaxTotal - m.x.total
	var bound error
	if m.cap >= 0 && m.cap-m.n < room {
		room = m.cap - m.n
		bound = m.x.ratioErr(m.csize)
	} else {
		bound = fmt.Errorf("expanded to more than %d bytes in all: %w", m.x.lim.MaxTotal, errTotalLimit)
	}
	if room <= 0 {
		// Only more output crosses the bound: a stream ending exactly at it is fine.
		var one [1]byte
		n, err := io.ReadAtLeast(m.r, one[:], 1)
		if n == 0 {
			return 0, err
		}
		m.err = bound
		return 0, m.err
	}
	// Bounded reads also keep the looks at ctx below apart by no more than ctxEvery.
	p = p[:min(int64(len(p)), room, ctxEvery)]
	n, err := m.r.Read(p)
	m.n += int64(n)
	m.x.total += int64(n)
	if m.n >= m.nextCtx {
		m.nextCtx = m.n + ctxEvery
		if cerr := m.x.ctx.Err(); cerr != nil {
			m.err = cerr
			return n, cerr
		}
	}
	return n, err
}

func (a *archive) zip(data []byte) error {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if zr != nil {
		zr.RegisterDecompressor(zip.Deflate, flate.NewReader)
	}
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		a.problem(fmt.Errorf("expanding %q: reading entries in order, the central directory is unreadable: %w", a.path, err))
		return a.zipLocal(data)
	}
	for _, f := range zr.File {
		if err := a.x.ctx.Err(); err != nil {
			return err
		}
		a.entries++
		if !f.Mode().IsRegular() {
			continue // directories, symlinks, devices: no content of their own
		}
		name := a.name(f.Name, true)
		size := int64(min(f.UncompressedSize64, math.MaxInt64))
		if f.Flags&0x1 != 0 {
			if err := a.failed(name, size, errors.New("encrypted")); err != nil {
				return err
			}
			continue
		}
		rc, err := f.Open()
		if err != nil {
			if err := a.failed(name, size, err); err != nil {
				return err
			}
			continue
		}
		// A real compressed size cannot exceed the file: a larger one would widen the ratio.
		csize := int64(min(f.CompressedSize64, uint64(len(data))))
		_, err = a.zipEntry(name, size, a.x.meter(&zipOverrun{r: rc, size: size}, csize))
		rc.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// zipEntry handles one zip member: its declared size is held to the ratio bound before
// anything is inflated, and the meter holds the actual output to it. size < 0 is unknown.
func (a *archive) zipEntry(name string, size int64, m *meter) (ok bool, err error) {
	if size > m.cap {
		return false, a.limited(name, size, a.x.ratioErr(m.csize))
	}
	return a.member(name, size, m)
}

// zipOverrun tells archive/zip's error for an entry longer than its header says from plain
// corruption: the lie is what a bomb relies on, so it is a bound reached.
type zipOverrun struct {
	r    io.Reader
	size int64
}

func (z *zipOverrun) Read(p []byte) (int, error) {
	n, err := z.r.Read(p)
	if errors.Is(err, zip.ErrFormat) {
		err = fmt.Errorf("expands beyond the %d bytes its header declares: %w", z.size, errArchiveLimit)
	}
	return n, err
}

var (
	zipLocalSig   = []byte("PK\x03\x04")
	zipCentralSig = []byte("PK\x01\x02")
	zipEndSig     = []byte("PK\x05\x06")
	zip64EndSig   = []byte("PK\x06\x06")
	zipDescSig    = []byte("PK\x07\x08")
)

// zipLocal reads a zip whose central directory is gone (a truncated download, a damaged end) by
// walking its local headers from the start, so the entries before the damage are still scanned.
func (a *archive) zipLocal(data []byte) error {
	le := binary.LittleEndian
	off := 0
	for {
		if err := a.x.ctx.Err(); err != nil {
			return err
		}
		rest := data[off:]
		if !bytes.HasPrefix(rest, zipLocalSig) {
			if len(rest) > 0 && off > 0 && !bytes.HasPrefix(rest, zipCentralSig) && !bytes.HasPrefix(rest, zipEndSig) && !bytes.HasPrefix(rest, zip64EndSig) {
				a.problem(fmt.Errorf("expanding %q: no zip entry at byte %d", a.path, off))
			}
			return nil
		}
		if len(rest) < 30 {
			return a.broken(fmt.Errorf("zip entry header at byte %d: %w", off, io.ErrUnexpectedEOF))
		}
		flags, method, crc := le.Uint16(rest[6:]), le.Uint16(rest[8:]), le.Uint32(rest[14:])
		csize, usize := uint64(le.Uint32(rest[18:])), uint64(le.Uint32(rest[22:]))
		nlen, xlen := int(le.Uint16(rest[26:])), int(le.Uint16(rest[28:]))
		body := 30 + nlen + xlen
		if body > len(rest) {
			return a.broken(fmt.Errorf("zip entry header at byte %d: %w", off, io.ErrUnexpectedEOF))
		}
		rawName := string(rest[30 : 30+nlen])
		if csize == math.MaxUint32 || usize == math.MaxUint32 {
			usize, csize = zip64Sizes(rest[30+nlen:body], usize, csize)
		}
		a.entries++
		dir := strings.HasSuffix(rawName, "/")
		name := rawName
		if !dir {
			name = a.name(rawName, true)
		}
		// With a data descriptor the sizes follow the data: only inflating finds its end.
		described := flags&0x8 != 0
		src := rest[body:]
		if !described {
			if csize > uint64(len(src)) {
				if dir {
					return a.broken(fmt.Errorf("zip entry at byte %d: %w", off, io.ErrUnexpectedEOF))
				}
				return a.failed(name, int64(min(usize, math.MaxInt64)), io.ErrUnexpectedEOF)
			}
			src = src[:csize]
		}
		br := bytes.NewReader(src)
		var r io.Reader
		var why error
		switch {
		case method == zip.Deflate:
			r = flate.NewReader(br)
		case method == zip.Store && !described:
			r = br
		case method == zip.Store:
			why = errors.New("stored with its size after the data: unreadable without the central directory")
		default:
			why = zip.ErrAlgorithm
		}
		if flags&0x1 != 0 {
			why = errors.New("encrypted")
		}
		size := int64(-1)
		if !described {
			size = int64(min(usize, math.MaxInt64))
			if r != nil {
				r = &zipLocalCheck{r: r, size: size, crc: crc, hash: crc32.NewIEEE()}
			}
		}
		var m *meter
		if r != nil {
			m = a.x.meter(r, int64(len(src)))
		}
		ok := true
		switch {
		case dir:
		case why != nil:
			if err := a.failed(name, size, why); err != nil {
				return err
			}
		default:
			var err error
			if ok, err = a.zipEntry(name, size, m); err != nil {
				return err
			}
		}
		if !described {
			off += body + len(src)
			continue
		}
		if !ok {
			return nil // reported with the entry; its end is not to be found
		}
		if m == nil {
			return nil // reported with the entry
		}
		if _, err := io.Copy(io.Discard, m); err != nil {
			return a.broken(fmt.Errorf("finding the end of zip entry %q: %w", name, err))
		}
		off += body + len(src) - br.Len()
		if bytes.HasPrefix(data[off:], zipDescSig) {
			off += 4
		}
		// CRC and sizes: 12 bytes, or 20 in a zip64 entry, which only the next signature tells.
		off = min(off+12, len(data))
		if !bytes.HasPrefix(data[off:], []byte("PK")) && off+8 <= len(data) && bytes.HasPrefix(data[off+8:], []byte("PK")) {
			off += 8
		}
	}
}

// zip64Sizes reads the sizes from a local header's zip64 extra field, which holds both whenever
// either overflowed 32 bits.
func zip64Sizes(extra []byte, usize, csize uint64) (uint64, uint64) {
	le := binary.LittleEndian
	for len(extra) >= 4 {
		id, n := le.Uint16(extra), int(le.Uint16(extra[2:]))
		extra = extra[4:]
		if n > len(extra) {
			break
		}
		if id == 0x0001 && n >= 16 {
			return le.Uint64(extra), le.Uint64(extra[8:])
		}
		extra = extra[n:]
	}
	return usize, csize
}

// zipLocalCheck holds an entry read without the central directory to its local header's size
// and CRC, as archive/zip does for the entries it reads.
type zipLocalCheck struct {
	r    io.Reader
	size int64
	crc  uint32
	hash interface {
		io.Writer
		Sum32() uint32
	}
	n int64
}

func (z *zipLocalCheck) Read(p []byte) (int, error) {
	n, err := z.r.Read(p)
	z.n += int64(n)
	z.hash.Write(p[:n])
	if z.n > z.size {
		return 0, fmt.Errorf("expands beyond the %d bytes its header declares: %w", z.size, errArchiveLimit)
	}
	if err == io.EOF {
		if z.n != z.size {
			return n, io.ErrUnexpectedEOF
		}
		if z.crc != 0 && z.hash.Sum32() != z.crc {
			return n, zip.ErrChecksum
		}
	}
	return n, err
}

// gzip reads a gzip file: a tar inside is read as its members (a .tar.gz is one archive level),
// anything else is one entry named after the file.
func (a *archive) gzip(data []byte) error {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return a.broken(err)
	}
	defer zr.Close()
	m := a.x.meter(zr, int64(len(data)))
	br := bufio.NewReaderSize(m, 64<<10)
	// A failed peek is left to member, which reads the same error and reports the entry.
	head, _ := br.Peek(headLen)
	lower := strings.ToLower(a.path)
	if isUstar(head) || (strings.HasSuffix(lower, ".tgz") || strings.HasSuffix(lower, ".tar.gz")) && tarChecksumOK(head) {
		return a.tar(br, false)
	}
	a.entries++
	// The trailer's size is no declared size to check first: it is modulo 4 GiB, and garbage in
	// a truncated file, which would pass for a bomb. The meter stops a real one while inflating.
	_, err = a.member(gzipEntryName(a.path, zr.Header.Name), -1, br)
	return err
}

// gzipEntryName names a gzip file's content as gunzip would: the file name without .gz, else
// the name the header records.
func gzipEntryName(archivePath, header string) string {
	base := archivePath[strings.LastIndex(archivePath, "/")+1:]
	lower := strings.ToLower(base)
	switch {
	case strings.HasSuffix(lower, ".tgz") && len(base) > 4:
		return base[:len(base)-4] + ".tar"
	case strings.HasSuffix(lower, ".gz") && len(base) > 3:
		return base[:len(base)-3]
	case header != "" && path.Base(header) != "/" && path.Base(header) != "..":
		return path.Base(header)
	}
	return base
}

// tar reads a tar stream's regular files. plain is an uncompressed tar, whose members are
// metered here; a compressed one's bytes were metered as they were inflated.
func (a *archive) tar(r io.Reader, plain bool) error {
	tr := tar.NewReader(r)
	for {
		if err := a.x.ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil && !errors.Is(err, tar.ErrInsecurePath) {
			return a.broken(err)
		}
		a.entries++
		switch hdr.Typeflag {
		case tar.TypeReg, tar.TypeCont, tar.TypeGNUSparse:
		default:
			continue // directories, links, devices: no content of their own
		}
		name := a.name(hdr.Name, false)
		var mr io.Reader = tr
		if plain {
			mr = a.x.meter(tr, -1)
		}
		ok, err := a.member(name, hdr.Size, mr)
		if err != nil || !ok {
			return err
		}
	}
}
