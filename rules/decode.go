package rules

import (
	"encoding/base64"
	"strings"
)

// mayDecode reports whether gitleaks' decoder (detect/codec) could find anything to decode in
// s. The decoder runs one regex with capture groups over the whole text on every pass, which
// costs as much as all keyword windows together; most source files have nothing it would
// decode, and saying so takes one cheap pass. It errs towards true: false must be a proof.
//
// The decoder looks for percent escapes, unicode escapes, hex runs of 32+ and base64 runs of
// 16+ characters, and keeps those that decode to printable ASCII. Without a '%', "U+" or
// backslash-u escape in the text (then the answer is simply true), every candidate lies in a
// maximal run of the base64 alphabet [\w/+-], and the decoder's leftmost-first scan enters a
// run at its start: it takes a hex prefix of 32+ characters if there is one, and then the
// base64 pattern takes the rest of the run (plus up to two '='), or the whole run if there
// was no hex prefix. Those candidates are decoded here as codec decodes them.
func mayDecode(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '%':
			if i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
				return true
			}
		case c == '+':
			if i > 0 && s[i-1] == 'U' && hexRun(s[i+1:]) >= 4 {
				return true
			}
		case c == '\\':
			if i+1 < len(s) && (s[i+1] == 'u' || s[i+1] == 'U') && hexRun(s[i+2:]) >= 4 {
				return true
			}
		}
	}
	for i := 0; i < len(s); {
		if !isB64(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isB64(s[j]) {
			j++
		}
		run := s[i:j]
		pad := j
		for pad < len(s) && pad < j+2 && s[pad] == '=' {
			pad++
		}
		rest := s[i:pad]
		if h := hexRun(run); h >= 32 {
			if decodesHex(run[:h]) {
				return true
			}
			rest = s[i+h : pad]
		}
		if len(strings.TrimRight(rest, "=")) >= 16 && decodesBase64(rest) {
			return true
		}
		i = j
	}
	return false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isB64(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || c == '/' || c == '+' || c == '-'
}

func hexRun(s string) int {
	n := 0
	for n < len(s) && isHex(s[n]) {
		n++
	}
	return n
}

func printable(b []byte) bool {
	for _, c := range b {
		if c <= '\x08' || c >= '\x7f' {
			return false
		}
	}
	return true
}

// decodesHex mirrors codec's decodeHex returning non-empty.
func decodesHex(s string) bool {
	if len(s)%2 != 0 || !strings.ContainsAny(s, "0123456789") {
		return false
	}
	b := make([]byte, len(s)/2)
	for i := 0; i < len(s); i += 2 {
		hi, lo := unhex(s[i]), unhex(s[i+1])
		b[i/2] = hi<<4 | lo
	}
	return printable(b)
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// decodesBase64 mirrors codec's decodeBase64 returning non-empty.
func decodesBase64(s string) bool {
	if !strings.ContainsAny(s, "0123456789+/-_") {
		return false
	}
	if b, err := base64.StdEncoding.DecodeString(s); err == nil && printable(b) && len(b) > 0 {
		return true
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && printable(b) && len(b) > 0
}
