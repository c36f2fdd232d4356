package kmip_test

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/hsmcheck"
	"github.com/keywarden/keywarden/hsmcheck/kmip"
	"github.com/keywarden/keywarden/hsmcheck/kmip/kmiptest"
	"github.com/keywarden/keywarden/hsmcheck/rotatetest"
)

// rotEnv is a client identity of its own on a pykmip-server. PyKMIP shows an identity only the
// symmetric and private keys it made (public keys it shows to everyone), so a rotation test lists
// its own keys, not every test's.
type rotEnv struct {
	s                 *kmiptest.Server
	certFile, keyFile string
	c                 *kmip.Client
}

func newRotEnv(t *testing.T, s *kmiptest.Server) *rotEnv {
	t.Helper()
	// Random, so that a second run (-count=2) against the same server starts empty.
	cert, key := s.Identity(t, fmt.Sprintf("rotate-%x", randomBytes(t, 6)))
	e := &rotEnv{s: s, certFile: cert, keyFile: key, c: s.ClientAs(t, cert, key)}
	t.Cleanup(func() { e.purge(t) })
	return e
}

// open opens the inventory afresh, as a new process would.
func (e *rotEnv) open(t *testing.T) *kmip.Inventory {
	t.Helper()
	inv, err := kmip.New(ctx(t), kmip.Config{Addr: e.s.Addr, CAFile: e.s.CAFile, CertFile: e.certFile, KeyFile: e.keyFile})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inv.Close() })
	return inv
}

// aes creates an AES key, with extra attributes, and activates it unless preActive.
func (e *rotEnv) aes(t *testing.T, label string, bits int32, preActive bool, extra ...kmip.Attribute) string {
	t.Helper()
	attrs := append([]kmip.Attribute{kmip.AlgorithmAttribute(kmip.AlgAES), kmip.LengthAttribute(bits),
		kmip.UsageAttribute(kmip.UsageEncrypt | kmip.UsageDecrypt), kmip.NameAttribute(label)}, extra...)
	id, err := e.c.Create(ctx(t), kmip.ObjectSymmetricKey, attrs...)
	if err != nil {
		t.Fatalf("creating AES key %q: %v", label, err)
	}
	if !preActive {
		e.activate(t, id)
	}
	return id
}

// rsa has the server generate an RSA pair whose halves share label, and activates both.
func (e *rotEnv) rsa(t *testing.T, label string, bits int32) (priv, pub string) {
	t.Helper()
	priv, pub, err := e.c.CreateKeyPair(ctx(t),
		[]kmip.Attribute{kmip.AlgorithmAttribute(kmip.AlgRSA), kmip.LengthAttribute(bits), kmip.NameAttribute(label)},
		[]kmip.Attribute{kmip.UsageAttribute(kmip.UsageSign)}, []kmip.Attribute{kmip.UsageAttribute(kmip.UsageVerify)})
	if err != nil {
		t.Fatalf("creating RSA pair %q: %v", label, err)
	}
	e.activate(t, priv)
	e.activate(t, pub)
	return priv, pub
}

func (e *rotEnv) activate(t *testing.T, id string) {
	t.Helper()
	if err := e.c.Activate(ctx(t), id); err != nil {
		t.Fatalf("activating %q: %v", id, err)
	}
}

// purge revokes and destroys every key of e's identity when the test ends, so that later tests
// on the shared server do not pay for them: PyKMIP scans every object it holds to answer a
// Locate. Other identities' public keys, which PyKMIP lets everyone locate, are left alone.
func (e *rotEnv) purge(t *testing.T) {
	t.Helper()
	c := context.Background()
	for _, typ := range []kmip.ObjectType{kmip.ObjectSymmetricKey, kmip.ObjectPrivateKey, kmip.ObjectPublicKey} {
		ids, err := e.c.Locate(c, kmip.ObjectTypeAttribute(typ))
		for _, id := range ids {
			if err = e.c.Revoke(c, id, kmip.RevokeKeyCompromise, ""); err == nil {
				err = e.c.Destroy(c, id)
			}
			if kmip.Reason(err) == kmip.ReasonPermissionDenied {
				err = nil
			}
			if err != nil {
				break
			}
		}
		if err != nil {
			t.Logf("clearing away the test's keys: %v", err)
			return
		}
	}
}

