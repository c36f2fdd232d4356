package kmip

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/hsmcheck"
)

// These tests put the client against a scripted TLS server on 127.0.0.1, for the behaviours
// PyKMIP cannot show: hostile answers, stalls, Offset Items ignored, TLS 1.3 refusals.

type fakeServer struct {
	addr   string
	client *tls.Config // trusts the server's certificate
	conns  atomic.Int32
}

func selfSigned(t *testing.T, cn string, ip net.IP) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	if ip != nil {
		tmpl.IPAddresses = []net.IP{ip}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// startFake serves each connection with handle until the test ends. serverCfg may adjust the
// server's TLS settings.
func startFake(t *testing.T, serverCfg func(*tls.Config), handle func(t *testing.T, conn net.Conn)) *fakeServer {
	t.Helper()
	cert := selfSigned(t, "fake kmip", net.IPv4(127, 0, 0, 1))
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	if serverCfg != nil {
		serverCfg(cfg)
	}
	l, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert.Leaf)
	f := &fakeServer{addr: l.Addr().String(), client: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	var wg sync.WaitGroup
	done := make(chan struct{})
	t.Cleanup(func() { close(done); l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			f.conns.Add(1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer conn.Close()
				go func() { <-done; conn.Close() }()
				handle(t, conn)
			}()
		}
	}()
	return f
}

// serve answers each request on conn with answer(request message), until the connection ends or
// answer returns nil.
func serve(answer func(req Item) []Item) func(*testing.T, net.Conn) {
	return func(t *testing.T, conn net.Conn) {
		for {
			raw, err := ReadMessage(conn, 0)
			if err != nil {
				return
			}
			req, err := Unmarshal(raw)
			if err != nil {
				t.Errorf("fake server: %v", err)
				return
			}
			items := answer(req)
			if items == nil {
				return
			}
			hdr := Struct(TagResponseHeader, Struct(TagProtocolVersion, Int(TagProtocolVersionMajor, 1), Int(TagProtocolVersionMinor, 2)),
				DateTime(TagTimeStamp, time.Now()), Int(TagBatchCount, int32(len(items))))
			b, err := Struct(TagResponseMessage, append([]Item{hdr}, items...)...).MarshalBinary()
			if err != nil {
				t.Errorf("fake server: %v", err)
				return
			}
			if _, err := conn.Write(b); err != nil {
				return
			}
		}
	}
}

func success(op Operation, payload ...Item) Item {
	return Struct(TagBatchItem, Enum(TagOperation, op), Enum(TagResultStatus, StatusSuccess), Struct(TagResponsePayload, payload...))
}

func requestPayload(req Item) Item {
	bi, _ := req.Field(TagBatchItem)
	p, _ := bi.Field(TagRequestPayload)
	return p
}

var queryAnswer = serve(func(Item) []Item {
	return []Item{success(OpQuery, Text(TagVendorIdentification, "fake"))}
})

func TestClientHostileAnswers(t *testing.T) {
	tests := []struct {
		name   string
		answer []byte
		want   string
	}{
		{"length of 2 GiB", []byte{0x42, 0x00, 0x7B, 0x01, 0x7F, 0xFF, 0xFF, 0xF0}, "exceeds the 16777216-byte limit"},
		{"not a structure", []byte{0x42, 0x00, 0x7B, 0x07, 0x00, 0x00, 0x00, 0x00}, "want a Structure"},
		{"bad padding", []byte{0x42, 0x00, 0x7B, 0x01, 0, 0, 0, 16, 0x42, 0, 0x7A, 0x02, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 9}, "non-zero padding"},
		{"a request message", []byte{0x42, 0x00, 0x78, 0x01, 0, 0, 0, 0}, "want a Response Message"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := startFake(t, nil, func(t *testing.T, conn net.Conn) {
				if _, err := ReadMessage(conn, 0); err == nil {
					conn.Write(tc.answer)
				}
			})
			c := NewClient(f.addr, f.client)
			defer c.Close()
			_, err := c.Query(context.Background(), QueryOperations)
			if err == nil || !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want ErrMalformed containing %q", err, tc.want)
			}
		})
	}
}

