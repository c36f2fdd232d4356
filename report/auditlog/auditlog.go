package auditlog

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"time"
)

// DefaultPath is where the log lives unless --audit-log says otherwise.
const DefaultPath = ".keywarden/audit.jsonl"

// Entry is one line of the log. Append fills Seq, Time, Chain, Keyed, Prev, User, Host and MAC,
// replacing whatever the caller put there.
type Entry struct {
	Seq     int            `json:"seq"`
	Time    time.Time      `json:"time"`
	Chain   string         `json:"chain,omitempty"` // random chain ID (128-bit hex), first line only
	Keyed   bool           `json:"keyed,omitempty"` // first line only: the chain's prev values are HMAC-SHA256 under a key
	Prev    string         `json:"prev,omitempty"`  // hex SHA-256 (HMAC-SHA256 when keyed) of the previous line's bytes, without its newline; empty on line 1
	User    string         `json:"user"`
	Host    string         `json:"host"`
	Command string         `json:"command"` // the command line as the caller gives it (already redacted by the caller)
	Event   string         `json:"event"`   // "scan", "exposure", "rotation-plan", "rotation-step", "rotation-complete", "rotation-failed", ...
	Keys    []KeyRef       `json:"keys,omitempty"`
	Details map[string]any `json:"details,omitempty"`
	// MAC is set in keyed chains only: the hex HMAC-SHA256 of the line without this field. It is
	// always the line's last field, so that an edit to the last line is caught without a head.
	MAC string `json:"mac,omitempty"`
}

// KeyRef names a key by identifiers and fingerprints, never by value.
type KeyRef struct {
	Inventory   string `json:"inventory,omitempty"`
	ID          string `json:"id,omitempty"`
	Label       string `json:"label,omitempty"`
	Version     int    `json:"version,omitempty"`
	Fingerprint string `json:"fingerprint,omitempty"` // e.g. "spki-sha256:ab12…", "kcv:…", a finding fingerprint
}

// MinKeySize is the shortest HMAC key ReadHMACKey and Open accept, in bytes.
const MinKeySize = 16

// Errors about the key a log is opened or verified with.
var (
	// ErrKeyRequired means the log is keyed and no key was given; it is no sign of tampering.
	ErrKeyRequired = errors.New("the log is keyed: it needs its HMAC key")
	// ErrNotKeyed means a key was given for a log whose chain is not keyed.
	ErrNotKeyed = errors.New("the log is not keyed, but an HMAC key was given")
	// ErrWrongKey means the key does not verify the log's first line.
	ErrWrongKey = errors.New("the HMAC key does not verify the log's first line")
)

// Log appends to one audit log file. Its methods may be called from several goroutines; several
// processes may append to the same file at once.
type Log struct {
	mu   sync.Mutex
	f    *os.File
	path string
	key  []byte
	user string
	host string
}

// Open opens (creating dir 0700 and file 0600 if missing) the log at path. hmacKey nil means an
// unkeyed chain. Opening an existing keyed log without the key, or an unkeyed one with a key,
// is an error (ErrKeyRequired, ErrNotKeyed), and so is a keyed log whose first line the key does
// not verify (ErrWrongKey) and a log whose last line is torn or is not an entry, which Append
// would refuse to chain on. An existing file's mode is left as it is.
func Open(path string, hmacKey []byte) (*Log, error) {
	if hmacKey != nil && len(hmacKey) < MinKeySize {
		return nil, fmt.Errorf("opening audit log %q: HMAC key of %d bytes: want at least %d", path, len(hmacKey), MinKeySize)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("creating audit log directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening audit log: %w", err)
	}
	l := &Log{f: f, path: path, key: bytes.Clone(hmacKey), user: currentUser(), host: hostname()}
	if err := l.check(); err != nil {
		f.Close()
		return nil, err
	}
	return l, nil
}

// check reads the log's ends under the lock, so that a wrong key or a broken last line fails
// Open, before the caller does anything it means to record.
func (l *Log) check() error {
	if err := lockFile(l.f); err != nil {
		return fmt.Errorf("locking audit log %q: %w", l.path, err)
	}
	defer unlockFile(l.f)
	_, _, _, err := l.tail()
	return err
}

// tail returns the file's size, and the seq and sum of the last line for the next line to
// chain on (0 and "" in an empty file), after checking the first line against the key.
func (l *Log) tail() (size int64, seq int, sum string, err error) {
	size, first, last, err := l.ends()
	if err != nil || size == 0 {
		return size, 0, "", err
	}
	if err := l.checkFirst(first); err != nil {
		return 0, 0, "", err
	}
	var e Entry
	if err := json.Unmarshal(last, &e); err != nil {
		return 0, 0, "", fmt.Errorf("reading the last line of audit log %q: not an entry: %w", l.path, err)
	}
	return size, e.Seq, l.sum(last), nil
}

