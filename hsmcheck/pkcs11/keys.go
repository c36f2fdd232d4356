package pkcs11

import (
	"context"
	"crypto/rsa"
	"encoding/asn1"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	p11 "github.com/miekg/pkcs11"

	"github.com/keywarden/keywarden/hsmcheck"
	"github.com/keywarden/keywarden/hsmcheck/pkcs11/internal/p11mod"
)

// Key types PKCS#11 v3.0 added, which github.com/miekg/pkcs11 does not name.
const (
	ckkECEdwards    = 0x40
	ckkECMontgomery = 0x41
)

// usageFlags are the usage attributes in the order Key.Usage lists them.
var usageFlags = []struct {
	attr uint
	name string
}{
	{p11.CKA_SIGN, "sign"},
	{p11.CKA_VERIFY, "verify"},
	{p11.CKA_ENCRYPT, "encrypt"},
	{p11.CKA_DECRYPT, "decrypt"},
	{p11.CKA_WRAP, "wrap"},
	{p11.CKA_UNWRAP, "unwrap"},
	{p11.CKA_DERIVE, "derive"},
}

// Attributes read from every key object; the ones a class lacks are left out so that a
// token answers in one call.
var (
	commonAttrs  = []uint{p11.CKA_LABEL, p11.CKA_ID, p11.CKA_START_DATE, p11.CKA_END_DATE}
	secretAttrs  = []uint{p11.CKA_SIGN, p11.CKA_VERIFY, p11.CKA_ENCRYPT, p11.CKA_DECRYPT, p11.CKA_WRAP, p11.CKA_UNWRAP, p11.CKA_DERIVE, p11.CKA_EXTRACTABLE, p11.CKA_SENSITIVE, p11.CKA_ALWAYS_SENSITIVE, p11.CKA_NEVER_EXTRACTABLE, p11.CKA_CHECK_VALUE, p11.CKA_VALUE_LEN}
	privateAttrs = []uint{p11.CKA_SIGN, p11.CKA_DECRYPT, p11.CKA_UNWRAP, p11.CKA_DERIVE, p11.CKA_EXTRACTABLE, p11.CKA_SENSITIVE, p11.CKA_ALWAYS_SENSITIVE, p11.CKA_NEVER_EXTRACTABLE}
	publicAttrs  = []uint{p11.CKA_VERIFY, p11.CKA_ENCRYPT, p11.CKA_WRAP, p11.CKA_DERIVE}
	rsaAttrs     = []uint{p11.CKA_MODULUS, p11.CKA_PUBLIC_EXPONENT}
	// Tokens differ most on these, so they are read one at a time.
	optionalAttrs = []uint{p11.CKA_PUBLIC_KEY_INFO, p11.CKA_EC_POINT}
)

// object is one key object's readable attributes. It never holds CKA_VALUE or any other
// private part: those are never asked for.
type object struct {
	h       p11.ObjectHandle
	class   uint
	keyType uint
	a       map[uint][]byte // attributes the token returned, possibly empty

	unreadable []uint // attributes the token failed to return
}

func (o *object) readable(t uint) bool {
	for _, u := range o.unreadable {
		if u == t {
			return false
		}
	}
	return true
}

func (o *object) bytes(t uint) []byte { return o.a[t] }

func (o *object) str(t uint) string { return string(o.a[t]) }

func (o *object) flag(t uint) *bool {
	v, ok := o.a[t]
	if !ok || len(v) == 0 {
		return nil
	}
	return hsmcheck.BoolPtr(v[0] != 0)
}

func (o *object) ulong(t uint) (uint64, bool) {
	return ulong(o.a[t])
}

func ulong(v []byte) (uint64, bool) {
	switch len(v) {
	case 8:
		return binary.NativeEndian.Uint64(v), true
	case 4:
		return uint64(binary.NativeEndian.Uint32(v)), true
	}
	return 0, false
}

