package report

import (
	"bufio"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"math"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/keywarden/keywarden/hsmcheck"
	"github.com/keywarden/keywarden/rules"
	"github.com/keywarden/keywarden/scanner"
)

// HTML writes one self-contained HTML page: a summary with counts and charts, and a findings
// table that sorts, filters and expands in the browser. It loads nothing from the network, and
// its Content-Security-Policy forbids it to: the page is meant to be mailed around and opened
// offline. Every value from the audited repositories (paths, authors, commit messages) goes
// through html/template, since they are written by whoever could commit there.
type HTML struct{}

var (
	//go:embed html/report.tmpl
	htmlTemplateText string
	//go:embed html/report.css
	htmlStyle string
	//go:embed html/report.js
	htmlScript string
)

// htmlTemplate is parsed once; a broken embedded template is a build defect, so it panics.
var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"thousands": func(n int) string { return thousands(int64(n)) },
	"plural":    plural,
}).Parse(htmlTemplateText))

// htmlCSP is the page's Content-Security-Policy. The inline style and script are allowed by
// hash, not by 'unsafe-inline', so that markup smuggled past the escaping still could not run
// a script; nothing may be fetched, and no form may submit anywhere.
var htmlCSP = "default-src 'none'; style-src " + cspHash(htmlStyle) + "; script-src " + cspHash(htmlScript) +
	"; img-src data:; base-uri 'none'; form-action 'none'"

// cspHash is a CSP hash source for an inline element whose text is s.
func cspHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// htmlMaxLocations is how many locations a finding's detail lists; a key copied into thousands
// of files would otherwise make the page too big to open. The JSON report has them all.
const htmlMaxLocations = 100

// Write implements Writer.
func (HTML) Write(w io.Writer, res *Result) error {
	bw := bufio.NewWriter(w)
	if err := htmlTemplate.Execute(bw, res.htmlView()); err != nil {
		return fmt.Errorf("writing HTML report: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing HTML report: %w", err)
	}
	return nil
}

// htmlView is what the template renders: every value already cleaned and formatted.
type htmlView struct {
	Title       string
	CSP         string
	Style       template.CSS
	Script      template.JS
	ToolName    string
	ToolVersion string
	ToolURL     string
	Started     string
	Source      string
	Target      string
	Audit       bool
	Shard       string
	RepoTotal   int
	RepoOK      int
	RepoCached  int
	Failed      []htmlFailedRepo
	Stats       []htmlStat
	Inventories []htmlInventory
	Live        string
	ShowSecrets bool
	Total       int
	Severities  []htmlCount
	Exposures   []htmlCount
	Strengths   []htmlCount
	Rules       []htmlCount
	Repos       []htmlCount
	Oldest      string
	DateChart   *htmlDateChart
	RuleChart   *htmlRuleChart
	ShowRepo    bool
	Columns     int
	Findings    []htmlFinding
}

type htmlFailedRepo struct{ Repo, Phase, Error string }

type htmlStat struct{ Label, Value string }

type htmlInventory struct {
	Name    string
	Keys    int
	Skipped string
}

// htmlCount is one value of a facet (a severity, an exposure, a rule...) and its findings.
type htmlCount struct {
	Key   string // the value rows carry in their data attribute
	Label string
	Class string // a CSS class from a fixed set, never from data
	Count int
}

// htmlFinding is one row of the findings table and its detail.
type htmlFinding struct {
	N              int
	Severity       string // the filter key: a severity, or "unknown"
	SeverityClass  string
	SeverityRank   int // higher is more severe
	RuleID         string
	Description    string
	Kind           string
	Secret         string
	NoValue        bool
	Where          string
	MoreLocations  int
	RepoIDs        string // space-separated indexes into htmlView.Repos
	FirstRepo      string
	MoreRepos      int
	Date           string
	DateKey        string
	Age            string
	Exposure       string // live, retired, unknown, none
	ExposureLabel  string
	ExposureRank   int
	Strength       string // strong, weak, placeholder, none
	StrengthLabel  string
	StrengthRank   int
	StrengthReason string
	Fingerprint    string
	Entropy        string
	Tags           []string
	Locations      []htmlLocation
	LocationsLeft  int
	Key            []htmlStat
	Weaknesses     []htmlWeakness
	Matches        []htmlMatch
	ScopeReuse     string
	Remedy         htmlRemedy
}

