package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/keywarden/keywarden/hsmcheck"
	"github.com/keywarden/keywarden/hsmcheck/pkcs11/softhsmtest"
	"github.com/keywarden/keywarden/report"
	"github.com/keywarden/keywarden/scanner/gittest"
	"github.com/keywarden/keywarden/scanner/imagetest"
)

// canarySet is the secrets TestNoCanaryLeaks plants, each with the forms it may leak in: raw,
// base64, hex (and, for key material, what a report would print of it).
type canarySet struct {
	forms map[string][]string // canary name → forms

	gh, awsID, awsSecret, password, pem string
	aes                                 []byte
	files                               map[string]string // path → content holding the text canaries
}

// newCanaries makes the canaries from a fixed seed (keys from a seeded reader), built at run
// time so that the repository's own scan stays clean.
func newCanaries(t *testing.T) *canarySet {
	t.Helper()
	rng := rand.New(rand.NewPCG(1200, 11))
	word := func(alphabet string, n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(b)
	}
	const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	c := &canarySet{forms: map[string][]string{}}
	c.gh = "gh" + "p_" + word(alnum, 36)
	c.awsID = "AK" + "IA" + word("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)
	c.awsSecret = word(alnum+"+/", 40)
	c.password = word(alnum, 24)
	key, err := ecdsa.GenerateKey(elliptic.P256(), seededReader{rng})
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	c.pem = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	c.aes = make([]byte, 32)
	for i := range c.aes {
		c.aes[i] = byte(rng.Uint32())
	}
	for name, v := range map[string]string{"github token": c.gh, "aws key id": c.awsID, "aws secret key": c.awsSecret, "password": c.password} {
		c.add(name, v, base64.StdEncoding.EncodeToString([]byte(v)), hex.EncodeToString([]byte(v)))
	}
	// The key as PKCS#8 (as planted) and SEC1 (as a dump scan re-encodes it): each PEM body
	// line (a report quoting part of it), the DER in hex and base64, and the private scalar in
	// hex and as a JWK's "d".
	sec1, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range [][]byte{der, sec1} {
		for _, l := range strings.Split(string(pem.EncodeToMemory(&pem.Block{Type: "K", Bytes: d})), "\n") {
			if len(l) == 64 {
				c.add("private key", l)
			}
		}
		c.add("private key", hex.EncodeToString(d), base64.StdEncoding.EncodeToString(d))
	}
	scalar := key.D.FillBytes(make([]byte, 32))
	c.add("private key", hex.EncodeToString(scalar), base64.RawURLEncoding.EncodeToString(scalar))
	c.add("aes key", string(c.aes), hex.EncodeToString(c.aes), base64.StdEncoding.EncodeToString(c.aes),
		base64.RawURLEncoding.EncodeToString(c.aes))
	c.files = map[string]string{
		".env":               "GITHUB_TOKEN=" + c.gh + "\nDB_PASSWORD=" + c.password + "\n",
		"deploy/credentials": "[default]\naws_access_key_id = " + c.awsID + "\naws_secret_access_key = " + c.awsSecret + "\n",
		"keys/service.pem":   c.pem,
	}
	return c
}

func (c *canarySet) add(name string, forms ...string) {
	c.forms[name] = append(c.forms[name], forms...)
}

// leaks returns the canaries found in data, by name.
func (c *canarySet) leaks(data []byte) []string {
	var out []string
	for name, forms := range c.forms {
		for _, f := range forms {
			if bytes.Contains(data, []byte(f)) {
				out = append(out, name)
				break
			}
		}
	}
	slices.Sort(out)
	return out
}

// check fails the test when any canary is in data, which came from where.
func (c *canarySet) check(t *testing.T, where string, data []byte) {
	t.Helper()
	if l := c.leaks(data); len(l) > 0 {
		t.Errorf("%s leaks %v", where, l)
	}
}

// seededReader makes key generation reproducible.
type seededReader struct{ r *rand.Rand }

func (s seededReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(s.r.Uint32())
	}
	return len(p), nil
}