// date reads a CK_DATE ("YYYYMMDD"); an empty or zero date is unset.
func (o *object) date(t uint) time.Time {
	d, err := time.Parse("20060102", string(o.a[t]))
	if err != nil {
		return time.Time{}
	}
	return d
}

// match is what pairs a private key with its public object: CKA_ID, else CKA_LABEL.
func (o *object) match() string {
	if id := o.bytes(p11.CKA_ID); len(id) > 0 {
		return "id:" + hex.EncodeToString(id)
	}
	if l := o.str(p11.CKA_LABEL); l != "" {
		return "label:" + l
	}
	return ""
}

// errGone means an object disappeared between listing and reading.
var errGone = errors.New("object is gone")

// fatal are the return values that end a listing rather than leave one attribute out.
var fatal = []uint{
	p11.CKR_SESSION_HANDLE_INVALID, p11.CKR_SESSION_CLOSED, p11.CKR_CRYPTOKI_NOT_INITIALIZED,
	p11.CKR_DEVICE_REMOVED, p11.CKR_DEVICE_ERROR, p11.CKR_TOKEN_NOT_PRESENT, p11.CKR_USER_NOT_LOGGED_IN,
	p11.CKR_HOST_MEMORY, p11.CKR_DEVICE_MEMORY,
}

// readAttrs reads types into o, in one call when batch is set and the token answers it, else
// one at a time. Attributes the object lacks (CKR_ATTRIBUTE_TYPE_INVALID) or hides
// (CKR_ATTRIBUTE_SENSITIVE) are left out; one the token fails to read for another reason is
// noted in o.unreadable, so that one broken attribute does not hide the key. (SoftHSM 2.6
// cannot read back CKA_START_DATE or CKA_END_DATE once set on a CKA_PRIVATE object: issues
// softhsm/SoftHSMv2#655 and #804.)
func (inv *Inventory) readAttrs(sh p11.SessionHandle, o *object, types []uint, batch bool) error {
	if batch && len(types) > 1 {
		tmpl := make([]*p11.Attribute, len(types))
		for i, t := range types {
			tmpl[i] = p11.NewAttribute(t, nil)
		}
		got, err := inv.mod.GetAttributeValue(sh, o.h, tmpl)
		switch {
		case err == nil:
			for _, a := range got {
				if a.Value != nil {
					o.a[a.Type] = a.Value
				}
			}
			return nil
		case p11mod.Is(err, p11.CKR_OBJECT_HANDLE_INVALID):
			return errGone
		case p11mod.Is(err, fatal...):
			return err
		}
	}
	for _, t := range types {
		got, err := inv.mod.GetAttributeValue(sh, o.h, []*p11.Attribute{p11.NewAttribute(t, nil)})
		switch {
		case err == nil:
			if got[0].Value != nil {
				o.a[t] = got[0].Value
			}
		case p11mod.Is(err, p11.CKR_ATTRIBUTE_TYPE_INVALID, p11.CKR_ATTRIBUTE_SENSITIVE):
		case p11mod.Is(err, p11.CKR_OBJECT_HANDLE_INVALID):
			return errGone
		case p11mod.Is(err, fatal...):
			return err
		default:
			o.unreadable = append(o.unreadable, t)
		}
	}
	return nil
}

