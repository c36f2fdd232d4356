package scanner_test

import (
	"bytes"
	"compress/gzip"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/keywarden/keywarden/rules/keyfind"
	"github.com/keywarden/keywarden/scanner"
	"github.com/keywarden/keywarden/scanner/dumptest"
)

func seeded(seed uint64, n int) []byte {
	r := mrand.NewChaCha8([32]byte{byte(seed), 7})
	b := make([]byte, n)
	_, _ = r.Read(b)
	return b
}

func utf16le(s string) []byte {
	out := make([]byte, 0, 2*len(s))
	for i := 0; i < len(s); i++ {
		out = append(out, s[i], 0)
	}
	return out
}

func scanDumps(t *testing.T, paths ...string) *scanner.ScanOutput {
	t.Helper()
	out, err := scanner.Scan(t.Context(), scanner.ScanOptions{Kind: "dump", Dumps: paths})
	if err != nil {
		t.Fatalf("scanning %v: %v", paths, err)
	}
	return out
}

// TestScanMinidump: a minidump written by the test holds a DER key in one memory range and a
// UTF-16LE PEM key (as Windows programs keep strings) in another; both are found at the
// virtual addresses they were written at.
func TestScanMinidump(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ec)
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	rsaPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rk)})
	r1 := seeded(1, 64<<10)
	copy(r1[0x1230:], ecDER)
	r2 := seeded(2, 128<<10)
	copy(r2[0x800:], append(utf16le(string(rsaPEM)), 0, 0))
	for _, m64 := range []bool{false, true} {
		t.Run("memory64="+strconv.FormatBool(m64), func(t *testing.T) {
			path := dumptest.MinidumpFile(t, []dumptest.Range{{Addr: 0x7ff6_1000_0000, Data: r1}, {Addr: 0x2_4000_0000, Data: r2}}, m64)
			out := scanDumps(t, path)
			got := map[string]string{}
			for _, f := range out.Findings {
				if len(f.Locations) != 1 || f.Key == nil {
					t.Fatalf("finding %+v: want one location and a key", f)
				}
				l := f.Locations[0]
				got[l.Detector] = l.Address + " " + f.Key.Type
				if l.Source != "dump" || l.Path != path || l.Offset == nil {
					t.Errorf("location %+v", l)
				}
			}
			want := map[string]string{
				keyfind.DetectorDERPKCS8:  "0x7ff610001230 ecdsa",
				keyfind.DetectorTextUTF16: "0x240000800 rsa",
			}
			if len(got) != len(want) || got[keyfind.DetectorDERPKCS8] != want[keyfind.DetectorDERPKCS8] || got[keyfind.DetectorTextUTF16] != want[keyfind.DetectorTextUTF16] {
				t.Errorf("found %v, want %v", got, want)
			}
		})
	}
}

// TestScanRawImage: a raw image bigger than a chunk with a key straddling the chunk boundary,
// and a damaged copy of another key whose prime is still in memory next to its certificate,
// as big-number limbs. Negative controls (random, compressed, a binary holding certificates)
// give no findings.
func TestScanRawImage(t *testing.T) {
	dir := t.TempDir()
	straddler, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	sDER, _ := x509.MarshalECPrivateKey(straddler)
	damaged, _ := rsa.GenerateKey(rand.Reader, 2048)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "raw image test"},
		NotBefore: time.Unix(1700000000, 0), NotAfter: time.Unix(1900000000, 0)}
	cert, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &damaged.PublicKey, damaged)
	if err != nil {
		t.Fatal(err)
	}
	broken := x509.MarshalPKCS1PrivateKey(damaged)
	broken[0] = 0xff // the SEQUENCE header is gone
	limbs := damaged.Primes[1].FillBytes(make([]byte, 128))
	for i, j := 0, len(limbs)-1; i < j; i, j = i+1, j-1 {
		limbs[i], limbs[j] = limbs[j], limbs[i]
	}
	img := seeded(3, keyfind.ChunkSize+(1<<20))
	boundary := keyfind.ChunkSize - len(sDER)/2
	copy(img[boundary:], sDER)
	copy(img[0x10000:], cert)
	copy(img[0x20000:], broken)
	copy(img[0x30000:], limbs)
	raw := filepath.Join(dir, "memory.raw")
	if err := os.WriteFile(raw, img, 0o600); err != nil {
		t.Fatal(err)
	}
	out := scanDumps(t, raw)
	got := map[string]int64{}
	for _, f := range out.Findings {
		for _, l := range f.Locations {
			got[l.Detector] = *l.Offset
			if l.Address != "" {
				t.Errorf("a raw image has no addresses, got %s", l.Address)
			}
		}
	}
	want := map[string]int64{keyfind.DetectorDERSEC1: int64(boundary), keyfind.DetectorRSAPrimes: 0x30000}
	if len(got) != len(want) || got[keyfind.DetectorDERSEC1] != want[keyfind.DetectorDERSEC1] || got[keyfind.DetectorRSAPrimes] != want[keyfind.DetectorRSAPrimes] {
		t.Errorf("found %v, want %v", got, want)
	}

	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	for i := 0; gz.Len() < 2<<20; i++ {
		_, _ = zw.Write(seeded(uint64(i), 256))
		_, _ = zw.Write(bytes.Repeat([]byte("compressed control "), 20))
	}
	_ = zw.Close()
	certs := seeded(4, 1<<20)
	for off := 0; off+len(cert) < len(certs); off += 64 << 10 {
		copy(certs[off:], cert)
	}
	negatives := map[string][]byte{"random.raw": seeded(5, 16<<20), "compressed.gz": gz.Bytes(), "certificates.bin": certs}
	// gofmt stands for a binary with no keys in it. (This test's own binary is no negative
	// control: dependencies compile in published example keys, such as RFC 7517's JWK, which
	// scan dump rightly reports.)
	paths := []string{filepath.Join(runtime.GOROOT(), "bin", "gofmt")}
	for name, data := range negatives {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	if out := scanDumps(t, paths...); len(out.Findings) != 0 {
		t.Errorf("negative controls gave %d findings, the first %s at %s", len(out.Findings), out.Findings[0].RuleID, out.Findings[0].Locations[0].Path)
	}
}

// TestScanDumpErrors: a missing file among good ones is an error, and the good ones are still
// scanned and reported.
func TestScanDumpErrors(t *testing.T) {
	dir := t.TempDir()
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalECPrivateKey(ec)
	good := filepath.Join(dir, "good.raw")
	if err := os.WriteFile(good, append(seeded(6, 4096), der...), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := scanner.Scan(t.Context(), scanner.ScanOptions{Kind: "dump", Dumps: []string{filepath.Join(dir, "missing.core"), good, dir}})
	if err == nil {
		t.Fatal("no error for a missing file and a directory")
	}
	if out == nil || len(out.Findings) != 1 {
		t.Fatalf("the good file's finding was lost: %+v", out)
	}
}
