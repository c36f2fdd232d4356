package imagetest

import (
	"archive/tar"
	"bytes"
	"io"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// epoch is every entry's mtime, so layers (and digests) do not depend on when tests run.
var epoch = time.Unix(0, 0)

// RefNameAnnotation is the OCI layout annotation that names (tags) an index.json entry.
const RefNameAnnotation = "org.opencontainers.image.ref.name"

// Layer builds a layer from files: path → content, written in path order as regular files
// (0644) with their parent directories (0755). A path ending in "/" is a directory. Whiteouts
// ("app/.wh.env", "app/.wh..wh..opq") are plain entries like any other, as in real layers.
func Layer(t testing.TB, files map[string]string) v1.Layer {
	t.Helper()
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{}
	var addDir func(dir string)
	addDir = func(dir string) {
		if dir == "." || dir == "/" || dir == "" || dirs[dir] {
			return
		}
		addDir(path.Dir(dir))
		dirs[dir] = true
		writeTar(t, tw, &tar.Header{Typeflag: tar.TypeDir, Name: dir + "/", Mode: 0o755, ModTime: epoch}, "")
	}
	for _, p := range paths {
		if strings.HasSuffix(p, "/") {
			addDir(strings.TrimSuffix(p, "/"))
			continue
		}
		addDir(path.Dir(p))
		writeTar(t, tw, &tar.Header{Typeflag: tar.TypeReg, Name: p, Mode: 0o644, Size: int64(len(files[p])), ModTime: epoch}, files[p])
	}
	if err := tw.Close(); err != nil {
		t.Fatalf("building layer: %v", err)
	}
	return LayerFromTar(t, buf.Bytes())
}

func writeTar(t testing.TB, tw *tar.Writer, h *tar.Header, content string) {
	t.Helper()
	if err := tw.WriteHeader(h); err != nil {
		t.Fatalf("building layer: %v", err)
	}
	if _, err := io.WriteString(tw, content); err != nil {
		t.Fatalf("building layer: %v", err)
	}
}

// LayerFromTar makes a layer of an uncompressed tar built by the test (symlinks, hard links,
// odd headers: whatever Layer cannot express).
func LayerFromTar(t testing.TB, tarData []byte) v1.Layer {
	t.Helper()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(tarData)), nil
	})
	if err != nil {
		t.Fatalf("building layer: %v", err)
	}
	return l
}

// ConfigOptions is what Image puts in the image config.
type ConfigOptions struct {
	Platform   string // "os/arch[/variant]" of the config; "" leaves linux/amd64
	Env        []string
	Cmd        []string
	Entrypoint []string
	Labels     map[string]string
	// CreatedBy is each layer's history entry, in layer order; missing ones are "layer N".
	CreatedBy []string
	// EmptyHistory are history entries without a layer (ARG, ENV steps), placed before the
	// layers' entries as at the top of a Dockerfile, so history and layer indexes differ.
	EmptyHistory []string
}

// Image builds an image from layers (first is the bottom one) with cfg's config. Histories
// carry no timestamps, so equal inputs give equal digests.
func Image(t testing.TB, cfg ConfigOptions, layers ...v1.Layer) v1.Image {
	t.Helper()
	var adds []mutate.Addendum
	for _, h := range cfg.EmptyHistory {
		adds = append(adds, mutate.Addendum{History: v1.History{CreatedBy: h, EmptyLayer: true}})
	}
	for i, l := range layers {
		by := "layer " + strconv.Itoa(i)
		if i < len(cfg.CreatedBy) {
			by = cfg.CreatedBy[i]
		}
		adds = append(adds, mutate.Addendum{Layer: l, History: v1.History{CreatedBy: by}})
	}
	img, err := mutate.Append(empty.Image, adds...)
	if err != nil {
		t.Fatalf("building image: %v", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatalf("building image: %v", err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = "linux", "amd64", ""
	if cfg.Platform != "" {
		p, err := v1.ParsePlatform(cfg.Platform)
		if err != nil {
			t.Fatalf("building image: %v", err)
		}
		cf.OS, cf.Architecture, cf.Variant = p.OS, p.Architecture, p.Variant
	}
	cf.Config.Env = cfg.Env
	cf.Config.Cmd = cfg.Cmd
	cf.Config.Entrypoint = cfg.Entrypoint
	cf.Config.Labels = cfg.Labels
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatalf("building image: %v", err)
	}
	return img
}

// Index builds a multi-arch image index: platform ("os/arch[/variant]") → image, in platform
// order. Use Image's ConfigOptions.Platform so that the images differ.
func Index(t testing.TB, images map[string]v1.Image) v1.ImageIndex {
	t.Helper()
	platforms := make([]string, 0, len(images))
	for p := range images {
		platforms = append(platforms, p)
	}
	sort.Strings(platforms)
	var adds []mutate.IndexAddendum
	for _, ps := range platforms {
		p, err := v1.ParsePlatform(ps)
		if err != nil {
			t.Fatalf("building index: %v", err)
		}
		adds = append(adds, mutate.IndexAddendum{Add: images[ps], Descriptor: v1.Descriptor{Platform: p}})
	}
	// Docker's list type, matching the Docker media types of Image's manifests.
	return mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.DockerManifestList), adds...)
}

