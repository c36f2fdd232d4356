package scanner

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/rules"
	"github.com/keywarden/keywarden/scanner/gittest"
)

var fakeToken = gittest.FakeToken

// sliceSource yields prepared blobs in order, the way a git source does.
type sliceSource []Blob

func (s sliceSource) Blobs(ctx context.Context, yield func(Blob) error) error {
	for _, b := range s {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := yield(b); err != nil {
			return err
		}
	}
	return nil
}

func gitBlob(commit, path, content string) Blob {
	return Blob{ID: HashBlob([]byte(content)), Content: []byte(content), Origin: GitOrigin{Commit: commit, Path: path}, Size: int64(len(content))}
}

func newTestEngine(t *testing.T) *Engine {
	t.Helper()
	rs, err := rules.Default()
	if err != nil {
		t.Fatal(err)
	}
	return &Engine{Detector: rules.NewDetector(rs, rules.DetectorOptions{}), Rules: rs, Workers: 2, Salt: "test"}
}

type flatLoc struct {
	Rule, Secret, Commit, Path string
	Line, Col                  int
}

func flatten(fs []Finding) []flatLoc {
	var out []flatLoc
	for _, f := range fs {
		for _, l := range f.Locations {
			out = append(out, flatLoc{f.RuleID, f.Secret, l.Commit, l.Path, l.Line, l.Column})
		}
	}
	return out
}

// history builds blobs that look like a file edited over many commits: each version keeps most
// lines of the previous one, so line dedup has work to do.
func history() sliceSource {
	var src sliceSource
	lines := []string{"package config", "", "import \"os\"", ""}
	for i := 0; i < 40; i++ {
		lines = append(lines, fmt.Sprintf("var setting%d = %d // tuning knob", i, i*7))
		switch i {
		case 5:
			lines = append(lines, "token := \""+fakeToken(1)+"\"")
		case 12:
			kept := lines[:0]
			for _, l := range lines {
				if !strings.HasPrefix(l, "token :=") {
					kept = append(kept, l)
				}
			}
			lines = kept // the token line goes away again
		case 20:
			pem := "RSA PRIVATE" + " KEY-----" // split so the source itself holds no key
			lines = append(lines, "-----BEGIN "+pem, "MIIEowIBAAKCAQEA"+strings.Repeat("q", 48))
			for k := 0; k < 10; k++ {
				lines = append(lines, strings.Repeat(fmt.Sprintf("Zm9v%04d", k), 8))
			}
			lines = append(lines, "-----END "+pem)
		case 30:
			// A new key that differs from the old one only in the middle of its body: the
			// BEGIN line is far from the one changed line.
			for k, l := range lines {
				if strings.HasPrefix(l, "Zm9v0005") {
					lines[k] = strings.Repeat("YmFy0005", 8)
				}
			}
		}
		content := strings.Join(lines, "\n") + "\n"
		b := gitBlob(fmt.Sprintf("%040d", i), "config.go", content)
		if i > 0 {
			o := b.Origin.(GitOrigin)
			o.PrevBlobs = []BlobID{src[len(src)-1].ID}
			b.Origin = o
		}
		src = append(src, b)
	}
	// The same token, later, in another file on another branch: one finding, two places.
	src = append(src, gitBlob(fmt.Sprintf("%040d", 99), "deploy/env.sh", "#!/bin/sh\nexport X=1\ntoken := \""+fakeToken(1)+"\"\n"))
	return src
}

func TestLineDedupFindsWhatWholeBlobsFind(t *testing.T) {
	ctx := context.Background()
	e := newTestEngine(t)
	dedup, err := e.Run(ctx, history())
	if err != nil {
		t.Fatal(err)
	}
	e.WholeBlobs = true
	whole, err := e.Run(ctx, history())
	if err != nil {
		t.Fatal(err)
	}
	rulesFound := map[string]bool{}
	for _, f := range whole.Findings {
		rulesFound[f.RuleID] = true
	}
	if !rulesFound["github-pat"] || !rulesFound["private-key"] {
		t.Fatalf("whole-blob scan found rules %v, want github-pat and private-key; the fixture is broken", rulesFound)
	}
	if diff := cmp.Diff(flatten(whole.Findings), flatten(dedup.Findings)); diff != "" {
		t.Errorf("line dedup changed findings (-whole +dedup):\n%s", diff)
	}
	if dedup.Stats.ScannedBytes*3 > whole.Stats.ScannedBytes {
		t.Errorf("dedup scanned %d bytes of %d; want far fewer", dedup.Stats.ScannedBytes, whole.Stats.ScannedBytes)
	}
}

