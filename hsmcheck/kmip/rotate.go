package kmip

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/keywarden/keywarden/hsmcheck"
)

var _ hsmcheck.Rotator = (*Inventory)(nil)

// Steps of a KMIP rotation, in order. The journal records these names.
const (
	stepCreate   = "create-replacement"
	stepActivate = "activate-replacement"
	stepLink     = "link-replacement"
	stepRevoke   = "revoke-old"
)

// Plan.State keys of a KMIP rotation, besides hsmcheck's.
const (
	stateTemplate    = "kmip_template"      // the replacement's attributes, decided when planned
	stateOldPublicID = "kmip_old_public_id" // the old pair's public key; empty for a symmetric key
	stateNewPublicID = "kmip_new_public_id" // the replacement pair's public key
)

// RotationNamespace is the Application Specific Information namespace of the tag a replacement
// carries (see RotationTag).
const RotationNamespace = "keywarden"

// RotationTag is the Application Specific Information a rotation's replacement carries: it says on
// the server which rotation made the key, and keeps a resumed run from adopting the replacement
// another rotation made under the same name.
func RotationTag(planID string) AppInfo {
	return AppInfo{Namespace: RotationNamespace, Data: "rotation:" + planID}
}

// template is what the replacement is created with, copied from the old key when planned and
// kept in the plan, so that a resumed run creates exactly the same key.
type template struct {
	Type        ObjectType             `json:"object_type"` // Symmetric Key, or Private Key for a pair
	Algorithm   CryptographicAlgorithm `json:"algorithm"`
	Length      int32                  `json:"length"`
	Usage       UsageMask              `json:"usage_mask"`                  // of the symmetric or private key
	PublicUsage UsageMask              `json:"public_usage_mask,omitempty"` // of a pair's public key
	Curve       RecommendedCurve       `json:"curve,omitempty"`
	Groups      []string               `json:"object_groups,omitempty"`
	AppInfo     []AppInfo              `json:"application_specific_information,omitempty"`
}

func (tp template) pair() bool { return tp.Type == ObjectPrivateKey }

// attributes returns the template attributes of Create (common only) or CreateKeyPair.
func (tp template) attributes(name string, tag AppInfo) (common, private, public []Attribute) {
	common = []Attribute{AlgorithmAttribute(tp.Algorithm), LengthAttribute(tp.Length), NameAttribute(name)}
	if tp.Curve != 0 {
		common = append(common, CurveAttribute(tp.Curve))
	}
	// Later values of a multi-valued attribute carry their index: servers (PyKMIP) refuse a
	// template that repeats one without.
	for i, g := range tp.Groups {
		a := ObjectGroupAttribute(g)
		a.Index = int32(i)
		common = append(common, a)
	}
	for i, info := range append(slices.Clone(tp.AppInfo), tag) {
		a := AppInfoAttribute(info)
		a.Index = int32(i)
		common = append(common, a)
	}
	if !tp.pair() {
		return append(common, UsageAttribute(tp.Usage)), nil, nil
	}
	return common, []Attribute{UsageAttribute(tp.Usage)}, []Attribute{UsageAttribute(tp.PublicUsage)}
}

// describe names what the template makes: "AES-256 symmetric key", "RSA-2048 key pair".
func (tp template) describe(alg string) string {
	if alg == "" {
		alg = algorithmName(tp.Algorithm, tp.Length)
	}
	if tp.pair() {
		return alg + " key pair"
	}
	return alg + " symmetric key"
}

func usageNames(m UsageMask) string {
	var out []string
	for _, u := range usages {
		if m&u.mask != 0 {
			out = append(out, u.name)
		}
	}
	if len(out) == 0 {
		return fmt.Sprintf("mask 0x%X", int32(m))
	}
	return strings.Join(out, ", ")
}

// publicUsage is the usage a pair's public half gets when the old pair has none to copy.
func publicUsage(private UsageMask) UsageMask {
	var m UsageMask
	for _, p := range [][2]UsageMask{{UsageSign, UsageVerify}, {UsageDecrypt, UsageEncrypt}, {UsageUnwrapKey, UsageWrapKey}} {
		if private&p[0] != 0 {
			m |= p[1]
		}
	}
	if m == 0 {
		m = UsageVerify
	}
	return m
}

var curveByAlgorithm = map[string]RecommendedCurve{"EC-P256": CurveP256, "EC-P384": CurveP384, "EC-P521": CurveP521}

