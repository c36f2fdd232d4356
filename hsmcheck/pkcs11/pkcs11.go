package pkcs11

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	p11 "github.com/miekg/pkcs11"

	"github.com/keywarden/keywarden/hsmcheck"
	"github.com/keywarden/keywarden/hsmcheck/pkcs11/internal/p11mod"
)

// PINEnv is the environment variable Open reads the user PIN from.
const PINEnv = "KEYWARDEN_PKCS11_PIN"

// Config says which token to list and how to log in to it.
type Config struct {
	Module     string // path of the PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so
	TokenLabel string // the token to open; "" = the one at Slot, or the only token present
	Slot       *uint  // the slot to open; nil = find the token by TokenLabel
	PIN        string // the user PIN; "" logs in only through a protected authentication path
	Scope      string // reported as every key's Scope; "" = the token label
	Name       string // the inventory's name; "" = "pkcs11:" + the token label
}

// Inventory lists the keys of one PKCS#11 token through a read-only session logged in as the
// user. It is safe for concurrent use; Close ends it.
type Inventory struct {
	mod   *p11mod.Module
	slot  uint
	label string // token label
	name  string
	scope string
	login p11.SessionHandle // kept open so the login lasts as long as the Inventory

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

var (
	_ hsmcheck.Inventory  = (*Inventory)(nil)
	_ hsmcheck.Challenger = (*Inventory)(nil)
	_ io.Closer           = (*Inventory)(nil)
)

// New loads c.Module, opens the token and logs in. A refused or missing PIN gives an error
// wrapping hsmcheck.ErrAuth.
func New(ctx context.Context, c Config) (*Inventory, error) {
	if c.Module == "" {
		return nil, fmt.Errorf("opening pkcs11 token: %w: no module path", hsmcheck.ErrConfig)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	mod, err := p11mod.Acquire(c.Module)
	if err != nil {
		return nil, err
	}
	inv, err := open(mod, c)
	if err != nil {
		_ = mod.Release()
		return nil, err
	}
	return inv, nil
}

func open(mod *p11mod.Module, c Config) (*Inventory, error) {
	slot, ti, err := findToken(mod, c)
	if err != nil {
		return nil, err
	}
	inv := &Inventory{mod: mod, slot: slot, label: ti.Label, name: c.Name, scope: c.Scope}
	if inv.name == "" {
		inv.name = "pkcs11:" + ti.Label
	}
	if inv.scope == "" {
		inv.scope = ti.Label
	}
	inv.login, err = mod.OpenSession(slot, p11.CKF_SERIAL_SESSION)
	if err != nil {
		return nil, fmt.Errorf("opening session on token %q: %w", ti.Label, err)
	}
	if err := inv.logIn(ti, c.PIN); err != nil {
		_ = mod.CloseSession(inv.login)
		return nil, err
	}
	return inv, nil
}

func (inv *Inventory) logIn(ti p11.TokenInfo, pin string) error {
	if pin == "" {
		switch {
		case ti.Flags&p11.CKF_PROTECTED_AUTHENTICATION_PATH != 0:
			// The token asks for the PIN on its own pad; an empty PIN tells it to.
		case ti.Flags&p11.CKF_LOGIN_REQUIRED != 0:
			return fmt.Errorf("logging in to token %q: %w: no PIN; set %s or pin-file", ti.Label, hsmcheck.ErrAuth, PINEnv)
		default:
			return nil // the token holds public objects only
		}
	}
	err := inv.mod.Login(inv.login, inv.slot, pin)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, p11mod.ErrOtherPIN), p11mod.Is(err, p11.CKR_PIN_INCORRECT, p11.CKR_PIN_INVALID,
		p11.CKR_PIN_LEN_RANGE, p11.CKR_PIN_EXPIRED, p11.CKR_PIN_LOCKED, p11.CKR_USER_PIN_NOT_INITIALIZED):
		return fmt.Errorf("logging in to token %q: %w: %w", ti.Label, hsmcheck.ErrAuth, err)
	}
	return fmt.Errorf("logging in to token %q: %w", ti.Label, err)
}

// findToken picks the slot c names: by label, by slot number, or the only initialised token.
func findToken(mod *p11mod.Module, c Config) (uint, p11.TokenInfo, error) {
	slots, err := mod.GetSlotList(true)
	if err != nil {
		return 0, p11.TokenInfo{}, fmt.Errorf("listing slots of %q: %w", c.Module, err)
	}
	type token struct {
		slot uint
		info p11.TokenInfo
	}
	var present []token
	for _, s := range slots {
		ti, err := mod.GetTokenInfo(s)
		if err != nil || ti.Flags&p11.CKF_TOKEN_INITIALIZED == 0 {
			continue
		}
		ti.Label = strings.TrimRight(ti.Label, " \x00")
		present = append(present, token{s, ti})
	}
	var found []token
	for _, t := range present {
		if (c.Slot == nil || t.slot == *c.Slot) && (c.TokenLabel == "" || t.info.Label == c.TokenLabel) {
			found = append(found, t)
		}
	}
	if len(found) == 1 {
		return found[0].slot, found[0].info, nil
	}
	var names []string
	for _, t := range present {
		names = append(names, strconv.Quote(t.info.Label)+" (slot "+strconv.FormatUint(uint64(t.slot), 10)+")")
	}
	have := "no initialised tokens"
	if len(names) > 0 {
		have = "tokens present: " + strings.Join(names, ", ")
	}
	var want string
	switch {
	case c.TokenLabel != "" && c.Slot != nil:
		want = fmt.Sprintf("token %q in slot %d", c.TokenLabel, *c.Slot)
	case c.TokenLabel != "":
		want = fmt.Sprintf("token %q", c.TokenLabel)
	case c.Slot != nil:
		want = fmt.Sprintf("slot %d", *c.Slot)
	default:
		want = "a token"
	}
	if len(found) > 1 {
		if c.TokenLabel == "" && c.Slot == nil {
			return 0, p11.TokenInfo{}, fmt.Errorf("finding %s in %q: %w: several tokens, name one with token= or slot=; %s", want, c.Module, hsmcheck.ErrConfig, have)
		}
		return 0, p11.TokenInfo{}, fmt.Errorf("finding %s in %q: %w: the label is not unique, use slot=; %s", want, c.Module, hsmcheck.ErrConfig, have)
	}
	return 0, p11.TokenInfo{}, fmt.Errorf("finding %s in %q: no such token; %s", want, c.Module, have)
}

