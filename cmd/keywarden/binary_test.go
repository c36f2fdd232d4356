package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"

	"github.com/keywarden/keywarden/scanner/gittest"
)

// TestBinaryFlag: binary files are skipped by default and searched for keys with --binary, in
// a directory and in history, with the key's byte offset in the file.
func TestBinaryFlag(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalECPrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	// A keystore-like binary: a header with NUL bytes, then the key.
	blob := append(append([]byte("KSTR\x00\x01\x00\x00"), make([]byte, 120)...), der...)

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "service.keystore"), blob, 0o600); err != nil {
		t.Fatal(err)
	}
	r := gittest.New(t)
	r.Commit(map[string]string{"certs/service.keystore": string(blob)}, "add keystore")

	tests := []struct {
		name string
		args []string
		want int
		path string
	}{
		{"dir skips binaries", []string{"scan", "dir", dir}, 0, ""},
		{"dir --binary", []string{"scan", "dir", dir, "--binary"}, 1, "service.keystore"},
		{"git skips binaries", []string{"scan", "git", r.Path()}, 0, ""},
		{"git --binary", []string{"scan", "git", r.Path(), "--binary"}, 1, "certs/service.keystore"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, res := scanJSON(t, tt.args...)
			if len(rep.Findings) != tt.want {
				t.Fatalf("%d findings, want %d (exit %d): %s", len(rep.Findings), tt.want, res.code, res.stderr)
			}
			if tt.want == 0 {
				if res.code != exitClean || len(rep.Skipped) != 1 || rep.Skipped[0].Reason != "binary" {
					t.Errorf("exit %d, skipped %+v: want exit 0 and the binary reported as skipped", res.code, rep.Skipped)
				}
				return
			}
			f := rep.Findings[0]
			l := f.Locations[0]
			if res.code != exitFindings || f.RuleID != "private-key-in-binary" || l.Path != tt.path || l.Offset == nil || *l.Offset != 128 || l.Length != len(der) || l.Detector != "der-sec1" {
				t.Errorf("exit %d, finding %s at %s offset %v+%d by %s", res.code, f.RuleID, l.Path, l.Offset, l.Length, l.Detector)
			}
		})
	}
}
