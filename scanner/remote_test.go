package scanner

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/keywarden/keywarden/scanner/gittest"
)

// rtRequire returns the path of an external program a remote test needs. It skips the test
// when the program is missing, unless CI asks for every tool (KEYWARDEN_REQUIRE_TOOLS=1).
func rtRequire(t *testing.T, name string) string {
	t.Helper()
	var path string
	var err error
	if name == "git-http-backend" {
		var out []byte
		if out, err = exec.Command("git", "--exec-path").Output(); err == nil {
			path = filepath.Join(strings.TrimSpace(string(out)), name)
			_, err = os.Stat(path)
		}
	} else {
		path, err = exec.LookPath(name)
	}
	if err != nil {
		if os.Getenv("KEYWARDEN_REQUIRE_TOOLS") == "1" {
			t.Fatalf("%s is required (KEYWARDEN_REQUIRE_TOOLS=1) but not found: %v", name, err)
		}
		t.Skipf("%s not found: %v", name, err)
	}
	return path
}

// rtSecret returns a fresh random credential; none is ever written into the source tree.
func rtSecret(t *testing.T) string {
	t.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "kw" + hex.EncodeToString(b)
}

// rtIsolate points git and the credential sources at empty temporary state, so that neither
// the machine's git config nor its environment (a real GITHUB_TOKEN, a running agent) leaks
// into a test. It returns the path of the global git config, which starts empty.
func rtIsolate(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	gitconfig := filepath.Join(home, ".gitconfig")
	if err := os.WriteFile(gitconfig, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"HOME":                home,
		"XDG_CONFIG_HOME":     filepath.Join(home, ".config"),
		"GIT_CONFIG_GLOBAL":   gitconfig,
		"GIT_CONFIG_NOSYSTEM": "1",
		"GITHUB_TOKEN":        "",
		"GH_TOKEN":            "",
		"GITHUB_SERVER_URL":   "",
		"SSH_AUTH_SOCK":       "",
		"SSH_KNOWN_HOSTS":     filepath.Join(home, "no-known-hosts"),
	} {
		t.Setenv(k, v)
	}
	return gitconfig
}

