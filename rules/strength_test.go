package rules

import (
	"bufio"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// readStrengthList reads one of testdata/strength/*.txt: one value a line, "#" alone or "# "
// starting a comment (values may start with "#": "#{token}").
func readStrengthList(t *testing.T, name string) []string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "testdata", "strength", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line == "#" || strings.HasPrefix(line, "# ") {
			continue
		}
		out = append(out, line)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// reasonKinds are the reasons GradeSecret gives, by prefix; the lists must show every one.
var reasonKinds = map[string][]string{
	gradePlaceholder: {
		"template: ", "placeholder word: ", "masked: ", "all one character",
		"a repeated unit of ", "sequential or keyboard-row characters",
	},
	gradeWeak: {
		"too short: ", "a Unix timestamp: ", "a Unix timestamp in milliseconds: ", "a date: ",
		"hex of a Unix timestamp: ", "a time-based (version 1) UUID: ",
		"dictionary word: ", "dictionary word and digits: ", "decoded from base64, ",
		"decoded from hex, ", "entropy ",
	},
}

func TestGradeSecretLists(t *testing.T) {
	for _, grade := range []string{gradePlaceholder, gradeWeak, gradeStrong} {
		t.Run(grade, func(t *testing.T) {
			values := readStrengthList(t, grade+".txt")
			if len(values) < 40 {
				t.Errorf("%s.txt has %d values, want at least 40", grade, len(values))
			}
			seen := map[string]bool{}
			for _, v := range values {
				got := GradeSecret("generic-api-key", v)
				if got.Grade != grade {
					t.Errorf("GradeSecret(%q) = %+v, want grade %q", v, got, grade)
					continue
				}
				if grade != gradeStrong && (got.Reason == "" || strings.Contains(got.Reason, "\n")) {
					t.Errorf("GradeSecret(%q) = %+v, want a one-line reason", v, got)
				}
				if grade == gradeStrong && got.Reason != "" {
					t.Errorf("GradeSecret(%q) = %+v, want no reason", v, got)
				}
				for _, k := range reasonKinds[grade] {
					if strings.HasPrefix(got.Reason, k) {
						seen[k] = true
					}
				}
			}
			for _, k := range reasonKinds[grade] {
				if !seen[k] {
					t.Errorf("no value in %s.txt is graded with reason %q...", grade, k)
				}
			}
		})
	}
}

func TestGradeSecretCases(t *testing.T) {
	tests := []struct {
		name, ruleID, secret string
		grade, reason        string // reason: a prefix, "" to skip
	}{
		{"private key left to key checks", "private-key", "xxxxxxxxxxxxxxxx", gradeStrong, ""},
		{"private key rule ID in a longer ID", "pkcs8-private-key-pem", "short", gradeStrong, ""},
		{"empty", "generic-api-key", "", gradePlaceholder, "empty value"},
		{"only spaces", "generic-api-key", "   ", gradePlaceholder, "empty value"},
		{"reason names the word, not the value", "generic-api-key", "Dragon1987!", gradeWeak, "dictionary word and digits: dragon"},
		{"timestamp reason gives the day", "generic-api-key", "1740787200", gradeWeak, "a Unix timestamp: 2025-03-01"},
		{"entropy reason", "generic-api-key", "kkkkkkkkkkkkkkkkkkkkkkkm", gradeWeak, "entropy 0.25 bits/char, below 3.05 for 24 single-case alphanumeric characters"},
		{"test inside a random token is not a marker", "generic-api-key", "Qm7testVh2Kp9Zr4Xw8Nc3Jb", gradeStrong, ""},
		{"short marker inside random text", "generic-api-key", "b7Rtodo2QxLm9Kd4", gradeStrong, ""},
		{"template inside a longer literal is not one", "generic-api-key", "K8m2Qx9Vt4Lp7Rz3Wn6Bc1Hd5Fj0Gs${x}", gradeStrong, ""},
		{"hex of an old time is not recent", "generic-api-key", "0a1b2c3d", gradeStrong, ""},
		{"ten digits outside the window", "generic-api-key", "3987654120", gradeStrong, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := GradeSecret(tt.ruleID, tt.secret)
			if got.Grade != tt.grade || !strings.HasPrefix(got.Reason, tt.reason) {
				t.Errorf("GradeSecret(%q, %q) = %+v, want grade %q, reason %q...", tt.ruleID, tt.secret, got, tt.grade, tt.reason)
			}
		})
	}
}

