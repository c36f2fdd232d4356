package pkcs11

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	p11 "github.com/miekg/pkcs11"

	"github.com/keywarden/keywarden/hsmcheck"
	"github.com/keywarden/keywarden/hsmcheck/pkcs11/internal/p11mod"
)

var _ hsmcheck.Rotator = (*Inventory)(nil)

// Steps of a PKCS#11 rotation, in the order they run. The journal records the names.
const (
	stepGenerate = "generate-replacement"
	stepRetire   = "retire-old"
)

// Plan.State keys this backend adds to hsmcheck's. They hold the replacement's template and
// the changes that retire the old key, decided when planning so that a resumed run repeats
// them exactly even after the old key's flags have changed.
const (
	stKind      = "kind"            // a kinds name
	stAlgorithm = "algorithm"       // the old key's Key.Algorithm, for messages
	stBits      = "modulus_bits"    // RSA
	stExponent  = "public_exponent" // RSA, hex
	stParams    = "ec_params"       // EC and EdDSA: CKA_EC_PARAMS in hex
	stValueLen  = "value_len"       // secret keys: CKA_VALUE_LEN in bytes
	stUsage     = "usage"           // the replacement's secret or private object's flags
	stPubUsage  = "public_usage"    // its public object's flags
	stEndDate   = "end_date"        // the CKA_END_DATE the old key gets, YYYYMMDD
	stRetire    = "retire"          // changes to the old secret or private object
	stRetirePub = "retire_public"   // changes to the old public object
)

// changeEndDate names the CKA_END_DATE change in stRetire and stRetirePub, next to the names of
// the flags to clear.
const changeEndDate = "end_date"

// ckmECEdwardsKeyPairGen is PKCS#11 v3.0's CKM_EC_EDWARDS_KEY_PAIR_GEN.
const ckmECEdwardsKeyPairGen = 0x1055

// kind is a key type the backend makes replacements of.
type kind struct {
	name    string
	keyType uint
	mech    uint
	pair    bool
}

// kinds are the key types a rotation supports. HMAC key types (CKK_SHA256_HMAC …) are left
// out: the standard generates them only as CKK_GENERIC_SECRET (SoftHSM refuses another key
// type with CKR_TEMPLATE_INCONSISTENT), and a replacement of another type would not be found
// by applications that look keys up by type.
var kinds = []kind{
	{"rsa", p11.CKK_RSA, p11.CKM_RSA_PKCS_KEY_PAIR_GEN, true},
	{"ec", p11.CKK_EC, p11.CKM_EC_KEY_PAIR_GEN, true},
	{"eddsa", ckkECEdwards, ckmECEdwardsKeyPairGen, true},
	{"aes", p11.CKK_AES, p11.CKM_AES_KEY_GEN, false},
	{"generic-secret", p11.CKK_GENERIC_SECRET, p11.CKM_GENERIC_SECRET_KEY_GEN, false},
}

func kindOf(o *object) (kind, bool) {
	for _, k := range kinds {
		if k.keyType == o.keyType && k.pair == (o.class != p11.CKO_SECRET_KEY) {
			return k, true
		}
	}
	return kind{}, false
}

func kindNamed(name string) (kind, bool) {
	for _, k := range kinds {
		if k.name == name {
			return k, true
		}
	}
	return kind{}, false
}

// flag is a usage attribute a rotation copies to the replacement or clears on the old key.
type flag struct {
	name  string // as in Key.Usage
	attr  uint
	cka   string
	class []uint // the object classes that have it
}

// Object classes, typed for the flag tables.
const (
	clsSecret  uint = p11.CKO_SECRET_KEY
	clsPrivate uint = p11.CKO_PRIVATE_KEY
	clsPublic  uint = p11.CKO_PUBLIC_KEY
)

var flags = []flag{
	{"sign", p11.CKA_SIGN, "CKA_SIGN", []uint{clsSecret, clsPrivate}},
	{"sign-recover", p11.CKA_SIGN_RECOVER, "CKA_SIGN_RECOVER", []uint{clsPrivate}},
	{"verify", p11.CKA_VERIFY, "CKA_VERIFY", []uint{clsSecret, clsPublic}},
	{"verify-recover", p11.CKA_VERIFY_RECOVER, "CKA_VERIFY_RECOVER", []uint{clsPublic}},
	{"encrypt", p11.CKA_ENCRYPT, "CKA_ENCRYPT", []uint{clsSecret, clsPublic}},
	{"decrypt", p11.CKA_DECRYPT, "CKA_DECRYPT", []uint{clsSecret, clsPrivate}},
	{"wrap", p11.CKA_WRAP, "CKA_WRAP", []uint{clsSecret, clsPublic}},
	{"unwrap", p11.CKA_UNWRAP, "CKA_UNWRAP", []uint{clsSecret, clsPrivate}},
	{"derive", p11.CKA_DERIVE, "CKA_DERIVE", []uint{clsSecret, clsPrivate, clsPublic}},
}

