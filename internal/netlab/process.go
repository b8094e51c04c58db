//go:build linux

package netlab

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// stopGrace is how long a process gets to exit after SIGTERM before its
// process group is killed.
const stopGrace = 3 * time.Second

// Process is a program the lab started inside one of its namespaces (with
// Lab.Start or Lab.StartDNS). Its output goes to a log file in the lab's
// directory; the lab stops it at teardown at the latest.
type Process struct {
	cmd     *exec.Cmd
	name    string // the program, for messages
	logPath string
	done    chan struct{}
	waitErr error // valid once done is closed

	stopOnce sync.Once
	stopErr  error
}

// startProcess starts cmd (from Lab.Command; name is the program in it) with
// stdout and stderr to logPath, and a goroutine that waits for it.
func startProcess(cmd *exec.Cmd, name, logPath string) (*Process, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("netlab: process log: %w", err)
	}
	defer f.Close() // the child has its own descriptor
	cmd.Stdout = f
	cmd.Stderr = f
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("netlab: start %s: %w", strings.Join(cmd.Args, " "), err)
	}
	p := &Process{cmd: cmd, name: name, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// PID returns the process ID. "ip netns exec" execs the program, so this is
// the program's own PID.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Log returns the process's output so far.
func (p *Process) Log() string {
	b, _ := os.ReadFile(p.logPath)
	return string(b)
}

// ExitStatus describes how the process ended, or says that it still runs.
func (p *Process) ExitStatus() string {
	if !p.Exited() {
		return "running"
	}
	if p.waitErr == nil {
		return "exit status 0"
	}
	return p.waitErr.Error()
}

// Stop sends SIGTERM and waits for the process to exit; after 3 s it kills
// the process's whole process group and waits up to 3 s more. It returns nil
// once the process has exited, is idempotent (later calls return the first
// call's result) and safe for concurrent use.
func (p *Process) Stop() error {
	p.stopOnce.Do(func() {
		if !p.Exited() {
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
			t := time.NewTimer(stopGrace)
			defer t.Stop()
			select {
			case <-p.done:
			case <-t.C:
				_ = syscall.Kill(-p.PID(), syscall.SIGKILL)
				t.Reset(stopGrace)
				select {
				case <-p.done:
				case <-t.C:
					p.stopErr = fmt.Errorf("netlab: process %d (%s) still there %v after SIGKILL", p.PID(), p.name, stopGrace)
					return
				}
			}
		}
		// Anything the process forked that outlived it.
		_ = syscall.Kill(-p.PID(), syscall.SIGKILL)
	})
	return p.stopErr
}