// readObject returns the key object h, or nil when it is not a key.
func (inv *Inventory) readObject(sh p11.SessionHandle, h p11.ObjectHandle) (*object, error) {
	o := &object{h: h, a: map[uint][]byte{}}
	if err := inv.readAttrs(sh, o, []uint{p11.CKA_CLASS, p11.CKA_KEY_TYPE}, true); err != nil {
		return nil, err
	}
	class, ok1 := o.ulong(p11.CKA_CLASS)
	kt, ok2 := o.ulong(p11.CKA_KEY_TYPE)
	if !ok1 || !ok2 {
		return nil, nil
	}
	o.class, o.keyType = uint(class), uint(kt)
	types := append([]uint(nil), commonAttrs...)
	var optional []uint
	switch o.class {
	case p11.CKO_SECRET_KEY:
		types = append(types, secretAttrs...)
	case p11.CKO_PRIVATE_KEY:
		types = append(types, privateAttrs...)
		optional = optionalAttrs
	case p11.CKO_PUBLIC_KEY:
		types = append(types, publicAttrs...)
		optional = optionalAttrs
	default:
		return nil, nil
	}
	if o.class != p11.CKO_SECRET_KEY {
		switch o.keyType {
		case p11.CKK_RSA:
			types = append(types, rsaAttrs...)
		case p11.CKK_EC, ckkECEdwards, ckkECMontgomery:
			types = append(types, p11.CKA_EC_PARAMS)
		}
	}
	if err := inv.readAttrs(sh, o, types, true); err != nil {
		return nil, err
	}
	if err := inv.readAttrs(sh, o, optional, false); err != nil {
		return nil, err
	}
	return o, nil
}

// Keys lists the token's secret keys, its key pairs (one Key each, class Private, with the
// public half's fingerprint) and public keys that have no private key on the token.
func (inv *Inventory) Keys(ctx context.Context, yield func(hsmcheck.Key) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	sh, done, err := inv.session()
	if err != nil {
		return err
	}
	defer done()
	handles, err := inv.findObjects(ctx, sh, nil)
	if err != nil {
		return inv.wrap("listing objects", err)
	}
	objs := make([]*object, 0, len(handles))
	for _, h := range handles {
		if err := ctx.Err(); err != nil {
			return err
		}
		o, err := inv.readObject(sh, h)
		if errors.Is(err, errGone) {
			continue
		}
		if err != nil {
			return inv.wrap("reading attributes", err)
		}
		if o != nil {
			objs = append(objs, o)
		}
	}
	for _, k := range inv.keys(objs, time.Now()) {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := yield(k); err != nil {
			return err
		}
	}
	return nil
}

// findObjects returns the handles of every object that matches tmpl.
func (inv *Inventory) findObjects(ctx context.Context, sh p11.SessionHandle, tmpl []*p11.Attribute) ([]p11.ObjectHandle, error) {
	if err := inv.mod.FindObjectsInit(sh, tmpl); err != nil {
		return nil, err
	}
	var all []p11.ObjectHandle
	for {
		if err := ctx.Err(); err != nil {
			_ = inv.mod.FindObjectsFinal(sh)
			return nil, err
		}
		hs, _, err := inv.mod.FindObjects(sh, 256)
		if err != nil {
			_ = inv.mod.FindObjectsFinal(sh)
			return nil, err
		}
		if len(hs) == 0 {
			break
		}
		all = append(all, hs...)
	}
	return all, inv.mod.FindObjectsFinal(sh)
}

// wrap adds context to a token error, marking a lost or missing login with ErrAuth.
func (inv *Inventory) wrap(what string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if p11mod.Is(err, p11.CKR_USER_NOT_LOGGED_IN, p11.CKR_PIN_EXPIRED, p11.CKR_PIN_LOCKED) {
		return fmt.Errorf("%s on token %q: %w: %w", what, inv.label, hsmcheck.ErrAuth, err)
	}
	return fmt.Errorf("%s on token %q: %w", what, inv.label, err)
}

// keys turns objects into Keys: secret keys first, then key pairs, then lone public keys, each
// in the token's order.
func (inv *Inventory) keys(objs []*object, now time.Time) []hsmcheck.Key {
	today := utcDay(now)
	var out []hsmcheck.Key
	for _, g := range groups(objs) {
		out = append(out, inv.key(g, today))
	}
	return out
}

func utcDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// group is the objects one Key stands for: a secret key (main), a private key (main) and its
// public object (pub, nil when the token has none), or a lone public key (pub, main nil).
type group struct{ main, pub *object }

