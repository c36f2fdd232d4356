// Package pkcs11 is the PKCS#11 inventory backend: it lists the keys of one token of an HSM
// (or SoftHSM2) through a read-only session logged in as the user, and challenges secret keys
// so that a found value can be confirmed without leaving the machine.
//
// Open takes pkcs11:MODULE_PATH?token=LABEL or pkcs11:MODULE_PATH?slot=N (module-path= works
// as a param too, and so do RFC 7512 path attributes token= and slot-id=). The user PIN comes
// from $KEYWARDEN_PKCS11_PIN, else from the file pin-file= names; pin= and pin-value= are
// refused so that no PIN lands in shell history. A refused PIN gives an error wrapping
// hsmcheck.ErrAuth.
//
// # Keys
//
// Every secret key object is one Key of class Secret: Algorithm from CKA_KEY_TYPE and
// CKA_VALUE_LEN ("AES-256", "GENERIC-SECRET-32", "HMAC-SHA256"), CheckValue from
// CKA_CHECK_VALUE. Every private key object is one Key of class Private whose SPKIHash is its
// public half's, taken from the private object's own CKA_PUBLIC_KEY_INFO or CKA_MODULUS and
// CKA_PUBLIC_EXPONENT when it has them, else from the public object with the same CKA_ID (the
// same CKA_LABEL when the ID is empty): CKA_MODULUS and CKA_PUBLIC_EXPONENT for RSA,
// CKA_EC_PARAMS and CKA_EC_POINT for EC, Ed25519, Ed448, X25519 and X448. Such a public object
// is part of the pair; a public object with no private key is a Key of class Public. An EC
// private key imported without its public object has no fingerprint: PKCS#11 keeps no point on
// the private object. The backend never asks for CKA_VALUE or any other private part.
//
// ID is CKA_ID in lower-case hex, or "label:" and CKA_LABEL when CKA_ID is empty. Usage names
// the usage flags set (sign, verify, encrypt, decrypt, wrap, unwrap, derive; for a key pair
// those of both objects), plus "mac" for a secret key that may sign, since that is what
// signing with it means. Scope is the configured scope or the token label.
//
// # States
//
//   - deactivated from CKA_END_DATE on: the date is read as the day the key is taken out of use,
//     like KMIP's Deactivation Date, so a key whose end date is today is deactivated today;
//   - pre-active before CKA_START_DATE;
//   - disabled when no usage flag is set. Every flag counts, verify and decrypt included: a key
//     that still decrypts or verifies is in use, and a leaked copy of it still matters;
//   - unknown when the token fails to read a date and the flags do not say disabled;
//   - active otherwise.
//
// Dates are compared in UTC. A key pair's dates come from the private object, else from the
// public one; its flags are those of both. To retire a key so that it reads as deactivated at
// once, set CKA_END_DATE to today or earlier on every object with its CKA_ID; clearing
// CKA_SIGN, CKA_ENCRYPT and CKA_WRAP as well keeps the audit from reporting it as still
// producing output. SoftHSM 2.6 cannot read back a date set on a CKA_PRIVATE object
// (softhsm/SoftHSMv2#655, #804), so there a private key without a public object cannot read as
// deactivated; with all its usage flags cleared it reads as disabled. Attributes a token
// fails to read are named in Meta["unreadable"] and do not stop the listing.
//
// # Rotation
//
// Inventory is an hsmcheck.Rotator. generate-replacement makes a key (or key pair) with the old
// one's template, CKA_TOKEN, CKA_PRIVATE and CKA_SENSITIVE true and CKA_EXTRACTABLE false, under
// a versioned label and a CKA_ID chosen when planning, so that a resumed run finds it instead of
// generating a second. retire-old sets CKA_END_DATE to the planned day and clears CKA_SIGN,
// CKA_SIGN_RECOVER, CKA_ENCRYPT, CKA_WRAP and CKA_DERIVE, one attribute at a time, on every
// object with the old CKA_ID, keeping verify, decrypt and unwrap; what the token refuses is
// reported in the step's outcome. Nothing is ever destroyed. On SoftHSM 2.6 a CKA_PRIVATE secret
// key, or an imported private key without a public object, that keeps decrypt still lists as
// unknown afterwards (the end date cannot be read back), and the re-check says so.
//
// # Modules
//
// A PKCS#11 library has one state per process. The backend shares each module with every other
// user in the process (other inventories, the softhsmtest helper): the first one initialises it,
// or finds it initialised already (CKR_CRYPTOKI_ALREADY_INITIALIZED) and then never finalizes
// it; the last Close finalizes what the backend initialised. Login is per application, so a
// second inventory on a token that is logged in reuses that login, and it is refused if its PIN
// differs from the one that logged in. Close every Inventory: while one is open the module keeps
// the configuration it was initialised with.
package pkcs11