// attrs reads an object's attributes; every object a rotation touched must still be readable.
func (e *rotEnv) attrs(t *testing.T, id string) kmip.Attributes {
	t.Helper()
	as, err := e.c.GetAttributes(ctx(t), id)
	if err != nil {
		t.Fatalf("reading the attributes of %q: %v", id, err)
	}
	return as
}

func (e *rotEnv) state(t *testing.T, id string) kmip.State {
	t.Helper()
	s, _ := e.attrs(t, id).Enum(kmip.AttrState)
	return kmip.State(s)
}

func (e *rotEnv) key(t *testing.T, inv hsmcheck.Inventory, id string) hsmcheck.Key {
	t.Helper()
	return byID(t, keys(t, inv), id)
}

// rotate plans the rotation of the listed key id and runs it to the end.
func (e *rotEnv) rotate(t *testing.T, id string, reason hsmcheck.Reason) (*hsmcheck.Plan, []string) {
	t.Helper()
	inv := e.open(t)
	p, err := inv.PlanRotation(ctx(t), e.key(t, inv, id), reason)
	if err != nil {
		t.Fatalf("planning: %v", err)
	}
	j, err := hsmcheck.CreateJournal(t.TempDir(), p)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if err := hsmcheck.Run(ctx(t), inv, j, hsmcheck.RunOptions{}); err != nil {
		t.Fatalf("rotating: %v", err)
	}
	return j.Plan(), j.Progress().Outcomes
}

type crash struct{}

// runKilled runs the journal's rotation and stops it the way a kill would at boundary b.
func runKilled(t *testing.T, r hsmcheck.Rotator, j *hsmcheck.Journal, b hsmcheck.Boundary) {
	t.Helper()
	func() {
		defer func() {
			if v := recover(); v != nil && v != (crash{}) {
				panic(v)
			}
		}()
		err := hsmcheck.Run(ctx(t), r, j, hsmcheck.RunOptions{At: func(at hsmcheck.Boundary) {
			if at == b {
				panic(crash{})
			}
		}})
		t.Fatalf("the run was not killed at %s: %v", b, err)
	}()
	j.Close()
}

func TestRotateContract(t *testing.T) {
	s := kmiptest.StartOwn(t)
	tests := []struct {
		name    string
		reason  hsmcheck.Reason
		short   bool
		pair    bool
		oldGoes kmip.State // what the rotated keys become
	}{
		{name: "AES-256 compromise", reason: hsmcheck.ReasonCompromise, oldGoes: kmip.StateCompromised},
		// Pairs take the short suite: every boundary would cost over 10 s of key generation and
		// listing. TestRotatePairResumed covers the boundaries where a pair differs.
		{name: "RSA-1024 pair compromise", reason: hsmcheck.ReasonCompromise, short: true, pair: true, oldGoes: kmip.StateCompromised},
		{name: "AES-256 scheduled", reason: hsmcheck.ReasonScheduled, short: true, oldGoes: kmip.StateDeactivated},
		{name: "RSA-1024 pair personnel", reason: hsmcheck.ReasonPersonnel, short: true, pair: true, oldGoes: kmip.StateDeactivated},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Each case of the suite gets an identity of its own, whose keys are checked, then
			// cleared away, when the case ends: a listing slows down with each key left behind.
			rotated := 0
			envs := map[string]*rotEnv{}
			made := map[string][][]string{} // per case, each key made, then its public key
			env := func(sub *testing.T) *rotEnv {
				if e := envs[sub.Name()]; e != nil {
					return e
				}
				e := newRotEnv(sub, s)
				envs[sub.Name()] = e
				sub.Cleanup(func() {
					// Whatever interrupted them, the old keys are all still there, every half
					// either untouched (a plan only) or revoked as the reason says.
					for _, ids := range made[sub.Name()] {
						var got []kmip.State
						for _, id := range ids {
							got = append(got, e.state(sub, id))
						}
						if got[0] == tc.oldGoes {
							rotated++
						}
						want := slices.Repeat([]kmip.State{got[0]}, len(got))
						if (got[0] != kmip.StateActive && got[0] != tc.oldGoes) || !slices.Equal(got, want) {
							sub.Errorf("old key %v is %v, want all halves Active (only planned) or all %s", ids, got, tc.oldGoes)
						}
					}
				})
				return e
			}
			rotatetest.Run(t, rotatetest.Fixture{
				Open: func(t *testing.T) hsmcheck.Inventory { return env(t).open(t) },
				NewKey: func(t *testing.T) (string, int) {
					e, label := env(t), name(t, "key")
					if tc.pair {
						priv, pub := e.rsa(t, label, 1024)
						made[t.Name()] = append(made[t.Name()], []string{priv, pub})
						return priv, 0
					}
					id := e.aes(t, label, 256, false)
					made[t.Name()] = append(made[t.Name()], []string{id})
					return id, 0
				},
				Reason: tc.reason,
				Short:  tc.short,
			})
			if rotated == 0 {
				t.Errorf("no old key became %s", tc.oldGoes)
			}
		})
	}
}

