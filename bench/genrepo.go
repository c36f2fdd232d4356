//go:build ignore

// Command genrepo writes a git fast-import stream for a large synthetic history: an initial
// tree of FILES source files, then COMMITS commits that each edit a few lines of one file.
// bench/staged.sh pipes it into `git fast-import`.
//
//	go run bench/genrepo.go -files 4000 -commits 40000 | git fast-import --quiet
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
)

func main() {
	files := flag.Int("files", 4000, "files in the tree")
	commits := flag.Int("commits", 40000, "commits after the initial one")
	lines := flag.Int("lines", 120, "lines per file")
	flag.Parse()
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	defer w.Flush()
	rng := rand.New(rand.NewPCG(1, 2))
	content := make([][]string, *files)
	path := func(i int) string { return fmt.Sprintf("pkg%03d/file%04d.go", i%200, i) }
	for i := range content {
		content[i] = make([]string, *lines)
		for j := range content[i] {
			content[i][j] = line(rng, i, j)
		}
	}
	blob := func(s string) {
		fmt.Fprintf(w, "data %d\n%s\n", len(s), s)
	}
	when := int64(1500000000)
	commit := func(msg string, edits []int) {
		when += 600
		fmt.Fprintf(w, "commit refs/heads/main\ncommitter Dev <dev@example.com> %d +0000\n", when)
		blob(msg)
		for _, i := range edits {
			fmt.Fprintf(w, "M 100644 inline %s\n", path(i))
			blob(strings.Join(content[i], "\n") + "\n")
		}
		w.WriteString("\n")
	}
	all := make([]int, *files)
	for i := range all {
		all[i] = i
	}
	commit("initial import", all)
	for c := 0; c < *commits; c++ {
		i := rng.IntN(*files)
		for k := 0; k < 3; k++ {
			content[i][rng.IntN(*lines)] = line(rng, i, c)
		}
		commit(fmt.Sprintf("change %d", c), []int{i})
	}
}

// line is a plausible line of Go: identifiers, string literals, numbers, and no secrets.
func line(rng *rand.Rand, i, j int) string {
	switch rng.IntN(6) {
	case 0:
		return fmt.Sprintf("\tx%d := compute(%d, \"label-%d\")", j, rng.IntN(1000), i)
	case 1:
		return fmt.Sprintf("\tif err := handle%d(ctx, req); err != nil {", rng.IntN(50))
	case 2:
		return "\t\treturn fmt.Errorf(\"reading config: %w\", err)"
	case 3:
		return fmt.Sprintf("\t// step %d of the pipeline keeps the order stable", j)
	case 4:
		return fmt.Sprintf("\tcfg.Timeout = %d * time.Millisecond", rng.IntN(5000))
	}
	return "\t}"
}
