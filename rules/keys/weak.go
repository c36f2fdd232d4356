package keys

import (
	"math/big"
	"sort"
	"strconv"
	"strings"
)

// Weakness is one named reason a key is weak, broken or compromised.
type Weakness struct {
	ID        string `json:"id"`        // "roca", "fermat", "small-factors", "small-d", "rsa-short", "rsa-exponent", "rsa-invalid", "published-key", "weak-protection", "unencrypted-private-key", "shared-prime"
	Severity  string `json:"severity"`  // "critical" (private key recoverable or published), "high", "medium", "low", "info"
	Summary   string `json:"summary"`   // one line, e.g. "the modulus has the structure of Infineon's flawed key generation (ROCA): the private key can be computed"
	Reference string `json:"reference"` // a URL (CVE, paper, RFC, OWASP cheat sheet)
}

// Catalog lists every weakness ID with its severity, summary and reference, for docs and
// reports. The severity is the usual one; Check may report a different one for a given key:
// rsa-short is critical below 1024 bits, and rsa-exponent is critical for e = 1, high for an
// even e and low (a warning) for an odd e below 65537. shared-prime is reported by the batch
// GCD step, not by Check.
var Catalog = map[string]Weakness{
	"roca": {
		ID:        "roca",
		Severity:  "critical",
		Summary:   "the modulus has the structure of Infineon's flawed key generation (ROCA): the private key can be computed",
		Reference: "https://nvd.nist.gov/vuln/detail/CVE-2017-15361",
	},
	"fermat": {
		ID:        "fermat",
		Severity:  "critical",
		Summary:   "the primes of the modulus are so close that Fermat's method factors it: the private key can be computed",
		Reference: "https://fermatattack.secvuln.info/",
	},
	"small-factors": {
		ID:        "small-factors",
		Severity:  "critical",
		Summary:   "the modulus has a prime factor below 2^16: it is corrupt or deliberately weak, and trivially factored",
		Reference: "https://badkeys.info/",
	},
	"small-d": {
		ID:        "small-d",
		Severity:  "critical",
		Summary:   "the private exponent is small enough for Wiener's continued-fraction attack: the private key can be computed from the public key",
		Reference: "https://doi.org/10.1109/18.54902",
	},
	"rsa-short": {
		ID:        "rsa-short",
		Severity:  "high",
		Summary:   "the RSA modulus is shorter than 2048 bits, below NIST's minimum",
		Reference: "https://csrc.nist.gov/pubs/sp/800/131/a/r2/final",
	},
	"rsa-exponent": {
		ID:        "rsa-exponent",
		Severity:  "low",
		Summary:   "the public exponent is unsafe (e = 1 or even) or smaller than the customary 65537",
		Reference: "https://www.rfc-editor.org/rfc/rfc8017#section-3.1",
	},
	"rsa-invalid": {
		ID:        "rsa-invalid",
		Severity:  "high",
		Summary:   "the RSA numbers are not a valid key (modulus not positive, even or prime, or exponent out of range)",
		Reference: "https://www.rfc-editor.org/rfc/rfc8017#section-3.1",
	},
	"published-key": {
		ID:        "published-key",
		Severity:  "critical",
		Summary:   "the key is a published example (RFC test key): its private key is public",
		Reference: "https://www.rfc-editor.org/rfc/rfc9500",
	},
	"weak-protection": {
		ID:        "weak-protection",
		Severity:  "medium",
		Summary:   "the private key is encrypted, but its passphrase protection is weak (legacy cipher or KDF, or too few iterations)",
		Reference: "https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html#pbkdf2",
	},
	"unencrypted-private-key": {
		ID:        "unencrypted-private-key",
		Severity:  "high",
		Summary:   "the private key is stored without encryption",
		Reference: "https://cwe.mitre.org/data/definitions/312.html",
	},
	"shared-prime": {
		ID:        "shared-prime",
		Severity:  "critical",
		Summary:   "the modulus shares a prime factor with another key (batch GCD): both private keys can be computed",
		Reference: "https://factorable.net/weakkeys12.extended.pdf",
	},
}

// Work bounds, so that a hostile key cannot stall a scan.
const (
	// wkMaxTrialBits bounds the modulus size for trial division.
	wkMaxTrialBits = 1 << 16
	// wkMaxFactorBits bounds the modulus size for Fermat and Wiener.
	wkMaxFactorBits = 16384
	// wkMaxPrimeTestBits bounds the modulus size for the "n is prime" test.
	wkMaxPrimeTestBits = 4096
	// wkFermatRounds is how many values of a Fermat's method tries after ceil(sqrt(n)).
	wkFermatRounds = 100000
)

