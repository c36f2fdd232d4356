package kmip

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/keywarden/keywarden/hsmcheck"
)

// ProtocolVersion is a KMIP protocol version.
type ProtocolVersion struct{ Major, Minor int32 }

func (v ProtocolVersion) String() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// Version12 is the protocol version the client declares: everything it sends is KMIP 1.2, except
// Offset Items (1.3), which it sends only when paging and drops if the server refuses it.
var Version12 = ProtocolVersion{1, 2}

// DefaultPort is the IANA-registered KMIP port.
const DefaultPort = "5696"

// Error is a batch item the server answered with a failure. Errors with reason Permission
// Denied or Authentication Not Successful reach the caller wrapped together with
// hsmcheck.ErrAuth.
type Error struct {
	Operation Operation
	Status    ResultStatus
	Reason    ResultReason
	Message   string
}

func (e *Error) Error() string {
	s := fmt.Sprintf("server answered %s with %s", e.Operation, e.Status)
	if e.Reason != 0 {
		s += " (" + e.Reason.String() + ")"
	}
	if e.Message != "" {
		s += fmt.Sprintf(": %q", e.Message)
	}
	return s
}

// Reason returns the result reason of the first *Error in err's chain, 0 if there is none.
func Reason(err error) ResultReason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return 0
}

// resultError turns a failed batch item into an error, marking refusals as hsmcheck.ErrAuth.
func resultError(e *Error) error {
	switch e.Reason {
	case ReasonPermissionDenied, ReasonAuthenticationNotSuccessful:
		return fmt.Errorf("%w: %w", hsmcheck.ErrAuth, e)
	}
	return e
}

// Request is one batch item of a request message.
type Request struct {
	Operation Operation
	Payload   []Item // the Request Payload's fields
}

// Response is one batch item of a response message. Err is set when the item failed.
type Response struct {
	Operation Operation
	Payload   Item // the Response Payload structure; zero when the server sent none
	Err       error
}

// Client speaks KMIP 1.2 over TLS to one server. It keeps one connection, opened on first use and
// reopened after a failure, and sends one request at a time. It is safe for concurrent use.
type Client struct {
	// PageSize is the Maximum Items a Locate asks for per page; 0 means 1000.
	PageSize int
	// Timeout bounds one exchange when ctx sets no earlier deadline; 0 means a minute. A server
	// that stops answering must not hang a scan.
	Timeout time.Duration
	// BatchSize is how many requests GetAttributesMany and GetMany put in one message; 0
	// means 50.
	BatchSize int

	addr string
	tls  *tls.Config

	mu   sync.Mutex
	conn net.Conn
}

// NewClient returns a client for the server at addr (HOST:PORT). cfg must carry the client
// certificate the server expects; the client never relaxes its verification settings.
func NewClient(addr string, cfg *tls.Config) *Client {
	cfg = cfg.Clone()
	if cfg.MinVersion < tls.VersionTLS12 {
		cfg.MinVersion = tls.VersionTLS12
	}
	if cfg.GetClientCertificate == nil && len(cfg.Certificates) > 0 {
		// Present the certificate even when its issuer is not among the CAs the server lists:
		// the list is a hint, and a server that refuses the certificate then says so with a
		// certificate alert instead of a bare handshake failure.
		cert := &cfg.Certificates[0]
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
	}
	return &Client{addr: addr, tls: cfg}
}

// LoadTLSConfig builds a mutual-TLS configuration: trust anchors from caFile (the system pool when
// empty), the client certificate and key from certFile and keyFile (PEM), and serverName for
// verification when the address does not carry the certified name.
func LoadTLSConfig(caFile, certFile, keyFile, serverName string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: serverName}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("reading CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("reading CA file %q: no PEM certificate in it", caFile)
		}
		cfg.RootCAs = pool
	}
	switch {
	case certFile != "" && keyFile != "":
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			// The error names the files only; tls does not quote key material.
			return nil, fmt.Errorf("loading client certificate %q: %w", certFile, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	case certFile != "" || keyFile != "":
		return nil, fmt.Errorf("loading client certificate: want both a certificate and a key file")
	}
	return cfg, nil
}

