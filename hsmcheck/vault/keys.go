package vault

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/keywarden/keywarden/hsmcheck"
)

// Keys lists the mount's keys and yields one Key per version, oldest first within a key and
// keys in name order.
//
// A key that cannot be read (its own policy refuses it, or its answer does not parse) does not
// end the listing: the other keys are still yielded. Its error goes to Config.Warn when that is
// set; otherwise Keys returns all such errors joined once the listing is done, wrapping
// hsmcheck.ErrAuth if any of them was a refusal. A key deleted between the list and the read is
// left out silently.
func (inv *Inventory) Keys(ctx context.Context, yield func(hsmcheck.Key) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	names, err := inv.list(ctx)
	if err != nil {
		return err
	}
	var problems []error
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return err
		}
		ks, err := inv.read(ctx, name)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if inv.warn != nil {
				inv.warn(err)
			} else {
				problems = append(problems, err)
			}
			continue
		}
		for _, k := range ks {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := yield(k); err != nil {
				return err
			}
		}
	}
	switch len(problems) {
	case 0:
		return nil
	case 1:
		return problems[0]
	}
	return fmt.Errorf("reading %d of %d keys in %s: %w", len(problems), len(names), inv.name, errors.Join(problems...))
}

// list returns the key names under MOUNT/keys, sorted. An empty mount answers 404, which the
// client turns into a nil secret.
func (inv *Inventory) list(ctx context.Context) ([]string, error) {
	sec, err := inv.client.Logical().ListWithContext(ctx, inv.mount+"/keys")
	if err != nil {
		return nil, inv.failed(ctx, "listing keys", err)
	}
	if sec == nil || sec.Data == nil {
		return nil, nil
	}
	raw, _ := sec.Data["keys"].([]any)
	names := make([]string, 0, len(raw))
	for _, r := range raw {
		s, ok := r.(string)
		if !ok {
			return nil, fmt.Errorf("listing keys in %s: key name %v is not a string", inv.name, r)
		}
		names = append(names, s)
	}
	slices.Sort(names)
	return names, nil
}

// keyInfo is the data of a transit read-key answer. Fields newer servers add are optional.
type keyInfo struct {
	Name                 string                     `json:"name"`
	Type                 string                     `json:"type"`
	Keys                 map[string]json.RawMessage `json:"keys"`
	LatestVersion        int                        `json:"latest_version"`
	MinAvailableVersion  int                        `json:"min_available_version"`
	MinDecryptionVersion int                        `json:"min_decryption_version"`
	MinEncryptionVersion int                        `json:"min_encryption_version"`
	DeletionAllowed      bool                       `json:"deletion_allowed"`
	Exportable           bool                       `json:"exportable"`
	Derived              bool                       `json:"derived"`
	ImportedKey          bool                       `json:"imported_key"`
	SoftDeleted          bool                       `json:"soft_deleted"` // OpenBao 2.1+
	AutoRotatePeriod     json.RawMessage            `json:"auto_rotate_period"`
	SupportsEncryption   bool                       `json:"supports_encryption"`
	SupportsDecryption   bool                       `json:"supports_decryption"`
	SupportsSigning      bool                       `json:"supports_signing"`
}

// asymVersion is one entry of an asymmetric key's keys map.
type asymVersion struct {
	PublicKey    string    `json:"public_key"`
	CreationTime time.Time `json:"creation_time"`
	Name         string    `json:"name"`
}

// read returns one Key per version of the named key; nil when the key has gone.
func (inv *Inventory) read(ctx context.Context, name string) ([]hsmcheck.Key, error) {
	// Names come from the server; one with a slash would make the path climb out of the mount.
	if name == "" || strings.ContainsAny(name, "/?#") || name == "." || name == ".." {
		return nil, fmt.Errorf("reading key %q in %s: not a transit key name", name, inv.name)
	}
	what := fmt.Sprintf("reading key %q", name)
	sec, err := inv.client.Logical().ReadWithContext(ctx, inv.mount+"/keys/"+name)
	if err != nil {
		return nil, inv.failed(ctx, what, err)
	}
	if sec == nil || sec.Data == nil {
		return nil, nil
	}
	b, err := json.Marshal(sec.Data)
	if err != nil {
		return nil, fmt.Errorf("%s in %s: %w", what, inv.name, err)
	}
	var ki keyInfo
	if err := json.Unmarshal(b, &ki); err != nil {
		return nil, fmt.Errorf("%s in %s: parsing the answer: %w", what, inv.name, err)
	}
	ks, err := inv.versions(name, ki)
	if err != nil {
		return nil, fmt.Errorf("%s in %s: %w", what, inv.name, err)
	}
	return ks, nil
}

