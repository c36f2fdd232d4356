// Package bench holds keywarden's benchmarks: full-history scans of a generated repository by
// keywarden and, in the same run, by gitleaks' own library pipeline (git log -p into its
// detector), so that the ratio is measured under identical conditions. bench/realrepo.sh does
// the same against gitleaks' released binary on a real project's history.
package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"

	"github.com/zricethezav/gitleaks/v8/config"
	"github.com/zricethezav/gitleaks/v8/detect"
	"github.com/zricethezav/gitleaks/v8/sources"

	"github.com/keywarden/keywarden/rules"
	"github.com/keywarden/keywarden/scanner"
	"github.com/keywarden/keywarden/scanner/gittest"
)

// genRepo builds a history of commits that edit a few dozen source-like files a little at a
// time, as real development does, with a generated token added now and then.
func genRepo(b *testing.B, commits int) string {
	b.Helper()
	r := gittest.New(b)
	rng := rand.New(rand.NewPCG(7, 11))
	files := map[string][]string{}
	for i := 0; i < 40; i++ {
		var lines []string
		for j := 0; j < 200; j++ {
			lines = append(lines, codeLine(rng))
		}
		files[fmt.Sprintf("pkg%d/file%d.go", i%7, i)] = lines
	}
	for c := 0; c < commits; c++ {
		change := map[string]string{}
		for k := 0; k < 3; k++ {
			name := fmt.Sprintf("pkg%d/file%d.go", rng.IntN(40)%7, rng.IntN(40))
			lines, ok := files[name]
			if !ok {
				continue
			}
			at := rng.IntN(len(lines))
			lines = append(lines[:at], append([]string{codeLine(rng)}, lines[at:]...)...)
			if rng.IntN(20) == 0 {
				lines = append(lines, "\tauthToken := \"gh"+"p_"+randAlnum(rng, 36)+"\"")
			}
			files[name] = lines
			change[name] = strings.Join(lines, "\n") + "\n"
		}
		if len(change) == 0 {
			continue
		}
		r.Commit(change, fmt.Sprintf("change %d", c))
	}
	r.Pack()
	return r.Path()
}

func codeLine(rng *rand.Rand) string {
	words := []string{"ctx", "err", "value", "config", "client", "request", "result", "buffer", "index", "count", "name", "path"}
	w := func() string { return words[rng.IntN(len(words))] }
	switch rng.IntN(4) {
	case 0:
		return fmt.Sprintf("\t%s := %s.%s(%s, %d)", w(), w(), strings.Title(w()), w(), rng.IntN(1000))
	case 1:
		return fmt.Sprintf("\tif %s != nil { return fmt.Errorf(\"%s %s: %%w\", %s) }", w(), w(), w(), w())
	case 2:
		return fmt.Sprintf("\t// %s the %s before %s, see issue %d", w(), w(), w(), rng.IntN(9999))
	}
	return fmt.Sprintf("\t%s = append(%s, %s[%d:])", w(), w(), w(), rng.IntN(64))
}

func randAlnum(rng *rand.Rand, n int) string {
	const a = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteByte(a[rng.IntN(len(a))])
	}
	return b.String()
}

// BenchmarkFullHistory scans the same generated history with keywarden (both blob readers)
// and with gitleaks' library pipeline. Compare ns/op: gitleaks/keywarden is the speed-up.
func BenchmarkFullHistory(b *testing.B) {
	repo := genRepo(b, 1500)
	ctx := context.Background()
	for _, reader := range []string{scanner.ReaderGit, scanner.ReaderGoGit} {
		b.Run("keywarden/"+reader, func(b *testing.B) {
			if _, err := exec.LookPath("git"); err != nil && reader == scanner.ReaderGit {
				b.Skip("no git binary")
			}
			var findings int
			for i := 0; i < b.N; i++ {
				out, err := scanner.Scan(ctx, scanner.ScanOptions{Kind: "git", Target: repo, Git: scanner.GitOptions{Reader: reader}})
				if err != nil {
					b.Fatal(err)
				}
				findings = len(out.Findings)
			}
			b.ReportMetric(float64(findings), "findings")
		})
	}
	b.Run("gitleaks-library", func(b *testing.B) {
		if _, err := exec.LookPath("git"); err != nil {
			b.Skip("gitleaks needs the git binary")
		}
		rs, err := rules.Default()
		if err != nil {
			b.Fatal(err)
		}
		cfg := rs.GitleaksConfig()
		var findings int
		for i := 0; i < b.N; i++ {
			d := detect.NewDetector(cfg)
			d.MaxDecodeDepth = 5
			cmd, err := sources.NewGitLogCmdContext(ctx, repo, "")
			if err != nil {
				b.Fatal(err)
			}
			fs, err := d.DetectSource(ctx, &sources.Git{Cmd: cmd, Config: &d.Config, Sema: d.Sema, Remote: &sources.RemoteInfo{}})
			if err != nil {
				b.Fatal(err)
			}
			findings = len(fs)
		}
		b.ReportMetric(float64(findings), "findings")
	})
	_ = config.DefaultConfig
}
