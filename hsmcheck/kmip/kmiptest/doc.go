// Package kmiptest runs a real PyKMIP server (Debian python3-pykmip, pykmip-server) for tests:
// a throwaway ECDSA CA, a server certificate for 127.0.0.1 and a trusted client certificate, a
// temporary SQLite database, and helpers that seed it with keys the test generated. Start shares
// one server per test binary when the package's TestMain calls Main, and starts one per test
// otherwise (about 1-4 s each). StartOwn gives a test a server of its own, which it can Stop, as
// a crash would, and Restart on the same address and database.
//
// What PyKMIP 0.10 does, and the kmip package copes with: it speaks KMIP 1.0 to 2.0 (the
// inventory uses 1.2); it authorises by the client certificate's common name, so objects one
// identity creates are invisible to another; it keeps no Link attributes, so pairs are matched
// by name; it converts no key formats, so a public key it generated comes back as PKCS#1 only;
// it generates RSA key pairs only, but stores registered EC and Ed25519 keys as given; it pads
// every ECB encryption; it deletes destroyed objects instead of keeping them as Destroyed; it
// cannot parse AddAttribute. It answers Activate of a key that is not Pre-Active with Permission
// Denied, refuses to revoke a key that is not Active with any reason but Key Compromise, and
// refuses every cryptographic use (decrypt and verify included) of a key that is not Active.
package kmiptest