// revocation is how a rotation for reason takes the old key out of use.
func revocation(reason hsmcheck.Reason) (RevocationReasonCode, State, error) {
	switch reason {
	case hsmcheck.ReasonCompromise:
		return RevokeKeyCompromise, StateCompromised, nil
	case hsmcheck.ReasonScheduled:
		return RevokeSuperseded, StateDeactivated, nil
	case hsmcheck.ReasonPersonnel:
		return RevokePrivilegeWithdrawn, StateDeactivated, nil
	}
	return 0, 0, fmt.Errorf("unknown rotation reason %q", reason)
}

// rotationAttributes are the attributes PlanRotation reads from the old key.
var rotationAttributes = []string{
	AttrObjectType, AttrCryptographicAlgorithm, AttrCryptographicLength, AttrCryptographicUsageMask,
	AttrState, AttrObjectGroup, AttrApplicationSpecificInformation,
}

// PlanRotation plans the rotation of a symmetric key or a key pair (k is the pair's private key,
// as Keys lists it): create a replacement with the old key's algorithm, length or curve, usage
// masks, object groups and application information under the versioned name hsmcheck.NextLabel
// picks among the names no object on the server has, activate it, link it and the old key with
// Replaced Object and Replacement Object links, then revoke the old key (both halves of a pair)
// with reason Key Compromise, Superseded (scheduled) or Privilege Withdrawn (personnel). It only
// reads from the server. A public key on its own is refused with hsmcheck.ErrUnsupported.
func (inv *Inventory) PlanRotation(ctx context.Context, k hsmcheck.Key, reason hsmcheck.Reason) (*hsmcheck.Plan, error) {
	p, err := hsmcheck.NewPlan(inv, k, reason)
	if err != nil {
		return nil, err
	}
	where := fmt.Sprintf("planning the rotation of %s", k.Ref())
	code, revokedState, err := revocation(p.Reason)
	if err != nil {
		return nil, fmt.Errorf("%s in %s: %w", where, inv.name, err)
	}
	tp := template{Type: ObjectSymmetricKey}
	switch k.Class {
	case hsmcheck.Secret:
	case hsmcheck.Private:
		tp.Type = ObjectPrivateKey
	default:
		return nil, fmt.Errorf("%s in %s: %w: a public key on its own has no private half to replace; rotate its key pair", where, inv.name, hsmcheck.ErrUnsupported)
	}
	as, err := inv.client.GetAttributes(ctx, k.ID, rotationAttributes...)
	if err != nil {
		return nil, inv.fail(ctx, where, err)
	}
	if t, ok := as.Enum(AttrObjectType); ok && ObjectType(t) != tp.Type {
		return nil, fmt.Errorf("%s in %s: the server holds it as a %s, not a %s", where, inv.name, ObjectType(t), tp.Type)
	}
	st, _ := as.Enum(AttrState)
	if s, known := states[State(st)]; known && !s.Live() {
		return nil, fmt.Errorf("%s in %s: %w (the server says %s)", where, inv.name, hsmcheck.ErrRetired, State(st))
	}
	alg, ok1 := as.Enum(AttrCryptographicAlgorithm)
	length, ok2 := as.Int(AttrCryptographicLength)
	usage, ok3 := as.Int(AttrCryptographicUsageMask)
	if !ok1 || !ok2 || !ok3 {
		return nil, fmt.Errorf("%s in %s: %w: the server does not say its algorithm, length and usage mask, which the replacement must copy", where, inv.name, hsmcheck.ErrUnsupported)
	}
	tp.Algorithm, tp.Length, tp.Usage = CryptographicAlgorithm(alg), length, UsageMask(usage)
	tp.Groups = as.Texts(AttrObjectGroup)
	for _, info := range as.AppInfos() {
		// The old key's own rotation tag (it replaced a key once) is not the replacement's.
		if info.Namespace != RotationNamespace {
			tp.AppInfo = append(tp.AppInfo, info)
		}
	}
	pubID := ""
	if tp.pair() {
		tp.Curve = curveByAlgorithm[k.Algorithm]
		tp.PublicUsage = publicUsage(tp.Usage)
		if pubID = k.Meta["kmip-public-key-id"]; pubID != "" {
			pas, err := inv.client.GetAttributes(ctx, pubID, AttrCryptographicUsageMask)
			if err != nil {
				return nil, inv.fail(ctx, fmt.Sprintf("%s: reading its public key %q", where, pubID), err)
			}
			if m, ok := pas.Int(AttrCryptographicUsageMask); ok {
				tp.PublicUsage = UsageMask(m)
			}
		}
	}

	base := k.Label
	if base == "" {
		base = k.ID
	}
	var lerr error
	label := hsmcheck.NextLabel(base, func(l string) bool {
		if lerr != nil {
			return false
		}
		ids, err := inv.client.Locate(ctx, NameAttribute(l))
		lerr = err
		return len(ids) > 0
	})
	if lerr != nil {
		return nil, inv.fail(ctx, fmt.Sprintf("%s: looking for a free name", where), lerr)
	}
	b, err := json.Marshal(tp)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	p.Set(hsmcheck.StateNewLabel, label)
	p.Set(stateTemplate, string(b))
	if pubID != "" {
		p.Set(stateOldPublicID, pubID)
	}

	// The sentences about the old key speak of one key or of both halves of a pair.
	old, subject, object, is, becomes := k.ID, "it", "it", "is", "becomes"
	if pubID != "" {
		old, subject, object, is, becomes = fmt.Sprintf("%s and its public key %s", k.ID, pubID), "both", "them", "are", "become"
	}
	made := fmt.Sprintf("create a replacement %s named %q with usage %s", tp.describe(k.Algorithm), label, usageNames(tp.Usage))
	if tp.pair() {
		made = fmt.Sprintf("create a replacement %s named %q, the private key with usage %s, the public key with usage %s",
			tp.describe(k.Algorithm), label, usageNames(tp.Usage), usageNames(tp.PublicUsage))
	}
	if len(tp.Groups) > 0 {
		made += fmt.Sprintf(", in object groups %q", tp.Groups)
	}
	made += fmt.Sprintf(", tagged %s %q; a run resumed after it was made finds it by that name and makes no second one", RotationNamespace, RotationTag(p.ID).Data)
	p.Step(stepCreate, made)
	if tp.pair() {
		p.Step(stepActivate, "activate both halves of the replacement, so that it is in use before the old key is taken out of use")
	} else {
		p.Step(stepActivate, "activate the replacement, so that it is in use before the old key is taken out of use")
	}
	link := fmt.Sprintf("link the replacement to %s with a Replaced Object link, and %s to it with a Replacement Object link", k.ID, k.ID)
	if pubID != "" {
		link = fmt.Sprintf("link the replacement's private key to %s and its public key to %s with Replaced Object links, and %s and %s to the replacement's halves with Replacement Object links", k.ID, pubID, k.ID, pubID)
	}
	p.Step(stepLink, link+" (AddAttribute); links the server refuses are reported, not an error")
	revoke := fmt.Sprintf("revoke %s with reason %s, so that %s %s %s; never destroy %s", old, code, subject, becomes, revokedState, object)
	if State(st) == StatePreActive && code != RevokeKeyCompromise {
		revoke += fmt.Sprintf("; %s was never activated, and if the server will not revoke it as %s for that reason (PyKMIP will not), revoke it as %s instead", k.ID, code, RevokeKeyCompromise)
	}
	p.Step(stepRevoke, revoke)
	p.OldKey = fmt.Sprintf("%s %s kept, never destroyed: revoked with reason %s, %s %s %s, so that the server refuses %s for new encryption, signing and MACs, and still decrypts and verifies where its policy allows (PyKMIP refuses every use of a key that is not Active)",
		old, is, code, subject, becomes, revokedState, object)
	clients := fmt.Sprintf("point clients at the replacement's name %q or its new identifier: the old key had no name", label)
	if k.Label != "" {
		clients = fmt.Sprintf("point clients that find the key by name at %q: the old key keeps the name %q", label, k.Label)
	}
	p.FollowUps = []string{
		clients,
		fmt.Sprintf("if the link step reports that the server refused the links, record where you track key lineage that the replacement supersedes %s", k.ID),
		"copy by hand what the replacement does not inherit: Contact Information, Usage Limits, Cryptographic Parameters, Operation Policy Name and custom (x-) attributes",
		"check that the server still decrypts and verifies with the revoked key before relying on it for old data: KMIP allows it, some servers (PyKMIP) refuse it",
	}
	return p, nil
}

