package scanner

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"io"
	mrand "math/rand/v2"
	"runtime/metrics"
	"strings"
	"testing"
)

// fzArchiveNames are the names an archive is fuzzed under: the name decides whether a zip
// with a prefix or an old tar is an archive, and what a gzip's content is called.
var fzArchiveNames = []string{"a.zip", "lib/app.jar", "a.tar", "a.tar.gz", "a.tgz", "notes.txt.gz", "a.bin", "x.war"}

// fzArchiveLimits are small, so that a bound is reached within a fuzz input's size.
var fzArchiveLimits = ArchiveLimits{MaxDepth: 3, MaxTotal: 1 << 20, MaxRatio: 50, MaxEntry: 64 << 10}

// FuzzExpandArchiveLimits feeds arbitrary bytes, named as zip, jar, tar, tar.gz or gz, to the
// archive walker. It must not panic or fail (yield never does); every entry lies under the
// archive's path, is read or skipped for a known reason, and is no larger than MaxEntry; all
// content yielded together stays within MaxTotal plus the input; the memory allocated stays
// within a bound linear in the input; every warning is one line; and a file that is no archive
// is yielded whole.
func FuzzExpandArchiveLimits(f *testing.F) {
	for _, s := range fzArchiveSeeds(f) {
		f.Add(s.name, s.data)
	}
	f.Fuzz(func(t *testing.T, nameIdx uint8, data []byte) {
		name := fzArchiveNames[int(nameIdx)%len(fzArchiveNames)]
		lim := fzArchiveLimits
		var total int64
		var entries int
		before := fzAllocated()
		err := ExpandArchive(context.Background(), name, data, 0, lim,
			func(err error) { fzCheckOneLine(t, err) },
			func(e ArchiveEntry) error {
				entries++
				if e.Path != name && !strings.HasPrefix(e.Path, name+"!/") {
					t.Fatalf("entry %q is not under %q", e.Path, name)
				}
				switch e.Skip {
				case "":
					if int64(len(e.Content)) != e.Size {
						t.Fatalf("entry %q: Size %d for %d bytes", e.Path, e.Size, len(e.Content))
					}
					if int64(len(e.Content)) > lim.MaxEntry {
						t.Fatalf("entry %q: %d bytes, more than MaxEntry %d", e.Path, len(e.Content), lim.MaxEntry)
					}
				case SkipTooLarge, SkipArchiveLimit, SkipUnreadable:
					if e.Content != nil {
						t.Fatalf("skipped entry %q (%s) has content", e.Path, e.Skip)
					}
				default:
					t.Fatalf("entry %q: unknown skip reason %q", e.Path, e.Skip)
				}
				total += int64(len(e.Content))
				return nil
			})
		allocated := fzAllocated() - before
		if err != nil {
			t.Fatalf("ExpandArchive: %v", err)
		}
		if !IsArchive(name, data[:min(len(data), headLen)]) && (entries != 1 || total != int64(len(data))) {
			t.Fatalf("a file that is no archive gave %d entries of %d bytes, not itself", entries, total)
		}
		if total > lim.MaxTotal+int64(len(data)) {
			t.Fatalf("yielded %d bytes in all from %d, more than MaxTotal %d allows", total, len(data), lim.MaxTotal)
		}
		if bound := fzAllocBound(lim, len(data)); allocated > bound {
			t.Fatalf("allocated %d bytes for a %d-byte input, more than %d", allocated, len(data), bound)
		}
	})
}

// fzAllocBound is the most one expansion may allocate: a few times the total bound, plus, per
// input byte, what one entry header can make it reserve (an entry costs 30 bytes of header,
// its buffer at most MaxEntry, and an inflater some 40 KiB).
func fzAllocBound(lim ArchiveLimits, n int) uint64 {
	return uint64(8*lim.MaxTotal) + uint64(n)*uint64(lim.MaxEntry+64<<10)/30
}

// fzAllocated is the bytes this process has allocated so far. The figure lags a little (small
// objects are counted when a cache of them is refilled), which the bounds allow for.
func fzAllocated() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

type fzArchiveSeed struct {
	name uint8
	data []byte
}

// fzArchiveSeeds builds one archive of every kind the walker opens, nested, damaged and
// bomb-shaped, each paired with the index of a name in fzArchiveNames.
func fzArchiveSeeds(t testing.TB) []fzArchiveSeed {
	t.Helper()
	rng := mrand.New(mrand.NewPCG(11, 3))
	noise := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	inner := fzTar(t, fzFile{name: "etc/app.env", body: []byte("TOKEN=abc\n")}, fzFile{name: "../escape", body: []byte("x")})
	jar := fzZip(t, false, fzFile{name: "BOOT-INF/classes/app.properties", body: []byte("db.password=hunter2\n")},
		fzFile{name: "BOOT-INF/lib/inner.jar", body: fzZip(t, true, fzFile{name: "x.properties", body: []byte("k=v")})})
	deep := fzZip(t, false, fzFile{name: "l4.txt", body: []byte("deepest")})
	for range 3 {
		deep = fzZip(t, false, fzFile{name: "nested.zip", body: deep})
	}
	bomb := fzZip(t, false, fzFile{name: "zeros", body: make([]byte, 2<<20)})
	noCentral := jar[:bytes.Index(jar, []byte("PK\x01\x02"))]
	return []fzArchiveSeed{
		{0, fzZip(t, false, fzFile{name: "a.txt", body: []byte("a")}, fzFile{name: "b.tgz", body: gzipOf(t, "", inner)},
			fzFile{name: `C:\win\path.ini`, body: []byte("p=1")}, fzFile{name: "/abs", body: noise(40)})},
		{1, jar},
		{1, append([]byte("#!/bin/sh\nexec java -jar \"$0\"\n"), jar...)}, // a launch script before the jar
		{0, deep},
		{0, bomb},
		{0, noCentral},
		{0, jar[:len(jar)-10]},
		{2, inner},
		{2, inner[:700]},
		{3, gzipOf(t, "a.tar", inner)},
		{4, gzipOf(t, "", fzTar(t, fzFile{name: "big", body: make([]byte, 200<<10)}))},
		{5, gzipOf(t, "notes.txt", []byte("password = s3cr3t-value\n"))},
		{5, gzipOf(t, "", make([]byte, 1<<20+1))},
		{6, noise(600)},
		{7, fzZip(t, true, fzFile{name: "WEB-INF/web.xml", body: []byte("<x/>")})},
	}
}

type fzFile struct {
	name string
	body []byte
}

// fzZip writes a zip; stored entries have their sizes in the local header, deflated ones after
// the data (archive/zip writes a data descriptor).
func fzZip(t testing.TB, store bool, files ...fzFile) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, f := range files {
		h := &zip.FileHeader{Name: f.name, Method: zip.Deflate}
		var w io.Writer
		var err error
		if store {
			h.Method = zip.Store
			h.CompressedSize64, h.UncompressedSize64 = uint64(len(f.body)), uint64(len(f.body))
			w, err = zw.CreateRaw(h)
		} else {
			w, err = zw.CreateHeader(h)
		}
		if err == nil {
			_, err = w.Write(f.body)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func fzTar(t testing.TB, files ...fzFile) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	if err := tw.WriteHeader(&tar.Header{Name: "etc/", Typeflag: tar.TypeDir, Mode: 0o755}); err != nil {
		t.Fatal(err)
	}
	if err := tw.WriteHeader(&tar.Header{Name: "etc/link", Typeflag: tar.TypeSymlink, Linkname: "/etc/shadow"}); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(f.body))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(f.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
