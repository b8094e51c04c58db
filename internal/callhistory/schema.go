package callhistory

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations[i] brings the schema from version i to version i+1. Append
// only: a released migration never changes.
var migrations = []string{
	// 1: the calls.
	`CREATE TABLE calls (
		call_id      TEXT PRIMARY KEY,
		direction    TEXT NOT NULL,
		remote_uri   TEXT NOT NULL,
		display_name TEXT NOT NULL DEFAULT '',
		account      TEXT NOT NULL DEFAULT '',
		state        TEXT NOT NULL DEFAULT '',
		started_at   INTEGER NOT NULL,
		answered_at  INTEGER,
		ended_at     INTEGER,
		end_reason   TEXT NOT NULL DEFAULT '',
		end_code     INTEGER NOT NULL DEFAULT 0
	)`,
	// 2: media figures, the missed flag, an index for the newest first.
	`ALTER TABLE calls ADD COLUMN codec TEXT NOT NULL DEFAULT '';
	ALTER TABLE calls ADD COLUMN mos REAL;
	ALTER TABLE calls ADD COLUMN missed INTEGER NOT NULL DEFAULT 0;
	CREATE INDEX calls_started_at ON calls(started_at);`,
	// 3: named points in time ("missed_seen": when the person last opened
	// the TUI's history view, for the missed-calls badge).
	`CREATE TABLE marks (
		name TEXT PRIMARY KEY,
		at   INTEGER NOT NULL
	)`,
	// 4: who records each call (pid and, on Linux, the process start time
	// from /proc/PID/stat, against pid reuse) and when its row was last
	// written, to close the calls of a teaphone that died; an index for
	// trimming by end time.
	`ALTER TABLE calls ADD COLUMN pid INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE calls ADD COLUMN pid_start TEXT NOT NULL DEFAULT '';
	ALTER TABLE calls ADD COLUMN updated_at INTEGER;
	CREATE INDEX calls_ended_at ON calls(ended_at);`,
}

// SchemaVersion is the schema version this package writes.
func SchemaVersion() int { return len(migrations) }

// version returns the schema version of db (0: an empty database).
func version(ctx context.Context, db *sql.DB) (int, error) {
	var n int
	err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'`).Scan(&n)
	if err != nil || n == 0 {
		return 0, err
	}
	var v int
	err = db.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&v)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	return v, err
}

// migrate brings db to the latest schema, one transaction per step. A newer
// schema than this build knows is an error.
func migrate(ctx context.Context, db *sql.DB) error {
	return migrateTo(ctx, db, len(migrations))
}

func migrateTo(ctx context.Context, db *sql.DB, want int) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
		return err
	}
	v, err := version(ctx, db)
	if err != nil {
		return err
	}
	if v > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this teaphone's (%d)", v, len(migrations))
	}
	for ; v < want; v++ {
		if err := step(ctx, db, v); err != nil {
			return fmt.Errorf("migrate to version %d: %w", v+1, err)
		}
	}
	return nil
}

func step(ctx context.Context, db *sql.DB, from int) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, migrations[from]); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM schema_version`); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (?)`, from+1); err != nil {
		return err
	}
	return tx.Commit()
}
