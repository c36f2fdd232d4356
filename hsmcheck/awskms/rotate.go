package awskms

// Rotation of an exposed key (issue #8). KMS key material never leaves KMS, so a rotation here
// never sees or moves a secret: it asks KMS for new material or a new key, moves the names
// consumers use, and takes the old key out of use. It never calls ScheduleKeyDeletion,
// DeleteAlias or DeleteImportedKeyMaterial.
//
// Symmetric encryption keys (SYMMETRIC_DEFAULT, origin AWS_KMS) are rotated in place with
// RotateKeyOnDemand: one step, rotate-key-material. The key id and its aliases stay; KMS keeps
// the old material to decrypt and encrypts only with the new one. Keys lists such a key's
// materials as versions (materialVersions), so the re-check sees the old material as an
// old-version entry and the new one as the active version. The plan records how many rotations
// had completed (ListKeyRotations) and the current key material id; the step counts again
// first, so a run killed after KMS rotated never asks for a second rotation. KMS rotates
// asynchronously: the step waits for the rotation to complete, and a rotation still running
// when the wait ends (GetKeyRotationStatus OnDemandRotationStartDate) is waited for again on
// resume, not started twice.
//
// Asymmetric and HMAC keys cannot get new material, so they are replaced: create-replacement
// (CreateKey with the old key's key spec, key usage, description, origin AWS_KMS, key policy and
// tags, MultiRegion false, tagged RotationIDTag=plan id and ReplacesTag=old key id),
// move-aliases (UpdateAlias for every alias of the old key, which brings the replacement into
// use), then disable-old-key (DisableKey, only once the replacement is enabled). CreateKey has no
// client token, so create-replacement first looks for a key carrying the plan's tag (ListKeys
// and ListResourceTags) and creates one only when there is none.
//
// KMS refuses GetPublicKey on a disabled key, so once disabled an asymmetric key could no longer
// be fingerprinted, and a later scan would call its leaked private key unknown instead of
// retired. disable-old-key therefore first tags the old key SPKITag=<its fingerprint> (TagResource
// overwrites a tag of the same key, so doing it again is harmless, and a resumed run that finds
// the key disabled already tags it too); Keys reads the tag back for disabled keys only.
//
// The least IAM policy for rotation adds to the listing policy (see the package doc)
// kms:RotateKeyOnDemand for symmetric keys, and for the others kms:GetKeyPolicy, kms:CreateKey,
// kms:TagResource (on the replacement, for the tags CreateKey gives it, and on the old key, for
// its fingerprint tag), kms:UpdateAlias (on the alias and on both keys) and kms:DisableKey.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/keywarden/keywarden/hsmcheck"
)

var _ hsmcheck.Rotator = (*Inventory)(nil)

// Tags a replacement key carries, so that a resumed rotation finds the key an interrupted run
// created instead of creating a second one, and so that people see where it came from.
const (
	RotationIDTag = "keywarden:rotation-id" // the plan's ID
	ReplacesTag   = "keywarden:replaces"    // the key id of the key it replaces
)

// SPKITag is the tag disable-old-key puts on an asymmetric key before disabling it: the SHA-256
// of its SubjectPublicKeyInfo in 64 lower-case hex digits, which Keys takes as the fingerprint
// of a disabled key because KMS no longer gives its public key.
const SPKITag = "keywarden:spki-sha256"

// Step names; the journal records them.
const (
	stepRotateMaterial = "rotate-key-material"
	stepCreate         = "create-replacement"
	stepMoveAliases    = "move-aliases"
	stepDisableOld     = "disable-old-key"
)

// Plan.State keys of this backend, besides hsmcheck's StateNew*.
const (
	stateMode            = "mode"                // modeMaterial or modeReplacement
	stateRotationsBefore = "rotations_before"    // completed rotations when planned
	stateMaterialBefore  = "key_material_before" // CurrentKeyMaterialId when planned
	stateKeySpec         = "key_spec"
	stateKeyUsage        = "key_usage"
	stateAliases         = "aliases"           // the old key's aliases when planned, comma-separated
	statePolicySHA256    = "key_policy_sha256" // of the key policy the replacement gets
)

const (
	modeMaterial    = "key-material"
	modeReplacement = "replacement"
)

// How long rotate-key-material waits for KMS to finish an on-demand rotation, and how often it
// looks. Tests shorten them.
var (
	rotationWait = 2 * time.Minute
	rotationPoll = 2 * time.Second
)

