package scanner

import (
	"cmp"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"slices"
	"sort"
)

// Dump formats, as DumpFile.Format names them. Format says how the file was read: a dump whose
// memory map could not be used (a damaged header, no memory list) is "raw".
const (
	DumpELFCore  = "elf-core"
	DumpMinidump = "minidump"
	DumpRaw      = "raw"
)

// Region is one run of a dump's bytes that held memory.
type Region struct {
	Offset int64  // file offset of the region's first byte
	Size   int64  // bytes present in the file
	Addr   uint64 // virtual address of the first byte; meaningful only when Mapped
	Mapped bool   // Addr is known (core and minidump memory; false for raw images and clashing ranges)
}

// End returns the file offset just past the region.
func (r Region) End() int64 { return r.Offset + r.Size }

// DumpFile is an open dump: its format and memory regions, readable at file offsets. ReadAt
// and RegionAt may be called from several goroutines at once, but not concurrently with Close.
type DumpFile struct {
	Path     string
	Format   string // DumpELFCore, DumpMinidump or DumpRaw
	Size     int64
	Regions  []Region // in file-offset order, non-overlapping, clamped to the file's size
	Warnings []string // one-line notes: a truncated region, a damaged header read as raw, …
	f        *os.File
}

// maxDumpRegions bounds the regions a minidump may list, so that a hostile count cannot make
// the parser allocate without bound (32 bytes a region: 32 MiB at most). Real dumps list far
// fewer: Linux caps a process at 65530 mappings by default, and Windows full-memory dumps hold
// tens of thousands of ranges. A dump listing more is scanned as raw bytes, so nothing is lost.
var maxDumpRegions = 1 << 20 // a variable so that tests can lower it

var (
	elfMagic      = []byte("\x7fELF")
	minidumpMagic = []byte("MDMP") // 0x504d444d little-endian
)

// OpenDump opens the dump at path and reads its memory map. A file that is neither an ELF core
// nor a minidump, or whose headers are too damaged to use, is read as one raw region covering
// the whole file, with a warning when the header looked like a dump's; an empty file has no
// regions. Only a file that cannot be opened, or is not a regular file, is an error.
func OpenDump(path string) (*DumpFile, error) {
	f, err := os.Open(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is already in the message
		}
		return nil, fmt.Errorf("opening dump %q: %w", path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("opening dump %q: %w", path, err)
	}
	if fi.IsDir() {
		f.Close()
		return nil, fmt.Errorf("opening dump %q: is a directory", path)
	}
	if !fi.Mode().IsRegular() {
		// A FIFO or device has no size to bound regions by, and reading one may block.
		f.Close()
		return nil, fmt.Errorf("opening dump %q: not a regular file", path)
	}
	d := &DumpFile{Path: path, Format: DumpRaw, Size: fi.Size(), f: f}
	if d.Size == 0 {
		return d, nil
	}
	magic := make([]byte, 4)
	n, err := f.ReadAt(magic, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		f.Close()
		return nil, fmt.Errorf("reading dump %q: %w", path, err)
	}
	magic = magic[:n]
	var regions []Region
	switch {
	case slices.Equal(magic, elfMagic):
		var perr error
		regions, d.Warnings, perr = parseELF(f, d.Size)
		if perr != nil {
			d.Warnings = append(d.Warnings, perr.Error()+"; scanned as raw bytes")
		} else if len(regions) > 0 {
			d.Format = DumpELFCore
		}
	case slices.Equal(magic, minidumpMagic):
		var perr error
		regions, d.Warnings, perr = parseMinidump(f, d.Size)
		if perr != nil {
			d.Warnings = append(d.Warnings, perr.Error()+"; scanned as raw bytes")
		} else if len(regions) > 0 {
			d.Format = DumpMinidump
		}
	}
	if d.Format == DumpRaw {
		regions = rawRegions(d.Size)
	}
	d.Regions = regions
	return d, nil
}