// retireFlags are the flags retiring clears on each class: those that make new output
// (signatures, ciphertext, wrapped or derived keys). The ones that read old output stay.
var retireFlags = map[uint][]string{
	clsSecret:  {"sign", "encrypt", "wrap", "derive"},
	clsPrivate: {"sign", "sign-recover", "derive"},
	clsPublic:  {"encrypt", "wrap"},
}

func flagNamed(name string) (flag, bool) {
	for _, f := range flags {
		if f.name == name {
			return f, true
		}
	}
	return flag{}, false
}

// recoverFlags are read on top of what a listing reads, to be copied and cleared.
var recoverFlags = []uint{p11.CKA_SIGN_RECOVER, p11.CKA_VERIFY_RECOVER}

// PlanRotation plans the rotation of a secret key (AES, generic secret) or a key pair (RSA, EC,
// Ed25519) in two steps, and changes nothing on the token:
//
//   - generate-replacement generates a key of the same type and size or curve with the same
//     usage flags, CKA_TOKEN, CKA_PRIVATE and CKA_SENSITIVE true and CKA_EXTRACTABLE false (for
//     a pair also its public object, not CKA_PRIVATE), labelled by hsmcheck.NextLabel and with
//     a fresh CKA_ID that the plan fixes, so that a resumed run finds it instead of making a
//     second;
//   - retire-old sets CKA_END_DATE to the plan's day on every object of the old key and clears
//     the flags that make new output (CKA_SIGN, CKA_SIGN_RECOVER, CKA_ENCRYPT, CKA_WRAP,
//     CKA_DERIVE; on a public object CKA_ENCRYPT and CKA_WRAP), one attribute at a time. It
//     keeps the key, and its flags for decrypt, verify and unwrap: the backend never destroys an
//     object. What the token refuses is named in the step's outcome; the step fails only when
//     the token refused every change.
//
// k is looked up again on the token, so the plan works from the key as it is now. A lone public
// key, an HMAC key type and a type the token cannot generate give an error wrapping
// hsmcheck.ErrUnsupported; a key out of use already gives hsmcheck.ErrRetired. A session that
// is not logged in as the user gives hsmcheck.ErrAuth.
func (inv *Inventory) PlanRotation(ctx context.Context, k hsmcheck.Key, reason hsmcheck.Reason) (*hsmcheck.Plan, error) {
	what := "planning rotation of " + k.Ref()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if k.Class == hsmcheck.Public {
		return nil, fmt.Errorf("%s on token %q: %w: a public key with no private key on the token has nothing to replace", what, inv.label, hsmcheck.ErrUnsupported)
	}
	sh, done, err := inv.userSession(what, false)
	if err != nil {
		return nil, err
	}
	defer done()
	g, cur, err := inv.findKey(ctx, sh, k)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if g.main == nil {
		return nil, fmt.Errorf("%s on token %q: %w: a public key with no private key on the token has nothing to replace", what, inv.label, hsmcheck.ErrUnsupported)
	}
	p, err := hsmcheck.NewPlan(inv, cur, reason)
	if err != nil {
		return nil, err
	}
	kd, ok := kindOf(g.main)
	if !ok {
		return nil, fmt.Errorf("%s on token %q: %w: cannot generate a replacement for a %s key", what, inv.label, hsmcheck.ErrUnsupported, keyTypeName(g.main.keyType))
	}
	if _, err := inv.mod.GetMechanismInfo(inv.slot, []*p11.Mechanism{p11.NewMechanism(kd.mech, nil)}); err != nil {
		if p11mod.Is(err, p11.CKR_MECHANISM_INVALID) {
			return nil, fmt.Errorf("%s on token %q: %w: the token cannot generate %s keys: %w", what, inv.label, hsmcheck.ErrUnsupported, cur.Algorithm, err)
		}
		return nil, inv.wrap(what, err)
	}
	for _, o := range []*object{g.main, g.pub} {
		if o != nil {
			if err := inv.readAttrs(sh, o, []uint{p11.CKA_SIGN_RECOVER, p11.CKA_VERIFY_RECOVER, p11.CKA_PRIVATE}, false); err != nil {
				return nil, inv.wrap(what, err)
			}
		}
	}
	p.Set(stKind, kd.name)
	p.Set(stAlgorithm, cur.Algorithm)
	if err := setTemplate(p, kd, g); err != nil {
		return nil, fmt.Errorf("%s on token %q: %w: %w", what, inv.label, hsmcheck.ErrUnsupported, err)
	}
	if err := inv.nameReplacement(ctx, sh, p); err != nil {
		return nil, inv.wrap(what, err)
	}
	today := utcDay(time.Now())
	p.Set(stEndDate, today.Format("20060102"))
	p.Set(stRetire, strings.Join(retirement(g.main, today), ","))
	if g.pub != nil {
		p.Set(stRetirePub, strings.Join(retirement(g.pub, today), ","))
	}

	p.Step(stepGenerate, generateAction(p, inv.label))
	p.Step(stepRetire, retireAction(p, g))
	kept := keptUsage(cur.Usage, p)
	p.OldKey = "kept on the token"
	if len(kept) > 0 {
		p.OldKey += " for " + joinAnd(kept)
	}
	p.OldKey += fmt.Sprintf("; CKA_END_DATE set to %s and %s cleared where the token allows; never destroyed", today.Format(time.DateOnly), strings.Join(clearedNames(p), "/"))
	p.FollowUps = followUps(p, g, kept)
	return p, nil
}