// rotation is a plan being carried out.
type rotation struct {
	inv   *Inventory
	p     *hsmcheck.Plan
	tp    template
	label string
	code  RevocationReasonCode
}

// RotateStep runs step i of a plan PlanRotation made, doing only what the server does not show
// done already: a replacement found by its name is adopted instead of created, an Active
// replacement is not activated again, a link present is not added again, an old key already
// revoked is not revoked again. Links the server refuses are reported in the outcome, not
// returned as an error. It never destroys anything.
func (inv *Inventory) RotateStep(ctx context.Context, p *hsmcheck.Plan, i int) (string, error) {
	if i < 0 || i >= len(p.Steps) {
		return "", fmt.Errorf("rotating %s in %s: the plan has no step %d", p.Key.Ref(), inv.name, i+1)
	}
	if p.Inventory != inv.name {
		return "", fmt.Errorf("rotating %s: %w: the plan is for %s, not %s", p.Key.Ref(), hsmcheck.ErrConfig, p.Inventory, inv.name)
	}
	r := &rotation{inv: inv, p: p, label: p.State[hsmcheck.StateNewLabel]}
	if err := json.Unmarshal([]byte(p.State[stateTemplate]), &r.tp); err != nil || r.label == "" {
		return "", fmt.Errorf("rotating %s in %s: %w: the plan carries no KMIP template or replacement name", p.Key.Ref(), inv.name, hsmcheck.ErrConfig)
	}
	var err error
	if r.code, _, err = revocation(p.Reason); err != nil {
		return "", fmt.Errorf("rotating %s in %s: %w", p.Key.Ref(), inv.name, err)
	}
	switch name := p.Steps[i].Name; name {
	case stepCreate:
		return r.create(ctx)
	case stepActivate:
		return r.activate(ctx)
	case stepLink:
		return r.link(ctx)
	case stepRevoke:
		return r.revoke(ctx)
	default:
		return "", fmt.Errorf("rotating %s in %s: unknown step %q", p.Key.Ref(), inv.name, name)
	}
}