// Open opens pkcs11:MODULE_PATH?token=LABEL or pkcs11:MODULE_PATH?slot=N. The module may also
// come from a module-path param, and RFC 7512 path attributes (pkcs11:token=LABEL;slot-id=N
// ?module-path=PATH) are understood. The PIN comes from $KEYWARDEN_PKCS11_PIN, else from the
// file the pin-file param names; pin and pin-value params are refused.
func Open(ctx context.Context, s hsmcheck.Spec) (hsmcheck.Inventory, error) {
	if err := s.Forbid("pin", "pin-value"); err != nil {
		return nil, err
	}
	c := Config{Scope: s.Scope, Name: s.Name, TokenLabel: s.Params.Get("token")}
	slot := s.Params.Get("slot")
	if slot == "" {
		slot = s.Params.Get("slot-id")
	}
	target := s.Target()
	if rfc7512.MatchString(target) {
		// RFC 7512: pkcs11:token=LABEL;slot-id=N
		for attr := range strings.SplitSeq(target, ";") {
			k, v, _ := strings.Cut(attr, "=")
			if u, err := url.PathUnescape(v); err == nil {
				v = u
			}
			switch k {
			case "token":
				c.TokenLabel = v
			case "slot-id":
				slot = v
			}
		}
		target = ""
	}
	mp := s.Params.Get("module-path")
	if strings.Contains(mp, "/") {
		mp = s.Path("module-path")
	}
	switch {
	case mp != "" && target != "" && mp != target:
		return nil, fmt.Errorf("inventory %q: %w: both a module path and module-path=", s.Redacted(), hsmcheck.ErrConfig)
	case mp != "":
		c.Module = mp
	case target != "" && strings.Contains(target, "/") && !filepath.IsAbs(target) && s.BaseDir != "":
		c.Module = filepath.Join(s.BaseDir, target)
	default:
		c.Module = target // a bare file name goes to the dynamic loader's search path
	}
	if c.Module == "" {
		return nil, fmt.Errorf("inventory %q: %w: want pkcs11:MODULE_PATH?token=LABEL", s.Redacted(), hsmcheck.ErrConfig)
	}
	if slot != "" {
		n, err := strconv.ParseUint(slot, 10, 0)
		if err != nil {
			return nil, fmt.Errorf("inventory %q: %w: slot %q is not a number", s.Redacted(), hsmcheck.ErrConfig, slot)
		}
		u := uint(n)
		c.Slot = &u
	}
	pin, err := s.Credential("pin-file", PINEnv)
	if err != nil {
		return nil, fmt.Errorf("inventory %q: %w: %w", s.Redacted(), hsmcheck.ErrAuth, err)
	}
	c.PIN = pin
	inv, err := New(ctx, c)
	if err != nil {
		return nil, err // not a typed nil inside the interface
	}
	return inv, nil
}

// rfc7512 matches the path of an RFC 7512 URI, which starts with an attribute such as token=.
var rfc7512 = regexp.MustCompile(`^[a-z][a-z-]*=`)

// Name returns "pkcs11:" and the token label unless the configuration named it.
func (inv *Inventory) Name() string { return inv.name }

// Token returns the label of the open token.
func (inv *Inventory) Token() string { return inv.label }

// Close ends the login session and releases the module; the last user of a module that
// keywarden initialised finalizes it.
func (inv *Inventory) Close() error {
	inv.closeOnce.Do(func() {
		inv.closed.Store(true)
		err := inv.mod.CloseSession(inv.login)
		inv.closeErr = errors.Join(err, inv.mod.Release())
	})
	return inv.closeErr
}

// session opens a read-only session for one call, so that concurrent calls do not share one.
func (inv *Inventory) session() (p11.SessionHandle, func(), error) {
	if inv.closed.Load() {
		return 0, nil, fmt.Errorf("reading token %q: inventory is closed", inv.label)
	}
	sh, err := inv.mod.OpenSession(inv.slot, p11.CKF_SERIAL_SESSION)
	if err != nil {
		return 0, nil, fmt.Errorf("opening session on token %q: %w", inv.label, err)
	}
	return sh, func() { _ = inv.mod.CloseSession(sh) }, nil
}
