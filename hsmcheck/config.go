package hsmcheck

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
)

// Config is the inventory part of .keywarden.toml:
//
//	[[inventory]]
//	uri = "pkcs11:/usr/lib/softhsm/libsofthsm2.so?token=prod"
//	scope = "prod"
//	pin-file = "/run/secrets/hsm-pin"
//
//	[inventory_policy.cryptoperiods]
//	sign = "2y"
type Config struct {
	Specs  []Spec
	Policy Policy
}

type fileConfig struct {
	Inventory []map[string]any `toml:"inventory"`
	Policy    struct {
		Cryptoperiods map[string]string `toml:"cryptoperiods"`
	} `toml:"inventory_policy"`
}

// ParsePeriod reads a period such as 90d, 12w, 2y or a Go duration (2160h).
func ParsePeriod(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("empty period")
	}
	unit := map[byte]time.Duration{'d': 24 * time.Hour, 'w': 7 * 24 * time.Hour, 'y': year}[s[len(s)-1]]
	if unit != 0 {
		var n int
		if _, err := fmt.Sscanf(s[:len(s)-1], "%d", &n); err == nil && n > 0 && fmt.Sprint(n) == s[:len(s)-1] {
			return time.Duration(n) * unit, nil
		}
	} else if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return d, nil
	}
	return 0, fmt.Errorf("%q: want a positive period such as 90d, 12w, 2y or 2160h", s)
}

// LoadConfig reads the [[inventory]] tables and [inventory_policy] of a keywarden config file.
// A missing file is no inventory. Relative paths in a table resolve against the file's
// directory.
func LoadConfig(path string) (*Config, error) {
	c := &Config{Policy: DefaultPolicy()}
	if path == "" {
		return c, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	var fc fileConfig
	if err := toml.Unmarshal(b, &fc); err != nil {
		return nil, fmt.Errorf("parsing inventory config in %q: %w: %w", path, ErrConfig, err)
	}
	dir := filepath.Dir(path)
	for i, t := range fc.Inventory {
		uri, _ := t["uri"].(string)
		if uri == "" {
			return nil, fmt.Errorf("parsing %q: %w: inventory[%d] has no uri", path, ErrConfig, i)
		}
		s, err := ParseSpec(uri)
		if err != nil {
			return nil, err
		}
		s.BaseDir = dir
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v := fmt.Sprint(t[k])
			switch k {
			case "uri":
			case "name":
				s.Name = v
			case "scope":
				s.Scope = v
			default:
				s.Params.Set(k, v)
			}
		}
		c.Specs = append(c.Specs, s)
	}
	for u, v := range fc.Policy.Cryptoperiods {
		known := false
		for _, k := range Usages {
			known = known || k == u
		}
		if !known {
			return nil, fmt.Errorf("parsing %q: %w: inventory_policy.cryptoperiods.%s: want one of %s", path, ErrConfig, u, strings.Join(Usages, ", "))
		}
		d, err := ParsePeriod(v)
		if err != nil {
			return nil, fmt.Errorf("parsing %q: %w: inventory_policy.cryptoperiods.%s: %w", path, ErrConfig, u, err)
		}
		c.Policy.Cryptoperiods[u] = d
	}
	return c, nil
}
