package action

import (
	"errors"
	"strings"
)

// splitArgs splits the args input into words like a POSIX shell without expansion: blanks
// and newlines separate words, '…' quotes literally, "…" quotes with \" \\ \$ \` escapes, and
// a backslash outside quotes escapes the next character. Nothing is expanded or executed, so
// the input cannot run commands on the runner.
func splitArgs(s string) ([]string, error) {
	var (
		words []string
		cur   strings.Builder
		inW   bool // a word has started (it may be empty: "")
	)
	flush := func() {
		if inW {
			words = append(words, cur.String())
			cur.Reset()
			inW = false
		}
	}
	r := []rune(s)
	for i := 0; i < len(r); i++ {
		c := r[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			flush()
		case c == '\\':
			inW = true
			if i+1 < len(r) {
				i++
				if r[i] != '\n' { // backslash-newline continues the line
					cur.WriteRune(r[i])
				}
			}
		case c == '\'':
			inW = true
			j := i + 1
			for j < len(r) && r[j] != '\'' {
				j++
			}
			if j == len(r) {
				return nil, errors.New("parsing args: unterminated single quote")
			}
			cur.WriteString(string(r[i+1 : j]))
			i = j
		case c == '"':
			inW = true
			j := i + 1
			for ; j < len(r) && r[j] != '"'; j++ {
				if r[j] == '\\' && j+1 < len(r) && strings.ContainsRune("\"\\$`\n", r[j+1]) {
					j++
					if r[j] != '\n' {
						cur.WriteRune(r[j])
					}
					continue
				}
				cur.WriteRune(r[j])
			}
			if j == len(r) {
				return nil, errors.New("parsing args: unterminated double quote")
			}
			i = j
		default:
			inW = true
			cur.WriteRune(c)
		}
	}
	flush()
	return words, nil
}
