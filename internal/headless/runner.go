package headless

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/teaphone/teaphone/internal/script"
	"github.com/teaphone/teaphone/sessions"
)

// runner runs the script on one call. It lives in one goroutine started by
// engine.startRunner and ends when the script ends, the call ends or the
// engine's context is cancelled.
type runner struct {
	e       *engine
	tr      *tracker
	playing *sessions.Playback
}

var errNotConnected = errors.New("call ended before it was connected")

func (r *runner) run(parent context.Context, fromRinging bool) {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	r.tr.setCancel(cancel) // the call's end cancels ctx
	defer r.stopPlayback()
	cmds := r.e.o.Script.Commands
	if len(cmds) > 0 {
		r.tr.setRunning(&cmds[0]) // a dial timeout before the script started is not "done"
	}

	if !fromRinging {
		err := r.tr.waitFor(ctx, func(t *tracker) (bool, error) {
			switch {
			case !t.info.ConnectedAt.IsZero(): // connected, maybe ended already
				return true, nil
			case t.info.State.Final():
				return false, errNotConnected
			}
			return false, nil
		})
		if err != nil {
			return // no script for a call that never connected; the mode reports it
		}
		if r.e.o.RecordDir != "" {
			info, _ := r.tr.progress()
			r.e.autoRecord(r.tr, info)
		}
	}
	for i := range cmds {
		c := &cmds[i]
		r.tr.setRunning(c)
		err := r.exec(ctx, c)
		if err == nil {
			continue
		}
		switch {
		case parent.Err() != nil:
			return // shutdown, interrupt or dial timeout: the mode reports it
		case r.callOver(err):
			r.checkRest(parent, cmds[i:])
		default:
			r.failed(c, err)
		}
		return
	}
	r.tr.setRunning(nil)
}

// callOver reports whether err came from the call ending.
func (r *runner) callOver(err error) bool {
	info, _ := r.tr.progress()
	return info.State.Final() || errors.Is(err, sessions.ErrCallEnded)
}

// checkRest runs after the call ended under the script: the expects still
// to come are checked against the call's final state, so "hangup; expect
// state terminated" passes and an unmet "expect dtmf" fails.
func (r *runner) checkRest(parent context.Context, rest []script.Command) {
	select {
	case <-r.tr.ended:
	default:
		select {
		case <-r.tr.ended:
		case <-parent.Done():
			return
		}
	}
	for i := range rest {
		c := &rest[i]
		if !c.Op.Expect() {
			continue
		}
		r.tr.mu.Lock()
		done, err := condition(c)(r.tr)
		r.tr.mu.Unlock()
		if !done {
			if err == nil {
				err = errors.New("not met")
			}
			r.failed(c, err)
			return
		}
	}
}

// failed reports a failed command and hangs up the call.
func (r *runner) failed(c *script.Command, err error) {
	info, _ := r.tr.progress()
	r.e.fail(info, fmt.Sprintf("call %d: script %s: %s: %v", info.Line, c.Where(), c, err))
	if !info.State.Final() {
		if err := r.e.m.Hangup(info.ID); err != nil && !errors.Is(err, sessions.ErrCallEnded) {
			r.e.stderr("%v", err)
		}
	}
}

func (r *runner) stopPlayback() {
	if r.playing != nil {
		_ = r.playing.Close()
		r.playing = nil
	}
}

