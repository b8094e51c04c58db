//go:build unix

package callhistory

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// procStart is the start time of process pid (field 22 of /proc/PID/stat,
// clock ticks since boot), which tells a process from a later one given
// the same pid; "" where there is no /proc (not Linux) or pid is gone.
func procStart(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	// The command name (field 2) is in parentheses and may hold spaces and
	// parentheses itself: the fields after it follow the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return ""
	}
	f := strings.Fields(s[i+1:])
	const startField = 22 - 3 // f[0] is field 3 (state)
	if len(f) <= startField {
		return ""
	}
	return f[startField]
}

// alive reports whether the process that wrote a row still runs: pid
// exists (kill(pid, 0) does not say ESRCH) and, when the row has a start
// time and this system has /proc, started then.
func alive(o owner) bool {
	if o.pid <= 0 {
		return true // unknown: never treated as gone
	}
	if err := syscall.Kill(o.pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	if o.start == "" {
		return true
	}
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		return true // no /proc to compare with: pid only
	}
	return procStart(o.pid) == o.start
}
