// Package headless runs teaphone without a terminal UI: "teaphone answer"
// (auto-answer with a per-call script) and "teaphone dial URI" (one call with
// a script). Both print the headless contract's events (README.md,
// Headless modes) on Options.Out, reasons on Options.Err, and end with an
// error that tells the process exit code (see ExitCode).
package headless

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/teaphone/teaphone/audio/file"
	"github.com/teaphone/teaphone/internal/script"
	"github.com/teaphone/teaphone/sessions"
)

// Exit codes of the headless modes, in one place.
const (
	ExitOK          = 0   // every call went as scripted
	ExitFailed      = 1   // a call failed (4xx-6xx, no answer) or an expect failed
	ExitUsage       = 2   // bad options, script or files
	ExitInterrupted = 130 // SIGINT/SIGTERM before the work was done (128 + SIGINT)
)

// ExitError ends a headless mode with a process exit code. Reason has
// already been written to Options.Err when RunAnswer or RunDial return it,
// so main only needs to exit with Code.
type ExitError struct {
	Code   int
	Reason string
}

// Error returns the reason.
func (e *ExitError) Error() string { return e.Reason }

// ExitCode maps an error of RunAnswer or RunDial to the process exit code:
// nil is 0, an *ExitError its Code, a cancelled context 130, anything else 1.
func ExitCode(err error) int {
	var ee *ExitError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ee):
		return ee.Code
	case errors.Is(err, context.Canceled):
		return ExitInterrupted
	}
	return ExitFailed
}

// DefaultRecordTemplate names the recordings of "record start" and
// Options.RecordDir.
const DefaultRecordTemplate = sessions.DefaultRecordTemplate

// shutdownGrace bounds how long the modes wait for calls to end after
// hanging them up.
const shutdownGrace = 5 * time.Second

// Options configure RunAnswer and RunDial.
type Options struct {
	// Events is the event format on Out: "jsonl" (default), "text" or "none".
	Events string
	// Out receives events (stdout); Err receives reasons (stderr). nil discards.
	Out, Err io.Writer
	// Script runs on every call (answer mode: each incoming call once it is
	// connected, or from ringing when the script answers or rejects itself;
	// dial mode: the call once connected).
	Script script.Script

	// AnswerDelay lets incoming calls ring this long before they are answered.
	AnswerDelay time.Duration
	// RejectCode > 0 refuses every incoming call with this status (400-699).
	RejectCode int
	// MaxCallsThenExit ends answer mode after this many incoming calls ended
	// (0: run until ctx is done).
	MaxCallsThenExit int
	// Rules come first in answer mode (the configuration's [[rules]]):
	// the first that matches a call decides it; the others get what
	// AnswerDelay, RejectCode or the script say.
	Rules []sessions.Rule

	// Target is whom dial mode calls; Account and Subject tune the call.
	Target, Account, Subject string
	// Timeout bounds dial mode as a whole (0: none).
	Timeout time.Duration

	// RecordDir, when set, records every call (stereo WAV) into this
	// directory, and is where "record start" writes (default: the current
	// directory). It is made (mode 0700, parents included) if missing.
	RecordDir string
	// RecordTemplate names recordings ("" = DefaultRecordTemplate); {date},
	// {remote}, {call_id}, {line} and {direction} are replaced. "record FILE"
	// expands them too.
	RecordTemplate string
	// Shutdown, if set, is called once at the end, before the event output
	// stops: main hangs up and closes the phone there (un-REGISTER), so the
	// final registration events are printed too.
	Shutdown func()

	// Now is the clock for events made here (nil: time.Now).
	Now func() time.Time
}

type mode int

const (
	answerMode mode = iota
	dialMode
)

// usage returns an ExitError with ExitUsage, written to Err.
func (o *Options) usage(format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	fmt.Fprintln(o.Err, msg)
	return &ExitError{Code: ExitUsage, Reason: msg}
}

