package report

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"

	"github.com/keywarden/keywarden/hsmcheck"
	"github.com/keywarden/keywarden/rules"
	"github.com/keywarden/keywarden/scanner"
)

// SARIF writes a SARIF 2.1.0 log fit for GitHub code scanning: one run, artifact paths relative
// to the scan root, and never more than code scanning accepts in one upload.
type SARIF struct{}

// SARIFFingerprintKey is the partialFingerprints key holding a finding's content fingerprint.
const SARIFFingerprintKey = "keywarden/v1"

// sarifTime formats SARIF's UTC times, to the millisecond.
const sarifTime = "2006-01-02T15:04:05.000Z"

// srcRoot is the uriBaseId artifact locations are relative to.
const srcRoot = "%SRCROOT%"

// sarifLimits bounds a SARIF log.
type sarifLimits struct {
	results   int // results in the run
	locations int // locations plus related locations in one result
	tags      int // tags on one rule
	gzipBytes int // the whole log, gzip-compressed
}

// githubLimits are GitHub code scanning's upload limits: it rejects a whole file that breaks one.
// The size stays 10% under its 10 MB because another gzip may compress a little worse than Go's,
// and upload-sarif adds a primaryLocationLineHash fingerprint to each result before uploading.
var githubLimits = sarifLimits{results: 25_000, locations: 1_000, tags: 20, gzipBytes: 9_000_000}

// Write implements Writer.
func (SARIF) Write(w io.Writer, res *Result) error {
	out, err := res.renderSARIF(githubLimits)
	if err != nil {
		return fmt.Errorf("writing SARIF report: %w", err)
	}
	if _, err := w.Write(out); err != nil {
		return fmt.Errorf("writing SARIF report: %w", err)
	}
	return nil
}

// sarifDetail is how much each result says. A log too big for the size limit is rendered again
// at lower details before any finding is left out.
type sarifDetail int

const (
	detailFull      sarifDetail = iota
	detailNoRelated             // a finding's other places are counted, not listed
	detailMinimal               // also no commit author, email, date or message, and a short message
)

// renderSARIF renders r as a SARIF log within lim.
func (r *Result) renderSARIF(lim sarifLimits) ([]byte, error) {
	b := r.withLiveRules().newSARIFBuilder(lim)
	n := min(len(b.prio), lim.results)
	detail := detailFull
	out, err := b.render(n, detail)
	if err != nil {
		return nil, err
	}
	fits, gz := b.fits(out)
	for _, d := range []sarifDetail{detailNoRelated, detailMinimal} {
		if fits {
			return out, nil
		}
		if !b.lowers[d] {
			continue // nothing a result says would change
		}
		detail = d
		if out, err = b.render(n, detail); err != nil {
			return nil, err
		}
		fits, gz = b.fits(out)
	}
	// Still too big: leave out the least important findings. Compressed size grows about in
	// step with raw size, so aim 5% under the limit by raw bytes, then measure again.
	for !fits && n > 0 {
		allowed := float64(b.lim.gzipBytes) * 0.95 * float64(len(out)) / float64(gz)
		total := len(out)
		for _, fi := range b.prio[:n] {
			total -= b.sizes[fi]
		}
		k := 0
		for k < n && float64(total+b.sizes[b.prio[k]]) <= allowed {
			total += b.sizes[b.prio[k]]
			k++
		}
		n = min(k, n-1)
		if out, err = b.render(n, detail); err != nil {
			return nil, err
		}
		fits, gz = b.fits(out)
	}
	return out, nil
}

// sarifBuilder renders one Result as SARIF logs of different sizes.
type sarifBuilder struct {
	r      *Result
	lim    sarifLimits
	root   string // the scan root as an absolute slash-separated path, "" when not known
	prio   []int  // findings that can be results, most severe first, then in report order
	noPath int    // findings left out because no location names a file

	// Set by render: whether a lower detail would change any result, and each result's size.
	lowers [detailMinimal + 1]bool
	sizes  map[int]int
}

