package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/ecdsa"
	"crypto/elliptic"
	crand "crypto/rand"
	"crypto/x509"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/go-git/go-git/v5"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/keywarden/keywarden/hsmcheck/pkcs11/softhsmtest"
	"github.com/keywarden/keywarden/report"
	"github.com/keywarden/keywarden/rules/keyfind"
	"github.com/keywarden/keywarden/scanner/gittest"
	"github.com/keywarden/keywarden/scanner/imagetest"
)

// badInput is one case of the bad-input catalogue (docs/bad-inputs.md lists them all). The
// command runs in-process with --format json -o FILE added (unless noReport), and the case
// states what a user sees: one line naming the problem, the exit code, and what the report
// still holds.
type badInput struct {
	name string
	// input builds the input in the test's temp dirs and returns the command line; it may set
	// want when the message names something the input made (a blob's hash).
	input func(t *testing.T, c *badInput) []string
	// want is a stable part of the one stderr line about the problem: the error line when the
	// run exits 2, a warning line when the scan goes on. "" when there is nothing to say: no
	// warning or error line at all.
	want string
	code int
	// found are paths (or parts of them) that findings in the report must be at: what could
	// be read is reported. A report is expected when found is set or code is not 2.
	found []string
	// skipped are "PATH REASON" entries (PATH a part of the path) the report must list.
	skipped []string
	// noReport: the command takes no --format json -o (or the case gives its own).
	noReport bool
	// within bounds the run's time: the case is about something that must not hang.
	within time.Duration
	// run replaces the in-process run (signals need a process of their own).
	run func(t *testing.T, args []string) cliResult
	// check makes assertions of the case's own.
	check func(t *testing.T, res cliResult, rep *report.JSONReport)
}

// TestBadInputCatalogue runs every case of docs/bad-inputs.md. Each must give the expected
// one-line message and exit code, never a panic, a report that still holds what could be read
// when the scan went on or stopped late, and no report file at all (not even a temp file) when
// the run failed before writing one.
func TestBadInputCatalogue(t *testing.T) {
	secret := fakeToken(1100)
	okFile := "GITHUB_TOKEN=" + secret + "\n"
	// good is a directory with one finding, next to whatever is bad.
	good := func(t *testing.T) string {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "ok.env"), okFile)
		return dir
	}
	goodRepo := func(t *testing.T) *gittest.Repo {
		r := gittest.New(t)
		r.Commit(map[string]string{"ok.env": okFile, "README.md": "# demo\n"}, "ok")
		return r
	}
	config := func(t *testing.T, body string) string {
		p := filepath.Join(t.TempDir(), "config.toml")
		writeFile(t, p, body)
		return p
	}
	image := func(t *testing.T, layers ...v1.Layer) string {
		layers = append(layers, imagetest.Layer(t, map[string]string{"app/ok.env": okFile}))
		img := imagetest.Image(t, imagetest.ConfigOptions{}, layers...)
		return "oci:" + imagetest.WriteOCILayout(t, map[string]v1.Image{"1": img}) + ":1"
	}
	kms := func(t *testing.T, h http.HandlerFunc, extra ...string) []string {
		srv := httptest.NewServer(h)
		t.Cleanup(func() {
			srv.CloseClientConnections() // ends a handler that never answers
			srv.Close()
		})
		fakeAWS(t)
		return append([]string{"scan", "dir", good(t), "--inventory", "awskms://eu-west-1", "--kms-endpoint", srv.URL}, extra...)
	}
	registry := func(t *testing.T, h http.HandlerFunc) []string {
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		t.Setenv("DOCKER_CONFIG", t.TempDir()) // no credentials
		return []string{"scan", "image", strings.TrimPrefix(srv.URL, "http://") + "/app:1.0"}
	}
	var slow struct {
		once  sync.Once
		dir   string // the test's, so that the repository outlives the case that made it
		path  string
		blobs int
	}
	slow.dir = t.TempDir()
	interrupt := func(sig syscall.Signal) func(t *testing.T, args []string) cliResult {
		return func(t *testing.T, args []string) cliResult {
			slow.once.Do(func() { slow.path, slow.blobs = slowRepo(t, slow.dir, 150, secret) })
			if slow.path == "" {
				t.Fatal("no repository to scan")
			}
			return interruptScan(t, sig, append([]string{"scan", "git", "file://" + slow.path, "--jobs", "1"}, args...), slow.blobs)
		}
	}
	noInputs := func(args ...string) func(*testing.T, *badInput) []string {
		return func(*testing.T, *badInput) []string { return args }
	}

	cases := []badInput{
		// ---- git repositories ----
		{
			name: "git/corrupt-packfile",
			input: func(t *testing.T, c *badInput) []string {
				r := goodRepo(t)
				big := c.name + "\n" + pseudoRandomText(11, 200<<10)
				commit := r.Commit(map[string]string{"data/big.txt": big}, "big")
				c.want = "reading blob " + blobHash(t, r, commit, "data/big.txt")[:7]
				r.Pack()
				packs, _ := filepath.Glob(filepath.Join(r.GitDir(), "objects", "pack", "*.pack"))
				if len(packs) != 1 {
					t.Fatalf("packs: %v", packs)
				}
				// The big blob is nearly all of the pack: three quarters in is inside it.
				overwrite(t, packs[0], 3, 4, "not zlib data, not a delta, nothing git wrote")
				return []string{"scan", "git", r.Path()}
			},
			code:    exitError,
			found:   []string{"ok.env"},
			skipped: []string{"big.txt unreadable"},
		},
		{
			name: "git/corrupt-loose-object",
			input: func(t *testing.T, c *badInput) []string {
				r := goodRepo(t)
				commit := r.Commit(map[string]string{"bad.txt": "some content that will be corrupted\n"}, "to corrupt")
				h := blobHash(t, r, commit, "bad.txt")
				c.want = "reading blob " + h[:7]
				overwriteFile(t, r.ObjectPath(h), "this is not zlib data")
				return []string{"scan", "git", r.Path()}
			},
			code:    exitError,
			found:   []string{"ok.env"},
			skipped: []string{"bad.txt unreadable"},
		},
		{
			name: "git/missing-object",
			input: func(t *testing.T, c *badInput) []string {
				r := goodRepo(t)
				commit := r.Commit(map[string]string{"gone.txt": "this blob will be deleted\n"}, "to delete")
				if err := os.Remove(r.ObjectPath(blobHash(t, r, commit, "gone.txt"))); err != nil {
					t.Fatal(err)
				}
				return []string{"scan", "git", r.Path()}
			},
			want:    "1 objects missing",
			code:    exitFindings,
			found:   []string{"ok.env"},
			skipped: []string{"gone.txt missing"},
		},
		{
			name: "git/shallow-clone",
			input: func(t *testing.T, c *badInput) []string {
				requireTool(t, "git")
				r := goodRepo(t)
				r.Commit(map[string]string{"later.txt": "later\n"}, "later")
				dst := filepath.Join(t.TempDir(), "shallow")
				gitRun(t, "", "clone", "-q", "--depth", "1", "file://"+r.GitDir(), dst)
				return []string{"scan", "git", dst}
			},
			want:  "history is cut short (shallow clone)",
			code:  exitFindings,
			found: []string{"ok.env"},
		},
		{
			name: "git/alternates",
			input: func(t *testing.T, c *badInput) []string {
				// A repository whose objects are all in another one's object directory, as
				// git clone --shared and --reference leave it.
				r := goodRepo(t)
				dir := t.TempDir()
				if _, err := git.PlainInit(dir, true); err != nil {
					t.Fatal(err)
				}
				writeFile(t, filepath.Join(dir, "objects", "info", "alternates"), filepath.Join(r.GitDir(), "objects")+"\n")
				writeFile(t, filepath.Join(dir, "refs", "heads", "main"), r.Head()+"\n")
				return []string{"scan", "git", dir}
			},
			code:  exitFindings,
			found: []string{"ok.env"},
		},
		{
			name: "git/submodule",
			input: func(t *testing.T, c *badInput) []string {
				r := goodRepo(t)
				r.Commit(map[string]string{"src/main.go": "package main\n"}, "vendor a module",
					gittest.Submodule("third_party/lib", strings.Repeat("ab", 20)))
				return []string{"scan", "git", r.Path()}
			},
			code:  exitFindings,
			found: []string{"ok.env"},
		},
		{
			name:  "git/not-a-repository",
			input: func(t *testing.T, c *badInput) []string { return []string{"scan", "git", good(t)} },
			want:  "not a git repository",
			code:  exitError,
		},
		{
			name: "git/missing-path",
			input: func(t *testing.T, c *badInput) []string {
				return []string{"scan", "git", filepath.Join(t.TempDir(), "nope")}
			},
			want: "no such file or directory",
			code: exitError,
		},
		{
			name: "git/bad-range",
			input: func(t *testing.T, c *badInput) []string {
				return []string{"scan", "git", goodRepo(t).Path(), "--range", "nope..main"}
			},
			want: `"nope`,
			code: exitError,
		},
		{
			name: "git/bad-since",
			input: func(t *testing.T, c *badInput) []string {
				return []string{"scan", "git", goodRepo(t).Path(), "--since", "yesterday-ish"}
			},
			want: "parsing --since",
			code: exitError,
		},
		{
			name: "git/pre-push-with-range",
			input: func(t *testing.T, c *badInput) []string {
				return []string{"scan", "git", goodRepo(t).Path(), "--pre-push", "--range", "a..b"}
			},
			want: "pre-push",
			code: exitError,
		},
		{
			name:  "git/unreachable-url-with-credentials",
			input: noInputs("scan", "git", "https://x-access-token:"+secret+"@127.0.0.1:1/org/repo.git"),
			want:  "https://***@127.0.0.1:1/org/repo.git",
			code:  exitError,
		},
		{
			name:  "git/unreachable-url-token-as-user",
			input: noInputs("scan", "git", "https://"+secret+"@127.0.0.1:1/org/repo.git"),
			want:  "https://***@127.0.0.1:1/org/repo.git",
			code:  exitError,
		},

		// ---- files on disk ----
		{
			name: "dir/1gb-single-line-file",
			input: func(t *testing.T, c *badInput) []string {
				dir := good(t)
				sparse(t, filepath.Join(dir, "huge.min.js"), 1<<30, map[int64]string{1<<29 - 20: "T=" + secret})
				return []string{"scan", "dir", dir}
			},
			code:    exitFindings,
			found:   []string{"ok.env"},
			skipped: []string{"huge.min.js too-large"},
		},
		{
			name: "dir/large-single-line-file-no-size-limit",
			input: func(t *testing.T, c *badInput) []string {
				// There are no chunks in text: a file is one blob, whole; the secret sits across
				// the middle of a 32 MiB line with no newline at all.
				dir := t.TempDir()
				line := bytes.Repeat([]byte("var a=1;"), 4<<20)
				copy(line[16<<20-20:], " T="+secret+" ")
				writeFile(t, filepath.Join(dir, "bundle.js"), string(line))
				return []string{"scan", "dir", dir, "--max-file-size", "0"}
			},
			code:  exitFindings,
			found: []string{"bundle.js"},
		},
		{
			name: "dump/1gb-key-across-chunk-boundary",
			input: func(t *testing.T, c *badInput) []string {
				// keyfind reads dumps in chunks of ChunkSize: the key's DER starts 40 bytes
				// before the boundary at 512 MiB of a 1 GiB file of zeros.
				key, err := ecdsa.GenerateKey(elliptic.P256(), crand.Reader)
				if err != nil {
					t.Fatal(err)
				}
				der, err := x509.MarshalPKCS8PrivateKey(key)
				if err != nil {
					t.Fatal(err)
				}
				at := int64(512<<20) - 40
				if at%keyfind.ChunkSize != keyfind.ChunkSize-40 {
					t.Fatalf("offset %d is not 40 bytes before a chunk boundary", at)
				}
				p := filepath.Join(t.TempDir(), "core.raw")
				sparse(t, p, 1<<30, map[int64]string{at: string(der)})
				c.check = func(t *testing.T, res cliResult, rep *report.JSONReport) {
					if len(rep.Findings) != 1 || rep.Findings[0].Locations[0].Offset == nil || *rep.Findings[0].Locations[0].Offset != at {
						t.Errorf("findings %+v, want the key at offset %d", rep.Findings, at)
					}
				}
				return []string{"scan", "dump", p}
			},
			code:  exitFindings,
			found: []string{"core.raw"},
		},
		{
			name: "dir/nul-bytes",
			input: func(t *testing.T, c *badInput) []string {
				dir := good(t)
				writeFile(t, filepath.Join(dir, "zeros.dat"), string(make([]byte, 64<<10)))
				return []string{"scan", "dir", dir}
			},
			code:    exitFindings,
			found:   []string{"ok.env"},
			skipped: []string{"zeros.dat binary"},
		},
		{
			name: "dir/invalid-utf8",
			input: func(t *testing.T, c *badInput) []string {
				dir := t.TempDir()
				writeFile(t, filepath.Join(dir, "latin1.conf"), "caf\xe9 \xff\xfe\xc3( GITHUB_TOKEN="+secret+" \xa0\xa1\n\xed\xa0\x80\n")
				return []string{"scan", "dir", dir}
			},
			code:  exitFindings,
			found: []string{"latin1.conf"},
		},
		{
			name: "dir/utf16le-with-bom",
			input: func(t *testing.T, c *badInput) []string {
				dir := t.TempDir()
				writeFile(t, filepath.Join(dir, "settings.ps1.txt"), utf16Of(true, false, "# Windows\r\n$env:GITHUB_TOKEN = '"+secret+"'\r\n"))
				return []string{"scan", "dir", dir}
			},
			code:  exitFindings,
			found: []string{"settings.ps1.txt"},
			check: lineOf(2),
		},
		{
			name: "dir/utf16be-with-bom",
			input: func(t *testing.T, c *badInput) []string {
				dir := t.TempDir()
				writeFile(t, filepath.Join(dir, "be.txt"), utf16Of(true, true, "GITHUB_TOKEN="+secret+"\n"))
				return []string{"scan", "dir", dir}
			},
			code:  exitFindings,
			found: []string{"be.txt"},
		},
		{
			name: "dir/utf16le-without-bom",
			input: func(t *testing.T, c *badInput) []string {
				dir := t.TempDir()
				writeFile(t, filepath.Join(dir, "export.reg"), utf16Of(false, false, "[HKEY_CURRENT_USER\\Software\\App]\r\n\"Token\"=\"GITHUB_TOKEN="+secret+"\"\r\n"))
				return []string{"scan", "dir", dir}
			},
			code:  exitFindings,
			found: []string{"export.reg"},
			check: lineOf(2),
		},
		{
			name: "image/utf16-file-in-a-layer",
			input: func(t *testing.T, c *badInput) []string {
				return []string{"scan", "image", image(t, imagetest.Layer(t, map[string]string{
					"app/appsettings.txt": utf16Of(true, false, "GITHUB_TOKEN="+fakeToken(1104)+"\r\n")}))}
			},
			code:  exitFindings,
			found: []string{"app/appsettings.txt", "app/ok.env"},
		},
		{
			name: "dir/symlink-loops",
			input: func(t *testing.T, c *badInput) []string {
				dir := good(t)
				for _, l := range [][2]string{{"loop-b", "loop-a"}, {"loop-a", "loop-b"}, {"..", "sub/up"}, {"../sub", "sub/self"}, {"self", "self"}} {
					os.MkdirAll(filepath.Dir(filepath.Join(dir, l[1])), 0o755)
					if err := os.Symlink(l[0], filepath.Join(dir, l[1])); err != nil {
						t.Fatal(err)
					}
				}
				return []string{"scan", "dir", dir}
			},
			code:  exitFindings,
			found: []string{"ok.env"},
		},
		{
			name: "dir/fifo",
			input: func(t *testing.T, c *badInput) []string {
				dir := good(t)
				if err := syscall.Mkfifo(filepath.Join(dir, "pipe.env"), 0o644); err != nil {
					t.Fatal(err)
				}
				return []string{"scan", "dir", dir}
			},
			code:   exitFindings,
			found:  []string{"ok.env"},
			within: 20 * time.Second,
		},
		{
			name: "dir/missing-directory",
			input: func(t *testing.T, c *badInput) []string {
				return []string{"scan", "dir", filepath.Join(t.TempDir(), "nope")}
			},
			want: "no such file or directory",
			code: exitError,
		},

		// ---- archives in image layers ----
		{
			name: "image/tar-path-traversal",
			input: func(t *testing.T, c *badInput) []string {
				var buf bytes.Buffer
				tw := tar.NewWriter(&buf)
				for _, name := range []string{"../../../etc/cron.d/evil.env", "/abs/evil2.env"} {
					body := "GITHUB_TOKEN=" + fakeToken(1102) + "\n"
					tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(body))})
					tw.Write([]byte(body))
				}
				tw.Close()
				return []string{"scan", "image", image(t, imagetest.LayerFromTar(t, buf.Bytes()))}
			},
			want:  "path leaves the image's root",
			code:  exitFindings,
			found: []string{"etc/cron.d/evil.env", "abs/evil2.env", "app/ok.env"},
			check: noFileOutside,
		},
		{
			name: "image/zip-path-traversal",
			input: func(t *testing.T, c *badInput) []string {
				z := zipOf(t, map[string]string{"../../../../tmp/evil.env": "GITHUB_TOKEN=" + fakeToken(1103) + "\n", "ok.txt": "fine\n"})
				return []string{"scan", "image", image(t, imagetest.Layer(t, map[string]string{"app/lib/plugin.zip": z}))}
			},
			want:  "entry with a path outside the archive",
			code:  exitFindings,
			found: []string{"app/ok.env"},
			check: noFileOutside,
		},
		{
			name: "image/zip-bomb",
			input: func(t *testing.T, c *badInput) []string {
				// 64 MiB of zeros deflate to 64 KiB: a ratio of 1000, over the bound of 200.
				z := zipOf(t, map[string]string{"zeros.txt": string(make([]byte, 64<<20))})
				return []string{"scan", "image", image(t, imagetest.Layer(t, map[string]string{"app/bomb.zip": z}))}
			},
			want:    "bomb.zip",
			code:    exitFindings,
			found:   []string{"app/ok.env"},
			skipped: []string{"bomb.zip!/zeros.txt archive-limit"},
		},
		{
			name: "image/gzip-bomb",
			input: func(t *testing.T, c *badInput) []string {
				var buf bytes.Buffer
				zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
				zw.Write(make([]byte, 64<<20))
				zw.Close()
				return []string{"scan", "image", image(t, imagetest.Layer(t, map[string]string{"var/log/app.log.gz": buf.String()}))}
			},
			// No warning: the bound is met before the gzip stream yields its one entry, and
			// archive.go holds problems back until an archive has shown an entry. The report
			// lists the entry as skipped.
			code:    exitFindings,
			found:   []string{"app/ok.env"},
			skipped: []string{"app.log.gz!/app.log too-large"},
		},
		{
			name: "image/archives-nested-too-deep",
			input: func(t *testing.T, c *badInput) []string {
				// Five zips deep, each level with a secret: levels 1 to 3 are opened.
				inner := zipOf(t, map[string]string{"l5.env": "GITHUB_TOKEN=" + fakeToken(1115) + "\n"})
				for level := 4; level >= 1; level-- {
					inner = zipOf(t, map[string]string{
						fmt.Sprintf("l%d.env", level):   "GITHUB_TOKEN=" + fakeToken(1110+level) + "\n",
						fmt.Sprintf("l%d.zip", level+1): inner,
					})
				}
				return []string{"scan", "image", image(t, imagetest.Layer(t, map[string]string{"app/l1.zip": inner}))}
			},
			want:  "nested more than 3 levels deep",
			code:  exitFindings,
			found: []string{"l1.zip!/l1.env", "l2.zip!/l2.env", "l3.zip!/l3.env", "app/ok.env"},
		},
		{
			name: "image/registry-401",
			input: func(t *testing.T, c *badInput) []string {
				return registry(t, func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("WWW-Authenticate", `Basic realm="registry"`)
					http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
				})
			},
			want: "docker login",
			code: exitError,
		},
		{
			name: "image/registry-500",
			input: func(t *testing.T, c *badInput) []string {
				return registry(t, func(w http.ResponseWriter, r *http.Request) {
					http.Error(w, "upstream storage is down", http.StatusInternalServerError)
				})
			},
			want: "500",
			code: exitError,
		},

		// ---- configuration ----
		{
			name: "config/invalid-toml",
			input: func(t *testing.T, c *badInput) []string {
				return []string{"scan", "dir", good(t), "--config", config(t, "[[rules]\nid = 'x'\n")}
			},
			want: "config.toml",
			code: exitError,
		},
		{
			name: "config/invalid-regex",
			input: func(t *testing.T, c *badInput) []string {
				return []string{"scan", "dir", good(t), "--config", config(t, "[[rules]]\nid = 'broken'\nregex = '''(unclosed'''\n")}
			},
			want: "broken",
			code: exitError,
		},
		{
			name: "config/redos-prone-regex",
			input: func(t *testing.T, c *badInput) []string {
				// Exponential for a backtracking engine; Go's regexp is linear in the text.
				dir := good(t)
				writeFile(t, filepath.Join(dir, "evil.txt"), strings.Repeat("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!\n", 2000)+strings.Repeat("a", 100000)+"!\n")
				cfg := config(t, "[extend]\nuseDefault = true\n\n[[rules]]\nid = 'redos'\nregex = '''^(a+)+$'''\n\n[[rules]]\nid = 'redos2'\nregex = '''(a|aa|a?a)*b'''\n")
				return []string{"scan", "dir", dir, "--config", cfg}
			},
			code:   exitFindings,
			found:  []string{"ok.env"},
			within: 30 * time.Second,
		},
		{
			name: "config/missing-config",
			input: func(t *testing.T, c *badInput) []string {
				return []string{"scan", "dir", good(t), "--config", filepath.Join(t.TempDir(), "none.toml")}
			},
			want: "none.toml",
			code: exitError,
		},
		{
			name: "config/invalid-baseline",
			input: func(t *testing.T, c *badInput) []string {
				return []string{"scan", "dir", good(t), "--baseline", config(t, "[[rules]\n")}
			},
			want: "reading baseline",
			code: exitError,
		},

		// ---- flags ----
		{name: "flags/unknown-format", input: noInputs("scan", "dir", ".", "--format", "xml"), want: `"xml"`, code: exitError, noReport: true},
		{name: "flags/bad-size", input: noInputs("scan", "dir", ".", "--max-file-size", "lots"), want: "max-file-size", code: exitError},
		{name: "flags/unknown-flag", input: noInputs("scan", "dir", ".", "--frobnicate"), want: "frobnicate", code: exitError},
		{name: "flags/unknown-source", input: noInputs("scan", "tarball", "app.tar"), want: `unknown source "tarball"`, code: exitError},
		{name: "flags/exit-code-out-of-range", input: noInputs("scan", "dir", ".", "--exit-code", "256"), want: "--exit-code", code: exitError},

		// ---- key inventories ----
		{
			name: "hsm/wrong-pin",
			input: func(t *testing.T, c *badInput) []string {
				tk := softhsmtest.New(t)
				t.Setenv(softhsmtest.PINEnv, "wrong-pin-1234")
				return []string{"scan", "dir", good(t), "--inventory", tk.URI()}
			},
			want:  "skipped",
			code:  exitFindings,
			found: []string{"ok.env"},
			check: inventorySkipped,
		},
		{
			name: "hsm/module-does-not-exist",
			input: func(t *testing.T, c *badInput) []string {
				return []string{"scan", "dir", good(t), "--inventory", "pkcs11:" + filepath.Join(t.TempDir(), "libnope.so") + "?token=ci"}
			},
			want:  "libnope.so",
			code:  exitFindings,
			found: []string{"ok.env"},
			check: inventorySkipped,
		},
		{
			name: "kms/timeout",
			input: func(t *testing.T, c *badInput) []string {
				return kms(t, func(w http.ResponseWriter, r *http.Request) {
					// Never answers. (The body is read first: only then does the server notice
					// the client hanging up, which ends r's context.)
					io.Copy(io.Discard, r.Body)
					<-r.Context().Done()
				}, "--inventory-timeout", "300ms")
			},
			want:   "no answer within 300ms (--inventory-timeout)",
			code:   exitFindings,
			found:  []string{"ok.env"},
			within: 20 * time.Second,
			check:  inventorySkipped,
		},
		{
			name: "kms/401",
			input: func(t *testing.T, c *badInput) []string {
				return kms(t, func(w http.ResponseWriter, r *http.Request) {
					kmsError(w, http.StatusUnauthorized, "UnrecognizedClientException", "The security token included in the request is invalid.")
				})
			},
			want:  "UnrecognizedClientException",
			code:  exitFindings,
			found: []string{"ok.env"},
			check: inventorySkipped,
		},
		{
			name: "kms/500",
			input: func(t *testing.T, c *badInput) []string {
				return kms(t, func(w http.ResponseWriter, r *http.Request) {
					kmsError(w, http.StatusInternalServerError, "KMSInternalException", "internal failure")
				})
			},
			want:  "KMSInternalException",
			code:  exitFindings,
			found: []string{"ok.env"},
			check: inventorySkipped,
		},

		// ---- the report ----
		{
			name: "output/full-disk-device",
			input: func(t *testing.T, c *badInput) []string {
				if _, err := os.Stat("/dev/full"); err != nil {
					t.Skip("no /dev/full")
				}
				return []string{"scan", "dir", good(t), "--format", "json", "-o", "/dev/full"}
			},
			want:     `writing report "/dev/full"`,
			code:     exitError,
			noReport: true,
			check: func(t *testing.T, res cliResult, rep *report.JSONReport) {
				if fi, err := os.Stat("/dev/full"); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
					t.Errorf("/dev/full is no longer a device: %v %v", fi.Mode(), err)
				}
			},
		},
		{
			name: "output/full-disk-filesystem",
			input: func(t *testing.T, c *badInput) []string {
				dir := fullFilesystem(t)
				c.check = func(t *testing.T, res cliResult, rep *report.JSONReport) { assertEmptyDir(t, dir) }
				return []string{"scan", "dir", good(t), "--format", "json", "-o", filepath.Join(dir, "report.json")}
			},
			want:     "no space left on device",
			code:     exitError,
			noReport: true,
		},
		{
			name: "output/missing-directory",
			input: func(t *testing.T, c *badInput) []string {
				return []string{"scan", "dir", good(t), "--format", "json", "-o", filepath.Join(t.TempDir(), "no", "report.json")}
			},
			want:     "creating report",
			code:     exitError,
			noReport: true,
		},
		{
			name: "output/is-a-directory",
			input: func(t *testing.T, c *badInput) []string {
				return []string{"scan", "dir", good(t), "--format", "json", "-o", t.TempDir()}
			},
			want:     "is a directory",
			code:     exitError,
			noReport: true,
		},
		{
			name: "report-merge/not-a-report",
			input: func(t *testing.T, c *badInput) []string {
				p := filepath.Join(t.TempDir(), "shard.json")
				writeFile(t, p, `{"schema_version": 1, "findings": [{"secret": "`+secret+`"`)
				return []string{"report", "merge", p}
			},
			want: "decoding JSON report",
			code: exitError,
		},

		// ---- signals ----
		{
			name:  "signal/sigint-mid-scan",
			run:   interrupt(syscall.SIGINT),
			want:  "interrupted (SIGINT)",
			code:  exitInterrupted,
			found: []string{"ok.env"},
			check: incomplete,
		},
		{
			name:  "signal/sigterm-mid-scan",
			run:   interrupt(syscall.SIGTERM),
			want:  "interrupted (SIGTERM)",
			code:  128 + int(syscall.SIGTERM),
			found: []string{"ok.env"},
			check: incomplete,
		},
	}

	names := map[string]bool{}
	for _, tc := range cases {
		if names[tc.name] {
			t.Fatalf("two cases named %s", tc.name)
		}
		names[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			var args []string
			if tc.input != nil {
				args = tc.input(t, &tc)
			}
			outDir := t.TempDir()
			out := filepath.Join(outDir, "report.json")
			if !tc.noReport {
				args = append(args, "--format", "json", "-o", out)
			}
			start := time.Now()
			var res cliResult
			if tc.run != nil {
				res = tc.run(t, args)
			} else {
				res = keywarden(t, args...)
			}
			if tc.within > 0 && time.Since(start) > tc.within {
				t.Errorf("took %v, want under %v", time.Since(start), tc.within)
			}
			if res.code != tc.code {
				t.Errorf("exit = %d, want %d; stderr:\n%s", res.code, tc.code, res.stderr)
			}
			checkStderr(t, res, tc)
			if strings.Contains(res.stdout+res.stderr, secret) {
				t.Error("raw secret in the output")
			}
			var rep *report.JSONReport
			if tc.noReport {
				// The case named its own report path; outDir must still be empty.
			} else if tc.code != exitError || len(tc.found) > 0 {
				rep = readReport(t, out)
				checkReport(t, rep, tc)
				assertOnly(t, outDir, "report.json")
			} else {
				assertEmptyDir(t, outDir) // no report and no temp file
			}
			if tc.check != nil {
				tc.check(t, res, rep)
			}
		})
	}
}

// checkStderr asserts the one line about the problem: every stderr line is one of keywarden's
// (a message, a warning, a progress line or the summary), no panic, and want on exactly one
// line: the last, an error, when the run failed; a warning when the scan went on.
func checkStderr(t *testing.T, res cliResult, tc badInput) {
	t.Helper()
	if strings.Contains(res.stderr, "goroutine ") || strings.Contains(res.stderr, "panic") {
		t.Fatalf("panic:\n%s", res.stderr)
	}
	lines := strings.Split(strings.TrimRight(res.stderr, "\n"), "\n")
	if res.stderr == "" {
		lines = nil
	}
	var problems []string // error and warning lines
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "summary: "), progressLine.MatchString(l):
		case strings.HasPrefix(l, "keywarden: "):
			problems = append(problems, l)
		default:
			t.Errorf("stderr line %q is not keywarden's (a message broken over lines?)\n%s", l, res.stderr)
		}
	}
	if tc.want == "" {
		if len(problems) > 0 {
			t.Errorf("want no warning or error, got:\n%s", strings.Join(problems, "\n"))
		}
		return
	}
	var with []string
	for _, l := range problems {
		if strings.Contains(l, tc.want) {
			with = append(with, l)
		}
	}
	if len(with) != 1 {
		t.Fatalf("want exactly one line with %q, got %d:\n%s", tc.want, len(with), res.stderr)
	}
	line := with[0]
	t.Log(line) // for docs/bad-inputs.md
	warning := strings.HasPrefix(line, "keywarden: warning: ")
	if tc.code == exitFindings || tc.code == exitClean {
		if !warning {
			t.Errorf("line %q is not a warning, though the scan went on", line)
		}
		return
	}
	if warning || line != problems[len(problems)-1] {
		t.Errorf("error line %q is not the last message:\n%s", line, res.stderr)
	}
	for _, l := range problems[:len(problems)-1] {
		if !strings.HasPrefix(l, "keywarden: warning: ") {
			t.Errorf("more than one error line:\n%s", res.stderr)
		}
	}
}

