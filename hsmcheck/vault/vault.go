package vault

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/openbao/openbao/api/v2"

	"github.com/keywarden/keywarden/hsmcheck"
)

// DefaultMount is where the transit secrets engine is mounted unless the URI names a path.
const DefaultMount = "transit"

// Config configures a transit inventory. Every field is explicit: New reads nothing from the
// environment, so VAULT_ADDR, VAULT_SKIP_VERIFY and the like cannot redirect or weaken it.
type Config struct {
	Address   string // https://HOST:PORT or HOST:PORT; https is the only scheme accepted
	Mount     string // the transit mount path; "" = DefaultMount
	Namespace string // Vault Enterprise / OpenBao namespace; "" = root
	Token     string // the client token, sent as X-Vault-Token
	CAFile    string // PEM file of the CA that signed the server's certificate; "" = system roots
	Scope     string // reported as Key.Scope; "" = NAMESPACE/MOUNT ("root/MOUNT" without one)
	Name      string // Name(); "" = "vault:HOST:PORT/MOUNT"

	// Warn, when set, receives one error per key that could not be read, and Keys then
	// returns nil for them. Without it Keys lists every key it can and returns those errors
	// joined at the end. Open leaves it nil.
	Warn func(error)
}

// Inventory lists the keys of one transit mount. It is safe for concurrent use.
type Inventory struct {
	client *api.Client
	http   *http.Client
	mount  string
	scope  string
	name   string
	warn   func(error)
}

var (
	_ hsmcheck.Inventory  = (*Inventory)(nil)
	_ hsmcheck.Challenger = (*Inventory)(nil)
)

// New returns an inventory of the transit mount c describes. It does not contact the server.
func New(_ context.Context, c Config) (*Inventory, error) {
	host, err := httpsHost(c.Address)
	if err != nil {
		return nil, err
	}
	mount := strings.Trim(c.Mount, "/")
	if mount == "" {
		mount = DefaultMount
	}
	if strings.Contains(mount, "..") {
		return nil, fmt.Errorf("vault mount %q: %w: want a path such as transit or team/transit", c.Mount, hsmcheck.ErrConfig)
	}
	if c.Token == "" {
		return nil, fmt.Errorf("connecting to vault at %s: %w: no token; set VAULT_TOKEN or BAO_TOKEN, or token-file=", host, hsmcheck.ErrAuth)
	}

	// NewConfig, unlike DefaultConfig, has DisableEnvironment set: the client then reads no
	// BAO_*/VAULT_* variable, neither here nor in NewClient.
	cfg := api.NewConfig()
	if cfg.Error != nil {
		return nil, fmt.Errorf("configuring vault client: %w", cfg.Error)
	}
	cfg.Address = "https://" + host
	if c.CAFile != "" {
		// The file replaces the system roots for this client, as VAULT_CACERT does; certificate
		// verification itself is never switched off.
		if err := cfg.ConfigureTLS(&api.TLSConfig{CACert: c.CAFile}); err != nil {
			return nil, fmt.Errorf("loading vault CA file %q: %w: %w", c.CAFile, hsmcheck.ErrConfig, err)
		}
	}
	client, err := api.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("configuring vault client for %s: %w: %w", host, hsmcheck.ErrConfig, err)
	}
	client.SetToken(c.Token)
	ns := strings.Trim(c.Namespace, "/")
	if ns != "" {
		client.SetNamespace(ns)
	}

	inv := &Inventory{client: client, http: cfg.HttpClient, mount: mount, scope: c.Scope, name: c.Name, warn: c.Warn}
	if inv.scope == "" {
		root := ns
		if root == "" {
			root = "root"
		}
		inv.scope = root + "/" + mount
	}
	if inv.name == "" {
		inv.name = "vault:" + host + "/" + mount
	}
	return inv, nil
}

