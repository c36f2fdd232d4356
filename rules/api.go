package rules

// This file fixes the API the scanner builds against. Bodies live in the other files of the
// package.

// RuleInfo describes one rule for reports.
type RuleInfo struct {
	ID          string
	Description string
	Tags        []string
	Severity    string // critical, high, medium, low, info
	Kind        string // one of Kinds
	Regex       string // empty for path-only rules
	Keywords    []string
	Path        string // path regex: the only condition of a path-only rule, else a constraint
}

// Match is one rule match inside a run of text handed to Detector.Detect.
type Match struct {
	RuleID      string
	Secret      string
	Match       string // the whole regex match (Secret is the secret group)
	Entropy     float64
	Tags        []string // rule tags plus decoding tags such as "decoded:base64"
	StartLine   int      // 1-based, relative to the text handed to Detect
	EndLine     int
	StartColumn int    // 1-based, counted in code points
	EndColumn   int    // inclusive
	Line        string // the full source line(s) holding the match, for allow comments

	// Detector names the binary detector (rules/keyfind) of a match in binary data, which has
	// no lines: Offset and Length then locate it in bytes, and Confirmed says what was checked.
	Detector  string
	Offset    int64
	Length    int
	Confirmed string

	// currentLine is what "line"-target allowlists are tested against (the decoded line for
	// matches found after decoding).
	currentLine string
	// shadowedBy holds matches of specific rules that supersede this generic match unless
	// Allowed suppresses them where it is found.
	shadowedBy []Match
	// required holds, for each required rule of a composite rule, the matches close by that
	// Allowed may suppress; the match stands if one in every group does.
	required [][]Match
}
