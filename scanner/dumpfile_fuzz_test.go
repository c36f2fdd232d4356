package scanner

import (
	"bytes"
	"testing"

	"github.com/keywarden/keywarden/scanner/dumptest"
)

// FuzzParseMinidump checks that no input panics the minidump parser and that the regions it
// returns lie within the file, sorted and disjoint.
func FuzzParseMinidump(f *testing.F) {
	ranges := []dumptest.Range{
		{Addr: 0x7ff0_0000_0000, Data: dumpTestBytes(10, 64)},
		{Addr: 0x1000, Data: dumpTestBytes(11, 17)},
		{Addr: 0x1008, Data: dumpTestBytes(12, 32)}, // overlaps the previous range's addresses
	}
	for _, memory64 := range []bool{false, true} {
		var b bytes.Buffer
		if err := dumptest.WriteMinidump(&b, ranges, memory64); err != nil {
			f.Fatal(err)
		}
		valid := b.Bytes()
		f.Add(valid)
		for _, n := range []int{4, 31, 32, 40, 44, 60, 100, len(valid) - 1} {
			f.Add(valid[:n])
		}
	}
	f.Add(new(mdBuilder).header(mdVersion, 0xffffffff, mdDir).
		u32(mdMemoryList, 0xffffffff, mdStream).
		u32(0xffffffff).desc(0x1000, 16, mdList1).
		raw(dumpFill(0xaa, 16)).b)
	f.Add(new(mdBuilder).header(mdVersion, 2, mdDir).
		u32(mdMemoryList, 4+16, mdDir+24).
		u32(mdMemory64List, 16+16, mdDir+24+20).
		u32(1).desc(0x1000, 16, mdDir+24+20+32).
		u64(1, mdDir+24+20+32+16).u64(0x2000, 16).
		raw(dumpFill(0xaa, 32)).b)
	f.Fuzz(func(t *testing.T, data []byte) {
		size := int64(len(data))
		regions, warns, err := ParseMinidump(bytes.NewReader(data), size)
		checkParse(t, regions, warns, err, size)
	})
}

// FuzzParseELFCore checks that no input panics the ELF core reader and that the regions it
// returns lie within the file, sorted and disjoint.
func FuzzParseELFCore(f *testing.F) {
	core := elfTestFile(4, []elfTestLoad{
		{typ: elfPTNote, off: 0x100, files: 0x40},
		{typ: elfPTLoad, off: 0x200, vaddr: 0x400000, files: 0x100},
		{typ: elfPTLoad, off: 0x300, vaddr: 0x7f0000000000, files: 0},
		{typ: elfPTLoad, off: 0x280, vaddr: 0xc000000000, files: 0x100},
	}, 0, 0, 0x400)
	f.Add(core)
	for _, n := range []int{4, 16, 63, 64, 100, 0x150, 0x250, len(core) - 1} {
		f.Add(core[:n])
	}
	f.Add(elfTestFile(4, []elfTestLoad{{typ: elfPTLoad, off: 0x200, vaddr: 0x400000, files: 0x100}}, 0x10000, 20, 0x300))
	f.Add(elfTestFile(2, []elfTestLoad{{typ: elfPTLoad, off: 0, vaddr: 0x400000, files: 0x200}}, 0, 0, 0x200))
	f.Fuzz(func(t *testing.T, data []byte) {
		size := int64(len(data))
		regions, warns, err := ParseELFCore(bytes.NewReader(data), size)
		checkParse(t, regions, warns, err, size)
	})
}

func checkParse(t *testing.T, regions []Region, warns []string, err error, size int64) {
	t.Helper()
	if err != nil {
		if regions != nil {
			t.Fatalf("regions %+v returned with error %v", regions, err)
		}
		return
	}
	checkDumpRegions(t, regions, size)
	if size > 0 && len(regions) == 0 {
		t.Fatalf("no regions for a %d-byte file", size)
	}
	for _, w := range warns {
		if w == "" || bytes.ContainsAny([]byte(w), "\n\r") {
			t.Fatalf("warning %q is not one line", w)
		}
	}
}
