//go:build !unix

package auditlog

import "os"

// fileLocking says whether appends from several processes are serialised.
const fileLocking = false

// lockFile does nothing where flock(2) does not exist: appends rely on O_APPEND alone, which
// keeps lines whole, but two processes appending at the same moment may chain on the same line.
func lockFile(*os.File) error { return nil }

func unlockFile(*os.File) {}
