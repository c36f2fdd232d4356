// These are contract tests written from the Vault / OpenBao transit HTTP API reference
// (https://openbao.org/api-docs/secret/transit/, https://developer.hashicorp.com/vault/api-docs/secret/transit)
// and the transit engine's source, because no Vault or OpenBao server installs from this
// machine's package registries. They run the real client (github.com/openbao/openbao/api/v2)
// over real TLS against fakeTransit (fake_test.go), whose answers are the documented shapes
// recorded in testdata/, each with the URL it was taken from.

package vault_test

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/hsmcheck"
	"github.com/keywarden/keywarden/hsmcheck/inventorytest"
	"github.com/keywarden/keywarden/hsmcheck/vault"
)

var base = time.Date(2025, 1, 15, 9, 30, 0, 0, time.UTC)

// created is the creation time fakeTransit.add gives version n.
func created(n int) time.Time { return base.Add(time.Duration(n-1) * 30 * 24 * time.Hour) }

// fixture gives f one key of each kind the tests look at.
func fixture(f *fakeTransit) {
	f.add("payments", "aes256-gcm96", 4, base, func(k *fakeKey) {
		k.minDec, k.minEnc, k.autoRotate, k.deletion = 2, 3, 30*24*3600, true
	})
	f.add("legacy", "chacha20-poly1305", 2, base, func(k *fakeKey) { k.minAvail, k.minDec = 1, 2 })
	f.add("webhook", "hmac", 3, base, func(k *fakeKey) { k.minEnc = 2 })
	f.add("webhook-old", "hmac", 2, base, func(k *fakeKey) { k.minDec = 2 })
	f.add("release-signing", "ed25519", 2, base, nil)
	f.add("tls-p256", "ecdsa-p256", 1, base, func(k *fakeKey) { k.exportable = true })
	f.add("tls-p384", "ecdsa-p384", 1, base, nil)
	f.add("tls-p521", "ecdsa-p521", 1, base, nil)
	f.add("jwt-rsa", "rsa-2048", 2, base, func(k *fakeKey) { k.minDec = 2 })
	f.add("per-tenant", "ed25519", 1, base, func(k *fakeKey) { k.derived = true })
	f.add("retired", "aes128-gcm96", 1, base, func(k *fakeKey) { k.softDeleted = true })
}

// uri is f's vault:// URI with its CA and the extra query params.
func (f *fakeTransit) uri(scheme, extra string) string {
	q := "ca=" + url.QueryEscape(f.caFile)
	if extra != "" {
		q += "&" + extra
	}
	return scheme + "://" + f.hostPort() + "/" + f.mount + "?" + q
}

func openSpec(t *testing.T, uri string, env map[string]string) (hsmcheck.Inventory, error) {
	t.Helper()
	s, err := hsmcheck.ParseSpec(uri)
	if err != nil {
		t.Fatal(err)
	}
	s.Getenv = func(k string) string { return env[k] }
	inv, err := vault.Open(context.Background(), s)
	if err == nil {
		t.Cleanup(func() { _ = inv.(*vault.Inventory).Close() })
	}
	return inv, err
}

// open opens f with its token in VAULT_TOKEN and the extra params.
func open(t *testing.T, f *fakeTransit, extra string) hsmcheck.Inventory {
	t.Helper()
	inv, err := openSpec(t, f.uri("vault", extra), map[string]string{"VAULT_TOKEN": f.tok()})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return inv
}

func collect(inv hsmcheck.Inventory) ([]hsmcheck.Key, error) {
	var ks []hsmcheck.Key
	err := inv.Keys(context.Background(), func(k hsmcheck.Key) error { ks = append(ks, k); return nil })
	return ks, err
}

func find(t *testing.T, ks []hsmcheck.Key, label string, version int) hsmcheck.Key {
	t.Helper()
	return inventorytest.Find(t, ks, label+" v"+strconv.Itoa(version), func(k hsmcheck.Key) bool {
		return k.Label == label && k.Version == version
	})
}

