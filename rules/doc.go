// Package rules adapts the gitleaks rule set to keywarden: it loads gitleaks-format TOML
// configs, and detects rule matches in text with a keyword-first pass so that regexes run only
// near their keywords. It imports none of keywarden's other packages.
package rules
