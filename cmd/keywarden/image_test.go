package main

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/keywarden/keywarden/report"
	"github.com/keywarden/keywarden/scanner"
	"github.com/keywarden/keywarden/scanner/imagetest"
)

// zipOf builds a zip archive of files (path → content) in memory.
func zipOf(t *testing.T, files map[string]string) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(files[n])); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

type imageLoc struct {
	Rule, Path           string
	Line, Layer, Removed int
}

func imageLocs(t *testing.T, rep *report.JSONReport) []imageLoc {
	t.Helper()
	var out []imageLoc
	for _, f := range rep.Findings {
		for _, l := range f.Locations {
			if l.Source != "image" || l.Image == "" || l.ImageDigest == "" {
				t.Errorf("location %+v lacks its image", l)
			}
			if l.Layer > 0 && l.LayerDigest == "" {
				t.Errorf("location %+v lacks its layer digest", l)
			}
			out = append(out, imageLoc{f.RuleID, l.Path, l.Line, l.Layer, l.RemovedInLayer})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// TestScanImage builds an image with a key deleted by a later layer, a secret in the config's
// Env, a token in a build step's history and a key in a jar inside a war, and scans it as a
// docker save archive, as an OCI layout and from a real registry: all three find the same.
func TestScanImage(t *testing.T) {
	deleted, env, nested, hist := fakeToken(50), fakeToken(51), fakeToken(52), fakeToken(53)
	inner := zipOf(t, map[string]string{"config.properties": "# app\ngithub.token=" + nested + "\n"})
	war := zipOf(t, map[string]string{"WEB-INF/web.xml": "<web-app/>\n", "WEB-INF/lib/inner.jar": inner})
	img := imagetest.Image(t, imagetest.ConfigOptions{
		Env: []string{"PATH=/usr/local/bin:/usr/bin", "GITHUB_TOKEN=" + env},
		Cmd: []string{"python", "/app/main.py"},
		CreatedBy: []string{
			"COPY . /app",
			"RUN rm /app/.env",
			"|1 TOKEN=" + hist + " /bin/sh -c curl -H \"Authorization: token $TOKEN\" https://example.invalid/",
		},
	},
		imagetest.Layer(t, map[string]string{"app/main.py": "print('hi')\n", "app/.env": "DEBUG=1\nGITHUB_TOKEN=" + deleted + "\n"}),
		imagetest.Layer(t, map[string]string{"app/.wh..env": ""}),
		imagetest.Layer(t, map[string]string{"app/lib/app.war": war}),
	)
	want := []imageLoc{
		{"github-pat", "app/.env", 2, 1, 2},
		{"github-pat", "app/lib/app.war!/WEB-INF/lib/inner.jar!/config.properties", 2, 3, 0},
		{"github-pat", "config:Env[1]", 1, 0, 0},
		{"github-pat", "history[2].created_by", 1, 0, 0},
	}

	forms := []struct {
		name string
		ref  func(t *testing.T) string
	}{
		{"docker-archive", func(t *testing.T) string {
			return "docker-archive:" + imagetest.WriteDockerArchive(t, img, "app:1.0")
		}},
		{"oci", func(t *testing.T) string {
			return "oci:" + imagetest.WriteOCILayout(t, map[string]v1.Image{"1.0": img}) + ":1.0"
		}},
		{"registry", func(t *testing.T) string {
			return imagetest.Push(t, imagetest.StartRegistry(t), "keywarden/app:1.0", img)
		}},
	}
	for _, form := range forms {
		t.Run(form.name, func(t *testing.T) {
			rep, res := scanJSON(t, "scan", "image", form.ref(t))
			if res.code != exitFindings {
				t.Fatalf("exit %d, want 1: %s", res.code, res.stderr)
			}
			if diff := cmp.Diff(want, imageLocs(t, rep)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			for _, f := range rep.Findings {
				for _, l := range f.Locations {
					if l.Path == "app/.env" && !strings.Contains(l.Note, "still extractable from layer 1") {
						t.Errorf("deleted file's note %q does not say it is still extractable from layer 1", l.Note)
					}
				}
			}
			for _, s := range []string{deleted, env, nested, hist} {
				if strings.Contains(res.stdout+res.stderr, s) {
					t.Error("raw secret in the output")
				}
			}
		})
	}
}

// TestScanImageBadInput: each bad image gives one line on stderr and exit 2, or, for damage
// inside an image, a warning, everything readable scanned and exit 2.
func TestScanImageBadInput(t *testing.T) {
	secret := fakeToken(54)
	img := imagetest.Image(t, imagetest.ConfigOptions{},
		imagetest.Layer(t, map[string]string{"a.env": "GITHUB_TOKEN=" + secret + "\n"}),
		imagetest.Layer(t, map[string]string{"big.txt": strings.Repeat("filler line\n", 50000)}))
	archive := imagetest.WriteDockerArchive(t, img, "app:1.0")
	data, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(t.TempDir(), "truncated.tar")
	writeFile(t, truncated, string(data[:len(data)*3/4]))
	tests := []struct {
		name string
		ref  string
		want string
	}{
		{"missing archive", "docker-archive:" + filepath.Join(t.TempDir(), "none.tar"), "none.tar"},
		{"truncated archive", "docker-archive:" + truncated, "truncated.tar"},
		{"missing layout", "oci:" + filepath.Join(t.TempDir(), "nolayout"), "nolayout"},
		{"unreachable registry", "127.0.0.1:1/app:1.0", "unreachable"},
		{"malformed reference", "UPPER/Case:tag::", "malformed"},
	}
	t.Run("unauthorized", func(t *testing.T) {
		reg := imagetest.StartRegistry(t, imagetest.WithHtpasswd("ci", "s3cret-pass"))
		ref := imagetest.Push(t, reg, "private/app:1.0", img, remote.WithAuth(&authn.Basic{Username: "ci", Password: "s3cret-pass"}))
		t.Setenv("DOCKER_CONFIG", t.TempDir()) // no credentials
		res := keywarden(t, "scan", "image", ref, "--format", "json", "-q")
		if res.code != exitError || !strings.Contains(res.stderr, "docker login") || strings.Count(res.stderr, "\n") != 1 {
			t.Errorf("exit %d, stderr %q; want exit 2 and one line saying to log in", res.code, res.stderr)
		}
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := keywarden(t, "scan", "image", tt.ref, "--format", "json", "-q")
			if res.code != exitError || !strings.Contains(res.stderr, tt.want) || strings.Count(res.stderr, "\n") != 1 {
				t.Errorf("exit %d, stderr %q; want exit 2 and one line about %q", res.code, res.stderr, tt.want)
			}
			if strings.Contains(res.stdout+res.stderr, secret) {
				t.Error("raw secret in the output")
			}
		})
	}
}

// TestScanImageArchiveBomb: a zip bomb in a layer is stopped at the bound with a warning, and
// the rest of the image is still scanned.
func TestScanImageArchiveBomb(t *testing.T) {
	secret := fakeToken(55)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("zeros.txt")
	if err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, 1<<20)
	for range 300 { // 300 MiB of zeros deflate to about 300 KiB
		if _, err := w.Write(zeros); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	img := imagetest.Image(t, imagetest.ConfigOptions{},
		imagetest.Layer(t, map[string]string{"bomb.zip": buf.String(), "z.env": "GITHUB_TOKEN=" + secret + "\n"}))
	ref := "oci:" + imagetest.WriteOCILayout(t, map[string]v1.Image{"1": img}) + ":1"
	rep, res := scanJSON(t, "scan", "image", ref)
	if res.code != exitFindings || len(rep.Findings) != 1 {
		t.Fatalf("exit %d, %d findings; want 1 and the secret next to the bomb: %s", res.code, len(rep.Findings), res.stderr)
	}
	limited := false
	for _, s := range rep.Skipped {
		limited = limited || strings.Contains(s.Path, "bomb.zip") && s.Reason == scanner.SkipArchiveLimit
	}
	if !limited {
		t.Errorf("the bomb's entry is not reported as stopped at the archive limit: %+v", rep.Skipped)
	}
}

// TestScanImageTamperedLayer: a layer blob whose content does not match its digest is an
// error naming the layer (exit 2), and what was read from it is still reported.
func TestScanImageTamperedLayer(t *testing.T) {
	secret := fakeToken(56)
	honest := imagetest.Layer(t, map[string]string{"app/readme.txt": "hello\n"})
	img := imagetest.Image(t, imagetest.ConfigOptions{}, honest)
	dir := imagetest.WriteOCILayout(t, map[string]v1.Image{"1": img})
	// Put another layer's bytes where the honest layer's blob is.
	evil := imagetest.Layer(t, map[string]string{"app/readme.txt": "GITHUB_TOKEN=" + secret + "\n"})
	rc, err := evil.Compressed()
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	d := imagetest.Digest(t, honest)
	writeFile(t, filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(d, "sha256:")), string(data))

	rep, res := keywardenJSONAllowingError(t, "scan", "image", "oci:"+dir+":1")
	if res.code != exitError || !strings.Contains(res.stderr, "layer 1") {
		t.Fatalf("exit %d, stderr %q; want exit 2 naming layer 1", res.code, res.stderr)
	}
	if rep == nil || len(rep.Findings) != 1 {
		t.Fatalf("the tampered layer's secret is not in the report: %+v", rep)
	}
}

// keywardenJSONAllowingError runs a scan with --format json and decodes the report, whatever
// the exit code.
func keywardenJSONAllowingError(t *testing.T, args ...string) (*report.JSONReport, cliResult) {
	t.Helper()
	r := keywarden(t, append(args, "--format", "json", "--quiet")...)
	if r.stdout == "" {
		return nil, r
	}
	rep, err := report.ReadJSON(strings.NewReader(r.stdout))
	if err != nil {
		t.Fatalf("decoding report: %v\n%s", err, r.stdout)
	}
	return rep, r
}