// setTemplate records the replacement's type parameters and usage flags in p.State.
func setTemplate(p *hsmcheck.Plan, kd kind, g group) error {
	// The public object's parameters first: they are what the generation template takes, and
	// a token may keep another form on the private object (SoftHSM keeps an Ed25519 private
	// key's CKA_EC_PARAMS as the curve's name however the pair was made).
	objs := []*object{g.pub, g.main}
	first := func(attr uint) []byte {
		for _, o := range objs {
			if o != nil && len(o.bytes(attr)) > 0 {
				return o.bytes(attr)
			}
		}
		return nil
	}
	switch kd.name {
	case "rsa":
		n, e := first(p11.CKA_MODULUS), first(p11.CKA_PUBLIC_EXPONENT)
		if len(n) == 0 || len(e) == 0 {
			return errors.New("the token does not show the RSA key's modulus and public exponent, so its size is unknown")
		}
		p.Set(stBits, strconv.Itoa(new(big.Int).SetBytes(n).BitLen()))
		p.Set(stExponent, hex.EncodeToString(e))
	case "ec", "eddsa":
		params := first(p11.CKA_EC_PARAMS)
		if len(params) == 0 {
			return errors.New("the token does not show the key's CKA_EC_PARAMS, so its curve is unknown")
		}
		p.Set(stParams, hex.EncodeToString(params))
	default:
		n, ok := g.main.ulong(p11.CKA_VALUE_LEN)
		if !ok || n == 0 {
			return errors.New("the token does not show the key's CKA_VALUE_LEN, so its size is unknown")
		}
		p.Set(stValueLen, strconv.FormatUint(n, 10))
	}
	p.Set(stUsage, usageOf(g.main, g.main.class))
	if kd.pair {
		if g.pub != nil {
			p.Set(stPubUsage, usageOf(g.pub, clsPublic))
		} else {
			p.Set(stPubUsage, publicUsageFor(g.main))
		}
	}
	return nil
}

// usageOf lists the flags of class that o has: "sign" for one set, "-sign" for one clear. A
// flag the object does not show is left to the token's default.
func usageOf(o *object, class uint) string {
	var out []string
	for _, f := range flags {
		if !slices.Contains(f.class, class) {
			continue
		}
		if b := o.flag(f.attr); b != nil {
			if *b {
				out = append(out, f.name)
			} else {
				out = append(out, "-"+f.name)
			}
		}
	}
	return strings.Join(out, ",")
}

// publicUsageFor makes the public object's flags of a private key that has none on the token
// (an import without its public key): the public counterpart of each private flag.
func publicUsageFor(priv *object) string {
	counterpart := map[string]string{"verify": "sign", "verify-recover": "sign-recover", "encrypt": "decrypt", "wrap": "unwrap"}
	var out []string
	for _, f := range flags {
		if !slices.Contains(f.class, clsPublic) || f.name == "derive" {
			continue
		}
		if b := priv.flag(flagAttr(counterpart[f.name])); b != nil && *b {
			out = append(out, f.name)
		} else {
			out = append(out, "-"+f.name)
		}
	}
	return strings.Join(out, ",")
}

func flagAttr(name string) uint {
	f, _ := flagNamed(name)
	return f.attr
}

// usageSet returns the names of the flags a stUsage value sets.
func usageSet(s string) []string {
	var out []string
	for _, n := range list(s) {
		if !strings.HasPrefix(n, "-") {
			out = append(out, n)
		}
	}
	return out
}

