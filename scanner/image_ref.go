package scanner

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// NamedImage is one image to scan, with the names reports show for it.
type NamedImage struct {
	Ref      string   // the reference as reports show it: "registry.example:5000/app:1.2", "oci:DIR@sha256:…", "docker-archive:FILE.tar" (credentials never appear)
	Digest   string   // the image manifest digest, "sha256:…"
	Platform string   // "linux/arm64" when picked from an index, else ""
	Image    v1.Image // registry images read lazily with OpenImages' ctx: keep it alive while reading
}

// ImageOptions says how to open image references.
type ImageOptions struct {
	Platform string         // "" or "all": every image an index holds; "os/arch[/variant]": only that one
	Insecure bool           // plain HTTP also for registries that are not on a loopback address
	Keychain authn.Keychain // nil: authn.DefaultKeychain (docker config, credential helpers)
}

// Errors OpenImages wraps (with the cause) so that callers can tell failures apart with errors.Is.
var (
	// ErrImageNotFound: no such repository, tag, digest, layout tag, file or manifest blob.
	ErrImageNotFound = errors.New("image not found")
	// ErrUnauthorized: the registry wants credentials it did not get or refused those it got.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrRegistryUnreachable: no HTTP exchange with the registry (refused, DNS, TLS, timeout).
	ErrRegistryUnreachable = errors.New("registry unreachable")
	// ErrCorruptImage: a manifest, index or archive that does not parse or match its digest.
	ErrCorruptImage = errors.New("corrupt image")
	// ErrUnknownPlatform: an image index holds no image for the platform asked for.
	ErrUnknownPlatform = errors.New("platform not in image index")
	// ErrMalformedRef: the reference cannot be parsed.
	ErrMalformedRef = errors.New("malformed image reference")
	// ErrInvalidPlatform: the platform is not "all" or "os/arch[/variant]".
	ErrInvalidPlatform = errors.New("invalid platform")
)

// Reference prefixes for images that are not in a registry.
const (
	dockerArchivePrefix = "docker-archive:"
	ociLayoutPrefix     = "oci:"
)

