package awskms

// Contract tests for rotation (issue #8), against the fake KMS of fake_test.go, which answers
// RotateKeyOnDemand, GetKeyPolicy, CreateKey, UpdateAlias and DisableKey as the AWS KMS API
// Reference describes them (testdata/kms-api-shapes.json) and records every operation asked
// for.

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/keywarden/keywarden/hsmcheck"
	"github.com/keywarden/keywarden/hsmcheck/inventorytest"
	"github.com/keywarden/keywarden/hsmcheck/rotatetest"
)

// keyKind is a kind of key the rotation tests make.
type keyKind struct {
	spec, usage string
	aliases     int // how many aliases the key gets
}

var (
	kindECC       = keyKind{spec: "ECC_NIST_P256", usage: "SIGN_VERIFY", aliases: 1}
	kindECCBare   = keyKind{spec: "ECC_NIST_P256", usage: "SIGN_VERIFY"}
	kindHMAC      = keyKind{spec: "HMAC_256", usage: "GENERATE_VERIFY_MAC", aliases: 2}
	kindSymmetric = keyKind{spec: "SYMMETRIC_DEFAULT", usage: "ENCRYPT_DECRYPT", aliases: 1}
)

// readOps are the operations that change nothing.
var readOps = []string{"ListKeys", "ListAliases", "DescribeKey", "GetPublicKey", "GetKeyRotationStatus",
	"ListKeyRotations", "ListResourceTags", "GetKeyPolicy"}

// rotationOps are every operation a rotation may ask for: reads, and the four that change
// something. Anything else, ScheduleKeyDeletion above all, is a bug.
var rotationOps = append(slices.Clone(readOps), "CreateKey", "UpdateAlias", "TagResource", "DisableKey", "RotateKeyOnDemand")

// testPolicy is the key policy the test keys carry, so that its copy can be recognised.
func testPolicy(f *fakeKMS, id string) string {
	return `{"Version":"2012-10-17","Id":"test-policy-` + id + `","Statement":[{"Sid":"Admins","Effect":"Allow",` +
		`"Principal":{"AWS":"arn:aws:iam::` + f.account + `:role/key-admin"},"Action":"kms:*","Resource":"*"}]}`
}

// addKey stores a fresh enabled customer-managed key of kind k, with a description, a key
// policy, two tags and its aliases, and returns its id. A symmetric key names its key
// material, as KMS does.
func addKey(t *testing.T, f *fakeKMS, k keyKind, origin string) string {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	id := f.newID()
	meta := map[string]any{"KeyId": id, "KeySpec": k.spec, "KeyUsage": k.usage, "KeyState": "Enabled",
		"CreationDate": epoch(time.Now()), "Description": "test key " + strconv.Itoa(f.seq), "Origin": origin}
	fk := &fakeKey{meta: meta, tags: map[string]string{"Environment": "prod", "Team": "payments"}, policy: testPolicy(f, id)}
	switch {
	case k.spec == "SYMMETRIC_DEFAULT":
		fk.rotation = &fakeRotation{}
		fk.materials = []fakeMaterial{{id: f.newMaterialID(), date: time.Now()}}
		meta["CurrentKeyMaterialId"] = fk.materials[0].id
		meta["EncryptionAlgorithms"] = []string{"SYMMETRIC_DEFAULT"}
	case strings.HasPrefix(k.spec, "HMAC_"):
		fk.macKey = make([]byte, 32)
		if _, err := rand.Read(fk.macKey); err != nil {
			t.Fatal(err)
		}
		meta["MacAlgorithms"] = []string{"HMAC_SHA_256"}
	default:
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		fk.public, _ = x509.MarshalPKIXPublicKey(&priv.PublicKey)
		meta["SigningAlgorithms"] = []string{"ECDSA_SHA_256"}
	}
	f.add(fk)
	for i := range k.aliases {
		f.aliases = append(f.aliases, fakeAlias{name: fmt.Sprintf("alias/app-%d-%c", f.seq, 'a'+i), target: id})
	}
	return id
}

// rotationSetup starts a fake KMS holding a few bystander keys and returns it with the URI that
// opens it. Pages hold three items, so that every listing pages.
func rotationSetup(t *testing.T) (*fakeKMS, string) {
	t.Helper()
	isolate(t)
	creds := fakeCreds(t)
	f := newFakeKMS(t, region, creds)
	f.pageSize = 3
	f.add(&fakeKey{meta: map[string]any{"KeyId": idAWSManaged, "KeySpec": "SYMMETRIC_DEFAULT", "KeyUsage": "ENCRYPT_DECRYPT",
		"KeyState": "Enabled", "KeyManager": "AWS"}, rotation: &fakeRotation{enabled: true, days: 365, next: day(2026, time.June, 1)}})
	f.aliases = append(f.aliases, fakeAlias{"alias/aws/s3", idAWSManaged})
	// A replacement left by another rotation: its tag must not be taken for this one's.
	other := addKey(t, f, kindECC, "AWS_KMS")
	f.keys[other].tags[RotationIDTag] = "00000000000000aa"
	f.keys[other].tags[ReplacesTag] = idRSASign
	srv, ca := f.start(t)
	t.Setenv("AWS_CA_BUNDLE", ca)
	return f, uriFor(srv, "")
}

func rotatorOf(t *testing.T, inv hsmcheck.Inventory) hsmcheck.Rotator {
	t.Helper()
	r, ok := inv.(hsmcheck.Rotator)
	if !ok {
		t.Fatalf("%s is not a Rotator", inv.Name())
	}
	return r
}

// listed returns the key with id and version as Keys lists it.
func listed(t *testing.T, inv hsmcheck.Inventory, id string, version int) hsmcheck.Key {
	t.Helper()
	for _, k := range list(t, inv) {
		if k.ID == id && k.Version == version {
			return k
		}
	}
	t.Fatalf("key %s v%d is not listed", id, version)
	return hsmcheck.Key{}
}

