package awskms

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/keywarden/keywarden/hsmcheck"
)

// workers is how many keys are described at once. Each key costs up to five requests; KMS
// allows hundreds per second per account for these operations, and the SDK's retryer backs off
// when an account's quota is shared with busier callers.
const workers = 8

// Keys lists every key of the region, AWS-managed ones included, in ListKeys order.
func (inv *Inventory) Keys(ctx context.Context, yield func(hsmcheck.Key) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	// The SDK reports missing credentials only as a wrapped string, so resolve them first to
	// tell "no credentials" (ErrAuth) from an unreachable endpoint.
	if inv.creds == nil {
		return fmt.Errorf("listing keys in %s: %w: no AWS credentials", inv.name, hsmcheck.ErrAuth)
	}
	if _, err := inv.creds.Retrieve(ctx); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("resolving AWS credentials for %s: %w: %w", inv.name, hsmcheck.ErrAuth, err)
	}

	aliases, aliasesDenied, err := inv.aliases(ctx)
	if err != nil {
		return inv.fail(ctx, "listing aliases", err)
	}

	pages := kms.NewListKeysPaginator(inv.client, &kms.ListKeysInput{Limit: aws.Int32(1000)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return inv.fail(ctx, "listing keys", err)
		}
		keys, err := inv.describeAll(ctx, page.Keys, aliases, aliasesDenied)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := yield(k); err != nil {
				return err
			}
		}
	}
	return ctx.Err()
}

// fail wraps a listing error: ctx.Err() once ctx is done, ErrAuth for refused credentials.
func (inv *Inventory) fail(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if isAuth(err) {
		return fmt.Errorf("%s in %s: %w: %w", what, inv.name, hsmcheck.ErrAuth, err)
	}
	return fmt.Errorf("%s in %s: %w", what, inv.name, err)
}

// aliases maps key ids to their alias names, sorted. A refused ListAliases is not fatal: keys
// are then listed without labels.
func (inv *Inventory) aliases(ctx context.Context) (map[string][]string, bool, error) {
	m := map[string][]string{}
	pages := kms.NewListAliasesPaginator(inv.client, &kms.ListAliasesInput{Limit: aws.Int32(100)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			if isAuth(err) && ctx.Err() == nil {
				return nil, true, nil
			}
			return nil, false, err
		}
		for _, a := range page.Aliases {
			// Predefined AWS aliases have no target until a service first uses them.
			if a.TargetKeyId == nil || a.AliasName == nil {
				continue
			}
			m[*a.TargetKeyId] = append(m[*a.TargetKeyId], *a.AliasName)
		}
	}
	for _, names := range m {
		sort.Strings(names)
	}
	return m, false, nil
}

