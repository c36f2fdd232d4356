package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"github.com/keywarden/keywarden/hsmcheck"
	"github.com/keywarden/keywarden/rules"
	"github.com/keywarden/keywarden/rules/keys"
	"github.com/keywarden/keywarden/scanner"
)

// SchemaVersion is the schema_version of the JSON reports this package writes and reads.
const SchemaVersion = 1

// JSON writes the machine-readable report described in docs/json-schema.md.
type JSON struct{}

// JSONReport is a keywarden JSON report.
type JSONReport struct {
	SchemaVersion int           `json:"schema_version"`
	Tool          JSONTool      `json:"tool"`
	Scan          JSONScan      `json:"scan"`
	Findings      []JSONFinding `json:"findings"`
	Stats         JSONStats     `json:"stats"`
	Skipped       []JSONSkipped `json:"skipped"`
	// Inventories are the key inventories the findings were checked against, skipped ones
	// included.
	Inventories []scanner.InventoryStatus `json:"inventories,omitempty"`
	// Repos are the repositories of a multi-repo audit, failed ones included, with what each
	// scan did; absent for single-target scans.
	Repos []scanner.RepoStatus `json:"repos,omitempty"`
	// Shard is "I/N" when the report covers one slice of an audit's repository list.
	Shard string `json:"shard,omitempty"`
	// Incomplete is true when the scan stopped before the end (SIGINT, SIGTERM): the findings
	// are those found until then. Absent for a finished scan.
	Incomplete bool `json:"incomplete,omitempty"`
}

// JSONTool names the tool that wrote a JSON report.
type JSONTool struct {
	Name           string `json:"name"`
	Version        string `json:"version"`
	InformationURI string `json:"information_uri"`
}

// JSONScan says what a JSON report's scan looked at and when.
type JSONScan struct {
	Source  string    `json:"source"`
	Target  string    `json:"target"`
	Started time.Time `json:"started,omitzero"`
}

// JSONFinding is one finding in a JSON report.
type JSONFinding struct {
	RuleID      string         `json:"rule_id"`
	Description string         `json:"description"`
	Severity    string         `json:"severity"`
	Kind        string         `json:"kind,omitempty"`
	Secret      string         `json:"secret"` // redacted unless the report was written with ShowSecrets
	Fingerprint string         `json:"fingerprint"`
	Entropy     float64        `json:"entropy"`
	Tags        []string       `json:"tags"`
	Locations   []JSONLocation `json:"locations"`
	// Key, Weaknesses and Strength judge the secret: the key it holds and what is wrong with
	// it, and how guessable the value is.
	Key        *scanner.KeyInfo `json:"key,omitempty"`
	Weaknesses []keys.Weakness  `json:"weaknesses,omitempty"`
	Strength   *rules.Strength  `json:"strength,omitempty"`
	// Exposure is the key-inventory cross-check's verdict: live, retired or unknown, with the
	// keys matched. Absent when no inventory was checked.
	Exposure *hsmcheck.Exposure `json:"exposure,omitempty"`
}

// JSONLocation is one place a finding occurs in a JSON report.
type JSONLocation struct {
	Source    string    `json:"source"`
	Repo      string    `json:"repo,omitempty"`
	Path      string    `json:"path"`
	Line      int       `json:"line"`
	Column    int       `json:"column"`
	EndLine   int       `json:"end_line"`
	EndColumn int       `json:"end_column"`
	Commit    string    `json:"commit,omitempty"`
	Author    string    `json:"author,omitempty"`
	Email     string    `json:"email,omitempty"`
	Date      time.Time `json:"date,omitzero"`
	Message   string    `json:"message,omitempty"`
	// Image locations (source "image"): the image, its 1-based layer (0 for the config), and
	// the later layer that deletes or overwrites the file, with a note saying so.
	Image          string `json:"image,omitempty"`
	ImageDigest    string `json:"image_digest,omitempty"`
	Layer          int    `json:"layer,omitempty"`
	LayerDigest    string `json:"layer_digest,omitempty"`
	RemovedInLayer int    `json:"removed_in_layer,omitempty"`
	Note           string `json:"note,omitempty"`
	// Binary locations (a dump, or a binary file scanned with --binary) have no lines: the
	// key's byte offset in the file (a pointer, since 0 is an offset and text locations have
	// none) and length, the virtual address it was mapped at in a core file or minidump, the
	// detector that found it and the check that confirmed it.
	Offset    *int64 `json:"offset,omitempty"`
	Length    int    `json:"length,omitempty"`
	Address   string `json:"address,omitempty"`
	Detector  string `json:"detector,omitempty"`
	Confirmed string `json:"confirmed,omitempty"`
}