// TestNoCanaryLeaks plants canary secrets in every input keywarden reads and runs every command
// that sees them, in every report format, as verbosely as keywarden prints (progress and
// warnings on), with the report to a file and to stdout, the audit log on and rotation
// journals written; no canary may appear in stdout, stderr, a report, the audit log or a
// journal unless --show-secrets asked for it. Credentials a backend echoes back in an error
// are canaries too.
func TestNoCanaryLeaks(t *testing.T) {
	c := newCanaries(t)
	old := progressInterval
	progressInterval = time.Millisecond // a progress line every millisecond: the most keywarden prints
	t.Cleanup(func() { progressInterval = old })

	// The inputs: a repository, a directory, a staged change, an image, a dump.
	repo := gittest.New(t)
	repo.Commit(c.files, "add deployment files")
	dir := t.TempDir()
	for p, s := range c.files {
		writeFile(t, filepath.Join(dir, p), s)
	}
	img := imagetest.Image(t, imagetest.ConfigOptions{Env: []string{"GITHUB_TOKEN=" + c.gh}}, imagetest.Layer(t, c.files))
	imageRef := "oci:" + imagetest.WriteOCILayout(t, map[string]v1.Image{"1": img}) + ":1"
	block, _ := pem.Decode([]byte(c.pem))
	dump := filepath.Join(t.TempDir(), "core.raw")
	writeFile(t, dump, string(make([]byte, 4096))+string(aesSchedule(c.aes))+string(make([]byte, 4096))+string(block.Bytes)+string(make([]byte, 4096)))
	staged := newGitRepo(t)
	staged.commit(map[string]string{"README": "hi\n"}, "init")
	for p, s := range c.files {
		staged.write(p, s)
		staged.git("add", "--", p)
	}

	work := t.TempDir()
	auditLog := filepath.Join(work, "audit.jsonl")
	sources := []struct {
		name string
		args []string
		// shown are the canaries a --show-secrets report of this source must hold: the
		// control that this test can see a leak at all.
		shown []string
	}{
		{"git", []string{"scan", "git", repo.Path()}, []string{"aws secret key", "github token", "password", "private key"}},
		{"dir", []string{"scan", "dir", dir}, []string{"aws secret key", "github token", "password", "private key"}},
		{"staged", []string{"scan", "staged", staged.dir}, []string{"aws secret key", "github token", "password", "private key"}},
		{"image", []string{"scan", "image", imageRef}, []string{"aws secret key", "github token", "password", "private key"}},
		{"dump", []string{"scan", "dump", dump}, []string{"aes key", "private key"}},
	}
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			shown := keywarden(t, append(src.args, "--format", "json", "--show-secrets", "--quiet")...)
			if got := c.leaks([]byte(shown.stdout)); !containsAll(got, src.shown) {
				t.Fatalf("--show-secrets report holds %v, want at least %v: the canaries are not found at all (exit %d: %s)", got, src.shown, shown.code, shown.stderr)
			}
			for _, format := range report.Formats {
				out := filepath.Join(work, src.name+"."+format)
				toFile := keywarden(t, append(src.args, "--format", format, "-o", out, "--audit-log", auditLog)...)
				toStdout := keywarden(t, append(src.args, "--format", format, "--audit-log", auditLog)...)
				for _, r := range []cliResult{toFile, toStdout} {
					if r.code != exitFindings {
						t.Errorf("%s: exit %d, want 1: %s", format, r.code, r.stderr)
					}
					c.check(t, format+" stdout", []byte(r.stdout))
					c.check(t, format+" stderr", []byte(r.stderr))
				}
				c.check(t, format+" report file", readAll(t, out))
			}
		})
	}

	t.Run("audit repos", func(t *testing.T) {
		list := filepath.Join(work, "repos.txt")
		writeFile(t, list, repo.Path()+"\n")
		for _, format := range report.Formats {
			out := filepath.Join(work, "audit."+format)
			r := keywarden(t, "audit", "repos", "--list", list, "--cache-dir", filepath.Join(work, "cache"), "--format", format, "-o", out, "--audit-log", auditLog)
			if r.code != exitFindings {
				t.Errorf("%s: exit %d: %s", format, r.code, r.stderr)
			}
			c.check(t, format+" output", []byte(r.stdout+r.stderr))
			c.check(t, format+" report file", readAll(t, out))
		}
	})

	t.Run("report merge of reports holding raw secrets", func(t *testing.T) {
		raw := filepath.Join(work, "raw.json")
		if r := keywarden(t, "scan", "git", repo.Path(), "--format", "json", "--show-secrets", "-o", raw, "--quiet"); r.code != exitFindings {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		if len(c.leaks(readAll(t, raw))) == 0 {
			t.Fatal("the --show-secrets report holds no canary")
		}
		for _, format := range report.Formats {
			out := filepath.Join(work, "merged."+format)
			for _, args := range [][]string{{"-o", out}, nil} {
				r := keywarden(t, append([]string{"report", "merge", raw, "--format", format}, args...)...)
				if r.code != exitFindings {
					t.Errorf("%s: exit %d: %s", format, r.code, r.stderr)
				}
				c.check(t, format+" output", []byte(r.stdout+r.stderr))
			}
			c.check(t, format+" report file", readAll(t, out))
		}
		if r := keywarden(t, "report", "merge", raw, "--show-secrets"); len(c.leaks([]byte(r.stdout))) == 0 {
			t.Error("report merge --show-secrets dropped the raw secrets: the control fails")
		}
	})

	t.Run("keys check", func(t *testing.T) {
		for _, format := range []string{"text", "json", "sarif"} {
			r := keywarden(t, "keys", "check", filepath.Join(dir, "keys", "service.pem"), "--format", format)
			if r.code == exitError || format != "sarif" && !strings.Contains(r.stdout, "service.pem") {
				t.Errorf("%s: the key is not described: %s %s", format, r.stdout, r.stderr)
			}
			c.check(t, format+" output", []byte(r.stdout+r.stderr))
		}
	})

	t.Run("hooks", func(t *testing.T) {
		if r := keywarden(t, "hook", "install", staged.dir); r.code != exitClean {
			t.Fatalf("install: exit %d: %s", r.code, r.stderr)
		}
		out, err := staged.try(nil, "commit", "-m", "deploy")
		if err == nil || !strings.Contains(out, "commit blocked") {
			t.Fatalf("the hook let the commit through:\n%s", out)
		}
		c.check(t, "pre-commit hook output", []byte(out))
		// The pre-push hook's scan, given the push git would describe.
		var stdout, stderr bytes.Buffer
		in := fmt.Sprintf("refs/heads/main %s refs/heads/main %s\n", repo.Head(), strings.Repeat("0", 40))
		code := runIO(context.Background(), []string{"scan", "git", repo.Path(), "--pre-push"}, strings.NewReader(in), &stdout, &stderr)
		if code != exitFindings || !strings.Contains(stdout.String(), "push blocked") {
			t.Errorf("pre-push scan: exit %d: %s %s", code, stdout.String(), stderr.String())
		}
		c.check(t, "pre-push output", stdout.Bytes())
		c.check(t, "pre-push stderr", stderr.Bytes())
	})

	t.Run("token inventory", func(t *testing.T) {
		salt := "5a17" + strings.Repeat("0f", 14)
		saltBytes, _ := hex.DecodeString(salt)
		inv := filepath.Join(work, "keywarden-inventory.yaml")
		writeFile(t, inv, fmt.Sprintf("version: 1\ntoken_salt: %s\nkeys:\n  - id: ci-token\n    class: token\n    state: active\n    fingerprints:\n      token_hmac: %s\n",
			salt, hex.EncodeToString(hsmcheck.TokenHMAC(saltBytes, c.gh))))
		var stdout, stderr bytes.Buffer
		code := runIO(context.Background(), []string{"inventory", "hash-token", "--inventory", "file:" + inv}, strings.NewReader(c.gh+"\n"), &stdout, &stderr)
		if code != exitClean {
			t.Fatalf("hash-token: exit %d: %s", code, stderr.String())
		}
		c.check(t, "hash-token output", append(stdout.Bytes(), stderr.Bytes()...))
		for _, format := range report.Formats {
			out := filepath.Join(work, "live."+format)
			r := keywarden(t, "scan", "dir", dir, "--inventory", "file:"+inv, "--format", format, "-o", out, "--audit-log", auditLog)
			if r.code != exitFindings {
				t.Errorf("%s: exit %d: %s", format, r.code, r.stderr)
			}
			c.check(t, format+" output", []byte(r.stdout+r.stderr))
			c.check(t, format+" report file", readAll(t, out))
			if format == "json" && !bytes.Contains(readAll(t, out), []byte(`"status": "live"`)) {
				t.Error("the token is not found live in the inventory: the exposure path did not run")
			}
		}
	})

	t.Run("hsm pin", func(t *testing.T) {
		tk := softhsmtest.New(t)
		tk.UsePINEnv(t)
		c.add("pkcs11 pin", tk.PIN)
		tk.GenerateEC(t, "canary-signing", []byte{0x42}, elliptic.P256())
		journals := filepath.Join(work, "rotations")
		uri := tk.URI()
		runs := [][]string{
			{"inventory", "list", "--inventory", uri},
			{"inventory", "list", "--inventory", uri, "--format", "json"},
			{"inventory", "export", "--inventory", uri},
			{"scan", "dir", dir, "--inventory", uri, "--format", "json", "--audit-log", auditLog},
			{"rotate", "canary-signing", "--inventory", uri, "--journal-dir", journals, "--audit-log", auditLog},
			{"rotate", "canary-signing", "--inventory", uri, "--apply", "--yes", "--journal-dir", journals, "--audit-log", auditLog},
			{"rotate", "--status", "--journal-dir", journals},
		}
		for _, format := range report.Formats {
			runs = append(runs, []string{"inventory", "audit", "--inventory", uri, "--format", format})
		}
		for _, args := range runs {
			r := keywarden(t, args...)
			if r.code == exitError {
				t.Errorf("%v: exit 2: %s", args, r.stderr)
			}
			c.check(t, strings.Join(args[:2], " ")+" output", []byte(r.stdout+r.stderr))
		}
		// A wrong PIN is as secret as the right one.
		wrong := "wrong-" + randomHex(8)
		c.add("wrong pin", wrong)
		t.Setenv(softhsmtest.PINEnv, wrong)
		r := keywarden(t, "scan", "dir", dir, "--inventory", uri, "--format", "json", "--audit-log", auditLog)
		if !strings.Contains(r.stderr, "skipped") {
			t.Errorf("wrong PIN: no inventory skipped: %s", r.stderr)
		}
		c.check(t, "wrong-PIN scan", []byte(r.stdout+r.stderr))
		if ents, _ := os.ReadDir(journals); len(ents) == 0 {
			t.Error("rotate --apply wrote no journal to check")
		}
		c.checkTree(t, journals)
	})

	t.Run("backend errors echoing the request", func(t *testing.T) {
		// A KMS-compatible endpoint (or a proxy in front of one) that puts the request, headers
		// and body, into its error message, and a Vault that quotes the token it refused.
		var mu sync.Mutex
		var seen []string
		echo := func(w http.ResponseWriter, r *http.Request) string {
			body, _ := io.ReadAll(r.Body)
			var b strings.Builder
			for k, v := range r.Header {
				fmt.Fprintf(&b, "%s=%s; ", k, strings.Join(v, ","))
			}
			mu.Lock()
			seen = append(seen, b.String())
			mu.Unlock()
			return fmt.Sprintf("refused %s %s headers: %s body: %s", r.Method, r.URL.Path, b.String(), body)
		}
		kms := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			kmsError(w, http.StatusBadRequest, "AccessDeniedException", echo(w, r))
		}))
		defer kms.Close()
		vault := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprintf(w, `{"errors":[%q]}`, "permission denied: "+echo(w, r))
		}))
		defer vault.Close()
		ca := filepath.Join(work, "vault-ca.pem")
		writeFile(t, ca, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: vault.Certificate().Raw})))

		fakeAWS(t)
		session := "canary" + "-session-" + randomHex(24)
		vaultToken := "hv" + "s." + randomHex(24)
		t.Setenv("AWS_SESSION_TOKEN", session)
		t.Setenv("VAULT_TOKEN", vaultToken)
		c.add("aws session token", session)
		c.add("aws secret access key (env)", os.Getenv("AWS_SECRET_ACCESS_KEY"))
		c.add("vault token", vaultToken)
		vaultURI := "vault://" + strings.TrimPrefix(vault.URL, "https://") + "/transit?ca=" + ca
		for _, format := range report.Formats {
			out := filepath.Join(work, "echo."+format)
			r := keywarden(t, "scan", "dir", dir, "--inventory", "awskms://eu-west-1", "--kms-endpoint", kms.URL,
				"--inventory", vaultURI, "--format", format, "-o", out, "--audit-log", auditLog)
			if r.code != exitFindings || strings.Count(r.stderr, "keywarden: warning: inventory ") != 2 {
				t.Errorf("%s: exit %d, want 1 and both inventories skipped: %s", format, r.code, r.stderr)
			}
			c.check(t, format+" output", []byte(r.stdout+r.stderr))
			c.check(t, format+" report file", readAll(t, out))
		}
		for _, args := range [][]string{
			{"inventory", "list", "--inventory", "awskms://eu-west-1", "--kms-endpoint", kms.URL, "--inventory", vaultURI},
			{"keys", "check", filepath.Join(dir, "keys", "service.pem"), "--inventory", "awskms://eu-west-1", "--kms-endpoint", kms.URL, "--inventory", vaultURI},
		} {
			r := keywarden(t, args...)
			c.check(t, strings.Join(args[:2], " ")+" output", []byte(r.stdout+r.stderr))
		}
		// The control: the servers did receive, and echo, both credentials.
		all := strings.Join(seen, "\n")
		if !strings.Contains(all, session) || !strings.Contains(all, vaultToken) {
			t.Errorf("the backends never saw the credentials, so nothing was echoed:\n%s", all)
		}
	})

	// Last, the audit log every run above appended to, and what audit verify and head print.
	c.check(t, "audit log", readAll(t, auditLog))
	for _, cmd := range []string{"verify", "head"} {
		r := keywarden(t, "audit", cmd, auditLog)
		if r.code != exitClean {
			t.Errorf("audit %s: exit %d: %s", cmd, r.code, r.stderr)
		}
		c.check(t, "audit "+cmd, []byte(r.stdout+r.stderr))
	}
	c.checkTree(t, work)
}

