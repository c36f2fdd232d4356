package report

import (
	"testing"

	"github.com/keywarden/keywarden/rules"
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
