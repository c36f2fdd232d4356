package report

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/html"

	"github.com/keywarden/keywarden/hsmcheck"
	"github.com/keywarden/keywarden/rules"
	"github.com/keywarden/keywarden/rules/keys"
	"github.com/keywarden/keywarden/scanner"
)

// The audit fixture: three scanned repositories on GitHub, GitLab and a local path, and one
// that failed. Paths, authors and commit messages in it are hostile, as anyone who can commit
// to an audited repository can make them.
const (
	repoGitHub = "https://github.com/acme/payments.git"
	repoGitLab = "git@gitlab.com:acme/platform/infra.git"
	repoLocal  = "/srv/git/legacy"
	repoBroken = "ssh://git@git.example.invalid/acme/gone.git"

	hostilePath    = `conf/<img src=x onerror=alert(1)>.env`
	hostileMessage = `fix </script><script>alert(2)</script>`
	hostileAuthor  = `"><svg onload=alert(3)>`

	weaknessRef = "https://www.keylength.com/"
)

// testSecret makes a fake secret at run time, so that this file holds no secret-shaped literal.
func testSecret(t testing.TB, prefix string) string {
	t.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return prefix + "_" + hex.EncodeToString(b)
}

// commitOf makes a commit ID from a seed.
func commitOf(seed string) string {
	sum := sha256.Sum256([]byte(seed))
	return hex.EncodeToString(sum[:20])
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 9, 30, 0, 0, time.UTC) }