type htmlLocation struct {
	Repo        string
	Where       string
	FileURL     string
	Commit      string
	CommitShort string
	CommitURL   string
	Author      string
	Email       string
	Date        string
	Message     string
	Image       string
	Note        string
	Binary      string // a binary location's detector, length and check
}

type htmlWeakness struct {
	ID, Severity, SeverityClass, Summary, Reference string
}

type htmlMatch struct {
	Key, Inventory, State, Scope, By, Confirmation string
	Live                                           bool
}

type htmlRemedy struct {
	Urgent string // what to do first when the key is live or retired in an inventory
	Kind   string // what rotating this kind of secret means
	Steps  []string
}

// htmlView builds the page's view of r.
func (r *Result) htmlView() *htmlView {
	v := &htmlView{
		CSP:         htmlCSP,
		Style:       template.CSS(htmlStyle),
		Script:      template.JS(htmlScript),
		ToolName:    clean(r.Tool.Name),
		ToolVersion: clean(r.Tool.Version),
		Source:      clean(r.Source),
		Target:      displayRepo(r.Target),
		Audit:       len(r.Repos) > 0,
		Shard:       clean(r.Shard),
		Total:       len(r.Findings),
		Live:        strings.TrimPrefix(liveBanner(r), "!! LIVE EXPOSURE: "),
		ShowSecrets: r.ShowSecrets && !r.Redacted,
	}
	if v.ToolName == "" {
		v.ToolName = "keywarden"
	}
	if u, err := url.Parse(r.Tool.InformationURI); err == nil && u.Scheme == "https" && u.Host != "" {
		v.ToolURL = u.String()
	}
	if !r.Started.IsZero() {
		v.Started = r.Started.UTC().Format("2006-01-02 15:04 UTC")
	}
	switch {
	case v.Audit:
		v.Title = fmt.Sprintf("keywarden audit of %d %s", len(r.Repos), plural(len(r.Repos), "repository", "repositories"))
		if v.Shard != "" {
			v.Title += ", shard " + v.Shard
		}
	case v.Target != "":
		v.Title = "keywarden report: " + v.Target
	default:
		v.Title = "keywarden report"
	}
	if r.Incomplete {
		v.Title = "INCOMPLETE (interrupted) " + v.Title
	}
	r.htmlSummary(v)

	order := make([]int, len(r.Findings))
	for i := range order {
		order[i] = i
	}
	// Most severe first, as the table starts sorted; the scan's own order breaks ties.
	sort.SliceStable(order, func(a, b int) bool {
		return severityRank(r.Findings[order[a]].Severity) < severityRank(r.Findings[order[b]].Severity)
	})
	repoIndex := r.htmlRepos(v)
	v.ShowRepo = len(v.Repos) > 0
	v.Columns = 8
	if v.ShowRepo {
		v.Columns++
	}
	for n, i := range order {
		v.Findings = append(v.Findings, r.htmlFinding(r.Findings[i], n+1, repoIndex))
	}
	v.facets()
	v.DateChart, v.Oldest = r.dateChart()
	v.RuleChart = ruleChart(v.Rules, r)
	return v
}

// htmlSummary fills in the scan's figures and the audit's repositories.
func (r *Result) htmlSummary(v *htmlView) {
	skipped := max(r.Stats.Skipped, int64(len(r.Skipped)))
	if v.Audit {
		v.RepoTotal = len(r.Repos)
		for _, rs := range r.Repos {
			if rs.Status == scanner.RepoFailed {
				v.Failed = append(v.Failed, htmlFailedRepo{Repo: displayRepo(rs.Repo), Phase: clean(rs.Phase), Error: clean(rs.Error)})
				continue
			}
			v.RepoOK++
			if rs.Cached {
				v.RepoCached++
			}
		}
	}
	if r.Source == "inventory" {
		keys := 0
		for _, inv := range r.Inventories {
			keys += inv.Keys
		}
		v.Stats = append(v.Stats, htmlStat{"Inventory keys", thousands(int64(keys))})
	} else {
		if r.Stats.Commits > 0 {
			v.Stats = append(v.Stats, htmlStat{"Commits", thousands(r.Stats.Commits)})
		}
		v.Stats = append(v.Stats, htmlStat{"Blobs", thousands(r.Stats.Blobs)}, htmlStat{"Bytes", humanBytes(r.Stats.Bytes)})
	}
	v.Stats = append(v.Stats, htmlStat{"Duration", humanDuration(r.Stats.Duration)})
	if skipped > 0 {
		v.Stats = append(v.Stats, htmlStat{"Skipped blobs", thousands(skipped)})
	}
	for _, inv := range r.Inventories {
		v.Inventories = append(v.Inventories, htmlInventory{Name: clean(inv.Name), Keys: inv.Keys, Skipped: clean(inv.Skipped)})
	}
}