func TestOneFindingPerSecretFirstIntroducedFirst(t *testing.T) {
	e := newTestEngine(t)
	res, err := e.Run(context.Background(), history())
	if err != nil {
		t.Fatal(err)
	}
	var tok *Finding
	for i := range res.Findings {
		if res.Findings[i].Secret == fakeToken(1) {
			if tok != nil {
				t.Fatalf("token reported as two findings: %s and %s", tok.RuleID, res.Findings[i].RuleID)
			}
			tok = &res.Findings[i]
		}
	}
	if tok == nil {
		t.Fatalf("token not found; findings: %+v", flatten(res.Findings))
	}
	first := tok.Locations[0]
	if first.Commit != fmt.Sprintf("%040d", 5) || first.Path != "config.go" {
		t.Errorf("first location = %s:%s, want the introducing commit 5 at config.go", first.Commit, first.Path)
	}
	last := tok.Locations[len(tok.Locations)-1]
	if last.Path != "deploy/env.sh" || last.Line != 3 {
		t.Errorf("last location = %s:%d, want deploy/env.sh:3", last.Path, last.Line)
	}
	// Versions 6..11 of config.go still hold the line but do not introduce it again.
	if got := len(tok.Locations); got != 2 {
		t.Errorf("got %d locations %+v, want 2 (config.go where introduced, deploy/env.sh)", got, tok.Locations)
	}
}

func TestSuppressions(t *testing.T) {
	ctx := context.Background()
	e := newTestEngine(t)
	base, err := e.Run(ctx, history())
	if err != nil {
		t.Fatal(err)
	}
	var tok Finding
	for _, f := range base.Findings {
		if f.Secret == fakeToken(1) {
			tok = f
		}
	}
	tests := []struct {
		name     string
		supp     Suppressions
		wantLocs int // locations of the token finding; 0 = finding gone
	}{
		{"fingerprint drops the finding", Suppressions{Fingerprints: map[string]bool{tok.Fingerprint: true}}, 0},
		{"path:rule:line drops one location", Suppressions{Locations: map[string]bool{"deploy/env.sh:" + tok.RuleID + ":3": true}}, len(tok.Locations) - 1},
		{"commit:path:rule:line drops one location", Suppressions{Locations: map[string]bool{tok.Locations[0].Commit + ":config.go:" + tok.RuleID + ":" + fmt.Sprint(tok.Locations[0].Line): true}}, len(tok.Locations) - 1},
		{"unrelated entry drops nothing", Suppressions{Locations: map[string]bool{"other:rule:1": true}}, len(tok.Locations)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEngine(t)
			e.Suppress = tt.supp
			res, err := e.Run(ctx, history())
			if err != nil {
				t.Fatal(err)
			}
			got := 0
			for _, f := range res.Findings {
				if f.Secret == fakeToken(1) {
					got = len(f.Locations)
				}
			}
			if got != tt.wantLocs {
				t.Errorf("token locations = %d, want %d", got, tt.wantLocs)
			}
			if len(res.Findings) < len(base.Findings)-1 {
				t.Errorf("suppression removed other findings: %d -> %d", len(base.Findings), len(res.Findings))
			}
		})
	}
}

func TestFingerprintStableAcrossMovesAndSalted(t *testing.T) {
	ctx := context.Background()
	line := "token := \"" + fakeToken(2) + "\"\n"
	a := sliceSource{gitBlob(strings.Repeat("a", 40), "a.go", line)}
	b := sliceSource{gitBlob(strings.Repeat("b", 40), "moved/b.go", "// moved\n\n"+line)}
	fp := func(src Source, salt string) string {
		e := newTestEngine(t)
		e.Salt = salt
		res, err := e.Run(ctx, src)
		if err != nil || len(res.Findings) != 1 {
			t.Fatalf("run: %v, %d findings", err, len(res.Findings))
		}
		return res.Findings[0].Fingerprint
	}
	if fp(a, "repo1") != fp(b, "repo1") {
		t.Error("fingerprint changed when the secret moved to another file, line and commit")
	}
	if fp(a, "repo1") == fp(a, "repo2") {
		t.Error("fingerprint does not depend on the salt")
	}
	if strings.Contains(fp(a, "repo1"), fakeToken(2)[4:12]) {
		t.Error("fingerprint contains part of the secret")
	}
}