func refs(ks []hsmcheck.Key) []string {
	var out []string
	for _, k := range ks {
		out = append(out, k.Ref())
	}
	return out
}

func TestContractRun(t *testing.T) {
	f := newFake(t, "transit")
	fixture(f)
	ks := inventorytest.Run(t, open(t, f, ""))

	// Per key: versions after min_available_version, oldest first, keys in name order.
	want := []string{
		"jwt-rsa (transit/jwt-rsa) v1", "jwt-rsa (transit/jwt-rsa) v2",
		"legacy (transit/legacy) v2",
		"payments (transit/payments) v1", "payments (transit/payments) v2", "payments (transit/payments) v3", "payments (transit/payments) v4",
		"per-tenant (transit/per-tenant) v1",
		"release-signing (transit/release-signing) v1", "release-signing (transit/release-signing) v2",
		"retired (transit/retired) v1",
		"tls-p256 (transit/tls-p256) v1", "tls-p384 (transit/tls-p384) v1", "tls-p521 (transit/tls-p521) v1",
		"webhook (transit/webhook) v1", "webhook (transit/webhook) v2", "webhook (transit/webhook) v3",
		"webhook-old (transit/webhook-old) v1", "webhook-old (transit/webhook-old) v2",
	}
	if diff := cmp.Diff(want, refs(ks)); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
}