// describeAll describes one ListKeys page with a few workers and returns the keys in page order.
func (inv *Inventory) describeAll(ctx context.Context, entries []types.KeyListEntry, aliases map[string][]string, aliasesDenied bool) ([]hsmcheck.Key, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		keys []hsmcheck.Key
		skip bool
	}
	results := make([]result, len(entries))
	var (
		wg       sync.WaitGroup
		once     sync.Once
		firstErr error
		sem      = make(chan struct{}, workers)
	)
	for i, e := range entries {
		if e.KeyId == nil {
			results[i].skip = true
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			ks, skip, err := inv.describe(ctx, e, aliases[*e.KeyId], aliasesDenied)
			if err != nil {
				once.Do(func() { firstErr = err; cancel() })
				return
			}
			results[i] = result{ks, skip}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	keys := make([]hsmcheck.Key, 0, len(results))
	for _, r := range results {
		if !r.skip {
			keys = append(keys, r.keys...)
		}
	}
	return keys, nil
}

// keyInfo gathers one key's facts while they are fetched.
type keyInfo struct {
	k      hsmcheck.Key
	denied []string
	// rotations are the completed rotations ListKeyRotations listed; rotationsListed says
	// whether it answered at all.
	rotations       []types.RotationsListEntry
	rotationsListed bool
	// tags are the key's tags, read at most once (keyTagsOnce) for both the fingerprint tag and
	// the scope tag; nil when they could not be read.
	tags     map[string]string
	tagsRead bool
}

func (ki *keyInfo) deny(op string) { ki.denied = append(ki.denied, op) }

// describe fetches one key's facts: the key, and the earlier key materials of a symmetric key
// that was rotated, as old versions (see materialVersions). It returns skip for a key deleted
// since ListKeys, and an error only for failures that are neither refusals nor the key's own
// state.
func (inv *Inventory) describe(ctx context.Context, e types.KeyListEntry, aliases []string, aliasesDenied bool) ([]hsmcheck.Key, bool, error) {
	id := *e.KeyId
	ki := &keyInfo{k: hsmcheck.Key{ID: id, State: hsmcheck.Unknown, Class: hsmcheck.Secret, Meta: map[string]string{}}}
	k := &ki.k
	if e.KeyArn != nil {
		k.Meta["arn"] = *e.KeyArn
	}
	if aliasesDenied {
		ki.deny("ListAliases")
	}
	if len(aliases) > 0 {
		k.Label = strings.TrimPrefix(aliases[0], "alias/")
		k.Meta["aliases"] = strings.Join(aliases, ",")
	}

	out, err := inv.client.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(id)})
	var md *types.KeyMetadata
	switch {
	case err == nil && out.KeyMetadata != nil:
		md = out.KeyMetadata
	case err == nil:
		return nil, false, fmt.Errorf("describing key %q in %s: empty KeyMetadata", id, inv.name)
	case hasCode(err, "NotFoundException"):
		return nil, true, nil
	case isAuth(err) && ctx.Err() == nil:
		ki.deny("DescribeKey")
	default:
		return nil, false, inv.keyErr(ctx, "describing", id, err)
	}

	spec := ""
	if md != nil {
		applyMetadata(k, md, inv.region)
		spec = string(md.KeySpec)
	}

	switch {
	case md == nil:
		// Without DescribeKey the key spec is unknown; GetPublicKey tells an asymmetric key
		// apart and gives the one fact a leak can match, so try it.
		if err := inv.publicKey(ctx, ki, true); err != nil {
			return nil, false, err
		}
	case k.Class == hsmcheck.Private:
		if err := inv.publicKey(ctx, ki, false); err != nil {
			return nil, false, err
		}
		if err := inv.spkiFromTag(ctx, ki, md); err != nil {
			return nil, false, err
		}
	case spec == string(types.KeySpecSymmetricDefault):
		if err := inv.rotation(ctx, ki, md.KeyManager == types.KeyManagerTypeCustomer); err != nil {
			return nil, false, err
		}
	}

	switch {
	case inv.scope != "":
		k.Scope = inv.scope
	case md != nil && md.KeyManager == types.KeyManagerTypeAws:
		k.Scope = inv.region // AWS-managed keys cannot be tagged
	default:
		s, err := inv.scopeTag(ctx, ki)
		if err != nil {
			return nil, false, err
		}
		k.Scope = s
	}

	if len(ki.denied) > 0 {
		k.Meta["denied"] = strings.Join(ki.denied, ",")
	}
	if ki.rotationsListed && k.Meta["key_material_id"] != "" {
		return materialVersions(*k, ki.rotations), false, nil
	}
	return []hsmcheck.Key{*k}, false, nil
}

// keyErr wraps a per-key failure.
func (inv *Inventory) keyErr(ctx context.Context, what, id string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("%s key %q in %s: %w", what, id, inv.name, err)
}

// applyMetadata fills k from DescribeKey's KeyMetadata.
func applyMetadata(k *hsmcheck.Key, md *types.KeyMetadata, region string) {
	spec := string(md.KeySpec)
	k.State = state(md.KeyState)
	k.Class = class(md.KeySpec, md.KeyUsage)
	k.Algorithm = algorithm(md.KeySpec, region)
	k.Usage = usage(md.KeyUsage)
	if md.CreationDate != nil {
		k.Created = md.CreationDate.UTC()
	}
	if md.ValidTo != nil {
		// Imported key material that expires: KMS deletes it at ValidTo.
		k.Expires = md.ValidTo.UTC()
	}
	if md.Arn != nil {
		k.Meta["arn"] = *md.Arn
	}
	if md.AWSAccountId != nil {
		k.Meta["account"] = *md.AWSAccountId
	}
	if spec != "" {
		k.Meta["key_spec"] = spec
	}
	if md.KeyManager != "" {
		k.Meta["key_manager"] = string(md.KeyManager)
	}
	if md.Origin != "" {
		k.Meta["origin"] = string(md.Origin)
	}
	if md.MultiRegion != nil && *md.MultiRegion {
		k.Meta["multi_region"] = "true"
	}
	if md.DeletionDate != nil {
		k.Meta["deletion_date"] = md.DeletionDate.UTC().Format(time.RFC3339)
	}
	if md.CustomKeyStoreId != nil {
		k.Meta["custom_key_store"] = *md.CustomKeyStoreId
	}
	if md.CurrentKeyMaterialId != nil && *md.CurrentKeyMaterialId != "" {
		k.Meta["key_material_id"] = *md.CurrentKeyMaterialId
	}
}

