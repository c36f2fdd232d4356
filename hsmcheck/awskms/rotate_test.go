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
	"crypto/x509"
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
var rotationOps = append(slices.Clone(readOps), "CreateKey", "UpdateAlias", "DisableKey", "RotateKeyOnDemand")

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
				if tc.kind.spec == "SYMMETRIC_DEFAULT" {
					return op == "CreateKey" || op == "UpdateAlias" || op == "DisableKey"
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
			if tc.deny == "DisableKey" {
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