func TestRotatePlan(t *testing.T) {
	s := kmiptest.Start(t)
	e := newRotEnv(t, s)
	label := name(t, "aes")
	aes := e.aes(t, label, 128, false, kmip.ObjectGroupAttribute("payments"))
	e.aes(t, label+".v2", 128, false) // a name taken already: the plan skips it
	pairLabel := name(t, "rsa")
	priv, pub := e.rsa(t, pairLabel, 1024)
	inv := e.open(t)
	tests := []struct {
		name      string
		id        string
		reason    hsmcheck.Reason
		newLabel  string
		actions   []string // per step, a part of its action
		oldKey    string
		oldPublic string
	}{
		{
			name:     "AES compromise",
			id:       aes,
			reason:   hsmcheck.ReasonCompromise,
			newLabel: label + ".v3",
			actions: []string{
				fmt.Sprintf(`create a replacement AES-128 symmetric key named %q with usage encrypt, decrypt, in object groups ["payments"], tagged keywarden "rotation:`, label+".v3"),
				"activate the replacement, so that it is in use before the old key is taken out of use",
				fmt.Sprintf("link the replacement to %s with a Replaced Object link, and %s to it with a Replacement Object link", aes, aes),
				fmt.Sprintf("revoke %s with reason Key Compromise, so that it becomes Compromised; never destroy it", aes),
			},
			oldKey: fmt.Sprintf("%s is kept, never destroyed: revoked with reason Key Compromise, it becomes Compromised, so that the server refuses it for new encryption", aes),
		},
		{
			name:     "RSA pair scheduled",
			id:       priv,
			reason:   hsmcheck.ReasonScheduled,
			newLabel: pairLabel + ".v2",
			actions: []string{
				fmt.Sprintf("create a replacement RSA-1024 key pair named %q, the private key with usage sign, the public key with usage verify, tagged", pairLabel+".v2"),
				"activate both halves of the replacement",
				fmt.Sprintf("link the replacement's private key to %s and its public key to %s with Replaced Object links", priv, pub),
				fmt.Sprintf("revoke %s and its public key %s with reason Superseded, so that both become Deactivated; never destroy them", priv, pub),
			},
			oldKey:    fmt.Sprintf("%s and its public key %s are kept, never destroyed: revoked with reason Superseded, both become Deactivated", priv, pub),
			oldPublic: pub,
		},
		{
			name:      "RSA pair personnel",
			id:        priv,
			reason:    hsmcheck.ReasonPersonnel,
			newLabel:  pairLabel + ".v2",
			actions:   []string{"", "", "", "with reason Privilege Withdrawn, so that both become Deactivated"},
			oldKey:    "revoked with reason Privilege Withdrawn, both become Deactivated",
			oldPublic: pub,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := keys(t, inv)
			p, err := inv.PlanRotation(ctx(t), byID(t, before, tc.id), tc.reason)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for i, s := range p.Steps {
				names = append(names, s.Name)
				if i < len(tc.actions) && !strings.Contains(s.Action, tc.actions[i]) {
					t.Errorf("step %d action %q, want it to contain %q", i+1, s.Action, tc.actions[i])
				}
			}
			if diff := cmp.Diff([]string{"create-replacement", "activate-replacement", "link-replacement", "revoke-old"}, names); diff != "" {
				t.Errorf("steps (-want +got):\n%s", diff)
			}
			if !strings.Contains(p.OldKey, tc.oldKey) {
				t.Errorf("OldKey %q, want it to contain %q", p.OldKey, tc.oldKey)
			}
			if got := p.State[hsmcheck.StateNewLabel]; got != tc.newLabel {
				t.Errorf("new label %q, want %q", got, tc.newLabel)
			}
			if p.State[hsmcheck.StateNewID] != "" {
				t.Errorf("the plan already names a replacement: %q", p.State[hsmcheck.StateNewID])
			}
			if got := p.State["kmip_old_public_id"]; got != tc.oldPublic {
				t.Errorf("old public key %q, want %q", got, tc.oldPublic)
			}
			if !slices.ContainsFunc(p.FollowUps, func(f string) bool { return strings.Contains(f, fmt.Sprintf("%q", tc.newLabel)) }) {
				t.Errorf("follow-ups %q do not tell clients to use %q", p.FollowUps, tc.newLabel)
			}
			if diff := cmp.Diff(before, keys(t, inv)); diff != "" {
				t.Errorf("planning changed the inventory (-before +after):\n%s", diff)
			}
		})
	}

	t.Run("refused", func(t *testing.T) {
		revoked := e.aes(t, name(t, "revoked"), 128, false)
		stale := e.key(t, inv, revoked) // listed while Active
		if err := e.c.Revoke(ctx(t), revoked, kmip.RevokeKeyCompromise, ""); err != nil {
			t.Fatal(err)
		}
		public := e.key(t, inv, priv)
		public.ID, public.Class = pub, hsmcheck.Public
		for _, tc := range []struct {
			name string
			key  hsmcheck.Key
			want error
		}{
			{"revoked on the server since it was listed", stale, hsmcheck.ErrRetired},
			{"a public key on its own", public, hsmcheck.ErrUnsupported},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if _, err := inv.PlanRotation(ctx(t), tc.key, hsmcheck.ReasonCompromise); !errors.Is(err, tc.want) {
					t.Errorf("PlanRotation: %v, want %v", err, tc.want)
				}
			})
		}
	})
}

