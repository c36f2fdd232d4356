package kmiptest

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/keywarden/keywarden/hsmcheck/kmip"
)

// ClientCN is the common name of the client certificate the Server hands out. PyKMIP takes it as
// the client's identity: objects one identity creates are visible to that identity only.
const ClientCN = "keywarden-test"

// startTimeout bounds how long Start waits for the server to answer.
const startTimeout = 15 * time.Second

// Server is a running pykmip-server with a CA, a server certificate for 127.0.0.1 and a client
// certificate (CN ClientCN) that the server trusts.
type Server struct {
	Addr     string // 127.0.0.1:PORT
	CAFile   string // PEM CA that signed the server and client certificates
	CertFile string // PEM client certificate
	KeyFile  string // PEM key of the client certificate

	dir     string
	ca      *authority
	logPath string
	out     *lockedBuffer // the process's stdout and stderr
	cmd     *exec.Cmd
	done    chan struct{}
	bin     string // pykmip-server, for Restart
	conf    string // the configuration the process runs with, for Restart
	shared  bool   // the binary's shared server, which no test may stop
}

var shared struct {
	mu     sync.Mutex
	active bool
	srv    *Server
	err    error
	tried  bool
}

// Main runs the tests of a package whose TestMain calls it, os.Exit(kmiptest.Main(m)), and lets
// every Start in that test binary share one server, which it stops when the tests are done.
// Without it each Start starts a server of its own.
func Main(m *testing.M) int {
	shared.mu.Lock()
	shared.active = true
	shared.mu.Unlock()
	code := m.Run()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.srv != nil {
		shared.srv.stop()
		os.RemoveAll(shared.srv.dir)
	}
	return code
}

// Start returns a running server: the binary's shared one when the package's TestMain uses Main,
// else a new one that stops when t ends. It skips t when pykmip-server is not installed, unless
// KEYWARDEN_REQUIRE_TOOLS=1, and then fails it. The server's log is written to t's output if t
// fails.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := lookPath(t)
	var s *Server
	var err error
	shared.mu.Lock()
	if shared.active {
		if !shared.tried {
			shared.tried = true
			var dir string
			if dir, shared.err = os.MkdirTemp("", "kmiptest-"); shared.err == nil {
				shared.srv, shared.err = start(bin, dir)
				if shared.err != nil {
					os.RemoveAll(dir)
				} else {
					shared.srv.shared = true
				}
			}
		}
		s, err = shared.srv, shared.err
		shared.mu.Unlock()
		if err != nil {
			t.Fatalf("starting pykmip-server: %v", err)
		}
	} else {
		shared.mu.Unlock()
		if s, err = start(bin, t.TempDir()); err != nil {
			t.Fatalf("starting pykmip-server: %v", err)
		}
		t.Cleanup(s.stop)
	}
	from := s.logSize()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("pykmip-server log since this test started:\n%s", s.logSince(from))
		}
	})
	return s
}

// StartOwn starts a server for t alone, even when the package's TestMain uses Main, so that t may
// Stop and Restart it. It stops when t ends. It skips or fails t as Start does when pykmip-server
// is missing.
func StartOwn(t testing.TB) *Server {
	t.Helper()
	bin := lookPath(t)
	s, err := start(bin, t.TempDir())
	if err != nil {
		t.Fatalf("starting pykmip-server: %v", err)
	}
	t.Cleanup(s.stop)
	from := s.logSize()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("pykmip-server log since this test started:\n%s", s.logSince(from))
		}
	})
	return s
}

// Stop kills the server's processes the way a crash would: clients get connection refused
// until Restart. The database stays. Stopping the shared server of Main fails t, since other
// tests use it.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	if s.shared {
		t.Fatal("kmiptest: Stop on the shared server; use StartOwn")
	}
	// Killed children hold no socket or file: Restart need not wait until init has reaped them.
	s.kill()
}

// Restart starts a stopped server again on the same address, certificates and database.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	if s.shared {
		t.Fatal("kmiptest: Restart on the shared server; use StartOwn")
	}
	if err := s.run(s.bin, s.conf); err != nil {
		t.Fatalf("restarting pykmip-server on %s: %v", s.Addr, err)
	}
}

