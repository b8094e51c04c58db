package headless

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/teaphone/teaphone/sessions"
)

// maxDigits bounds the received DTMF kept per call for expect dtmf.
const maxDigits = 256

// engine is one run of a headless mode: a single subscription whose loop
// prints every event and routes call and DTMF events to per-call trackers,
// and the script runners it starts.
type engine struct {
	m   *sessions.Manager
	o   Options
	pr  *Printer
	sub *sessions.Subscription

	ctx    context.Context // the runners' parent
	cancel context.CancelFunc

	// onNew is called by the loop for every call it sees first.
	onNew func(tr *tracker, c sessions.CallInfo)
	// keepEnded keeps the trackers of ended calls (dial mode has few).
	keepEnded bool

	loopDone chan struct{}
	enough   chan struct{} // closed when MaxCallsThenExit incoming calls ended
	runners  sync.WaitGroup

	errMu sync.Mutex // serializes writes to o.Err

	mu       sync.Mutex
	calls    map[sessions.CallID]*tracker
	failures []string
	ended    int // incoming calls that ended
	stopOnce sync.Once
}

func newEngine(ctx context.Context, m *sessions.Manager, o Options) *engine {
	pr, _ := NewPrinter(o.Out, o.Events, o.Now) // o.Events checked already
	e := &engine{
		m: m, o: o, pr: pr,
		loopDone: make(chan struct{}),
		enough:   make(chan struct{}),
		calls:    make(map[sessions.CallID]*tracker),
	}
	e.ctx, e.cancel = context.WithCancel(ctx)
	return e
}

// start subscribes, prints the registrations known so far and starts the loop.
func (e *engine) start() {
	e.sub = e.m.Subscribe()
	for _, r := range e.m.Registrations() {
		if !r.Updated.IsZero() {
			e.pr.Print(sessions.RegistrationEvent{Time: r.Updated, Account: r.Account, State: r.State,
				Expires: r.Expires, Code: r.Code, Reason: r.Reason})
		}
	}
	go e.loop()
	// Calls that appeared before the subscription.
	for _, c := range e.m.Calls() {
		e.adopt(c)
	}
}

// adopt tracks a call the loop has not seen yet (from a snapshot).
func (e *engine) adopt(c sessions.CallInfo) {
	e.mu.Lock()
	if _, known := e.calls[c.ID]; known {
		e.mu.Unlock()
		return
	}
	tr := newTracker(c.ID)
	e.calls[c.ID] = tr
	e.mu.Unlock()
	if tr.update(c) && e.onNew != nil {
		e.onNew(tr, c)
	}
}

// stop cancels the runners, ends the subscription and the loop (which
// starts runners, so it goes first), then waits for the runners. It is
// idempotent.
func (e *engine) stop() {
	e.stopOnce.Do(func() {
		e.cancel()
		if e.o.Shutdown != nil {
			// Un-REGISTER and close the phone while events still print: the
			// "unregistered" events end the output. The stream closes when
			// the phone's does.
			e.o.Shutdown()
			select {
			case <-e.loopDone:
			case <-time.After(shutdownGrace):
			}
		}
		e.sub.Close()
		<-e.loopDone
		e.runners.Wait()
	})
}

func (e *engine) loop() {
	defer close(e.loopDone)
	for ev := range e.sub.C() {
		e.pr.Print(ev)
		switch ev := ev.(type) {
		case sessions.CallEvent:
			e.onCall(ev.Call)
		case sessions.DTMFEvent:
			if ev.Received {
				if tr := e.lookup(ev.CallID); tr != nil {
					tr.addDigit(ev.Digit)
				}
			}
		}
	}
}

// streamEnded is the error when the Manager's events stopped under us.
func (e *engine) streamEnded() error {
	msg := "the phone stopped"
	if err := e.sub.Err(); err != nil {
		msg = fmt.Sprintf("event output stopped: %v", err)
	}
	e.stderr("%s", msg)
	return &ExitError{Code: ExitFailed, Reason: msg}
}

func (e *engine) onCall(c sessions.CallInfo) {
	e.mu.Lock()
	tr, known := e.calls[c.ID]
	if !known {
		tr = newTracker(c.ID)
		e.calls[c.ID] = tr
	}
	e.mu.Unlock()
	first := tr.update(c)
	if first && e.onNew != nil {
		e.onNew(tr, c)
	}
	// Runners record their call before their script starts; calls without
	// one (and calls a script answers itself) are recorded from here.
	if c.State == sessions.StateConnected && e.o.RecordDir != "" && (!tr.hasRunner() || e.o.Script.Decides()) {
		e.autoRecord(tr, c)
	}
	if !c.State.Final() {
		return
	}
	tr.end()
	e.mu.Lock()
	defer e.mu.Unlock()
	if c.Direction == sessions.DirectionIncoming {
		e.ended++
		if e.o.MaxCallsThenExit > 0 && e.ended == e.o.MaxCallsThenExit {
			close(e.enough)
		}
	}
	if !e.keepEnded && (!tr.hasRunner() || tr.runnerDone) {
		delete(e.calls, c.ID)
	}
}