// OpenImages opens the images ref names. close releases what opening took (temp files, open archives); it is non-nil when err is nil.
//
// ref is "docker-archive:FILE.tar" (a `docker save` tarball, gzipped or not), "oci:DIR",
// "oci:DIR:TAG" or "oci:DIR@sha256:…" (an OCI image layout), or else a registry reference.
// Every image an index holds is opened, nested indexes included, unless o.Platform picks one;
// attestation manifests that buildx stores in indexes are left out. Manifests are read and
// checked against their digests here, so a corrupt one fails OpenImages rather than the scan.
// Errors are one line, name ref without credentials and wrap one of the Err* sentinels above
// when the cause is one of theirs.
func OpenImages(ctx context.Context, ref string, o ImageOptions) (images []NamedImage, close func() error, err error) {
	shown := redactImageRef(ref)
	fail := func(err error) ([]NamedImage, func() error, error) {
		return nil, nil, fmt.Errorf("opening image %q: %w", shown, flatError{err: err, raw: ref, shown: shown})
	}
	want, err := parseImagePlatform(o.Platform)
	if err != nil {
		return fail(err)
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	switch {
	case strings.HasPrefix(ref, dockerArchivePrefix):
		images, close, err = openDockerArchive(ctx, ref, strings.TrimPrefix(ref, dockerArchivePrefix), "")
	case strings.HasPrefix(ref, ociLayoutPrefix):
		images, err = openOCILayout(ctx, strings.TrimPrefix(ref, ociLayoutPrefix), want)
		close = func() error { return nil }
	default:
		images, err = openRegistryImage(ctx, ref, want, o)
		close = func() error { return nil }
	}
	if err != nil {
		return fail(err)
	}
	return images, close, nil
}

// ---- docker-archive ----

// openDockerArchive opens every image of a `docker save` tarball at path; a gzipped one is
// decompressed into tmpDir ("" for the system's).
func openDockerArchive(ctx context.Context, ref, path, tmpDir string) ([]NamedImage, func() error, error) {
	if path == "" {
		return nil, nil, fmt.Errorf("%w: no file after %q", ErrMalformedRef, dockerArchivePrefix)
	}
	tarPath, cleanup, err := gunzippedArchive(ctx, path, tmpDir)
	if err != nil {
		return nil, nil, localImageError(err)
	}
	images, err := dockerArchiveImages(ctx, ref, tarPath)
	if err != nil {
		cleanup()
		return nil, nil, localImageError(err)
	}
	return images, cleanup, nil
}

func dockerArchiveImages(ctx context.Context, ref, tarPath string) ([]NamedImage, error) {
	open := func() (io.ReadCloser, error) { return os.Open(tarPath) }
	m, err := tarball.LoadManifest(open)
	if err != nil {
		return nil, fmt.Errorf("reading manifest.json (is it a `docker save` archive?): %w", err)
	}
	if len(m) == 0 {
		return nil, fmt.Errorf("%w: manifest.json lists no images", ErrCorruptImage)
	}
	var images []NamedImage
	for i, desc := range m {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		opener := open
		shown := ref
		if len(m) > 1 {
			// tarball.Image picks an image only by tag and needs one manifest.json entry
			// otherwise: give it a manifest.json naming just entry i, in front of the archive.
			opener, err = singleImageOpener(tarPath, desc)
			if err != nil {
				return nil, err
			}
			shown = ref + "#" + strconv.Itoa(i)
			if len(desc.RepoTags) > 0 {
				shown = desc.RepoTags[0]
			}
		}
		img, err := tarball.Image(opener, nil)
		if err != nil {
			return nil, fmt.Errorf("reading image %d of the archive: %w", i, err)
		}
		// The manifest of an archive image is computed from its layers (which gzips
		// uncompressed ones once), so there is nothing to check it against.
		d, err := img.Digest()
		if err != nil {
			return nil, fmt.Errorf("reading image %d of the archive: %w", i, err)
		}
		images = append(images, NamedImage{Ref: shown, Digest: d.String(), Image: img})
	}
	return images, nil
}

// singleImageOpener returns an opener of tarPath with a manifest.json naming only desc put in
// front; tarball reads the first manifest.json it meets.
func singleImageOpener(tarPath string, desc tarball.Descriptor) (tarball.Opener, error) {
	mj, err := json.Marshal(tarball.Manifest{desc})
	if err != nil {
		return nil, err
	}
	var prefix bytes.Buffer
	tw := tar.NewWriter(&prefix)
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "manifest.json", Mode: 0o644, Size: int64(len(mj))}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(mj); err != nil {
		return nil, err
	}
	// Flush pads the entry; Close would add the end-of-archive marker, hiding the archive.
	if err := tw.Flush(); err != nil {
		return nil, err
	}
	head := prefix.Bytes()
	return func() (io.ReadCloser, error) {
		f, err := os.Open(tarPath)
		if err != nil {
			return nil, err
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, err
		}
		return &prefixedFile{head: head, f: f, size: int64(len(head)) + fi.Size()}, nil
	}, nil
}

// prefixedFile reads head then f. It seeks, because archive/tar skips entries by seeking
// when it can, and reads every layer byte of the archive for each file it looks up when not.
type prefixedFile struct {
	head []byte
	f    *os.File
	off  int64
	size int64
}

func (p *prefixedFile) Read(b []byte) (int, error) {
	if h := int64(len(p.head)); p.off < h {
		n := copy(b, p.head[p.off:])
		p.off += int64(n)
		return n, nil
	}
	n, err := p.f.ReadAt(b, p.off-int64(len(p.head)))
	p.off += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

func (p *prefixedFile) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += p.off
	case io.SeekEnd:
		offset += p.size
	default:
		return 0, errors.New("seek: invalid whence")
	}
	if offset < 0 {
		return 0, errors.New("seek: negative position")
	}
	p.off = offset
	return offset, nil
}

