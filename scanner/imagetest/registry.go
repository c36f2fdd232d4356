package imagetest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// RegistryBinary is the registry StartRegistry runs (Debian's docker-registry, distribution 2.x).
const RegistryBinary = "/usr/bin/docker-registry"

// RequireToolsEnv, set to 1, turns a missing registry binary from a skip into a failure (CI).
const RequireToolsEnv = "KEYWARDEN_REQUIRE_TOOLS"

// registryReadyTimeout bounds the wait for GET /v2/ to answer after start.
const registryReadyTimeout = 10 * time.Second

// RegistryOption configures StartRegistry.
type RegistryOption func(*registryConfig)

type registryConfig struct {
	user, pass string // htpasswd auth when user is set
}

// WithHtpasswd makes the registry require basic auth for user with password pass.
func WithHtpasswd(user, pass string) RegistryOption {
	return func(c *registryConfig) { c.user, c.pass = user, pass }
}

// StartRegistry starts a docker-registry on a free loopback port with its storage in a temp
// directory, waits until it answers, stops it when the test ends and returns "127.0.0.1:PORT".
// Without the binary the test is skipped, unless KEYWARDEN_REQUIRE_TOOLS=1.
func StartRegistry(t testing.TB, opts ...RegistryOption) string {
	t.Helper()
	bin := RegistryBinary
	if _, err := os.Stat(bin); err != nil {
		if p, lerr := exec.LookPath("docker-registry"); lerr == nil {
			bin = p
		} else if os.Getenv(RequireToolsEnv) == "1" {
			t.Fatalf("docker-registry not found at %s or on PATH, and %s=1", RegistryBinary, RequireToolsEnv)
		} else {
			t.Skipf("docker-registry not found at %s or on PATH (install Debian's docker-registry)", RegistryBinary)
		}
	}
	var cfg registryConfig
	for _, o := range opts {
		o(&cfg)
	}
	dir := t.TempDir()
	htpasswd := ""
	if cfg.user != "" {
		// MinCost: the registry checks the hash on every request, and tests make many.
		hash, err := bcrypt.GenerateFromPassword([]byte(cfg.pass), bcrypt.MinCost)
		if err != nil {
			t.Fatalf("hashing registry password: %v", err)
		}
		htpasswd = filepath.Join(dir, "htpasswd")
		if err := os.WriteFile(htpasswd, []byte(cfg.user+":"+string(hash)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// Another process can take the port between our probe and the registry's bind: retry then.
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		addr, err := freeLoopbackAddr()
		if err != nil {
			t.Fatalf("finding a free port: %v", err)
		}
		conf := filepath.Join(dir, "config-"+strconv.Itoa(attempt)+".yml")
		if err := os.WriteFile(conf, []byte(registryYAML(filepath.Join(dir, "storage"), addr, htpasswd)), 0o600); err != nil {
			t.Fatal(err)
		}
		r, err := startRegistry(bin, conf, addr)
		if err == nil {
			t.Cleanup(r.stop)
			return addr
		}
		lastErr = err
		if !errors.Is(err, errAddrInUse) {
			break
		}
	}
	t.Fatalf("starting docker-registry: %v", lastErr)
	return ""
}

func registryYAML(storage, addr, htpasswd string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "version: 0.1\n")
	fmt.Fprintf(&b, "log:\n  level: error\n  accesslog:\n    disabled: true\n")
	fmt.Fprintf(&b, "storage:\n  filesystem:\n    rootdirectory: %q\n  delete:\n    enabled: true\n", storage)
	fmt.Fprintf(&b, "  maintenance:\n    uploadpurging:\n      enabled: false\n")
	fmt.Fprintf(&b, "http:\n  addr: %q\n", addr)
	if htpasswd != "" {
		fmt.Fprintf(&b, "auth:\n  htpasswd:\n    realm: keywarden-test\n    path: %q\n", htpasswd)
	}
	return b.String()
}

func freeLoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	return addr, l.Close()
}

var errAddrInUse = errors.New("address already in use")

type registryProc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func (r *registryProc) stop() {
	_ = r.cmd.Process.Kill()
	<-r.done
}

// startRegistry runs the registry and waits for GET /v2/ to answer (200, or 401 with auth).
func startRegistry(bin, conf, addr string) (*registryProc, error) {
	var out lockedBuffer
	cmd := exec.Command(bin, "serve", conf)
	cmd.Stdout, cmd.Stderr = &out, &out
	// REGISTRY_* variables override the config file; the test's registry must not inherit any.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "REGISTRY_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	r := &registryProc{cmd: cmd, done: make(chan struct{})}
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(r.done) }()

	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(registryReadyTimeout)
	last := "no answer yet"
	for {
		select {
		case <-r.done:
			msg := strings.TrimSpace(out.String())
			if strings.Contains(msg, "address already in use") {
				return nil, fmt.Errorf("%w: %s", errAddrInUse, addr)
			}
			return nil, fmt.Errorf("registry exited (%v) before answering on %s: %s", waitErr, addr, msg)
		default:
		}
		resp, err := client.Get("http://" + addr + "/v2/")
		if err != nil {
			last = err.Error()
		} else {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				return r, nil
			}
			last = resp.Status
		}
		if time.Now().After(deadline) {
			r.stop()
			return nil, fmt.Errorf("registry on %s did not answer GET /v2/ within %v (last: %v); its output: %s",
				addr, registryReadyTimeout, last, strings.TrimSpace(out.String()))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// lockedBuffer collects the registry's output, written from exec's copying goroutine.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
