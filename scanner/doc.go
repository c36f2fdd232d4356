// Package scanner holds keywarden's sources (git history, directories) and the engine that
// deduplicates their content, runs detection in parallel and folds matches into findings.
package scanner
