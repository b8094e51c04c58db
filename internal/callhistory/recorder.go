package callhistory

import (
	"context"
	"log/slog"
	"time"

	"github.com/teaphone/teaphone/sessions"
)

// Source is where a Recorder gets its events: *sessions.Manager.
type Source interface {
	Subscribe() *sessions.Subscription
}

// drainGrace is how long Close lets the Recorder write the events still
// queued when the phone's event stream has ended (the calls hung up at
// exit).
const drainGrace = 2 * time.Second

// writeTimeout bounds one write (the busy timeout bounds the wait for a lock).
const writeTimeout = 10 * time.Second

// Recorder writes every call of a sessions event stream to a DB. It is a
// subscriber like any other: it never blocks the phone (a Recorder that
// falls too far behind is cut off, with a warning, and the phone goes on).
type Recorder struct {
	db   *DB
	sub  *sessions.Subscription
	log  *slog.Logger
	done chan struct{}
	mos  map[sessions.CallID]float64 // last MOS seen per call in progress
	opts recordOptions
}

// RecordOption tunes Record.
type RecordOption func(*recordOptions)

type recordOptions struct {
	keep  time.Duration    // 0: keep every call
	every time.Duration    // upkeep period
	now   func() time.Time // the clock of the trim
}

// UpkeepInterval is how often a Recorder repeats its upkeep while it runs.
const UpkeepInterval = 24 * time.Hour

// WithKeep deletes the calls that ended more than keep ago, at start and
// every UpkeepInterval (default 0: keep every call).
func WithKeep(keep time.Duration) RecordOption { return func(o *recordOptions) { o.keep = keep } }

// WithUpkeepEvery sets the upkeep period (default UpkeepInterval; tests).
func WithUpkeepEvery(d time.Duration) RecordOption { return func(o *recordOptions) { o.every = d } }

// WithNow sets the clock the trim measures keep from (default time.Now).
func WithNow(now func() time.Time) RecordOption { return func(o *recordOptions) { o.now = now } }

// Record subscribes to src and writes each call to db as it progresses,
// until Close. Failed writes are logged to log (nil: discarded) and the
// next change of the call writes its whole row again. First, and then once
// a day, it closes the calls left in progress by a teaphone that died
// (DB.CloseOrphans) and deletes those older than WithKeep (DB.Trim).
func Record(db *DB, src Source, log *slog.Logger, opts ...RecordOption) *Recorder {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	o := recordOptions{every: UpkeepInterval, now: time.Now}
	for _, f := range opts {
		f(&o)
	}
	if o.every <= 0 {
		o.every = UpkeepInterval
	}
	r := &Recorder{db: db, sub: src.Subscribe(), log: log, done: make(chan struct{}),
		mos: make(map[sessions.CallID]float64), opts: o}
	go r.run()
	return r
}

// Close stops the Recorder and waits for its goroutine. Call it after the
// phone is closed and before the Manager is: it first gives the Recorder a
// couple of seconds to write what the end of the phone's event stream left
// queued (the calls hung up at exit). Close does not close the DB. It is
// idempotent.
func (r *Recorder) Close() {
	select {
	case <-r.done:
	case <-time.After(drainGrace):
	}
	r.sub.Close()
	<-r.done
}

// Done is closed when the Recorder's goroutine has ended.
func (r *Recorder) Done() <-chan struct{} { return r.done }

func (r *Recorder) run() {
	defer close(r.done)
	r.upkeep()
	tick := time.NewTicker(r.opts.every)
	defer tick.Stop()
	for {
		select {
		case ev, ok := <-r.sub.C():
			if !ok {
				if err := r.sub.Err(); err != nil {
					r.log.Warn("call history: recording stopped", "err", err)
				}
				return
			}
			switch e := ev.(type) {
			case sessions.MediaEvent:
				if e.Stats.MOS > 0 {
					r.mos[e.CallID] = e.Stats.MOS
				}
			case sessions.CallEvent:
				r.write(e.Call)
			}
		case <-tick.C:
			r.upkeep()
		}
	}
}

// upkeep closes the calls of dead teaphones and trims the old ones. A
// failure is logged; the next upkeep tries again.
func (r *Recorder) upkeep() {
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	if n, err := r.db.CloseOrphans(ctx); err != nil {
		r.log.Warn("call history: upkeep", "err", err)
	} else if n > 0 {
		r.log.Info("call history: closed calls left in progress by a teaphone that stopped", "calls", n)
	}
	if r.opts.keep <= 0 {
		return
	}
	if n, err := r.db.Trim(ctx, r.opts.now().Add(-r.opts.keep)); err != nil {
		r.log.Warn("call history: upkeep", "err", err)
	} else if n > 0 {
		r.log.Info("call history: deleted old calls", "calls", n, "keep", r.opts.keep)
	}
}

func (r *Recorder) write(info sessions.CallInfo) {
	c := FromInfo(info)
	if c.MOS == 0 {
		c.MOS = r.mos[info.ID]
	}
	if info.Ended() {
		delete(r.mos, info.ID)
	}
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	if err := r.db.Put(ctx, c); err != nil {
		r.log.Warn("call history: write failed", "call_id", info.ID, "err", err)
	}
}

// FromInfo is the row of a call snapshot.
func FromInfo(info sessions.CallInfo) Call {
	c := Call{
		ID:          string(info.ID),
		Direction:   string(info.Direction),
		RemoteURI:   info.RemoteURI,
		DisplayName: info.RemoteDisplay,
		Account:     info.Account,
		State:       info.State.String(),
		StartedAt:   info.CreatedAt,
		AnsweredAt:  info.ConnectedAt,
		EndedAt:     info.EndedAt,
		EndReason:   info.EndReason,
		EndCode:     info.EndCode,
		Codec:       info.Codec,
		MOS:         info.Stats.MOS,
	}
	if c.StartedAt.IsZero() {
		c.StartedAt = time.Now()
	}
	if info.Ended() && c.EndedAt.IsZero() {
		c.EndedAt = time.Now()
	}
	c.Missed = info.Missed()
	return c
}