// groups sorts objects into Keys: secret keys first, then key pairs, then lone public keys, each
// in the token's order.
func groups(objs []*object) []group {
	publics := map[string][]*object{}
	for _, o := range objs {
		if o.class == p11.CKO_PUBLIC_KEY && o.match() != "" {
			publics[o.match()] = append(publics[o.match()], o)
		}
	}
	used := map[*object]bool{}
	var out []group
	for _, o := range objs {
		if o.class == p11.CKO_SECRET_KEY {
			out = append(out, group{main: o})
		}
	}
	for _, o := range objs {
		if o.class != p11.CKO_PRIVATE_KEY {
			continue
		}
		var pub *object
		own, ownOK, _ := spki(o)
		for _, p := range publics[o.match()] {
			if used[p] || p.keyType != o.keyType {
				continue
			}
			if h, ok, _ := spki(p); ownOK && (!ok || h != own) {
				continue // another key's public half that happens to share the ID
			}
			pub = p
			used[p] = true
			break
		}
		out = append(out, group{main: o, pub: pub})
	}
	for _, o := range objs {
		if o.class == p11.CKO_PUBLIC_KEY && !used[o] {
			out = append(out, group{pub: o})
		}
	}
	return out
}

// key makes the Key of g as of today.
func (inv *Inventory) key(g group, today time.Time) hsmcheck.Key {
	if g.main != nil && g.main.class == p11.CKO_SECRET_KEY {
		return inv.secretKey(g.main, today)
	}
	return inv.pairKey(g.main, g.pub, today)
}

func (inv *Inventory) base(o *object) hsmcheck.Key {
	k := hsmcheck.Key{
		Label: o.str(p11.CKA_LABEL),
		Scope: inv.scope,
		Meta: map[string]string{
			"token":    inv.label,
			"slot":     strconv.FormatUint(uint64(inv.slot), 10),
			"key_type": keyTypeName(o.keyType),
		},
	}
	if id := o.bytes(p11.CKA_ID); len(id) > 0 {
		k.ID = hex.EncodeToString(id)
	} else {
		k.ID = "label:" + k.Label
	}
	k.Extractable = o.flag(p11.CKA_EXTRACTABLE)
	k.Sensitive = o.flag(p11.CKA_SENSITIVE)
	for _, a := range []struct {
		attr uint
		name string
	}{{p11.CKA_ALWAYS_SENSITIVE, "always_sensitive"}, {p11.CKA_NEVER_EXTRACTABLE, "never_extractable"}} {
		if b := o.flag(a.attr); b != nil {
			k.Meta[a.name] = strconv.FormatBool(*b)
		}
	}
	return k
}

func (inv *Inventory) secretKey(o *object, today time.Time) hsmcheck.Key {
	k := inv.base(o)
	k.Class = hsmcheck.Secret
	k.Algorithm = secretAlgorithm(o)
	if cv := o.bytes(p11.CKA_CHECK_VALUE); len(cv) > 0 {
		k.CheckValue = append([]byte(nil), cv...)
	}
	u, known := usage(o)
	k.Usage = u
	if contains(u, "sign") {
		k.Usage = append(k.Usage, "mac") // a secret key signs by computing a MAC
	}
	k.State = inv.lifecycle(&k, today, len(u) > 0, known, o)
	return k
}