// ReadAt reads the dump's bytes at file offset off; it implements io.ReaderAt.
func (d *DumpFile) ReadAt(p []byte, off int64) (int, error) {
	if d.f == nil {
		return 0, fmt.Errorf("reading dump %q: %w", d.Path, fs.ErrClosed)
	}
	return d.f.ReadAt(p, off)
}

// RegionAt returns the region holding file offset off, if any; its virtual address is
// r.Addr + (off - r.Offset) when r.Mapped.
func (d *DumpFile) RegionAt(off int64) (Region, bool) {
	i := sort.Search(len(d.Regions), func(i int) bool { return d.Regions[i].End() > off })
	if i < len(d.Regions) && d.Regions[i].Offset <= off {
		return d.Regions[i], true
	}
	return Region{}, false
}

// Close closes the file.
func (d *DumpFile) Close() error {
	if d.f == nil {
		return nil
	}
	err := d.f.Close()
	d.f = nil
	return err
}

// ParseELFCore reads the memory map of an ELF file of size bytes: for a core (ET_CORE), every
// PT_LOAD segment with bytes in the file, at its virtual address. Segments gcore writes empty
// (unreadable mappings) are skipped. Any other ELF (an executable, a shared object), or a core
// with no memory in it, is one raw region covering the file. The error is for a header too
// damaged to read; the warnings say what was clamped or dropped.
func ParseELFCore(r io.ReaderAt, size int64) ([]Region, []string, error) {
	regions, warns, err := parseELF(r, size)
	if err != nil {
		return nil, warns, err
	}
	if len(regions) == 0 {
		regions = rawRegions(size)
	}
	return regions, warns, nil
}

// ParseMinidump reads the memory map of a Windows minidump of size bytes: the ranges of its
// MemoryListStream and Memory64ListStream, at their virtual addresses. A minidump without
// usable memory ranges is one raw region covering the file, with a warning. The error is for a
// file that is not a minidump or whose stream directory cannot be read.
func ParseMinidump(r io.ReaderAt, size int64) ([]Region, []string, error) {
	regions, warns, err := parseMinidump(r, size)
	if err != nil {
		return nil, warns, err
	}
	if len(regions) == 0 {
		regions = rawRegions(size)
	}
	return regions, warns, nil
}

func rawRegions(size int64) []Region {
	if size <= 0 {
		return nil
	}
	return []Region{{Offset: 0, Size: size}}
}

// parseELF returns a core's memory regions, or none (with a warning saying why, unless the
// file is simply not a core) when the file is to be read raw.
func parseELF(r io.ReaderAt, size int64) ([]Region, []string, error) {
	var warns []string
	ef, err := elf.NewFile(io.NewSectionReader(r, 0, size))
	if err != nil {
		// gdb writes the section headers at the end of a core, so a truncated core loses them
		// while its program headers, all a core's memory map needs, are intact.
		ef2, err2 := elf.NewFile(io.NewSectionReader(hideELFSections(r, size), 0, size))
		if err2 != nil {
			return nil, nil, fmt.Errorf("reading ELF header: %w", err)
		}
		ef = ef2
		warns = append(warns, fmt.Sprintf("ELF section headers unreadable (%v); read the program headers only", err))
	}
	if ef.Type != elf.ET_CORE {
		return nil, nil, nil
	}
	var regions []Region
	var past, cut int
	for _, p := range ef.Progs {
		if p.Type != elf.PT_LOAD || p.Filesz == 0 {
			continue
		}
		reg, ok := clampRegion(p.Off, p.Filesz, size, &past, &cut)
		if !ok {
			continue
		}
		reg.Addr, reg.Mapped = p.Vaddr, true
		regions = append(regions, reg)
	}
	if past > 0 {
		warns = append(warns, fmt.Sprintf("core is truncated: %d memory segments lie past the end of the file", past))
	}
	if cut > 0 {
		warns = append(warns, fmt.Sprintf("core is truncated: %d memory segments are cut short", cut))
	}
	if len(regions) == 0 {
		return nil, append(warns, "ELF core holds no memory segments; scanned as raw bytes"), nil
	}
	regions, warns = normalizeRegions(regions, warns)
	return regions, warns, nil
}