// version is the version Keys gives a fresh key of kind k.
func (k keyKind) version() int {
	if k.spec == "SYMMETRIC_DEFAULT" {
		return 1
	}
	return 0
}

// checkOps fails t when f received an operation a rotation must never ask for.
func checkOps(t *testing.T, f *fakeKMS, allowed []string) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	seen := map[string]int{}
	for _, op := range f.targets {
		seen[op]++
	}
	if n := seen["ScheduleKeyDeletion"]; n > 0 {
		t.Errorf("ScheduleKeyDeletion was requested %d times", n)
	}
	for op, n := range seen {
		if !slices.Contains(allowed, op) {
			t.Errorf("%s was requested %d times; a rotation may ask only for %v", op, n, allowed)
		}
	}
}

// replacementsOf counts, for each key, the keys tagged as replacing it.
func replacementsOf(f *fakeKMS) map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := map[string]int{}
	for _, k := range f.keys {
		if old, ok := k.tags[ReplacesTag]; ok && k.tags[RotationIDTag] != "00000000000000aa" {
			n[old]++
		}
	}
	return n
}

func TestContractRotatorSuite(t *testing.T) {
	for _, tc := range []struct {
		name   string
		kind   keyKind
		reason hsmcheck.Reason
		short  bool
	}{
		{name: "ecc-p256 signing key with an alias", kind: kindECC},
		{name: "hmac-256 key with two aliases", kind: kindHMAC, reason: hsmcheck.ReasonScheduled},
		{name: "symmetric encryption key", kind: kindSymmetric, reason: hsmcheck.ReasonPersonnel},
		{name: "ecc-p256 key without an alias", kind: kindECCBare, short: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, uri := rotationSetup(t)
			rotatetest.Run(t, rotatetest.Fixture{
				Open: func(t *testing.T) hsmcheck.Inventory { return open(t, uri) },
				NewKey: func(t *testing.T) (string, int) {
					return addKey(t, f, tc.kind, "AWS_KMS"), tc.kind.version()
				},
				Reason: tc.reason,
				Short:  tc.short,
			})

			allowed := slices.DeleteFunc(slices.Clone(rotationOps), func(op string) bool {
				// Each kind of key is rotated one way only.
				switch {
				case tc.kind.spec == "SYMMETRIC_DEFAULT":
					return op == "CreateKey" || op == "UpdateAlias" || op == "TagResource" || op == "DisableKey"
				case tc.kind.spec == "HMAC_256":
					return op == "RotateKeyOnDemand" || op == "TagResource" // no fingerprint to record
				}
				return op == "RotateKeyOnDemand"
			})
			checkOps(t, f, allowed)
			for old, n := range replacementsOf(f) {
				if n != 1 {
					t.Errorf("key %s has %d replacements, want 1", old, n)
				}
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			for id, k := range f.keys {
				if k.onDemand > 1 {
					t.Errorf("key %s was rotated on demand %d times, want at most 1", id, k.onDemand)
				}
			}
		})
	}
}

