package sessions

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/teaphone/teaphone/audio"
	"github.com/teaphone/teaphone/phone"
)

// fakePhone implements Phone. Tests push session-core events with emit and
// read the commands it received with ops.
type fakePhone struct {
	events chan phone.Event

	mu      sync.Mutex
	ops     []string
	next    int
	dialErr error
	opErr   error
	// onDial runs inside Dial after the session ID is minted, before it returns.
	onDial func(sid phone.SessionID)
	// onReject runs inside Reject before it returns.
	onReject func(sid phone.SessionID)
	// onForward runs inside Forward before it returns.
	onForward func(sid phone.SessionID)
	// onSource runs inside SetSource before it returns.
	onSource func(sid phone.SessionID, src audio.Source)
}

func newFakePhone() *fakePhone { return &fakePhone{events: make(chan phone.Event)} }

// noop is an event of no session; the Manager drops it. Emitting it proves
// every earlier event has been processed (the pump is one goroutine).
type noop struct{}

func (noop) EventTime() time.Time { return time.Time{} }

func (f *fakePhone) emit(t testing.TB, ev phone.Event) {
	t.Helper()
	select {
	case f.events <- ev:
	case <-time.After(5 * time.Second):
		t.Fatalf("pump blocked: could not deliver %T", ev)
	}
}

// flush waits until the pump processed everything emitted so far.
func (f *fakePhone) flush(t testing.TB) { f.emit(t, noop{}) }

func (f *fakePhone) record(format string, args ...any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ops = append(f.ops, fmt.Sprintf(format, args...))
	return f.opErr
}

func (f *fakePhone) recorded() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.ops...)
}

func (f *fakePhone) Events() <-chan phone.Event { return f.events }

func (f *fakePhone) Dial(_ context.Context, target string, o phone.DialOptions) (phone.SessionID, error) {
	f.mu.Lock()
	if f.dialErr != nil {
		err := f.dialErr
		f.mu.Unlock()
		return "", err
	}
	f.next++
	sid := phone.SessionID(fmt.Sprintf("s%d", f.next))
	if o.Session != "" {
		sid = o.Session // like the real phone: the caller's ID names the session
	}
	f.ops = append(f.ops, fmt.Sprintf("dial %s %s", sid, target))
	hook := f.onDial
	f.mu.Unlock()
	if hook != nil {
		hook(sid)
	}
	return sid, nil
}

func (f *fakePhone) Accept(id phone.SessionID) error { return f.record("accept %s", id) }
func (f *fakePhone) Reject(id phone.SessionID, code int, reason string) error {
	err := f.record("reject %s %d %s", id, code, reason)
	if f.onReject != nil {
		f.onReject(id)
	}
	return err
}
func (f *fakePhone) Forward(id phone.SessionID, target string) error {
	err := f.record("forward %s %s", id, target)
	if f.onForward != nil {
		f.onForward(id)
	}
	return err
}
func (f *fakePhone) Hangup(id phone.SessionID) error { return f.record("hangup %s", id) }
func (f *fakePhone) Hold(id phone.SessionID) error   { return f.record("hold %s", id) }
func (f *fakePhone) Resume(id phone.SessionID) error { return f.record("resume %s", id) }
func (f *fakePhone) Mute(id phone.SessionID, on bool) error {
	return f.record("mute %s %v", id, on)
}
func (f *fakePhone) SendDTMF(id phone.SessionID, digits string) error {
	return f.record("dtmf %s %s", id, digits)
}
func (f *fakePhone) Transfer(id phone.SessionID, target string) error {
	return f.record("transfer %s %s", id, target)
}
func (f *fakePhone) AttendedTransfer(id, consult phone.SessionID) error {
	return f.record("attended %s %s", id, consult)
}
func (f *fakePhone) AnswerTransfer(id phone.SessionID, accept bool) error {
	return f.record("answer-transfer %s %v", id, accept)
}

func (f *fakePhone) SetSource(id phone.SessionID, src audio.Source) error {
	f.mu.Lock()
	hook := f.onSource
	f.mu.Unlock()
	if hook != nil {
		hook(id, src)
	}
	if src == nil {
		return f.record("source %s nil", id)
	}
	return f.record("source %s", id)
}
func (f *fakePhone) Record(id phone.SessionID, path string) error {
	return f.record("record %s %s", id, path)
}
func (f *fakePhone) StopRecording(id phone.SessionID) error {
	return f.record("stoprecording %s", id)
}

var errFake = errors.New("fake failure")

// setup returns a started Manager on a fake phone and a subscription; both
// are closed at the end of the test.
func setup(t *testing.T, opts ...Option) (*Manager, *fakePhone, *Subscription) {
	t.Helper()
	fp := newFakePhone()
	m := New(opts...)
	if err := m.Start(fp); err != nil {
		t.Fatal(err)
	}
	sub := m.Subscribe()
	t.Cleanup(func() { _ = m.Close() })
	return m, fp, sub
}

func recv(t testing.TB, sub *Subscription) Event {
	t.Helper()
	select {
	case ev, ok := <-sub.C():
		if !ok {
			t.Fatalf("subscription closed (err %v)", sub.Err())
		}
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5s")
	}
	return nil
}

// recvCall returns the next CallEvent, skipping other events.
func recvCall(t testing.TB, sub *Subscription) CallEvent {
	t.Helper()
	for {
		if ce, ok := recv(t, sub).(CallEvent); ok {
			return ce
		}
	}
}

// noEvent asserts nothing more is delivered soon.
func noEvent(t testing.TB, sub *Subscription) {
	t.Helper()
	select {
	case ev := <-sub.C():
		t.Fatalf("unexpected event %#v", ev)
	case <-time.After(20 * time.Millisecond):
	}
}

func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func at(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }

// callEv builds a session-core CallEvent.
func callEv(sid phone.SessionID, dir phone.Direction, s phone.State, sec int) phone.CallEvent {
	return phone.CallEvent{Time: at(sec), Session: sid, Direction: dir, State: s, RemoteURI: "sip:bob@example.com"}
}

// dial places a call and returns its ID and session.
func dial(t *testing.T, m *Manager, fp *fakePhone, sub *Subscription) (CallID, phone.SessionID) {
	t.Helper()
	id, err := m.Dial(context.Background(), "sip:bob@example.com", DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ce := recvCall(t, sub)
	if ce.Call.ID != id || ce.Call.State != StateInitiating || ce.Prev != StateUnknown {
		t.Fatalf("first event %+v", ce)
	}
	c, _ := m.Call(id)
	return id, c.SessionID
}

// incoming offers an incoming call on sid and returns its ID and decision.
func incoming(t *testing.T, m *Manager, sub *Subscription, sid phone.SessionID, from string) (CallID, phone.Decision) {
	t.Helper()
	d := m.OnIncomingCall(phone.IncomingCall{
		Session: sid, From: from, RemoteURI: "", SIPCallID: "abc@host", Received: at(0),
		Headers: map[string]string{"subject": "Quarterly numbers"},
	})
	ce := recvCall(t, sub)
	if ce.Call.Direction != DirectionIncoming || ce.Call.State != StateRinging || ce.Call.SessionID != sid {
		t.Fatalf("incoming event %+v", ce)
	}
	return ce.Call.ID, d
}