// pairKey makes the Key of a private key and its public object; either may be nil, but not
// both. The private object's own attributes win over its public object's.
func (inv *Inventory) pairKey(priv, pub *object, today time.Time) hsmcheck.Key {
	main := priv
	if main == nil {
		main = pub
	}
	k := inv.base(main)
	k.Class = hsmcheck.Private
	if priv == nil {
		k.Class = hsmcheck.Public
	}
	var source string
	for _, o := range []*object{priv, pub} {
		if o == nil {
			continue
		}
		if h, ok, src := spki(o); ok {
			k.SPKIHash = h
			source = src
			if o == pub && priv != nil {
				source = "public object " + src
			}
			break
		}
	}
	if source != "" {
		k.Meta["spki_source"] = source
	}
	for _, o := range []*object{pub, priv} {
		if o != nil && k.RSAModulus == nil {
			k.SetRSAPublic(rsaPublic(o))
		}
	}
	if priv != nil {
		k.Meta["public_object"] = strconv.FormatBool(pub != nil)
	}
	k.Algorithm = pairAlgorithm(priv, pub)
	known := false
	for _, o := range []*object{priv, pub} {
		if o == nil {
			continue
		}
		u, kn := usage(o)
		known = known || kn
		for _, n := range u {
			if !contains(k.Usage, n) {
				k.Usage = append(k.Usage, n)
			}
		}
	}
	k.Usage = ordered(k.Usage)
	k.State = inv.lifecycle(&k, today, len(k.Usage) > 0, known, priv, pub)
	return k
}

// usage returns the names of the usage flags o has set, and whether it has any of them at
// all.
func usage(o *object) (set []string, known bool) {
	for _, f := range usageFlags {
		if b := o.flag(f.attr); b != nil {
			known = true
			if *b {
				set = append(set, f.name)
			}
		}
	}
	return set, known
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func ordered(names []string) []string {
	var out []string
	for _, f := range usageFlags {
		if contains(names, f.name) {
			out = append(out, f.name)
		}
	}
	return out
}

// lifecycle sets k's dates from the first of objs that has each, notes attributes the token
// failed to read, and returns the state.
func (inv *Inventory) lifecycle(k *hsmcheck.Key, today time.Time, inUse, flagsKnown bool, objs ...*object) hsmcheck.State {
	var startKnown, endKnown bool
	k.Activated, startKnown = date(p11.CKA_START_DATE, objs)
	k.Expires, endKnown = date(p11.CKA_END_DATE, objs)
	var bad []string
	for _, o := range objs {
		if o == nil {
			continue
		}
		for _, t := range o.unreadable {
			if n := attrName(t); !contains(bad, n) {
				bad = append(bad, n)
			}
		}
	}
	if len(bad) > 0 {
		k.Meta["unreadable"] = strings.Join(bad, ",")
	}
	return state(today, k.Activated, k.Expires, startKnown && endKnown, inUse, flagsKnown)
}

// date returns the first set date attr among objs, and false when an object failed to read
// it and none had it set.
func date(attr uint, objs []*object) (time.Time, bool) {
	known := true
	for _, o := range objs {
		if o == nil {
			continue
		}
		if !o.readable(attr) {
			known = false
			continue
		}
		if d := o.date(attr); !d.IsZero() {
			return d, true
		}
	}
	return time.Time{}, known
}

// state applies the PKCS#11 reading of the life cycle. CKA_END_DATE is the day the key is
// taken out of use, like KMIP's Deactivation Date, so a key is deactivated on it; before
// CKA_START_DATE it is pre-active; with every usage flag cleared it is disabled. A key whose
// dates the token could not read is unknown unless its flags already say it is disabled.
func state(today, start, end time.Time, datesKnown, inUse, flagsKnown bool) hsmcheck.State {
	switch {
	case !end.IsZero() && !end.After(today):
		return hsmcheck.Deactivated
	case start.After(today):
		return hsmcheck.PreActive
	case flagsKnown && !inUse:
		return hsmcheck.Disabled
	case !datesKnown:
		return hsmcheck.Unknown
	}
	return hsmcheck.Active
}

var attrNames = map[uint]string{
	p11.CKA_LABEL: "CKA_LABEL", p11.CKA_ID: "CKA_ID", p11.CKA_START_DATE: "CKA_START_DATE",
	p11.CKA_END_DATE: "CKA_END_DATE", p11.CKA_CHECK_VALUE: "CKA_CHECK_VALUE", p11.CKA_VALUE_LEN: "CKA_VALUE_LEN",
	p11.CKA_MODULUS: "CKA_MODULUS", p11.CKA_PUBLIC_EXPONENT: "CKA_PUBLIC_EXPONENT", p11.CKA_EC_PARAMS: "CKA_EC_PARAMS",
	p11.CKA_EC_POINT: "CKA_EC_POINT", p11.CKA_PUBLIC_KEY_INFO: "CKA_PUBLIC_KEY_INFO", p11.CKA_SIGN: "CKA_SIGN",
	p11.CKA_VERIFY: "CKA_VERIFY", p11.CKA_ENCRYPT: "CKA_ENCRYPT", p11.CKA_DECRYPT: "CKA_DECRYPT",
	p11.CKA_WRAP: "CKA_WRAP", p11.CKA_UNWRAP: "CKA_UNWRAP", p11.CKA_DERIVE: "CKA_DERIVE",
	p11.CKA_EXTRACTABLE: "CKA_EXTRACTABLE", p11.CKA_SENSITIVE: "CKA_SENSITIVE",
	p11.CKA_ALWAYS_SENSITIVE: "CKA_ALWAYS_SENSITIVE", p11.CKA_NEVER_EXTRACTABLE: "CKA_NEVER_EXTRACTABLE",
}

func attrName(t uint) string {
	if n, ok := attrNames[t]; ok {
		return n
	}
	return fmt.Sprintf("0x%x", t)
}

// spki returns the fingerprint of the public key o holds or describes, and which attributes
// gave it.
// rsaPublic returns the public half of an RSA object, from its modulus and exponent or its
// CKA_PUBLIC_KEY_INFO, or nil.
func rsaPublic(o *object) *rsa.PublicKey {
	if o.keyType != p11.CKK_RSA {
		return nil
	}
	n, e := o.bytes(p11.CKA_MODULUS), o.bytes(p11.CKA_PUBLIC_EXPONENT)
	if len(n) > 0 && len(e) > 0 && len(e) <= 4 {
		ev := new(big.Int).SetBytes(e)
		return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(ev.Int64())}
	}
	return hsmcheck.RSAPublicDER(o.bytes(p11.CKA_PUBLIC_KEY_INFO))
}

