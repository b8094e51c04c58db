//go:build !unix

package media

import "time"

// rusageCPU returns 0 where getrusage(2) is missing: the load figures then
// show no CPU.
func rusageCPU() time.Duration { return 0 }
