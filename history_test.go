package main

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"

	"github.com/teaphone/teaphone/internal/callhistory"
)

// TestMain keeps the call history of the phones these tests run out of the
// user's own.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "teaphone-main-test")
	if err == nil {
		os.Setenv("XDG_DATA_HOME", dir)
	}
	code := m.Run()
	if err == nil {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

// historyCalls are one call of each kind, as the recorder writes them.
func historyCalls() []callhistory.Call {
	t0 := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	return []callhistory.Call{
		{ID: "c1", Direction: "outgoing", RemoteURI: "sip:bob@example.com", DisplayName: "Bob", Account: "work",
			State: "terminated", StartedAt: t0, AnsweredAt: t0.Add(2 * time.Second), EndedAt: t0.Add(95 * time.Second),
			EndReason: "local hangup", Codec: "PCMU", MOS: 4.4},
		{ID: "c2", Direction: "incoming", RemoteURI: "sip:alice@example.com", DisplayName: "Alice", Account: "work",
			State: "cancelled", StartedAt: t0.Add(time.Hour), EndedAt: t0.Add(time.Hour + 20*time.Second),
			EndReason: "Request Terminated", EndCode: 487, Missed: true},
		{ID: "c3", Direction: "outgoing", RemoteURI: "sip:carol@example.com", Account: "home", State: "failed",
			StartedAt: t0.Add(2 * time.Hour), EndedAt: t0.Add(2*time.Hour + time.Second), EndReason: "Busy Here", EndCode: 486},
		{ID: "c4", Direction: "incoming", RemoteURI: "sip:spam@example.net", Account: "work", State: "cancelled",
			StartedAt: t0.Add(3 * time.Hour), EndedAt: t0.Add(3 * time.Hour), EndReason: "Busy Here", EndCode: 486},
	}
}

func writeHistory(t *testing.T, calls []callhistory.Call) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "history.db")
	db, err := callhistory.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, c := range calls {
		if err := db.Put(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

func runOut(t *testing.T, args ...string) string {
	t.Helper()
	var out, errOut strings.Builder
	if err := run(context.Background(), args, &out, &errOut); err != nil {
		t.Fatalf("teaphone %s: %v\nstderr: %s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String()
}

// TestHistoryCommand: teaphone history prints the table and JSON lines
// (golden files), filtered by --missed and --limit.
func TestHistoryCommand(t *testing.T) {
	path := writeHistory(t, historyCalls())
	t.Run("table", func(t *testing.T) {
		golden.RequireEqual(t, []byte(runOut(t, "history", "--file", path, "--utc")))
	})
	t.Run("missed_json", func(t *testing.T) {
		golden.RequireEqual(t, []byte(runOut(t, "history", "--file", path, "--missed", "--json")))
	})
	t.Run("limit", func(t *testing.T) {
		golden.RequireEqual(t, []byte(runOut(t, "history", "--file", path, "--utc", "--limit", "2")))
	})
	if got := runOut(t, "history", "--file", filepath.Join(t.TempDir(), "none.db")); got != "no calls\n" {
		t.Errorf("no database: %q", got)
	}
}

// TestHistorySince: --since keeps the calls started within that long.
func TestHistorySince(t *testing.T) {
	now := time.Now().UTC()
	path := writeHistory(t, []callhistory.Call{
		{ID: "old", Direction: "incoming", RemoteURI: "sip:old@example.com", StartedAt: now.Add(-48 * time.Hour), Missed: true},
		{ID: "new", Direction: "incoming", RemoteURI: "sip:new@example.com", StartedAt: now.Add(-time.Hour), Missed: true},
	})
	got := runOut(t, "history", "--file", path, "--since", "24h", "--json", "--missed")
	if strings.Count(got, "\n") != 1 || !strings.Contains(got, `"call_id":"new"`) {
		t.Errorf("--since 24h:\n%s", got)
	}
}

// TestHistoryBadFlags: mistakes are usage errors.
func TestHistoryBadFlags(t *testing.T) {
	for _, args := range [][]string{{"--limit", "-1"}, {"--since", "-1h"}, {"extra"}, {"--since", "yesterday"}} {
		var out, errOut strings.Builder
		err := run(context.Background(), append([]string{"history"}, args...), &out, &errOut)
		if code := exitCode(err, &errOut); code != 2 {
			t.Errorf("history %q: exit %d, want 2 (%v)", args, code, err)
		}
	}
}

// TestDialRecordsHistory: teaphone dial writes its call to the history of
// history.file; with a corrupt history file the call is placed all the same,
// with a warning on stderr.
func TestDialRecordsHistory(t *testing.T) {
	b := answeringPeer(t, 19500, 19599)

	dir := t.TempDir()
	dial := func(histFile string) (string, error) {
		cfg := filepath.Join(dir, "config.toml")
		if err := os.WriteFile(cfg, []byte("[history]\nfile = "+quote(histFile)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		var out, errOut strings.Builder
		err := run(context.Background(), []string{"dial", "--config", cfg, "--log-file", filepath.Join(dir, "log"),
			"--audio", "null", "--listen", "127.0.0.1:0", "--rtp-ports", "19400-19499", "--events", "jsonl",
			"--script", "wait 300ms; hangup", "sip:bob@" + b.LocalAddr()}, &out, &errOut)
		return errOut.String(), err
	}

	good := filepath.Join(dir, "history.db")
	if stderr, err := dial(good); err != nil {
		t.Fatalf("dial: %v\n%s", err, stderr)
	}
	db, err := callhistory.Open(good)
	if err != nil {
		t.Fatal(err)
	}
	calls, err := db.Recent(context.Background(), 0)
	db.Close()
	if err != nil || len(calls) != 1 {
		t.Fatalf("history after one dial: %+v, %v", calls, err)
	}
	if c := calls[0]; c.Direction != "outgoing" || c.State != "terminated" || c.AnsweredAt.IsZero() || c.EndedAt.IsZero() ||
		!strings.HasPrefix(c.RemoteURI, "sip:bob@") {
		t.Errorf("the dialled call: %+v", c)
	}

	bad := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(bad, []byte(strings.Repeat("not a database ", 1000)), 0o600); err != nil {
		t.Fatal(err)
	}
	stderr, err := dial(bad)
	if err != nil {
		t.Fatalf("dial with a corrupt history: %v\n%s", err, stderr)
	}
	if !strings.Contains(stderr, "warning: call history off") {
		t.Errorf("no warning on stderr: %q", stderr)
	}

	// Another program holds the history exclusively: the call is placed
	// after the busy timeout, with a warning.
	other, err := sql.Open("sqlite", good)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	other.SetMaxOpenConns(1)
	for _, q := range []string{`PRAGMA locking_mode = EXCLUSIVE`, `BEGIN EXCLUSIVE`, `DELETE FROM calls`} {
		if _, err := other.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	stderr, err = dial(good)
	if err != nil {
		t.Fatalf("dial with a locked history: %v\n%s", err, stderr)
	}
	if !strings.Contains(stderr, "warning: call history off") || !strings.Contains(stderr, "locked") {
		t.Errorf("no warning on stderr: %q", stderr)
	}
	if _, err := other.Exec(`ROLLBACK`); err != nil {
		t.Fatal(err)
	}
}

func quote(s string) string { return `"` + strings.ReplaceAll(s, `\`, `\\`) + `"` }

// TestMissedCallsAcrossRestart: the TUI's missed-calls memory lists the
// history's missed calls until the person opens the history view (MarkSeen);
// a missed call of a later run is unseen again after a restart.
func TestMissedCallsAcrossRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "history.db")
	open := func() (*callhistory.DB, func() ([]string, error)) {
		db, err := callhistory.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		mc := phoneHistory{db: db}.missed(ctx)
		return db, func() ([]string, error) {
			ids, err := mc.Unseen()
			var out []string
			for _, id := range ids {
				out = append(out, string(id))
			}
			return out, err
		}
	}
	db, unseen := open()
	calls := historyCalls()
	for _, c := range calls {
		if err := db.Put(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := unseen(); err != nil || strings.Join(got, ",") != "c2" {
		t.Fatalf("unseen %v (%v), want c2", got, err)
	}
	if err := (phoneHistory{db: db}).missed(ctx).MarkSeen(calls[1].EndedAt); err != nil {
		t.Fatal(err)
	}
	later := calls[1]
	later.ID, later.StartedAt, later.EndedAt = "c9", later.StartedAt.Add(time.Hour), later.EndedAt.Add(time.Hour)
	if err := db.Put(ctx, later); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, unseen = open()
	if got, err := unseen(); err != nil || strings.Join(got, ",") != "c9" {
		t.Errorf("unseen after a restart %v (%v), want c9", got, err)
	}
	if (phoneHistory{}).missed(ctx) != nil {
		t.Error("a missed-calls memory without a history")
	}
}