// progressLine is a progress display line (not a message): see progressUI.statusLines.
var progressLine = regexp.MustCompile(`^keywarden: ((cloning|fetching|enumerating) .* for [0-9.]+[a-zµ]+|scanning .*: [0-9,]+ blobs.*)$`)

func readReport(t *testing.T, path string) *report.JSONReport {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("no report: %v", err)
	}
	defer f.Close()
	rep, err := report.ReadJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// checkReport asserts that the report holds findings at tc.found and lists tc.skipped.
func checkReport(t *testing.T, rep *report.JSONReport, tc badInput) {
	t.Helper()
	var at []string
	for _, f := range rep.Findings {
		for _, l := range f.Locations {
			at = append(at, l.Path)
		}
	}
	for _, want := range tc.found {
		if !slices.ContainsFunc(at, func(p string) bool { return strings.Contains(p, want) }) {
			t.Errorf("no finding at %q; findings at %q", want, at)
		}
	}
	var skipped []string
	for _, s := range rep.Skipped {
		skipped = append(skipped, s.Path+" "+s.Reason)
	}
	for _, want := range tc.skipped {
		path, reason, _ := strings.Cut(want, " ")
		if !slices.ContainsFunc(rep.Skipped, func(s report.JSONSkipped) bool {
			return strings.Contains(s.Path, path) && s.Reason == reason
		}) {
			t.Errorf("skipped lacks %q: %q", want, skipped)
		}
	}
}

