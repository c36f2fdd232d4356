package awskms

// A fake AWS KMS endpoint for the contract tests: it speaks the JSON 1.1 protocol the AWS KMS API
// Reference documents and checks every request against testdata/kms-api-shapes.json, which
// records the shapes taken from that reference. It is written from the reference because no KMS
// emulator (LocalStack, local-kms, moto) installs from this machine's package registries.

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// apiShapes is testdata/kms-api-shapes.json.
type apiShapes struct {
	Operations map[string]struct {
		Doc      string               `json:"doc"`
		Request  map[string]fieldSpec `json:"request"`
		Response map[string]fieldSpec `json:"response"`
		Errors   []string             `json:"errors"`
	} `json:"operations"`
	Structures map[string]struct {
		Members map[string]fieldSpec `json:"members"`
	} `json:"structures"`
}

type fieldSpec struct {
	Type     string   `json:"type"`
	Required bool     `json:"required"`
	Min      *int     `json:"min"`
	Max      *int     `json:"max"`
	MinLen   *int     `json:"min_len"`
	MaxLen   *int     `json:"max_len"`
	Values   []string `json:"values"`
}

func loadShapes(t *testing.T) *apiShapes {
	t.Helper()
	b, err := os.ReadFile("testdata/kms-api-shapes.json")
	if err != nil {
		t.Fatal(err)
	}
	var s apiShapes
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("parsing kms-api-shapes.json: %v", err)
	}
	return &s
}

// check validates a JSON object against members; where names what is checked, for messages.
func (s *apiShapes) check(where string, obj map[string]any, members map[string]fieldSpec) []string {
	var probs []string
	for name, f := range members {
		if _, ok := obj[name]; f.Required && !ok {
			probs = append(probs, fmt.Sprintf("%s: required member %s missing", where, name))
		}
	}
	for name, v := range obj {
		f, ok := members[name]
		if !ok {
			probs = append(probs, fmt.Sprintf("%s: undocumented member %s", where, name))
			continue
		}
		probs = append(probs, s.checkValue(where+"."+name, v, f)...)
	}
	sort.Strings(probs)
	return probs
}

func (s *apiShapes) checkValue(where string, v any, f fieldSpec) []string {
	bad := func(format string, args ...any) []string {
		return []string{where + ": " + fmt.Sprintf(format, args...)}
	}
	switch typ := f.Type; {
	case typ == "string" || typ == "enum":
		str, ok := v.(string)
		if !ok {
			return bad("want a string, got %T", v)
		}
		if f.MinLen != nil && len(str) < *f.MinLen || f.MaxLen != nil && len(str) > *f.MaxLen {
			return bad("length %d out of range", len(str))
		}
		if len(f.Values) > 0 && !slices.Contains(f.Values, str) {
			return bad("%q is not one of %v", str, f.Values)
		}
	case typ == "blob":
		str, ok := v.(string)
		if !ok {
			return bad("want a base64 string, got %T", v)
		}
		b, err := base64.StdEncoding.DecodeString(str)
		if err != nil {
			return bad("not base64: %v", err)
		}
		if f.MinLen != nil && len(b) < *f.MinLen || f.MaxLen != nil && len(b) > *f.MaxLen {
			return bad("%d bytes out of range", len(b))
		}
	case typ == "integer":
		n, ok := v.(json.Number)
		if !ok {
			return bad("want a number, got %T", v)
		}
		i, err := n.Int64()
		if err != nil {
			return bad("want an integer, got %s", n)
		}
		if f.Min != nil && i < int64(*f.Min) || f.Max != nil && i > int64(*f.Max) {
			return bad("%d out of range", i)
		}
	case typ == "timestamp":
		if _, ok := v.(json.Number); !ok {
			return bad("want epoch seconds as a number, got %T", v)
		}
	case typ == "boolean":
		if _, ok := v.(bool); !ok {
			return bad("want a boolean, got %T", v)
		}
	case strings.HasPrefix(typ, "list:"):
		l, ok := v.([]any)
		if !ok {
			return bad("want a list, got %T", v)
		}
		var probs []string
		for i, e := range l {
			probs = append(probs, s.checkValue(fmt.Sprintf("%s[%d]", where, i), e, fieldSpec{Type: strings.TrimPrefix(typ, "list:")})...)
		}
		return probs
	case typ == "structure:*":
		if _, ok := v.(map[string]any); !ok {
			return bad("want an object, got %T", v)
		}
	case strings.HasPrefix(typ, "structure:"):
		obj, ok := v.(map[string]any)
		if !ok {
			return bad("want an object, got %T", v)
		}
		st, ok := s.Structures[strings.TrimPrefix(typ, "structure:")]
		if !ok {
			return bad("no structure %s in kms-api-shapes.json", typ)
		}
		return s.check(where, obj, st.Members)
	default:
		return bad("unknown type %q in kms-api-shapes.json", typ)
	}
	return nil
}

