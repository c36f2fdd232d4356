package scanner

import (
	"time"
	"unicode/utf8"

	"github.com/keywarden/keywarden/hsmcheck"
	"github.com/keywarden/keywarden/rules"
	"github.com/keywarden/keywarden/rules/keys"
)

// Finding is one secret value matched by one rule, with every place it occurs.
type Finding struct {
	RuleID      string     `json:"rule_id"`
	Description string     `json:"description"`
	Severity    string     `json:"severity"` // critical, high, medium, low, info
	Kind        string     `json:"kind"`     // what the secret is: one of rules.Kinds
	Secret      string     `json:"-"`        // raw; reports print Redacted() unless asked not to
	Fingerprint string     `json:"fingerprint"`
	Entropy     float64    `json:"entropy"`
	Tags        []string   `json:"tags"`
	Locations   []Location `json:"locations"` // first-introduced first
	// Key describes the key the secret holds, if it holds one; Weaknesses are what its checks
	// found (shared primes across the scan's keys included).
	Key        *KeyInfo        `json:"key,omitempty"`
	Weaknesses []keys.Weakness `json:"weaknesses,omitempty"`
	Strength   *rules.Strength `json:"strength,omitempty"`
	// Exposure is the inventory cross-check's verdict: nil when no inventory was checked.
	Exposure *hsmcheck.Exposure `json:"exposure,omitempty"`
}

// KeyInfo describes a key a finding's secret holds: what the report shows of it, and the
// fingerprints the inventory cross-check matches on. Nothing in it is secret.
type KeyInfo struct {
	Type           string    `json:"type"`
	Bits           int       `json:"bits,omitempty"`
	Curve          string    `json:"curve,omitempty"`
	Format         string    `json:"format"`
	Private        bool      `json:"private"`
	PublicSHA256   string    `json:"public_sha256,omitempty"`
	SSHFingerprint string    `json:"ssh_fingerprint,omitempty"`
	Encrypted      bool      `json:"encrypted"`
	KDF            *keys.KDF `json:"kdf,omitempty"`
}

// Location is one occurrence of a finding. Lines and columns are 1-based and count code
// points; EndColumn is inclusive.
type Location struct {
	Source string `json:"source"` // git, dir, ...
	// Repo names the repository of a multi-repo audit (its URL with credentials removed, or its
	// path as listed); empty for single-target scans, whose target the report names once.
	Repo      string    `json:"repo,omitempty"`
	Path      string    `json:"path"`
	Line      int       `json:"line"`
	Column    int       `json:"column"`
	EndLine   int       `json:"end_line"`
	EndColumn int       `json:"end_column"`
	Commit    string    `json:"commit,omitempty"`
	Author    string    `json:"author,omitempty"`
	Email     string    `json:"email,omitempty"`
	Date      time.Time `json:"date,omitempty"`
	Message   string    `json:"message,omitempty"`
	// Image locations: the image as named and its manifest digest, the 1-based layer (0 for
	// the config) and its digest, and the later layer that deletes or overwrites the file, if
	// one does; Note says what that means.
	Image          string `json:"image,omitempty"`
	ImageDigest    string `json:"image_digest,omitempty"`
	Layer          int    `json:"layer,omitempty"`
	LayerDigest    string `json:"layer_digest,omitempty"`
	RemovedInLayer int    `json:"removed_in_layer,omitempty"`
	Note           string `json:"note,omitempty"`
	// Binary locations (dumps, and binary files scanned with --binary) have no lines: Offset
	// and Length locate the key's bytes in the file, Address is the virtual address they were
	// mapped at in a core file or minidump ("0x7f3a…"; hex, as a debugger prints it), Detector
	// names the detector that found them and Confirmed what was checked.
	Offset    *int64 `json:"offset,omitempty"`
	Length    int    `json:"length,omitempty"`
	Address   string `json:"address,omitempty"`
	Detector  string `json:"detector,omitempty"`
	Confirmed string `json:"confirmed,omitempty"`
}

// Redacted returns the secret with all but a short prefix hidden: the first 4 code points of a
// secret of 16 or more, fewer for shorter ones so that a short password is not mostly shown.
func (f Finding) Redacted() string { return Redact(f.Secret) }

// Redact hides all but a short prefix of s.
func Redact(s string) string {
	n := utf8.RuneCountInString(s)
	keep := 4
	if n < 16 {
		keep = n / 4
	}
	i, out := 0, make([]rune, 0, keep+1)
	for _, r := range s {
		if i == keep {
			break
		}
		out = append(out, r)
		i++
	}
	return string(out) + "…"
}

// Stats describes the work a scan did.
type Stats struct {
	Blobs        int64         `json:"blobs"`         // unique blobs read
	Bytes        int64         `json:"bytes"`         // their total size
	ScannedBytes int64         `json:"scanned_bytes"` // bytes passed to detection after line dedup
	Skipped      int64         `json:"skipped"`       // blobs not scanned (binary, too large, missing, unreadable)
	Commits      int64         `json:"commits,omitempty"`
	Duration     time.Duration `json:"-"`
}

// Result is the outcome of one scan.
type Result struct {
	Findings []Finding
	Stats    Stats
	Skipped  []SkippedBlob
	// Inventories are the key inventories the findings were checked against, skipped ones
	// included, so that "unknown" can be read for what it is.
	Inventories []InventoryStatus
}

// InventoryStatus is one inventory of a cross-check: how many keys it listed, or why it was
// skipped.
type InventoryStatus struct {
	Name    string `json:"name"`
	Keys    int    `json:"keys"`
	Skipped string `json:"skipped,omitempty"`
}

// SkippedBlob names a blob the scan did not read and why.
type SkippedBlob struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
	Size   int64  `json:"size"`
}
