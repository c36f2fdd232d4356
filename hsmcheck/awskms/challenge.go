package awskms

import (
	"context"
	"crypto/rand"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/keywarden/keywarden/hsmcheck"
)

// macs maps the Algorithm of an HMAC key to the MAC algorithm KMS computes with it and the
// mechanism keywarden recomputes locally.
var macs = map[string]struct {
	alg  types.MacAlgorithmSpec
	mech hsmcheck.Mechanism
}{
	"HMAC-SHA224": {types.MacAlgorithmSpecHmacSha224, hsmcheck.HMACSHA224},
	"HMAC-SHA256": {types.MacAlgorithmSpecHmacSha256, hsmcheck.HMACSHA256},
	"HMAC-SHA384": {types.MacAlgorithmSpecHmacSha384, hsmcheck.HMACSHA384},
	"HMAC-SHA512": {types.MacAlgorithmSpecHmacSha512, hsmcheck.HMACSHA512},
}

// challengeLen is the size of the fresh random message KMS MACs.
const challengeLen = 32

// Challenge has KMS compute an HMAC over a fresh random message with an enabled HMAC key, so
// that a leaked candidate is confirmed locally; the request carries only the key id, the
// message and the algorithm, never a candidate.
//
// Other keys return an error wrapping hsmcheck.ErrUnsupported. A symmetric encryption key
// (SYMMETRIC_DEFAULT) cannot be confirmed: KMS encrypts under a data key derived per request
// with a random nonce and wraps the result in its own ciphertext format, so no output of Encrypt
// is a function of the raw key and the input alone. Asymmetric keys are matched by their SPKI
// fingerprint instead.
func (inv *Inventory) Challenge(ctx context.Context, k hsmcheck.Key) (hsmcheck.Challenge, error) {
	m, ok := macs[k.Algorithm]
	if !ok {
		return hsmcheck.Challenge{}, fmt.Errorf("challenging key %s in %s: %w: only HMAC keys can be confirmed, not %q", k.Ref(), inv.name, hsmcheck.ErrUnsupported, k.Algorithm)
	}
	if k.State != hsmcheck.Active {
		return hsmcheck.Challenge{}, fmt.Errorf("challenging key %s in %s: %w: GenerateMac needs an enabled key, this one is %s", k.Ref(), inv.name, hsmcheck.ErrUnsupported, k.State)
	}
	msg := make([]byte, challengeLen)
	if _, err := rand.Read(msg); err != nil {
		return hsmcheck.Challenge{}, fmt.Errorf("challenging key %s: %w", k.Ref(), err)
	}
	out, err := inv.client.GenerateMac(ctx, &kms.GenerateMacInput{
		KeyId:        aws.String(k.ID),
		Message:      msg,
		MacAlgorithm: m.alg,
	})
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return hsmcheck.Challenge{}, ctx.Err()
	case isAuth(err):
		return hsmcheck.Challenge{}, fmt.Errorf("challenging key %s in %s: %w: %w", k.Ref(), inv.name, hsmcheck.ErrAuth, err)
	case hasCode(err, "InvalidKeyUsageException", "DisabledException", "KMSInvalidStateException", "UnsupportedOperationException"):
		return hsmcheck.Challenge{}, fmt.Errorf("challenging key %s in %s: %w: %w", k.Ref(), inv.name, hsmcheck.ErrUnsupported, err)
	default:
		return hsmcheck.Challenge{}, fmt.Errorf("challenging key %s in %s: %w", k.Ref(), inv.name, err)
	}
	if out.MacAlgorithm != "" && out.MacAlgorithm != m.alg {
		return hsmcheck.Challenge{}, fmt.Errorf("challenging key %s in %s: GenerateMac answered with %s, asked for %s", k.Ref(), inv.name, out.MacAlgorithm, m.alg)
	}
	if len(out.Mac) == 0 {
		return hsmcheck.Challenge{}, fmt.Errorf("challenging key %s in %s: GenerateMac returned no MAC", k.Ref(), inv.name)
	}
	return hsmcheck.Challenge{Mechanism: m.mech, Input: msg, Output: out.Mac}, nil
}