// fakeKey is one key the fake holds.
type fakeKey struct {
	meta      map[string]any // KeyMetadata as DescribeKey returns it
	tags      map[string]string
	public    []byte // SPKI DER of an asymmetric key
	macKey    []byte // material of an HMAC key
	rotation  *fakeRotation
	rotations []time.Time // completed rotations, for ListKeyRotations, as a server that names no key materials lists them
	policy    string      // the default key policy; "" = a default one naming the account

	// materials are the key materials of a symmetric key on a server that names them
	// (KeyMetadata.CurrentKeyMaterialId, RotationsListEntry.KeyMaterialId): the first is the
	// one the key was created with, the last the current one. Nil for other keys.
	materials []fakeMaterial
	// pendingPolls counts the GetKeyRotationStatus and ListKeyRotations requests an on-demand
	// rotation still takes to complete; onDemandStart is when it started.
	pendingPolls  int
	onDemandStart time.Time
	onDemand      int // on-demand rotations completed
}

type fakeMaterial struct {
	id   string
	date time.Time // creation or rotation date
	kind string    // RotationType: AUTOMATIC, ON_DEMAND; "" for the first material
}

type fakeRotation struct {
	enabled bool
	days    int
	next    time.Time
}

type fakeAlias struct{ name, target string }

// call is one request the fake received.
type call struct {
	op   string
	body map[string]any
}

// fakeKMS is the fake KMS endpoint.
type fakeKMS struct {
	t        *testing.T
	shapes   *apiShapes
	region   string
	account  string
	creds    aws.Credentials
	pageSize int // the most items one page holds, whatever Limit asks: KMS "might return fewer"

	mu      sync.Mutex
	order   []string
	keys    map[string]*fakeKey
	aliases []fakeAlias
	deny    map[string]string // "Op" or "Op KEYID" → error code to answer with
	calls   []call
	// targets are the operations of every request received, valid or not, refused or not: what
	// a client asked for, for asserting what it never asked for.
	targets []string
	// rotationDelay is how many GetKeyRotationStatus and ListKeyRotations requests an on-demand
	// rotation takes to complete (KMS rotates asynchronously); 0 completes it at once.
	rotationDelay int
	seq           int // key ids and key material ids made so far
}

func newFakeKMS(t *testing.T, region string, creds aws.Credentials) *fakeKMS {
	return &fakeKMS{t: t, shapes: loadShapes(t), region: region, account: "111122223333", creds: creds,
		pageSize: 100, keys: map[string]*fakeKey{}, deny: map[string]string{}}
}

func (f *fakeKMS) arn(id string) string {
	return "arn:aws:kms:" + f.region + ":" + f.account + ":key/" + id
}

// add stores a key; meta needs KeyId, the rest of KeyMetadata's defaults are filled in.
func (f *fakeKMS) add(k *fakeKey) {
	id := k.meta["KeyId"].(string)
	m := k.meta
	def := func(name string, v any) {
		if _, ok := m[name]; !ok {
			m[name] = v
		}
	}
	def("Arn", f.arn(id))
	def("AWSAccountId", f.account)
	def("KeyManager", "CUSTOMER")
	def("Origin", "AWS_KMS")
	def("MultiRegion", false)
	def("Description", "")
	if spec, ok := m["KeySpec"]; ok {
		def("CustomerMasterKeySpec", spec)
	}
	if st, ok := m["KeyState"]; ok {
		def("Enabled", st == "Enabled")
	}
	f.order = append(f.order, id)
	f.keys[id] = k
}

// calledOps returns the operations received, in order.
func (f *fakeKMS) calledOps() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ops []string
	for _, c := range f.calls {
		ops = append(ops, c.op)
	}
	return ops
}

func (f *fakeKMS) callsOf(op string) []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []call
	for _, c := range f.calls {
		if c.op == op {
			out = append(out, c)
		}
	}
	return out
}

