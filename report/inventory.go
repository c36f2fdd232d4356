package report

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/keywarden/keywarden/hsmcheck"
	"github.com/keywarden/keywarden/rules"
	"github.com/keywarden/keywarden/scanner"
)

// AuditFindings turns inventory audit issues into findings, so that every report format shows
// them: the rule is the check, the location is the inventory and key, and there is no secret.
func AuditFindings(issues []hsmcheck.Issue) []scanner.Finding {
	out := make([]scanner.Finding, 0, len(issues))
	for _, is := range issues {
		// The fingerprint names the check and the key, so a baseline can accept one issue
		// without hiding the next key's.
		h := sha256.Sum256([]byte(is.Check + "\x00" + is.Inventory + "\x00" + is.Key.ID + "\x00" + strconv.Itoa(is.Key.Version)))
		out = append(out, scanner.Finding{
			RuleID:      is.Check,
			Description: is.Message,
			Severity:    is.Severity,
			Kind:        "inventory",
			Fingerprint: hex.EncodeToString(h[:16]),
			Tags:        []string{"inventory"},
			Locations:   []scanner.Location{{Source: "inventory", Path: inventoryPath(is)}},
		})
	}
	return out
}

// inventoryPath names where an issue is as a relative path, inventory then key, since SARIF
// reads "pkcs11:…" as a URI scheme: pkcs11/prod-hsm/jwt-signing (01).
func inventoryPath(is hsmcheck.Issue) string {
	p := strings.NewReplacer(":", "/", "\\", "/").Replace(is.Inventory) + "/" + is.Key.Ref()
	for strings.Contains(p, "//") {
		p = strings.ReplaceAll(p, "//", "/")
	}
	return strings.TrimPrefix(p, "/")
}

// AuditRules describes the audit checks that findings name, each at the severity of its most
// severe finding, so that SARIF's rule level matches what the check reported.
func AuditRules(findings []scanner.Finding) map[string]rules.RuleInfo {
	out := map[string]rules.RuleInfo{}
	for _, f := range findings {
		ri, ok := out[f.RuleID]
		if !ok || severityRank(f.Severity) < severityRank(ri.Severity) {
			out[f.RuleID] = rules.RuleInfo{ID: f.RuleID, Description: hsmcheck.AuditChecks[f.RuleID], Severity: f.Severity,
				Tags: []string{"inventory"}, Kind: "inventory"}
		}
	}
	return out
}