// publicKey sets the SPKI fingerprint of an asymmetric key. With probe, DescribeKey was refused
// and the key may well be symmetric; a successful answer then also gives its spec and usage.
func (inv *Inventory) publicKey(ctx context.Context, ki *keyInfo, probe bool) error {
	k := &ki.k
	out, err := inv.client.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: aws.String(k.ID)})
	switch {
	case err == nil:
	case isAuth(err) && ctx.Err() == nil:
		ki.deny("GetPublicKey")
		return nil
	case hasCode(err, "UnsupportedOperationException", "InvalidKeyUsageException",
		"DisabledException", "KMSInvalidStateException", "NotFoundException"):
		// A symmetric key (when probing), or one whose state does not allow the call:
		// disabled, pending deletion, pending import. Its state says so.
		return nil
	default:
		return inv.keyErr(ctx, "getting the public key of", k.ID, err)
	}
	if probe {
		k.Class = class(out.KeySpec, out.KeyUsage)
		k.Algorithm = algorithm(out.KeySpec, inv.region)
		k.Usage = usage(out.KeyUsage)
		if out.KeySpec != "" {
			k.Meta["key_spec"] = string(out.KeySpec)
		}
	}
	h, err := hsmcheck.SPKIHashDER(out.PublicKey)
	if err != nil {
		// A KMS-compatible server answering with something else than SPKI: keep the key, say why
		// it cannot match.
		k.Meta["public_key_error"] = err.Error()
		return nil
	}
	k.SPKIHash = h
	k.SetRSAPublic(hsmcheck.RSAPublicDER(out.PublicKey))
	return nil
}

// rotation reads automatic rotation and, for customer-managed keys, the last completed rotation.
// AWS-managed keys report rotation on (AWS rotates them yearly), which keeps the audit from
// flagging them by creation date.
func (inv *Inventory) rotation(ctx context.Context, ki *keyInfo, customer bool) error {
	k := &ki.k
	st, err := inv.client.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: aws.String(k.ID)})
	switch {
	case err == nil:
		k.RotationEnabled = hsmcheck.BoolPtr(st.KeyRotationEnabled)
		if st.RotationPeriodInDays != nil && *st.RotationPeriodInDays > 0 {
			k.RotationPeriod = time.Duration(*st.RotationPeriodInDays) * 24 * time.Hour
		}
		if st.NextRotationDate != nil {
			k.Meta["next_rotation"] = st.NextRotationDate.UTC().Format(time.RFC3339)
		}
	case isAuth(err) && ctx.Err() == nil:
		ki.deny("GetKeyRotationStatus")
	case hasCode(err, "UnsupportedOperationException", "DisabledException", "KMSInvalidStateException", "NotFoundException"):
		// Imported material, a custom key store, or a state that does not allow the call.
	default:
		return inv.keyErr(ctx, "getting the rotation status of", k.ID, err)
	}
	if !customer {
		return nil
	}
	// GetKeyRotationStatus gives the next rotation, not the last one; ListKeyRotations lists the
	// completed automatic and on-demand rotations.
	pages := kms.NewListKeyRotationsPaginator(inv.client, &kms.ListKeyRotationsInput{KeyId: aws.String(k.ID), Limit: aws.Int32(1000)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		switch {
		case err == nil:
		case isAuth(err) && ctx.Err() == nil:
			ki.deny("ListKeyRotations")
			return nil
		case hasCode(err, "UnsupportedOperationException", "DisabledException", "KMSInvalidStateException", "NotFoundException"):
			return nil
		default:
			return inv.keyErr(ctx, "listing rotations of", k.ID, err)
		}
		for _, r := range page.Rotations {
			if r.RotationDate != nil && r.RotationDate.After(k.LastRotated) {
				k.LastRotated = r.RotationDate.UTC()
			}
		}
		ki.rotations = append(ki.rotations, page.Rotations...)
	}
	ki.rotationsListed = true
	return nil
}