func (r *rotation) fail(ctx context.Context, what string, err error) error {
	return r.inv.fail(ctx, what, err)
}

func (r *rotation) oldPublic() string { return r.p.State[stateOldPublicID] }

// state reads an object's State; 0 when the server does not say.
func (r *rotation) state(ctx context.Context, id string) (State, error) {
	as, err := r.inv.client.GetAttributes(ctx, id, AttrState)
	if err != nil {
		return 0, err
	}
	s, _ := as.Enum(AttrState)
	return State(s), nil
}

func (r *rotation) create(ctx context.Context) (string, error) {
	// Read the old key first: credentials that cannot see it would not see a replacement made
	// by an earlier run either, and would make a second one.
	if _, err := r.state(ctx, r.p.Key.ID); err != nil {
		return "", r.fail(ctx, fmt.Sprintf("reading the old key %q", r.p.Key.ID), err)
	}
	priv, pub, err := r.find(ctx)
	if err != nil {
		return "", err
	}
	desc := r.tp.describe(r.p.Key.Algorithm)
	if priv != "" {
		r.setNew(priv, pub)
		return fmt.Sprintf("found the replacement %s %s named %q that an earlier run made; made no second one", desc, r.ids(priv, pub), r.label), nil
	}
	common, private, public := r.tp.attributes(r.label, RotationTag(r.p.ID))
	if r.tp.pair() {
		priv, pub, err = r.inv.client.CreateKeyPair(ctx, common, private, public)
	} else {
		priv, err = r.inv.client.Create(ctx, ObjectSymmetricKey, common...)
	}
	if err != nil {
		return "", r.fail(ctx, fmt.Sprintf("creating the replacement %s named %q", desc, r.label), err)
	}
	r.setNew(priv, pub)
	return fmt.Sprintf("created the replacement %s %s named %q", desc, r.ids(priv, pub), r.label), nil
}

func (r *rotation) ids(priv, pub string) string {
	if pub == "" {
		return priv
	}
	return fmt.Sprintf("%s (public key %s)", priv, pub)
}

func (r *rotation) setNew(priv, pub string) {
	r.p.Set(hsmcheck.StateNewID, priv)
	if pub != "" {
		r.p.Set(stateNewPublicID, pub)
	}
}

