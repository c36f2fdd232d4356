package awskms

// Contract tests for the awskms backend. They are written from the AWS KMS API Reference,
// because no KMS emulator (LocalStack, local-kms, moto) installs from this machine's package
// registries: fake_test.go serves the documented JSON 1.1 protocol over TLS, verifies each
// request's SigV4 signature, and checks every request and response against the shapes recorded,
// with the reference pages they came from, in testdata/kms-api-shapes.json. The real AWS SDK
// client runs unchanged against it. The tests never reach AWS or read ~/.aws.

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/keywarden/keywarden/hsmcheck"
	"github.com/keywarden/keywarden/hsmcheck/inventorytest"
)

const region = "eu-central-1"

// isolate clears every variable the SDK's default chain reads, points the shared config and
// credentials files at an empty file and turns IMDS off, so nothing reaches AWS or ~/.aws.
func isolate(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY", "AWS_SECRET_KEY",
		"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION",
		"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_KMS", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_CA_BUNDLE",
		"AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME", "AWS_WEB_IDENTITY_TOKEN_FILE",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
		"AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
		"AWS_EC2_METADATA_SERVICE_ENDPOINT", "AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT",
		"AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE",
	} {
		t.Setenv(k, "") // restores the old value after the test
		os.Unsetenv(k)
	}
	t.Setenv("AWS_CONFIG_FILE", empty)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", empty)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("HOME", dir)
}

// fakeCreds makes credentials at run time, split so that keywarden's scan of its own tree does
// not take them for real ones, and puts them in the environment.
func fakeCreds(t *testing.T) aws.Credentials {
	t.Helper()
	c := aws.Credentials{
		AccessKeyID:     "AKIA" + "TEST" + strings.ToUpper(randHex(t, 6)),
		SecretAccessKey: "test" + "-only-" + randHex(t, 16),
		SessionToken:    "test" + "-session-" + randHex(t, 12),
	}
	t.Setenv("AWS_ACCESS_KEY_ID", c.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", c.SecretAccessKey)
	t.Setenv("AWS_SESSION_TOKEN", c.SessionToken)
	return c
}

func randHex(t *testing.T, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// writeCABundle writes the test server's certificate for AWS_CA_BUNDLE, so the SDK verifies
// TLS as it does against AWS.
func writeCABundle(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ca.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// material is the key material the fake holds, generated once per test binary.
type material struct {
	rsa    *rsa.PrivateKey
	p384   *ecdsa.PrivateKey
	p256   *ecdsa.PrivateKey
	ed     ed25519.PublicKey
	k1     []byte // SPKI DER of a secp256k1 key; Go has no secp256k1, so it is built by hand
	mac256 []byte
	mac384 []byte
}

var materialOnce = sync.OnceValues(func() (*material, error) {
	m := &material{mac256: make([]byte, 32), mac384: make([]byte, 48)}
	var err error
	if m.rsa, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		return nil, err
	}
	if m.p384, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader); err != nil {
		return nil, err
	}
	if m.p256, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		return nil, err
	}
	if m.ed, _, err = ed25519.GenerateKey(rand.Reader); err != nil {
		return nil, err
	}
	point := make([]byte, 65)
	point[0] = 4
	if _, err := rand.Read(point[1:]); err != nil {
		return nil, err
	}
	type algID struct {
		Algorithm, Curve asn1.ObjectIdentifier
	}
	m.k1, err = asn1.Marshal(struct {
		Algo algID
		Key  asn1.BitString
	}{algID{asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}, asn1.ObjectIdentifier{1, 3, 132, 0, 10}}, asn1.BitString{Bytes: point, BitLength: 8 * len(point)}})
	if err != nil {
		return nil, err
	}
	if _, err := rand.Read(m.mac256); err != nil {
		return nil, err
	}
	if _, err := rand.Read(m.mac384); err != nil {
		return nil, err
	}
	return m, nil
})

func mat(t *testing.T) *material {
	t.Helper()
	m, err := materialOnce()
	if err != nil {
		t.Fatalf("generating test keys: %v", err)
	}
	return m
}