func lookPath(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("pykmip-server")
	if err != nil {
		if os.Getenv("KEYWARDEN_REQUIRE_TOOLS") == "1" {
			t.Fatalf("pykmip-server is required (KEYWARDEN_REQUIRE_TOOLS=1) but not installed: %v", err)
		}
		t.Skip("pykmip-server not installed (Debian package python3-pykmip)")
	}
	return bin
}

func start(bin, dir string) (*Server, error) {
	ca, err := newAuthority("keywarden kmiptest CA")
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir, ca: ca, CAFile: filepath.Join(dir, "ca.pem"), logPath: filepath.Join(dir, "server.log")}
	if err := writePEM(s.CAFile, "CERTIFICATE", ca.cert.Raw); err != nil {
		return nil, err
	}
	srvCert, srvKey, err := ca.issue("127.0.0.1", x509.ExtKeyUsageServerAuth)
	if err != nil {
		return nil, err
	}
	if err := writePair(dir, "server", srvCert, srvKey); err != nil {
		return nil, err
	}
	if s.CertFile, s.KeyFile, err = s.issueFiles("client", ClientCN); err != nil {
		return nil, err
	}
	policies := filepath.Join(dir, "policies")
	if err := os.Mkdir(policies, 0o700); err != nil {
		return nil, err
	}
	var last error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		conf := fmt.Sprintf(`[server]
hostname=127.0.0.1
port=%d
certificate_path=%s
key_path=%s
ca_path=%s
auth_suite=TLS1.2
tls_cipher_suites=TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
enable_tls_client_auth=True
policy_path=%s
logging_level=ERROR
database_path=%s
`, port, filepath.Join(dir, "server.pem"), filepath.Join(dir, "server-key.pem"), s.CAFile, policies,
			filepath.Join(dir, fmt.Sprintf("pykmip-%d.db", attempt)))
		confPath := filepath.Join(dir, "server.conf")
		if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
			return nil, err
		}
		s.bin, s.conf = bin, confPath
		if last = s.run(bin, confPath); last == nil {
			return s, nil
		}
	}
	return nil, last
}

// run starts the process and waits until it answers a Query, or fails with its log.
func (s *Server) run(bin, conf string) error {
	s.out = &lockedBuffer{}
	s.cmd = exec.Command(bin, "-f", conf, "-l", s.logPath)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	// A group of its own, so that stop also ends the Manager and policy-monitor processes
	// PyKMIP forks.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		return err
	}
	s.done = make(chan struct{})
	go func() { s.cmd.Wait(); close(s.done) }()

	tlsCfg, err := kmip.LoadTLSConfig(s.CAFile, s.CertFile, s.KeyFile, "")
	if err != nil {
		s.stop()
		return err
	}
	c := kmip.NewClient(s.Addr, tlsCfg)
	defer c.Close()
	deadline := time.Now().Add(startTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err = c.Query(ctx, kmip.QueryOperations)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("pykmip-server exited: %v\n%s", s.cmd.ProcessState, s.logSince(0))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return fmt.Errorf("pykmip-server did not answer within %v: %w\n%s", startTimeout, err, s.logSince(0))
		}
	}
}

func (s *Server) stop() {
	if pgid := s.kill(); pgid != 0 {
		// The forked children are reaped by init once their parent is gone; wait for that,
		// briefly, so that nothing of the server outlives the test.
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if err := syscall.Kill(-pgid, 0); errors.Is(err, syscall.ESRCH) {
				return
			}
		}
	}
}

// kill kills the server's process group and waits for its main process. It returns the group's
// id, 0 when no server was running.
func (s *Server) kill() int {
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	pgid := s.cmd.Process.Pid
	syscall.Kill(-pgid, syscall.SIGKILL)
	<-s.done
	// Forget the process, so that a second stop (Stop, then the test's cleanup) signals no group
	// that may since have reused its id.
	s.cmd = nil
	return pgid
}

func (s *Server) logSize() int64 {
	fi, err := os.Stat(s.logPath)
	if err != nil {
		return 0
	}
	return fi.Size()
}

func (s *Server) logSince(from int64) string {
	b, _ := os.ReadFile(s.logPath)
	if from > int64(len(b)) {
		from = 0
	}
	out := string(b[from:])
	if p := s.out.String(); p != "" {
		out += "\n[process output]\n" + p
	}
	return out
}

// URI returns the server's inventory URI, kmip://127.0.0.1:PORT?ca=…&cert=…&key=….
func (s *Server) URI() string {
	q := url.Values{"ca": {s.CAFile}, "cert": {s.CertFile}, "key": {s.KeyFile}}
	return "kmip://" + s.Addr + "?" + q.Encode()
}

