package scanner

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// BlobID is the git-style SHA-1 of a blob's content ("blob <len>\x00" + content).
type BlobID [20]byte

// String returns the 40-character hex form.
func (id BlobID) String() string { return hex.EncodeToString(id[:]) }

// HashBlob computes the git blob ID of content, so dir and git scans agree on identity.
func HashBlob(content []byte) BlobID {
	h := sha1.New()
	h.Write([]byte("blob "))
	h.Write([]byte(strconv.Itoa(len(content))))
	h.Write([]byte{0})
	h.Write(content)
	var id BlobID
	copy(id[:], h.Sum(nil))
	return id
}

// Origin says where a blob came from, precisely enough for a SARIF location.
type Origin interface {
	Kind() string   // "git", "dir", "staged", "image"
	String() string // "a1b2c3d:deploy/prod.env"
}

// GitOrigin is a blob introduced at Path by Commit.
type GitOrigin struct {
	Commit  string // full hex commit ID
	Path    string // slash-separated, relative to the repository root
	Author  string
	Email   string
	Date    time.Time // author date
	Message string    // first line of the commit message
	// PrevBlobs are the blobs at Path in the commit's parents: the engine tells a secret the
	// commit brought from one it only carried along.
	PrevBlobs []BlobID
}

// Kind implements Origin.
func (o GitOrigin) Kind() string { return "git" }

func (o GitOrigin) prevBlobs() []BlobID { return o.PrevBlobs }

// String implements Origin.
func (o GitOrigin) String() string {
	c := o.Commit
	if len(c) > 7 {
		c = c[:7]
	}
	return c + ":" + o.Path
}

// DirOrigin is a file on disk.
type DirOrigin struct {
	Path string // slash-separated, relative to the scan root
}

// Kind implements Origin.
func (o DirOrigin) Kind() string { return "dir" }

// String implements Origin.
func (o DirOrigin) String() string { return o.Path }

// ImageOrigin is a file inside one layer of a container image, or a field of its config.
type ImageOrigin struct {
	Image  string // the reference as the user named it (NamedImage.Ref)
	Digest string // the image manifest digest
	// Layer is the 1-based index of the layer (the base layer is 1); 0 for the image config.
	Layer       int
	LayerDigest string // "" for the config
	// Path is the file's path in the layer (no leading slash), a path inside an archive in
	// it ("app.jar!/config.properties"), or a config field ("config:Env[3]",
	// "history[5].created_by").
	Path string
}

// Kind implements Origin.
func (o ImageOrigin) Kind() string { return "image" }

// String implements Origin.
func (o ImageOrigin) String() string {
	if o.Layer == 0 {
		return o.Image + ":" + o.Path
	}
	return fmt.Sprintf("%s:layer %d:%s", o.Image, o.Layer, o.Path)
}

// Skip reasons a source can give instead of content.
const (
	SkipTooLarge   = "too-large"
	SkipBinary     = "binary"
	SkipUnreadable = "unreadable"
	SkipMissing    = "missing"
	SkipSymlink    = "symlink-outside-root"
	// SkipExcluded is content at a path the rules exclude everywhere (gitleaks' global path
	// allowlist); it is not read, and not reported as skipped.
	SkipExcluded = "excluded"
)

// Blob is one piece of content with the place it came from.
//
// A source yields each ID with Content the first time and may yield the same ID again with nil
// Content to add a further Origin (the same blob at another path or commit); the engine scans
// content once and reports every origin. A blob the source chose not to read carries Skip.
// A blob first yielded with SkipExcluded is yielded again with Content if it turns up at a path
// that is not excluded.
type Blob struct {
	ID      BlobID
	Content []byte
	Origin  Origin
	Skip    string // one of the Skip* reasons; Content is nil when set
	Size    int64  // content size, known even when skipped
	// Base marks content the scan compares against but does not report: the version a
	// changed file had before the scanned range (or the staged change) began. The engine
	// learns its lines and secrets so that only what the change brings is reported.
	Base bool
}

// Source yields blobs. Blobs calls yield from one goroutine at a time, in the order blobs were
// introduced (oldest first), returns yield's first error unchanged, and returns ctx.Err() once
// ctx is done.
type Source interface {
	Blobs(ctx context.Context, yield func(Blob) error) error
}

// ErrNotRepo means the path is not a git repository.
var ErrNotRepo = errors.New("not a git repository")