// Append writes e as one line under an exclusive file lock (flock, waiting), after reading the
// current last line to chain on it; the file is opened O_APPEND and the line written with one
// write and fsynced. It returns the head: the hash (or HMAC) of the line it wrote. It refuses to
// chain on a last line that is torn or is not an entry, and cuts off what a failed write of its
// own left behind.
func (l *Log) Append(e Entry) (head string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return "", fmt.Errorf("appending to audit log %q: closed", l.path)
	}
	if err := lockFile(l.f); err != nil {
		return "", fmt.Errorf("locking audit log %q: %w", l.path, err)
	}
	defer unlockFile(l.f)

	size, seq, prev, err := l.tail()
	if err != nil {
		return "", err
	}
	e.Chain, e.Keyed, e.Prev, e.MAC = "", false, "", ""
	if size == 0 {
		id, err := newChainID()
		if err != nil {
			return "", err
		}
		e.Seq, e.Chain, e.Keyed = 1, id, l.key != nil
	} else {
		e.Seq, e.Prev = seq+1, prev
	}
	e.Time = time.Now().UTC()
	e.User, e.Host = l.user, l.host
	line, err := l.encode(e)
	if err != nil {
		return "", err
	}
	if _, err := l.f.Write(append(line, '\n')); err != nil {
		if terr := l.f.Truncate(size); terr != nil {
			err = fmt.Errorf("%w (and cutting off the partial line: %w)", err, terr)
		}
		return "", fmt.Errorf("writing audit log %q: %w", l.path, err)
	}
	if err := l.f.Sync(); err != nil {
		return "", fmt.Errorf("syncing audit log %q: %w", l.path, err)
	}
	return l.sum(line), nil
}

// Close closes the file. Appending afterwards is an error.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	if err != nil {
		return fmt.Errorf("closing audit log %q: %w", l.path, err)
	}
	return nil
}

// checkFirst makes sure the chain is keyed exactly when a key was given, and by that key.
func (l *Log) checkFirst(line []byte) error {
	var e Entry
	if err := json.Unmarshal(line, &e); err != nil {
		return fmt.Errorf("reading the first line of audit log %q: not an entry: %w", l.path, err)
	}
	switch {
	case e.Keyed && l.key == nil:
		return fmt.Errorf("opening audit log %q: %w", l.path, ErrKeyRequired)
	case !e.Keyed && l.key != nil:
		return fmt.Errorf("opening audit log %q: %w", l.path, ErrNotKeyed)
	case e.Keyed && macReason(line, e.MAC, l.key) != "":
		return fmt.Errorf("opening audit log %q: %w", l.path, ErrWrongKey)
	}
	return nil
}

// ends returns the file's size and its first and last lines without their newlines. It fails on
// a last line without a newline: chaining on a torn line would hide it.
func (l *Log) ends() (size int64, first, last []byte, err error) {
	fi, err := l.f.Stat()
	if err != nil {
		return 0, nil, nil, fmt.Errorf("reading audit log %q: %w", l.path, err)
	}
	size = fi.Size()
	if size == 0 {
		return 0, nil, nil, nil
	}
	first, err = readFirstLine(l.f, size)
	if err == nil {
		last, err = readLastLine(l.f, size)
	}
	if err != nil {
		return 0, nil, nil, fmt.Errorf("reading audit log %q: %w", l.path, err)
	}
	return size, first, last, nil
}

const chunk = 4096

func readFirstLine(f io.ReaderAt, size int64) ([]byte, error) {
	var line []byte
	buf := make([]byte, chunk)
	for off := int64(0); off < size; off += chunk {
		n, err := f.ReadAt(buf[:min(chunk, size-off)], off)
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		if i := bytes.IndexByte(buf[:n], '\n'); i >= 0 {
			return append(line, buf[:i]...), nil
		}
		line = append(line, buf[:n]...)
	}
	return nil, errors.New("the last line is torn (no final newline)")
}

func readLastLine(f io.ReaderAt, size int64) ([]byte, error) {
	var nl [1]byte
	if _, err := f.ReadAt(nl[:], size-1); err != nil {
		return nil, err
	}
	if nl[0] != '\n' {
		return nil, errors.New("the last line is torn (no final newline)")
	}
	end := size - 1 // the last line is [start, end)
	var line []byte
	buf := make([]byte, chunk)
	for pos := end; pos > 0; {
		n := min(chunk, pos)
		pos -= n
		if _, err := f.ReadAt(buf[:n], pos); err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			return append(bytes.Clone(buf[i+1:n]), line...), nil
		}
		line = append(bytes.Clone(buf[:n]), line...)
	}
	return line, nil
}

