//go:build linux

package netlab

import (
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// lockPath is the file every lab of every test process on the machine
// flocks, so that only one lab exists at a time (they would share the
// kernel's module state, and the cleanup of a killed run deletes every
// namespace with the prefix).
const lockPath = "/run/teaphone-netlab.lock"

// LockTimeout bounds how long New waits for a lab of another test (of this
// or another test process) to be torn down.
const LockTimeout = 2 * time.Minute

// lock takes the machine-wide lab lock, polling until timeout. The lock is
// held until the returned file is closed (or the process dies).
func lock(timeout time.Duration) (*os.File, error) {
	f, err := os.OpenFile(lockPath, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("netlab: lock file: %w", err)
	}
	deadline := time.Now().Add(timeout)
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return f, nil
		}
		if err != unix.EWOULDBLOCK && err != unix.EINTR {
			f.Close()
			return nil, fmt.Errorf("netlab: flock %s: %w", lockPath, err)
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("netlab: another lab still holds %s after %v", lockPath, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
