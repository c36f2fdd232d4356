package main

import (
	"bufio"
	"bytes"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// prSetPtracerAny lets any process of the same user attach (PR_SET_PTRACER_ANY, (unsigned
// long)-1), which x/sys/unix does not name.
const prSetPtracerAny = ^uintptr(0)

// allowPtrace lets gdb attach where Yama's ptrace_scope is 1 and gdb is not this process's
// parent. Without Yama the call fails with EINVAL, and nothing needed allowing.
func allowPtrace() {
	_ = unix.Prctl(unix.PR_SET_PTRACER, prSetPtracerAny, 0, 0, 0)
}

// excludeReservations marks the process's inaccessible anonymous mappings (---p) MADV_DONTDUMP.
// The Go runtime reserves over a gigabyte of address space it never touches, and gdb 13's gcore
// writes every such page out as zeros (the kernel's dumper leaves them as holes), which would
// make each test core 1.5 GB. What the program holds lives in readable mappings, which stay.
// The runtime maps a reservation for use with a fresh mmap, which drops the mark again.
func excludeReservations() {
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return
	}
	sc := bufio.NewScanner(bytes.NewReader(maps))
	for sc.Scan() {
		// 7f39...000-7f39...000 ---p 00000000 00:00 0
		f := bytes.Fields(sc.Bytes())
		if len(f) != 5 || string(f[1]) != "---p" || string(f[4]) != "0" {
			continue
		}
		lo, hi, ok := bytes.Cut(f[0], []byte("-"))
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(string(lo), 16, 64)
		end, err2 := strconv.ParseUint(string(hi), 16, 64)
		if err1 != nil || err2 != nil || end <= start {
			continue
		}
		unix.Syscall(unix.SYS_MADVISE, uintptr(start), uintptr(end-start), unix.MADV_DONTDUMP)
	}
}
