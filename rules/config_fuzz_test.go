package rules

import (
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoadConfig feeds arbitrary bytes to LoadBytes as a .keywarden.toml that may extend a
// base.toml beside it or the defaults. It must not panic; it returns a ruleset or an error of
// one line; a ruleset's rules are listed consistently; and a detector built from it runs over
// the config's own text without panicking, each match on lines of that text and, unless found
// after decoding, quoting it.
func FuzzLoadConfig(f *testing.F) {
	rng := mrand.New(mrand.NewPCG(11, 6))
	token := func(n int) string {
		const abc = "abcdefghijklmnopqrstuvwxyz0123456789"
		b := make([]byte, n)
		for i := range b {
			b[i] = abc[rng.IntN(len(abc))]
		}
		return string(b)
	}
	dir := f.TempDir()
	base := "[[rules]]\nid = \"base-rule\"\nregex = '''base_[a-z0-9]{12}'''\nkeywords = [\"base_\"]\n"
	if err := os.WriteFile(filepath.Join(dir, "base.toml"), []byte(base), 0o600); err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(base + "# base_" + token(12) + "\n"))
	f.Add([]byte("[extend]\npath = \"base.toml\"\n\n[[rules]]\nid = \"own\"\ndescription = \"Own token\"\n" +
		"regex = '''(?i)own[_-]?token\\s*=\\s*['\"]?([a-z0-9]{16})'''\nsecretGroup = 1\nentropy = 2.5\nkeywords = [\"own\"]\n" +
		"tags = [\"t\"]\n[[rules.allowlists]]\nregexes = ['''example''']\nstopwords = [\"dummy\"]\n" +
		"# own_token = \"" + token(16) + "\"\n"))
	f.Add([]byte("title = \"t\"\n[extend]\nuseDefault = true\ndisabledRules = [\"generic-api-key\"]\n" +
		"[[allowlists]]\ntargetRules = [\"aws-access-token\"]\npaths = ['''(^|/)testdata/''']\ncondition = \"AND\"\n" +
		"commits = [\"abc\"]\nregexTarget = \"line\"\n# AKIA" + strings.ToUpper(token(16)) + "\n"))
	f.Add([]byte("[[rules]]\nid = \"path-only\"\npath = '''\\.pem$'''\n[[rules]]\nid = \"composite\"\nregex = '''pass=(\\w+)'''\n" +
		"[[rules.required]]\nid = \"path-only\"\nwithinLines = 2\n# pass=" + token(10) + "\n"))
	f.Add([]byte("[[rules]]\nid = \"bad\"\nregex = '''(?P<a>x)(?P<a>y)'''\n"))             // a duplicate group name
	f.Add([]byte("[[rules]]\nid = \"a\\nb\"\nregex = '''x'''\nsecretGroup = 3\n"))         // a newline in an ID
	f.Add([]byte("[rules]\nid = 1\n[extend]\npath = \"missing.toml\"\nuseDefault = true")) // wrong types
	f.Add([]byte("[[rules]]\nid = \"x\"\nregex = '''a{1001}'''\n"))
	f.Add([]byte("= \"\n\x00"))
	f.Add([]byte("[extend]\npath = \"/dev/zero\"\n")) // once read until memory ran out
	name := filepath.Join(dir, ".keywarden.toml")
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := LoadBytes(name, data)
		if err != nil {
			if rs != nil {
				t.Fatalf("ruleset returned with error %v", err)
			}
			if msg := err.Error(); strings.ContainsAny(msg, "\n\r") {
				t.Fatalf("error %q is not one line", msg)
			}
			return
		}
		infos := rs.Rules()
		if len(infos) != rs.Len() {
			t.Fatalf("Rules() lists %d, Len() is %d", len(infos), rs.Len())
		}
		for _, ri := range infos {
			if got, ok := rs.Rule(ri.ID); !ok || got.ID != ri.ID {
				t.Fatalf("Rule(%q) = %+v, %v", ri.ID, got, ok)
			}
		}
		text := data
		d := NewDetector(rs, DetectorOptions{MaxDecodeDepth: 2})
		lines := strings.Count(string(text), "\n") + 1
		for _, m := range d.DetectAt(text, "config/app.env") {
			if m.StartLine < 1 || m.EndLine < m.StartLine || m.EndLine > lines {
				t.Fatalf("match %s on lines %d-%d of %d", m.RuleID, m.StartLine, m.EndLine, lines)
			}
			if _, ok := rs.Rule(m.RuleID); !ok {
				t.Fatalf("match of unknown rule %q", m.RuleID)
			}
			if !fzDecoded(m.Tags) && (!strings.Contains(string(text), m.Match) || !strings.Contains(m.Match, m.Secret)) {
				t.Fatalf("match %s: %q is not in the text, or its secret %q not in it", m.RuleID, m.Match, m.Secret)
			}
		}
	})
}

func fzDecoded(tags []string) bool {
	for _, t := range tags {
		if strings.HasPrefix(t, "decoded:") {
			return true
		}
	}
	return false
}
