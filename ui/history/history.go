// Package history keeps the dial line's history across runs: every target
// the user dials, one per line, in a file under the user cache directory
// (the TUI loads it into ui.Options.History and adds to it with
// ui.Options.OnDial).
package history

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// Max is how many entries Load returns at most (the newest).
const Max = 200

// File is a dial history file. Its methods are safe for concurrent use.
type File struct {
	path string // "": nothing is kept
	log  *slog.Logger
	mu   sync.Mutex
}

// DefaultPath is where the history is kept: teaphone/history in the user
// cache directory (~/.cache/teaphone/history on Linux), or "" when there is
// no such directory.
func DefaultPath() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "teaphone", "history")
}

// Open returns the history kept at path ("" keeps nothing). Failures to
// write it are logged to log (nil: discarded), never returned: the history
// is a convenience, not worth interrupting a call for.
func Open(path string, log *slog.Logger) *File {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &File{path: path, log: log}
}

// Load returns the last Max entries, oldest first; none when the file does
// not exist or cannot be read.
func (f *File) Load() []string {
	if f.path == "" {
		return nil
	}
	f.mu.Lock()
	b, err := os.ReadFile(f.path)
	f.mu.Unlock()
	if err != nil || len(strings.TrimSpace(string(b))) == 0 {
		return nil
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > Max {
		lines = lines[len(lines)-Max:]
	}
	return lines
}

// Add appends a dialled target. Targets with a line break are not kept
// (they would read back as two entries). The file and its directory are
// made private to the user.
func (f *File) Add(typed string) {
	if f.path == "" || typed == "" || strings.ContainsAny(typed, "\r\n") {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.appendLocked(typed); err != nil {
		f.log.Warn("dial history", "err", err)
	}
}

func (f *File) appendLocked(typed string) error {
	if err := os.MkdirAll(filepath.Dir(f.path), 0o700); err != nil {
		return fmt.Errorf("dial history: %w", err)
	}
	w, err := os.OpenFile(f.path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("dial history: %w", err)
	}
	if _, err := w.WriteString(typed + "\n"); err != nil {
		w.Close()
		return fmt.Errorf("dial history %s: %w", f.path, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("dial history %s: %w", f.path, err)
	}
	return nil
}