// TestRotateReplacement checks what a finished rotation leaves on the server.
func TestRotateReplacement(t *testing.T) {
	s := kmiptest.Start(t)
	e := newRotEnv(t, s)
	info := kmip.AppInfo{Namespace: "billing", Data: "invoice-signing"}
	label := name(t, "aes")
	old := e.aes(t, label, 192, false, kmip.ObjectGroupAttribute("payments"), kmip.AppInfoAttribute(info))
	p, outcomes := e.rotate(t, old, hsmcheck.ReasonCompromise)
	newID := p.State[hsmcheck.StateNewID]

	t.Run("attributes copied", func(t *testing.T) {
		oldAs, newAs := e.attrs(t, old), e.attrs(t, newID)
		facts := func(as kmip.Attributes) []string {
			alg, _ := as.Enum(kmip.AttrCryptographicAlgorithm)
			length, _ := as.Int(kmip.AttrCryptographicLength)
			usage, _ := as.Int(kmip.AttrCryptographicUsageMask)
			return []string{kmip.CryptographicAlgorithm(alg).String(), fmt.Sprint(length), fmt.Sprint(usage), fmt.Sprint(as.Texts(kmip.AttrObjectGroup))}
		}
		if diff := cmp.Diff(facts(oldAs), facts(newAs)); diff != "" {
			t.Errorf("algorithm, length, usage mask, object groups (-old +new):\n%s", diff)
		}
		if diff := cmp.Diff([]string{label + ".v2"}, newAs.Names()); diff != "" {
			t.Errorf("names (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]kmip.AppInfo{info, kmip.RotationTag(p.ID)}, newAs.AppInfos()); diff != "" {
			t.Errorf("application specific information (-want +got):\n%s", diff)
		}
	})
	t.Run("listed", func(t *testing.T) {
		inv := e.open(t)
		ks := keys(t, inv)
		n, o := byID(t, ks, newID), byID(t, ks, old)
		got := []string{n.Label, string(n.State), n.Algorithm, string(o.State), o.Label}
		want := []string{label + ".v2", "active", "AES-192", "compromised", label}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("new label, state, algorithm; old state, label (-want +got):\n%s", diff)
		}
		// The replacement is in use; the old key is refused for new encryption.
		if _, err := inv.Challenge(ctx(t), n); err != nil {
			t.Errorf("challenging the replacement: %v", err)
		}
		_, _, err := e.c.Encrypt(ctx(t), old, kmip.CryptoParams{Mode: kmip.ModeECB, Padding: kmip.PaddingPKCS5, Algorithm: kmip.AlgAES}, make([]byte, 16), nil)
		if kmip.Reason(err) != kmip.ReasonPermissionDenied {
			t.Errorf("encrypting with the revoked key: %v, want permission denied", err)
		}
	})
	t.Run("outcomes", func(t *testing.T) {
		want := []string{
			fmt.Sprintf("created the replacement AES-192 symmetric key %s named %q", newID, label+".v2"),
			fmt.Sprintf("activated %s; in use now", newID),
			// PyKMIP cannot parse AddAttribute: the step reports it and the rotation goes on.
			fmt.Sprintf("the server refused the links %s → %s (Replaced Object), %s → %s (Replacement Object) (AddAttribute answered invalid message)", newID, old, old, newID),
			fmt.Sprintf("revoked %s with reason Key Compromise: now Compromised; kept, never destroyed", old),
		}
		for i, o := range outcomes {
			if !strings.Contains(o, want[i]) {
				t.Errorf("step %d outcome %q, want it to contain %q", i+1, o, want[i])
			}
		}
	})

	t.Run("pair", func(t *testing.T) {
		priv, pub := e.rsa(t, name(t, "rsa"), 1024)
		p, outcomes := e.rotate(t, priv, hsmcheck.ReasonCompromise)
		newPriv, newPub := p.State[hsmcheck.StateNewID], p.State["kmip_new_public_id"]
		if newPub == "" || newPub == newPriv {
			t.Fatalf("the plan records public key %q for the replacement %q", newPub, newPriv)
		}
		for _, tc := range []struct{ old, new string }{{priv, newPriv}, {pub, newPub}} {
			oldAs, newAs := e.attrs(t, tc.old), e.attrs(t, tc.new)
			for _, a := range []string{kmip.AttrObjectType, kmip.AttrCryptographicAlgorithm, kmip.AttrCryptographicLength, kmip.AttrCryptographicUsageMask} {
				ov, _ := oldAs.Get(a)
				nv, _ := newAs.Get(a)
				if diff := cmp.Diff(ov.Value, nv.Value); diff != "" {
					t.Errorf("%s of %s and %s (-old +new):\n%s", a, tc.old, tc.new, diff)
				}
			}
			if got := []kmip.State{e.state(t, tc.old), e.state(t, tc.new)}; !slices.Equal(got, []kmip.State{kmip.StateCompromised, kmip.StateActive}) {
				t.Errorf("old %s and new %s are %v, want Compromised and Active", tc.old, tc.new, got)
			}
		}
		// The pair is listed once, by its private key, fingerprinted with its own public key.
		ks := keys(t, e.open(t))
		n, o := byID(t, ks, newPriv), byID(t, ks, priv)
		if n.State != hsmcheck.Active || n.Meta["kmip-public-key-id"] != newPub || !n.HasSPKI() || n.SPKIHash == o.SPKIHash || hasID(ks, newPub) {
			t.Errorf("replacement listed as %s with public key %q (want %q), SPKI %x (old %x)", n.State, n.Meta["kmip-public-key-id"], newPub, n.SPKIHash, o.SPKIHash)
		}
		want := fmt.Sprintf("revoked %s with reason Key Compromise: now Compromised; revoked public key %s with reason Key Compromise: now Compromised; kept, never destroyed", priv, pub)
		if outcomes[3] != want {
			t.Errorf("revoke outcome %q, want %q", outcomes[3], want)
		}
	})

	t.Run("pre-active key, scheduled", func(t *testing.T) {
		// PyKMIP deactivates only what is Active, so a key never activated is revoked as
		// compromised: the only way PyKMIP takes it out of use short of destroying it.
		old := e.aes(t, name(t, "pre-active"), 128, true)
		inv := e.open(t)
		p, err := inv.PlanRotation(ctx(t), e.key(t, inv, old), hsmcheck.ReasonScheduled)
		if err != nil {
			t.Fatal(err)
		}
		if a := p.Steps[3].Action; !strings.Contains(a, "was never activated") {
			t.Errorf("revoke action %q does not warn about the Pre-Active key", a)
		}
		_, outcomes := e.rotate(t, old, hsmcheck.ReasonScheduled)
		want := fmt.Sprintf("revoked %s with reason Key Compromise (the server refused Superseded for a Pre-Active key: illegal operation): now Compromised", old)
		if !strings.Contains(outcomes[3], want) {
			t.Errorf("revoke outcome %q, want it to contain %q", outcomes[3], want)
		}
		if st := e.state(t, old); st != kmip.StateCompromised {
			t.Errorf("old key is %s, want Compromised", st)
		}
	})
}

