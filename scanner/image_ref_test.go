package scanner

import (
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/keywarden/keywarden/scanner/imagetest"
)

// openedImage is what a test compares of a NamedImage.
type openedImage struct{ Ref, Digest, Platform string }

func openImagesForTest(t *testing.T, ref string, o ImageOptions) ([]openedImage, error) {
	t.Helper()
	if o.Keychain == nil {
		o.Keychain = authn.NewMultiKeychain() // anonymous: the test machine's docker config stays out
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	imgs, closeFn, err := OpenImages(ctx, ref, o)
	if err != nil {
		if closeFn != nil {
			t.Errorf("OpenImages(%q) failed but returned a close func", ref)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("OpenImages(%q) error has several lines: %q", ref, err)
		}
		return nil, err
	}
	if closeFn == nil {
		t.Fatalf("OpenImages(%q): nil close with nil error", ref)
	}
	defer func() {
		if err := closeFn(); err != nil {
			t.Errorf("close: %v", err)
		}
	}()
	var got []openedImage
	for _, ni := range imgs {
		// The Image must be the one Digest names, and readable.
		d, err := ni.Image.Digest()
		if err != nil {
			t.Fatalf("%s: Image.Digest: %v", ni.Ref, err)
		}
		if d.String() != ni.Digest {
			t.Errorf("%s: Digest %s, but Image.Digest() = %s", ni.Ref, ni.Digest, d)
		}
		if _, err := ni.Image.ConfigFile(); err != nil {
			t.Errorf("%s: ConfigFile: %v", ni.Ref, err)
		}
		got = append(got, openedImage{ni.Ref, ni.Digest, ni.Platform})
	}
	return got, nil
}

func sortOpened(s []openedImage) []openedImage {
	sort.Slice(s, func(i, j int) bool {
		if s[i].Ref != s[j].Ref {
			return s[i].Ref < s[j].Ref
		}
		return s[i].Platform < s[j].Platform
	})
	return s
}

// wantError checks err wraps sentinel and mentions each of the words.
func wantError(t *testing.T, err, sentinel error, words ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %v", sentinel)
	}
	t.Logf("error: %v", err)
	if sentinel != nil && !errors.Is(err, sentinel) {
		t.Errorf("error %q does not wrap %v", err, sentinel)
	}
	for _, w := range words {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
}

// testImages are small distinct images; the platform ones carry their platform in the config.
func testImage(t *testing.T, content string, platform string) v1.Image {
	t.Helper()
	return imagetest.Image(t, imagetest.ConfigOptions{Platform: platform, Env: []string{"APP=" + content}},
		imagetest.Layer(t, map[string]string{"app/config.txt": content, "etc/": ""}))
}

// multiArch is an index of two platforms, plus the attestation manifest buildx adds, which
// holds no file system and must be left out.
func multiArch(t *testing.T) (v1.ImageIndex, v1.Image, v1.Image) {
	amd := testImage(t, "amd", "linux/amd64")
	arm := testImage(t, "arm", "linux/arm64")
	idx := imagetest.Index(t, map[string]v1.Image{"linux/amd64": amd, "linux/arm64": arm})
	att := imagetest.Image(t, imagetest.ConfigOptions{}, imagetest.Layer(t, map[string]string{"provenance.json": "{}"}))
	attDigest := imagetest.Digest(t, amd)
	idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: att, Descriptor: v1.Descriptor{
		Platform:    &v1.Platform{OS: "unknown", Architecture: "unknown"},
		Annotations: map[string]string{"vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": attDigest},
	}})
	return idx, amd, arm
}

