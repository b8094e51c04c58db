//go:build unix

package ctl

import (
	"io/fs"
	"syscall"
)

// owner returns the uid owning the file of fi.
func owner(fi fs.FileInfo) (int, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}
