package scanner

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// IgnoreFiles are read from the scan root, gitleaks' name first.
var IgnoreFiles = []string{".gitleaksignore", ".keywardenignore"}

var fingerprintRe = regexp.MustCompile(`^[0-9a-f]{32}$`)

// ParseIgnore reads an ignore file: keywarden content fingerprints (32 hex digits, one finding
// everywhere) and gitleaks fingerprints ("commit:path:rule:line" or "path:rule:line", one
// location), one per line, with # comments. Malformed lines are reported through warn.
func ParseIgnore(r io.Reader, name string, warn func(error)) (Suppressions, error) {
	s := Suppressions{Fingerprints: map[string]bool{}, Locations: map[string]bool{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if i := strings.Index(line, " #"); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if fingerprintRe.MatchString(line) {
			s.Fingerprints[line] = true
			continue
		}
		parts := strings.Split(line, ":")
		switch len(parts) {
		case 3:
			parts[0] = filepath.ToSlash(strings.ReplaceAll(parts[0], `\`, "/"))
		case 4:
			parts[1] = filepath.ToSlash(strings.ReplaceAll(parts[1], `\`, "/"))
		default:
			if warn != nil {
				warn(fmt.Errorf("reading %s line %d: not a fingerprint or path:rule:line entry", name, n))
			}
			continue
		}
		s.Locations[strings.Join(parts, ":")] = true
	}
	if err := sc.Err(); err != nil {
		return s, fmt.Errorf("reading %s: %w", name, err)
	}
	return s, nil
}

// LoadIgnoreFiles reads the ignore files present in dir and merges them.
func LoadIgnoreFiles(dir string, warn func(error)) (Suppressions, error) {
	var all Suppressions
	all.Merge(Suppressions{})
	for _, name := range IgnoreFiles {
		p := filepath.Join(dir, name)
		f, err := os.Open(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return all, fmt.Errorf("opening ignore file %q: %w", p, err)
		}
		s, err := ParseIgnore(f, p, warn)
		f.Close()
		if err != nil {
			return all, err
		}
		all.Merge(s)
	}
	return all, nil
}
