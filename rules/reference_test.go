package rules

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zricethezav/gitleaks/v8/config"
	"github.com/zricethezav/gitleaks/v8/detect"
)

// knownDisagreements lists rules whose findings may legitimately differ from gitleaks' on the
// reference corpus because of the windowing design, with the reason. It is empty: the only
// designed difference, a match running more than longWindow past its keyword, cannot occur in
// the corpus. Keep entries here, never silent skips.
var knownDisagreements = map[string]string{}

// corpusFile is one text of the reference corpus and the path it is scanned at.
type corpusFile struct {
	name string
	path string
	text string
}

// refKey is what must agree between gitleaks and keywarden for each finding. Lines only:
// gitleaks' columns are off by one after the first line (gitleaks#1424); columns have their
// own tests.
type refKey struct {
	Rule   string
	Secret string
	Line   int // 1-based
	Tags   string
}

// templates embed a sample in realistic files; the sample lands on line 3 or later in most.
var templates = []func(s string) string{
	func(s string) string { return "#!/bin/sh\nset -e\nexport TOKEN=\"" + s + "\"\n./run.sh \"$TOKEN\"\n" },
	func(s string) string {
		return "{\n  \"name\": \"demo\",\n  \"version\": 3,\n  \"auth\": {\n    \"token\": \"" + s + "\"\n  }\n}\n"
	},
	func(s string) string {
		return "service:\n  name: demo\n  replicas: 2\n  env:\n    - name: API_TOKEN\n      value: " + s + "\n"
	},
	func(s string) string {
		return "package main\n\nimport \"os\"\n\nfunc main() {\n\tos.Setenv(\"X\", `" + s + "`)\n}\n"
	},
	func(s string) string {
		return "// Überprüfung der Schlüssel — 日本語のコメント ✓\nconst greeting = \"héllo wörld\";\nconst secret = \"ünïcödé→" + s + "\";\n"
	},
	func(s string) string { return "first line\nsecond line\n\n" + s + "\nlast line\n" },
	func(s string) string {
		return "import os\n\nclass Settings:\n    debug = False\n    api_key = '" + s + "'  # TODO rotate\n"
	},
	func(s string) string { return "result = client.call(\"" + s + "\", timeout=30)  # ✓ done\n" },
	func(s string) string { return "A=1\r\nTOKEN=" + s + "\r\nB=2\r\n" },
	func(s string) string {
		return "<configuration>\n  <!-- ключ доступа -->\n  <setting name=\"key\" value=\"" + s + "\" />\n</configuration>\n"
	},
}

// paths are where corpus files are scanned: no path (gitleaks' DetectString), paths that
// satisfy rule path constraints, and paths that allowlists match.
var corpusPaths = []string{"", "", "", "src/app.php", "deploy/values.yaml", "NuGet.config", "node_modules/lib/index.js", "main.tf", "layers/app.bb"}

// negativeSources are ordinary code with words that keywords match but no secrets.
var negativeSources = []string{`package server

import (
	"context"
	"errors"
	"net/http"
)

// tokenHeader names the header that carries the session token.
const tokenHeader = "X-Session-Token"

var errNoKey = errors.New("no api key configured")

type Server struct {
	apiKeyEnv string
	secretRef string
	client    *http.Client
}

func (s *Server) Authorize(ctx context.Context, r *http.Request) error {
	token := r.Header.Get(tokenHeader)
	if token == "" {
		return errNoKey
	}
	password := lookupPassword(ctx, s.secretRef)
	return compare(token, password)
}
`, `import { useState } from 'react';
import { fetchToken, refreshAccess } from './auth';

export function LoginForm({ onLogin }) {
  const [password, setPassword] = useState('');
  const [apiKey, setApiKey] = useState(null);
  const secretName = process.env.SECRET_NAME || 'default';

  async function submit(event) {
    event.preventDefault();
    const token = await fetchToken({ password, secretName });
    setApiKey(token.accessKey);
    onLogin(token);
  }
  return <form onSubmit={submit}>{/* credentials form */}</form>;
}
`, `name: ci
on: [push]
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - name: Build
        env:
          API_TOKEN: ${{ secrets.API_TOKEN }}
          AWS_SECRET_ACCESS_KEY: ${{ secrets.AWS_SECRET }}
        run: make build
`, `LICENSE = "MIT"
LIC_FILES_CHKSUM = "file://LICENSE;md5=0835ade698e0bcf8506ecda2f7b4f302"
SRC_URI = "git://github.com/example/project.git;protocol=https;branch=main"
SRCREV = "4f0c6d3e2b1a09876543210fedcba9876543210f"
`, `# -*- coding: utf-8 -*-
"""Ünïcödé docstring — проверка ✓."""
import hashlib

SECRET_KEY_LENGTH = 64
access_token_url = "https://example.com/oauth/token"

def derive(password: str, salt: bytes) -> str:
    key = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 100_000)
    return key.hex()
`}