// PlanRotation decides how k is rotated, reading only: DescribeKey, then ListKeyRotations for a
// symmetric key, or GetKeyPolicy, ListResourceTags and ListAliases for the others, so that a
// missing permission shows before anything changes. Keys KMS cannot rotate this way give an
// error wrapping hsmcheck.ErrUnsupported: AWS-managed keys, imported key material, custom key
// stores, multi-Region replicas, and keys that are not enabled. A disabled key, or a symmetric
// key version that is no longer current, gives hsmcheck.ErrRetired.
func (inv *Inventory) PlanRotation(ctx context.Context, k hsmcheck.Key, reason hsmcheck.Reason) (*hsmcheck.Plan, error) {
	p, err := hsmcheck.NewPlan(inv, k, reason)
	if err != nil {
		return nil, err
	}
	if err := inv.credentials(ctx, "planning the rotation of "+k.Ref()); err != nil {
		return nil, err
	}
	md, err := inv.describeKey(ctx, k.ID)
	if err != nil {
		return nil, inv.stepErr(ctx, "planning the rotation of key", k.ID, err)
	}
	unsupported := func(why string, args ...any) error {
		return fmt.Errorf("planning the rotation of %s in %s: %w: %s", k.Ref(), inv.name, hsmcheck.ErrUnsupported, fmt.Sprintf(why, args...))
	}
	if md.KeyManager == types.KeyManagerTypeAws {
		return nil, unsupported("an AWS-managed key: AWS rotates its key material every year and allows no other rotation")
	}
	switch md.KeyState {
	case types.KeyStateEnabled:
	case types.KeyStateDisabled, types.KeyStatePendingDeletion, types.KeyStatePendingReplicaDeletion:
		return nil, fmt.Errorf("planning the rotation of %s in %s: %w (KMS key state %s)", k.Ref(), inv.name, hsmcheck.ErrRetired, md.KeyState)
	default:
		return nil, unsupported("the key is %s; KMS rotates only enabled keys", md.KeyState)
	}
	if mr := md.MultiRegionConfiguration; mr != nil && mr.MultiRegionKeyType == types.MultiRegionKeyTypeReplica {
		primary := "its primary Region"
		if mr.PrimaryKey != nil && mr.PrimaryKey.Region != nil {
			primary = *mr.PrimaryKey.Region
		}
		return nil, unsupported("a multi-Region replica key: rotate its primary key in %s", primary)
	}
	switch {
	case md.KeySpec == types.KeySpecSymmetricDefault:
		return inv.planMaterial(ctx, p, md, unsupported)
	case asymmetric(md.KeySpec) || strings.HasPrefix(string(md.KeySpec), "HMAC_"):
		return inv.planReplacement(ctx, p, md, unsupported)
	}
	return nil, unsupported("key spec %s", md.KeySpec)
}

// planMaterial plans RotateKeyOnDemand for a symmetric encryption key.
func (inv *Inventory) planMaterial(ctx context.Context, p *hsmcheck.Plan, md *types.KeyMetadata, unsupported func(string, ...any) error) (*hsmcheck.Plan, error) {
	k := &p.Key
	switch md.Origin {
	case types.OriginTypeAwsKms:
	case types.OriginTypeExternal:
		return nil, unsupported("imported key material: KMS rotates it only to material you import first (ImportKeyMaterial), which keywarden never handles")
	default:
		return nil, unsupported("a key in a custom key store (origin %s), which KMS cannot rotate on demand", md.Origin)
	}
	if md.CurrentKeyMaterialId == nil || *md.CurrentKeyMaterialId == "" {
		// Without material ids the listing cannot tell the new material from the old one, so
		// neither a resume nor the re-check could see whether the rotation happened.
		return nil, unsupported("the endpoint names no key materials (DescribeKey has no CurrentKeyMaterialId), so a rotation could not be verified")
	}
	rots, err := inv.completedRotations(ctx, k.ID)
	if err != nil {
		return nil, inv.stepErr(ctx, "planning the rotation of key", k.ID, err)
	}
	cur := len(rots) + 1
	switch {
	case k.Version == 0:
		k.Version = cur // the key as a whole: its current material
	case k.Version != cur:
		return nil, fmt.Errorf("planning the rotation of %s in %s: %w: key material v%d was rotated since it was listed; v%d is current", k.Ref(), inv.name, hsmcheck.ErrRetired, k.Version, cur)
	}
	p.Set(stateMode, modeMaterial)
	p.Set(stateRotationsBefore, strconv.Itoa(len(rots)))
	p.Set(stateMaterialBefore, *md.CurrentKeyMaterialId)
	p.Set(hsmcheck.StateNewID, k.ID)
	p.Set(hsmcheck.StateNewVersion, strconv.Itoa(cur+1))
	// StateNewLabel stays empty: every version of the key carries its alias as Label, so the
	// re-check's count of keys under the replacement's label would count the older versions.
	// A second rotation shows anyway: it would leave the expected version old.
	p.Step(stepRotateMaterial, fmt.Sprintf("RotateKeyOnDemand %s: KMS makes new key material v%d and encrypts only with it from then on; the key id and its aliases stay", k.ID, cur+1))
	p.OldKey = fmt.Sprintf("KMS keeps the old key material v%d inside %s to decrypt what it encrypted and never encrypts with it again; nothing is disabled or deleted", cur, k.ID)
	p.FollowUps = []string{
		fmt.Sprintf("re-encrypt what %s protects (ReEncrypt, or decrypt and encrypt again) so that nothing depends on key material v%d", k.ID, cur),
		"the old key material still decrypts for anyone allowed to use the key: remove the leaked principal from the key policy and its grants (ListGrants, RevokeGrant)",
	}
	if md.MultiRegion != nil && *md.MultiRegion {
		p.FollowUps = append(p.FollowUps, "this multi-Region primary key shares its new key material with its replicas once KMS has synchronised them; check them in their Regions")
	}
	return p, nil
}

