package load

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/teaphone/teaphone/sessions"
)

// endWait bounds how long a call may take to end after we hang it up.
const endWait = 5 * time.Second

// errStreamStopped: the Manager's events stopped under the run.
var errStreamStopped = errors.New("the phone's event stream stopped")

// caller places the calls of one run.
type caller struct {
	m *sessions.Manager
	o Options
	w *watcher
	// answered, when set, is told of every call answered.
	answered func()
}

// statsGrace is how long a call that was reported no RTP at the end of
// its hold waits for a late statistics report (they come every 500 ms on a
// clock that a busy machine delays) before it counts as no_media.
const statsGrace = time.Second

func connectedOrOver(w *watch) bool { return !w.info.ConnectedAt.IsZero() || w.info.State.Final() }
func over(w *watch) bool            { return w.info.State.Final() }
func received(w *watch) bool        { return w.rx > 0 || w.info.State.Final() }

// place runs call n: dial, wait Timeout at most for the answer, hold for
// Hold with RTP flowing both ways, hang up and wait for the end. ctx ending
// (Ctrl-C) hangs up at once.
func (cl *caller) place(ctx context.Context, n int) Result {
	res := Result{N: n}
	start := time.Now()
	id, err := cl.m.Dial(ctx, cl.o.Target, sessions.DialOptions{Account: cl.o.Account})
	if err != nil {
		res.Outcome, res.Reason = OutcomeError, err.Error()
		return res
	}
	res.CallID = id
	w := cl.w.claim(id)
	defer cl.w.release(id)

	setup, cancel := context.WithTimeout(ctx, cl.o.Timeout)
	w.waitFor(setup, cl.w.done, connectedOrOver)
	cancel()
	info, _, _ := w.snapshot()
	res.SIPCallID = info.SIPCallID
	switch {
	case !info.ConnectedAt.IsZero():
	case info.State.Final():
		res.Outcome, res.Code, res.Reason = outcomeOf(info.EndCode), info.EndCode, info.EndCause()
		return res
	default:
		res.Outcome, res.Reason = cl.cut(ctx, fmt.Sprintf("not answered within %s", cl.o.Timeout))
		cl.hangup(w, id, &res)
		return res
	}
	res.Answered = true
	res.Setup = info.ConnectedAt.Sub(start)
	if cl.answered != nil {
		cl.answered()
	}

	var scriptErr error
	hungUp, upFor := false, cl.o.Hold
	if cl.o.Script.Empty() {
		hold, cancel := context.WithTimeout(ctx, cl.o.Hold)
		w.waitFor(hold, cl.w.done, over)
		cancel()
	} else {
		began := time.Now()
		hungUp, scriptErr = cl.runScript(ctx, w, id)
		upFor = time.Since(began)
	}
	if ctx.Err() == nil && upFor >= MinHold {
		grace, cancel := context.WithTimeout(ctx, statsGrace)
		w.waitFor(grace, cl.w.done, received)
		cancel()
	}
	info, rx, tx := w.snapshot()
	st := w.latestStats()
	if now, ok := cl.m.Call(id); ok { // the latest statistics, not yet delivered as an event
		rx, tx = max(rx, now.Stats.RxPackets), max(tx, now.Stats.TxPackets)
		if now.Stats.RxPackets >= st.RxPackets {
			st = now.Stats
		}
	}
	res.RxPackets, res.TxPackets = rx, tx
	res.MOS, res.Lost = st.MOS, st.Lost
	switch {
	case info.State.Final() && !hungUp:
		res.Outcome, res.Code, res.Reason = OutcomeDropped, info.EndCode, "ended by the far end after "+
			info.EndedAt.Sub(info.ConnectedAt).Round(time.Millisecond).String()+": "+info.EndCause()
		return res
	case ctx.Err() != nil || cl.w.gone():
		res.Outcome, res.Reason = cl.cut(ctx, "")
	case scriptErr != nil:
		res.Outcome, res.Reason = OutcomeScript, scriptErr.Error()
	case rx == 0 && upFor >= MinHold:
		res.Outcome, res.Reason = OutcomeNoMedia, fmt.Sprintf("no RTP received in %s (sent %d packets)", upFor.Round(time.Millisecond)+statsGrace, tx)
	default:
		res.Outcome = OutcomeOK
	}
	cl.hangup(w, id, &res)
	return res
}

// cut is the outcome of a call we stop waiting for: interrupted (the run
// was stopped), the event stream gone, or the given timeout reason.
func (cl *caller) cut(ctx context.Context, timeout string) (outcome, reason string) {
	switch {
	case ctx.Err() != nil:
		return OutcomeInterrupted, "interrupted"
	case cl.w.gone():
		return OutcomeError, errStreamStopped.Error()
	}
	return OutcomeTimeout, timeout
}

// hangup hangs up the call (CANCEL or BYE) and waits endWait at most for
// its end; a call that does not end is a failure.
func (cl *caller) hangup(w *watch, id sessions.CallID, res *Result) {
	if err := cl.m.Hangup(id); err != nil && !errors.Is(err, sessions.ErrCallEnded) {
		if res.Outcome == OutcomeOK {
			res.Outcome, res.Reason = OutcomeError, err.Error()
		}
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), endWait)
	defer cancel()
	if !w.waitFor(ctx, cl.w.done, over) && res.Outcome == OutcomeOK {
		res.Outcome, res.Reason = OutcomeError, fmt.Sprintf("not ended within %s of hanging up", endWait)
	}
}
