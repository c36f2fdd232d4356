// Package vault is the hsmcheck inventory of a HashiCorp Vault or OpenBao transit secrets
// engine (the two share the transit HTTP API), for vault://HOST:PORT/MOUNT and
// openbao://HOST:PORT/MOUNT inventory URIs.
//
// Keys lists the mount and reads each key's metadata (LIST MOUNT/keys, GET MOUNT/keys/NAME);
// transit never shows key material, so symmetric keys carry no check value and key pairs are
// fingerprinted from the public key of each version. Each version is one hsmcheck.Key with ID
// "MOUNT/NAME": the latest is active, older ones down to min_decryption_version are old-version
// (they still decrypt and verify, so what they protected must be re-protected), and archived
// ones below it are disabled. Versions at or below min_available_version have been deleted and
// are not listed.
//
// Keys of type hmac can be confirmed without sending a candidate anywhere: Challenge asks
// transit for HMAC-SHA256 of fresh random bytes under one version, and keywarden recomputes it
// locally. Other key types cannot, because transit HMACs them with a separate key.
//
// Inventory is an hsmcheck.Rotator: rotate makes version N+1 the latest, then
// set-min-encryption-version raises min_encryption_version to N+1 so that no caller can pick an
// older version for new encryption or signing. min_decryption_version is never changed and
// nothing is trimmed or deleted. The rotate request goes through a client without retries: a
// retried rotate whose first answer was lost would make two versions.
//
// The connection is always HTTPS with certificate verification; ca= names the CA file that
// signed the server's certificate. The token comes from VAULT_TOKEN or BAO_TOKEN, or from the
// file token-file= names, and never from the URI. The client is configured only from the URI:
// VAULT_ADDR, VAULT_SKIP_VERIFY, VAULT_NAMESPACE and their BAO_ forms are not read.
package vault
