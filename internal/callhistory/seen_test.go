package callhistory

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func missedCall(id string, ended time.Time) Call {
	return Call{ID: id, Direction: "incoming", RemoteURI: "sip:" + id + "@example.com", State: "cancelled",
		StartedAt: ended.Add(-20 * time.Second), EndedAt: ended, Missed: true}
}

func ids(calls []Call) []string {
	var out []string
	for _, c := range calls {
		out = append(out, c.ID)
	}
	return out
}

// TestMigrateFromVersion2: a version 2 database keeps its calls, gains the
// marks table, and has seen nothing yet: its missed calls are all unseen.
func TestMigrateFromVersion2(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := migrateTo(ctx, raw, 2); err != nil {
		t.Fatal(err)
	}
	ended := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	if _, err := raw.Exec(`INSERT INTO calls (call_id, direction, remote_uri, state, started_at, ended_at, missed)
		VALUES ('m1', 'incoming', 'sip:bob@example.com', 'cancelled', ?, ?, 1)`,
		ended.Add(-time.Minute).UnixMilli(), ended.UnixMilli()); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	d, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if v := schemaVersion(t, d.db); v != SchemaVersion() {
		t.Errorf("version %d after migration, want %d", v, SchemaVersion())
	}
	if seen, err := d.SeenUntil(ctx); err != nil || !seen.IsZero() {
		t.Errorf("SeenUntil = %v, %v; want zero", seen, err)
	}
	unseen, err := d.UnseenMissed(ctx)
	if err != nil || !slices.Equal(ids(unseen), []string{"m1"}) {
		t.Errorf("UnseenMissed = %v, %v; want [m1]", ids(unseen), err)
	}
}

// TestUnseenMissedAcrossRestart: the missed calls that ended after the
// person last looked stay unseen when the database is closed and opened
// again; marking them seen clears them, and the mark never moves back.
func TestUnseenMissedAcrossRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "history.db")
	d, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	answered := Call{ID: "ok", Direction: "incoming", RemoteURI: "sip:ok@example.com", State: "terminated",
		StartedAt: t0, AnsweredAt: t0.Add(time.Second), EndedAt: t0.Add(time.Minute)}
	for _, c := range []Call{missedCall("old", t0), answered, missedCall("new1", t0.Add(2*time.Hour)), missedCall("new2", t0.Add(3*time.Hour))} {
		if err := d.Put(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.MarkSeen(ctx, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	d, err = Open(path) // the next run
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	unseen, err := d.UnseenMissed(ctx)
	if err != nil || !slices.Equal(ids(unseen), []string{"new2", "new1"}) {
		t.Errorf("UnseenMissed after restart = %v, %v; want [new2 new1]", ids(unseen), err)
	}
	if err := d.MarkSeen(ctx, t0.Add(4*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := d.MarkSeen(ctx, t0); err != nil { // back in time: ignored
		t.Fatal(err)
	}
	if seen, _ := d.SeenUntil(ctx); !seen.Equal(t0.Add(4 * time.Hour)) {
		t.Errorf("SeenUntil = %v, want %v", seen, t0.Add(4*time.Hour))
	}
	if unseen, err := d.UnseenMissed(ctx); err != nil || len(unseen) != 0 {
		t.Errorf("UnseenMissed after marking = %v, %v; want none", ids(unseen), err)
	}
}