// lineOf checks that the (one) finding is on line n, as counted in the file.
func lineOf(n int) func(t *testing.T, res cliResult, rep *report.JSONReport) {
	return func(t *testing.T, res cliResult, rep *report.JSONReport) {
		for _, f := range rep.Findings {
			if f.RuleID == "github-pat" && f.Locations[0].Line != n {
				t.Errorf("finding on line %d, want %d", f.Locations[0].Line, n)
			}
		}
	}
}

// inventorySkipped checks that the report lists the inventory as skipped, with a reason.
func inventorySkipped(t *testing.T, res cliResult, rep *report.JSONReport) {
	t.Helper()
	if len(rep.Inventories) != 1 || rep.Inventories[0].Skipped == "" {
		t.Errorf("inventories %+v, want one, skipped", rep.Inventories)
	}
}

// incomplete checks that an interrupted scan's report says so and holds less than the whole.
func incomplete(t *testing.T, res cliResult, rep *report.JSONReport) {
	t.Helper()
	if !rep.Incomplete {
		t.Error(`report lacks "incomplete": true`)
	}
}

// noFileOutside checks that nothing an archive's entry named was written anywhere: layers and
// archives are read, never extracted.
func noFileOutside(t *testing.T, res cliResult, rep *report.JSONReport) {
	t.Helper()
	for _, p := range []string{"/etc/cron.d/evil.env", "/abs/evil2.env", "/tmp/evil.env"} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s exists", p)
		}
	}
}