func der(t *testing.T, pub any) []byte {
	t.Helper()
	b, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func spki(t *testing.T, pub any) [32]byte {
	t.Helper()
	h, err := hsmcheck.SPKIHash(pub)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// Key ids of the fixture, named for what each stands for.
const (
	idSymProd       = "1234abcd-0001-4000-8000-000000000001"
	idSymDisabled   = "1234abcd-0002-4000-8000-000000000002"
	idAWSManaged    = "1234abcd-0003-4000-8000-000000000003"
	idRSASign       = "1234abcd-0004-4000-8000-000000000004"
	idECAgree       = "1234abcd-0005-4000-8000-000000000005"
	idECPending     = "1234abcd-0006-4000-8000-000000000006"
	idK1            = "1234abcd-0007-4000-8000-000000000007"
	idHMAC256       = "1234abcd-0008-4000-8000-000000000008"
	idHMAC384       = "1234abcd-0009-4000-8000-000000000009"
	idHMACImport    = "1234abcd-0010-4000-8000-000000000010"
	idUnavailable   = "1234abcd-0011-4000-8000-000000000011"
	idDeniedPub     = "1234abcd-0012-4000-8000-000000000012"
	idDeniedDescrib = "1234abcd-0013-4000-8000-000000000013"
	idMRK           = "mrk-1234abcd00144000800000000000014"

	keyStore = "cks-test-store" // a custom key store id
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 9, 30, 0, 250e6, time.UTC) }

// populate loads the fixture into f: keys of every class, state and origin KMS has, two pages
// of keys and of aliases, a scope tag on the second page of tags. It returns the keys Keys must
// yield, in order.
func populate(t *testing.T, f *fakeKMS) []hsmcheck.Key {
	t.Helper()
	m := mat(t)
	f.pageSize = 7 // 14 keys and 8 aliases: two pages each
	created := day(2023, time.March, 1)
	meta := func(id, spec, usage, state string, kv ...any) map[string]any {
		md := map[string]any{"KeyId": id, "KeySpec": spec, "KeyUsage": usage, "KeyState": state, "CreationDate": epoch(created)}
		for i := 0; i < len(kv); i += 2 {
			md[kv[i].(string)] = kv[i+1]
		}
		return md
	}
	// described is the Meta of a key DescribeKey answered for.
	described := func(id, spec, manager, origin string, kv ...string) map[string]string {
		mm := map[string]string{"arn": f.arn(id), "account": f.account, "key_spec": spec, "key_manager": manager, "origin": origin}
		for i := 0; i < len(kv); i += 2 {
			mm[kv[i]] = kv[i+1]
		}
		return mm
	}
	sixTags := map[string]string{"A1": "x", "A2": "x", "A3": "x", "A4": "x", "A5": "x", "A6": "x", "A7": "x"}
	prodTags := map[string]string{"Environment": "prod", "Team": "payments"}
	for k, v := range sixTags {
		prodTags[k] = v
	}
	deletion := day(2026, time.January, 10)

	f.add(&fakeKey{meta: meta(idSymProd, "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", "Enabled", "EncryptionAlgorithms", []string{"SYMMETRIC_DEFAULT"}),
		tags:      prodTags,
		rotation:  &fakeRotation{enabled: true, days: 365, next: day(2025, time.September, 1)},
		rotations: []time.Time{day(2024, time.September, 1), day(2023, time.September, 1)}})
	f.add(&fakeKey{meta: meta(idSymDisabled, "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", "Disabled"),
		tags: map[string]string{"env": "staging"}, rotation: &fakeRotation{}})
	f.add(&fakeKey{meta: meta(idAWSManaged, "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", "Enabled", "KeyManager", "AWS", "Description", "Default key that protects my S3 objects when no other key is defined"),
		rotation:  &fakeRotation{enabled: true, days: 365, next: day(2025, time.June, 1)},
		rotations: []time.Time{day(2024, time.June, 1)}})
	f.add(&fakeKey{meta: meta(idRSASign, "RSA_2048", "SIGN_VERIFY", "Enabled", "SigningAlgorithms", []string{"RSASSA_PSS_SHA_256", "RSASSA_PKCS1_V1_5_SHA_256"}),
		tags: map[string]string{"Environment": "prod"}, public: der(t, &m.rsa.PublicKey)})
	f.add(&fakeKey{meta: meta(idECAgree, "ECC_NIST_P384", "KEY_AGREEMENT", "Enabled", "KeyAgreementAlgorithms", []string{"ECDH"}),
		tags: map[string]string{"env": "dev"}, public: der(t, &m.p384.PublicKey)})
	f.add(&fakeKey{meta: meta(idECPending, "ECC_NIST_P256", "SIGN_VERIFY", "PendingDeletion", "DeletionDate", epoch(deletion), "PendingDeletionWindowInDays", 7),
		public: der(t, &m.p256.PublicKey)})
	f.add(&fakeKey{meta: meta(idK1, "ECC_SECG_P256K1", "SIGN_VERIFY", "Enabled", "SigningAlgorithms", []string{"ECDSA_SHA_256"}),
		tags: map[string]string{"Env": "dev"}, public: m.k1})
	f.add(&fakeKey{meta: meta(idHMAC256, "HMAC_256", "GENERATE_VERIFY_MAC", "Enabled", "MacAlgorithms", []string{"HMAC_SHA_256"}),
		tags: map[string]string{"env": "dev"}, macKey: m.mac256})
	f.add(&fakeKey{meta: meta(idHMAC384, "HMAC_384", "GENERATE_VERIFY_MAC", "Enabled", "MacAlgorithms", []string{"HMAC_SHA_384"}),
		macKey: m.mac384})
	f.add(&fakeKey{meta: meta(idHMACImport, "HMAC_512", "GENERATE_VERIFY_MAC", "PendingImport", "Origin", "EXTERNAL", "MacAlgorithms", []string{"HMAC_SHA_512"})})
	f.add(&fakeKey{meta: meta(idUnavailable, "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", "Unavailable", "Origin", "AWS_CLOUDHSM",
		"CustomKeyStoreId", keyStore, "CloudHsmClusterId", "cluster-1a23b4cdefg")})
	f.add(&fakeKey{meta: meta(idDeniedPub, "RSA_3072", "ENCRYPT_DECRYPT", "Enabled", "EncryptionAlgorithms", []string{"RSAES_OAEP_SHA_256"}),
		tags: map[string]string{"Environment": "prod"}})
	f.add(&fakeKey{meta: meta(idDeniedDescrib, "ECC_NIST_EDWARDS25519", "SIGN_VERIFY", "Enabled", "SigningAlgorithms", []string{"ED25519_SHA_512"}),
		tags: map[string]string{"Environment": "prod"}, public: der(t, m.ed)})
	f.add(&fakeKey{meta: meta(idMRK, "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", "PendingReplicaDeletion", "MultiRegion", true, "DeletionDate", epoch(deletion))})
	f.deny["GetPublicKey "+idDeniedPub] = "AccessDeniedException"
	f.deny["DescribeKey "+idDeniedDescrib] = "AccessDeniedException"

	f.aliases = []fakeAlias{
		{"alias/aws/ebs", ""}, // predefined, not yet used: no target
		{"alias/aws/lambda", ""},
		{"alias/aws/s3", idAWSManaged},
		{"alias/billing", idSymProd},
		{"alias/edge", idDeniedDescrib},
		{"alias/legacy-signing", idRSASign},
		{"alias/payments", idSymProd},
		{"alias/webhook-signing", idHMAC256},
	}

	return []hsmcheck.Key{
		{ID: idSymProd, Label: "billing", Class: hsmcheck.Secret, State: hsmcheck.Active, Scope: "prod", Algorithm: "AES-256",
			Usage: []string{"encrypt", "decrypt"}, Created: created, LastRotated: day(2024, time.September, 1),
			RotationEnabled: hsmcheck.BoolPtr(true), RotationPeriod: 365 * 24 * time.Hour,
			Meta: described(idSymProd, "SYMMETRIC_DEFAULT", "CUSTOMER", "AWS_KMS", "aliases", "alias/billing,alias/payments",
				"next_rotation", "2025-09-01T09:30:00Z")},
		{ID: idSymDisabled, Class: hsmcheck.Secret, State: hsmcheck.Disabled, Scope: "staging", Algorithm: "AES-256",
			Usage: []string{"encrypt", "decrypt"}, Created: created, RotationEnabled: hsmcheck.BoolPtr(false),
			Meta: described(idSymDisabled, "SYMMETRIC_DEFAULT", "CUSTOMER", "AWS_KMS")},
		{ID: idAWSManaged, Label: "aws/s3", Class: hsmcheck.Secret, State: hsmcheck.Active, Scope: region, Algorithm: "AES-256",
			Usage: []string{"encrypt", "decrypt"}, Created: created, RotationEnabled: hsmcheck.BoolPtr(true), RotationPeriod: 365 * 24 * time.Hour,
			Meta: described(idAWSManaged, "SYMMETRIC_DEFAULT", "AWS", "AWS_KMS", "aliases", "alias/aws/s3", "next_rotation", "2025-06-01T09:30:00Z")},
		{ID: idRSASign, Label: "legacy-signing", Class: hsmcheck.Private, State: hsmcheck.Active, Scope: "prod", Algorithm: "RSA-2048",
			Usage: []string{"sign", "verify"}, Created: created, SPKIHash: spki(t, &m.rsa.PublicKey),
			RSAModulus: m.rsa.N.Bytes(), RSAExponent: m.rsa.E,
			Meta: described(idRSASign, "RSA_2048", "CUSTOMER", "AWS_KMS", "aliases", "alias/legacy-signing")},
		{ID: idECAgree, Class: hsmcheck.Private, State: hsmcheck.Active, Scope: "dev", Algorithm: "EC-P384",
			Usage: []string{"derive"}, Created: created, SPKIHash: spki(t, &m.p384.PublicKey),
			Meta: described(idECAgree, "ECC_NIST_P384", "CUSTOMER", "AWS_KMS")},
		{ID: idECPending, Class: hsmcheck.Private, State: hsmcheck.PendingDeletion, Scope: region, Algorithm: "EC-P256",
			Usage: []string{"sign", "verify"}, Created: created,
			Meta: described(idECPending, "ECC_NIST_P256", "CUSTOMER", "AWS_KMS", "deletion_date", "2026-01-10T09:30:00Z")},
		{ID: idK1, Class: hsmcheck.Private, State: hsmcheck.Active, Scope: "dev", Algorithm: "EC-secp256k1",
			Usage: []string{"sign", "verify"}, Created: created, SPKIHash: sha256.Sum256(m.k1),
			Meta: described(idK1, "ECC_SECG_P256K1", "CUSTOMER", "AWS_KMS")},
		{ID: idHMAC256, Label: "webhook-signing", Class: hsmcheck.Secret, State: hsmcheck.Active, Scope: "dev", Algorithm: "HMAC-SHA256",
			Usage: []string{"mac"}, Created: created,
			Meta: described(idHMAC256, "HMAC_256", "CUSTOMER", "AWS_KMS", "aliases", "alias/webhook-signing")},
		{ID: idHMAC384, Class: hsmcheck.Secret, State: hsmcheck.Active, Scope: region, Algorithm: "HMAC-SHA384",
			Usage: []string{"mac"}, Created: created, Meta: described(idHMAC384, "HMAC_384", "CUSTOMER", "AWS_KMS")},
		{ID: idHMACImport, Class: hsmcheck.Secret, State: hsmcheck.PreActive, Scope: region, Algorithm: "HMAC-SHA512",
			Usage: []string{"mac"}, Created: created, Meta: described(idHMACImport, "HMAC_512", "CUSTOMER", "EXTERNAL")},
		{ID: idUnavailable, Class: hsmcheck.Secret, State: hsmcheck.Unknown, Scope: region, Algorithm: "AES-256",
			Usage: []string{"encrypt", "decrypt"}, Created: created,
			Meta: described(idUnavailable, "SYMMETRIC_DEFAULT", "CUSTOMER", "AWS_CLOUDHSM", "custom_key_store", keyStore)},
		{ID: idDeniedPub, Class: hsmcheck.Private, State: hsmcheck.Active, Scope: "prod", Algorithm: "RSA-3072",
			Usage: []string{"encrypt", "decrypt"}, Created: created,
			Meta: described(idDeniedPub, "RSA_3072", "CUSTOMER", "AWS_KMS", "denied", "GetPublicKey")},
		// DescribeKey refused: what ListKeys, ListAliases, GetPublicKey and the tags say.
		{ID: idDeniedDescrib, Label: "edge", Class: hsmcheck.Private, State: hsmcheck.Unknown, Scope: "prod", Algorithm: "Ed25519",
			Usage: []string{"sign", "verify"}, SPKIHash: spki(t, m.ed),
			Meta: map[string]string{"arn": f.arn(idDeniedDescrib), "aliases": "alias/edge", "key_spec": string(types.KeySpecEccNistEdwards25519), "denied": "DescribeKey"}},
		{ID: idMRK, Class: hsmcheck.Secret, State: hsmcheck.PendingDeletion, Scope: region, Algorithm: "AES-256",
			Usage: []string{"encrypt", "decrypt"}, Created: created,
			Meta: described(idMRK, "SYMMETRIC_DEFAULT", "CUSTOMER", "AWS_KMS", "multi_region", "true", "deletion_date", "2026-01-10T09:30:00Z")},
	}
}

// setup starts a fake KMS holding the fixture, with credentials and its CA in the environment.
func setup(t *testing.T) (*fakeKMS, *httptest.Server, []hsmcheck.Key, aws.Credentials) {
	t.Helper()
	isolate(t)
	creds := fakeCreds(t)
	f := newFakeKMS(t, region, creds)
	want := populate(t, f)
	srv, ca := f.start(t)
	t.Setenv("AWS_CA_BUNDLE", ca)
	return f, srv, want, creds
}

func open(t *testing.T, uri string) hsmcheck.Inventory {
	t.Helper()
	s, err := hsmcheck.ParseSpec(uri)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := Open(context.Background(), s)
	if err != nil {
		t.Fatalf("Open(%q): %v", uri, err)
	}
	return inv
}

func uriFor(srv *httptest.Server, extra string) string {
	return "awskms://" + region + "?endpoint=" + url.QueryEscape(srv.URL) + extra
}

func list(t *testing.T, inv hsmcheck.Inventory) []hsmcheck.Key {
	t.Helper()
	var ks []hsmcheck.Key
	if err := inv.Keys(context.Background(), func(k hsmcheck.Key) error { ks = append(ks, k); return nil }); err != nil {
		t.Fatalf("Keys: %v", err)
	}
	return ks
}

func TestContractSuite(t *testing.T) {
	_, srv, _, _ := setup(t)
	inventorytest.Run(t, open(t, uriFor(srv, "")))
}

func TestContractKeys(t *testing.T) {
	f, srv, want, _ := setup(t)
	got := list(t, open(t, uriFor(srv, "")))
	if len(got) != len(want) {
		t.Fatalf("Keys yielded %d keys, want %d", len(got), len(want))
	}
	for i, w := range want {
		t.Run(w.ID, func(t *testing.T) {
			if diff := cmp.Diff(w, got[i], cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("key mismatch (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("calls", func(t *testing.T) {
		tagged := map[string]bool{}
		for _, c := range f.callsOf("ListResourceTags") {
			tagged[c.body["KeyId"].(string)] = true
		}
		if tagged[idAWSManaged] {
			t.Error("ListResourceTags was called for an AWS-managed key, which cannot carry tags")
		}
		if !tagged[idDeniedDescrib] {
			t.Error("ListResourceTags was not called for the key DescribeKey refused")
		}
		rotations := map[string]bool{}
		for _, c := range f.callsOf("ListKeyRotations") {
			rotations[c.body["KeyId"].(string)] = true
		}
		if diff := cmp.Diff(map[string]bool{idSymProd: true, idSymDisabled: true, idUnavailable: true, idMRK: true}, rotations); diff != "" {
			t.Errorf("ListKeyRotations called for (-want +got):\n%s", diff)
		}
		for _, c := range f.callsOf("GetPublicKey") {
			switch id := c.body["KeyId"].(string); id {
			case idSymProd, idSymDisabled, idAWSManaged, idHMAC256, idHMAC384, idHMACImport, idUnavailable, idMRK:
				t.Errorf("GetPublicKey called for symmetric key %s", id)
			}
		}
	})
}

func TestContractPaging(t *testing.T) {
	f, srv, want, _ := setup(t)
	got := list(t, open(t, uriFor(srv, "")))
	if len(got) != len(want) {
		t.Errorf("Keys yielded %d keys over two pages, want %d", len(got), len(want))
	}
	for _, tc := range []struct {
		name  string
		op    string
		limit string
	}{
		{name: "keys", op: "ListKeys", limit: "1000"},
		{name: "aliases", op: "ListAliases", limit: "100"},
		{name: "tags", op: "ListResourceTags", limit: "50"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := f.callsOf(tc.op)
			if tc.op == "ListResourceTags" {
				calls = slices.DeleteFunc(calls, func(c call) bool { return c.body["KeyId"] != idSymProd })
			}
			if len(calls) != 2 {
				t.Fatalf("%s called %d times, want 2 pages", tc.op, len(calls))
			}
			if _, ok := calls[0].body["Marker"]; ok {
				t.Errorf("first %s request carries a Marker", tc.op)
			}
			if m := calls[1].body["Marker"]; m != "page-7" {
				t.Errorf("second %s request has Marker %v, want the first page's NextMarker page-7", tc.op, m)
			}
			for _, c := range calls {
				if l := c.body["Limit"]; l == nil || l.(interface{ String() string }).String() != tc.limit {
					t.Errorf("%s Limit %v, want %s", tc.op, l, tc.limit)
				}
			}
		})
	}
}

func TestContractSPKIMatchesLocalKey(t *testing.T) {
	_, srv, _, _ := setup(t)
	m := mat(t)
	got := list(t, open(t, uriFor(srv, "")))
	for _, tc := range []struct {
		name string
		id   string
		pub  any
	}{
		{name: "rsa-2048", id: idRSASign, pub: &m.rsa.PublicKey},
		{name: "ec-p384", id: idECAgree, pub: &m.p384.PublicKey},
		{name: "ed25519 with DescribeKey refused", id: idDeniedDescrib, pub: m.ed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := inventorytest.Find(t, got, tc.id, func(k hsmcheck.Key) bool { return k.ID == tc.id })
			if want := spki(t, tc.pub); k.SPKIHash != want {
				t.Errorf("SPKIHash %x, want the local key's %x", k.SPKIHash, want)
			}
		})
	}
}

func TestContractChallenge(t *testing.T) {
	f, srv, _, _ := setup(t)
	m := mat(t)
	inv := open(t, uriFor(srv, ""))
	keys := list(t, inv)
	find := func(id string) hsmcheck.Key {
		return inventorytest.Find(t, keys, id, func(k hsmcheck.Key) bool { return k.ID == id })
	}

	for _, tc := range []struct {
		name     string
		id       string
		material []byte
		alg      string
	}{
		{name: "hmac-256", id: idHMAC256, material: m.mac256, alg: "HMAC_SHA_256"},
		{name: "hmac-384", id: idHMAC384, material: m.mac384, alg: "HMAC_SHA_384"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(f.callsOf("GenerateMac"))
			inventorytest.Confirms(t, inv, find(tc.id), tc.material)
			calls := f.callsOf("GenerateMac")[before:]
			if len(calls) == 0 {
				t.Fatal("no GenerateMac request reached the server")
			}
			for _, c := range calls {
				// The request carries the key id, a random message and the algorithm: never a
				// candidate, nor anything derived from one.
				var members []string
				for name := range c.body {
					members = append(members, name)
				}
				sort.Strings(members)
				if diff := cmp.Diff([]string{"KeyId", "MacAlgorithm", "Message"}, members); diff != "" {
					t.Errorf("GenerateMac request members (-want +got):\n%s", diff)
				}
				if c.body["KeyId"] != tc.id || c.body["MacAlgorithm"] != tc.alg {
					t.Errorf("GenerateMac KeyId %v MacAlgorithm %v, want %s %s", c.body["KeyId"], c.body["MacAlgorithm"], tc.id, tc.alg)
				}
				msg, _ := base64.StdEncoding.DecodeString(c.body["Message"].(string))
				if len(msg) != challengeLen {
					t.Errorf("GenerateMac message of %d bytes, want %d random bytes", len(msg), challengeLen)
				}
			}
		})
	}

	for _, tc := range []struct {
		name string
		id   string
	}{
		{name: "symmetric encryption key", id: idSymProd},
		{name: "asymmetric key", id: idRSASign},
		{name: "hmac key pending import", id: idHMACImport},
		{name: "key DescribeKey refused", id: idDeniedDescrib},
	} {
		t.Run("unsupported/"+tc.name, func(t *testing.T) {
			before := len(f.callsOf("GenerateMac"))
			_, err := inv.(hsmcheck.Challenger).Challenge(context.Background(), find(tc.id))
			if !errors.Is(err, hsmcheck.ErrUnsupported) {
				t.Errorf("Challenge = %v, want ErrUnsupported", err)
			}
			if n := len(f.callsOf("GenerateMac")) - before; n != 0 {
				t.Errorf("%d GenerateMac requests sent for a key that cannot be challenged", n)
			}
		})
	}

	t.Run("denied", func(t *testing.T) {
		f.mu.Lock()
		f.deny["GenerateMac"] = "AccessDeniedException"
		f.mu.Unlock()
		_, err := inv.(hsmcheck.Challenger).Challenge(context.Background(), find(idHMAC256))
		if !errors.Is(err, hsmcheck.ErrAuth) {
			t.Errorf("Challenge = %v, want ErrAuth", err)
		}
	})
}

func TestContractAuthErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		op   string
		code string
	}{
		{name: "access denied on ListKeys", op: "ListKeys", code: "AccessDeniedException"},
		{name: "unknown access key", op: "ListKeys", code: "UnrecognizedClientException"},
		{name: "expired session", op: "ListKeys", code: "ExpiredTokenException"},
		{name: "bad signature", op: "ListKeys", code: "InvalidSignatureException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, srv, _, creds := setup(t)
			f.deny[tc.op] = tc.code
			inv := open(t, uriFor(srv, ""))
			calls := 0
			err := inv.Keys(context.Background(), func(hsmcheck.Key) error { calls++; return nil })
			if !errors.Is(err, hsmcheck.ErrAuth) {
				t.Fatalf("Keys = %v, want ErrAuth", err)
			}
			if !strings.Contains(err.Error(), tc.code) {
				t.Errorf("error %q does not name the cause %s", err, tc.code)
			}
			for _, secret := range []string{creds.SecretAccessKey, creds.SessionToken} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q carries a credential", err)
				}
			}
			if calls != 0 {
				t.Errorf("yield called %d times", calls)
			}
		})
	}
}

