package ctl

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ErrNoSocket is returned by Find when no teaphone is running.
var ErrNoSocket = errors.New("no teaphone is running")

// Dir returns the directory the control sockets live in:
// $XDG_RUNTIME_DIR/teaphone, or, when XDG_RUNTIME_DIR is unset,
// teaphone-<uid> under os.TempDir().
func Dir() string {
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "teaphone")
	}
	return filepath.Join(os.TempDir(), "teaphone-"+strconv.Itoa(os.Getuid()))
}

// SocketPath is the socket of the teaphone process pid in Dir: each running
// teaphone has its own, teaphone-<pid>.sock.
func SocketPath(pid int) string {
	return filepath.Join(Dir(), "teaphone-"+strconv.Itoa(pid)+".sock")
}

// PrepareDir makes dir (mode 0700) if it is missing and checks it with
// CheckDir.
func PrepareDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("control socket directory: %w", err)
	}
	return CheckDir(dir)
}

// CheckDir refuses a directory others could plant or replace a socket in:
// one that is not a directory (a symbolic link included), is owned by
// another user, or is group- or world-writable.
func CheckDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("control socket directory: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("control socket directory %s: not a directory", dir)
	}
	if uid, ok := owner(fi); ok && uid != os.Getuid() {
		return fmt.Errorf("control socket directory %s: owned by uid %d, not by us (uid %d)", dir, uid, os.Getuid())
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		return fmt.Errorf("control socket directory %s: mode %#o is group or world writable (want 0700: chmod 700 %s)", dir, perm, dir)
	}
	return nil
}

// Find returns the socket of the one teaphone running for this user in
// dir. Sockets nobody listens on (left by a crash) are skipped. With
// several running it fails and names them.
func Find(dir string) (string, error) {
	if err := CheckDir(dir); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("%w (no %s)", ErrNoSocket, dir)
		}
		return "", err
	}
	paths, err := filepath.Glob(filepath.Join(dir, "teaphone-*.sock"))
	if err != nil {
		return "", err
	}
	slices.Sort(paths)
	var live []string
	for _, p := range paths {
		if c, err := net.DialTimeout("unix", p, time.Second); err == nil {
			_ = c.Close()
			live = append(live, p)
		}
	}
	switch len(live) {
	case 0:
		return "", fmt.Errorf("%w (no socket in %s)", ErrNoSocket, dir)
	case 1:
		return live[0], nil
	}
	return "", fmt.Errorf("%d teaphones are running; pick one with --socket: %s", len(live), strings.Join(live, ", "))
}
