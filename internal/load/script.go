package load

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/teaphone/teaphone/internal/script"
	"github.com/teaphone/teaphone/sessions"
)

// errCallOver: the call ended under the script (the far end hung up).
var errCallOver = errors.New("the call ended")

// checkScript refuses the commands that make no sense on a call load mode
// placed: it is answered already (answer, reject, forward, ignore), there is no other call
// to transfer to, and a thousand calls are not recorded nor logged.
func checkScript(sc script.Script) error {
	for _, c := range sc.Commands {
		switch c.Op {
		case script.OpAnswer, script.OpReject, script.OpForward, script.OpIgnore,
			script.OpRecord, script.OpRecordStart, script.OpRecordStop, script.OpTransferAttended, script.OpLog:
			return fmt.Errorf("load: script %s: %s is not for the calls of load mode (they are placed and answered already)", c.Where(), c.Op)
		}
	}
	return nil
}

// runScript runs the call script on the answered call id (instead of the
// hold). hungUp reports that the script hung the call up itself, so its
// end is no drop. The error is nil when every command ran, wraps
// errCallOver when the far end ended the call first, or names the command
// that failed.
func (cl *caller) runScript(ctx context.Context, w *watch, id sessions.CallID) (hungUp bool, err error) {
	for i := range cl.o.Script.Commands {
		c := &cl.o.Script.Commands[i]
		if c.Op == script.OpHangup {
			hungUp = true
		}
		if err := cl.exec(ctx, w, id, c); err != nil {
			if ctx.Err() != nil {
				return hungUp, ctx.Err()
			}
			if info, _, _ := w.snapshot(); info.State.Final() && !hungUp && !c.Op.Expect() {
				return hungUp, fmt.Errorf("%w under script %s (%s)", errCallOver, c.Where(), c)
			}
			return hungUp, fmt.Errorf("script %s: %s: %w", c.Where(), c, err)
		}
	}
	return hungUp, nil
}

// exec runs one command of the script.
func (cl *caller) exec(ctx context.Context, w *watch, id sessions.CallID, c *script.Command) error {
	if handled, err := script.Control(cl.m, id, *c); handled {
		return err
	}
	switch c.Op {
	case script.OpWait:
		if !sleepUntil(ctx, time.Now().Add(c.Duration)) {
			return ctx.Err()
		}
		return nil
	case script.OpPlay:
		pb, err := cl.m.StartPlayback(id, c.Arg)
		if err != nil {
			return err
		}
		defer func() { _ = pb.Close() }()
		select {
		case <-pb.Done():
			return pb.Err()
		case <-ctx.Done():
			return ctx.Err()
		}
	case script.OpExpectState, script.OpExpectDTMF, script.OpExpectHeldRemote, script.OpExpectHeldLocal:
		return cl.expect(ctx, w, c)
	}
	return fmt.Errorf("unsupported command %s", c.Op)
}

// expect waits for the condition of c within its duration.
func (cl *caller) expect(ctx context.Context, w *watch, c *script.Command) error {
	wctx, cancel := context.WithTimeout(ctx, c.Duration)
	defer cancel()
	for {
		w.mu.Lock()
		met, final, ch := expectMet(w, c), w.info.State.Final(), w.changed
		seen := observed(w, c)
		w.mu.Unlock()
		switch {
		case met:
			return nil
		case final:
			return fmt.Errorf("%w (%s)", errCallOver, seen)
		}
		select {
		case <-ch:
		case <-cl.w.done:
			return errStreamStopped
		case <-wctx.Done():
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("not met within %s (%s)", c.Duration, seen)
		}
	}
}

// expectMet tests an expect on the call of w (w.mu held); an expect dtmf
// that matches consumes the digits up to the end of its match.
func expectMet(w *watch, c *script.Command) bool {
	switch c.Op {
	case script.OpExpectState:
		return w.info.State == c.State
	case script.OpExpectDTMF:
		if i := strings.Index(w.digits, c.Arg); i >= 0 {
			w.digits = w.digits[i+len(c.Arg):]
			return true
		}
	case script.OpExpectHeldRemote:
		return w.info.HeldRemote != c.Not
	case script.OpExpectHeldLocal:
		return w.info.HeldLocal != c.Not
	}
	return false
}

// observed says what an unmet expect saw (w.mu held).
func observed(w *watch, c *script.Command) string {
	switch c.Op {
	case script.OpExpectDTMF:
		return fmt.Sprintf("received %q", w.digits)
	case script.OpExpectHeldRemote:
		return fmt.Sprintf("held_remote is %v", w.info.HeldRemote)
	case script.OpExpectHeldLocal:
		return fmt.Sprintf("held_local is %v", w.info.HeldLocal)
	}
	return "state is " + w.info.State.String()
}
