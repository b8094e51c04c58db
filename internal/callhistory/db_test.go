package callhistory

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func openTest(t *testing.T) *DB {
	t.Helper()
	db, err := Open(filepath.Join(t.TempDir(), "sub", "history.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func schemaVersion(t *testing.T, db *sql.DB) int {
	t.Helper()
	v, err := version(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestMigrateFromEmpty: a new file gets the latest schema, in WAL mode,
// private to the user.
func TestMigrateFromEmpty(t *testing.T) {
	d := openTest(t)
	if v := schemaVersion(t, d.db); v != SchemaVersion() {
		t.Errorf("schema version %d, want %d", v, SchemaVersion())
	}
	var mode string
	if err := d.db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode %q (%v), want wal", mode, err)
	}
	fi, err := os.Stat(d.Path())
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	// Opening again changes nothing.
	d2, err := Open(d.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	if v := schemaVersion(t, d2.db); v != SchemaVersion() {
		t.Errorf("reopened: schema version %d", v)
	}
}

// TestMigrateEmptyFile: a zero-byte file (touched, or left by a crash
// before the first write) becomes a history.
func TestMigrateEmptyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	d, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if v := schemaVersion(t, d.db); v != SchemaVersion() {
		t.Errorf("schema version %d, want %d", v, SchemaVersion())
	}
}

// TestMigrateFromVersion1: a database written by version 1 keeps its calls
// and gains the new columns with their defaults.
func TestMigrateFromVersion1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := migrateTo(ctx, raw, 1); err != nil {
		t.Fatal(err)
	}
	if v := schemaVersion(t, raw); v != 1 {
		t.Fatalf("version %d, want 1", v)
	}
	started := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	if _, err := raw.Exec(`INSERT INTO calls (call_id, direction, remote_uri, state, started_at, ended_at, end_reason, end_code)
		VALUES ('c1', 'incoming', 'sip:bob@example.com', 'cancelled', ?, ?, 'Request Terminated', 487)`,
		started.UnixMilli(), started.Add(5*time.Second).UnixMilli()); err != nil {
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
	calls, err := d.Recent(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := Call{ID: "c1", Direction: "incoming", RemoteURI: "sip:bob@example.com", State: "cancelled",
		StartedAt: started, EndedAt: started.Add(5 * time.Second), EndReason: "Request Terminated", EndCode: 487}
	if len(calls) != 1 || calls[0] != want {
		t.Errorf("after migration:\n got %+v\nwant %+v", calls, want)
	}
}

// TestNewerSchemaRefused: a database from a later teaphone is not touched.
func TestNewerSchemaRefused(t *testing.T) {
	d := openTest(t)
	if _, err := d.db.Exec(`UPDATE schema_version SET version = 99`); err != nil {
		t.Fatal(err)
	}
	d.Close()
	if _, err := Open(d.Path()); err == nil {
		t.Fatal("a newer schema was accepted")
	}
}

// TestCorruptFile: a file of garbage is an error, not a crash, and is left
// as it was.
func TestCorruptFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	garbage := []byte("this is not a database, just some garbage bytes \x00\x01\x02 repeated ")
	for len(garbage) < 8192 {
		garbage = append(garbage, garbage...)
	}
	if err := os.WriteFile(path, garbage, 0o600); err != nil {
		t.Fatal(err)
	}
	d, err := Open(path)
	if err == nil {
		d.Close()
		t.Fatal("a file of garbage opened as a history")
	}
	t.Logf("error: %v", err)
	if b, _ := os.ReadFile(path); string(b) != string(garbage) {
		t.Error("the garbage file was changed")
	}
}

// TestLockedFile: a database held with an exclusive lock by another
// connection is an error after the busy timeout, not a hang.
func TestLockedFile(t *testing.T) {
	d := openTest(t)
	path := d.Path()
	d.Close()

	other, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	other.SetMaxOpenConns(1)
	for _, q := range []string{`PRAGMA locking_mode = EXCLUSIVE`, `BEGIN EXCLUSIVE`,
		`INSERT INTO calls (call_id, direction, remote_uri, started_at) VALUES ('x', 'incoming', 'sip:x@y', 0)`} {
		if _, err := other.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	start := time.Now()
	d2, err := Open(path, WithBusyTimeout(200*time.Millisecond))
	if err == nil {
		// Opening may succeed on a WAL file; writing must not hang.
		defer d2.Close()
		err = d2.Put(context.Background(), Call{ID: "y", Direction: "incoming", RemoteURI: "sip:y@z", StartedAt: time.Now()})
	}
	if err == nil {
		t.Fatal("wrote to a database another connection holds exclusively")
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("took %v to give up", el)
	}
	t.Logf("error: %v", err)
	if _, err := other.Exec(`ROLLBACK`); err != nil {
		t.Fatal(err)
	}
}

// TestQuery: newest first, the missed filter, since and limit.
func TestQuery(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	for i, c := range []Call{
		{ID: "a", Direction: "outgoing", RemoteURI: "sip:a@x", State: "terminated", StartedAt: t0,
			AnsweredAt: t0.Add(2 * time.Second), EndedAt: t0.Add(62 * time.Second), Codec: "PCMU", MOS: 4.4},
		{ID: "b", Direction: "incoming", RemoteURI: "sip:b@x", State: "cancelled", StartedAt: t0.Add(time.Hour), Missed: true},
		{ID: "c", Direction: "incoming", RemoteURI: "sip:c@x", State: "cancelled", StartedAt: t0.Add(2 * time.Hour), Missed: true},
	} {
		if err := d.Put(ctx, c); err != nil {
			t.Fatal(i, err)
		}
	}
	ids := func(cs []Call, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		s := ""
		for _, c := range cs {
			s += c.ID
		}
		return s
	}
	if got := ids(d.Recent(ctx, 10)); got != "cba" {
		t.Errorf("recent: %q", got)
	}
	if got := ids(d.Recent(ctx, 2)); got != "cb" {
		t.Errorf("recent 2: %q", got)
	}
	if got := ids(d.MissedSince(ctx, t0.Add(90*time.Minute))); got != "c" {
		t.Errorf("missed since: %q", got)
	}
	if got := ids(d.Query(ctx, Filter{MissedOnly: true})); got != "cb" {
		t.Errorf("missed: %q", got)
	}
	all, _ := d.Recent(ctx, 0)
	if a := all[2]; a.Duration() != time.Minute || a.MOS != 4.4 || a.Codec != "PCMU" {
		t.Errorf("call a read back as %+v", a)
	}
}