func TestContractVersionStates(t *testing.T) {
	f := newFake(t, "transit")
	fixture(f)
	ks, err := collect(open(t, f, ""))
	if err != nil {
		t.Fatal(err)
	}

	t.Run("payments in full", func(t *testing.T) {
		meta := func(extra ...string) map[string]string {
			m := map[string]string{"type": "aes256-gcm96", "latest_version": "4", "min_decryption_version": "2",
				"min_encryption_version": "3", "deletion_allowed": "true"}
			for i := 0; i+1 < len(extra); i += 2 {
				m[extra[i]] = extra[i+1]
			}
			return m
		}
		key := func(v int, s hsmcheck.State, usage []string, c time.Time, m map[string]string) hsmcheck.Key {
			return hsmcheck.Key{ID: "transit/payments", Label: "payments", Version: v, Class: hsmcheck.Secret, State: s,
				Scope: "root/transit", Algorithm: "AES-256-GCM", Usage: usage, Created: c, LastRotated: created(4),
				RotationEnabled: hsmcheck.BoolPtr(true), RotationPeriod: 30 * 24 * time.Hour,
				Extractable: hsmcheck.BoolPtr(false), Meta: m}
		}
		ed := []string{"encrypt", "decrypt"}
		want := []hsmcheck.Key{
			// Below min_decryption_version: archived, absent from the keys map, so no creation time.
			key(1, hsmcheck.Disabled, nil, time.Time{}, meta("archived", "true")),
			key(2, hsmcheck.OldVersion, ed, created(2), meta()),
			key(3, hsmcheck.OldVersion, ed, created(3), meta()),
			key(4, hsmcheck.Active, ed, created(4), meta()),
		}
		var got []hsmcheck.Key
		for _, k := range ks {
			if k.Label == "payments" {
				got = append(got, k)
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("payments (-want +got):\n%s", diff)
		}
	})

	tests := []struct {
		name    string
		label   string
		version int
		state   hsmcheck.State
		live    bool
		created time.Time
	}{
		{"latest is active", "payments", 4, hsmcheck.Active, true, created(4)},
		{"older at min_decryption_version still decrypts", "payments", 2, hsmcheck.OldVersion, false, created(2)},
		{"below min_decryption_version is archived", "payments", 1, hsmcheck.Disabled, false, time.Time{}},
		{"trimmed version gone, next is active", "legacy", 2, hsmcheck.Active, true, created(2)},
		{"hmac versions come from the numbers", "webhook", 1, hsmcheck.OldVersion, false, time.Time{}},
		{"hmac latest", "webhook", 3, hsmcheck.Active, true, time.Time{}},
		{"archived key-pair version", "jwt-rsa", 1, hsmcheck.Disabled, false, time.Time{}},
		{"key-pair latest", "jwt-rsa", 2, hsmcheck.Active, true, created(2)},
		{"soft-deleted key", "retired", 1, hsmcheck.PendingDeletion, false, created(1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := find(t, ks, tt.label, tt.version)
			if k.State != tt.state || k.State.Live() != tt.live {
				t.Errorf("%s: state %q (live %v), want %q (live %v)", k.Ref(), k.State, k.State.Live(), tt.state, tt.live)
			}
			if !k.Created.Equal(tt.created) {
				t.Errorf("%s: created %v, want %v", k.Ref(), k.Created, tt.created)
			}
		})
	}

	t.Run("trimmed versions are not listed", func(t *testing.T) {
		for _, k := range ks {
			if k.Label == "legacy" && k.Version == 1 {
				t.Errorf("legacy v1 is below min_available_version and was listed as %s", k.State)
			}
		}
	})
}

func TestContractClassAndAlgorithm(t *testing.T) {
	f := newFake(t, "transit")
	fixture(f)
	ks, err := collect(open(t, f, ""))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, label string
		version     int
		algorithm   string
		class       hsmcheck.Class
		usage       []string
		extractable bool
		rotation    time.Duration
	}{
		{"aes", "payments", 4, "AES-256-GCM", hsmcheck.Secret, []string{"encrypt", "decrypt"}, false, 30 * 24 * time.Hour},
		{"chacha", "legacy", 2, "ChaCha20-Poly1305", hsmcheck.Secret, []string{"encrypt", "decrypt"}, false, 0},
		{"hmac", "webhook", 3, "HMAC", hsmcheck.Secret, []string{"mac"}, false, 0},
		{"ed25519", "release-signing", 2, "Ed25519", hsmcheck.Private, []string{"sign", "verify"}, false, 0},
		{"ecdsa exportable", "tls-p256", 1, "EC-P256", hsmcheck.Private, []string{"sign", "verify"}, true, 0},
		{"rsa", "jwt-rsa", 2, "RSA-2048", hsmcheck.Private, []string{"encrypt", "decrypt", "sign", "verify"}, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := find(t, ks, tt.label, tt.version)
			got := []any{k.Class, k.Algorithm, k.Usage, *k.Extractable, k.CheckValue, *k.RotationEnabled, k.RotationPeriod}
			want := []any{tt.class, tt.algorithm, tt.usage, tt.extractable, []byte(nil), tt.rotation > 0, tt.rotation}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s class, algorithm, usage, extractable, check value, rotation (-want +got):\n%s", k.Ref(), diff)
			}
		})
	}
}

func TestContractSPKIHash(t *testing.T) {
	f := newFake(t, "transit")
	fixture(f)
	ks, err := collect(open(t, f, ""))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		label   string
		version int
	}{
		{"ed25519 latest", "release-signing", 2},
		{"ed25519 older version", "release-signing", 1},
		{"ecdsa p256", "tls-p256", 1},
		{"ecdsa p384", "tls-p384", 1},
		{"ecdsa p521", "tls-p521", 1},
		{"rsa 2048", "jwt-rsa", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := hsmcheck.SPKIHash(f.keys[tt.label].versions[tt.version-1].pub)
			if err != nil {
				t.Fatal(err)
			}
			k := find(t, ks, tt.label, tt.version)
			if k.SPKIHash != want {
				t.Errorf("%s: SPKIHash %x, want %x", k.Ref(), k.SPKIHash, want)
			}
			// An RSA key's modulus comes along, for the prime search of scan dump.
			if rk, ok := f.keys[tt.label].versions[tt.version-1].pub.(*rsa.PublicKey); ok != (k.RSAPublic() != nil) || ok && !rk.Equal(k.RSAPublic()) {
				t.Errorf("%s: RSA public key %v, want %v", k.Ref(), k.RSAPublic(), rk)
			}
		})
	}

	noHash := []struct {
		name    string
		label   string
		version int
	}{
		{"derived ed25519 has a public key per context only", "per-tenant", 1},
		{"archived version is not in the keys map", "jwt-rsa", 1},
		{"symmetric", "payments", 4},
	}
	for _, tt := range noHash {
		t.Run(tt.name, func(t *testing.T) {
			if k := find(t, ks, tt.label, tt.version); k.HasSPKI() {
				t.Errorf("%s: SPKIHash %x, want none", k.Ref(), k.SPKIHash)
			}
		})
	}
}