// materialVersions lists a symmetric key whose endpoint names key materials (DescribeKey's
// CurrentKeyMaterialId, ListKeyRotations' KeyMaterialId) as one Key per key material: version 1
// is the material the key was created with, each completed rotation adds the next, and the
// current material is the highest version and carries the key's state. The earlier materials
// are old-version entries: KMS keeps them to decrypt what they encrypted but never encrypts
// with them again, which is what a rotation re-check looks for. An endpoint that names no
// materials (LocalStack, local-kms and KMS before key material ids) gets the single unversioned
// entry it always had.
func materialVersions(k hsmcheck.Key, rotations []types.RotationsListEntry) []hsmcheck.Key {
	var done []types.RotationsListEntry
	for _, r := range rotations {
		switch {
		case r.KeyMaterialState == types.KeyMaterialStatePendingRotation ||
			r.KeyMaterialState == types.KeyMaterialStatePendingMultiRegionImportAndRotation:
			// Imported material waiting for its rotation is not in use yet.
			continue
		case r.KeyMaterialId == nil || r.RotationDate == nil:
			return []hsmcheck.Key{k}
		}
		done = append(done, r)
	}
	sort.SliceStable(done, func(a, b int) bool { return done[a].RotationDate.Before(*done[b].RotationDate) })
	out := make([]hsmcheck.Key, 0, len(done)+1)
	k.Version = len(done) + 1
	out = append(out, k)
	for v := 1; v <= len(done); v++ {
		old := k
		old.Version = v
		old.Usage = slices.Clone(k.Usage)
		old.Meta = maps.Clone(k.Meta)
		delete(old.Meta, "key_material_id")
		if k.State != hsmcheck.PendingDeletion {
			old.State = hsmcheck.OldVersion
		}
		if v > 1 {
			r := done[v-2]
			old.Created = r.RotationDate.UTC()
			old.Meta["key_material_id"] = *r.KeyMaterialId
			if r.RotationType != "" {
				old.Meta["rotation_type"] = string(r.RotationType)
			}
		}
		out = append(out, old)
	}
	return out
}

// keyTagsOnce reads the key's tags the first time it is called and returns them every time;
// nil when ListResourceTags was refused (noted in denied) or the key's state has no tags to
// read.
func (inv *Inventory) keyTagsOnce(ctx context.Context, ki *keyInfo) (map[string]string, error) {
	if ki.tagsRead {
		return ki.tags, nil
	}
	tags, err := inv.keyTags(ctx, ki.k.ID)
	switch {
	case err == nil:
	case isAuth(err) && ctx.Err() == nil:
		ki.deny("ListResourceTags")
	case hasCode(err, "NotFoundException", "KMSInvalidStateException"):
	default:
		return nil, inv.keyErr(ctx, "listing tags of", ki.k.ID, err)
	}
	ki.tags, ki.tagsRead = tags, true
	return tags, nil
}

// spkiFromTag gives a disabled or pending-deletion asymmetric key the fingerprint that its
// SPKITag records, when GetPublicKey gave none: KMS refuses GetPublicKey for a key in those
// states, and disable-old-key tags a key with its fingerprint before disabling it, so that a
// scan after the rotation still matches the leaked private key and calls it retired, not
// unknown.
//
// Anyone allowed kms:TagResource on the key can write any value into the tag, so the tag is
// trusted only where a forged one cannot hurt: for a key that DescribeKey itself reports
// Disabled or PendingDeletion, which are not live states. A forged value can then at most make
// a leaked key that matches it "retired" (matched, out of use) instead of "unknown"; it never
// makes a match live, and it cannot hide a live one, because a live key's fingerprint always
// comes from GetPublicKey and Check reports live when any match is live. A key whose state is
// unknown (DescribeKey refused) counts as live, so its tag is never read for this. A wrong
// value on the real old key only loses the retired match, as if there were no tag.
func (inv *Inventory) spkiFromTag(ctx context.Context, ki *keyInfo, md *types.KeyMetadata) error {
	k := &ki.k
	if k.HasSPKI() || k.Meta["public_key_error"] != "" || md.KeyManager != types.KeyManagerTypeCustomer {
		return nil
	}
	if k.State != hsmcheck.Disabled && k.State != hsmcheck.PendingDeletion {
		return nil
	}
	tags, err := inv.keyTagsOnce(ctx, ki)
	if err != nil {
		return err
	}
	v, ok := tags[SPKITag]
	if !ok {
		return nil
	}
	b, err := hex.DecodeString(v)
	if err != nil || len(b) != sha256.Size {
		k.Meta["spki_tag_error"] = SPKITag + " is not 64 hex digits"
		return nil
	}
	copy(k.SPKIHash[:], b)
	k.Meta["spki_from"] = "tag"
	return nil
}