func spki(o *object) ([32]byte, bool, string) {
	if der := o.bytes(p11.CKA_PUBLIC_KEY_INFO); len(der) > 0 {
		if h, err := hsmcheck.SPKIHashDER(der); err == nil {
			return h, true, "CKA_PUBLIC_KEY_INFO"
		}
	}
	switch o.keyType {
	case p11.CKK_RSA:
		n, e := o.bytes(p11.CKA_MODULUS), o.bytes(p11.CKA_PUBLIC_EXPONENT)
		if len(n) > 0 && len(e) > 0 {
			return hsmcheck.SPKIHashRSA(n, e), true, "CKA_MODULUS"
		}
	case p11.CKK_EC:
		params, point := o.bytes(p11.CKA_EC_PARAMS), o.bytes(p11.CKA_EC_POINT)
		if len(params) > 0 && len(point) > 0 {
			if h, err := hsmcheck.SPKIHashEC(params, point); err == nil {
				return h, true, "CKA_EC_POINT"
			}
		}
	case ckkECEdwards, ckkECMontgomery:
		oid, _ := curveOID(o.keyType, o.bytes(p11.CKA_EC_PARAMS))
		if der, ok := okpSPKI(oid, o.bytes(p11.CKA_EC_POINT)); ok {
			if h, err := hsmcheck.SPKIHashDER(der); err == nil {
				return h, true, "CKA_EC_POINT"
			}
		}
	}
	return [32]byte{}, false, ""
}