// auditResult is a three-repository audit with six findings: 2 critical (one live, one retired),
// 1 high in two repositories, 1 medium and 2 low, one of them at a hostile path.
func auditResult(t testing.TB) *Result {
	t.Helper()
	return &Result{
		Tool:    testTool,
		Source:  "git",
		Target:  "repos.txt",
		Started: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC),
		Findings: []scanner.Finding{
			{
				RuleID: "generic-api-key", Description: "Generic API key", Severity: "low", Kind: rules.KindGeneric,
				Secret: testSecret(t, "gen"), Fingerprint: "f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1",
				Strength: &rules.Strength{Grade: "weak", Reason: "entropy 2.1 bits/char"},
				Locations: []scanner.Location{{Source: "git", Repo: repoLocal, Path: hostilePath, Line: 3,
					Commit: commitOf("hostile"), Author: hostileAuthor, Email: "m@example.invalid",
					Date: day(2021, 6, 10), Message: hostileMessage}},
			},
			{
				RuleID: "private-key", Description: "Private key", Severity: "critical", Kind: rules.KindPrivateKey,
				Secret: testSecret(t, "pk"), Fingerprint: "a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2",
				Key: &scanner.KeyInfo{Type: "RSA", Bits: 1024, Format: "pkcs1", Private: true, PublicSHA256: strings.Repeat("ab", 32)},
				Weaknesses: []keys.Weakness{{ID: "rsa-short", Severity: "high",
					Summary: "a 1024-bit modulus can be factored by a well-funded attacker", Reference: weaknessRef}},
				Exposure: &hsmcheck.Exposure{Status: hsmcheck.Live, Matches: []hsmcheck.Match{{
					Inventory: "pkcs11:prod-hsm", KeyID: "0a1b", Label: "payments-signing", State: hsmcheck.Active,
					Scope: "prod", By: hsmcheck.BySPKI}}},
				Locations: []scanner.Location{
					{Source: "git", Repo: repoGitHub, Path: "deploy/keys/signing.pem", Line: 1, Commit: commitOf("pk1"),
						Author: "Alice Example", Date: day(2019, 2, 14), Message: "Add signing key\n\nfor the release job"},
					{Source: "git", Repo: repoGitHub, Path: "backup/signing.pem", Line: 1, Commit: commitOf("pk2"),
						Author: "Bob Example", Date: day(2020, 7, 1), Message: "Back up keys"},
				},
			},
			{
				RuleID: "github-pat", Description: "GitHub personal access token", Severity: "high", Kind: rules.KindToken,
				Secret: testSecret(t, "tok"), Fingerprint: "b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3b3",
				Strength: &rules.Strength{Grade: "strong"},
				Locations: []scanner.Location{
					{Source: "git", Repo: repoGitHub, Path: "ci/release.sh", Line: 12, Commit: commitOf("tok1"),
						Author: "Carol Example", Date: day(2023, 11, 5), Message: "Release script"},
					{Source: "git", Repo: repoGitLab, Path: "scripts/mirror sync.sh", Line: 4, Commit: commitOf("tok2"),
						Author: "Carol Example", Date: day(2024, 1, 20), Message: "Mirror to GitLab"},
				},
			},
			{
				RuleID: "aws-access-token", Description: "AWS access key", Severity: "critical", Kind: rules.KindCloudCredential,
				Secret: testSecret(t, "aws"), Fingerprint: "c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4c4",
				Exposure: &hsmcheck.Exposure{Status: hsmcheck.Retired, Matches: []hsmcheck.Match{{
					Inventory: "file:inventory.yaml", KeyID: "AKIA-test", State: hsmcheck.Disabled, By: hsmcheck.ByTokenHMAC}}},
				Locations: []scanner.Location{{Source: "git", Repo: repoGitLab, Path: "terraform/prod.tfvars", Line: 2,
					Commit: commitOf("aws"), Author: "Dave Example", Date: day(2022, 8, 30), Message: "Terraform vars"}},
			},
			{
				RuleID: "password-assignment", Description: "Password in code", Severity: "medium", Kind: rules.KindPassword,
				Secret: testSecret(t, "pw"), Fingerprint: "d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5d5",
				Strength: &rules.Strength{Grade: "placeholder", Reason: "dictionary word and digits"},
				Exposure: &hsmcheck.Exposure{Status: hsmcheck.NoMatch},
				Locations: []scanner.Location{{Source: "git", Repo: repoLocal, Path: "app/settings.py", Line: 40,
					Commit: commitOf("pw"), Author: "Erin Example", Date: day(2020, 3, 3), Message: "Settings"}},
			},
			{
				RuleID: "generic-api-key", Description: "Generic API key", Severity: "low", Kind: rules.KindGeneric,
				Secret: testSecret(t, "gen"), Fingerprint: "e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6e6",
				Strength: &rules.Strength{Grade: "strong"}, Exposure: &hsmcheck.Exposure{Status: hsmcheck.NoMatch},
				Locations: []scanner.Location{{Source: "git", Repo: repoGitLab, Path: "docs/example.md", Line: 9,
					Commit: commitOf("gen2"), Author: "Frank Example", Date: day(2024, 2, 1), Message: "Docs"}},
			},
		},
		Stats: scanner.Stats{Blobs: 4321, Bytes: 12 << 20, Commits: 987, Duration: 8400 * time.Millisecond},
		Repos: []scanner.RepoStatus{
			{Repo: repoGitHub, Status: scanner.RepoOK, Blobs: 2000, Findings: 2},
			{Repo: repoGitLab, Status: scanner.RepoOK, Cached: true, Blobs: 1800, Findings: 3},
			{Repo: repoLocal, Status: scanner.RepoOK, Blobs: 521, Findings: 2},
			{Repo: repoBroken, Status: scanner.RepoFailed, Phase: "clone",
				Error: `cloning "ssh://git@git.example.invalid/acme/gone.git": repository not found`},
		},
		Inventories: []scanner.InventoryStatus{{Name: "pkcs11:prod-hsm", Keys: 12}, {Name: "file:inventory.yaml", Keys: 3}},
	}
}

// parseHTML parses a rendered report.
func parseHTML(t *testing.T, out []byte) *html.Node {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("parsing HTML report: %v", err)
	}
	return doc
}

// walk calls fn for every element under n.
func walk(n *html.Node, fn func(*html.Node)) {
	if n.Type == html.ElementNode {
		fn(n)
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, fn)
	}
}

func attr(n *html.Node, name string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val, true
		}
	}
	return "", false
}

// text is the text content of n.
func text(n *html.Node) string {
	var b strings.Builder
	var rec func(*html.Node)
	rec = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			rec(c)
		}
	}
	rec(n)
	return b.String()
}