// scopeTag returns the value of the first scope tag the key carries, else the region.
func (inv *Inventory) scopeTag(ctx context.Context, ki *keyInfo) (string, error) {
	tags, err := inv.keyTagsOnce(ctx, ki)
	if err != nil {
		return "", err
	}
	for _, name := range inv.scopeTags {
		if v := strings.TrimSpace(tags[name]); v != "" {
			return v, nil
		}
	}
	return inv.region, nil
}

// state maps a KMS key state onto hsmcheck's.
func state(s types.KeyState) hsmcheck.State {
	switch s {
	case types.KeyStateEnabled:
		return hsmcheck.Active
	case types.KeyStateDisabled:
		return hsmcheck.Disabled
	case types.KeyStatePendingDeletion, types.KeyStatePendingReplicaDeletion:
		return hsmcheck.PendingDeletion
	case types.KeyStatePendingImport, types.KeyStateCreating:
		return hsmcheck.PreActive
	}
	return hsmcheck.Unknown // Unavailable (custom key store disconnected), Updating, new states
}

// asymmetric reports whether a key spec names a key pair, whose private half KMS holds.
func asymmetric(spec types.KeySpec) bool {
	s := string(spec)
	for _, p := range []string{"RSA_", "ECC_", "ML_DSA_", "ML_KEM_"} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return s == "SM2"
}

// class is Secret for symmetric encryption and HMAC keys, Private for key pairs. An unknown spec
// is judged by its usage.
func class(spec types.KeySpec, u types.KeyUsageType) hsmcheck.Class {
	switch {
	case spec == types.KeySpecSymmetricDefault || strings.HasPrefix(string(spec), "HMAC_"):
		return hsmcheck.Secret
	case asymmetric(spec):
		return hsmcheck.Private
	case u == types.KeyUsageTypeSignVerify || u == types.KeyUsageTypeKeyAgreement || u == types.KeyUsageTypeEncapsulateDecapsulate:
		return hsmcheck.Private
	}
	return hsmcheck.Secret
}

// algorithm names a key spec the way the other backends do: "AES-256", "HMAC-SHA256",
// "RSA-2048", "EC-P256". SYMMETRIC_DEFAULT is SM4 in the China regions.
func algorithm(spec types.KeySpec, region string) string {
	s := string(spec)
	switch {
	case s == "":
		return ""
	case spec == types.KeySpecSymmetricDefault:
		if strings.HasPrefix(region, "cn-") {
			return "SM4-128"
		}
		return "AES-256"
	case strings.HasPrefix(s, "HMAC_"):
		return "HMAC-SHA" + strings.TrimPrefix(s, "HMAC_")
	case strings.HasPrefix(s, "RSA_"):
		return "RSA-" + strings.TrimPrefix(s, "RSA_")
	case strings.HasPrefix(s, "ECC_NIST_P"):
		return "EC-P" + strings.TrimPrefix(s, "ECC_NIST_P")
	case spec == types.KeySpecEccSecgP256k1:
		return "EC-secp256k1"
	case spec == types.KeySpecEccNistEdwards25519:
		return "Ed25519"
	case spec == types.KeySpecSm2:
		return "SM2"
	case strings.HasPrefix(s, "ML_DSA_"), strings.HasPrefix(s, "ML_KEM_"):
		return strings.ReplaceAll(s, "_", "-")
	}
	return s
}

// usage maps a KMS key usage onto hsmcheck's usage words.
func usage(u types.KeyUsageType) []string {
	switch u {
	case types.KeyUsageTypeSignVerify:
		return []string{"sign", "verify"}
	case types.KeyUsageTypeEncryptDecrypt:
		return []string{"encrypt", "decrypt"}
	case types.KeyUsageTypeGenerateVerifyMac:
		return []string{"mac"}
	case types.KeyUsageTypeKeyAgreement, types.KeyUsageTypeEncapsulateDecapsulate:
		return []string{"derive"} // both end in a shared secret
	}
	return nil
}

// authCodes are the error codes AWS returns when credentials are missing, wrong, expired or
// not allowed to make the call.
var authCodes = map[string]bool{
	"AccessDeniedException":       true,
	"AccessDenied":                true,
	"UnrecognizedClientException": true,
	"ExpiredTokenException":       true,
	"ExpiredToken":                true,
	"InvalidClientTokenId":        true,
	"InvalidSignatureException":   true,
	"IncompleteSignature":         true,
	"MissingAuthenticationToken":  true,
	"NotAuthorized":               true,
	"SignatureDoesNotMatch":       true,
}

func isAuth(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && authCodes[ae.ErrorCode()]
}

func hasCode(err error, codes ...string) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	for _, c := range codes {
		if ae.ErrorCode() == c {
			return true
		}
	}
	return false
}