// Object identifiers and names of the curves keywarden names in Key.Algorithm.
var (
	oidX25519  = asn1.ObjectIdentifier{1, 3, 101, 110}
	oidX448    = asn1.ObjectIdentifier{1, 3, 101, 111}
	oidEd25519 = asn1.ObjectIdentifier{1, 3, 101, 112}
	oidEd448   = asn1.ObjectIdentifier{1, 3, 101, 113}

	ecCurves = []struct {
		oid  asn1.ObjectIdentifier
		name string
	}{
		{asn1.ObjectIdentifier{1, 3, 132, 0, 33}, "P224"},
		{asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}, "P256"},
		{asn1.ObjectIdentifier{1, 3, 132, 0, 34}, "P384"},
		{asn1.ObjectIdentifier{1, 3, 132, 0, 35}, "P521"},
		{asn1.ObjectIdentifier{1, 3, 132, 0, 10}, "secp256k1"},
		{asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, 7}, "brainpoolP256r1"},
		{asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, 11}, "brainpoolP384r1"},
		{asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, 13}, "brainpoolP512r1"},
	}
	okpCurves = []struct {
		oid       asn1.ObjectIdentifier
		name      string // Key.Algorithm
		printable string // the PrintableString form of CKA_EC_PARAMS
		size      int    // public key bytes
	}{
		{oidEd25519, "Ed25519", "edwards25519", 32},
		{oidEd448, "Ed448", "edwards448", 57},
		{oidX25519, "X25519", "curve25519", 32},
		{oidX448, "X448", "curve448", 56},
	}
)

// curveOID reads CKA_EC_PARAMS of an Edwards or Montgomery key, which PKCS#11 v3 allows as an
// OID or as a PrintableString curve name.
func curveOID(keyType uint, params []byte) (asn1.ObjectIdentifier, bool) {
	var oid asn1.ObjectIdentifier
	if rest, err := asn1.Unmarshal(params, &oid); err == nil && len(rest) == 0 {
		return oid, true
	}
	var name string
	if rest, err := asn1.Unmarshal(params, &name); err == nil && len(rest) == 0 {
		for _, c := range okpCurves {
			if c.printable == name {
				return c.oid, true
			}
		}
	}
	// Without parameters the key type alone names the 25519 curve.
	if len(params) == 0 {
		if keyType == ckkECEdwards {
			return oidEd25519, true
		}
		return oidX25519, true
	}
	return nil, false
}

// okpSPKI builds the SubjectPublicKeyInfo of an Edwards or Montgomery key from CKA_EC_POINT,
// which holds the raw key either bare or in a DER OCTET STRING.
func okpSPKI(oid asn1.ObjectIdentifier, point []byte) ([]byte, bool) {
	for _, c := range okpCurves {
		if !c.oid.Equal(oid) {
			continue
		}
		pub := point
		if len(pub) != c.size {
			var inner []byte
			if rest, err := asn1.Unmarshal(point, &inner); err != nil || len(rest) > 0 {
				return nil, false
			}
			pub = inner
		}
		if len(pub) != c.size {
			return nil, false
		}
		der, err := asn1.Marshal(struct {
			Algorithm struct{ OID asn1.ObjectIdentifier }
			PublicKey asn1.BitString
		}{struct{ OID asn1.ObjectIdentifier }{c.oid}, asn1.BitString{Bytes: pub, BitLength: 8 * len(pub)}})
		return der, err == nil
	}
	return nil, false
}

// pairAlgorithm names a key pair's algorithm from whichever object carries the parameters.
func pairAlgorithm(objs ...*object) string {
	var kt uint
	for _, o := range objs {
		if o == nil {
			continue
		}
		kt = o.keyType
		switch o.keyType {
		case p11.CKK_RSA:
			if n := o.bytes(p11.CKA_MODULUS); len(n) > 0 {
				return "RSA-" + strconv.Itoa(new(big.Int).SetBytes(n).BitLen())
			}
		case p11.CKK_EC:
			var oid asn1.ObjectIdentifier
			if _, err := asn1.Unmarshal(o.bytes(p11.CKA_EC_PARAMS), &oid); err == nil {
				for _, c := range ecCurves {
					if c.oid.Equal(oid) {
						return "EC-" + c.name
					}
				}
			}
		case ckkECEdwards, ckkECMontgomery:
			if oid, ok := curveOID(o.keyType, o.bytes(p11.CKA_EC_PARAMS)); ok {
				for _, c := range okpCurves {
					if c.oid.Equal(oid) {
						return c.name
					}
				}
			}
		}
	}
	switch kt {
	case p11.CKK_RSA:
		return "RSA"
	case p11.CKK_EC:
		return "EC"
	case p11.CKK_DSA:
		return "DSA"
	case p11.CKK_DH:
		return "DH"
	case ckkECEdwards:
		return "EdDSA"
	case ckkECMontgomery:
		return "ECDH-Montgomery"
	}
	return keyTypeName(kt)
}

