// Package hsmcheck cross-checks found secrets against the organisation's own key inventory
// (PKCS#11 HSMs, KMIP servers, AWS KMS, Vault/OpenBao transit, an inventory file) by
// fingerprint, so that no secret value is ever sent to a backend, and audits the inventory's
// own hygiene.
//
// Backends live in subpackages (pkcs11, kmip, awskms, vault, file) and are listed by hand in
// hsmcheck/all. Matching, exposure classification and policy are functions over Inventory here,
// written once.
package hsmcheck
