package report

import (
	"testing"

	"github.com/keywarden/keywarden/hsmcheck"
)

func TestAuditFindings(t *testing.T) {
	issues := []hsmcheck.Issue{
		{Check: hsmcheck.CheckSameMaterial, Severity: "medium", Inventory: "pkcs11:prod", Key: hsmcheck.Key{ID: "01", Label: "a"}, Message: "m1"},
		{Check: hsmcheck.CheckSameMaterial, Severity: "high", Inventory: "pkcs11:prod", Key: hsmcheck.Key{ID: "02"}, Message: "m2"},
		{Check: hsmcheck.CheckNoOwner, Severity: "low", Inventory: "file:/etc/inv.yaml", Key: hsmcheck.Key{ID: "x", Version: 2}, Message: "m3"},
	}
	fs := AuditFindings(issues)
	if fs[0].Fingerprint == fs[1].Fingerprint {
		t.Error("two keys' issues share a fingerprint")
	}
	if got := fs[0].Locations[0].Path; got != "pkcs11/prod/a (01)" {
		t.Errorf("path %q: an inventory name must not read as a URI scheme", got)
	}
	if got := fs[2].Locations[0].Path; got != "file/etc/inv.yaml/x v2" {
		t.Errorf("path %q", got)
	}
	rs := AuditRules(fs)
	if rs[hsmcheck.CheckSameMaterial].Severity != "high" || rs[hsmcheck.CheckNoOwner].Severity != "low" {
		t.Errorf("rule severities %v, want each check's most severe finding", rs)
	}
}