// Provider-shaped values are built at run time so that no literal in this file looks like a
// leaked token to a scanner (rules/ is not on our own allowlist, unlike testdata/).
func TestGradeSecretPrefixes(t *testing.T) {
	const alnum = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	tests := []struct {
		prefix string
		n      int
	}{
		{"gh" + "p_", 36}, {"gl" + "pat-", 20}, {"sk" + "_live_", 24}, {"xo" + "xb-", 48}, {"AK" + "IA", 16},
		{"npm" + "_", 36}, {"hf" + "_", 34},
	}
	for _, tt := range tests {
		t.Run(tt.prefix, func(t *testing.T) {
			alpha := alnum
			if strings.HasPrefix(tt.prefix, "AK") {
				alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
			}
			r := testRand(t)
			for range 20 {
				real := tt.prefix + randomToken(r, alpha, tt.n)
				if got := GradeSecret("some-rule", real); got.Grade != gradeStrong {
					t.Errorf("GradeSecret(%q) = %+v, want strong", real, got)
				}
			}
			for _, fill := range []string{"x", "X", "0", "*"} {
				fake := tt.prefix + strings.Repeat(fill, tt.n)
				if got := GradeSecret("some-rule", fake); got.Grade != gradePlaceholder {
					t.Errorf("GradeSecret(%q) = %+v, want placeholder", fake, got)
				}
			}
		})
	}
}

func TestStrengthJSON(t *testing.T) {
	for _, tt := range []struct {
		in   Strength
		want string
	}{
		{Strength{Grade: gradeStrong}, `{"grade":"strong"}`},
		{Strength{Grade: gradeWeak, Reason: "too short: 5 characters"}, `{"grade":"weak","reason":"too short: 5 characters"}`},
	} {
		b, err := json.Marshal(tt.in)
		if err != nil || string(b) != tt.want {
			t.Errorf("json.Marshal(%+v) = %s, %v, want %s", tt.in, b, err, tt.want)
		}
	}
}

// Generation alphabets for each table alphabet: the table must let random values of every one
// of them through, so rows with several are calibrated on the lowest.
var genAlphabets = map[strengthAlphabet][]string{
	alphaDecimal:   {"0123456789"},
	alphaHex:       {"0123456789abcdef", "0123456789ABCDEF"},
	alphaOneCase:   {"abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", "0123456789abcdefghijklmnopqrstuvwxyz"},
	alphaAlnum:     {"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"},
	alphaBase64:    {"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+/", "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_"},
	alphaPrintable: {"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!@#$%^&*", printableASCII()},
}

func printableASCII() string {
	var b strings.Builder
	for c := byte(33); c < 127; c++ {
		b.WriteByte(c)
	}
	return b.String()
}

// testRand returns a generator seeded from the test's name. The calibration tests draw
// thousands of values against thresholds that by design let about 1 random value in 10,000
// through as weak, so with fresh randomness on every run they would fail now and then; a fixed
// seed per test keeps the draw uniform and every run reproducible.
func testRand(t testing.TB) *mrand.Rand {
	seed := sha256.Sum256([]byte(t.Name()))
	return mrand.New(mrand.NewChaCha8(seed))
}

// randomToken draws n characters of alpha uniformly from r.
func randomToken(r *mrand.Rand, alpha string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alpha[r.IntN(len(alpha))]
	}
	return string(b)
}

// bandEnd is one past the longest length of row i's band (128 for the last band, as far as the
// generated values go).
func bandEnd(i int) int {
	end := 129
	for _, t := range strengthThresholds {
		if t.alphabet == strengthThresholds[i].alphabet && t.minLen > strengthThresholds[i].minLen {
			end = min(end, t.minLen)
		}
	}
	return end
}

// timestampShaped reports the values whose length makes them ambiguous by design: 10 or 13
// digits, 8 hex digits. A random one falls in the timestamp window 11% (decimal) or 26% (hex)
// of the time, and the issue wants those graded weak.
func timestampShaped(v string) bool {
	return isDigits(v) && (len(v) == 10 || len(v) == 13) || len(v) == 8 && isHexDigits(v)
}

const perBand = 5000

// TestGradeSecretRandom checks the calibration: random values of every alphabet and length
// band are strong.
func TestGradeSecretRandom(t *testing.T) {
	for i, row := range strengthThresholds {
		t.Run(fmt.Sprintf("%s/%d", row.alphabet, row.minLen), func(t *testing.T) {
			t.Parallel()
			alphas := genAlphabets[row.alphabet]
			r := testRand(t)
			var lowEntropy, notStrong, ambiguous int
			reasons := map[string]int{}
			for k := range perBand {
				n := row.minLen + r.IntN(bandEnd(i)-row.minLen)
				v := randomToken(r, alphas[k%len(alphas)], n)
				got := GradeSecret("generic-api-key", v)
				if strings.HasPrefix(got.Reason, "entropy ") {
					lowEntropy++
				}
				if got.Grade == gradeStrong {
					continue
				}
				if timestampShaped(v) && strings.Contains(got.Reason, "timestamp") {
					ambiguous++
					continue
				}
				notStrong++
				if len(reasons) < 10 {
					reasons[got.Grade+": "+got.Reason+" ("+v+")"]++
				}
			}
			t.Logf("%d random values: %d low entropy, %d otherwise not strong, %d timestamp-shaped and in the window; %v",
				perBand, lowEntropy, notStrong-lowEntropy, ambiguous, reasons)
			// At least 99.9% of the values that are not timestamp-shaped must be strong.
			if float64(notStrong) > 0.001*float64(perBand-ambiguous) {
				t.Errorf("%d of %d random values not strong: %v", notStrong, perBand-ambiguous, reasons)
			}
		})
	}
}

