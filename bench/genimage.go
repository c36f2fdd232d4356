//go:build ignore

// Command genimage writes a synthetic container image for bench/image.sh: an OCI image layout
// of 8 gzip-compressed layers holding about SIZE MB (10^6 bytes) of file content, and, with
// -tree, the image's final file system (every layer applied in order, whiteouts included) as a
// plain directory, so that directory scanners can be given the same bytes.
//
//	go run bench/genimage.go -out DIR [-tree DIR] [-size 500] [-seed 1]
//
// The layers look like a real application image: a distribution base (shared libraries as
// ELF stand-ins, config files, gzipped man pages and changelogs), runtime packages (apt lists,
// site-packages), web dependencies (node_modules, bundles), Java archives (a Spring Boot-style
// fat jar with nested jars), the application's source (Go, Python, JS, YAML, JSON, Markdown),
// data (large logs, CSV, SQL, PNG stand-ins, gzipped logs), build output (ELF binaries, a build
// cache) and a clean-up layer that deletes files with whiteouts and an opaque directory.
//
// A handful of secrets are planted (listed on stdout, with which scan can see them). They are
// built at run time from the seed, never written literally here: keywarden scans its own
// repository. The output depends only on the flags: the same flags give the same digests.
//
// Printed on stdout, one "key=value" per line for scripts: content_bytes (regular files of all
// layers, as stored in the layers: a jar or .gz counts its compressed size), tar_bytes,
// compressed_bytes, files, tree_files, tree_bytes, digest; then the planted secrets.
package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"math/rand/v2"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// epoch is every entry's mtime, so that the digests do not depend on when this runs.
var epoch = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

type kind int

const (
	kGo kind = iota
	kPy
	kJS
	kYAML
	kJSON
	kConf
	kDoc
	kMarkdown
	kManGz
	kChangelogGz
	kLog
	kCSV
	kSQL
	kAptList
	kLogGz
	kELF
	kPNG
	kBuildCache // a Go build cache entry: object code with symbol strings
	kJar
	kFatJar
	kProperties
	kXML
	kPEM
	kEnv
	kWhiteout
)

// fileSpec is one regular file of a layer. Its content is generated from id alone.
type fileSpec struct {
	path   string
	kind   kind
	size   int      // target size: uncompressed for text, about the stored size for .gz and jars
	id     uint64   // seeds the content
	plants []string // lines holding planted secrets (a fat jar takes two: its own and a nested jar's)
}

type layerSpec struct {
	createdBy string
	files     []fileSpec
}

// secret is a planted secret and where a scan can find it.
type secret struct {
	rule, where, seenBy string
}

func main() {
	out := flag.String("out", "", "OCI image layout directory to write (replaced)")
	tree := flag.String("tree", "", "also write the image's final file system here (replaced)")
	sizeMB := flag.Int("size", 500, "file content across all layers, in MB (10^6 bytes)")
	seed := flag.Uint64("seed", 1, "seed of every random choice")
	tag := flag.String("tag", "bench", "the image's tag in the layout (org.opencontainers.image.ref.name)")
	flag.Parse()
	if *out == "" {
		log.Fatal("genimage: -out DIR is required")
	}
	log.SetFlags(0)
	start := time.Now()

	p := &planner{r: rand.New(rand.NewPCG(*seed, 0x6b657977)), seed: *seed}
	layers, env := p.plan(float64(*sizeMB) * 1e6)

	// The final file system: for each path, the layer and file that put it there.
	type owner struct{ layer, file int }
	final := map[string]owner{}
	for li, l := range layers {
		var adds []fileSpec
		for _, f := range l.files {
			dir, base := path.Split(f.path)
			dir = strings.TrimSuffix(dir, "/")
			switch {
			case base == ".wh..wh..opq":
				removeUnder(final, dir, false)
			case strings.HasPrefix(base, ".wh."):
				removeUnder(final, path.Join(dir, strings.TrimPrefix(base, ".wh.")), true)
			default:
				adds = append(adds, f)
			}
		}
		for _, f := range adds {
			for i := range l.files {
				if l.files[i].path == f.path {
					final[f.path] = owner{li, i}
				}
			}
		}
	}
	inTree := make([]map[int]bool, len(layers))
	for i := range inTree {
		inTree[i] = map[int]bool{}
	}
	for _, o := range final {
		inTree[o.layer][o.file] = true
	}

	if *tree != "" {
		if err := os.RemoveAll(*tree); err != nil {
			log.Fatal(err)
		}
		if err := os.MkdirAll(*tree, 0o755); err != nil {
			log.Fatal(err)
		}
	}

	// Layers are generated in parallel; each writes its tar straight into gzip, and the files
	// that survive into the final file system into the tree.
	type built struct {
		gz                       []byte
		content, tarBytes, files int64
		treeFiles, treeBytes     int64
		err                      error
	}
	res := make([]built, len(layers))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for li := range layers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			b := &res[li]
			var gzBuf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&gzBuf, gzip.DefaultCompression)
			cw := &countWriter{w: zw}
			tw := tar.NewWriter(cw)
			dirs := map[string]bool{}
			var addDir func(d string) error
			addDir = func(d string) error {
				if d == "." || d == "" || dirs[d] {
					return nil
				}
				if err := addDir(path.Dir(d)); err != nil {
					return err
				}
				dirs[d] = true
				return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755, ModTime: epoch, Format: tar.FormatPAX})
			}
			for i, f := range layers[li].files {
				content := generate(f)
				if err := addDir(path.Dir(f.path)); err != nil {
					b.err = err
					return
				}
				mode := int64(0o644)
				if f.kind == kELF {
					mode = 0o755
				}
				if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: f.path, Mode: mode, Size: int64(len(content)), ModTime: epoch, Format: tar.FormatPAX}); err != nil {
					b.err = err
					return
				}
				if _, err := tw.Write(content); err != nil {
					b.err = err
					return
				}
				b.content += int64(len(content))
				b.files++
				if *tree != "" && inTree[li][i] {
					dst := filepath.Join(*tree, filepath.FromSlash(f.path))
					if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
						b.err = err
						return
					}
					if err := os.WriteFile(dst, content, os.FileMode(mode)); err != nil {
						b.err = err
						return
					}
					b.treeFiles++
					b.treeBytes += int64(len(content))
				}
			}
			if err := tw.Close(); err != nil {
				b.err = err
				return
			}
			if err := zw.Close(); err != nil {
				b.err = err
				return
			}
			b.tarBytes = cw.n
			b.gz = gzBuf.Bytes()
		}()
	}
	wg.Wait()

	var adds []mutate.Addendum
	var total built
	var compressed int64
	for li, b := range res {
		if b.err != nil {
			log.Fatalf("genimage: layer %d: %v", li+1, b.err)
		}
		gz := b.gz
		l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(gz)), nil
		}, tarball.WithMediaType(types.OCILayer))
		if err != nil {
			log.Fatalf("genimage: layer %d: %v", li+1, err)
		}
		adds = append(adds, mutate.Addendum{Layer: l, MediaType: types.OCILayer, History: v1.History{CreatedBy: layers[li].createdBy, Created: v1.Time{Time: epoch}}})
		total.content += b.content
		total.tarBytes += b.tarBytes
		total.files += b.files
		total.treeFiles += b.treeFiles
		total.treeBytes += b.treeBytes
		compressed += int64(len(b.gz))
	}
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	img, err := mutate.Append(base, adds...)
	if err != nil {
		log.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		log.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Created = v1.Time{Time: epoch}
	cf.Config.Env = env
	cf.Config.Entrypoint = []string{"/app/bin/server"}
	cf.Config.Cmd = []string{"--config", "/etc/app/config.yaml"}
	cf.Config.WorkingDir = "/app"
	cf.Config.Labels = map[string]string{
		"org.opencontainers.image.title":   "keywarden-bench",
		"org.opencontainers.image.source":  "https://example.com/keywarden/bench",
		"org.opencontainers.image.version": "1.0.0",
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.RemoveAll(*out); err != nil {
		log.Fatal(err)
	}
	lp, err := layout.Write(*out, empty.Index)
	if err != nil {
		log.Fatal(err)
	}
	if err := lp.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": *tag})); err != nil {
		log.Fatal(err)
	}
	dgst, err := img.Digest()
	if err != nil {
		log.Fatal(err)
	}

	fmt.Printf("image=oci:%s:%s\n", *out, *tag)
	fmt.Printf("digest=%s\n", dgst)
	fmt.Printf("layers=%d\n", len(layers))
	fmt.Printf("files=%d\n", total.files)
	fmt.Printf("content_bytes=%d\n", total.content)
	fmt.Printf("tar_bytes=%d\n", total.tarBytes)
	fmt.Printf("compressed_bytes=%d\n", compressed)
	if *tree != "" {
		fmt.Printf("tree=%s\n", *tree)
		fmt.Printf("tree_files=%d\n", total.treeFiles)
		fmt.Printf("tree_bytes=%d\n", total.treeBytes)
	}
	for _, s := range p.secrets {
		fmt.Printf("planted: %-20s %-75s %s\n", s.rule, s.where, s.seenBy)
	}
	log.Printf("genimage: %d files, %.1f MB of content in %d layers (%.1f MB gzipped) in %s",
		total.files, float64(total.content)/1e6, len(layers), float64(compressed)/1e6, time.Since(start).Round(time.Millisecond))
}

