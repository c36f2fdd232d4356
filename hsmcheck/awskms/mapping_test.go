package awskms

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/hsmcheck"
)

func TestStateMapping(t *testing.T) {
	want := map[types.KeyState]hsmcheck.State{
		types.KeyStateEnabled:                hsmcheck.Active,
		types.KeyStateDisabled:               hsmcheck.Disabled,
		types.KeyStatePendingDeletion:        hsmcheck.PendingDeletion,
		types.KeyStatePendingReplicaDeletion: hsmcheck.PendingDeletion,
		types.KeyStatePendingImport:          hsmcheck.PreActive,
		types.KeyStateCreating:               hsmcheck.PreActive,
		types.KeyStateUnavailable:            hsmcheck.Unknown,
		types.KeyStateUpdating:               hsmcheck.Unknown,
		"SomethingNew":                       hsmcheck.Unknown,
	}
	for _, s := range types.KeyState("").Values() {
		if _, ok := want[s]; !ok {
			t.Errorf("KMS key state %q is not mapped; add it to state() and this table", s)
		}
	}
	for s, w := range want {
		t.Run(string(s), func(t *testing.T) {
			if got := state(s); got != w {
				t.Errorf("state(%q) = %q, want %q", s, got, w)
			}
		})
	}
}

func TestKeySpecMapping(t *testing.T) {
	for _, tc := range []struct {
		name   string
		spec   types.KeySpec
		usage  types.KeyUsageType
		region string
		alg    string
		class  hsmcheck.Class
	}{
		{name: "aes", spec: "SYMMETRIC_DEFAULT", usage: "ENCRYPT_DECRYPT", alg: "AES-256", class: hsmcheck.Secret},
		{name: "sm4 in china", spec: "SYMMETRIC_DEFAULT", usage: "ENCRYPT_DECRYPT", region: "cn-north-1", alg: "SM4-128", class: hsmcheck.Secret},
		{name: "hmac-224", spec: "HMAC_224", usage: "GENERATE_VERIFY_MAC", alg: "HMAC-SHA224", class: hsmcheck.Secret},
		{name: "hmac-256", spec: "HMAC_256", usage: "GENERATE_VERIFY_MAC", alg: "HMAC-SHA256", class: hsmcheck.Secret},
		{name: "hmac-384", spec: "HMAC_384", usage: "GENERATE_VERIFY_MAC", alg: "HMAC-SHA384", class: hsmcheck.Secret},
		{name: "hmac-512", spec: "HMAC_512", usage: "GENERATE_VERIFY_MAC", alg: "HMAC-SHA512", class: hsmcheck.Secret},
		{name: "rsa-2048", spec: "RSA_2048", usage: "SIGN_VERIFY", alg: "RSA-2048", class: hsmcheck.Private},
		{name: "rsa-3072", spec: "RSA_3072", usage: "ENCRYPT_DECRYPT", alg: "RSA-3072", class: hsmcheck.Private},
		{name: "rsa-4096", spec: "RSA_4096", usage: "SIGN_VERIFY", alg: "RSA-4096", class: hsmcheck.Private},
		{name: "p256", spec: "ECC_NIST_P256", usage: "SIGN_VERIFY", alg: "EC-P256", class: hsmcheck.Private},
		{name: "p384", spec: "ECC_NIST_P384", usage: "KEY_AGREEMENT", alg: "EC-P384", class: hsmcheck.Private},
		{name: "p521", spec: "ECC_NIST_P521", usage: "SIGN_VERIFY", alg: "EC-P521", class: hsmcheck.Private},
		{name: "secp256k1", spec: "ECC_SECG_P256K1", usage: "SIGN_VERIFY", alg: "EC-secp256k1", class: hsmcheck.Private},
		{name: "ed25519", spec: "ECC_NIST_EDWARDS25519", usage: "SIGN_VERIFY", alg: "Ed25519", class: hsmcheck.Private},
		{name: "sm2", spec: "SM2", usage: "ENCRYPT_DECRYPT", alg: "SM2", class: hsmcheck.Private},
		{name: "ml-dsa", spec: "ML_DSA_65", usage: "SIGN_VERIFY", alg: "ML-DSA-65", class: hsmcheck.Private},
		{name: "ml-kem", spec: "ML_KEM_768", usage: "ENCAPSULATE_DECAPSULATE", alg: "ML-KEM-768", class: hsmcheck.Private},
		{name: "unknown signing spec", spec: "FALCON_512", usage: "SIGN_VERIFY", alg: "FALCON_512", class: hsmcheck.Private},
		{name: "unknown encryption spec", spec: "AES_XTS", usage: "ENCRYPT_DECRYPT", alg: "AES_XTS", class: hsmcheck.Secret},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.region
			if r == "" {
				r = "eu-west-1"
			}
			if got := algorithm(tc.spec, r); got != tc.alg {
				t.Errorf("algorithm(%q) = %q, want %q", tc.spec, got, tc.alg)
			}
			if got := class(tc.spec, tc.usage); got != tc.class {
				t.Errorf("class(%q) = %q, want %q", tc.spec, got, tc.class)
			}
		})
	}
	for _, s := range types.KeySpec("").Values() {
		if algorithm(s, "eu-west-1") == string(s) && s != types.KeySpecSm2 {
			t.Errorf("KMS key spec %q has no algorithm name; add it to algorithm()", s)
		}
	}
}

func TestUsageMapping(t *testing.T) {
	for _, tc := range []struct {
		usage types.KeyUsageType
		want  []string
	}{
		{"SIGN_VERIFY", []string{"sign", "verify"}},
		{"ENCRYPT_DECRYPT", []string{"encrypt", "decrypt"}},
		{"GENERATE_VERIFY_MAC", []string{"mac"}},
		{"KEY_AGREEMENT", []string{"derive"}},
		{"ENCAPSULATE_DECAPSULATE", []string{"derive"}},
		{"", nil},
	} {
		t.Run(string(tc.usage), func(t *testing.T) {
			if diff := cmp.Diff(tc.want, usage(tc.usage)); diff != "" {
				t.Errorf("usage(%q) (-want +got):\n%s", tc.usage, diff)
			}
		})
	}
	for _, u := range types.KeyUsageType("").Values() {
		if usage(u) == nil {
			t.Errorf("KMS key usage %q is not mapped", u)
		}
	}
}