// planReplacement plans CreateKey, UpdateAlias and DisableKey for an asymmetric or HMAC key.
func (inv *Inventory) planReplacement(ctx context.Context, p *hsmcheck.Plan, md *types.KeyMetadata, unsupported func(string, ...any) error) (*hsmcheck.Plan, error) {
	k := p.Key
	if md.Origin != types.OriginTypeAwsKms {
		return nil, unsupported("key material of origin %s: a replacement would need new material imported, which keywarden never handles", md.Origin)
	}
	policy, err := inv.keyPolicy(ctx, k.ID)
	if err != nil {
		return nil, inv.stepErr(ctx, "reading the key policy of key", k.ID, err)
	}
	tags, err := inv.keyTags(ctx, k.ID)
	if err != nil {
		return nil, inv.stepErr(ctx, "listing the tags of key", k.ID, err)
	}
	if n := len(copiedTags(tags, p.ID, k.ID)); n > 50 {
		return nil, unsupported("the key has %d tags; with keywarden's two the replacement would exceed KMS's 50", n-2)
	}
	aliases, err := inv.keyAliases(ctx, k.ID)
	if err != nil {
		return nil, inv.stepErr(ctx, "listing the aliases of key", k.ID, err)
	}
	sum := sha256.Sum256([]byte(policy))
	p.Set(stateMode, modeReplacement)
	p.Set(stateKeySpec, string(md.KeySpec))
	p.Set(stateKeyUsage, string(md.KeyUsage))
	p.Set(stateAliases, strings.Join(aliases, ","))
	p.Set(statePolicySHA256, hex.EncodeToString(sum[:]))
	p.Set(hsmcheck.StateNewVersion, "0")
	if len(aliases) > 0 {
		// Keys labels a key with its first alias; once the aliases moved, that is the replacement.
		p.Set(hsmcheck.StateNewLabel, strings.TrimPrefix(aliases[0], "alias/"))
	}

	p.Step(stepCreate, fmt.Sprintf("CreateKey %s %s with the description, key policy and tags of %s, tagged %s=%s and %s=%s", md.KeySpec, md.KeyUsage, k.ID, RotationIDTag, p.ID, ReplacesTag, k.ID))
	if len(aliases) > 0 {
		p.Step(stepMoveAliases, fmt.Sprintf("UpdateAlias %s to the replacement: it comes into use under the names consumers already use", strings.Join(aliases, ", ")))
	} else {
		p.Step(stepMoveAliases, fmt.Sprintf("move the aliases of %s to the replacement: it has none now, so consumers that name the key id must be switched by hand", k.ID))
	}
	p.Step(stepDisableOld, fmt.Sprintf("DisableKey %s once the replacement is enabled: KMS refuses the old key for every operation until EnableKey", k.ID))
	p.OldKey = fmt.Sprintf("%s is disabled, not deleted and never scheduled for deletion: EnableKey brings it back to decrypt or verify what it protected", k.ID)

	p.FollowUps = []string{
		fmt.Sprintf("switch every consumer that names the key id or ARN of %s, not an alias, to the replacement", k.ID),
		fmt.Sprintf("grants are not copied: recreate on the replacement those of %s still needed (ListGrants)", k.ID),
	}
	switch md.KeyUsage {
	case types.KeyUsageTypeSignVerify:
		p.FollowUps = append(p.FollowUps, "publish the replacement's public key (GetPublicKey) to every verifier; keep the old public key to verify old signatures, or EnableKey the old key for a while")
	case types.KeyUsageTypeEncryptDecrypt:
		p.FollowUps = append(p.FollowUps, "give senders the replacement's public key; data encrypted to the old key needs it enabled again (EnableKey) to be decrypted and re-encrypted")
	case types.KeyUsageTypeGenerateVerifyMac:
		p.FollowUps = append(p.FollowUps, "MACs made with the old key verify only with it: recompute them with the replacement, enabling the old key (EnableKey) while you do")
	default:
		p.FollowUps = append(p.FollowUps, "give peers the replacement's public key (GetPublicKey)")
	}
	if md.MultiRegion != nil && *md.MultiRegion {
		p.FollowUps = append(p.FollowUps, "the old key is a multi-Region primary key and the replacement is not: its replicas in other Regions stay enabled until you disable them there")
	}
	return p, nil
}

