// Package report renders a finished scan as text, JSON, SARIF or CSV.
package report