// htmlRepos lists the repositories findings were found in, in the order of the audit's list
// (then any others by name), and returns each one's index.
func (r *Result) htmlRepos(v *htmlView) map[string]int {
	counts := map[string]int{}
	for _, f := range r.Findings {
		seen := map[string]bool{}
		for _, l := range f.Locations {
			if l.Repo != "" && !seen[l.Repo] {
				seen[l.Repo] = true
				counts[l.Repo]++
			}
		}
	}
	var names []string
	listed := map[string]bool{}
	for _, rs := range r.Repos {
		if counts[rs.Repo] > 0 && !listed[rs.Repo] {
			listed[rs.Repo] = true
			names = append(names, rs.Repo)
		}
	}
	var rest []string
	for name := range counts {
		if !listed[name] {
			rest = append(rest, name)
		}
	}
	sort.Strings(rest)
	names = append(names, rest...)
	index := make(map[string]int, len(names))
	for i, name := range names {
		index[name] = i
		v.Repos = append(v.Repos, htmlCount{Key: strconv.Itoa(i), Label: displayRepo(name), Count: counts[name]})
	}
	return index
}

// facets counts the findings by severity, exposure, strength and rule, for the summary and the
// filters. Severities, exposures and strengths keep their fixed order; rules go by count.
func (v *htmlView) facets() {
	sev, exp, str, rule := map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	for _, f := range v.Findings {
		sev[f.Severity]++
		exp[f.Exposure]++
		str[f.Strength]++
		rule[f.RuleID]++
	}
	for _, s := range append(append([]string{}, severities...), "unknown") {
		if sev[s] > 0 || s != "unknown" && s != "info" {
			v.Severities = append(v.Severities, htmlCount{Key: s, Label: s, Class: "sev-" + s, Count: sev[s]})
		}
	}
	for _, e := range []string{hsmcheck.Live, hsmcheck.Retired, hsmcheck.NoMatch, "none"} {
		v.Exposures = append(v.Exposures, htmlCount{Key: e, Label: exposureLabel(e), Class: "exp-" + e, Count: exp[e]})
	}
	for _, s := range []string{"strong", "weak", "placeholder", "none"} {
		if str[s] > 0 {
			v.Strengths = append(v.Strengths, htmlCount{Key: s, Label: strengthLabel(s), Class: "str-" + s, Count: str[s]})
		}
	}
	for id, n := range rule {
		v.Rules = append(v.Rules, htmlCount{Key: id, Label: id, Count: n})
	}
	sort.Slice(v.Rules, func(i, j int) bool {
		if v.Rules[i].Count != v.Rules[j].Count {
			return v.Rules[i].Count > v.Rules[j].Count
		}
		return v.Rules[i].Key < v.Rules[j].Key
	})
}

func exposureLabel(e string) string {
	if e == "none" {
		return "not checked"
	}
	return e
}

func strengthLabel(s string) string {
	if s == "none" {
		return "not graded"
	}
	return s
}

// htmlSeverity is a severity's filter key and CSS class: one of severities, or "unknown".
func htmlSeverity(s string) string {
	if severityRank(s) < len(severities) {
		return s
	}
	return "unknown"
}

// introduced is when a finding first entered history: its earliest location date, or zero.
func introduced(f scanner.Finding) time.Time {
	var t time.Time
	for _, l := range f.Locations {
		if !l.Date.IsZero() && (t.IsZero() || l.Date.Before(t)) {
			t = l.Date
		}
	}
	return t
}

