package kmiptest

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/keywarden/keywarden/hsmcheck/kmip"
)

// TestStartPerTest runs without Main, so Start gives the test a server of its own, which must be
// gone, with every process PyKMIP forked, once the test ends.
func TestStartPerTest(t *testing.T) {
	var pgid int
	t.Run("server", func(t *testing.T) {
		s := Start(t)
		pgid = s.cmd.Process.Pid
		c := s.Client(t)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		q, err := c.Query(ctx, kmip.QueryServerInformation)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(q.Vendor, "PyKMIP") {
			t.Errorf("vendor %q", q.Vendor)
		}

		u, err := url.Parse(s.URI())
		if err != nil {
			t.Fatal(err)
		}
		if u.Scheme != "kmip" || u.Host != s.Addr || u.Query().Get("ca") != s.CAFile || u.Query().Get("cert") != s.CertFile || u.Query().Get("key") != s.KeyFile {
			t.Errorf("URI %q does not name the server and its files", s.URI())
		}
		if !strings.HasPrefix(s.Addr, "127.0.0.1:") {
			t.Errorf("server listens on %s, want 127.0.0.1", s.Addr)
		}

		pemBytes, err := os.ReadFile(s.CertFile)
		if err != nil {
			t.Fatal(err)
		}
		block, _ := pem.Decode(pemBytes)
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		if cert.Subject.CommonName != ClientCN || len(cert.ExtKeyUsage) != 1 || cert.ExtKeyUsage[0] != x509.ExtKeyUsageClientAuth {
			t.Errorf("client certificate %q with usages %v, want CN %q for client auth (PyKMIP requires it)", cert.Subject.CommonName, cert.ExtKeyUsage, ClientCN)
		}

		id := s.RegisterAES(t, make([]byte, 16), "per-test")
		as, err := c.GetAttributes(ctx, id, kmip.AttrState)
		if err != nil {
			t.Fatal(err)
		}
		if st, _ := as.Enum(kmip.AttrState); kmip.State(st) != kmip.StateActive {
			t.Errorf("registered key is %s, want Active", kmip.State(st))
		}
	})
	if pgid == 0 {
		t.Fatal("the server did not start")
	}
	if err := syscall.Kill(-pgid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("process group %d still exists after the test (signal 0: %v)", pgid, err)
	}
}
