package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/openbao/openbao/api/v2"

	"github.com/keywarden/keywarden/hsmcheck"
)

// Step names of a transit rotation. The journal records them, so they never change.
const (
	StepRotate        = "rotate"                     // POST MOUNT/keys/NAME/rotate
	StepMinEncryption = "set-min-encryption-version" // POST MOUNT/keys/NAME/config min_encryption_version=N+1
)

// Plan.State keys this backend adds to the common ones.
const (
	StatePlannedLatest = "latest_version"         // the latest version when planned: the one rotated away from
	StatePlannedMinDec = "min_decryption_version" // min_decryption_version when planned; rotation keeps it
	StatePlannedMinEnc = "min_encryption_version" // min_encryption_version when planned; step 2 raises it
)

var _ hsmcheck.Rotator = (*Inventory)(nil)

// rotInfo is what rotation reads of a key: the read-key answer, which rotate and config also
// answer with on current servers.
type rotInfo struct {
	keyInfo
	AllowPlaintextBackup bool `json:"allow_plaintext_backup"`
	// Present only for imported keys: whether transit may rotate them at all.
	ImportedAllowRotation *bool `json:"imported_key_allow_rotation"`
}

// PlanRotation plans the rotation of a transit key's latest version k (changing nothing): rotate
// the key, so that version N+1 becomes the latest and is used for every new operation that does
// not name a version, then raise min_encryption_version to N+1, so that no caller can choose
// version N or older for new encryption, signing or HMACs either. min_decryption_version stays
// where it is: what the old versions protected must still decrypt and verify. Nothing is
// deleted, trimmed or made deletable.
//
// Transit makes no new key, so the replacement is the same Key.ID at version N+1 and
// State[StateNewLabel] stays empty: every version carries the key's name as its label, so a
// label cannot tell a second replacement apart; a second rotation instead shows in the re-check
// as version N+1 no longer being the latest. k must be the latest version of a live key; an
// older version is already out of use (hsmcheck.ErrRetired).
func (inv *Inventory) PlanRotation(ctx context.Context, k hsmcheck.Key, reason hsmcheck.Reason) (*hsmcheck.Plan, error) {
	p, err := hsmcheck.NewPlan(inv, k, reason)
	if err != nil {
		return nil, err
	}
	name, err := inv.keyName(k)
	if err != nil {
		return nil, fmt.Errorf("planning rotation of %s: %w", k.Ref(), err)
	}
	ki, err := inv.readInfo(ctx, name)
	if err != nil {
		return nil, err
	}
	what := fmt.Sprintf("planning rotation of %s in %s", k.Ref(), inv.name)
	switch {
	case ki.SoftDeleted:
		return nil, fmt.Errorf("%s: %w (the key is soft-deleted)", what, hsmcheck.ErrRetired)
	case ki.LatestVersion < 1:
		return nil, fmt.Errorf("%s: the key has no version", what)
	case k.Version != ki.LatestVersion:
		// A listing older than the key: someone rotated it since, and k is an old version now.
		return nil, fmt.Errorf("%s: %w (v%d is the latest now)", what, hsmcheck.ErrRetired, ki.LatestVersion)
	case ki.ImportedKey && (ki.ImportedAllowRotation == nil || !*ki.ImportedAllowRotation):
		return nil, fmt.Errorf("%s: %w: the key was imported without allow_rotation, so transit refuses to rotate it; import a new version with %s/keys/%s/import_version instead",
			what, hsmcheck.ErrUnsupported, inv.mount, name)
	}

	n, next := ki.LatestVersion, ki.LatestVersion+1
	minDec := max(ki.MinDecryptionVersion, 1)
	p.Set(StatePlannedLatest, strconv.Itoa(n))
	p.Set(StatePlannedMinDec, strconv.Itoa(minDec))
	p.Set(StatePlannedMinEnc, strconv.Itoa(ki.MinEncryptionVersion))
	p.Set(hsmcheck.StateNewID, k.ID)
	p.Set(hsmcheck.StateNewVersion, strconv.Itoa(next))

	use, keep := uses(ki.keyInfo)
	p.Step(StepRotate, fmt.Sprintf("POST %s/keys/%s/rotate: create v%d and make it the latest, used for new %s from now on; min_decryption_version stays %d, so %s",
		inv.mount, name, next, use, minDec, keep(minDec, n)))
	p.Step(StepMinEncryption, fmt.Sprintf("POST %s/keys/%s/config min_encryption_version=%d (now %d): v%d and older can no longer be chosen for new %s",
		inv.mount, name, next, ki.MinEncryptionVersion, n, use))
	p.OldKey = fmt.Sprintf("v%d of %s stays in the key ring and still decrypts and verifies (min_decryption_version stays %d); it is no longer the latest, and min_encryption_version %d keeps it from new %s; nothing is deleted or trimmed",
		n, k.ID, minDec, next, use)
	p.FollowUps = inv.followUps(name, ki, n, next)
	return p, nil
}