func TestContractNoCredentials(t *testing.T) {
	isolate(t)
	f := newFakeKMS(t, region, aws.Credentials{})
	populate(t, f)
	srv, ca := f.start(t)
	t.Setenv("AWS_CA_BUNDLE", ca)
	err := open(t, uriFor(srv, "")).Keys(context.Background(), func(hsmcheck.Key) error { return nil })
	if !errors.Is(err, hsmcheck.ErrAuth) {
		t.Errorf("Keys without credentials = %v, want ErrAuth", err)
	}
	if ops := f.calledOps(); len(ops) != 0 {
		t.Errorf("requests sent without credentials: %v", ops)
	}
}

func TestContractDeniedListAliases(t *testing.T) {
	f, srv, want, _ := setup(t)
	f.deny["ListAliases"] = "AccessDeniedException"
	got := list(t, open(t, uriFor(srv, "")))
	if len(got) != len(want) {
		t.Fatalf("Keys yielded %d keys, want all %d without labels", len(got), len(want))
	}
	for _, k := range got {
		if k.Label != "" || k.Meta["aliases"] != "" {
			t.Errorf("key %s has label %q aliases %q with ListAliases refused", k.ID, k.Label, k.Meta["aliases"])
		}
		if !slices.Contains(strings.Split(k.Meta["denied"], ","), "ListAliases") {
			t.Errorf("key %s Meta[denied] = %q, want ListAliases named", k.ID, k.Meta["denied"])
		}
	}
}