func TestClientContext(t *testing.T) {
	stall := func(t *testing.T, conn net.Conn) {
		ReadMessage(conn, 0)
		buf := make([]byte, 1)
		conn.Read(buf) // until the client or the test closes the connection
	}
	t.Run("deadline", func(t *testing.T) {
		f := startFake(t, nil, stall)
		c := NewClient(f.addr, f.client)
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := c.Query(ctx, QueryOperations)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("error %v, want context.DeadlineExceeded", err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("took %v to give up", d)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		f := startFake(t, nil, stall)
		c := NewClient(f.addr, f.client)
		defer c.Close()
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		_, err := c.Query(ctx, QueryOperations)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error %v, want context.Canceled", err)
		}
		// The interrupted connection is dropped; the next request dials anew.
		if c.conn != nil {
			t.Error("the client kept a connection whose exchange was interrupted")
		}
	})
	t.Run("client timeout without a context deadline", func(t *testing.T) {
		f := startFake(t, nil, stall)
		c := NewClient(f.addr, f.client)
		c.Timeout = 200 * time.Millisecond
		defer c.Close()
		start := time.Now()
		_, err := c.Query(context.Background(), QueryOperations)
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Errorf("error %v, want a timeout", err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("took %v to give up", d)
		}
	})
	t.Run("already cancelled", func(t *testing.T) {
		f := startFake(t, nil, queryAnswer)
		c := NewClient(f.addr, f.client)
		defer c.Close()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := c.Query(ctx, QueryOperations); !errors.Is(err, context.Canceled) {
			t.Errorf("error %v, want context.Canceled", err)
		}
		if n := f.conns.Load(); n != 0 {
			t.Errorf("%d connections for a cancelled request", n)
		}
	})
}

func TestClientRedialsAfterIdleClose(t *testing.T) {
	// The server answers one request per connection, then hangs up, as servers with idle
	// timeouts do.
	f := startFake(t, nil, func(t *testing.T, conn net.Conn) {
		n := 0
		serve(func(Item) []Item {
			if n++; n > 1 {
				return nil
			}
			return []Item{success(OpQuery, Text(TagVendorIdentification, "fake"))}
		})(t, conn)
	})
	c := NewClient(f.addr, f.client)
	defer c.Close()
	for i := range 3 {
		q, err := c.Query(context.Background(), QueryServerInformation)
		if err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
		if q.Vendor != "fake" {
			t.Errorf("vendor %q", q.Vendor)
		}
		time.Sleep(20 * time.Millisecond) // let the close arrive
	}
	if n := f.conns.Load(); n != 3 {
		t.Errorf("%d connections, want 3", n)
	}
}