// removeUnder deletes p (when self) and everything under it from the final file system.
func removeUnder[V any](m map[string]V, p string, self bool) {
	for k := range m {
		if self && k == p || strings.HasPrefix(k, p+"/") || p == "" {
			delete(m, k)
		}
	}
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

// ---- the plan ----

type planner struct {
	r       *rand.Rand
	seed    uint64
	next    uint64
	used    map[string]bool
	secrets []secret
}

// part is a share of a layer's budget filled with files from one generator.
type part struct {
	share float64
	file  func() fileSpec
}

func (p *planner) id() uint64 {
	p.next++
	return p.seed<<32 ^ p.next
}

// logSize draws a size between lo and hi, uniform in its logarithm.
func (p *planner) logSize(lo, hi int) int {
	return int(math.Exp(math.Log(float64(lo)) + p.r.Float64()*(math.Log(float64(hi))-math.Log(float64(lo)))))
}

func (p *planner) word() string { return words[p.r.IntN(len(words))] }

// unique makes path unique in the image by numbering it.
func (p *planner) unique(pth string) string {
	if p.used == nil {
		p.used = map[string]bool{}
	}
	for n := 2; p.used[pth]; n++ {
		ext := path.Ext(pth)
		if strings.HasSuffix(pth, ".gz") {
			ext = path.Ext(strings.TrimSuffix(pth, ".gz")) + ".gz"
		}
		pth = strings.TrimSuffix(pth, ext) + fmt.Sprintf("-%d", n) + ext
	}
	p.used[pth] = true
	return pth
}

func (p *planner) fill(l *layerSpec, budget float64, parts []part) {
	for _, pt := range parts {
		want := pt.share * budget
		for got := 0.0; got < want; {
			f := pt.file()
			f.path = p.unique(f.path)
			f.id = p.id()
			l.files = append(l.files, f)
			got += float64(f.size)
		}
	}
}

func (p *planner) spec(k kind, pth string, lo, hi int) fileSpec {
	return fileSpec{path: pth, kind: k, size: p.logSize(lo, hi)}
}

func (p *planner) plant(s secret) {
	p.secrets = append(p.secrets, s)
}

// plan lays out the layers, about total bytes of content, and the config's Env.
func (p *planner) plan(total float64) ([]*layerSpec, []string) {
	const kb, mb = 1 << 10, 1 << 20
	lib := "usr/lib/x86_64-linux-gnu/"
	pkgs := []string{"main", "contrib", "non-free"}
	var layers []*layerSpec
	add := func(createdBy string) *layerSpec {
		l := &layerSpec{createdBy: createdBy}
		layers = append(layers, l)
		return l
	}
	man := func() fileSpec {
		sec := 1 + p.r.IntN(8)
		// gzip keeps about a third of the text: the target is the stored size.
		return fileSpec{path: fmt.Sprintf("usr/share/man/man%d/%s%s.%d.gz", sec, p.word(), p.word(), sec), kind: kManGz, size: p.logSize(1*kb, 15*kb)}
	}

	// 1: the distribution.
	l := add("/bin/sh -c #(nop) ADD file:bookworm-slim-rootfs.tar.xz in / ")
	l.files = append(l.files, fileSpec{path: "etc/passwd", kind: kConf, size: 1200, id: p.id()})
	p.used = map[string]bool{"etc/passwd": true}
	p.fill(l, 0.13*total, []part{
		{0.50, func() fileSpec {
			return p.spec(kELF, fmt.Sprintf("%slib%s%s.so.%d", lib, p.word(), p.word(), 1+p.r.IntN(6)), 20*kb, 3*mb)
		}},
		{0.15, func() fileSpec { return p.spec(kConf, fmt.Sprintf("etc/%s/%s.conf", p.word(), p.word()), 500, 8*kb) }},
		{0.12, func() fileSpec {
			return p.spec(kDoc, fmt.Sprintf("usr/share/doc/lib%s%d/copyright", p.word(), p.r.IntN(10)), 1*kb, 30*kb)
		}},
		{0.13, man},
		{0.10, func() fileSpec {
			return fileSpec{path: fmt.Sprintf("usr/share/doc/%s-%s/changelog.Debian.gz", p.word(), p.word()), kind: kChangelogGz, size: p.logSize(2*kb, 40*kb)}
		}},
	})

	// 2: runtime packages; the apt lists are deleted again by the last layer.
	l = add("RUN /bin/sh -c apt-get update && apt-get install -y --no-install-recommends python3 libpq5 ca-certificates # buildkit")
	for i, c := range pkgs {
		l.files = append(l.files, fileSpec{path: fmt.Sprintf("var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_%s_binary-amd64_Packages", c), kind: kAptList, size: []int{7 * mb, 3 * mb, 2 * mb}[i], id: p.id()})
	}
	p.fill(l, 0.15*total-12*mb, []part{
		{0.55, func() fileSpec {
			return p.spec(kELF, fmt.Sprintf("%slib%s%s.so.%d", lib, p.word(), p.word(), 1+p.r.IntN(6)), 20*kb, 4*mb)
		}},
		{0.12, func() fileSpec { return p.spec(kELF, "usr/bin/"+p.word()+p.word(), 50*kb, 4*mb) }},
		{0.25, func() fileSpec {
			return p.spec(kPy, fmt.Sprintf("usr/local/lib/python3.12/site-packages/%s/%s.py", p.word(), p.word()), 2*kb, 40*kb)
		}},
		{0.08, man},
	})

	// 3: web dependencies and the built bundles.
	l = add("RUN /bin/sh -c cd /app/web && npm ci && npm run build # buildkit")
	p.fill(l, 0.10*total, []part{
		{0.55, func() fileSpec {
			return p.spec(kJS, fmt.Sprintf("app/web/node_modules/%s-%s/lib/%s.js", p.word(), p.word(), p.word()), 1*kb, 30*kb)
		}},
		{0.35, func() fileSpec {
			return p.spec(kJS, fmt.Sprintf("app/web/dist/assets/%s-%08x.js", p.word(), p.r.Uint32()), 50*kb, 2*mb)
		}},
		{0.10, func() fileSpec { return p.spec(kJSON, fmt.Sprintf("app/web/dist/%s.json", p.word()), 5*kb, 200*kb) }},
	})

	// 4: Java archives: a fat jar with nested jars, and library jars.
	l = add("COPY target/*.jar /opt/app/ # buildkit")
	b := 0.08 * total
	webhook := "https://hooks.slack" + ".com/services/T" + p.alnum(8, true) + "/B" + p.alnum(10, true) + "/" + p.alnum(24, false)
	glpat := "gl" + "pat-" + p.alnum(20, false)
	l.files = append(l.files, fileSpec{path: "opt/app/app.jar", kind: kFatJar, size: int(0.55 * b), id: p.id(),
		plants: []string{"notify.slack.webhook-url=" + webhook, "registry.gitlab.token=" + glpat}})
	p.plant(secret{"slack-webhook-url", "opt/app/app.jar!/BOOT-INF/classes/application.properties (layer 4)", "image; gitleaks dir only with --max-archive-depth >= 1"})
	p.plant(secret{"gitlab-pat", "opt/app/app.jar!/BOOT-INF/lib/…-client-1.4.2.jar!/client.properties (layer 4)", "image; gitleaks dir only with --max-archive-depth >= 2"})
	for i := 0; i < 3; i++ {
		l.files = append(l.files, fileSpec{path: fmt.Sprintf("opt/app/lib/%s-%s-%d.%d.%d.jar", p.word(), p.word(), 1+i, p.r.IntN(20), p.r.IntN(10)), kind: kJar, size: int(0.10 * b), id: p.id()})
	}
	p.fill(l, 0.15*b, []part{
		{0.5, func() fileSpec {
			return p.spec(kXML, fmt.Sprintf("opt/app/conf/%s-%s.xml", p.word(), p.word()), 2*kb, 60*kb)
		}},
		{0.5, func() fileSpec {
			return p.spec(kProperties, fmt.Sprintf("opt/app/conf/%s.properties", p.word()), 1*kb, 20*kb)
		}},
	})

	// 5: the application's source.
	l = add("COPY . /app # buildkit")
	ghp := "gh" + "p_" + p.alnum(36, false)
	stripe := "sk" + "_live_" + p.alnum(32, false)
	cpkg := p.word()
	l.files = append(l.files,
		fileSpec{path: "app/src/" + cpkg + "/client.go", kind: kGo, size: 9 * kb, id: p.id(), plants: []string{"const fallbackCredential = \"" + ghp + "\""}},
		fileSpec{path: "app/config/settings.yaml", kind: kYAML, size: 4 * kb, id: p.id(), plants: []string{"billing_stripe_live: " + stripe}},
	)
	p.used["app/src/"+cpkg+"/client.go"], p.used["app/config/settings.yaml"] = true, true
	p.plant(secret{"github-pat", "app/src/" + cpkg + "/client.go (layer 5)", "every scan: in the final tree"})
	p.plant(secret{"stripe-access-token", "app/config/settings.yaml (layer 5, overwritten in layer 7)", "image only"})
	p.fill(l, 0.20*total-13*kb, []part{
		{0.30, func() fileSpec {
			return p.spec(kGo, fmt.Sprintf("app/src/%s/%s_%s.go", p.word(), p.word(), p.word()), 2*kb, 24*kb)
		}},
		{0.20, func() fileSpec {
			return p.spec(kPy, fmt.Sprintf("app/scripts/%s/%s.py", p.word(), p.word()), 2*kb, 20*kb)
		}},
		{0.20, func() fileSpec {
			return p.spec(kJS, fmt.Sprintf("app/web/src/%s/%s.js", p.word(), p.word()), 1*kb, 16*kb)
		}},
		{0.10, func() fileSpec {
			return p.spec(kYAML, fmt.Sprintf("app/deploy/%s/%s.yaml", p.word(), p.word()), 1*kb, 12*kb)
		}},
		{0.10, func() fileSpec {
			return p.spec(kJSON, fmt.Sprintf("app/fixtures/%s_%s.json", p.word(), p.word()), 2*kb, 64*kb)
		}},
		{0.10, func() fileSpec {
			return p.spec(kMarkdown, fmt.Sprintf("app/docs/%s-%s.md", p.word(), p.word()), 2*kb, 20*kb)
		}},
	})

	// 6: data and assets.
	l = add("COPY data/ /app/data/ # buildkit")
	xoxb := "xo" + "xb-" + p.digits(12) + "-" + p.digits(13) + "-" + p.alnum(24, false)
	npm := "np" + "m_" + p.alnum(36, false)
	l.files = append(l.files,
		fileSpec{path: "app/data/logs/server.log", kind: kLog, size: 6 * mb, id: p.id(), plants: []string{"2024-05-03T09:14:27.118Z WARN notify.slack posting failed with bot " + xoxb + " status=403"}},
		fileSpec{path: "app/data/archive/publish-2024-04.log.gz", kind: kLogGz, size: 300 * kb, id: p.id(), plants: []string{"2024-04-11T17:02:55.410Z DEBUG publish npm config set //registry.npmjs.org/:_authToken=" + npm}},
	)
	p.used["app/data/logs/server.log"], p.used["app/data/archive/publish-2024-04.log.gz"] = true, true
	p.plant(secret{"slack-bot-token", "app/data/logs/server.log (layer 6)", "every scan: in the final tree"})
	p.plant(secret{"npm-access-token", "app/data/archive/publish-2024-04.log.gz (layer 6)", "image; gitleaks dir only with --max-archive-depth >= 1"})
	p.fill(l, 0.18*total-6*mb-300*kb, []part{
		{0.25, func() fileSpec {
			return p.spec(kLog, fmt.Sprintf("app/data/logs/%s-%d.log", p.word(), p.r.IntN(100)), 1*mb, 8*mb)
		}},
		{0.20, func() fileSpec {
			return p.spec(kCSV, fmt.Sprintf("app/data/export/%s_%s.csv", p.word(), p.word()), 200*kb, 6*mb)
		}},
		{0.10, func() fileSpec { return p.spec(kSQL, fmt.Sprintf("app/data/sql/%s.sql", p.word()), 100*kb, 4*mb) }},
		{0.30, func() fileSpec {
			return p.spec(kPNG, fmt.Sprintf("app/static/img/%s-%s.png", p.word(), p.word()), 20*kb, 2*mb)
		}},
		{0.15, func() fileSpec {
			return fileSpec{path: fmt.Sprintf("app/data/archive/%s-2024-%02d.log.gz", p.word(), 1+p.r.IntN(12)), kind: kLogGz, size: p.logSize(50*kb, 1*mb)}
		}},
	})

	// 7: build output, a build cache and a deploy key that the next layer deletes, a .env and
	// settings.yaml rewritten without the secret.
	l = add("RUN /bin/sh -c go build -o /app/bin/ ./cmd/... # buildkit")
	akia := "AK" + "IA" + p.base32(16)
	l.files = append(l.files,
		fileSpec{path: "app/bin/server", kind: kELF, size: 24 * mb, id: p.id()},
		fileSpec{path: "app/config/settings.yaml", kind: kYAML, size: 4 * kb, id: p.id()},
		fileSpec{path: "app/.env", kind: kEnv, size: 600, id: p.id(), plants: []string{"AWS_ACCESS_KEY_ID=" + akia}},
		fileSpec{path: "root/.ssh/id_rsa", kind: kPEM, size: 1700, id: p.id()},
	)
	p.used["app/bin/server"], p.used["app/.env"], p.used["root/.ssh/id_rsa"] = true, true, true
	p.plant(secret{"aws-access-token", "app/.env (layer 7, deleted in layer 8)", "image only"})
	p.plant(secret{"private-key", "root/.ssh/id_rsa (layer 7, deleted in layer 8)", "image only"})
	p.fill(l, 0.13*total-24*mb-6*kb, []part{
		{0.55, func() fileSpec { return p.spec(kELF, "app/bin/"+p.word()+"-"+p.word(), 2*mb, 9*mb) }},
		{0.45, func() fileSpec {
			return p.spec(kBuildCache, fmt.Sprintf("root/.cache/go-build/%02x/%016x%016x-d", p.r.IntN(256), p.r.Uint64(), p.r.Uint64()), 4*kb, 400*kb)
		}},
	})

	// 8: clean-up: whiteouts for the build cache, the deploy key and .env, an opaque apt
	// lists directory, a rewritten /etc/passwd, and the final config.
	l = add("RUN /bin/sh -c rm -rf /var/lib/apt/lists/* /root/.cache /root/.ssh /app/.env && useradd -r app # buildkit")
	for _, w := range []string{"root/.wh..cache", "root/.wh..ssh", "app/.wh..env", "var/lib/apt/lists/.wh..wh..opq"} {
		l.files = append(l.files, fileSpec{path: w, kind: kWhiteout, id: p.id()})
	}
	l.files = append(l.files,
		fileSpec{path: "etc/passwd", kind: kConf, size: 1300, id: p.id()},
		fileSpec{path: "etc/app/config.yaml", kind: kYAML, size: 3 * kb, id: p.id()},
	)
	p.used["etc/app/config.yaml"] = true
	p.fill(l, 0.03*total, []part{
		{1, func() fileSpec {
			return p.spec(kConf, fmt.Sprintf("etc/app/conf.d/%s-%s.conf", p.word(), p.word()), 1*kb, 64*kb)
		}},
	})
	for _, l := range layers {
		sort.Slice(l.files, func(i, j int) bool { return l.files[i].path < l.files[j].path })
	}

	envTok := "gh" + "p_" + p.alnum(36, false)
	env := []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"LANG=C.UTF-8",
		"APP_ENV=production",
		"GITHUB_TOKEN=" + envTok,
	}
	p.plant(secret{"github-pat", "config Env[3] (GITHUB_TOKEN)", "image only"})
	return layers, env
}

const alnumChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func (p *planner) alnum(n int, upper bool) string {
	chars := alnumChars
	if upper {
		chars = alnumChars[26:]
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = chars[p.r.IntN(len(chars))]
	}
	return string(b)
}

func (p *planner) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = '0' + byte(p.r.IntN(10))
	}
	return string(b)
}

func (p *planner) base32(n int) string {
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b := make([]byte, n)
	for i := range b {
		b[i] = chars[p.r.IntN(len(chars))]
	}
	return string(b)
}

// ---- content ----

type gen struct {
	r *rand.Rand
	b []byte
}

func (g *gen) printf(format string, a ...any) { g.b = fmt.Appendf(g.b, format, a...) }
func (g *gen) str(s string)                   { g.b = append(g.b, s...) }
func (g *gen) word() string                   { return words[g.r.IntN(len(words))] }
func (g *gen) n(k int) int                    { return g.r.IntN(k) }

func (g *gen) ident() string {
	s := g.word()
	for i := g.r.IntN(2); i >= 0; i-- {
		w := g.word()
		s += strings.ToUpper(w[:1]) + w[1:]
	}
	return s
}

func (g *gen) Ident() string {
	s := g.ident()
	return strings.ToUpper(s[:1]) + s[1:]
}

func (g *gen) snake() string { return g.word() + "_" + g.word() }