func (r *Result) newSARIFBuilder(lim sarifLimits) *sarifBuilder {
	b := &sarifBuilder{r: r, lim: lim}
	for _, dir := range []string{r.Root, r.Target} {
		if p, ok := absSlash(dir); ok {
			b.root = p
			break
		}
	}
	for i, f := range r.Findings {
		if len(b.located(f)) == 0 {
			b.noPath++ // code scanning rejects a whole upload with a result it cannot place
			continue
		}
		b.prio = append(b.prio, i)
	}
	// Unknown severities rank as medium, as their SARIF level does.
	rank := func(i int) int { return severityRank(severityOrMedium(r.Findings[i].Severity)) }
	sort.SliceStable(b.prio, func(i, j int) bool { return rank(b.prio[i]) < rank(b.prio[j]) })
	return b
}

// fits says whether out is within the size limit, and its gzip-compressed size.
func (b *sarifBuilder) fits(out []byte) (bool, int) {
	// Compressing JSON text never makes it bigger: spare small logs the work.
	if len(out) <= b.lim.gzipBytes {
		return true, len(out)
	}
	n := gzipSize(out)
	return n <= b.lim.gzipBytes, n
}

// gzipSize is the size of p compressed by gzip at its default level, as upload tools do.
func gzipSize(p []byte) int {
	var n byteCounter
	zw := gzip.NewWriter(&n)
	zw.Write(p) // writes to a byteCounter cannot fail
	zw.Close()
	return int(n)
}

// byteCounter counts the bytes written to it.
type byteCounter int

func (c *byteCounter) Write(p []byte) (int, error) {
	*c += byteCounter(len(p))
	return len(p), nil
}

// located is a location that names a file, with its artifact URI.
type located struct {
	scanner.Location
	uri      string
	relative bool // uri is relative to %SRCROOT%
}

// located returns the locations of f that name a file.
func (b *sarifBuilder) located(f scanner.Finding) []located {
	var out []located
	for _, l := range f.Locations {
		if l.Image != "" {
			// A file in an image is no file of the repository: "image-ref/path", not
			// relative to %SRCROOT%.
			out = append(out, located{Location: l, uri: imageURI(l)})
			continue
		}
		if uri, rel := artifactURI(l.Path, b.root); uri != "" {
			out = append(out, located{Location: l, uri: uri, relative: rel})
		}
	}
	return out
}

// resultIndent is how deep PrettyWrite indents a result object: report, runs, run, results.
const resultIndent = "        "

// render renders the n most important findings (in report order) at the given detail.
func (b *sarifBuilder) render(n int, detail sarifDetail) ([]byte, error) {
	set := slices.Clone(b.prio[:n])
	slices.Sort(set)
	ruleList := b.r.rulesOf(set)
	index := map[string]int{}
	for i, ri := range ruleList {
		index[ri.ID] = i
	}
	b.lowers = [detailMinimal + 1]bool{}
	b.sizes = make(map[int]int, len(set))
	chunks := make([][]byte, len(set))
	capped := 0
	for i, fi := range set {
		res, cut := b.result(b.r.Findings[fi], index[b.r.Findings[fi].RuleID], detail)
		if cut {
			capped++
		}
		c, err := json.MarshalIndent(res, resultIndent, "  ")
		if err != nil {
			return nil, fmt.Errorf("encoding SARIF result: %w", err)
		}
		chunks[i] = c
		b.sizes[fi] = len(resultIndent) + len(c) + len(",\n")
	}
	notes := b.notes(n, detail, capped)
	skel, err := json.MarshalIndent(sarif.NewReport().AddRun(b.run(ruleList, notes)), "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding SARIF log: %w", err)
	}
	return spliceResults(skel, chunks)
}

// resultsMarker is where spliceResults puts the results: encoding tens of thousands of results
// one by one is faster than as part of one value, and lets the writer measure each.
var resultsMarker = []byte(`"results": []`)