// htmlFinding builds the row and detail of finding f, the n-th in the table.
func (r *Result) htmlFinding(f scanner.Finding, n int, repoIndex map[string]int) htmlFinding {
	ri := r.ruleFor(f)
	h := htmlFinding{
		N:           n,
		RuleID:      clean(f.RuleID),
		Description: clean(strings.TrimSpace(f.Description)),
		Fingerprint: clean(f.Fingerprint),
	}
	if h.Description == "" {
		h.Description = clean(ri.Description)
	}
	h.Severity = htmlSeverity(f.Severity)
	h.SeverityClass = "sev-" + h.Severity
	h.SeverityRank = len(severities) - severityRank(f.Severity)
	h.Kind = f.Kind
	if h.Kind == "" {
		h.Kind = ri.Kind
	}
	h.Kind = clean(h.Kind)
	if f.Secret == "" {
		h.NoValue = true
	} else {
		h.Secret = clean(r.secret(f))
	}
	if f.Entropy > 0 {
		h.Entropy = strconv.FormatFloat(f.Entropy, 'f', 2, 64)
	}
	for _, t := range f.Tags {
		h.Tags = append(h.Tags, clean(t))
	}

	if len(f.Locations) > 0 {
		h.Where = locationWhere(f.Locations[0])
		h.MoreLocations = len(f.Locations) - 1
	}
	var ids []string
	seen := map[string]bool{}
	for _, l := range f.Locations {
		if l.Repo == "" || seen[l.Repo] {
			continue
		}
		seen[l.Repo] = true
		ids = append(ids, strconv.Itoa(repoIndex[l.Repo]))
		if h.FirstRepo == "" {
			h.FirstRepo = shortRepo(l.Repo)
		}
	}
	h.RepoIDs = strings.Join(ids, " ")
	h.MoreRepos = max(len(ids)-1, 0)
	if t := introduced(f); !t.IsZero() {
		h.Date = t.Format(time.DateOnly)
		h.DateKey = t.UTC().Format(time.RFC3339)
		if !r.Started.IsZero() && r.Started.After(t) {
			h.Age = humanAge(r.Started.Sub(t))
		}
	}

	h.Exposure, h.ExposureRank = "none", 0
	if e := f.Exposure; e != nil {
		switch e.Status {
		case hsmcheck.Live:
			h.Exposure, h.ExposureRank = hsmcheck.Live, 3
		case hsmcheck.Retired:
			h.Exposure, h.ExposureRank = hsmcheck.Retired, 2
		default:
			h.Exposure, h.ExposureRank = hsmcheck.NoMatch, 1
		}
		for _, m := range e.Matches {
			h.Matches = append(h.Matches, htmlMatch{Key: clean(m.Ref()), Inventory: clean(m.Inventory), State: clean(string(m.State)),
				Scope: clean(m.Scope), By: clean(m.By), Confirmation: clean(m.Confirmation), Live: m.State.Live()})
		}
		if e.ScopeReuse {
			var scopes []string
			for _, s := range e.Scopes {
				scopes = append(scopes, clean(s))
			}
			h.ScopeReuse = strings.Join(scopes, ", ")
		}
	}
	h.ExposureLabel = exposureLabel(h.Exposure)
	h.Strength, h.StrengthRank = "none", 0
	if s := f.Strength; s != nil {
		switch s.Grade {
		case "strong":
			h.Strength, h.StrengthRank = "strong", 3
		case "weak":
			h.Strength, h.StrengthRank = "weak", 2
		case "placeholder":
			h.Strength, h.StrengthRank = "placeholder", 1
		}
		h.StrengthReason = clean(s.Reason)
	}
	h.StrengthLabel = strengthLabel(h.Strength)

	for i, l := range f.Locations {
		if i == htmlMaxLocations {
			h.LocationsLeft = len(f.Locations) - i
			break
		}
		h.Locations = append(h.Locations, r.htmlLocation(l))
	}
	h.Key = keyFields(f.Key)
	for _, wk := range f.Weaknesses {
		hw := htmlWeakness{ID: clean(wk.ID), Severity: clean(wk.Severity), SeverityClass: "sev-" + htmlSeverity(wk.Severity), Summary: clean(wk.Summary)}
		if u, err := url.Parse(wk.Reference); err == nil && u.Scheme == "https" && u.Host != "" {
			hw.Reference = u.String()
		}
		h.Weaknesses = append(h.Weaknesses, hw)
	}
	h.Remedy = remedy(h.Kind, h.Exposure)
	return h
}

// locationWhere names a location as "path:line", or "path @ 0x1a2b (vaddr 0x7f3a…)" in a
// binary file.
func locationWhere(l scanner.Location) string {
	where := clean(l.Path)
	if l.Line > 0 {
		where += ":" + strconv.Itoa(l.Line)
	}
	return where + binaryWhere(l)
}

// binaryDetail says how a binary location's key was found: "found by der-pkcs8, 1,218 bytes;
// confirmed: n = p·q". "" for a location in text.
func binaryDetail(l scanner.Location) string {
	var parts []string
	if l.Detector != "" {
		parts = append(parts, "found by "+clean(l.Detector))
	}
	if l.Length > 0 {
		parts = append(parts, thousands(int64(l.Length))+" "+plural(l.Length, "byte", "bytes"))
	}
	s := strings.Join(parts, ", ")
	if l.Confirmed != "" {
		if s != "" {
			s += "; "
		}
		s += "confirmed: " + clean(l.Confirmed)
	}
	return s
}