func TestOpenImagesDockerArchive(t *testing.T) {
	t.Parallel()
	one := testImage(t, "one", "")
	two := testImage(t, "two", "")
	three := testImage(t, "three", "")
	single := imagetest.WriteDockerArchive(t, one, "registry.example:5000/app:1.2")
	multi := imagetest.WriteDockerArchiveMulti(t,
		imagetest.ArchiveImage{Image: one, Tags: []string{"app:1"}}, // one tag: the writer orders several at random
		imagetest.ArchiveImage{Image: two},
		imagetest.ArchiveImage{Image: three, Tags: []string{"other:2"}})
	garbage := filepath.Join(t.TempDir(), "garbage.tar")
	if err := os.WriteFile(garbage, []byte("not a tar archive, just text that is long enough to fill a header block"), 0o600); err != nil {
		t.Fatal(err)
	}

	t.Run("single", func(t *testing.T) {
		got, err := openImagesForTest(t, "docker-archive:"+single, ImageOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want := []openedImage{{"docker-archive:" + single, imagetest.Digest(t, one), ""}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("gzipped, temp file removed on close", func(t *testing.T) {
		gz := gzipFile(t, single)
		tmp := t.TempDir()
		got, err := openDockerArchiveIn(t, tmp, "docker-archive:"+gz)
		if err != nil {
			t.Fatal(err)
		}
		want := []openedImage{{"docker-archive:" + gz, imagetest.Digest(t, one), ""}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("gzipped through OpenImages", func(t *testing.T) {
		gz := gzipFile(t, single)
		got, err := openImagesForTest(t, "docker-archive:"+gz, ImageOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want := []openedImage{{"docker-archive:" + gz, imagetest.Digest(t, one), ""}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("several images", func(t *testing.T) {
		got, err := openImagesForTest(t, "docker-archive:"+multi, ImageOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// manifest.json is sorted by tags: the untagged image first.
		want := []openedImage{
			{"docker-archive:" + multi + "#0", imagetest.Digest(t, two), ""},
			{"app:1", imagetest.Digest(t, one), ""},
			{"other:2", imagetest.Digest(t, three), ""},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		_, err := openImagesForTest(t, "docker-archive:"+filepath.Join(t.TempDir(), "nope.tar"), ImageOptions{})
		wantError(t, err, ErrImageNotFound, "nope.tar")
	})
	t.Run("not an archive", func(t *testing.T) {
		_, err := openImagesForTest(t, "docker-archive:"+garbage, ImageOptions{})
		wantError(t, err, ErrCorruptImage, "garbage.tar")
	})
	t.Run("no file", func(t *testing.T) {
		_, err := openImagesForTest(t, "docker-archive:", ImageOptions{})
		wantError(t, err, ErrMalformedRef)
	})
}

// openDockerArchiveIn opens ref decompressing into tmp, closes, and checks tmp is empty again.
func openDockerArchiveIn(t *testing.T, tmp, ref string) ([]openedImage, error) {
	t.Helper()
	imgs, closeFn, err := openDockerArchive(context.Background(), ref, strings.TrimPrefix(ref, dockerArchivePrefix), tmp)
	if err != nil {
		return nil, err
	}
	if left, _ := os.ReadDir(tmp); len(left) != 1 {
		t.Errorf("want one decompressed archive in %s while open, have %v", tmp, left)
	}
	var got []openedImage
	for _, ni := range imgs {
		if _, err := ni.Image.ConfigFile(); err != nil {
			t.Errorf("%s: ConfigFile: %v", ni.Ref, err)
		}
		got = append(got, openedImage{ni.Ref, ni.Digest, ni.Platform})
	}
	if err := closeFn(); err != nil {
		t.Errorf("close: %v", err)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("temp files left after close: %v", left)
	}
	return got, nil
}

func gzipFile(t *testing.T, path string) string {
	t.Helper()
	in, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out := filepath.Join(t.TempDir(), filepath.Base(path)+".gz")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	if _, err := io.Copy(zw, in); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestOpenImagesOCILayout(t *testing.T) {
	t.Parallel()
	a := testImage(t, "a", "")
	b := testImage(t, "b", "")
	idx, amd, arm := multiArch(t)
	dir := imagetest.WriteOCILayout(t, map[string]v1.Image{"1.0": a, "2.0": b})
	multiDir := imagetest.WriteOCILayout(t, nil)
	imagetest.AppendOCI(t, multiDir, "multi", idx)
	imagetest.AppendOCI(t, multiDir, "", a) // untagged: named by digest
	nestedDir := imagetest.WriteOCILayout(t, nil)
	imagetest.AppendOCI(t, nestedDir, "nested", mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: idx}))
	da, db := imagetest.Digest(t, a), imagetest.Digest(t, b)
	damd, darm := imagetest.Digest(t, amd), imagetest.Digest(t, arm)

	tests := []struct {
		name     string
		ref      string
		platform string
		want     []openedImage
	}{
		{"all", "oci:" + dir, "", []openedImage{{"oci:" + dir + ":1.0", da, ""}, {"oci:" + dir + ":2.0", db, ""}}},
		{"by tag", "oci:" + dir + ":2.0", "", []openedImage{{"oci:" + dir + ":2.0", db, ""}}},
		{"by digest", "oci:" + dir + "@" + da, "", []openedImage{{"oci:" + dir + "@" + da, da, ""}}},
		{"platform ignored without index", "oci:" + dir + ":1.0", "linux/arm64", []openedImage{{"oci:" + dir + ":1.0", da, ""}}},
		{"multi-arch all", "oci:" + multiDir, "all", []openedImage{
			{"oci:" + multiDir + "@" + da, da, ""},
			{"oci:" + multiDir + ":multi", damd, "linux/amd64"},
			{"oci:" + multiDir + ":multi", darm, "linux/arm64"},
		}},
		{"multi-arch by tag and platform", "oci:" + multiDir + ":multi", "linux/arm64", []openedImage{{"oci:" + multiDir + ":multi", darm, "linux/arm64"}}},
		{"aarch64 is arm64", "oci:" + multiDir + ":multi", "linux/arm64/v8", []openedImage{{"oci:" + multiDir + ":multi", darm, "linux/arm64"}}},
		{"nested index", "oci:" + nestedDir, "", []openedImage{
			{"oci:" + nestedDir + ":nested", damd, "linux/amd64"},
			{"oci:" + nestedDir + ":nested", darm, "linux/arm64"},
		}},
		{"nested index, one platform", "oci:" + nestedDir + ":nested", "linux/amd64", []openedImage{{"oci:" + nestedDir + ":nested", damd, "linux/amd64"}}},
		{"child by digest", "oci:" + multiDir + "@" + darm, "", []openedImage{{"oci:" + multiDir + "@" + darm, darm, "linux/arm64"}}},
		{"index by digest", "oci:" + multiDir + "@" + imagetest.Digest(t, idx), "linux/amd64", []openedImage{{"oci:" + multiDir + "@" + imagetest.Digest(t, idx), damd, "linux/amd64"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := openImagesForTest(t, tt.ref, ImageOptions{Platform: tt.platform})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(sortOpened(tt.want), sortOpened(got)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}

	errTests := []struct {
		name     string
		ref      string
		platform string
		sentinel error
		words    []string
	}{
		{"unknown tag", "oci:" + dir + ":3.0", "", ErrImageNotFound, []string{`"3.0"`, "1.0, 2.0"}},
		{"unknown digest", "oci:" + dir + "@sha256:" + strings.Repeat("0", 64), "", ErrImageNotFound, nil},
		{"unknown platform", "oci:" + multiDir + ":multi", "linux/s390x", ErrUnknownPlatform, []string{"linux/s390x", "linux/amd64, linux/arm64"}},
		{"no layout", "oci:" + filepath.Join(t.TempDir(), "none"), "", ErrImageNotFound, []string{"none"}},
		{"bad digest", "oci:" + dir + "@sha256:xyz", "", ErrMalformedRef, nil},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := openImagesForTest(t, tt.ref, ImageOptions{Platform: tt.platform})
			wantError(t, err, tt.sentinel, tt.words...)
		})
	}
}

func TestOpenImagesOCILayoutCorrupt(t *testing.T) {
	t.Parallel()
	img := testImage(t, "c", "")
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	blob := func(dir string) string { return filepath.Join(dir, "blobs", d.Algorithm, d.Hex) }
	tests := []struct {
		name     string
		damage   func(dir string) error
		sentinel error
	}{
		{"garbage index.json", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "index.json"), []byte("{garbage"), 0o644)
		}, ErrCorruptImage},
		{"garbage manifest blob", func(dir string) error {
			return os.WriteFile(blob(dir), []byte("garbage"), 0o644)
		}, ErrCorruptImage},
		{"manifest blob of other content", func(dir string) error {
			other, err := testImage(t, "other", "").RawManifest()
			if err != nil {
				return err
			}
			return os.WriteFile(blob(dir), other, 0o644)
		}, ErrCorruptImage},
		{"manifest blob missing", func(dir string) error { return os.Remove(blob(dir)) }, ErrImageNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := imagetest.WriteOCILayout(t, map[string]v1.Image{"1": img})
			if err := tt.damage(dir); err != nil {
				t.Fatal(err)
			}
			_, err := openImagesForTest(t, "oci:"+dir, ImageOptions{})
			wantError(t, err, tt.sentinel, "oci:"+dir)
		})
	}
}

func TestOpenImagesRegistry(t *testing.T) {
	t.Parallel()
	reg := imagetest.StartRegistry(t)
	img := testImage(t, "reg", "")
	idx, amd, arm := multiArch(t)
	tagged := imagetest.Push(t, reg, "app:1.2", img)
	multi := imagetest.PushIndex(t, reg, "multi:1", idx)
	dimg, damd, darm := imagetest.Digest(t, img), imagetest.Digest(t, amd), imagetest.Digest(t, arm)
	_, port, _ := net.SplitHostPort(reg)

	tests := []struct {
		name     string
		ref      string
		platform string
		want     []openedImage
	}{
		{"by tag", tagged, "", []openedImage{{tagged, dimg, ""}}},
		{"by digest", reg + "/app@" + dimg, "", []openedImage{{reg + "/app@" + dimg, dimg, ""}}},
		{"localhost is loopback too", "localhost:" + port + "/app:1.2", "", []openedImage{{"localhost:" + port + "/app:1.2", dimg, ""}}},
		{"index, all", multi, "", []openedImage{{multi, damd, "linux/amd64"}, {multi, darm, "linux/arm64"}}},
		{"index, one platform", multi, "linux/arm64", []openedImage{{multi, darm, "linux/arm64"}}},
		{"child of index by digest", reg + "/multi@" + darm, "", []openedImage{{reg + "/multi@" + darm, darm, ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := openImagesForTest(t, tt.ref, ImageOptions{Platform: tt.platform})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}

	errTests := []struct {
		name     string
		ref      string
		platform string
		sentinel error
		words    []string
	}{
		{"unknown platform", multi, "linux/s390x", ErrUnknownPlatform, []string{multi, "linux/s390x", "linux/amd64, linux/arm64"}},
		{"no such repository", reg + "/nope:1", "", ErrImageNotFound, []string{reg + "/nope:1"}},
		{"no such tag", reg + "/app:9.9", "", ErrImageNotFound, []string{"MANIFEST_UNKNOWN"}},
		{"no such digest", reg + "/app@sha256:" + strings.Repeat("1", 64), "", ErrImageNotFound, nil},
		{"malformed", reg + "/App:1", "", ErrMalformedRef, nil},
		{"URL", "http://" + reg + "/app:1.2", "", ErrMalformedRef, []string{"host/repository:tag"}},
		{"malformed platform", tagged, "linux", ErrInvalidPlatform, []string{"os/arch"}},
		{"platform with spaces", tagged, "linux/ arm64", ErrInvalidPlatform, nil},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := openImagesForTest(t, tt.ref, ImageOptions{Platform: tt.platform})
			wantError(t, err, tt.sentinel, tt.words...)
		})
	}
}

// staticKeychain hands out one user and password for every registry.
type staticKeychain struct{ user, pass string }

func (k staticKeychain) Resolve(authn.Resource) (authn.Authenticator, error) {
	return authn.FromConfig(authn.AuthConfig{Username: k.user, Password: k.pass}), nil
}

func TestOpenImagesRegistryAuth(t *testing.T) {
	// Not parallel: one subtest points DOCKER_CONFIG at its own docker config.
	user, pass := "tester", "pw-"+strings.Repeat("x", 12) // not a real credential
	reg := imagetest.StartRegistry(t, imagetest.WithHtpasswd(user, pass))
	img := testImage(t, "auth", "")
	ref := imagetest.Push(t, reg, "private:1", img, remote.WithAuth(&authn.Basic{Username: user, Password: pass}))
	want := []openedImage{{ref, imagetest.Digest(t, img), ""}}

	t.Run("no credentials", func(t *testing.T) {
		_, err := openImagesForTest(t, ref, ImageOptions{Keychain: authn.NewMultiKeychain()})
		wantError(t, err, ErrUnauthorized, ref, "docker login "+reg)
	})
	t.Run("wrong password", func(t *testing.T) {
		wrong := "wrong-" + strings.Repeat("y", 12)
		_, err := openImagesForTest(t, ref, ImageOptions{Keychain: staticKeychain{user, wrong}})
		wantError(t, err, ErrUnauthorized)
		if err != nil && strings.Contains(err.Error(), wrong) {
			t.Errorf("error shows the password: %q", err)
		}
	})
	t.Run("keychain", func(t *testing.T) {
		got, err := openImagesForTest(t, ref, ImageOptions{Keychain: staticKeychain{user, pass}})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("default keychain reads the docker config", func(t *testing.T) {
		cfgDir := t.TempDir()
		cfg := `{"auths":{"` + reg + `":{"username":"` + user + `","password":"` + pass + `"}}}`
		if err := os.WriteFile(filepath.Join(cfgDir, "config.json"), []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv("DOCKER_CONFIG", cfgDir)
		t.Setenv("REGISTRY_AUTH_FILE", filepath.Join(cfgDir, "none.json"))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		imgs, closeFn, err := OpenImages(ctx, ref, ImageOptions{}) // nil Keychain: the default
		if err != nil {
			t.Fatal(err)
		}
		defer closeFn()
		if len(imgs) != 1 || imgs[0].Digest != want[0].Digest {
			t.Errorf("got %+v, want %+v", imgs, want)
		}
	})
}

func TestOpenImagesUnreachable(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	for _, ref := range []string{closed + "/app:1", "registry.keywarden-test.invalid/app:1"} {
		t.Run(ref, func(t *testing.T) {
			t.Parallel()
			// A machine without DNS may time out rather than answer "no such host": either way
			// the registry is unreachable, and the context bounds the wait.
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			start := time.Now()
			_, _, err := OpenImages(ctx, ref, ImageOptions{Keychain: authn.NewMultiKeychain()})
			wantError(t, err, ErrRegistryUnreachable, ref)
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v to fail", d)
			}
		})
	}
}

func TestOpenImagesCancelled(t *testing.T) {
	t.Parallel()
	dir := imagetest.WriteOCILayout(t, map[string]v1.Image{"1": testImage(t, "x", "")})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, ref := range []string{"oci:" + dir, "127.0.0.1:1/app:1"} {
		imgs, closeFn, err := OpenImages(ctx, ref, ImageOptions{})
		if !errors.Is(err, context.Canceled) || imgs != nil || closeFn != nil {
			t.Errorf("OpenImages(%q) with a cancelled context = %v, %v", ref, imgs, err)
		}
	}
}

// TestOpenImagesCorruptRegistryManifest serves what no registry would accept on push.
func TestOpenImagesCorruptRegistryManifest(t *testing.T) {
	t.Parallel()
	const dockerV2 = "application/vnd.docker.distribution.manifest.v2+json"
	bodies := map[string]string{
		"garbage":      "this is not a manifest",
		"wrong fields": `{"schemaVersion":2,"mediaType":"` + dockerV2 + `","config":{"digest":"nope"}}`,
		"no config":    `{"schemaVersion":2,"mediaType":"` + dockerV2 + `"}`,
		"garbage index": `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",` +
			`"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:` + strings.Repeat("2", 64) + `","size":1}]}`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" {
			return
		}
		name, ref, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/v2/"), "/manifests/")
		body, known := bodies[strings.ReplaceAll(name, "-", " ")]
		switch {
		case ok && known && ref == "1":
			ct := dockerV2
			if strings.Contains(body, "index") {
				ct = "application/vnd.oci.image.index.v1+json"
			}
			w.Header().Set("Content-Type", ct)
			io.WriteString(w, body)
		case ok && known:
			// The index's child: a manifest whose digest is not the one asked for.
			w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
			io.WriteString(w, `{"schemaVersion":2}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	for body := range bodies {
		ref := host + "/" + strings.ReplaceAll(body, " ", "-") + ":1"
		t.Run(body, func(t *testing.T) {
			t.Parallel()
			_, err := openImagesForTest(t, ref, ImageOptions{})
			wantError(t, err, ErrCorruptImage, ref)
		})
	}
}

func TestOpenImagesHidesCredentials(t *testing.T) {
	t.Parallel()
	token := "tok" + strings.Repeat("Z", 20) // not a real credential
	for _, ref := range []string{
		"user:" + token + "@127.0.0.1:1/app:1",
		token + "@registry.example/app:1",
		"https://user:" + token + "@registry.example/app:1",
		"user:" + token + "@registry.example/app@sha256:" + strings.Repeat("a", 64),
	} {
		t.Run(redactImageRef(ref), func(t *testing.T) {
			t.Parallel()
			_, err := openImagesForTest(t, ref, ImageOptions{})
			wantError(t, err, ErrMalformedRef, "***@")
			if err != nil && strings.Contains(err.Error(), token) {
				t.Errorf("error shows the token: %q", err)
			}
		})
	}
}

func TestRedactImageRef(t *testing.T) {
	tests := []struct{ in, want string }{
		{"registry.example:5000/app:1.2", "registry.example:5000/app:1.2"},
		{"alpine@sha256:" + strings.Repeat("a", 64), "alpine@sha256:" + strings.Repeat("a", 64)},
		{"u:p@host/app:1", "***@host/app:1"},
		{"u:p@ss@host/app@sha256:" + strings.Repeat("b", 64), "***@host/app@sha256:" + strings.Repeat("b", 64)},
		{"https://u:p@host/app", "https://***@host/app"},
		{"oci:/dir@x/y", "oci:/dir@x/y"},
		{"docker-archive:/a@b/c.tar", "docker-archive:/a@b/c.tar"},
	}
	for _, tt := range tests {
		if got := redactImageRef(tt.in); got != tt.want {
			t.Errorf("redactImageRef(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPlatformMatches(t *testing.T) {
	tests := []struct {
		have, want string
		match      bool
	}{
		{"linux/arm64", "linux/arm64", true},
		{"linux/arm64/v8", "linux/arm64", true},
		{"linux/aarch64", "linux/arm64", true},
		{"linux/arm/v7", "linux/arm", true},
		{"linux/arm/v6", "linux/arm", false},
		{"linux/amd64", "linux/arm64", false},
		{"windows/amd64", "linux/amd64", false},
		{"linux/amd64/v3", "linux/amd64", false},
	}
	for _, tt := range tests {
		h, _ := v1.ParsePlatform(tt.have)
		w, _ := v1.ParsePlatform(tt.want)
		if got := platformMatches(*h, *w); got != tt.match {
			t.Errorf("platformMatches(%s, %s) = %v, want %v", tt.have, tt.want, got, tt.match)
		}
	}
}

// TestPlainHTTPNeedsInsecure checks the guard that stops go-containerregistry's own plain-HTTP
// fallback for private addresses, which no test registry can sit on.
func TestPlainHTTPNeedsInsecure(t *testing.T) {
	called := false
	inner := roundTripFunc(func(*http.Request) (*http.Response, error) {
		called = true
		return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody}, nil
	})
	g := httpsOnly{inner: inner, host: "10.1.2.3:5000"}
	req, _ := http.NewRequest(http.MethodGet, "http://10.1.2.3:5000/v2/", nil)
	if _, err := g.RoundTrip(req); err == nil || called || !strings.Contains(err.Error(), "--insecure") {
		t.Errorf("plain HTTP to the registry: err %v, passed on %v", err, called)
	}
	req, _ = http.NewRequest(http.MethodGet, "https://10.1.2.3:5000/v2/", nil)
	if _, err := g.RoundTrip(req); err != nil || !called {
		t.Errorf("HTTPS to the registry: err %v, passed on %v", err, called)
	}
	for host, want := range map[string]bool{"127.0.0.1:5000": true, "127.3.2.1": true, "[::1]:5000": true, "localhost:5000": true, "localhost": true, "10.1.2.3:5000": false, "registry.example": false} {
		if got := isLoopbackRegistry(host); got != want {
			t.Errorf("isLoopbackRegistry(%q) = %v, want %v", host, got, want)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