// exec runs one command.
func (r *runner) exec(ctx context.Context, c *script.Command) error {
	m, id := r.e.m, r.tr.id
	info, _ := r.tr.progress()
	if handled, err := script.Control(m, id, *c); handled {
		return err
	}
	switch c.Op {
	case script.OpWait:
		t := time.NewTimer(c.Duration)
		defer t.Stop()
		select {
		case <-t.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	case script.OpPlay:
		return r.play(ctx, c.Arg)
	case script.OpRecord, script.OpRecordStart, script.OpRecordStop:
		r.tr.markAutoRecorded() // the script takes over from RecordDir
		return r.recordCmd(c, info)
	case script.OpExpectState, script.OpExpectDTMF, script.OpExpectHeldRemote, script.OpExpectHeldLocal:
		return r.expect(ctx, c)
	case script.OpAnswer:
		if err := m.Accept(id); err != nil {
			return err
		}
		return r.waitConnected(ctx)
	case script.OpLog:
		r.e.pr.Print(LogEvent{Time: r.e.o.Now(), CallID: id, Line: info.Line, Message: c.Arg})
		return nil
	}
	return fmt.Errorf("unsupported command %s", c.Op)
}

// recordCmd runs record FILE, record start and record stop.
func (r *runner) recordCmd(c *script.Command, info sessions.CallInfo) error {
	m, id := r.e.m, r.tr.id
	switch c.Op {
	case script.OpRecord: // switch the recording to FILE
		if !r.tr.claimRecording() {
			if err := m.StopRecording(id); err != nil {
				return err
			}
		}
		return r.e.record(r.tr, sessions.RecordPath("", c.Arg, r.e.o.Now(), info))
	case script.OpRecordStart:
		if !r.tr.claimRecording() {
			return nil // already recording
		}
		return r.e.record(r.tr, sessions.RecordPath(r.e.o.RecordDir, r.e.o.RecordTemplate, r.e.o.Now(), info))
	}
	if !r.tr.releaseRecording() {
		return nil // not recording
	}
	return m.StopRecording(id)
}

// waitConnected waits (script.DefaultExpectTimeout at most) until the call
// answered by the script is connected, so the next command finds it so.
func (r *runner) waitConnected(ctx context.Context) error {
	wctx, cancel := context.WithTimeout(ctx, script.DefaultExpectTimeout)
	defer cancel()
	err := r.tr.waitFor(wctx, func(t *tracker) (bool, error) {
		switch {
		case !t.info.ConnectedAt.IsZero():
			return true, nil
		case t.info.State.Final():
			return false, fmt.Errorf("the call ended (%s)", t.info.EndCause())
		}
		return false, nil
	})
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		return fmt.Errorf("not connected within %s", script.DefaultExpectTimeout)
	}
	return err
}

// play plays a file and waits until it was played.
func (r *runner) play(ctx context.Context, path string) error {
	r.stopPlayback()
	pb, err := r.e.m.StartPlayback(r.tr.id, path)
	if err != nil {
		return err
	}
	r.playing = pb
	select {
	case <-pb.Done():
		return pb.Err()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// expect waits for the command's condition within its duration.
func (r *runner) expect(ctx context.Context, c *script.Command) error {
	wctx, cancel := context.WithTimeout(ctx, c.Duration)
	defer cancel()
	err := r.tr.waitFor(wctx, condition(c))
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		r.tr.mu.Lock()
		defer r.tr.mu.Unlock()
		return fmt.Errorf("not met within %s (%s)", c.Duration, observed(c, r.tr))
	}
	return err
}

// condition returns the test of an expect, run with t.mu held. An expect
// dtmf that matches consumes the digits up to the match.
func condition(c *script.Command) func(t *tracker) (bool, error) {
	return func(t *tracker) (bool, error) {
		met := false
		switch c.Op {
		case script.OpExpectState:
			met = t.info.State == c.State
		case script.OpExpectDTMF:
			if i := strings.Index(t.digits, c.Arg); i >= 0 {
				t.digits = t.digits[i+len(c.Arg):]
				met = true
			}
		case script.OpExpectHeldRemote:
			met = t.info.HeldRemote != c.Not
		case script.OpExpectHeldLocal:
			met = t.info.HeldLocal != c.Not
		}
		switch {
		case met:
			return true, nil
		case t.info.State.Final():
			return false, fmt.Errorf("the call ended (%s; %s)", t.info.State, observed(c, t))
		}
		return false, nil
	}
}

// observed describes what an unmet expect saw, with t.mu held.
func observed(c *script.Command, t *tracker) string {
	switch c.Op {
	case script.OpExpectDTMF:
		return "received " + strconv.Quote(t.digits)
	case script.OpExpectHeldRemote:
		return fmt.Sprintf("held_remote is %v", t.info.HeldRemote)
	case script.OpExpectHeldLocal:
		return fmt.Sprintf("held_local is %v", t.info.HeldLocal)
	}
	if t.info.State.Final() {
		return "state is " + t.info.State.String() + ", " + t.info.EndCause()
	}
	return "state is " + t.info.State.String()
}