// start serves f over TLS on 127.0.0.1 and returns the server and a CA bundle file for it.
func (f *fakeKMS) start(t *testing.T) (*httptest.Server, string) {
	srv := httptest.NewUnstartedServer(f)
	// The SDK drops refused handshakes and idle connections; that is not news for the log.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ca := writeCABundle(t, srv)
	return srv, ca
}

type kmsError struct {
	code   string
	status int
}

func (f *fakeKMS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.t.Helper()
	fail := func(status int, code, msg string) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
	}
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		f.t.Errorf("fake kms: %s %s, want POST /", r.Method, r.URL.Path)
		fail(404, "UnknownOperationException", "want POST /")
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
		f.t.Errorf("fake kms: Content-Type %q, want application/x-amz-json-1.1", ct)
	}
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "TrentService.")
	f.mu.Lock()
	f.targets = append(f.targets, op)
	f.mu.Unlock()
	if !ok {
		f.t.Errorf("fake kms: X-Amz-Target %q, want TrentService.<Operation>", r.Header.Get("X-Amz-Target"))
		fail(400, "UnknownOperationException", "bad target")
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		fail(400, "SerializationException", err.Error())
		return
	}
	if err := f.verifySignature(r, body); err != nil {
		f.t.Errorf("fake kms: %s: %v", op, err)
		fail(400, "InvalidSignatureException", err.Error())
		return
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var req map[string]any
	if err := dec.Decode(&req); err != nil {
		f.t.Errorf("fake kms: %s: body is not a JSON object: %v", op, err)
		fail(400, "SerializationException", err.Error())
		return
	}
	shape, ok := f.shapes.Operations[op]
	if !ok {
		f.t.Errorf("fake kms: operation %s is not in kms-api-shapes.json", op)
		fail(400, "UnknownOperationException", op)
		return
	}
	if probs := f.shapes.check(op+" request", req, shape.Request); len(probs) > 0 {
		f.t.Errorf("fake kms: request does not match the API reference (%s):\n%s", shape.Doc, strings.Join(probs, "\n"))
		fail(400, "ValidationException", strings.Join(probs, "; "))
		return
	}

	f.mu.Lock()
	f.calls = append(f.calls, call{op: op, body: req})
	keyID, _ := req["KeyId"].(string)
	code := f.deny[op]
	if c, ok := f.deny[op+" "+keyID]; ok && keyID != "" {
		code = c
	}
	var resp map[string]any
	var kerr *kmsError
	if code == "" {
		resp, kerr = f.handle(op, req)
	} else {
		kerr = &kmsError{code: code, status: 400}
	}
	f.mu.Unlock()

	if kerr != nil {
		if code == "" && !slices.Contains(shape.Errors, kerr.code) {
			f.t.Errorf("fake kms: %s answered %s, which its API reference page does not list", op, kerr.code)
		}
		fail(kerr.status, kerr.code, "fake kms: "+kerr.code)
		return
	}
	// Round-trip the answer through JSON so it is checked as the client will see it.
	out, err := json.Marshal(resp)
	if err != nil {
		f.t.Errorf("fake kms: encoding %s response: %v", op, err)
		return
	}
	var back map[string]any
	dec = json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	_ = dec.Decode(&back)
	if probs := f.shapes.check(op+" response", back, shape.Response); len(probs) > 0 {
		f.t.Errorf("fake kms: response does not match the API reference (%s):\n%s", shape.Doc, strings.Join(probs, "\n"))
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_, _ = w.Write(out)
}

// verifySignature recomputes the request's SigV4 signature with the credentials the test set in
// the environment and checks the scope names the region and kms.
func (f *fakeKMS) verifySignature(r *http.Request, body []byte) error {
	auth := r.Header.Get("Authorization")
	rest, ok := strings.CutPrefix(auth, "AWS4-HMAC-SHA256 ")
	if !ok {
		return fmt.Errorf("authorization %q is not SigV4", auth)
	}
	parts := map[string]string{}
	for _, p := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		parts[k] = v
	}
	scope := strings.Split(parts["Credential"], "/")
	if len(scope) != 5 || scope[0] != f.creds.AccessKeyID || scope[2] != f.region || scope[3] != "kms" || scope[4] != "aws4_request" {
		return fmt.Errorf("credential scope %q, want %s/DATE/%s/kms/aws4_request", parts["Credential"], f.creds.AccessKeyID, f.region)
	}
	if f.creds.SessionToken != "" && r.Header.Get("X-Amz-Security-Token") != f.creds.SessionToken {
		return fmt.Errorf("X-Amz-Security-Token is not the session token from the environment")
	}
	when, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return fmt.Errorf("X-Amz-Date: %v", err)
	}
	re, _ := http.NewRequest(r.Method, "https://"+r.Host+r.URL.RequestURI(), bytes.NewReader(body))
	re.Host = r.Host
	for _, h := range strings.Split(parts["SignedHeaders"], ";") {
		switch h {
		case "host":
		case "content-length":
			re.ContentLength = int64(len(body))
		default:
			re.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
		}
	}
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), f.creds, re, hex.EncodeToString(sum[:]), "kms", f.region, when); err != nil {
		return err
	}
	want := re.Header.Get("Authorization")
	if want != auth {
		return fmt.Errorf("signature does not verify:\n got %s\nwant %s", auth, want)
	}
	return nil
}