func (p *prefixedFile) Close() error { return p.f.Close() }

// gunzippedArchive returns path, or for a gzipped archive the path of a temp file holding it
// decompressed: tarball reopens the archive for every file it reads, which would decompress
// it from the start each time.
func gunzippedArchive(ctx context.Context, path, tmpDir string) (string, func() error, error) {
	noop := func() error { return nil }
	f, err := os.Open(path)
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	var magic [2]byte
	if n, _ := io.ReadFull(f, magic[:]); n < 2 || magic != [2]byte{0x1f, 0x8b} {
		return path, noop, nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", nil, err
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		return "", nil, fmt.Errorf("%w: %w", ErrCorruptImage, err)
	}
	tmp, err := os.CreateTemp(tmpDir, "keywarden-image-*.tar")
	if err != nil {
		return "", nil, fmt.Errorf("decompressing: %w", err)
	}
	cleanup := func() error { return os.Remove(tmp.Name()) }
	_, err = io.Copy(tmp, ctxReader{ctx: ctx, r: zr})
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		cleanup()
		if ctx.Err() == nil && !errors.Is(err, fs.ErrPermission) {
			err = fmt.Errorf("%w: decompressing: %w", ErrCorruptImage, err)
		}
		return "", nil, err
	}
	return tmp.Name(), cleanup, nil
}

// ctxReader stops a long copy once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// ---- OCI layout ----

// refNameAnnotation tags an entry of an OCI layout's index.json.
const refNameAnnotation = "org.opencontainers.image.ref.name"

// openOCILayout opens the images of the OCI layout spec ("DIR", "DIR:TAG", "DIR@DIGEST") names.
func openOCILayout(ctx context.Context, spec string, want *v1.Platform) ([]NamedImage, error) {
	dir, tag, dgst, err := splitOCIRef(spec)
	if err != nil {
		return nil, err
	}
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, localImageError(fmt.Errorf("no OCI layout at %q: %w", dir, err))
	}
	root, err := p.ImageIndex()
	if err != nil {
		return nil, localImageError(fmt.Errorf("reading index.json: %w", err))
	}
	im, err := root.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("%w: parsing index.json: %w", ErrCorruptImage, err)
	}
	w := &indexWalk{ctx: ctx, local: true}
	switch {
	case dgst != (v1.Hash{}):
		parent, d, err := w.find(root, im, dgst, 0)
		if err != nil {
			return nil, err
		}
		if parent == nil {
			return nil, fmt.Errorf("%w: no manifest %s in %q", ErrImageNotFound, dgst, dir)
		}
		return w.open(ociLayoutPrefix+spec, []indexEntry{{parent: parent, desc: *d}}, want)
	case tag != "":
		var roots []indexEntry
		var tags []string
		for _, d := range im.Manifests {
			if t := d.Annotations[refNameAnnotation]; t == tag {
				roots = append(roots, indexEntry{parent: root, desc: d})
			} else if t != "" {
				tags = append(tags, t)
			}
		}
		if len(roots) == 0 {
			return nil, fmt.Errorf("%w: no tag %q in %q (tags: %s)", ErrImageNotFound, tag, dir, listOrNone(tags))
		}
		return w.open(ociLayoutPrefix+spec, roots, want)
	}
	// Every entry, grouped by the name it goes by: entries sharing a tag are one image's
	// platforms, listed side by side by tools that write no index of their own.
	var names []string
	groups := map[string][]indexEntry{}
	for _, d := range im.Manifests {
		n := ociLayoutPrefix + dir + "@" + d.Digest.String()
		if t := d.Annotations[refNameAnnotation]; t != "" {
			n = ociLayoutPrefix + dir + ":" + t
		}
		if _, ok := groups[n]; !ok {
			names = append(names, n)
		}
		groups[n] = append(groups[n], indexEntry{parent: root, desc: d})
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%w: index.json of %q lists no images", ErrImageNotFound, dir)
	}
	var images []NamedImage
	for _, n := range names {
		imgs, err := w.open(n, groups[n], want)
		if err != nil {
			return nil, err
		}
		images = append(images, imgs...)
	}
	return images, nil
}

