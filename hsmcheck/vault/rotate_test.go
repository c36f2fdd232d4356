// Contract tests of rotation, written from the transit API reference (rotate key, update key
// configuration, read key) and the transit source, against fakeTransit: see vault_test.go for
// why there is no real server. The recorded shapes of the endpoints rotation uses are
// testdata/rotate-key.json, rotate-key-no-content.json, config-key.json and
// read-key-imported.json.

package vault_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/keywarden/keywarden/hsmcheck"
	"github.com/keywarden/keywarden/hsmcheck/rotatetest"
	"github.com/keywarden/keywarden/hsmcheck/vault"
)

// flavour is one kind of server and how keywarden is pointed at it. The package itself does
// not tell Vault from OpenBao beyond the token variable it reads first; the servers differ in
// what rotate and config answer.
type flavour struct {
	name, scheme, env string
	noContent         bool // older Vault: rotate and config answer 204 without the key
}

var flavours = []flavour{
	{"vault", "vault", "VAULT_TOKEN", false},
	{"openbao", "openbao", "BAO_TOKEN", false},
	{"vault-204", "vault", "VAULT_TOKEN", true},
}

func newFlavourFake(t *testing.T, fl flavour) *fakeTransit {
	t.Helper()
	f := newFake(t, "transit")
	f.noContent = fl.noContent
	return f
}

func openFlavour(t *testing.T, f *fakeTransit, fl flavour) hsmcheck.Inventory {
	t.Helper()
	inv, err := openSpec(t, f.uri(fl.scheme, ""), map[string]string{fl.env: f.tok()})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return inv
}

func TestContractRotate(t *testing.T) {
	tests := []struct {
		name     string
		flavour  flavour
		typ      string
		versions int
		edit     func(*fakeKey)
		reason   hsmcheck.Reason
	}{
		// Three versions, v1 archived: only the rotated one is the replacement's predecessor.
		{"aes256-gcm96", flavours[0], "aes256-gcm96", 3, func(k *fakeKey) { k.minDec = 2 }, hsmcheck.ReasonCompromise},
		{"ecdsa-p256", flavours[0], "ecdsa-p256", 1, nil, hsmcheck.ReasonScheduled},
		{"aes256-gcm96", flavours[1], "aes256-gcm96", 1, nil, hsmcheck.ReasonCompromise},
		{"ed25519", flavours[1], "ed25519", 2, nil, hsmcheck.ReasonPersonnel},
		{"aes256-gcm96", flavours[2], "aes256-gcm96", 2, func(k *fakeKey) { k.minEnc = 2 }, hsmcheck.ReasonCompromise},
		{"ecdsa-p256", flavours[2], "ecdsa-p256", 1, nil, hsmcheck.ReasonCompromise},
		{"hmac", flavours[0], "hmac", 1, nil, hsmcheck.ReasonCompromise},
	}
	for _, tt := range tests {
		t.Run(tt.flavour.name+"/"+tt.typ, func(t *testing.T) {
			f := newFlavourFake(t, tt.flavour)
			f.add("bystander", "aes256-gcm96", 2, base, nil) // must come through untouched
			bystander := f.key("bystander")
			var n atomic.Int32
			rotatetest.Run(t, rotatetest.Fixture{
				Open: func(t *testing.T) hsmcheck.Inventory { return openFlavour(t, f, tt.flavour) },
				NewKey: func(t *testing.T) (string, int) {
					name := fmt.Sprintf("%s-%d", tt.typ, n.Add(1))
					f.add(name, tt.typ, tt.versions, base, tt.edit)
					return "transit/" + name, tt.versions
				},
				Reason: tt.reason,
			})
			// Every key the suite rotated went up by exactly one version, whatever was
			// interrupted where, and kept its older versions for decryption.
			for i := range int(n.Load()) {
				name := fmt.Sprintf("%s-%d", tt.typ, i+1)
				k := f.key(name)
				if k.latest() > tt.versions+1 {
					t.Errorf("%s has %d versions, want at most %d: rotated twice", name, k.latest(), tt.versions+1)
				}
				wantDec := 1
				if tt.edit != nil {
					var e fakeKey
					e.minDec = 1
					tt.edit(&e)
					wantDec = e.minDec
				}
				if k.minDec != wantDec || k.minAvail != 0 || k.deletion {
					t.Errorf("%s: min_decryption_version %d, min_available_version %d, deletion_allowed %v; want %d, 0, false",
						name, k.minDec, k.minAvail, k.deletion, wantDec)
				}
			}
			if got := f.key("bystander"); got.latest() != bystander.latest() || got.minEnc != bystander.minEnc {
				t.Errorf("an unrelated key changed: %d versions, min_encryption_version %d", got.latest(), got.minEnc)
			}
			assertNothingDestructive(t, f)
		})
	}
}

