// Package all opens any inventory backend keywarden knows from its URI scheme. Backends are
// listed here by hand, with no init() registration, so that what a build can reach is plain.
package all

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/keywarden/keywarden/hsmcheck"
	"github.com/keywarden/keywarden/hsmcheck/awskms"
	"github.com/keywarden/keywarden/hsmcheck/file"
	"github.com/keywarden/keywarden/hsmcheck/kmip"
	"github.com/keywarden/keywarden/hsmcheck/pkcs11"
	"github.com/keywarden/keywarden/hsmcheck/vault"
)

// Open opens the backend s names.
func Open(ctx context.Context, s hsmcheck.Spec) (hsmcheck.Inventory, error) {
	var open func(context.Context, hsmcheck.Spec) (hsmcheck.Inventory, error)
	switch s.Scheme() {
	case "pkcs11":
		open = pkcs11.Open
	case "kmip":
		open = kmip.Open
	case "awskms":
		open = awskms.Open
	case "vault", "openbao":
		open = vault.Open
	case "file":
		open = file.Open
	default:
		return nil, fmt.Errorf("opening inventory %q: %w: unknown scheme %q, want one of %s", s.Redacted(), hsmcheck.ErrConfig, s.Scheme(), strings.Join(hsmcheck.Schemes, ", "))
	}
	inv, err := open(ctx, s)
	if err != nil {
		return nil, fmt.Errorf("opening inventory %s: %w", s.Redacted(), err)
	}
	return inv, nil
}

// Load opens every spec's backend and lists its keys. A backend that cannot be opened for a
// reason other than its configuration (unreachable, credentials refused) comes back as a Loaded
// with Err set, named by its redacted URI, so that a scan can go on and say what it could not
// check; a configuration error fails the whole load. The caller calls done when it has finished
// challenging keys.
func Load(ctx context.Context, specs []hsmcheck.Spec) (loaded []*hsmcheck.Loaded, done func(), err error) {
	var opened []hsmcheck.Inventory
	done = func() { Close(opened) }
	var failed []*hsmcheck.Loaded
	for _, s := range specs {
		inv, err := Open(ctx, s)
		if err != nil {
			if errors.Is(err, hsmcheck.ErrConfig) {
				done()
				return nil, func() {}, err
			}
			failed = append(failed, &hsmcheck.Loaded{Inventory: unopened(s.DisplayName(s.Redacted())), Err: err})
			continue
		}
		opened = append(opened, inv)
	}
	loaded, err = hsmcheck.Load(ctx, opened)
	if err != nil {
		done()
		return nil, func() {}, err
	}
	return append(loaded, failed...), done, nil
}

// unopened stands for a backend that could not be opened, in reports.
type unopened string

func (u unopened) Name() string { return string(u) }
func (u unopened) Keys(context.Context, func(hsmcheck.Key) error) error {
	return hsmcheck.ErrUnsupported
}

// Close closes every inventory that holds resources (PKCS#11 sessions, KMIP connections).
func Close(invs []hsmcheck.Inventory) {
	for _, inv := range invs {
		if c, ok := inv.(io.Closer); ok {
			_ = c.Close()
		}
	}
}
