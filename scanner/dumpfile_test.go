package scanner

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"io/fs"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/scanner/dumptest"
)

// checkDumpRegions fails t unless regions lie within a file of size bytes, sorted by offset, each
// non-empty, none overlapping the next.
func checkDumpRegions(t testing.TB, regions []Region, size int64) {
	t.Helper()
	var end int64
	for i, r := range regions {
		if r.Size <= 0 || r.Offset < 0 || r.Offset > size || r.Size > size-r.Offset {
			t.Fatalf("region %d %+v does not lie within the file's %d bytes", i, r, size)
		}
		if r.Offset < end {
			t.Fatalf("region %d %+v starts before the previous one's end %d", i, r, end)
		}
		end = r.End()
	}
}

func dumpTestBytes(seed uint64, n int) []byte {
	rng := mrand.New(mrand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func writeDumpFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func openTestDump(t *testing.T, path string) *DumpFile {
	t.Helper()
	d, err := OpenDump(path)
	if err != nil {
		t.Fatalf("OpenDump: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	checkDumpRegions(t, d.Regions, d.Size)
	return d
}

func TestMinidumpRoundTrip(t *testing.T) {
	ranges := []dumptest.Range{
		{Addr: 0x7ff6_1000_0000, Data: dumpTestBytes(1, 4096)},
		{Addr: 0x1000, Data: dumpTestBytes(2, 17)},
		{Addr: 0x2000, Data: nil}, // an empty range holds no bytes to scan
		{Addr: 0xffff_ffff_ffff_f000, Data: dumpTestBytes(3, 4096)},
	}
	tests := []struct {
		name     string
		memory64 bool
		dataRVA  int64 // where the first range's bytes start
	}{
		{name: "MemoryListStream", memory64: false, dataRVA: 32 + 12 + 4 + 16*4},
		{name: "Memory64ListStream", memory64: true, dataRVA: 32 + 12 + 16 + 16*4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []Region
			off := tt.dataRVA
			for _, r := range ranges {
				if len(r.Data) > 0 {
					want = append(want, Region{Offset: off, Size: int64(len(r.Data)), Addr: r.Addr, Mapped: true})
				}
				off += int64(len(r.Data))
			}
			d := openTestDump(t, dumptest.MinidumpFile(t, ranges, tt.memory64))
			if d.Format != DumpMinidump || len(d.Warnings) != 0 {
				t.Errorf("Format %q, warnings %q; want %q, none", d.Format, d.Warnings, DumpMinidump)
			}
			if d.Size != off {
				t.Errorf("Size = %d, want %d", d.Size, off)
			}
			if diff := cmp.Diff(want, d.Regions); diff != "" {
				t.Fatalf("regions (-want +got):\n%s", diff)
			}
			i := 0
			for _, r := range ranges {
				if len(r.Data) == 0 {
					continue
				}
				got := make([]byte, d.Regions[i].Size)
				if _, err := d.ReadAt(got, d.Regions[i].Offset); err != nil {
					t.Fatalf("ReadAt region %d: %v", i, err)
				}
				if !bytes.Equal(got, r.Data) {
					t.Errorf("region %d bytes differ from range at %#x", i, r.Addr)
				}
				i++
			}
		})
	}
}

func TestDumpFileRegionAt(t *testing.T) {
	d := openTestDump(t, dumptest.MinidumpFile(t, []dumptest.Range{
		{Addr: 0x10000, Data: dumpTestBytes(4, 100)},
		{Addr: 0x50000, Data: dumpTestBytes(5, 50)},
	}, false))
	first := d.Regions[0].Offset
	tests := []struct {
		name     string
		off      int64
		wantAddr uint64
		wantOK   bool
	}{
		{name: "before the memory", off: 0},
		{name: "first byte", off: first, wantAddr: 0x10000, wantOK: true},
		{name: "last byte of the first range", off: first + 99, wantAddr: 0x10000 + 99, wantOK: true},
		{name: "first byte of the second range", off: first + 100, wantAddr: 0x50000, wantOK: true},
		{name: "last byte", off: first + 149, wantAddr: 0x50000 + 49, wantOK: true},
		{name: "past the end", off: first + 150},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, ok := d.RegionAt(tt.off)
			if ok != tt.wantOK {
				t.Fatalf("RegionAt(%d) ok = %v, want %v", tt.off, ok, tt.wantOK)
			}
			if ok && r.Addr+uint64(tt.off-r.Offset) != tt.wantAddr {
				t.Errorf("address of offset %d = %#x, want %#x", tt.off, r.Addr+uint64(tt.off-r.Offset), tt.wantAddr)
			}
		})
	}
}

// mdBuilder builds minidump bytes for hostile-input tests.
type mdBuilder struct{ b []byte }

func (m *mdBuilder) u32(vs ...uint32) *mdBuilder {
	for _, v := range vs {
		m.b = binary.LittleEndian.AppendUint32(m.b, v)
	}
	return m
}

func (m *mdBuilder) u64(vs ...uint64) *mdBuilder {
	for _, v := range vs {
		m.b = binary.LittleEndian.AppendUint64(m.b, v)
	}
	return m
}

func (m *mdBuilder) raw(b []byte) *mdBuilder { m.b = append(m.b, b...); return m }

// header appends a MINIDUMP_HEADER.
func (m *mdBuilder) header(version, nStreams, dirRVA uint32) *mdBuilder {
	return m.raw([]byte("MDMP")).u32(version, nStreams, dirRVA, 0, 0).u64(0)
}

// desc appends a MINIDUMP_MEMORY_DESCRIPTOR.
func (m *mdBuilder) desc(addr uint64, size, rva uint32) *mdBuilder { return m.u64(addr).u32(size, rva) }

func dumpFill(c byte, n int) []byte { return bytes.Repeat([]byte{c}, n) }

// Layout of the hostile minidumps: header, a one-entry directory, then the stream.
const (
	mdDir    = 32
	mdStream = 32 + 12
	mdList1  = mdStream + 4 + 16   // data after a MemoryListStream of one descriptor
	mdList2  = mdStream + 4 + 16*2 // … of two
	md64List = mdStream + 16 + 16*2
)

func TestParseMinidumpHostile(t *testing.T) {
	tests := []struct {
		name   string
		data   []byte
		err    string   // ParseMinidump's error, if any
		want   []Region // nil: the whole file, raw
		warns  []string // substrings, one per warning, in order
		format string
	}{
		{
			name:   "truncated header",
			data:   []byte("MDMP\x93\xa7\x00\x00\x01\x00"),
			err:    "shorter than the header",
			format: DumpRaw,
			warns:  []string{"shorter than the header; scanned as raw bytes"},
		},
		{
			name:   "zero streams",
			data:   new(mdBuilder).header(mdVersion, 0, mdDir).raw(dumpFill(0xaa, 64)).b,
			format: DumpRaw,
			warns:  []string{"no memory list; scanned as raw bytes"},
		},
		{
			name: "no memory stream",
			data: new(mdBuilder).header(mdVersion, 1, mdDir).
				u32(7, 56, mdStream). // SystemInfoStream
				raw(dumpFill(0xaa, 56)).b,
			format: DumpRaw,
			warns:  []string{"no memory list"},
		},
		{
			name: "directory past the end",
			data: new(mdBuilder).header(mdVersion, 1, 4096).
				raw(dumpFill(0xaa, 64)).b,
			err:    "lies past the end of the file",
			format: DumpRaw,
			warns:  []string{"stream directory: it lies past the end of the file (RVA 0x1000, file 96 bytes); scanned as raw bytes"},
		},
		{
			name:   "directory pointing into the header", // its entries are read from the header itself
			data:   new(mdBuilder).header(mdVersion, 3, 0).raw(dumpFill(0xaa, 64)).b,
			format: DumpRaw,
			warns:  []string{"overlaps the header", "no memory list"},
		},
		{
			name: "stream count 2^32-1",
			data: new(mdBuilder).header(mdVersion, 0xffffffff, mdDir).
				u32(mdMemoryList, 4+16, mdStream).
				u32(1).desc(0x1000, 16, mdList1).
				raw(dumpFill(0xaa, 16)).b,
			want:   []Region{{Offset: mdList1, Size: 16, Addr: 0x1000, Mapped: true}},
			format: DumpMinidump,
			warns:  []string{"claims 4294967295 streams, the file holds at most 4"},
		},
		{
			name: "range count 2^32-1",
			data: new(mdBuilder).header(mdVersion, 1, mdDir).
				u32(mdMemoryList, 4+16, mdStream).
				u32(0xffffffff).desc(0x1000, 16, mdList1).
				raw(dumpFill(0xaa, 16)).b,
			want:   []Region{{Offset: mdList1, Size: 16, Addr: 0x1000, Mapped: true}},
			format: DumpMinidump,
			warns:  []string{"1 memory lists claim more ranges than their stream holds"},
		},
		{
			name: "range count 2^64-1 in a Memory64List",
			data: new(mdBuilder).header(mdVersion, 1, mdDir).
				u32(mdMemory64List, 16+16, mdStream).
				u64(^uint64(0), mdStream+16+16).u64(0x1000, 16).
				raw(dumpFill(0xaa, 16)).b,
			want:   []Region{{Offset: mdStream + 32, Size: 16, Addr: 0x1000, Mapped: true}},
			format: DumpMinidump,
			warns:  []string{"claim more ranges than their stream holds"},
		},
		{
			name: "range RVA past the end",
			data: new(mdBuilder).header(mdVersion, 1, mdDir).
				u32(mdMemoryList, 4+32, mdStream).
				u32(2).desc(0x1000, 16, mdList2).desc(0x2000, 16, 1<<20).
				raw(dumpFill(0xaa, 16)).b,
			want:   []Region{{Offset: mdList2, Size: 16, Addr: 0x1000, Mapped: true}},
			format: DumpMinidump,
			warns:  []string{"1 memory ranges lie past the end of the file"},
		},
		{
			name: "range size past the end",
			data: new(mdBuilder).header(mdVersion, 1, mdDir).
				u32(mdMemoryList, 4+16, mdStream).
				u32(1).desc(0x1000, 0xffffffff, mdList1).
				raw(dumpFill(0xaa, 10)).b,
			want:   []Region{{Offset: mdList1, Size: 10, Addr: 0x1000, Mapped: true}},
			format: DumpMinidump,
			warns:  []string{"1 memory ranges are cut short"},
		},
		{
			name: "every range past the end",
			data: new(mdBuilder).header(mdVersion, 1, mdDir).
				u32(mdMemoryList, 4+16, mdStream).
				u32(1).desc(0x1000, 16, 1<<30).b,
			format: DumpRaw,
			warns:  []string{"lie past the end", "no ranges within the file; scanned as raw bytes"},
		},
		{
			name: "duplicate ranges",
			data: new(mdBuilder).header(mdVersion, 1, mdDir).
				u32(mdMemoryList, 4+32, mdStream).
				u32(2).desc(0x1000, 16, mdList2).desc(0x1000, 16, mdList2).
				raw(dumpFill(0xaa, 16)).b,
			want:   []Region{{Offset: mdList2, Size: 16, Addr: 0x1000, Mapped: true}},
			format: DumpMinidump,
			warns:  []string{"1 memory ranges repeat file bytes of earlier ones; dropped"},
		},
		{
			name: "ranges overlapping in the file",
			data: new(mdBuilder).header(mdVersion, 1, mdDir).
				u32(mdMemoryList, 4+32, mdStream).
				u32(2).desc(0x1000, 16, mdList2).desc(0x8000, 16, mdList2+8).
				raw(dumpFill(0xaa, 24)).b,
			want: []Region{
				{Offset: mdList2, Size: 16, Addr: 0x1000, Mapped: true},
				{Offset: mdList2 + 16, Size: 8, Addr: 0x8008, Mapped: true}, // the address moves with the start
			},
			format: DumpMinidump,
			warns:  []string{"1 memory ranges overlap earlier ones in the file"},
		},
		{
			name: "ranges overlapping in the address space",
			data: new(mdBuilder).header(mdVersion, 1, mdDir).
				u32(mdMemoryList, 4+32, mdStream).
				u32(2).desc(0x1008, 16, mdList2).desc(0x1000, 16, mdList2+16).
				raw(dumpFill(0xaa, 32)).b,
			want: []Region{
				{Offset: mdList2, Size: 16}, // loses its address to the lower one; bytes still scanned
				{Offset: mdList2 + 16, Size: 16, Addr: 0x1000, Mapped: true},
			},
			format: DumpMinidump,
			warns:  []string{"1 memory ranges overlap others in the address space; scanned without addresses"},
		},
		{
			name: "both memory streams",
			data: new(mdBuilder).header(mdVersion, 2, mdDir).
				u32(mdMemoryList, 4+16, mdDir+24).
				u32(mdMemory64List, 16+16, mdDir+24+20).
				u32(1).desc(0x1000, 16, mdDir+24+20+32).
				u64(1, mdDir+24+20+32+16).u64(0x2000, 16).
				raw(dumpFill(0xaa, 16)).raw(dumpFill(0xbb, 16)).b,
			want: []Region{
				{Offset: mdDir + 24 + 20 + 32, Size: 16, Addr: 0x1000, Mapped: true},
				{Offset: mdDir + 24 + 20 + 32 + 16, Size: 16, Addr: 0x2000, Mapped: true},
			},
			format: DumpMinidump,
		},
		{
			name: "Memory64List base past the end",
			data: new(mdBuilder).header(mdVersion, 1, mdDir).
				u32(mdMemory64List, 16+32, mdStream).
				u64(2, 1<<40).u64(0x1000, 16, 0x2000, 16).b,
			format: DumpRaw,
			warns:  []string{"2 memory ranges lie past the end", "scanned as raw bytes"},
		},
		{
			name: "Memory64List sizes that overflow",
			data: new(mdBuilder).header(mdVersion, 1, mdDir).
				u32(mdMemory64List, 16+32, mdStream).
				u64(2, md64List).u64(0x1000, ^uint64(0), 0x2000, 16).
				raw(dumpFill(0xaa, 16)).b,
			want:   []Region{{Offset: md64List, Size: 16, Addr: 0x1000, Mapped: true}},
			format: DumpMinidump,
			warns:  []string{"1 memory ranges lie past the end", "1 memory ranges are cut short"},
		},
		{
			name: "memory list stream too short",
			data: new(mdBuilder).header(mdVersion, 1, mdDir).
				u32(mdMemoryList, 2, mdStream).
				raw(dumpFill(0xaa, 40)).b,
			format: DumpRaw,
			warns:  []string{"1 memory list streams lie outside the file or are too short", "no ranges within the file"},
		},
		{
			name: "memory list stream past the end",
			data: new(mdBuilder).header(mdVersion, 1, mdDir).
				u32(mdMemoryList, 20, 1<<31).
				raw(dumpFill(0xaa, 40)).b,
			format: DumpRaw,
			warns:  []string{"1 memory list streams lie outside the file", "no ranges within the file"},
		},
		{
			name: "memory list stream cut short",
			data: new(mdBuilder).header(mdVersion, 1, mdDir).
				u32(mdMemoryList, 1<<20, mdStream).
				u32(1).desc(0x1000, 16, mdList1).
				raw(dumpFill(0xaa, 16)).b,
			want:   []Region{{Offset: mdList1, Size: 16, Addr: 0x1000, Mapped: true}},
			format: DumpMinidump,
			warns:  []string{"1 memory list streams are cut short"},
		},
		{
			name: "unknown version",
			data: new(mdBuilder).header(0x1234, 1, mdDir).
				u32(mdMemoryList, 4+16, mdStream).
				u32(1).desc(0x1000, 16, mdList1).
				raw(dumpFill(0xaa, 16)).b,
			want:   []Region{{Offset: mdList1, Size: 16, Addr: 0x1000, Mapped: true}},
			format: DumpMinidump,
			warns:  []string{"version 0x1234, not 0xa793; read anyway"},
		},
		{
			name: "ranges at the top of the address space",
			data: new(mdBuilder).header(mdVersion, 1, mdDir).
				u32(mdMemoryList, 4+32, mdStream).
				u32(2).desc(^uint64(0)-7, 16, mdList2).desc(^uint64(0)-3, 16, mdList2+16).
				raw(dumpFill(0xaa, 32)).b,
			want: []Region{
				{Offset: mdList2, Size: 16, Addr: ^uint64(0) - 7, Mapped: true},
				{Offset: mdList2 + 16, Size: 16},
			},
			format: DumpMinidump,
			warns:  []string{"overlap others in the address space"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			size := int64(len(tt.data))
			want := tt.want
			if want == nil {
				want = []Region{{Offset: 0, Size: size}}
			}

			regions, _, err := ParseMinidump(bytes.NewReader(tt.data), size)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseMinidump error = %v, want one containing %q", err, tt.err)
				}
			} else if err != nil {
				t.Fatalf("ParseMinidump: %v", err)
			} else {
				checkDumpRegions(t, regions, size)
				if diff := cmp.Diff(want, regions); diff != "" {
					t.Errorf("ParseMinidump regions (-want +got):\n%s", diff)
				}
			}

			d := openTestDump(t, writeDumpFile(t, "hostile.dmp", tt.data))
			if d.Format != tt.format {
				t.Errorf("Format = %q, want %q", d.Format, tt.format)
			}
			if diff := cmp.Diff(want, d.Regions); diff != "" {
				t.Errorf("OpenDump regions (-want +got):\n%s", diff)
			}
			if len(d.Warnings) != len(tt.warns) {
				t.Fatalf("warnings %q, want %d matching %q", d.Warnings, len(tt.warns), tt.warns)
			}
			for i, w := range tt.warns {
				if !strings.Contains(d.Warnings[i], w) {
					t.Errorf("warning %d = %q, want one containing %q", i, d.Warnings[i], w)
				}
			}
		})
	}
}

