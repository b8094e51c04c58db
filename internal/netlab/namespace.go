//go:build linux

package netlab

import (
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"runtime"

	"golang.org/x/sys/unix"
)

// Namespace is one network namespace of a lab.
type Namespace struct {
	// Name is the namespace's name for "ip netns" (a file under /run/netns).
	Name string
	// Addr is the namespace's address in the lab: the phone's on the LAN,
	// the router's public (WAN) address, the internet bridge's, or a
	// host's on the internet bridge.
	Addr netip.Addr
}

// errGoexit is what Do returns when f ended its goroutine with
// runtime.Goexit, which is what t.FailNow (t.Fatal) does.
var errGoexit = errors.New("netlab: the function ended its goroutine (runtime.Goexit: t.Fatal or t.FailNow?)")

// doIn runs f on a goroutine of its own whose OS thread is moved into the
// network namespace named name, and waits for it. A panic in f is repeated
// in the caller. The thread is moved back afterwards; should that fail, it
// stays locked to the goroutine and so is discarded when the goroutine ends,
// and never runs other goroutines in the wrong namespace.
func doIn(name string, f func() error) error {
	type result struct {
		err      error
		panicked bool
		value    any
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		r := result{err: errGoexit}
		defer func() { done <- r }()

		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			r.err = fmt.Errorf("netlab: open own network namespace: %w", err)
			runtime.UnlockOSThread()
			return
		}
		defer unix.Close(orig)
		path := filepath.Join("/run/netns", name)
		target, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			r.err = fmt.Errorf("netlab: open namespace %s: %w", path, err)
			runtime.UnlockOSThread()
			return
		}
		defer unix.Close(target)
		if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
			r.err = fmt.Errorf("netlab: enter namespace %s: %w", name, err)
			runtime.UnlockOSThread()
			return
		}
		defer func() {
			if err := unix.Setns(orig, unix.CLONE_NEWNET); err != nil {
				// Leave the thread locked: it dies with this goroutine.
				r.err = errors.Join(r.err, fmt.Errorf("netlab: leave namespace %s: %w", name, err))
				return
			}
			runtime.UnlockOSThread()
		}()
		defer func() {
			if v := recover(); v != nil {
				r.panicked, r.value = true, v
			}
		}()
		r.err = f()
	}()
	r := <-done
	if r.panicked {
		panic(r.value)
	}
	return r.err
}
