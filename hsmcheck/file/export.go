package file

import (
	"encoding/hex"
	"time"

	"github.com/keywarden/keywarden/hsmcheck"
)

// Entries turns backend keys into inventory-file entries, located in the inventory they came
// from. Facts only people know (owner, purpose, rotation period, id) are carried over from
// old, an existing file, where an entry there describes the same key.
func Entries(location string, ks []hsmcheck.Key, old *Document) []Entry {
	var out []Entry
	for _, k := range ks {
		e := Entry{ID: k.ID, Label: k.Label, Version: k.Version, Algorithm: k.Algorithm, Class: string(k.Class),
			Usage: k.Usage, Scope: k.Scope, Location: location, State: string(k.State),
			Created: day(k.Created), LastRotated: day(k.LastRotated), Expires: day(k.Expires),
			RotationPeriod: FormatPeriod(k.RotationPeriod), Owner: k.Owner, Purpose: k.Purpose}
		if k.HasSPKI() {
			e.Fingerprints.SPKISHA256 = hex.EncodeToString(k.SPKIHash[:])
		}
		if len(k.CheckValue) > 0 {
			e.Fingerprints.KCV = hex.EncodeToString(k.CheckValue)
		}
		if old != nil {
			for _, o := range old.Keys {
				if !o.describes(location, k) {
					continue
				}
				e.Owner, e.Purpose = pick(e.Owner, o.Owner), pick(e.Purpose, o.Purpose)
				if e.RotationPeriod == "" {
					e.RotationPeriod = o.RotationPeriod
				}
				break
			}
		}
		out = append(out, e)
	}
	return out
}

func (o Entry) describes(location string, k hsmcheck.Key) bool {
	ok, err := o.key("")
	if err != nil {
		return false
	}
	return hsmcheck.Describes(ok, location, k)
}

func pick(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func day(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	if t.Equal(t.Truncate(24 * time.Hour)) {
		return t.UTC().Format(time.DateOnly)
	}
	return t.UTC().Format(time.RFC3339)
}