// byID finds the element with an id.
func byID(doc *html.Node, id string) *html.Node {
	var found *html.Node
	walk(doc, func(n *html.Node) {
		if v, _ := attr(n, "id"); v == id && found == nil {
			found = n
		}
	})
	return found
}

// elements lists the elements named tag.
func elements(doc *html.Node, tag string) []*html.Node {
	var out []*html.Node
	walk(doc, func(n *html.Node) {
		if n.Data == tag {
			out = append(out, n)
		}
	})
	return out
}

func TestHTMLEscapesHostileInput(t *testing.T) {
	out := render(t, HTML{}, auditResult(t))
	for _, raw := range []string{"<img", "<svg onload", "<script>alert", `"><svg`} {
		if bytes.Contains(out, []byte(raw)) {
			t.Errorf("report contains unescaped %q", raw)
		}
	}
	doc := parseHTML(t, out)
	walk(doc, func(n *html.Node) {
		switch n.Data {
		case "img", "iframe", "object", "embed", "base", "link":
			t.Errorf("report has a <%s> element", n.Data)
		}
		for _, a := range n.Attr {
			if strings.HasPrefix(a.Key, "on") {
				t.Errorf("<%s> has an event handler attribute %s=%q", n.Data, a.Key, a.Val)
			}
		}
	})
	if n := len(elements(doc, "script")); n != 1 {
		t.Errorf("report has %d <script> elements, want 1", n)
	}
	// The hostile values arrive as text, whole.
	var texts []string
	walk(doc, func(n *html.Node) {
		if n.Data == "code" || n.Data == "td" {
			texts = append(texts, text(n))
		}
	})
	for _, want := range []string{hostilePath + ":3", firstLine(hostileMessage)} {
		if !slices.Contains(texts, want) {
			t.Errorf("no element has the text %q", want)
		}
	}
	if !strings.Contains(text(doc), hostileAuthor) {
		t.Errorf("the author %q is not shown as text", hostileAuthor)
	}
}

func TestHTMLCleansControlCharacters(t *testing.T) {
	res := auditResult(t)
	res.Findings[0].Locations[0].Path = "a\u202eb\x1b[2J.env" // a bidi override and a terminal escape
	out := string(render(t, HTML{}, res))
	if strings.ContainsAny(out, "\u202e\x1b") {
		t.Error("report contains a raw bidi override or escape character")
	}
	if !strings.Contains(out, `a\u202eb\x1b[2J.env`) {
		t.Error("report does not show the escaped path")
	}
}