// hmacRequestFields are the fields the recorded HMAC request carries.
func hmacRequestFields(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "hmac.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		Request struct {
			Body map[string]any `json:"body"`
		} `json:"request"`
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatal(err)
	}
	var fs []string
	for k := range rec.Request.Body {
		fs = append(fs, k)
	}
	slices.Sort(fs)
	return fs
}

func TestContractHMACChallenge(t *testing.T) {
	f := newFake(t, "transit")
	fixture(f)
	inv := open(t, f, "")
	ks, err := collect(inv)
	if err != nil {
		t.Fatal(err)
	}
	wantFields := hmacRequestFields(t)
	tests := []struct {
		name    string
		version int
	}{
		{"latest version", 3},
		{"older version at min_encryption_version", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			material := f.keys["webhook"].versions[tt.version-1].material
			k := find(t, ks, "webhook", tt.version)
			before := len(f.hmacCalls())
			inventorytest.Confirms(t, inv, k, material)

			calls := f.hmacCalls()[before:]
			if len(calls) != 2 {
				t.Fatalf("Confirms made %d HMAC requests, want 2", len(calls))
			}
			for _, c := range calls {
				if c.path != "/v1/transit/hmac/webhook/sha2-256" {
					t.Errorf("HMAC request to %s", c.path)
				}
				var fields []string
				for k := range c.body {
					fields = append(fields, k)
				}
				slices.Sort(fields)
				if diff := cmp.Diff(wantFields, fields); diff != "" {
					t.Errorf("HMAC request fields (-recorded +sent):\n%s", diff)
				}
				if v, _ := c.body["key_version"].(json.Number); v.String() != strconv.Itoa(tt.version) {
					t.Errorf("key_version %v, want %d", c.body["key_version"], tt.version)
				}
				in, _ := c.body["input"].(string)
				if raw, err := base64.StdEncoding.DecodeString(in); err != nil || len(raw) != 32 {
					t.Errorf("input %q is not base64 of 32 bytes", in)
				}
				for _, enc := range []string{string(material), hex.EncodeToString(material),
					base64.StdEncoding.EncodeToString(material), base64.RawURLEncoding.EncodeToString(material)} {
					if bytes.Contains(c.raw, []byte(enc)) {
						t.Errorf("the HMAC request carries the candidate key")
					}
				}
			}
		})
	}

	t.Run("one version's challenge does not confirm another", func(t *testing.T) {
		c, err := inv.(hsmcheck.Challenger).Challenge(context.Background(), find(t, ks, "webhook", 3))
		if err != nil {
			t.Fatal(err)
		}
		if c.Mechanism != hsmcheck.HMACSHA256 || len(c.Input) != 32 || len(c.Output) != 32 {
			t.Errorf("challenge %s over %d bytes giving %d, want hmac-sha256, 32, 32", c.Mechanism, len(c.Input), len(c.Output))
		}
		if c.Verify(f.keys["webhook"].versions[1].material) {
			t.Error("v3's challenge verified v2's material")
		}
	})
}

