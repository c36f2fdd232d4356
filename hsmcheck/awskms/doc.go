// Package awskms lists the keys of one AWS KMS region as an hsmcheck.Inventory and confirms
// leaked HMAC key material through GenerateMac.
//
// Open takes awskms://REGION?endpoint=URL&profile=NAME&scope-tag=TAG&scope=S. Credentials come
// only from the AWS SDK's default chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
// AWS_SESSION_TOKEN, the shared config and credentials files with the profile chosen, SSO, web
// identity, container and EC2 instance roles); a URI carrying one is refused. endpoint points the
// client at LocalStack, local-kms or a VPC endpoint; TLS verification stays on.
//
// Keys calls ListAliases and ListKeys, then for each key DescribeKey, GetPublicKey (asymmetric
// keys: the SPKI fingerprint), GetKeyRotationStatus (symmetric encryption keys), ListKeyRotations
// (customer-managed ones: the last rotation, which GetKeyRotationStatus does not give) and
// ListResourceTags (customer-managed keys, for the scope tag, unless a scope is set). It reads
// nothing else and changes nothing. The least IAM policy is kms:ListKeys, kms:ListAliases,
// kms:DescribeKey, kms:GetPublicKey, kms:GetKeyRotationStatus, kms:ListKeyRotations and
// kms:ListResourceTags, plus kms:GenerateMac for confirmation. Keys are described eight at a
// time; in a large account whose KMS quota is shared, AWS_RETRY_MODE=adaptive and
// AWS_MAX_ATTEMPTS tune the SDK's retries.
//
// Key.ID is the key id, Label the first alias name in sorted order without "alias/", Scope the
// spec's scope, else the value of the scope tag, else the region. Meta holds arn, account,
// key_spec, key_manager (AWS-managed keys are listed too), origin, aliases (all of them),
// multi_region, deletion_date, next_rotation, custom_key_store, and denied or public_key_error
// when a fact could not be read.
//
// A refused ListKeys or missing credentials end Keys with an error wrapping hsmcheck.ErrAuth.
// A per-key call that is refused does not: the key is still listed with what is known, and
// Meta["denied"] names the operations that were refused. A key that cannot be described at all
// is listed with state unknown, which hsmcheck treats as live, so that a match against it is
// reported rather than lost; its class comes from GetPublicKey when that is allowed and is
// otherwise secret, the KMS default key spec.
//
// Inventory is an hsmcheck.Rotator (see rotate.go for the steps and the IAM policy rotation
// adds). Two listing facts come from it. A symmetric key rotated on demand is listed once per
// key material, the current one active and earlier ones old-version. A disabled or
// pending-deletion asymmetric key, which GetPublicKey refuses, takes its SPKI fingerprint from
// the SPKITag tag rotation set before disabling it (Meta["spki_from"] = "tag", or
// Meta["spki_tag_error"] when the tag is malformed), so that a later scan still reports the leak
// as retired; the tags of such a key are read even when a scope is set. The tag is trusted only
// for keys KMS reports as not live: a forged one can turn unknown into retired, never hide a
// live match.
package awskms