// TestGradeSecretMutatedHuman checks that the usual ways of dressing up a word do not make a
// weak secret strong.
func TestGradeSecretMutatedHuman(t *testing.T) {
	bases := []string{
		"password", "admin", "welcome", "letmein", "secret", "dragon", "monkey", "summer", "winter",
		"sunshine", "football", "princess", "master", "shadow", "company", "contoso", "jenkins",
		"postgres", "michael", "jessica", "autumn", "spring", "iloveyou", "superman", "baseball",
	}
	leet := strings.NewReplacer("a", "@", "o", "0", "e", "3", "s", "$", "i", "1")
	mutations := []func(string) string{
		func(w string) string { return w + "1" },
		func(w string) string { return w + "123" },
		func(w string) string { return strings.ToUpper(w[:1]) + w[1:] + "2024!" },
		func(w string) string { return strings.ToUpper(w) + "!!" },
		func(w string) string { return leet.Replace(w) },
		func(w string) string { return leet.Replace(w) + "2023" },
		func(w string) string { return strings.ToUpper(w[:1]) + leet.Replace(w[1:]) + "#1" },
		func(w string) string { return "my" + w + "99" },
		func(w string) string { return "#" + w + "#42" },
		func(w string) string { return "2019" + w },
		func(w string) string { return w + "@" + "1987" },
	}
	var total, strong int
	for _, w := range bases {
		for _, m := range mutations {
			v := m(w)
			total++
			if got := GradeSecret("generic-password", v); got.Grade != gradeWeak {
				strong++
				t.Errorf("GradeSecret(%q) = %+v, want weak", v, got)
			}
		}
	}
	t.Logf("%d mutated human values, %d not weak", total, strong)
}

// TestStrengthThresholdRows checks the table's shape and that every row decides at least one
// value: a value of its alphabet and shortest length just below its bound.
func TestStrengthThresholdRows(t *testing.T) {
	bands := map[strengthAlphabet][]int{}
	for i, row := range strengthThresholds {
		bands[row.alphabet] = append(bands[row.alphabet], row.minLen)
		if i > 0 && strengthThresholds[i-1].alphabet == row.alphabet {
			prev := strengthThresholds[i-1]
			if prev.minLen >= row.minLen || prev.minBits > row.minBits {
				t.Errorf("row %d (%v, %d) does not follow row %d (%v, %d) up", i, row.alphabet, row.minLen, i-1, prev.alphabet, prev.minLen)
			}
		}
		if row.minLen < strengthMinLen {
			t.Errorf("row %d starts at %d characters, below the too-short length %d", i, row.minLen, strengthMinLen)
		}
	}
	for a := alphaDecimal; a <= alphaPrintable; a++ {
		if !slices.Equal(bands[a], bands[alphaHex]) {
			t.Errorf("alphabet %v has bands %v, want the same as hex: %v", a, bands[a], bands[alphaHex])
		}
	}

	// lowValue is a value of the alphabet with a few distinct characters, spread so that it
	// repeats no unit and runs no sequence: only the entropy check can catch it.
	chars := map[strengthAlphabet]string{
		alphaDecimal: "1729", alphaHex: "a7c9", alphaOneCase: "k7mq", alphaAlnum: "kQ7m",
		alphaBase64: "k/Q7", alphaPrintable: "k!Q7",
	}
	used := make([]bool, len(strengthThresholds))
	for i, row := range strengthThresholds {
		v := lowValue(chars[row.alphabet], row.minLen, row.minBits)
		if a := alphabetOf(v); a != row.alphabet || thresholdFor(a, len(v)) != i {
			t.Fatalf("row %d: test value %q is %v, row %d", i, v, a, thresholdFor(a, len(v)))
		}
		got := GradeSecret("generic-api-key", v)
		if got.Grade == gradeWeak && strings.HasPrefix(got.Reason, "entropy ") && strings.Contains(got.Reason, fmt.Sprintf("below %.2f for %d ", row.minBits, row.minLen)) {
			used[i] = true
		} else {
			t.Errorf("row %d (%v, %d+, %.2f): GradeSecret(%q) = %+v, want weak by this row", i, row.alphabet, row.minLen, row.minBits, v, got)
		}
	}
	for i, u := range used {
		if !u {
			t.Errorf("row %d decides no test value", i)
		}
	}
}

// lowValue builds n characters from chars whose entropy is just under bits: the first character
// fills the value and the others are sprinkled in at pseudo-random places, one at a time, for
// as long as the entropy stays below bits. The second character always goes in (one in n keeps
// the entropy under every bound), so chars[:2] must fix the alphabet.
func lowValue(chars string, n int, bits float64) string {
	b := []byte(strings.Repeat(chars[:1], n))
	b[n/2+1] = chars[1]
	pos := 1
	for k := 1; k < n; k++ {
		next := append([]byte(nil), b...)
		pos = (pos*7 + 3) % n
		next[pos] = chars[1+k%(len(chars)-1)]
		if shannonEntropy(string(next)) >= bits {
			break
		}
		b = next
	}
	return string(b)
}