// assertNothingDestructive checks the fake's request log: no delete of any kind, no trim, and
// no config change other than min_encryption_version.
func assertNothingDestructive(t *testing.T, f *fakeTransit) {
	t.Helper()
	for _, r := range f.requestLog() {
		switch {
		case r.method == "DELETE":
			t.Errorf("%s %s: rotation deleted something", r.method, r.path)
		case strings.HasSuffix(r.path, "/trim"), strings.Contains(r.path, "/soft-delete"):
			t.Errorf("%s %s: rotation trimmed or deleted versions", r.method, r.path)
		case strings.HasSuffix(r.path, "/config"):
			if diff := cmp.Diff([]string{"min_encryption_version"}, r.fields); diff != "" {
				t.Errorf("%s %s sent fields (-want +got):\n%s", r.method, r.path, diff)
			}
		case r.method != "GET" && r.method != "LIST" && !strings.HasSuffix(r.path, "/rotate"):
			t.Errorf("%s %s: a request rotation has no business making", r.method, r.path)
		}
	}
}

// rotation plans the rotation of label's latest version, journals it and runs it.
type rotation struct {
	plan    *hsmcheck.Plan
	journal *hsmcheck.Journal
	err     error
}

func rotateKey(t *testing.T, inv hsmcheck.Inventory, label string, version int) rotation {
	t.Helper()
	ks, err := collect(inv)
	if err != nil {
		t.Fatal(err)
	}
	k := find(t, ks, label, version)
	p, err := inv.(hsmcheck.Rotator).PlanRotation(context.Background(), k, hsmcheck.ReasonCompromise)
	if err != nil {
		t.Fatalf("PlanRotation(%s): %v", k.Ref(), err)
	}
	j, err := hsmcheck.CreateJournal(t.TempDir(), p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = j.Close() })
	err = hsmcheck.Run(context.Background(), inv.(hsmcheck.Rotator), j, hsmcheck.RunOptions{})
	return rotation{plan: p, journal: j, err: err}
}

// resume reopens a journal with a fresh inventory, as `keywarden rotate --resume` does.
func resume(t *testing.T, inv hsmcheck.Inventory, r rotation) *hsmcheck.Journal {
	t.Helper()
	path := r.journal.Progress().Path
	_ = r.journal.Close()
	j, err := hsmcheck.OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = j.Close() })
	if err := hsmcheck.Run(context.Background(), inv.(hsmcheck.Rotator), j, hsmcheck.RunOptions{}); err != nil {
		t.Fatalf("resuming: %v", err)
	}
	return j
}

func recheckOK(t *testing.T, inv hsmcheck.Inventory, p *hsmcheck.Plan) {
	t.Helper()
	rc, err := hsmcheck.CheckRotation(context.Background(), inv, p)
	if err != nil {
		t.Fatal(err)
	}
	if !rc.OK() || !rc.OldRetired || !rc.NewActive || rc.Replacements != 1 {
		t.Errorf("re-check %+v, problems %v; want old retired, one replacement, active", rc, rc.Problems)
	}
}

// requests counts the requests to a path ending in suffix.
func requests(f *fakeTransit, suffix string) int {
	n := 0
	for _, r := range f.requestLog() {
		if strings.HasSuffix(r.path, suffix) {
			n++
		}
	}
	return n
}

