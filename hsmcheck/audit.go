package hsmcheck

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Declarative is the optional ability of an inventory that declares keys held elsewhere (an
// inventory file) rather than holding them. The audit compares declared keys with the backends.
type Declarative interface {
	DeclaresKeys() bool
}

// Audit checks, by name.
const (
	CheckCryptoperiod = "inventory-cryptoperiod"
	CheckExtractable  = "inventory-extractable"
	CheckNotSensitive = "inventory-not-sensitive"
	CheckRotationOff  = "inventory-rotation-off"
	CheckPastEndDate  = "inventory-past-end-date"
	CheckMissingKey   = "inventory-entry-missing" // declared in the file, found in no backend
	CheckUndeclared   = "inventory-undeclared-key"
	CheckSameMaterial = "inventory-same-material"
	CheckNoOwner      = "inventory-no-owner"
)

// AuditChecks describes every audit check, for reports' rule lists.
var AuditChecks = map[string]string{
	CheckCryptoperiod: "Key older than its cryptoperiod",
	CheckExtractable:  "HSM key is extractable",
	CheckNotSensitive: "HSM key is not sensitive",
	CheckRotationOff:  "KMS key with automatic rotation off",
	CheckPastEndDate:  "Key still usable after its end date",
	CheckMissingKey:   "Inventory entry found in no backend",
	CheckUndeclared:   "Backend key missing from the inventory file",
	CheckSameMaterial: "Same key material under several labels or scopes",
	CheckNoOwner:      "Inventory entry without owner or purpose",
}

// Issue is one hygiene problem in the inventory.
type Issue struct {
	Check     string
	Severity  string // critical, high, medium, low
	Inventory string
	Key       Key
	Message   string
}

// Policy holds the audit's thresholds.
type Policy struct {
	// Cryptoperiods by usage: sign, encrypt, wrap, mac, derive, default. A key's own rotation
	// period, where its backend or the file states one, wins.
	Cryptoperiods map[string]time.Duration
	Now           time.Time
}

const year = 365 * 24 * time.Hour

// DefaultPolicy returns NIST SP 800-57 Part 1 Rev. 5 (table 1) cryptoperiods at the upper end of
// each range: private signature keys 3 years; symmetric data-encryption, key-wrapping and
// authentication keys 2 years; key-derivation (master) keys 1 year.
func DefaultPolicy() Policy {
	return Policy{Cryptoperiods: map[string]time.Duration{
		"sign": 3 * year, "encrypt": 2 * year, "wrap": 2 * year, "mac": 2 * year, "derive": 1 * year, "default": 2 * year,
	}}
}

// Usages are the keys of Policy.Cryptoperiods.
var Usages = []string{"sign", "encrypt", "wrap", "mac", "derive", "default"}

// usageOf picks the usage that bounds a key's cryptoperiod: the shortest-lived of its uses.
func usageOf(k Key) string {
	has := map[string]bool{}
	for _, u := range k.Usage {
		has[u] = true
	}
	switch {
	case has["derive"]:
		return "derive"
	case has["wrap"] || has["unwrap"]:
		return "wrap"
	case has["mac"]:
		return "mac"
	case has["encrypt"] || has["decrypt"]:
		return "encrypt"
	case has["sign"]:
		return "sign"
	}
	return "default"
}

// Cryptoperiod returns the period that applies to k and where it comes from.
func (p Policy) Cryptoperiod(k Key) (time.Duration, string) {
	if k.RotationPeriod > 0 {
		return k.RotationPeriod, "its rotation period"
	}
	u := usageOf(k)
	if d, ok := p.Cryptoperiods[u]; ok && d > 0 {
		return d, "the " + u + " cryptoperiod"
	}
	return DefaultPolicy().Cryptoperiods[u], "the " + u + " cryptoperiod"
}

// producing reports whether the key can still make new signatures, ciphertexts or MACs.
func producing(k Key) bool {
	for _, u := range k.Usage {
		switch u {
		case "sign", "encrypt", "wrap", "mac", "derive":
			return true
		}
	}
	return false
}

// Audit runs every check over the loaded inventories (skipped ones are left out).
func Audit(loaded []*Loaded, p Policy) []Issue {
	if p.Now.IsZero() {
		p.Now = time.Now()
	}
	var issues []Issue
	var backends, files []*Loaded
	for _, l := range loaded {
		if l.Err != nil {
			continue
		}
		if d, ok := l.Inventory.(Declarative); ok && d.DeclaresKeys() {
			files = append(files, l)
		} else {
			backends = append(backends, l)
		}
	}
	add := func(check, sev string, l *Loaded, k Key, format string, a ...any) {
		issues = append(issues, Issue{Check: check, Severity: sev, Inventory: l.Inventory.Name(), Key: k, Message: fmt.Sprintf(format, a...)})
	}
	for _, l := range loaded {
		if l.Err != nil {
			continue
		}
		for _, k := range l.Keys {
			perKey(p, l, k, add)
		}
	}
	for _, f := range files {
		for _, e := range f.Keys {
			if e.Owner == "" || e.Purpose == "" {
				var miss []string
				if e.Owner == "" {
					miss = append(miss, "owner")
				}
				if e.Purpose == "" {
					miss = append(miss, "purpose")
				}
				add(CheckNoOwner, "low", f, e, "%s has no %s: nobody can say whether it may be rotated or retired", e.Ref(), strings.Join(miss, " or "))
			}
			checked, found := false, false
			for _, b := range backends {
				if e.Location != "" && e.Location != b.Inventory.Name() && !e.HasSPKI() && len(e.CheckValue) == 0 {
					continue
				}
				if e.Location == "" || e.Location == b.Inventory.Name() {
					checked = true
				}
				for _, k := range b.Keys {
					if Describes(e, b.Inventory.Name(), k) {
						found = true
					}
				}
			}
			if checked && !found && e.State.Live() && len(e.TokenHMAC) == 0 {
				where := "any backend checked"
				if e.Location != "" {
					where = e.Location
				}
				add(CheckMissingKey, "medium", f, e, "%s is listed as %s but is not in %s: it was removed without updating the inventory, or the inventory names the wrong key", e.Ref(), e.State, where)
			}
		}
	}
	if len(files) > 0 {
		for _, b := range backends {
			for _, k := range b.Keys {
				declared := false
				for _, f := range files {
					for _, e := range f.Keys {
						if Describes(e, b.Inventory.Name(), k) {
							declared = true
						}
					}
				}
				if !declared && k.State != Destroyed {
					add(CheckUndeclared, "medium", b, k, "%s (%s) is not in the inventory file: it has no recorded owner, purpose or cryptoperiod", k.Ref(), k.State)
				}
			}
		}
	}
	issues = append(issues, sameMaterial(backends)...)
	sort.SliceStable(issues, func(i, j int) bool {
		if issues[i].Check != issues[j].Check {
			return issues[i].Check < issues[j].Check
		}
		if issues[i].Inventory != issues[j].Inventory {
			return issues[i].Inventory < issues[j].Inventory
		}
		return issues[i].Key.Ref() < issues[j].Key.Ref()
	})
	return issues
}

func perKey(p Policy, l *Loaded, k Key, add func(string, string, *Loaded, Key, string, ...any)) {
	live := k.State.Live()
	if live && k.Class != Public && !(k.RotationEnabled != nil && *k.RotationEnabled) {
		since, what := k.LastRotated, "last rotated"
		if since.IsZero() {
			since, what = k.Created, "created"
		}
		if period, src := p.Cryptoperiod(k); !since.IsZero() && p.Now.Sub(since) > period {
			add(CheckCryptoperiod, "medium", l, k, "%s was %s %s, %d days ago, beyond %s of %d days (NIST SP 800-57)",
				k.Ref(), what, since.Format(time.DateOnly), int(p.Now.Sub(since).Hours()/24), src, int(period.Hours()/24))
		}
	}
	if k.Class != Public && k.State != Destroyed {
		if k.Extractable != nil && *k.Extractable {
			add(CheckExtractable, "high", l, k, "%s is extractable (CKA_EXTRACTABLE): its material can leave the HSM", k.Ref())
		}
		if k.Sensitive != nil && !*k.Sensitive {
			add(CheckNotSensitive, "high", l, k, "%s is not sensitive (CKA_SENSITIVE false): its material can be read in plaintext", k.Ref())
		}
	}
	if live && k.Class == Secret && k.RotationEnabled != nil && !*k.RotationEnabled {
		add(CheckRotationOff, "medium", l, k, "%s has automatic rotation off", k.Ref())
	}
	if !k.Expires.IsZero() && k.Expires.Before(p.Now) && (live || producing(k)) {
		add(CheckPastEndDate, "high", l, k, "%s passed its end date %s but is still %s", k.Ref(), k.Expires.Format(time.DateOnly), usable(k))
	}
}

func usable(k Key) string {
	if k.State.Live() {
		return string(k.State)
	}
	return "usable for " + strings.Join(k.Usage, ", ")
}

// sameMaterial reports key material held under more than one label or scope.
func sameMaterial(backends []*Loaded) []Issue {
	type held struct {
		l *Loaded
		k Key
	}
	groups := map[string][]held{}
	var order []string
	for _, b := range backends {
		for _, k := range b.Keys {
			var id string
			switch {
			case k.HasSPKI():
				id = "spki:" + string(k.SPKIHash[:])
			case len(k.CheckValue) > 0 && k.Algorithm != "":
				// A 3-byte check value collides by chance about once in 16 million pairs; the
				// algorithm must agree too.
				id = "kcv:" + k.Algorithm + ":" + string(k.CheckValue)
			default:
				continue
			}
			if _, ok := groups[id]; !ok {
				order = append(order, id)
			}
			groups[id] = append(groups[id], held{b, k})
		}
	}
	var out []Issue
	for _, id := range order {
		g := groups[id]
		if len(g) < 2 {
			continue
		}
		labels, scopes := map[string]bool{}, map[string]bool{}
		var refs []string
		for _, h := range g {
			labels[h.l.Inventory.Name()+"/"+h.k.Label] = true
			scopes[h.k.Scope] = true
			refs = append(refs, h.l.Inventory.Name()+" "+h.k.Ref())
		}
		if len(labels) < 2 && len(scopes) < 2 {
			continue
		}
		sev, what := "medium", "labels"
		if len(scopes) > 1 {
			sev, what = "high", "scopes"
		}
		out = append(out, Issue{Check: CheckSameMaterial, Severity: sev, Inventory: g[0].l.Inventory.Name(), Key: g[0].k,
			Message: fmt.Sprintf("the same key material is held under %d %s: %s; a key trusted in one place is trusted in all", len(g), what, strings.Join(refs, ", "))})
	}
	return out
}

// Describes reports whether e, a key an inventory file declares, stands for k, found in the
// inventory named location: the same location and id, or the same fingerprint.
func Describes(e Key, location string, k Key) bool {
	if e.Location == location && e.ID == k.ID && e.Version == k.Version {
		return true
	}
	if e.HasSPKI() && e.SPKIHash == k.SPKIHash {
		return true
	}
	return len(e.CheckValue) > 0 && string(e.CheckValue) == string(k.CheckValue) &&
		(e.Algorithm == "" || k.Algorithm == "" || e.Algorithm == k.Algorithm)
}