// RotateStep runs step i of a plan PlanRotation made. Each step reads the key first and does
// only what has not taken effect, so a resumed run never rotates twice.
func (inv *Inventory) RotateStep(ctx context.Context, p *hsmcheck.Plan, i int) (string, error) {
	if i < 0 || i >= len(p.Steps) {
		return "", fmt.Errorf("rotation %s has no step %d", p.ID, i)
	}
	name, err := inv.keyName(p.Key)
	if err != nil {
		return "", fmt.Errorf("rotating %s: %w", p.Key.Ref(), err)
	}
	if p.Key.Scope != "" && p.Key.Scope != inv.scope {
		// Key.ID holds no namespace: the same mount in another namespace is another key.
		return "", fmt.Errorf("rotating %s: %w: the plan is for scope %q, this inventory is %q", p.Key.Ref(), hsmcheck.ErrConfig, p.Key.Scope, inv.scope)
	}
	planned, err1 := strconv.Atoi(p.State[StatePlannedLatest])
	next := p.NewVersion()
	if err1 != nil || planned < 1 || next != planned+1 {
		return "", fmt.Errorf("rotating %s: the plan records no versions (latest_version %q, new_version %q)",
			p.Key.Ref(), p.State[StatePlannedLatest], p.State[hsmcheck.StateNewVersion])
	}
	switch s := p.Steps[i].Name; s {
	case StepRotate:
		return inv.rotateStep(ctx, p, name, planned, next)
	case StepMinEncryption:
		return inv.minEncryptionStep(ctx, p, name, planned, next)
	default:
		return "", fmt.Errorf("rotating %s: unknown step %q", p.Key.Ref(), s)
	}
}

func (inv *Inventory) rotateStep(ctx context.Context, p *hsmcheck.Plan, name string, planned, next int) (string, error) {
	ki, err := inv.readInfo(ctx, name)
	if err != nil {
		return "", err
	}
	what := fmt.Sprintf("rotating %s in %s", p.Key.Ref(), inv.name)
	switch {
	case ki.SoftDeleted:
		return "", fmt.Errorf("%s: the key is soft-deleted; restore it with %s/keys/%s/soft-delete-restore first", what, inv.mount, name)
	case ki.LatestVersion < planned:
		return "", fmt.Errorf("%s: latest_version is %d, below the %d planned: the key was deleted and made again; plan afresh", what, ki.LatestVersion, planned)
	case ki.LatestVersion >= next:
		// A run that died after transit rotated: the version it made is there.
		_, keep := uses(ki.keyInfo)
		return fmt.Sprintf("v%d already exists (latest is v%d): not rotated again; min_decryption_version is %d, so %s%s",
			next, ki.LatestVersion, max(ki.MinDecryptionVersion, 1), keep(ki.MinDecryptionVersion, planned), others(ki.LatestVersion, next)), nil
	}

	// Transit has no compare-and-swap for rotate; the read above is as close as it gets. An
	// auto-rotation in between shows as a latest version past next, reported below.
	client, err := inv.oneShot()
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	sec, err := client.Logical().WriteWithContext(ctx, inv.mount+"/keys/"+name+"/rotate", nil)
	if err != nil {
		return "", inv.failed(ctx, what, err)
	}
	after, err := inv.answerOrRead(ctx, name, sec)
	if err != nil {
		return "", err
	}
	if after.LatestVersion < next {
		return "", fmt.Errorf("%s: transit accepted the rotation but latest_version is still %d", what, after.LatestVersion)
	}
	_, keep := uses(after.keyInfo)
	return fmt.Sprintf("rotated %s: v%d → v%d, now the latest; min_decryption_version stays %d, so %s%s",
		name, planned, next, max(after.MinDecryptionVersion, 1), keep(after.MinDecryptionVersion, planned), others(after.LatestVersion, next)), nil
}