func TestContractPerKeyFailures(t *testing.T) {
	for _, tc := range []struct {
		name     string
		deny     string
		code     string
		wantErr  bool
		wantKeys int // when no error
	}{
		{name: "key deleted since ListKeys is skipped", deny: "DescribeKey " + idHMAC384, code: "NotFoundException", wantKeys: 13},
		{name: "refused tags fall back to the region", deny: "ListResourceTags " + idRSASign, code: "AccessDeniedException", wantKeys: 14},
		{name: "refused rotation status is left unknown", deny: "GetKeyRotationStatus " + idSymProd, code: "AccessDeniedException", wantKeys: 14},
		{name: "other errors end the listing", deny: "DescribeKey " + idK1, code: "InvalidArnException", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, srv, _, _ := setup(t)
			f.deny[tc.deny] = tc.code
			var got []hsmcheck.Key
			err := open(t, uriFor(srv, "")).Keys(context.Background(), func(k hsmcheck.Key) error { got = append(got, k); return nil })
			if tc.wantErr {
				if err == nil || errors.Is(err, hsmcheck.ErrAuth) || !strings.Contains(err.Error(), idK1) {
					t.Errorf("Keys = %v, want an error naming key %s that is not ErrAuth", err, idK1)
				}
				return
			}
			if err != nil {
				t.Fatalf("Keys: %v", err)
			}
			if len(got) != tc.wantKeys {
				t.Errorf("Keys yielded %d keys, want %d", len(got), tc.wantKeys)
			}
			switch tc.deny {
			case "ListResourceTags " + idRSASign:
				k := inventorytest.Find(t, got, "rsa", func(k hsmcheck.Key) bool { return k.ID == idRSASign })
				if k.Scope != region || k.Meta["denied"] != "ListResourceTags" {
					t.Errorf("scope %q denied %q, want %q and ListResourceTags", k.Scope, k.Meta["denied"], region)
				}
			case "GetKeyRotationStatus " + idSymProd:
				k := inventorytest.Find(t, got, "sym", func(k hsmcheck.Key) bool { return k.ID == idSymProd })
				if k.RotationEnabled != nil || k.Meta["denied"] != "GetKeyRotationStatus" {
					t.Errorf("RotationEnabled %v denied %q, want nil and GetKeyRotationStatus", k.RotationEnabled, k.Meta["denied"])
				}
				if k.LastRotated.IsZero() {
					t.Error("LastRotated lost although ListKeyRotations was allowed")
				}
			}
		})
	}
}