// RotateStep runs step i of a plan PlanRotation made. Each step first looks at what KMS holds
// and does only what is missing. Errors wrap hsmcheck.ErrAuth when AWS refused the credentials
// or the permission, and name the operation and AWS's error code.
func (inv *Inventory) RotateStep(ctx context.Context, p *hsmcheck.Plan, i int) (string, error) {
	if i < 0 || i >= len(p.Steps) {
		return "", fmt.Errorf("rotation %s has no step %d", p.ID, i)
	}
	if err := inv.credentials(ctx, "rotating "+p.Key.Ref()); err != nil {
		return "", err
	}
	switch name := p.Steps[i].Name; name {
	case stepRotateMaterial:
		return inv.rotateMaterial(ctx, p)
	case stepCreate:
		return inv.createReplacement(ctx, p)
	case stepMoveAliases:
		return inv.moveAliases(ctx, p)
	case stepDisableOld:
		return inv.disableOld(ctx, p)
	default:
		return "", fmt.Errorf("rotation %s: unknown step %q", p.ID, name)
	}
}

// rotateMaterial makes KMS rotate a symmetric key's material, unless a rotation completed or
// started since the plan, and waits for it to complete.
func (inv *Inventory) rotateMaterial(ctx context.Context, p *hsmcheck.Plan) (string, error) {
	id := p.Key.ID
	before, err := strconv.Atoi(p.State[stateRotationsBefore])
	if err != nil {
		return "", fmt.Errorf("rotation %s: plan has no %s", p.ID, stateRotationsBefore)
	}
	// The status comes first: a rotation that is not running by then either completed, and is
	// listed next, or never started. Listing first would miss one completing in between.
	st, err := inv.client.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: aws.String(id)})
	if err != nil {
		return "", inv.stepErr(ctx, "getting the rotation status of key", id, err)
	}
	how := "started"
	if st.OnDemandRotationStartDate != nil {
		how = "awaited"
	} else {
		rots, err := inv.completedRotations(ctx, id)
		if err != nil {
			return "", inv.stepErr(ctx, "listing the rotations of key", id, err)
		}
		if len(rots) > before {
			return inv.materialRotated(p, rots, before, "found"), nil
		}
		_, err = inv.client.RotateKeyOnDemand(ctx, &kms.RotateKeyOnDemandInput{KeyId: aws.String(id)})
		switch {
		case err == nil:
		case hasCode(err, "ConflictException"):
			return "", fmt.Errorf("rotating the key material of %q in %s: KMS refused RotateKeyOnDemand because an automatic rotation is running or due within 20 minutes; resume once it completed, which counts as the rotation: %w", id, inv.name, err)
		case hasCode(err, "LimitExceededException"):
			return "", fmt.Errorf("rotating the key material of %q in %s: KMS refused RotateKeyOnDemand: the key's on-demand rotations are used up: %w", id, inv.name, err)
		default:
			return "", inv.stepErr(ctx, "rotating the key material of key", id, err)
		}
	}
	rots, err := inv.awaitRotation(ctx, id, before)
	if err != nil {
		return "", err
	}
	return inv.materialRotated(p, rots, before, how), nil
}

