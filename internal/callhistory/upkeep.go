package callhistory

import (
	"context"
	"fmt"
	"os"
	"time"
)

// StoppedReason is the end reason of a call left in progress by a teaphone
// that died (killed, crashed, power cut): closed by the next one to start.
const StoppedReason = "teaphone stopped"

// owner is the process that records a row: its pid and start time
// (procStart; "" where unknown).
type owner struct {
	pid   int
	start string
}

// self is this process as the owner of the rows it writes.
func self() owner {
	pid := os.Getpid()
	return owner{pid: pid, start: procStart(pid)}
}

// CloseOrphans ends the calls left "in progress" (no end time) by a
// teaphone that is no longer running: their ended_at becomes the row's last
// update (else its start), the state "terminated" and the end reason
// StoppedReason. Such a call is missed only if it was an incoming call
// still ringing, never answered (nobody answered it). Rows of a live
// process — another teaphone sharing the file — are left alone, and so are
// rows without a pid (written before schema version 4): there is no
// knowing whether their process runs. It returns how many calls it closed.
func (d *DB) CloseOrphans(ctx context.Context) (int, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT call_id, pid, pid_start FROM calls WHERE ended_at IS NULL AND pid > 0`)
	if err != nil {
		return 0, fmt.Errorf("call history: find calls left in progress: %w", err)
	}
	type orphan struct {
		id string
		o  owner
	}
	var found []orphan
	for rows.Next() {
		var f orphan
		if err := rows.Scan(&f.id, &f.o.pid, &f.o.start); err != nil {
			rows.Close()
			return 0, fmt.Errorf("call history: find calls left in progress: %w", err)
		}
		found = append(found, f)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("call history: find calls left in progress: %w", err)
	}
	n := 0
	for _, f := range found {
		if alive(f.o) {
			continue
		}
		res, err := d.db.ExecContext(ctx, `UPDATE calls SET
			ended_at = MAX(COALESCE(updated_at, started_at), started_at, COALESCE(answered_at, started_at)),
			missed = (direction = 'incoming' AND state = 'ringing' AND answered_at IS NULL),
			state = 'terminated', end_reason = ?, end_code = 0
			WHERE call_id = ? AND ended_at IS NULL AND pid = ? AND pid_start = ?`,
			StoppedReason, f.id, f.o.pid, f.o.start)
		if err != nil {
			return n, fmt.Errorf("call history: close call %s left in progress: %w", f.id, err)
		}
		if k, _ := res.RowsAffected(); k > 0 {
			n++
		}
	}
	return n, nil
}

// Trim deletes the calls that ended before t and returns how many.
func (d *DB) Trim(ctx context.Context, t time.Time) (int64, error) {
	res, err := d.db.ExecContext(ctx, `DELETE FROM calls WHERE ended_at IS NOT NULL AND ended_at < ?`, millis(t))
	if err != nil {
		return 0, fmt.Errorf("call history: delete calls ended before %s: %w", t.Format(time.DateOnly), err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