// htmlLocation describes one location, with links to its commit and to the file at that commit
// when the repository is on GitHub or GitLab.
func (r *Result) htmlLocation(l scanner.Location) htmlLocation {
	h := htmlLocation{
		Repo:    displayRepo(l.Repo),
		Where:   locationWhere(l),
		Commit:  clean(l.Commit),
		Author:  clean(l.Author),
		Email:   clean(l.Email),
		Message: clean(firstLine(l.Message)),
		Note:    clean(l.Note),
		Binary:  binaryDetail(l),
	}
	h.CommitShort = clean(shortCommit(l.Commit))
	if !l.Date.IsZero() {
		h.Date = l.Date.Format("2006-01-02 15:04 -0700")
	}
	if l.Image != "" {
		h.Image = clean(l.Image)
		if l.Layer > 0 {
			h.Image += fmt.Sprintf(" layer %d", l.Layer)
		} else {
			h.Image += " config"
		}
	}
	repo := l.Repo
	if repo == "" && (l.Source == "git" || l.Source == "") && l.Image == "" {
		repo = r.Target // a single-target scan of a git URL
	}
	if fg, ok := forgeOf(repo); ok && l.Commit != "" && l.Image == "" {
		h.CommitURL = fg.commitURL(l.Commit)
		h.FileURL = fg.fileURL(l.Commit, l.Path, l.Line)
	}
	return h
}

// firstLine is a commit message's subject line.
func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = strings.TrimSpace(s[:i]) + " …"
	}
	if r := []rune(s); len(r) > 200 {
		s = string(r[:199]) + "…"
	}
	return s
}

// keyFields lists what a finding's key is, for its detail.
func keyFields(k *scanner.KeyInfo) []htmlStat {
	if k == nil {
		return nil
	}
	var out []htmlStat
	add := func(label, value string) {
		if value != "" {
			out = append(out, htmlStat{label, clean(value)})
		}
	}
	add("Type", keyTypeName(k))
	if k.Bits > 0 && k.Type != "aes" { // "AES-256" has them
		add("Bits", strconv.Itoa(k.Bits))
	}
	add("Curve", k.Curve)
	add("Format", k.Format)
	switch {
	case k.Type == "aes":
		add("Holds", "a secret key")
	case k.Private:
		add("Holds", "a private key")
	default:
		add("Holds", "a public key only")
	}
	if k.Encrypted {
		enc := "yes"
		if d := k.KDF; d != nil {
			parts := []string{d.Name}
			if d.Hash != "" {
				parts = append(parts, d.Hash)
			}
			if d.Iterations > 0 {
				parts = append(parts, fmt.Sprintf("%d iterations", d.Iterations))
			}
			if d.Memory > 0 {
				parts = append(parts, fmt.Sprintf("memory %d", d.Memory))
			}
			if d.Cipher != "" {
				parts = append(parts, d.Cipher)
			}
			enc += ": " + strings.Join(parts, ", ")
		}
		add("Encrypted", enc)
	} else if k.Private {
		add("Encrypted", "no")
	}
	add("SSH fingerprint", k.SSHFingerprint)
	add("Public key SHA-256", k.PublicSHA256)
	return out
}

// remedySteps are what to do about any committed secret, as the SARIF rule help says.
var remedySteps = []string{
	"Remove it from the code and load it at run time from the environment or a secret manager.",
	"Purge it from git history (git filter-repo or BFG Repo-Cleaner), force-push, and have everyone with a clone re-clone. Rotate anyway: forks, caches and CI logs keep copies.",
	"If it is not a real secret (a test fixture or an example), mark it instead: a comment containing keywarden:allow on the line, or its fingerprint as a line of .keywardenignore.",
}

// remedy is the remediation hint of a finding of kind with exposure.
func remedy(kind, exposure string) htmlRemedy {
	h := htmlRemedy{Kind: rules.KindRemedy(kind), Steps: remedySteps}
	switch exposure {
	case hsmcheck.Live:
		h.Urgent = "The key is active in your key inventory: rotate it in the HSM or KMS now, then re-protect what it protected."
	case hsmcheck.Retired:
		h.Urgent = "The key is retired in your key inventory, but data protected under it must be re-protected under a new key."
	}
	return h
}