func TestContractScope(t *testing.T) {
	for _, tc := range []struct {
		name  string
		extra string
		want  map[string]string // key id → scope; others as noted
		tags  bool              // whether ListResourceTags may be called for the scope
	}{
		{name: "scope param overrides tags", extra: "&scope=ops", want: map[string]string{idSymProd: "ops", idAWSManaged: "ops", idHMAC384: "ops"}},
		{name: "scope-tag names the tag", extra: "&scope-tag=Team", tags: true, want: map[string]string{idSymProd: "payments", idRSASign: region, idAWSManaged: region}},
		{name: "default tags", tags: true, want: map[string]string{idSymProd: "prod", idSymDisabled: "staging", idK1: "dev", idHMAC256: "dev", idHMAC384: region}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, srv, _, _ := setup(t)
			got := list(t, open(t, uriFor(srv, tc.extra)))
			for id, want := range tc.want {
				k := inventorytest.Find(t, got, id, func(k hsmcheck.Key) bool { return k.ID == id })
				if k.Scope != want {
					t.Errorf("key %s scope %q, want %q", id, k.Scope, want)
				}
			}
			// Tags are read once per key, and with a scope set only for the one asymmetric key
			// out of use, whose fingerprint may be in a tag (SPKITag).
			perKey := map[string]int{}
			for _, c := range f.callsOf("ListResourceTags") {
				perKey[c.body["KeyId"].(string)]++
			}
			for id, n := range perKey {
				switch {
				case id == idSymProd && n != 2, id != idSymProd && n != 1: // idSymProd's tags take two pages
					t.Errorf("ListResourceTags called %d times for key %s", n, id)
				case !tc.tags && id != idECPending:
					t.Errorf("ListResourceTags called for key %s although the scope is set", id)
				}
			}
			if perKey[idECPending] == 0 {
				t.Errorf("ListResourceTags not called for key %s, which is pending deletion and gives no public key", idECPending)
			}
		})
	}
}