// encode renders e as one line without its newline, HTML characters unescaped, and in a keyed
// chain with the line's own MAC appended as its last field.
func (l *Log) encode(e Entry) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		return nil, fmt.Errorf("encoding audit entry: %w", err)
	}
	line := bytes.TrimSuffix(b.Bytes(), []byte("\n"))
	if l.key == nil {
		return line, nil
	}
	mac := hmacHex(l.key, line)
	return append(append(line[:len(line)-1:len(line)-1], macField...), mac+`"}`...), nil
}

// macField opens the last field of a keyed line.
const macField = `,"mac":"`

// macReason says why line's own MAC does not verify under key, or "" when it does.
func macReason(line []byte, mac string, key []byte) string {
	if mac == "" {
		return "no mac in a keyed chain"
	}
	suffix := macField + mac + `"}`
	if len(mac) != sha256.Size*2 || !bytes.HasSuffix(line, []byte(suffix)) {
		return "malformed mac: it must be 64 hex digits and the line's last field"
	}
	body := append(bytes.Clone(line[:len(line)-len(suffix)]), '}')
	if !hmac.Equal([]byte(hmacHex(key, body)), []byte(mac)) {
		return "HMAC does not verify: the line was changed, or the key is wrong"
	}
	return ""
}

// sum is what the next line's prev holds for line: its SHA-256, or HMAC-SHA256 when keyed.
func (l *Log) sum(line []byte) string { return lineSum(l.key, line) }

func lineSum(key, line []byte) string {
	if key != nil {
		return hmacHex(key, line)
	}
	s := sha256.Sum256(line)
	return hex.EncodeToString(s[:])
}

func hmacHex(key, msg []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return hex.EncodeToString(m.Sum(nil))
}

func newChainID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("making a chain ID: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// currentUser names the account running keywarden, even where os/user cannot look it up (a
// static build in a container whose uid has no passwd entry).
func currentUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	for _, v := range []string{"USER", "LOGNAME", "USERNAME"} {
		if s := os.Getenv(v); s != "" {
			return s
		}
	}
	if uid := os.Getuid(); uid >= 0 {
		return "uid:" + strconv.Itoa(uid)
	}
	return "unknown"
}

func hostname() string {
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "unknown"
}

// maxKeyFile bounds what ReadHMACKey reads: anything longer is not a key file.
const maxKeyFile = 64 << 10

// ReadHMACKey reads the key of a keyed chain from a file. The file holds the key as hex or
// base64 text, as `openssl rand -hex 32` or `openssl rand -base64 32` print it (whitespace
// anywhere is ignored, hex is tried first), or as raw bytes (`openssl rand 32`): content that
// is neither hex nor base64 is the key byte for byte, newline included. The key must be at
// least MinKeySize bytes once decoded. On unix the file must not be accessible to group or
// others (mode 0600 or stricter), as ssh requires of private keys: a key others can read
// protects nothing.
func ReadHMACKey(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading audit HMAC key file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("reading audit HMAC key file: %w", err)
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("reading audit HMAC key file %q: is a directory", path)
	}
	if perm := fi.Mode().Perm(); runtime.GOOS != "windows" && perm&0o077 != 0 {
		return nil, fmt.Errorf("audit HMAC key file %q is accessible to group or others (mode %04o): chmod 600 it", path, perm)
	}
	raw, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, fmt.Errorf("reading audit HMAC key file %q: %w", path, err)
	}
	if len(raw) > maxKeyFile {
		return nil, fmt.Errorf("audit HMAC key file %q is larger than %d bytes: not a key file", path, maxKeyFile)
	}
	key := decodeKey(raw)
	if len(key) < MinKeySize {
		return nil, fmt.Errorf("audit HMAC key file %q holds a key of %d bytes: want at least %d", path, len(key), MinKeySize)
	}
	return key, nil
}

// decodeKey decodes hex or base64 text and returns anything else unchanged.
func decodeKey(raw []byte) []byte {
	text := bytes.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, raw)
	if len(text) == 0 {
		return nil
	}
	if k, err := hex.DecodeString(string(text)); err == nil {
		return k
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding} {
		if k, err := enc.DecodeString(string(text)); err == nil {
			return k
		}
	}
	return raw
}
