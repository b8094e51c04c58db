//go:build linux || darwin || freebsd

package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// redirectStderr points file descriptor 2 at f while the full-screen phone
// runs: C libraries (PortAudio's ALSA host API prints "Expression … failed"
// lines that cannot be hooked) must not write over the screen. The returned
// function restores the terminal's stderr.
func redirectStderr(f *os.File) (restore func(), err error) {
	saved, err := unix.Dup(2)
	if err != nil {
		return nil, err
	}
	if err := unix.Dup2(int(f.Fd()), 2); err != nil {
		unix.Close(saved)
		return nil, err
	}
	return func() {
		_ = unix.Dup2(saved, 2)
		unix.Close(saved)
	}, nil
}
