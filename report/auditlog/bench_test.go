package auditlog

import (
	"path/filepath"
	"testing"
)

// BenchmarkAppend measures one locked, synced append: what each scan summary, exposure and
// rotation step costs (dominated by the fsync).
func BenchmarkAppend(b *testing.B) {
	for _, keyed := range []bool{false, true} {
		name := "unkeyed"
		var key []byte
		if keyed {
			name, key = "keyed", make([]byte, 32)
		}
		b.Run(name, func(b *testing.B) {
			l, err := Open(filepath.Join(b.TempDir(), "audit.jsonl"), key)
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			e := Entry{Command: "keywarden scan git .", Event: "exposure", Keys: []KeyRef{{Inventory: "pkcs11:prod", ID: "01", Fingerprint: "spki-sha256"}}}
			for b.Loop() {
				if _, err := l.Append(e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
