package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/keywarden/keywarden/rules"
	"github.com/keywarden/keywarden/scanner"
)

type rulesFlags struct {
	config string
	format string
	tags   []string
}

func newRulesCmd() *cobra.Command {
	f := &rulesFlags{}
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "List the rules a scan uses and show what each one finds",
		Long: "Shows the effective rule set: gitleaks' default rules with keywarden's own layered over them,\n" +
			"or the rules of a config (--config, else .keywarden.toml or .gitleaks.toml in the current\n" +
			"directory, as \"keywarden scan dir .\" would use).",
		Args: cobra.ArbitraryArgs,
		// As for scan: without this, cobra answers a mistyped subcommand with help and exit 0.
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return c.Help()
			}
			// nextStep adds the closest subcommands, as for an unknown top-level command.
			return &exitCodeError{code: exitError, err: fmt.Errorf("unknown command %q for %q", args[0], c.CommandPath())}
		},
	}
	pf := cmd.PersistentFlags()
	pf.StringVarP(&f.config, "config", "c", "", "gitleaks-format TOML config (default: .keywarden.toml or .gitleaks.toml in the current directory, else built-in rules)")
	pf.StringVarP(&f.format, "format", "f", "text", "output format: text or json")

	list := &cobra.Command{
		Use:   "list",
		Short: "List the rules: ID, severity, kind, tags and description",
		Example: "  keywarden rules list\n" +
			"  keywarden rules list --tag password,connection-string\n" +
			"  keywarden rules list --format json --config .gitleaks.toml",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return runRulesList(c, f)
		},
	}
	list.Flags().StringSliceVarP(&f.tags, "tag", "t", nil, "only rules with this tag or kind (repeatable or comma-separated; a rule needs any one)")
	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show everything about one rule, with a text it reports and one it does not",
		Long: "Shows a rule's description, severity, kind, tags, keywords, regex, path, allowlists and\n" +
			"remediation, and examples: a text the rule reports and a close one it does not. The examples\n" +
			"are generated from the rule (or written for it) and checked with the real detector; their\n" +
			"secrets are random, never real credentials.",
		Example: "  keywarden rules show github-pat",
		Args:    cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return runRulesShow(c, f, args[0])
		},
		ValidArgsFunction: completeRuleIDs,
	}
	cmd.AddCommand(list, show)
	return cmd
}

// loadRulesFor loads the rules keywarden scan dir . would use: --config, else a config file in
// the current directory, else the built-in rules.
func loadRulesFor(path string) (*rules.Ruleset, error) {
	if path == "" {
		for _, name := range scanner.ConfigFiles {
			if fi, err := os.Stat(name); err == nil && fi.Mode().IsRegular() {
				path = name
				break
			}
		}
	}
	if path == "" {
		return rules.Default()
	}
	return rules.LoadFile(path)
}

// rulesSource names where the rules came from, for people.
func rulesSource(rs *rules.Ruleset) string {
	if rs.Path() != "" {
		return rs.Path()
	}
	return "built-in: gitleaks " + gitleaksVersion() + " defaults and keywarden's own"
}

func checkRulesFormat(format string) error {
	if format != "text" && format != "json" {
		return fmt.Errorf("unknown format %q (want text or json)", format)
	}
	return nil
}

// ruleJSON is one rule in the JSON of rules list and rules show.
type ruleJSON struct {
	ID          string   `json:"id"`
	Description string   `json:"description"`
	Severity    string   `json:"severity"`
	Kind        string   `json:"kind"`
	Tags        []string `json:"tags"`
	Keywords    []string `json:"keywords"`
	Regex       string   `json:"regex,omitempty"`
	Path        string   `json:"path,omitempty"`
}

func toRuleJSON(r rules.RuleInfo) ruleJSON {
	j := ruleJSON{ID: r.ID, Description: r.Description, Severity: r.Severity, Kind: r.Kind,
		Tags: r.Tags, Keywords: r.Keywords, Regex: r.Regex, Path: r.Path}
	if j.Tags == nil {
		j.Tags = []string{}
	}
	if j.Keywords == nil {
		j.Keywords = []string{}
	}
	return j
}