// versions turns a read-key answer into Keys.
//
// The keys map holds only the versions from min_decryption_version to latest_version: transit
// moves older ones to an archive (restorable by lowering min_decryption_version) and drops those
// at or below min_available_version for good. Archived versions are yielded as disabled, from
// the version numbers alone; trimmed ones are not yielded. hmac and managed keys have no keys
// map at all, so their versions come from the numbers too.
func (inv *Inventory) versions(name string, ki keyInfo) ([]hsmcheck.Key, error) {
	if ki.Type == "" {
		return nil, errors.New("the answer has no key type")
	}
	latest := ki.LatestVersion
	for v := range ki.Keys {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("version %q is not a positive number", v)
		}
		latest = max(latest, n)
	}
	if latest < 1 {
		return nil, errors.New("the answer has no version")
	}
	minDec := max(ki.MinDecryptionVersion, 1)
	first := max(ki.MinAvailableVersion+1, 1)
	period, err := rotatePeriod(ki.AutoRotatePeriod)
	if err != nil {
		return nil, err
	}
	asym := asymmetric(ki.Type)
	class := hsmcheck.Secret
	if asym {
		class = hsmcheck.Private
	}

	meta := map[string]string{
		"type":                   ki.Type,
		"latest_version":         strconv.Itoa(latest),
		"min_decryption_version": strconv.Itoa(minDec),
		"min_encryption_version": strconv.Itoa(ki.MinEncryptionVersion),
		"deletion_allowed":       strconv.FormatBool(ki.DeletionAllowed),
	}
	if ki.MinAvailableVersion > 0 {
		meta["min_available_version"] = strconv.Itoa(ki.MinAvailableVersion)
	}
	for k, on := range map[string]bool{"derived": ki.Derived, "imported_key": ki.ImportedKey, "soft_deleted": ki.SoftDeleted} {
		if on {
			meta[k] = "true"
		}
	}

	type version struct {
		created time.Time
		spki    [32]byte
		rsa     *rsa.PublicKey
	}
	got := map[int]version{}
	for v, raw := range ki.Keys {
		n, _ := strconv.Atoi(v)
		var ver version
		switch {
		case bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")):
			var av asymVersion
			if err := json.Unmarshal(raw, &av); err != nil {
				return nil, fmt.Errorf("parsing version %d: %w", n, err)
			}
			ver.created = av.CreationTime
			if av.PublicKey != "" {
				h, err := publicKeyHash(ki.Type, av.PublicKey)
				switch {
				case err == nil:
					ver.spki = h
					ver.rsa = rsaPublic(av.PublicKey)
				case fingerprinted(ki.Type):
					// A silent zero here would be a silent non-match for a leaked key.
					return nil, fmt.Errorf("parsing the public key of version %d: %w", n, err)
				}
			}
			class = hsmcheck.Private // whatever the type's name, it has a public half
		default:
			// Symmetric keys map each version to its creation time in Unix seconds.
			var sec int64
			if err := json.Unmarshal(raw, &sec); err != nil {
				return nil, fmt.Errorf("parsing version %d: want a Unix time or an object: %w", n, err)
			}
			if sec > 0 {
				ver.created = time.Unix(sec, 0).UTC()
			}
		}
		got[n] = ver
		first = min(first, n)
	}

	usage := usageOf(ki)
	var out []hsmcheck.Key
	for n := first; n <= latest; n++ {
		ver := got[n]
		k := hsmcheck.Key{
			ID:              inv.mount + "/" + name,
			Label:           name,
			Version:         n,
			Class:           class,
			Scope:           inv.scope,
			Algorithm:       algorithm(ki.Type),
			Usage:           usage,
			SPKIHash:        ver.spki,
			Created:         ver.created,
			LastRotated:     got[latest].created,
			RotationEnabled: hsmcheck.BoolPtr(period > 0),
			RotationPeriod:  period,
			Extractable:     hsmcheck.BoolPtr(ki.Exportable),
			Meta:            maps.Clone(meta),
		}
		k.SetRSAPublic(ver.rsa)
		switch {
		case ki.SoftDeleted:
			// OpenBao's soft deletion refuses every operation but a restore or a backup.
			k.State = hsmcheck.PendingDeletion
		case n == latest:
			k.State = hsmcheck.Active
		case n >= minDec:
			// Still decrypts and verifies: whatever it protected must be re-protected.
			k.State = hsmcheck.OldVersion
		default:
			k.State = hsmcheck.Disabled
			k.Usage = nil
			if _, listed := got[n]; !listed {
				k.Meta["archived"] = "true"
			}
		}
		out = append(out, k)
	}
	return out, nil
}