// pseudoRandomText is n bytes of hex lines from a seeded source: incompressible, no secrets.
func pseudoRandomText(seed uint64, n int) string {
	rng := rand.New(rand.NewPCG(seed, 1))
	var b strings.Builder
	for b.Len() < n {
		fmt.Fprintf(&b, "%016x %016x\n", rng.Uint64(), rng.Uint64())
	}
	return b.String()
}

// overwrite writes junk at num/den of the file's length.
func overwrite(t *testing.T, path string, num, den int64, junk string) {
	t.Helper()
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte(junk), fi.Size()*num/den); err != nil {
		t.Fatal(err)
	}
}

// overwriteFile replaces a read-only file's content.
func overwriteFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, content)
}

// sparse makes a file of size bytes, holes but for the given content at the given offsets.
func sparse(t *testing.T, path string, size int64, at map[int64]string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	for off, s := range at {
		if _, err := f.WriteAt([]byte(s), off); err != nil {
			t.Fatal(err)
		}
	}
}

// utf16Of encodes s as UTF-16, little- or big-endian, with or without a byte-order mark.
func utf16Of(bom, bigEndian bool, s string) string {
	var b []byte
	put := func(u uint16) {
		if bigEndian {
			b = append(b, byte(u>>8), byte(u))
		} else {
			b = append(b, byte(u), byte(u>>8))
		}
	}
	if bom {
		put(0xfeff)
	}
	for _, u := range utf16.Encode([]rune(s)) {
		put(u)
	}
	return string(b)
}