func TestContractRotatePlan(t *testing.T) {
	f := newFake(t, "transit")
	f.add("payments", "aes256-gcm96", 3, base, func(k *fakeKey) { k.minDec = 2 })
	inv := open(t, f, "")
	ks, err := collect(inv)
	if err != nil {
		t.Fatal(err)
	}
	k := find(t, ks, "payments", 3)
	before := len(f.requestLog())
	p, err := inv.(hsmcheck.Rotator).PlanRotation(context.Background(), k, hsmcheck.ReasonCompromise)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range f.requestLog()[before:] {
		if r.method != "GET" {
			t.Errorf("planning made a %s %s request", r.method, r.path)
		}
	}
	want := &hsmcheck.Plan{
		Inventory: inv.Name(),
		Key:       k,
		Reason:    hsmcheck.ReasonCompromise,
		Steps: []hsmcheck.Step{
			{Name: vault.StepRotate, Action: "POST transit/keys/payments/rotate: create v4 and make it the latest, used for new encryption from now on; " +
				"min_decryption_version stays 2, so data encrypted under v2 to v3 still decrypts"},
			{Name: vault.StepMinEncryption, Action: "POST transit/keys/payments/config min_encryption_version=4 (now 0): v3 and older can no longer be chosen for new encryption"},
		},
		OldKey: "v3 of transit/payments stays in the key ring and still decrypts and verifies (min_decryption_version stays 2); " +
			"it is no longer the latest, and min_encryption_version 4 keeps it from new encryption; nothing is deleted or trimmed",
		FollowUps: []string{
			"rewrap every ciphertext made under v3 or older (prefix vault:v1: to vault:v3:) with POST transit/rewrap/payments: transit re-encrypts it under v4 without returning the plaintext",
			"once nothing needs v3 or older, raise min_decryption_version to 4 with POST transit/keys/payments/config; keywarden never does, because whatever is still under those versions " +
				"would stop decrypting or verifying; never trim (transit/keys/payments/trim) before that, as trimmed versions are gone for good",
		},
		State: map[string]string{
			hsmcheck.StateNewID:      "transit/payments",
			hsmcheck.StateNewVersion: "4",
			vault.StatePlannedLatest: "3",
			vault.StatePlannedMinDec: "2",
			vault.StatePlannedMinEnc: "0",
		},
	}
	if diff := cmp.Diff(want, p, cmpopts.IgnoreFields(hsmcheck.Plan{}, "ID")); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
	if _, label := p.State[hsmcheck.StateNewLabel]; label {
		t.Error("the plan sets new_label: every version of a transit key has its name as label")
	}

	t.Run("follow-ups by key type", func(t *testing.T) {
		tests := []struct {
			name, typ string
			edit      func(*fakeKey)
			want      []string // substrings, one per follow-up, in order
		}{
			{"symmetric", "chacha20-poly1305", nil, []string{"rewrap", "raise min_decryption_version to 2"}},
			{"signing", "ecdsa-p256", nil, []string{"re-sign what v1 or older signed, and give verifiers the v2 public key", "raise min_decryption_version"}},
			{"encrypting and signing", "rsa-2048", nil, []string{"rewrap", "re-sign", "raise min_decryption_version"}},
			{"hmac", "hmac", nil, []string{"recompute stored HMACs under v2 with POST transit/hmac/k", "raise min_decryption_version"}},
			{"exportable", "aes256-gcm96", func(k *fakeKey) { k.exportable = true }, []string{"rewrap", "raise min_decryption_version", "exportable"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f := newFake(t, "transit")
				f.add("k", tt.typ, 1, base, tt.edit)
				inv := open(t, f, "")
				ks, err := collect(inv)
				if err != nil {
					t.Fatal(err)
				}
				p, err := inv.(hsmcheck.Rotator).PlanRotation(context.Background(), find(t, ks, "k", 1), hsmcheck.ReasonScheduled)
				if err != nil {
					t.Fatal(err)
				}
				if len(p.FollowUps) != len(tt.want) {
					t.Fatalf("follow-ups %q, want %d", p.FollowUps, len(tt.want))
				}
				for i, w := range tt.want {
					if !strings.Contains(p.FollowUps[i], w) {
						t.Errorf("follow-up %d = %q, want it to contain %q", i, p.FollowUps[i], w)
					}
				}
			})
		}
	})
}