func TestContractChallengeUnsupported(t *testing.T) {
	f := newFake(t, "transit")
	fixture(f)
	inv := open(t, f, "")
	ks, err := collect(inv)
	if err != nil {
		t.Fatal(err)
	}
	foreign := find(t, ks, "webhook", 3)
	foreign.ID = "other-mount/webhook"
	tests := []struct {
		name string
		key  hsmcheck.Key
	}{
		// transit would answer, but with the AES key's separate HMAC key: no evidence either way.
		{"aes key", find(t, ks, "payments", 4)},
		{"key pair", find(t, ks, "release-signing", 2)},
		{"below min_encryption_version", find(t, ks, "webhook", 1)},
		{"archived version", find(t, ks, "webhook-old", 1)},
		{"soft-deleted key", find(t, ks, "retired", 1)},
		{"key of another mount", foreign},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(f.hmacCalls())
			_, err := inv.(hsmcheck.Challenger).Challenge(context.Background(), tt.key)
			if !errors.Is(err, hsmcheck.ErrUnsupported) {
				t.Errorf("Challenge(%s) = %v, want ErrUnsupported", tt.key.Ref(), err)
			}
			if n := len(f.hmacCalls()) - before; n != 0 {
				t.Errorf("Challenge(%s) sent %d requests, want none", tt.key.Ref(), n)
			}
		})
	}
}

func TestContractAuth(t *testing.T) {
	tests := []struct {
		name  string
		setup func(f *fakeTransit) map[string]string // returns the environment
	}{
		{"wrong token", func(f *fakeTransit) map[string]string {
			return map[string]string{"VAULT_TOKEN": newToken(t)}
		}},
		{"listing refused", func(f *fakeTransit) map[string]string {
			f.denyList = true
			return map[string]string{"VAULT_TOKEN": f.tok()}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, "transit")
			f.add("payments", "aes256-gcm96", 1, base, nil)
			env := tt.setup(f)
			inv, err := openSpec(t, f.uri("vault", ""), env)
			if err != nil {
				t.Fatal(err)
			}
			ks, err := collect(inv)
			if !errors.Is(err, hsmcheck.ErrAuth) || len(ks) != 0 {
				t.Fatalf("Keys = %d keys, %v; want none and ErrAuth", len(ks), err)
			}
			if strings.Contains(err.Error(), env["VAULT_TOKEN"]) || strings.Contains(err.Error(), f.tok()) {
				t.Errorf("the error carries the token: %v", err)
			}
			if !strings.Contains(err.Error(), "permission denied") || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q: want the server's message on one line", err)
			}
		})
	}

	t.Run("challenge refused", func(t *testing.T) {
		f := newFake(t, "transit")
		f.add("webhook", "hmac", 1, base, nil)
		inv := open(t, f, "")
		ks, err := collect(inv)
		if err != nil {
			t.Fatal(err)
		}
		f.mu.Lock()
		f.keys["webhook"].denied = true
		f.mu.Unlock()
		_, err = inv.(hsmcheck.Challenger).Challenge(context.Background(), ks[0])
		if !errors.Is(err, hsmcheck.ErrAuth) {
			t.Errorf("Challenge = %v, want ErrAuth", err)
		}
	})
}

