package vault_test

// The fake transit server the contract tests run against. Its answers are the recorded shapes
// in testdata/*.json (each names the Vault/OpenBao documentation and source it was taken from)
// with this fake's own keys filled in: fill refuses to add a field the recorded shape lacks or
// to leave one out, so the fake cannot drift from the documented API.

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"maps"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorded is one testdata file: a documented answer.
type recorded struct {
	Sources []string       `json:"sources"`
	Status  int            `json:"status"`
	Body    map[string]any `json:"body"`
}

func loadRecorded(t testing.TB, name string) recorded {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var r recorded
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("parsing testdata/%s: %v", name, err)
	}
	if len(r.Sources) == 0 || r.Status == 0 || r.Body == nil {
		t.Fatalf("testdata/%s lacks sources, status or body", name)
	}
	return r
}

// fakeVersion is one version of a fake key. material is what a leaked copy would be; the fake
// never serves it.
type fakeVersion struct {
	created  time.Time
	material []byte           // symmetric and hmac keys
	hmacKey  []byte           // the separate per-version HMAC key transit keeps for other types
	pub      crypto.PublicKey // key pairs
}

type fakeKey struct {
	typ                      string
	minAvail, minDec, minEnc int
	autoRotate               int64 // seconds
	exportable, deletion     bool
	derived, softDeleted     bool
	imported, allowRotation  bool           // imported (BYOK), and whether transit may rotate it
	denied                   bool           // reading this key answers 403
	publicKeys               map[int]string // served instead of a version's real public_key
	versions                 []fakeVersion
}

func (k fakeKey) latest() int { return len(k.versions) }

// fakeTransit speaks the transit HTTP API for one mount.
type fakeTransit struct {
	t         testing.TB
	mount     string
	namespace string // required X-Vault-Namespace; "" = the header must be absent

	recorded map[string][]byte // testdata file -> contents, read before the server starts

	mu       sync.Mutex
	token    string
	keys     map[string]*fakeKey
	denyList bool
	hmacs    []hmacCall
	requests []fakeRequest

	// Rotation behaviour, per operation ("rotate", "config"): refuse answers 403 before acting,
	// as a policy without update on that path does; dropAfter acts, then drops the connection
	// without an answer, as a timeout on a call that took effect does.
	refuse, dropAfter map[string]bool
	// noContent answers rotate and config with 204 and no body, as older Vault releases did,
	// instead of the key.
	noContent bool

	srv    *httptest.Server
	caFile string
}

// fakeRequest is one request as the fake received it, whatever its answer.
type fakeRequest struct {
	method, path string
	fields       []string // top-level JSON body fields, sorted
	body         map[string]any
}

// hmacCall is one HMAC request as the fake received it.
type hmacCall struct {
	path string
	raw  []byte
	body map[string]any
}

func newFake(t testing.TB, mount string) *fakeTransit {
	t.Helper()
	f := &fakeTransit{t: t, mount: mount, token: newToken(t), keys: map[string]*fakeKey{}, recorded: map[string][]byte{},
		refuse: map[string]bool{}, dropAfter: map[string]bool{}}
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no recorded answers in testdata: %v", err)
	}
	for _, p := range files {
		loadRecorded(t, filepath.Base(p)) // checks the file
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		f.recorded[filepath.Base(p)] = b
	}
	f.srv = httptest.NewUnstartedServer(f)
	f.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshakes the tests make fail on purpose
	f.srv.StartTLS()
	t.Cleanup(f.srv.Close)
	f.caFile = writeCA(t, f.srv)
	return f
}

// newToken builds a token-shaped value at run time; the repository scans itself.
func newToken(t testing.TB) string {
	return "s." + hex.EncodeToString(randomBytes(t, 12))
}

func randomBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// writeOtherCA writes a freshly made CA certificate that signed nothing the fake serves.
// (Every httptest server shares one built-in certificate, so another server's is no good.)
func writeOtherCA(t testing.TB) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "keywarden test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "other-ca.pem")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// writeCA writes the test server's self-signed certificate to a file for ca=.
func writeCA(t testing.TB, srv *httptest.Server) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ca.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func (f *fakeTransit) hostPort() string { return strings.TrimPrefix(f.srv.URL, "https://") }

func (f *fakeTransit) tok() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.token
}

func (f *fakeTransit) hmacCalls() []hmacCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.hmacs)
}

// requestLog returns every request the fake received so far.
func (f *fakeTransit) requestLog() []fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.requests)
}

// key returns a copy of a key's numbers, for tests to compare before and after.
func (f *fakeTransit) key(name string) fakeKey {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := *f.keys[name]
	k.versions = slices.Clone(k.versions)
	return k
}