// Client returns a client with the server's client certificate, closed when t ends.
func (s *Server) Client(t testing.TB) *kmip.Client {
	t.Helper()
	return s.ClientAs(t, s.CertFile, s.KeyFile)
}

// ClientAs returns a client that presents certFile and keyFile and trusts the server's CA.
func (s *Server) ClientAs(t testing.TB, certFile, keyFile string) *kmip.Client {
	t.Helper()
	cfg, err := kmip.LoadTLSConfig(s.CAFile, certFile, keyFile, "")
	if err != nil {
		t.Fatal(err)
	}
	c := kmip.NewClient(s.Addr, cfg)
	t.Cleanup(func() { c.Close() })
	return c
}

// Identity issues a client certificate with common name cn from the server's CA: another
// identity the server accepts, which sees only its own objects. The files live in t's temp dir.
func (s *Server) Identity(t testing.TB, cn string) (certFile, keyFile string) {
	t.Helper()
	cert, key, err := s.ca.issue(cn, x509.ExtKeyUsageClientAuth)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := writePair(dir, "client", cert, key); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "client.pem"), filepath.Join(dir, "client-key.pem")
}

// UntrustedIdentity makes a CA the server does not trust and a client certificate from it.
// caFile also serves to check that a client refuses the server's certificate.
func UntrustedIdentity(t testing.TB, cn string) (caFile, certFile, keyFile string) {
	t.Helper()
	ca, err := newAuthority("untrusted kmiptest CA")
	if err != nil {
		t.Fatal(err)
	}
	cert, key, err := ca.issue(cn, x509.ExtKeyUsageClientAuth)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	caFile = filepath.Join(dir, "ca.pem")
	if err := writePEM(caFile, "CERTIFICATE", ca.cert.Raw); err != nil {
		t.Fatal(err)
	}
	if err := writePair(dir, "client", cert, key); err != nil {
		t.Fatal(err)
	}
	return caFile, filepath.Join(dir, "client.pem"), filepath.Join(dir, "client-key.pem")
}

