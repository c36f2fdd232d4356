package keys

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"flag"
	"fmt"
	"go/format"
	"os"
	"sort"
	"strings"
	"testing"
)

// Another test file of this package may define -update too; define it only once.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files")
	}
}

func wkTestUpdate() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// wkTestPublishedSource is one published example key, given by its public number only.
// Private halves are never embedded: where the RFC prints a private key, the public number
// here was derived from it once and checked against the public value the RFC prints.
type wkTestPublishedSource struct {
	name, ref string
	// Exactly one of these is set.
	nB64 string // RSA modulus, unpadded base64url (JWK "n")
	xHex string // EC x coordinate, or raw Ed25519/X25519 public key, in hex
	spki string // a PEM "PUBLIC KEY"
}

var wkTestPublishedSources = []wkTestPublishedSource{
	// RFC 9500, Standard Public Key Cryptography (PKC) Test Keys. The moduli are the public
	// halves of the keys printed in section 2.1; the EC x coordinates those of section 2.3.
	{name: "RFC 9500 testRSA1024", ref: "https://www.rfc-editor.org/rfc/rfc9500#section-2.1",
		nB64: "sNGDUqiPU9VRb0bCDno2fX3ois9UoBn23vV6ubRM7dsiQrG8oPsbXLgrMDYXamOQNWTexutB2y-Px4f05S4RSeMzR1cpc_Zgw8d8qeCCHCtpW-eunX0w9AeREPSKrm-LcC1HSykAgX8oZiSb7BKisZuCeEFoCPga4fz5t3eKYj8"},
	{name: "RFC 9500 testRSA2048", ref: "https://www.rfc-editor.org/rfc/rfc9500#section-2.1",
		nB64: "sPnoGUOnrpiSqt4XynxA-HRP7S-BSObI6qJ7fQAVSPtRkqsotWxQYLEYzNEx5ZSHTGypibVsJylvCfuToDTfMul8b_CZjP2Ob0LdpYrNH6l5hvFE89FU1nZQF15oVLOpUgA7wGiHuEVawrGfey92UE68mOyUVXGweJIVDdxqdMoPvNNUl86BU02vlBiESxOuox-dWmuVV7vfYZ79Toh_LUK43YvJh-rhv4nKuF7iHjVjBd9sB6iDjj70HFldzOQ9r8SRI-9NirupPTkF5AKNe6kUhKJ1luB7S27ZkvB3tSTT3P593VVJvnzOjaA1z6Cz-4-eRvcysqhrRgFlwI9TEw"},
	{name: "RFC 9500 testRSA4096", ref: "https://www.rfc-editor.org/rfc/rfc9500#section-2.1",
		nB64: "s4tJYOY75qjbqJqCl47x9jJE5Vd9jPWGFtXKV1nUnMjZNsM4qjy5sRHBSX5bUa9pLyYR5on3Z1SAwLD0w2VPQ6-F_oyK1zTgQqitoF_XZQjgC6D3VsNEO76DPqfRANT7Nn7r1gvbZIZ3_H3rlCRNrRr47tHGWBLAPnxz9_NY6UG8ZkWP97uXpJqYoRgH4CwaO5rTOlc64YDh_0Mq5VgMycq_q2AvMlvNoJfoe8em1040qH1gikP-suT_8fS452hqmEddtRpuvQgXKldBd0kkiyFVyLkG4NVA6Mso9MAK3J_kdYoaw2SrOeThVSiYVEQVP-7GrUxTSLLjj_VQ9fpYM5eTNzDICIG_Ee7o_jhtW1EoSamDmUOr89lyIHaXuOwkEaJhnVXKBCM8WiztxvKG2CnQ6Dcge3ZSmqJEhyEmjcAVC7ewfnMxOnE-WJW6rzrf-mA5WMVn-FzyWx2AondWow0aUKHkaY7amhIrsKp6YPfNImyxFlz8-cqDCmBswPsUh_JJ5eDHHIhibFcSgIHedsEjhLbUSLZ_DnEjru90qIWWA3R1VIPykKfeZkZeInsrFzGPikkFKwFF-6KDdyvCmltYEqzO46tigXAZ5UgH8oiXEre48wO6X-FH-cLzQ0q3A8HZRnNDgqCjU_Tgy76iaku_Ic6eteedR1fX3gJ_IOU"},
	{name: "RFC 9500 testECCP256", ref: "https://www.rfc-editor.org/rfc/rfc9500#section-2.3",
		xHex: "422548F88FB782FFB5ECA3744452C72A1E558FBD6F73BE5E48E93232CC45C5B1"},
	{name: "RFC 9500 testECCP384", ref: "https://www.rfc-editor.org/rfc/rfc9500#section-2.3",
		xHex: "5B0901B88523296EB919D50FFA1A9CB374BC4D409586282BFECA11B1D95ADBB54734AF570BF82B7228CF226BCF4C25DD"},
	{name: "RFC 9500 testECCP521", ref: "https://www.rfc-editor.org/rfc/rfc9500#section-2.3",
		xHex: "01D0FD7257A84C747F562575C07385DBEBF2F52BEA58083DB82FDD1531D8AAE3CC875FF02FF7FA2DA260D8EB62D6D2F5D649278E321736A0628CBBB30308B6E618DB"},

	// RFC 8032 section 7.1, Ed25519 test vectors (TEST 1 is also the key of RFC 8037 Appendix A).
	{name: "RFC 8032 Ed25519 TEST 1 (also RFC 8037 Appendix A)", ref: "https://www.rfc-editor.org/rfc/rfc8032#section-7.1",
		xHex: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"},
	{name: "RFC 8032 Ed25519 TEST 2", ref: "https://www.rfc-editor.org/rfc/rfc8032#section-7.1",
		xHex: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"},
	{name: "RFC 8032 Ed25519 TEST 3", ref: "https://www.rfc-editor.org/rfc/rfc8032#section-7.1",
		xHex: "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025"},
	{name: "RFC 8032 Ed25519 TEST 1024", ref: "https://www.rfc-editor.org/rfc/rfc8032#section-7.1",
		xHex: "278117fc144c72340f67d0f2316e8386ceffbf2b2428c9c51fef7c597f1d426e"},
	{name: "RFC 8032 Ed25519 TEST SHA(abc)", ref: "https://www.rfc-editor.org/rfc/rfc8032#section-7.1",
		xHex: "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf"},

	// RFC 8410 section 10: the example Ed25519 public key, which is also the public half of
	// the example private key of section 10.3.
	{name: "RFC 8410 Ed25519 example", ref: "https://www.rfc-editor.org/rfc/rfc8410#section-10",
		spki: "MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE="},

	// RFC 7748 section 6.1 X25519 keys, reused by RFC 8037 Appendix A.6 (Bob is the recipient).
	{name: "RFC 7748 X25519 Alice (RFC 8037 A.6 ephemeral)", ref: "https://www.rfc-editor.org/rfc/rfc7748#section-6.1",
		xHex: "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"},
	{name: "RFC 7748 X25519 Bob (RFC 8037 A.6)", ref: "https://www.rfc-editor.org/rfc/rfc7748#section-6.1",
		xHex: "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"},

	// RFC 7517 JSON Web Key examples.
	{name: "RFC 7517 Appendix A EC P-256 key", ref: "https://www.rfc-editor.org/rfc/rfc7517#appendix-A.1",
		xHex: hex.EncodeToString(wkTestB64("MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4"))},
	{name: "RFC 7517 Appendix A RSA key", ref: "https://www.rfc-editor.org/rfc/rfc7517#appendix-A.1",
		nB64: "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"},
	{name: "RFC 7517 Appendix C RSA key (juliet@capulet.lit)", ref: "https://www.rfc-editor.org/rfc/rfc7517#appendix-C.1",
		nB64: "t6Q8PWSi1dkJj9hTP8hNYFlvadM7DflW9mWepOJhJ66w7nyoK1gPNqFMSQRyO125Gp-TEkodhWr0iujjHVx7BcV0llS4w5ACGgPrcAd6ZcSR0-Iqom-QFcNP8Sjg086MwoqQU_LYywlAGZ21WSdS_PERyGFiNnj3QQlO8Yns5jCtLCRwLHL0Pb1fEv45AuRIuUfVcPySBWYnDyGxvjYGDSM-AqWS9zIQ2ZilgT-GqUmipg0XOC0Cc20rgLe2ymLHjpHciCKVAbY5-L32-lSeZO-Os6U15_aXrk9Gw8cPUaX1_I8sLGuSiVdt3C_Fn2PZ3Z8i744FPFGGcG1qs2Wz-Q"},

	// RFC 6979 Appendix A.2 ECDSA keys on the curves Go supports (public keys U, coordinate Ux).
	{name: "RFC 6979 A.2.4 ECDSA P-224 key", ref: "https://www.rfc-editor.org/rfc/rfc6979#appendix-A.2.4",
		xHex: "00CF08DA5AD719E42707FA431292DEA11244D64FC51610D94B130D6C"},
	{name: "RFC 6979 A.2.5 ECDSA P-256 key", ref: "https://www.rfc-editor.org/rfc/rfc6979#appendix-A.2.5",
		xHex: "60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6"},
	{name: "RFC 6979 A.2.6 ECDSA P-384 key", ref: "https://www.rfc-editor.org/rfc/rfc6979#appendix-A.2.6",
		xHex: "EC3A4E415B4E19A4568618029F427FA5DA9A8BC4AE92E02E06AAE5286B300C64DEF8F0EA9055866064A254515480BC13"},
	{name: "RFC 6979 A.2.7 ECDSA P-521 key", ref: "https://www.rfc-editor.org/rfc/rfc6979#appendix-A.2.7",
		xHex: "01894550D0785932E00EAA23B694F213F8C3121F86DC97A04E5A7167DB4E5BCD371123D46E45DB6B5D5370A7F20FB633155D38FFA16D2BD761DCAC474B9A2F5023A4"},

	// The P-256 example key that badkeys' test vector ec-p256-rfc-example.key attributes to RFC 8946.
	{name: "RFC 8946 EC P-256 example", ref: "https://www.rfc-editor.org/rfc/rfc8946",
		spki: "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEmzGM1VsO+3IqbMF54rQMaYKQftO4hUYm9wv5wutLgEd9FsiTy3+4+Wa2O7pffOXPC0QzO+yD8hGEXGP/2mZo6w=="},
}

func wkTestB64(s string) []byte {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// number returns the public number the blocklist hashes.
func (s wkTestPublishedSource) number(t *testing.T) []byte {
	t.Helper()
	switch {
	case s.nB64 != "":
		return wkTestB64(s.nB64)
	case s.xHex != "":
		b, err := hex.DecodeString(s.xHex)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		return b
	case s.spki != "":
		der, err := base64.StdEncoding.DecodeString(s.spki)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		pub, err := x509.ParsePKIXPublicKey(der)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		n := wkPublicNumber(Key{Public: pub})
		if n == nil {
			t.Fatalf("%s: no public number for %T", s.name, pub)
		}
		return n
	}
	t.Fatalf("%s: no public value", s.name)
	return nil
}

// TestPublishedTable recomputes every blocklist hash from the public numbers above and
// compares it with published_table.go; -update rewrites that file.
func TestPublishedTable(t *testing.T) {
	want := map[string]wkPublished{}
	for _, s := range wkTestPublishedSources {
		h := wkPublishedHash(s.number(t))
		if prev, dup := want[h]; dup {
			t.Errorf("%s and %s are the same key; merge the entries", prev.name, s.name)
		}
		want[h] = wkPublished{name: s.name, ref: s.ref}
	}
	if wkTestUpdate() {
		hashes := make([]string, 0, len(want))
		for h := range want {
			hashes = append(hashes, h)
		}
		sort.Slice(hashes, func(i, j int) bool { return want[hashes[i]].name < want[hashes[j]].name })
		var buf bytes.Buffer
		buf.WriteString("// Code generated by TestPublishedTable (go test -run TestPublishedTable -update); DO NOT EDIT.\n\n")
		buf.WriteString("package keys\n\n")
		buf.WriteString("// wkPublishedKeys is the published-key blocklist: the first 15 bytes of the SHA-256 of\n")
		buf.WriteString("// each key's public number (see published.go), hex-encoded, and where the key was published.\n")
		buf.WriteString("var wkPublishedKeys = map[string]wkPublished{\n")
		for _, h := range hashes {
			fmt.Fprintf(&buf, "\t%q: {%q, %q},\n", h, want[h].name, want[h].ref)
		}
		buf.WriteString("}\n")
		src, err := format.Source(buf.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("published_table.go", src, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	for h, w := range want {
		got, ok := wkPublishedKeys[h]
		if !ok {
			t.Errorf("%s (%s) is missing from published_table.go; run go test -run TestPublishedTable -update", w.name, h)
			continue
		}
		if got != w {
			t.Errorf("entry %s = %+v, want %+v", h, got, w)
		}
	}
	for h, got := range wkPublishedKeys {
		if _, ok := want[h]; !ok {
			t.Errorf("published_table.go has %s (%s) with no public number in published_test.go", h, got.name)
		}
	}
}

// TestPublishedMatchesKeyTypes checks that the blocklist recognises keys as the parsers
// hand them over, not only as raw numbers.
func TestPublishedMatchesKeyTypes(t *testing.T) {
	block, _ := pem.Decode([]byte("-----BEGIN PUBLIC KEY-----\n" + wkTestPublishedSources[len(wkTestPublishedSources)-1].spki + "\n-----END PUBLIC KEY-----\n"))
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	ec, ok := pub.(*ecdsa.PublicKey)
	if !ok {
		t.Fatalf("got %T", pub)
	}
	for _, k := range []Key{
		{Type: "ecdsa", Public: ec},
		{Type: "ecdsa", Public: wkTestSSHWrapped{ec}},
	} {
		ws := Check(k)
		if len(ws) != 1 || ws[0].ID != "published-key" || !strings.Contains(ws[0].Summary, "RFC 8946") {
			t.Errorf("Check(%T) = %+v, want published-key", k.Public, ws)
		}
	}
}

// wkTestSSHWrapped stands in for an ssh.PublicKey.
type wkTestSSHWrapped struct{ pub crypto.PublicKey }

func (w wkTestSSHWrapped) CryptoPublicKey() crypto.PublicKey { return w.pub }