// TestRotatePairResumed kills a pair's rotation where a pair needs more than a single key does:
// after CreateKeyPair (the run must find both halves by name), after both halves were activated,
// and after both halves of the old pair were revoked.
func TestRotatePairResumed(t *testing.T) {
	s := kmiptest.Start(t)
	for _, b := range []hsmcheck.Boundary{{Step: 0, Phase: hsmcheck.PhaseActed}, {Step: 1, Phase: hsmcheck.PhaseActed}, {Step: 3, Phase: hsmcheck.PhaseActed}} {
		t.Run(b.String(), func(t *testing.T) {
			e := newRotEnv(t, s)
			priv, pub := e.rsa(t, name(t, "rsa"), 1024)
			inv := e.open(t)
			p, err := inv.PlanRotation(ctx(t), e.key(t, inv, priv), hsmcheck.ReasonCompromise)
			if err != nil {
				t.Fatal(err)
			}
			j, err := hsmcheck.CreateJournal(t.TempDir(), p)
			if err != nil {
				t.Fatal(err)
			}
			path := j.Progress().Path
			runKilled(t, inv, j, b)
			resume(t, e, path)

			pr, err := hsmcheck.ReadJournal(path)
			if err != nil {
				t.Fatal(err)
			}
			newPriv, newPub := pr.Plan.State[hsmcheck.StateNewID], pr.Plan.State["kmip_new_public_id"]
			got := []kmip.State{e.state(t, priv), e.state(t, pub), e.state(t, newPriv), e.state(t, newPub)}
			want := []kmip.State{kmip.StateCompromised, kmip.StateCompromised, kmip.StateActive, kmip.StateActive}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("old private and public, new private and public key states (-want +got):\n%s", diff)
			}
			if o := pr.Outcomes[b.Step]; !strings.Contains(o, "already") && !strings.Contains(o, "found the replacement") {
				t.Errorf("resumed step %d outcome %q does not say it found its work done", b.Step+1, o)
			}
		})
	}
}

