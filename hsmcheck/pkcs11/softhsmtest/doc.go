// Package softhsmtest makes SoftHSM2 tokens for tests of the pkcs11 backend and of the commands
// that use it.
//
// New initialises a token with random label and PINs under a temporary softhsm2.conf and points
// SOFTHSM2_CONF at it for the rest of the test (so tests that use it must not be parallel). It
// skips the test when SoftHSM2 is not installed, and fails it instead when
// $KEYWARDEN_REQUIRE_TOOLS is 1. Keys are put in through PKCS#11 directly, in the helper's own
// session, not through the backend: GenerateRSA, GenerateEC and GenerateEd25519 generate pairs in
// the token and return the private key (generated extractable and not sensitive, so that a test
// can plant it where the scanner looks); ImportPEM imports a private key without its public
// object through softhsm2-util; CreateAES and CreateGenericSecret create secret keys with a known
// value. Deactivate, Disable and SetDates change a key's life-cycle attributes. SoftHSM 2.6
// lets every one of them be changed after creation; flags an object's class lacks (CKA_SIGN on a
// public key) are skipped. Session runs a function in a logged-in read-write session for anything
// else: objects with a template of the test's own, reading attributes back, operations with a key.
//
// SoftHSM reads SOFTHSM2_CONF and finds its tokens only at C_Initialize. The helper shares the
// module with the backend in the same process: each helper call initialises the module only if
// nothing holds it and finalizes it again afterwards, so that the next test's configuration is
// read. Tokens a test makes after its pkcs11 Inventory is opened are not seen by it, and New
// fails while an Inventory is open; a subtest's New adds its token to its parent's
// configuration, so one test can use several tokens.
//
//	tok := softhsmtest.New(t)
//	priv := tok.GenerateRSA(t, "signing", []byte{1}, 2048) // plant priv where the scan looks
//	tok.UsePINEnv(t)
//	// scan with --inventory tok.URI(), or pkcs11.Open a spec parsed from it; Close it after
//
// Secret keys are created without CKA_PRIVATE, and dates set on CKA_PRIVATE objects (private
// keys) show only through a pair's public object: SoftHSM 2.6 cannot read back a date set on a
// CKA_PRIVATE object (softhsm/SoftHSMv2#655, #804).
package softhsmtest