func TestHTMLForgeLinks(t *testing.T) {
	const c = "0123456789abcdef0123456789abcdef01234567"
	tests := []struct {
		name       string
		repo       string
		commitURL  string
		fileURL    string
		path       string
		line       int
		commitSeen string
	}{
		{name: "github https", repo: "https://github.com/o/r", path: "a/b.env", line: 3,
			commitURL: "https://github.com/o/r/commit/" + c, fileURL: "https://github.com/o/r/blob/" + c + "/a/b.env#L3"},
		{name: "github https .git", repo: "https://github.com/o/r.git", path: "b.env",
			commitURL: "https://github.com/o/r/commit/" + c, fileURL: "https://github.com/o/r/blob/" + c + "/b.env"},
		{name: "github credentials stripped", repo: "https://x-access-token:" + "s3cr3t@github.com/o/r.git", path: "b.env", line: 1,
			commitURL: "https://github.com/o/r/commit/" + c, fileURL: "https://github.com/o/r/blob/" + c + "/b.env#L1"},
		{name: "github scp", repo: "git@github.com:o/r.git", path: "dir with space/ü.env", line: 7,
			commitURL: "https://github.com/o/r/commit/" + c, fileURL: "https://github.com/o/r/blob/" + c + "/dir%20with%20space/%C3%BC.env#L7"},
		{name: "github ssh url", repo: "ssh://git@github.com/o/r.git", path: "x", line: 1,
			commitURL: "https://github.com/o/r/commit/" + c, fileURL: "https://github.com/o/r/blob/" + c + "/x#L1"},
		{name: "github subgroup is no repo", repo: "https://github.com/o/r/extra"},
		{name: "gitlab subgroups over ssh", repo: "ssh://git@gitlab.com/g/sub/r.git", path: "k.pem", line: 1,
			commitURL: "https://gitlab.com/g/sub/r/-/commit/" + c, fileURL: "https://gitlab.com/g/sub/r/-/blob/" + c + "/k.pem#L1"},
		{name: "gitlab https", repo: "https://gitlab.com/g/r", path: "k.pem", line: 2,
			commitURL: "https://gitlab.com/g/r/-/commit/" + c, fileURL: "https://gitlab.com/g/r/-/blob/" + c + "/k.pem#L2"},
		{name: "gitlab scp", repo: "git@gitlab.com:g/sub/r.git", path: "k.pem",
			commitURL: "https://gitlab.com/g/sub/r/-/commit/" + c, fileURL: "https://gitlab.com/g/sub/r/-/blob/" + c + "/k.pem"},
		{name: "path climbing out gets no file link", repo: "https://github.com/o/r", path: "../etc/passwd", line: 1,
			commitURL: "https://github.com/o/r/commit/" + c},
		{name: "unknown host", repo: "https://git.example.com/o/r.git"},
		{name: "lookalike host", repo: "https://github.com.example.com/o/r.git"},
		{name: "local path", repo: "/srv/git/r"},
		{name: "relative path", repo: "."},
		{name: "windows path", repo: `C:\src\r`},
		{name: "file url", repo: "file:///srv/git/r.git"},
		{name: "javascript url", repo: "javascript:alert(1)//github.com/o/r"},
		{name: "hostile segment", repo: `https://github.com/o/r"><script>`},
		{name: "empty", repo: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fg, ok := forgeOf(tt.repo)
			if ok != (tt.commitURL != "") {
				t.Fatalf("forgeOf(%q) ok = %v, want %v", tt.repo, ok, tt.commitURL != "")
			}
			if !ok {
				return
			}
			if got := fg.commitURL(c); got != tt.commitURL {
				t.Errorf("commitURL = %q, want %q", got, tt.commitURL)
			}
			if got := fg.fileURL(c, tt.path, tt.line); got != tt.fileURL {
				t.Errorf("fileURL = %q, want %q", got, tt.fileURL)
			}
			if got := fg.commitURL("not-a-commit"); got != "" {
				t.Errorf("commitURL of a non-hex commit = %q, want none", got)
			}
		})
	}
}

// hrefs lists the href of every link in a report.
func hrefs(t *testing.T, out []byte) []string {
	t.Helper()
	var got []string
	walk(parseHTML(t, out), func(n *html.Node) {
		if v, ok := attr(n, "href"); ok && n.Data == "a" && !strings.HasPrefix(v, "#") {
			got = append(got, v)
		}
	})
	return got
}

func TestHTMLLinksInReport(t *testing.T) {
	const c = "4f6c1e2a9b8d7c6e5f4a3b2c1d0e9f8a7b6c5d4e"
	tests := []struct {
		name   string
		target string // a single-target scan's target, when repo is ""
		repo   string
		want   []string
	}{
		{name: "audit github", repo: "https://github.com/o/r.git",
			want: []string{"https://github.com/o/r/blob/" + c + "/config/app.env#L3", "https://github.com/o/r/commit/" + c}},
		{name: "audit gitlab", repo: "ssh://git@gitlab.com/g/sub/r.git",
			want: []string{"https://gitlab.com/g/sub/r/-/blob/" + c + "/config/app.env#L3", "https://gitlab.com/g/sub/r/-/commit/" + c}},
		{name: "single target git url", target: "https://tok" + "en@github.com/o/r",
			want: []string{"https://github.com/o/r/blob/" + c + "/config/app.env#L3", "https://github.com/o/r/commit/" + c}},
		{name: "audit unknown host", repo: "https://git.example.com/o/r.git"},
		{name: "audit local path", repo: "/srv/git/r"},
		{name: "single target local", target: "."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := &Result{Source: "git", Target: tt.target, Findings: []scanner.Finding{{
				RuleID: "r", Severity: "high", Secret: testSecret(t, "s"),
				Locations: []scanner.Location{{Source: "git", Repo: tt.repo, Path: "config/app.env", Line: 3, Commit: c}},
			}}}
			got := hrefs(t, render(t, HTML{}, res))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("links (-want +got):\n%s", diff)
			}
			if strings.Contains(string(render(t, HTML{}, res)), "tok"+"en@") {
				t.Error("report shows the credentials of the target URL")
			}
		})
	}
}