// TestRotateNameTaken covers a key that took the replacement's name between the plan and the
// run: the run adopts it only when it can be this rotation's own, and creates nothing else.
func TestRotateNameTaken(t *testing.T) {
	s := kmiptest.Start(t)
	e := newRotEnv(t, s)
	tests := []struct {
		name  string
		bits  int32
		extra []kmip.Attribute
		want  string // part of the error; empty when the key is adopted
	}{
		{"made by another rotation", 256, []kmip.Attribute{kmip.AppInfoAttribute(kmip.RotationTag("0123456789abcdef"))}, "made by another rotation (rotation:0123456789abcdef)"},
		{"another algorithm", 128, nil, "is AES-128, not AES-256"},
		{"the same algorithm, untagged", 256, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inv := e.open(t)
			old := e.aes(t, name(t, "aes"), 256, false)
			p, err := inv.PlanRotation(ctx(t), e.key(t, inv, old), hsmcheck.ReasonCompromise)
			if err != nil {
				t.Fatal(err)
			}
			label := p.State[hsmcheck.StateNewLabel]
			squatter := e.aes(t, label, tc.bits, true, tc.extra...)
			out, err := inv.RotateStep(ctx(t), p, 0)
			ids, lerr := e.c.Locate(ctx(t), kmip.NameAttribute(label))
			if lerr != nil || !slices.Equal(ids, []string{squatter}) {
				t.Errorf("keys named %q: %v, %v; want only %s", label, ids, lerr, squatter)
			}
			if tc.want == "" {
				if err != nil || p.State[hsmcheck.StateNewID] != squatter || !strings.Contains(out, "found the replacement") {
					t.Errorf("RotateStep: %q, %v, new id %q; want %s adopted", out, err, p.State[hsmcheck.StateNewID], squatter)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("RotateStep: %q, %v; want an error containing %q", out, err, tc.want)
			}
		})
	}
}

