package kmip

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"io"
	"net"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/keywarden/keywarden/hsmcheck"
)

// Config configures a KMIP inventory. The client certificate's key is read from KeyFile; nothing
// secret is passed in the struct itself.
type Config struct {
	Addr       string // HOST:PORT; the port defaults to 5696
	CAFile     string // PEM trust anchors for the server certificate; empty means the system pool
	CertFile   string // PEM client certificate
	KeyFile    string // PEM key of the client certificate
	ServerName string // name to verify the server certificate against; empty means Addr's host
	Scope      string // Key.Scope; empty means Addr
	Name       string // display name; empty means "kmip:" + Addr
}

// Inventory lists the keys a KMIP server holds for the client certificate's identity.
type Inventory struct {
	client *Client
	name   string
	scope  string
	now    func() time.Time
	// noX509 remembers that the server would not convert a public key to X.509, so later Gets
	// take the stored format straight away.
	noX509 atomic.Bool
}

var (
	_ hsmcheck.Inventory  = (*Inventory)(nil)
	_ hsmcheck.Challenger = (*Inventory)(nil)
	_ io.Closer           = (*Inventory)(nil)
)

// params are the query parameters a kmip: URI may carry.
var params = []string{"ca", "cert", "key", "server-name", "name", "scope"}

// Open opens the inventory that a kmip://HOST:PORT?ca=FILE&cert=FILE&key=FILE[&server-name=NAME]
// spec describes. File paths resolve against the spec's base directory.
func Open(ctx context.Context, s hsmcheck.Spec) (hsmcheck.Inventory, error) {
	if s.Scheme() != "kmip" {
		return nil, fmt.Errorf("opening inventory %q: %w: scheme is not kmip", s.Redacted(), hsmcheck.ErrConfig)
	}
	if err := s.Forbid("password", "pin", "token"); err != nil {
		return nil, err
	}
	for p := range s.Params {
		if !slices.Contains(params, p) {
			return nil, fmt.Errorf("opening inventory %q: %w: unknown parameter %q; want %s", s.Redacted(), hsmcheck.ErrConfig, p, strings.Join(params, ", "))
		}
	}
	return New(ctx, Config{
		Addr:       s.Target(),
		CAFile:     s.Path("ca"),
		CertFile:   s.Path("cert"),
		KeyFile:    s.Path("key"),
		ServerName: s.Params.Get("server-name"),
		Scope:      s.Scope,
		Name:       s.Name,
	})
}

// New returns an inventory for the server cfg names. It reads the certificate files but does
// not connect; the first Keys or Challenge does.
func New(ctx context.Context, cfg Config) (*Inventory, error) {
	addr := strings.Trim(strings.TrimSpace(cfg.Addr), "/")
	if _, _, err := net.SplitHostPort(addr); err != nil {
		addr = net.JoinHostPort(strings.Trim(addr, "[]"), DefaultPort)
	}
	if host, _, _ := net.SplitHostPort(addr); host == "" {
		return nil, fmt.Errorf("opening kmip inventory %q: %w: no server address", cfg.Addr, hsmcheck.ErrConfig)
	}
	if cfg.CertFile == "" || cfg.KeyFile == "" {
		return nil, fmt.Errorf("opening kmip inventory %s: %w: a client certificate is required (cert= and key= files)", addr, hsmcheck.ErrConfig)
	}
	tlsCfg, err := LoadTLSConfig(cfg.CAFile, cfg.CertFile, cfg.KeyFile, cfg.ServerName)
	if err != nil {
		return nil, fmt.Errorf("opening kmip inventory %s: %w: %w", addr, hsmcheck.ErrConfig, err)
	}
	inv := &Inventory{client: NewClient(addr, tlsCfg), name: cfg.Name, scope: cfg.Scope, now: time.Now}
	if inv.name == "" {
		inv.name = "kmip:" + addr
	}
	if inv.scope == "" {
		inv.scope = addr
	}
	return inv, nil
}