// hasTag reports whether r carries one of tags, its kind counting as a tag: gitleaks' rules
// have no tags, and "--tag token" should find its token rules too.
func hasTag(r rules.RuleInfo, tags []string) bool {
	for _, t := range tags {
		t = strings.TrimSpace(t)
		if strings.EqualFold(t, r.Kind) || slices.ContainsFunc(r.Tags, func(s string) bool { return strings.EqualFold(s, t) }) {
			return true
		}
	}
	return false
}

func runRulesList(c *cobra.Command, f *rulesFlags) error {
	fail := func(err error) error { return &exitCodeError{code: exitError, err: err} }
	if err := checkRulesFormat(f.format); err != nil {
		return fail(err)
	}
	rs, err := loadRulesFor(f.config)
	if err != nil {
		return fail(err)
	}
	all := rs.Rules()
	list := all
	if len(f.tags) > 0 {
		list = slices.DeleteFunc(slices.Clone(all), func(r rules.RuleInfo) bool { return !hasTag(r, f.tags) })
	}
	out := c.OutOrStdout()
	if f.format == "json" {
		doc := struct {
			Source string     `json:"source"`
			Rules  []ruleJSON `json:"rules"`
		}{Source: rs.Path(), Rules: []ruleJSON{}}
		if doc.Source == "" {
			doc.Source = "built-in"
		}
		for _, r := range list {
			doc.Rules = append(doc.Rules, toRuleJSON(r))
		}
		return writeJSON(out, doc)
	}
	color := useColor(c, out)
	width := 0 // no limit: a pipe gets whole descriptions to grep
	if isTTY(out) {
		width = terminalWidth()
	}
	writeRulesTable(out, list, color, width)
	noun := "rules"
	if len(all) == 1 {
		noun = "rule"
	}
	count := strconv.Itoa(len(list))
	if len(list) != len(all) {
		count += " of " + strconv.Itoa(len(all))
	}
	fmt.Fprintf(c.ErrOrStderr(), "%s %s (%s); details: keywarden rules show ID\n", count, noun, rulesSource(rs))
	if len(list) == 0 && len(f.tags) > 0 {
		return fail(fmt.Errorf("no rule has tag %s (see the TAGS and KIND columns of keywarden rules list)", quoteList(f.tags)))
	}
	return nil
}

func quoteList(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = strconv.Quote(w)
	}
	return strings.Join(q, " or ")
}

// terminalWidth is $COLUMNS, or a width most terminals have.
func terminalWidth() int {
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 40 {
		return n
	}
	return 120
}

// writeRulesTable writes rules as aligned columns; with width > 0, descriptions are cut to
// keep each line within it. Padding is computed on the plain text, so colour cannot shift it.
func writeRulesTable(w io.Writer, list []rules.RuleInfo, color bool, width int) {
	header := []string{"ID", "SEVERITY", "KIND", "TAGS", "DESCRIPTION"}
	rows := make([][]string, 0, len(list))
	for _, r := range list {
		tags := strings.Join(r.Tags, ",")
		if tags == "" {
			tags = "-"
		}
		rows = append(rows, []string{r.ID, r.Severity, r.Kind, tags, r.Description})
	}
	widths := make([]int, len(header)-1)
	for _, row := range append([][]string{header}, rows...) {
		for i := range widths {
			widths[i] = max(widths[i], utf8.RuneCountInString(row[i]))
		}
	}
	line := func(row []string, style func(i int, cell string) string) string {
		var b strings.Builder
		used := 0
		for i, cell := range row[:len(row)-1] {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cell)+2)
			b.WriteString(style(i, cell) + pad)
			used += widths[i] + 2
		}
		desc := row[len(row)-1]
		if width > 0 {
			desc = truncate(desc, width-used)
		}
		b.WriteString(desc)
		return b.String()
	}
	fmt.Fprintln(w, line(header, func(_ int, s string) string { return paint(color, styleBold, s) }))
	for _, row := range rows {
		fmt.Fprintln(w, line(row, func(i int, s string) string {
			if i == 1 {
				return paint(color, severityStyles[s], s)
			}
			return s
		}))
	}
}