// find looks for a replacement an earlier run made: the objects of the template's types named
// r.label. The plan picked a name no object had, so one found is this rotation's, unless it
// carries another rotation's tag or another algorithm.
func (r *rotation) find(ctx context.Context) (priv, pub string, err error) {
	types := []ObjectType{r.tp.Type}
	if r.tp.pair() {
		types = append(types, ObjectPublicKey)
	}
	tag := RotationTag(r.p.ID)
	found := map[ObjectType]string{}
	for _, t := range types {
		what := fmt.Sprintf("looking for a replacement %s named %q", t, r.label)
		ids, err := r.inv.client.Locate(ctx, NameAttribute(r.label), ObjectTypeAttribute(t))
		if err != nil {
			return "", "", r.fail(ctx, what, err)
		}
		var mine []string
		for _, id := range ids {
			as, err := r.inv.client.GetAttributes(ctx, id, AttrCryptographicAlgorithm, AttrCryptographicLength, AttrApplicationSpecificInformation)
			if Reason(err) == ReasonItemNotFound {
				continue
			}
			if err != nil {
				return "", "", r.fail(ctx, what, err)
			}
			for _, info := range as.AppInfos() {
				if info.Namespace == RotationNamespace && info.Data != tag.Data {
					return "", "", fmt.Errorf("%s in %s: %s %s carries that name and was made by another rotation (%s); plan this rotation again", what, r.inv.name, t, id, info.Data)
				}
			}
			alg, _ := as.Enum(AttrCryptographicAlgorithm)
			length, _ := as.Int(AttrCryptographicLength)
			if CryptographicAlgorithm(alg) != r.tp.Algorithm || length != r.tp.Length {
				return "", "", fmt.Errorf("%s in %s: %s %s carries that name but is %s, not %s; plan this rotation again", what, r.inv.name, t, id,
					algorithmName(CryptographicAlgorithm(alg), length), algorithmName(r.tp.Algorithm, r.tp.Length))
			}
			mine = append(mine, id)
		}
		if len(mine) > 1 {
			return "", "", fmt.Errorf("%s in %s: %d of them exist (%s), and a rotation makes one; resolve by hand", what, r.inv.name, len(mine), strings.Join(mine, ", "))
		}
		if len(mine) == 1 {
			found[t] = mine[0]
		}
	}
	priv = found[r.tp.Type]
	if r.tp.pair() {
		pub = found[ObjectPublicKey]
		if (priv == "") != (pub == "") {
			return "", "", fmt.Errorf("looking for the replacement key pair named %q in %s: only one half exists (private %q, public %q); resolve by hand", r.label, r.inv.name, priv, pub)
		}
	}
	return priv, pub, nil
}

// newIDs returns the replacement's objects, private (or symmetric) key first.
func (r *rotation) newIDs() ([]string, error) {
	priv := r.p.State[hsmcheck.StateNewID]
	if priv == "" {
		return nil, fmt.Errorf("rotating %s in %s: the replacement is not made yet (step %s has not run)", r.p.Key.Ref(), r.inv.name, stepCreate)
	}
	if !r.tp.pair() {
		return []string{priv}, nil
	}
	pub := r.p.State[stateNewPublicID]
	if pub == "" {
		return nil, fmt.Errorf("rotating %s in %s: the plan does not record the replacement's public key", r.p.Key.Ref(), r.inv.name)
	}
	return []string{priv, pub}, nil
}

func (r *rotation) oldIDs() []string {
	if pub := r.oldPublic(); pub != "" {
		return []string{r.p.Key.ID, pub}
	}
	return []string{r.p.Key.ID}
}

// half names an object of the rotation for outcome lines.
func half(i int, id string) string {
	if i == 0 {
		return id
	}
	return "public key " + id
}

func (r *rotation) activate(ctx context.Context) (string, error) {
	ids, err := r.newIDs()
	if err != nil {
		return "", err
	}
	var out []string
	for i, id := range ids {
		st, err := r.state(ctx, id)
		if err != nil {
			return "", r.fail(ctx, fmt.Sprintf("reading the state of the replacement %q", id), err)
		}
		switch st {
		case StateActive:
			out = append(out, half(i, id)+" was already Active")
			continue
		case StatePreActive:
		default:
			return "", fmt.Errorf("activating the replacement %q in %s: it is %s, and cannot be brought into use", id, r.inv.name, st)
		}
		if err := r.inv.client.Activate(ctx, id); err != nil {
			return "", r.fail(ctx, fmt.Sprintf("activating the replacement %q", id), err)
		}
		out = append(out, "activated "+half(i, id))
	}
	return strings.Join(out, "; ") + "; in use now", nil
}