func TestContractRotatePlan(t *testing.T) {
	f, uri := rotationSetup(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		kind      keyKind
		steps     []string
		state     func(p *hsmcheck.Plan, id string) map[string]string
		oldKey    string   // in Plan.OldKey
		actions   []string // in the steps' actions, in order
		followUps []string // each in some follow-up
	}{
		{
			name:  "asymmetric signing key",
			kind:  kindECC,
			steps: []string{stepCreate, stepMoveAliases, stepDisableOld},
			state: func(p *hsmcheck.Plan, id string) map[string]string {
				return map[string]string{stateMode: modeReplacement, stateKeySpec: "ECC_NIST_P256", stateKeyUsage: "SIGN_VERIFY",
					stateAliases: f.aliasesOf(id)[0], hsmcheck.StateNewLabel: strings.TrimPrefix(f.aliasesOf(id)[0], "alias/"),
					hsmcheck.StateNewVersion: "0"}
			},
			oldKey:    "never scheduled for deletion",
			actions:   []string{"CreateKey ECC_NIST_P256 SIGN_VERIFY", "UpdateAlias alias/app-", "DisableKey "},
			followUps: []string{"GetPublicKey", "ListGrants"},
		},
		{
			name:  "hmac key",
			kind:  kindHMAC,
			steps: []string{stepCreate, stepMoveAliases, stepDisableOld},
			state: func(p *hsmcheck.Plan, id string) map[string]string {
				a := f.aliasesOf(id)
				return map[string]string{stateMode: modeReplacement, stateKeySpec: "HMAC_256", stateKeyUsage: "GENERATE_VERIFY_MAC",
					stateAliases: strings.Join(a, ","), hsmcheck.StateNewLabel: strings.TrimPrefix(a[0], "alias/"),
					hsmcheck.StateNewVersion: "0"}
			},
			oldKey:    "disabled, not deleted",
			actions:   []string{"CreateKey HMAC_256 GENERATE_VERIFY_MAC", "UpdateAlias alias/app-", "DisableKey "},
			followUps: []string{"MACs made with the old key"},
		},
		{
			name:  "asymmetric key without an alias",
			kind:  kindECCBare,
			steps: []string{stepCreate, stepMoveAliases, stepDisableOld},
			state: func(p *hsmcheck.Plan, id string) map[string]string {
				return map[string]string{stateMode: modeReplacement, stateKeySpec: "ECC_NIST_P256", stateKeyUsage: "SIGN_VERIFY",
					stateAliases: "", hsmcheck.StateNewVersion: "0"}
			},
			oldKey:    "never scheduled for deletion",
			actions:   []string{"CreateKey", "it has none now", "DisableKey"},
			followUps: []string{"names the key id"},
		},
		{
			name:  "symmetric encryption key",
			kind:  kindSymmetric,
			steps: []string{stepRotateMaterial},
			state: func(p *hsmcheck.Plan, id string) map[string]string {
				f.mu.Lock()
				defer f.mu.Unlock()
				return map[string]string{stateMode: modeMaterial, stateRotationsBefore: "0",
					stateMaterialBefore: f.keys[id].materials[0].id, hsmcheck.StateNewID: id, hsmcheck.StateNewVersion: "2"}
			},
			oldKey:    "old key material v1",
			actions:   []string{"RotateKeyOnDemand "},
			followUps: []string{"re-encrypt", "key policy"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := addKey(t, f, tc.kind, "AWS_KMS")
			inv := open(t, uri)
			k := listed(t, inv, id, tc.kind.version())
			before := len(f.calledOps())
			p, err := rotatorOf(t, inv).PlanRotation(ctx, k, hsmcheck.ReasonCompromise)
			if err != nil {
				t.Fatalf("PlanRotation: %v", err)
			}
			for _, op := range f.calledOps()[before:] {
				if !slices.Contains(readOps, op) {
					t.Errorf("planning asked for %s, which changes something", op)
				}
			}
			var names []string
			for _, s := range p.Steps {
				names = append(names, s.Name)
			}
			if diff := cmp.Diff(tc.steps, names); diff != "" {
				t.Errorf("steps (-want +got):\n%s", diff)
			}
			for i, a := range tc.actions {
				if !strings.Contains(p.Steps[i].Action, a) {
					t.Errorf("step %d action %q does not say %q", i, p.Steps[i].Action, a)
				}
			}
			want := tc.state(p, id)
			got := maps.Clone(p.State)
			delete(got, statePolicySHA256)
			if tc.kind.spec != "SYMMETRIC_DEFAULT" && p.State[statePolicySHA256] == "" {
				t.Error("the plan does not record which key policy the replacement gets")
			}
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("plan state (-want +got):\n%s", diff)
			}
			if !strings.Contains(p.OldKey, tc.oldKey) || !strings.Contains(p.OldKey, id) {
				t.Errorf("OldKey %q does not say %q about %s", p.OldKey, tc.oldKey, id)
			}
			for _, fu := range tc.followUps {
				if !slices.ContainsFunc(p.FollowUps, func(s string) bool { return strings.Contains(s, fu) }) {
					t.Errorf("no follow-up mentions %q: %q", fu, p.FollowUps)
				}
			}
			if p.Key.ID != id || p.Key.Version != tc.kind.version() || p.Inventory != inv.Name() || p.Reason != hsmcheck.ReasonCompromise {
				t.Errorf("plan key %s v%d in %q for %q, want %s v%d in %q for compromise", p.Key.ID, p.Key.Version, p.Inventory, p.Reason, id, tc.kind.version(), inv.Name())
			}
			if tc.kind.spec != "SYMMETRIC_DEFAULT" && !strings.Contains(p.Steps[0].Action, RotationIDTag+"="+p.ID) {
				t.Errorf("create action %q does not name the tag that finds the replacement again", p.Steps[0].Action)
			}
		})
	}

	t.Run("unversioned symmetric key is planned at its current material", func(t *testing.T) {
		id := addKey(t, f, kindSymmetric, "AWS_KMS")
		p, err := rotatorOf(t, open(t, uri)).PlanRotation(ctx, hsmcheck.Key{ID: id, State: hsmcheck.Active}, "")
		if err != nil {
			t.Fatal(err)
		}
		if p.Key.Version != 1 || p.State[hsmcheck.StateNewVersion] != "2" {
			t.Errorf("planned v%d → v%s, want v1 → v2", p.Key.Version, p.State[hsmcheck.StateNewVersion])
		}
	})
}

// aliasesOf returns the alias names pointing at id, sorted.
func (f *fakeKMS) aliasesOf(id string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var names []string
	for _, a := range f.aliases {
		if a.target == id {
			names = append(names, a.name)
		}
	}
	sort.Strings(names)
	return names
}

func (f *fakeKMS) state(id string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.keys[id].meta["KeyState"].(string)
}

func TestContractRotateRefusals(t *testing.T) {
	f, srv, _, _ := setup(t)
	inv := open(t, uriFor(srv, ""))
	external := addKey(t, f, kindHMAC, "EXTERNAL")
	replica := addKey(t, f, kindECC, "AWS_KMS")
	rotated := addKey(t, f, kindSymmetric, "AWS_KMS")
	stale := listed(t, inv, rotated, 1)
	policyDenied := addKey(t, f, kindECC, "AWS_KMS")
	f.mu.Lock()
	f.keys[replica].meta["MultiRegion"] = true
	f.keys[replica].meta["MultiRegionConfiguration"] = map[string]any{"MultiRegionKeyType": "REPLICA",
		"PrimaryKey": map[string]any{"Arn": "arn:aws:kms:us-east-1:111122223333:key/" + replica, "Region": "us-east-1"}}
	f.completeRotation(f.keys[rotated], "AUTOMATIC")
	f.deny["GetKeyPolicy "+policyDenied] = "AccessDeniedException"
	f.mu.Unlock()
	keys := list(t, inv)
	find := func(id string, version int) hsmcheck.Key {
		for _, k := range keys {
			if k.ID == id && k.Version == version {
				return k
			}
		}
		t.Fatalf("key %s v%d not listed", id, version)
		return hsmcheck.Key{}
	}

	for _, tc := range []struct {
		name string
		key  hsmcheck.Key
		want error
		says string
	}{
		{name: "aws-managed key", key: find(idAWSManaged, 0), want: hsmcheck.ErrUnsupported, says: "AWS-managed"},
		{name: "endpoint that names no key materials", key: find(idSymProd, 0), want: hsmcheck.ErrUnsupported, says: "CurrentKeyMaterialId"},
		{name: "custom key store", key: find(idUnavailable, 0), want: hsmcheck.ErrUnsupported, says: "Unavailable"},
		{name: "pending import", key: find(idHMACImport, 0), want: hsmcheck.ErrUnsupported, says: "PendingImport"},
		{name: "imported key material", key: find(external, 0), want: hsmcheck.ErrUnsupported, says: "EXTERNAL"},
		{name: "multi-region replica", key: find(replica, 0), want: hsmcheck.ErrUnsupported, says: "us-east-1"},
		{name: "disabled key", key: find(idSymDisabled, 0), want: hsmcheck.ErrRetired},
		{name: "key material rotated since listed", key: stale, want: hsmcheck.ErrRetired, says: "v2 is current"},
		{name: "old key material", key: find(rotated, 1), want: hsmcheck.ErrRetired},
		{name: "describe refused", key: find(idDeniedDescrib, 0), want: hsmcheck.ErrAuth, says: "AccessDeniedException"},
		{name: "key policy refused", key: find(policyDenied, 0), want: hsmcheck.ErrAuth, says: "GetKeyPolicy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(f.calledOps())
			_, err := rotatorOf(t, inv).PlanRotation(context.Background(), tc.key, hsmcheck.ReasonCompromise)
			if !errors.Is(err, tc.want) {
				t.Fatalf("PlanRotation = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.says) {
				t.Errorf("error %q does not say %q", err, tc.says)
			}
			for _, op := range f.calledOps()[before:] {
				if !slices.Contains(readOps, op) {
					t.Errorf("a refused plan asked for %s", op)
				}
			}
		})
	}
	checkOps(t, f, readOps)
}

