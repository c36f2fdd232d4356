// Package p11mod loads and initialises PKCS#11 modules once per process, for the pkcs11
// backend and its softhsmtest helper alike.
//
// A PKCS#11 library has one state per process: a second C_Initialize fails with
// CKR_CRYPTOKI_ALREADY_INITIALIZED, one C_Finalize ends every user's sessions, and C_Login logs
// the whole application in, not one session. Acquire and Release count the users of each
// module so that only the last one finalizes, and only when this package initialised it. A
// module stays loaded once loaded: unloading a library that links OpenSSL can leave exit
// handlers pointing into unmapped memory.
package p11mod