// hmacKeyTypes maps the HMAC key types to their algorithm names and the MAC a challenge uses.
var hmacKeyTypes = map[uint]struct {
	name string
	mech uint
	m    hsmcheck.Mechanism
}{
	p11.CKK_SHA_1_HMAC:  {"HMAC-SHA1", p11.CKM_SHA_1_HMAC, hsmcheck.HMACSHA1},
	p11.CKK_SHA224_HMAC: {"HMAC-SHA224", p11.CKM_SHA224_HMAC, hsmcheck.HMACSHA224},
	p11.CKK_SHA256_HMAC: {"HMAC-SHA256", p11.CKM_SHA256_HMAC, hsmcheck.HMACSHA256},
	p11.CKK_SHA384_HMAC: {"HMAC-SHA384", p11.CKM_SHA384_HMAC, hsmcheck.HMACSHA384},
	p11.CKK_SHA512_HMAC: {"HMAC-SHA512", p11.CKM_SHA512_HMAC, hsmcheck.HMACSHA512},
}

func secretAlgorithm(o *object) string {
	n, hasLen := o.ulong(p11.CKA_VALUE_LEN)
	switch o.keyType {
	case p11.CKK_AES:
		if hasLen {
			return "AES-" + strconv.FormatUint(n*8, 10)
		}
		return "AES"
	case p11.CKK_GENERIC_SECRET:
		if hasLen {
			return "GENERIC-SECRET-" + strconv.FormatUint(n, 10)
		}
		return "GENERIC-SECRET"
	case p11.CKK_DES:
		return "DES"
	case p11.CKK_DES2:
		return "DES2"
	case p11.CKK_DES3:
		return "DES3"
	}
	if h, ok := hmacKeyTypes[o.keyType]; ok {
		return h.name
	}
	return keyTypeName(o.keyType)
}

func keyTypeName(kt uint) string {
	switch kt {
	case p11.CKK_RSA:
		return "CKK_RSA"
	case p11.CKK_DSA:
		return "CKK_DSA"
	case p11.CKK_DH:
		return "CKK_DH"
	case p11.CKK_EC:
		return "CKK_EC"
	case ckkECEdwards:
		return "CKK_EC_EDWARDS"
	case ckkECMontgomery:
		return "CKK_EC_MONTGOMERY"
	case p11.CKK_GENERIC_SECRET:
		return "CKK_GENERIC_SECRET"
	case p11.CKK_DES:
		return "CKK_DES"
	case p11.CKK_DES2:
		return "CKK_DES2"
	case p11.CKK_DES3:
		return "CKK_DES3"
	case p11.CKK_AES:
		return "CKK_AES"
	case p11.CKK_SHA_1_HMAC:
		return "CKK_SHA_1_HMAC"
	case p11.CKK_SHA224_HMAC:
		return "CKK_SHA224_HMAC"
	case p11.CKK_SHA256_HMAC:
		return "CKK_SHA256_HMAC"
	case p11.CKK_SHA384_HMAC:
		return "CKK_SHA384_HMAC"
	case p11.CKK_SHA512_HMAC:
		return "CKK_SHA512_HMAC"
	}
	return fmt.Sprintf("CKK_0x%x", kt)
}
