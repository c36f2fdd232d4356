package scanner

import "testing"

func TestRedactURL(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"token as password", "https://x-access-token:tok123@github.com/o/r.git", "https://***@github.com/o/r.git"}, // keywarden:allow
		{"token as user", "https://tok123@github.com/o/r.git", "https://***@github.com/o/r.git"},
		{"no user info", "https://github.com/o/r.git", "https://github.com/o/r.git"},
		{"ssh url", "ssh://git:pw@host:22/r.git", "ssh://***@host:22/r.git"},
		{"scp style unchanged", "git@github.com:o/r.git", "git@github.com:o/r.git"},
		{"local path unchanged", "/srv/repo", "/srv/repo"},
		{"unparseable still redacted", "https://us er:tok123@host/%zz", "https://***@host/%zz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RedactURL(tt.in); got != tt.want {
				t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