func (g *gen) sentence() string {
	n := 5 + g.r.IntN(10)
	ws := make([]string, n)
	for i := range ws {
		ws[i] = g.word()
	}
	s := strings.Join(ws, " ")
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

func (g *gen) hex(n int) string {
	const h = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = h[g.r.IntN(16)]
	}
	return string(b)
}

func (g *gen) random(n int) {
	for n > 0 {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], g.r.Uint64())
		k := min(n, 8)
		g.b = append(g.b, w[:k]...)
		n -= k
	}
}

// code appends n bytes that look like object code: random instructions, sparse data, and
// tables of NUL-terminated symbol names. It compresses about as well as real binaries.
func (g *gen) code(n int) {
	end := len(g.b) + n
	for len(g.b) < end {
		k := min(4096, end-len(g.b))
		switch g.r.IntN(8) {
		case 0, 1, 2, 3:
			g.random(k)
		case 4, 5:
			for i := 0; i < k; i++ {
				if g.r.IntN(6) == 0 {
					g.b = append(g.b, byte(g.r.Uint32()))
				} else {
					g.b = append(g.b, 0)
				}
			}
		default:
			stop := len(g.b) + k
			for len(g.b) < stop {
				g.b = append(g.b, g.ident()...)
				g.b = append(g.b, 0)
			}
			g.b = g.b[:stop]
		}
	}
}

