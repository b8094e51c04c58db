package callhistory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// markMissedSeen names the mark of when the person last saw the missed
// calls (opened the TUI's history view).
const markMissedSeen = "missed_seen"

// SeenUntil returns when the person last saw the missed calls (the
// MarkSeen time); zero if never.
func (d *DB) SeenUntil(ctx context.Context) (time.Time, error) {
	var at int64
	err := d.db.QueryRowContext(ctx, `SELECT at FROM marks WHERE name = ?`, markMissedSeen).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("call history: seen until: %w", err)
	}
	return fromMillis(at), nil
}

// MarkSeen records that the person saw every missed call that ended up to
// t. The mark never moves back (a clock stepped back, two phones on one
// database).
func (d *DB) MarkSeen(ctx context.Context, t time.Time) error {
	_, err := d.db.ExecContext(ctx, `INSERT INTO marks (name, at) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET at = max(at, excluded.at)`, markMissedSeen, millis(t))
	if err != nil {
		return fmt.Errorf("call history: mark seen: %w", err)
	}
	return nil
}

// UnseenMissed returns the missed calls that ended after the SeenUntil
// mark (every missed call when there is none), newest first.
func (d *DB) UnseenMissed(ctx context.Context) ([]Call, error) {
	seen, err := d.SeenUntil(ctx)
	if err != nil {
		return nil, err
	}
	if seen.IsZero() {
		seen = time.UnixMilli(0) // ended_at > 0: every ended call
	}
	return d.Query(ctx, Filter{MissedOnly: true, EndedAfter: seen})
}