// set changes the rotation behaviour under the lock; the server may be serving.
func (f *fakeTransit) set(edit func(f *fakeTransit)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	edit(f)
}

// add creates a key of typ with n versions, created 30 days apart from base.
func (f *fakeTransit) add(name, typ string, n int, base time.Time, edit func(*fakeKey)) *fakeKey {
	f.t.Helper()
	k := &fakeKey{typ: typ, minDec: 1}
	for i := range n {
		k.versions = append(k.versions, newVersion(f.t, typ, base.Add(time.Duration(i)*30*24*time.Hour)))
	}
	if edit != nil {
		edit(k)
	}
	f.mu.Lock()
	f.keys[name] = k
	f.mu.Unlock()
	return k
}

// newVersion makes the material of one version of a typ key, as transit's RotateInMemory does.
func newVersion(t testing.TB, typ string, created time.Time) fakeVersion {
	v := fakeVersion{created: created}
	switch {
	case typ == "hmac":
		v.material = randomBytes(t, 32)
	case strings.HasPrefix(typ, "aes128"):
		v.material, v.hmacKey = randomBytes(t, 16), randomBytes(t, 32)
	case strings.HasPrefix(typ, "aes256"), strings.Contains(typ, "chacha20"):
		v.material, v.hmacKey = randomBytes(t, 32), randomBytes(t, 32)
	default:
		v.pub, v.hmacKey = newPublicKey(t, typ), randomBytes(t, 32)
	}
	return v
}