// buildCorpus generates the reference corpus deterministically from the rules of cfg.
func buildCorpus(cfg *config.Config) (files []corpusFile, samples, rules int) {
	gen := newSampler(1)
	rnd := rand.New(rand.NewPCG(2, 3))
	pick := func(xs []string) string { return xs[rnd.IntN(len(xs))] }
	var pool []string // every sample, for the mixed files
	for _, id := range sortedIDs(cfg.Rules) {
		r := cfg.Rules[id]
		// Rules constrained to (or only matching) paths get paths generated from their path
		// regex half of the time.
		pathFor := func() string {
			if r.Path != nil && rnd.IntN(2) == 0 {
				for range 20 {
					if p, ok := gen.sample(r.Path.String()); ok && r.Path.MatchString(p) {
						return p
					}
				}
			}
			return pick(corpusPaths)
		}
		if r.Regex == nil {
			for i := range 4 {
				files = append(files, corpusFile{name: fmt.Sprintf("%s/%d", id, i), path: pathFor(), text: negativeSources[i%len(negativeSources)]})
			}
			continue
		}
		rules++
		var mine []string
		for k := 0; len(mine) < 6 && k < 60; k++ {
			s, ok := gen.sample(r.Regex.String())
			if !ok || strings.Contains(s, "\n") || !r.Regex.MatchString(s) {
				continue
			}
			mine = append(mine, s)
		}
		// Multi-line samples, where the regex allows newlines, test the window sizes.
		gen.newlines = 0.3
		for k, n := 0, 0; n < 3 && k < 60; k++ {
			s, ok := gen.sample(r.Regex.String())
			if ok && strings.Contains(s, "\n") && r.Regex.MatchString(s) {
				mine = append(mine, s)
				n++
			}
		}
		gen.newlines = 0
		samples += len(mine)
		pool = append(pool, mine...)
		for k, s := range mine {
			t := templates[(k+len(files))%len(templates)]
			files = append(files, corpusFile{name: fmt.Sprintf("%s/%d", id, k), path: pathFor(), text: t(s)})
		}
		if len(mine) == 0 {
			continue
		}
		// Keywords far above the sample: rules whose match need not contain a keyword are
		// only run when one occurs somewhere in the text.
		var sb strings.Builder
		for i := range 20 {
			fmt.Fprintf(&sb, "line %d of filler text\n", i)
		}
		sb.WriteString("# " + strings.Join(r.Keywords, " ") + "\n")
		for i := range 25 {
			fmt.Fprintf(&sb, "\tcall(%d)\n", i)
		}
		// No newline at the end: the last line is located differently.
		sb.WriteString("value = " + mine[0])
		files = append(files, corpusFile{name: id + "/far-keyword", path: pathFor(), text: sb.String()})

		// Encoded copies exercise the decoding passes.
		plain := "token = " + mine[len(mine)-1]
		enc := map[int]string{
			0: base64.StdEncoding.EncodeToString([]byte(plain)),
			1: hex.EncodeToString([]byte(plain)),
			2: url.QueryEscape(plain),
			3: base64.StdEncoding.EncodeToString([]byte(base64.StdEncoding.EncodeToString([]byte(plain)))),
		}[len(files)%4]
		files = append(files, corpusFile{name: id + "/encoded", path: pathFor(),
			text: "config:\n  name: demo\n  blob: \"" + enc + "\"\n"})
	}

	// Mixed files: many samples among ordinary code, some on adjacent lines, so that windows
	// merge and matches of different rules share lines.
	for f := range 60 {
		var sb strings.Builder
		for range 20 {
			switch rnd.IntN(4) {
			case 0:
				sb.WriteString(pick(negativeSources))
			case 1:
				sb.WriteString(pick(pool) + " " + pick(pool) + "\n")
			default:
				sb.WriteString(templates[rnd.IntN(len(templates))](pick(pool)))
			}
		}
		files = append(files, corpusFile{name: fmt.Sprintf("mixed/%d", f), path: pick(corpusPaths), text: sb.String()})
	}
	for i, src := range negativeSources {
		for _, p := range []string{"", "layers/app.bb"} {
			files = append(files, corpusFile{name: fmt.Sprintf("negative/%d", i), path: p, text: src})
		}
	}
	return files, samples, rules
}

