package headless

import (
	"context"
	"sync"

	"github.com/teaphone/teaphone/internal/script"
	"github.com/teaphone/teaphone/sessions"
)

// tracker follows one call for its script: the latest CallInfo, the DTMF
// received and not yet matched, and what the script is doing.
type tracker struct {
	id    sessions.CallID
	ended chan struct{} // closed when the loop saw the call end
	// runnerDone: its runner finished before the call ended. Guarded by
	// engine.mu (see engine.forget).
	runnerDone bool

	mu           sync.Mutex
	info         sessions.CallInfo
	seen         bool
	digits       string
	changed      chan struct{} // closed and replaced on every change
	cancelRun    context.CancelFunc
	runner       bool
	autoRecorded bool
	recording    bool            // a recording we started is on
	running      *script.Command // the command being run, nil when done
}

func newTracker(id sessions.CallID) *tracker {
	return &tracker{id: id, ended: make(chan struct{}), changed: make(chan struct{})}
}

// changedLocked wakes the waiters.
func (t *tracker) changedLocked() {
	close(t.changed)
	t.changed = make(chan struct{})
}

// update stores the call's latest snapshot; first reports the first one.
func (t *tracker) update(c sessions.CallInfo) (first bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	first = !t.seen
	t.seen = true
	t.info = c
	t.changedLocked()
	return first
}

// end marks the call over and stops its runner.
func (t *tracker) end() {
	t.mu.Lock()
	if t.isEndedLocked() {
		t.mu.Unlock()
		return
	}
	close(t.ended)
	cancel := t.cancelRun
	t.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// isEndedLocked reports whether end ran; t.ended is only closed under t.mu.
func (t *tracker) isEndedLocked() bool {
	select {
	case <-t.ended:
		return true
	default:
		return false
	}
}

func (t *tracker) addDigit(d string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.digits += d
	if len(t.digits) > maxDigits {
		t.digits = t.digits[len(t.digits)-maxDigits:]
	}
	t.changedLocked()
}

func (t *tracker) setRunner() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.runner = true
}

func (t *tracker) hasRunner() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.runner
}

// claimRecording marks the call as recorded by us; false if it already was.
func (t *tracker) claimRecording() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	was := t.recording
	t.recording = true
	return !was
}

// releaseRecording clears the mark; false if the call was not recorded.
func (t *tracker) releaseRecording() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	was := t.recording
	t.recording = false
	return was
}

func (t *tracker) markAutoRecorded() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	was := t.autoRecorded
	t.autoRecorded = true
	return !was
}

// setCancel registers the runner's cancel; it runs at once if the call
// already ended.
func (t *tracker) setCancel(cancel context.CancelFunc) {
	t.mu.Lock()
	t.cancelRun = cancel
	ended := t.isEndedLocked()
	t.mu.Unlock()
	if ended {
		cancel()
	}
}

func (t *tracker) setRunning(c *script.Command) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.running = c
}

// progress returns the latest snapshot and the command being run.
func (t *tracker) progress() (sessions.CallInfo, *script.Command) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.info, t.running
}

// waitFor waits until cond (run with t.mu held, so it may consume digits)
// returns done or an error, or ctx ends; a last check runs after ctx ended,
// so a condition met by the event that ended the call still passes.
func (t *tracker) waitFor(ctx context.Context, cond func(t *tracker) (done bool, err error)) error {
	for {
		t.mu.Lock()
		done, err := cond(t)
		ch := t.changed
		t.mu.Unlock()
		if done || err != nil {
			return err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			t.mu.Lock()
			done, err := cond(t)
			t.mu.Unlock()
			if done || err != nil {
				return err
			}
			return ctx.Err()
		}
	}
}