func TestContractEndpointOverride(t *testing.T) {
	f, srv, want, _ := setup(t)
	inv := open(t, uriFor(srv, ""))
	host := strings.TrimPrefix(srv.URL, "https://")
	if got := inv.Name(); got != "aws-kms:"+region+"@"+host {
		t.Errorf("Name() = %q, want aws-kms:%s@%s", got, region, host)
	}
	if got := list(t, inv); len(got) != len(want) {
		t.Errorf("Keys yielded %d keys, want %d", len(got), len(want))
	}
	if len(f.callsOf("ListKeys")) == 0 {
		t.Error("no ListKeys request reached the endpoint")
	}

	t.Run("region from the environment", func(t *testing.T) {
		t.Setenv("AWS_REGION", region)
		inv := open(t, "awskms://?endpoint="+url.QueryEscape(srv.URL)+"&name=kms-test")
		if inv.Name() != "kms-test" {
			t.Errorf("Name() = %q, want the name param", inv.Name())
		}
		if got := list(t, inv); len(got) != len(want) {
			t.Errorf("Keys yielded %d keys, want %d", len(got), len(want))
		}
	})

	t.Run("endpoint from AWS_ENDPOINT_URL_KMS", func(t *testing.T) {
		t.Setenv("AWS_ENDPOINT_URL_KMS", srv.URL)
		inv := open(t, "awskms://"+region)
		if got := inv.Name(); got != "aws-kms:"+region+"@"+host {
			t.Errorf("Name() = %q, want the endpoint the SDK will use named", got)
		}
		before := len(f.callsOf("ListKeys"))
		if got := list(t, inv); len(got) != len(want) {
			t.Errorf("Keys yielded %d keys, want %d", len(got), len(want))
		}
		if len(f.callsOf("ListKeys")) == before {
			t.Error("no ListKeys request reached the endpoint")
		}
	})

	t.Run("TLS is verified", func(t *testing.T) {
		t.Setenv("AWS_CA_BUNDLE", "")
		os.Unsetenv("AWS_CA_BUNDLE")
		t.Setenv("AWS_MAX_ATTEMPTS", "1") // the SDK retries handshake failures with backoff
		before := len(f.calledOps())
		err := open(t, uriFor(srv, "")).Keys(context.Background(), func(hsmcheck.Key) error { return nil })
		if err == nil || errors.Is(err, hsmcheck.ErrAuth) {
			t.Errorf("Keys against an untrusted certificate = %v, want a TLS error", err)
		}
		if n := len(f.calledOps()) - before; n != 0 {
			t.Errorf("%d requests served over an unverified connection", n)
		}
	})
}

