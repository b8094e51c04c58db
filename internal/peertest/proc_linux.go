package peertest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// setProcAttr puts the peer into its own process group (so that a kill
// reaches the children it forks) and asks the kernel to SIGKILL it should the
// test binary die without running its cleanups (e.g. on a go test timeout).
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

func terminate(cmd *exec.Cmd) { _ = cmd.Process.Signal(syscall.SIGTERM) }

// killMembers SIGKILLs the members of the process group led by the peer we
// started, except the leader itself: the leader, still alive, then reaps
// them (killing the whole group at once would orphan them to PID 1, which in
// a container may never reap them). It reports whether it found any.
func killMembers(cmd *exec.Cmd) bool {
	if cmd.Process == nil || cmd.Process.Pid <= 0 {
		return false
	}
	leader := cmd.Process.Pid
	found := false
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, st := range stats {
		b, err := os.ReadFile(st)
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:]) // state ppid pgrp ...
		if len(f) < 3 {
			continue
		}
		pid, _ := strconv.Atoi(strings.Fields(s)[0])
		pgrp, _ := strconv.Atoi(f[2])
		if pgrp == leader && pid != leader && f[0] != "Z" {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			found = true
		}
	}
	return found
}

// killGroup SIGKILLs the whole process group led by the peer we started.
func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil && cmd.Process.Pid > 0 {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