// awaitRotation polls ListKeyRotations until more than before rotations completed.
func (inv *Inventory) awaitRotation(ctx context.Context, id string, before int) ([]types.RotationsListEntry, error) {
	deadline := time.Now().Add(rotationWait)
	for {
		rots, err := inv.completedRotations(ctx, id)
		if err != nil {
			return nil, inv.stepErr(ctx, "listing the rotations of key", id, err)
		}
		if len(rots) > before {
			return rots, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("rotating the key material of %q in %s: KMS has not completed the rotation after %s; resume later, which waits for it again and does not start another", id, inv.name, rotationWait)
		}
		t := time.NewTimer(rotationPoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// materialRotated records the new version and says what happened. how is "started" (this run
// asked for the rotation), "awaited" (an earlier run had asked) or "found" (it had completed).
func (inv *Inventory) materialRotated(p *hsmcheck.Plan, rots []types.RotationsListEntry, before int, how string) string {
	newVer := len(rots) + 1
	p.Set(hsmcheck.StateNewID, p.Key.ID)
	p.Set(hsmcheck.StateNewVersion, strconv.Itoa(newVer))
	latest := rots[len(rots)-1] // completedRotations sorts by date
	material := ""
	if latest.KeyMaterialId != nil {
		material = " (key material " + short(*latest.KeyMaterialId) + ")"
	}
	var what string
	switch {
	case how == "started":
		what = "KMS rotated the key material on demand"
	case how == "awaited":
		what = "the on-demand rotation an earlier run started completed"
	case latest.RotationType == types.RotationTypeAutomatic:
		what = "an automatic rotation since the plan already gave the key new material; no on-demand rotation needed"
	default:
		what = "an earlier run's on-demand rotation had completed; none requested again"
	}
	s := fmt.Sprintf("%s: v%d%s of %s is current, v%d is kept to decrypt", what, newVer, material, p.Key.ID, before+1)
	if extra := len(rots) - before - 1; extra > 0 {
		s += fmt.Sprintf(" (%d more rotation(s) completed since the plan)", extra)
	}
	return s
}

// createReplacement finds the replacement an earlier run created, or creates it.
func (inv *Inventory) createReplacement(ctx context.Context, p *hsmcheck.Plan) (string, error) {
	old := p.Key.ID
	spec, use := types.KeySpec(p.State[stateKeySpec]), types.KeyUsageType(p.State[stateKeyUsage])
	if spec == "" || use == "" {
		return "", fmt.Errorf("rotation %s: plan has no key spec or usage", p.ID)
	}
	found, denied, err := inv.findReplacement(ctx, p.ID, old)
	if err != nil {
		return "", inv.stepErr(ctx, "looking for the replacement of key", old, err)
	}
	if len(found) > 1 {
		return "", fmt.Errorf("rotation %s: %d keys carry %s=%s (%s); keep one, disable the others and tag them differently, then resume", p.ID, len(found), RotationIDTag, p.ID, strings.Join(found, ", "))
	}
	var md *types.KeyMetadata
	outcome := ""
	if len(found) == 1 {
		if md, err = inv.describeKey(ctx, found[0]); err != nil {
			return "", inv.stepErr(ctx, "describing the replacement key", found[0], err)
		}
		outcome = fmt.Sprintf("found replacement %s, which an earlier run of this rotation created (%s=%s)", found[0], RotationIDTag, p.ID)
	} else {
		omd, err := inv.describeKey(ctx, old)
		if err != nil {
			return "", inv.stepErr(ctx, "describing key", old, err)
		}
		policy, err := inv.keyPolicy(ctx, old)
		if err != nil {
			return "", inv.stepErr(ctx, "reading the key policy of key", old, err)
		}
		tags, err := inv.keyTags(ctx, old)
		if err != nil {
			return "", inv.stepErr(ctx, "listing the tags of key", old, err)
		}
		newTags := copiedTags(tags, p.ID, old)
		out, err := inv.client.CreateKey(ctx, &kms.CreateKeyInput{
			KeySpec:     spec,
			KeyUsage:    use,
			Description: omd.Description,
			Origin:      types.OriginTypeAwsKms,
			MultiRegion: aws.Bool(false),
			Policy:      aws.String(policy),
			Tags:        newTags,
		})
		switch {
		case err == nil && (out.KeyMetadata == nil || out.KeyMetadata.KeyId == nil):
			return "", fmt.Errorf("creating the replacement of %q in %s: CreateKey returned no key id", old, inv.name)
		case hasCode(err, "MalformedPolicyDocumentException"):
			return "", fmt.Errorf("creating the replacement of %q in %s: KMS refused the old key's policy for a new key (it must let you call kms:PutKeyPolicy): %w", old, inv.name, err)
		case err != nil:
			return "", inv.stepErr(ctx, "creating the replacement of key", old, err)
		}
		md = out.KeyMetadata
		outcome = fmt.Sprintf("created replacement %s (%s %s) with the description, key policy and %d tag(s) of %s", *md.KeyId, spec, use, len(newTags)-2, old)
		if sum := sha256.Sum256([]byte(policy)); hex.EncodeToString(sum[:]) != p.State[statePolicySHA256] {
			outcome += "; its key policy changed since the plan, and the current one was copied"
		}
	}
	newID := *md.KeyId
	if md.KeySpec != spec || md.KeyUsage != use {
		return "", fmt.Errorf("rotation %s: replacement %s is %s %s, want %s %s", p.ID, newID, md.KeySpec, md.KeyUsage, spec, use)
	}
	if md.KeyState != types.KeyStateEnabled {
		return "", fmt.Errorf("rotation %s: replacement %s is %s, not enabled; enable it (EnableKey) or disable it and tag it differently, then resume", p.ID, newID, md.KeyState)
	}
	p.Set(hsmcheck.StateNewID, newID)
	p.Set(hsmcheck.StateNewVersion, "0")
	if denied > 0 {
		outcome += fmt.Sprintf("; ListResourceTags was refused for %d other key(s), which may hide a replacement an earlier run made", denied)
	}
	return outcome, nil
}

// moveAliases points every alias of the old key at the replacement.
func (inv *Inventory) moveAliases(ctx context.Context, p *hsmcheck.Plan) (string, error) {
	old, newID := p.Key.ID, p.State[hsmcheck.StateNewID]
	if newID == "" {
		return "", fmt.Errorf("rotation %s: no replacement recorded; step %s has not run", p.ID, stepCreate)
	}
	onOld, err := inv.keyAliases(ctx, old)
	if err != nil {
		return "", inv.stepErr(ctx, "listing the aliases of key", old, err)
	}
	onNew, err := inv.keyAliases(ctx, newID)
	if err != nil {
		return "", inv.stepErr(ctx, "listing the aliases of key", newID, err)
	}
	var moved []string
	for _, a := range onOld {
		if _, err := inv.client.UpdateAlias(ctx, &kms.UpdateAliasInput{AliasName: aws.String(a), TargetKeyId: aws.String(newID)}); err != nil {
			done := ""
			if len(moved) > 0 {
				done = " after moving " + strings.Join(moved, ", ")
			}
			return "", inv.stepErr(ctx, "pointing "+a+done+" at the replacement of key", old, err)
		}
		moved = append(moved, a)
	}
	var already, gone []string
	for _, a := range splitList(p.State[stateAliases]) {
		switch {
		case slices.Contains(moved, a):
		case slices.Contains(onNew, a):
			already = append(already, a)
		default:
			gone = append(gone, a)
		}
	}
	// The replacement's label is its first alias now, whatever happened to the planned ones.
	all := append(slices.Clone(onNew), moved...)
	sort.Strings(all)
	p.Set(hsmcheck.StateNewLabel, "")
	if len(all) > 0 {
		p.Set(hsmcheck.StateNewLabel, strings.TrimPrefix(all[0], "alias/"))
	}

	var parts []string
	if len(moved) > 0 {
		parts = append(parts, fmt.Sprintf("pointed %s at %s", strings.Join(moved, ", "), newID))
	}
	if len(already) > 0 {
		parts = append(parts, fmt.Sprintf("%s already pointed at %s", strings.Join(already, ", "), newID))
	}
	if len(gone) > 0 {
		parts = append(parts, fmt.Sprintf("%s no longer named %s and were left alone", strings.Join(gone, ", "), old))
	}
	if len(parts) == 0 {
		return fmt.Sprintf("no alias names %s: nothing to move; switch consumers of its key id to %s", old, newID), nil
	}
	return strings.Join(parts, "; "), nil
}

// disableOld disables the old key once the replacement is enabled.
func (inv *Inventory) disableOld(ctx context.Context, p *hsmcheck.Plan) (string, error) {
	old, newID := p.Key.ID, p.State[hsmcheck.StateNewID]
	if newID == "" {
		return "", fmt.Errorf("rotation %s: no replacement recorded; step %s has not run", p.ID, stepCreate)
	}
	nmd, err := inv.describeKey(ctx, newID)
	if err != nil {
		return "", inv.stepErr(ctx, "describing the replacement key", newID, err)
	}
	if nmd.KeyState != types.KeyStateEnabled {
		return "", fmt.Errorf("rotation %s: the replacement %s is %s, so %s stays in use; enable the replacement (EnableKey), then resume", p.ID, newID, nmd.KeyState, old)
	}
	omd, err := inv.describeKey(ctx, old)
	if err != nil {
		return "", inv.stepErr(ctx, "describing key", old, err)
	}
	switch omd.KeyState {
	case types.KeyStateDisabled, types.KeyStatePendingDeletion, types.KeyStatePendingReplicaDeletion, types.KeyStateEnabled:
	default:
		return "", fmt.Errorf("rotation %s: %s is %s, which KMS cannot disable; resume once it is enabled or disabled", p.ID, old, omd.KeyState)
	}
	// The fingerprint goes on first: once the key is disabled nothing can read it again.
	tagged, err := inv.tagFingerprint(ctx, p)
	if err != nil {
		return "", err
	}
	switch omd.KeyState {
	case types.KeyStateDisabled:
		return fmt.Sprintf("%s was already disabled%s; %s is in use", old, tagged, newID), nil
	case types.KeyStatePendingDeletion, types.KeyStatePendingReplicaDeletion:
		return fmt.Sprintf("%s is pending deletion, scheduled outside keywarden, and was left as it is (CancelKeyDeletion keeps it)%s; %s is in use", old, tagged, newID), nil
	}
	if _, err := inv.client.DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String(old)}); err != nil {
		return "", inv.stepErr(ctx, "disabling key", old, err)
	}
	return fmt.Sprintf("disabled %s: KMS refuses it for every operation until EnableKey, and it is not scheduled for deletion%s; %s is in use", old, tagged, newID), nil
}

// tagFingerprint tags the old key with its SPKI fingerprint, as listed when the rotation was
// planned, and returns a clause for the outcome. A key without one (HMAC keys; an asymmetric key
// whose GetPublicKey was refused) is left untagged. A refused permission fails the step, so
// that the grant can be fixed and the step resumed before the key is disabled; a tag KMS will
// not take (the key's 50 tags are used up, or a key pending deletion) does not stop the old key
// from being taken out of use, and the outcome says what a later scan will show.
func (inv *Inventory) tagFingerprint(ctx context.Context, p *hsmcheck.Plan) (string, error) {
	old := p.Key.ID
	if !p.Key.HasSPKI() {
		if p.Key.Class == hsmcheck.Private {
			return "; its public key was not read when planned, so no fingerprint was recorded and a later scan reports its leaked private key unknown, not retired", nil
		}
		return "", nil
	}
	fp := hex.EncodeToString(p.Key.SPKIHash[:])
	_, err := inv.client.TagResource(ctx, &kms.TagResourceInput{
		KeyId: aws.String(old),
		Tags:  []types.Tag{{TagKey: aws.String(SPKITag), TagValue: aws.String(fp)}},
	})
	switch {
	case err == nil:
		return fmt.Sprintf("; tagged %s=%s so that scans still recognise its leaked private key as retired", SPKITag, short(fp)), nil
	case ctx.Err() == nil && hasCode(err, "LimitExceededException", "TagException", "KMSInvalidStateException"):
		return fmt.Sprintf("; KMS refused its fingerprint tag %s (%s), so a later scan reports its leaked private key unknown, not retired", SPKITag, errorCode(err)), nil
	}
	return "", inv.stepErr(ctx, "tagging key", old, err)
}

// credentials resolves the SDK's credentials first, as Keys does, to tell missing credentials
// (ErrAuth) from an unreachable endpoint.
func (inv *Inventory) credentials(ctx context.Context, doing string) error {
	if inv.creds == nil {
		return fmt.Errorf("%s in %s: %w: no AWS credentials", doing, inv.name, hsmcheck.ErrAuth)
	}
	if _, err := inv.creds.Retrieve(ctx); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("resolving AWS credentials for %s: %w: %w", inv.name, hsmcheck.ErrAuth, err)
	}
	return nil
}