func TestContractUnreadableKey(t *testing.T) {
	setup := func(t *testing.T) *fakeTransit {
		f := newFake(t, "transit")
		f.add("a-readable", "aes256-gcm96", 1, base, nil)
		f.add("b-refused", "aes256-gcm96", 1, base, func(k *fakeKey) { k.denied = true })
		f.add("c-readable", "ed25519", 1, base, nil)
		f.add("d-bad-public-key", "ecdsa-p256", 1, base, func(k *fakeKey) {
			k.publicKeys = map[int]string{1: "not a public key"}
		})
		return f
	}
	wantRefs := []string{"a-readable (transit/a-readable) v1", "c-readable (transit/c-readable) v1"}

	t.Run("listing goes on and the errors come at the end", func(t *testing.T) {
		ks, err := collect(open(t, setup(t), ""))
		if diff := cmp.Diff(wantRefs, refs(ks)); diff != "" {
			t.Errorf("keys (-want +got):\n%s", diff)
		}
		if !errors.Is(err, hsmcheck.ErrAuth) {
			t.Errorf("Keys = %v, want an error wrapping ErrAuth for b-refused", err)
		}
		for _, name := range []string{`"b-refused"`, `"d-bad-public-key"`} {
			if err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("Keys = %v, want it to name %s", err, name)
			}
		}
	})

	t.Run("warn receives them instead", func(t *testing.T) {
		f := setup(t)
		var warned []error
		inv, err := vault.New(context.Background(), vault.Config{Address: f.hostPort(), Token: f.tok(), CAFile: f.caFile,
			Warn: func(err error) { warned = append(warned, err) }})
		if err != nil {
			t.Fatal(err)
		}
		ks, err := collect(inv)
		if err != nil {
			t.Errorf("Keys = %v, want nil with Warn set", err)
		}
		if diff := cmp.Diff(wantRefs, refs(ks)); diff != "" {
			t.Errorf("keys (-want +got):\n%s", diff)
		}
		if len(warned) != 2 || !errors.Is(warned[0], hsmcheck.ErrAuth) || errors.Is(warned[1], hsmcheck.ErrAuth) {
			t.Errorf("warned %v, want ErrAuth for b-refused, then a parse error for d-bad-public-key", warned)
		}
	})
}

func TestContractEmptyMount(t *testing.T) {
	f := newFake(t, "transit")
	ks, err := collect(open(t, f, ""))
	if err != nil || len(ks) != 0 {
		t.Errorf("Keys on an empty mount = %d keys, %v; want none and nil", len(ks), err)
	}
}

func TestContractNamespace(t *testing.T) {
	tests := []struct {
		name      string
		required  string // the namespace the fake's token lives in
		params    string
		wantScope string
		wantErr   error
	}{
		{"header sent", "team-a", "namespace=team-a", "team-a/transit", nil},
		{"nested namespace", "team-a/payments", "namespace=team-a/payments/", "team-a/payments/transit", nil},
		{"scope param wins", "team-a", "namespace=team-a&scope=prod", "prod", nil},
		{"root namespace", "", "", "root/transit", nil},
		{"namespace missing", "team-a", "", "", hsmcheck.ErrAuth},
		{"namespace where none is wanted", "", "namespace=team-a", "", hsmcheck.ErrAuth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, "transit")
			f.namespace = tt.required
			f.add("payments", "aes256-gcm96", 1, base, nil)
			ks, err := collect(open(t, f, tt.params))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Keys = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && (len(ks) != 1 || ks[0].Scope != tt.wantScope) {
				t.Errorf("keys %v, want one with scope %q", ks, tt.wantScope)
			}
		})
	}
}

