package scanner

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Archives are built here rather than kept as binary fixtures: what each test feeds in is
// readable next to what it expects.

type arcFile struct {
	name string
	body string
	typ  byte   // tar type; 0 = regular file
	raw  []byte // body as bytes, when it is an archive itself
}

func (f arcFile) content() []byte {
	if f.raw != nil {
		return f.raw
	}
	return []byte(f.body)
}

func zipOf(t testing.TB, files ...arcFile) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, f := range files {
		h := &zip.FileHeader{Name: f.name, Method: zip.Deflate}
		switch f.typ {
		case tar.TypeSymlink:
			h.SetMode(fs.ModeSymlink | 0o777)
		case tar.TypeDir:
			h.Name = strings.TrimSuffix(f.name, "/") + "/"
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(f.content()); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func tarOf(t testing.TB, files ...arcFile) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: 0o644, Typeflag: tar.TypeReg, Size: int64(len(f.content()))}
		if f.typ != 0 {
			h.Typeflag, h.Size, h.Linkname = f.typ, 0, "target"
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if f.typ == 0 {
			if _, err := tw.Write(f.content()); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func gzipOf(t testing.TB, name string, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Name = name
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// v7Tar strips the ustar magic from every header of a tar, as an old tar writes it.
func v7Tar(t testing.TB, data []byte) []byte {
	t.Helper()
	out := bytes.Clone(data)
	for off := 0; off+512 <= len(out); {
		h := out[off : off+512]
		if h[0] == 0 {
			break
		}
		size, err := strconv.ParseInt(strings.Trim(string(h[124:136]), " \x00"), 8, 64)
		if err != nil {
			t.Fatal(err)
		}
		clear(h[257:265])
		var sum int64
		copy(h[148:156], "        ")
		for _, c := range h {
			sum += int64(c)
		}
		copy(h[148:156], fmt.Sprintf("%06o\x00 ", sum))
		off += 512 + int((size+511)/512*512)
	}
	return out
}

// zeroDeflate is a raw deflate stream of mib MiB of zeros, built by repeating one flushed
// chunk: compressing a gigabyte for real would take seconds.
func zeroDeflate(mib int) []byte {
	c := zeroChunk()
	out := make([]byte, 0, len(c)*mib+2)
	for range mib {
		out = append(out, c...)
	}
	return append(out, 0x03, 0x00) // a final empty fixed-Huffman block
}

var zeroChunk = sync.OnceValue(func() []byte {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestCompression)
	w.Write(make([]byte, 1<<20))
	w.Flush()
	return b.Bytes()
})

var zeroGiBCRC = sync.OnceValue(func() uint32 {
	mib := make([]byte, 1<<20)
	var crc uint32
	for range 1024 {
		crc = crc32.Update(crc, crc32.IEEETable, mib)
	}
	return crc
})

func rawZip(t testing.TB, name string, crc uint32, csize, usize uint64, raw []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: name, Method: zip.Deflate, CRC32: crc, CompressedSize64: csize, UncompressedSize64: usize})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(raw)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// rawGzip wraps a raw deflate stream in a gzip header and a trailer declaring isize.
func rawGzip(raw []byte, crc, isize uint32) []byte {
	out := append([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}, raw...)
	out = binary.LittleEndian.AppendUint32(out, crc)
	return binary.LittleEndian.AppendUint32(out, isize)
}

// got is an entry as the tests compare it.
type got struct {
	Path, Content, Skip string
	Size                int64
}

type expansionResult struct {
	entries  []got
	warnings []string
	err      error
	alloc    uint64 // bytes allocated while expanding
}

func expandAll(t testing.TB, path string, data []byte, depth int, lim ArchiveLimits) expansionResult {
	t.Helper()
	return expandCtx(t, context.Background(), path, data, depth, lim, nil)
}

func expandCtx(t testing.TB, ctx context.Context, path string, data []byte, depth int, lim ArchiveLimits, stop func(ArchiveEntry) error) expansionResult {
	t.Helper()
	var r expansionResult
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	r.err = ExpandArchive(ctx, path, data, depth, lim,
		func(err error) { r.warnings = append(r.warnings, err.Error()) },
		func(e ArchiveEntry) error {
			if e.Skip != "" && e.Content != nil {
				t.Errorf("%s: skipped (%s) with content", e.Path, e.Skip)
			}
			if e.Skip == "" && int64(len(e.Content)) != e.Size {
				t.Errorf("%s: Size %d, content %d bytes", e.Path, e.Size, len(e.Content))
			}
			g := got{Path: e.Path, Skip: e.Skip, Size: e.Size}
			if len(e.Content) <= 64 {
				g.Content = string(e.Content)
			} else {
				g.Content = fmt.Sprintf("%d bytes", len(e.Content))
			}
			r.entries = append(r.entries, g)
			if stop != nil {
				return stop(e)
			}
			return nil
		})
	runtime.ReadMemStats(&after)
	r.alloc = after.TotalAlloc - before.TotalAlloc
	return r
}

func plainEntries(r expansionResult) []got {
	var out []got
	for _, e := range r.entries {
		out = append(out, got{Path: e.Path, Content: e.Content, Skip: e.Skip})
	}
	return out
}

func TestIsArchive(t *testing.T) {
	zipData := zipOf(t, arcFile{name: "a", body: "a"})
	tarData := tarOf(t, arcFile{name: "a", body: "a"})
	tests := []struct {
		name string
		file string
		head []byte
		want bool
	}{
		{name: "zip magic, any name", file: "report.docx", head: zipData, want: true},
		{name: "empty zip", file: "x", head: []byte("PK\x05\x06" + strings.Repeat("\x00", 18)), want: true},
		{name: "gzip magic", file: "x.bin", head: gzipOf(t, "", []byte("x")), want: true},
		{name: "ustar", file: "layer", head: tarData, want: true},
		{name: "old tar by name and checksum", file: "old.tar", head: v7Tar(t, tarData), want: true},
		{name: "old tar without the name", file: "old", head: v7Tar(t, tarData)},
		{name: "jar with a launch script before it", file: "app.JAR", head: []byte("#!/bin/bash\nexec java -jar $0\n"), want: true},
		{name: "empty jar", file: "app.jar"},
		{name: "gz name without gzip magic", file: "notes.gz", head: []byte("plain text")},
		{name: "tar name, text inside", file: "x.tar", head: bytes.Repeat([]byte("text "), 200)},
		{name: "text", file: "app.properties", head: []byte("password=hunter2")},
		{name: "short", file: "x", head: []byte("P")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			head := tt.head[:min(len(tt.head), 512)]
			if got := IsArchive(tt.file, head); got != tt.want {
				t.Errorf("IsArchive(%q) = %v, want %v", tt.file, got, tt.want)
			}
		})
	}
}

func TestExpandArchiveFormats(t *testing.T) {
	props := arcFile{name: "BOOT-INF/classes/app.properties", body: "db.password=fake"}
	jar := zipOf(t, props, arcFile{name: "META-INF/", typ: tar.TypeDir})
	tarData := tarOf(t,
		arcFile{name: "etc/", typ: tar.TypeDir},
		arcFile{name: "./etc/app.env", body: "TOKEN=fake"},
		arcFile{name: "etc/link", typ: tar.TypeSymlink},
		arcFile{name: "etc/hard", typ: tar.TypeLink},
		arcFile{name: "dev/null", typ: tar.TypeChar},
		arcFile{name: "etc/empty", body: ""},
	)
	tarWant := []got{
		{Path: "%s!/etc/app.env", Content: "TOKEN=fake"},
		{Path: "%s!/etc/empty"},
	}
	withPath := func(p string, g []got) []got {
		out := make([]got, len(g))
		for i, e := range g {
			out[i] = e
			out[i].Path = fmt.Sprintf(e.Path, p)
		}
		return out
	}

	tests := []struct {
		name string
		path string
		data []byte
		want []got
	}{
		{
			name: "zip, directories and symlinks skipped",
			path: "app.zip",
			data: zipOf(t, arcFile{name: "dir/", typ: tar.TypeDir}, arcFile{name: "dir/a.txt", body: "alpha"},
				arcFile{name: "dir/link", typ: tar.TypeSymlink, body: "/etc/passwd"}, arcFile{name: "b.txt", body: "beta"}),
			want: []got{{Path: "app.zip!/dir/a.txt", Content: "alpha"}, {Path: "app.zip!/b.txt", Content: "beta"}},
		},
		{
			name: "jar in war",
			path: "srv/app.war",
			data: zipOf(t, arcFile{name: "WEB-INF/lib/inner.jar", raw: jar}, arcFile{name: "index.html", body: "<html>"}),
			want: []got{
				{Path: "srv/app.war!/WEB-INF/lib/inner.jar!/BOOT-INF/classes/app.properties", Content: "db.password=fake"},
				{Path: "srv/app.war!/index.html", Content: "<html>"},
			},
		},
		{
			name: "jar behind a launch script",
			path: "app.jar",
			data: append([]byte("#!/bin/sh\nexec java -jar \"$0\" \"$@\"\n"), jar...),
			want: []got{{Path: "app.jar!/BOOT-INF/classes/app.properties", Content: "db.password=fake"}},
		},
		{name: "tar", path: "rootfs.tar", data: tarData, want: withPath("rootfs.tar", tarWant)},
		{name: "old tar", path: "rootfs.tar", data: v7Tar(t, tarData), want: withPath("rootfs.tar", tarWant)},
		{name: "tar.gz is one level", path: "opt/rootfs.tar.gz", data: gzipOf(t, "", tarData), want: withPath("opt/rootfs.tar.gz", tarWant)},
		{name: "tgz of an old tar", path: "rootfs.tgz", data: gzipOf(t, "", v7Tar(t, tarData)), want: withPath("rootfs.tgz", tarWant)},
		{
			name: "gz is named after the file",
			path: "var/log/app.log.gz",
			data: gzipOf(t, "other-name.log", []byte("GET /?key=fake")),
			want: []got{{Path: "var/log/app.log.gz!/app.log", Content: "GET /?key=fake"}},
		},
		{
			name: "gz without .gz is named by its header",
			path: "blob",
			data: gzipOf(t, "../secrets.env", []byte("K=V")),
			want: []got{{Path: "blob!/secrets.env", Content: "K=V"}},
		},
		{
			name: "zip inside gz",
			path: "bundle.zip.gz",
			data: gzipOf(t, "", zipOf(t, arcFile{name: "k.pem", body: "-----BEGIN"})),
			want: []got{{Path: "bundle.zip.gz!/bundle.zip!/k.pem", Content: "-----BEGIN"}},
		},
		{name: "empty zip", path: "empty.zip", data: zipOf(t)},
		{name: "empty tar", path: "empty.tar", data: tarOf(t)},
		{
			name: "not an archive is the file itself",
			path: "README",
			data: []byte("hello"),
			want: []got{{Path: "README", Content: "hello"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := expandAll(t, tt.path, tt.data, 0, ArchiveLimits{})
			if r.err != nil {
				t.Fatalf("ExpandArchive: %v", r.err)
			}
			if diff := cmp.Diff(tt.want, plainEntries(r)); diff != "" {
				t.Errorf("entries (-want +got):\n%s", diff)
			}
			if len(r.warnings) > 0 {
				t.Errorf("warnings: %q", r.warnings)
			}
		})
	}
}

func TestExpandArchiveDepth(t *testing.T) {
	deep := zipOf(t, arcFile{name: "d.txt", body: "level 4"})
	inner := zipOf(t, arcFile{name: "c.txt", body: "level 3"}, arcFile{name: "deep.zip", raw: deep})
	mid := gzipOf(t, "", tarOf(t, arcFile{name: "b.txt", body: "level 2"}, arcFile{name: "inner.zip", raw: inner}))
	outer := zipOf(t, arcFile{name: "a.txt", body: "level 1"}, arcFile{name: "lib/mid.tar.gz", raw: mid})

	a := got{Path: "outer.zip!/a.txt", Content: "level 1"}
	b := got{Path: "outer.zip!/lib/mid.tar.gz!/b.txt", Content: "level 2"}
	c := got{Path: "outer.zip!/lib/mid.tar.gz!/inner.zip!/c.txt", Content: "level 3"}
	d := got{Path: "outer.zip!/lib/mid.tar.gz!/inner.zip!/deep.zip!/d.txt", Content: "level 4"}
	tests := []struct {
		name     string
		maxDepth int
		depth    int
		path     string
		data     []byte
		want     []got
		warning  string // "" = none
	}{
		{
			name: "default opens three levels", path: "outer.zip", data: outer,
			want:    []got{a, b, c, {Path: "outer.zip!/lib/mid.tar.gz!/inner.zip!/deep.zip", Content: fmt.Sprintf("%d bytes", len(deep))}},
			warning: `expanding "outer.zip!/lib/mid.tar.gz!/inner.zip!/deep.zip": not opened, archives nested more than 3 levels deep are scanned as plain files`,
		},
		{name: "four", maxDepth: 4, path: "outer.zip", data: outer, want: []got{a, b, c, d}},
		{
			name: "one", maxDepth: 1, path: "outer.zip", data: outer,
			want:    []got{a, {Path: "outer.zip!/lib/mid.tar.gz", Content: fmt.Sprintf("%d bytes", len(mid))}},
			warning: `expanding "outer.zip!/lib/mid.tar.gz": not opened, archives nested more than 1 levels deep are scanned as plain files`,
		},
		{
			name: "negative opens nothing, silently", maxDepth: -1, path: "outer.zip", data: outer,
			want: []got{{Path: "outer.zip", Content: fmt.Sprintf("%d bytes", len(outer))}},
		},
		{
			name: "an archive already two deep opens one more level", depth: 2, path: "x.tar!/y.zip!/inner.zip", data: inner,
			want: []got{
				{Path: "x.tar!/y.zip!/inner.zip!/c.txt", Content: "level 3"},
				{Path: "x.tar!/y.zip!/inner.zip!/deep.zip", Content: fmt.Sprintf("%d bytes", len(deep))},
			},
			warning: `expanding "x.tar!/y.zip!/inner.zip!/deep.zip": not opened, archives nested more than 3 levels deep are scanned as plain files`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := expandAll(t, tt.path, tt.data, tt.depth, ArchiveLimits{MaxDepth: tt.maxDepth})
			if r.err != nil {
				t.Fatalf("ExpandArchive: %v", r.err)
			}
			if diff := cmp.Diff(tt.want, plainEntries(r)); diff != "" {
				t.Errorf("entries (-want +got):\n%s", diff)
			}
			var want []string
			if tt.warning != "" {
				want = []string{tt.warning}
			}
			if diff := cmp.Diff(want, r.warnings); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestExpandArchivePathsOutside(t *testing.T) {
	// Entries are expanded from a fresh working directory two levels below an empty root: an
	// extraction gone wrong would leave files in either.
	root := t.TempDir()
	cwd := filepath.Join(root, "a", "b")
	if err := os.MkdirAll(cwd, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(cwd)
	abs := fmt.Sprintf("/keywarden-archive-test-%d", time.Now().UnixNano())

	tarData := tarOf(t,
		arcFile{name: "../../escaped-tar", body: "x"},
		arcFile{name: abs + "/key", body: "y"},
		arcFile{name: "./ok.txt", body: "z"},
		arcFile{name: "a/../../../up", body: "w"},
	)
	zipData := zipOf(t,
		arcFile{name: `..\..\escaped-zip`, body: "x"},
		arcFile{name: `C:\Windows\win.ini`, body: "y"},
		arcFile{name: "/etc/cron.d/job", body: "z"},
	)
	tests := []struct {
		name     string
		path     string
		data     []byte
		want     []got
		warning  string // the last one
		warnings int
	}{
		{
			name: "tar",
			path: "evil.tar",
			data: tarData,
			want: []got{
				{Path: "evil.tar!/../../escaped-tar", Content: "x"},
				{Path: "evil.tar!" + abs + "/key", Content: "y"},
				{Path: "evil.tar!/ok.txt", Content: "z"},
				{Path: "evil.tar!/../../up", Content: "w"},
			},
			warning:  `expanding "evil.tar": entry with a path outside the archive: "../../escaped-tar"`,
			warnings: 1,
		},
		{
			name: "zip",
			path: "evil.zip",
			data: zipData,
			want: []got{
				{Path: "evil.zip!/../../escaped-zip", Content: "x"},
				{Path: "evil.zip!/Windows/win.ini", Content: "y"},
				{Path: "evil.zip!/etc/cron.d/job", Content: "z"},
			},
			warning:  `expanding "evil.zip": entry with a path outside the archive: "..\\..\\escaped-zip"`,
			warnings: 1,
		},
		{
			name: "zip without its central directory",
			path: "evil.zip",
			data: zipData[:bytes.Index(zipData, zipCentralSig)],
			want: []got{
				{Path: "evil.zip!/../../escaped-zip", Content: "x"},
				{Path: "evil.zip!/Windows/win.ini", Content: "y"},
				{Path: "evil.zip!/etc/cron.d/job", Content: "z"},
			},
			warning:  `expanding "evil.zip": entry with a path outside the archive: "..\\..\\escaped-zip"`,
			warnings: 2, // and one about the central directory
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := expandAll(t, tt.path, tt.data, 0, ArchiveLimits{})
			if r.err != nil {
				t.Fatalf("ExpandArchive: %v", r.err)
			}
			if diff := cmp.Diff(tt.want, plainEntries(r)); diff != "" {
				t.Errorf("entries (-want +got):\n%s", diff)
			}
			if len(r.warnings) != tt.warnings || r.warnings[len(r.warnings)-1] != tt.warning {
				t.Errorf("warnings %q, want %d, the last %q", r.warnings, tt.warnings, tt.warning)
			}
		})
	}

	var left []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if p != root && p != filepath.Join(root, "a") && p != cwd {
			left = append(left, p)
		}
		return err
	})
	if len(left) > 0 {
		t.Errorf("expansion wrote to disk: %q", left)
	}
	if _, err := os.Stat(abs); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("expansion created %s: %v", abs, err)
	}
}

// maxAlloc is what a bomb's expansion may allocate: what the bounds let through (a 10 MiB file,
// a ratio-bounded stream) and its buffers, nowhere near the gigabyte it expands to.
const maxAlloc = 48 << 20

func TestExpandArchiveBombs(t *testing.T) {
	const gib = 1 << 30
	zeros := zeroDeflate(1024)
	t.Logf("1 GiB of zeros deflates to %d bytes", len(zeros))

	leaf := zipOf(t, arcFile{name: "0", raw: make([]byte, 512<<10)}, arcFile{name: "1", raw: make([]byte, 512<<10)},
		arcFile{name: "2", raw: make([]byte, 512<<10)}, arcFile{name: "3", raw: make([]byte, 512<<10)})
	var mids, tops []arcFile
	for i := range 4 {
		mids = append(mids, arcFile{name: fmt.Sprintf("%d.zip", i), raw: leaf})
	}
	mid := zipOf(t, mids...)
	for i := range 4 {
		tops = append(tops, arcFile{name: fmt.Sprintf("%d.zip", i), raw: mid})
	}
	nested := zipOf(t, tops...) // 64 zeros files of 512 KiB: 32 MiB

	var zeroTar bytes.Buffer
	tw := tar.NewWriter(&zeroTar)
	tw.WriteHeader(&tar.Header{Name: "zeros", Mode: 0o644, Size: 8 << 20})
	tw.Write(make([]byte, 8<<20))
	tw.Close()
	tarGz := gzipOf(t, "", zeroTar.Bytes())

	tests := []struct {
		name    string
		path    string
		data    []byte
		lim     ArchiveLimits
		want    []got
		warning string // "" = not compared
	}{
		{
			name: "zip of a gigabyte of zeros",
			path: "bomb.zip",
			data: rawZip(t, "zeros", zeroGiBCRC(), uint64(len(zeros)), gib, zeros),
			want: []got{{Path: "bomb.zip!/zeros", Skip: SkipArchiveLimit, Size: gib}},
			warning: fmt.Sprintf(`expanding "bomb.zip": stopped at "zeros": expands to more than 200 times its %d compressed bytes: archive limit`,
				len(zeros)),
		},
		{
			name:    "zip header understating the size",
			path:    "liar.zip",
			data:    rawZip(t, "zeros", zeroGiBCRC(), uint64(len(zeros)), 1000, zeros),
			want:    []got{{Path: "liar.zip!/zeros", Skip: SkipArchiveLimit, Size: 1000}},
			warning: `expanding "liar.zip": stopped at "zeros": expands beyond the 1000 bytes its header declares: archive limit`,
		},
		{
			name: "zip header overstating the compressed size",
			path: "liar.zip",
			data: rawZip(t, "zeros", zeroGiBCRC(), 10*gib, gib, zeros),
			want: []got{{Path: "liar.zip!/zeros", Skip: SkipArchiveLimit, Size: gib}},
		},
		{
			// A gzip stream declares no size worth trusting: with the scan's file size bound
			// set, as it is, a bomb is a file too large to read.
			name: "gzip of a gigabyte of zeros, too large for the scan",
			path: "bomb.gz",
			data: rawGzip(zeros, zeroGiBCRC(), gib),
			lim:  ArchiveLimits{MaxEntry: 10 << 20},
			want: []got{{Path: "bomb.gz!/bomb", Skip: SkipTooLarge, Size: 10<<20 + 1}},
		},
		{
			name:    "gzip of a gigabyte of zeros, stopped at the ratio",
			path:    "bomb.gz",
			data:    rawGzip(zeros, zeroGiBCRC(), gib),
			lim:     ArchiveLimits{MaxRatio: 10},
			want:    []got{{Path: "bomb.gz!/bomb", Skip: SkipArchiveLimit, Size: 10 * int64(len(zeros)+18)}},
			warning: fmt.Sprintf(`expanding "bomb.gz": stopped at "bomb": expands to more than 10 times its %d compressed bytes: archive limit`, len(zeros)+18),
		},
		{
			name:    "tar.gz stopped at the ratio",
			path:    "zeros.tar.gz",
			data:    tarGz,
			lim:     ArchiveLimits{MaxRatio: 10},
			want:    []got{{Path: "zeros.tar.gz!/zeros", Skip: SkipArchiveLimit, Size: 8 << 20}},
			warning: fmt.Sprintf(`expanding "zeros.tar.gz": stopped at "zeros": expands to more than 10 times its %d compressed bytes: archive limit`, len(tarGz)),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			r := expandAll(t, tt.path, tt.data, 0, tt.lim)
			t.Logf("%v, %d MiB allocated, %d entries", time.Since(start).Round(time.Millisecond), r.alloc>>20, len(r.entries))
			if r.err != nil {
				t.Fatalf("ExpandArchive: %v", r.err)
			}
			if r.alloc > maxAlloc {
				t.Errorf("allocated %d MiB expanding a %d KiB bomb", r.alloc>>20, len(tt.data)>>10)
			}
			if diff := cmp.Diff(tt.want, r.entries); diff != "" {
				t.Errorf("entries (-want +got):\n%s", diff)
			}
			wantWarnings := 1
			if tt.want[0].Skip == SkipTooLarge {
				wantWarnings = 0
			}
			if len(r.warnings) != wantWarnings || tt.warning != "" && r.warnings[0] != tt.warning {
				t.Errorf("warnings: %q, want %d: %q", r.warnings, wantWarnings, tt.warning)
			}
		})
	}

	// Where the total bound falls is no business of the test's; that it holds is.
	t.Run("nested zips stopped by the total", func(t *testing.T) {
		lim := ArchiveLimits{MaxTotal: 8 << 20}
		r := expandAll(t, "42.zip", nested, 0, lim)
		if r.err != nil {
			t.Fatal(r.err)
		}
		if r.alloc > maxAlloc {
			t.Errorf("allocated %d MiB", r.alloc>>20)
		}
		var read int64
		limited := 0
		for _, e := range r.entries {
			switch e.Skip {
			case "":
				read += e.Size
			case SkipArchiveLimit:
				limited++
			default:
				t.Errorf("%s skipped: %s", e.Path, e.Skip)
			}
		}
		if read == 0 || read > lim.MaxTotal {
			t.Errorf("yielded %d bytes, want some and at most %d", read, lim.MaxTotal)
		}
		if limited == 0 {
			t.Errorf("no entry stopped by the bound: %v", r.entries)
		}
		if len(r.warnings) != 1 || !strings.Contains(r.warnings[0], "expanded to more than 8388608 bytes in all: decompressed size bound: archive limit") {
			t.Errorf("warnings: %q, want one about the total", r.warnings)
		}
	})
}

func TestExpandArchiveCorrupt(t *testing.T) {
	// Hex of a hash chain compresses poorly, so a cut in a compressed archive lands where expected.
	var big strings.Builder
	h := []byte("seed")
	for big.Len() < 4000 {
		sum := sha256.Sum256(h)
		h = sum[:]
		big.WriteString(hex.EncodeToString(h) + "\n")
	}
	files := []arcFile{{name: "one.txt", body: "first"}, {name: "two.txt", body: big.String()}, {name: "three.txt", body: "third"}}
	zipData := zipOf(t, files...)
	tarData := tarOf(t, files...)
	tgz := gzipOf(t, "", tarData)

	flipped := bytes.Clone(zipData)
	twoAt := bytes.Index(flipped, []byte("two.txt")) + len("two.txt") + 10
	for i := range 8 {
		flipped[twoAt+i] ^= 0xff
	}

	// A zip with sizes in its local headers (no data descriptors), as most tools write them.
	var sized bytes.Buffer
	zw := zip.NewWriter(&sized)
	for _, f := range files {
		var c bytes.Buffer
		fw, _ := flate.NewWriter(&c, flate.DefaultCompression)
		fw.Write([]byte(f.body))
		fw.Close()
		w, _ := zw.CreateRaw(&zip.FileHeader{Name: f.name, Method: zip.Deflate, CRC32: crc32.ChecksumIEEE([]byte(f.body)),
			CompressedSize64: uint64(c.Len()), UncompressedSize64: uint64(len(f.body))})
		w.Write(c.Bytes())
	}
	zw.Close()
	sizedData := sized.Bytes()

	one := got{Path: "%s!/one.txt", Content: "first"}
	two := got{Path: "%s!/two.txt", Content: fmt.Sprintf("%d bytes", big.Len())}
	twoBad := got{Path: "%s!/two.txt", Skip: SkipUnreadable}
	threeBad := got{Path: "%s!/three.txt", Skip: SkipUnreadable}
	bigGz := gzipOf(t, "", []byte(big.String()))

	tests := []struct {
		name     string
		path     string
		data     []byte
		want     []got
		warnings int
	}{
		{name: "zip cut in its third entry", path: "cut.zip", data: zipData[:bytes.Index(zipData, []byte("three.txt"))+len("three.txt")+2], want: []got{one, two, threeBad}, warnings: 2},
		{name: "zip cut in its second entry", path: "cut.zip", data: zipData[:twoAt+20], want: []got{one, twoBad}, warnings: 2},
		{name: "sized zip cut in its second entry", path: "cut.zip", data: sizedData[:bytes.Index(sizedData, []byte("two.txt"))+30], want: []got{one, twoBad}, warnings: 2},
		{name: "sized zip cut after its second entry", path: "cut.zip", data: sizedData[:bytes.Index(sizedData, []byte("three.txt"))-5], want: []got{one, two}, warnings: 2},
		{name: "zip with a damaged entry", path: "bad.zip", data: flipped, want: []got{one, twoBad, {Path: "%s!/three.txt", Content: "third"}}, warnings: 1},
		{name: "tar cut in its second entry", path: "cut.tar", data: tarData[:1536+300], want: []got{one, twoBad}, warnings: 1},
		{name: "tar cut in its second header", path: "cut.tar", data: tarData[:1024+300], want: []got{one}, warnings: 1},
		{name: "tar.gz cut short", path: "cut.tgz", data: tgz[:len(tgz)*2/3], want: []got{one, twoBad}, warnings: 1},
		{name: "gz cut short", path: "cut.gz", data: bigGz[:len(bigGz)/2], want: []got{{Path: "%s!/cut", Skip: SkipUnreadable}}, warnings: 1},
		{name: "gz with a bad checksum", path: "bad.gz", data: corruptTrailer(bigGz), want: []got{{Path: "%s!/bad", Skip: SkipUnreadable}}, warnings: 1},
		{name: "zip magic then garbage", path: "junk.zip", data: []byte("PK\x03\x04 this is not a zip at all"), want: []got{{Path: "%s", Content: "PK\x03\x04 this is not a zip at all"}}, warnings: 2},
		{name: "jar name, not a zip", path: "fake.jar", data: []byte("just text"), want: []got{{Path: "%s", Content: "just text"}}},
		{name: "ustar magic, bad header", path: "bad.tar", data: corruptChecksum(tarData), want: []got{{Path: "%s", Content: fmt.Sprintf("%d bytes", len(tarData))}}, warnings: 1},
		{name: "gzip magic, bad header", path: "bad.gz", data: []byte{0x1f, 0x8b, 8, 0xff}, want: []got{{Path: "%s", Content: "\x1f\x8b\b\xff"}}, warnings: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := expandAll(t, tt.path, tt.data, 0, ArchiveLimits{})
			if r.err != nil {
				t.Fatalf("ExpandArchive: %v", r.err)
			}
			want := make([]got, len(tt.want))
			for i, e := range tt.want {
				want[i] = e
				want[i].Path = strings.ReplaceAll(e.Path, "%s", tt.path)
			}
			if diff := cmp.Diff(want, plainEntries(r)); diff != "" {
				t.Errorf("entries (-want +got):\n%s", diff)
			}
			if len(r.warnings) != tt.warnings {
				t.Errorf("warnings: %q, want %d", r.warnings, tt.warnings)
			}
		})
	}

	t.Run("every truncation", func(t *testing.T) {
		nested := zipOf(t, arcFile{name: "a.txt", body: "alpha"},
			arcFile{name: "in.tar.gz", raw: gzipOf(t, "", tarOf(t, arcFile{name: "b.txt", body: "beta"}, arcFile{name: "c.zip", raw: sizedData}))})
		for _, data := range [][]byte{nested, zipData, tgz} {
			for n := range len(data) {
				err := ExpandArchive(context.Background(), "x", data[:n], 0, ArchiveLimits{}, func(error) {}, func(ArchiveEntry) error { return nil })
				if err != nil {
					t.Fatalf("cut at %d: %v", n, err)
				}
			}
		}
	})
}

