package file

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/keywarden/keywarden/hsmcheck"
)

// DefaultName is the inventory file keywarden looks for.
const DefaultName = "keywarden-inventory.yaml"

// Document is the inventory file's content.
type Document struct {
	Version int `yaml:"version" json:"version"`
	// TokenSalt is the hex salt of every entry's token_hmac: HMAC-SHA256(salt, token). It is
	// per inventory so that the file alone does not let anyone test guesses against other
	// inventories' entries.
	TokenSalt string  `yaml:"token_salt,omitempty" json:"token_salt,omitempty"`
	Keys      []Entry `yaml:"keys" json:"keys"`
}

// Entry is one key in the inventory file.
type Entry struct {
	ID             string       `yaml:"id" json:"id"`
	Label          string       `yaml:"label,omitempty" json:"label,omitempty"`
	Version        int          `yaml:"version,omitempty" json:"version,omitempty"` // for backends that version keys
	Purpose        string       `yaml:"purpose,omitempty" json:"purpose,omitempty"`
	Algorithm      string       `yaml:"algorithm,omitempty" json:"algorithm,omitempty"`
	Class          string       `yaml:"class,omitempty" json:"class,omitempty"` // secret, private, public, token
	Usage          []string     `yaml:"usage,omitempty" json:"usage,omitempty"`
	Created        string       `yaml:"created,omitempty" json:"created,omitempty"`                 // YYYY-MM-DD or RFC 3339
	LastRotated    string       `yaml:"last_rotated,omitempty" json:"last_rotated,omitempty"`       // YYYY-MM-DD or RFC 3339
	Expires        string       `yaml:"expires,omitempty" json:"expires,omitempty"`                 // YYYY-MM-DD or RFC 3339
	RotationPeriod string       `yaml:"rotation_period,omitempty" json:"rotation_period,omitempty"` // 90d, 1y, 2160h
	Owner          string       `yaml:"owner,omitempty" json:"owner,omitempty"`
	Scope          string       `yaml:"scope,omitempty" json:"scope,omitempty"`       // environment or tenant
	Location       string       `yaml:"location,omitempty" json:"location,omitempty"` // the backend holding it, as keywarden names it
	State          string       `yaml:"state,omitempty" json:"state,omitempty"`
	Fingerprints   Fingerprints `yaml:"fingerprints" json:"fingerprints"`
}

// Fingerprints are an entry's non-secret identifiers.
type Fingerprints struct {
	SPKISHA256 string `yaml:"spki_sha256,omitempty" json:"spki_sha256,omitempty"`
	KCV        string `yaml:"kcv,omitempty" json:"kcv,omitempty"`
	TokenHMAC  string `yaml:"token_hmac,omitempty" json:"token_hmac,omitempty"`
}

// Config names the file and the scope its entries default to.
type Config struct {
	Path  string
	Scope string
	Name  string
}

// Inventory serves an inventory file's entries.
type Inventory struct {
	name string
	salt []byte
	keys []hsmcheck.Key
}

var (
	_ hsmcheck.Inventory   = (*Inventory)(nil)
	_ hsmcheck.TokenSalter = (*Inventory)(nil)
)

// New reads and checks the file; every malformed entry is reported, by index and id.
func New(_ context.Context, c Config) (*Inventory, error) {
	b, err := os.ReadFile(c.Path)
	if err != nil {
		// A file is not a service that may be down: a missing one is a configuration mistake.
		return nil, fmt.Errorf("reading inventory file: %w: %w", hsmcheck.ErrConfig, err)
	}
	var doc Document
	if err := yaml.Unmarshal(b, &doc); err != nil {
		// YAML errors quote the input, and a file given by mistake may hold secrets.
		msg := quoted.ReplaceAllString(strings.ReplaceAll(err.Error(), "\n", ";"), "…")
		return nil, fmt.Errorf("parsing inventory file %q: %w: %s", c.Path, hsmcheck.ErrConfig, msg)
	}
	inv := &Inventory{name: c.Name}
	if inv.name == "" {
		inv.name = "file:" + c.Path
	}
	if doc.Version > 1 {
		return nil, fmt.Errorf("parsing inventory file %q: %w: version %d is newer than this keywarden understands", c.Path, hsmcheck.ErrConfig, doc.Version)
	}
	if doc.TokenSalt != "" {
		if inv.salt, err = hex.DecodeString(doc.TokenSalt); err != nil || len(inv.salt) < 16 {
			return nil, fmt.Errorf("parsing inventory file %q: %w: token_salt must be at least 16 bytes in hex", c.Path, hsmcheck.ErrConfig)
		}
	}
	var errs []error
	seen := map[string]bool{}
	for i, e := range doc.Keys {
		k, err := e.key(c.Scope)
		id := k.Location + "\x00" + k.ID + "\x00" + strconv.Itoa(k.Version)
		if err == nil && seen[id] {
			err = fmt.Errorf("id %q appears twice for the same location and version", k.ID)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("keys[%d] (%s): %w", i, e.ID, err))
			continue
		}
		if len(k.TokenHMAC) > 0 && inv.salt == nil {
			errs = append(errs, fmt.Errorf("keys[%d] (%s): token_hmac needs the file's token_salt", i, e.ID))
			continue
		}
		seen[id] = true
		inv.keys = append(inv.keys, k)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("parsing inventory file %q: %w: %w", c.Path, hsmcheck.ErrConfig, errors.Join(errs...))
	}
	return inv, nil
}