// JSONStats is the work a JSON report's scan did.
type JSONStats struct {
	Blobs        int64 `json:"blobs"`
	Bytes        int64 `json:"bytes"`
	ScannedBytes int64 `json:"scanned_bytes"`
	Skipped      int64 `json:"skipped"`
	Commits      int64 `json:"commits"`
	DurationMS   int64 `json:"duration_ms"`
}

// JSONSkipped is one blob a JSON report's scan did not read.
type JSONSkipped struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
	Size   int64  `json:"size"`
}

// Write implements Writer.
func (JSON) Write(w io.Writer, res *Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(res.jsonReport()); err != nil {
		return fmt.Errorf("writing JSON report: %w", err)
	}
	return nil
}

// jsonReport converts res to the JSON report's shape.
func (r *Result) jsonReport() *JSONReport {
	out := &JSONReport{
		SchemaVersion: SchemaVersion,
		Tool:          JSONTool{Name: r.Tool.Name, Version: r.Tool.Version, InformationURI: r.Tool.InformationURI},
		Scan:          JSONScan{Source: r.Source, Target: r.Target, Started: r.Started},
		Findings:      make([]JSONFinding, 0, len(r.Findings)),
		Stats: JSONStats{
			Blobs:        r.Stats.Blobs,
			Bytes:        r.Stats.Bytes,
			ScannedBytes: r.Stats.ScannedBytes,
			Skipped:      r.Stats.Skipped,
			Commits:      r.Stats.Commits,
			DurationMS:   r.Stats.Duration.Milliseconds(),
		},
		Skipped:     make([]JSONSkipped, 0, len(r.Skipped)),
		Inventories: r.Inventories,
		Repos:       r.Repos,
		Shard:       r.Shard,
		Incomplete:  r.Incomplete,
	}
	for _, f := range r.Findings {
		jf := JSONFinding{
			RuleID:      f.RuleID,
			Description: f.Description,
			Severity:    f.Severity,
			Kind:        f.Kind,
			Secret:      r.secret(f),
			Fingerprint: f.Fingerprint,
			Entropy:     f.Entropy,
			Tags:        append([]string{}, f.Tags...),
			Key:         f.Key,
			Weaknesses:  f.Weaknesses,
			Strength:    f.Strength,
			Exposure:    f.Exposure,
		}
		jf.Locations = jsonLocations(f.Locations)
		out.Findings = append(out.Findings, jf)
	}
	for _, s := range r.Skipped {
		out.Skipped = append(out.Skipped, JSONSkipped{Path: s.Path, Reason: s.Reason, Size: s.Size})
	}
	return out
}

// ReadJSON reads a keywarden JSON report. It accepts reports of SchemaVersion and ignores
// fields it does not know. Errors never quote the input.
func ReadJSON(r io.Reader) (*JSONReport, error) {
	var rep JSONReport
	dec := json.NewDecoder(r)
	if err := dec.Decode(&rep); err != nil {
		return nil, fmt.Errorf("decoding JSON report: %w", jsonError(err))
	}
	if dec.More() {
		return nil, errors.New("decoding JSON report: unexpected data after the report")
	}
	switch {
	case rep.SchemaVersion == 0:
		return nil, errors.New("decoding JSON report: no schema_version; not a keywarden JSON report")
	case rep.SchemaVersion != SchemaVersion:
		return nil, fmt.Errorf("decoding JSON report: unsupported schema_version %d (want %d)", rep.SchemaVersion, SchemaVersion)
	}
	if rep.Findings == nil {
		rep.Findings = []JSONFinding{}
	}
	if rep.Skipped == nil {
		rep.Skipped = []JSONSkipped{}
	}
	for i := range rep.Findings {
		if rep.Findings[i].Tags == nil {
			rep.Findings[i].Tags = []string{}
		}
		if rep.Findings[i].Locations == nil {
			rep.Findings[i].Locations = []JSONLocation{}
		}
	}
	return &rep, nil
}