// A hostile count must cost no more than the file it sits in: parsing a 100-byte minidump that
// claims 2^32-1 streams and 2^32-1 ranges allocates kilobytes, not what the counts ask for.
func TestParseMinidumpBoundedAllocation(t *testing.T) {
	hostile := new(mdBuilder).header(mdVersion, 0xffffffff, mdDir).
		u32(mdMemoryList, 0xffffffff, mdStream).
		u32(0xffffffff).desc(0x1000, 16, mdList1).
		raw(dumpFill(0xaa, 16)).b
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	regions, _, err := ParseMinidump(bytes.NewReader(hostile), int64(len(hostile)))
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if len(regions) != 1 {
		t.Errorf("regions %+v, want the one range the file holds", regions)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 64<<10 {
		t.Errorf("ParseMinidump allocated %d bytes for a %d-byte file, want at most 64 KiB", n, len(hostile))
	}
}

// A minidump listing more ranges than maxDumpRegions is read raw rather than held in memory.
func TestParseMinidumpTooManyRanges(t *testing.T) {
	defer func(n int) { maxDumpRegions = n }(maxDumpRegions)
	maxDumpRegions = 3
	ranges := make([]dumptest.Range, 4)
	for i := range ranges {
		ranges[i] = dumptest.Range{Addr: uint64(i) << 12, Data: dumpFill(byte(i), 8)}
	}
	for _, memory64 := range []bool{false, true} {
		var b bytes.Buffer
		if err := dumptest.WriteMinidump(&b, ranges, memory64); err != nil {
			t.Fatal(err)
		}
		regions, warns, err := ParseMinidump(bytes.NewReader(b.Bytes()), int64(b.Len()))
		if err != nil {
			t.Fatal(err)
		}
		want := []Region{{Offset: 0, Size: int64(b.Len())}}
		if diff := cmp.Diff(want, regions); diff != "" {
			t.Errorf("memory64=%v: regions (-want +got):\n%s", memory64, diff)
		}
		if diff := cmp.Diff([]string{"minidump lists more than 3 memory ranges; scanned as raw bytes"}, warns); diff != "" {
			t.Errorf("memory64=%v: warnings (-want +got):\n%s", memory64, diff)
		}
	}
}

// elfTestLoad is one program header of a synthetic ELF file.
type elfTestLoad struct {
	typ               elfTestPType
	off, vaddr, files uint64
}

type elfTestPType uint32

const (
	elfPTLoad elfTestPType = 1
	elfPTNote elfTestPType = 4
)

// elfFile builds a little-endian ELF64 file of type typ (4 is ET_CORE, 2 ET_EXEC) with the
// given program headers, section header fields shoff and shnum, padded with 0xcc to size bytes.
func elfTestFile(typ uint16, loads []elfTestLoad, shoff uint64, shnum uint16, size int) []byte {
	le := binary.LittleEndian
	b := []byte{0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	b = le.AppendUint16(b, typ)
	b = le.AppendUint16(b, 62) // EM_X86_64
	b = le.AppendUint32(b, 1)
	b = le.AppendUint64(b, 0)  // e_entry
	b = le.AppendUint64(b, 64) // e_phoff
	b = le.AppendUint64(b, shoff)
	b = le.AppendUint32(b, 0)  // e_flags
	b = le.AppendUint16(b, 64) // e_ehsize
	b = le.AppendUint16(b, 56) // e_phentsize
	b = le.AppendUint16(b, uint16(len(loads)))
	b = le.AppendUint16(b, 64) // e_shentsize
	b = le.AppendUint16(b, shnum)
	b = le.AppendUint16(b, 0) // e_shstrndx
	for _, l := range loads {
		b = le.AppendUint32(b, uint32(l.typ))
		b = le.AppendUint32(b, 6) // PF_R|PF_W
		b = le.AppendUint64(b, l.off)
		b = le.AppendUint64(b, l.vaddr)
		b = le.AppendUint64(b, 0)
		b = le.AppendUint64(b, l.files)
		b = le.AppendUint64(b, l.files)
		b = le.AppendUint64(b, 1)
	}
	for len(b) < size {
		b = append(b, 0xcc)
	}
	return b
}

func TestParseELFCore(t *testing.T) {
	const etCore, etExec = 4, 2
	tests := []struct {
		name   string
		data   []byte
		err    string
		want   []Region // nil: the whole file, raw
		warns  []string
		format string
	}{
		{
			name: "core",
			data: elfTestFile(etCore, []elfTestLoad{
				{typ: elfPTNote, off: 0x100, files: 0x40},
				{typ: elfPTLoad, off: 0x200, vaddr: 0x400000, files: 0x100},
				{typ: elfPTLoad, off: 0x300, vaddr: 0x7f0000000000, files: 0}, // unreadable: gcore writes it empty
				{typ: elfPTLoad, off: 0x300, vaddr: 0xc000000000, files: 0x100},
			}, 0, 0, 0x400),
			want: []Region{
				{Offset: 0x200, Size: 0x100, Addr: 0x400000, Mapped: true},
				{Offset: 0x300, Size: 0x100, Addr: 0xc000000000, Mapped: true},
			},
			format: DumpELFCore,
		},
		{
			name: "truncated core",
			data: elfTestFile(etCore, []elfTestLoad{
				{typ: elfPTLoad, off: 0x200, vaddr: 0x400000, files: 0x100},
				{typ: elfPTLoad, off: 0x300, vaddr: 0x500000, files: 0x100},
				{typ: elfPTLoad, off: 0x400, vaddr: 0x600000, files: 0x100},
			}, 0, 0, 0x380),
			want: []Region{
				{Offset: 0x200, Size: 0x100, Addr: 0x400000, Mapped: true},
				{Offset: 0x300, Size: 0x80, Addr: 0x500000, Mapped: true},
			},
			warns:  []string{"1 memory segments lie past the end", "1 memory segments are cut short"},
			format: DumpELFCore,
		},
		{
			name: "section headers lost to truncation",
			data: elfTestFile(etCore, []elfTestLoad{
				{typ: elfPTLoad, off: 0x200, vaddr: 0x400000, files: 0x100},
			}, 0x10000, 20, 0x300),
			want:   []Region{{Offset: 0x200, Size: 0x100, Addr: 0x400000, Mapped: true}},
			warns:  []string{"ELF section headers unreadable"},
			format: DumpELFCore,
		},
		{
			name: "segments overlapping in the file",
			data: elfTestFile(etCore, []elfTestLoad{
				{typ: elfPTLoad, off: 0x200, vaddr: 0x400000, files: 0x100},
				{typ: elfPTLoad, off: 0x280, vaddr: 0x900000, files: 0x100},
			}, 0, 0, 0x400),
			want: []Region{
				{Offset: 0x200, Size: 0x100, Addr: 0x400000, Mapped: true},
				{Offset: 0x300, Size: 0x80, Addr: 0x900080, Mapped: true},
			},
			warns:  []string{"1 memory ranges overlap earlier ones in the file"},
			format: DumpELFCore,
		},
		{
			name:   "core without memory",
			data:   elfTestFile(etCore, []elfTestLoad{{typ: elfPTNote, off: 0x100, files: 0x40}}, 0, 0, 0x200),
			warns:  []string{"ELF core holds no memory segments; scanned as raw bytes"},
			format: DumpRaw,
		},
		{
			name:   "executable",
			data:   elfTestFile(etExec, []elfTestLoad{{typ: elfPTLoad, off: 0, vaddr: 0x400000, files: 0x200}}, 0, 0, 0x200),
			format: DumpRaw,
		},
		{
			name:   "damaged header",
			data:   append([]byte("\x7fELF\x09\x09"), dumpFill(0xcc, 100)...),
			err:    "reading ELF header",
			warns:  []string{"reading ELF header: "},
			format: DumpRaw,
		},
		{
			name:   "bare magic",
			data:   []byte("\x7fELF"),
			err:    "reading ELF header",
			warns:  []string{"scanned as raw bytes"},
			format: DumpRaw,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			size := int64(len(tt.data))
			want := tt.want
			if want == nil {
				want = []Region{{Offset: 0, Size: size}}
			}
			regions, _, err := ParseELFCore(bytes.NewReader(tt.data), size)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseELFCore error = %v, want one containing %q", err, tt.err)
				}
			} else if err != nil {
				t.Fatalf("ParseELFCore: %v", err)
			} else if diff := cmp.Diff(want, regions); diff != "" {
				t.Errorf("ParseELFCore regions (-want +got):\n%s", diff)
			}

			d := openTestDump(t, writeDumpFile(t, "core", tt.data))
			if d.Format != tt.format {
				t.Errorf("Format = %q, want %q", d.Format, tt.format)
			}
			if diff := cmp.Diff(want, d.Regions); diff != "" {
				t.Errorf("OpenDump regions (-want +got):\n%s", diff)
			}
			if len(d.Warnings) != len(tt.warns) {
				t.Fatalf("warnings %q, want %d matching %q", d.Warnings, len(tt.warns), tt.warns)
			}
			for i, w := range tt.warns {
				if !strings.Contains(d.Warnings[i], w) {
					t.Errorf("warning %d = %q, want one containing %q", i, d.Warnings[i], w)
				}
			}
		})
	}
}

