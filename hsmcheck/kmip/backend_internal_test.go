package kmip

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/keywarden/keywarden/hsmcheck"
)

func attrs(as ...Attribute) Attributes { return as }

func named(n string) Attribute { return NameAttribute(n) }

func alg(a CryptographicAlgorithm) Attribute { return AlgorithmAttribute(a) }

func TestPairKeys(t *testing.T) {
	tests := []struct {
		name     string
		objs     []object
		publicOf map[string]string
	}{
		{
			name: "private key links its public key",
			objs: []object{
				{id: "priv", typ: ObjectPrivateKey, attrs: attrs(LinkAttribute(LinkPublicKey, "pub"), named("a"))},
				{id: "pub", typ: ObjectPublicKey, attrs: attrs(named("b"))},
			},
			publicOf: map[string]string{"priv": "pub"},
		},
		{
			name: "public key links its private key",
			objs: []object{
				{id: "priv", typ: ObjectPrivateKey},
				{id: "pub", typ: ObjectPublicKey, attrs: attrs(LinkAttribute(LinkPrivateKey, "priv"))},
			},
			publicOf: map[string]string{"priv": "pub"},
		},
		{
			name: "links win over names",
			objs: []object{
				{id: "priv", typ: ObjectPrivateKey, attrs: attrs(named("k"), LinkAttribute(LinkPublicKey, "pub2"))},
				{id: "pub1", typ: ObjectPublicKey, attrs: attrs(named("k"))},
				{id: "pub2", typ: ObjectPublicKey, attrs: attrs(named("other"))},
			},
			publicOf: map[string]string{"priv": "pub2"},
		},
		{
			name: "a shared name pairs unlinked keys",
			objs: []object{
				{id: "1", typ: ObjectPrivateKey, attrs: attrs(named("k"), alg(AlgRSA))},
				{id: "2", typ: ObjectPublicKey, attrs: attrs(named("k"), alg(AlgRSA))},
				{id: "3", typ: ObjectPublicKey, attrs: attrs(named("lone"))},
			},
			publicOf: map[string]string{"1": "2"},
		},
		{
			name: "EC and ECDSA are one family",
			objs: []object{
				{id: "1", typ: ObjectPrivateKey, attrs: attrs(named("k"), alg(AlgECDSA))},
				{id: "2", typ: ObjectPublicKey, attrs: attrs(named("k"), alg(AlgEC))},
			},
			publicOf: map[string]string{"1": "2"},
		},
		{
			name: "a shared name across algorithms does not pair",
			objs: []object{
				{id: "1", typ: ObjectPrivateKey, attrs: attrs(named("k"), alg(AlgRSA))},
				{id: "2", typ: ObjectPublicKey, attrs: attrs(named("k"), alg(AlgEC))},
			},
			publicOf: map[string]string{},
		},
		{
			name: "an ambiguous name does not pair",
			objs: []object{
				{id: "1", typ: ObjectPrivateKey, attrs: attrs(named("k"))},
				{id: "2", typ: ObjectPublicKey, attrs: attrs(named("k"))},
				{id: "3", typ: ObjectPublicKey, attrs: attrs(named("k"))},
				{id: "4", typ: ObjectPrivateKey, attrs: attrs(named("j"))},
				{id: "5", typ: ObjectPrivateKey, attrs: attrs(named("j"))},
				{id: "6", typ: ObjectPublicKey, attrs: attrs(named("j"))},
			},
			publicOf: map[string]string{},
		},
		{
			name: "a public key that links elsewhere is not taken by name",
			objs: []object{
				{id: "1", typ: ObjectPrivateKey, attrs: attrs(named("k"))},
				{id: "2", typ: ObjectPublicKey, attrs: attrs(named("k"), LinkAttribute(LinkPrivateKey, "gone"))},
			},
			publicOf: map[string]string{},
		},
		{
			name: "symmetric keys never pair",
			objs: []object{
				{id: "1", typ: ObjectSymmetricKey, attrs: attrs(named("k"))},
				{id: "2", typ: ObjectPublicKey, attrs: attrs(named("k"))},
			},
			publicOf: map[string]string{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			publicOf, paired := pairKeys(tc.objs)
			if diff := cmp.Diff(tc.publicOf, publicOf); diff != "" {
				t.Errorf("pairs (-want +got):\n%s", diff)
			}
			wantPaired := map[string]bool{}
			for _, pub := range tc.publicOf {
				wantPaired[pub] = true
			}
			if diff := cmp.Diff(wantPaired, paired); diff != "" {
				t.Errorf("paired public keys (-want +got):\n%s", diff)
			}
		})
	}
}