func TestHTMLRedaction(t *testing.T) {
	cases := append([]testCase{}, testCases...)
	cases = append(cases, testCase{"audit", func() *Result { return auditResult(t) }})
	for _, tc := range cases {
		for _, show := range []bool{false, true} {
			name := tc.name + "/redacted"
			if show {
				name = tc.name + "/shown"
			}
			t.Run(name, func(t *testing.T) {
				res := tc.res()
				res.ShowSecrets = show
				out := string(render(t, HTML{}, res))
				for _, f := range res.Findings {
					if f.Secret == "" {
						continue
					}
					if show {
						if !strings.Contains(out, f.Secret) {
							t.Errorf("report lacks the raw secret %q although ShowSecrets is set", f.Secret)
						}
						continue
					}
					for _, p := range hiddenPart(f.Secret) {
						if strings.Contains(out, p) {
							t.Errorf("report shows %q of secret %q without ShowSecrets", p, f.Secret)
						}
					}
					if !strings.Contains(out, f.Redacted()) {
						t.Errorf("report lacks the redacted secret %q", f.Redacted())
					}
				}
				if got := strings.Contains(out, "This report shows secrets in full"); got != show {
					t.Errorf("full-secrets warning shown = %v, want %v", got, show)
				}
			})
		}
	}
	t.Run("merged from JSON", func(t *testing.T) {
		// Secret fields already hold redacted values; ShowSecrets cannot bring more back.
		res := auditResult(t)
		for i := range res.Findings {
			res.Findings[i].Secret = res.Findings[i].Redacted()
		}
		res.Redacted, res.ShowSecrets = true, true
		out := string(render(t, HTML{}, res))
		if strings.Contains(out, "This report shows secrets in full") {
			t.Error("a report of redacted secrets claims to show them in full")
		}
		if !strings.Contains(out, res.Findings[0].Secret) {
			t.Errorf("report lacks the redacted secret %q", res.Findings[0].Secret)
		}
	})
}

// urlPattern finds absolute http(s) URLs in a page.
var urlPattern = regexp.MustCompile(`https?://[^\s"'<>)]+`)

func TestHTMLSelfContained(t *testing.T) {
	res := auditResult(t)
	out := render(t, HTML{}, res)
	doc := parseHTML(t, out)

	// Links are the commit and file pages of the GitHub and GitLab locations, the weakness
	// reference and the tool's home page: nothing else, and nothing the page loads.
	allowed := map[string]bool{weaknessRef: true, testTool.InformationURI: true}
	for _, f := range res.Findings {
		for _, l := range f.Locations {
			if fg, ok := forgeOf(l.Repo); ok {
				allowed[fg.commitURL(l.Commit)] = true
				allowed[fg.fileURL(l.Commit, l.Path, l.Line)] = true
			}
		}
	}
	links := hrefs(t, out)
	for _, h := range links {
		if !allowed[h] {
			t.Errorf("unexpected link %q", h)
		}
	}
	// The repositories' own names are shown too, as text.
	for _, r := range res.Repos {
		allowed[r.Repo] = true
	}
	if len(links) < 8 {
		t.Errorf("report has %d links, want the commit and file links of 6 forge locations and more", len(links))
	}
	for _, u := range urlPattern.FindAllString(string(out), -1) {
		if !allowed[html.UnescapeString(u)] {
			t.Errorf("report names the URL %q, which is no link it should have", u)
		}
	}
	walk(doc, func(n *html.Node) {
		for _, a := range n.Attr {
			switch {
			case a.Key == "src", a.Key == "srcset", a.Key == "action", a.Key == "formaction", a.Key == "poster",
				a.Key == "data" && n.Data == "object", a.Key == "xlink:href", a.Key == "href" && n.Data != "a":
				t.Errorf("<%s %s=%q> could load something", n.Data, a.Key, a.Val)
			}
		}
	})

	// The CSP forbids everything but the page's own inline style and script, by hash.
	var csp string
	walk(doc, func(n *html.Node) {
		if v, _ := attr(n, "http-equiv"); n.Data == "meta" && strings.EqualFold(v, "Content-Security-Policy") {
			csp, _ = attr(n, "content")
		}
	})
	style, script := text(elements(doc, "style")[0]), text(elements(doc, "script")[0])
	hash := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}
	want := "default-src 'none'; style-src " + hash(style) + "; script-src " + hash(script) +
		"; img-src data:; base-uri 'none'; form-action 'none'"
	if csp != want {
		t.Errorf("Content-Security-Policy = %q, want %q", csp, want)
	}
	for _, bad := range []string{"url(", "@import"} {
		if strings.Contains(style, bad) {
			t.Errorf("style contains %q", bad)
		}
	}
	for _, bad := range []string{"http", "fetch(", "XMLHttpRequest", "WebSocket", "EventSource", "sendBeacon",
		"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "Function("} {
		if strings.Contains(script, bad) {
			t.Errorf("script contains %q", bad)
		}
	}
}