func TestContractRotateEffects(t *testing.T) {
	for _, fl := range flavours {
		t.Run(fl.name, func(t *testing.T) {
			f := newFlavourFake(t, fl)
			f.add("payments", "aes256-gcm96", 3, base, func(k *fakeKey) { k.minDec = 2 })
			old := f.key("payments")
			inv := openFlavour(t, f, fl)

			r := rotateKey(t, inv, "payments", 3)
			if r.err != nil {
				t.Fatal(r.err)
			}
			wantOutcomes := []string{
				"rotated payments: v3 → v4, now the latest; min_decryption_version stays 2, so data encrypted under v2 to v3 still decrypts",
				"min_encryption_version raised from 0 to 4: v3 and older can no longer be chosen for new encryption; min_decryption_version stays 2",
			}
			if diff := cmp.Diff(wantOutcomes, r.journal.Progress().Outcomes); diff != "" {
				t.Errorf("outcomes (-want +got):\n%s", diff)
			}
			recheckOK(t, openFlavour(t, f, fl), r.journal.Plan())

			k := f.key("payments")
			got := []int{k.latest(), k.minDec, k.minEnc, k.minAvail}
			if diff := cmp.Diff([]int{4, 2, 4, 0}, got); diff != "" {
				t.Errorf("latest, min_decryption, min_encryption, min_available version (-want +got):\n%s", diff)
			}
			for i, v := range old.versions {
				if string(k.versions[i].material) != string(v.material) {
					t.Errorf("v%d's material changed", i+1)
				}
			}
			if k.deletion {
				t.Error("deletion_allowed was switched on")
			}
			if n := requests(f, "/rotate"); n != 1 {
				t.Errorf("%d rotate requests, want 1", n)
			}
			assertNothingDestructive(t, f)

			ks, err := collect(inv)
			if err != nil {
				t.Fatal(err)
			}
			var states []string
			for _, k := range ks {
				states = append(states, k.Ref()+" "+string(k.State))
			}
			wantStates := []string{
				"payments (transit/payments) v1 disabled", // archived before, still there
				"payments (transit/payments) v2 old-version",
				"payments (transit/payments) v3 old-version",
				"payments (transit/payments) v4 active",
			}
			if diff := cmp.Diff(wantStates, states); diff != "" {
				t.Errorf("versions after rotation (-want +got):\n%s", diff)
			}

			// Running the finished plan's steps again changes nothing.
			before := len(f.requestLog())
			for i := range r.plan.Steps {
				out, err := inv.(hsmcheck.Rotator).RotateStep(context.Background(), r.journal.Plan(), i)
				if err != nil || !strings.Contains(out, "already") {
					t.Errorf("step %d again = %q, %v; want an already-done outcome", i, out, err)
				}
			}
			for _, req := range f.requestLog()[before:] {
				if req.method != "GET" {
					t.Errorf("re-running finished steps made a %s %s request", req.method, req.path)
				}
			}
			if f.key("payments").latest() != 4 {
				t.Error("re-running the steps rotated again")
			}
		})
	}
}

func TestContractRotateInterrupted(t *testing.T) {
	tests := []struct {
		name      string
		set       func(f *fakeTransit)
		wantAuth  bool
		failed    int // the step the journal says failed
		latest    int // the key's latest version when the run stopped
		rotateReq int // rotate requests the first run made
	}{
		// The token may rotate but not configure: the new version is in use, the old one can
		// still be chosen explicitly until a resume with a better token.
		{"permission denied in the middle", func(f *fakeTransit) { f.refuse["config"] = true }, true, 1, 2, 1},
		{"permission denied on rotate", func(f *fakeTransit) { f.refuse["rotate"] = true }, true, 0, 1, 1},
		// Transit rotated but the answer never came: the client must not send the rotate
		// again, or there would be two new versions.
		{"rotate answer lost", func(f *fakeTransit) { f.dropAfter["rotate"] = true }, false, 0, 2, 1},
	}
	for _, fl := range flavours {
		for _, tt := range tests {
			t.Run(fl.name+"/"+tt.name, func(t *testing.T) {
				f := newFlavourFake(t, fl)
				f.add("payments", "aes256-gcm96", 1, base, nil)
				f.set(tt.set)

				r := rotateKey(t, openFlavour(t, f, fl), "payments", 1)
				if r.err == nil {
					t.Fatal("the run succeeded")
				}
				if errors.Is(r.err, hsmcheck.ErrAuth) != tt.wantAuth {
					t.Errorf("run error %v: ErrAuth %v, want %v", r.err, !tt.wantAuth, tt.wantAuth)
				}
				if tt.wantAuth && !strings.Contains(r.err.Error(), "permission denied") {
					t.Errorf("run error %q does not carry the server's message", r.err)
				}
				if strings.Contains(r.err.Error(), f.tok()) {
					t.Error("the error carries the token")
				}
				pr, err := hsmcheck.ReadJournal(r.journal.Progress().Path)
				if err != nil {
					t.Fatal(err)
				}
				if pr.Next != tt.failed || pr.Failed == "" || pr.Complete {
					t.Errorf("journal: %s; want step %d failed", pr.Where(), tt.failed+1)
				}
				if got := f.key("payments").latest(); got != tt.latest {
					t.Errorf("latest_version %d after the failed run, want %d", got, tt.latest)
				}
				if n := requests(f, "/rotate"); n != tt.rotateReq {
					t.Errorf("%d rotate requests in the failed run, want %d", n, tt.rotateReq)
				}

				// The policy is fixed (or the network is back), and the run is resumed.
				f.set(func(f *fakeTransit) { clear(f.refuse); clear(f.dropAfter) })
				beforeResume := requests(f, "/rotate")
				inv := openFlavour(t, f, fl)
				j := resume(t, inv, r)
				recheckOK(t, inv, j.Plan())
				k := f.key("payments")
				if k.latest() != 2 || k.minEnc != 2 || k.minDec != 1 {
					t.Errorf("after resume: latest %d, min_encryption %d, min_decryption %d; want 2, 2, 1", k.latest(), k.minEnc, k.minDec)
				}
				wantResumeRotates := 0
				if tt.latest == 1 {
					wantResumeRotates = 1 // nothing was rotated before
				}
				if n := requests(f, "/rotate") - beforeResume; n != wantResumeRotates {
					t.Errorf("the resume sent %d rotate requests, want %d", n, wantResumeRotates)
				}
				if tt.latest == 2 && !strings.Contains(j.Progress().Outcomes[0], "not rotated again") && tt.failed == 0 {
					t.Errorf("resumed rotate outcome %q, want it to say the rotation had happened", j.Progress().Outcomes[0])
				}
				assertNothingDestructive(t, f)
			})
		}
	}
}