// refined reports whether a rule with a refiner found something, which gitleaks would report
// unrefined.
func refined(keys []refKey) bool {
	for _, k := range keys {
		if refiners[k.Rule] != nil {
			return true
		}
	}
	return false
}

// fallbacksGiveWay applies the one deliberate difference in what is found: a match of a
// keywarden fallback rule (tag "generic") gives way to a more specific rule's match on its line
// holding its secret, as gitleaks' generic rules do; gitleaks itself knows generic rules only
// by ID.
func fallbacksGiveWay(d *Detector, want []refKey) []refKey {
	out := want[:0:0]
	for _, w := range want {
		r := d.byID[w.Rule]
		drop := false
		for _, o := range want {
			if r != nil && r.generic == 1 && o.Line == w.Line && o.Rule != w.Rule &&
				d.byID[o.Rule] != nil && d.byID[o.Rule].generic == 0 && strings.Contains(o.Secret, w.Secret) {
				drop = true
			}
		}
		if !drop {
			out = append(out, w)
		}
	}
	return out
}

// TestReferenceGitleaks checks that Detect plus Allowed finds exactly what gitleaks' own
// detector finds on every file of a generated corpus.
func TestReferenceGitleaks(t *testing.T) {
	rs, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	cfg := rs.Config()
	files, samples, nRules := buildCorpus(cfg)

	gl := detect.NewDetector(rs.GitleaksConfig())
	gl.MaxDecodeDepth = defaultDecodeDepth
	// rs.Config compiled every regex; a fresh build compiles them as detection meets them.
	ours := NewDetector(freshDefault(t), DetectorOptions{})

	covered := map[string]bool{}
	findings, decoded, multiline := 0, 0, 0
	for _, f := range files {
		var want, got []refKey
		for _, g := range gl.Detect(detect.Fragment{Raw: f.text, FilePath: f.path}) {
			if _, skip := knownDisagreements[g.RuleID]; skip {
				continue
			}
			line := g.StartLine + 1 // gitleaks counts from 0 in DetectString's fragments
			if strings.HasPrefix(g.Match, "file detected: ") {
				line = 0
			}
			// keywarden reports a rule's severity tag as its severity, not among its tags
			want = append(want, refKey{g.RuleID, g.Secret, line, strings.Join(ruleTags(g.Tags), ",")})
			covered[g.RuleID] = true
			if g.EndLine > g.StartLine {
				multiline++
			}
		}
		for _, m := range ours.PathMatches(f.path, "") {
			got = append(got, refKey{m.RuleID, m.Secret, m.StartLine, strings.Join(m.Tags, ",")})
		}
		for _, m := range ours.Detect([]byte(f.text)) {
			if _, skip := knownDisagreements[m.RuleID]; skip || ours.Allowed(&m, f.path, "") {
				continue
			}
			got = append(got, refKey{m.RuleID, m.Secret, m.StartLine, strings.Join(m.Tags, ",")})
			if strings.Contains(got[len(got)-1].Tags, "decoded:") {
				decoded++
			}
		}
		want = fallbacksGiveWay(ours, want)
		if refined(want) || refined(got) {
			continue // gitleaks has no refiners: rules/refine_test.go tests those rules
		}
		sortKeys(want)
		sortKeys(got)
		findings += len(want)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("file %s (path %q): findings differ from gitleaks (-want +got):\n%s\ntext:\n%s", f.name, f.path, diff, f.text)
		}
	}
	t.Logf("corpus: %d rules with a regex (of %d), %d samples, %d files; %d gitleaks findings (%d multi-line, %d decoded) from %d rules",
		nRules, len(cfg.Rules), samples, len(files), findings, multiline, decoded, len(covered))
	// The comparison must not pass vacuously: most rules have to produce findings.
	if len(covered) < nRules*9/10 {
		t.Errorf("only %d of %d rules produced findings in the corpus", len(covered), nRules)
	}
}

func sortKeys(ks []refKey) {
	sort.Slice(ks, func(i, j int) bool {
		a, b := ks[i], ks[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Rule != b.Rule {
			return a.Rule < b.Rule
		}
		if a.Secret != b.Secret {
			return a.Secret < b.Secret
		}
		return a.Tags < b.Tags
	})
}
