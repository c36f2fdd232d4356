package keys

import (
	"bytes"
	"strings"
)

var (
	pemBegin = []byte("-----BEGIN ")
	pemEnd   = []byte("-----END ")
	pemDash  = []byte("-----")
)

// scanPEM finds PEM blocks in text. It is lenient where real files are: CRLF, indentation
// (YAML block scalars), and blocks inside JSON or env strings with "\n" (or "\\n") escapes,
// which is how service-account JSON and CI variables carry keys.
func (p *keyParser) scanPEM(text []byte) {
	// nextEnd caches the first END at or after some position: many BEGINs before one END
	// must not each search the whole text again.
	nextEnd := -1
	for i := 0; i < len(text); {
		b := bytes.Index(text[i:], pemBegin)
		if b < 0 {
			return
		}
		start := i + b
		labelStart := start + len(pemBegin)
		le := bytes.Index(pemWindow(text, labelStart, 70), pemDash)
		if le < 0 {
			i = labelStart
			continue
		}
		label := string(text[labelStart : labelStart+le])
		bodyStart := labelStart + le + len(pemDash)
		if nextEnd < bodyStart {
			e := bytes.Index(text[bodyStart:], pemEnd)
			if e < 0 {
				return // truncated: no END, and no later block can have one either
			}
			nextEnd = bodyStart + e
		}
		endStart := nextEnd
		endLabel := endStart + len(pemEnd)
		d := bytes.Index(pemWindow(text, endLabel, 70), pemDash)
		if d < 0 {
			i = endLabel
			continue
		}
		end := endLabel + d + len(pemDash)
		i = end
		if n := bytes.Index(text[bodyStart:endStart], pemBegin); n >= 0 {
			// A BEGIN without its END: resume at the nested BEGIN.
			i = bodyStart + n
			continue
		}
		headers, der, ok := pemBody(text[bodyStart:endStart])
		if !ok {
			continue
		}
		for _, k := range pemKeys(label, headers, der) {
			p.add(k, start, end)
		}
	}
}

func pemWindow(b []byte, from, n int) []byte {
	return b[from:min(len(b), from+n)]
}

// kpUnescape turns the escapes that carry line breaks in quoted strings back into newlines and
// drops other backslashes (JSON's "\/", shell line continuations).
func kpUnescape(b []byte) []byte {
	if bytes.IndexByte(b, '\\') < 0 {
		return b
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' {
			out = append(out, b[i])
			continue
		}
		for i < len(b) && b[i] == '\\' {
			i++
		}
		if i == len(b) {
			break
		}
		switch b[i] {
		case 'n', 'r':
			out = append(out, '\n')
		case 't':
			out = append(out, ' ')
		default:
			out = append(out, b[i])
		}
	}
	return out
}

// pemBody splits a PEM body into RFC 1421 headers and decoded bytes.
func pemBody(body []byte) (map[string]string, []byte, bool) {
	headers := map[string]string{}
	var b64 []byte
	inHeaders := true
	for _, line := range bytes.Split(kpUnescape(body), []byte("\n")) {
		line = bytes.TrimSpace(line)
		line = bytes.Trim(line, "\"',")
		if len(line) == 0 {
			if len(b64) == 0 {
				continue
			}
			inHeaders = false
			continue
		}
		if inHeaders {
			if c := bytes.IndexByte(line, ':'); c > 0 {
				headers[strings.TrimSpace(string(line[:c]))] = strings.TrimSpace(string(line[c+1:]))
				continue
			}
			inHeaders = false
		}
		for _, c := range line {
			if kpIsB64(c) && c != '-' && c != '_' {
				b64 = append(b64, c)
			}
		}
	}
	der := decodeB64(b64)
	return headers, der, der != nil && len(der) > 0
}

// pemKeys parses a decoded PEM block. The label only decides the formats that do not
// describe themselves (legacy encryption, OpenSSH, RFC 4716); DER is recognised by shape.
func pemKeys(label string, headers map[string]string, der []byte) []Key {
	if strings.Contains(headers["Proc-Type"], "ENCRYPTED") {
		return []Key{legacyEncrypted(label, headers["DEK-Info"])}
	}
	switch label {
	case "OPENSSH PRIVATE KEY":
		return parseOpenSSHPrivate(der)
	case "SSH2 PUBLIC KEY":
		if k, ok := sshPublicFromBlob(der); ok {
			k.Format = "ssh-public"
			return []Key{k}
		}
		return nil
	case "ENCRYPTED PRIVATE KEY":
		if k, ok := parseEncryptedPKCS8(der); ok {
			return []Key{k}
		}
	}
	if k, ok := parseDER(der); ok {
		return []Key{k}
	}
	return nil
}

// legacyEncrypted describes an OpenSSL "Proc-Type: 4,ENCRYPTED" block: the key type comes
// from the label, the protection from DEK-Info; the key derivation is EVP_BytesToKey with
// one MD5 round and the IV as salt.
func legacyEncrypted(label, dek string) Key {
	k := Key{Type: "unknown", Format: "pem-encrypted", Private: true, Encrypted: true}
	switch {
	case strings.HasPrefix(label, "RSA "):
		k.Type = "rsa"
	case strings.HasPrefix(label, "EC "):
		k.Type = "ecdsa"
	case strings.HasPrefix(label, "DSA "):
		k.Type = "dsa"
	}
	cipher, _, _ := strings.Cut(dek, ",")
	k.KDF = &KDF{Name: "md5", Iterations: 1, Cipher: strings.ToLower(strings.TrimSpace(cipher))}
	return k
}
