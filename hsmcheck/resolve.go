package hsmcheck

import (
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
)

// Located is one key and the inventory that lists it.
type Located struct {
	Inventory Inventory
	Key       Key
}

// ResolveError says a key reference matched no key, or more than one.
type ResolveError struct {
	Ref        string
	Candidates []Located // empty: nothing matched
}

func (e *ResolveError) Error() string {
	if len(e.Candidates) == 0 {
		return fmt.Sprintf("no key in the inventories matches %q (try the key's ID, label or spki-sha256 fingerprint)", e.Ref)
	}
	var names []string
	for _, c := range e.Candidates {
		names = append(names, c.Key.Ref()+" in "+c.Inventory.Name())
	}
	return fmt.Sprintf("%q matches %d keys: %s; name one by its ID, or pick its inventory with --backend", e.Ref, len(e.Candidates), strings.Join(names, "; "))
}

// Resolve finds the one key ref names: its ID, label, Ref(), or the hex SPKI SHA-256
// ("spki-sha256:" prefix optional) of its public half. backend, when set, keeps only the
// inventories whose name is backend or starts with it (a scheme such as "pkcs11"). A versioned
// key (transit) resolves to its live version: rotating means rotating what is in use. Skipped
// inventories are not searched.
func Resolve(loaded []*Loaded, ref, backend string) (Located, error) {
	spki := strings.TrimPrefix(strings.ToLower(ref), BySPKI+":")
	var want [32]byte
	if b, err := hex.DecodeString(spki); err == nil && len(b) == 32 {
		copy(want[:], b)
	}
	var found []Located
	for _, l := range loaded {
		if l.Err != nil || !backendMatches(l.Inventory.Name(), backend) {
			continue
		}
		for _, k := range l.Keys {
			if k.ID == ref || k.Label == ref || k.Ref() == ref || want != [32]byte{} && k.SPKIHash == want {
				found = append(found, Located{l.Inventory, k})
			}
		}
	}
	// The versions of one key are one key: keep its live version.
	byKey := map[string][]Located{}
	var order []string
	for _, f := range found {
		id := f.Inventory.Name() + "\x00" + f.Key.ID
		if _, ok := byKey[id]; !ok {
			order = append(order, id)
		}
		byKey[id] = append(byKey[id], f)
	}
	var out []Located
	for _, id := range order {
		vs := byKey[id]
		sort.SliceStable(vs, func(a, b int) bool {
			if vs[a].Key.State.Live() != vs[b].Key.State.Live() {
				return vs[a].Key.State.Live()
			}
			return vs[a].Key.Version > vs[b].Key.Version
		})
		out = append(out, vs[0])
	}
	// The public half of a pair a backend lists apart from its private half is the same key.
	if len(out) > 1 {
		var priv []Located
		for _, o := range out {
			if o.Key.Class != Public {
				priv = append(priv, o)
			}
		}
		if len(priv) == 1 {
			out = priv
		}
	}
	if len(out) != 1 {
		return Located{}, &ResolveError{Ref: ref, Candidates: out}
	}
	return out[0], nil
}

func backendMatches(name, backend string) bool {
	// A scheme ("pkcs11") picks every inventory of that kind; a full name picks one, and never
	// its longer namesakes ("pkcs11:kw-1" is not "pkcs11:kw-10").
	return backend == "" || name == backend || strings.HasPrefix(name, backend+":")
}
