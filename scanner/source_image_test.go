package scanner

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/keywarden/keywarden/scanner/imagetest"
)

type imageYield struct {
	Path    string
	Layer   int
	Content string
	Skip    string
	Repeat  bool
}

func collectImage(t *testing.T, s *ImageSource) ([]imageYield, error) {
	t.Helper()
	var out []imageYield
	seen := map[BlobID]bool{}
	err := s.Blobs(context.Background(), func(b Blob) error {
		o := b.Origin.(ImageOrigin)
		out = append(out, imageYield{Path: o.Path, Layer: o.Layer, Content: string(b.Content), Skip: b.Skip, Repeat: seen[b.ID] && b.Content == nil})
		seen[b.ID] = true
		return nil
	})
	return out, err
}

func named(t *testing.T, ref string, img v1.Image) NamedImage {
	return NamedImage{Ref: ref, Digest: imagetest.Digest(t, img), Image: img}
}

// TestImageWhiteouts: every file of every layer is yielded, and RemovedIn says which later
// layer hides it: a .wh. entry for it or a directory above it, an opaque directory, or a file
// put at its path.
func TestImageWhiteouts(t *testing.T) {
	img := imagetest.Image(t, imagetest.ConfigOptions{},
		imagetest.Layer(t, map[string]string{
			"app/.env": "1", "app/keep.txt": "2", "etc/conf/a.conf": "3", "srv/data/x": "4", "over.txt": "5", "opt/tool/bin": "6",
		}),
		imagetest.Layer(t, map[string]string{"app/.wh..env": "", "etc/.wh.conf": ""}),
		imagetest.Layer(t, map[string]string{"srv/data/.wh..wh..opq": "", "srv/data/y": "7", "over.txt": "8"}),
		imagetest.Layer(t, map[string]string{"opt/tool": "a file where a directory was"}),
	)
	s := &ImageSource{Images: []NamedImage{named(t, "img", img)}}
	got, err := collectImage(t, s)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, y := range got {
		if y.Layer > 0 {
			paths = append(paths, y.Path)
		}
	}
	for _, want := range []string{"app/.env", "app/keep.txt", "etc/conf/a.conf", "srv/data/x", "srv/data/y", "over.txt", "opt/tool/bin", "opt/tool"} {
		if !strings.Contains(" "+strings.Join(paths, " ")+" ", " "+want+" ") {
			t.Errorf("%s not yielded; got %v", want, paths)
		}
	}
	d := imagetest.Digest(t, img)
	for _, c := range []struct {
		path        string
		layer, want int
	}{
		{"app/.env", 1, 2},        // its own whiteout
		{"app/keep.txt", 1, 0},    // a sibling's whiteout does not touch it
		{"etc/conf/a.conf", 1, 2}, // a whiteout of a directory above it
		{"srv/data/x", 1, 3},      // an opaque directory above it
		{"srv/data/y", 3, 0},      // added with the opaque marker: visible
		{"over.txt", 1, 3},        // overwritten
		{"over.txt", 3, 0},        // the version that stays
		{"opt/tool/bin", 1, 4},    // a file replaced the directory above it
	} {
		if got := s.RemovedIn(d, c.layer, c.path); got != c.want {
			t.Errorf("RemovedIn(layer %d, %s) = %d, want %d", c.layer, c.path, got, c.want)
		}
	}
}

// countingLayer counts how often a layer's content is opened.
type countingLayer struct {
	v1.Layer
	reads *atomic.Int32
}

func (l countingLayer) Uncompressed() (io.ReadCloser, error) {
	l.reads.Add(1)
	return l.Layer.Uncompressed()
}

func (l countingLayer) Compressed() (io.ReadCloser, error) {
	l.reads.Add(1)
	return l.Layer.Compressed()
}

// TestImageSharedLayerReadOnce: a layer two images share is decompressed once; the second
// image's files are yielded again as further origins of the same blobs.
func TestImageSharedLayerReadOnce(t *testing.T) {
	var reads atomic.Int32
	base := countingLayer{imagetest.Layer(t, map[string]string{"etc/os-release": "debian\n", "app/a.txt": "a\n"}), &reads}
	img1 := imagetest.Image(t, imagetest.ConfigOptions{}, base, imagetest.Layer(t, map[string]string{"one": "1\n"}))
	img2 := imagetest.Image(t, imagetest.ConfigOptions{}, base, imagetest.Layer(t, map[string]string{"two": "2\n"}))
	// mutate.AppendLayers keeps the layer values it was given, so both images hold base.
	for _, img := range []v1.Image{img1, img2} {
		ls, err := img.Layers()
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := ls[0].(countingLayer); !ok {
			t.Skipf("mutate wrapped the layer (%T): cannot count its reads", ls[0])
		}
	}
	s := &ImageSource{Images: []NamedImage{named(t, "one", img1), named(t, "two", img2)}}
	got, err := collectImage(t, s)
	if err != nil {
		t.Fatal(err)
	}
	if n := reads.Load(); n != 1 {
		t.Errorf("shared layer decompressed %d times, want 1", n)
	}
	var repeats []string
	for _, y := range got {
		if y.Repeat {
			repeats = append(repeats, y.Path)
		}
	}
	sort.Strings(repeats)
	if diff := cmp.Diff([]string{"app/a.txt", "etc/os-release"}, repeats); diff != "" {
		t.Errorf("second image's sightings of the shared layer (-want +got):\n%s", diff)
	}
}