func TestHTMLAudit(t *testing.T) {
	res := auditResult(t)
	out := render(t, HTML{}, res)
	doc := parseHTML(t, out)
	get := func(id string) string {
		t.Helper()
		n := byID(doc, id)
		if n == nil {
			t.Fatalf("no element with id %q", id)
		}
		return strings.Join(strings.Fields(text(n)), " ")
	}
	for id, want := range map[string]string{
		"stat-repos": "4", "stat-repos-ok": "3 (1 from cache)", "stat-repos-failed": "1",
		"total-findings": "6", "shown": "6 of 6 findings shown",
		"severity-counts": "critical 2 high 1 medium 1 low 2",
		"exposure-counts": "live 1 retired 1 unknown 2 not checked 2",
	} {
		if got := get(id); got != want {
			t.Errorf("#%s = %q, want %q", id, got, want)
		}
	}
	if got := get("live-banner"); !strings.Contains(got, "1 leaked key is still active") {
		t.Errorf("live banner = %q", got)
	}
	if got := get("failed-repos"); !strings.Contains(got, repoBroken) || !strings.Contains(got, "clone") ||
		!strings.Contains(got, "repository not found") {
		t.Errorf("failed repositories = %q, want the repository, its phase and its error", got)
	}

	// One tbody per finding, most severe first; the detail rows are there for printing and for
	// pages opened without script.
	var sevs []string
	var details int
	walk(byID(doc, "findings"), func(n *html.Node) {
		if n.Data == "tbody" && n.Parent != nil && n.Parent.Data == "table" {
			if v, _ := attr(n, "class"); v == "finding" {
				s, _ := attr(n, "data-sev")
				sevs = append(sevs, s)
			}
		}
		if v, _ := attr(n, "class"); n.Data == "tr" && v == "detail" {
			details++
		}
	})
	if diff := cmp.Diff([]string{"critical", "critical", "high", "medium", "low", "low"}, sevs); diff != "" {
		t.Errorf("row severities (-want +got):\n%s", diff)
	}
	if details != 6 {
		t.Errorf("%d detail rows, want 6", details)
	}
	// The token found in two repositories lists both in its repository filter data.
	walk(doc, func(n *html.Node) {
		if v, _ := attr(n, "data-rule"); n.Data == "tbody" && v == "github-pat" {
			if got, _ := attr(n, "data-repos"); got != "0 1" {
				t.Errorf("github-pat data-repos = %q, want %q", got, "0 1")
			}
		}
	})
	for _, want := range []string{
		"Findings by the date they were introduced, by month", "Rules with the most findings",
		"The oldest finding was introduced on 2019-02-14, 6.0 years before this scan.",
		"rotate it in the HSM or KMS now", "Deactivate the access key", "rsa-short",
		"payments-signing (0a1b)</code> in <code>pkcs11:prod-hsm</code>, active, scope prod, matched by spki-sha256",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if again := render(t, HTML{}, res); !bytes.Equal(again, out) {
		t.Error("rendering the same result twice gives different pages")
	}
}

func TestHTMLEmpty(t *testing.T) {
	tests := []struct {
		name string
		res  *Result
		want []string
		not  []string
	}{
		{name: "single target", res: emptyResult(),
			want: []string{"No secrets found", `<code>testdata/empty</code>`, "keywarden found no secrets."},
			not:  []string{"<table", `id="live-banner"`, `id="failed-repos"`}},
		{name: "audit with a failed repository", res: &Result{Tool: testTool, Source: "git", Repos: []scanner.RepoStatus{
			{Repo: "/srv/a", Status: scanner.RepoOK}, {Repo: "/srv/b", Status: scanner.RepoFailed, Phase: "open", Error: "not a git repository"}}},
			want: []string{"No secrets found", "1 repository failed and was not scanned", "not a git repository", `id="stat-repos">2<`},
			not:  []string{"<table"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := string(render(t, HTML{}, tt.res))
			parseHTML(t, []byte(out))
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("report lacks %q", w)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(out, n) {
					t.Errorf("report has %q", n)
				}
			}
		})
	}
}

