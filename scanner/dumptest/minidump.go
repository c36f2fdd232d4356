package dumptest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// Range is a run of process memory: Data as it lay at virtual address Addr.
type Range struct {
	Addr uint64
	Data []byte
}

// Minidump layout constants (minidumpapiset.h).
const (
	signature        = 0x504d444d // "MDMP"
	version          = 0xa793
	headerSize       = 32
	dirEntrySize     = 12
	descSize         = 16 // MINIDUMP_MEMORY_DESCRIPTOR and MINIDUMP_MEMORY_DESCRIPTOR64 alike
	memoryList       = 5
	memory64List     = 9
	memoryListHead   = 4   // NumberOfMemoryRanges u32
	memory64ListHead = 16  // NumberOfMemoryRanges u64, BaseRva u64
	withFullMemory   = 0x2 // MINIDUMP_TYPE MiniDumpWithFullMemory, which Memory64ListStream goes with
)

// WriteMinidump writes a minidump holding ranges in one memory stream: a MemoryListStream, in
// which every range has its own 32-bit RVA, or with memory64 a Memory64ListStream, whose ranges
// lie back to back from one base RVA as in full-memory dumps. The file is header, directory,
// stream, then the ranges' bytes in order; it has no other streams.
func WriteMinidump(w io.Writer, ranges []Range, memory64 bool) error {
	le := binary.LittleEndian
	streamRVA := uint64(headerSize + dirEntrySize)
	streamSize := memoryListHead + descSize*uint64(len(ranges))
	var flags uint64
	if memory64 {
		streamSize = memory64ListHead + descSize*uint64(len(ranges))
		flags = withFullMemory
	}
	dataRVA := streamRVA + streamSize
	if dataRVA > math.MaxUint32 {
		return errors.New("writing minidump: too many ranges for a 32-bit stream size")
	}

	var b bytes.Buffer
	b.Grow(int(dataRVA))
	b.Write(le.AppendUint32(nil, signature))
	b.Write(le.AppendUint32(nil, version))
	b.Write(le.AppendUint32(nil, 1)) // NumberOfStreams
	b.Write(le.AppendUint32(nil, headerSize))
	b.Write(le.AppendUint32(nil, 0)) // CheckSum
	b.Write(le.AppendUint32(nil, 0)) // TimeDateStamp
	b.Write(le.AppendUint64(nil, flags))

	typ := uint32(memoryList)
	if memory64 {
		typ = memory64List
	}
	b.Write(le.AppendUint32(nil, typ))
	b.Write(le.AppendUint32(nil, uint32(streamSize)))
	b.Write(le.AppendUint32(nil, uint32(streamRVA)))

	if memory64 {
		b.Write(le.AppendUint64(nil, uint64(len(ranges))))
		b.Write(le.AppendUint64(nil, dataRVA))
		for _, r := range ranges {
			b.Write(le.AppendUint64(nil, r.Addr))
			b.Write(le.AppendUint64(nil, uint64(len(r.Data))))
		}
	} else {
		b.Write(le.AppendUint32(nil, uint32(len(ranges))))
		rva := dataRVA
		for i, r := range ranges {
			if uint64(len(r.Data)) > math.MaxUint32 || rva > math.MaxUint32 {
				return fmt.Errorf("writing minidump: range %d lies beyond the 4 GiB a MemoryListStream addresses", i)
			}
			b.Write(le.AppendUint64(nil, r.Addr))
			b.Write(le.AppendUint32(nil, uint32(len(r.Data))))
			b.Write(le.AppendUint32(nil, uint32(rva)))
			rva += uint64(len(r.Data))
		}
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("writing minidump: %w", err)
	}
	for _, r := range ranges {
		if _, err := w.Write(r.Data); err != nil {
			return fmt.Errorf("writing minidump: %w", err)
		}
	}
	return nil
}

// MinidumpFile writes ranges as WriteMinidump does to a file in a temporary directory and
// returns its path.
func MinidumpFile(t testing.TB, ranges []Range, memory64 bool) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.dmp")
	var b bytes.Buffer
	if err := WriteMinidump(&b, ranges, memory64); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatalf("writing minidump: %v", err)
	}
	return path
}