func TestContractRotatePermissionDenied(t *testing.T) {
	for _, tc := range []struct {
		name string
		kind keyKind
		deny string
		step int
	}{
		{name: "DisableKey refused after the replacement came into use", kind: kindECC, deny: "DisableKey", step: 2},
		{name: "TagResource refused before the old key is disabled", kind: kindECC, deny: "TagResource", step: 2},
		{name: "UpdateAlias refused", kind: kindHMAC, deny: "UpdateAlias", step: 1},
		{name: "CreateKey refused", kind: kindECC, deny: "CreateKey", step: 0},
		{name: "RotateKeyOnDemand refused", kind: kindSymmetric, deny: "RotateKeyOnDemand", step: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, uri := rotationSetup(t)
			ctx := context.Background()
			id := addKey(t, f, tc.kind, "AWS_KMS")
			aliases := f.aliasesOf(id)
			inv := open(t, uri)
			before := len(list(t, inv))
			p, err := rotatorOf(t, inv).PlanRotation(ctx, listed(t, inv, id, tc.kind.version()), hsmcheck.ReasonCompromise)
			if err != nil {
				t.Fatal(err)
			}
			j, err := hsmcheck.CreateJournal(t.TempDir(), p)
			if err != nil {
				t.Fatal(err)
			}
			path := j.Progress().Path

			f.mu.Lock()
			f.deny[tc.deny] = "AccessDeniedException"
			f.mu.Unlock()
			err = hsmcheck.Run(ctx, rotatorOf(t, inv), j, hsmcheck.RunOptions{})
			j.Close()
			if !errors.Is(err, hsmcheck.ErrAuth) {
				t.Fatalf("Run = %v, want ErrAuth", err)
			}
			for _, s := range []string{tc.deny, "AccessDeniedException", id} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not name %s", err, s)
				}
			}
			pr, err := hsmcheck.ReadJournal(path)
			if err != nil {
				t.Fatal(err)
			}
			if pr.Next != tc.step || !strings.Contains(pr.Failed, tc.deny) || pr.Complete {
				t.Errorf("journal says %q, want step %d failed naming %s", pr.Where(), tc.step+1, tc.deny)
			}
			if tc.deny == "DisableKey" || tc.deny == "TagResource" {
				// The replacement came into use first: the refusal leaves it serving the alias, and
				// the old key whole.
				newID := pr.Plan.State[hsmcheck.StateNewID]
				if got := f.aliasesOf(newID); !slices.Equal(got, aliases) {
					t.Errorf("replacement %s has aliases %v, want %v", newID, got, aliases)
				}
				if s := f.state(newID); s != "Enabled" {
					t.Errorf("replacement is %s, want Enabled", s)
				}
				if s := f.state(id); s != "Enabled" {
					t.Errorf("old key is %s after DisableKey was refused, want Enabled", s)
				}
			}

			// The permission is granted; a new process resumes.
			f.mu.Lock()
			delete(f.deny, tc.deny)
			f.mu.Unlock()
			inv2 := open(t, uri)
			j2, err := hsmcheck.OpenJournal(path)
			if err != nil {
				t.Fatal(err)
			}
			defer j2.Close()
			if err := hsmcheck.Run(ctx, rotatorOf(t, inv2), j2, hsmcheck.RunOptions{}); err != nil {
				t.Fatalf("resuming: %v", err)
			}
			rc, err := hsmcheck.CheckRotation(ctx, inv2, j2.Plan())
			if err != nil {
				t.Fatal(err)
			}
			if !rc.OK() {
				t.Errorf("re-check after resume: %v", rc.Problems)
			}
			if after := len(list(t, inv2)); after != before+1 {
				t.Errorf("%d keys after the rotation, want %d", after, before+1)
			}
			if tc.kind.spec == "ECC_NIST_P256" {
				if got := listed(t, inv2, id, 0); got.State != hsmcheck.Disabled || got.SPKIHash != pr.Plan.Key.SPKIHash {
					t.Errorf("old key after resume: %s with fingerprint %x, want disabled with %x", got.State, got.SPKIHash, pr.Plan.Key.SPKIHash)
				}
			}
			if tc.kind.spec == "SYMMETRIC_DEFAULT" {
				if n := len(f.callsOf("CreateKey")); n != 0 {
					t.Errorf("CreateKey called %d times for a symmetric key", n)
				}
				f.mu.Lock()
				n := f.keys[id].onDemand
				f.mu.Unlock()
				if n != 1 {
					t.Errorf("%d on-demand rotations, want 1", n)
				}
			} else if n := replacementsOf(f)[id]; n != 1 {
				t.Errorf("%d replacements of %s, want 1 (no second CreateKey on resume)", n, id)
			}
			wantCreateCalls := map[bool]int{true: 0, false: 1}[tc.kind.spec == "SYMMETRIC_DEFAULT"]
			if tc.deny == "CreateKey" {
				wantCreateCalls = 2 // the refused one, and the one after the grant
			}
			if n := len(f.callsOf("CreateKey")); n != wantCreateCalls {
				t.Errorf("CreateKey requested %d times, want %d", n, wantCreateCalls)
			}
			checkOps(t, f, rotationOps)
		})
	}
}