func corruptTrailer(gz []byte) []byte {
	out := bytes.Clone(gz)
	out[len(out)-8] ^= 0xff
	return out
}

func corruptChecksum(tarData []byte) []byte {
	out := bytes.Clone(tarData)
	out[148] = '9'
	return out
}

func TestExpandArchiveMaxEntry(t *testing.T) {
	big := strings.Repeat("x", 2000)
	inner := zipOf(t, arcFile{name: "small", body: "ok"}, arcFile{name: "pad", body: strings.Repeat("y", 3000)})
	files := []arcFile{{name: "small.txt", body: "small"}, {name: "big.txt", body: big}, {name: "inner.jar", raw: inner}}
	want := []got{
		{Path: "%s!/small.txt", Content: "small", Size: 5},
		{Path: "%s!/big.txt", Skip: SkipTooLarge, Size: 2000},
		{Path: "%s!/inner.jar!/small", Content: "ok", Size: 2},
		{Path: "%s!/inner.jar!/pad", Skip: SkipTooLarge, Size: 3000},
	}
	tests := []struct {
		name string
		path string
		data []byte
		want []got
	}{
		{name: "zip", path: "a.zip", data: zipOf(t, files...), want: want},
		{name: "tar", path: "a.tar", data: tarOf(t, files...), want: want},
		{name: "tar.gz", path: "a.tar.gz", data: gzipOf(t, "", tarOf(t, files...)), want: want},
		{name: "gz", path: "big.txt.gz", data: gzipOf(t, "", []byte(big)), want: []got{{Path: "%s!/big.txt", Skip: SkipTooLarge, Size: 1001}}},
		{name: "empty file named .zip", path: "a.zip", data: []byte{}, want: []got{{Path: "%s", Size: 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := expandAll(t, tt.path, tt.data, 0, ArchiveLimits{MaxEntry: 1000})
			if r.err != nil {
				t.Fatal(r.err)
			}
			w := make([]got, len(tt.want))
			for i, e := range tt.want {
				w[i] = e
				w[i].Path = strings.ReplaceAll(e.Path, "%s", tt.path)
			}
			if diff := cmp.Diff(w, r.entries); diff != "" {
				t.Errorf("entries (-want +got):\n%s", diff)
			}
			if len(r.warnings) > 0 {
				t.Errorf("warnings: %q", r.warnings)
			}
		})
	}

	t.Run("an archive too deep to open", func(t *testing.T) {
		r := expandAll(t, "a.zip", zipOf(t, files...), 0, ArchiveLimits{MaxEntry: int64(len(inner)) - 1, MaxDepth: 1})
		if r.err != nil {
			t.Fatal(r.err)
		}
		if e := r.entries[len(r.entries)-1]; e != (got{Path: "a.zip!/inner.jar", Skip: SkipTooLarge, Size: int64(len(inner))}) {
			t.Errorf("last entry %+v, want a.zip!/inner.jar too large", e)
		}
	})
}

func TestExpandArchiveStops(t *testing.T) {
	inner := zipOf(t, arcFile{name: "x", body: "1"}, arcFile{name: "y", body: "2"})
	data := gzipOf(t, "", tarOf(t, arcFile{name: "a", body: "a"}, arcFile{name: "in.zip", raw: inner}, arcFile{name: "b", body: "b"}))
	errStop := errors.New("stop")

	t.Run("yield error", func(t *testing.T) {
		r := expandCtx(t, context.Background(), "t.tgz", data, 0, ArchiveLimits{}, func(e ArchiveEntry) error {
			if strings.HasSuffix(e.Path, "in.zip!/x") {
				return errStop
			}
			return nil
		})
		if r.err != errStop {
			t.Errorf("err = %v, want yield's error unchanged", r.err)
		}
		if len(r.entries) != 2 {
			t.Errorf("entries after the error: %v", r.entries)
		}
	})
	t.Run("cancelled in yield", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		r := expandCtx(t, ctx, "t.tgz", data, 0, ArchiveLimits{}, func(ArchiveEntry) error {
			cancel()
			return nil
		})
		if !errors.Is(r.err, context.Canceled) || len(r.entries) != 1 {
			t.Errorf("err = %v after %d entries, want context.Canceled after 1", r.err, len(r.entries))
		}
	})
	t.Run("cancelled before", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		r := expandCtx(t, ctx, "t.tgz", data, 0, ArchiveLimits{}, nil)
		if !errors.Is(r.err, context.Canceled) || len(r.entries) != 0 {
			t.Errorf("err = %v after %d entries, want context.Canceled before any", r.err, len(r.entries))
		}
	})
	t.Run("cancelled inside a large entry", func(t *testing.T) {
		big := tarOf(t, arcFile{name: "big", raw: make([]byte, 16<<20)})
		ctx := &cancelAfter{Context: context.Background(), n: 4}
		r := expandCtx(t, ctx, "big.tar", big, 0, ArchiveLimits{}, nil)
		if !errors.Is(r.err, context.Canceled) || len(r.entries) != 0 {
			t.Errorf("err = %v after %d entries, want context.Canceled before any", r.err, len(r.entries))
		}
		if ctx.calls > 8 {
			t.Errorf("ctx looked at %d times, want cancelling noticed at once", ctx.calls)
		}
	})
}