var quoted = regexp.MustCompile("`[^`]*`")

// Open opens file:PATH.
func Open(ctx context.Context, s hsmcheck.Spec) (hsmcheck.Inventory, error) {
	p := s.Target()
	if p == "" {
		return nil, fmt.Errorf("inventory %q: %w: want file:PATH", s.URI, hsmcheck.ErrConfig)
	}
	if s.BaseDir != "" && !strings.HasPrefix(p, "/") {
		p = s.BaseDir + "/" + p
	}
	return New(ctx, Config{Path: p, Scope: s.Scope, Name: s.Name})
}

// Name returns "file:PATH" unless the configuration named it.
func (inv *Inventory) Name() string { return inv.name }

// DeclaresKeys reports that the file declares keys held in other backends.
func (inv *Inventory) DeclaresKeys() bool { return true }

// TokenSalt returns the salt token_hmac entries are computed with.
func (inv *Inventory) TokenSalt() []byte { return inv.salt }

// Keys yields the file's entries in file order.
func (inv *Inventory) Keys(ctx context.Context, yield func(hsmcheck.Key) error) error {
	for _, k := range inv.keys {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := yield(k); err != nil {
			return err
		}
	}
	return ctx.Err()
}

func (e Entry) key(scope string) (hsmcheck.Key, error) {
	k := hsmcheck.Key{ID: e.ID, Label: e.Label, Version: e.Version, Algorithm: e.Algorithm, Usage: e.Usage,
		Owner: e.Owner, Purpose: e.Purpose, Location: e.Location, Scope: e.Scope}
	if k.ID == "" {
		return k, errors.New("no id")
	}
	if k.Scope == "" {
		k.Scope = scope
	}
	var err error
	if e.Fingerprints.SPKISHA256 != "" {
		if k.SPKIHash, err = hsmcheck.ParseSPKIHash(e.Fingerprints.SPKISHA256); err != nil {
			return k, err
		}
	}
	if e.Fingerprints.KCV != "" {
		if k.CheckValue, err = hex.DecodeString(e.Fingerprints.KCV); err != nil || len(k.CheckValue) != hsmcheck.KCVLen {
			return k, fmt.Errorf("kcv %q: want %d bytes in hex", e.Fingerprints.KCV, hsmcheck.KCVLen)
		}
	}
	if e.Fingerprints.TokenHMAC != "" {
		if k.TokenHMAC, err = hex.DecodeString(e.Fingerprints.TokenHMAC); err != nil || len(k.TokenHMAC) != 32 {
			return k, fmt.Errorf("token_hmac: want 32 bytes in hex")
		}
	}
	switch c := strings.ToLower(e.Class); {
	case c == "secret" || c == "token":
		k.Class = hsmcheck.Secret
	case c == "private":
		k.Class = hsmcheck.Private
	case c == "public":
		k.Class = hsmcheck.Public
	case c != "":
		return k, fmt.Errorf("class %q: want secret, private, public or token", e.Class)
	case k.HasSPKI():
		k.Class = hsmcheck.Private
	default:
		k.Class = hsmcheck.Secret
	}
	if !k.HasSPKI() && k.CheckValue == nil && k.TokenHMAC == nil && e.Location == "" {
		return k, errors.New("no fingerprint and no location: nothing can match it")
	}
	if k.State, err = ParseState(e.State); err != nil {
		return k, err
	}
	for _, d := range []struct {
		name string
		s    string
		t    *time.Time
	}{{"created", e.Created, &k.Created}, {"last_rotated", e.LastRotated, &k.LastRotated}, {"expires", e.Expires, &k.Expires}} {
		if d.s == "" {
			continue
		}
		if *d.t, err = ParseTime(d.s); err != nil {
			return k, fmt.Errorf("%s: %w", d.name, err)
		}
	}
	if e.RotationPeriod != "" {
		if k.RotationPeriod, err = hsmcheck.ParsePeriod(e.RotationPeriod); err != nil {
			return k, fmt.Errorf("rotation_period: %w", err)
		}
	}
	return k, nil
}

// ParseState reads a state as written in a file; "" is active, since an entry is listed to
// say the key is in use.
func ParseState(s string) (hsmcheck.State, error) {
	switch st := hsmcheck.State(strings.ToLower(strings.TrimSpace(s))); st {
	case "", "enabled":
		return hsmcheck.Active, nil
	case hsmcheck.Active, hsmcheck.PreActive, hsmcheck.Disabled, hsmcheck.Deactivated, hsmcheck.Compromised,
		hsmcheck.PendingDeletion, hsmcheck.Destroyed, hsmcheck.OldVersion, hsmcheck.Unknown:
		return st, nil
	case "retired", "revoked":
		return hsmcheck.Deactivated, nil
	}
	return "", fmt.Errorf("state %q: want active, pre-active, disabled, deactivated, compromised, pending-deletion, destroyed or old-version", s)
}

// ParseTime reads YYYY-MM-DD or RFC 3339.
func ParseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return t, fmt.Errorf("%q: want YYYY-MM-DD or RFC 3339", s)
	}
	return t, nil
}

// FormatPeriod writes a period the way ParsePeriod reads it, in days or years.
func FormatPeriod(d time.Duration) string {
	day := 24 * time.Hour
	switch {
	case d <= 0:
		return ""
	case d%(365*day) == 0:
		return strconv.Itoa(int(d/(365*day))) + "y"
	case d%day == 0:
		return strconv.Itoa(int(d/day)) + "d"
	}
	return d.String()
}
