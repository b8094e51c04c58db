//go:build unix

package phone

import "syscall"

// fileLimit is the process's soft limit of open files (RLIMIT_NOFILE).
func fileLimit() (uint64, bool) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, false
	}
	return uint64(lim.Cur), true
}
