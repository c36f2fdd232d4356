package all_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keywarden/keywarden/hsmcheck"
	"github.com/keywarden/keywarden/hsmcheck/all"
)

func spec(t *testing.T, uri string) hsmcheck.Spec {
	t.Helper()
	s, err := hsmcheck.ParseSpec(uri)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLoad(t *testing.T) {
	inv := filepath.Join(t.TempDir(), "inv.yaml")
	os.WriteFile(inv, []byte("keys:\n  - id: a\n    fingerprints: {kcv: 010203}\n"), 0o600)
	// A port nothing listens on: the backend cannot be reached.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cert := filepath.Join(t.TempDir(), "c.pem")
	os.WriteFile(cert, []byte("not a certificate"), 0o600)

	loaded, done, err := all.Load(context.Background(), []hsmcheck.Spec{
		spec(t, "file:"+inv),
		spec(t, "vault://"+addr+"/transit?name=down"),
	})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	defer done()
	if len(loaded) != 2 || loaded[0].Err != nil || len(loaded[0].Keys) != 1 {
		t.Fatalf("loaded = %+v", loaded)
	}
	if loaded[1].Err == nil || loaded[1].Inventory.Name() == "" {
		t.Errorf("unreachable backend loaded without an error: %+v", loaded[1])
	}

	for name, uri := range map[string]string{
		"unknown scheme": "gopher://x",
		"broken file":    "file:" + cert,
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := all.Load(context.Background(), []hsmcheck.Spec{spec(t, "file:"+inv), spec(t, uri)})
			if !errors.Is(err, hsmcheck.ErrConfig) {
				t.Errorf("Load = %v, want ErrConfig", err)
			}
		})
	}
}

func TestSpecs(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, ".keywarden.toml")
	os.WriteFile(cfg, []byte("[[inventory]]\nuri = \"awskms://eu-west-1\"\n\n[[inventory]]\nuri = \"awskms://us-east-1?endpoint=https://kms.internal\"\n"), 0o600)
	specs, pol, err := all.Specs(all.Options{ConfigPath: cfg, URIs: []string{"file:x.yaml"}, KMSEndpoint: "http://127.0.0.1:4566"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range specs {
		got = append(got, s.Scheme()+" "+s.Params.Get("endpoint"))
	}
	if strings.Join(got, "|") != "awskms http://127.0.0.1:4566|awskms https://kms.internal|file " {
		t.Errorf("specs = %q", got)
	}
	if pol.Cryptoperiods["sign"] == 0 {
		t.Error("no default policy")
	}
}