func (f *fakeKMS) key(req map[string]any) (*fakeKey, *kmsError) {
	id, _ := req["KeyId"].(string)
	if k, ok := f.keys[id]; ok {
		return k, nil
	}
	for _, k := range f.keys {
		if k.meta["Arn"] == id {
			return k, nil
		}
	}
	return nil, &kmsError{"NotFoundException", 400}
}

// page returns the start and end of the page req asks for over n items, and the next marker.
func (f *fakeKMS) page(req map[string]any, n int) (int, int, string, *kmsError) {
	start := 0
	if m, ok := req["Marker"].(string); ok {
		i, err := strconv.Atoi(strings.TrimPrefix(m, "page-"))
		if err != nil || i < 0 || i > n {
			return 0, 0, "", &kmsError{"InvalidMarkerException", 400}
		}
		start = i
	}
	size := f.pageSize
	if l, ok := req["Limit"].(json.Number); ok {
		if i, _ := l.Int64(); int(i) < size {
			size = int(i)
		}
	}
	end := min(start+size, n)
	next := ""
	if end < n {
		next = "page-" + strconv.Itoa(end)
	}
	return start, end, next, nil
}

func paged(resp map[string]any, next string) map[string]any {
	resp["Truncated"] = next != ""
	if next != "" {
		resp["NextMarker"] = next
	}
	return resp
}