func TestKeyFromAttributes(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	inv := &Inventory{scope: "kms:5696", now: func() time.Time { return now }}
	tests := []struct {
		name string
		obj  object
		want hsmcheck.Key
	}{
		{
			name: "active AES key",
			obj: object{id: "7", typ: ObjectSymmetricKey, attrs: attrs(
				named("payments"), named("alias"), alg(AlgAES), LengthAttribute(256),
				UsageAttribute(UsageEncrypt|UsageDecrypt|UsageWrapKey), NewAttribute(AttrState, Enum(0, StateActive)),
				NewAttribute(AttrInitialDate, DateTime(0, now.Add(-3*day))),
				NewAttribute(AttrActivationDate, DateTime(0, now.Add(-2*day))),
				NewAttribute(AttrDeactivationDate, DateTime(0, now.Add(day))),
			)},
			want: hsmcheck.Key{
				ID: "7", Label: "payments", Class: hsmcheck.Secret, State: hsmcheck.Active, Scope: "kms:5696",
				Algorithm: "AES-256", Usage: []string{"encrypt", "decrypt", "wrap"},
				Created: now.Add(-3 * day), Activated: now.Add(-2 * day), Expires: now.Add(day),
				Meta: map[string]string{"kmip-object-type": "Symmetric Key", "kmip-state": "Active"},
			},
		},
		{
			name: "active past its deactivation date is deactivated",
			obj: object{id: "8", typ: ObjectSymmetricKey, attrs: attrs(
				NewAttribute(AttrState, Enum(0, StateActive)), NewAttribute(AttrDeactivationDate, DateTime(0, now.Add(-day))),
			)},
			want: hsmcheck.Key{
				ID: "8", Class: hsmcheck.Secret, State: hsmcheck.Deactivated, Scope: "kms:5696", Expires: now.Add(-day),
				Meta: map[string]string{"kmip-object-type": "Symmetric Key", "kmip-state": "Active"},
			},
		},
		{
			name: "private key, no state",
			obj: object{id: "9", typ: ObjectPrivateKey, attrs: attrs(alg(AlgRSA), LengthAttribute(3072),
				UsageAttribute(UsageSign|UsageKeyAgreement|UsageMACVerify))},
			want: hsmcheck.Key{
				ID: "9", Class: hsmcheck.Private, State: hsmcheck.Unknown, Scope: "kms:5696", Algorithm: "RSA-3072",
				Usage: []string{"sign", "derive", "mac"}, Meta: map[string]string{"kmip-object-type": "Private Key"},
			},
		},
		{
			name: "public HMAC-less key with an unknown state value",
			obj: object{id: "10", typ: ObjectPublicKey, attrs: attrs(alg(AlgECDSA), LengthAttribute(256),
				NewAttribute(AttrState, Enum(0, State(99))))},
			want: hsmcheck.Key{
				ID: "10", Class: hsmcheck.Public, State: hsmcheck.Unknown, Scope: "kms:5696", Algorithm: "EC-256",
				Meta: map[string]string{"kmip-object-type": "Public Key", "kmip-state": "state 0x00000063"},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, inv.key(tc.obj), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("key (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStates(t *testing.T) {
	tests := []struct {
		kmip State
		want hsmcheck.State
	}{
		{StatePreActive, hsmcheck.PreActive},
		{StateActive, hsmcheck.Active},
		{StateDeactivated, hsmcheck.Deactivated},
		{StateCompromised, hsmcheck.Compromised},
		{StateDestroyed, hsmcheck.Destroyed},
		{StateDestroyedCompromised, hsmcheck.Destroyed},
	}
	inv := &Inventory{now: time.Now}
	for _, tc := range tests {
		t.Run(tc.kmip.String(), func(t *testing.T) {
			k := inv.key(object{id: "1", typ: ObjectSymmetricKey, attrs: attrs(NewAttribute(AttrState, Enum(0, tc.kmip)))})
			if k.State != tc.want {
				t.Errorf("state %s, want %s", k.State, tc.want)
			}
		})
	}
}

func TestAlgorithmName(t *testing.T) {
	tests := []struct {
		alg    CryptographicAlgorithm
		length int32
		want   string
	}{
		{AlgAES, 128, "AES-128"},
		{Alg3DES, 168, "3DES-168"},
		{AlgRSA, 4096, "RSA-4096"},
		{AlgECDH, 384, "EC-384"},
		{AlgHMACSHA256, 256, "HMAC-SHA256"},
		{AlgEd25519, 256, "Ed25519"},
		{AlgAES, 0, "AES"},
		{CryptographicAlgorithm(0x4242), 64, "KMIP-ALG-0x4242-64"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			if got := algorithmName(tc.alg, tc.length); got != tc.want {
				t.Errorf("algorithmName(%s, %d) = %q, want %q", tc.alg, tc.length, got, tc.want)
			}
		})
	}
}

func TestObjectPublicKey(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	spki := func(pub any) []byte {
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	point, err := ecKey.PublicKey.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		obj     Object
		want    any
		wantErr string
	}{
		{"X.509 RSA", Object{Format: FormatX509, Material: spki(&rsaKey.PublicKey)}, &rsaKey.PublicKey, ""},
		{"X.509 EC", Object{Format: FormatX509, Material: spki(&ecKey.PublicKey)}, &ecKey.PublicKey, ""},
		{"PKCS#1", Object{Format: FormatPKCS1, Material: x509.MarshalPKCS1PublicKey(&rsaKey.PublicKey)}, &rsaKey.PublicKey, ""},
		{"Raw holding PKCS#1", Object{Format: FormatRaw, Material: x509.MarshalPKCS1PublicKey(&rsaKey.PublicKey)}, &rsaKey.PublicKey, ""},
		{"Raw holding SPKI", Object{Format: FormatRaw, Material: spki(&ecKey.PublicKey)}, &ecKey.PublicKey, ""},
		{"transparent RSA", Object{Format: FormatTransparentRSAPublicKey, Transparent: Struct(TagKeyMaterial,
			Big(TagModulus, rsaKey.N), Big(TagPublicExponent, big.NewInt(int64(rsaKey.E))))}, &rsaKey.PublicKey, ""},
		{"transparent EC", Object{Format: FormatTransparentECPublicKey, Transparent: Struct(TagKeyMaterial,
			Enum(TagRecommendedCurve, uint32(0x0A)), Bytes(TagQString, point))}, &ecKey.PublicKey, ""},
		{"transparent RSA without exponent", Object{ID: "x", Format: FormatTransparentRSAPublicKey, Transparent: Struct(TagKeyMaterial,
			Big(TagModulus, rsaKey.N))}, nil, `parsing public key "x": transparent RSA key lacks`},
		{"transparent EC on an unknown curve", Object{ID: "x", Format: FormatTransparentECPublicKey, Transparent: Struct(TagKeyMaterial,
			Enum(TagRecommendedCurve, uint32(0x19)), Bytes(TagQString, point))}, nil, "recommended curve 0x19 is not supported"},
		{"PKCS#1 that is not", Object{ID: "x", Format: FormatPKCS1, Material: []byte{1, 2, 3}}, nil, `parsing public key "x"`},
		{"wrapped", Object{ID: "x", Format: FormatX509, Material: spki(&rsaKey.PublicKey), Wrapped: true}, nil, "it is wrapped"},
		{"PKCS#8 is no public key format", Object{ID: "x", Format: FormatPKCS8}, nil, "key format PKCS#8 is not supported"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.obj.PublicKey()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				if got != nil {
					t.Errorf("returned key %v with the error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if eq, ok := got.(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(tc.want) {
				t.Errorf("got %T %v, want the generated key", got, got)
			}
		})
	}
}

func TestParseResponse(t *testing.T) {
	reqs := []Request{{Operation: OpGetAttributes}, {Operation: OpGetAttributes}, {Operation: OpGetAttributes}}
	item := func(id int, op Operation, status ResultStatus, extra ...Item) Item {
		f := []Item{Enum(TagOperation, op)}
		if id > 0 {
			f = append(f, Bytes(TagUniqueBatchItemID, batchID(id-1)))
		}
		f = append(f, Enum(TagResultStatus, status))
		return Struct(TagBatchItem, append(f, extra...)...)
	}
	msg := func(items ...Item) []byte {
		hdr := Struct(TagResponseHeader, Struct(TagProtocolVersion, Int(TagProtocolVersionMajor, 1), Int(TagProtocolVersionMinor, 2)),
			DateTime(TagTimeStamp, time.Unix(0, 0)), Int(TagBatchCount, int32(len(items))))
		b, err := Struct(TagResponseMessage, append([]Item{hdr}, items...)...).MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	payload := func(s string) Item { return Struct(TagResponsePayload, Text(TagUniqueIdentifier, s)) }
	denied := []Item{Enum(TagResultReason, ReasonPermissionDenied), Text(TagResultMessage, "no")}

	t.Run("items matched by batch id, in any order", func(t *testing.T) {
		rs, err := parseResponse(msg(
			item(3, OpGetAttributes, StatusSuccess, payload("c")),
			item(1, OpGetAttributes, StatusSuccess, payload("a")),
			item(2, OpGetAttributes, StatusOperationFailed, denied...),
		), reqs)
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range []string{"a", "", "c"} {
			got, _ := rs[i].Payload.Field(TagUniqueIdentifier)
			if want != "" && got.Value != want {
				t.Errorf("response %d carries %v, want %q", i, got.Value, want)
			}
		}
		if rs[0].Err != nil || rs[2].Err != nil {
			t.Errorf("successful items have errors: %v, %v", rs[0].Err, rs[2].Err)
		}
		if !errors.Is(rs[1].Err, hsmcheck.ErrAuth) || Reason(rs[1].Err) != ReasonPermissionDenied {
			t.Errorf("denied item: %v, want ErrAuth with reason permission denied", rs[1].Err)
		}
		if want := `not authorized: server answered GetAttributes with operation failed (permission denied): "no"`; rs[1].Err.Error() != want {
			t.Errorf("error text %q, want %q", rs[1].Err, want)
		}
	})
	t.Run("a missing item is an error for that request only", func(t *testing.T) {
		rs, err := parseResponse(msg(item(1, OpGetAttributes, StatusSuccess, payload("a"))), reqs[:2])
		if err != nil {
			t.Fatal(err)
		}
		if rs[0].Err != nil || rs[1].Err == nil {
			t.Errorf("errors %v, %v; want nil, then one for the missing item", rs[0].Err, rs[1].Err)
		}
	})
	t.Run("one failed item without id answers every request", func(t *testing.T) {
		fail := Struct(TagBatchItem, Enum(TagResultStatus, StatusOperationFailed), Enum(TagResultReason, ReasonAuthenticationNotSuccessful))
		rs, err := parseResponse(msg(fail), reqs)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range rs {
			if !errors.Is(r.Err, hsmcheck.ErrAuth) {
				t.Errorf("response %d: %v, want ErrAuth", i, r.Err)
			}
		}
	})
	t.Run("operation filled in when the server leaves it out", func(t *testing.T) {
		fail := Struct(TagBatchItem, Enum(TagResultStatus, StatusOperationFailed), Enum(TagResultReason, ReasonItemNotFound))
		rs, err := parseResponse(msg(fail), reqs[:1])
		if err != nil {
			t.Fatal(err)
		}
		var e *Error
		if !errors.As(rs[0].Err, &e) || e.Operation != OpGetAttributes || e.Reason != ReasonItemNotFound {
			t.Errorf("error %#v, want GetAttributes item not found", rs[0].Err)
		}
	})
	bad := []struct {
		name string
		raw  []byte
		want string
	}{
		{"not a response", func() []byte { b, _ := Struct(TagRequestMessage).MarshalBinary(); return b }(), "want a Response Message"},
		{"no header", func() []byte { b, _ := Struct(TagResponseMessage).MarshalBinary(); return b }(), "no header"},
		{"no result status", msg(Struct(TagBatchItem, Enum(TagOperation, OpLocate))), "no Result Status"},
		{"unknown batch id", msg(item(9, OpGetAttributes, StatusSuccess)), "answers no request"},
		{"payload not a structure", msg(Struct(TagBatchItem, Enum(TagResultStatus, StatusSuccess), Text(TagResponsePayload, "x"))), "Response Payload is a Text String"},
		{"garbage", []byte{0x42, 0, 0x7B, 1, 0, 0, 0, 16}, "claims 16 bytes, 0 left"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseResponse(tc.raw, reqs)
			if err == nil || !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want ErrMalformed containing %q", err, tc.want)
			}
		})
	}
}