// humanAge says how long ago something happened, roughly: "12 days", "5 months", "3.2 years".
func humanAge(d time.Duration) string {
	days := int(d.Hours() / 24)
	switch {
	case days < 1:
		return "less than a day"
	case days < 61:
		return fmt.Sprintf("%d %s", days, plural(days, "day", "days"))
	case days < 730:
		months := int(math.Round(float64(days) / 30.44))
		return fmt.Sprintf("%d months", months)
	}
	return strconv.FormatFloat(float64(days)/365.25, 'f', 1, 64) + " years"
}

// forge is a repository on a code host whose web pages the report can link to.
type forge struct {
	gitlab bool
	base   string // "https://github.com/owner/repo"
}

// forgeSegment is one safe segment of a repository path on GitHub or GitLab.
var forgeSegment = regexp.MustCompile(`^[A-Za-z0-9_.][A-Za-z0-9_.-]*$`)

// commitID is a full or abbreviated git object name.
var commitID = regexp.MustCompile(`^[0-9a-f]{7,64}$`)

// forgeOf finds the GitHub or GitLab repository a clone URL names: https://github.com/o/r(.git),
// git@github.com:o/r.git, ssh://git@gitlab.com/group/sub/r.git. Credentials in the URL are
// dropped. Other hosts, local paths and anything odd give no forge, and so no links.
func forgeOf(repo string) (forge, bool) {
	repo = strings.TrimSpace(repo)
	var host, p string
	if u, err := url.Parse(repo); err == nil && u.Scheme != "" && u.Host != "" {
		switch strings.ToLower(u.Scheme) {
		case "https", "http", "ssh", "git", "git+ssh", "ssh+git":
		default:
			return forge{}, false
		}
		host, p = u.Hostname(), u.Path
	} else if i := strings.Index(repo, ":"); i > 0 && !strings.ContainsAny(repo[:i], `/\`) && !strings.Contains(repo, "://") {
		// scp-like syntax: [user@]host:path
		host, p = repo[:i], repo[i+1:]
		if at := strings.LastIndex(host, "@"); at >= 0 {
			host = host[at+1:]
		}
	} else {
		return forge{}, false
	}
	var fg forge
	switch strings.ToLower(host) {
	case "github.com", "www.github.com":
		host = "github.com"
	case "gitlab.com", "www.gitlab.com":
		host, fg.gitlab = "gitlab.com", true
	default:
		return forge{}, false
	}
	p = strings.TrimSuffix(strings.Trim(p, "/"), ".git")
	segs := strings.Split(p, "/")
	if len(segs) < 2 || !fg.gitlab && len(segs) != 2 {
		return forge{}, false
	}
	for _, s := range segs {
		if !forgeSegment.MatchString(s) || s == "." || s == ".." {
			return forge{}, false
		}
	}
	fg.base = "https://" + host + "/" + strings.Join(segs, "/")
	return fg, true
}

// commitURL links to a commit's page.
func (fg forge) commitURL(commit string) string {
	if !commitID.MatchString(commit) {
		return ""
	}
	if fg.gitlab {
		return fg.base + "/-/commit/" + commit
	}
	return fg.base + "/commit/" + commit
}

// fileURL links to a file as it was at a commit, at a line when line > 0. Paths that climb out of
// the repository or are absolute give "".
func (fg forge) fileURL(commit, p string, line int) string {
	if !commitID.MatchString(commit) || p == "" || strings.HasPrefix(p, "/") || strings.Contains(p, `\`) {
		return ""
	}
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if s == "" || s == "." || s == ".." {
			return ""
		}
		segs[i] = url.PathEscape(s)
	}
	u := fg.base + "/blob/" + commit + "/" + strings.Join(segs, "/")
	if fg.gitlab {
		u = fg.base + "/-/blob/" + commit + "/" + strings.Join(segs, "/")
	}
	if line > 0 {
		u += "#L" + strconv.Itoa(line)
	}
	return u
}

// shortRepo names a repository briefly for the table: "github.com/o/r" for
// "https://github.com/o/r.git" or "git@github.com:o/r.git"; paths stay as they are.
func shortRepo(s string) string {
	if fg, ok := forgeOf(s); ok {
		return strings.TrimPrefix(fg.base, "https://")
	}
	if u, err := url.Parse(s); err == nil && u.Scheme != "" && u.Host != "" {
		return clean(strings.TrimSuffix(u.Host+u.Path, ".git"))
	}
	return displayRepo(s)
}

// displayRepo shows a repository or target with any password or token removed from its URL.
func displayRepo(s string) string {
	if u, err := url.Parse(s); err == nil && u.Scheme != "" && u.Host != "" && u.User != nil {
		if _, hasPass := u.User.Password(); hasPass || u.Scheme == "https" || u.Scheme == "http" {
			u.User = nil // an https user name is often the token itself
		}
		s = u.String()
	}
	return clean(s)
}

// htmlDateChart is the bar chart of findings by the date they were introduced.
type htmlDateChart struct {
	W, H    int
	Unit    string // day, month or year
	Desc    string
	Bars    []htmlBar
	Grid    []htmlTick // horizontal lines with their counts
	Labels  []htmlTick // periods under the bars
	Legend  []htmlCount
	Table   []htmlStat // non-empty periods and their counts
	Undated int
	Left    int
	Right   int
}

type htmlBar struct {
	X, Y, W, H float64
	Class      string
	Title      string
}

type htmlTick struct {
	X, Y  float64
	Label string
}

// htmlRuleChart is the bar chart of the rules with the most findings.
type htmlRuleChart struct {
	W, H   int
	Desc   string
	Bars   []htmlBar
	Labels []htmlTick // rule names, right-aligned before the bars
	Counts []htmlTick // counts after the bars
	Shown  int
	Of     int
}

// Chart geometry, in SVG user units; the SVG scales to the page width.
const (
	chartW        = 640
	dateChartH    = 220
	dateChartLeft = 40
	dateChartTop  = 12
	dateChartBase = 180 // the y of the bars' baseline; labels go below
	ruleChartRows = 10
	ruleLabelW    = 220
	ruleRowH      = 26
	ruleBarH      = 18
)

// round1 keeps chart coordinates short in the page.
func round1(f float64) float64 { return math.Round(f*10) / 10 }

// dateChart buckets the findings by when they were introduced: by day over up to two months,
// by month over up to ten years, else by year. Empty periods are drawn too, so that the chart
// shows how long the secrets sat in history. It also returns a sentence about the oldest one.
func (r *Result) dateChart() (*htmlDateChart, string) {
	type dated struct {
		t   time.Time
		sev string
	}
	var ds []dated
	c := &htmlDateChart{W: chartW, H: dateChartH, Left: dateChartLeft, Right: chartW - 8}
	for _, f := range r.Findings {
		t := introduced(f)
		if t.IsZero() {
			c.Undated++
			continue
		}
		ds = append(ds, dated{t.UTC(), htmlSeverity(f.Severity)})
	}
	if len(ds) == 0 {
		return nil, ""
	}
	first, last := ds[0].t, ds[0].t
	for _, d := range ds {
		if d.t.Before(first) {
			first = d.t
		}
		if d.t.After(last) {
			last = d.t
		}
	}
	oldest := "The oldest finding was introduced on " + first.Format(time.DateOnly)
	if !r.Started.IsZero() && r.Started.After(first) {
		oldest += ", " + humanAge(r.Started.Sub(first)) + " before this scan"
	}
	oldest += "."

	months := (last.Year()-first.Year())*12 + int(last.Month()-first.Month()) + 1
	var start time.Time
	var next func(time.Time) time.Time
	var format string
	switch {
	case last.Sub(first) <= 62*24*time.Hour:
		c.Unit, format = "day", time.DateOnly
		start = time.Date(first.Year(), first.Month(), first.Day(), 0, 0, 0, 0, time.UTC)
		next = func(t time.Time) time.Time { return t.AddDate(0, 0, 1) }
	case months <= 120:
		c.Unit, format = "month", "2006-01"
		start = time.Date(first.Year(), first.Month(), 1, 0, 0, 0, 0, time.UTC)
		next = func(t time.Time) time.Time { return t.AddDate(0, 1, 0) }
	default:
		c.Unit, format = "year", "2006"
		start = time.Date(first.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
		next = func(t time.Time) time.Time { return t.AddDate(1, 0, 0) }
	}
	var periods []string
	index := map[string]int{}
	for t := start; !t.After(last); t = next(t) {
		index[t.Format(format)] = len(periods)
		periods = append(periods, t.Format(format))
	}
	sevOrder := append(append([]string{}, severities...), "unknown")
	counts := make([]map[string]int, len(periods))
	totals := make([]int, len(periods))
	present := map[string]bool{}
	for i := range counts {
		counts[i] = map[string]int{}
	}
	for _, d := range ds {
		i := index[d.t.Format(format)]
		counts[i][d.sev]++
		totals[i]++
		present[d.sev] = true
	}
	peak, busiest := 0, 0
	for i, n := range totals {
		if n > peak {
			peak, busiest = n, i
		}
	}

	plotW := float64(c.Right - c.Left)
	plotH := float64(dateChartBase - dateChartTop)
	slot := plotW / float64(len(periods))
	barW := math.Max(math.Min(slot-math.Min(slot*0.2, 6), 48), 0.5) // a lone bar stays a bar
	y := func(n int) float64 { return dateChartBase - plotH*float64(n)/float64(peak) }
	for i, p := range periods {
		base := 0
		for _, s := range sevOrder {
			n := counts[i][s]
			if n == 0 {
				continue
			}
			top := y(base + n)
			c.Bars = append(c.Bars, htmlBar{
				X: round1(float64(c.Left) + slot*float64(i) + (slot-barW)/2), Y: round1(top),
				W: round1(barW), H: round1(y(base) - top),
				Class: "sev-" + s, Title: fmt.Sprintf("%s: %d %s", p, n, s),
			})
			base += n
		}
		if totals[i] > 0 {
			c.Table = append(c.Table, htmlStat{p, strconv.Itoa(totals[i])})
		}
	}
	ticks := []int{0, peak}
	if peak >= 4 {
		ticks = []int{0, peak / 2, peak}
	}
	for _, n := range ticks {
		c.Grid = append(c.Grid, htmlTick{Y: round1(y(n)), Label: strconv.Itoa(n)})
	}
	step := (len(periods) + 7) / 8
	for i := 0; i < len(periods); i += step {
		c.Labels = append(c.Labels, htmlTick{X: round1(float64(c.Left) + slot*(float64(i)+0.5)), Y: dateChartBase + 16, Label: periods[i]})
	}
	for _, s := range sevOrder {
		if present[s] {
			c.Legend = append(c.Legend, htmlCount{Key: s, Label: s, Class: "sev-" + s})
		}
	}
	c.Desc = fmt.Sprintf("%s %s introduced between %s and %s, counted by %s. Most were introduced in %s: %d.",
		thousands(int64(len(ds))), plural(len(ds), "finding", "findings"), periods[0], periods[len(periods)-1],
		c.Unit, periods[busiest], peak)
	if c.Undated > 0 {
		c.Desc += fmt.Sprintf(" %d %s no date.", c.Undated, plural(c.Undated, "finding has", "findings have"))
	}
	return c, oldest
}

// ruleChart draws the rules with the most findings, each bar coloured by the most severe of
// its findings.
func ruleChart(counted []htmlCount, r *Result) *htmlRuleChart {
	if len(counted) == 0 {
		return nil
	}
	worst := map[string]int{}
	for _, f := range r.Findings {
		id := clean(f.RuleID)
		if rank, ok := worst[id]; !ok || severityRank(f.Severity) < rank {
			worst[id] = severityRank(f.Severity)
		}
	}
	top := counted[:min(len(counted), ruleChartRows)]
	c := &htmlRuleChart{W: chartW, H: len(top)*ruleRowH + 8, Shown: len(top), Of: len(counted)}
	peak := top[0].Count
	plotW := float64(chartW - ruleLabelW - 48)
	var parts []string
	for i, rc := range top {
		y := float64(4 + i*ruleRowH)
		w := math.Max(plotW*float64(rc.Count)/float64(peak), 2)
		sev := "unknown"
		if rank := worst[rc.Key]; rank < len(severities) {
			sev = severities[rank]
		}
		label := rc.Label
		if rs := []rune(label); len(rs) > 30 {
			label = string(rs[:29]) + "…"
		}
		c.Bars = append(c.Bars, htmlBar{X: ruleLabelW, Y: y, W: round1(w), H: ruleBarH, Class: "sev-" + sev,
			Title: fmt.Sprintf("%s: %d %s", rc.Label, rc.Count, plural(rc.Count, "finding", "findings"))})
		c.Labels = append(c.Labels, htmlTick{X: ruleLabelW - 8, Y: y + 13, Label: label})
		c.Counts = append(c.Counts, htmlTick{X: round1(ruleLabelW + w + 6), Y: y + 13, Label: strconv.Itoa(rc.Count)})
		parts = append(parts, fmt.Sprintf("%s %d", rc.Label, rc.Count))
	}
	c.Desc = fmt.Sprintf("Findings per rule, the %d %s with the most: %s.", len(top), plural(len(top), "rule", "rules"), strings.Join(parts, ", "))
	return c
}