// check validates the options for mode, fills defaults and makes the
// record directory; errors are ExitUsage.
func (o *Options) check(md mode) error {
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Err == nil {
		o.Err = io.Discard
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.RecordTemplate == "" {
		o.RecordTemplate = DefaultRecordTemplate
	}
	if _, err := NewPrinter(io.Discard, o.Events, nil); err != nil {
		return o.usage("%v", err)
	}
	switch md {
	case answerMode:
		if o.RejectCode != 0 && (o.RejectCode < 400 || o.RejectCode > 699) {
			return o.usage("reject: status code %d: want 400-699", o.RejectCode)
		}
		if o.RejectCode > 0 && !o.Script.Empty() {
			return o.usage("a script cannot run on calls that are all rejected (reject code %d)", o.RejectCode)
		}
		if o.AnswerDelay < 0 || o.MaxCallsThenExit < 0 {
			return o.usage("answer delay and call count must not be negative")
		}
		if o.AnswerDelay > 0 && o.Script.Decides() {
			return o.usage("the script answers or rejects calls itself: an answer delay does not apply (use wait in the script)")
		}
	case dialMode:
		if o.Target == "" {
			return o.usage("dial: missing target")
		}
		if _, err := sessions.NormalizeTarget(o.Target); err != nil {
			return o.usage("dial %q: %v", o.Target, err)
		}
		if o.Timeout < 0 {
			return o.usage("dial: negative timeout %s", o.Timeout)
		}
		for _, c := range o.Script.Commands {
			if c.Op.ForRinging() {
				return o.usage("script %s: %s: only in answer mode", c.Where(), c.Op)
			}
		}
	}
	if o.RecordDir != "" {
		// Recordings are private: a directory made here is the user's alone.
		if err := os.MkdirAll(o.RecordDir, 0o700); err != nil {
			return o.usage("record directory: %v", err)
		}
	}
	// Open every file the script plays, so a typo fails now, not mid-call.
	for _, c := range o.Script.Commands {
		if c.Op != script.OpPlay {
			continue
		}
		src, err := file.OpenSource(c.Arg, false)
		if err != nil {
			return o.usage("script %s: play: %v", c.Where(), err)
		}
		_ = src.Close()
	}
	return nil
}

// RunAnswer is "teaphone answer": it sets the Manager's rules
// (sessions.RejectAll(RejectCode) if RejectCode > 0, else
// sessions.AcceptAll(AnswerDelay), or sessions.DeferAll when the script
// answers or rejects calls itself), runs the script on every incoming call,
// and prints events until ctx is done or MaxCallsThenExit calls ended. Then
// it refuses new calls, hangs up every call and waits (a few seconds at
// most) for them to end.
//
// It returns nil when no call's script failed; an *ExitError with ExitFailed
// when one did (every reason was written to Err as it happened), with
// ExitInterrupted when ctx ended before MaxCallsThenExit calls (if set)
// ended, and with ExitUsage for bad options.
func RunAnswer(ctx context.Context, m *sessions.Manager, o Options) error {
	if err := o.check(answerMode); err != nil {
		return err
	}
	rules := sessions.AcceptAll(o.AnswerDelay)
	switch {
	case o.RejectCode > 0:
		rules = sessions.RejectAll(o.RejectCode)
	case o.Script.Decides():
		rules = sessions.DeferAll()
	}
	rules.Rules = append(slices.Clone(o.Rules), rules.Rules...)
	if err := m.SetRules(rules); err != nil {
		return o.usage("answer: %v", err)
	}
	e := newEngine(ctx, m, o)
	e.onNew = func(tr *tracker, c sessions.CallInfo) {
		if c.Direction == sessions.DirectionIncoming && o.RejectCode == 0 {
			e.startRunner(tr, o.Script.Decides())
		}
	}
	e.start()

	var stopped error
	select {
	case <-ctx.Done():
		if o.MaxCallsThenExit > 0 {
			stopped = &ExitError{Code: ExitInterrupted, Reason: "interrupted"}
		}
	case <-e.enough:
	case <-e.loopDone:
		stopped = e.streamEnded()
	}

	// Shut down: refuse newcomers, stop the scripts, hang up, wait.
	_ = m.SetRules(sessions.RejectAll(480))
	e.cancel()
	if err := m.HangupAll(); err != nil {
		e.stderr("hangup: %v", err)
	}
	e.waitCallsEnded(shutdownGrace)
	e.stop()

	if fails := e.failureList(); len(fails) > 0 {
		return &ExitError{Code: ExitFailed, Reason: summary(fails)}
	}
	if stopped != nil {
		var ee *ExitError
		if errors.As(stopped, &ee) && ee.Code == ExitInterrupted {
			e.stderr("%s", ee.Reason)
		}
		return stopped
	}
	return nil
}

// RunDial is "teaphone dial": it calls Target, runs the script once the call
// is connected, and waits until the call ends (the script's hangup, the
// remote's BYE) or Timeout; at Timeout the call is hung up.
//
// It returns nil when the call connected, ended normally and every expect
// passed (a Timeout after the script finished is a normal end). Otherwise it
// returns an *ExitError whose Reason was written to Err: ExitFailed for a
// failed call ("call to sip:bob@example.com failed: 486 Busy Here"), an
// unanswered call at Timeout, or a failed expect or command;
// ExitInterrupted when ctx ended first; ExitUsage for bad options.
func RunDial(ctx context.Context, m *sessions.Manager, o Options) error {
	if err := o.check(dialMode); err != nil {
		return err
	}
	bound := ctx
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		bound, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	e := newEngine(bound, m, o)
	e.keepEnded = true
	e.start()
	defer e.stop()

	id, err := m.Dial(bound, o.Target, sessions.DialOptions{Account: o.Account, Subject: o.Subject})
	if err != nil {
		code := ExitFailed
		if errors.Is(err, sessions.ErrInvalidTarget) {
			code = ExitUsage
		}
		e.waitFailedDial(time.Second)
		e.stderr("%v", err)
		return &ExitError{Code: code, Reason: err.Error()}
	}
	tr := e.track(id)
	e.startRunner(tr, false)

	var cut error // why we hung up ourselves
	select {
	case <-tr.ended:
	case <-e.loopDone:
		cut = e.streamEnded()
		e.cancel()
	case <-bound.Done():
		info, running := tr.progress()
		switch {
		case ctx.Err() != nil:
			cut = &ExitError{Code: ExitInterrupted, Reason: "interrupted"}
		case info.ConnectedAt.IsZero():
			cut = &ExitError{Code: ExitFailed, Reason: fmt.Sprintf("call to %s: no answer within %s", info.RemoteURI, o.Timeout)}
		case running != nil:
			cut = &ExitError{Code: ExitFailed, Reason: fmt.Sprintf("call %d: timed out after %s at script %s: %s", info.Line, o.Timeout, running.Where(), running)}
		}
		e.cancel()
		if err := m.Hangup(id); err != nil && !errors.Is(err, sessions.ErrCallEnded) {
			e.stderr("%v", err)
		}
		select {
		case <-tr.ended:
		case <-e.loopDone:
		case <-time.After(shutdownGrace):
		}
	}
	// After the call's end the runner finishes on its own (checking the
	// expects left against the final state); otherwise it was cancelled.
	e.runners.Wait()

	if fails := e.failureList(); len(fails) > 0 {
		return &ExitError{Code: ExitFailed, Reason: summary(fails)}
	}
	if cut != nil {
		var ee *ExitError
		if errors.As(cut, &ee) {
			e.stderr("%s", ee.Reason)
		}
		return cut
	}
	info, _ := tr.progress()
	if info.ConnectedAt.IsZero() || info.State == sessions.StateFailed {
		msg := fmt.Sprintf("call to %s failed: %s", info.RemoteURI, info.EndCause())
		e.stderr("%s", msg)
		return &ExitError{Code: ExitFailed, Reason: msg}
	}
	return nil
}

// summary is the ExitError reason for script failures.
func summary(fails []string) string {
	if len(fails) == 1 {
		return fails[0]
	}
	return fmt.Sprintf("%d calls failed; first: %s", len(fails), fails[0])
}