func TestContractToken(t *testing.T) {
	f := newFake(t, "transit")
	f.add("payments", "aes256-gcm96", 1, base, nil)
	good, bad := f.tok(), newToken(t)
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(good+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		scheme   string
		params   string
		env      map[string]string
		wantOpen error // from Open
		wantKeys error // from Keys, when Open succeeded
	}{
		{"VAULT_TOKEN", "vault", "", map[string]string{"VAULT_TOKEN": good}, nil, nil},
		{"BAO_TOKEN", "openbao", "", map[string]string{"BAO_TOKEN": good}, nil, nil},
		{"BAO_TOKEN for vault://", "vault", "", map[string]string{"BAO_TOKEN": good}, nil, nil},
		{"vault:// tries VAULT_TOKEN first", "vault", "", map[string]string{"VAULT_TOKEN": good, "BAO_TOKEN": bad}, nil, nil},
		{"openbao:// tries BAO_TOKEN first", "openbao", "", map[string]string{"VAULT_TOKEN": bad, "BAO_TOKEN": good}, nil, nil},
		{"vault:// uses VAULT_TOKEN over BAO_TOKEN", "vault", "", map[string]string{"VAULT_TOKEN": bad, "BAO_TOKEN": good}, nil, hsmcheck.ErrAuth},
		{"token-file", "vault", "token-file=" + url.QueryEscape(tokenFile), nil, nil, nil},
		{"environment before token-file", "vault", "token-file=" + url.QueryEscape(tokenFile), map[string]string{"VAULT_TOKEN": bad}, nil, hsmcheck.ErrAuth},
		{"token-file missing", "vault", "token-file=" + url.QueryEscape(filepath.Join(dir, "nope")), nil, hsmcheck.ErrConfig, nil},
		{"no token at all", "vault", "", nil, hsmcheck.ErrAuth, nil},
		{"token in the URI", "vault", "token=" + good, map[string]string{"VAULT_TOKEN": good}, hsmcheck.ErrConfig, nil},
		{"vault-token in the URI", "openbao", "vault-token=" + good, map[string]string{"BAO_TOKEN": good}, hsmcheck.ErrConfig, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := openSpec(t, f.uri(tt.scheme, tt.params), tt.env)
			if !errors.Is(err, tt.wantOpen) {
				t.Fatalf("Open = %v, want %v", err, tt.wantOpen)
			}
			if err != nil {
				if strings.Contains(err.Error(), good) {
					t.Errorf("Open's error carries the token: %v", err)
				}
				return
			}
			_, err = collect(inv)
			if !errors.Is(err, tt.wantKeys) {
				t.Errorf("Keys = %v, want %v", err, tt.wantKeys)
			}
		})
	}

	t.Run("credentials as URI userinfo", func(t *testing.T) {
		_, err := openSpec(t, "vault://"+good+"@"+f.hostPort()+"/transit", map[string]string{"VAULT_TOKEN": good})
		if !errors.Is(err, hsmcheck.ErrConfig) || strings.Contains(err.Error(), good) {
			t.Errorf("Open = %v, want ErrConfig without the token", err)
		}
	})
}

func TestContractTLS(t *testing.T) {
	f := newFake(t, "transit")
	f.add("payments", "aes256-gcm96", 1, base, nil)
	otherCA := writeOtherCA(t)

	// None of these may reach the client: the URI and the spec say everything. VAULT_CACERT
	// names the right CA, so the client reading it would make "no ca" connect.
	for _, prefix := range []string{"VAULT_", "BAO_"} {
		t.Setenv(prefix+"ADDR", "https://127.0.0.1:1")
		t.Setenv(prefix+"CACERT", f.caFile)
		t.Setenv(prefix+"SKIP_VERIFY", "true")
		t.Setenv(prefix+"NAMESPACE", "elsewhere")
		t.Setenv(prefix+"TOKEN", newToken(t))
	}
	env := map[string]string{"VAULT_TOKEN": f.tok()}
	noCA := "vault://" + f.hostPort() + "/transit"

	tests := []struct {
		name     string
		uri      string
		wantOpen error
		verify   bool // Keys must fail certificate verification
	}{
		{"ca= verifies the server", f.uri("vault", ""), nil, false},
		{"without ca= the test CA is unknown", noCA, nil, true},
		{"a CA that did not sign the server's certificate", noCA + "?ca=" + url.QueryEscape(otherCA), nil, true},
		{"ca file missing", noCA + "?ca=" + url.QueryEscape(filepath.Join(t.TempDir(), "nope.pem")), hsmcheck.ErrConfig, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := openSpec(t, tt.uri, env)
			if !errors.Is(err, tt.wantOpen) {
				t.Fatalf("Open = %v, want %v", err, tt.wantOpen)
			}
			if err != nil {
				return
			}
			ks, err := collect(inv)
			var cv *tls.CertificateVerificationError
			switch {
			case tt.verify && !errors.As(err, &cv):
				t.Errorf("Keys = %v, want a certificate verification error", err)
			case tt.verify && errors.Is(err, hsmcheck.ErrAuth):
				t.Errorf("Keys = %v: a TLS failure is not an auth failure", err)
			case !tt.verify && (err != nil || len(ks) != 1):
				t.Errorf("Keys = %d keys, %v; want 1, nil", len(ks), err)
			}
		})
	}
}