func epoch(t time.Time) json.Number {
	return json.Number(strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', -1, 64))
}

func (f *fakeKMS) handle(op string, req map[string]any) (map[string]any, *kmsError) {
	switch op {
	case "ListKeys":
		start, end, next, err := f.page(req, len(f.order))
		if err != nil {
			return nil, err
		}
		keys := []any{}
		for _, id := range f.order[start:end] {
			keys = append(keys, map[string]any{"KeyId": id, "KeyArn": f.keys[id].meta["Arn"]})
		}
		return paged(map[string]any{"Keys": keys}, next), nil

	case "ListAliases":
		aliases := f.aliases
		if _, ok := req["KeyId"]; ok {
			k, err := f.key(req)
			if err != nil {
				return nil, err
			}
			aliases = nil
			for _, a := range f.aliases {
				if a.target == k.meta["KeyId"] {
					aliases = append(aliases, a)
				}
			}
		}
		start, end, next, err := f.page(req, len(aliases))
		if err != nil {
			return nil, err
		}
		list := []any{}
		for _, a := range aliases[start:end] {
			e := map[string]any{"AliasName": a.name, "AliasArn": "arn:aws:kms:" + f.region + ":" + f.account + ":" + a.name,
				"CreationDate": epoch(time.Unix(1600000000, 0)), "LastUpdatedDate": epoch(time.Unix(1600000000, 0))}
			if a.target != "" {
				e["TargetKeyId"] = a.target
			}
			list = append(list, e)
		}
		return paged(map[string]any{"Aliases": list}, next), nil

	case "DescribeKey":
		k, err := f.key(req)
		if err != nil {
			return nil, err
		}
		return map[string]any{"KeyMetadata": k.meta}, nil

	case "GetPublicKey":
		k, err := f.key(req)
		if err != nil {
			return nil, err
		}
		if err := usable(k); err != nil {
			return nil, err
		}
		if k.public == nil {
			return nil, &kmsError{"UnsupportedOperationException", 400}
		}
		resp := map[string]any{"KeyId": k.meta["Arn"], "PublicKey": base64.StdEncoding.EncodeToString(k.public),
			"KeySpec": k.meta["KeySpec"], "CustomerMasterKeySpec": k.meta["KeySpec"], "KeyUsage": k.meta["KeyUsage"]}
		if algs, ok := k.meta["SigningAlgorithms"]; ok {
			resp["SigningAlgorithms"] = algs
		}
		if algs, ok := k.meta["KeyAgreementAlgorithms"]; ok {
			resp["KeyAgreementAlgorithms"] = algs
		}
		return resp, nil

	case "GetKeyRotationStatus":
		k, err := f.key(req)
		if err != nil {
			return nil, err
		}
		if k.rotation == nil {
			return nil, &kmsError{"UnsupportedOperationException", 400}
		}
		f.tick(k)
		resp := map[string]any{"KeyId": k.meta["Arn"], "KeyRotationEnabled": k.rotation.enabled}
		if k.rotation.enabled {
			resp["RotationPeriodInDays"] = k.rotation.days
			resp["NextRotationDate"] = epoch(k.rotation.next)
		}
		if k.pendingPolls > 0 {
			resp["OnDemandRotationStartDate"] = epoch(k.onDemandStart)
		}
		return resp, nil

	case "ListKeyRotations":
		k, err := f.key(req)
		if err != nil {
			return nil, err
		}
		if k.rotation == nil {
			return nil, &kmsError{"UnsupportedOperationException", 400}
		}
		f.tick(k)
		if k.materials != nil {
			return f.listMaterials(k, req)
		}
		start, end, next, perr := f.page(req, len(k.rotations))
		if perr != nil {
			return nil, perr
		}
		list := []any{}
		for _, d := range k.rotations[start:end] {
			list = append(list, map[string]any{"KeyId": k.meta["KeyId"], "RotationDate": epoch(d), "RotationType": "AUTOMATIC"})
		}
		return paged(map[string]any{"Rotations": list}, next), nil

	case "RotateKeyOnDemand", "GetKeyPolicy", "CreateKey", "UpdateAlias", "DisableKey", "TagResource":
		return f.handleRotation(op, req)

	case "ListResourceTags":
		k, err := f.key(req)
		if err != nil {
			return nil, err
		}
		names := make([]string, 0, len(k.tags))
		for n := range k.tags {
			names = append(names, n)
		}
		sort.Strings(names)
		start, end, next, perr := f.page(req, len(names))
		if perr != nil {
			return nil, perr
		}
		tags := []any{}
		for _, n := range names[start:end] {
			tags = append(tags, map[string]any{"TagKey": n, "TagValue": k.tags[n]})
		}
		return paged(map[string]any{"Tags": tags}, next), nil

	case "GenerateMac":
		k, err := f.key(req)
		if err != nil {
			return nil, err
		}
		if err := usable(k); err != nil {
			return nil, err
		}
		alg, _ := req["MacAlgorithm"].(string)
		var h func() hash.Hash
		switch spec := k.meta["KeySpec"]; {
		case spec == "HMAC_224" && alg == "HMAC_SHA_224":
			h = sha256.New224
		case spec == "HMAC_256" && alg == "HMAC_SHA_256":
			h = sha256.New
		case spec == "HMAC_384" && alg == "HMAC_SHA_384":
			h = sha512.New384
		case spec == "HMAC_512" && alg == "HMAC_SHA_512":
			h = sha512.New
		default:
			return nil, &kmsError{"InvalidKeyUsageException", 400}
		}
		msg, _ := base64.StdEncoding.DecodeString(req["Message"].(string))
		m := hmac.New(h, k.macKey)
		m.Write(msg)
		return map[string]any{"Mac": base64.StdEncoding.EncodeToString(m.Sum(nil)), "MacAlgorithm": alg, "KeyId": k.meta["Arn"]}, nil
	}
	return nil, &kmsError{"UnknownOperationException", 400}
}

// usable answers as KMS does for a cryptographic or public-key operation on a key whose state
// forbids it (AWS KMS Developer Guide, "Key states of AWS KMS keys").
func usable(k *fakeKey) *kmsError {
	switch k.meta["KeyState"] {
	case "Enabled":
		return nil
	case "Disabled":
		return &kmsError{"DisabledException", 400}
	}
	return &kmsError{"KMSInvalidStateException", 400}
}

// The rotation operations, written from the API reference pages recorded in
// testdata/kms-api-shapes.json and the key state table of the AWS KMS Developer Guide ("Key
// states of AWS KMS keys").

// newID makes a key id in the format KMS uses. Called with f.mu held.
func (f *fakeKMS) newID() string {
	f.seq++
	return fmt.Sprintf("5678cdef-%04x-4000-8000-%012x", f.seq, f.seq)
}

// newMaterialID makes a key material id (KMS's are 64 hex digits). Called with f.mu held.
func (f *fakeKMS) newMaterialID() string {
	f.seq++
	sum := sha256.Sum256([]byte("material-" + strconv.Itoa(f.seq)))
	return hex.EncodeToString(sum[:])
}

// defaultPolicy is the default key policy KMS attaches when CreateKey has none: the account
// may do anything with the key through IAM.
func (f *fakeKMS) defaultPolicy() string {
	return `{"Version":"2012-10-17","Id":"key-default-1","Statement":[{"Sid":"Enable IAM User Permissions",` +
		`"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + f.account + `:root"},"Action":"kms:*","Resource":"*"}]}`
}

// tick moves a pending on-demand rotation of k one request closer to completion.
func (f *fakeKMS) tick(k *fakeKey) {
	if k.pendingPolls == 0 {
		return
	}
	k.pendingPolls--
	if k.pendingPolls == 0 {
		f.completeRotation(k, "ON_DEMAND")
	}
}

// completeRotation gives k new current key material.
func (f *fakeKMS) completeRotation(k *fakeKey, kind string) {
	now := time.Now()
	if k.materials == nil {
		k.rotations = append(k.rotations, now)
	} else {
		m := fakeMaterial{id: f.newMaterialID(), date: now, kind: kind}
		k.materials = append(k.materials, m)
		k.meta["CurrentKeyMaterialId"] = m.id
	}
	if kind == "ON_DEMAND" {
		k.onDemand++
	}
}

// listMaterials answers ListKeyRotations for a key whose materials are named: the completed
// rotations, and the first material too when IncludeKeyMaterial is ALL_KEY_MATERIAL.
func (f *fakeKMS) listMaterials(k *fakeKey, req map[string]any) (map[string]any, *kmsError) {
	ms := k.materials[1:]
	if req["IncludeKeyMaterial"] == "ALL_KEY_MATERIAL" {
		ms = k.materials
	}
	start, end, next, err := f.page(req, len(ms))
	if err != nil {
		return nil, err
	}
	current := k.materials[len(k.materials)-1].id
	list := []any{}
	for _, m := range ms[start:end] {
		e := map[string]any{"KeyId": k.meta["KeyId"], "KeyMaterialId": m.id, "KeyMaterialState": "NON_CURRENT"}
		if m.id == current {
			e["KeyMaterialState"] = "CURRENT"
		}
		if m.kind != "" {
			e["RotationDate"] = epoch(m.date)
			e["RotationType"] = m.kind
		}
		list = append(list, e)
	}
	return paged(map[string]any{"Rotations": list}, next), nil
}

// keyType is what UpdateAlias compares: symmetric, asymmetric or HMAC, and the key usage.
func keyType(k *fakeKey) string {
	spec, _ := k.meta["KeySpec"].(string)
	kind := "asymmetric"
	switch {
	case spec == "SYMMETRIC_DEFAULT":
		kind = "symmetric"
	case strings.HasPrefix(spec, "HMAC_"):
		kind = "hmac"
	}
	return kind + "/" + fmt.Sprint(k.meta["KeyUsage"])
}

func (f *fakeKMS) handleRotation(op string, req map[string]any) (map[string]any, *kmsError) {
	switch op {
	case "GetKeyPolicy":
		k, err := f.key(req)
		if err != nil {
			return nil, err
		}
		if name, ok := req["PolicyName"]; ok && name != "default" {
			return nil, &kmsError{"NotFoundException", 400}
		}
		policy := k.policy
		if policy == "" {
			policy = f.defaultPolicy()
		}
		return map[string]any{"Policy": policy, "PolicyName": "default"}, nil

	case "CreateKey":
		return f.createKey(req)

	case "UpdateAlias":
		name, _ := req["AliasName"].(string)
		i := slices.IndexFunc(f.aliases, func(a fakeAlias) bool { return a.name == name })
		if i < 0 {
			return nil, &kmsError{"NotFoundException", 400}
		}
		target, err := f.key(map[string]any{"KeyId": req["TargetKeyId"]})
		if err != nil {
			return nil, err
		}
		switch target.meta["KeyState"] {
		case "PendingDeletion", "PendingReplicaDeletion":
			return nil, &kmsError{"KMSInvalidStateException", 400}
		}
		if cur, ok := f.keys[f.aliases[i].target]; ok && keyType(cur) != keyType(target) {
			f.t.Errorf("fake kms: UpdateAlias %s from a %s key to a %s key, which KMS refuses", name, keyType(cur), keyType(target))
			return nil, &kmsError{"ValidationException", 400}
		}
		f.aliases[i].target = target.meta["KeyId"].(string)
		return map[string]any{}, nil

	case "DisableKey":
		k, err := f.key(req)
		if err != nil {
			return nil, err
		}
		switch k.meta["KeyState"] {
		case "Enabled", "Disabled":
			k.meta["KeyState"], k.meta["Enabled"] = "Disabled", false
			return map[string]any{}, nil
		}
		return nil, &kmsError{"KMSInvalidStateException", 400}

	case "TagResource":
		k, err := f.key(req)
		if err != nil {
			return nil, err
		}
		switch k.meta["KeyState"] {
		case "PendingDeletion", "PendingReplicaDeletion":
			// The fake's reading of the key state table; the tests only rely on a refusal here
			// being survivable.
			return nil, &kmsError{"KMSInvalidStateException", 400}
		}
		add := map[string]string{}
		for _, t := range req["Tags"].([]any) {
			m := t.(map[string]any)
			key, value := m["TagKey"].(string), m["TagValue"].(string)
			if _, dup := add[key]; dup || strings.HasPrefix(key, "aws:") {
				return nil, &kmsError{"TagException", 400}
			}
			add[key] = value
		}
		n := len(k.tags)
		for key := range add {
			if _, ok := k.tags[key]; !ok {
				n++
			}
		}
		if n > 50 {
			return nil, &kmsError{"LimitExceededException", 400}
		}
		if k.tags == nil {
			k.tags = map[string]string{}
		}
		for key, value := range add {
			k.tags[key] = value // an existing tag key gets the new value
		}
		return map[string]any{}, nil

	case "RotateKeyOnDemand":
		k, err := f.key(req)
		if err != nil {
			return nil, err
		}
		switch {
		case k.meta["KeyManager"] != "CUSTOMER", k.meta["KeySpec"] != "SYMMETRIC_DEFAULT", k.meta["Origin"] != "AWS_KMS", k.rotation == nil:
			return nil, &kmsError{"UnsupportedOperationException", 400}
		case k.meta["KeyState"] == "Disabled":
			return nil, &kmsError{"DisabledException", 400}
		case k.meta["KeyState"] != "Enabled":
			return nil, &kmsError{"KMSInvalidStateException", 400}
		case k.pendingPolls > 0:
			return nil, &kmsError{"ConflictException", 400}
		case k.onDemand >= 25:
			return nil, &kmsError{"LimitExceededException", 400}
		}
		if f.rotationDelay > 0 {
			k.pendingPolls, k.onDemandStart = f.rotationDelay, time.Now()
		} else {
			f.completeRotation(k, "ON_DEMAND")
		}
		return map[string]any{"KeyId": k.meta["Arn"]}, nil
	}
	return nil, &kmsError{"UnknownOperationException", 400}
}

// usages are the key usages KMS allows for each kind of key spec (CreateKey, KeyUsage).
func usages(spec string) []string {
	switch {
	case spec == "SYMMETRIC_DEFAULT":
		return []string{"ENCRYPT_DECRYPT"}
	case strings.HasPrefix(spec, "HMAC_"):
		return []string{"GENERATE_VERIFY_MAC"}
	case strings.HasPrefix(spec, "RSA_"):
		return []string{"ENCRYPT_DECRYPT", "SIGN_VERIFY"}
	case strings.HasPrefix(spec, "ECC_NIST_P"):
		return []string{"SIGN_VERIFY", "KEY_AGREEMENT"}
	}
	return nil
}

// createKey makes a key with fresh material. It supports the key specs the tests rotate.
func (f *fakeKMS) createKey(req map[string]any) (map[string]any, *kmsError) {
	spec, _ := req["KeySpec"].(string)
	if spec == "" {
		spec = "SYMMETRIC_DEFAULT"
	}
	use, _ := req["KeyUsage"].(string)
	if use == "" && spec == "SYMMETRIC_DEFAULT" {
		use = "ENCRYPT_DECRYPT"
	}
	if !slices.Contains(usages(spec), use) {
		f.t.Errorf("fake kms: CreateKey %s with key usage %q, which KMS refuses", spec, use)
		return nil, &kmsError{"ValidationException", 400}
	}
	if o, ok := req["Origin"]; ok && o != "AWS_KMS" {
		return nil, &kmsError{"UnsupportedOperationException", 400} // the fake makes KMS material only
	}
	policy, _ := req["Policy"].(string)
	if policy != "" && !json.Valid([]byte(policy)) {
		return nil, &kmsError{"MalformedPolicyDocumentException", 400}
	}
	tags := map[string]string{}
	if list, ok := req["Tags"].([]any); ok {
		for _, t := range list {
			m := t.(map[string]any)
			key, value := m["TagKey"].(string), m["TagValue"].(string)
			if _, dup := tags[key]; dup || strings.HasPrefix(key, "aws:") {
				return nil, &kmsError{"TagException", 400}
			}
			tags[key] = value
		}
	}
	if len(tags) > 50 {
		return nil, &kmsError{"TagException", 400}
	}
	id := f.newID()
	meta := map[string]any{"KeyId": id, "KeySpec": spec, "KeyUsage": use, "KeyState": "Enabled", "CreationDate": epoch(time.Now()),
		"MultiRegion": req["MultiRegion"] == true}
	if d, ok := req["Description"].(string); ok {
		meta["Description"] = d
	}
	k := &fakeKey{meta: meta, tags: tags, policy: policy}
	switch {
	case spec == "SYMMETRIC_DEFAULT":
		meta["EncryptionAlgorithms"] = []string{"SYMMETRIC_DEFAULT"}
		k.rotation = &fakeRotation{}
		k.materials = []fakeMaterial{{id: f.newMaterialID(), date: time.Now()}}
		meta["CurrentKeyMaterialId"] = k.materials[0].id
	case strings.HasPrefix(spec, "HMAC_"):
		bits, _ := strconv.Atoi(strings.TrimPrefix(spec, "HMAC_"))
		k.macKey = make([]byte, bits/8)
		if _, err := rand.Read(k.macKey); err != nil {
			f.t.Errorf("fake kms: %v", err)
		}
		meta["MacAlgorithms"] = []string{"HMAC_SHA_" + strconv.Itoa(bits)}
	case strings.HasPrefix(spec, "ECC_NIST_P"):
		curves := map[string]elliptic.Curve{"ECC_NIST_P256": elliptic.P256(), "ECC_NIST_P384": elliptic.P384(), "ECC_NIST_P521": elliptic.P521()}
		priv, err := ecdsa.GenerateKey(curves[spec], rand.Reader)
		if err != nil {
			f.t.Errorf("fake kms: %v", err)
			return nil, &kmsError{"KMSInternalException", 500}
		}
		k.public, _ = x509.MarshalPKIXPublicKey(&priv.PublicKey)
		if use == "SIGN_VERIFY" {
			meta["SigningAlgorithms"] = []string{"ECDSA_SHA_" + map[string]string{"ECC_NIST_P256": "256", "ECC_NIST_P384": "384", "ECC_NIST_P521": "512"}[spec]}
		} else {
			meta["KeyAgreementAlgorithms"] = []string{"ECDH"}
		}
	case strings.HasPrefix(spec, "RSA_"):
		bits, _ := strconv.Atoi(strings.TrimPrefix(spec, "RSA_"))
		priv, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			f.t.Errorf("fake kms: %v", err)
			return nil, &kmsError{"KMSInternalException", 500}
		}
		k.public, _ = x509.MarshalPKIXPublicKey(&priv.PublicKey)
		if use == "SIGN_VERIFY" {
			meta["SigningAlgorithms"] = []string{"RSASSA_PSS_SHA_256", "RSASSA_PKCS1_V1_5_SHA_256"}
		} else {
			meta["EncryptionAlgorithms"] = []string{"RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"}
		}
	}
	f.add(k)
	return map[string]any{"KeyMetadata": meta}, nil
}