// splitOCIRef splits "DIR", "DIR:TAG" or "DIR@sha256:…". A DIR that exists as given wins, so a
// directory with ':' or '@' in its name still opens.
func splitOCIRef(spec string) (dir, tag string, dgst v1.Hash, err error) {
	if spec == "" {
		return "", "", v1.Hash{}, fmt.Errorf("%w: no directory after %q", ErrMalformedRef, ociLayoutPrefix)
	}
	if _, err := os.Stat(spec); err == nil {
		return spec, "", v1.Hash{}, nil
	}
	if i := strings.LastIndex(spec, "@"); i > 0 && strings.Contains(spec[i+1:], ":") {
		h, err := v1.NewHash(spec[i+1:])
		if err != nil {
			return "", "", v1.Hash{}, fmt.Errorf("%w: %w", ErrMalformedRef, err)
		}
		return spec[:i], "", h, nil
	}
	if i := strings.LastIndex(spec, ":"); i > 0 && !strings.ContainsAny(spec[i+1:], `/\`) {
		if spec[i+1:] == "" {
			return "", "", v1.Hash{}, fmt.Errorf("%w: empty tag", ErrMalformedRef)
		}
		return spec[:i], spec[i+1:], v1.Hash{}, nil
	}
	return spec, "", v1.Hash{}, nil
}

// ---- registry ----

// openRegistryImage opens the image or the images of the index ref names in a registry.
func openRegistryImage(ctx context.Context, ref string, want *v1.Platform, o ImageOptions) ([]NamedImage, error) {
	if ref == "" {
		return nil, fmt.Errorf("%w: empty", ErrMalformedRef)
	}
	if strings.Contains(ref, "://") {
		// go-containerregistry's message for this suggests a Go option, not a command line.
		return nil, fmt.Errorf("%w: drop the URL scheme and name the image as host/repository:tag (plain HTTP: --insecure)", ErrMalformedRef)
	}
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedRef, err)
	}
	host := r.Context().RegistryStr()
	plainHTTP := o.Insecure || isLoopbackRegistry(host)
	if plainHTTP {
		if r, err = name.ParseReference(ref, name.Insecure); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrMalformedRef, err)
		}
	}
	kc := o.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	var rt http.RoundTripper = remote.DefaultTransport
	if !plainHTTP {
		rt = httpsOnly{inner: rt, host: host}
	}
	opts := []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(kc),
		remote.WithTransport(rt),
		remote.WithUserAgent("keywarden"),
	}
	desc, err := remote.Get(r, opts...)
	if err != nil {
		return nil, registryError(err, host, plainHTTP)
	}
	mt := desc.MediaType
	if !mt.IsIndex() && !mt.IsImage() && !mt.IsSchema1() {
		// Some registries send no or a generic Content-Type: go by the manifest itself.
		if mt, err = sniffManifestType(desc.Manifest); err != nil {
			return nil, err
		}
	}
	w := &indexWalk{ctx: ctx, host: host, plainHTTP: plainHTTP}
	switch {
	case mt.IsSchema1():
		return nil, fmt.Errorf("unsupported Docker schema 1 manifest (%s): push the image again with a current client", mt)
	case mt.IsIndex():
		idx, err := desc.ImageIndex()
		if err != nil {
			return nil, registryError(err, host, plainHTTP)
		}
		im, err := idx.IndexManifest()
		if err != nil {
			return nil, fmt.Errorf("%w: parsing index %s: %w", ErrCorruptImage, desc.Digest, err)
		}
		var roots []indexEntry
		for _, d := range im.Manifests {
			roots = append(roots, indexEntry{parent: idx, desc: d})
		}
		return w.open(ref, roots, want)
	default:
		img, err := desc.Image()
		if err != nil {
			return nil, registryError(err, host, plainHTTP)
		}
		if err := checkImageManifest(img, desc.Digest); err != nil {
			return nil, w.errorOf(err)
		}
		return []NamedImage{{Ref: ref, Digest: desc.Digest.String(), Image: img}}, nil
	}
}

func sniffManifestType(manifest []byte) (types.MediaType, error) {
	var m struct {
		MediaType types.MediaType `json:"mediaType"`
		Manifests json.RawMessage `json:"manifests"`
		Config    json.RawMessage `json:"config"`
	}
	if err := json.Unmarshal(manifest, &m); err != nil {
		return "", fmt.Errorf("%w: parsing manifest: %w", ErrCorruptImage, err)
	}
	switch {
	case m.MediaType.IsIndex() || m.MediaType.IsImage() || m.MediaType.IsSchema1():
		return m.MediaType, nil
	case m.Manifests != nil:
		return types.OCIImageIndex, nil
	case m.Config != nil:
		return types.OCIManifestSchema1, nil
	}
	return "", fmt.Errorf("%w: manifest is neither an image nor an index", ErrCorruptImage)
}

// isLoopbackRegistry reports whether host ("127.0.0.1:5000", "[::1]:5000", "localhost")
// is on this machine, where plain HTTP exposes nothing on the network.
func isLoopbackRegistry(host string) bool {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	h = strings.Trim(h, "[]")
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// httpsOnly refuses plain HTTP to the registry host: go-containerregistry falls back to it
// for private (RFC 1918) addresses on its own, which would send credentials in clear text
// without the user asking for it with --insecure.
type httpsOnly struct {
	inner http.RoundTripper
	host  string
}

func (h httpsOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" && req.URL.Host == h.host {
		return nil, fmt.Errorf("plain HTTP to %s refused (use --insecure to allow it)", h.host)
	}
	return h.inner.RoundTrip(req)
}

// registryError adds the sentinel err's cause calls for, with a hint where one helps.
func registryError(err error, host string, plainHTTP bool) error {
	if hasImageSentinel(err) || errors.Is(err, context.Canceled) {
		return err
	}
	var terr *transport.Error
	if errors.As(err, &terr) {
		switch {
		case terr.StatusCode == http.StatusUnauthorized || terr.StatusCode == http.StatusForbidden ||
			hasDiagnostic(terr, transport.UnauthorizedErrorCode, transport.DeniedErrorCode):
			login := "docker login " + host
			if host == name.DefaultRegistry {
				login = "docker login"
			}
			return fmt.Errorf("%w (log in with `%s` or put credentials for %s in the docker config; some registries answer so for a missing repository too): %w",
				ErrUnauthorized, login, host, err)
		case terr.StatusCode == http.StatusNotFound ||
			hasDiagnostic(terr, transport.ManifestUnknownErrorCode, transport.NameUnknownErrorCode, transport.BlobUnknownErrorCode):
			return fmt.Errorf("%w: %w", ErrImageNotFound, err)
		case hasDiagnostic(terr, transport.ManifestInvalidErrorCode):
			return fmt.Errorf("%w: %w", ErrCorruptImage, err)
		}
		return err
	}
	var uerr *url.Error
	var operr *net.OpError
	var dnserr *net.DNSError
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &uerr) || errors.As(err, &operr) || errors.As(err, &dnserr) {
		if !plainHTTP && strings.Contains(err.Error(), "server gave HTTP response to HTTPS client") {
			return fmt.Errorf("%w (it speaks plain HTTP: use --insecure to allow that): %w", ErrRegistryUnreachable, err)
		}
		return fmt.Errorf("%w: %w", ErrRegistryUnreachable, err)
	}
	var serr *json.SyntaxError
	var typerr *json.UnmarshalTypeError
	if errors.As(err, &serr) || errors.As(err, &typerr) || strings.Contains(err.Error(), "does not match requested digest") {
		return fmt.Errorf("%w: %w", ErrCorruptImage, err)
	}
	return err
}

func hasDiagnostic(terr *transport.Error, codes ...transport.ErrorCode) bool {
	for _, d := range terr.Errors {
		for _, c := range codes {
			if d.Code == c {
				return true
			}
		}
	}
	return false
}

// localImageError adds the sentinel for a layout's or archive's err: a missing file is a
// missing image; anything else unreadable but the permissions is corruption.
func localImageError(err error) error {
	switch {
	case err == nil || hasImageSentinel(err) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%w: %w", ErrImageNotFound, err)
	case errors.Is(err, fs.ErrPermission):
		return err
	}
	return fmt.Errorf("%w: %w", ErrCorruptImage, err)
}

func hasImageSentinel(err error) bool {
	for _, s := range []error{ErrImageNotFound, ErrUnauthorized, ErrRegistryUnreachable, ErrCorruptImage, ErrUnknownPlatform, ErrMalformedRef, ErrInvalidPlatform} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// ---- indexes, shared by layouts and registries ----

// maxIndexDepth bounds index nesting; real ones nest once (a layout's index.json → multi-arch).
const maxIndexDepth = 8

// indexEntry is a descriptor and the index that lists it (to open it through).
type indexEntry struct {
	parent v1.ImageIndex
	desc   v1.Descriptor
}

// indexWalk opens images through indexes of a layout (local) or a registry.
type indexWalk struct {
	ctx       context.Context
	local     bool
	host      string
	plainHTTP bool
}

func (w *indexWalk) errorOf(err error) error {
	if w.local {
		return localImageError(err)
	}
	return registryError(err, w.host, w.plainHTTP)
}

// open returns the images the roots hold, all named ref: roots that are images as they are,
// roots that are indexes expanded; want keeps, among images whose descriptor has a platform,
// only the matching ones.
func (w *indexWalk) open(ref string, roots []indexEntry, want *v1.Platform) ([]NamedImage, error) {
	var entries []indexEntry
	for _, r := range roots {
		if err := w.collect(r, 0, &entries); err != nil {
			return nil, err
		}
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("%w: %s holds no image manifests", ErrImageNotFound, ref)
	}
	entries, err := pickPlatform(entries, want)
	if err != nil {
		return nil, err
	}
	images := make([]NamedImage, 0, len(entries))
	for _, e := range entries {
		if err := w.ctx.Err(); err != nil {
			return nil, err
		}
		img, err := e.parent.Image(e.desc.Digest)
		if err != nil {
			return nil, w.errorOf(err)
		}
		if err := checkImageManifest(img, e.desc.Digest); err != nil {
			return nil, w.errorOf(err)
		}
		images = append(images, NamedImage{Ref: ref, Digest: e.desc.Digest.String(), Platform: platformString(e.desc.Platform), Image: img})
	}
	return images, nil
}

// collect appends e if it is an image, or the images below it if it is an index.
func (w *indexWalk) collect(e indexEntry, depth int, out *[]indexEntry) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	switch d := e.desc; {
	case d.MediaType.IsImage():
		if !isAttestation(d) {
			*out = append(*out, e)
		}
	case d.MediaType.IsIndex():
		if depth >= maxIndexDepth {
			return fmt.Errorf("%w: indexes nested deeper than %d", ErrCorruptImage, maxIndexDepth)
		}
		child, err := e.parent.ImageIndex(d.Digest)
		if err != nil {
			return w.errorOf(err)
		}
		im, err := checkIndexManifest(child, d.Digest)
		if err != nil {
			return w.errorOf(err)
		}
		for _, cd := range im.Manifests {
			if err := w.collect(indexEntry{parent: child, desc: cd}, depth+1, out); err != nil {
				return err
			}
		}
	}
	// Anything else (artifacts, signatures, schema 1) holds no file system to scan.
	return nil
}

// find locates the descriptor with digest h in im (the index idx) or below, with the index
// listing it; parent is nil when there is none.
func (w *indexWalk) find(idx v1.ImageIndex, im *v1.IndexManifest, h v1.Hash, depth int) (v1.ImageIndex, *v1.Descriptor, error) {
	for i := range im.Manifests {
		if im.Manifests[i].Digest == h {
			return idx, &im.Manifests[i], nil
		}
	}
	if depth >= maxIndexDepth {
		return nil, nil, nil
	}
	for _, d := range im.Manifests {
		if !d.MediaType.IsIndex() {
			continue
		}
		child, err := idx.ImageIndex(d.Digest)
		if err != nil {
			return nil, nil, w.errorOf(err)
		}
		cim, err := checkIndexManifest(child, d.Digest)
		if err != nil {
			return nil, nil, w.errorOf(err)
		}
		if p, cd, err := w.find(child, cim, h, depth+1); p != nil || err != nil {
			return p, cd, err
		}
	}
	return nil, nil, nil
}

// isAttestation reports a buildx attestation manifest (SBOM, provenance): an image manifest
// by type whose layers are JSON documents, not file systems.
func isAttestation(d v1.Descriptor) bool {
	if d.Annotations["vnd.docker.reference.type"] == "attestation-manifest" {
		return true
	}
	return d.Platform != nil && d.Platform.OS == "unknown" && d.Platform.Architecture == "unknown"
}

// checkImageManifest reads img's manifest and checks it parses and hashes to want (when set):
// layouts do not check blobs, and a corrupt manifest should fail here, not mid-scan.
func checkImageManifest(img v1.Image, want v1.Hash) error {
	raw, err := img.RawManifest()
	if err != nil {
		return err
	}
	if err := checkDigest(raw, want); err != nil {
		return err
	}
	m, err := v1.ParseManifest(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("%w: parsing manifest %s: %w", ErrCorruptImage, want, err)
	}
	if m.Config.Digest == (v1.Hash{}) {
		return fmt.Errorf("%w: manifest %s names no config", ErrCorruptImage, want)
	}
	return nil
}

func checkIndexManifest(idx v1.ImageIndex, want v1.Hash) (*v1.IndexManifest, error) {
	raw, err := idx.RawManifest()
	if err != nil {
		return nil, err
	}
	if err := checkDigest(raw, want); err != nil {
		return nil, err
	}
	im, err := v1.ParseIndexManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("%w: parsing index %s: %w", ErrCorruptImage, want, err)
	}
	return im, nil
}

func checkDigest(raw []byte, want v1.Hash) error {
	if want == (v1.Hash{}) {
		return nil
	}
	h, err := v1.Hasher(want.Algorithm)
	if err != nil {
		return nil // an algorithm we cannot compute: the registry checked it, layouts rarely use one
	}
	h.Write(raw)
	if got := fmt.Sprintf("%x", h.Sum(nil)); got != want.Hex {
		return fmt.Errorf("%w: the manifest read for %s hashes to %s:%s", ErrCorruptImage, want, want.Algorithm, got)
	}
	return nil
}

// ---- platforms ----

var platformPart = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

// parseImagePlatform parses ImageOptions.Platform; nil means every platform.
func parseImagePlatform(s string) (*v1.Platform, error) {
	if s == "" || s == "all" {
		return nil, nil
	}
	parts := strings.Split(s, "/")
	ok := len(parts) == 2 || len(parts) == 3
	for _, p := range parts {
		ok = ok && platformPart.MatchString(p)
	}
	if !ok {
		return nil, fmt.Errorf("%w %q: want \"all\" or os/arch[/variant] such as linux/arm64", ErrInvalidPlatform, s)
	}
	p := &v1.Platform{OS: parts[0], Architecture: parts[1]}
	if len(parts) == 3 {
		p.Variant = parts[2]
	}
	return p, nil
}

// pickPlatform keeps the entries matching want; entries without a platform are kept, as there
// is nothing to choose between. No match among those with one is an error listing them.
func pickPlatform(entries []indexEntry, want *v1.Platform) ([]indexEntry, error) {
	if want == nil {
		return entries, nil
	}
	var out []indexEntry
	var have []string
	matched := false
	for _, e := range entries {
		if e.desc.Platform == nil {
			out = append(out, e)
			continue
		}
		have = append(have, platformString(e.desc.Platform))
		if platformMatches(*e.desc.Platform, *want) {
			out = append(out, e)
			matched = true
		}
	}
	if len(have) > 0 && !matched {
		return nil, fmt.Errorf("%w: no %s (it has %s)", ErrUnknownPlatform, platformString(want), strings.Join(have, ", "))
	}
	return out, nil
}

// platformMatches compares os, architecture and variant after the normalisation Docker applies
// (aarch64 = arm64, arm64/v8 = arm64, arm = arm/v7, amd64/v1 = amd64).
func platformMatches(have, want v1.Platform) bool {
	ho, ha, hv := normPlatform(have.OS, have.Architecture, have.Variant)
	wo, wa, wv := normPlatform(want.OS, want.Architecture, want.Variant)
	return ho == wo && ha == wa && hv == wv
}

func normPlatform(os, arch, variant string) (string, string, string) {
	os, arch, variant = strings.ToLower(os), strings.ToLower(arch), strings.ToLower(variant)
	if variant != "" && variant[0] >= '0' && variant[0] <= '9' {
		variant = "v" + variant
	}
	switch arch {
	case "x86_64", "x86-64":
		arch = "amd64"
	case "aarch64":
		arch = "arm64"
	case "i386":
		arch = "386"
	case "armhf":
		arch = "arm"
		if variant == "" {
			variant = "v7"
		}
	case "armel":
		arch = "arm"
		if variant == "" {
			variant = "v6"
		}
	}
	switch {
	case arch == "arm64" && (variant == "v8" || variant == "v8.0"):
		variant = ""
	case arch == "arm" && variant == "":
		variant = "v7"
	case arch == "amd64" && variant == "v1":
		variant = ""
	}
	return os, arch, variant
}

// platformString is "os/arch[/variant]", or "" for no platform.
func platformString(p *v1.Platform) string {
	if p == nil || p.OS == "" {
		return ""
	}
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// ---- messages ----

// digestSuffix is what follows the '@' of a reference by digest.
var digestSuffix = regexp.MustCompile(`^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$`)

// redactImageRef hides user information a registry reference may carry
// ("user:token@registry/app", "https://user:token@registry/app"): image references have none,
// but users paste them, and the message that rejects one must not repeat the token.
func redactImageRef(ref string) string {
	if ui := refUserInfo(ref); ui != "" {
		return strings.Replace(ref, ui, "***", 1)
	}
	return ref
}

// refUserInfo returns the user information in ref ("user:token" of "user:token@host/app"), or "".
func refUserInfo(ref string) string {
	if strings.HasPrefix(ref, dockerArchivePrefix) || strings.HasPrefix(ref, ociLayoutPrefix) {
		return ""
	}
	rest := ref
	if _, after, ok := strings.Cut(ref, "://"); ok {
		rest = after
	}
	// The last '@' not introducing a digest ends the user information.
	cut := -1
	for i := 0; i < len(rest); i++ {
		if rest[i] == '@' && !digestSuffix.MatchString(rest[i+1:]) {
			cut = i
		}
	}
	if cut <= 0 {
		return ""
	}
	return rest[:cut]
}

// flatError puts err on one line (registry bodies can hold HTML), caps its length and
// removes the user information of the raw reference, which parse errors repeat.
type flatError struct {
	err        error
	raw, shown string
}

// maxErrorLen caps a message; a proxy's HTML error page is no help in a terminal.
const maxErrorLen = 600

func (e flatError) Error() string {
	msg := e.err.Error()
	if ui := refUserInfo(e.raw); ui != "" {
		msg = strings.ReplaceAll(msg, e.raw, e.shown)
		// Pieces of the reference may be quoted alone; a very short one is no secret, and
		// replacing it everywhere would garble the message.
		if len(ui) >= 4 {
			msg = strings.ReplaceAll(msg, ui, "***")
		}
	}
	msg = strings.Join(strings.Fields(msg), " ")
	if len(msg) > maxErrorLen {
		cut := maxErrorLen
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + "…"
	}
	return msg
}

func (e flatError) Unwrap() error { return e.err }
