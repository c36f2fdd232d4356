//go:build unix

package auditlog

import (
	"os"
	"syscall"
)

// fileLocking says whether appends from several processes are serialised.
const fileLocking = true

// lockFile takes an exclusive lock on f, waiting for any other appender to finish. flock locks
// belong to the open file, so two Logs on one path exclude each other even in one process.
func lockFile(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			return err
		}
	}
}

func unlockFile(f *os.File) { syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }
