package keys

import (
	"bytes"
	"encoding/binary"
	"math/big"
	"strings"

	"golang.org/x/crypto/ssh"
)

// kpSSHReader reads the RFC 4251 wire encoding; any short read makes ok false for good.
type kpSSHReader struct {
	b  []byte
	ok bool
}

func (r *kpSSHReader) uint32() uint32 {
	if !r.ok || len(r.b) < 4 {
		r.ok = false
		return 0
	}
	v := binary.BigEndian.Uint32(r.b)
	r.b = r.b[4:]
	return v
}

func (r *kpSSHReader) bytes() []byte {
	n := r.uint32()
	if !r.ok || uint64(n) > uint64(len(r.b)) {
		r.ok = false
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *kpSSHReader) mpint() *big.Int {
	b := r.bytes()
	if !r.ok {
		return nil
	}
	// Negative mpints are not keys; reading them as positive keeps the keyParser total.
	return new(big.Int).SetBytes(b)
}

// sshPublicFromBlob parses an SSH wire-format public key. RSA is read by hand because the
// ssh package rejects exactly the broken exponents the weakness checks look for.
func sshPublicFromBlob(blob []byte) (Key, bool) {
	r := &kpSSHReader{b: blob, ok: true}
	algo := string(r.bytes())
	if algo == "ssh-rsa" {
		e, n := r.mpint(), r.mpint()
		if !r.ok {
			return Key{}, false
		}
		return rsaKey(n, e, nil, nil, nil)
	}
	pk, err := ssh.ParsePublicKey(blob)
	if err != nil {
		return Key{}, false
	}
	if c, ok := pk.(*ssh.Certificate); ok {
		pk = c.Key
		if pk.Type() == ssh.KeyAlgoRSA {
			return sshPublicFromBlob(pk.Marshal())
		}
	}
	cp, ok := pk.(ssh.CryptoPublicKey)
	if !ok {
		return Key{}, false
	}
	k, ok := keyFromCrypto(cp.CryptoPublicKey())
	if !ok {
		return Key{}, false
	}
	// ssh-keygen hashes the blob as stored, which for security-key types includes more
	// than the bare public key.
	k.SSHFingerprint = ssh.FingerprintSHA256(pk)
	return k, true
}

// parseOpenSSHPrivate reads openssh-key-v1. Its public keys are stored in the clear, so an
// encrypted key still yields its public half and fingerprints.
func parseOpenSSHPrivate(b []byte) []Key {
	const magic = "openssh-key-v1\x00"
	if !bytes.HasPrefix(b, []byte(magic)) {
		return nil
	}
	r := &kpSSHReader{b: b[len(magic):], ok: true}
	cipher, kdfName, kdfOpts := string(r.bytes()), string(r.bytes()), r.bytes()
	n := r.uint32()
	if !r.ok || n == 0 || n > 64 {
		return nil
	}
	var pubs [][]byte
	for range n {
		pubs = append(pubs, r.bytes())
	}
	priv := r.bytes()
	var kdf *KDF
	if cipher != "none" {
		kdf = &KDF{Name: kdfName, Cipher: cipher}
		o := &kpSSHReader{b: kdfOpts, ok: true}
		o.bytes() // salt
		if rounds := o.uint32(); o.ok && rounds <= 1<<31-1 {
			kdf.Iterations = int(rounds)
		}
	}
	var keys []Key
	for _, blob := range pubs {
		k, ok := sshPublicFromBlob(blob)
		if !ok {
			if !r.ok {
				continue
			}
			k = Key{Type: "unknown"}
		}
		k.Format, k.Private = "openssh", true
		k.Encrypted, k.KDF = kdf != nil, kdf
		keys = append(keys, k)
	}
	if kdf == nil && len(keys) > 0 && keys[0].Type == "rsa" {
		addOpenSSHRSAPrivate(&keys[0], priv)
	}
	return keys
}

// addOpenSSHRSAPrivate adds d, p and q from an unencrypted private section.
func addOpenSSHRSAPrivate(k *Key, priv []byte) {
	r := &kpSSHReader{b: priv, ok: true}
	c1, c2 := r.uint32(), r.uint32()
	if string(r.bytes()) != "ssh-rsa" || c1 != c2 {
		return
	}
	n, e, d, _, p, q := r.mpint(), r.mpint(), r.mpint(), r.mpint(), r.mpint(), r.mpint()
	if !r.ok || n.Cmp(k.RSA.N) != 0 || e.Cmp(k.RSA.E) != 0 {
		return
	}
	k.RSA.D, k.RSA.P, k.RSA.Q = d, p, q
}

// sshAlgos are the key types of authorized_keys and .pub lines.
var sshAlgos = map[string]bool{}

func init() {
	for _, a := range []string{"ssh-rsa", "ssh-dss", "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
		"ecdsa-sha2-nistp521", "sk-ecdsa-sha2-nistp256@openssh.com", "sk-ssh-ed25519@openssh.com"} {
		sshAlgos[a] = true
		sshAlgos[strings.TrimSuffix(a, "@openssh.com")+"-cert-v01@openssh.com"] = true
	}
}

func isAlgoChar(c byte) bool {
	return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '@' || c == '.'
}

var sshBlobStart = []byte("AAAA")

// scanSSHLines finds authorized_keys, known_hosts and .pub lines, options prefix or not. It
// anchors on the blob's "AAAA" (the length prefix of the algorithm name) and looks back for
// the name, which is far cheaper than a regular expression over every byte.
func (p *keyParser) scanSSHLines() {
	d := p.data
	for i := 0; ; {
		j := bytes.Index(d[i:], sshBlobStart)
		if j < 0 {
			return
		}
		at := i + j
		i = at + len(sshBlobStart)
		ws := at
		for ws > 0 && at-ws < 16 && (d[ws-1] == ' ' || d[ws-1] == '\t') {
			ws--
		}
		as := ws
		for as > 0 && ws-as < 64 && isAlgoChar(d[as-1]) {
			as--
		}
		if ws == at || !sshAlgos[string(d[as:ws])] {
			continue
		}
		end := at
		for end < len(d) && kpIsB64(d[end]) && d[end] != '-' && d[end] != '_' {
			end++
		}
		for end < len(d) && d[end] == '=' {
			end++
		}
		i = end
		if p.isClaimed(as, end) {
			continue
		}
		blob := decodeB64(d[at:end])
		if blob == nil {
			continue
		}
		if k, ok := sshPublicFromBlob(blob); ok {
			k.Format = "ssh-public"
			p.add(k, as, end)
		}
	}
}

var (
	rfc4716Begin = []byte("---- BEGIN SSH2 PUBLIC KEY ----")
	rfc4716End   = []byte("---- END SSH2 PUBLIC KEY ----")
)

// scanRFC4716 finds SSH2 public keys as ssh-keygen -e writes them.
func (p *keyParser) scanRFC4716() {
	for i := 0; ; {
		b := bytes.Index(p.data[i:], rfc4716Begin)
		if b < 0 {
			return
		}
		start := i + b
		bodyStart := start + len(rfc4716Begin)
		e := bytes.Index(p.data[bodyStart:], rfc4716End)
		if e < 0 {
			return
		}
		end := bodyStart + e + len(rfc4716End)
		i = end
		_, blob, ok := pemBody(p.data[bodyStart : bodyStart+e])
		if !ok {
			continue
		}
		if k, ok := sshPublicFromBlob(blob); ok {
			k.Format = "ssh-public"
			p.add(k, start, end)
		}
	}
}