func (r *rotation) link(ctx context.Context) (string, error) {
	news, err := r.newIDs()
	if err != nil {
		return "", err
	}
	olds := r.oldIDs()
	type link struct {
		from string
		typ  LinkType
		to   string
	}
	var links []link
	for i := range min(len(news), len(olds)) {
		links = append(links, link{news[i], LinkReplacedObject, olds[i]}, link{olds[i], LinkReplacementObject, news[i]})
	}
	var done, refused []string
	reasons := map[string]bool{}
	var why []string
	for _, l := range links {
		desc := fmt.Sprintf("%s → %s (%s)", l.from, l.to, l.typ)
		// A server that cannot report links answers with an error; then the link is added.
		if as, err := r.inv.client.GetAttributes(ctx, l.from, AttrLink); err == nil && slices.Contains(as.Links(l.typ), l.to) {
			done = append(done, desc+" already")
			continue
		} else if err != nil && !isRefusal(err) {
			return "", r.fail(ctx, fmt.Sprintf("reading the links of %q", l.from), err)
		}
		err := r.inv.client.AddAttribute(ctx, l.from, LinkAttribute(l.typ, l.to))
		switch {
		case err == nil:
			done = append(done, desc)
		case isRefusal(err):
			refused = append(refused, desc)
			var ke *Error
			errors.As(err, &ke)
			if s := fmt.Sprintf("%s answered %s", ke.Operation, ke.Reason); !reasons[s] {
				reasons[s] = true
				why = append(why, s)
			}
		default:
			return "", r.fail(ctx, fmt.Sprintf("linking %s", desc), err)
		}
	}
	var out []string
	if len(done) > 0 {
		out = append(out, "linked "+strings.Join(done, ", "))
	}
	if len(refused) > 0 {
		out = append(out, fmt.Sprintf("the server refused the links %s (%s): the replacement and the old key are tied only by the name %q and the tag %q",
			strings.Join(refused, ", "), strings.Join(why, "; "), r.label, RotationTag(r.p.ID).Data))
	}
	return strings.Join(out, "; "), nil
}

// isRefusal reports whether the server answered with a failure, as opposed to an exchange that
// failed.
func isRefusal(err error) bool {
	var ke *Error
	return errors.As(err, &ke)
}

func (r *rotation) revoke(ctx context.Context) (string, error) {
	msg := fmt.Sprintf("keywarden rotation %s: replaced by %s", r.p.ID, r.p.State[hsmcheck.StateNewID])
	var out []string
	for i, id := range r.oldIDs() {
		what := fmt.Sprintf("revoking the old key %q", id)
		st, err := r.state(ctx, id)
		if err != nil {
			return "", r.fail(ctx, what, err)
		}
		switch {
		case st == StateCompromised || st == StateDestroyedCompromised:
			out = append(out, fmt.Sprintf("%s was already %s", half(i, id), st))
			continue
		case st == StateDeactivated && r.code != RevokeKeyCompromise:
			out = append(out, fmt.Sprintf("%s was already %s", half(i, id), st))
			continue
		case st == StateDestroyed:
			return "", fmt.Errorf("%s in %s: it was destroyed outside this rotation", what, r.inv.name)
		}
		code, note := r.code, ""
		err = r.inv.client.Revoke(ctx, id, code, msg)
		if err != nil && isRefusal(err) && st == StatePreActive && code != RevokeKeyCompromise {
			// KMIP deactivates only what was active; a key never activated is taken out of use
			// for good only as compromised.
			note = fmt.Sprintf(" (the server refused %s for a Pre-Active key: %s)", code, Reason(err))
			code = RevokeKeyCompromise
			err = r.inv.client.Revoke(ctx, id, code, msg)
		}
		if err != nil {
			return "", r.fail(ctx, what, err)
		}
		after, err := r.state(ctx, id)
		if err != nil {
			return "", r.fail(ctx, fmt.Sprintf("reading the state of the revoked key %q", id), err)
		}
		if s, known := states[after]; known && s.Live() {
			return "", fmt.Errorf("%s in %s: the server accepted the revocation, but the key is still %s", what, r.inv.name, after)
		}
		out = append(out, fmt.Sprintf("revoked %s with reason %s%s: now %s", half(i, id), code, note, after))
	}
	return strings.Join(out, "; ") + "; kept, never destroyed", nil
}