// checkTree checks every file under dir.
func (c *canarySet) checkTree(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && !strings.HasSuffix(p, "raw.json") && !strings.Contains(p, string(filepath.Separator)+"cache"+string(filepath.Separator)) {
			c.check(t, p, readAll(t, p))
		}
		return nil
	})
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

func readAll(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("reading %s: %v", path, err)
	}
	return b
}

// aesSchedule is key's AES-256 key schedule as it lies in memory (FIPS-197 words, big-endian).
func aesSchedule(key []byte) []byte {
	var sbox [256]byte
	// The S-box from its definition: the GF(2^8) inverse, then the affine map.
	mul := func(a, b byte) byte {
		var p byte
		for b > 0 {
			if b&1 == 1 {
				p ^= a
			}
			hi := a & 0x80
			a <<= 1
			if hi != 0 {
				a ^= 0x1b
			}
			b >>= 1
		}
		return p
	}
	for x := range 256 {
		var inv byte
		for y := 1; y < 256 && x != 0; y++ {
			if mul(byte(x), byte(y)) == 1 {
				inv = byte(y)
				break
			}
		}
		s := inv ^ (inv<<1 | inv>>7) ^ (inv<<2 | inv>>6) ^ (inv<<3 | inv>>5) ^ (inv<<4 | inv>>4) ^ 0x63
		sbox[x] = s
	}
	sub := func(w uint32) uint32 {
		return uint32(sbox[w>>24])<<24 | uint32(sbox[w>>16&0xff])<<16 | uint32(sbox[w>>8&0xff])<<8 | uint32(sbox[w&0xff])
	}
	const nk, n = 8, 60
	w := make([]uint32, n)
	rcon := uint32(1)
	for i := range n {
		switch {
		case i < nk:
			w[i] = binary.BigEndian.Uint32(key[4*i:])
		case i%nk == 0:
			x := w[i-1]
			w[i] = w[i-nk] ^ sub(x<<8|x>>24) ^ rcon<<24
			rcon = uint32(mul(byte(rcon), 2))
		case i%nk == 4:
			w[i] = w[i-nk] ^ sub(w[i-1])
		default:
			w[i] = w[i-nk] ^ w[i-1]
		}
	}
	out := make([]byte, 4*n)
	for i, x := range w {
		binary.BigEndian.PutUint32(out[4*i:], x)
	}
	return out
}