// cancelAfter is a context that reports itself cancelled from its nth look on.
type cancelAfter struct {
	context.Context
	n, calls int
}

func (c *cancelAfter) Err() error {
	c.calls++
	if c.calls >= c.n {
		return context.Canceled
	}
	return nil
}

func TestZeroDeflate(t *testing.T) {
	r := flate.NewReader(bytes.NewReader(zeroDeflate(3)))
	n, err := io.Copy(io.Discard, r)
	if err != nil || n != 3<<20 {
		t.Fatalf("inflated %d bytes, %v; want %d", n, err, 3<<20)
	}
}

func FuzzExpandArchive(f *testing.F) {
	f.Add("a.zip", zipOf(f, arcFile{name: "a", body: "a"}, arcFile{name: "b.tgz", raw: gzipOf(f, "", tarOf(f, arcFile{name: "c", body: "c"}))}))
	f.Add("a.tar", tarOf(f, arcFile{name: "../a", body: "a"}))
	f.Add("a.gz", gzipOf(f, "a", []byte("a")))
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		var total int64
		err := ExpandArchive(context.Background(), name, data, 0, ArchiveLimits{MaxTotal: 1 << 20, MaxEntry: 1 << 16}, func(error) {},
			func(e ArchiveEntry) error {
				total += int64(len(e.Content))
				return nil
			})
		if err != nil {
			t.Fatal(err)
		}
		if total > 1<<20+int64(len(data)) {
			t.Errorf("yielded %d bytes", total)
		}
	})
}