// Close closes the connection, if one is open. The client can still be used afterwards.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == nil {
		return nil
	}
	err := c.conn.Close()
	c.conn = nil
	return err
}

// Addr returns the server address.
func (c *Client) Addr() string { return c.addr }

// dialLocked opens the connection. Handshake refusals of the client certificate wrap
// hsmcheck.ErrAuth; a server certificate that does not verify does not, since skipping such an
// inventory would hide a misconfiguration or an attack.
func (c *Client) dialLocked(ctx context.Context) (net.Conn, error) {
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: 30 * time.Second}, Config: c.tls}
	conn, err := d.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if certRefused(err) {
			return nil, fmt.Errorf("connecting to %s: %w: the server refused the client certificate: %w", c.addr, hsmcheck.ErrAuth, err)
		}
		return nil, fmt.Errorf("connecting to %s: %w", c.addr, err)
	}
	return conn, nil
}

// certRefused reports whether a handshake failed on a TLS alert the server sends when it does not
// accept the client certificate.
func certRefused(err error) bool {
	var oe *net.OpError
	if !errors.As(err, &oe) || oe.Op != "remote error" || oe.Err == nil {
		return false
	}
	switch strings.TrimPrefix(oe.Err.Error(), "tls: ") {
	case "bad certificate", "unknown certificate authority", "certificate required", "access denied",
		"certificate unknown", "unsupported certificate", "certificate revoked", "certificate expired":
		return true
	}
	return false
}

// roundTrip sends one request message and reads the response message. ctx bounds both: its
// deadline (or Timeout) becomes the connection's, and cancelling it interrupts the exchange and
// drops the connection, whose state is then unknown.
func (c *Client) roundTrip(ctx context.Context, msg []byte) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		reused := c.conn != nil
		if !reused {
			conn, err := c.dialLocked(ctx)
			if err != nil {
				return nil, err
			}
			c.conn = conn
		}
		resp, started, err := c.exchangeLocked(ctx, msg)
		if err == nil {
			return resp, nil
		}
		c.conn.Close()
		c.conn = nil
		if err := ctxErr(ctx, err); err != nil {
			return nil, err
		}
		// A kept connection the server closed while idle fails before any byte of the answer;
		// that request was never read, so it is safe to send again once.
		if reused && !started && attempt == 0 && staleConn(err) {
			continue
		}
		if certRefused(err) {
			// Under TLS 1.3 the server judges the client certificate after the client's side
			// of the handshake is done, so a refusal arrives with the first read.
			return nil, fmt.Errorf("exchanging a message with %s: %w: the server refused the client certificate: %w", c.addr, hsmcheck.ErrAuth, err)
		}
		return nil, fmt.Errorf("exchanging a message with %s: %w", c.addr, err)
	}
}

// ctxErr returns ctx's error if ctx ended the exchange: cancelled, or past its deadline, which
// the connection may notice a moment before ctx does.
func ctxErr(ctx context.Context, err error) error {
	if e := ctx.Err(); e != nil {
		return e
	}
	var ne net.Error
	if d, ok := ctx.Deadline(); ok && errors.As(err, &ne) && ne.Timeout() && !time.Now().Before(d) {
		return context.DeadlineExceeded
	}
	return nil
}

func staleConn(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE)
}