// TestImageConfigFields: Env, Entrypoint, Cmd, Labels and history are yielded with synthetic
// paths, empty ones left out.
func TestImageConfigFields(t *testing.T) {
	img := imagetest.Image(t, imagetest.ConfigOptions{
		Env:        []string{"A=1", "B=2"},
		Entrypoint: []string{"/bin/sh", "-c"},
		Cmd:        []string{"run", "--fast"},
		Labels:     map[string]string{"z": "last", "a": "first"},
		CreatedBy:  []string{"COPY . /"},
	}, imagetest.Layer(t, map[string]string{"f": "x"}))
	s := &ImageSource{Images: []NamedImage{named(t, "img", img)}}
	got, err := collectImage(t, s)
	if err != nil {
		t.Fatal(err)
	}
	var cfg []imageYield
	for _, y := range got {
		if y.Layer == 0 {
			cfg = append(cfg, y)
		}
	}
	want := []imageYield{
		{Path: "config:Env[0]", Content: "A=1"},
		{Path: "config:Env[1]", Content: "B=2"},
		{Path: "config:Entrypoint", Content: "/bin/sh -c"},
		{Path: "config:Cmd", Content: "run --fast"},
		{Path: "config:Labels[a]", Content: "a=first"},
		{Path: "config:Labels[z]", Content: "z=last"},
		{Path: "history[0].created_by", Content: "COPY . /"},
	}
	if diff := cmp.Diff(want, cfg); diff != "" {
		t.Errorf("config fields (-want +got):\n%s", diff)
	}
}

// truncatedLayer is a layer whose tar stream ends early, as a damaged blob or an interrupted
// download gives.
type truncatedLayer struct{ v1.Layer }

func (l truncatedLayer) Uncompressed() (io.ReadCloser, error) { return halve(l.Layer.Uncompressed()) }

func (l truncatedLayer) Compressed() (io.ReadCloser, error) { return halve(l.Layer.Compressed()) }

func halve(rc io.ReadCloser, err error) (io.ReadCloser, error) {
	if err != nil {
		return nil, err
	}
	data, _ := io.ReadAll(rc)
	rc.Close()
	return io.NopCloser(strings.NewReader(string(data[:len(data)/2]))), nil
}

// TestImageTruncatedLayer: a damaged layer is an error naming it, and everything readable,
// in it and in the other layers and the config, is still yielded.
func TestImageTruncatedLayer(t *testing.T) {
	big := strings.Repeat("line of text\n", 2000)
	good := imagetest.Layer(t, map[string]string{"a.txt": "a\n"})
	bad := truncatedLayer{imagetest.Layer(t, map[string]string{"b1.txt": "b1\n", "b2.txt": big, "b3.txt": "b3\n"})}
	img, err := mutate.AppendLayers(imagetest.Image(t, imagetest.ConfigOptions{Env: []string{"X=1"}}), good, bad)
	if err != nil {
		t.Fatal(err)
	}
	s := &ImageSource{Images: []NamedImage{{Ref: "img", Digest: "sha256:0", Image: img}}}
	got, err := collectImage(t, s)
	if err == nil || !strings.Contains(err.Error(), "layer 2") {
		t.Fatalf("error %v, want one naming layer 2", err)
	}
	var paths []string
	for _, y := range got {
		paths = append(paths, y.Path)
	}
	for _, want := range []string{"a.txt", "b1.txt", "config:Env[0]"} {
		if !slices.Contains(paths, want) {
			t.Errorf("%s not yielded after the damage; got %v", want, paths)
		}
	}
	if errors.Is(err, context.Canceled) {
		t.Error("damage reported as a cancellation")
	}
}

// TestImageEntryPathsOutsideRoot: entries named "../x" or "/abs" are scanned under those names
// (nothing is extracted) with one warning per layer.
func TestImageEntryPathsOutsideRoot(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, name := range []string{"../../etc/cron.d/evil", "/abs/file.txt", "ok/../../up.txt"} {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: 2}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte("x\n")); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	img := imagetest.Image(t, imagetest.ConfigOptions{}, imagetest.LayerFromTar(t, buf.Bytes()))
	var warnings []string
	s := &ImageSource{Images: []NamedImage{named(t, "img", img)}, Warn: func(err error) { warnings = append(warnings, err.Error()) }}
	got, err := collectImage(t, s)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, y := range got {
		if y.Layer > 0 {
			paths = append(paths, y.Path)
		}
	}
	if diff := cmp.Diff([]string{"../../etc/cron.d/evil", "abs/file.txt", "ok/../../up.txt"}, paths); diff != "" {
		t.Errorf("paths (-want +got):\n%s", diff)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "never extracted") {
		t.Errorf("warnings %q, want one saying the entry is never extracted", warnings)
	}
}

// plainLayer stores its tar uncompressed, as a zstd or uncompressed layer is to the gzip path.
type plainLayer struct{ v1.Layer }

func (l plainLayer) Compressed() (io.ReadCloser, error) { return l.Layer.Uncompressed() }

// TestImageLayerNotGzip: a layer that is not gzip is read through go-containerregistry.
func TestImageLayerNotGzip(t *testing.T) {
	l := plainLayer{imagetest.Layer(t, map[string]string{"plain.txt": "plain\n"})}
	img, err := mutate.AppendLayers(imagetest.Image(t, imagetest.ConfigOptions{}), l)
	if err != nil {
		t.Fatal(err)
	}
	got, err := collectImage(t, &ImageSource{Images: []NamedImage{{Ref: "img", Digest: "sha256:0", Image: img}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 || got[0].Path != "plain.txt" || got[0].Content != "plain\n" {
		t.Errorf("got %+v, want plain.txt read", got)
	}
}
