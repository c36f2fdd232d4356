package keys

import (
	"bytes"
	"encoding/json"
	"math/big"
)

var jwkKty = []byte(`"kty"`)

// jwkMaxObject bounds a JWK object's size: an RSA-8192 private JWK is under 10 KiB.
const jwkMaxObject = 32 << 10

// scanJWK finds JSON Web Keys: each object with a "kty" member, so the keys of a JWKS
// ({"keys":[…]}) are found one by one, as are JWKs embedded in larger JSON documents.
func (p *keyParser) scanJWK() {
	// Each failed candidate may cost a scan of jwkMaxObject bytes; bounding the failures keeps
	// text full of "kty" linear.
	failures := 0
	for i := 0; failures < 1000; {
		b := bytes.Index(p.data[i:], jwkKty)
		if b < 0 {
			return
		}
		at := i + b
		i = at + len(jwkKty)
		start := objectStart(p.data, at)
		if start < 0 {
			failures++
			continue
		}
		end := objectEnd(p.data, start)
		if end < 0 {
			failures++
			continue
		}
		k, ok := parseJWK(p.data[start:end])
		if !ok {
			failures++
			continue
		}
		p.add(k, start, end)
		i = max(i, end)
	}
}

// objectStart finds the '{' that opens the object around position at. Braces inside
// strings are not expected in key objects, and a wrong guess only fails json.Unmarshal.
func objectStart(d []byte, at int) int {
	depth := 0
	for j := at - 1; j >= 0 && at-j < jwkMaxObject; j-- {
		switch d[j] {
		case '}':
			depth++
		case '{':
			if depth == 0 {
				return j
			}
			depth--
		}
	}
	return -1
}

// objectEnd returns the offset just past the '}' closing the object that opens at start.
func objectEnd(d []byte, start int) int {
	depth, inString := 0, false
	for j := start; j < len(d) && j-start < jwkMaxObject; j++ {
		c := d[j]
		if inString {
			switch c {
			case '\\':
				j++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return j + 1
			}
		}
	}
	return -1
}

type jwkMembers struct {
	Kty, Crv, N, E, D, P, Q, X, Y string
}

// parseJWK reads one JWK object (RFC 7517/7518, OKP from RFC 8037).
func parseJWK(obj []byte) (Key, bool) {
	var j jwkMembers
	if json.Unmarshal(obj, &j) != nil {
		return Key{}, false
	}
	num := func(s string) []byte {
		if s == "" {
			return nil
		}
		return decodeB64([]byte(s))
	}
	var k Key
	var ok bool
	switch j.Kty {
	case "RSA":
		n, e := num(j.N), num(j.E)
		if n == nil || e == nil {
			return Key{}, false
		}
		k, ok = rsaKey(kpBigInt(n), kpBigInt(e), kpBigIntOrNil(num(j.D)), kpBigIntOrNil(num(j.P)), kpBigIntOrNil(num(j.Q)))
	case "EC":
		ci := curveByName(j.Crv)
		if j.Crv == "P-256K" {
			ci = curveByName("secp256k1")
		}
		if ci == nil {
			return Key{}, false
		}
		size := (ci.bits + 7) / 8
		x, y := num(j.X), num(j.Y)
		var point []byte
		if len(x) > 0 && len(y) > 0 && len(x) <= size && len(y) <= size {
			point = make([]byte, 1+2*size)
			point[0] = 4
			copy(point[1+size-len(x):1+size], x)
			copy(point[1+2*size-len(y):], y)
		}
		k, ok = ecKey(ci, point, num(j.D)), point != nil || j.D != ""
	case "OKP":
		oid := map[string][]int{"Ed25519": oidEd25519, "Ed448": oidEd448, "X25519": oidX25519, "X448": oidX448}[j.Crv]
		if oid == nil {
			return Key{}, false
		}
		k, ok = okpKey(oid, num(j.X), num(j.D))
	}
	if !ok {
		return Key{}, false
	}
	k.Format = "jwk"
	k.Private = j.D != ""
	return k, true
}

func kpBigInt(b []byte) *big.Int { return new(big.Int).SetBytes(b) }

func kpBigIntOrNil(b []byte) *big.Int {
	if b == nil {
		return nil
	}
	return kpBigInt(b)
}
