package hsmcheck

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Spec configures one inventory backend. It comes from a --inventory URI or from an
// [[inventory]] table in .keywarden.toml, whose keys other than uri, name and scope become
// Params. It never holds a credential: those come from the environment or from files that
// Params name.
type Spec struct {
	URI     string     // as the user wrote it, for messages
	URL     *url.URL   // parsed URI
	Name    string     // display name; "" = the backend's default
	Scope   string     // overrides the scope the backend's keys are reported with
	Params  url.Values // the URI's query parameters and the table's other keys
	BaseDir string     // relative paths in Params resolve against it (the config file's directory)
	// Getenv looks up credentials; nil means os.Getenv. Tests set it.
	Getenv func(string) string
}

// ParseSpec parses an inventory URI such as pkcs11:/usr/lib/softhsm/libsofthsm2.so?token=prod,
// kmip://kms.example:5696?ca=ca.pem, awskms://eu-west-1, vault://127.0.0.1:8200/transit or
// file:keywarden-inventory.yaml.
func ParseSpec(uri string) (Spec, error) {
	u, err := url.Parse(strings.TrimSpace(uri))
	if err != nil {
		return Spec{}, fmt.Errorf("parsing inventory %q: %w", uri, err)
	}
	if u.Scheme == "" {
		return Spec{}, fmt.Errorf("parsing inventory %q: %w: want SCHEME:…, one of %s", uri, ErrConfig, strings.Join(Schemes, ", "))
	}
	u.Scheme = strings.ToLower(u.Scheme)
	s := Spec{URI: uri, URL: u, Params: u.Query()}
	s.Name = s.Params.Get("name")
	s.Scope = s.Params.Get("scope")
	return s, nil
}

// Schemes are the inventory URI schemes keywarden knows.
var Schemes = []string{"pkcs11", "kmip", "awskms", "vault", "openbao", "file"}

// Scheme returns the URI scheme in lower case.
func (s Spec) Scheme() string {
	if s.URL == nil {
		return ""
	}
	return s.URL.Scheme
}

// Target returns what follows the scheme: the module path of pkcs11:PATH, the path of
// file:PATH, or HOST:PORT of a hierarchical URI.
func (s Spec) Target() string {
	switch {
	case s.URL == nil:
		return ""
	case s.URL.Opaque != "":
		return s.URL.Opaque
	case s.URL.Host != "":
		return s.URL.Host
	}
	return s.URL.Path
}

// Env looks a variable up through Getenv.
func (s Spec) Env(name string) string {
	if s.Getenv != nil {
		return s.Getenv(name)
	}
	return os.Getenv(name)
}

// Path returns the file named by param, resolved against BaseDir; "" when unset.
func (s Spec) Path(param string) string {
	p := s.Params.Get(param)
	if p == "" || filepath.IsAbs(p) || s.BaseDir == "" {
		return p
	}
	return filepath.Join(s.BaseDir, p)
}

// Credential returns a secret from the first set environment variable in envs, else from the
// file that fileParam names (trailing newline trimmed). It returns "" and no error when neither
// is given, so the backend decides whether it can go on without one.
func (s Spec) Credential(fileParam string, envs ...string) (string, error) {
	for _, e := range envs {
		if v := s.Env(e); v != "" {
			return v, nil
		}
	}
	p := s.Path(fileParam)
	if p == "" {
		return "", nil
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return "", fmt.Errorf("reading %s %q: %w", fileParam, p, err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// Forbid returns an error if any of the named params is set: credentials must not come from a
// URI, which ends up in shell history and CI logs.
func (s Spec) Forbid(params ...string) error {
	for _, p := range params {
		if s.Params.Has(p) {
			return fmt.Errorf("%w: %q would put a credential on the command line; use the environment or a file", ErrConfig, p)
		}
	}
	return nil
}

// Redacted returns the URI with every query value except known-harmless ones hidden, for
// messages.
func (s Spec) Redacted() string {
	if s.URL == nil {
		return s.URI
	}
	u := *s.URL
	u.User = nil
	u.RawQuery, u.ForceQuery = "", false
	q := s.URL.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		for _, v := range q[k] {
			switch k {
			case "token":
				// A PKCS#11 token is a label; anywhere else a token is a credential.
				if s.Scheme() != "pkcs11" {
					v = "REDACTED"
				}
			case "endpoint":
				if eu, err := url.Parse(v); err != nil {
					v = "REDACTED"
				} else if eu.User != nil || eu.RawQuery != "" {
					eu.User, eu.RawQuery = nil, ""
					v = eu.String()
				}
			case "slot", "ca", "cert", "key", "namespace", "scope", "name", "pin-file", "token-file", "profile", "server-name", "module-path", "scope-tag":
			default:
				v = "REDACTED"
			}
			parts = append(parts, k+"="+v)
		}
	}
	out := u.String()
	if len(parts) > 0 {
		out += "?" + strings.Join(parts, "&")
	}
	return out
}

// DisplayName returns Name, or def when Name is empty.
func (s Spec) DisplayName(def string) string {
	if s.Name != "" {
		return s.Name
	}
	return def
}
