//go:build !linux

package main

// allowPtrace does nothing: Yama's ptrace restriction is Linux's.
func allowPtrace() {}

// excludeReservations does nothing: MADV_DONTDUMP is Linux's.
func excludeReservations() {}
