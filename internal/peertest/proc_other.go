//go:build !linux

package peertest

import (
	"os"
	"os/exec"
)

// The peers are Debian packages; elsewhere only the bare minimum is done.

func setProcAttr(cmd *exec.Cmd) {}

func terminate(cmd *exec.Cmd) { _ = cmd.Process.Signal(os.Interrupt) }

func killMembers(cmd *exec.Cmd) bool { return false }

func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = cmd.Process.Kill()
	}
}