func TestContractRotateKeyMaterialAsync(t *testing.T) {
	for _, tc := range []struct {
		name       string
		delay      int           // requests KMS takes to complete the rotation
		wait       time.Duration // how long the step waits
		automatic  bool          // an automatic rotation completes between plan and step
		wantFail   string        // the first run fails so; "" = it completes
		wantResume string        // in the outcome of the run that completes
	}{
		{name: "completes while the step waits", delay: 3, wait: time.Minute, wantResume: "KMS rotated the key material on demand: v2"},
		{name: "still running when the wait ends", delay: 1 << 20, wait: 30 * time.Millisecond, wantFail: "has not completed", wantResume: "v2"},
		{name: "automatic rotation since the plan", automatic: true, wait: time.Minute, wantResume: "automatic rotation since the plan"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			oldWait, oldPoll := rotationWait, rotationPoll
			rotationWait, rotationPoll = tc.wait, time.Millisecond
			t.Cleanup(func() { rotationWait, rotationPoll = oldWait, oldPoll })
			f, uri := rotationSetup(t)
			f.rotationDelay = tc.delay
			ctx := context.Background()
			id := addKey(t, f, kindSymmetric, "AWS_KMS")
			inv := open(t, uri)
			p, err := rotatorOf(t, inv).PlanRotation(ctx, listed(t, inv, id, 1), hsmcheck.ReasonCompromise)
			if err != nil {
				t.Fatal(err)
			}
			if tc.automatic {
				f.mu.Lock()
				f.completeRotation(f.keys[id], "AUTOMATIC")
				f.mu.Unlock()
			}
			j, err := hsmcheck.CreateJournal(t.TempDir(), p)
			if err != nil {
				t.Fatal(err)
			}
			err = hsmcheck.Run(ctx, rotatorOf(t, inv), j, hsmcheck.RunOptions{})
			if tc.wantFail != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantFail) || errors.Is(err, hsmcheck.ErrAuth) {
					t.Fatalf("Run = %v, want an error saying %q", err, tc.wantFail)
				}
				j.Close()
				f.mu.Lock()
				f.keys[id].pendingPolls = 2 // KMS finishes soon
				f.mu.Unlock()
				if j, err = hsmcheck.OpenJournal(j.Progress().Path); err != nil {
					t.Fatal(err)
				}
				err = hsmcheck.Run(ctx, rotatorOf(t, open(t, uri)), j, hsmcheck.RunOptions{})
			}
			defer j.Close()
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if out := j.Progress().Outcomes[0]; !strings.Contains(out, tc.wantResume) {
				t.Errorf("outcome %q does not say %q", out, tc.wantResume)
			}
			wantCalls := 1
			if tc.automatic {
				wantCalls = 0
			}
			if n := len(f.callsOf("RotateKeyOnDemand")); n != wantCalls {
				t.Errorf("RotateKeyOnDemand requested %d times, want %d", n, wantCalls)
			}
			rc, err := hsmcheck.CheckRotation(ctx, inv, j.Plan())
			if err != nil {
				t.Fatal(err)
			}
			f.mu.Lock()
			current := f.keys[id].meta["CurrentKeyMaterialId"]
			f.mu.Unlock()
			if !rc.OK() || rc.New == nil || rc.New.Meta["key_material_id"] != current {
				t.Errorf("re-check: %v; new %+v", rc.Problems, rc.New)
			}
		})
	}
}

func TestContractKeysListsKeyMaterials(t *testing.T) {
	f, uri := rotationSetup(t)
	id := addKey(t, f, kindSymmetric, "AWS_KMS")
	f.mu.Lock()
	k := f.keys[id]
	f.completeRotation(k, "AUTOMATIC")
	f.completeRotation(k, "ON_DEMAND")
	m := slices.Clone(k.materials)
	created := k.meta["CreationDate"].(json.Number)
	alias := f.aliases[len(f.aliases)-1].name
	f.mu.Unlock()
	secs, _ := created.Float64()
	when := time.UnixMilli(int64(secs * 1000)).UTC()
	round := func(t time.Time) time.Time { return time.UnixMilli(t.UnixMilli()).UTC() }

	base := hsmcheck.Key{ID: id, Label: strings.TrimPrefix(alias, "alias/"), Class: hsmcheck.Secret, Scope: "prod",
		Algorithm: "AES-256", Usage: []string{"encrypt", "decrypt"}, Created: when, LastRotated: round(m[2].date),
		RotationEnabled: hsmcheck.BoolPtr(false),
		Meta: map[string]string{"arn": f.arn(id), "account": f.account, "key_spec": "SYMMETRIC_DEFAULT",
			"key_manager": "CUSTOMER", "origin": "AWS_KMS", "aliases": alias}}
	version := func(v int, state hsmcheck.State, created time.Time, kv ...string) hsmcheck.Key {
		k := base
		k.Version, k.State, k.Created = v, state, created
		k.Meta = maps.Clone(base.Meta)
		for i := 0; i < len(kv); i += 2 {
			k.Meta[kv[i]] = kv[i+1]
		}
		return k
	}
	want := []hsmcheck.Key{
		version(3, hsmcheck.Active, when, "key_material_id", m[2].id),
		version(1, hsmcheck.OldVersion, when),
		version(2, hsmcheck.OldVersion, round(m[1].date), "key_material_id", m[1].id, "rotation_type", "AUTOMATIC"),
	}
	var got []hsmcheck.Key
	for _, k := range list(t, open(t, uri)) {
		if k.ID == id {
			got = append(got, k)
		}
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("key material versions (-want +got):\n%s", diff)
	}
}