var goTypes = []string{"string", "int", "int64", "bool", "[]string", "time.Duration", "map[string]int", "*Config", "float64", "[]byte"}

func (g *gen) goFile(size int) {
	pkg := g.word()
	g.printf("// Package %s %s\npackage %s\n\nimport (\n\t\"context\"\n\t\"fmt\"\n\t\"log\"\n\t\"time\"\n)\n\n", pkg, strings.ToLower(g.sentence()), pkg)
	for len(g.b) < size {
		typ := g.Ident()
		g.printf("// %s %s\ntype %s struct {\n", typ, strings.ToLower(g.sentence()), typ)
		for i := 2 + g.n(6); i > 0; i-- {
			f := g.Ident()
			g.printf("\t%s %s `json:\"%s\"`\n", f, goTypes[g.n(len(goTypes))], g.snake())
		}
		g.str("}\n\n")
		for m := 1 + g.n(4); m > 0; m-- {
			g.printf("// %s %s\nfunc (x *%s) %s(ctx context.Context, %s %s) (%s, error) {\n", g.Ident(), strings.ToLower(g.sentence()), typ, g.Ident(), g.ident(), goTypes[g.n(len(goTypes))], goTypes[g.n(len(goTypes))])
			for s := 4 + g.n(20); s > 0; s-- {
				switch g.n(7) {
				case 0:
					g.printf("\t%s := x.%s(ctx, %d)\n", g.ident(), g.Ident(), g.n(10000))
				case 1:
					g.printf("\tif err := x.%s(%s, \"%s-%d\"); err != nil {\n\t\treturn nil, fmt.Errorf(\"%s %s: %%w\", err)\n\t}\n", g.ident(), g.ident(), g.word(), g.n(1000), g.word(), g.word())
				case 2:
					g.printf("\t// %s\n", g.sentence())
				case 3:
					g.printf("\tfor i := 0; i < %d; i++ {\n\t\tx.%s[i] += %s(i)\n\t}\n", 1+g.n(64), g.Ident(), g.ident())
				case 4:
					g.printf("\tx.%s = %d * time.Millisecond\n", g.Ident(), g.n(5000))
				case 5:
					g.printf("\tlog.Printf(\"%s %s: %%s after %%d %s\", %s, %d)\n", g.word(), g.word(), g.word(), g.ident(), g.n(100))
				default:
					g.printf("\t%s, ok := x.%s[\"%s\"]\n\tif !ok {\n\t\t%s = %s{}\n\t}\n", g.ident(), g.Ident(), g.snake(), g.ident(), g.Ident())
				}
			}
			g.str("\treturn nil, nil\n}\n\n")
		}
	}
}