// exchangeLocked writes msg and reads one message back; started reports whether any byte of the
// answer arrived.
func (c *Client) exchangeLocked(ctx context.Context, msg []byte) (resp []byte, started bool, err error) {
	conn := c.conn
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	deadline := time.Now().Add(timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := conn.SetDeadline(deadline); err != nil {
		return nil, false, err
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if _, err := conn.Write(msg); err != nil {
		return nil, false, err
	}
	cr := &countingReader{r: conn}
	resp, err = ReadMessage(cr, MaxMessageSize)
	return resp, cr.n > 0, err
}

type countingReader struct {
	r io.Reader
	n int
}

func (r *countingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.n += n
	return n, err
}

// Send sends reqs in one request message and returns one Response per request, in order. The
// error is for the exchange as a whole; a failed batch item sets its Response's Err. With more
// than one item the server is asked to continue after a failure.
func (c *Client) Send(ctx context.Context, reqs ...Request) ([]Response, error) {
	if len(reqs) == 0 {
		return nil, nil
	}
	msg, err := buildRequest(Version12, reqs).MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("encoding %s request: %w", reqs[0].Operation, err)
	}
	raw, err := c.roundTrip(ctx, msg)
	if err != nil {
		return nil, err
	}
	out, err := parseResponse(raw, reqs)
	if err != nil {
		return nil, fmt.Errorf("reading the response from %s: %w", c.addr, err)
	}
	return out, nil
}

// buildRequest builds the Request Message for reqs. Batch items get IDs only when there are
// several, as PyKMIP and the specification's examples do.
func buildRequest(v ProtocolVersion, reqs []Request) Item {
	header := []Item{Struct(TagProtocolVersion, Int(TagProtocolVersionMajor, v.Major), Int(TagProtocolVersionMinor, v.Minor))}
	if len(reqs) > 1 {
		header = append(header, Enum(TagBatchErrorContinuationOption, BatchContinue))
	}
	header = append(header, Int(TagBatchCount, int32(len(reqs))))
	fields := []Item{Struct(TagRequestHeader, header...)}
	for i, r := range reqs {
		item := []Item{Enum(TagOperation, r.Operation)}
		if len(reqs) > 1 {
			item = append(item, Bytes(TagUniqueBatchItemID, batchID(i)))
		}
		item = append(item, Struct(TagRequestPayload, r.Payload...))
		fields = append(fields, Struct(TagBatchItem, item...))
	}
	return Struct(TagRequestMessage, fields...)
}

func batchID(i int) []byte { return binary.BigEndian.AppendUint32(nil, uint32(i+1)) }

// parseResponse matches a response message's batch items to reqs by Unique Batch Item ID, or by
// position when the server sent none.
func parseResponse(raw []byte, reqs []Request) ([]Response, error) {
	msg, err := Unmarshal(raw)
	if err != nil {
		return nil, err
	}
	if msg.Tag != TagResponseMessage || msg.Type != TypeStructure {
		return nil, fmt.Errorf("%w: got %s %s, want a Response Message", ErrMalformed, msg.Type, msg.Tag)
	}
	if _, ok := msg.Field(TagResponseHeader); !ok {
		return nil, fmt.Errorf("%w: response has no header", ErrMalformed)
	}
	items := msg.All(TagBatchItem)
	out := make([]Response, len(reqs))
	for i := range out {
		out[i] = Response{Operation: reqs[i].Operation, Err: fmt.Errorf("server sent no result for %s", reqs[i].Operation)}
	}
	for pos, it := range items {
		idx := pos
		if id, ok := it.Field(TagUniqueBatchItemID); ok {
			b, _ := id.Value.([]byte)
			idx = -1
			if len(b) == 4 {
				idx = int(binary.BigEndian.Uint32(b)) - 1
			}
		}
		r, err := parseBatchItem(it)
		if err != nil {
			return nil, err
		}
		// A message-level failure (a refused client certificate, a message the server could not
		// parse) comes back as one item without an ID; it answers every request.
		if r.Err != nil && len(items) == 1 && len(reqs) > 1 {
			if _, ok := it.Field(TagUniqueBatchItemID); !ok {
				for i := range out {
					out[i] = Response{Operation: reqs[i].Operation, Err: r.Err}
				}
				return out, nil
			}
		}
		if idx < 0 || idx >= len(reqs) {
			return nil, fmt.Errorf("%w: batch item %d answers no request", ErrMalformed, pos+1)
		}
		if r.Operation == 0 {
			r.Operation = reqs[idx].Operation
			if e := (*Error)(nil); errors.As(r.Err, &e) {
				e.Operation = r.Operation
			}
		}
		out[idx] = r
	}
	return out, nil
}

func parseBatchItem(it Item) (Response, error) {
	var r Response
	if op, ok := it.Field(TagOperation); ok {
		v, _ := op.Value.(uint32)
		r.Operation = Operation(v)
	}
	st, ok := it.Field(TagResultStatus)
	status, _ := st.Value.(uint32)
	if !ok || st.Type != TypeEnumeration {
		return r, fmt.Errorf("%w: batch item has no Result Status", ErrMalformed)
	}
	if p, ok := it.Field(TagResponsePayload); ok {
		if p.Type != TypeStructure {
			return r, fmt.Errorf("%w: Response Payload is a %s", ErrMalformed, p.Type)
		}
		r.Payload = p
	}
	if ResultStatus(status) != StatusSuccess {
		e := &Error{Operation: r.Operation, Status: ResultStatus(status)}
		if f, ok := it.Field(TagResultReason); ok {
			v, _ := f.Value.(uint32)
			e.Reason = ResultReason(v)
		}
		if f, ok := it.Field(TagResultMessage); ok {
			e.Message, _ = f.Value.(string)
		}
		r.Err = resultError(e)
	}
	return r, nil
}

// Do sends one request and returns its Response Payload.
func (c *Client) Do(ctx context.Context, op Operation, payload ...Item) (Item, error) {
	rs, err := c.Send(ctx, Request{Operation: op, Payload: payload})
	if err != nil {
		return Item{}, err
	}
	return rs[0].Payload, rs[0].Err
}

// text returns a Text String field, failing when it is missing or of another type.
func text(it Item, tag Tag, op Operation) (string, error) {
	f, ok := it.Field(tag)
	s, isText := f.Value.(string)
	if !ok || !isText {
		return "", fmt.Errorf("%w: %s response has no text field %s", ErrMalformed, op, tag)
	}
	return s, nil
}

// DiscoverVersions asks which of versions the server supports (all it supports when versions is
// empty), in its order of preference.
func (c *Client) DiscoverVersions(ctx context.Context, versions ...ProtocolVersion) ([]ProtocolVersion, error) {
	var req []Item
	for _, v := range versions {
		req = append(req, Struct(TagProtocolVersion, Int(TagProtocolVersionMajor, v.Major), Int(TagProtocolVersionMinor, v.Minor)))
	}
	p, err := c.Do(ctx, OpDiscoverVersions, req...)
	if err != nil {
		return nil, err
	}
	var out []ProtocolVersion
	for _, v := range p.All(TagProtocolVersion) {
		major, _ := v.Field(TagProtocolVersionMajor)
		minor, _ := v.Field(TagProtocolVersionMinor)
		mj, ok1 := major.Value.(int32)
		mn, ok2 := minor.Value.(int32)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("%w: DiscoverVersions response has a malformed Protocol Version", ErrMalformed)
		}
		out = append(out, ProtocolVersion{mj, mn})
	}
	return out, nil
}

