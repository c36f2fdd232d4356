// Command accuracy scores scanners' reports of a scan of the labelled corpus against its truth
// file and prints precision and recall per kind of secret, the scanners side by side, then each
// one's false negatives and false positives (see docs/accuracy.md). bench/accuracy.sh runs the
// scans and then this.
//
//	go run ./bench/accuracy -truth testdata/corpus.truth -keywarden kw.json \
//	    -gitleaks gl.json -gitleaks-root testdata/corpus
//
// Either report may be left out. Rule kinds come from keywarden's default rules, which hold
// gitleaks' default rules under the same IDs; a keywarden report's own "kind" fields win.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/keywarden/keywarden/bench"
	"github.com/keywarden/keywarden/rules"
)

func main() {
	truthPath := flag.String("truth", "testdata/corpus.truth", "truth file")
	kwPath := flag.String("keywarden", "", "keywarden JSON report of `keywarden scan dir CORPUS`")
	glPath := flag.String("gitleaks", "", "gitleaks JSON report of `gitleaks dir CORPUS`")
	glRoot := flag.String("gitleaks-root", "testdata/corpus", "the corpus directory as given on gitleaks' command line (taken off its File paths)")
	flag.Parse()
	if flag.NArg() > 0 || *kwPath == "" && *glPath == "" {
		fmt.Fprintln(os.Stderr, "usage: accuracy -truth FILE [-keywarden FILE] [-gitleaks FILE [-gitleaks-root DIR]]")
		flag.PrintDefaults()
		os.Exit(2)
	}
	if err := run(*truthPath, *kwPath, *glPath, *glRoot); err != nil {
		fmt.Fprintln(os.Stderr, "accuracy:", err)
		os.Exit(1)
	}
}

func run(truthPath, kwPath, glPath, glRoot string) error {
	truth, err := bench.LoadTruth(truthPath)
	if err != nil {
		return err
	}
	rs, err := rules.Default()
	if err != nil {
		return err
	}
	kinds := bench.RuleKinds(rs)
	var tools []bench.Scored
	score := func(name, file string, read func(*os.File) ([]bench.Hit, error)) error {
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		defer f.Close()
		hits, err := read(f)
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		tools = append(tools, bench.Scored{Name: name, Table: bench.Score(truth, hits)})
		return nil
	}
	if kwPath != "" {
		if err := score("keywarden", kwPath, func(f *os.File) ([]bench.Hit, error) { return bench.KeywardenHits(f, kinds) }); err != nil {
			return err
		}
	}
	if glPath != "" {
		if err := score("gitleaks", glPath, func(f *os.File) ([]bench.Hit, error) { return bench.GitleaksHits(f, glRoot, kinds) }); err != nil {
			return err
		}
	}
	files := len(truth.Paths()) - len(truth.Decoys)
	fmt.Printf("truth: %d entries in %d files, %d decoys (%s)\n\n", len(truth.Entries), files, len(truth.Decoys), truthPath)
	return bench.FormatSideBySide(os.Stdout, tools)
}