// WriteDockerArchive writes img as a `docker save` tarball tagged tag ("" for none) and
// returns its path.
func WriteDockerArchive(t testing.TB, img v1.Image, tag string) string {
	t.Helper()
	return WriteDockerArchiveMulti(t, ArchiveImage{Image: img, Tags: nonEmpty(tag)})
}

// ArchiveImage is one image of a multi-image docker archive, with its RepoTags.
type ArchiveImage struct {
	Image v1.Image
	Tags  []string
}

// WriteDockerArchiveMulti writes several images into one `docker save` tarball and returns
// its path. manifest.json lists them sorted by tags (untagged first), as the writer does; the
// tags of an image with several come in no fixed order.
func WriteDockerArchiveMulti(t testing.TB, imgs ...ArchiveImage) string {
	t.Helper()
	refs := map[name.Reference]v1.Image{}
	for _, ai := range imgs {
		for _, tag := range ai.Tags {
			r, err := name.NewTag(tag)
			if err != nil {
				t.Fatalf("writing docker archive: %v", err)
			}
			refs[r] = ai.Image
		}
		if len(ai.Tags) == 0 {
			// A digest reference adds the image without a RepoTag.
			d, err := ai.Image.Digest()
			if err != nil {
				t.Fatalf("writing docker archive: %v", err)
			}
			r, err := name.NewDigest("untagged@" + d.String())
			if err != nil {
				t.Fatalf("writing docker archive: %v", err)
			}
			refs[r] = ai.Image
		}
	}
	p := filepath.Join(t.TempDir(), "image.tar")
	if err := tarball.MultiRefWriteToFile(p, refs); err != nil {
		t.Fatalf("writing docker archive: %v", err)
	}
	return p
}

// WriteOCILayout writes images into a new OCI layout, tag → image, each index.json entry
// annotated with org.opencontainers.image.ref.name = tag, in tag order; returns the directory.
func WriteOCILayout(t testing.TB, imgs map[string]v1.Image) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "oci")
	if _, err := layout.Write(dir, empty.Index); err != nil {
		t.Fatalf("writing OCI layout: %v", err)
	}
	tags := make([]string, 0, len(imgs))
	for tag := range imgs {
		tags = append(tags, tag)
	}
	sort.Strings(tags)
	for _, tag := range tags {
		AppendOCI(t, dir, tag, imgs[tag])
	}
	return dir
}

// AppendOCI adds an image or an index to the OCI layout at dir, tagged tag ("" for none).
func AppendOCI(t testing.TB, dir, tag string, item mutate.Appendable) {
	t.Helper()
	p, err := layout.FromPath(dir)
	if err != nil {
		t.Fatalf("opening OCI layout: %v", err)
	}
	var opts []layout.Option
	if tag != "" {
		opts = append(opts, layout.WithAnnotations(map[string]string{RefNameAnnotation: tag}))
	}
	switch it := item.(type) {
	case v1.Image:
		err = p.AppendImage(it, opts...)
	case v1.ImageIndex:
		err = p.AppendIndex(it, opts...)
	default:
		t.Fatalf("AppendOCI: %T is neither an image nor an index", item)
	}
	if err != nil {
		t.Fatalf("writing OCI layout: %v", err)
	}
}

// Push writes img to registry (as StartRegistry returns it) at repoTag ("app:1.2") and
// returns the reference "registry/app:1.2". opts add e.g. remote.WithAuth.
func Push(t testing.TB, registry, repoTag string, img v1.Image, opts ...remote.Option) string {
	t.Helper()
	ref := registry + "/" + repoTag
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatalf("pushing %s: %v", ref, err)
	}
	if err := remote.Write(r, img, opts...); err != nil {
		t.Fatalf("pushing %s: %v", ref, err)
	}
	return ref
}

// PushIndex writes idx and its images to registry at repoTag and returns the reference.
func PushIndex(t testing.TB, registry, repoTag string, idx v1.ImageIndex, opts ...remote.Option) string {
	t.Helper()
	ref := registry + "/" + repoTag
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatalf("pushing %s: %v", ref, err)
	}
	if err := remote.WriteIndex(r, idx, opts...); err != nil {
		t.Fatalf("pushing %s: %v", ref, err)
	}
	return ref
}

// Digest returns img's or idx's manifest digest as "sha256:…".
func Digest(t testing.TB, x interface{ Digest() (v1.Hash, error) }) string {
	t.Helper()
	d, err := x.Digest()
	if err != nil {
		t.Fatalf("digest: %v", err)
	}
	return d.String()
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}