// QueryResult is what a Query returned.
type QueryResult struct {
	Operations        []Operation
	ObjectTypes       []ObjectType
	Vendor            string
	ServerInformation Item // vendor-specific structure, zero when absent
}

// Query asks the server about itself.
func (c *Client) Query(ctx context.Context, fns ...QueryFunction) (*QueryResult, error) {
	var req []Item
	for _, f := range fns {
		req = append(req, Enum(TagQueryFunction, f))
	}
	p, err := c.Do(ctx, OpQuery, req...)
	if err != nil {
		return nil, err
	}
	var q QueryResult
	for _, f := range p.All(TagOperation) {
		if v, ok := f.Value.(uint32); ok {
			q.Operations = append(q.Operations, Operation(v))
		}
	}
	for _, f := range p.All(TagObjectType) {
		if v, ok := f.Value.(uint32); ok {
			q.ObjectTypes = append(q.ObjectTypes, ObjectType(v))
		}
	}
	if f, ok := p.Field(TagVendorIdentification); ok {
		q.Vendor, _ = f.Value.(string)
	}
	q.ServerInformation, _ = p.Field(TagServerInformation)
	return &q, nil
}

// maxLocated caps the identifiers one Locate collects, against a server that pages forever.
const maxLocated = 1 << 20

// Locate returns the identifiers of every object matching attrs. It pages with Maximum Items and
// Offset Items; a server that ignores or refuses Offset Items (it is KMIP 1.3) is asked once more
// for everything at once.
func (c *Client) Locate(ctx context.Context, attrs ...Attribute) ([]string, error) {
	size := c.PageSize
	if size <= 0 {
		size = 1000
	}
	seen := map[string]bool{}
	var ids []string
	add := func(page []string) (fresh int) {
		for _, id := range page {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
				fresh++
			}
		}
		return fresh
	}
	for offset := 0; ; {
		page, err := c.locatePage(ctx, size, offset, attrs)
		if err != nil {
			if offset == 0 || ctx.Err() != nil || errors.Is(err, hsmcheck.ErrAuth) {
				return nil, err
			}
			break // Offset Items refused
		}
		fresh := add(page)
		if len(page) < size {
			return ids, nil
		}
		if fresh == 0 {
			break // Offset Items ignored
		}
		if len(ids) > maxLocated {
			return nil, fmt.Errorf("locating objects on %s: more than %d of them", c.addr, maxLocated)
		}
		offset += len(page)
	}
	page, err := c.locatePage(ctx, 0, 0, attrs)
	if err != nil {
		return nil, err
	}
	add(page)
	return ids, nil
}