// truncate cuts s to n runes, marking the cut with an ellipsis.
func truncate(s string, n int) string {
	if n < 8 {
		n = 8
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimRight(string(r[:n-1]), " ,.;:") + "…"
}

// exampleJSON is one example in the JSON of rules show.
type exampleJSON struct {
	Reported bool   `json:"reported"`
	Path     string `json:"path,omitempty"`
	Text     string `json:"text,omitempty"`
	Secret   string `json:"secret,omitempty"`
	Note     string `json:"note,omitempty"`
}

type allowlistJSON struct {
	Description string   `json:"description,omitempty"`
	Condition   string   `json:"condition"`
	Target      string   `json:"regex_target"`
	Regexes     []string `json:"regexes,omitempty"`
	Paths       []string `json:"paths,omitempty"`
	StopWords   []string `json:"stopwords,omitempty"`
	Commits     []string `json:"commits,omitempty"`
}

type ruleShowJSON struct {
	ruleJSON
	Source      string          `json:"source"`
	Entropy     float64         `json:"entropy,omitempty"`
	SecretGroup int             `json:"secret_group,omitempty"`
	Required    []string        `json:"required,omitempty"`
	Allowlists  []allowlistJSON `json:"allowlists"`
	Remediation string          `json:"remediation"`
	Examples    []exampleJSON   `json:"examples"`
}

func runRulesShow(c *cobra.Command, f *rulesFlags, id string) error {
	fail := func(err error) error { return &exitCodeError{code: exitError, err: err} }
	if err := checkRulesFormat(f.format); err != nil {
		return fail(err)
	}
	rs, err := loadRulesFor(f.config)
	if err != nil {
		return fail(err)
	}
	info, ok := rs.Rule(id)
	if !ok {
		return fail(unknownRule(rs, id))
	}
	detail, _ := rs.Detail(id)
	doc := ruleShowJSON{
		ruleJSON:    toRuleJSON(info),
		Source:      ruleSource(rs, detail),
		Entropy:     detail.Entropy,
		SecretGroup: detail.SecretGroup,
		Required:    detail.Required,
		Allowlists:  []allowlistJSON{},
		Remediation: rules.Remediation(info),
		Examples:    []exampleJSON{},
	}
	for _, a := range detail.Allowlists {
		doc.Allowlists = append(doc.Allowlists, allowlistJSON(a))
	}
	for _, ex := range rs.Examples(id) {
		doc.Examples = append(doc.Examples, exampleJSON{Reported: ex.Reported, Path: ex.Path, Text: ex.Text, Secret: ex.Secret, Note: ex.Note})
	}
	out := c.OutOrStdout()
	if f.format == "json" {
		return writeJSON(out, doc)
	}
	writeRuleText(out, doc, detail.SkipReport, useColor(c, out))
	return nil
}

// ruleSource says where a rule is defined.
func ruleSource(rs *rules.Ruleset, d rules.RuleDetail) string {
	switch {
	case rs.Path() != "":
		return rs.Path()
	case d.Keywarden:
		return "keywarden (rules/keywarden.toml)"
	}
	return "gitleaks " + gitleaksVersion() + " default rules"
}

// unknownRule names the closest rule IDs: a typo, or a prefix such as "aws".
func unknownRule(rs *rules.Ruleset, id string) error {
	var ids []string
	for _, r := range rs.Rules() {
		ids = append(ids, r.ID)
	}
	return withHint(fmt.Sprintf("unknown rule %q", id), suggest(closest(strings.ToLower(id), ids, 3), "see keywarden rules list"))
}

func writeRuleText(w io.Writer, r ruleShowJSON, skipReport, color bool) {
	field := func(name, value string) {
		if value == "" {
			value = "-"
		}
		fmt.Fprintf(w, "  %-12s %s\n", name, value)
	}
	fmt.Fprintln(w, paint(color, styleBold, r.ID))
	fmt.Fprintf(w, "  %s\n\n", r.Description)
	field("severity", paint(color, severityStyles[r.Severity], r.Severity))
	field("kind", r.Kind)
	field("tags", strings.Join(r.Tags, ", "))
	field("keywords", strings.Join(r.Keywords, ", "))
	field("regex", r.Regex)
	field("path", r.Path)
	if r.Entropy > 0 {
		field("entropy", strconv.FormatFloat(r.Entropy, 'g', -1, 64)+" (minimum Shannon entropy of the secret)")
	}
	if r.SecretGroup > 0 {
		field("secret group", strconv.Itoa(r.SecretGroup))
	}
	if len(r.Required) > 0 {
		field("requires", strings.Join(r.Required, ", ")+" (reported only with a match of each close by)")
	}
	field("source", r.Source)
	if len(r.Allowlists) == 0 {
		field("allowlists", "")
	}
	for i, a := range r.Allowlists {
		label := ""
		if i == 0 {
			label = "allowlists"
		}
		field(label, allowlistSummary(a))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, paint(color, styleBold, "Remediation"))
	fmt.Fprintf(w, "  %s\n\n", r.Remediation)
	fmt.Fprintln(w, paint(color, styleBold, "Examples"))
	if len(r.Examples) == 0 {
		if skipReport {
			fmt.Fprintln(w, "  none: the rule is reported only as part of a rule that requires it")
		} else {
			fmt.Fprintln(w, "  none: no text this rule reports could be generated from its regex")
		}
		return
	}
	for _, ex := range r.Examples {
		verdict := paint(color, severityStyles["high"], "reported")
		if !ex.Reported {
			verdict = paint(color, "\x1b[32m", "not reported") + " (" + ex.Note + ")"
		}
		fmt.Fprintf(w, "  %s\n", verdict)
		if ex.Path != "" {
			fmt.Fprintf(w, "    file:   %s\n", ex.Path)
		}
		if ex.Text != "" {
			for i, l := range strings.Split(ex.Text, "\n") {
				label := "text:  "
				if i > 0 {
					label = "       "
				}
				fmt.Fprintf(w, "    %s %s\n", label, l)
			}
		}
		if ex.Reported && ex.Secret != "" {
			fmt.Fprintf(w, "    secret: %s (as reports show it)\n", scanner.Redact(ex.Secret))
		}
	}
	fmt.Fprintln(w, "  (generated or written for this rule and checked with the detector; not real credentials)")
}

// allowlistSummary puts an allowlist on one line.
func allowlistSummary(a allowlistJSON) string {
	var parts []string
	if a.Description != "" {
		parts = append(parts, a.Description+":")
	}
	if len(a.Regexes) > 0 {
		parts = append(parts, fmt.Sprintf("%s matching %s", a.Target, strings.Join(a.Regexes, " | ")))
	}
	if len(a.Paths) > 0 {
		parts = append(parts, "path matching "+strings.Join(a.Paths, " | "))
	}
	if n := len(a.StopWords); n > 0 {
		words := a.StopWords
		if n > 6 {
			words = append(slices.Clone(words[:6]), fmt.Sprintf("… %d in all", n))
		}
		parts = append(parts, "secret containing "+strings.Join(words, ", "))
	}
	if len(a.Commits) > 0 {
		parts = append(parts, "commit "+strings.Join(a.Commits, ", "))
	}
	sep := " or "
	if a.Condition == "AND" {
		sep = " and "
	}
	if len(parts) > 0 && strings.HasSuffix(parts[0], ":") {
		return parts[0] + " " + strings.Join(parts[1:], sep)
	}
	return strings.Join(parts, sep)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return &exitCodeError{code: exitError, err: fmt.Errorf("writing output: %w", err)}
	}
	return nil
}

// completeRuleIDs completes rule IDs for rules show, each with its severity and kind.
func completeRuleIDs(c *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	config := ""
	if fl := c.Flags().Lookup("config"); fl != nil {
		config = fl.Value.String()
	}
	rs, err := loadRulesFor(config)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
	}
	var out []cobra.Completion
	for _, r := range rs.Rules() {
		if strings.HasPrefix(r.ID, toComplete) {
			out = append(out, cobra.CompletionWithDesc(r.ID, r.Severity+" "+r.Kind))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}