func (inv *Inventory) minEncryptionStep(ctx context.Context, p *hsmcheck.Plan, name string, planned, next int) (string, error) {
	ki, err := inv.readInfo(ctx, name)
	if err != nil {
		return "", err
	}
	what := fmt.Sprintf("raising min_encryption_version of %s in %s", p.Key.Ref(), inv.name)
	use, _ := uses(ki.keyInfo)
	switch {
	case ki.LatestVersion < next:
		return "", fmt.Errorf("%s: v%d does not exist (latest is v%d): the rotation has not taken effect", what, next, ki.LatestVersion)
	case ki.MinEncryptionVersion >= next:
		return fmt.Sprintf("min_encryption_version is already %d: v%d and older cannot be chosen for new %s", ki.MinEncryptionVersion, planned, use), nil
	}
	was := ki.MinEncryptionVersion
	// Only this one field: the config endpoint applies each field it is sent, and
	// min_decryption_version or deletion_allowed must stay as they are.
	sec, err := inv.client.Logical().WriteWithContext(ctx, inv.mount+"/keys/"+name+"/config", map[string]any{
		"min_encryption_version": next,
	})
	if err != nil {
		return "", inv.failed(ctx, what, err)
	}
	after, err := inv.answerOrRead(ctx, name, sec)
	if err != nil {
		return "", err
	}
	if after.MinEncryptionVersion < next {
		return "", fmt.Errorf("%s: transit accepted the change but min_encryption_version is %d", what, after.MinEncryptionVersion)
	}
	return fmt.Sprintf("min_encryption_version raised from %d to %d: v%d and older can no longer be chosen for new %s; min_decryption_version stays %d",
		was, after.MinEncryptionVersion, planned, use, max(after.MinDecryptionVersion, 1)), nil
}

// followUps are what only the key's users can do: move what the old versions protected to the
// new one, and only then retire the old versions for decryption too.
func (inv *Inventory) followUps(name string, ki *rotInfo, n, next int) []string {
	usage := usageOf(ki.keyInfo)
	var out []string
	if slices.Contains(usage, "encrypt") {
		out = append(out, fmt.Sprintf("rewrap every ciphertext made under v%d or older (prefix vault:v1: to vault:v%d:) with POST %s/rewrap/%s: transit re-encrypts it under v%d without returning the plaintext",
			n, n, inv.mount, name, next))
	}
	if slices.Contains(usage, "sign") {
		out = append(out, fmt.Sprintf("re-sign what v%d or older signed, and give verifiers the v%d public key (GET %s/keys/%s); signatures with prefix vault:v%d: or older keep verifying until min_decryption_version is raised",
			n, next, inv.mount, name, n))
	}
	if slices.Contains(usage, "mac") {
		out = append(out, fmt.Sprintf("recompute stored HMACs under v%d with POST %s/hmac/%s; ones made under v%d or older keep verifying until min_decryption_version is raised",
			next, inv.mount, name, n))
	}
	out = append(out, fmt.Sprintf("once nothing needs v%d or older, raise min_decryption_version to %d with POST %s/keys/%s/config; keywarden never does, because whatever is still under those versions would stop decrypting or verifying; never trim (%s/keys/%s/trim) before that, as trimmed versions are gone for good",
		n, next, inv.mount, name, inv.mount, name))
	if ki.Exportable || ki.AllowPlaintextBackup {
		out = append(out, fmt.Sprintf("the key is exportable or allows a plaintext backup, which cannot be switched off, so v%d can be read out the same way as the old version; limit who may read %s/export/ and %s/backup/ in your policies",
			next, inv.mount, inv.mount))
	}
	return out
}

