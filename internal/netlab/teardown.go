//go:build linux

package netlab

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Directories "ip netns" uses: one file per named namespace, and the
// per-namespace files it bind-mounts over /etc for "ip netns exec".
const (
	netnsRunDir = "/run/netns"
	netnsEtcDir = "/etc/netns"
)

// logTailBytes is how much of a process's log a failed test prints.
const logTailBytes = 8 << 10

// teardown stops the lab's processes, kills any other process still in a lab
// namespace, deletes the namespaces, the /etc/netns directories and the log
// directory. With failed it logs the end of every process's output first.
// It returns what went wrong; a process found left behind is one of those.
func (l *Lab) teardown(failed bool, logf func(string, ...any)) []error {
	l.mu.Lock()
	procs := append([]*Process(nil), l.procs...)
	namespaces := append([]Namespace(nil), l.namespaces...)
	etcDirs := append([]string(nil), l.etcDirs...)
	etcNetns := l.etcNetns
	l.mu.Unlock()

	var errs []error
	for i := len(procs) - 1; i >= 0; i-- {
		if err := procs[i].Stop(); err != nil {
			errs = append(errs, err)
		}
	}
	if failed {
		for _, p := range procs {
			logf("netlab: %s (%s), log %s:\n%s", p.name, p.ExitStatus(), filepath.Base(p.logPath), logTail(p.logPath, logTailBytes))
		}
	}
	for i := len(namespaces) - 1; i >= 0; i-- {
		name := namespaces[i].Name
		if _, err := os.Stat(filepath.Join(netnsRunDir, name)); errors.Is(err, os.ErrNotExist) {
			continue // its creation failed
		}
		if pids := killIn(name); len(pids) > 0 {
			errs = append(errs, fmt.Errorf("netlab: process(es) %v left running in %s: killed", pids, name))
		}
		if err := run("", "ip", "netns", "del", name); err != nil {
			errs = append(errs, err)
		}
	}
	for _, d := range etcDirs {
		if err := os.RemoveAll(d); err != nil {
			errs = append(errs, fmt.Errorf("netlab: %w", err))
		}
	}
	if etcNetns {
		_ = os.Remove(netnsEtcDir) // only if empty: someone else may use it by now
	}
	if l.dir != "" {
		if err := os.RemoveAll(l.dir); err != nil {
			errs = append(errs, fmt.Errorf("netlab: %w", err))
		}
	}
	return errs
}

// cleanStale deletes what an earlier, killed run left: every namespace named
// with Prefix (after killing the processes inside it) and every /etc/netns
// directory named with it. It must run under the lab lock: then no other
// lab exists.
func cleanStale(logf func(string, ...any)) error {
	var errs []error
	entries, _ := os.ReadDir(netnsRunDir) // no directory: nothing left
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, Prefix) {
			continue
		}
		pids := killIn(name)
		logf("netlab: deleting namespace %s left by an earlier run (processes killed: %v)", name, pids)
		if err := run("", "ip", "netns", "del", name); err != nil {
			errs = append(errs, err)
		}
	}
	dirs, _ := filepath.Glob(filepath.Join(netnsEtcDir, Prefix+"*"))
	for _, d := range dirs {
		logf("netlab: removing %s left by an earlier run", d)
		if err := os.RemoveAll(d); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("netlab: cleaning up after an earlier run: %w", err)
	}
	return nil
}

// pidsIn returns the processes (other than this one) whose network namespace
// is the named namespace, like "ip netns pids".
func pidsIn(name string) []int {
	var want syscall.Stat_t
	if err := syscall.Stat(filepath.Join(netnsRunDir, name), &want); err != nil {
		return nil
	}
	var pids []int
	links, _ := filepath.Glob("/proc/[0-9]*/ns/net")
	for _, link := range links {
		var st syscall.Stat_t
		if syscall.Stat(link, &st) != nil || st.Dev != want.Dev || st.Ino != want.Ino {
			continue
		}
		pid, err := strconv.Atoi(strings.Split(link, "/")[2])
		if err == nil && pid != os.Getpid() {
			pids = append(pids, pid)
		}
	}
	return pids
}

// killIn SIGKILLs every process inside the named namespace and waits (up to
// 3 s) until none is left there (a killed child of this process may remain a
// zombie, which has left its namespace). It returns the PIDs it killed.
func killIn(name string) []int {
	pids := pidsIn(name)
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	deadline := time.Now().Add(stopGrace)
	for len(pidsIn(name)) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	return pids
}

// logTail returns at most max bytes from the end of the file at path, cut at
// a line start.
func logTail(path string, max int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	if len(b) <= max {
		return string(b)
	}
	b = b[len(b)-max:]
	if i := strings.IndexByte(string(b), '\n'); i >= 0 {
		b = b[i+1:]
	}
	return "[…]\n" + string(b)
}
