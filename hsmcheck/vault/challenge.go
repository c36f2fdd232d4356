package vault

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/keywarden/keywarden/hsmcheck"
)

// challengeLen is the number of fresh random bytes each challenge MACs.
const challengeLen = 32

// Challenge has transit compute HMAC-SHA256 under version k.Version of an hmac-type key over 32
// fresh random bytes. The request carries only that input and the version number.
//
// Only keys of type hmac qualify. Transit's /hmac endpoint accepts every key type, but for the
// others (AES, ChaCha20, the key pairs) it uses a separate random HMAC key that each version
// carries alongside its material, so its output says nothing about whether a leaked value is
// the encryption key: those return an error wrapping hsmcheck.ErrUnsupported, as do versions
// transit refuses to use (archived, below min_encryption_version, soft-deleted).
func (inv *Inventory) Challenge(ctx context.Context, k hsmcheck.Key) (hsmcheck.Challenge, error) {
	name, ok := strings.CutPrefix(k.ID, inv.mount+"/")
	if !ok || name == "" || strings.ContainsAny(name, "/?#") {
		return hsmcheck.Challenge{}, fmt.Errorf("challenging %s: %w: not a key of %s", k.Ref(), hsmcheck.ErrUnsupported, inv.name)
	}
	typ := k.Meta["type"]
	if typ == "" && k.Algorithm == "HMAC" {
		typ = "hmac"
	}
	if typ != "hmac" {
		return hsmcheck.Challenge{}, fmt.Errorf("challenging %s: %w: transit HMACs %s keys under a separate per-version HMAC key, not the key itself", k.Ref(), hsmcheck.ErrUnsupported, typ)
	}
	if err := usable(k); err != nil {
		return hsmcheck.Challenge{}, fmt.Errorf("challenging %s: %w: %s", k.Ref(), hsmcheck.ErrUnsupported, err)
	}

	input := make([]byte, challengeLen)
	if _, err := rand.Read(input); err != nil {
		return hsmcheck.Challenge{}, fmt.Errorf("challenging %s: %w", k.Ref(), err)
	}
	sec, err := inv.client.Logical().WriteWithContext(ctx, inv.mount+"/hmac/"+name+"/sha2-256", map[string]any{
		"input":       base64.StdEncoding.EncodeToString(input),
		"key_version": k.Version,
	})
	if err != nil {
		return hsmcheck.Challenge{}, inv.failed(ctx, "challenging "+k.Ref(), err)
	}
	if sec == nil || sec.Data == nil {
		return hsmcheck.Challenge{}, fmt.Errorf("challenging %s in %s: empty answer", k.Ref(), inv.name)
	}
	s, _ := sec.Data["hmac"].(string)
	out, err := parseHMAC(s, k.Version)
	if err != nil {
		return hsmcheck.Challenge{}, fmt.Errorf("challenging %s in %s: %w", k.Ref(), inv.name, err)
	}
	return hsmcheck.Challenge{Mechanism: hsmcheck.HMACSHA256, Input: input, Output: out}, nil
}

// usable says why transit would refuse an HMAC with k's version, or nil.
func usable(k hsmcheck.Key) error {
	if k.Version < 1 {
		return fmt.Errorf("no key version")
	}
	switch k.State {
	case hsmcheck.Disabled:
		return fmt.Errorf("version %d is archived (below min_decryption_version)", k.Version)
	case hsmcheck.PendingDeletion:
		return fmt.Errorf("the key is soft-deleted")
	}
	latest, _ := strconv.Atoi(k.Meta["latest_version"])
	minEnc, _ := strconv.Atoi(k.Meta["min_encryption_version"])
	if k.Version != latest && minEnc > 0 && k.Version < minEnc {
		return fmt.Errorf("version %d is below min_encryption_version %d", k.Version, minEnc)
	}
	return nil
}

// parseHMAC decodes transit's "vault:vN:BASE64" and checks that version N computed it.
func parseHMAC(s string, version int) ([]byte, error) {
	rest, ok := strings.CutPrefix(s, "vault:v")
	ver, b64, ok2 := strings.Cut(rest, ":")
	if !ok || !ok2 {
		return nil, fmt.Errorf("parsing hmac: want vault:vN:BASE64")
	}
	if n, err := strconv.Atoi(ver); err != nil || n != version {
		return nil, fmt.Errorf("parsing hmac: computed with version %q, asked for %d", ver, version)
	}
	out, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("parsing hmac: %w", err)
	}
	if len(out) != 32 {
		return nil, fmt.Errorf("parsing hmac: %d bytes, want 32 for sha2-256", len(out))
	}
	return out, nil
}