func (s *Server) issueFiles(name, cn string) (certFile, keyFile string, err error) {
	cert, key, err := s.ca.issue(cn, x509.ExtKeyUsageClientAuth)
	if err != nil {
		return "", "", err
	}
	if err := writePair(s.dir, name, cert, key); err != nil {
		return "", "", err
	}
	return filepath.Join(s.dir, name+".pem"), filepath.Join(s.dir, name+"-key.pem"), nil
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// RegisterKeyPair registers priv (PKCS#8) and its public key (X.509 SubjectPublicKeyInfo), both
// named name, and activates them. PyKMIP keeps no Link attribute, so the inventory pairs the two
// by a shared name: besides name, both get a second name unique to the pair. The inventory
// reports the pair as one private Key labelled name, with the private key's state. RSA, ECDSA
// (P-256, P-384, P-521) and Ed25519 keys are accepted.
func (s *Server) RegisterKeyPair(t testing.TB, priv crypto.Signer, name string) (privID, pubID string) {
	t.Helper()
	var alg kmip.CryptographicAlgorithm
	var bits int32
	switch k := priv.Public().(type) {
	case *rsa.PublicKey:
		alg, bits = kmip.AlgRSA, int32(k.N.BitLen())
	case *ecdsa.PublicKey:
		alg, bits = kmip.AlgEC, int32(k.Curve.Params().BitSize)
	case ed25519.PublicKey:
		alg, bits = kmip.AlgEd25519, 256
	default:
		t.Fatalf("RegisterKeyPair: unsupported key type %T", k)
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	c := s.Client(t)
	// A second name only this pair carries keeps the pairing unambiguous even when name is
	// reused (go test -count=2 against a shared server, say).
	tag := make([]byte, 8)
	rand.Read(tag)
	pairName := kmip.NameAttribute(fmt.Sprintf("%s (kmiptest pair %x)", name, tag))
	pairName.Index = 1
	privObj, _ := kmip.KeyObject(kmip.ObjectPrivateKey, kmip.FormatPKCS8, alg, bits, privDER)
	pubObj, _ := kmip.KeyObject(kmip.ObjectPublicKey, kmip.FormatX509, alg, bits, pubDER)
	if privID, err = c.Register(ctx(t), kmip.ObjectPrivateKey, privObj, kmip.UsageAttribute(kmip.UsageSign), kmip.NameAttribute(name), pairName); err != nil {
		t.Fatalf("registering private key %q: %v", name, err)
	}
	if pubID, err = c.Register(ctx(t), kmip.ObjectPublicKey, pubObj, kmip.UsageAttribute(kmip.UsageVerify), kmip.NameAttribute(name), pairName); err != nil {
		t.Fatalf("registering public key %q: %v", name, err)
	}
	s.Activate(t, privID)
	s.Activate(t, pubID)
	return privID, pubID
}

// RegisterAES registers value (16, 24 or 32 bytes) as an active AES key named name with encrypt
// and decrypt usage, so that the inventory can confirm a leaked copy of it with Encrypt.
func (s *Server) RegisterAES(t testing.TB, value []byte, name string) string {
	t.Helper()
	return s.registerSecret(t, kmip.AlgAES, value, name, kmip.UsageEncrypt|kmip.UsageDecrypt)
}

// RegisterHMAC registers value as an active HMAC key of algorithm alg (kmip.AlgHMACSHA256, …)
// named name with MAC usage.
func (s *Server) RegisterHMAC(t testing.TB, alg kmip.CryptographicAlgorithm, value []byte, name string) string {
	t.Helper()
	return s.registerSecret(t, alg, value, name, kmip.UsageMACGenerate|kmip.UsageMACVerify)
}

func (s *Server) registerSecret(t testing.TB, alg kmip.CryptographicAlgorithm, value []byte, name string, usage kmip.UsageMask) string {
	t.Helper()
	obj, _ := kmip.KeyObject(kmip.ObjectSymmetricKey, kmip.FormatRaw, alg, int32(8*len(value)), value)
	id, err := s.Client(t).Register(ctx(t), kmip.ObjectSymmetricKey, obj, kmip.UsageAttribute(usage), kmip.NameAttribute(name))
	if err != nil {
		t.Fatalf("registering %s key %q: %v", alg, name, err)
	}
	s.Activate(t, id)
	return id
}

// Activate activates object id.
func (s *Server) Activate(t testing.TB, id string) {
	t.Helper()
	if err := s.Client(t).Activate(ctx(t), id); err != nil {
		t.Fatalf("activating %q: %v", id, err)
	}
}

// Revoke revokes object id: kmip.RevokeKeyCompromise makes it Compromised,
// kmip.RevokeCessationOfOperation (of an active object) Deactivated. Revoke a pair's private key:
// the inventory reports a pair with the private key's state.
func (s *Server) Revoke(t testing.TB, id string, code kmip.RevocationReasonCode) {
	t.Helper()
	if err := s.Client(t).Revoke(ctx(t), id, code, "kmiptest"); err != nil {
		t.Fatalf("revoking %q: %v", id, err)
	}
}

// Destroy destroys object id, which must not be active.
func (s *Server) Destroy(t testing.TB, id string) {
	t.Helper()
	if err := s.Client(t).Destroy(ctx(t), id); err != nil {
		t.Fatalf("destroying %q: %v", id, err)
	}
}

// lockedBuffer collects the process's output, which exec copies in from its own goroutines.
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
	if b == nil {
		return ""
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// authority is a throwaway ECDSA P-256 CA. ECDSA because PyKMIP's TLS 1.2 cipher suites and Go's
// defaults share only ECDHE-ECDSA ones.
type authority struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newAuthority(cn string) (*authority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &authority{cert: cert, key: key}, nil
}

// issue makes a leaf certificate for cn; a server certificate for an IP address gets it as an IP
// SAN.
func (a *authority) issue(cn string, usage x509.ExtKeyUsage) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
	}
	if usage == x509.ExtKeyUsageServerAuth {
		if ip := net.ParseIP(cn); ip != nil {
			tmpl.IPAddresses = []net.IP{ip}
		} else {
			tmpl.DNSNames = []string{cn}
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, &key.PublicKey, a.key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	return cert, key, nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	return n
}

func writePair(dir, name string, cert *x509.Certificate, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	return errors.Join(
		writePEM(filepath.Join(dir, name+".pem"), "CERTIFICATE", cert.Raw),
		writePEM(filepath.Join(dir, name+"-key.pem"), "PRIVATE KEY", der),
	)
}

func writePEM(path, typ string, der []byte) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600)
}
