package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/teaphone/teaphone/internal/callhistory"
	"github.com/teaphone/teaphone/internal/config"
	"github.com/teaphone/teaphone/sessions"
	"github.com/teaphone/teaphone/ui"
)

// historyPath is where the call history is kept: history.file, else the
// XDG data directory's teaphone/history.db.
func historyPath(cfg config.Config) string {
	if cfg.History.File != "" {
		return cfg.History.File
	}
	return callhistory.DefaultPath()
}

// phoneHistory is the call history of a running phone.
type phoneHistory struct {
	db      *callhistory.DB // nil: no history
	stop    func()
	warning string // why there is none, for the TUI's log pane
}

// startHistory opens the call history and records mgr's calls in it until
// stop runs (after the phone is closed: the calls hung up at exit are
// written). A history that cannot be opened is a warning (on stderr in the
// headless modes, in the log pane of the TUI), never an error: the phone
// runs without it.
func startHistory(cfg config.Config, mgr *sessions.Manager, mode string, logger *slog.Logger, stderr io.Writer) phoneHistory {
	if !cfg.History.Enabled || mode == "load" { // load's thousands of test calls are no history
		return phoneHistory{stop: func() {}}
	}
	db, err := callhistory.Open(historyPath(cfg))
	if err != nil {
		warning := fmt.Sprintf("call history off: %v", err)
		logger.Warn(warning)
		if mode != "tui" {
			fmt.Fprintf(stderr, "teaphone: warning: %s\n", warning)
		}
		return phoneHistory{stop: func() {}, warning: warning}
	}
	rec := callhistory.Record(db, mgr, logger.With("component", "callhistory"),
		callhistory.WithKeep(cfg.History.KeepDuration()))
	return phoneHistory{db: db, stop: func() {
		rec.Close()
		if err := db.Close(); err != nil {
			logger.Warn("call history: close", "err", err)
		}
	}}
}

// tuiHistoryLimit is how many calls the TUI's history view lists.
const tuiHistoryLimit = 200

// recent reads the newest calls for the TUI's history view (nil without a
// history).
func (h phoneHistory) recent(ctx context.Context) func() ([]ui.HistoryEntry, error) {
	if h.db == nil {
		return nil
	}
	db := h.db
	return func() ([]ui.HistoryEntry, error) {
		calls, err := db.Recent(ctx, tuiHistoryLimit)
		if err != nil {
			return nil, err
		}
		out := make([]ui.HistoryEntry, len(calls))
		for i, c := range calls {
			out[i] = ui.HistoryEntry{
				Started: c.StartedAt, Incoming: c.Direction == "incoming", Missed: c.Missed,
				Remote: c.RemoteURI, Display: c.DisplayName, Account: c.Account,
				Duration: c.Duration(), Result: c.Result(),
			}
		}
		return out, nil
	}
}

// missedCalls keeps which missed calls the person has seen (the TUI's
// badge) in the history database.
type missedCalls struct {
	ctx context.Context
	db  *callhistory.DB
}

// Unseen implements ui.MissedCalls.
func (m missedCalls) Unseen() ([]sessions.CallID, error) {
	calls, err := m.db.UnseenMissed(m.ctx)
	if err != nil {
		return nil, err
	}
	ids := make([]sessions.CallID, len(calls))
	for i, c := range calls {
		ids[i] = sessions.CallID(c.ID)
	}
	return ids, nil
}

// MarkSeen implements ui.MissedCalls.
func (m missedCalls) MarkSeen(at time.Time) error { return m.db.MarkSeen(m.ctx, at) }

// missed is the TUI's missed-calls memory (nil without a history: the
// badge then counts this run's calls only).
func (h phoneHistory) missed(ctx context.Context) ui.MissedCalls {
	if h.db == nil {
		return nil
	}
	return missedCalls{ctx: ctx, db: h.db}
}

const historyUsage = `usage: teaphone history [flags]

Lists the calls kept in the call history, newest first.

`

// historyFlags are the flags of `teaphone history`.
type historyFlags struct {
	config, file string
	missed, json bool
	utc          bool
	since        time.Duration
	limit        int
}

func parseHistoryFlags(args []string, stderr io.Writer) (historyFlags, error) {
	fs := flag.NewFlagSet("teaphone history", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, historyUsage)
		fs.PrintDefaults()
	}
	var f historyFlags
	fs.StringVar(&f.config, "config", "", "config file (default "+config.DefaultPath()+")")
	fs.StringVar(&f.file, "file", "", "history database (default: history.file, else "+callhistory.DefaultPath()+")")
	fs.BoolVar(&f.missed, "missed", false, "only missed calls (incoming, unanswered, not declined)")
	fs.DurationVar(&f.since, "since", 0, "only calls started within this long, e.g. 24h (0 = all)")
	fs.BoolVar(&f.json, "json", false, "print JSON lines instead of a table")
	fs.BoolVar(&f.utc, "utc", false, "print times in UTC instead of local time")
	fs.IntVar(&f.limit, "limit", 20, "at most this many calls, the newest (0 = all)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return f, err
		}
		return f, usageError{err}
	}
	switch {
	case fs.NArg() > 0:
		return f, usageError{fmt.Errorf("history: unexpected argument %q", fs.Arg(0))}
	case f.since < 0:
		return f, usageError{fmt.Errorf("history: --since %v: want a positive duration", f.since)}
	case f.limit < 0:
		return f, usageError{fmt.Errorf("history: --limit %d: want 0 or more", f.limit)}
	}
	return f, nil
}

// runHistory is `teaphone history`: the calls of the history, as a table or
// JSON lines.
func runHistory(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseHistoryFlags(args, stderr)
	if err != nil {
		return err
	}
	path := f.file
	if path == "" {
		cfg, err := loadConfig(common{config: f.config})
		if err != nil {
			return usageError{err}
		}
		path = historyPath(cfg)
	}
	var calls []callhistory.Call
	if _, err := os.Stat(path); err == nil {
		db, err := callhistory.Open(path)
		if err != nil {
			return err
		}
		defer db.Close()
		filter := callhistory.Filter{MissedOnly: f.missed, Limit: f.limit}
		if f.since > 0 {
			filter.Since = time.Now().Add(-f.since)
		}
		if calls, err = db.Query(ctx, filter); err != nil {
			return err
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("call history: %w", err)
	}
	if f.json {
		return callhistory.PrintJSON(stdout, calls)
	}
	loc := time.Local
	if f.utc {
		loc = time.UTC
	}
	return callhistory.PrintTable(stdout, calls, loc)
}
