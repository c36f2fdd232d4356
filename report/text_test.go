package report

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/scanner"
)

func TestTextSummary(t *testing.T) {
	finding := func(sev string) scanner.Finding { return scanner.Finding{RuleID: "r", Severity: sev} }
	tests := []struct {
		name string
		res  *Result
		want string
	}{
		{
			name: "clean",
			res:  &Result{Stats: scanner.Stats{Blobs: 1234, Bytes: 47815065, Duration: 2300 * time.Millisecond}},
			want: "no leaks found in 1,234 blobs, 45.6 MiB, 2.3s",
		},
		{
			name: "one finding, one blob",
			res:  &Result{Findings: []scanner.Finding{finding("low")}, Stats: scanner.Stats{Blobs: 1, Bytes: 100, Duration: 5 * time.Millisecond}},
			want: "1 finding (1 low) in 1 blob, 100 B, 5ms",
		},
		{
			name: "severities in order, unknown last, skipped",
			res: &Result{
				Findings: []scanner.Finding{finding("high"), finding("critical"), finding("high"), finding("weird"), finding("medium")},
				Stats:    scanner.Stats{Blobs: 1234567, Bytes: 5 << 30, Skipped: 4, Commits: 1, Duration: 65 * time.Second},
			},
			want: "5 findings (1 critical, 2 high, 1 medium, 1 weird) in 1 commit, 1,234,567 blobs, 5.0 GiB, 1m5s; 4 skipped",
		},
		{
			name: "skipped list longer than the count",
			res: &Result{
				Skipped: []scanner.SkippedBlob{{Path: "a"}, {Path: "b"}},
				Stats:   scanner.Stats{Blobs: 2, Bytes: 2048, Commits: 3},
			},
			want: "no leaks found in 3 commits, 2 blobs, 2.0 KiB, 0ms; 2 skipped",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, textSummary(tt.res)); diff != "" {
				t.Errorf("textSummary (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTextColor(t *testing.T) {
	tests := []struct {
		name     string
		res      *Result
		color    bool
		wantESC  bool
		wantText string
	}{
		{"findings plain", gitResult(), false, false, "CRITICAL  kw-test-token"},
		{"findings colour", gitResult(), true, true, "\x1b[1;31mCRITICAL\x1b[0m  kw-test-token"},
		{"high colour", gitResult(), true, true, "\x1b[31mHIGH    \x1b[0m  kw-test-password"},
		{"clean plain", emptyResult(), false, false, "no leaks found"},
		{"clean colour", emptyResult(), true, true, "\x1b[32mno leaks found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.res.Color = tt.color
			out := string(render(t, Text{}, tt.res))
			if got := strings.Contains(out, "\x1b["); got != tt.wantESC {
				t.Errorf("has ANSI escapes = %v, want %v:\n%q", got, tt.wantESC, out)
			}
			if !strings.Contains(out, tt.wantText) {
				t.Errorf("output lacks %q:\n%q", tt.wantText, out)
			}
		})
	}
}

func TestTextFinding(t *testing.T) {
	tests := []struct {
		name string
		f    scanner.Finding
		want string
	}{
		{
			name: "git with more locations",
			f: scanner.Finding{RuleID: "kw-test-token", Severity: "critical", Secret: secretTokenA, Fingerprint: "5d41",
				Locations: []scanner.Location{
					{Source: "git", Path: "a.env", Line: 3, Commit: "4f6c1e2a9b8d", Author: "Alice", Date: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)},
					{Source: "git", Path: "b.env", Line: 4},
					{Source: "git", Path: "c.env", Line: 5},
				}},
			want: "CRITICAL  kw-test-token  kw_t…\n" +
				"          a.env:3  commit 4f6c1e2, Alice, 2024-03-01\n" +
				"          +2 more locations\n" +
				"          fingerprint 5d41\n",
		},
		{
			name: "dir, one more location",
			f: scanner.Finding{RuleID: "r", Severity: "low", Secret: "pw_fake_12345", Fingerprint: "ab",
				Locations: []scanner.Location{{Path: "x.txt", Line: 1}, {Path: "y.txt", Line: 2}}},
			want: "LOW       r  pw_…\n" +
				"          x.txt:1\n" +
				"          +1 more location\n" +
				"          fingerprint ab\n",
		},
		{
			name: "path only, no severity",
			f:    scanner.Finding{RuleID: "r", Locations: []scanner.Location{{Path: "keys/id_test"}}},
			want: "UNKNOWN   r  …\n" +
				"          keys/id_test\n",
		},
		{
			name: "control characters escaped",
			f: scanner.Finding{RuleID: "r\x1b[2J", Severity: "high", Secret: "pw_fake_12345",
				Locations: []scanner.Location{{Path: "evil\x1b]0;title\a\n.txt\u202e", Line: 1, Commit: "c", Author: "A\rB"}}},
			want: "HIGH      r\\x1b[2J  pw_…\n" +
				"          evil\\x1b]0;title\\a\\n.txt\\u202e:1  commit c, A\\rB\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := &Result{Findings: []scanner.Finding{tt.f}}
			out := string(render(t, Text{}, res))
			got, _, _ := strings.Cut(out, "\n\n")
			if diff := cmp.Diff(tt.want, got+"\n"); diff != "" {
				t.Errorf("finding block (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHumanBytes(t *testing.T) {
	tests := []struct {
		name string
		n    int64
		want string
	}{
		{"zero", 0, "0 B"},
		{"bytes", 1023, "1023 B"},
		{"kib", 1536, "1.5 KiB"},
		{"mib", 47815065, "45.6 MiB"},
		{"gib", 3 << 30, "3.0 GiB"},
		{"pib", 2 << 50, "2.0 PiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := humanBytes(tt.n); got != tt.want {
				t.Errorf("humanBytes(%d) = %q, want %q", tt.n, got, tt.want)
			}
		})
	}
}