func TestHTMLSingleTarget(t *testing.T) {
	out := string(render(t, HTML{}, gitResult()))
	for _, want := range []string{"keywarden report: .", `id="stat-target"`, "3 of 3 findings shown", "+2 more"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	// Without repositories there is no repository column or filter.
	for _, not := range []string{`data-key="repo"`, `id="f-repo"`} {
		if strings.Contains(out, not) {
			t.Errorf("single-target report has %q", not)
		}
	}
}

func TestHTMLDateChartUnits(t *testing.T) {
	tests := []struct {
		name    string
		dates   []time.Time
		unit    string
		periods int // drawn periods, empty ones included
	}{
		{"days", []time.Time{day(2024, 3, 1), day(2024, 3, 20)}, "day", 20},
		{"months", []time.Time{day(2019, 2, 14), day(2024, 2, 1)}, "month", 61},
		{"years", []time.Time{day(2001, 5, 1), day(2024, 2, 1)}, "year", 24},
		{"one day", []time.Time{day(2024, 3, 1)}, "day", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := &Result{}
			for _, d := range tt.dates {
				res.Findings = append(res.Findings, scanner.Finding{Severity: "high",
					Locations: []scanner.Location{{Date: d}}})
			}
			res.Findings = append(res.Findings, scanner.Finding{Severity: "low"}) // no date
			c, _ := res.dateChart()
			if c.Unit != tt.unit {
				t.Errorf("unit = %q, want %q", c.Unit, tt.unit)
			}
			if c.Undated != 1 {
				t.Errorf("undated = %d, want 1", c.Undated)
			}
			// Every period gets a slot, empty ones too: the last bar stands in the last slot.
			last := c.Bars[len(c.Bars)-1]
			slot := float64(c.Right-c.Left) / float64(tt.periods)
			want := float64(c.Left) + slot*(float64(tt.periods)-0.5)
			if got := last.X + last.W/2; got < want-0.2 || got > want+0.2 {
				t.Errorf("last bar centred at %.1f, want %.1f with %d periods", got, want, tt.periods)
			}
			if got := len(c.Table); got != len(tt.dates) {
				t.Errorf("data table has %d periods, want %d", got, len(tt.dates))
			}
		})
	}
	if c, _ := (&Result{Findings: []scanner.Finding{{Severity: "low"}}}).dateChart(); c != nil {
		t.Error("a chart is drawn without any dated finding")
	}
}

func TestHTMLByName(t *testing.T) {
	w, err := ByName("html")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := w.(HTML); !ok {
		t.Errorf("ByName(html) = %T, want HTML", w)
	}
	if !slices.Contains(Formats, "html") {
		t.Error("Formats lacks html")
	}
}