func (c *Client) locatePage(ctx context.Context, max, offset int, attrs []Attribute) ([]string, error) {
	var req []Item
	if max > 0 {
		req = append(req, Int(TagMaximumItems, int32(max)))
	}
	if offset > 0 {
		req = append(req, Int(TagOffsetItems, int32(offset)))
	}
	for _, a := range attrs {
		req = append(req, a.Item())
	}
	p, err := c.Do(ctx, OpLocate, req...)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, f := range p.All(TagUniqueIdentifier) {
		id, ok := f.Value.(string)
		if !ok {
			return nil, fmt.Errorf("%w: Locate returned a %s identifier", ErrMalformed, f.Type)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// GetAttributes returns the named attributes of object id (all of them when names is empty).
func (c *Client) GetAttributes(ctx context.Context, id string, names ...string) (Attributes, error) {
	rs, err := c.GetAttributesMany(ctx, []string{id}, names...)
	if err != nil {
		return nil, err
	}
	return rs[0].Attributes, rs[0].Err
}

// AttributesResult is one object's answer to GetAttributesMany.
type AttributesResult struct {
	ID         string
	Attributes Attributes
	Err        error
}

// GetAttributesMany fetches the named attributes of many objects, BatchSize per message. The
// error is for an exchange that failed; one object's failure sets its result's Err.
func (c *Client) GetAttributesMany(ctx context.Context, ids []string, names ...string) ([]AttributesResult, error) {
	out := make([]AttributesResult, 0, len(ids))
	err := c.batches(ctx, ids, func(id string) Request {
		p := []Item{Text(TagUniqueIdentifier, id)}
		for _, n := range names {
			p = append(p, Text(TagAttributeName, n))
		}
		return Request{Operation: OpGetAttributes, Payload: p}
	}, func(id string, r Response) {
		res := AttributesResult{ID: id, Err: r.Err}
		if r.Err == nil {
			res.Attributes, res.Err = parseAttributes(r.Payload)
		}
		out = append(out, res)
	})
	return out, err
}

// Object is a managed object as Get returned it.
type Object struct {
	Type      ObjectType
	ID        string
	Format    KeyFormatType
	Algorithm CryptographicAlgorithm
	Length    int32
	// Material is the Key Material when it is a byte string; Transparent when it is a structure.
	Material    []byte
	Transparent Item
	// Wrapped is true when the Key Value came encrypted; Material then holds the wrapped bytes.
	Wrapped bool
}

// Get returns object id; format asks for a Key Format Type (0 leaves it to the server).
func (c *Client) Get(ctx context.Context, id string, format KeyFormatType) (*Object, error) {
	rs, err := c.GetMany(ctx, []string{id}, format)
	if err != nil {
		return nil, err
	}
	return rs[0].Object, rs[0].Err
}

// ObjectResult is one object's answer to GetMany.
type ObjectResult struct {
	ID     string
	Object *Object
	Err    error
}

// GetMany gets many objects, BatchSize per message, each in format (0 leaves it to the server).
// The error is for an exchange that failed; one object's failure sets its result's Err.
func (c *Client) GetMany(ctx context.Context, ids []string, format KeyFormatType) ([]ObjectResult, error) {
	out := make([]ObjectResult, 0, len(ids))
	err := c.batches(ctx, ids, func(id string) Request {
		p := []Item{Text(TagUniqueIdentifier, id)}
		if format != 0 {
			p = append(p, Enum(TagKeyFormatType, format))
		}
		return Request{Operation: OpGet, Payload: p}
	}, func(id string, r Response) {
		res := ObjectResult{ID: id, Err: r.Err}
		if r.Err == nil {
			res.Object, res.Err = parseObject(r.Payload)
		}
		out = append(out, res)
	})
	return out, err
}

// batches sends one request per id, BatchSize per message, and hands each response to got in
// the order of ids.
func (c *Client) batches(ctx context.Context, ids []string, req func(string) Request, got func(string, Response)) error {
	size := c.BatchSize
	if size <= 0 {
		size = 50
	}
	for start := 0; start < len(ids); start += size {
		chunk := ids[start:min(start+size, len(ids))]
		reqs := make([]Request, len(chunk))
		for i, id := range chunk {
			reqs[i] = req(id)
		}
		rs, err := c.Send(ctx, reqs...)
		if err != nil {
			return err
		}
		for i, r := range rs {
			got(chunk[i], r)
		}
	}
	return nil
}

func parseObject(p Item) (*Object, error) {
	o := &Object{}
	var err error
	if o.ID, err = text(p, TagUniqueIdentifier, OpGet); err != nil {
		return nil, err
	}
	if f, ok := p.Field(TagObjectType); ok {
		v, _ := f.Value.(uint32)
		o.Type = ObjectType(v)
	}
	var block Item
	for _, f := range p.Fields() {
		if kb, ok := f.Field(TagKeyBlock); ok && f.Type == TypeStructure {
			block = kb
			break
		}
	}
	if block.Type != TypeStructure {
		return nil, fmt.Errorf("%w: Get response for %q has no Key Block", ErrMalformed, o.ID)
	}
	if f, ok := block.Field(TagKeyFormatType); ok {
		v, _ := f.Value.(uint32)
		o.Format = KeyFormatType(v)
	}
	if f, ok := block.Field(TagCryptographicAlgorithm); ok {
		v, _ := f.Value.(uint32)
		o.Algorithm = CryptographicAlgorithm(v)
	}
	if f, ok := block.Field(TagCryptographicLength); ok {
		o.Length, _ = f.Value.(int32)
	}
	_, o.Wrapped = block.Field(TagKeyWrappingData)
	kv, ok := block.Field(TagKeyValue)
	switch {
	case !ok:
		return nil, fmt.Errorf("%w: Get response for %q has no Key Value", ErrMalformed, o.ID)
	case kv.Type == TypeByteString:
		o.Material, _ = kv.Value.([]byte)
		o.Wrapped = true
	case kv.Type == TypeStructure:
		km, ok := kv.Field(TagKeyMaterial)
		if !ok {
			return nil, fmt.Errorf("%w: Get response for %q has no Key Material", ErrMalformed, o.ID)
		}
		switch km.Type {
		case TypeByteString:
			o.Material, _ = km.Value.([]byte)
		case TypeStructure:
			o.Transparent = km
		default:
			return nil, fmt.Errorf("%w: Key Material of %q is a %s", ErrMalformed, o.ID, km.Type)
		}
	default:
		return nil, fmt.Errorf("%w: Key Value of %q is a %s", ErrMalformed, o.ID, kv.Type)
	}
	return o, nil
}

// CryptoParams are the Cryptographic Parameters of Encrypt and MAC; zero fields are left out.
type CryptoParams struct {
	Mode      BlockCipherMode
	Padding   PaddingMethod
	Algorithm CryptographicAlgorithm
}

func (p CryptoParams) item() Item {
	var f []Item
	if p.Mode != 0 {
		f = append(f, Enum(TagBlockCipherMode, p.Mode))
	}
	if p.Padding != 0 {
		f = append(f, Enum(TagPaddingMethod, p.Padding))
	}
	if p.Algorithm != 0 {
		f = append(f, Enum(TagCryptographicAlgorithm, p.Algorithm))
	}
	return Struct(TagCryptographicParameters, f...)
}

// Encrypt has the server encrypt data under key id; iv may be nil. It returns the ciphertext and
// the IV the server chose, if any.
func (c *Client) Encrypt(ctx context.Context, id string, params CryptoParams, data, iv []byte) (ciphertext, serverIV []byte, err error) {
	req := []Item{Text(TagUniqueIdentifier, id), params.item(), Bytes(TagData, data)}
	if iv != nil {
		req = append(req, Bytes(TagIVCounterNonce, iv))
	}
	p, err := c.Do(ctx, OpEncrypt, req...)
	if err != nil {
		return nil, nil, err
	}
	f, ok := p.Field(TagData)
	ciphertext, isBytes := f.Value.([]byte)
	if !ok || !isBytes {
		return nil, nil, fmt.Errorf("%w: Encrypt response has no Data", ErrMalformed)
	}
	if f, ok := p.Field(TagIVCounterNonce); ok {
		serverIV, _ = f.Value.([]byte)
	}
	return ciphertext, serverIV, nil
}

// MAC has the server compute a MAC over data under key id.
func (c *Client) MAC(ctx context.Context, id string, params CryptoParams, data []byte) ([]byte, error) {
	p, err := c.Do(ctx, OpMAC, Text(TagUniqueIdentifier, id), params.item(), Bytes(TagData, data))
	if err != nil {
		return nil, err
	}
	f, ok := p.Field(TagMACData)
	mac, isBytes := f.Value.([]byte)
	if !ok || !isBytes {
		return nil, fmt.Errorf("%w: MAC response has no MAC Data", ErrMalformed)
	}
	return mac, nil
}

func templateAttribute(tag Tag, attrs []Attribute) Item {
	f := make([]Item, len(attrs))
	for i, a := range attrs {
		f[i] = a.Item()
	}
	return Struct(tag, f...)
}

// Create has the server generate an object of type t (a Symmetric Key, in practice) with attrs,
// which must include algorithm, length and usage mask.
func (c *Client) Create(ctx context.Context, t ObjectType, attrs ...Attribute) (string, error) {
	p, err := c.Do(ctx, OpCreate, Enum(TagObjectType, t), templateAttribute(TagTemplateAttribute, attrs))
	if err != nil {
		return "", err
	}
	return text(p, TagUniqueIdentifier, OpCreate)
}

// CreateKeyPair has the server generate a key pair; common applies to both halves.
func (c *Client) CreateKeyPair(ctx context.Context, common, private, public []Attribute) (privateID, publicID string, err error) {
	req := []Item{templateAttribute(TagCommonTemplateAttribute, common)}
	if len(private) > 0 {
		req = append(req, templateAttribute(TagPrivateKeyTemplateAttribute, private))
	}
	if len(public) > 0 {
		req = append(req, templateAttribute(TagPublicKeyTemplateAttribute, public))
	}
	p, err := c.Do(ctx, OpCreateKeyPair, req...)
	if err != nil {
		return "", "", err
	}
	if privateID, err = text(p, TagPrivateKeyUniqueIdentifier, OpCreateKeyPair); err != nil {
		return "", "", err
	}
	if publicID, err = text(p, TagPublicKeyUniqueIdentifier, OpCreateKeyPair); err != nil {
		return "", "", err
	}
	return privateID, publicID, nil
}

// KeyObject builds the managed-object structure Register takes for a key: t's structure around a
// Key Block holding material in format.
func KeyObject(t ObjectType, format KeyFormatType, alg CryptographicAlgorithm, length int32, material []byte) (Item, error) {
	tag, ok := map[ObjectType]Tag{ObjectSymmetricKey: TagSymmetricKey, ObjectPublicKey: TagPublicKey, ObjectPrivateKey: TagPrivateKey}[t]
	if !ok {
		return Item{}, fmt.Errorf("building a key object: %s is not a key type", t)
	}
	return Struct(tag, Struct(TagKeyBlock,
		Enum(TagKeyFormatType, format),
		Struct(TagKeyValue, Bytes(TagKeyMaterial, material)),
		Enum(TagCryptographicAlgorithm, alg),
		Int(TagCryptographicLength, length),
	)), nil
}

// Register stores an object the client supplies (see KeyObject) with attrs.
func (c *Client) Register(ctx context.Context, t ObjectType, object Item, attrs ...Attribute) (string, error) {
	p, err := c.Do(ctx, OpRegister, Enum(TagObjectType, t), templateAttribute(TagTemplateAttribute, attrs), object)
	if err != nil {
		return "", err
	}
	return text(p, TagUniqueIdentifier, OpRegister)
}

// Activate moves object id from Pre-Active to Active.
func (c *Client) Activate(ctx context.Context, id string) error {
	_, err := c.Do(ctx, OpActivate, Text(TagUniqueIdentifier, id))
	return err
}

// Revoke revokes object id: Compromised for RevokeKeyCompromise (dated now), Deactivated
// otherwise. message may be empty.
func (c *Client) Revoke(ctx context.Context, id string, code RevocationReasonCode, message string) error {
	reason := []Item{Enum(TagRevocationReasonCode, code)}
	if message != "" {
		reason = append(reason, Text(TagRevocationMessage, message))
	}
	req := []Item{Text(TagUniqueIdentifier, id), Struct(TagRevocationReason, reason...)}
	if code == RevokeKeyCompromise || code == RevokeCACompromise {
		req = append(req, DateTime(TagCompromiseOccurrenceDate, time.Now()))
	}
	_, err := c.Do(ctx, OpRevoke, req...)
	return err
}

// Destroy destroys object id.
func (c *Client) Destroy(ctx context.Context, id string) error {
	_, err := c.Do(ctx, OpDestroy, Text(TagUniqueIdentifier, id))
	return err
}

// AddAttribute adds an attribute value to object id.
func (c *Client) AddAttribute(ctx context.Context, id string, a Attribute) error {
	_, err := c.Do(ctx, OpAddAttribute, Text(TagUniqueIdentifier, id), a.Item())
	return err
}

// ModifyAttribute replaces the value of object id's attribute a.Name at a.Index.
func (c *Client) ModifyAttribute(ctx context.Context, id string, a Attribute) error {
	_, err := c.Do(ctx, OpModifyAttribute, Text(TagUniqueIdentifier, id), a.Item())
	return err
}
