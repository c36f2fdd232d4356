// Package dumptest makes memory dumps for tests of `scan dump`: WriteMinidump writes a small
// valid Windows minidump holding chosen memory ranges, and Gcore builds a Go program, runs it
// until it prints "ready", and dumps it with gdb's gcore into a real ELF core file.
//
// gdb 13's gcore writes every anonymous mapping out in full, even inaccessible reservations the
// kernel's own dumper would leave as holes, and a Go program reserves over a gigabyte of them:
// a program to be dumped should mark them MADV_DONTDUMP once it is ready, as testdata/dumpproc
// does, or each core runs to 1.5 GB.
//
// Gcore skips the test when gcore or gdb is missing, or when the kernel does not let gdb attach
// to the program (ptrace denied in a container), unless $KEYWARDEN_REQUIRE_TOOLS is 1, as in CI;
// then it fails the test instead.
//
//	core, _ := dumptest.Gcore(t, "../testdata/dumpproc", rsaPEMPath, ecPEMPath, aesHexPath)
//	d, err := scanner.OpenDump(core)
package dumptest