func TestContractOpen(t *testing.T) {
	secret := "test" + "-only-" + "not-a-secret"
	for _, tc := range []struct {
		name     string
		uri      string
		wantName string // "" = want ErrConfig
	}{
		{name: "region", uri: "awskms://eu-west-1", wantName: "aws-kms:eu-west-1"},
		{name: "opaque region", uri: "awskms:us-east-2", wantName: "aws-kms:us-east-2"},
		{name: "region param", uri: "awskms://?region=ap-south-1", wantName: "aws-kms:ap-south-1"},
		{name: "endpoint in name", uri: "awskms://us-east-1?endpoint=http://localhost:4566", wantName: "aws-kms:us-east-1@localhost:4566"},
		{name: "name param", uri: "awskms://us-east-1?name=prod-kms&scope=prod&scope-tag=Stage", wantName: "prod-kms"},
		{name: "secret key in URI", uri: "awskms://us-east-1?secret-key=" + secret},
		{name: "secret access key in URI", uri: "awskms://us-east-1?secret-access-key=" + secret},
		{name: "access key in URI", uri: "awskms://us-east-1?access-key=" + secret},
		{name: "session token in URI", uri: "awskms://us-east-1?session-token=" + secret},
		{name: "token in URI", uri: "awskms://us-east-1?token=" + secret},
		{name: "token with an unknown param", uri: "awskms://us-east-1?tokn=" + secret},
		{name: "credentials as user info", uri: "awskms://AKIDEXAMPLE:" + secret + "@us-east-1"},
		{name: "unknown param", uri: "awskms://us-east-1?scopetag=Env"},
		{name: "bad region", uri: "awskms://eu_west_1"},
		{name: "region with port", uri: "awskms://eu-west-1:443"},
		{name: "path", uri: "awskms://eu-west-1/keys"},
		{name: "conflicting regions", uri: "awskms://eu-west-1?region=us-east-1"},
		{name: "endpoint not a URL", uri: "awskms://eu-west-1?endpoint=localhost:4566"},
		{name: "endpoint with credentials", uri: "awskms://eu-west-1?endpoint=" + url.QueryEscape("https://u:"+secret+"@kms.example")},
		{name: "no region anywhere", uri: "awskms://"},
		{name: "missing profile", uri: "awskms://eu-west-1?profile=nonexistent"},
		{name: "other scheme", uri: "vault://127.0.0.1:8200/transit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			isolate(t)
			s, err := hsmcheck.ParseSpec(tc.uri)
			if err != nil {
				t.Fatal(err)
			}
			inv, err := Open(context.Background(), s)
			if tc.wantName == "" {
				if !errors.Is(err, hsmcheck.ErrConfig) {
					t.Fatalf("Open(%q) = %v, want ErrConfig", tc.uri, err)
				}
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q carries the credential", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open(%q): %v", tc.uri, err)
			}
			if got := inv.Name(); got != tc.wantName {
				t.Errorf("Name() = %q, want %q", got, tc.wantName)
			}
		})
	}
}