func (g *gen) pyFile(size int) {
	g.printf("\"\"\"%s\"\"\"\n\nimport logging\nimport os\nfrom dataclasses import dataclass\n\nlog = logging.getLogger(__name__)\n\n", g.sentence())
	for len(g.b) < size {
		cls := g.Ident()
		g.printf("\n@dataclass\nclass %s:\n    \"\"\"%s\"\"\"\n\n", cls, g.sentence())
		for i := 2 + g.n(5); i > 0; i-- {
			g.printf("    %s: %s = %s\n", g.snake(), []string{"int", "str", "float", "bool"}[g.n(4)], []string{"0", "\"\"", "1.5", "False", "None"}[g.n(5)])
		}
		for m := 1 + g.n(4); m > 0; m-- {
			g.printf("\n    def %s(self, %s, %s=%d):\n", g.snake(), g.word(), g.word(), g.n(100))
			for s := 3 + g.n(14); s > 0; s-- {
				switch g.n(6) {
				case 0:
					g.printf("        %s = self.%s(%s, %d)\n", g.snake(), g.snake(), g.word(), g.n(1000))
				case 1:
					g.printf("        if %s is None:\n            raise ValueError(\"%s %s\")\n", g.word(), g.word(), g.word())
				case 2:
					g.printf("        # %s\n", g.sentence())
				case 3:
					g.printf("        for %s in self.%s:\n            log.debug(\"%s %%s\", %s)\n", g.word(), g.snake(), g.word(), g.word())
				case 4:
					g.printf("        self.%s = os.environ.get(\"%s\", \"%s\")\n", g.snake(), strings.ToUpper(g.snake()), g.word())
				default:
					g.printf("        return {\"%s\": %s, \"%s\": %d}\n", g.word(), g.word(), g.word(), g.n(100))
				}
			}
		}
	}
}

func (g *gen) jsFile(size int) {
	g.printf("'use strict';\n\nimport { %s, %s } from './%s.js';\n\n", g.ident(), g.ident(), g.word())
	for len(g.b) < size {
		g.printf("/**\n * %s\n */\nexport function %s(%s, %s) {\n", g.sentence(), g.ident(), g.ident(), g.ident())
		for s := 3 + g.n(16); s > 0; s-- {
			switch g.n(6) {
			case 0:
				g.printf("  const %s = %s.%s(%d);\n", g.ident(), g.ident(), g.ident(), g.n(1000))
			case 1:
				g.printf("  if (!%s) {\n    throw new Error('%s %s');\n  }\n", g.ident(), g.word(), g.word())
			case 2:
				g.printf("  // %s\n", g.sentence())
			case 3:
				g.printf("  for (let i = 0; i < %s.length; i++) {\n    %s.push(%s[i] * %d);\n  }\n", g.ident(), g.ident(), g.ident(), g.n(100))
			case 4:
				g.printf("  %s.%s = { %s: %d, %s: '%s' };\n", g.ident(), g.ident(), g.word(), g.n(100), g.word(), g.word())
			default:
				g.printf("  await fetch(`/%s/${%s}/%s`);\n", g.word(), g.ident(), g.word())
			}
		}
		g.str("}\n\n")
	}
}

func (g *gen) yamlFile(size int) {
	g.printf("# %s\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: %s-%s\n", g.sentence(), g.word(), g.word())
	for len(g.b) < size {
		g.printf("%s:\n", g.snake())
		for i := 2 + g.n(6); i > 0; i-- {
			switch g.n(4) {
			case 0:
				g.printf("  %s: %d\n", g.snake(), g.n(10000))
			case 1:
				g.printf("  %s: https://%s.example.com/%s\n", g.snake(), g.word(), g.word())
			case 2:
				g.printf("  %s: %v\n", g.snake(), g.n(2) == 0)
			default:
				g.printf("  %s:\n    - %s\n    - %s\n", g.word(), g.word(), g.word())
			}
		}
	}
}

func (g *gen) jsonFile(size int) {
	g.str("[\n")
	for first := true; len(g.b) < size; first = false {
		if !first {
			g.str(",\n")
		}
		g.printf("  {\"id\": %d, \"name\": \"%s %s\", \"%s\": %d, \"%s\": \"%s\", \"ref\": \"%s\", \"enabled\": %v}", g.n(1e6), g.word(), g.word(), g.snake(), g.n(1e4), g.word(), g.sentence(), g.hex(12), g.n(2) == 0)
	}
	g.str("\n]\n")
}

func (g *gen) confFile(size int) {
	g.printf("# %s\n# %s\n\n", g.sentence(), g.sentence())
	for len(g.b) < size {
		switch g.n(5) {
		case 0:
			g.printf("\n[%s]\n", g.word())
		case 1:
			g.printf("# %s\n", g.sentence())
		default:
			g.printf("%s = %s\n", g.snake(), []string{g.word(), fmt.Sprint(g.n(65536)), "/var/lib/" + g.word(), "yes", "no"}[g.n(5)])
		}
	}
}

func (g *gen) prose(size int, para func()) {
	for len(g.b) < size {
		para()
		for i := 3 + g.n(6); i > 0; i-- {
			g.str(g.sentence())
			g.str(" ")
			if g.n(3) == 0 {
				g.str("\n")
			}
		}
		g.str("\n\n")
	}
}

func (g *gen) logFile(size int) {
	t := epoch.Add(-time.Duration(g.n(1e6)) * time.Second)
	levels := []string{"INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR"}
	for len(g.b) < size {
		t = t.Add(time.Duration(g.n(3000)) * time.Millisecond)
		g.printf("%s %s %s.%s %s request_id=%s duration=%dms status=%d\n", t.Format("2006-01-02T15:04:05.000Z"), levels[g.n(len(levels))], g.word(), g.word(), g.sentence(), g.hex(16), g.n(2000), []int{200, 200, 201, 204, 400, 404, 500}[g.n(7)])
	}
}