// autoRecord starts the Options.RecordDir recording of a call once.
func (e *engine) autoRecord(tr *tracker, c sessions.CallInfo) {
	if !tr.markAutoRecorded() || !tr.claimRecording() {
		return
	}
	path := sessions.RecordPath(e.o.RecordDir, e.o.RecordTemplate, e.o.Now(), c)
	if err := e.record(tr, path); err != nil && !errors.Is(err, sessions.ErrCallEnded) {
		e.fail(c, fmt.Sprintf("call %d: record to %s: %v", c.Line, path, err))
	}
}

// record starts recording the call of tr (claimed with claimRecording).
func (e *engine) record(tr *tracker, path string) error {
	if err := e.m.Record(tr.id, path); err != nil {
		tr.releaseRecording()
		return err
	}
	return nil
}

// track returns the tracker of id, creating it if the loop has not seen
// the call yet.
func (e *engine) track(id sessions.CallID) *tracker {
	e.mu.Lock()
	defer e.mu.Unlock()
	tr, ok := e.calls[id]
	if !ok {
		tr = newTracker(id)
		e.calls[id] = tr
	}
	return tr
}

func (e *engine) lookup(id sessions.CallID) *tracker {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.calls[id]
}

// forget drops the tracker of an ended call whose runner finished. A
// runner that finishes before its call ends (an empty script) leaves it to
// the loop, which drops it when the call ends (onCall): runnerDone tells
// it, under e.mu like the check here, so one of the two always does.
func (e *engine) forget(tr *tracker) {
	if e.keepEnded {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	select {
	case <-tr.ended:
		delete(e.calls, tr.id)
	default:
		tr.runnerDone = true
	}
}

// startRunner runs the script on the call of tr in a goroutine the engine
// owns. fromRinging starts it while the call rings (scripts that answer).
func (e *engine) startRunner(tr *tracker, fromRinging bool) {
	tr.setRunner()
	e.runners.Add(1)
	go func() {
		defer e.runners.Done()
		defer e.forget(tr)
		r := &runner{e: e, tr: tr}
		r.run(e.ctx, fromRinging)
	}()
}

// waitCallsEnded waits until the Manager has no call left and the loop has
// seen every tracked call end, or d passed.
func (e *engine) waitCallsEnded(d time.Duration) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if len(e.m.Calls()) == 0 && e.allEnded() {
			return
		}
		select {
		case <-e.loopDone:
			return
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// waitFailedDial waits until the loop printed the end of the call a failed
// Dial left in the history (the newest outgoing call), or d passed.
func (e *engine) waitFailedDial(d time.Duration) {
	var last sessions.CallInfo
	for _, c := range e.m.History() {
		if c.Direction == sessions.DirectionOutgoing && !c.CreatedAt.Before(last.CreatedAt) {
			last = c
		}
	}
	if last.ID == "" {
		return
	}
	select {
	case <-e.track(last.ID).ended:
	case <-e.loopDone:
	case <-time.After(d):
	}
}

func (e *engine) allEnded() bool {
	e.mu.Lock()
	trs := make([]*tracker, 0, len(e.calls))
	for _, tr := range e.calls {
		trs = append(trs, tr)
	}
	e.mu.Unlock()
	return !slices.ContainsFunc(trs, func(tr *tracker) bool {
		select {
		case <-tr.ended:
			return false
		default:
			return true
		}
	})
}

// fail records a failed call: an error event, the reason on Err.
func (e *engine) fail(c sessions.CallInfo, reason string) {
	e.mu.Lock()
	e.failures = append(e.failures, reason)
	e.mu.Unlock()
	e.pr.Print(sessions.ErrorEvent{Time: e.o.Now(), CallID: c.ID, Err: fmt.Errorf("%s", reason)})
	e.stderr("%s", reason)
}

func (e *engine) failureList() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.failures)
}

// stderr writes one line to Options.Err.
func (e *engine) stderr(format string, args ...any) {
	e.errMu.Lock()
	defer e.errMu.Unlock()
	fmt.Fprintf(e.o.Err, format+"\n", args...)
}
