package action

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCommand(t *testing.T) {
	tests := []struct {
		name  string
		level string
		props []property
		msg   string
		want  string
	}{
		{"plain", "error", []property{{"file", "a.go"}, {"line", "3"}}, "found", "::error file=a.go,line=3::found"},
		{"data escapes % CR LF only", "warning", nil, "100% a:b,c\r\nd\ne",
			"::warning::100%25 a:b,c%0D%0Ad%0Ae"},
		{"properties also escape : and ,", "error", []property{{"file", "a,b:c%.go"}, {"title", "x\ny"}}, "m",
			"::error file=a%2Cb%3Ac%25.go,title=x%0Ay::m"},
		{"empty properties are left out", "notice", []property{{"file", ""}, {"title", "t"}}, "m", "::notice title=t::m"},
		// A message cannot start a second command on a new line.
		{"no injected command", "error", nil, "x\n::set-output name=a::b", "::error::x%0A::set-output name=a::b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := command(tt.level, tt.props, tt.msg)
			if got != tt.want {
				t.Errorf("command = %q, want %q", got, tt.want)
			}
			if strings.ContainsAny(got, "\r\n") {
				t.Errorf("command spans lines: %q", got)
			}
		})
	}
}

func TestWriteOutputs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "output")
	writeFile(t, path, "earlier<<X\nkept\nX\n")
	values := map[string]string{
		"plain":      "1",
		"empty":      "",
		"multi-line": "a\nb\n\nc",
		"sneaky":     "x\nEOF\nexit-code<<EOF\n0\nEOF",
	}
	if err := writeOutputs(path, values); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"earlier": "kept"}
	for k, v := range values {
		want[k] = v
	}
	if diff := cmp.Diff(want, parseOutputs(t, readFile(t, path))); diff != "" {
		t.Errorf("outputs read back (-want +got):\n%s", diff)
	}
	checkMode(t, path)
}

func TestSplitArgs(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr string
	}{
		{"", nil, ""},
		{"  --since 30d\n-j  2 ", []string{"--since", "30d", "-j", "2"}, ""},
		{`--config 'my config.toml' --x="a b" c\ d`, []string{"--config", "my config.toml", "--x=a b", "c d"}, ""},
		{`"a \"q\" \n $HOME" '$HOME' ""`, []string{`a "q" \n $HOME`, "$HOME", ""}, ""},
		{"$(touch /tmp/pwned) `id` ; ls", []string{"$(touch", "/tmp/pwned)", "`id`", ";", "ls"}, ""},
		{"a\\\nb", []string{"ab"}, ""},
		{`'open`, nil, "unterminated single quote"},
		{`"open`, nil, "unterminated double quote"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := splitArgs(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestMarkdown(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"ghp_…", "`ghp_…`"},
		{"a|b", "`a\\|b`"},
		{"a`b", "`` a`b ``"},
		{"x\ny", "`x y`"},
	} {
		if got := mdCode(tt.in); got != tt.want {
			t.Errorf("mdCode(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	for _, tt := range []struct{ in, want string }{
		{"live", "live"},
		{"<img src=x>", "&lt;img src=x&gt;"},
		{"[a](http://x) @team *b* | c", `\[a\]\(http://x\) \@team \*b\* \| c`},
	} {
		if got := mdText(tt.in); got != tt.want {
			t.Errorf("mdText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRedacted(t *testing.T) {
	raw := highSecret(1)
	for _, tt := range []struct{ in, want string }{
		{"ghp_…", "ghp_…"},
		{"…", "…"},
		{raw, raw[:4] + "…"},
		{"pw_fake_12345", "pw_…"},
	} {
		if got := redacted(tt.in); got != tt.want {
			t.Errorf("redacted(%.6q…) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
