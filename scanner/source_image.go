package scanner

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	kgzip "github.com/klauspost/compress/gzip"
)

// ImageSource yields every file of every layer of the images, files a later layer deletes or
// overwrites included (they are still in the image for anyone who pulls it), the files inside
// archives in them, and the text fields of each image's config. Layers are streamed, never
// extracted; a layer shared by several images is read once.
type ImageSource struct {
	Images      []NamedImage
	MaxFileSize int64 // files larger are skipped (archives are opened up to Archives.MaxTotal)
	Archives    ArchiveLimits
	// Excluded names paths whose content is never scanned (gitleaks' global path allowlist).
	Excluded func(path string) bool
	Warn     func(error)
	// Binary reads binary files too, for the engine's key finder, instead of skipping them.
	Binary bool

	layers  map[v1.Hash]*layerIndex // what each layer read so far holds
	removed map[removedKey]int      // (image, layer, path) -> the layer that deletes or overwrites it
}

// layerIndex is what a layer holds, kept so that an image sharing it needs no second read and
// so that deletions can be worked out once every layer of an image is known.
type layerIndex struct {
	files    []layerFile
	others   []string // links and devices: not scanned, but they hide lower layers' files
	whiteout []string // paths a .wh. entry deletes
	opaque   []string // directories a .wh..wh..opq entry empties of lower layers' content
}

type layerFile struct {
	path string // in the layer; for a file inside an archive, the archive's path and the rest
	id   BlobID
	size int64
	skip string
}

type removedKey struct {
	digest string
	layer  int
	path   string
}

// archiveReadLimit bounds how large an archive in a layer is read into memory to be opened.
const archiveReadLimit = 256 << 20

// maxConfigField bounds one config field scanned (an Env value can hold a whole file).
const maxConfigField = 1 << 20