// stepErr wraps an error of an operation on key id: ctx.Err() once ctx is done, ErrAuth when
// AWS refused the credentials or the permission. The SDK's error names the operation and AWS's
// error code.
func (inv *Inventory) stepErr(ctx context.Context, doing, id string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if isAuth(err) {
		return fmt.Errorf("%s %q in %s: %w: %w", doing, id, inv.name, hsmcheck.ErrAuth, err)
	}
	return fmt.Errorf("%s %q in %s: %w", doing, id, inv.name, err)
}

func (inv *Inventory) describeKey(ctx context.Context, id string) (*types.KeyMetadata, error) {
	out, err := inv.client.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(id)})
	if err != nil {
		return nil, err
	}
	if out.KeyMetadata == nil || out.KeyMetadata.KeyId == nil {
		return nil, fmt.Errorf("DescribeKey returned no KeyMetadata")
	}
	return out.KeyMetadata, nil
}

// completedRotations lists the completed rotations of a key, oldest first.
func (inv *Inventory) completedRotations(ctx context.Context, id string) ([]types.RotationsListEntry, error) {
	var rots []types.RotationsListEntry
	pages := kms.NewListKeyRotationsPaginator(inv.client, &kms.ListKeyRotationsInput{KeyId: aws.String(id), Limit: aws.Int32(1000)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, r := range page.Rotations {
			switch r.KeyMaterialState {
			case types.KeyMaterialStatePendingRotation, types.KeyMaterialStatePendingMultiRegionImportAndRotation:
				continue
			}
			rots = append(rots, r)
		}
	}
	sort.SliceStable(rots, func(a, b int) bool {
		ra, rb := rots[a].RotationDate, rots[b].RotationDate
		return ra != nil && rb != nil && ra.Before(*rb)
	})
	return rots, nil
}

func (inv *Inventory) keyPolicy(ctx context.Context, id string) (string, error) {
	out, err := inv.client.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: aws.String(id), PolicyName: aws.String("default")})
	if err != nil {
		return "", err
	}
	if out.Policy == nil || *out.Policy == "" {
		return "", fmt.Errorf("GetKeyPolicy returned no policy")
	}
	return *out.Policy, nil
}

