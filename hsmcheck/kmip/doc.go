// Package kmip is the KMIP inventory backend: a small KMIP 1.2 client over mutual TLS, with its
// own TTLV codec, that lists a server's symmetric keys, private keys and public keys as
// hsmcheck.Keys and confirms candidate AES and HMAC keys with Encrypt and MAC challenges.
//
// The codec (ttlv.go) encodes and decodes every TTLV type KMIP 1.x defines and refuses, with a
// DecodeError, truncated items, bad padding, wrong fixed lengths and messages over
// MaxMessageSize, so that a hostile server can neither crash the client nor make it allocate
// without bound. The client (client.go) covers what keywarden needs: Locate with paging,
// GetAttributes in batches, Get, Encrypt, MAC, and, for tests and key rotation, Create,
// CreateKeyPair, Register, Activate, Revoke, AddAttribute, ModifyAttribute and Destroy.
//
// One Key stands for a key pair: the private key, fingerprinted with the SPKIHash of the public
// key its Link attribute names, or, on servers that keep no links (PyKMIP), the one public key
// that shares its Name. KMIP 1.2 has no key check value, so symmetric keys are confirmed through
// Challenge instead.
//
// Inventory is an hsmcheck.Rotator (rotate.go): create-replacement (Create or CreateKeyPair with
// the old key's attributes and a versioned Name, tagged with the plan's ID so that a resumed run
// adopts it rather than making a second), activate-replacement, link-replacement (Replaced and
// Replacement Object links; servers that refuse AddAttribute, such as PyKMIP, are reported, not
// fatal) and revoke-old (both halves: Key Compromise, or Superseded or Privilege Withdrawn for
// scheduled and personnel rotations, which leave the key Deactivated). Destroy is never called.
package kmip
