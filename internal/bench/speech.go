//go:build unix

package bench

import (
	"fmt"
	"time"
)

// formatCell names an impairment cell: "3%/20ms".
func formatCell(loss float64, jitter time.Duration) string {
	return fmt.Sprintf("%g%%/%dms", 100*loss, jitter.Milliseconds())
}