func TestContractReplacementCopiesKey(t *testing.T) {
	f, uri := rotationSetup(t)
	ctx := context.Background()
	id := addKey(t, f, kindECC, "AWS_KMS")
	f.mu.Lock()
	f.keys[id].tags[ReplacesTag] = "an-older-key" // from an earlier rotation: not copied
	desc := f.keys[id].meta["Description"].(string)
	f.mu.Unlock()
	inv := open(t, uri)
	old := listed(t, inv, id, 0)
	p, err := rotatorOf(t, inv).PlanRotation(ctx, old, hsmcheck.ReasonCompromise)
	if err != nil {
		t.Fatal(err)
	}
	j, err := hsmcheck.CreateJournal(t.TempDir(), p)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if err := hsmcheck.Run(ctx, rotatorOf(t, inv), j, hsmcheck.RunOptions{}); err != nil {
		t.Fatal(err)
	}

	calls := f.callsOf("CreateKey")
	if len(calls) != 1 {
		t.Fatalf("CreateKey requested %d times, want 1", len(calls))
	}
	body, err := json.Marshal(calls[0].body)
	if err != nil {
		t.Fatal(err)
	}
	var req struct {
		KeySpec, KeyUsage, Description, Origin, Policy string
		MultiRegion                                    *bool
		Tags                                           []struct{ TagKey, TagValue string }
	}
	if err := json.Unmarshal(body, &req); err != nil {
		t.Fatal(err)
	}
	var members []string
	for m := range calls[0].body {
		members = append(members, m)
	}
	sort.Strings(members)
	if diff := cmp.Diff([]string{"Description", "KeySpec", "KeyUsage", "MultiRegion", "Origin", "Policy", "Tags"}, members); diff != "" {
		t.Errorf("CreateKey members (-want +got):\n%s", diff)
	}
	if req.KeySpec != "ECC_NIST_P256" || req.KeyUsage != "SIGN_VERIFY" || req.Origin != "AWS_KMS" || req.MultiRegion == nil || *req.MultiRegion {
		t.Errorf("CreateKey %s %s origin %s multi-Region %v, want ECC_NIST_P256 SIGN_VERIFY AWS_KMS false", req.KeySpec, req.KeyUsage, req.Origin, req.MultiRegion)
	}
	if req.Description != desc || req.Policy != testPolicy(f, id) {
		t.Errorf("CreateKey description %q policy %q, want the old key's %q and %q", req.Description, req.Policy, desc, testPolicy(f, id))
	}
	wantTags := []struct{ TagKey, TagValue string }{{"Environment", "prod"}, {"Team", "payments"}, {RotationIDTag, p.ID}, {ReplacesTag, id}}
	if diff := cmp.Diff(wantTags, req.Tags); diff != "" {
		t.Errorf("CreateKey tags (-want +got):\n%s", diff)
	}

	newID := j.Plan().State[hsmcheck.StateNewID]
	replacement := listed(t, inv, newID, 0)
	if replacement.Scope != old.Scope || replacement.Label != old.Label || replacement.Algorithm != old.Algorithm || !slices.Equal(replacement.Usage, old.Usage) {
		t.Errorf("replacement scope %q label %q %s %v, want the old key's %q %q %s %v",
			replacement.Scope, replacement.Label, replacement.Algorithm, replacement.Usage, old.Scope, old.Label, old.Algorithm, old.Usage)
	}
	if !replacement.HasSPKI() || replacement.SPKIHash == old.SPKIHash {
		t.Error("the replacement has no public key of its own")
	}
	for i, want := range []string{"created replacement " + newID, "pointed alias/app-", "disabled " + id} {
		if out := j.Progress().Outcomes[i]; !strings.Contains(out, want) {
			t.Errorf("step %d outcome %q does not say %q", i, out, want)
		}
	}
}

