package callhistory

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Call is one row of the history.
type Call struct {
	ID          string    `json:"call_id"`
	Direction   string    `json:"direction"` // "incoming" or "outgoing"
	RemoteURI   string    `json:"remote"`
	DisplayName string    `json:"display_name,omitempty"`
	Account     string    `json:"account,omitempty"`
	State       string    `json:"state"` // the call's latest state ("connected", "terminated" …)
	StartedAt   time.Time `json:"started_at"`
	AnsweredAt  time.Time `json:"answered_at,omitzero"` // zero: never answered
	EndedAt     time.Time `json:"ended_at,omitzero"`    // zero: in progress (or teaphone died)
	EndReason   string    `json:"reason,omitempty"`
	EndCode     int       `json:"code,omitempty"` // SIP status code, 0 if none
	Codec       string    `json:"codec,omitempty"`
	MOS         float64   `json:"mos,omitempty"` // last media figures' estimate, 0 if none
	// Missed: an incoming call that ended unanswered, not declined by us
	// (rejected or forwarded).
	Missed bool `json:"missed"`
}

// Duration is how long the call was connected (0 if never, or if it has
// not ended).
func (c Call) Duration() time.Duration {
	if c.AnsweredAt.IsZero() || c.EndedAt.IsZero() || c.EndedAt.Before(c.AnsweredAt) {
		return 0
	}
	return c.EndedAt.Sub(c.AnsweredAt)
}

// Put inserts the call, or replaces the row with its ID: a row always holds
// the latest snapshot of its call, with this process as its owner and now
// as its last update (see CloseOrphans). It commits before it returns.
func (d *DB) Put(ctx context.Context, c Call) error {
	_, err := d.db.ExecContext(ctx, `INSERT INTO calls
		(call_id, direction, remote_uri, display_name, account, state, started_at, answered_at, ended_at,
		 end_reason, end_code, codec, mos, missed, pid, pid_start, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (call_id) DO UPDATE SET
		direction = excluded.direction, remote_uri = excluded.remote_uri, display_name = excluded.display_name,
		account = excluded.account, state = excluded.state, started_at = excluded.started_at,
		answered_at = excluded.answered_at, ended_at = excluded.ended_at, end_reason = excluded.end_reason,
		end_code = excluded.end_code, codec = excluded.codec, mos = excluded.mos, missed = excluded.missed,
		pid = excluded.pid, pid_start = excluded.pid_start, updated_at = excluded.updated_at`,
		c.ID, c.Direction, c.RemoteURI, c.DisplayName, c.Account, c.State, millis(c.StartedAt),
		nullMillis(c.AnsweredAt), nullMillis(c.EndedAt), c.EndReason, c.EndCode, c.Codec, nullFloat(c.MOS), c.Missed,
		d.owner.pid, d.owner.start, millis(time.Now()))
	if err != nil {
		return fmt.Errorf("call history: put %s: %w", c.ID, err)
	}
	return nil
}

// Filter selects calls for Query.
type Filter struct {
	MissedOnly bool      // only missed calls
	Since      time.Time // only calls started at or after Since (zero: all)
	EndedAfter time.Time // only calls that ended after EndedAfter (zero: all)
	Limit      int       // at most this many, the newest (≤ 0: all)
}

// Query returns the calls f selects, newest first.
func (d *DB) Query(ctx context.Context, f Filter) ([]Call, error) {
	var where []string
	var args []any
	if f.MissedOnly {
		where = append(where, "missed = 1")
	}
	if !f.Since.IsZero() {
		where = append(where, "started_at >= ?")
		args = append(args, millis(f.Since))
	}
	if !f.EndedAfter.IsZero() {
		where = append(where, "ended_at > ?")
		args = append(args, millis(f.EndedAfter))
	}
	q := `SELECT call_id, direction, remote_uri, display_name, account, state, started_at, answered_at,
		ended_at, end_reason, end_code, codec, mos, missed FROM calls`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY started_at DESC, rowid DESC"
	if f.Limit > 0 {
		q += " LIMIT ?"
		args = append(args, f.Limit)
	}
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("call history: %w", err)
	}
	defer rows.Close()
	var out []Call
	for rows.Next() {
		var c Call
		var started int64
		var answered, ended sql.NullInt64
		var mos sql.NullFloat64
		if err := rows.Scan(&c.ID, &c.Direction, &c.RemoteURI, &c.DisplayName, &c.Account, &c.State, &started,
			&answered, &ended, &c.EndReason, &c.EndCode, &c.Codec, &mos, &c.Missed); err != nil {
			return nil, fmt.Errorf("call history: %w", err)
		}
		c.StartedAt = fromMillis(started)
		if answered.Valid {
			c.AnsweredAt = fromMillis(answered.Int64)
		}
		if ended.Valid {
			c.EndedAt = fromMillis(ended.Int64)
		}
		c.MOS = mos.Float64
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("call history: %w", err)
	}
	return out, nil
}

// Recent returns the newest n calls, newest first.
func (d *DB) Recent(ctx context.Context, n int) ([]Call, error) {
	return d.Query(ctx, Filter{Limit: n})
}

// MissedSince returns the missed calls started at or after t, newest first.
func (d *DB) MissedSince(ctx context.Context, t time.Time) ([]Call, error) {
	return d.Query(ctx, Filter{MissedOnly: true, Since: t})
}

func millis(t time.Time) int64 { return t.UnixMilli() }

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

func nullMillis(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

func nullFloat(f float64) sql.NullFloat64 {
	if f == 0 {
		return sql.NullFloat64{}
	}
	return sql.NullFloat64{Float64: f, Valid: true}
}
