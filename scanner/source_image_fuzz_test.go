package scanner

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"slices"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// fzImageMaxFile is the fuzzed image source's --max-file-size: small, so that it is reached.
const fzImageMaxFile = 4 << 10

// FuzzImageLayers builds an image from arbitrary bytes, split into two layers (tar, gzip or
// anything else) with an arbitrary Env value in its config, and runs the image source over it
// twice, as two images sharing those layers, with a small file size bound or none. It must not
// panic; it yields or returns an error, each part of which is one line, as is every warning;
// everything it yields is an image file or config field within the size bound, its ID the
// hash of its content; the second image gives what the first gave; and the memory allocated
// stays within a bound linear in the bytes the layers hold.
func FuzzImageLayers(f *testing.F) {
	for _, s := range fzImageSeeds(f) {
		f.Add(s.split, s.env, s.data, false)
		f.Add(s.split, s.env, s.data, true)
	}
	f.Fuzz(func(t *testing.T, split uint16, env string, data []byte, noLimit bool) {
		at := 0
		if len(data) > 0 {
			at = int(split) % (len(data) + 1)
		}
		img, err := mutate.AppendLayers(empty.Image,
			static.NewLayer(data[:at], types.DockerLayer), static.NewLayer(data[at:], types.OCILayer))
		if err != nil {
			t.Fatal(err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		cf = cf.DeepCopy()
		cf.Config.Env = []string{env}
		if img, err = mutate.ConfigFile(img, cf); err != nil {
			t.Fatal(err)
		}
		maxFile := int64(fzImageMaxFile)
		if noLimit {
			maxFile = 0 // --max-file-size -1
		}
		src := &ImageSource{
			Images: []NamedImage{
				{Ref: "fuzz:one", Digest: "sha256:1", Image: img},
				{Ref: "fuzz:two", Digest: "sha256:2", Image: img},
			},
			MaxFileSize: maxFile,
			Archives:    ArchiveLimits{MaxDepth: 2, MaxTotal: 256 << 10, MaxRatio: 50},
			Warn:        func(err error) { fzCheckOneLine(t, err) },
		}
		type seen struct {
			layer      int
			path, skip string
			id         BlobID
		}
		var got [2][]seen
		var total int64
		before := fzAllocated()
		err = src.Blobs(context.Background(), func(b Blob) error {
			o, ok := b.Origin.(ImageOrigin)
			if !ok {
				t.Fatalf("origin %T", b.Origin)
			}
			n := slices.Index([]string{"fuzz:one", "fuzz:two"}, o.Image)
			if n < 0 || o.Layer < 0 || o.Layer > 2 || (o.Layer == 0) != (o.LayerDigest == "") {
				t.Fatalf("origin %+v", o)
			}
			switch {
			case b.Skip != "" && b.Content != nil:
				t.Fatalf("%s: skipped (%s) with content", o, b.Skip)
			case b.Skip == "" && b.Content != nil && HashBlob(b.Content) != b.ID:
				t.Fatalf("%s: ID is not the content's hash", o)
			case b.Skip == "" && o.Layer > 0 && b.Content != nil && int64(len(b.Content)) != b.Size:
				t.Fatalf("%s: Size %d for %d bytes", o, b.Size, len(b.Content))
			case b.Skip == "" && o.Layer > 0 && maxFile > 0 && int64(len(b.Content)) > maxFile:
				t.Fatalf("%s: %d bytes, more than MaxFileSize", o, len(b.Content))
			}
			total += int64(len(b.Content))
			got[n] = append(got[n], seen{o.Layer, o.Path, b.Skip, b.ID})
			return nil
		})
		allocated := fzAllocated() - before
		if err != nil {
			fzCheckOneLine(t, err)
			var stop stopErr
			if errors.As(err, &stop) {
				t.Fatalf("a yield error that was never returned: %v", err)
			}
		}
		if env != "" && !slices.ContainsFunc(got[0], func(s seen) bool { return s.layer == 0 && s.path == "config:Env[0]" }) {
			t.Fatalf("the config's Env was not yielded")
		}
		if err == nil && !slices.Equal(got[0], got[1]) {
			t.Fatalf("the image sharing the layers gave other blobs:\n%v\n%v", got[0], got[1])
		}
		// Each layer entry takes a 512-byte tar header and yields its own bytes, or at most
		// MaxTotal from an archive; the read-ahead takes 2 MiB a layer; every other allocation
		// is some multiple of the bytes actually read, never of a size the input declares.
		size := fzLayerSize(data[:at]) + fzLayerSize(data[at:])
		if bound := 2*int64(len(env)) + size + (size/512+1)*src.Archives.MaxTotal; total > bound {
			t.Fatalf("yielded %d bytes from layers of %d, more than %d", total, size, bound)
		}
		if bound := uint64(8<<20) + 1024*uint64(size+int64(len(env))); allocated > bound {
			t.Fatalf("allocated %d bytes for layers of %d bytes, more than %d", allocated, size, bound)
		}
	})
}

// fzLayerSize is how many bytes a layer's tar stream holds: its length, or for gzip what it
// inflates to.
func fzLayerSize(b []byte) int64 {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return int64(len(b))
	}
	n, _ := io.Copy(io.Discard, io.LimitReader(zr, 1<<30))
	return max(n, int64(len(b)))
}

type fzImageSeed struct {
	split uint16
	env   string
	data  []byte
}

// fzImageSeeds builds layers with what image scans meet: files, links, whiteouts, an opaque
// directory, a file past the size bound, a binary file, archives, gzip compression, and a
// layer cut short.
func fzImageSeeds(t testing.TB) []fzImageSeed {
	t.Helper()
	type entry struct {
		hdr  tar.Header
		body []byte
	}
	layer := func(es ...entry) []byte {
		var b bytes.Buffer
		tw := tar.NewWriter(&b)
		for _, e := range es {
			e.hdr.Size = int64(len(e.body))
			if e.hdr.Typeflag == 0 {
				e.hdr.Typeflag = tar.TypeReg
			}
			if e.hdr.Typeflag != tar.TypeReg {
				e.hdr.Size = 0
			}
			if err := tw.WriteHeader(&e.hdr); err != nil {
				t.Fatal(err)
			}
			if _, err := tw.Write(e.body); err != nil {
				t.Fatal(err)
			}
		}
		if err := tw.Close(); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	file := func(name, body string) entry { return entry{tar.Header{Name: name, Mode: 0o644}, []byte(body)} }
	base := layer(
		entry{hdr: tar.Header{Name: "app/", Typeflag: tar.TypeDir}},
		file("app/.env", "API_TOKEN=abc123\n"),
		file("./etc/secret.conf", "password: hunter2\n"),
		file("cache/big.bin", string(make([]byte, fzImageMaxFile+1))),
		entry{tar.Header{Name: "bin/tool", Mode: 0o755}, []byte("\x7fELF\x00\x00\x01")},
		entry{hdr: tar.Header{Name: "app/link", Typeflag: tar.TypeSymlink, Linkname: "/etc/secret.conf"}},
		entry{tar.Header{Name: "app/lib.jar"}, fzZip(t, false, fzFile{name: "application.properties", body: []byte("spring.datasource.password=x\n")})},
		file("../../outside", "x"),
	)
	top := layer(
		entry{hdr: tar.Header{Name: "app/.wh..env"}},
		entry{hdr: tar.Header{Name: "etc/.wh..wh..opq"}},
		file("app/.env", "API_TOKEN=\n"),
		entry{tar.Header{Name: "data.tar.gz"}, gzipOf(t, "", fzTar(t, fzFile{name: "k", body: []byte("v")}))},
	)
	gz := gzipOf(t, "", top)
	// An archive whose header claims 200 MiB, of which a few KiB follow: the claim, not the
	// bytes, once decided what was allocated (and without a size bound, for any file).
	var liar bytes.Buffer
	tw := tar.NewWriter(&liar)
	if err := tw.WriteHeader(&tar.Header{Name: "lie.zip", Typeflag: tar.TypeReg, Mode: 0o644, Size: 200 << 20}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(append([]byte("PK\x03\x04"), make([]byte, 9000)...)); err != nil {
		t.Fatal(err)
	}
	var huge bytes.Buffer
	tw = tar.NewWriter(&huge)
	if err := tw.WriteHeader(&tar.Header{Name: "huge.log", Typeflag: tar.TypeReg, Mode: 0o644, Size: 1 << 36}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write([]byte("only this much\n")); err != nil {
		t.Fatal(err)
	}
	return []fzImageSeed{
		{uint16(len(base)), "SECRET_KEY=from-the-env", append(slices.Clone(base), top...)},
		{uint16(len(base)), "", append(slices.Clone(base), gz...)},
		{uint16(len(base) / 2), "A=1", append(slices.Clone(base), top...)}, // both layers cut in the middle of an entry
		{0, "", gz},
		{uint16(len(top)), "", append(slices.Clone(top), top...)}, // the same layer twice
		{3, "", []byte("not a tar at all, nor a gzip")},
		{0, "", liar.Bytes()},
		{0, "", huge.Bytes()},
	}
}