func TestContractRotateRefused(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(f *fakeTransit)
		label   string
		version int
		key     func(k hsmcheck.Key) hsmcheck.Key // changes the listed key before planning
		after   func(f *fakeTransit)              // runs between listing and planning
		want    error
		wantMsg string
	}{
		{"older version", func(f *fakeTransit) { f.add("k", "aes256-gcm96", 2, base, nil) }, "k", 1, nil, nil,
			hsmcheck.ErrRetired, "old-version"},
		{"listing older than the key", func(f *fakeTransit) { f.add("k", "aes256-gcm96", 1, base, nil) }, "k", 1, nil,
			func(f *fakeTransit) {
				k := f.keys["k"]
				k.versions = append(k.versions, newVersion(f.t, k.typ, base))
			}, hsmcheck.ErrRetired, "v2 is the latest now"},
		{"soft-deleted", func(f *fakeTransit) {
			f.add("k", "aes256-gcm96", 1, base, func(k *fakeKey) { k.softDeleted = true })
		}, "k", 1, nil, nil, hsmcheck.ErrRetired, ""},
		{"imported without allow_rotation", func(f *fakeTransit) {
			f.add("k", "aes256-gcm96", 1, base, func(k *fakeKey) { k.imported = true })
		}, "k", 1, nil, nil, hsmcheck.ErrUnsupported, "import_version"},
		{"key of another mount", func(f *fakeTransit) { f.add("k", "aes256-gcm96", 1, base, nil) }, "k", 1,
			func(k hsmcheck.Key) hsmcheck.Key { k.ID = "other/k"; return k }, nil, hsmcheck.ErrUnsupported, ""},
		{"reading refused", func(f *fakeTransit) { f.add("k", "aes256-gcm96", 1, base, nil) }, "k", 1, nil,
			func(f *fakeTransit) { f.keys["k"].denied = true }, hsmcheck.ErrAuth, "permission denied"},
		{"key gone", func(f *fakeTransit) { f.add("k", "aes256-gcm96", 1, base, nil) }, "k", 1, nil,
			func(f *fakeTransit) { delete(f.keys, "k") }, nil, "does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, "transit")
			tt.setup(f)
			inv := open(t, f, "")
			ks, err := collect(inv)
			if err != nil {
				t.Fatal(err)
			}
			k := find(t, ks, tt.label, tt.version)
			if tt.key != nil {
				k = tt.key(k)
			}
			if tt.after != nil {
				f.set(tt.after)
			}
			_, err = inv.(hsmcheck.Rotator).PlanRotation(context.Background(), k, hsmcheck.ReasonCompromise)
			if err == nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("PlanRotation = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("PlanRotation = %q, want it to say %q", err, tt.wantMsg)
			}
			for _, r := range f.requestLog() {
				if r.method != "GET" && r.method != "LIST" {
					t.Errorf("a refused plan made a %s %s request", r.method, r.path)
				}
			}
		})
	}

	t.Run("imported with allow_rotation", func(t *testing.T) {
		f := newFake(t, "transit")
		f.add("k", "aes256-gcm96", 1, base, func(k *fakeKey) { k.imported, k.allowRotation = true, true })
		inv := open(t, f, "")
		r := rotateKey(t, inv, "k", 1)
		if r.err != nil {
			t.Fatal(r.err)
		}
		recheckOK(t, inv, r.journal.Plan())
		if k := f.key("k"); k.latest() != 2 || k.imported {
			t.Errorf("latest %d, imported %v; want 2, false (transit clears it on rotation)", k.latest(), k.imported)
		}
	})

	t.Run("transit refuses the rotate itself", func(t *testing.T) {
		// A plan made while rotation was allowed; transit's own refusal is reported.
		f := newFake(t, "transit")
		f.add("k", "aes256-gcm96", 1, base, func(k *fakeKey) { k.imported, k.allowRotation = true, true })
		inv := open(t, f, "")
		ks, err := collect(inv)
		if err != nil {
			t.Fatal(err)
		}
		p, err := inv.(hsmcheck.Rotator).PlanRotation(context.Background(), find(t, ks, "k", 1), hsmcheck.ReasonCompromise)
		if err != nil {
			t.Fatal(err)
		}
		f.set(func(f *fakeTransit) { f.keys["k"].allowRotation = false })
		_, err = inv.(hsmcheck.Rotator).RotateStep(context.Background(), p, 0)
		if err == nil || !strings.Contains(err.Error(), "does not allow rotation") || strings.Contains(err.Error(), "\n") {
			t.Errorf("RotateStep = %q, want transit's refusal on one line", err)
		}
		if f.key("k").latest() != 1 {
			t.Error("the key was rotated")
		}
	})
}

