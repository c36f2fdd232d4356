package dumptest

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// recorder is a testing.TB that records how a helper ended instead of ending the test.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper() {}

func (r *recorder) Skipf(format string, args ...any) {
	r.skipped = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestGcoreWithoutGdb(t *testing.T) {
	tests := []struct {
		name        string
		require     string
		wantSkipped bool
	}{
		{name: "skips", require: "", wantSkipped: true},
		{name: "fails when tools are required", require: "1", wantSkipped: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("PATH", t.TempDir())
			t.Setenv(RequireToolsEnv, tt.require)
			r := &recorder{TB: t}
			done := make(chan struct{})
			go func() {
				defer close(done)
				Gcore(r, "../../testdata/dumpproc")
			}()
			<-done
			got := r.failed
			if tt.wantSkipped {
				got = r.skipped
			}
			if !strings.Contains(got, "gcore (from gdb) is not on PATH") {
				t.Errorf("skipped %q, failed %q; want the %s to say gcore is missing", r.skipped, r.failed, map[bool]string{true: "skip", false: "failure"}[tt.wantSkipped])
			}
		})
	}
}