// rtUseHelper configures git's credential helper `store` with one stored credential line.
func rtUseHelper(t *testing.T, gitconfig, helper string) {
	t.Helper()
	cfg := fmt.Sprintf("[credential]\n\thelper = %q\n", helper)
	if err := os.WriteFile(gitconfig, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
}

func rtStoreHelper(t *testing.T, gitconfig, line string) {
	t.Helper()
	store := filepath.Join(t.TempDir(), "credentials")
	if err := os.WriteFile(store, []byte(line+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rtUseHelper(t, gitconfig, "store --file="+store)
}

// rtSource builds a bare repository at root/repo.git with two branches besides main, a
// lightweight and an annotated tag.
func rtSource(t *testing.T, root string) *gittest.Repo {
	t.Helper()
	r := gittest.Init(t, filepath.Join(root, "repo.git"), true)
	r.Commit(map[string]string{"README": "hello\n"}, "first")
	r.Branch("feature")
	r.Branch("rewrite")
	r.Commit(map[string]string{"app.go": "package app\n"}, "second")
	r.Tag("v1", "main")
	r.AnnotatedTag("v1-signed", "main", "release")
	return r
}

// rtRefs lists a repository's refs other than HEAD, name → hash.
func rtRefs(t *testing.T, dir string) map[string]string {
	t.Helper()
	repo, err := git.PlainOpen(dir)
	if err != nil {
		t.Fatalf("opening %s: %v", dir, err)
	}
	return rtRepoRefs(t, repo)
}

func rtRepoRefs(t *testing.T, repo *git.Repository) map[string]string {
	t.Helper()
	iter, err := repo.References()
	if err != nil {
		t.Fatal(err)
	}
	refs := map[string]string{}
	iter.ForEach(func(r *plumbing.Reference) error {
		if r.Name() != plumbing.HEAD && r.Type() == plumbing.HashReference {
			refs[r.Name().String()] = r.Hash().String()
		}
		return nil
	})
	return refs
}

// rtFsck checks with real git that a mirror is complete and readable.
func rtFsck(t *testing.T, dir string) {
	t.Helper()
	out, err := exec.Command("git", "--git-dir", dir, "fsck", "--no-dangling").CombinedOutput()
	if err != nil {
		t.Errorf("git fsck of mirror: %v\n%s", err, out)
	}
}

// rtNoLeftovers checks that a failed clone into parent/name left nothing in parent.
func rtNoLeftovers(t *testing.T, parent string) {
	t.Helper()
	entries, err := os.ReadDir(parent)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("failed clone left %s behind", e.Name())
	}
}

// rtForbiddenUser is refused by rtGitServer with a 403 whatever the password: valid
// credentials without access to the repository.
const rtForbiddenUser = "no-access"

// rtLog writes a server's stderr to the test log.
type rtLog struct{ t *testing.T }

func (l rtLog) Write(p []byte) (int, error) {
	l.t.Logf("server: %s", bytes.TrimSpace(p))
	return len(p), nil
}

// rtCred is HTTP Basic credentials as the server received them.
type rtCred struct{ User, Pass string }

// rtGitServer serves repositories under root with the real git http-backend, requiring HTTP
// Basic auth with one of users, and records every credential that arrives.
type rtGitServer struct {
	srv   *httptest.Server
	users map[string]string
	mu    sync.Mutex
	seen  []rtCred
}

func rtStartGitServer(t *testing.T, root string, useTLS bool, users map[string]string) *rtGitServer {
	t.Helper()
	backend := &cgi.Handler{
		Path:   rtRequire(t, "git-http-backend"),
		Env:    []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1", "GIT_CONFIG_NOSYSTEM=1"},
		Stderr: rtLog{t},
	}
	s := &rtGitServer{users: users}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if ok {
			s.mu.Lock()
			s.seen = append(s.seen, rtCred{user, pass})
			s.mu.Unlock()
		}
		if ok && user == rtForbiddenUser {
			http.Error(w, "no access", http.StatusForbidden)
			return
		}
		if want, known := s.users[user]; !ok || !known || want != pass {
			w.Header().Set("WWW-Authenticate", `Basic realm="keywarden test"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		backend.ServeHTTP(w, r)
	})
	if useTLS {
		s.srv = httptest.NewTLSServer(h)
	} else {
		s.srv = httptest.NewServer(h)
	}
	t.Cleanup(s.srv.Close)
	return s
}

// caBundle is the PEM of the TLS server's certificate, for MirrorOptions.CABundle.
func (s *rtGitServer) caBundle() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.srv.Certificate().Raw})
}

func (s *rtGitServer) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen = nil
}

func (s *rtGitServer) sawPass(pass string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.seen {
		if c.Pass == pass {
			return true
		}
	}
	return false
}

func (s *rtGitServer) creds() []rtCred {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[rtCred]bool{}
	var out []rtCred
	for _, c := range s.seen {
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}

// withUser returns s's URL for path with user information added.
func withUser(base, userinfo, path string) string {
	scheme, rest, _ := strings.Cut(base, "://")
	return scheme + "://" + userinfo + "@" + rest + path
}

func TestMirrorHTTPAuth(t *testing.T) {
	rtRequire(t, "git")
	root := t.TempDir()
	src := rtSource(t, root)
	want := rtRefs(t, src.GitDir())

	user, token, ghToken := "auditor", rtSecret(t), rtSecret(t)
	wrong := rtSecret(t)
	users := map[string]string{user: token, "x-access-token": ghToken}
	tlsSrv := rtStartGitServer(t, root, true, users)
	plainSrv := rtStartGitServer(t, root, false, users)
	tlsURL, plainURL := tlsSrv.srv.URL, plainSrv.srv.URL

	tests := []struct {
		name  string
		plain bool   // the plain-http server instead of the TLS one
		url   string // "" = the server's /repo.git
		setup func(t *testing.T, gitconfig string)
		// wantErr lists substrings of the error; nil means success.
		wantErr   []string
		wantCreds []rtCred // credentials the server saw, in order of first arrival
		notAuth   bool     // the error is not ErrRemoteAuth
	}{
		{
			name:      "no credentials",
			wantErr:   []string{`cloning "` + tlsURL + `/repo.git": authentication required: no credentials from the URL, git credential helper or GITHUB_TOKEN (set one, or check access to the repository)`},
			wantCreds: nil,
		},
		{
			name:      "credentials in the URL",
			url:       withUser(tlsURL, user+":"+token, "/repo.git"),
			wantCreds: []rtCred{{user, token}},
		},
		{
			name:      "wrong credentials in the URL",
			url:       withUser(tlsURL, user+":"+wrong, "/repo.git"),
			wantErr:   []string{`cloning "https://***@`, "authentication failed: the credentials from the URL were refused (fix the user name or token in the URL)"},
			wantCreds: []rtCred{{user, wrong}},
		},
		{
			name:      "credentials without access",
			url:       withUser(tlsURL, rtForbiddenUser+":"+token, "/repo.git"),
			wantErr:   []string{"access denied: the credentials from the URL cannot read this repository (check the token's scopes or the repository's permissions)"},
			wantCreds: []rtCred{{rtForbiddenUser, token}},
		},
		{
			name:      "repository not found",
			url:       withUser(tlsURL, user+":"+token, "/missing.git"),
			wantErr:   []string{"repository not found (check the URL, and that your credentials can see the repository)"},
			wantCreds: []rtCred{{user, token}},
			notAuth:   true,
		},
		{
			name: "credential helper",
			setup: func(t *testing.T, gitconfig string) {
				rtStoreHelper(t, gitconfig, withUser(tlsURL, user+":"+token, ""))
			},
			wantCreds: []rtCred{{user, token}},
		},
		{
			name: "credential helper over plain http",
			setup: func(t *testing.T, gitconfig string) {
				rtStoreHelper(t, gitconfig, withUser(plainURL, user+":"+token, ""))
			},
			plain:     true,
			wantCreds: []rtCred{{user, token}},
		},
		{
			name: "user name in the URL picks the helper's entry",
			url:  withUser(tlsURL, user, "/repo.git"),
			setup: func(t *testing.T, gitconfig string) {
				rtStoreHelper(t, gitconfig, withUser(tlsURL, user+":"+token, ""))
			},
			wantCreds: []rtCred{{user, token}},
		},
		{
			name: "credential helper with wrong credentials",
			setup: func(t *testing.T, gitconfig string) {
				rtStoreHelper(t, gitconfig, withUser(tlsURL, user+":"+wrong, ""))
			},
			wantErr:   []string{"authentication failed: the credentials from the git credential helper were refused"},
			wantCreds: []rtCred{{user, wrong}},
		},
		{
			name: "credential helper that does not exist",
			setup: func(t *testing.T, gitconfig string) {
				rtUseHelper(t, gitconfig, "keywarden-test-no-such-helper")
			},
			wantErr: []string{"no credentials from the URL, git credential helper or GITHUB_TOKEN"},
		},
		{
			name: "credential helper that hangs",
			setup: func(t *testing.T, gitconfig string) {
				old := credentialTimeout
				credentialTimeout = 300 * time.Millisecond
				t.Cleanup(func() { credentialTimeout = old })
				rtUseHelper(t, gitconfig, "!f() { sleep 3; }; f")
			},
			wantErr: []string{"no credentials from the URL, git credential helper or GITHUB_TOKEN"},
		},
		{
			name: "GITHUB_TOKEN for the host of GITHUB_SERVER_URL",
			setup: func(t *testing.T, _ string) {
				t.Setenv("GITHUB_TOKEN", ghToken)
				t.Setenv("GITHUB_SERVER_URL", tlsURL)
			},
			wantCreds: []rtCred{{"x-access-token", ghToken}},
		},
		{
			name: "GH_TOKEN for the host of GITHUB_SERVER_URL",
			setup: func(t *testing.T, _ string) {
				t.Setenv("GH_TOKEN", ghToken)
				t.Setenv("GITHUB_SERVER_URL", tlsURL+"/")
			},
			wantCreds: []rtCred{{"x-access-token", ghToken}},
		},
		{
			name: "credential helper before GITHUB_TOKEN",
			setup: func(t *testing.T, gitconfig string) {
				rtStoreHelper(t, gitconfig, withUser(tlsURL, user+":"+token, ""))
				t.Setenv("GITHUB_TOKEN", ghToken)
				t.Setenv("GITHUB_SERVER_URL", tlsURL)
			},
			wantCreds: []rtCred{{user, token}},
		},
		{
			name: "GITHUB_TOKEN is not sent to another host",
			setup: func(t *testing.T, _ string) {
				t.Setenv("GITHUB_TOKEN", ghToken)
			},
			wantErr: []string{"GITHUB_TOKEN is set but is only sent to github.com and the host of GITHUB_SERVER_URL over https"},
		},
		{
			name: "GITHUB_TOKEN is not sent to another port",
			setup: func(t *testing.T, _ string) {
				t.Setenv("GITHUB_TOKEN", ghToken)
				t.Setenv("GITHUB_SERVER_URL", "https://127.0.0.1:1")
			},
			wantErr: []string{"authentication required: no credentials"},
		},
		{
			name:  "GITHUB_TOKEN is not sent over plain http",
			plain: true,
			setup: func(t *testing.T, _ string) {
				t.Setenv("GITHUB_TOKEN", ghToken)
				t.Setenv("GITHUB_SERVER_URL", plainURL)
			},
			wantErr: []string{"authentication required: no credentials"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gitconfig := rtIsolate(t)
			if tt.setup != nil {
				tt.setup(t, gitconfig)
			}
			srv, base := tlsSrv, tlsURL
			if tt.plain {
				srv, base = plainSrv, plainURL
			}
			tlsSrv.reset()
			plainSrv.reset()
			url := tt.url
			if url == "" {
				url = base + "/repo.git"
			}
			parent := t.TempDir()
			dir := filepath.Join(parent, "mirror.git")

			start := time.Now()
			fetched, err := MirrorWithOptions(context.Background(), url, dir, MirrorOptions{CABundle: tlsSrv.caBundle()})
			// Only a wait for the default 15 s credential timeout is a defect (the hanging-helper
			// case shortens it); a loaded CI machine can take several seconds for the clone itself.
			if took := time.Since(start); took > 10*time.Second {
				t.Errorf("Mirror took %v: it waited for the credential helper's timeout", took)
			}
			if fetched {
				t.Errorf("fetched = true for a new dir")
			}
			if diff := cmp.Diff(tt.wantCreds, srv.creds()); diff != "" {
				t.Errorf("credentials the server saw (-want +got):\n%s", diff)
			}
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Mirror: %v", err)
				}
				if diff := cmp.Diff(want, rtRefs(t, dir)); diff != "" {
					t.Errorf("mirror refs (-want +got):\n%s", diff)
				}
				rtFsck(t, dir)
				cfg, err := os.ReadFile(filepath.Join(dir, "config"))
				if err != nil {
					t.Fatal(err)
				}
				if bytes.Contains(cfg, []byte(token)) || bytes.Contains(cfg, []byte(ghToken)) {
					t.Errorf("mirror config holds a credential:\n%s", cfg)
				}
				return
			}
			if err == nil {
				t.Fatal("Mirror succeeded, want an error")
			}
			t.Logf("error: %v", err)
			for _, s := range tt.wantErr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			if got := errors.Is(err, ErrRemoteAuth); got == tt.notAuth {
				t.Errorf("errors.Is(%q, ErrRemoteAuth) = %v, want %v", err, got, !tt.notAuth)
			}
			for _, secret := range []string{token, ghToken, wrong} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q holds a credential", err)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q is more than one line", err)
			}
			rtNoLeftovers(t, parent)
			if tlsSrv.sawPass(ghToken) || plainSrv.sawPass(ghToken) {
				t.Errorf("GITHUB_TOKEN reached a server")
			}
		})
	}
}

