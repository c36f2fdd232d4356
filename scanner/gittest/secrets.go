package gittest

import "strings"

// FakeToken returns a GitHub-token-shaped value derived from seed. Tests build their secrets
// at run time with it, so that no secret-looking literal sits in the source and keywarden
// scans its own repository clean.
func FakeToken(seed int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	var b strings.Builder
	b.WriteString("gh" + "p_")
	x := uint32(seed*2654435761 + 777)
	for i := 0; i < 36; i++ {
		x = x*1664525 + 1013904223
		b.WriteByte(alphabet[int(x>>24)%len(alphabet)])
	}
	return b.String()
}