// TestRotateInterrupted stops a rotation after its first step by a real failure, then resumes it
// from the journal.
func TestRotateInterrupted(t *testing.T) {
	t.Run("server stopped", func(t *testing.T) {
		s := kmiptest.StartOwn(t)
		e := newRotEnv(t, s)
		old := e.aes(t, name(t, "aes"), 256, false)
		inv := e.open(t)
		p, err := inv.PlanRotation(ctx(t), e.key(t, inv, old), hsmcheck.ReasonCompromise)
		if err != nil {
			t.Fatal(err)
		}
		j, err := hsmcheck.CreateJournal(t.TempDir(), p)
		if err != nil {
			t.Fatal(err)
		}
		path := j.Progress().Path
		err = hsmcheck.Run(ctx(t), inv, j, hsmcheck.RunOptions{At: func(b hsmcheck.Boundary) {
			if b == (hsmcheck.Boundary{Step: 0, Phase: hsmcheck.PhaseDone}) {
				s.Stop(t)
			}
		}})
		j.Close()
		if !errors.Is(err, syscall.ECONNREFUSED) || !strings.Contains(err.Error(), "step 2 of 4 (activate-replacement)") || !strings.Contains(err.Error(), s.Addr) {
			t.Fatalf("run against a stopped server: %v; want connection refused at step 2, naming the server", err)
		}
		pr, err := hsmcheck.ReadJournal(path)
		if err != nil {
			t.Fatal(err)
		}
		newID := pr.Plan.State[hsmcheck.StateNewID]
		if pr.Next != 1 || !strings.Contains(pr.Failed, "connection refused") || newID == "" {
			t.Errorf("journal: next step %d, failed %q, new id %q; want step 2 failed by connection refused, the replacement recorded", pr.Next+1, pr.Failed, newID)
		}
		t.Logf("journal: %s", pr.Where())

		s.Restart(t)
		resume(t, e, path)
		if got := e.state(t, newID); got != kmip.StateActive {
			t.Errorf("the replacement %s made before the stop is %s, want Active", newID, got)
		}
	})

	t.Run("permission denied", func(t *testing.T) {
		// Someone resumes with credentials that cannot see the keys: each step fails with
		// ErrAuth before it acts, and none makes a replacement the owner cannot see.
		s := kmiptest.Start(t)
		e := newRotEnv(t, s)
		stranger := newRotEnv(t, s)
		for _, b := range []hsmcheck.Boundary{{Step: 0, Phase: hsmcheck.PhaseBegun}, {Step: 0, Phase: hsmcheck.PhaseDone}, {Step: 2, Phase: hsmcheck.PhaseDone}} {
			t.Run("after "+b.String(), func(t *testing.T) {
				old := e.aes(t, name(t, "aes"), 256, false)
				inv := e.open(t)
				p, err := inv.PlanRotation(ctx(t), e.key(t, inv, old), hsmcheck.ReasonCompromise)
				if err != nil {
					t.Fatal(err)
				}
				j, err := hsmcheck.CreateJournal(t.TempDir(), p)
				if err != nil {
					t.Fatal(err)
				}
				path := j.Progress().Path
				runKilled(t, inv, j, b)

				j, err = hsmcheck.OpenJournal(path)
				if err != nil {
					t.Fatal(err)
				}
				err = hsmcheck.Run(ctx(t), stranger.open(t), j, hsmcheck.RunOptions{})
				j.Close()
				if !errors.Is(err, hsmcheck.ErrAuth) || kmip.Reason(err) != kmip.ReasonPermissionDenied {
					t.Fatalf("resuming with another identity: %v; want ErrAuth from permission denied", err)
				}
				pr, err := hsmcheck.ReadJournal(path)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(pr.Failed, "permission denied") {
					t.Errorf("journal: %s; want the permission denied recorded", pr.Where())
				}
				// (PyKMIP shows every identity's public keys to all; symmetric keys only to
				// their owner.)
				if ids, err := stranger.c.Locate(ctx(t), kmip.ObjectTypeAttribute(kmip.ObjectSymmetricKey)); err != nil || len(ids) != 0 {
					t.Errorf("the other identity holds symmetric keys %v (%v); want none", ids, err)
				}
				resume(t, e, path)
			})
		}
	})
}

// resume finishes the journal's rotation with a freshly opened inventory and re-checks it.
func resume(t *testing.T, e *rotEnv, path string) {
	t.Helper()
	inv := e.open(t)
	j, err := hsmcheck.OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if err := hsmcheck.Run(ctx(t), inv, j, hsmcheck.RunOptions{}); err != nil {
		t.Fatalf("resuming: %v", err)
	}
	rc, err := hsmcheck.CheckRotation(ctx(t), inv, j.Plan())
	if err != nil {
		t.Fatal(err)
	}
	if !rc.OK() || rc.Replacements != 1 {
		t.Errorf("re-check after resuming: %v (%d replacements)", rc.Problems, rc.Replacements)
	}
	if err := j.Complete(); err != nil {
		t.Fatal(err)
	}
}

var nonHexRe = regexp.MustCompile(`[^0-9a-fA-F]`)