// rotatePeriod reads auto_rotate_period: seconds as a number in current servers, a Go
// duration string in some older ones.
func rotatePeriod(raw json.RawMessage) (time.Duration, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, nil
	}
	var secs float64
	if err := json.Unmarshal(raw, &secs); err == nil {
		return time.Duration(secs * float64(time.Second)), nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return 0, fmt.Errorf("parsing auto_rotate_period %s", raw)
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("parsing auto_rotate_period %q: %w", s, err)
	}
	return d, nil
}

// fingerprinted reports whether keywarden knows the public-key format of a transit key type;
// others (ML-DSA, hybrid) are listed without a fingerprint.
func fingerprinted(typ string) bool {
	return typ == "ed25519" || strings.HasPrefix(typ, "ecdsa-") || strings.HasPrefix(typ, "rsa-")
}

// asymmetric reports whether a transit key type is a key pair.
func asymmetric(typ string) bool {
	switch {
	case typ == "ed25519", strings.HasPrefix(typ, "ecdsa-"), strings.HasPrefix(typ, "rsa-"),
		typ == "ml-dsa", typ == "hybrid", typ == "slh-dsa":
		return true
	}
	return false
}

// algorithm names a transit key type the way hsmcheck.Key.Algorithm does.
func algorithm(typ string) string {
	switch typ {
	case "aes128-gcm96":
		return "AES-128-GCM"
	case "aes256-gcm96":
		return "AES-256-GCM"
	case "aes128-cmac":
		return "AES-128-CMAC"
	case "aes256-cmac":
		return "AES-256-CMAC"
	case "chacha20-poly1305":
		return "ChaCha20-Poly1305"
	case "xchacha20-poly1305":
		return "XChaCha20-Poly1305"
	case "ed25519":
		return "Ed25519"
	case "ecdsa-p256":
		return "EC-P256"
	case "ecdsa-p384":
		return "EC-P384"
	case "ecdsa-p521":
		return "EC-P521"
	case "rsa-2048":
		return "RSA-2048"
	case "rsa-3072":
		return "RSA-3072"
	case "rsa-4096":
		return "RSA-4096"
	case "hmac":
		return "HMAC"
	}
	return typ
}

func usageOf(ki keyInfo) []string {
	var u []string
	if ki.SupportsEncryption {
		u = append(u, "encrypt")
	}
	if ki.SupportsDecryption {
		u = append(u, "decrypt")
	}
	if ki.SupportsSigning {
		u = append(u, "sign", "verify")
	}
	if ki.Type == "hmac" {
		u = append(u, "mac")
	}
	return u
}

// rsaPublic returns the RSA key a version's PEM public_key holds, or nil.
func rsaPublic(s string) *rsa.PublicKey {
	block, _ := pem.Decode([]byte(s))
	switch {
	case block == nil:
		return nil
	case block.Type == "RSA PUBLIC KEY":
		pub, _ := x509.ParsePKCS1PublicKey(block.Bytes)
		return pub
	}
	return hsmcheck.RSAPublicDER(block.Bytes)
}

// publicKeyHash fingerprints a version's public_key: PEM SubjectPublicKeyInfo for RSA and
// ECDSA, base64 of the raw 32 bytes for Ed25519.
func publicKeyHash(typ, s string) ([32]byte, error) {
	if block, _ := pem.Decode([]byte(s)); block != nil {
		switch block.Type {
		case "PUBLIC KEY":
			return hsmcheck.SPKIHashDER(block.Bytes)
		case "RSA PUBLIC KEY":
			pub, err := x509.ParsePKCS1PublicKey(block.Bytes)
			if err != nil {
				return [32]byte{}, err
			}
			return hsmcheck.SPKIHash(pub)
		}
		return [32]byte{}, fmt.Errorf("unexpected PEM block %q", block.Type)
	}
	if typ != "ed25519" {
		return [32]byte{}, fmt.Errorf("a %s public key is not PEM", typ)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return [32]byte{}, fmt.Errorf("decoding base64: %w", err)
	}
	if len(raw) != ed25519.PublicKeySize {
		return [32]byte{}, fmt.Errorf("an Ed25519 public key of %d bytes", len(raw))
	}
	return hsmcheck.SPKIHash(ed25519.PublicKey(raw))
}
