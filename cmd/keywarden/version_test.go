package main

import (
	"encoding/json"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// goModVersion returns the version go.mod requires of module.
func goModVersion(t *testing.T, module string) string {
	t.Helper()
	data, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == module {
			return f[1]
		}
	}
	t.Fatalf("go.mod does not require %s", module)
	return ""
}

func TestVersion(t *testing.T) {
	gitleaks := goModVersion(t, gitleaksModule)
	tests := []struct {
		name    string
		ldflags string // main.version as -ldflags -X would set it
		want    string // the version reported
	}{
		{"development build", "", toolVersion()},
		{"release build: ldflags win", "v1.2.3", "v1.2.3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			saved := version
			version = tt.ldflags
			t.Cleanup(func() { version = saved })

			r := keywarden(t, "version", "--format", "json")
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			var got buildInfo
			if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
				t.Fatalf("decoding %q: %v", r.stdout, err)
			}
			want := buildInfo{Version: tt.want, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH, Gitleaks: gitleaks,
				Commit: got.Commit, Date: got.Date, Modified: got.Modified} // a test binary has no VCS stamp
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("version --format json (-want +got):\n%s", diff)
			}

			text := keywarden(t, "version")
			for _, line := range []string{"keywarden " + tt.want + "\n", "  go:        " + runtime.Version() + "\n", "  rules:     gitleaks " + gitleaks + "\n"} {
				if !strings.Contains(text.stdout, line) {
					t.Errorf("version output lacks %q:\n%s", line, text.stdout)
				}
			}
			if flag := keywarden(t, "--version"); flag.stdout != "keywarden version "+tt.want+"\n" {
				t.Errorf("--version printed %q", flag.stdout)
			}
		})
	}
	t.Run("bad format", func(t *testing.T) {
		r := keywarden(t, "version", "--format", "yaml")
		if r.code != exitError || !strings.Contains(r.stderr, `unknown format "yaml" (want text or json)`) {
			t.Errorf("exit %d, stderr %q", r.code, r.stderr)
		}
	})
}

// TestReadBuildInfo checks what a release binary, which has a VCS stamp, would report.
func TestVersionBuildInfo(t *testing.T) {
	vcs := func(rev, at, modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "-trimpath", Value: "true"}, {Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: rev}, {Key: "vcs.time", Value: at}, {Key: "vcs.modified", Value: modified}}
	}
	gl := func(v string, replace *debug.Module) []*debug.Module {
		return []*debug.Module{{Path: "github.com/spf13/cobra", Version: "v1.10.2"}, {Path: gitleaksModule, Version: v, Replace: replace}}
	}
	platform := runtime.GOOS + "/" + runtime.GOARCH
	tests := []struct {
		name string
		bi   *debug.BuildInfo
		want buildInfo
	}{
		{"clean checkout", &debug.BuildInfo{GoVersion: "go1.26.8", Settings: vcs("0123456789abcdef0123456789abcdef01234567", "2026-11-20T10:00:00Z", "false"), Deps: gl("v8.30.1", nil)},
			buildInfo{Version: "v1.0.0", Commit: "0123456789abcdef0123456789abcdef01234567", Date: "2026-11-20T10:00:00Z", Go: "go1.26.8", Platform: platform, Gitleaks: "v8.30.1"}},
		{"uncommitted changes", &debug.BuildInfo{GoVersion: "go1.26.8", Settings: vcs("abc", "2026-11-20T10:00:00Z", "true"), Deps: gl("v8.30.1", nil)},
			buildInfo{Version: "v1.0.0", Commit: "abc", Date: "2026-11-20T10:00:00Z", Modified: true, Go: "go1.26.8", Platform: platform, Gitleaks: "v8.30.1"}},
		{"gitleaks replaced by a fork", &debug.BuildInfo{GoVersion: "go1.26.8", Deps: gl("v8.30.1", &debug.Module{Path: "example.net/gitleaks", Version: "v8.30.2-fix"})},
			buildInfo{Version: "v1.0.0", Go: "go1.26.8", Platform: platform, Gitleaks: "v8.30.2-fix"}},
		{"no build info", nil,
			buildInfo{Version: "v1.0.0", Go: runtime.Version(), Platform: platform, Gitleaks: "unknown"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, readBuildInfo("v1.0.0", tt.bi)); diff != "" {
				t.Errorf("readBuildInfo (-want +got):\n%s", diff)
			}
		})
	}
}
