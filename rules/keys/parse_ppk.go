package keys

import (
	"bytes"
	"strconv"
	"strings"
)

var ppkHeader = []byte("PuTTY-User-Key-File-")

// scanPPK finds PuTTY private keys (.ppk v2 and v3). The public blob is stored in the clear
// in both versions, so encrypted keys still yield their public half.
func (p *keyParser) scanPPK() {
	for i := 0; ; {
		b := bytes.Index(p.data[i:], ppkHeader)
		if b < 0 {
			return
		}
		start := i + b
		i = start + len(ppkHeader)
		k, end, ok := parsePPK(p.data[start:])
		if ok {
			p.add(k, start, start+end)
			i = start + end
		}
	}
}

// parsePPK reads one PPK file from the start of b and returns the key and its length.
func parsePPK(b []byte) (Key, int, bool) {
	fields := map[string]string{}
	var pub, priv []byte
	pos := 0
	nextLine := func() ([]byte, bool) {
		if pos >= len(b) {
			return nil, false
		}
		nl := bytes.IndexByte(b[pos:], '\n')
		var line []byte
		if nl < 0 {
			line, pos = b[pos:], len(b)
		} else {
			line, pos = b[pos:pos+nl], pos+nl+1
		}
		return bytes.TrimSpace(line), true
	}
	readB64 := func(n int) ([]byte, bool) {
		var s []byte
		for range n {
			line, ok := nextLine()
			if !ok {
				return nil, false
			}
			s = append(s, line...)
		}
		out := decodeB64(s)
		return out, out != nil
	}
	end := 0
	for {
		line, ok := nextLine()
		if !ok {
			break
		}
		name, value, ok := strings.Cut(string(line), ":")
		if !ok {
			break
		}
		value = strings.TrimSpace(value)
		if len(fields) > 0 && strings.HasPrefix(name, "PuTTY-User-Key-File-") || len(fields) > 32 {
			break // the next key file, or not a key file at all
		}
		fields[name] = value
		end = pos
		switch name {
		case "Public-Lines", "Private-Lines":
			n, err := strconv.Atoi(value)
			if err != nil || n < 0 || n > 4096 {
				return Key{}, 0, false
			}
			data, ok := readB64(n)
			if !ok {
				return Key{}, 0, false
			}
			end = pos
			if name == "Public-Lines" {
				pub = data
			} else {
				priv = data
			}
		}
		if name == "Private-MAC" || name == "Private-Hash" {
			break
		}
	}
	if pub == nil {
		return Key{}, 0, false
	}
	k, ok := sshPublicFromBlob(pub)
	if !ok {
		return Key{}, 0, false
	}
	k.Private = true
	switch {
	case fields["PuTTY-User-Key-File-3"] != "":
		k.Format = "ppk3"
	case fields["PuTTY-User-Key-File-2"] != "":
		k.Format = "ppk2"
	default:
		k.Format = "ppk1"
	}
	if enc := fields["Encryption"]; enc != "" && enc != "none" {
		k.Encrypted = true
		k.KDF = &KDF{Cipher: enc}
		if kd := fields["Key-Derivation"]; kd != "" {
			k.KDF.Name = strings.ToLower(kd)
			k.KDF.Iterations, _ = strconv.Atoi(fields["Argon2-Passes"])
			k.KDF.Memory, _ = strconv.Atoi(fields["Argon2-Memory"])
		} else {
			// PPK v2 derives the key as SHA-1(0||passphrase) || SHA-1(1||passphrase): one
			// unsalted hash, the same weakness as legacy PEM's MD5.
			k.KDF.Name, k.KDF.Iterations = "sha1", 1
		}
	} else if k.Type == "rsa" && priv != nil {
		r := &kpSSHReader{b: priv, ok: true}
		d, pp, q := r.mpint(), r.mpint(), r.mpint()
		if r.ok {
			k.RSA.D, k.RSA.P, k.RSA.Q = d, pp, q
		}
	}
	return k, end, true
}
