// Package load is "teaphone load URI": it places calls to one target at a
// steady rate (or one ramping up to it), a bounded number at a time, each
// carrying RTP both ways for a while (or running a call script) before it
// hangs up, and tells what became of every call and of the run
// (attempted, answered, failed by cause or SIP code, setup time
// percentiles, the MOS estimate of the audio received), as JSON lines or
// behind a progress bar on a terminal (RunTerminal).
// It drives the phone through a sessions.Manager, as the headless modes do:
// the audio every call sends is the phone's (main gives it a tone).
package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/teaphone/teaphone/internal/headless"
	"github.com/teaphone/teaphone/internal/script"
	"github.com/teaphone/teaphone/sessions"
)

// MinHold is the shortest hold: the media check needs a statistics report
// (every 500 ms) of a call whose RTP flows.
const MinHold = time.Second

// Options configure Run.
type Options struct {
	// Target is the URI every call goes to; Account the account to call
	// from ("" = the first, or none).
	Target, Account string
	// Rate is the most calls started per second (> 0).
	Rate float64
	// Concurrent bounds the calls in progress at once (≥ 1). When every
	// slot is busy the next call waits, and the rate drops.
	Concurrent int
	// Duration stops placing calls after this long; Calls after this many.
	// At least one of them is set; 0 is no limit.
	Duration time.Duration
	Calls    int
	// Ramp makes the rate rise linearly from 1 call/s (or Rate, when
	// lower) to Rate over this long from the start; 0 starts at Rate.
	Ramp time.Duration
	// Hold is how long an answered call stays up (≥ MinHold) when there
	// is no Script.
	Hold time.Duration
	// Script, when not empty, runs on every answered call instead of the
	// hold (the call script of the headless modes, without answer, reject,
	// record, transfer-attended and log); the call is hung up when it ends.
	Script script.Script
	// Timeout bounds the wait for an answer; the call is then cancelled
	// and counted as failed ("timeout").
	Timeout time.Duration

	// Events is the output format: "jsonl" (default), "text" or "none".
	Events string
	// Out receives a line per call and the summary; Err the reason of a
	// failed run. nil discards.
	Out, Err io.Writer
	// Progress, when set, follows the run (a live display reads it).
	Progress *Progress
}

// check validates the options and fills defaults.
func (o *Options) check() error {
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Err == nil {
		o.Err = io.Discard
	}
	var err error
	if o.Events, err = checkFormat(o.Events); err != nil {
		return err
	}
	switch {
	case o.Target == "":
		return errors.New("load: missing target URI")
	case !(o.Rate > 0 && o.Rate <= 10000):
		return fmt.Errorf("load: rate %g: want more than 0 and at most 10000 calls/s", o.Rate)
	case o.Concurrent < 1:
		return fmt.Errorf("load: concurrent %d: want at least 1", o.Concurrent)
	case o.Duration < 0 || o.Calls < 0:
		return errors.New("load: duration and calls must not be negative")
	case o.Duration == 0 && o.Calls == 0:
		return errors.New("load: give --duration or --calls (or both)")
	case o.Hold < MinHold:
		return fmt.Errorf("load: hold %s: want at least %s (the media check needs RTP statistics)", o.Hold, MinHold)
	case o.Timeout <= 0:
		return fmt.Errorf("load: timeout %s: want more than 0", o.Timeout)
	case o.Ramp < 0:
		return fmt.Errorf("load: ramp %s: must not be negative", o.Ramp)
	}
	if err := checkScript(o.Script); err != nil {
		return err
	}
	if _, err := sessions.NormalizeTarget(o.Target); err != nil {
		return fmt.Errorf("load %q: %w", o.Target, err)
	}
	return nil
}

// Run places the calls and prints a line per call and the summary on Out.
// m must be started, with rules that keep incoming calls away (main
// rejects them).
//
// It returns the summary and nil when every call went as asked; an
// *headless.ExitError with ExitFailed (its reason written to Err) when a
// call failed, with ExitInterrupted when ctx ended first (calls in progress
// are hung up, not counted as failed), and with ExitUsage for bad options.
func Run(ctx context.Context, m *sessions.Manager, o Options) (Summary, error) {
	if err := o.check(); err != nil {
		fmt.Fprintln(o.Err, err)
		return Summary{}, &headless.ExitError{Code: headless.ExitUsage, Reason: err.Error()}
	}
	pr := &printer{w: o.Out, format: o.Events}
	w := startWatcher(m)
	defer w.stop()
	prog := o.Progress
	if prog == nil {
		prog = &Progress{}
	}
	cl := &caller{m: m, o: o, w: w, answered: prog.answered}

	var wg sync.WaitGroup
	slots := make(chan struct{}, o.Concurrent)
	start := time.Now()
	prog.begin(o, start)
	p := newPacer(o.Rate, o.Ramp, start)
	var end, first, last time.Time
	if o.Duration > 0 {
		end = start.Add(o.Duration)
	}
place:
	for n := 0; ; n++ {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			break place
		}
		at := p.take(time.Now())
		if !more(n, o.Calls, at, end) || !sleepUntil(ctx, at) || w.gone() {
			<-slots
			break
		}
		if n == 0 {
			first = time.Now()
		}
		last = time.Now()
		prog.placedOne()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			r := cl.place(ctx, n+1)
			pr.result(r, time.Now())
			prog.add(r)
		}()
	}
	prog.stopPlacing(ctx.Err() != nil)
	wg.Wait()

	s := prog.summary(time.Now())
	if s.Attempted > 1 && last.After(first) {
		s.PlacedRate = float64(s.Attempted-1) / last.Sub(first).Seconds()
	}
	pr.summary(o.Target, s, time.Now())
	switch {
	case w.gone():
		msg := errStreamStopped.Error()
		if err := w.sub.Err(); err != nil {
			msg = fmt.Sprintf("%s: %v", msg, err)
		}
		fmt.Fprintln(o.Err, msg)
		return s, &headless.ExitError{Code: headless.ExitFailed, Reason: msg}
	case s.Failed > 0:
		msg := fmt.Sprintf("%d of %d calls failed", s.Failed, s.Attempted)
		fmt.Fprintln(o.Err, msg)
		return s, &headless.ExitError{Code: headless.ExitFailed, Reason: msg}
	case ctx.Err() != nil:
		fmt.Fprintln(o.Err, "interrupted")
		return s, &headless.ExitError{Code: headless.ExitInterrupted, Reason: "interrupted"}
	}
	return s, nil
}

// sleepUntil waits until t; false if ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}
