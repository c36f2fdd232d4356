// Package report renders a finished scan as text, JSON, SARIF, CSV, a hook's brief lines or a
// self-contained HTML page, and merges JSON reports.
package report