func TestContractRotateRaces(t *testing.T) {
	// Something else (auto_rotate_period, another operator) rotates between plan and run: the
	// run does not add a version of its own, and the re-check says v2 is not the latest.
	t.Run("rotated by someone else after planning", func(t *testing.T) {
		f := newFake(t, "transit")
		f.add("k", "aes256-gcm96", 1, base, nil)
		inv := open(t, f, "")
		ks, err := collect(inv)
		if err != nil {
			t.Fatal(err)
		}
		p, err := inv.(hsmcheck.Rotator).PlanRotation(context.Background(), find(t, ks, "k", 1), hsmcheck.ReasonCompromise)
		if err != nil {
			t.Fatal(err)
		}
		f.set(func(f *fakeTransit) {
			k := f.keys["k"]
			k.versions = append(k.versions, newVersion(f.t, k.typ, base), newVersion(f.t, k.typ, base))
		})
		out, err := inv.(hsmcheck.Rotator).RotateStep(context.Background(), p, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range []string{"v2 already exists (latest is v3): not rotated again", "rotated again by something else"} {
			if !strings.Contains(out, w) {
				t.Errorf("outcome %q, want it to say %q", out, w)
			}
		}
		if _, err := inv.(hsmcheck.Rotator).RotateStep(context.Background(), p, 1); err != nil {
			t.Fatal(err)
		}
		if k := f.key("k"); k.latest() != 3 || k.minEnc != 2 {
			t.Errorf("latest %d, min_encryption %d; want 3, 2", k.latest(), k.minEnc)
		}
		rc, err := hsmcheck.CheckRotation(context.Background(), inv, p)
		if err != nil {
			t.Fatal(err)
		}
		if rc.OK() || rc.NewActive {
			t.Errorf("re-check %+v passed, want it to report v2 as no longer the latest", rc)
		}
	})

	t.Run("config step before the rotation took effect", func(t *testing.T) {
		f := newFake(t, "transit")
		f.add("k", "aes256-gcm96", 1, base, nil)
		inv := open(t, f, "")
		ks, err := collect(inv)
		if err != nil {
			t.Fatal(err)
		}
		p, err := inv.(hsmcheck.Rotator).PlanRotation(context.Background(), find(t, ks, "k", 1), hsmcheck.ReasonCompromise)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := inv.(hsmcheck.Rotator).RotateStep(context.Background(), p, 1); err == nil || !strings.Contains(err.Error(), "has not taken effect") {
			t.Errorf("RotateStep(1) before step 0 = %v, want a refusal", err)
		}
		if requests(f, "/config") != 0 {
			t.Error("the config step wrote before the rotation")
		}
	})
}

func TestContractRotateNamespace(t *testing.T) {
	// The rotate request goes through a client of its own; it must carry the namespace and
	// token of the inventory and read nothing from the environment.
	t.Setenv("VAULT_NAMESPACE", "elsewhere")
	t.Setenv("BAO_NAMESPACE", "elsewhere")
	t.Setenv("VAULT_TOKEN", "s."+"environment")
	t.Setenv("BAO_MAX_RETRIES", "5")
	f := newFake(t, "transit")
	f.namespace = "team-a"
	f.add("k", "aes256-gcm96", 1, base, nil)
	inv, err := openSpec(t, f.uri("vault", "namespace=team-a"), map[string]string{"VAULT_TOKEN": f.tok()})
	if err != nil {
		t.Fatal(err)
	}
	f.set(func(f *fakeTransit) { f.dropAfter["rotate"] = true })
	r := rotateKey(t, inv, "k", 1)
	if r.err == nil {
		t.Fatal("the run succeeded with the answer lost")
	}
	if n := requests(f, "/rotate"); n != 1 || f.key("k").latest() != 2 {
		t.Errorf("%d rotate requests, latest %d; want 1 and 2 (rotated in team-a, not retried)", n, f.key("k").latest())
	}
	f.set(func(f *fakeTransit) { clear(f.dropAfter) })

	// A resume through an inventory of another namespace refuses: Key.ID has no namespace.
	other := newFake(t, "transit")
	other.add("k", "aes256-gcm96", 1, base, nil)
	invOther, err := openSpec(t, other.uri("vault", ""), map[string]string{"VAULT_TOKEN": other.tok()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := invOther.(hsmcheck.Rotator).RotateStep(context.Background(), r.journal.Plan(), 1); !errors.Is(err, hsmcheck.ErrConfig) {
		t.Errorf("RotateStep through another namespace = %v, want ErrConfig", err)
	}

	j := resume(t, inv, r)
	recheckOK(t, inv, j.Plan())
	if k := f.key("k"); k.latest() != 2 || k.minEnc != 2 {
		t.Errorf("latest %d, min_encryption %d; want 2, 2", k.latest(), k.minEnc)
	}
	if other.key("k").latest() != 1 || requests(other, "/config") != 0 {
		t.Error("the other namespace's key was changed")
	}
}

func TestContractRotateRecordedShapes(t *testing.T) {
	// The rotate and config answers are the read-key answer (formatKeyPolicy): their recorded
	// samples must have its fields, and the requests the fields the reference lists.
	sym := loadRecorded(t, "read-key-symmetric.json").Body["data"].(map[string]any)
	for _, file := range []string{"rotate-key.json", "config-key.json"} {
		t.Run(file, func(t *testing.T) {
			rec := loadRecorded(t, file)
			data, _ := rec.Body["data"].(map[string]any)
			if diff := cmp.Diff(sortedKeys(sym), sortedKeys(data)); diff != "" {
				t.Errorf("data fields (-read-key +%s):\n%s", file, diff)
			}
			if rec.Status != 200 {
				t.Errorf("status %d, want 200", rec.Status)
			}
		})
	}
	if rec := loadRecorded(t, "rotate-key-no-content.json"); rec.Status != 204 || len(rec.Body) != 0 {
		t.Errorf("rotate-key-no-content.json: status %d, body %v; want 204 and none", rec.Status, rec.Body)
	}
	imp := loadRecorded(t, "read-key-imported.json").Body["data"].(map[string]any)
	want := slices.Sorted(slices.Values(append(sortedKeys(sym), "imported_key_allow_rotation")))
	if diff := cmp.Diff(want, sortedKeys(imp)); diff != "" {
		t.Errorf("read-key-imported.json fields (-want +got):\n%s", diff)
	}
}

func sortedKeys(m map[string]any) []string { return slices.Sorted(maps.Keys(m)) }