// TestRotationAttributeEncoding pins the TTLV of the attributes a rotation sends, worked out by
// hand from KMIP 1.2 sections 3.35 (Link), 3.33 (Object Group), 3.36 (Application Specific
// Information), 3.7 (Cryptographic Domain Parameters) and 9.1.
func TestRotationAttributeEncoding(t *testing.T) {
	tests := []struct {
		name string
		attr kmip.Attribute
		want string
	}{
		{
			name: "replaced object link",
			attr: kmip.LinkAttribute(kmip.LinkReplacedObject, "5"),
			want: `420008 01 00000038
				42000A 07 00000004 4c696e6b 00000000
				42000B 01 00000020
					42004B 05 00000004 00000107 00000000
					42004C 07 00000001 35 00000000000000`,
		},
		{
			name: "replacement object link",
			attr: kmip.LinkAttribute(kmip.LinkReplacementObject, "12"),
			want: `420008 01 00000038
				42000A 07 00000004 4c696e6b 00000000
				42000B 01 00000020
					42004B 05 00000004 00000106 00000000
					42004C 07 00000002 3132 000000000000`,
		},
		{
			name: "object group",
			attr: kmip.ObjectGroupAttribute("g1"),
			want: `420008 01 00000028
				42000A 07 0000000C 4f626a6563742047726f7570 00000000
				42000B 07 00000002 6731 000000000000`,
		},
		{
			name: "application specific information, second value",
			attr: func() kmip.Attribute {
				a := kmip.AppInfoAttribute(kmip.AppInfo{Namespace: "keywarden", Data: "r1"})
				a.Index = 1
				return a
			}(),
			want: `420008 01 00000068
				42000A 07 00000020 4170706c69636174696f6e205370656369666963 20496e666f726d6174696f6e
				420009 02 00000004 00000001 00000000
				42000B 01 00000028
					420003 07 00000009 6b65797761726465 6e00000000000000
					420002 07 00000002 7231 000000000000`,
		},
		{
			name: "domain parameters, P-256",
			attr: kmip.CurveAttribute(kmip.CurveP256),
			want: `420008 01 00000040
				42000A 07 0000001F 43727970746f6772617068696320446f6d61696e20506172616d6574657273 00
				42000B 01 00000010
					420075 05 00000004 00000007 00000000`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.attr.Item().MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			want, err := hex.DecodeString(nonHexRe.ReplaceAllString(tc.want, ""))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(hex.EncodeToString(want), hex.EncodeToString(got)); diff != "" {
				t.Errorf("encoding (-want +got):\n%s", diff)
			}
			back, err := kmip.Unmarshal(got)
			if err != nil {
				t.Fatal(err)
			}
			if back.Tag != kmip.TagAttribute {
				t.Errorf("decoded tag %s, want Attribute", back.Tag)
			}
		})
	}
}

func TestRotateStepErrors(t *testing.T) {
	s := kmiptest.Start(t)
	e := newRotEnv(t, s)
	inv := e.open(t)
	old := e.aes(t, name(t, "aes"), 128, false)
	plan := func(t *testing.T) *hsmcheck.Plan {
		p, err := inv.PlanRotation(ctx(t), e.key(t, inv, old), hsmcheck.ReasonCompromise)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name   string
		change func(p *hsmcheck.Plan)
		step   int
		want   string
		is     error
	}{
		{"another inventory", func(p *hsmcheck.Plan) { p.Inventory = "kmip:kms.example:5696" }, 0, "the plan is for kmip:kms.example:5696", hsmcheck.ErrConfig},
		{"no template", func(p *hsmcheck.Plan) { delete(p.State, "kmip_template") }, 0, "carries no KMIP template", hsmcheck.ErrConfig},
		{"activate before create", func(*hsmcheck.Plan) {}, 1, "the replacement is not made yet", nil},
		{"no such step", func(*hsmcheck.Plan) {}, 4, "the plan has no step 5", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := plan(t)
			tc.change(p)
			_, err := inv.RotateStep(context.Background(), p, tc.step)
			if err == nil || !strings.Contains(err.Error(), tc.want) || (tc.is != nil && !errors.Is(err, tc.is)) {
				t.Errorf("RotateStep: %v; want an error containing %q (is %v)", err, tc.want, tc.is)
			}
		})
	}
	if st := e.state(t, old); st != kmip.StateActive {
		t.Errorf("refused steps changed the old key to %s", st)
	}
}