func newPublicKey(t testing.TB, typ string) crypto.PublicKey {
	t.Helper()
	var (
		pub crypto.PublicKey
		err error
	)
	switch typ {
	case "ed25519":
		pub, _, err = ed25519.GenerateKey(rand.Reader)
	case "ecdsa-p256", "ecdsa-p384", "ecdsa-p521":
		curve := map[string]elliptic.Curve{"ecdsa-p256": elliptic.P256(), "ecdsa-p384": elliptic.P384(), "ecdsa-p521": elliptic.P521()}[typ]
		var k *ecdsa.PrivateKey
		k, err = ecdsa.GenerateKey(curve, rand.Reader)
		if k != nil {
			pub = &k.PublicKey
		}
	case "rsa-2048":
		var k *rsa.PrivateKey
		k, err = rsa.GenerateKey(rand.Reader, 2048)
		if k != nil {
			pub = &k.PublicKey
		}
	default:
		t.Fatalf("fake: no generator for %s", typ)
	}
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

// formattedPublicKey is public_key as transit shows it: base64 of the raw bytes for Ed25519,
// PEM SubjectPublicKeyInfo otherwise.
func formattedPublicKey(t testing.TB, pub crypto.PublicKey) string {
	if ed, ok := pub.(ed25519.PublicKey); ok {
		return base64.StdEncoding.EncodeToString(ed)
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Errorf("fake: %v", err) // on the server's goroutine: no Fatal
		return ""
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func curveName(typ string) string {
	switch typ {
	case "ecdsa-p256":
		return "P-256"
	case "ecdsa-p384":
		return "P-384"
	case "ecdsa-p521":
		return "P-521"
	}
	return typ // "ed25519", "rsa-2048"
}

func (f *fakeTransit) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	raw, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(raw))
	req := fakeRequest{method: r.Method, path: r.URL.Path}
	if len(bytes.TrimSpace(raw)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		_ = dec.Decode(&req.body)
		req.fields = slices.Sorted(maps.Keys(req.body))
	}
	f.requests = append(f.requests, req)

	if r.Header.Get("X-Vault-Token") != f.token || r.Header.Get("X-Vault-Namespace") != f.namespace {
		f.answer(w, "error-permission-denied.json", nil)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/v1/"+f.mount+"/")
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"errors":["no handler for route"]}`)
		return
	}
	list := r.Method == "LIST" || (r.Method == http.MethodGet && r.URL.Query().Get("list") == "true")
	name, isKey := strings.CutPrefix(rest, "keys/")
	switch {
	case list && (rest == "keys" || rest == "keys/"):
		f.list(w)
	case (r.Method == http.MethodPost || r.Method == http.MethodPut) && isKey && strings.HasSuffix(name, "/rotate"):
		f.rotate(w, req, strings.TrimSuffix(name, "/rotate"))
	case (r.Method == http.MethodPost || r.Method == http.MethodPut) && isKey && strings.HasSuffix(name, "/config"):
		f.config(w, req, strings.TrimSuffix(name, "/config"))
	case r.Method == http.MethodGet && isKey && name != "":
		f.read(w, name)
	case (r.Method == http.MethodPost || r.Method == http.MethodPut) && strings.HasPrefix(rest, "hmac/"):
		f.hmac(w, r, strings.TrimPrefix(rest, "hmac/"))
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
		_, _ = io.WriteString(w, `{"errors":["unsupported operation"]}`)
	}
}

func (f *fakeTransit) list(w http.ResponseWriter) {
	if f.denyList {
		f.answer(w, "error-permission-denied.json", nil)
		return
	}
	if len(f.keys) == 0 {
		f.answer(w, "list-keys-empty.json", nil)
		return
	}
	// Map order, so the client cannot rely on the server sorting.
	names := []any{}
	for n := range f.keys {
		names = append(names, n)
	}
	f.answer(w, "list-keys.json", map[string]any{"keys": names})
}

func supports(typ string) (enc, dec, sign, derive bool) {
	sym := strings.HasPrefix(typ, "aes") || strings.Contains(typ, "chacha20")
	rsaKey := strings.HasPrefix(typ, "rsa-")
	return sym || rsaKey, sym || rsaKey,
		typ == "ed25519" || strings.HasPrefix(typ, "ecdsa-") || rsaKey,
		sym || typ == "ed25519"
}

func (f *fakeTransit) read(w http.ResponseWriter, name string) {
	k, ok := f.keys[name]
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	if k.denied {
		f.answer(w, "error-permission-denied.json", nil)
		return
	}
	file, data := f.keyAnswer(name, k)
	f.answer(w, file, data)
}

// keyAnswer is the read-key answer for k (formatKeyPolicy): the recorded file its shape is
// in, and its data.
func (f *fakeTransit) keyAnswer(name string, k *fakeKey) (string, map[string]any) {
	enc, dec, sign, derive := supports(k.typ)
	data := map[string]any{
		"allow_plaintext_backup": false,
		"auto_rotate_period":     k.autoRotate,
		"deletion_allowed":       k.deletion,
		"derived":                k.derived,
		"exportable":             k.exportable,
		"imported_key":           k.imported,
		"latest_version":         k.latest(),
		"min_available_version":  k.minAvail,
		"min_decryption_version": k.minDec,
		"min_encryption_version": k.minEnc,
		"name":                   name,
		"supports_decryption":    dec,
		"supports_derivation":    derive,
		"supports_encryption":    enc,
		"supports_signing":       sign,
		"type":                   k.typ,
	}
	file := "read-key-symmetric.json"
	switch {
	case k.typ == "hmac":
		file = "read-key-hmac.json"
		data["key_size"] = len(k.versions[0].material)
	case k.versions[0].pub != nil:
		file = "read-key-asymmetric.json"
		entryShape := f.load(file).Body["data"].(map[string]any)["keys"].(map[string]any)["1"].(map[string]any)
		keys := map[string]any{}
		// Only versions from min_decryption_version on are in the map; older ones are archived.
		for n := max(k.minDec, k.minAvail+1); n <= k.latest(); n++ {
			v := k.versions[n-1]
			pk := formattedPublicKey(f.t, v.pub)
			if k.derived {
				pk = "" // a derived ed25519 key has a public key per context only
			}
			if o, ok := k.publicKeys[n]; ok {
				pk = o
			}
			keys[strconv.Itoa(n)] = fill(f.t, "keys entry of "+file, entryShape, map[string]any{
				"certificate_chain": "",
				"creation_time":     v.created.Format(time.RFC3339Nano),
				"name":              curveName(k.typ),
				"public_key":        pk,
			})
		}
		data["keys"] = keys
	default:
		keys := map[string]any{}
		for n := max(k.minDec, k.minAvail+1); n <= k.latest(); n++ {
			keys[strconv.Itoa(n)] = k.versions[n-1].created.Unix()
		}
		data["keys"] = keys
		data["soft_deleted"] = k.softDeleted
		if k.imported {
			file = "read-key-imported.json"
			data["imported_key_allow_rotation"] = k.allowRotation
		}
	}
	return file, data
}

// checkParams answers 400 and returns false when a request carries a field the recorded
// request of file does not list under params.
func (f *fakeTransit) checkParams(w http.ResponseWriter, req fakeRequest, file string) bool {
	var rec struct {
		Request struct {
			Params []string `json:"params"`
		} `json:"request"`
	}
	if err := json.Unmarshal(f.recorded[file], &rec); err != nil {
		f.t.Errorf("fake: %s: %v", file, err)
	}
	for _, fld := range req.fields {
		if !slices.Contains(rec.Request.Params, fld) {
			f.badRequest(w, fmt.Sprintf("unknown field %q (the recorded %s takes %v)", fld, file, rec.Request.Params))
			return false
		}
	}
	return true
}

// changed answers a rotate or config request that took effect: the key, as current servers
// do, or 204 with no body in the older Vault flavour. With dropAfter set for op it answers
// nothing and drops the connection instead.
func (f *fakeTransit) changed(w http.ResponseWriter, op, file, name string, k *fakeKey) {
	if f.dropAfter[op] {
		panic(http.ErrAbortHandler) // the handler's deferred unlock still runs
	}
	if f.noContent {
		if rec := f.load("rotate-key-no-content.json"); rec.Status != http.StatusNoContent {
			f.t.Errorf("fake: rotate-key-no-content.json has status %d", rec.Status)
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	shapeFile, data := f.keyAnswer(name, k)
	rec := f.load(file)
	// The answer is the read-key answer: check it against the key type's recorded shape, and
	// this endpoint's recorded sample against the symmetric one.
	fill(f.t, file+" data (as "+shapeFile+")", f.load(shapeFile).Body["data"].(map[string]any), data)
	fill(f.t, file+" recorded data", f.load("read-key-symmetric.json").Body["data"].(map[string]any), rec.Body["data"].(map[string]any))
	rec.Body["data"] = data
	rec.Body["request_id"] = newRequestID()
	f.write(w, file, rec)
}

// rotate is POST MOUNT/keys/NAME/rotate (path_rotate.go, keysutil Policy.Rotate).
func (f *fakeTransit) rotate(w http.ResponseWriter, req fakeRequest, name string) {
	if !f.checkParams(w, req, "rotate-key.json") {
		return
	}
	k, ok := f.keys[name]
	switch {
	case f.refuse["rotate"] || ok && k.denied:
		f.answer(w, "error-permission-denied.json", nil)
		return
	case !ok:
		f.badRequest(w, "key not found")
		return
	case k.softDeleted:
		f.badRequest(w, "key not found") // soft-deleted keys cannot be rotated
		return
	case k.imported && !k.allowRotation:
		rec := f.load("error-internal.json")
		rec.Body["errors"] = []string{fmt.Sprintf("1 error occurred:\n\t* imported key %s does not allow rotation within Vault\n\n", name)}
		f.write(w, "error-internal.json", rec)
		return
	}
	k.versions = append(k.versions, newVersion(f.t, k.typ, time.Now().UTC()))
	k.imported = false
	f.changed(w, "rotate", "rotate-key.json", name, k)
}

// config is POST MOUNT/keys/NAME/config (path_keys_config.go), for the fields rotation may
// touch; the others are accepted and applied as transit does.
func (f *fakeTransit) config(w http.ResponseWriter, req fakeRequest, name string) {
	if !f.checkParams(w, req, "config-key.json") {
		return
	}
	k, ok := f.keys[name]
	switch {
	case f.refuse["config"] || ok && k.denied:
		f.answer(w, "error-permission-denied.json", nil)
		return
	case !ok:
		f.badRequest(w, "no existing key named "+name+" could be found")
		return
	}
	num := func(fld string) (int, bool) {
		n, ok := req.body[fld].(json.Number)
		if !ok {
			return 0, false
		}
		v, _ := n.Int64()
		return int(v), true
	}
	minDec, minEnc := k.minDec, k.minEnc
	if v, ok := num("min_decryption_version"); ok {
		if v == 0 {
			v = 1
		}
		if v > k.latest() {
			f.badRequest(w, fmt.Sprintf("cannot set min decryption version of %d, latest key version is %d", v, k.latest()))
			return
		}
		minDec = v
	}
	if v, ok := num("min_encryption_version"); ok {
		if v < 0 || v > k.latest() {
			f.badRequest(w, fmt.Sprintf("cannot set min encryption version of %d, latest key version is %d", v, k.latest()))
			return
		}
		minEnc = v
	}
	if minEnc > 0 && minEnc < minDec {
		f.badRequest(w, fmt.Sprintf("cannot set min encryption/decryption values; min encryption version of %d must be greater than or equal to min decryption version of %d", minEnc, minDec))
		return
	}
	deletion, exportable := k.deletion, k.exportable
	if b, ok := req.body["deletion_allowed"].(bool); ok {
		deletion = b
	}
	if b, ok := req.body["exportable"].(bool); ok && b {
		exportable = true
	}
	// Checked only when something changes, as pathKeysConfigWrite does before persisting.
	if minDec != k.minDec || minEnc != k.minEnc || deletion != k.deletion || exportable != k.exportable {
		switch {
		case k.minAvail > minEnc:
			f.badRequest(w, "min encryption version should not be less than min available version")
			return
		case k.minAvail > minDec:
			f.badRequest(w, "min decryption version should not be less then min available version")
			return
		}
	}
	k.minDec, k.minEnc, k.deletion, k.exportable = minDec, minEnc, deletion, exportable
	f.changed(w, "config", "config-key.json", name, k)
}

func (f *fakeTransit) hmac(w http.ResponseWriter, r *http.Request, rest string) {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(&body); err != nil {
		f.badRequest(w, "failed to parse JSON input")
		return
	}
	f.hmacs = append(f.hmacs, hmacCall{path: r.URL.Path, raw: raw, body: body})

	name, algo, _ := strings.Cut(rest, "/")
	if algo == "" {
		algo = "sha2-256"
	}
	if algo != "sha2-256" {
		f.badRequest(w, fmt.Sprintf("unsupported algorithm %q", algo))
		return
	}
	k, ok := f.keys[name]
	if !ok || k.softDeleted {
		f.badRequest(w, "encryption key not found")
		return
	}
	if k.denied {
		f.answer(w, "error-permission-denied.json", nil)
		return
	}
	ver := 0
	if n, ok := body["key_version"].(json.Number); ok {
		v, err := n.Int64()
		if err != nil {
			f.badRequest(w, "key_version is not an integer")
			return
		}
		ver = int(v)
	}
	// The checks pathHMACWrite and Policy.HMACKey make, in their order.
	switch {
	case ver == 0:
		ver = k.latest()
	case ver == k.latest():
	case k.minEnc > 0 && ver < k.minEnc:
		f.answer(w, "error-bad-request.json", nil)
		return
	}
	if ver < 0 || ver > k.latest() || ver < k.minDec || ver <= k.minAvail {
		f.badRequest(w, "no such key version")
		return
	}
	in, ok := body["input"].(string)
	input, err := base64.StdEncoding.DecodeString(in)
	if !ok || err != nil {
		f.badRequest(w, "unable to decode input as base64")
		return
	}
	v := k.versions[ver-1]
	key := v.hmacKey
	if k.typ == "hmac" {
		key = v.material
	}
	m := hmac.New(sha256.New, key)
	m.Write(input)
	f.answer(w, "hmac.json", map[string]any{
		"hmac": "vault:v" + strconv.Itoa(ver) + ":" + base64.StdEncoding.EncodeToString(m.Sum(nil)),
	})
}

// badRequest answers 400 in the recorded error shape with transit's message for the case.
func (f *fakeTransit) badRequest(w http.ResponseWriter, msg string) {
	rec := f.load("error-bad-request.json")
	rec.Body["errors"] = []string{msg}
	f.write(w, "error-bad-request.json", rec)
}

// load parses a recorded answer afresh, so that filling one in changes no other.
func (f *fakeTransit) load(file string) recorded {
	var rec recorded
	if err := json.Unmarshal(f.recorded[file], &rec); err != nil || rec.Body == nil {
		f.t.Errorf("fake: no recorded answer %s: %v", file, err)
		return recorded{Status: http.StatusInternalServerError, Body: map[string]any{"errors": []string{"fake"}}}
	}
	return rec
}

// answer writes the recorded answer in file with its data replaced by data.
func (f *fakeTransit) answer(w http.ResponseWriter, file string, data map[string]any) {
	rec := f.load(file)
	if shape, ok := rec.Body["data"].(map[string]any); ok {
		rec.Body["data"] = fill(f.t, file, shape, data)
		rec.Body["request_id"] = newRequestID()
	} else if data != nil {
		f.t.Errorf("fake: %s has no data to fill", file)
	}
	f.write(w, file, rec)
}

func newRequestID() string {
	var id [16]byte
	_, _ = rand.Read(id[:])
	return fmt.Sprintf("%x-%x-%x-%x-%x", id[:4], id[4:6], id[6:8], id[8:10], id[10:])
}

func (f *fakeTransit) write(w http.ResponseWriter, file string, rec recorded) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rec.Status)
	if err := json.NewEncoder(w).Encode(rec.Body); err != nil {
		f.t.Errorf("fake: encoding %s: %v", file, err)
	}
}

// fill returns values after checking that it has exactly the fields of the recorded shape.
func fill(t testing.TB, what string, shape, values map[string]any) map[string]any {
	t.Helper()
	want := slices.Sorted(maps.Keys(shape))
	got := slices.Sorted(maps.Keys(values))
	if !slices.Equal(want, got) {
		t.Errorf("fake: %s answer has fields %v, the recorded shape %v", what, got, want)
	}
	return values
}
