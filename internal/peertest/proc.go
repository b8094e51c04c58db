package peertest

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// debugf prints to stderr when PEERTEST_DEBUG is set.
func debugf(format string, args ...any) {
	if os.Getenv("PEERTEST_DEBUG") != "" {
		fmt.Fprintf(os.Stderr, "peertest: "+format+"\n", args...)
	}
}

// startedPIDs lists every peer process started (each one leads its own
// process group on Linux); the package's tests check that none is left.
var (
	startedMu   sync.Mutex
	startedPIDs []int
)

// proc is one peer process. Its stdout and stderr go to logPath; a goroutine
// waits for it and closes done when it has exited.
type proc struct {
	cmd      *exec.Cmd
	logPath  string
	done     chan struct{}
	waitErr  error // valid after done is closed
	stopOnce sync.Once
}

// startProc starts argv in dir with output to logPath (truncated). env nil
// means the test's environment. stdin, if not nil, is the process's stdin
// (nil means /dev/null).
func startProc(dir, logPath string, env []string, stdin io.Reader, argv ...string) (*proc, error) {
	return startCmd(exec.Command(argv[0], argv[1:]...), dir, logPath, env, stdin)
}

// startCmd is startProc for a command already built (e.g. by Netns.Command).
func startCmd(cmd *exec.Cmd, dir, logPath string, env []string, stdin io.Reader) (*proc, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	defer f.Close() // the child has its own descriptor
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdin = stdin
	cmd.Stdout = f
	cmd.Stderr = f
	setProcAttr(cmd)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, logPath: logPath, done: make(chan struct{})}
	startedMu.Lock()
	startedPIDs = append(startedPIDs, cmd.Process.Pid)
	startedMu.Unlock()
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the process has exited.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM, repeats it after repeat if that is shorter than grace
// (a second SIGTERM makes baresip exit at once instead of waiting for its
// un-REGISTERs). When grace has passed it SIGKILLs the process's children
// (the process, still alive, reaps them and usually exits), then after up to
// 1 s the whole process group. It always waits for the process and is
// idempotent and safe for concurrent use.
func (p *proc) stop(repeat, grace time.Duration) {
	p.stopOnce.Do(func() {
		if !p.exited() {
			terminate(p.cmd)
			var again <-chan time.Time
			if repeat < grace {
				t := time.NewTimer(repeat)
				defer t.Stop()
				again = t.C
			}
			kill := time.NewTimer(grace)
			defer kill.Stop()
		wait:
			for {
				select {
				case <-p.done:
					break wait
				case <-again:
					debugf("%s: SIGTERM again", p.logPath)
					terminate(p.cmd)
				case <-kill.C:
					debugf("%s: SIGKILL", p.logPath)
					if killMembers(p.cmd) {
						reaped := time.NewTimer(time.Second)
						select {
						case <-p.done:
						case <-reaped.C:
						}
						reaped.Stop()
					}
					killGroup(p.cmd)
					<-p.done
					break wait
				}
			}
		}
		// Children a peer forked (Kamailio's workers) that outlived it.
		killGroup(p.cmd)
	})
}

// log returns the whole output so far.
func (p *proc) log() string {
	b, _ := os.ReadFile(p.logPath)
	return string(b)
}

// logContains reports whether the output so far contains s.
func (p *proc) logContains(s string) bool { return strings.Contains(p.log(), s) }

// exitStatus describes how the process ended (only after done).
func (p *proc) exitStatus() string {
	if p.waitErr == nil {
		return "exit status 0"
	}
	return p.waitErr.Error()
}
