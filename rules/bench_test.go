package rules

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/zricethezav/gitleaks/v8/detect"
)

// benchFiles is about 4 MiB of code-like text, as files of about 16 KiB, with a secret of a
// random rule every few hundred lines.
func benchFiles(b *testing.B, rs *Ruleset) []string {
	b.Helper()
	cfg := rs.Config()
	gen := newSampler(11)
	rnd := rand.New(rand.NewPCG(5, 8))
	var secrets []string
	for _, id := range sortedIDs(cfg.Rules) {
		r := cfg.Rules[id]
		if r.Regex == nil {
			continue
		}
		for range 10 {
			if s, ok := gen.sample(r.Regex.String()); ok && !strings.Contains(s, "\n") && r.Regex.MatchString(s) {
				secrets = append(secrets, s)
				break
			}
		}
	}
	var files []string
	var sb strings.Builder
	for total := 0; total < 4<<20; {
		sb.WriteString(negativeSources[rnd.IntN(len(negativeSources))])
		if rnd.IntN(12) == 0 {
			sb.WriteString(templates[rnd.IntN(len(templates))](secrets[rnd.IntN(len(secrets))]))
		}
		if sb.Len() >= 16<<10 {
			total += sb.Len()
			files = append(files, sb.String())
			sb.Reset()
		}
	}
	return files
}

// BenchmarkDetect compares Detect with gitleaks' DetectString on the same files, both with
// gitleaks' default decoding depth.
func BenchmarkDetect(b *testing.B) {
	rs, err := Default()
	if err != nil {
		b.Fatal(err)
	}
	files := benchFiles(b, rs)
	size := 0
	for _, f := range files {
		size += len(f)
	}
	whole := strings.Join(files, "")

	ours := NewDetector(rs, DetectorOptions{})
	gl := detect.NewDetector(rs.GitleaksConfig())
	gl.MaxDecodeDepth = defaultDecodeDepth

	run := func(name string, detect func(string) int) {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(size))
			n := 0
			for b.Loop() {
				n = detect("")
			}
			b.ReportMetric(float64(n), "findings")
		})
	}
	// Findings are counted as gitleaks' DetectString sees them: without a path, so matches of
	// path-constrained rules are dropped by Allowed.
	count := func(ms []Match) int {
		n := 0
		for i := range ms {
			if !ours.Allowed(&ms[i], "", "") {
				n++
			}
		}
		return n
	}
	run("keywarden/files", func(string) int {
		n := 0
		for _, f := range files {
			n += count(ours.Detect([]byte(f)))
		}
		return n
	})
	run("gitleaks/files", func(string) int {
		n := 0
		for _, f := range files {
			n += len(gl.DetectString(f))
		}
		return n
	})
	// gitleaks is left out here: on 4 MiB in one piece it needs minutes (its location and
	// filter steps are quadratic in lines and findings).
	run("keywarden/one-text", func(string) int { return count(ours.Detect([]byte(whole))) })
}

// BenchmarkStartup is what a pre-commit scan of a 20-line change pays in this package: the
// default rules built from scratch, a detector, and one Detect, of plain code (clean) or of
// code holding a GitHub token (secret). A new process pays more, for a heap and caches that
// start cold.
func BenchmarkStartup(b *testing.B) {
	for _, name := range []string{"clean", "secret"} {
		var sb strings.Builder
		for i := range 19 {
			fmt.Fprintf(&sb, "func step%d(ctx context.Context) error { return run(ctx, cfg.Items[%d]) }\n", i, i)
		}
		if name == "secret" {
			sb.WriteString("gh := \"ghp_" + "8LuhfTcUn6qEHM3XZdW2mA9JvqNrRb0sPyTk\"\n")
		}
		text := []byte(sb.String())
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				defaults.once = sync.Once{}
				rs, err := Default()
				if err != nil {
					b.Fatal(err)
				}
				d := NewDetector(rs, DetectorOptions{})
				if ms := d.Detect(text); (len(ms) > 0) != (name == "secret") {
					b.Fatalf("%d matches: %+v", len(ms), ms)
				}
			}
		})
	}
}