// wkSeverityRank orders severities, most severe first.
var wkSeverityRank = map[string]int{"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}

// wkIDOrder breaks ties between weaknesses of the same severity.
var wkIDOrder = map[string]int{
	"published-key": 0, "roca": 1, "fermat": 2, "small-factors": 3, "small-d": 4, "shared-prime": 5,
	"rsa-invalid": 6, "rsa-exponent": 7, "rsa-short": 8, "unencrypted-private-key": 9, "weak-protection": 10,
}

// wkNew returns the Catalog entry for id, with severity and summary replaced when not "".
func wkNew(id, severity, summary string) Weakness {
	w := Catalog[id]
	if severity != "" {
		w.Severity = severity
	}
	if summary != "" {
		w.Summary = summary
	}
	return w
}

// Check runs every single-key check on k and returns what it finds, most severe first. It
// never panics and bounds its work (Fermat rounds, trial division) so that a hostile key
// cannot stall a scan.
func Check(k Key) (ws []Weakness) {
	defer func() {
		if recover() != nil {
			// A malformed key must not take the scan down; keep what was found so far.
			wkSort(ws)
		}
	}()
	if k.RSA != nil && k.RSA.N != nil {
		ws = append(ws, wkCheckRSA(k.RSA)...)
	}
	if w, ok := wkCheckPublished(k); ok {
		ws = append(ws, w)
	}
	if w, ok := wkCheckProtection(k); ok {
		ws = append(ws, w)
	}
	if k.Private && !k.Encrypted {
		ws = append(ws, wkNew("unencrypted-private-key", "", ""))
	}
	wkSort(ws)
	return ws
}

func wkSort(ws []Weakness) {
	sort.SliceStable(ws, func(i, j int) bool {
		ri, rj := wkSeverityRank[ws[i].Severity], wkSeverityRank[ws[j].Severity]
		if ri != rj {
			return ri < rj
		}
		return wkIDOrder[ws[i].ID] < wkIDOrder[ws[j].ID]
	})
}

// wkCheckRSA runs the RSA checks on the numbers of one key.
func wkCheckRSA(r *RSAParts) []Weakness {
	var ws []Weakness
	n, e := r.N, r.E
	if n.Sign() <= 0 {
		return append(ws, wkNew("rsa-invalid", "", "the RSA modulus is zero or negative"))
	}
	bits := n.BitLen()
	switch {
	case bits < 1024:
		ws = append(ws, wkNew("rsa-short", "critical", "the RSA modulus has only "+strconv.Itoa(bits)+" bits: it can be factored"))
	case bits < 2048:
		ws = append(ws, wkNew("rsa-short", "", "the RSA modulus has only "+strconv.Itoa(bits)+" bits, below the 2048-bit minimum"))
	}
	odd := n.Bit(0) == 1
	if !odd {
		ws = append(ws, wkNew("rsa-invalid", "", "the RSA modulus is even"))
	}
	if e != nil {
		switch {
		case e.Sign() <= 0:
			ws = append(ws, wkNew("rsa-invalid", "", "the public exponent is zero or negative"))
		case e.Cmp(big.NewInt(1)) == 0:
			ws = append(ws, wkNew("rsa-exponent", "critical", "the public exponent is 1: encryption and signature verification are the identity"))
		case e.Bit(0) == 0:
			ws = append(ws, wkNew("rsa-exponent", "high", "the public exponent is even: it has no inverse modulo φ(n), so this is no working RSA key"))
		case e.Cmp(big.NewInt(65537)) < 0:
			ws = append(ws, wkNew("rsa-exponent", "low", "the public exponent "+e.String()+" is below 65537 (warning: small exponents have a history of padding attacks)"))
		}
		if e.Sign() > 0 && e.Cmp(n) >= 0 {
			ws = append(ws, wkNew("rsa-invalid", "", "the public exponent is not smaller than the modulus"))
		}
	}
	if odd && bits <= wkMaxPrimeTestBits && n.ProbablyPrime(0) {
		ws = append(ws, wkNew("rsa-invalid", "critical", "the RSA modulus is prime: the private key can be computed"))
	}
	if wkIsROCA(n) {
		ws = append(ws, wkNew("roca", "", ""))
	}
	if bits <= wkMaxTrialBits && wkHasSmallFactor(n) {
		ws = append(ws, wkNew("small-factors", "", ""))
	}
	if odd && bits <= wkMaxFactorBits {
		if square, ok := wkFermat(n, wkFermatRounds); ok {
			w := wkNew("fermat", "", "")
			if square {
				w.Summary = "the modulus is a square (p = q): its square root is the private prime"
			}
			ws = append(ws, w)
		}
	}
	if bits <= wkMaxFactorBits && wkSmallD(n, e, r.D) {
		ws = append(ws, wkNew("small-d", "", ""))
	}
	return ws
}

// wkCheckProtection judges how an encrypted private key is protected.
//
// Weak: legacy PEM encryption (Proc-Type: 4,ENCRYPTED; one MD5 round of EVP_BytesToKey),
// PuTTY PPK v2 (SHA-1 of the passphrase, no work factor), the "md5" KDF, DES, 3DES, RC2 and
// RC4 ciphers, PBKDF2 below OWASP's 2023 minimums (HMAC-SHA1 1,300,000; HMAC-SHA256 and
// -SHA224 600,000; HMAC-SHA512 and -SHA384 210,000; any other or unnamed PRF is held to the
// HMAC-SHA1 figure, the PKCS #5 default), OpenSSH bcrypt with fewer than 16 rounds (the
// ssh-keygen default), scrypt with N below 2^14 (the historic interactive default) and
// argon2 with less than 8 MiB of memory (PuTTY's default) or no passes.
func wkCheckProtection(k Key) (Weakness, bool) {
	if !k.Encrypted && k.KDF == nil {
		return Weakness{}, false
	}
	var reasons []string
	if k.Format == "pem-encrypted" {
		reasons = append(reasons, "legacy PEM encryption derives the key with a single MD5 round (EVP_BytesToKey)")
	}
	if k.Format == "ppk2" && k.Encrypted {
		reasons = append(reasons, "PuTTY PPK v2 derives the key with unsalted, unstretched SHA-1")
	}
	if f := k.KDF; f != nil {
		cipher := strings.ToLower(f.Cipher)
		switch {
		case strings.Contains(cipher, "des"): // des-cbc, des-ede3-cbc, 3des-cbc
			reasons = append(reasons, "the cipher "+f.Cipher+" is a legacy 64-bit block cipher")
		case strings.HasPrefix(cipher, "rc2") || strings.HasPrefix(cipher, "rc4"):
			reasons = append(reasons, "the cipher "+f.Cipher+" is broken")
		}
		switch strings.ToLower(f.Name) {
		case "md5":
			if k.Format != "pem-encrypted" && k.Format != "ppk2" {
				reasons = append(reasons, "the key is derived with MD5 and no work factor")
			}
		case "pbkdf2":
			min := wkPBKDF2Minimum(f.Hash)
			if f.Iterations < min {
				prf := f.Hash
				if prf == "" {
					prf = "hmac-sha1"
				}
				reasons = append(reasons, "PBKDF2-"+strings.ToUpper(strings.TrimPrefix(prf, "hmac-"))+" with "+
					strconv.Itoa(f.Iterations)+" iterations, below OWASP's minimum of "+strconv.Itoa(min))
			}
		case "bcrypt":
			if f.Iterations < 16 {
				reasons = append(reasons, "OpenSSH bcrypt KDF with "+strconv.Itoa(f.Iterations)+" rounds, below the default of 16")
			}
		case "scrypt":
			if f.Memory < 1<<14 {
				reasons = append(reasons, "scrypt with N = "+strconv.Itoa(f.Memory)+", below 2^14")
			}
		case "argon2id", "argon2i", "argon2d":
			if f.Memory < 8192 || f.Iterations < 1 {
				reasons = append(reasons, f.Name+" with "+strconv.Itoa(f.Memory)+" KiB and "+strconv.Itoa(f.Iterations)+" passes, below 8 MiB and 1 pass")
			}
		}
	}
	if len(reasons) == 0 {
		return Weakness{}, false
	}
	w := wkNew("weak-protection", "", "the private key's encryption is weak: "+strings.Join(reasons, "; "))
	if k.Format == "pem-encrypted" || k.Format == "ppk2" {
		w.Reference = "https://www.openssl.org/docs/man3.0/man3/EVP_BytesToKey.html"
	}
	return w, true
}

// wkPBKDF2Minimum is OWASP's minimum iteration count for PBKDF2 with the PRF hash.
func wkPBKDF2Minimum(hash string) int {
	h := strings.NewReplacer("hmac-", "", "hmacwith", "", "-", "", "_", "").Replace(strings.ToLower(hash))
	switch h {
	case "sha256", "sha224", "sha512224", "sha512256":
		return 600000
	case "sha512", "sha384":
		return 210000
	default: // "sha1", "" (the PKCS #5 default PRF is HMAC-SHA1) and anything unusual
		return 1300000
	}
}