func TestContractNames(t *testing.T) {
	f := newFake(t, "transit")
	f.add("payments", "aes256-gcm96", 1, base, nil)
	nested := newFake(t, "secret/transit2")
	nested.add("payments", "aes256-gcm96", 1, base, nil)

	tests := []struct {
		name      string
		uri       string
		env       map[string]string
		wantName  string
		wantID    string
		wantScope string
	}{
		{"default mount", "vault://" + f.hostPort() + "?ca=" + url.QueryEscape(f.caFile),
			map[string]string{"VAULT_TOKEN": f.tok()}, "vault:" + f.hostPort() + "/transit", "transit/payments", "root/transit"},
		{"openbao with a nested mount", nested.uri("openbao", ""),
			map[string]string{"BAO_TOKEN": nested.tok()}, "openbao:" + nested.hostPort() + "/secret/transit2", "secret/transit2/payments", "root/secret/transit2"},
		{"name param", f.uri("vault", "name=prod-vault"),
			map[string]string{"VAULT_TOKEN": f.tok()}, "prod-vault", "transit/payments", "root/transit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := openSpec(t, tt.uri, tt.env)
			if err != nil {
				t.Fatal(err)
			}
			ks, err := collect(inv)
			if err != nil || len(ks) != 1 {
				t.Fatalf("Keys = %d keys, %v", len(ks), err)
			}
			got := []string{inv.Name(), ks[0].ID, ks[0].Scope}
			if diff := cmp.Diff([]string{tt.wantName, tt.wantID, tt.wantScope}, got); diff != "" {
				t.Errorf("name, ID, scope (-want +got):\n%s", diff)
			}
		})
	}
}

func TestContractConfigErrors(t *testing.T) {
	tok := newToken(t)
	specs := []struct {
		name string
		uri  string
	}{
		{"no host", "vault:///transit"},
		{"opaque", "vault:127.0.0.1:8200"},
		{"other scheme", "kmip://127.0.0.1:5696"},
	}
	for _, tt := range specs {
		t.Run(tt.name, func(t *testing.T) {
			_, err := openSpec(t, tt.uri, map[string]string{"VAULT_TOKEN": tok})
			if !errors.Is(err, hsmcheck.ErrConfig) {
				t.Errorf("Open(%q) = %v, want ErrConfig", tt.uri, err)
			}
		})
	}

	configs := []struct {
		name string
		c    vault.Config
		want error
	}{
		{"plain http", vault.Config{Address: "http://127.0.0.1:8200", Token: tok}, hsmcheck.ErrConfig},
		{"no port", vault.Config{Address: "vault.example", Token: tok}, hsmcheck.ErrConfig},
		{"path in the address", vault.Config{Address: "https://127.0.0.1:8200/v1", Token: tok}, hsmcheck.ErrConfig},
		{"mount climbing out", vault.Config{Address: "127.0.0.1:8200", Mount: "../sys", Token: tok}, hsmcheck.ErrConfig},
		{"no token", vault.Config{Address: "127.0.0.1:8200"}, hsmcheck.ErrAuth},
		{"https URL", vault.Config{Address: "https://127.0.0.1:8200", Token: tok}, nil},
	}
	for _, tt := range configs {
		t.Run(tt.name, func(t *testing.T) {
			_, err := vault.New(context.Background(), tt.c)
			if !errors.Is(err, tt.want) {
				t.Errorf("New = %v, want %v", err, tt.want)
			}
		})
	}
}