// keyTags returns all tags of a key.
func (inv *Inventory) keyTags(ctx context.Context, id string) (map[string]string, error) {
	tags := map[string]string{}
	pages := kms.NewListResourceTagsPaginator(inv.client, &kms.ListResourceTagsInput{KeyId: aws.String(id), Limit: aws.Int32(50)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, t := range page.Tags {
			if t.TagKey != nil && t.TagValue != nil {
				tags[*t.TagKey] = *t.TagValue
			}
		}
	}
	return tags, nil
}

// keyAliases returns the alias names that point at a key, sorted.
func (inv *Inventory) keyAliases(ctx context.Context, id string) ([]string, error) {
	var names []string
	pages := kms.NewListAliasesPaginator(inv.client, &kms.ListAliasesInput{KeyId: aws.String(id), Limit: aws.Int32(100)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, a := range page.Aliases {
			if a.AliasName != nil && a.TargetKeyId != nil && *a.TargetKeyId == id {
				names = append(names, *a.AliasName)
			}
		}
	}
	sort.Strings(names)
	return names, nil
}

// copiedTags are the tags a replacement gets: the old key's, except keywarden's own from an
// earlier rotation, and this rotation's two, in a stable order.
func copiedTags(old map[string]string, planID, oldID string) []types.Tag {
	var names []string
	for n := range old {
		if !strings.HasPrefix(n, "keywarden:") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	tags := make([]types.Tag, 0, len(names)+2)
	for _, n := range names {
		tags = append(tags, types.Tag{TagKey: aws.String(n), TagValue: aws.String(old[n])})
	}
	return append(tags,
		types.Tag{TagKey: aws.String(RotationIDTag), TagValue: aws.String(planID)},
		types.Tag{TagKey: aws.String(ReplacesTag), TagValue: aws.String(oldID)})
}

// findReplacement returns the keys tagged with the plan's rotation id, and how many keys'
// tags could not be read. A refused ListResourceTags does not stop the search: the replacement
// has the old key's policy, which let this caller read the old key's tags when planning.
func (inv *Inventory) findReplacement(ctx context.Context, planID, oldID string) ([]string, int, error) {
	var ids []string
	pages := kms.NewListKeysPaginator(inv.client, &kms.ListKeysInput{Limit: aws.Int32(1000)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, 0, err
		}
		for _, e := range page.Keys {
			if e.KeyId != nil && *e.KeyId != oldID {
				ids = append(ids, *e.KeyId)
			}
		}
	}
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		found    []string
		denied   int
		firstErr error
		sem      = make(chan struct{}, workers)
	)
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			tags, err := inv.keyTags(ctx, id)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				if tags[RotationIDTag] == planID {
					found = append(found, id)
				}
			case isAuth(err) && ctx.Err() == nil:
				denied++
			case hasCode(err, "NotFoundException", "KMSInvalidStateException"):
				// Deleted since ListKeys, or in a state without tags to read.
			case firstErr == nil:
				firstErr = err
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, denied, firstErr
	}
	sort.Strings(found)
	return found, denied, ctx.Err()
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// errorCode is the AWS error code err carries, else its text.
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return err.Error()
}

// short abbreviates a key material id or a fingerprint (64 hex digits) for messages.
func short(id string) string {
	if len(id) > 12 {
		return id[:12] + "…"
	}
	return id
}