func TestMirrorFetch(t *testing.T) {
	rtRequire(t, "git")
	root := t.TempDir()
	src := rtSource(t, root)
	user, token := "auditor", rtSecret(t)
	srv := rtStartGitServer(t, root, true, map[string]string{user: token})
	url := srv.srv.URL + "/repo.git"
	opts := MirrorOptions{CABundle: srv.caBundle()}
	dir := filepath.Join(t.TempDir(), "cache", "mirror.git")

	gitconfig := rtIsolate(t)
	rtStoreHelper(t, gitconfig, withUser(srv.srv.URL, user+":"+token, ""))

	// Each step changes the source (or the mirror, or the server), mirrors again, and checks
	// the mirror holds wantRefs: the source's refs at the time, or the refs before the step.
	var last map[string]string
	tests := []struct {
		name        string
		change      func(t *testing.T)
		wantFetched bool
		wantErr     string
		keepRefs    bool // a failed step: the mirror keeps the refs it had
	}{
		{name: "clone"},
		{name: "fetch with nothing new", wantFetched: true},
		{
			name: "new commit, deleted branch, force-pushed branch, new tag",
			change: func(t *testing.T) {
				src.Commit(map[string]string{"app.go": "package app // v2\n"}, "third")
				src.DeleteBranch("feature")
				// rewrite moves to an unrelated root commit: no fast-forward.
				src.Checkout("orphan")
				orphan := src.Commit(map[string]string{"NEW": "rewritten\n"}, "rewritten history")
				src.Ref("refs/heads/rewrite", orphan)
				src.Checkout("main")
				src.DeleteBranch("orphan")
				src.Tag("v2", "main")
			},
			wantFetched: true,
		},
		{
			name: "server down",
			change: func(t *testing.T) {
				src.Commit(map[string]string{"late": "never fetched\n"}, "fourth")
				srv.srv.Close()
			},
			wantFetched: true,
			wantErr:     "fetching \"" + url + "\": ",
			keepRefs:    true,
		},
		{
			name: "corrupt mirror config",
			change: func(t *testing.T) {
				if err := os.WriteFile(filepath.Join(dir, "config"), []byte("[core\n\tbare = maybe\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			},
			wantFetched: true,
			wantErr:     "opening cached mirror",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.change != nil {
				tt.change(t)
			}
			fetched, err := MirrorWithOptions(context.Background(), url, dir, opts)
			if fetched != tt.wantFetched {
				t.Errorf("fetched = %v, want %v", fetched, tt.wantFetched)
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Mirror: %v", err)
				}
				want := rtRefs(t, src.GitDir())
				if diff := cmp.Diff(want, rtRefs(t, dir)); diff != "" {
					t.Errorf("mirror refs (-want +got):\n%s", diff)
				}
				rtFsck(t, dir)
				last = want
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
			t.Logf("error: %v", err)
			if strings.Contains(err.Error(), token) {
				t.Errorf("error %q holds the token", err)
			}
			if _, err := os.Stat(dir); err != nil {
				t.Fatalf("mirror removed after a failed fetch: %v", err)
			}
			if tt.keepRefs {
				if diff := cmp.Diff(last, rtRefs(t, dir)); diff != "" {
					t.Errorf("mirror refs after a failed fetch (-want +got):\n%s", diff)
				}
				rtFsck(t, dir)
			}
		})
	}
}

func TestMirrorEmptyRemote(t *testing.T) {
	rtRequire(t, "git")
	root := t.TempDir()
	src := gittest.Init(t, filepath.Join(root, "repo.git"), true)
	srv := rtStartGitServer(t, root, false, map[string]string{"u": "p"})
	url := withUser(srv.srv.URL, "u:p", "/repo.git")
	dir := filepath.Join(t.TempDir(), "mirror.git")
	rtIsolate(t)

	tests := []struct {
		name   string
		change func()
	}{
		{name: "empty repository clones to an empty mirror"},
		{name: "first push arrives", change: func() { src.Commit(map[string]string{"a": "1\n"}, "first") }},
		{name: "every branch deleted", change: func() { src.DeleteBranch("main") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.change != nil {
				tt.change()
			}
			if _, err := Mirror(context.Background(), url, dir); err != nil {
				t.Fatalf("Mirror: %v", err)
			}
			if diff := cmp.Diff(rtRefs(t, src.GitDir()), rtRefs(t, dir)); diff != "" {
				t.Errorf("mirror refs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMirrorCancelled(t *testing.T) {
	rtRequire(t, "git")
	root := t.TempDir()
	rtSource(t, root)
	srv := rtStartGitServer(t, root, false, map[string]string{"u": "p"})
	rtIsolate(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	parent := t.TempDir()
	_, err := Mirror(ctx, withUser(srv.srv.URL, "u:p", "/repo.git"), filepath.Join(parent, "m.git"))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Mirror with a cancelled context: %v, want context.Canceled", err)
	}
	rtNoLeftovers(t, parent)
}

func TestOpenGitRemoteAuth(t *testing.T) {
	rtRequire(t, "git")
	root := t.TempDir()
	src := rtSource(t, root)
	user, token := "auditor", rtSecret(t)
	srv := rtStartGitServer(t, root, false, map[string]string{user: token})
	url := srv.srv.URL + "/repo.git"

	tests := []struct {
		name    string
		helper  bool
		wantErr string
	}{
		{name: "credential helper", helper: true},
		{name: "no credentials", wantErr: `cloning "` + url + `": authentication required: no credentials`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gitconfig := rtIsolate(t)
			if tt.helper {
				rtStoreHelper(t, gitconfig, withUser(srv.srv.URL, user+":"+token, ""))
			}
			gs, closeFn, err := OpenGit(context.Background(), url, GitOptions{})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("OpenGit: %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("OpenGit: %v", err)
			}
			defer closeFn()
			head, err := gs.repo.Reference(plumbing.NewBranchReferenceName("main"), true)
			if err != nil {
				t.Fatal(err)
			}
			if head.Hash().String() != src.Head() {
				t.Errorf("main = %s, want %s", head.Hash(), src.Head())
			}
		})
	}
}

// rtSSHServer is an SSH server on 127.0.0.1 that accepts one public key for user "git" and
// runs the real git-upload-pack for repositories under root.
type rtSSHServer struct {
	addr    string
	hostKey ssh.PublicKey
}

func rtStartSSHServer(t *testing.T, root string, authorized ssh.PublicKey) *rtSSHServer {
	t.Helper()
	_, hostPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	hostSigner, err := ssh.NewSignerFromKey(hostPriv)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &ssh.ServerConfig{
		PublicKeyCallback: func(c ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if c.User() == "git" && bytes.Equal(key.Marshal(), authorized.Marshal()) {
				return nil, nil
			}
			return nil, fmt.Errorf("key refused for %q", c.User())
		},
	}
	cfg.AddHostKey(hostSigner)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				rtServeSSH(conn, cfg, root)
			}()
		}
	}()
	return &rtSSHServer{addr: ln.Addr().String(), hostKey: hostSigner.PublicKey()}
}

func rtServeSSH(conn net.Conn, cfg *ssh.ServerConfig, root string) {
	defer conn.Close()
	sconn, chans, reqs, err := ssh.NewServerConn(conn, cfg)
	if err != nil {
		return
	}
	defer sconn.Close()
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			nc.Reject(ssh.UnknownChannelType, "session only")
			continue
		}
		ch, chReqs, err := nc.Accept()
		if err != nil {
			return
		}
		go rtServeSession(ch, chReqs, root)
	}
}

// rtServeSession runs `git-upload-pack '<path>'`, the one command go-git sends for a fetch.
func rtServeSession(ch ssh.Channel, reqs <-chan *ssh.Request, root string) {
	defer ch.Close()
	for req := range reqs {
		if req.Type != "exec" {
			req.Reply(false, nil)
			continue
		}
		var payload struct{ Command string }
		if err := ssh.Unmarshal(req.Payload, &payload); err != nil {
			req.Reply(false, nil)
			return
		}
		quoted, ok := strings.CutPrefix(payload.Command, "git-upload-pack ")
		path, ok2 := strings.CutPrefix(quoted, "'")
		path, ok3 := strings.CutSuffix(path, "'")
		if !ok || !ok2 || !ok3 || strings.Contains(path, "'") {
			req.Reply(false, nil)
			return
		}
		req.Reply(true, nil)
		cmd := exec.Command("git", "upload-pack", filepath.Join(root, filepath.Clean("/"+path)))
		stdin, err := cmd.StdinPipe()
		if err != nil {
			return
		}
		cmd.Stdout = ch
		cmd.Stderr = ch.Stderr()
		status := uint32(1)
		if err := cmd.Start(); err == nil {
			// Not waited for: the client keeps its side open until the channel closes.
			go func() {
				io.Copy(stdin, ch)
				stdin.Close()
			}()
			if err := cmd.Wait(); err == nil {
				status = 0
			}
		}
		ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{status}))
		return
	}
}