// gitRun runs git in dir, failing the test on an error.
func gitRun(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

// fakeAWS points the AWS SDK at nothing real: credentials made at run time, no shared config,
// no instance metadata, one attempt per request.
func fakeAWS(t *testing.T) {
	t.Helper()
	empty := filepath.Join(t.TempDir(), "empty")
	writeFile(t, empty, "")
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "AKIA" + "TEST" + strings.ToUpper(randomHex(6)), "AWS_SECRET_ACCESS_KEY": "test" + "-only-" + randomHex(16),
		"AWS_SESSION_TOKEN": "", "AWS_PROFILE": "", "AWS_REGION": "eu-west-1", "AWS_CONFIG_FILE": empty,
		"AWS_SHARED_CREDENTIALS_FILE": empty, "AWS_EC2_METADATA_DISABLED": "true", "AWS_MAX_ATTEMPTS": "1",
		"AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_KMS": "",
	} {
		t.Setenv(k, v)
	}
}

// kmsError answers as AWS KMS does when it refuses a request.
func kmsError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"__type":%q,"message":%q}`, typ, msg)
}

// fullFilesystem mounts a tiny tmpfs, fills it and returns it; it skips where mounting is not
// allowed (not root, or a container without the capability).
func fullFilesystem(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=64k"); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	f, err := os.Create(filepath.Join(dir, ".filler"))
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := f.Write(make([]byte, 4096)); err != nil {
			break
		}
	}
	f.Close()
	full := filepath.Join(dir, "reports")
	if err := os.Mkdir(full, 0o755); err != nil {
		t.Fatal(err)
	}
	return full
}

// realMainEnv makes this test binary run keywarden's real main (signal handling included),
// with the progress line printed every few milliseconds so that a test sees the scan start.
const realMainEnv = "KEYWARDEN_TEST_REAL_MAIN"

func init() {
	if os.Getenv(realMainEnv) == "1" {
		progressInterval = 20 * time.Millisecond
		main()
	}
}

// slowRepo writes, with git fast-import, a repository whose first commit holds secret in
// ok.env and whose later commits each add a file of lines that are slow to scan (every line
// holds keywords that send the generic rules' regexes to work, and no value strong enough to be
// reported). It returns the repository's path and its number of blobs.
func slowRepo(t *testing.T, parent string, commits int, secret string) (string, int) {
	t.Helper()
	requireTool(t, "git")
	dir := filepath.Join(parent, "slow")
	gitRun(t, "", "init", "-q", "-b", "main", dir)
	var s bytes.Buffer
	blob := func(b string) { fmt.Fprintf(&s, "data %d\n%s\n", len(b), b) }
	when := int64(1500000000)
	commit := func(msg, path, content string) {
		when += 60
		fmt.Fprintf(&s, "commit refs/heads/main\ncommitter Dev <dev@example.com> %d +0000\n", when)
		blob(msg)
		fmt.Fprintf(&s, "M 100644 inline %s\n", path)
		blob(content)
		s.WriteString("\n")
	}
	commit("first", "ok.env", "GITHUB_TOKEN="+secret+"\n")
	for c := range commits {
		var b strings.Builder
		for i := range 300 {
			fmt.Fprintf(&b, "token_%d_%d = \"aaaaaaaaaaaaaaaaaaaaaaaa\" # api key secret password auth %d\n", c, i, i)
		}
		commit(fmt.Sprintf("dense %d", c), fmt.Sprintf("dense/f%04d.txt", c), b.String())
	}
	cmd := exec.Command("git", "-C", dir, "fast-import", "--quiet")
	cmd.Stdin = &s
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git fast-import: %v\n%s", err, out)
	}
	return dir, commits + 1
}

// interruptScan runs keywarden's real main on args (a scan of a repository URL, which it
// clones into a temp dir under a TMPDIR of the test's own), waits for a progress line counting
// blobs, sends sig, and returns how it ended. It checks that the clone is gone, that no temp
// file is left next to the report, and that the scan stopped before reading all blobs.
func interruptScan(t *testing.T, sig syscall.Signal, args []string, blobs int) cliResult {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(t.TempDir(), "tmp")
	if err := os.Mkdir(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, args...)
	cmd.Env = append(os.Environ(), realMainEnv+"=1", "TMPDIR="+tmp)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	// A progress line counting blobs: the clone is done and the scan under way.
	started := regexp.MustCompile(`^keywarden: scanning .*: [1-9][0-9,]* blobs`)
	var log []string
	deadline := time.After(60 * time.Second)
wait:
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				cmd.Wait()
				t.Fatalf("keywarden ended before its scan was under way:\n%s", strings.Join(log, "\n"))
			}
			log = append(log, l)
			if started.MatchString(l) {
				break wait
			}
		case <-deadline:
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("no progress within 60s:\n%s", strings.Join(log, "\n"))
		}
	}
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	for l := range lines {
		log = append(log, l)
	}
	err = cmd.Wait()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	assertEmptyDir(t, tmp) // the clone is removed
	res := cliResult{code, stdout.String(), strings.Join(log, "\n") + "\n"}
	if i := slices.Index(args, "-o"); i >= 0 {
		if rep := readReport(t, args[i+1]); rep.Stats.Blobs >= int64(blobs) {
			t.Errorf("report counts %d blobs of %d: the scan was not interrupted", rep.Stats.Blobs, blobs)
		}
	}
	return res
}

// assertEmptyDir fails when dir holds anything: a temp dir or file left behind.
func assertEmptyDir(t *testing.T, dir string) {
	t.Helper()
	assertOnly(t, dir)
}

// assertOnly fails when dir holds anything but names.
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if strings.Join(got, " ") != strings.Join(names, " ") {
		t.Errorf("%s holds %q, want %q", dir, got, names)
	}
}

// TestIncompleteReportEveryFormat: a report of an interrupted scan says so in every format that
// has a place for it (CSV has none: it is one row per location).
func TestIncompleteReportEveryFormat(t *testing.T) {
	res := &report.Result{
		Tool:       report.Tool{Name: "keywarden", Version: "test"},
		Source:     "git",
		Target:     "repo",
		Started:    time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Incomplete: true,
	}
	tests := []struct {
		format string
		want   func(string) bool
	}{
		{"text", func(s string) bool { return strings.HasPrefix(s, "INCOMPLETE: interrupted;") }},
		{"brief", func(s string) bool { return strings.HasPrefix(s, "INCOMPLETE: interrupted;") }},
		{"json", func(s string) bool { return strings.Contains(s, `"incomplete": true`) }},
		{"sarif", func(s string) bool {
			return strings.Contains(s, `"executionSuccessful": false`) && strings.Contains(s, "The scan was interrupted")
		}},
		{"html", func(s string) bool { return strings.Contains(s, "<title>INCOMPLETE (interrupted) keywarden report") }},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			w, err := report.ByName(tt.format)
			if err != nil {
				t.Fatal(err)
			}
			for _, incomplete := range []bool{true, false} {
				res.Incomplete = incomplete
				var b bytes.Buffer
				if err := w.Write(&b, res); err != nil {
					t.Fatal(err)
				}
				if got := tt.want(b.String()); got != incomplete {
					t.Errorf("incomplete=%v: says incomplete %v:\n%.300s", incomplete, got, b.String())
				}
			}
		})
	}
}