func TestLocatePaging(t *testing.T) {
	all := []string{"a", "b", "c", "d", "e"}
	tests := []struct {
		name   string
		offset string // how the server treats Offset Items: honour, ignore, refuse
		pages  []string
	}{
		{"offset honoured", "honour", []string{"2@0", "2@2", "2@4"}},
		{"offset ignored", "ignore", []string{"2@0", "2@2", "all"}},
		{"offset refused", "refuse", []string{"2@0", "2@2", "all"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var pages []string
			f := startFake(t, nil, serve(func(req Item) []Item {
				p := requestPayload(req)
				max, offset := int32(0), int32(0)
				if f, ok := p.Field(TagMaximumItems); ok {
					max = f.Value.(int32)
				}
				if f, ok := p.Field(TagOffsetItems); ok {
					offset = f.Value.(int32)
				}
				if a, ok := p.Field(TagAttribute); !ok || len(a.Fields()) != 2 {
					t.Errorf("Locate without the object type filter: %+v", p)
				}
				mu.Lock()
				if max == 0 {
					pages = append(pages, "all")
				} else {
					pages = append(pages, itoa(max)+"@"+itoa(offset))
				}
				mu.Unlock()
				if offset > 0 && tc.offset == "refuse" {
					return []Item{Struct(TagBatchItem, Enum(TagOperation, OpLocate), Enum(TagResultStatus, StatusOperationFailed),
						Enum(TagResultReason, ReasonInvalidField), Text(TagResultMessage, "unknown tag"))}
				}
				if tc.offset == "ignore" {
					offset = 0
				}
				ids := all[min(int(offset), len(all)):]
				if max > 0 {
					ids = ids[:min(int(max), len(ids))]
				}
				var out []Item
				for _, id := range ids {
					out = append(out, Text(TagUniqueIdentifier, id))
				}
				return []Item{success(OpLocate, out...)}
			}))
			c := NewClient(f.addr, f.client)
			c.PageSize = 2
			defer c.Close()
			got, err := c.Locate(context.Background(), ObjectTypeAttribute(ObjectSymmetricKey))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(all, got); diff != "" {
				t.Errorf("identifiers (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.pages, pages); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
		})
	}
}

func itoa(i int32) string { return big.NewInt(int64(i)).String() }

func TestClientCertificateRefused(t *testing.T) {
	for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		t.Run(tls.VersionName(version), func(t *testing.T) {
			trusted := selfSigned(t, "trusted client CA", nil)
			f := startFake(t, func(cfg *tls.Config) {
				pool := x509.NewCertPool()
				pool.AddCert(trusted.Leaf)
				cfg.ClientCAs = pool
				cfg.ClientAuth = tls.RequireAndVerifyClientCert
				cfg.MinVersion, cfg.MaxVersion = version, version
			}, queryAnswer)
			cfg := f.client.Clone()
			cfg.Certificates = []tls.Certificate{selfSigned(t, "intruder", nil)}
			c := NewClient(f.addr, cfg)
			defer c.Close()
			_, err := c.Query(context.Background(), QueryOperations)
			if !errors.Is(err, hsmcheck.ErrAuth) || !strings.Contains(err.Error(), "refused the client certificate") {
				t.Errorf("error %v, want ErrAuth for a refused client certificate", err)
			}
		})
	}
}

func TestGetAttributesManyBatches(t *testing.T) {
	var mu sync.Mutex
	var batches []int
	f := startFake(t, nil, serve(func(req Item) []Item {
		var out []Item
		items := req.All(TagBatchItem)
		mu.Lock()
		batches = append(batches, len(items))
		mu.Unlock()
		for _, bi := range slices.Backward(items) { // answer in reverse to exercise batch IDs
			p, _ := bi.Field(TagRequestPayload)
			id, _ := p.Field(TagUniqueIdentifier)
			bid, _ := bi.Field(TagUniqueBatchItemID)
			f := []Item{Enum(TagOperation, OpGetAttributes)}
			if bid.Type != 0 {
				f = append(f, bid)
			}
			if id.Value == "gone" {
				out = append(out, Struct(TagBatchItem, append(f, Enum(TagResultStatus, StatusOperationFailed),
					Enum(TagResultReason, ReasonItemNotFound))...))
				continue
			}
			out = append(out, Struct(TagBatchItem, append(f, Enum(TagResultStatus, StatusSuccess), Struct(TagResponsePayload,
				id, NameAttribute("name-"+id.Value.(string)).Item()))...))
		}
		return out
	}))
	c := NewClient(f.addr, f.client)
	c.BatchSize = 2
	defer c.Close()
	rs, err := c.GetAttributesMany(context.Background(), []string{"a", "gone", "c", "d", "e"}, AttrName)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rs {
		if r.Err != nil {
			got = append(got, r.ID+":"+Reason(r.Err).String())
			continue
		}
		got = append(got, r.ID+":"+strings.Join(r.Attributes.Names(), ","))
	}
	want := []string{"a:name-a", "gone:item not found", "c:name-c", "d:name-d", "e:name-e"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{2, 2, 1}, batches); diff != "" {
		t.Errorf("batch sizes (-want +got):\n%s", diff)
	}
}

func TestNewClientTLSFloor(t *testing.T) {
	tests := []struct {
		name string
		min  uint16
		want uint16
	}{
		{"unset becomes TLS 1.2", 0, tls.VersionTLS12},
		{"TLS 1.0 becomes TLS 1.2", tls.VersionTLS10, tls.VersionTLS12},
		{"TLS 1.3 stays", tls.VersionTLS13, tls.VersionTLS13},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &tls.Config{MinVersion: tc.min}
			c := NewClient("127.0.0.1:1", cfg)
			if c.tls.MinVersion != tc.want {
				t.Errorf("MinVersion %x, want %x", c.tls.MinVersion, tc.want)
			}
			if cfg.MinVersion != tc.min {
				t.Error("NewClient changed the caller's config")
			}
		})
	}
}
