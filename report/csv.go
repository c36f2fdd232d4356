package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/keywarden/keywarden/scanner"
)

// CSV writes one row per location of every finding, for spreadsheets.
type CSV struct{}

// CSVHeader is the first row of a CSV report.
var CSVHeader = []string{
	"rule_id", "severity", "secret", "fingerprint", "source", "path", "line", "column",
	"end_line", "end_column", "commit", "author", "email", "date", "message",
	"image", "image_digest", "layer", "layer_digest", "removed_in_layer", "exposure", "exposure_keys",
	// Binary locations (dumps, --binary): added last, so that scripts reading columns by
	// position keep working.
	"offset", "length", "address", "detector",
}

// Write implements Writer.
func (CSV) Write(w io.Writer, res *Result) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return fmt.Errorf("writing CSV report: %w", err)
	}
	for _, f := range res.Findings {
		var exp, expKeys string
		if e := f.Exposure; e != nil {
			exp = e.Status
			var ks []string
			for _, m := range e.Matches {
				ks = append(ks, m.Inventory+" "+m.Ref()+" ("+string(m.State)+")")
			}
			expKeys = strings.Join(ks, "; ")
		}
		locs := f.Locations
		if len(locs) == 0 {
			locs = []scanner.Location{{}} // keep the finding visible
		}
		for _, l := range locs {
			row := []string{
				f.RuleID, f.Severity, res.secret(f), f.Fingerprint, l.Source, l.Path,
				csvInt(l.Line), csvInt(l.Column), csvInt(l.EndLine), csvInt(l.EndColumn),
				l.Commit, l.Author, l.Email, csvDate(l.Date), l.Message,
				l.Image, l.ImageDigest, csvInt(l.Layer), l.LayerDigest, csvInt(l.RemovedInLayer),
				exp, expKeys,
				csvOffset(l.Offset), csvInt(l.Length), l.Address, l.Detector,
			}
			for i, cell := range row {
				row[i] = csvSafe(cell)
			}
			if err := cw.Write(row); err != nil {
				return fmt.Errorf("writing CSV report: %w", err)
			}
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("writing CSV report: %w", err)
	}
	return nil
}

// csvSafe defuses a cell a spreadsheet would run as a formula: one starting with = + - @ (or a
// tab or carriage return, which some spreadsheets skip before such a character) gets a leading
// apostrophe.
func csvSafe(cell string) string {
	if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
		return "'" + cell
	}
	return cell
}

// csvInt prints a line or column, leaving unknown (zero) ones empty.
func csvInt(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// csvOffset prints a binary location's byte offset in decimal, as the JSON report has it and a
// spreadsheet sorts it; empty for a text location. 0 is an offset.
func csvOffset(p *int64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatInt(*p, 10)
}

// csvDate prints a commit date in RFC 3339, leaving a missing one empty.
func csvDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339)
}
