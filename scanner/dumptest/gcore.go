package dumptest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// RequireToolsEnv set to 1 turns a missing gcore or gdb from a skip into a failure (CI).
const RequireToolsEnv = "KEYWARDEN_REQUIRE_TOOLS"

// Timeout bounds each step of Gcore: building, waiting for "ready", dumping.
const Timeout = 60 * time.Second

// Gcore builds the Go program in directory program (an absolute path, or one relative to the
// test's directory), runs it with args until it prints a line "ready" on stdout, dumps it with
// `gcore -o DIR/core PID`, kills it, and returns the core's path and what the program printed
// before "ready". The binary and the core live in a temporary directory of t. It skips t when
// gcore or gdb is missing or cannot attach, unless $KEYWARDEN_REQUIRE_TOOLS is 1.
func Gcore(t testing.TB, program string, args ...string) (corePath string, out string) {
	t.Helper()
	gcore, err := exec.LookPath("gcore")
	if err != nil {
		missing(t, "gcore (from gdb) is not on PATH")
	}
	if _, err := exec.LookPath("gdb"); err != nil {
		missing(t, "gdb is not on PATH")
	}
	dir := t.TempDir()
	bin := build(t, program, dir)

	cmd := exec.Command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("dumptest: starting %s: %v", bin, err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("dumptest: starting %s: %v", bin, err)
	}
	type lines struct {
		before string
		ready  bool
	}
	readyc := make(chan lines, 1)
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		var b strings.Builder
		sc := bufio.NewScanner(stdout)
		sent := false
		for sc.Scan() {
			if sent {
				continue // keep draining, so the program never blocks on a full pipe
			}
			if sc.Text() == "ready" {
				readyc <- lines{b.String(), true}
				sent = true
				continue
			}
			b.WriteString(sc.Text())
			b.WriteByte('\n')
		}
		if !sent {
			readyc <- lines{b.String(), false}
		}
		cmd.Wait() // only after every read from the pipe, as os/exec requires
	}()
	stop := func() {
		cmd.Process.Kill()
		<-exited
	}
	t.Cleanup(stop)

	var got lines
	select {
	case got = <-readyc:
	case <-time.After(Timeout):
		stop() // before reading stderr, which the program writes until it exits
		t.Fatalf("dumptest: %s did not print \"ready\" within %v; stderr:\n%s", filepath.Base(bin), Timeout, stderr.String())
	}
	if !got.ready {
		stop()
		t.Fatalf("dumptest: %s exited before printing \"ready\" (%v); stdout:\n%s\nstderr:\n%s", filepath.Base(bin), cmd.ProcessState, got.before, stderr.String())
	}

	pid := strconv.Itoa(cmd.Process.Pid)
	prefix := filepath.Join(dir, "core")
	ctx, cancel := context.WithTimeout(t.Context(), Timeout)
	defer cancel()
	gc := exec.CommandContext(ctx, gcore, "-o", prefix, pid)
	killGroup(gc) // gcore is a script: a timeout must stop the gdb it started, too
	gc.WaitDelay = 5 * time.Second
	gout, gerr := gc.CombinedOutput()
	stop()
	corePath = prefix + "." + pid
	if strings.Contains(string(gout), "ptrace: Operation not permitted") || strings.Contains(string(gout), "Could not attach to process") {
		missing(t, "gdb may not ptrace the program here (CAP_SYS_PTRACE, seccomp or kernel.yama.ptrace_scope): "+lastLine(gout))
	}
	if gerr != nil || ctx.Err() != nil {
		t.Fatalf("dumptest: gcore %s: %v; output:\n%s", pid, errors.Join(gerr, ctx.Err()), gout)
	}
	if fi, err := os.Stat(corePath); err != nil || fi.Size() == 0 {
		t.Fatalf("dumptest: gcore wrote no core at %s (%v); output:\n%s", corePath, err, gout)
	}
	return corePath, got.before
}

// build compiles the main package in directory program, pure Go, into dir and returns the
// binary's path.
func build(t testing.TB, program, dir string) string {
	t.Helper()
	src, err := filepath.Abs(program)
	if err != nil {
		t.Fatalf("dumptest: resolving %q: %v", program, err)
	}
	bin := filepath.Join(dir, filepath.Base(src))
	ctx, cancel := context.WithTimeout(t.Context(), Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool(), "build", "-o", bin, ".")
	// Inside the module, so that its go.mod pins the dependencies; static, so that no C toolchain
	// is needed and no libc malloc arenas swell the core.
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("dumptest: building %s: %v\n%s", program, err, out)
	}
	return bin
}

// goTool returns the go command: the one on PATH, else the one this test was built with.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

func lastLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return s
}

func missing(t testing.TB, why string) {
	t.Helper()
	if os.Getenv(RequireToolsEnv) == "1" {
		t.Fatalf("dumptest: %s (and %s=1)", why, RequireToolsEnv)
	}
	t.Skipf("dumptest: %s", why)
}