// rtStartAgent runs the real ssh-agent on a fresh socket, loads keys into it, and returns the
// socket. The agent is killed when the test ends.
func rtStartAgent(t *testing.T, keys ...ed25519.PrivateKey) string {
	t.Helper()
	bin := rtRequire(t, "ssh-agent")
	// A short path: unix socket names are limited to about 100 bytes.
	dir, err := os.MkdirTemp("", "kw-agent-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "agent.sock")
	cmd := exec.Command(bin, "-D", "-a", sock)
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting ssh-agent: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	var conn net.Conn
	for deadline := time.Now().Add(5 * time.Second); ; {
		if conn, err = net.Dial("unix", sock); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ssh-agent did not listen on %s: %v", sock, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	defer conn.Close()
	ag := agent.NewClient(conn)
	for _, k := range keys {
		if err := ag.Add(agent.AddedKey{PrivateKey: k, Comment: "keywarden test"}); err != nil {
			t.Fatalf("adding key to ssh-agent: %v", err)
		}
	}
	return sock
}

func rtKnownHosts(t *testing.T, addr string, key ssh.PublicKey) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "known_hosts")
	line := knownhosts.Line([]string{knownhosts.Normalize(addr)}, key) + "\n"
	if err := os.WriteFile(path, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestMirrorSSH(t *testing.T) {
	rtRequire(t, "git")
	rtRequire(t, "ssh-agent")
	root := t.TempDir()
	src := rtSource(t, root)
	want := rtRefs(t, src.GitDir())

	userPub, userPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, otherPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	authorized, err := ssh.NewPublicKey(userPub)
	if err != nil {
		t.Fatal(err)
	}
	srv := rtStartSSHServer(t, root, authorized)
	goodAgent := rtStartAgent(t, userPriv)
	otherAgent := rtStartAgent(t, otherPriv)
	emptyAgent := rtStartAgent(t)

	otherHostPub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	otherHostKey, err := ssh.NewPublicKey(otherHostPub)
	if err != nil {
		t.Fatal(err)
	}
	known := rtKnownHosts(t, srv.addr, srv.hostKey)
	changed := rtKnownHosts(t, srv.addr, otherHostKey)
	unknown := rtKnownHosts(t, "192.0.2.1:22", srv.hostKey)

	url := "ssh://git@" + srv.addr + "/repo.git"
	tests := []struct {
		name       string
		url        string
		sock       string
		knownHosts string
		wantErr    string
		wantAuth   bool // the error matches ErrRemoteAuth
	}{
		{name: "agent key accepted", sock: goodAgent, knownHosts: known},
		{name: "user defaults to git", url: "ssh://" + srv.addr + "/repo.git", sock: goodAgent, knownHosts: known},
		{name: "no agent", knownHosts: known, wantAuth: true,
			wantErr: `cloning "` + RedactURL(url) + `": no SSH agent: start ssh-agent and ssh-add your key, or use an https URL`},
		{name: "agent socket gone", sock: filepath.Join(root, "no.sock"), knownHosts: known, wantAuth: true,
			wantErr: "no SSH agent at SSH_AUTH_SOCK"},
		{name: "agent without keys", sock: emptyAgent, knownHosts: known, wantAuth: true,
			wantErr: "the SSH agent holds no keys: ssh-add your key"},
		{name: "agent key refused", sock: otherAgent, knownHosts: known, wantAuth: true,
			wantErr: `authentication failed: the server refused every key in the SSH agent for user "git"`},
		{name: "unknown host key", sock: goodAgent, knownHosts: unknown,
			wantErr: "verifying host key of " + srv.addr + ": host key is unknown"},
		{name: "changed host key", sock: goodAgent, knownHosts: changed,
			wantErr: "verifying host key of " + srv.addr + ": host key does not match known_hosts"},
		{name: "no known_hosts file", sock: goodAgent, knownHosts: filepath.Join(root, "none"),
			wantErr: "no known_hosts file to check the host key against"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rtIsolate(t)
			t.Setenv("SSH_AUTH_SOCK", tt.sock)
			t.Setenv("SSH_KNOWN_HOSTS", tt.knownHosts)
			u := tt.url
			if u == "" {
				u = url
			}
			parent := t.TempDir()
			dir := filepath.Join(parent, "mirror.git")
			_, err := Mirror(context.Background(), u, dir)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Mirror: %v, want an error containing %q", err, tt.wantErr)
				}
				t.Logf("error: %v", err)
				if got := errors.Is(err, ErrRemoteAuth); got != tt.wantAuth {
					t.Errorf("errors.Is(%q, ErrRemoteAuth) = %v, want %v", err, got, tt.wantAuth)
				}
				rtNoLeftovers(t, parent)
				return
			}
			if err != nil {
				t.Fatalf("Mirror: %v", err)
			}
			if diff := cmp.Diff(want, rtRefs(t, dir)); diff != "" {
				t.Errorf("mirror refs (-want +got):\n%s", diff)
			}
			rtFsck(t, dir)
			// A second run fetches over the same transport.
			fetched, err := Mirror(context.Background(), u, dir)
			if err != nil || !fetched {
				t.Errorf("Mirror again = %v, %v; want true, nil", fetched, err)
			}
		})
	}

	t.Run("scan git over ssh", func(t *testing.T) {
		rtIsolate(t)
		t.Setenv("SSH_AUTH_SOCK", goodAgent)
		t.Setenv("SSH_KNOWN_HOSTS", known)
		gs, closeFn, err := OpenGit(context.Background(), url, GitOptions{})
		if err != nil {
			t.Fatalf("OpenGit: %v", err)
		}
		defer closeFn()
		if diff := cmp.Diff(want, rtRepoRefs(t, gs.repo)); diff != "" {
			t.Errorf("cloned refs (-want +got):\n%s", diff)
		}
	})
}