// clampRegion turns n bytes at offset off into a region within a file of size bytes, counting
// the ones that lie past its end and the ones cut short.
func clampRegion(off, n uint64, size int64, past, cut *int) (Region, bool) {
	if off >= uint64(size) {
		*past++
		return Region{}, false
	}
	if n > uint64(size)-off {
		n = uint64(size) - off
		*cut++
	}
	return Region{Offset: int64(off), Size: int64(n)}, true
}

// hideELFSections returns r with the ELF header's section header fields zeroed, so that
// debug/elf reads the program headers alone.
func hideELFSections(r io.ReaderAt, size int64) io.ReaderAt {
	var hdr [64]byte
	n, _ := r.ReadAt(hdr[:], 0)
	p := patchedReader{r: r, data: hdr[:n]}
	zero := func(off, n int) {
		if off+n <= len(p.data) {
			clear(p.data[off : off+n])
		}
	}
	if n > elf.EI_CLASS && elf.Class(hdr[elf.EI_CLASS]) == elf.ELFCLASS32 {
		zero(0x20, 4) // e_shoff
		zero(0x30, 4) // e_shnum, e_shstrndx
	} else {
		zero(0x28, 8) // e_shoff
		zero(0x3c, 4) // e_shnum, e_shstrndx
	}
	return p
}

// patchedReader reads r with its first len(data) bytes replaced by data.
type patchedReader struct {
	r    io.ReaderAt
	data []byte
}

func (p patchedReader) ReadAt(b []byte, off int64) (int, error) {
	n, err := p.r.ReadAt(b, off)
	if off < int64(len(p.data)) {
		copy(b[:n], p.data[off:])
	}
	return n, err
}

// Minidump layout (minidumpapiset.h); every integer is little-endian.
const (
	mdHeaderSize     = 32 // Signature, Version, NumberOfStreams, StreamDirectoryRva, CheckSum, TimeDateStamp u32; Flags u64
	mdVersion        = 0xa793
	mdDirEntrySize   = 12 // StreamType, DataSize, Rva u32
	mdMemoryList     = 5  // u32 count, then {StartOfMemoryRange u64, DataSize u32, Rva u32}
	mdMemory64List   = 9  // u64 count, u64 BaseRva, then {StartOfMemoryRange u64, DataSize u64}
	mdDescSize       = 16 // both descriptor kinds
	mdEntriesPerRead = 4096
)

// mdParse is the state of one minidump parse.
type mdParse struct {
	r       io.ReaderAt
	size    int64
	regions []Region
	lists   int  // memory list streams seen
	tooMany bool // more than maxDumpRegions ranges
	// problems counted, reported once each
	badStreams, cutStreams, clampedCounts, past, cut int
}