func (g *gen) csvFile(size int) {
	g.printf("id,%s,%s,%s,%s,created\n", g.word(), g.word(), g.word(), g.word())
	for i := 1; len(g.b) < size; i++ {
		g.printf("%d,%s %s,%d.%02d,%s,%s,2024-%02d-%02d\n", i, g.word(), g.word(), g.n(10000), g.n(100), g.word(), g.hex(8), 1+g.n(12), 1+g.n(28))
	}
}

func (g *gen) sqlFile(size int) {
	table := g.word() + "s"
	g.printf("-- %s\nCREATE TABLE %s (id BIGINT PRIMARY KEY, name TEXT, %s INTEGER, note TEXT);\n", g.sentence(), table, g.word())
	for i := 1; len(g.b) < size; i++ {
		g.printf("INSERT INTO %s VALUES (%d, '%s %s', %d, '%s');\n", table, i, g.word(), g.word(), g.n(1e5), g.sentence())
	}
}

func (g *gen) aptList(size int) {
	for len(g.b) < size {
		name := g.word() + g.word()
		g.printf("Package: %s\nVersion: %d.%d.%d-%d\nInstalled-Size: %d\nMaintainer: Debian %s Team <%s@lists.debian.org>\nArchitecture: amd64\nDepends: lib%s%d, lib%s (>= %d.%d)\nDescription: %s\nSection: %s\nPriority: optional\nFilename: pool/main/%c/%s/%s_%d.%d_amd64.deb\nSize: %d\nSHA256: %s\n\n",
			name, g.n(10), g.n(30), g.n(10), 1+g.n(5), g.n(50000), g.Ident(), g.word(), g.word(), g.n(9), g.word(), g.n(5), g.n(20), g.sentence(), g.word(), name[0], name, name, g.n(10), g.n(30), g.n(5e6), g.hex(64))
	}
}

func (g *gen) properties(size int) {
	g.printf("# %s\n", g.sentence())
	for len(g.b) < size {
		g.printf("%s.%s.%s=%s\n", g.word(), g.word(), g.word(), []string{g.word(), fmt.Sprint(g.n(10000)), "true", "false", "${" + strings.ToUpper(g.snake()) + "}"}[g.n(5)])
	}
}

func (g *gen) xml(size int) {
	g.printf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- %s -->\n<%s>\n", g.sentence(), g.word())
	for len(g.b) < size {
		g.printf("  <%s id=\"%s-%d\" %s=\"%d\">%s</%s>\n", "bean", g.word(), g.n(1000), g.word(), g.n(100), g.sentence(), "bean")
	}
	g.str("</configuration>\n")
}