// uses names what a key type is used for, and returns a phrase saying what keeping versions
// minDec to n means: "data encrypted under v2 to v4 still decrypts".
func uses(ki keyInfo) (string, func(minDec, n int) string) {
	usage := usageOf(ki)
	var use, prot []string
	verb := "still verify"
	if slices.Contains(usage, "encrypt") {
		use, prot, verb = append(use, "encryption"), append(prot, "data encrypted"), "still decrypts"
	}
	if slices.Contains(usage, "sign") {
		use, prot = append(use, "signatures"), append(prot, "signatures made")
	}
	if slices.Contains(usage, "mac") {
		use, prot = append(use, "HMACs"), append(prot, "HMACs made")
	}
	switch {
	case len(use) == 0:
		use, prot = []string{"operations"}, []string{"what was protected"}
	case len(prot) > 1 && verb == "still decrypts":
		verb = "still decrypt and verify"
	}
	keep := func(minDec, n int) string {
		minDec = max(minDec, 1)
		switch {
		case minDec > n:
			return fmt.Sprintf("%s under v%d no longer decrypt or verify", strings.Join(prot, " and "), n)
		case minDec == n:
			return fmt.Sprintf("%s under v%d %s", strings.Join(prot, " and "), n, verb)
		}
		return fmt.Sprintf("%s under v%d to v%d %s", strings.Join(prot, " and "), minDec, n, verb)
	}
	return strings.Join(use, " and "), keep
}

// others notes a rotation that did not come from this plan.
func others(latest, next int) string {
	if latest > next {
		return fmt.Sprintf("; the latest is v%d: the key was rotated again by something else (auto_rotate_period, another user)", latest)
	}
	return ""
}

// keyName returns the transit key name of a Key this inventory listed.
func (inv *Inventory) keyName(k hsmcheck.Key) (string, error) {
	name, ok := strings.CutPrefix(k.ID, inv.mount+"/")
	if !ok || name == "" || strings.ContainsAny(name, "/?#") || name == "." || name == ".." {
		return "", fmt.Errorf("%w: not a key of %s", hsmcheck.ErrUnsupported, inv.name)
	}
	return name, nil
}

// readInfo reads a key's metadata. A key that is gone is an error here: rotation never
// deletes one, so someone else did.
func (inv *Inventory) readInfo(ctx context.Context, name string) (*rotInfo, error) {
	what := fmt.Sprintf("reading key %q", name)
	sec, err := inv.client.Logical().ReadWithContext(ctx, inv.mount+"/keys/"+name)
	if err != nil {
		return nil, inv.failed(ctx, what, err)
	}
	if sec == nil || sec.Data == nil {
		return nil, fmt.Errorf("%s in %s: the key does not exist", what, inv.name)
	}
	ki, err := decodeInfo(sec)
	if err != nil {
		return nil, fmt.Errorf("%s in %s: %w", what, inv.name, err)
	}
	return ki, nil
}

// answerOrRead returns the key as a rotate or config answer shows it. Current servers answer
// with the key (formatKeyPolicy); older Vault answered 204 with no body, so then it is read.
func (inv *Inventory) answerOrRead(ctx context.Context, name string, sec *api.Secret) (*rotInfo, error) {
	if sec != nil && sec.Data != nil && sec.Data["latest_version"] != nil {
		ki, err := decodeInfo(sec)
		if err != nil {
			return nil, fmt.Errorf("reading key %q in %s from the answer: %w", name, inv.name, err)
		}
		return ki, nil
	}
	return inv.readInfo(ctx, name)
}

func decodeInfo(sec *api.Secret) (*rotInfo, error) {
	b, err := json.Marshal(sec.Data)
	if err != nil {
		return nil, err
	}
	var ki rotInfo
	if err := json.Unmarshal(b, &ki); err != nil {
		return nil, fmt.Errorf("parsing the answer: %w", err)
	}
	if ki.Type == "" {
		return nil, errors.New("the answer has no key type")
	}
	return &ki, nil
}

// oneShot returns a client for the inventory's server that never retries. The shared client
// retries on connection errors and 5xx answers, which for a rotate whose answer was lost would
// make a second version; a lost answer must come back as an error, for the next run to read
// what happened. It is built from the inventory's own HTTP client, token and headers (the
// namespace among them) rather than with api.Client.Clone, which reads the environment.
func (inv *Inventory) oneShot() (*api.Client, error) {
	cfg := api.NewConfig()
	if cfg.Error != nil {
		return nil, fmt.Errorf("configuring vault client: %w", cfg.Error)
	}
	cfg.Address = inv.client.Address()
	cfg.HttpClient = inv.http
	cfg.MaxRetries = 0
	c, err := api.NewClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("configuring vault client: %w", err)
	}
	c.SetHeaders(inv.client.Headers())
	c.SetToken(inv.client.Token())
	return c, nil
}