// Baseline is a set of known findings to leave out of a scan: whole findings by content
// fingerprint and single locations by gitleaks-style key ("commit:path:rule:line", or
// "path:rule:line" without a commit).
type Baseline struct {
	Fingerprints map[string]bool
	Locations    map[string]bool
}

// gitleaksFinding is the part of a gitleaks JSON report entry a baseline needs.
type gitleaksFinding struct {
	RuleID    string
	File      string
	Commit    string
	StartLine int
}

// ReadBaseline reads a baseline file: a keywarden JSON report (giving fingerprints) or a
// gitleaks JSON report (giving location keys). Errors are one line and never quote the file.
func ReadBaseline(path string) (Baseline, error) {
	b := Baseline{Fingerprints: map[string]bool{}, Locations: map[string]bool{}}
	fail := func(err error) (Baseline, error) {
		return Baseline{}, fmt.Errorf("reading baseline %q: %w", path, err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fail(err)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a BOM, as some editors on Windows write
	trimmed := bytes.TrimSpace(data)
	switch {
	case len(trimmed) == 0:
		return fail(errors.New("file is empty"))
	case trimmed[0] == '[':
		var entries []gitleaksFinding
		if err := json.Unmarshal(trimmed, &entries); err != nil {
			return fail(fmt.Errorf("decoding gitleaks report: %w", jsonError(err)))
		}
		for i, e := range entries {
			if e.RuleID == "" || e.File == "" || e.StartLine < 1 {
				return fail(fmt.Errorf("decoding gitleaks report: entry %d: want RuleID, File and StartLine", i+1))
			}
			file := filepath.ToSlash(strings.ReplaceAll(e.File, `\`, "/"))
			key := fmt.Sprintf("%s:%s:%d", file, e.RuleID, e.StartLine)
			if e.Commit != "" {
				key = e.Commit + ":" + key
			}
			b.Locations[key] = true
		}
	case trimmed[0] == '{':
		rep, err := ReadJSON(bytes.NewReader(trimmed))
		if err != nil {
			return fail(err)
		}
		for i, f := range rep.Findings {
			if f.Fingerprint == "" {
				return fail(fmt.Errorf("decoding JSON report: finding %d has no fingerprint", i+1))
			}
			b.Fingerprints[f.Fingerprint] = true
		}
	default:
		return fail(errors.New("not a keywarden or gitleaks JSON report"))
	}
	return b, nil
}

// jsonError rewrites an encoding/json error so that it does not quote the input, which may
// hold secrets.
func jsonError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("unexpected end of JSON input")
	case errors.As(err, &se):
		return fmt.Errorf("invalid JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		have, _, _ := strings.Cut(te.Value, " ") // "number 42" would quote the number
		want := "value"
		if te.Type != nil {
			want = jsonKind(te.Type.Kind())
		}
		if te.Field != "" {
			return fmt.Errorf("field %q: want a JSON %s, have a JSON %s at byte %d", te.Field, want, have, te.Offset)
		}
		return fmt.Errorf("want a JSON %s, have a JSON %s at byte %d", want, have, te.Offset)
	}
	return errors.New("invalid JSON")
}

// jsonKind names the JSON type a Go kind decodes from.
func jsonKind(k reflect.Kind) string {
	switch k {
	case reflect.Struct, reflect.Map:
		return "object"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8,
		reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "number"
	}
	return "value"
}
