package rules

import (
	"slices"
	"strings"

	"github.com/zricethezav/gitleaks/v8/config"
)

// Kinds of secret a rule finds. Reports, the accuracy corpus (testdata/corpus.truth) and
// severity use them; a rule names its kind with a tag of the same name.
const (
	KindPassword         = "password"          // a plaintext (or trivially encoded) password
	KindConnectionString = "connection-string" // a URL or DSN with a credential in it
	KindPasswordHash     = "password-hash"     // a crackable password hash (crypt, htpasswd, Django…)
	KindToken            = "token"             // an API, OAuth or service token
	KindSecretKey        = "secret-key"        // an application's signing or encryption secret
	KindCloudCredential  = "cloud-credential"  // a cloud provider's account key
	KindPrivateKey       = "private-key"       // an asymmetric private key
	KindEncryptedStore   = "encrypted-store"   // an encrypted credential store: worth knowing, not a leak alone
	KindGeneric          = "generic"           // a generic rule's guess: could be any of the above
)

// Kinds lists every kind, most specific first.
var Kinds = []string{
	KindPassword, KindConnectionString, KindPasswordHash, KindToken, KindSecretKey,
	KindCloudCredential, KindPrivateKey, KindEncryptedStore, KindGeneric,
}

// kindSeverity is the severity of a rule that names its kind but no severity.
var kindSeverity = map[string]string{
	KindPassword:         "high",
	KindConnectionString: "high",
	KindPasswordHash:     "medium",
	KindToken:            "high",
	KindSecretKey:        "high",
	KindCloudCredential:  "critical",
	KindPrivateKey:       "critical",
	KindEncryptedStore:   "info",
	KindGeneric:          "medium",
}

// severityTag is the tag prefix by which a rule sets its own severity ("severity:low"), since
// gitleaks' rule format has no severity field. Such tags are not reported as tags.
const severityTag = "severity:"

// kind returns the kind a rule's tags name, or one derived from its ID for gitleaks' rules.
func kind(r config.Rule) string {
	for _, k := range Kinds { // a fallback rule's tags name "generic" and what it guesses
		if slices.Contains(r.Tags, k) {
			return k
		}
	}
	id := strings.ToLower(r.RuleID)
	switch {
	case strings.Contains(id, "private-key") || strings.Contains(id, "age-secret-key") ||
		(r.Regex == nil && strings.Contains(id, "key")):
		return KindPrivateKey
	case strings.Contains(id, "generic"), id == "kubernetes-secret-yaml":
		return KindGeneric
	case strings.Contains(id, "password"), id == "curl-auth-user":
		return KindPassword
	case strings.Contains(id, "sensitive-url"):
		return KindConnectionString
	}
	for _, p := range cloudProviders {
		if strings.HasPrefix(id, p) {
			return KindCloudCredential
		}
	}
	return KindToken
}

// ruleTags returns the tags to report, without severity tags.
func ruleTags(tags []string) []string {
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		if !strings.HasPrefix(t, severityTag) {
			out = append(out, t)
		}
	}
	return out
}