func TestOpenDumpRawAndErrors(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(exe)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tests := []struct {
		name      string
		path      string
		err       string // substring; "" for no error
		errIs     error
		wantSize  int64 // the one raw region's size; 0 for none
		wantWarns int
	}{
		{name: "this test binary (not a core)", path: exe, wantSize: fi.Size()},
		{name: "random bytes", path: writeDumpFile(t, "img.raw", dumpTestBytes(6, 5000)), wantSize: 5000},
		{name: "three bytes", path: writeDumpFile(t, "tiny", []byte("MDM")), wantSize: 3},
		{name: "empty file", path: writeDumpFile(t, "empty", nil)},
		{name: "missing file", path: filepath.Join(dir, "nope.dmp"), err: `opening dump "` + filepath.Join(dir, "nope.dmp") + `": no such file or directory`, errIs: fs.ErrNotExist},
		{name: "directory", path: dir, err: `opening dump "` + dir + `": is a directory`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := OpenDump(tt.path)
			if tt.err != "" {
				if err == nil {
					d.Close()
					t.Fatalf("OpenDump succeeded, want error %q", tt.err)
				}
				if err.Error() != tt.err || strings.Contains(err.Error(), "\n") {
					t.Errorf("error = %q, want %q", err, tt.err)
				}
				if tt.errIs != nil && !errors.Is(err, tt.errIs) {
					t.Errorf("error %v is not %v", err, tt.errIs)
				}
				return
			}
			if err != nil {
				t.Fatalf("OpenDump: %v", err)
			}
			defer d.Close()
			var want []Region
			if tt.wantSize > 0 {
				want = []Region{{Offset: 0, Size: tt.wantSize}}
			}
			if d.Format != DumpRaw || len(d.Warnings) != tt.wantWarns {
				t.Errorf("Format %q, warnings %q; want %q, %d", d.Format, d.Warnings, DumpRaw, tt.wantWarns)
			}
			if diff := cmp.Diff(want, d.Regions); diff != "" {
				t.Errorf("regions (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDumpFileClosed(t *testing.T) {
	d, err := OpenDump(writeDumpFile(t, "img", dumpTestBytes(7, 10)))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ReadAt(make([]byte, 1), 0); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("ReadAt after Close: %v, want %v", err, fs.ErrClosed)
	}
	if err := d.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestOpenDumpGcore dumps testdata/dumpproc, which holds an RSA key, an EC key and an AES-256
// cipher the way a service does, with gdb's gcore, and reads the core back.
func TestOpenDumpGcore(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaDER := x509.MarshalPKCS1PrivateKey(rsaKey)
	ecDER, err := x509.MarshalECPrivateKey(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	aesKey := make([]byte, 32)
	rand.Read(aesKey)
	dir := t.TempDir()
	keyFile := func(name string, b []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	core, out := dumptest.Gcore(t, "../testdata/dumpproc",
		keyFile("rsa.pem", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: rsaDER})),
		keyFile("ec.pem", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: ecDER})),
		keyFile("aes.hex", []byte(hex.EncodeToString(aesKey)+"\n")))
	if out != "" {
		t.Errorf("dumpproc printed %q before ready, want nothing", out)
	}

	d := openTestDump(t, core)
	if d.Format != DumpELFCore || len(d.Warnings) != 0 {
		t.Fatalf("Format %q, warnings %q; want %q, none", d.Format, d.Warnings, DumpELFCore)
	}
	mapped := 0
	for _, r := range d.Regions {
		if r.Mapped {
			mapped++
		}
	}
	if mapped == 0 {
		t.Fatalf("no mapped regions in %d", len(d.Regions))
	}

	schedule := aes256Schedule(aesKey)
	found := map[string]bool{}
	for _, r := range d.Regions {
		buf := make([]byte, r.Size)
		if _, err := d.ReadAt(buf, r.Offset); err != nil {
			t.Fatalf("ReadAt region at %#x: %v", r.Addr, err)
		}
		for _, k := range []struct {
			name string
			b    []byte
		}{
			{"RSA DER", rsaDER},
			{"EC DER", ecDER},
			{"AES schedule", schedule},
			{"AES schedule in words", swapWords32(schedule)},
		} {
			if i := bytes.Index(buf, k.b); i >= 0 {
				found[k.name] = true
				t.Logf("%s at %#x, in the region at %#x (%d bytes)", k.name, r.Addr+uint64(i), r.Addr, r.Size)
			}
		}
	}
	for _, name := range []string{"RSA DER", "EC DER"} {
		if !found[name] {
			t.Errorf("%s not found in any region", name)
		}
	}
	if !found["AES schedule"] && !found["AES schedule in words"] {
		t.Errorf("the AES cipher's key schedule is not in any region")
	}

	// The raw AES key may occur only as the start of the schedule (AES-NI keeps round keys in
	// byte order, and the first two are the key): any other copy means zeroing failed.
	whole, err := os.ReadFile(core)
	if err != nil {
		t.Fatal(err)
	}
	for rest, at := whole, 0; ; {
		i := bytes.Index(rest, aesKey)
		if i < 0 {
			break
		}
		if !bytes.HasPrefix(rest[i:], schedule) {
			t.Errorf("a copy of the raw AES key outside the cipher's schedule at core offset %d", at+i)
		}
		rest, at = rest[i+1:], at+i+1
	}
}

// aes256Schedule expands key as FIPS-197 §5.2 does: 15 round keys, 240 bytes, in byte order.
func aes256Schedule(key []byte) []byte {
	var sbox [256]byte
	mul := func(a, b byte) byte { // in GF(2^8) mod x^8+x^4+x^3+x+1
		var p byte
		for ; b != 0; b >>= 1 {
			if b&1 != 0 {
				p ^= a
			}
			hi := a & 0x80
			a <<= 1
			if hi != 0 {
				a ^= 0x1b
			}
		}
		return p
	}
	for x := range 256 {
		var inv byte
		for y := 1; y < 256 && x != 0; y++ {
			if mul(byte(x), byte(y)) == 1 {
				inv = byte(y)
				break
			}
		}
		s := inv
		for r := 1; r <= 4; r++ {
			s ^= inv<<r | inv>>(8-r)
		}
		sbox[x] = s ^ 0x63
	}
	w := slices.Clone(key)
	rcon := byte(1)
	for i := 8; i < 60; i++ {
		t := slices.Clone(w[4*(i-1) : 4*i])
		switch i % 8 {
		case 0:
			t[0], t[1], t[2], t[3] = sbox[t[1]]^rcon, sbox[t[2]], sbox[t[3]], sbox[t[0]]
			rcon = mul(rcon, 2)
		case 4:
			for j := range t {
				t[j] = sbox[t[j]]
			}
		}
		for j := range t {
			t[j] ^= w[4*(i-8)+j]
		}
		w = append(w, t...)
	}
	return w
}

// swapWords32 reverses the bytes of each 32-bit word: the schedule as Go's generic AES code keeps
// it, in uint32s on a little-endian machine.
func swapWords32(b []byte) []byte {
	out := make([]byte, len(b))
	for i := 0; i+4 <= len(b); i += 4 {
		binary.LittleEndian.PutUint32(out[i:], binary.BigEndian.Uint32(b[i:]))
	}
	return out
}
