package rules

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClipLine(t *testing.T) {
	match := "tok" + "en_ABCDEFGH"
	long := strings.Repeat("é", 20000) + match + strings.Repeat("x", 30000) + " # keywarden:allow"
	tests := []struct {
		name      string
		line      string
		unchanged bool
	}{
		{"short line kept whole", "a = " + match, true},
		{"long line clipped", long, false},
		{"match at the start", match + strings.Repeat("y", 50000), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := clipLine(tt.line, match)
			if tt.unchanged {
				if got != tt.line {
					t.Errorf("clipped a short line to %q", got)
				}
				return
			}
			if len(got) > 2*clipAround+clipTail+len(match)+8 {
				t.Errorf("kept %d bytes of %d", len(got), len(tt.line))
			}
			if !strings.Contains(got, match) || !strings.HasSuffix(got, tt.line[len(tt.line)-20:]) || !utf8.ValidString(got) {
				t.Errorf("clipped line lost the match, the line's end or UTF-8 validity")
			}
		})
	}
}