func list(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// nameReplacement fixes the replacement's label and CKA_ID in p.State: the next free versioned
// label, and the plan's ID as CKA_ID unless an object has it already.
func (inv *Inventory) nameReplacement(ctx context.Context, sh p11.SessionHandle, p *hsmcheck.Plan) error {
	hs, err := inv.findObjects(ctx, sh, nil)
	if err != nil {
		return err
	}
	taken := map[string]bool{}
	for _, h := range hs {
		o := &object{h: h, a: map[uint][]byte{}}
		if err := inv.readAttrs(sh, o, []uint{p11.CKA_LABEL}, false); err != nil && !errors.Is(err, errGone) {
			return err
		}
		taken[o.str(p11.CKA_LABEL)] = true
	}
	base := p.Key.Label
	if base == "" {
		base = "key-" + strings.TrimPrefix(p.Key.ID, "label:")
	}
	p.Set(hsmcheck.StateNewLabel, hsmcheck.NextLabel(base, func(l string) bool { return taken[l] }))

	id, err := hex.DecodeString(p.ID)
	for err == nil {
		hs, ferr := inv.findObjects(ctx, sh, []*p11.Attribute{p11.NewAttribute(p11.CKA_ID, id)})
		if ferr != nil {
			return ferr
		}
		if len(hs) == 0 {
			break
		}
		id = make([]byte, 16)
		_, err = rand.Read(id)
	}
	if err != nil {
		return fmt.Errorf("choosing a CKA_ID: %w", err)
	}
	p.Set(hsmcheck.StateNewID, hex.EncodeToString(id))
	return nil
}

// retirement lists the changes that take o out of use, as of today: its end date unless it
// shows one already due, and every flag of retireFlags it has set.
func retirement(o *object, today time.Time) []string {
	var out []string
	if d := o.date(p11.CKA_END_DATE); !o.readable(p11.CKA_END_DATE) || d.IsZero() || d.After(today) {
		out = append(out, changeEndDate)
	}
	for _, n := range retireFlags[o.class] {
		if b := o.flag(flagAttr(n)); b != nil && *b {
			out = append(out, n)
		}
	}
	return out
}

func generateAction(p *hsmcheck.Plan, token string) string {
	kd, _ := kindNamed(p.State[stKind])
	what := p.State[stAlgorithm] + " key"
	if kd.pair {
		what += " pair"
	}
	s := fmt.Sprintf("generate a new %s labelled %q with CKA_ID %s on token %q", what, p.State[hsmcheck.StateNewLabel], p.State[hsmcheck.StateNewID], token)
	if !kd.pair {
		return s + " that may " + mayList(usageSet(p.State[stUsage])) + "; CKA_TOKEN, CKA_PRIVATE and CKA_SENSITIVE true, CKA_EXTRACTABLE false"
	}
	return s + ", whose private key may " + mayList(usageSet(p.State[stUsage])) + " and public key may " + mayList(usageSet(p.State[stPubUsage])) +
		"; both CKA_TOKEN true, the private key CKA_PRIVATE and CKA_SENSITIVE true, CKA_EXTRACTABLE false"
}

func mayList(names []string) string {
	if len(names) == 0 {
		return "do nothing"
	}
	return joinAnd(names)
}

// joinAnd joins words as prose: "a", "a and b", "a, b and c".
func joinAnd(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}

func retireAction(p *hsmcheck.Plan, g group) string {
	end, _ := time.Parse("20060102", p.State[stEndDate])
	var parts []string
	for _, r := range []struct {
		changes []string
		role    string
	}{{list(p.State[stRetire]), roleName(g.main)}, {list(p.State[stRetirePub]), "public key"}} {
		var do, clear []string
		for _, c := range r.changes {
			if c == changeEndDate {
				do = append(do, "set CKA_END_DATE to "+end.Format(time.DateOnly))
			} else if f, ok := flagNamed(c); ok {
				clear = append(clear, f.cka)
			}
		}
		if len(clear) > 0 {
			do = append(do, "clear "+joinAnd(clear))
		}
		if len(do) > 0 {
			parts = append(parts, strings.Join(do, " and ")+" on the "+r.role)
		}
	}
	s := "take " + p.Key.Ref() + " out of use for new operations: " + strings.Join(parts, "; ")
	return s + "; each attribute separately, reporting what the token refuses; never destroy it"
}

func roleName(o *object) string {
	if o.class == p11.CKO_SECRET_KEY {
		return "secret key"
	}
	return "private key"
}

// clearedNames names the usage the plan clears, for the old-key sentence.
func clearedNames(p *hsmcheck.Plan) []string {
	var out []string
	for _, c := range append(list(p.State[stRetire]), list(p.State[stRetirePub])...) {
		if c != changeEndDate && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return []string{"no usage flag (none is set that makes new output)"}
	}
	return out
}

// keptUsage is usage minus what the plan clears.
func keptUsage(usage []string, p *hsmcheck.Plan) []string {
	cleared := clearedNames(p)
	var out []string
	for _, u := range usage {
		if slices.Contains(cleared, u) || u == "mac" && slices.Contains(cleared, "sign") {
			continue
		}
		out = append(out, u)
	}
	return out
}

func followUps(p *hsmcheck.Plan, g group, kept []string) []string {
	var by []string
	if p.Key.Label != "" {
		by = append(by, fmt.Sprintf("CKA_LABEL %q", p.Key.Label))
	}
	if !strings.HasPrefix(p.Key.ID, "label:") {
		by = append(by, "CKA_ID "+p.Key.ID)
	}
	old := strings.Join(by, " or ")
	out := []string{fmt.Sprintf("point applications that find the key by %s at the replacement: CKA_LABEL %q, CKA_ID %s",
		old, p.State[hsmcheck.StateNewLabel], p.State[hsmcheck.StateNewID])}
	if g.main.class == p11.CKO_PRIVATE_KEY {
		out = append(out, fmt.Sprintf("issue a certificate for the replacement's public key and store it on the token with CKA_ID %s, where applications that pair certificate and key by CKA_ID look", p.State[hsmcheck.StateNewID]))
	}
	out = append(out, "where the token is one of several (an HSM cluster, copies of a SoftHSM token directory), make sure the replacement and the old key's changed attributes reach every copy")
	if p.Reason == hsmcheck.ReasonCompromise {
		out = append(out, "PKCS#11 cannot mark a key compromised: record the compromise of "+p.Key.Ref()+" in your key inventory")
	}
	if b := g.main.flag(p11.CKA_PRIVATE); g.pub == nil && len(kept) > 0 && (b == nil || *b) {
		out = append(out, "some tokens cannot read back CKA_END_DATE on a CKA_PRIVATE object (SoftHSM 2.6: softhsm/SoftHSMv2#655), so the old key, which keeps "+
			joinAnd(kept)+", may still list as in use: check its state after the rotation")
	}
	return out
}

// RotateStep runs step i of a plan PlanRotation made. Each step first looks at the token and
// does only what is missing: generate-replacement finds a replacement an earlier run made by its
// CKA_ID and does not generate a second; retire-old reads each attribute before it sets it.
// Errors wrap hsmcheck.ErrAuth when the session is not logged in as the user.
func (inv *Inventory) RotateStep(ctx context.Context, p *hsmcheck.Plan, i int) (string, error) {
	if i < 0 || i >= len(p.Steps) {
		return "", fmt.Errorf("rotating %s: no step %d in a plan of %d", p.Key.Ref(), i, len(p.Steps))
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	switch p.Steps[i].Name {
	case stepGenerate:
		return inv.generate(ctx, p)
	case stepRetire:
		return inv.retire(ctx, p)
	}
	return "", fmt.Errorf("rotating %s: unknown step %q", p.Key.Ref(), p.Steps[i].Name)
}

// userSession opens a session for one rotation call and checks that it is logged in as the
// user: a token that lost its login (another application logged out, the token was reset)
// hides its private objects, so a lookup would find nothing instead of failing.
func (inv *Inventory) userSession(what string, rw bool) (p11.SessionHandle, func(), error) {
	if inv.closed.Load() {
		return 0, nil, fmt.Errorf("%s: inventory of token %q is closed", what, inv.label)
	}
	fl := uint(p11.CKF_SERIAL_SESSION)
	if rw {
		fl |= p11.CKF_RW_SESSION
	}
	sh, err := inv.mod.OpenSession(inv.slot, fl)
	if err != nil {
		return 0, nil, inv.wrap(what, err)
	}
	done := func() { _ = inv.mod.CloseSession(sh) }
	si, err := inv.mod.GetSessionInfo(sh)
	if err != nil {
		done()
		return 0, nil, inv.wrap(what, err)
	}
	if si.State != p11.CKS_RO_USER_FUNCTIONS && si.State != p11.CKS_RW_USER_FUNCTIONS {
		ti, err := inv.mod.GetTokenInfo(inv.slot)
		if err != nil || ti.Flags&p11.CKF_LOGIN_REQUIRED != 0 {
			done()
			return 0, nil, fmt.Errorf("%s on token %q: %w: the session is not logged in as the user (did another application log out?)", what, inv.label, hsmcheck.ErrAuth)
		}
	}
	return sh, done, nil
}

// findKey finds the objects k stands for, by CKA_ID (by CKA_LABEL for a key listed as
// "label:…") and, when several keys share it, by fingerprint and label, and returns them with
// the Key they list as now.
func (inv *Inventory) findKey(ctx context.Context, sh p11.SessionHandle, k hsmcheck.Key) (group, hsmcheck.Key, error) {
	var tmpl []*p11.Attribute
	if l, ok := strings.CutPrefix(k.ID, "label:"); ok {
		tmpl = []*p11.Attribute{p11.NewAttribute(p11.CKA_LABEL, l)}
	} else {
		id, err := hex.DecodeString(k.ID)
		if err != nil || len(id) == 0 {
			return group{}, hsmcheck.Key{}, fmt.Errorf("key id %q is not a PKCS#11 CKA_ID in hex", k.ID)
		}
		tmpl = []*p11.Attribute{p11.NewAttribute(p11.CKA_ID, id)}
	}
	objs, err := inv.readObjects(ctx, sh, tmpl)
	if err != nil {
		return group{}, hsmcheck.Key{}, err
	}
	type found struct {
		g group
		k hsmcheck.Key
	}
	var fs []found
	today := utcDay(time.Now())
	for _, g := range groups(objs) {
		c := inv.key(g, today)
		if c.ID != k.ID || k.Class != "" && c.Class != k.Class || k.HasSPKI() && c.SPKIHash != k.SPKIHash {
			continue
		}
		fs = append(fs, found{g, c})
	}
	if len(fs) > 1 {
		var same []found
		for _, f := range fs {
			if f.k.Label == k.Label {
				same = append(same, f)
			}
		}
		fs = same
	}
	switch len(fs) {
	case 0:
		return group{}, hsmcheck.Key{}, fmt.Errorf("no such key on token %q", inv.label)
	case 1:
		return fs[0].g, fs[0].k, nil
	}
	return group{}, hsmcheck.Key{}, fmt.Errorf("%d keys on token %q share its id and label", len(fs), inv.label)
}

// readObjects reads every key object that matches tmpl.
func (inv *Inventory) readObjects(ctx context.Context, sh p11.SessionHandle, tmpl []*p11.Attribute) ([]*object, error) {
	hs, err := inv.findObjects(ctx, sh, tmpl)
	if err != nil {
		return nil, inv.wrap("finding objects", err)
	}
	var objs []*object
	for _, h := range hs {
		o, err := inv.readObject(sh, h)
		if errors.Is(err, errGone) {
			continue
		}
		if err != nil {
			return nil, inv.wrap("reading attributes", err)
		}
		if o != nil {
			objs = append(objs, o)
		}
	}
	return objs, nil
}

// generate is the generate-replacement step.
func (inv *Inventory) generate(ctx context.Context, p *hsmcheck.Plan) (string, error) {
	what := "generating the replacement of " + p.Key.Ref()
	kd, ok := kindNamed(p.State[stKind])
	id, err := hex.DecodeString(p.State[hsmcheck.StateNewID])
	label := p.State[hsmcheck.StateNewLabel]
	if !ok || err != nil || len(id) == 0 || label == "" {
		return "", fmt.Errorf("%s: the plan has no replacement template (kind %q, CKA_ID %q, label %q)", what, p.State[stKind], p.State[hsmcheck.StateNewID], label)
	}
	sh, done, err := inv.userSession(what, true)
	if err != nil {
		return "", err
	}
	defer done()
	ref := fmt.Sprintf("%q (CKA_ID %s)", label, p.State[hsmcheck.StateNewID])

	// An earlier run may have made it and died before the journal heard.
	made, err := inv.readObjects(ctx, sh, []*p11.Attribute{p11.NewAttribute(p11.CKA_ID, id)})
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	if len(made) > 0 {
		k, err := inv.isReplacement(made, kd, label)
		if err != nil {
			return "", fmt.Errorf("%s: token %q holds objects with CKA_ID %s that are not the planned replacement (%w); resolve that by hand, the rotation never deletes", what, inv.label, p.State[hsmcheck.StateNewID], err)
		}
		return fmt.Sprintf("%s %s was already on the token, made by an earlier run; not generated again; %s", describe(k, kd), ref, k.State), nil
	}
	others, err := inv.findObjects(ctx, sh, []*p11.Attribute{p11.NewAttribute(p11.CKA_LABEL, label)})
	if err != nil {
		return "", inv.wrap(what, err)
	}
	if len(others) > 0 {
		return "", fmt.Errorf("%s: label %q was taken on token %q after the plan was made; plan the rotation again", what, label, inv.label)
	}

	common := []*p11.Attribute{
		p11.NewAttribute(p11.CKA_TOKEN, true),
		p11.NewAttribute(p11.CKA_LABEL, label),
		p11.NewAttribute(p11.CKA_ID, id),
	}
	main := append(slices.Clone(common),
		p11.NewAttribute(p11.CKA_PRIVATE, true),
		p11.NewAttribute(p11.CKA_SENSITIVE, true),
		p11.NewAttribute(p11.CKA_EXTRACTABLE, false))
	main = append(main, usageAttrs(p.State[stUsage])...)
	mech := []*p11.Mechanism{p11.NewMechanism(kd.mech, nil)}
	if kd.pair {
		pub := append(slices.Clone(common), p11.NewAttribute(p11.CKA_PRIVATE, false))
		pub = append(pub, usageAttrs(p.State[stPubUsage])...)
		switch kd.name {
		case "rsa":
			bits, err := strconv.Atoi(p.State[stBits])
			e, err2 := hex.DecodeString(p.State[stExponent])
			if err != nil || err2 != nil {
				return "", fmt.Errorf("%s: the plan's RSA parameters are not valid", what)
			}
			pub = append(pub, p11.NewAttribute(p11.CKA_MODULUS_BITS, bits), p11.NewAttribute(p11.CKA_PUBLIC_EXPONENT, e))
		default:
			params, err := hex.DecodeString(p.State[stParams])
			if err != nil {
				return "", fmt.Errorf("%s: the plan's CKA_EC_PARAMS are not valid", what)
			}
			pub = append(pub, p11.NewAttribute(p11.CKA_EC_PARAMS, params))
		}
		_, _, err = inv.mod.GenerateKeyPair(sh, mech, pub, main)
	} else {
		n, err2 := strconv.Atoi(p.State[stValueLen])
		if err2 != nil {
			return "", fmt.Errorf("%s: the plan's CKA_VALUE_LEN is not valid", what)
		}
		main = append(main,
			p11.NewAttribute(p11.CKA_CLASS, p11.CKO_SECRET_KEY),
			p11.NewAttribute(p11.CKA_KEY_TYPE, kd.keyType),
			p11.NewAttribute(p11.CKA_VALUE_LEN, n))
		_, err = inv.mod.GenerateKey(sh, mech, main)
	}
	if p11mod.Is(err, p11.CKR_MECHANISM_INVALID, p11.CKR_MECHANISM_PARAM_INVALID, p11.CKR_TEMPLATE_INCONSISTENT, p11.CKR_TEMPLATE_INCOMPLETE,
		p11.CKR_ATTRIBUTE_VALUE_INVALID, p11.CKR_ATTRIBUTE_TYPE_INVALID, p11.CKR_KEY_SIZE_RANGE, p11.CKR_DOMAIN_PARAMS_INVALID, p11.CKR_CURVE_NOT_SUPPORTED) {
		return "", fmt.Errorf("%s on token %q: %w: the token refused the template: %w", what, inv.label, hsmcheck.ErrUnsupported, err)
	}
	if err != nil {
		return "", inv.wrap(what, err)
	}
	made, err = inv.readObjects(ctx, sh, []*p11.Attribute{p11.NewAttribute(p11.CKA_ID, id)})
	if err != nil {
		return "", fmt.Errorf("%s: reading it back: %w", what, err)
	}
	k, err := inv.isReplacement(made, kd, label)
	if err != nil {
		return "", fmt.Errorf("%s: reading it back: %w", what, err)
	}
	return fmt.Sprintf("generated %s %s; %s", describe(k, kd), ref, k.State), nil
}

// isReplacement checks that objs, which carry the replacement's CKA_ID, are one whole key of
// the planned kind and label, and returns it.
func (inv *Inventory) isReplacement(objs []*object, kd kind, label string) (hsmcheck.Key, error) {
	gs := groups(objs)
	if len(gs) != 1 {
		return hsmcheck.Key{}, fmt.Errorf("%d keys", len(gs))
	}
	g := gs[0]
	switch {
	case g.main == nil:
		return hsmcheck.Key{}, errors.New("a public key without its private key")
	case kd.pair && g.pub == nil:
		return hsmcheck.Key{}, errors.New("a private key without its public key")
	case g.main.keyType != kd.keyType:
		return hsmcheck.Key{}, fmt.Errorf("a %s key", keyTypeName(g.main.keyType))
	case g.main.str(p11.CKA_LABEL) != label:
		return hsmcheck.Key{}, fmt.Errorf("labelled %q", g.main.str(p11.CKA_LABEL))
	}
	return inv.key(g, utcDay(time.Now())), nil
}

func describe(k hsmcheck.Key, kd kind) string {
	if kd.pair {
		return k.Algorithm + " key pair"
	}
	return k.Algorithm + " key"
}

// usageAttrs turns a stUsage value into template attributes.
func usageAttrs(s string) []*p11.Attribute {
	var out []*p11.Attribute
	for _, n := range list(s) {
		name, off := strings.CutPrefix(n, "-")
		if f, ok := flagNamed(name); ok {
			out = append(out, p11.NewAttribute(f.attr, !off))
		}
	}
	return out
}

// change is the fate of one planned change to the old key.
type change struct {
	role, cka string
	status    int
	why       string // the token's refusal
}

const (
	changed = iota
	already
	refused
)

// retire is the retire-old step.
func (inv *Inventory) retire(ctx context.Context, p *hsmcheck.Plan) (string, error) {
	what := "taking " + p.Key.Ref() + " out of use"
	end, err := time.Parse("20060102", p.State[stEndDate])
	if err != nil {
		return "", fmt.Errorf("%s: the plan has no valid end date %q", what, p.State[stEndDate])
	}
	sh, done, err := inv.userSession(what, true)
	if err != nil {
		return "", err
	}
	defer done()
	g, _, err := inv.findKey(ctx, sh, p.Key)
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	var cs []change
	for _, r := range []struct {
		o       *object
		changes []string
	}{{g.main, list(p.State[stRetire])}, {g.pub, list(p.State[stRetirePub])}} {
		if len(r.changes) == 0 {
			continue
		}
		if r.o == nil {
			return "", fmt.Errorf("%s: its public object is gone from token %q", what, inv.label)
		}
		if err := inv.readAttrs(sh, r.o, recoverFlags, false); err != nil {
			return "", inv.wrap(what, err)
		}
		for _, name := range r.changes {
			if err := ctx.Err(); err != nil {
				return "", err
			}
			c, err := inv.apply(sh, r.o, name, end)
			if err != nil {
				return "", inv.wrap(what, err)
			}
			cs = append(cs, c)
		}
	}
	type roleItems struct {
		role  string
		items []string
	}
	var byRole []roleItems
	var refusals []string
	changedAny, endRefused := false, false
	for _, c := range cs {
		var item string
		switch c.status {
		case changed:
			changedAny = true
			item = c.cka + " cleared"
			if c.cka == "CKA_END_DATE" {
				item = "CKA_END_DATE set to " + end.Format(time.DateOnly)
			}
		case already:
			changedAny = true
			item = c.cka + " already clear"
			if c.cka == "CKA_END_DATE" {
				item = "CKA_END_DATE already set"
			}
		case refused:
			item = c.cka + " refused by the token (" + c.why + ")"
			refusals = append(refusals, c.cka+" on the "+c.role+" ("+c.why+")")
			endRefused = endRefused || c.cka == "CKA_END_DATE"
		}
		if len(byRole) == 0 || byRole[len(byRole)-1].role != c.role {
			byRole = append(byRole, roleItems{role: c.role})
		}
		byRole[len(byRole)-1].items = append(byRole[len(byRole)-1].items, item)
	}
	if len(cs) > 0 && !changedAny {
		return "", fmt.Errorf("%s on token %q: the token refused every change: %s", what, inv.label, strings.Join(refusals, ", "))
	}
	var rs []string
	for _, r := range byRole {
		rs = append(rs, r.role+": "+strings.Join(r.items, ", "))
	}
	if len(rs) == 0 {
		rs = append(rs, "nothing to change")
	}
	parts := []string{"old key " + p.Key.Ref() + ": " + strings.Join(rs, "; ")}

	// Read the key back as a listing will show it.
	g, now, err := inv.findKey(ctx, sh, p.Key)
	if err != nil {
		return "", fmt.Errorf("%s: reading it back: %w", what, err)
	}
	if len(now.Usage) > 0 {
		parts = append(parts, "still may "+joinAnd(now.Usage))
	}
	if !now.State.Live() {
		parts = append(parts, "lists as "+string(now.State))
	} else {
		// Say why, so that the user does not take a token's limits for a failed rotation.
		s := "still lists as " + string(now.State)
		switch {
		case endRefused:
			s += ", since the token refused its end date"
		case !g.main.readable(p11.CKA_END_DATE) && (g.pub == nil || g.pub.date(p11.CKA_END_DATE).IsZero()):
			s += fmt.Sprintf(": the token does not read back CKA_END_DATE on the %s (SoftHSM 2.6 on CKA_PRIVATE objects: softhsm/SoftHSMv2#655) and the key keeps %s", roleName(g.main), strings.Join(now.Usage, ", "))
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; "), nil
}

// apply makes one change to o, unless it is in place: CKA_END_DATE (named changeEndDate) set to
// end or earlier, or a flag cleared. A token's refusal is a change's status, not an error;
// errors are the ones that end the step (a lost login, a lost session).
func (inv *Inventory) apply(sh p11.SessionHandle, o *object, name string, end time.Time) (change, error) {
	c := change{role: roleName(o)}
	if o.class == p11.CKO_PUBLIC_KEY {
		c.role = "public key"
	}
	var attr *p11.Attribute
	if name == changeEndDate {
		c.cka = "CKA_END_DATE"
		if d := o.date(p11.CKA_END_DATE); o.readable(p11.CKA_END_DATE) && !d.IsZero() && !d.After(end) {
			c.status = already
			return c, nil
		}
		attr = p11.NewAttribute(p11.CKA_END_DATE, []byte(end.Format("20060102")))
	} else {
		f, ok := flagNamed(name)
		if !ok {
			return c, fmt.Errorf("the plan names an unknown change %q", name)
		}
		c.cka = f.cka
		if b := o.flag(f.attr); b != nil && !*b {
			c.status = already
			return c, nil
		}
		attr = p11.NewAttribute(f.attr, false)
	}
	err := inv.mod.SetAttributeValue(sh, o.h, []*p11.Attribute{attr})
	switch {
	case err == nil:
		c.status = changed
	case p11mod.Is(err, fatal...), p11mod.Is(err, p11.CKR_OBJECT_HANDLE_INVALID, p11.CKR_SESSION_READ_ONLY, p11.CKR_TOKEN_WRITE_PROTECTED):
		return c, err
	default:
		c.status, c.why = refused, rvName(err)
	}
	return c, nil
}

// rvName names a PKCS#11 return value; github.com/miekg/pkcs11 leaves some of v2.40's unnamed.
func rvName(err error) string {
	var rv p11.Error
	if !errors.As(err, &rv) {
		return err.Error()
	}
	if uint(rv) == p11.CKR_ACTION_PROHIBITED {
		return "CKR_ACTION_PROHIBITED"
	}
	s := rv.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 && i+2 < len(s) {
		return s[i+2:]
	}
	return fmt.Sprintf("CKR 0x%X", uint(rv))
}
