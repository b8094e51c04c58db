package callhistory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// DefaultBusyTimeout is how long a statement waits for another connection's
// lock before it fails with "database is locked".
const DefaultBusyTimeout = 2 * time.Second

// DB is an open call history database. Its methods are safe for concurrent
// use.
type DB struct {
	db    *sql.DB
	path  string
	owner owner // this process, written in each row (Put)
}

// DefaultPath is where the history is kept: teaphone/history.db under
// $XDG_DATA_HOME, else ~/.local/share/teaphone/history.db; "" when there
// is no home directory.
func DefaultPath() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "teaphone", "history.db")
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return ""
	}
	return filepath.Join(home, ".local", "share", "teaphone", "history.db")
}

// Option tunes Open.
type Option func(*options)

type options struct {
	busy time.Duration
}

// WithBusyTimeout sets how long statements wait for a lock held by another
// connection (default DefaultBusyTimeout).
func WithBusyTimeout(d time.Duration) Option { return func(o *options) { o.busy = d } }

// Open opens (creating it and its directory if needed) the history database
// at path, in WAL mode, and brings its schema up to date. A file that is not
// a database, or one locked by another connection for longer than the busy
// timeout, is an error: the caller goes on without history.
func Open(path string, opts ...Option) (*DB, error) {
	o := options{busy: DefaultBusyTimeout}
	for _, f := range opts {
		f(&o)
	}
	if path == "" {
		return nil, errors.New("call history: no path")
	}
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("call history %s: ? and # are not allowed in the path", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("call history: %w", err)
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", o.busy.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	// WAL with synchronous=NORMAL: a committed call survives the process
	// being killed (only a power cut may lose the last commits).
	q.Add("_pragma", "synchronous(NORMAL)")
	db, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("call history %s: %w", path, err)
	}
	// One connection: writes are serialised here, not by SQLite's locks.
	db.SetMaxOpenConns(1)
	d := &DB{db: db, path: path, owner: self()}
	ctx, cancel := context.WithTimeout(context.Background(), o.busy+5*time.Second)
	defer cancel()
	if !fileExists(path) {
		_ = os.WriteFile(path, nil, 0o600) // private from the start
	}
	if err := migrate(ctx, db); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("call history %s: %w", path, err)
	}
	return d, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// Path is the database's file.
func (d *DB) Path() string { return d.path }

// Close closes the database.
func (d *DB) Close() error { return d.db.Close() }
