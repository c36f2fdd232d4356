package rules

// Rule IDs of the keys found in binary data (rules/keyfind), which no regex describes.
const (
	RuleBinaryPrivateKey = "private-key-in-binary"
	RuleAESKeySchedule   = "aes-key-schedule"
	RuleRSAFromPrimes    = "rsa-key-from-primes"
)

// BinaryRules describes the rules of binary detection. Every ruleset knows them, so reports
// and baselines treat their findings as any other.
var BinaryRules = []RuleInfo{
	{ID: RuleBinaryPrivateKey, Description: "Private key in binary data: DER, PEM, OpenSSH or JWK found in a memory dump, core file or binary file, and confirmed by its own numbers",
		Tags: []string{KindPrivateKey, "binary"}, Severity: "critical", Kind: KindPrivateKey},
	{ID: RuleAESKeySchedule, Description: "AES key recovered from its expanded key schedule in memory (the aeskeyfind method)",
		Tags: []string{KindSecretKey, "binary"}, Severity: "critical", Kind: KindSecretKey},
	{ID: RuleRSAFromPrimes, Description: "RSA private key rebuilt from a prime in memory that divides a known modulus",
		Tags: []string{KindPrivateKey, "binary"}, Severity: "critical", Kind: KindPrivateKey},
}

func binaryRule(id string) (RuleInfo, bool) {
	for _, r := range BinaryRules {
		if r.ID == id {
			return r, true
		}
	}
	return RuleInfo{}, false
}
