package callhistory

import (
	"context"
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"
)

// TestMigrateFromVersion3: a database written by version 3 keeps its calls
// and its marks; the calls gain an owner of pid 0 (unknown), whose rows in
// progress CloseOrphans leaves alone.
func TestMigrateFromVersion3(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := migrateTo(ctx, raw, 3); err != nil {
		t.Fatal(err)
	}
	seen := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := raw.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`INSERT INTO calls (call_id, direction, remote_uri, state, started_at, ended_at, end_reason, end_code, missed)
		VALUES ('done', 'incoming', 'sip:bob@example.com', 'cancelled', ?, ?, 'Request Terminated', 487, 1)`,
		at(0).UnixMilli(), at(5).UnixMilli())
	exec(`INSERT INTO calls (call_id, direction, remote_uri, state, started_at)
		VALUES ('open', 'outgoing', 'sip:carol@example.com', 'connected', ?)`, at(1).UnixMilli())
	exec(`INSERT INTO marks (name, at) VALUES ('missed_seen', ?)`, seen.UnixMilli())
	raw.Close()

	d, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if v := schemaVersion(t, d.db); v != 4 || SchemaVersion() != 4 {
		t.Errorf("version %d after migration (SchemaVersion %d), want 4", v, SchemaVersion())
	}
	if got, err := d.SeenUntil(ctx); err != nil || !got.Equal(seen) {
		t.Errorf("SeenUntil = %v, %v; want %v (marks kept)", got, err, seen)
	}
	if n, err := d.CloseOrphans(ctx); err != nil || n != 0 {
		t.Errorf("CloseOrphans = %d, %v; want 0 (a row without a pid is left alone)", n, err)
	}
	calls, err := d.Recent(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []Call{
		{ID: "open", Direction: "outgoing", RemoteURI: "sip:carol@example.com", State: "connected", StartedAt: at(1)},
		{ID: "done", Direction: "incoming", RemoteURI: "sip:bob@example.com", State: "cancelled", StartedAt: at(0),
			EndedAt: at(5), EndReason: "Request Terminated", EndCode: 487, Missed: true},
	}
	if !slices.Equal(calls, want) {
		t.Errorf("after migration:\n got %+v\nwant %+v", calls, want)
	}
	var pid int
	if err := d.db.QueryRow(`SELECT pid FROM calls WHERE call_id = 'done'`).Scan(&pid); err != nil || pid != 0 {
		t.Errorf("pid of an old row = %d, %v; want 0", pid, err)
	}
}

// TestTrim: the calls that ended before the cut are deleted; later ones
// and calls in progress stay.
func TestTrim(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	put := func(id string, start int, end time.Time) {
		t.Helper()
		c := Call{ID: id, Direction: "outgoing", RemoteURI: "sip:" + id + "@example.com", State: "terminated",
			StartedAt: at(start), EndedAt: end}
		if end.IsZero() {
			c.State = "connected"
		}
		if err := d.Put(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	put("old", 0, at(10))
	put("edge", 20, at(100))
	put("new", 200, at(300))
	put("open", 1, time.Time{})
	n, err := d.Trim(ctx, at(100))
	if err != nil || n != 1 {
		t.Fatalf("Trim = %d, %v; want 1", n, err)
	}
	calls, err := d.Recent(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(calls); !slices.Equal(got, []string{"new", "edge", "open"}) {
		t.Errorf("after Trim: %v, want [new edge open]", got)
	}
}

// TestRecorderTrims: a Recorder with WithKeep trims at start and again
// every upkeep period.
func TestRecorderTrims(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	now := at(1000)
	for _, c := range []Call{
		{ID: "old", Direction: "outgoing", RemoteURI: "sip:old@example.com", StartedAt: at(0), EndedAt: at(10)},
		{ID: "mid", Direction: "outgoing", RemoteURI: "sip:mid@example.com", StartedAt: at(0), EndedAt: at(600)},
	} {
		if err := d.Put(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	clock := make(chan time.Time, 1)
	clock <- now
	last := now
	nowFn := func() time.Time {
		select {
		case last = <-clock:
		default:
		}
		return last
	}
	newRigWith(t, d, WithKeep(500*time.Second), WithUpkeepEvery(20*time.Millisecond), WithNow(nowFn))
	waitIDs(t, d, []string{"mid"})
	clock <- at(1200) // a later upkeep: mid has now ended more than keep ago
	waitIDs(t, d, nil)
}

// TestCloseOrphans: the calls in progress of a process that is gone are
// closed as of their last update, a ringing incoming one as missed; those
// of a live process are not, nor (Linux) are those of a pid reused by
// another process spared.
func TestCloseOrphans(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	dead := deadPID(t)
	me := d.owner
	put := func(o owner, c Call) {
		t.Helper()
		d.owner = o
		defer func() { d.owner = me }()
		if err := d.Put(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	gone := owner{pid: dead, start: "1"}
	put(gone, Call{ID: "talking", Direction: "outgoing", RemoteURI: "sip:a@example.com", State: "connected",
		StartedAt: at(0), AnsweredAt: at(2)})
	put(gone, Call{ID: "ringing", Direction: "incoming", RemoteURI: "sip:b@example.com", State: "ringing", StartedAt: at(3)})
	put(gone, Call{ID: "answered-in", Direction: "incoming", RemoteURI: "sip:c@example.com", State: "connected",
		StartedAt: at(4), AnsweredAt: at(5)})
	put(gone, Call{ID: "finished", Direction: "outgoing", RemoteURI: "sip:d@example.com", State: "terminated",
		StartedAt: at(0), EndedAt: at(9), EndReason: "remote hangup"})
	put(me, Call{ID: "live", Direction: "outgoing", RemoteURI: "sip:e@example.com", State: "connected", StartedAt: at(6)})
	reused := runtime.GOOS == "linux" && me.start != ""
	if reused {
		put(owner{pid: me.pid, start: me.start + "0"}, Call{ID: "reused", Direction: "outgoing",
			RemoteURI: "sip:f@example.com", State: "connected", StartedAt: at(7)})
	}
	before := time.Now().Add(-time.Second)
	n, err := d.CloseOrphans(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := 3
	if reused {
		want++
	}
	if n != want {
		t.Errorf("CloseOrphans closed %d calls, want %d", n, want)
	}
	calls, err := d.Recent(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]Call{}
	for _, c := range calls {
		byID[c.ID] = c
	}
	for _, id := range []string{"talking", "ringing", "answered-in", "reused"} {
		c, ok := byID[id]
		if !ok {
			continue
		}
		if c.State != "terminated" || c.EndReason != StoppedReason || c.EndCode != 0 || c.EndedAt.Before(before) {
			t.Errorf("%s after CloseOrphans: %+v, want terminated, %q, ended at its last update", id, c, StoppedReason)
		}
		if c.Missed != (id == "ringing") {
			t.Errorf("%s: missed = %v", id, c.Missed)
		}
	}
	if c := byID["finished"]; !c.EndedAt.Equal(at(9)) || c.EndReason != "remote hangup" {
		t.Errorf("a finished call changed: %+v", c)
	}
	if c := byID["live"]; ended(c) || c.State != "connected" {
		t.Errorf("the call of a live process was closed: %+v", c)
	}
}

// deadPID returns the pid of a process that has ended.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

// waitIDs polls d until it holds exactly the calls want, newest first.
func waitIDs(t *testing.T, d *DB, want []string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		calls, err := d.Recent(context.Background(), 0)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Equal(ids(calls), want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("calls %v, want %v", ids(calls), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