// TestContractRotatedKeyIsRetired checks what issue #8 asks of a re-check: after the rotation of
// an asymmetric key the old fingerprint is retired. KMS refuses GetPublicKey on the disabled
// key, so only the fingerprint tag disable-old-key wrote keeps it matched.
func TestContractRotatedKeyIsRetired(t *testing.T) {
	f, uri := rotationSetup(t)
	ctx := context.Background()
	id := addKey(t, f, kindECC, "AWS_KMS")
	inv := open(t, uri)
	old := listed(t, inv, id, 0)
	if !old.HasSPKI() || old.State != hsmcheck.Active {
		t.Fatalf("old key listed %s without a fingerprint: %+v", old.State, old)
	}
	p, err := rotatorOf(t, inv).PlanRotation(ctx, old, hsmcheck.ReasonCompromise)
	if err != nil {
		t.Fatal(err)
	}
	j, err := hsmcheck.CreateJournal(t.TempDir(), p)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if err := hsmcheck.Run(ctx, rotatorOf(t, inv), j, hsmcheck.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	newID := j.Plan().State[hsmcheck.StateNewID]
	fp := hex.EncodeToString(old.SPKIHash[:])

	var tagged []string
	for _, c := range f.callsOf("TagResource") {
		b, _ := json.Marshal(c.body)
		tagged = append(tagged, string(b))
	}
	wantTag := `{"KeyId":"` + id + `","Tags":[{"TagKey":"` + SPKITag + `","TagValue":"` + fp + `"}]}`
	if diff := cmp.Diff([]string{wantTag}, tagged); diff != "" {
		t.Errorf("TagResource requests (-want +got):\n%s", diff)
	}
	if out := j.Progress().Outcomes[2]; !strings.Contains(out, SPKITag+"="+fp[:12]) {
		t.Errorf("outcome %q does not name the fingerprint tag", out)
	}
	if n := len(f.callsOf("GetPublicKey")); n == 0 {
		t.Fatal("GetPublicKey was never asked for")
	}

	for _, tc := range []struct {
		name    string
		tamper  func() // changes the fake before listing
		cand    func() [32]byte
		status  string
		matched string // the key id matched
	}{
		{name: "leaked old key is retired", cand: func() [32]byte { return old.SPKIHash }, status: hsmcheck.Retired, matched: id},
		{name: "replacement is live", cand: func() [32]byte { return listed(t, open(t, uri), newID, 0).SPKIHash }, status: hsmcheck.Live, matched: newID},
		{
			name: "without the tag the old key is unknown",
			tamper: func() {
				f.mu.Lock()
				delete(f.keys[id].tags, SPKITag)
				f.mu.Unlock()
			},
			cand: func() [32]byte { return old.SPKIHash }, status: hsmcheck.NoMatch,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.tamper != nil {
				tc.tamper()
			}
			inv := open(t, uri)
			got := listed(t, inv, id, 0)
			if got.State != hsmcheck.Disabled {
				t.Errorf("old key is %s, want disabled", got.State)
			}
			if tc.tamper == nil && (got.SPKIHash != old.SPKIHash || got.Meta["spki_from"] != "tag") {
				t.Errorf("old key lists fingerprint %x (from %q), want its original %x from the tag", got.SPKIHash, got.Meta["spki_from"], old.SPKIHash)
			}
			loaded, err := hsmcheck.Load(ctx, []hsmcheck.Inventory{inv})
			if err != nil || loaded[0].Err != nil {
				t.Fatalf("Load: %v, %v", err, loaded[0].Err)
			}
			exp := hsmcheck.Check(ctx, loaded, []hsmcheck.Candidate{{SPKIHash: tc.cand()}}, func(err error) { t.Errorf("warning: %v", err) })
			var ids []string
			for _, m := range exp[0].Matches {
				ids = append(ids, m.KeyID)
			}
			if exp[0].Status != tc.status {
				t.Errorf("status %s (matches %v), want %s", exp[0].Status, ids, tc.status)
			}
			if tc.matched != "" && !slices.Equal(ids, []string{tc.matched}) {
				t.Errorf("matched %v, want only %s", ids, tc.matched)
			}
		})
	}
}

// TestContractSPKITagTrust checks which keys Keys takes a fingerprint tag from: only an
// asymmetric customer-managed key that DescribeKey reports disabled or pending deletion, and
// whose public key KMS therefore no longer gives. A tag on any other key is ignored, so a forged
// one can never make a match live.
func TestContractSPKITagTrust(t *testing.T) {
	f, uri := rotationSetup(t)
	forged := sha256.Sum256([]byte("forged fingerprint"))
	forgedHex := hex.EncodeToString(forged[:])
	type keyCase struct {
		name    string
		kind    keyKind
		state   string // KeyState to set; "" leaves Enabled
		tag     string // SPKITag value; "" sets none
		deny    string // an operation refused for this key
		wantTag bool   // the fingerprint comes from the tag
		wantOwn bool   // the fingerprint is the key's own, from GetPublicKey
		wantErr bool   // Meta names a bad tag
	}
	cases := []keyCase{
		{name: "disabled key takes the tag", kind: kindECC, state: "Disabled", tag: forgedHex, wantTag: true},
		{name: "pending-deletion key takes the tag", kind: kindECC, state: "PendingDeletion", tag: forgedHex, wantTag: true},
		{name: "enabled key ignores a forged tag", kind: kindECC, tag: forgedHex, wantOwn: true},
		{name: "enabled key whose public key is refused ignores a forged tag", kind: kindECC, tag: forgedHex, deny: "GetPublicKey"},
		{name: "disabled key without a tag has no fingerprint", kind: kindECC, state: "Disabled"},
		{name: "malformed tag is reported", kind: kindECC, state: "Disabled", tag: forgedHex[:40], wantErr: true},
		{name: "upper-case hex is not keywarden's", kind: kindECC, state: "Disabled", tag: strings.ToUpper(forgedHex[:2]) + "zz" + forgedHex[4:], wantErr: true},
		{name: "disabled hmac key is not asymmetric", kind: kindHMAC, state: "Disabled", tag: forgedHex},
		{name: "state unknown counts as live and ignores the tag", kind: kindECC, state: "Disabled", tag: forgedHex, deny: "DescribeKey"},
	}
	ids := map[string]string{}
	for _, tc := range cases {
		id := addKey(t, f, tc.kind, "AWS_KMS")
		ids[tc.name] = id
		f.mu.Lock()
		k := f.keys[id]
		if tc.state != "" {
			k.meta["KeyState"], k.meta["Enabled"] = tc.state, false
		}
		if tc.tag != "" {
			k.tags[SPKITag] = tc.tag
		}
		if tc.deny != "" {
			f.deny[tc.deny+" "+id] = "AccessDeniedException"
		}
		f.mu.Unlock()
	}
	own := func(id string) [32]byte {
		f.mu.Lock()
		defer f.mu.Unlock()
		return sha256.Sum256(f.keys[id].public)
	}

	for _, extra := range []string{"", "&scope=ops"} {
		t.Run("scope="+strings.TrimPrefix(extra, "&scope="), func(t *testing.T) {
			before := len(f.callsOf("ListResourceTags"))
			got := list(t, open(t, uri+extra))
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					id := ids[tc.name]
					k := inventorytest.Find(t, got, id, func(k hsmcheck.Key) bool { return k.ID == id })
					switch {
					case tc.wantTag:
						if k.SPKIHash != forged || k.Meta["spki_from"] != "tag" {
							t.Errorf("fingerprint %x from %q, want the tag's %x", k.SPKIHash, k.Meta["spki_from"], forged)
						}
						if k.State.Live() {
							t.Errorf("a key whose fingerprint came from a tag is %s, which is live", k.State)
						}
					case tc.wantOwn:
						if k.SPKIHash != own(id) || k.Meta["spki_from"] != "" {
							t.Errorf("fingerprint %x from %q, want its own public key's %x", k.SPKIHash, k.Meta["spki_from"], own(id))
						}
					default:
						if k.HasSPKI() || k.Meta["spki_from"] != "" {
							t.Errorf("fingerprint %x from %q, want none", k.SPKIHash, k.Meta["spki_from"])
						}
					}
					if hasErr := k.Meta["spki_tag_error"] != ""; hasErr != tc.wantErr {
						t.Errorf("Meta[spki_tag_error] = %q, want an error: %v", k.Meta["spki_tag_error"], tc.wantErr)
					}
				})
			}
			// The tags of a key are listed once at most (a first page, without Marker): the
			// scope and the fingerprint share them.
			perKey := map[string]int{}
			for _, c := range f.callsOf("ListResourceTags")[before:] {
				if _, next := c.body["Marker"]; !next {
					perKey[c.body["KeyId"].(string)]++
				}
			}
			for id, n := range perKey {
				if n > 1 {
					t.Errorf("ListResourceTags called %d times for key %s", n, id)
				}
			}
			if extra != "" {
				for _, tc := range cases {
					wantRead := tc.kind.spec != "HMAC_256" && tc.state != "" && tc.deny != "DescribeKey"
					if got := perKey[ids[tc.name]] > 0; got != wantRead {
						t.Errorf("%s: ListResourceTags called: %v, want %v with a scope set", tc.name, got, wantRead)
					}
				}
			}
		})
	}
}