// Name returns the display name, kmip:HOST:PORT by default.
func (inv *Inventory) Name() string { return inv.name }

// Client returns the KMIP client, for operations beyond listing (rotation, tests).
func (inv *Inventory) Client() *Client { return inv.client }

// Close closes the connection to the server.
func (inv *Inventory) Close() error { return inv.client.Close() }

// keyAttributes are the attributes Keys asks for.
var keyAttributes = []string{
	AttrUniqueIdentifier, AttrName, AttrObjectType, AttrCryptographicAlgorithm, AttrCryptographicLength,
	AttrCryptographicUsageMask, AttrState, AttrInitialDate, AttrActivationDate, AttrDeactivationDate, AttrLink,
}

type object struct {
	id    string
	typ   ObjectType
	attrs Attributes
}

// Keys yields one Key per symmetric key and per key pair, and one per public key that has no
// private counterpart. A private key's SPKIHash is its public key's, fetched with Get.
func (inv *Inventory) Keys(ctx context.Context, yield func(hsmcheck.Key) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var objs []object
	for _, t := range []ObjectType{ObjectSymmetricKey, ObjectPrivateKey, ObjectPublicKey} {
		ids, err := inv.client.Locate(ctx, ObjectTypeAttribute(t))
		if err != nil {
			return inv.fail(ctx, "listing keys", err)
		}
		rs, err := inv.client.GetAttributesMany(ctx, ids, keyAttributes...)
		if err != nil {
			return inv.fail(ctx, "listing keys", err)
		}
		for _, r := range rs {
			if r.Err != nil {
				if Reason(r.Err) == ReasonItemNotFound {
					continue // destroyed since Locate
				}
				return inv.fail(ctx, fmt.Sprintf("reading the attributes of %q", r.ID), r.Err)
			}
			objs = append(objs, object{id: r.ID, typ: t, attrs: r.Attributes})
		}
	}
	publicOf, paired := pairKeys(objs)
	var out []hsmcheck.Key
	var pubIDs []string
	pubOf := map[int]string{} // index in out → public key to fingerprint it with
	for _, o := range objs {
		if o.typ == ObjectPublicKey && paired[o.id] {
			continue
		}
		k := inv.key(o)
		pubID := o.id
		switch o.typ {
		case ObjectSymmetricKey:
			pubID = ""
		case ObjectPrivateKey:
			pubID = publicOf[o.id]
			if pubID != "" {
				k.Meta["kmip-public-key-id"] = pubID
			}
		}
		if pubID != "" {
			pubOf[len(out)] = pubID
			pubIDs = append(pubIDs, pubID)
		}
		out = append(out, k)
	}
	pubs, err := inv.publicKeys(ctx, pubIDs)
	if err != nil {
		return inv.fail(ctx, "getting public keys", err)
	}
	for i, k := range out {
		if pubID, ok := pubOf[i]; ok {
			if err := fingerprint(&k, pubs[pubID]); err != nil {
				// One unreadable public key must not hide the rest of the inventory.
				k.Meta["kmip-spki-error"] = err.Error()
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := yield(k); err != nil {
			return err
		}
	}
	return nil
}

func (inv *Inventory) fail(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("%s in %s: %w", what, inv.name, err)
}

// pairKeys matches private keys to public keys: by Link attributes first, then, for servers that
// keep no links (PyKMIP), by a shared Name when exactly one unlinked public key and one unlinked
// private key of the same algorithm family carry it. It returns the public key of each paired
// private key and the set of paired public keys.
func pairKeys(objs []object) (publicOf map[string]string, paired map[string]bool) {
	publicOf = map[string]string{}
	paired = map[string]bool{}
	byID := map[string]object{}
	for _, o := range objs {
		byID[o.id] = o
	}
	for _, o := range objs {
		switch o.typ {
		case ObjectPrivateKey:
			if l := o.attrs.Links(LinkPublicKey); len(l) > 0 && publicOf[o.id] == "" {
				publicOf[o.id] = l[0]
			}
		case ObjectPublicKey:
			for _, priv := range o.attrs.Links(LinkPrivateKey) {
				if p, ok := byID[priv]; ok && p.typ == ObjectPrivateKey && publicOf[priv] == "" {
					publicOf[priv] = o.id
				}
			}
		}
	}
	for _, pub := range publicOf {
		paired[pub] = true
	}
	privByName := map[string][]object{}
	pubByName := map[string][]object{}
	for _, o := range objs {
		if (o.typ == ObjectPrivateKey && publicOf[o.id] != "") || (o.typ == ObjectPublicKey && paired[o.id]) ||
			len(o.attrs.Links(LinkPublicKey)) > 0 || len(o.attrs.Links(LinkPrivateKey)) > 0 {
			continue
		}
		for _, n := range uniq(o.attrs.Names()) {
			switch o.typ {
			case ObjectPrivateKey:
				privByName[n] = append(privByName[n], o)
			case ObjectPublicKey:
				pubByName[n] = append(pubByName[n], o)
			}
		}
	}
	names := make([]string, 0, len(privByName))
	for n := range privByName {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		privs, pubs := privByName[n], pubByName[n]
		if len(privs) != 1 || len(pubs) != 1 {
			continue
		}
		priv, pub := privs[0], pubs[0]
		if publicOf[priv.id] != "" || paired[pub.id] || !sameFamily(priv.attrs, pub.attrs) {
			continue
		}
		publicOf[priv.id] = pub.id
		paired[pub.id] = true
	}
	return publicOf, paired
}

func uniq(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}

func sameFamily(a, b Attributes) bool {
	x, ok1 := a.Enum(AttrCryptographicAlgorithm)
	y, ok2 := b.Enum(AttrCryptographicAlgorithm)
	return !ok1 || !ok2 || family(CryptographicAlgorithm(x)) == family(CryptographicAlgorithm(y))
}

func family(a CryptographicAlgorithm) string {
	switch a {
	case AlgEC, AlgECDSA, AlgECDH, AlgECMQV:
		return "EC"
	}
	return a.String()
}

var states = map[State]hsmcheck.State{
	StatePreActive:            hsmcheck.PreActive,
	StateActive:               hsmcheck.Active,
	StateDeactivated:          hsmcheck.Deactivated,
	StateCompromised:          hsmcheck.Compromised,
	StateDestroyed:            hsmcheck.Destroyed,
	StateDestroyedCompromised: hsmcheck.Destroyed,
}

var usages = []struct {
	mask UsageMask
	name string
}{
	{UsageSign, "sign"}, {UsageVerify, "verify"}, {UsageEncrypt, "encrypt"}, {UsageDecrypt, "decrypt"},
	{UsageWrapKey, "wrap"}, {UsageUnwrapKey, "unwrap"}, {UsageDeriveKey | UsageKeyAgreement, "derive"},
	{UsageMACGenerate | UsageMACVerify, "mac"},
}

func (inv *Inventory) key(o object) hsmcheck.Key {
	k := hsmcheck.Key{
		ID:        o.id,
		Scope:     inv.scope,
		State:     hsmcheck.Unknown,
		Created:   o.attrs.Time(AttrInitialDate),
		Activated: o.attrs.Time(AttrActivationDate),
		Expires:   o.attrs.Time(AttrDeactivationDate),
		Meta:      map[string]string{"kmip-object-type": o.typ.String()},
	}
	if names := o.attrs.Names(); len(names) > 0 {
		k.Label = names[0]
	}
	switch o.typ {
	case ObjectSymmetricKey:
		k.Class = hsmcheck.Secret
	case ObjectPrivateKey:
		k.Class = hsmcheck.Private
	default:
		k.Class = hsmcheck.Public
	}
	if s, ok := o.attrs.Enum(AttrState); ok {
		if st, known := states[State(s)]; known {
			k.State = st
		}
		k.Meta["kmip-state"] = State(s).String()
	}
	if k.State == hsmcheck.Active && !k.Expires.IsZero() && k.Expires.Before(inv.now()) {
		k.State = hsmcheck.Deactivated
	}
	alg, hasAlg := o.attrs.Enum(AttrCryptographicAlgorithm)
	length, _ := o.attrs.Int(AttrCryptographicLength)
	if hasAlg {
		k.Algorithm = algorithmName(CryptographicAlgorithm(alg), length)
	}
	if m, ok := o.attrs.Int(AttrCryptographicUsageMask); ok {
		for _, u := range usages {
			if UsageMask(m)&u.mask != 0 {
				k.Usage = append(k.Usage, u.name)
			}
		}
	}
	return k
}

// algorithmName names an algorithm the way hsmcheck.Key does ("AES-256", "RSA-2048",
// "HMAC-SHA256"); for EC keys the public key refines it to the curve later.
func algorithmName(a CryptographicAlgorithm, length int32) string {
	switch a {
	case AlgHMACSHA1, AlgHMACSHA224, AlgHMACSHA256, AlgHMACSHA384, AlgHMACSHA512, AlgHMACMD5, AlgEd25519:
		return a.String()
	case AlgEC, AlgECDSA, AlgECDH, AlgECMQV:
		a = AlgEC
	}
	name := a.String()
	if _, known := algorithmNames[a]; !known {
		name = fmt.Sprintf("KMIP-ALG-0x%X", uint32(a))
	}
	if length > 0 {
		name += fmt.Sprintf("-%d", length)
	}
	return name
}

type publicKey struct {
	key crypto.PublicKey
	err error
}

// fingerprint sets k.SPKIHash, and a precise algorithm, from pub.
func fingerprint(k *hsmcheck.Key, pub publicKey) error {
	if pub.err != nil {
		return pub.err
	}
	var err error
	if k.SPKIHash, err = hsmcheck.SPKIHash(pub.key); err != nil {
		return fmt.Errorf("fingerprinting the public key: %w", err)
	}
	switch p := pub.key.(type) {
	case *rsa.PublicKey:
		k.Algorithm = fmt.Sprintf("RSA-%d", p.N.BitLen())
		k.SetRSAPublic(p)
	case *ecdsa.PublicKey:
		k.Algorithm = "EC-" + strings.ReplaceAll(p.Curve.Params().Name, "-", "")
	case ed25519.PublicKey:
		k.Algorithm = "Ed25519"
	}
	return nil
}

// publicKeys gets the public keys ids, in batches, asking for X.509 first: a server that
// converts formats then hands back SubjectPublicKeyInfo for any algorithm. The keys a server
// cannot convert (PyKMIP converts none) are asked for again in their stored format, which
// Object.PublicKey parses. The error is for an exchange that failed; one key's failure is in its
// result.
func (inv *Inventory) publicKeys(ctx context.Context, ids []string) (map[string]publicKey, error) {
	out := make(map[string]publicKey, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	take := func(rs []ObjectResult) {
		for _, r := range rs {
			if r.Err != nil {
				out[r.ID] = publicKey{err: fmt.Errorf("getting public key %q: %w", r.ID, r.Err)}
				continue
			}
			k, err := r.Object.PublicKey()
			out[r.ID] = publicKey{k, err}
		}
	}
	rest := ids
	if !inv.noX509.Load() {
		rs, err := inv.client.GetMany(ctx, ids, FormatX509)
		if err != nil {
			return nil, err
		}
		rest = nil
		var done []ObjectResult
		for _, r := range rs {
			switch Reason(r.Err) {
			case ReasonKeyFormatTypeNotSupported, ReasonInvalidField, ReasonFeatureNotSupported:
				inv.noX509.Store(true)
				rest = append(rest, r.ID)
			default:
				done = append(done, r)
			}
		}
		take(done)
	}
	rs, err := inv.client.GetMany(ctx, rest, 0)
	if err != nil {
		return nil, err
	}
	take(rs)
	return out, nil
}

// Challenge has the server encrypt one fresh random block under an active AES key with encrypt
// usage (hsmcheck.AESECB), or MAC fresh random bytes under an active HMAC key with mac usage.
//
// The AES request is ECB with PKCS#5 padding, not ECB without padding, because PyKMIP pads every
// ECB and CBC encryption and refuses Padding Method None. Under ECB each block is enciphered on
// its own, so the first 16 bytes of the answer are AES(key, input) whether the server appends a
// padding block or not; only those are kept.
func (inv *Inventory) Challenge(ctx context.Context, k hsmcheck.Key) (hsmcheck.Challenge, error) {
	unsupported := func(why string) (hsmcheck.Challenge, error) {
		return hsmcheck.Challenge{}, fmt.Errorf("challenging key %s in %s: %w: %s", k.Ref(), inv.name, hsmcheck.ErrUnsupported, why)
	}
	if k.Class != hsmcheck.Secret {
		return unsupported("only symmetric keys can be challenged")
	}
	if k.State != hsmcheck.Active {
		return unsupported(fmt.Sprintf("the key is %s, not active", k.State))
	}
	switch {
	case strings.HasPrefix(k.Algorithm, "AES-") && slices.Contains(k.Usage, "encrypt"):
		in := make([]byte, 16)
		rand.Read(in)
		out, _, err := inv.client.Encrypt(ctx, k.ID, CryptoParams{Mode: ModeECB, Padding: PaddingPKCS5, Algorithm: AlgAES}, in, nil)
		if err != nil {
			return hsmcheck.Challenge{}, inv.fail(ctx, fmt.Sprintf("encrypting a challenge with key %s", k.Ref()), err)
		}
		if len(out) < len(in) {
			return hsmcheck.Challenge{}, fmt.Errorf("encrypting a challenge with key %s in %s: %d bytes of ciphertext for a 16-byte block", k.Ref(), inv.name, len(out))
		}
		return hsmcheck.Challenge{Mechanism: hsmcheck.AESECB, Input: in, Output: out[:len(in)]}, nil
	case strings.HasPrefix(k.Algorithm, "HMAC-SHA") && slices.Contains(k.Usage, "mac"):
		mech, alg := hmacMechanism(k.Algorithm)
		if mech == "" {
			return unsupported("unknown HMAC algorithm")
		}
		in := make([]byte, 32)
		rand.Read(in)
		out, err := inv.client.MAC(ctx, k.ID, CryptoParams{Algorithm: alg}, in)
		if err != nil {
			return hsmcheck.Challenge{}, inv.fail(ctx, fmt.Sprintf("computing a challenge MAC with key %s", k.Ref()), err)
		}
		return hsmcheck.Challenge{Mechanism: mech, Input: in, Output: out}, nil
	}
	return unsupported(fmt.Sprintf("%s key with usage %v has no encrypt or MAC use keywarden can check", k.Algorithm, k.Usage))
}

func hmacMechanism(alg string) (hsmcheck.Mechanism, CryptographicAlgorithm) {
	switch alg {
	case "HMAC-SHA1":
		return hsmcheck.HMACSHA1, AlgHMACSHA1
	case "HMAC-SHA224":
		return hsmcheck.HMACSHA224, AlgHMACSHA224
	case "HMAC-SHA256":
		return hsmcheck.HMACSHA256, AlgHMACSHA256
	case "HMAC-SHA384":
		return hsmcheck.HMACSHA384, AlgHMACSHA384
	case "HMAC-SHA512":
		return hsmcheck.HMACSHA512, AlgHMACSHA512
	}
	return "", 0
}
