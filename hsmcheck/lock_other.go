//go:build !unix

package hsmcheck

import "os"

// lockFile does nothing where flock(2) does not exist; the journal still records every step.
func lockFile(*os.File) error { return nil }