// TestContractDisableOldKeyTag runs disable-old-key alone on the states a resumed or raced run
// finds the old key in.
func TestContractDisableOldKeyTag(t *testing.T) {
	f, uri := rotationSetup(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		kind    keyKind
		before  func(id string) // run with f.mu held, after planning and the first two steps
		setup   func(id string) // run with f.mu held, before planning
		says    []string        // in the outcome
		tagged  bool            // the old key carries its fingerprint afterwards
		state   string          // the old key's state afterwards
		disable int             // DisableKey requests for the old key
	}{
		{name: "enabled key is tagged then disabled", kind: kindECC, says: []string{"disabled ", "tagged " + SPKITag + "="}, tagged: true, state: "Disabled", disable: 1},
		{
			name: "key disabled by a run that did not tag it is tagged on resume", kind: kindECC,
			before: func(id string) { f.keys[id].meta["KeyState"], f.keys[id].meta["Enabled"] = "Disabled", false },
			says:   []string{"was already disabled", "tagged " + SPKITag + "="}, tagged: true, state: "Disabled",
		},
		{
			name: "a full tag set does not keep the old key in use", kind: kindECC,
			setup: func(id string) {
				// 48 tags of its own and two of an earlier rotation: KMS's 50.
				for i := range 46 {
					f.keys[id].tags[fmt.Sprintf("T%02d", i)] = "x"
				}
				f.keys[id].tags[RotationIDTag], f.keys[id].tags[ReplacesTag] = "00000000000000bb", "an-older-key"
			},
			says: []string{"disabled ", "refused its fingerprint tag", "LimitExceededException", "unknown, not retired"}, state: "Disabled", disable: 1,
		},
		{
			name: "key scheduled for deletion meanwhile is left as it is", kind: kindECC,
			before: func(id string) { f.keys[id].meta["KeyState"], f.keys[id].meta["Enabled"] = "PendingDeletion", false },
			says:   []string{"pending deletion", "KMSInvalidStateException"}, state: "PendingDeletion",
		},
		{name: "hmac key has no fingerprint to tag", kind: kindHMAC, says: []string{"disabled "}, state: "Disabled", disable: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := addKey(t, f, tc.kind, "AWS_KMS")
			if tc.setup != nil {
				f.mu.Lock()
				tc.setup(id)
				f.mu.Unlock()
			}
			inv := open(t, uri)
			k := listed(t, inv, id, 0)
			p, err := rotatorOf(t, inv).PlanRotation(ctx, k, hsmcheck.ReasonCompromise)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 2 {
				if _, err := rotatorOf(t, inv).RotateStep(ctx, p, i); err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
			}
			if tc.before != nil {
				f.mu.Lock()
				tc.before(id)
				f.mu.Unlock()
			}
			out, err := rotatorOf(t, inv).RotateStep(ctx, p, 2)
			if err != nil {
				t.Fatalf("disable-old-key: %v", err)
			}
			for _, s := range tc.says {
				if !strings.Contains(out, s) {
					t.Errorf("outcome %q does not say %q", out, s)
				}
			}
			if tc.kind.spec == "HMAC_256" && strings.Contains(out, "tag") {
				t.Errorf("outcome %q speaks of a tag for an HMAC key", out)
			}
			f.mu.Lock()
			tag, state := f.keys[id].tags[SPKITag], f.keys[id].meta["KeyState"]
			f.mu.Unlock()
			if want := hex.EncodeToString(k.SPKIHash[:]); tc.tagged && tag != want || !tc.tagged && tag != "" {
				t.Errorf("old key tagged %s=%q, want tagged: %v", SPKITag, tag, tc.tagged)
			}
			if state != tc.state {
				t.Errorf("old key is %s, want %s", state, tc.state)
			}
			n := 0
			for _, c := range f.callsOf("DisableKey") {
				if c.body["KeyId"] == id {
					n++
				}
			}
			if n != tc.disable {
				t.Errorf("DisableKey requested %d times for the old key, want %d", n, tc.disable)
			}
		})
	}
	checkOps(t, f, rotationOps)
}
