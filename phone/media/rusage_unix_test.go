//go:build unix

package media

import (
	"syscall"
	"time"
)

// rusageCPU returns the CPU time (user and system) the process used so far.
func rusageCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