// parseMinidump returns a minidump's memory regions, or none (with a warning saying why) when
// the file is to be read raw.
func parseMinidump(r io.ReaderAt, size int64) ([]Region, []string, error) {
	var warns []string
	if size < mdHeaderSize {
		return nil, nil, fmt.Errorf("reading minidump header: file is %d bytes, shorter than the header", size)
	}
	hdr := make([]byte, mdHeaderSize)
	if err := readAtFull(r, hdr, 0); err != nil {
		return nil, nil, fmt.Errorf("reading minidump header: %w", err)
	}
	if !slices.Equal(hdr[:4], minidumpMagic) {
		return nil, nil, errors.New("reading minidump header: no MDMP signature")
	}
	le := binary.LittleEndian
	if v := le.Uint32(hdr[4:]) & 0xffff; v != mdVersion {
		warns = append(warns, fmt.Sprintf("minidump format version %#04x, not %#04x; read anyway", v, mdVersion))
	}
	nStreams, dirRVA := uint64(le.Uint32(hdr[8:])), uint64(le.Uint32(hdr[12:]))
	p := &mdParse{r: r, size: size}
	if nStreams > 0 {
		if dirRVA >= uint64(size) || uint64(size)-dirRVA < mdDirEntrySize {
			return nil, warns, fmt.Errorf("reading minidump stream directory: it lies past the end of the file (RVA %#x, file %d bytes)", dirRVA, size)
		}
		if dirRVA < mdHeaderSize {
			warns = append(warns, "minidump stream directory overlaps the header")
		}
		if fit := (uint64(size) - dirRVA) / mdDirEntrySize; nStreams > fit {
			warns = append(warns, fmt.Sprintf("minidump directory claims %d streams, the file holds at most %d; read those", nStreams, fit))
			nStreams = fit
		}
		buf := make([]byte, min(nStreams, mdEntriesPerRead)*mdDirEntrySize)
		for i := uint64(0); i < nStreams && !p.tooMany; {
			k := min(nStreams-i, mdEntriesPerRead)
			b := buf[:k*mdDirEntrySize]
			if err := readAtFull(r, b, int64(dirRVA+i*mdDirEntrySize)); err != nil {
				return nil, warns, fmt.Errorf("reading minidump stream directory: %w", err)
			}
			for e := 0; e+mdDirEntrySize <= len(b) && !p.tooMany; e += mdDirEntrySize {
				typ, dsize, rva := le.Uint32(b[e:]), uint64(le.Uint32(b[e+4:])), uint64(le.Uint32(b[e+8:]))
				switch typ {
				case mdMemoryList, mdMemory64List:
					if err := p.memoryList(typ, rva, dsize); err != nil {
						return nil, warns, err
					}
				}
			}
			i += k
		}
	}
	warns = append(warns, p.warnings()...)
	switch {
	case p.tooMany:
		return nil, append(warns, fmt.Sprintf("minidump lists more than %d memory ranges; scanned as raw bytes", maxDumpRegions)), nil
	case p.lists == 0:
		return nil, append(warns, "minidump has no memory list; scanned as raw bytes"), nil
	case len(p.regions) == 0:
		return nil, append(warns, "minidump memory lists hold no ranges within the file; scanned as raw bytes"), nil
	}
	regions, warns := normalizeRegions(p.regions, warns)
	return regions, warns, nil
}

// memoryList adds the ranges of one MemoryListStream or Memory64ListStream.
func (p *mdParse) memoryList(typ uint32, rva, dsize uint64) error {
	p.lists++
	if rva >= uint64(p.size) {
		p.badStreams++
		return nil
	}
	if dsize > uint64(p.size)-rva {
		dsize = uint64(p.size) - rva
		p.cutStreams++
	}
	le := binary.LittleEndian
	hdrSize := uint64(4)
	if typ == mdMemory64List {
		hdrSize = 16
	}
	if dsize < hdrSize {
		p.badStreams++
		return nil
	}
	hdr := make([]byte, hdrSize)
	if err := readAtFull(p.r, hdr, int64(rva)); err != nil {
		return fmt.Errorf("reading minidump memory list: %w", err)
	}
	var count, base uint64
	if typ == mdMemory64List {
		count, base = le.Uint64(hdr), le.Uint64(hdr[8:])
	} else {
		count = uint64(le.Uint32(hdr))
	}
	if fit := (dsize - hdrSize) / mdDescSize; count > fit {
		count = fit
		p.clampedCounts++
	}
	buf := make([]byte, min(count, mdEntriesPerRead)*mdDescSize)
	next := base // Memory64List: ranges lie back to back from BaseRva
	for i := uint64(0); i < count; {
		k := min(count-i, mdEntriesPerRead)
		b := buf[:k*mdDescSize]
		if err := readAtFull(p.r, b, int64(rva+hdrSize+i*mdDescSize)); err != nil {
			return fmt.Errorf("reading minidump memory list: %w", err)
		}
		for e := 0; e+mdDescSize <= len(b); e += mdDescSize {
			addr := le.Uint64(b[e:])
			var off, n uint64
			if typ == mdMemory64List {
				off, n = next, le.Uint64(b[e+8:])
				if next >= uint64(p.size) {
					// This and every later range lie past the end; count them without reading.
					p.past += int(count - i - uint64(e/mdDescSize))
					return nil
				}
				next = satAdd(next, n)
			} else {
				n, off = uint64(le.Uint32(b[e+8:])), uint64(le.Uint32(b[e+12:]))
			}
			if n == 0 {
				continue
			}
			reg, ok := clampRegion(off, n, p.size, &p.past, &p.cut)
			if !ok {
				continue
			}
			if len(p.regions) >= maxDumpRegions {
				p.tooMany = true
				return nil
			}
			reg.Addr, reg.Mapped = addr, true
			p.regions = append(p.regions, reg)
		}
		i += k
	}
	return nil
}

func (p *mdParse) warnings() []string {
	var w []string
	add := func(n int, format string) {
		if n > 0 {
			w = append(w, fmt.Sprintf(format, n))
		}
	}
	add(p.badStreams, "minidump: %d memory list streams lie outside the file or are too short; skipped")
	add(p.cutStreams, "minidump: %d memory list streams are cut short by the end of the file")
	add(p.clampedCounts, "minidump: %d memory lists claim more ranges than their stream holds; read those it holds")
	add(p.past, "minidump is truncated: %d memory ranges lie past the end of the file")
	add(p.cut, "minidump is truncated: %d memory ranges are cut short")
	return w
}

// normalizeRegions sorts regions by file offset and makes them disjoint: a region whose bytes
// an earlier one already covers is dropped or trimmed (its address moved with its start), so
// no byte is scanned twice. Then a region whose addresses overlap a lower one's (with
// different bytes: a damaged or hostile map) keeps its bytes but loses its address.
func normalizeRegions(regions []Region, warns []string) ([]Region, []string) {
	slices.SortStableFunc(regions, func(a, b Region) int { return cmp.Compare(a.Offset, b.Offset) })
	out := regions[:0]
	var end int64
	var dropped, trimmed int
	for _, r := range regions {
		switch {
		case len(out) == 0 || r.Offset >= end:
		case r.End() <= end:
			dropped++
			continue
		default:
			d := end - r.Offset
			r.Offset, r.Size = end, r.Size-d
			r.Addr += uint64(d)
			trimmed++
		}
		out = append(out, r)
		end = r.End()
	}
	if dropped > 0 {
		warns = append(warns, fmt.Sprintf("%d memory ranges repeat file bytes of earlier ones; dropped", dropped))
	}
	if trimmed > 0 {
		warns = append(warns, fmt.Sprintf("%d memory ranges overlap earlier ones in the file; the shared bytes are scanned once", trimmed))
	}

	byAddr := make([]int, 0, len(out))
	for i := range out {
		if out[i].Mapped {
			byAddr = append(byAddr, i)
		}
	}
	slices.SortStableFunc(byAddr, func(a, b int) int { return cmp.Compare(out[a].Addr, out[b].Addr) })
	var addrEnd uint64
	var clashes int
	for k, i := range byAddr {
		if k > 0 && out[i].Addr < addrEnd {
			out[i].Addr, out[i].Mapped = 0, false
			clashes++
			continue
		}
		addrEnd = satAdd(out[i].Addr, uint64(out[i].Size))
	}
	if clashes > 0 {
		warns = append(warns, fmt.Sprintf("%d memory ranges overlap others in the address space; scanned without addresses", clashes))
	}
	return out, warns
}

func satAdd(a, b uint64) uint64 {
	if a > math.MaxUint64-b {
		return math.MaxUint64
	}
	return a + b
}

// readAtFull fills b from r at off; a short read is io.ErrUnexpectedEOF.
func readAtFull(r io.ReaderAt, b []byte, off int64) error {
	n, err := r.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
