package report

import (
	"bytes"
	"testing"

	"github.com/keywarden/keywarden/rules"
	"github.com/keywarden/keywarden/rules/keys"
	"github.com/keywarden/keywarden/scanner"
)

// TestSARIFImageLocations: a file in an image is named "image-ref/path" (not a repository
// file under %SRCROOT%), and the layer, its digest and a later deletion are kept in
// properties.
func TestSARIFImageLocations(t *testing.T) {
	res := &Result{
		Tool: testTool, Source: "image", Target: "registry.example:5000/app:1.2", Started: testStarted,
		Findings: []scanner.Finding{{
			RuleID: ruleToken.ID, Severity: "high", Secret: secretTokenA, Fingerprint: "aa",
			Locations: []scanner.Location{
				{Source: "image", Path: "app/.env", Line: 2, Column: 1, EndLine: 2, EndColumn: 30,
					Image: "registry.example:5000/app:1.2", ImageDigest: "sha256:1111", Layer: 2, LayerDigest: "sha256:2222",
					RemovedInLayer: 3, Note: "deleted in layer 3, still extractable from layer 2"},
				{Source: "image", Path: "config:Env[1]", Line: 1, Column: 1, EndLine: 1, EndColumn: 30,
					Image: "registry.example:5000/app:1.2", ImageDigest: "sha256:1111"},
			},
		}},
		Rules: map[string]rules.RuleInfo{ruleToken.ID: ruleToken},
	}
	out := render(t, SARIF{}, res)
	if err := validateSARIF(t, out); err != nil {
		t.Fatalf("schema: %v", err)
	}
	log := decodeSARIF(t, out)
	r := log.Runs[0].Results[0]
	loc := r.Locations[0].PhysicalLocation.ArtifactLocation
	if loc.URI != "./registry.example:5000/app:1.2/app/.env" || loc.URIBaseID != "" {
		t.Errorf("artifact %q (base %q), want ./registry.example:5000/app:1.2/app/.env with no base", loc.URI, loc.URIBaseID)
	}
	if got := r.RelatedLocations[0].PhysicalLocation.ArtifactLocation.URI; got != "./registry.example:5000/app:1.2/config:Env%5B1%5D" && got != "./registry.example:5000/app:1.2/config:Env[1]" {
		t.Errorf("config field artifact %q", got)
	}
	for k, want := range map[string]any{"layer": 2.0, "layer_digest": "sha256:2222", "removed_in_layer": 3.0, "image_digest": "sha256:1111", "source": "image"} {
		if got := r.Properties[k]; got != want {
			t.Errorf("property %s = %v, want %v", k, got, want)
		}
	}
}

// TestKeyPropertiesInReports: a key finding's key, weaknesses and strength are in the SARIF
// result's properties and survive a JSON round trip.
func TestKeyPropertiesInReports(t *testing.T) {
	res := &Result{
		Tool: testTool, Source: "dir", Target: ".", Started: testStarted,
		Findings: []scanner.Finding{{
			RuleID: ruleToken.ID, Severity: "critical", Secret: secretTokenA, Fingerprint: "aa",
			Locations:  []scanner.Location{{Source: "dir", Path: "id_rsa", Line: 1, Column: 1, EndLine: 27, EndColumn: 31}},
			Key:        &scanner.KeyInfo{Type: "rsa", Bits: 2048, Format: "pkcs1", Private: true, PublicSHA256: "ab12", SSHFingerprint: "SHA256:xyz"},
			Weaknesses: []keys.Weakness{{ID: "roca", Severity: "critical", Summary: "ROCA", Reference: "https://nvd.nist.gov/vuln/detail/CVE-2017-15361"}},
			Strength:   &rules.Strength{Grade: "strong"},
		}},
		Rules: map[string]rules.RuleInfo{ruleToken.ID: ruleToken},
	}
	log := decodeSARIF(t, render(t, SARIF{}, res))
	props := log.Runs[0].Results[0].Properties
	key, _ := props["key"].(map[string]any)
	weak, _ := props["weaknesses"].([]any)
	if key["public_sha256"] != "ab12" || len(weak) != 1 || weak[0].(map[string]any)["id"] != "roca" || props["strength"] == nil {
		t.Errorf("SARIF properties %v lack the key, its weaknesses or its strength", props)
	}
	rep, err := ReadJSON(bytes.NewReader(render(t, JSON{}, res)))
	if err != nil {
		t.Fatal(err)
	}
	f := rep.Findings[0]
	if f.Key == nil || f.Key.SSHFingerprint != "SHA256:xyz" || len(f.Weaknesses) != 1 || f.Strength == nil || f.Strength.Grade != "strong" {
		t.Errorf("JSON round trip lost the key judgement: %+v", f)
	}
}