// spliceResults puts the encoded results into skel, a log encoded with no results.
func spliceResults(skel []byte, results [][]byte) ([]byte, error) {
	if bytes.Count(skel, resultsMarker) != 1 {
		return nil, errors.New("encoding SARIF log: no single results array")
	}
	at := bytes.Index(skel, resultsMarker)
	indent := string(skel[bytes.LastIndexByte(skel[:at], '\n')+1 : at])
	if indent+"  " != resultIndent {
		return nil, fmt.Errorf("encoding SARIF log: results indented by %d, not %d", len(indent), len(resultIndent)-2)
	}
	size := len(skel) + len(indent) + 4
	for _, c := range results {
		size += len(resultIndent) + len(c) + 2
	}
	out := bytes.NewBuffer(make([]byte, 0, size))
	out.Write(skel[:at])
	if len(results) == 0 {
		out.Write(resultsMarker)
	} else {
		out.WriteString(`"results": [`)
		for i, c := range results {
			if i > 0 {
				out.WriteByte(',')
			}
			out.WriteString("\n" + resultIndent)
			out.Write(c)
		}
		out.WriteString("\n" + indent + "]")
	}
	out.Write(skel[at+len(resultsMarker):])
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// run builds the run without its results.
func (b *sarifBuilder) run(ruleList []rules.RuleInfo, notes []*sarif.Notification) *sarif.Run {
	r := b.r
	name := r.Tool.Name
	if name == "" {
		name = "keywarden"
	}
	run := sarif.NewRunWithInformationURI(name, r.Tool.InformationURI)
	// A report merged from JSON carries whatever URI that JSON held; code scanning rejects the
	// whole log over one that is not an absolute URI.
	if u, err := url.Parse(r.Tool.InformationURI); err != nil || !u.IsAbs() {
		run.Tool.Driver.InformationURI = nil
	}
	if r.Tool.Version != "" {
		run.Tool.Driver.WithVersion(r.Tool.Version)
	}
	// Our columns count code points; SARIF's default is UTF-16 code units. Converting needs the
	// text before the match, which a location does not carry, so the run says what we count.
	run.WithColumnKind("unicodeCodePoints")
	run.WithOriginalUriBaseIds(map[string]sarif.ArtifactLocation{srcRoot: *b.sarifRoot()})
	// No automationDetails: upload-sarif sets it only when the log has none, from its category
	// input or the workflow job, and a fixed one would merge two keywarden jobs' alerts.
	unreadable := 0
	for _, s := range r.Skipped {
		if s.Reason == scanner.SkipUnreadable {
			unreadable++
		}
	}
	if unreadable > 0 {
		notes = append(notes, sarifNote(sarif.LevelError,
			fmt.Sprintf("Files or blobs that could not be read, so the scan is incomplete: %d.", unreadable),
			"unreadable", unreadable))
	}
	if r.Incomplete {
		notes = append(notes, sarifNote(sarif.LevelError,
			"The scan was interrupted before the end, so the results are only those found until then.",
			"incomplete", 1))
	}
	if !r.Started.IsZero() || len(notes) > 0 {
		// Leaving results out of the log is not a failed execution; an unread file or an
		// interrupted scan is.
		inv := sarif.NewInvocation().WithExecutionSuccessful(unreadable == 0 && !r.Incomplete)
		if !r.Started.IsZero() {
			inv.WithStartTimeUtc(r.Started.UTC().Format(sarifTime))
			if r.Stats.Duration > 0 {
				inv.WithEndTimeUtc(r.Started.Add(r.Stats.Duration).UTC().Format(sarifTime))
			}
		}
		for _, n := range notes {
			inv.AddToolExecutionNotification(n)
		}
		run.AddInvocation(inv)
	}
	run.WithProperties(sarif.NewPropertyBag().
		Add("source", r.Source).
		Add("target", r.Target).
		Add("blobs", r.Stats.Blobs).
		Add("bytes", r.Stats.Bytes).
		Add("skipped", r.Stats.Skipped).
		Add("commits", r.Stats.Commits).
		Add("duration_ms", r.Stats.Duration.Milliseconds()))
	for _, ri := range ruleList {
		run.Tool.Driver.AddRule(sarifRule(ri, b.lim.tags))
	}
	return run
}

// notes says what a log of the n most important findings at detail leaves out.
func (b *sarifBuilder) notes(n int, detail sarifDetail, capped int) []*sarif.Notification {
	var out []*sarif.Notification
	if b.noPath > 0 {
		out = append(out, sarifNote(sarif.LevelWarning, fmt.Sprintf(
			"Findings left out because no location names a file, which a code scanning alert needs: %d.", b.noPath),
			"omitted", b.noPath))
	}
	if over := len(b.prio) - min(len(b.prio), b.lim.results); over > 0 {
		out = append(out, sarifNote(sarif.LevelWarning, fmt.Sprintf(
			"%d of %d findings are left out: GitHub code scanning accepts at most %d results in a run. The most severe findings are kept.",
			over, len(b.r.Findings), b.lim.results),
			"findings", len(b.r.Findings), "results", n, "omitted", over))
	}
	if capped > 0 {
		out = append(out, sarifNote(sarif.LevelWarning, fmt.Sprintf(
			"Findings found in more than %d places, of which each result lists only the first %d (the most GitHub code scanning accepts): %d.",
			b.lim.locations, b.lim.locations, capped),
			"results", capped))
	}
	over := min(len(b.prio), b.lim.results) - n
	if detail > detailFull || over > 0 {
		var left []string
		if detail >= detailNoRelated {
			left = append(left, "related locations")
		}
		if detail >= detailMinimal {
			left = append(left, "commit details and long descriptions")
		}
		if over > 0 {
			left = append(left, fmt.Sprintf("%d of the least severe findings", over))
		}
		out = append(out, sarifNote(sarif.LevelWarning, fmt.Sprintf(
			"To keep the gzip-compressed log under %d bytes (GitHub code scanning accepts 10 MB), it leaves out %s.",
			b.lim.gzipBytes, strings.Join(left, "; ")),
			"findings", len(b.r.Findings), "results", n, "omitted", over))
	}
	return out
}

// sarifNote is a tool execution notification with integer properties given as name, value pairs.
func sarifNote(level, text string, props ...any) *sarif.Notification {
	bag := sarif.NewPropertyBag()
	for i := 0; i+1 < len(props); i += 2 {
		bag.Add(props[i].(string), props[i+1])
	}
	return sarif.NewNotification().WithLevel(level).WithMessage(sarif.NewTextMessage(text)).WithProperties(bag)
}

// sarifRoot describes %SRCROOT%: the scan root (or the target) as a file URI when it is an
// absolute path, else only a description naming it, since SARIF wants an absolute URI there.
func (b *sarifBuilder) sarifRoot() *sarif.ArtifactLocation {
	root := sarif.NewArtifactLocation()
	if b.root != "" {
		uri := fileURI(b.root)
		if !strings.HasSuffix(uri, "/") {
			uri += "/"
		}
		root.WithURI(uri)
	}
	desc := "The root of the scanned target"
	if b.r.Target != "" {
		desc = fmt.Sprintf("The root of the scanned target %q", b.r.Target)
	}
	return root.WithDescription(sarif.NewTextMessage(desc))
}

// sarifRule describes one rule the way GitHub code scanning wants it, with at most maxTags tags.
func sarifRule(ri rules.RuleInfo, maxTags int) *sarif.ReportingDescriptor {
	desc := strings.TrimSpace(ri.Description)
	if desc == "" {
		desc = "Secret matched by rule " + ri.ID
	}
	full := fmt.Sprintf("%s. keywarden rule %s reports it as a %s-severity hard-coded secret.",
		strings.TrimSuffix(desc, "."), ri.ID, severityOrMedium(ri.Severity))

	tags := sarifTags(append([]string{"security", "secret"}, ri.Tags...))
	// Code scanning rejects a rule with more tags; the first two are the ones it filters by.
	tags = tags[:min(len(tags), maxTags)]
	props := sarif.NewPropertyBag().WithTags(tags).Add("precision", precision(ri))
	if ri.Severity != "info" {
		// Without a security severity, code scanning shows an info rule's alerts as notes
		// rather than as security alerts of some severity.
		sev := securitySeverity(ri.Severity)
		if strings.HasSuffix(ri.ID, LiveRuleSuffix) {
			sev = "10.0"
		}
		props.Add("security-severity", sev)
	}

	return sarif.NewRule(ri.ID).
		WithName(ri.ID).
		WithShortDescription(sarif.NewMultiformatMessageString().WithText(desc)).
		WithFullDescription(sarif.NewMultiformatMessageString().WithText(full)).
		WithHelp(sarif.NewMultiformatMessageString().
			WithText(helpText(ri.ID, desc)).
			WithMarkdown(helpMarkdown(ri.ID, desc))).
		WithDefaultConfiguration(sarif.NewReportingConfiguration().WithLevel(sarifLevel(ri.Severity))).
		WithProperties(props)
}

// minimalDescription is how many code points of a description a minimal result's message keeps;
// the rule entry has it whole.
const minimalDescription = 100

// result reports one finding: its first location that names a file as the result's location,
// and the others as related locations up to the location limit. cut says whether some were
// left out for that limit.
func (b *sarifBuilder) result(f scanner.Finding, ruleIndex int, detail sarifDetail) (res *sarif.Result, cut bool) {
	locs := b.located(f)
	first, others := locs[0], locs[1:]
	listed := others
	switch {
	case detail >= detailNoRelated:
		listed = nil
	case len(others) > b.lim.locations-1:
		listed, cut = others[:b.lim.locations-1], true
	}
	if len(others) > 0 {
		b.lowers[detailNoRelated] = true
	}

	desc := strings.TrimSpace(f.Description)
	if desc == "" {
		desc = "Secret matched by rule " + f.RuleID
	}
	if r := []rune(desc); len(r) > minimalDescription {
		b.lowers[detailMinimal] = true
		if detail >= detailMinimal {
			desc = string(r[:minimalDescription-1]) + "…"
		}
	}
	text := fmt.Sprintf("%s: %s", strings.TrimSuffix(desc, "."), b.r.secret(f))
	if first.Offset != nil {
		// Code scanning shows a result at a line and ignores byteOffset: the message says where
		// in the file the key is.
		text += " (at byte " + hexOffset(*first.Offset)
		if first.Address != "" {
			text += ", vaddr " + first.Address
		}
		text += ")"
	}
	n := len(f.Locations)
	switch {
	case n <= 1:
	case len(listed) == n-1:
		text += fmt.Sprintf(" (found in %d places; see related locations)", n)
	case len(listed) == 0:
		text += fmt.Sprintf(" (found in %d places)", n)
	default:
		text += fmt.Sprintf(" (found in %d places; related locations list %d of the others)", n, len(listed))
	}
	res = sarif.NewRuleResult(f.RuleID).
		WithRuleIndex(ruleIndex).
		WithLevel(sarifLevel(f.Severity)).
		WithMessage(sarif.NewTextMessage(text))
	if f.Fingerprint != "" {
		res.WithPartialFingerprints(map[string]string{SARIFFingerprintKey: f.Fingerprint})
	}

	props := sarif.NewPropertyBag().Add("locations", n)
	if 1+len(listed) < n {
		props.Add("listed_locations", 1+len(listed))
	}
	if f.Entropy != 0 {
		props.Add("entropy", f.Entropy)
	}
	if tags := sarifTags(f.Tags); len(tags) > 0 {
		props.WithTags(tags)
	}
	res.AddLocation(b.location(first))
	for _, kv := range [][2]string{{"source", first.Source}, {"commit", first.Commit},
		{"image", first.Image}, {"image_digest", first.ImageDigest}, {"layer_digest", first.LayerDigest}, {"note", first.Note}} {
		if kv[1] != "" {
			props.Add(kv[0], kv[1])
		}
	}
	if first.Layer > 0 {
		props.Add("layer", first.Layer)
	}
	addBinaryProps(props, first.Location)
	if f.Key != nil {
		props.Add("key", f.Key)
	}
	if f.Exposure != nil {
		props.Add("exposure", f.Exposure)
	}
	if len(f.Weaknesses) > 0 {
		props.Add("weaknesses", f.Weaknesses)
	}
	if f.Strength != nil {
		props.Add("strength", f.Strength)
	}
	if first.RemovedInLayer > 0 {
		props.Add("removed_in_layer", first.RemovedInLayer)
	}
	for _, kv := range [][2]string{{"author", first.Author}, {"email", first.Email}, {"message", first.Message}} {
		if kv[1] != "" {
			b.lowers[detailMinimal] = true
			if detail < detailMinimal {
				props.Add(kv[0], kv[1])
			}
		}
	}
	if !first.Date.IsZero() {
		b.lowers[detailMinimal] = true
		if detail < detailMinimal {
			props.Add("date", first.Date.Format(time.RFC3339))
		}
	}
	for i, l := range listed {
		res.AddRelatedLocation(b.location(l).WithID(i + 1).
			WithMessage(sarif.NewTextMessage("Also found in " + locationName(l.Location))))
	}
	return res.WithProperties(props), cut
}

// location converts a location, turning our inclusive end column into SARIF's exclusive one.
// A location without a line (a path-only rule, say) has no region, since SARIF lines start at 1.
// A binary location's region is a binary region (SARIF 2.1.0 §3.30.1): byteOffset and
// byteLength, and no line, since a dump has none; its address, detector and check go in the
// location's properties, as they are in the result's for its first location.
func (b *sarifBuilder) location(l located) *sarif.Location {
	art := sarif.NewArtifactLocation().WithURI(l.uri)
	if l.relative {
		art.WithURIBaseID(srcRoot)
	}
	phys := sarif.NewPhysicalLocation().WithArtifactLocation(art)
	var reg *sarif.Region
	if l.Line > 0 {
		reg = sarif.NewRegion().WithStartLine(l.Line)
		endLine := max(l.EndLine, l.Line)
		reg.WithEndLine(endLine)
		if l.Column > 0 {
			reg.WithStartColumn(l.Column)
			if l.EndColumn > 0 && (endLine > l.Line || l.EndColumn >= l.Column) {
				reg.WithEndColumn(l.EndColumn + 1)
			}
		}
	}
	if l.Offset != nil && *l.Offset >= 0 && int64(int(*l.Offset)) == *l.Offset { // int is 32 bits on some builds
		if reg == nil {
			reg = sarif.NewRegion()
		}
		reg.WithByteOffset(int(*l.Offset))
		if l.Length > 0 {
			reg.WithByteLength(l.Length)
		}
	}
	if reg != nil {
		phys.WithRegion(reg)
	}
	loc := sarif.NewLocationWithPhysicalLocation(phys)
	if props := sarif.NewPropertyBag(); addBinaryProps(props, l.Location) {
		loc.WithProperties(props)
	}
	return loc
}

// addBinaryProps adds what a binary location says beyond its region to props: the virtual
// address the key was mapped at, the detector that found it and the check that confirmed it. It
// reports whether it added any.
func addBinaryProps(props *sarif.PropertyBag, l scanner.Location) bool {
	added := false
	for _, kv := range [][2]string{{"address", l.Address}, {"detector", l.Detector}, {"confirmed", l.Confirmed}} {
		if kv[1] != "" {
			props.Add(kv[0], kv[1])
			added = true
		}
	}
	return added
}

// artifactURI turns a location path into a URI reference, and says whether it is relative to
// the scan root. root is the scan root as an absolute slash-separated path, or "". A path
// under root becomes relative to it; one that names no file gives "".
func artifactURI(p, root string) (uri string, relative bool) {
	p = strings.ReplaceAll(p, `\`, "/")
	if abs, ok := absSlash(p); ok {
		rel, ok := under(abs, root)
		if !ok {
			return fileURI(abs), false
		}
		p = rel
	}
	if p = path.Clean(p); p == "." {
		return "", true
	}
	return (&url.URL{Path: p}).String(), true
}

// imageURI names a file in an image as "image-ref/path" (a config field keeps its synthetic
// name, "image-ref/config:Env[3]"), percent-encoded as a relative URI reference.
func imageURI(l scanner.Location) string {
	u := (&url.URL{Path: strings.TrimSuffix(l.Image, "/") + "/" + strings.TrimPrefix(l.Path, "/")}).String()
	// A colon in the first segment ("registry:5000/...") would read as a scheme.
	if i := strings.IndexAny(u, ":/"); i >= 0 && u[i] == ':' {
		u = "./" + u
	}
	return u
}

// absSlash returns p with forward slashes, cleaned, if it is an absolute path ("/srv/app" or
// "C:\app").
func absSlash(p string) (string, bool) {
	p = strings.ReplaceAll(p, `\`, "/")
	if strings.HasPrefix(p, "/") || len(p) >= 3 && p[1] == ':' && p[2] == '/' &&
		('a' <= p[0] && p[0] <= 'z' || 'A' <= p[0] && p[0] <= 'Z') {
		return path.Clean(p), true
	}
	return "", false
}

// under returns p relative to root, if p is below root.
func under(p, root string) (string, bool) {
	switch {
	case root == "":
		return "", false
	case root == "/":
		return p[1:], true
	case strings.HasPrefix(p, root+"/"):
		return p[len(root)+1:], true
	}
	return "", false
}

// fileURI turns an absolute slash-separated path into a file URI.
func fileURI(p string) string {
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // a drive letter: file:///C:/app
	}
	return (&url.URL{Scheme: "file", Path: p}).String()
}

// locationName names a location as "commit:path" (short commit) or just the path, with its line
// or, in a binary file, its offset: "core.4711 @ 0x1a2b (vaddr 0x7f3a…)".
func locationName(l scanner.Location) string {
	name := l.Path
	if l.Line > 0 {
		name += fmt.Sprintf(":%d", l.Line)
	}
	name += binaryWhere(l)
	if l.Commit != "" {
		return shortCommit(l.Commit) + ":" + name
	}
	return name
}

// shortCommit abbreviates a commit ID the way git does by default.
func shortCommit(c string) string {
	if len(c) > 7 {
		return c[:7]
	}
	return c
}

// sarifLevel maps a severity to a SARIF result level.
func sarifLevel(severity string) string {
	switch severity {
	case "critical", "high":
		return sarif.LevelError
	case "low", "info":
		return sarif.LevelNote
	}
	return sarif.LevelWarning
}

// LiveRuleSuffix marks the SARIF rule a live exposure is reported under: code scanning takes
// security-severity from the rule, not the result, so a live key gets a rule of its own, scored
// 10.0, and its alert stays apart from the rule's ordinary ones. When the key is rotated the live
// alert closes and the finding returns under its plain rule.
const LiveRuleSuffix = "/live-exposure"

// withLiveRules returns r with live findings moved to their rules' live variants.
func (r *Result) withLiveRules() *Result {
	var live bool
	for _, f := range r.Findings {
		live = live || f.Exposure != nil && f.Exposure.Status == hsmcheck.Live
	}
	if !live {
		return r
	}
	c := *r
	c.Findings = append([]scanner.Finding(nil), r.Findings...)
	c.Rules = make(map[string]rules.RuleInfo, len(r.Rules)+1)
	for id, ri := range r.Rules {
		c.Rules[id] = ri
	}
	for i, f := range c.Findings {
		if f.Exposure == nil || f.Exposure.Status != hsmcheck.Live {
			continue
		}
		ri := r.ruleFor(f)
		ri.ID = f.RuleID + LiveRuleSuffix
		ri.Description = strings.TrimSuffix(strings.TrimSpace(ri.Description), ".") + ", still live in the key inventory"
		ri.Severity = "critical"
		c.Rules[ri.ID] = ri
		f.RuleID = ri.ID
		f.Description = strings.TrimSuffix(strings.TrimSpace(f.Description), ".") + ". LIVE: " + liveText(f.Exposure)
		c.Findings[i] = f
	}
	return &c
}

// liveText names the live keys a finding matched.
func liveText(e *hsmcheck.Exposure) string {
	var parts []string
	for _, m := range e.Matches {
		if !m.State.Live() {
			continue
		}
		p := fmt.Sprintf("%s in %s (%s", m.Ref(), m.Inventory, m.State)
		if m.Scope != "" {
			p += ", scope " + m.Scope
		}
		if m.Confirmation != "" {
			p += ", " + m.Confirmation
		}
		parts = append(parts, p+")")
	}
	s := "matches " + strings.Join(parts, "; ")
	if e.ScopeReuse {
		s += "; the same key is used in scopes " + strings.Join(e.Scopes, ", ")
	}
	return s
}

// securitySeverity maps a severity to GitHub's security-severity score, a string.
func securitySeverity(severity string) string {
	switch severity {
	case "critical":
		return "9.5"
	case "high":
		return "8.0"
	case "low":
		return "3.0"
	}
	return "5.5"
}

// severityOrMedium is the severity, with unknown ones treated as medium like the SARIF mapping.
func severityOrMedium(severity string) string {
	if severityRank(severity) < len(severities) {
		return severity
	}
	return "medium"
}

// precision is how sure a rule's matches are: generic rules guess more.
func precision(ri rules.RuleInfo) string {
	if strings.Contains(ri.ID, "generic") || contains(ri.Tags, "generic") {
		return "medium"
	}
	return "high"
}

// sarifTags returns tags without empty ones and repeats, taking as one the tags JSON writes
// alike (each byte of invalid UTF-8 as U+FFFD): the schema wants a property bag's tags unique,
// and code scanning rejects a whole log that breaks that.
func sarifTags(tags []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, t := range tags {
		if k := string([]rune(t)); t != "" && !seen[k] {
			seen[k] = true
			out = append(out, t)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// helpText explains how to deal with a finding, in plain text.
func helpText(id, desc string) string {
	return fmt.Sprintf(`%s (keywarden rule %s).

A secret committed to a repository must be treated as compromised, even if the commit was later reverted.

1. Rotate it: revoke the credential at its issuer and issue a new one. Do this first.
2. Remove it from the code and load it at run time from the environment or a secret manager.
3. Purge it from git history (git filter-repo or BFG Repo-Cleaner), force-push, and ask everyone with a clone to re-clone. Rotation is still required: forks, caches and CI logs may keep copies.
4. If this is not a real secret (a test fixture or an example), mark it instead: put a comment containing keywarden:allow on the line, or add the finding's fingerprint (partialFingerprints %q) as a line of .keywardenignore at the repository root.`,
		strings.TrimSuffix(desc, "."), id, SARIFFingerprintKey)
}

// helpMarkdown explains how to deal with a finding, in Markdown.
func helpMarkdown(id, desc string) string {
	return fmt.Sprintf(`**%s** (keywarden rule `+"`%s`"+`)

A secret committed to a repository must be treated as compromised, even if the commit was later reverted.

1. **Rotate it**: revoke the credential at its issuer and issue a new one. Do this first.
2. **Remove it** from the code and load it at run time from the environment or a secret manager.
3. **Purge it from git history** with `+"`git filter-repo`"+` or BFG Repo-Cleaner, force-push, and ask everyone with a clone to re-clone. Rotation is still required: forks, caches and CI logs may keep copies.
4. **If this is not a real secret** (a test fixture or an example), mark it instead: put a comment containing `+"`keywarden:allow`"+` on the line, or add the finding's fingerprint (`+"`partialFingerprints[\"%s\"]`"+`) as a line of `+"`.keywardenignore`"+` at the repository root.`,
		strings.TrimSuffix(desc, "."), id, SARIFFingerprintKey)
}