func TestBinaryAndSkippedBlobsAreReported(t *testing.T) {
	e := newTestEngine(t)
	bin := "\x00\x01token := \"" + fakeToken(3) + "\"\n"
	src := sliceSource{
		gitBlob(strings.Repeat("c", 40), "logo.png", bin),
		{ID: HashBlob([]byte("big")), Origin: DirOrigin{Path: "huge.log"}, Skip: SkipTooLarge, Size: 11 << 20},
	}
	res, err := e.Run(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 0 {
		t.Errorf("binary blob produced findings: %+v", flatten(res.Findings))
	}
	var reasons []string
	for _, s := range res.Skipped {
		reasons = append(reasons, s.Reason)
	}
	sort.Strings(reasons)
	if diff := cmp.Diff([]string{SkipBinary, SkipTooLarge}, reasons); diff != "" {
		t.Errorf("skipped reasons (-want +got):\n%s", diff)
	}
	if res.Stats.Skipped != 2 {
		t.Errorf("Stats.Skipped = %d, want 2", res.Stats.Skipped)
	}
}

// errSource fails after yielding its blobs, like a repository with a corrupt object.
type errSource struct {
	sliceSource
	err error
}

func (s errSource) Blobs(ctx context.Context, yield func(Blob) error) error {
	if err := s.sliceSource.Blobs(ctx, yield); err != nil {
		return err
	}
	return s.err
}

func TestSourceErrorKeepsResults(t *testing.T) {
	e := newTestEngine(t)
	boom := errors.New("reading blob 1234567: zlib: invalid header")
	res, err := e.Run(context.Background(), errSource{history(), boom})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the source's error", err)
	}
	if res == nil || len(res.Findings) == 0 {
		t.Fatal("findings made before the error were lost")
	}
}

func TestCancelledContext(t *testing.T) {
	e := newTestEngine(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Run(ctx, history()); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestParseIgnore(t *testing.T) {
	in := "# comment\n0123456789abcdef0123456789abcdef\nabc123:config.go:github-pat:7\nsrc\\app.env:generic-api-key:3 # why\nnonsense\n\n"
	var warns []string
	s, err := ParseIgnore(strings.NewReader(in), ".keywardenignore", func(err error) { warns = append(warns, err.Error()) })
	if err != nil {
		t.Fatal(err)
	}
	want := Suppressions{
		Fingerprints: map[string]bool{"0123456789abcdef0123456789abcdef": true},
		Locations:    map[string]bool{"abc123:config.go:github-pat:7": true, "src/app.env:generic-api-key:3": true},
	}
	if diff := cmp.Diff(want, s); diff != "" {
		t.Errorf("ParseIgnore (-want +got):\n%s", diff)
	}
	if len(warns) != 1 || !strings.Contains(warns[0], "line 5") {
		t.Errorf("warnings = %q, want one naming line 5", warns)
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"long keeps four", "abcdefghijklmnopqrst", "abcd…"},
		{"short keeps a quarter", "hunter2!", "hu…"},
		{"tiny keeps nothing", "abc", "…"},
		{"code points not bytes", "ééééééééééééééééé", "éééé…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Redact(tt.in); got != tt.want {
				t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestCancelMidScan cancels a real git scan after a few blobs: Run returns the context's error,
// and neither goroutines nor a git cat-file process are left behind.
func TestCancelMidScan(t *testing.T) {
	r := gittest.New(t)
	for i := 0; i < 30; i++ {
		r.Commit(map[string]string{fmt.Sprintf("f%d.txt", i): strings.Repeat(fmt.Sprintf("line %d\n", i), 50)}, "c")
	}
	for _, reader := range []string{ReaderGoGit, ReaderGit} {
		t.Run(reader, func(t *testing.T) {
			if _, err := exec.LookPath("git"); err != nil && reader == ReaderGit {
				t.Skip("no git binary")
			}
			before := runtime.NumGoroutine()
			ctx, cancel := context.WithCancel(context.Background())
			src, closeFn, err := OpenGit(ctx, r.Path(), GitOptions{Reader: reader})
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			counting := sourceFunc(func(ctx context.Context, yield func(Blob) error) error {
				return src.Blobs(ctx, func(b Blob) error {
					if n++; n == 5 {
						cancel()
					}
					return yield(b)
				})
			})
			_, err = newTestEngine(t).Run(ctx, counting)
			closeFn()
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
			deadline := time.Now().Add(2 * time.Second)
			for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if g := runtime.NumGoroutine(); g > before {
				t.Errorf("%d goroutines after the scan, %d before", g, before)
			}
		})
	}
}

type sourceFunc func(ctx context.Context, yield func(Blob) error) error

func (f sourceFunc) Blobs(ctx context.Context, yield func(Blob) error) error { return f(ctx, yield) }