// insert puts a line in the middle of the text (at a line start, 70% in).
func insert(b []byte, line string) []byte {
	at := len(b) * 7 / 10
	if i := bytes.IndexByte(b[at:], '\n'); i >= 0 {
		at += i + 1
	} else {
		at = len(b)
	}
	out := make([]byte, 0, len(b)+len(line)+1)
	out = append(out, b[:at]...)
	out = append(out, line...)
	out = append(out, '\n')
	return append(out, b[at:]...)
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// text generates a text file of kind k of about size bytes.
func text(g *gen, k kind, size int) []byte {
	switch k {
	case kGo:
		g.goFile(size)
	case kPy:
		g.pyFile(size)
	case kJS:
		g.jsFile(size)
	case kYAML:
		g.yamlFile(size)
	case kJSON:
		g.jsonFile(size)
	case kConf:
		g.confFile(size)
	case kDoc, kMarkdown:
		g.prose(size, func() { g.printf("## %s\n\n", g.Ident()) })
	case kManGz:
		g.printf(".TH %s 1\n.SH NAME\n%s \\- %s\n", strings.ToUpper(g.word()), g.word(), g.sentence())
		g.prose(size, func() { g.printf(".SH %s\n.PP\n", strings.ToUpper(g.word())) })
	case kChangelogGz:
		for len(g.b) < size {
			g.printf("%s (%d.%d-%d) bookworm; urgency=medium\n\n", g.word(), g.n(10), g.n(40), 1+g.n(4))
			for i := 1 + g.n(6); i > 0; i-- {
				g.printf("  * %s\n", g.sentence())
			}
			g.printf("\n -- %s %s <%s@debian.org>  Mon, %02d Jan 20%02d 10:%02d:00 +0000\n\n", g.Ident(), g.Ident(), g.word(), 1+g.n(28), 10+g.n(14), g.n(60))
		}
	case kLog, kLogGz:
		g.logFile(size)
	case kCSV:
		g.csvFile(size)
	case kSQL:
		g.sqlFile(size)
	case kAptList:
		g.aptList(size)
	case kProperties:
		g.properties(size)
	case kXML:
		g.xml(size)
	case kEnv:
		g.str("APP_ENV=staging\nLOG_LEVEL=debug\n")
		for len(g.b) < size {
			g.printf("%s=%s\n", strings.ToUpper(g.snake()), g.word())
		}
	}
	return g.b
}

// generate makes the content of f.
func generate(f fileSpec) []byte {
	g := &gen{r: rand.New(rand.NewPCG(f.id, 0x696d616765))}
	switch f.kind {
	case kWhiteout:
		return nil
	case kELF:
		g.b = make([]byte, 0, f.size)
		hdr := make([]byte, 64)
		copy(hdr, "\x7fELF\x02\x01\x01")
		binary.LittleEndian.PutUint16(hdr[16:], 3)    // ET_DYN
		binary.LittleEndian.PutUint16(hdr[18:], 0x3e) // x86-64
		g.b = append(g.b, hdr...)
		g.code(f.size - len(hdr))
		return g.b
	case kPNG:
		g.b = make([]byte, 0, f.size)
		g.str("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR")
		g.random(f.size - len(g.b))
		return g.b
	case kBuildCache:
		g.b = make([]byte, 0, f.size)
		g.str("!<arch>\n__.PKGDEF       0           0     0     644     ")
		g.code(f.size - len(g.b))
		return g.b
	case kPEM:
		g.str("-----BEGIN OPENSSH PRIV" + "ATE KEY-----\n")
		for i := 0; i < 25; i++ {
			raw := make([]byte, 0, 48)
			for len(raw) < 48 {
				raw = binary.LittleEndian.AppendUint64(raw, g.r.Uint64())
			}
			g.str(b64(raw) + "\n")
		}
		g.str("-----END OPENSSH PRIV" + "ATE KEY-----\n")
		return g.b
	case kJar:
		return g.jar(f.size, nil, nil)
	case kFatJar:
		return g.fatJar(f.size, f.plants)
	}
	b := text(g, f.kind, f.size)
	for _, pl := range f.plants {
		b = insert(b, pl)
	}
	if f.kind == kManGz || f.kind == kChangelogGz || f.kind == kLogGz {
		return gzipped(b)
	}
	return b
}

func b64(raw []byte) string {
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	var sb strings.Builder
	for i := 0; i+3 <= len(raw); i += 3 {
		v := uint(raw[i])<<16 | uint(raw[i+1])<<8 | uint(raw[i+2])
		sb.WriteByte(chars[v>>18&63])
		sb.WriteByte(chars[v>>12&63])
		sb.WriteByte(chars[v>>6&63])
		sb.WriteByte(chars[v&63])
	}
	return sb.String()
}

// jar writes a zip of classes, properties and XML of about size bytes; extra entries (name →
// content) come first.
func (g *gen) jar(size int, extraNames []string, extra [][]byte) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	put := func(name string, content []byte, method uint16) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: method, Modified: epoch})
		if err != nil {
			log.Fatal(err)
		}
		w.Write(content)
	}
	sub := func() *gen { return &gen{r: rand.New(rand.NewPCG(g.r.Uint64(), 1))} }
	put("META-INF/MANIFEST.MF", []byte("Manifest-Version: 1.0\r\nCreated-By: Maven JAR Plugin 3.3.0\r\nBuild-Jdk-Spec: 17\r\n"), zip.Deflate)
	for i, n := range extraNames {
		m := uint16(zip.Deflate)
		if strings.HasSuffix(n, ".jar") {
			m = zip.Store // Spring Boot stores nested jars
		}
		put(n, extra[i], m)
	}
	pkg := "com/example/" + g.word() + "/"
	for buf.Len() < size {
		switch g.n(10) {
		case 0:
			s := sub()
			put(fmt.Sprintf("%s%s.properties", pkg, g.word()), text(s, kProperties, 500+g.n(4000)), zip.Deflate)
		case 1:
			s := sub()
			put(fmt.Sprintf("META-INF/%s-%s.xml", g.word(), g.word()), text(s, kXML, 1000+g.n(8000)), zip.Deflate)
		default:
			s := sub()
			s.str("\xca\xfe\xba\xbe\x00\x00\x00\x3d")
			s.code(1000 + g.n(12000))
			put(fmt.Sprintf("%s%s.class", pkg, g.Ident()), s.b, zip.Deflate)
		}
		if g.n(40) == 0 {
			pkg = "com/example/" + g.word() + "/"
		}
		zw.Flush()
	}
	zw.Close()
	return buf.Bytes()
}

// fatJar writes a Spring Boot-style jar: BOOT-INF/classes with application.properties holding
// plants[0], and BOOT-INF/lib with nested jars, one of them holding plants[1].
func (g *gen) fatJar(size int, plants []string) []byte {
	var names []string
	var contents [][]byte
	s := &gen{r: rand.New(rand.NewPCG(g.r.Uint64(), 2))}
	props := insert(text(s, kProperties, 6000), plants[0])
	names = append(names, "BOOT-INF/classes/application.properties")
	contents = append(contents, props)
	nested := 0
	for i := 0; i == 0 || nested < size*3/4; i++ {
		s := &gen{r: rand.New(rand.NewPCG(g.r.Uint64(), 3))}
		n := 200<<10 + g.n(2<<20)
		var j []byte
		name := fmt.Sprintf("BOOT-INF/lib/%s-%s-%d.%d.%d.jar", g.word(), g.word(), 1+g.n(5), g.n(20), g.n(10))
		if i == 0 {
			name = fmt.Sprintf("BOOT-INF/lib/%s-client-1.4.2.jar", g.word())
			ps := &gen{r: rand.New(rand.NewPCG(g.r.Uint64(), 4))}
			j = s.jar(n, []string{"client.properties"}, [][]byte{insert(text(ps, kProperties, 3000), plants[1])})
		} else {
			j = s.jar(n, nil, nil)
		}
		names = append(names, name)
		contents = append(contents, j)
		nested += len(j)
	}
	return g.jar(size-nested, names, contents)
}

var words = strings.Fields(`
account action active address agent alert align amount anchor answer append archive area array
asset async audit backup badge balance banner batch bucket buffer build bundle cache calendar
cancel canvas carrier catalog channel chart check child chunk circle claim client cluster column
command comment commit config connect context counter course cursor customer daemon dashboard
data date debug decode default delay delta deploy detail device digest dimension domain draft
driver edge editor element email encode engine entry event export factor feature fetch field
filter flag folder format frame gateway global graph group handler header health height history
host image import index input instance invoice item job journal label layer layout ledger level
limit line link list loader local locale logger lookup manager margin marker matrix media member
memory merge message meta metric mirror mode model module monitor node notice number object
offset option order origin output owner packet page panel parent parser partner patch path
payload peer period pixel plan player plugin point policy pool port position preview price
primary printer probe process product profile project prompt proxy query queue quota range rate
reader record region registry release remote render replica report request resource response
result retry review route router rule runner sample scale schema scope screen search section
segment selector sensor server service session setting shadow shape shard signal sketch slot
snapshot socket source span stage state status step storage store stream style summary switch
symbol table target task template tenant theme thread ticket timer title topic trace track
tracker tree trigger unit update upload user value vector vendor version view volume widget
window worker writer zone`)