// Blobs implements Source.
func (s *ImageSource) Blobs(ctx context.Context, yield func(Blob) error) error {
	s.layers = map[v1.Hash]*layerIndex{}
	s.removed = map[removedKey]int{}
	var errs []error
	for _, img := range s.Images {
		if err := s.image(ctx, img, yield); err != nil {
			var stop stopErr
			if errors.As(err, &stop) {
				return stop.err
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// errStopped wraps an error from yield, which must end the scan rather than one image.
var errStopped = errors.New("stopped")

type stopErr struct{ err error }

func (e stopErr) Error() string { return e.err.Error() }
func (e stopErr) Unwrap() error { return e.err }
func (e stopErr) Is(t error) bool {
	return t == errStopped
}

func (s *ImageSource) image(ctx context.Context, img NamedImage, yield func(Blob) error) error {
	give := func(b Blob) error {
		if err := ctx.Err(); err != nil {
			return stopErr{err}
		}
		if err := yield(b); err != nil {
			return stopErr{err}
		}
		return nil
	}
	layers, err := img.Image.Layers()
	if err != nil {
		return fmt.Errorf("reading the layers of %s: %w", img.Ref, err)
	}
	// The config's diff IDs say what each layer's tar must hash to. (A layer's own DiffID
	// method may hash the content itself, which proves nothing and reads it twice.)
	var diffIDs []v1.Hash
	if cf, err := img.Image.ConfigFile(); err == nil && cf != nil && len(cf.RootFS.DiffIDs) == len(layers) {
		diffIDs = cf.RootFS.DiffIDs
	}
	var idx []*layerIndex
	var errs []error
	for i, l := range layers {
		var want v1.Hash
		if diffIDs != nil {
			want = diffIDs[i]
		}
		li, err := s.layer(ctx, img, i+1, l, want, give)
		if errors.Is(err, errStopped) {
			return err
		}
		if err != nil {
			errs = append(errs, err) // what the layer gave up to the damage is kept
		}
		idx = append(idx, li)
	}
	s.markRemoved(img, idx)
	if err := s.config(img, give); err != nil {
		if errors.Is(err, errStopped) {
			return err
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// layer yields the files of layer n (1-based) of img, reading it unless an earlier image had it.
func (s *ImageSource) layer(ctx context.Context, img NamedImage, n int, l v1.Layer, diffID v1.Hash, give func(Blob) error) (*layerIndex, error) {
	d, err := l.Digest()
	if err != nil {
		return &layerIndex{}, fmt.Errorf("reading layer %d of %s: %w", n, img.Ref, err)
	}
	origin := func(p string) ImageOrigin {
		return ImageOrigin{Image: img.Ref, Digest: img.Digest, Layer: n, LayerDigest: d.String(), Path: p}
	}
	if li, ok := s.layers[d]; ok {
		for _, f := range li.files {
			if err := give(Blob{ID: f.id, Origin: origin(f.path), Skip: f.skip, Size: f.size}); err != nil {
				return li, err
			}
		}
		return li, nil
	}
	li := &layerIndex{}
	s.layers[d] = li
	rc, err := uncompressed(l)
	if err != nil {
		return li, fmt.Errorf("reading layer %d (%s) of %s: %w", n, shortDigest(d.String()), img.Ref, err)
	}
	// The tar stream is checked against the layer's diff ID as it is read: a layer whose
	// content is not what the image says it is would otherwise be scanned as if it were.
	sum := sha256.New()
	ahead := newReadAhead(rc, sum) // closes rc
	defer ahead.stop()
	tr := tar.NewReader(ahead)
	emit := func(f layerFile, content []byte) error {
		li.files = append(li.files, f)
		return give(Blob{ID: f.id, Origin: origin(f.path), Content: content, Skip: f.skip, Size: f.size})
	}
	warnedEscape := false
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return li, fmt.Errorf("reading layer %d (%s) of %s: %w", n, shortDigest(d.String()), img.Ref, err)
		}
		name := cleanLayerPath(h.Name)
		if escapes(name) && !warnedEscape {
			// Nothing is extracted, so it is only a name; but a layer built that way is odd.
			warnedEscape = true
			s.warn(fmt.Errorf("layer %d (%s) of %s has an entry whose path leaves the image's root: %q (scanned under that name, never extracted)", n, shortDigest(d.String()), img.Ref, h.Name))
		}
		dir, base := path.Split(name)
		dir = strings.TrimSuffix(dir, "/")
		switch {
		case base == ".wh..wh..opq":
			li.opaque = append(li.opaque, dir)
			continue
		case strings.HasPrefix(base, ".wh."):
			li.whiteout = append(li.whiteout, path.Join(dir, strings.TrimPrefix(base, ".wh.")))
			continue
		case h.Typeflag != tar.TypeReg && h.Typeflag != tar.TypeRegA: //nolint:staticcheck // old tars use TypeRegA
			if h.Typeflag != tar.TypeDir {
				li.others = append(li.others, name) // a link replaces what lower layers had there
			}
			continue
		}
		where := fmt.Sprintf("layer %d (%s) of %s", n, shortDigest(d.String()), img.Ref)
		if err := s.file(ctx, d, where, name, h.Size, tr, emit); err != nil {
			return li, err
		}
	}
	if _, err := io.Copy(io.Discard, ahead); err != nil { // the tar's padding, hashed too
		return li, fmt.Errorf("reading layer %d (%s) of %s: %w", n, shortDigest(d.String()), img.Ref, err)
	}
	if diffID.Algorithm == "sha256" {
		if got := hex.EncodeToString(sum.Sum(nil)); got != diffID.Hex {
			return li, fmt.Errorf("layer %d (%s) of %s: content does not match the config's diff ID %s (got sha256:%s): the image is corrupt or was tampered with; its files were scanned as found", n, shortDigest(d.String()), img.Ref, diffID, got)
		}
	}
	return li, nil
}

// file reads one regular file of a layer and yields it, or what is inside it if it is an archive.
func (s *ImageSource) file(ctx context.Context, layer v1.Hash, where, name string, size int64, r io.Reader, emit func(layerFile, []byte) error) error {
	if s.Excluded != nil && s.Excluded(name) {
		return emit(layerFile{path: name, id: unreadID(layer.String() + ":" + name), size: size, skip: SkipExcluded}, nil)
	}
	// As much as the engine sniffs: a binary file is skipped here, unread, as the engine
	// would skip it after the copy and the hashing.
	head := make([]byte, min(size, sniffLen))
	if _, err := io.ReadFull(r, head); err != nil {
		return fmt.Errorf("reading %s in %s: %w", name, where, err)
	}
	archive := s.Archives.MaxDepth >= 0 && IsArchive(name, head) && size <= archiveReadLimit
	switch {
	case archive:
	case s.MaxFileSize > 0 && size > s.MaxFileSize:
		return emit(layerFile{path: name, id: unreadID(layer.String() + ":" + name), size: size, skip: SkipTooLarge}, nil)
	case binaryHead(head) && !s.Binary: // UTF-16 text is read: the engine decodes it
		return emit(layerFile{path: name, id: unreadID(layer.String() + ":" + name), size: size, skip: SkipBinary}, nil)
	}
	// The tar header's size may lie (an archive may claim up to archiveReadLimit, and with no
	// --max-file-size anything): reserve at most maxPrealloc, and grow only as bytes arrive.
	content, err := readUpTo(r, append(make([]byte, 0, min(size, maxPrealloc)), head...), size)
	if err == nil && int64(len(content)) < size {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		return fmt.Errorf("reading %s in %s: %w", name, where, err)
	}
	if !archive {
		return emit(layerFile{path: name, id: HashBlob(content), size: size}, content)
	}
	lim := s.Archives
	if lim.MaxEntry == 0 {
		lim.MaxEntry = s.MaxFileSize
	}
	return ExpandArchive(ctx, name, content, 0, lim, s.warn, func(e ArchiveEntry) error {
		f := layerFile{path: e.Path, size: e.Size, skip: e.Skip}
		if e.Skip != "" || e.Content == nil {
			f.id = unreadID(layer.String() + ":" + e.Path)
		} else {
			f.id = HashBlob(e.Content)
		}
		return emit(f, e.Content)
	})
}

// cleanLayerPath gives a tar entry's path as the image's file system has it, without a leading
// "./" or "/". Nothing is extracted, so a "../" in it is only a name.
func cleanLayerPath(name string) string {
	name = strings.TrimPrefix(name, "./")
	name = strings.TrimLeft(name, "/")
	return strings.TrimSuffix(name, "/")
}

// uncompressed opens a layer's tar stream. gzip, which nearly every layer is, is inflated with
// klauspost/compress, a quarter faster than compress/gzip, and inflating is the largest single
// cost of an image scan; anything else (zstd, plain tar) goes through go-containerregistry.
func uncompressed(l v1.Layer) (io.ReadCloser, error) {
	rc, err := l.Compressed()
	if err != nil {
		return l.Uncompressed()
	}
	br := bufio.NewReaderSize(rc, 1<<16)
	if magic, err := br.Peek(2); err != nil || magic[0] != 0x1f || magic[1] != 0x8b {
		rc.Close()
		return l.Uncompressed()
	}
	zr, err := kgzip.NewReader(br)
	if err != nil {
		rc.Close()
		return l.Uncompressed()
	}
	return gzipLayer{zr, rc}, nil
}

// gzipLayer closes both the inflater and the compressed stream under it.
type gzipLayer struct {
	*kgzip.Reader
	under io.Closer
}

func (g gzipLayer) Close() error {
	err := g.Reader.Close()
	if cerr := g.under.Close(); err == nil {
		err = cerr
	}
	return err
}

// escapes reports whether a cleaned layer path climbs out of the root.
func escapes(name string) bool {
	return name == ".." || strings.HasPrefix(name, "../") || strings.Contains(name, "/../") || strings.HasSuffix(name, "/..")
}

func (s *ImageSource) warn(err error) {
	if s.Warn != nil {
		s.Warn(err)
	}
}

// markRemoved records, for every file of every layer of img, the first later layer that
// deletes it (a whiteout of it or of a directory above it, or an opaque directory above it)
// or puts something else at its path or above it.
func (s *ImageSource) markRemoved(img NamedImage, idx []*layerIndex) {
	type layerSets struct {
		deleted, opaque, added map[string]bool
	}
	sets := make([]layerSets, len(idx))
	for j, li := range idx {
		ls := layerSets{deleted: map[string]bool{}, opaque: map[string]bool{}, added: map[string]bool{}}
		for _, p := range li.whiteout {
			ls.deleted[p] = true
		}
		for _, p := range li.opaque {
			ls.opaque[p] = true
		}
		for _, f := range li.files {
			ls.added[outerPath(f.path)] = true
		}
		for _, p := range li.others {
			ls.added[p] = true
		}
		sets[j] = ls
	}
	for i, li := range idx {
		for _, f := range li.files {
			p := outerPath(f.path)
			key := removedKey{img.Digest, i + 1, p}
			if _, done := s.removed[key]; done {
				continue
			}
			for j := i + 1; j < len(idx); j++ {
				if gone(p, sets[j].deleted, sets[j].opaque, sets[j].added) {
					s.removed[key] = j + 1
					break
				}
			}
		}
	}
}

// gone reports whether a layer with these sets hides p from the layers below it.
func gone(p string, deleted, opaque, added map[string]bool) bool {
	if deleted[p] || added[p] {
		return true
	}
	for d := path.Dir(p); d != "." && d != "/" && d != ""; d = path.Dir(d) {
		if deleted[d] || opaque[d] || added[d] {
			return true
		}
	}
	return opaque[""] // an opaque marker at the root
}

// outerPath is the layer file a path names: the archive, for a file inside one.
func outerPath(p string) string {
	if i := strings.Index(p, "!/"); i >= 0 {
		return p[:i]
	}
	return p
}

// config yields the text fields of img's config: Env, Cmd, Entrypoint, Labels and every
// history entry's created_by, where build arguments and ENV secrets end up.
func (s *ImageSource) config(img NamedImage, give func(Blob) error) error {
	cf, err := img.Image.ConfigFile()
	if err != nil {
		return fmt.Errorf("reading the config of %s: %w", img.Ref, err)
	}
	if cf == nil {
		return nil
	}
	field := func(p, text string) error {
		if text == "" {
			return nil
		}
		if len(text) > maxConfigField {
			text = text[:maxConfigField]
		}
		content := []byte(text)
		return give(Blob{ID: HashBlob(content), Content: content, Origin: ImageOrigin{Image: img.Ref, Digest: img.Digest, Path: p}})
	}
	c := cf.Config
	for i, e := range c.Env {
		if err := field(fmt.Sprintf("config:Env[%d]", i), e); err != nil {
			return err
		}
	}
	if err := field("config:Entrypoint", strings.Join(c.Entrypoint, " ")); err != nil {
		return err
	}
	if err := field("config:Cmd", strings.Join(c.Cmd, " ")); err != nil {
		return err
	}
	keys := make([]string, 0, len(c.Labels))
	for k := range c.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := field(fmt.Sprintf("config:Labels[%s]", k), k+"="+c.Labels[k]); err != nil {
			return err
		}
	}
	for i, h := range cf.History {
		if err := field(fmt.Sprintf("history[%d].created_by", i), h.CreatedBy); err != nil {
			return err
		}
	}
	return nil
}

// RemovedIn returns the 1-based layer that deletes or overwrites the file at p in layer n of the
// image with this digest, or 0. It is known once Blobs has returned.
func (s *ImageSource) RemovedIn(digest string, n int, p string) int {
	return s.removed[removedKey{digest, n, outerPath(p)}]
}

// annotate marks the locations of files that a later layer deletes or overwrites: they are
// not in a container started from the image, but anyone who pulls it can extract them.
func (s *ImageSource) annotate(findings []Finding) {
	for i := range findings {
		for j := range findings[i].Locations {
			l := &findings[i].Locations[j]
			if l.Layer == 0 {
				continue
			}
			if n := s.RemovedIn(l.ImageDigest, l.Layer, l.Path); n > 0 {
				l.RemovedInLayer = n
				l.Note = fmt.Sprintf("deleted or overwritten in layer %d, but still extractable from layer %d (%s)", n, l.Layer, shortDigest(l.LayerDigest))
			}
		}
	}
}

// shortDigest abbreviates "sha256:…" to its first 12 hex digits, as docker does.
func shortDigest(d string) string {
	_, hex, ok := strings.Cut(d, ":")
	if !ok {
		hex = d
	}
	if len(hex) > 12 {
		hex = hex[:12]
	}
	return hex
}