// Open returns the inventory that a vault://HOST:PORT/MOUNT or openbao://HOST:PORT/MOUNT spec
// describes. Params: namespace, ca (a CA file), token-file. The token comes from VAULT_TOKEN or
// BAO_TOKEN (the one the scheme names first), else from token-file; never from the URI.
func Open(ctx context.Context, s hsmcheck.Spec) (hsmcheck.Inventory, error) {
	s = masked(s)
	if err := s.Forbid("token", "vault-token"); err != nil {
		return nil, err
	}
	scheme := s.Scheme()
	envs := []string{"VAULT_TOKEN", "BAO_TOKEN"}
	switch scheme {
	case "vault":
	case "openbao":
		envs = []string{"BAO_TOKEN", "VAULT_TOKEN"}
	default:
		return nil, fmt.Errorf("inventory %q: %w: want vault://HOST:PORT/MOUNT or openbao://HOST:PORT/MOUNT", s.Redacted(), hsmcheck.ErrConfig)
	}
	if s.URL.User != nil {
		return nil, fmt.Errorf("inventory %q: %w: credentials in the URI would end up in shell history; use %s or token-file=", s.Redacted(), hsmcheck.ErrConfig, envs[0])
	}
	if s.URL.Host == "" || s.URL.Opaque != "" {
		return nil, fmt.Errorf("inventory %q: %w: want %s://HOST:PORT/MOUNT", s.Redacted(), hsmcheck.ErrConfig, scheme)
	}
	token, err := s.Credential("token-file", envs...)
	if err != nil {
		return nil, fmt.Errorf("inventory %q: %w: %w", s.Redacted(), hsmcheck.ErrConfig, err)
	}
	mount := strings.Trim(s.URL.Path, "/")
	if mount == "" {
		mount = DefaultMount
	}
	inv, err := New(ctx, Config{
		Address:   s.URL.Host,
		Mount:     mount,
		Namespace: s.Params.Get("namespace"),
		Token:     token,
		CAFile:    s.Path("ca"),
		Scope:     s.Scope,
		Name:      s.DisplayName(scheme + ":" + s.URL.Host + "/" + mount),
	})
	if err != nil {
		return nil, err // not a typed nil in the interface
	}
	return inv, nil
}

// masked returns s with the values of token and vault-token hidden from Redacted, which
// shows token= as the harmless PKCS#11 token label it is for pkcs11: URIs; here it would be a
// Vault token.
func masked(s hsmcheck.Spec) hsmcheck.Spec {
	if s.URL == nil {
		return s
	}
	u := *s.URL
	q := u.Query()
	for _, p := range []string{"token", "vault-token"} {
		if q.Has(p) {
			q.Set(p, "…")
		}
	}
	u.RawQuery = q.Encode()
	s.URL = &u
	return s
}

// Name returns the inventory's display name, "vault:HOST:PORT/MOUNT" by default.
func (inv *Inventory) Name() string { return inv.name }

// Close drops the client's idle connections.
func (inv *Inventory) Close() error {
	inv.http.CloseIdleConnections()
	return nil
}

// httpsHost returns HOST:PORT from an address that is either that or an https URL.
func httpsHost(addr string) (string, error) {
	a := strings.TrimSpace(addr)
	if a == "" {
		return "", fmt.Errorf("vault address: %w: empty", hsmcheck.ErrConfig)
	}
	if strings.Contains(a, "://") {
		u, err := url.Parse(a)
		if err != nil {
			return "", fmt.Errorf("parsing vault address %q: %w: %w", addr, hsmcheck.ErrConfig, err)
		}
		if u.Scheme != "https" {
			return "", fmt.Errorf("vault address %q: %w: only https is supported", addr, hsmcheck.ErrConfig)
		}
		if u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			return "", fmt.Errorf("vault address %q: %w: want https://HOST:PORT", addr, hsmcheck.ErrConfig)
		}
		a = u.Host
	}
	if _, _, err := net.SplitHostPort(a); err != nil {
		if strings.Contains(err.Error(), "missing port") {
			return "", fmt.Errorf("vault address %q: %w: want HOST:PORT (vault listens on 8200 by default)", addr, hsmcheck.ErrConfig)
		}
		return "", fmt.Errorf("vault address %q: %w: %w", addr, hsmcheck.ErrConfig, err)
	}
	return a, nil
}

// failed turns a client error into this package's: ctx.Err() once ctx is done, ErrAuth added
// on 401/403, and the client's multi-line message condensed.
func (inv *Inventory) failed(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var re *api.ResponseError
	if errors.As(err, &re) {
		err = &responseError{re}
		if re.StatusCode == http.StatusForbidden || re.StatusCode == http.StatusUnauthorized {
			return fmt.Errorf("%s in %s: %w: %w", what, inv.name, hsmcheck.ErrAuth, err)
		}
	}
	return fmt.Errorf("%s in %s: %w", what, inv.name, err)
}

// responseError prints a server error on one line: method, path, status and the server's
// messages. The query and headers, where a token could be, are left out.
type responseError struct{ re *api.ResponseError }

func (e *responseError) Error() string {
	p := e.re.URL
	if u, err := url.Parse(p); err == nil {
		p = u.Path
	}
	msg := strings.Join(strings.Fields(strings.Join(e.re.Errors, "; ")), " ")
	if msg == "" {
		msg = http.StatusText(e.re.StatusCode)
	}
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.re.HTTPMethod, p, e.re.StatusCode, msg)
}

func (e *responseError) Unwrap() error { return e.re }
