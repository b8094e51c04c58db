package headless

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/teaphone/teaphone/audio"
	"github.com/teaphone/teaphone/phone"
	"github.com/teaphone/teaphone/sessions"
)

// fakePhone implements sessions.Phone (copied in spirit from the sessions
// tests). It records the commands it gets; by default it behaves like a
// peer that answers at once only when told to (answer), and ends a call on
// Hangup.
type fakePhone struct {
	events chan phone.Event

	mu      sync.Mutex
	ops     []string
	next    int
	dialErr error
	// remote is the remote URI of dialed calls.
	remote string
}

func newFakePhone() *fakePhone {
	return &fakePhone{events: make(chan phone.Event), remote: "sip:bob@example.com"}
}

// send delivers an event to the Manager's pump (no testing.T: it also runs
// on runner goroutines inside Hangup/Accept).
func (f *fakePhone) send(ev phone.Event) {
	select {
	case f.events <- ev:
	case <-time.After(5 * time.Second):
		panic(fmt.Sprintf("pump blocked: could not deliver %T", ev))
	}
}

func (f *fakePhone) record(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ops = append(f.ops, fmt.Sprintf(format, args...))
}

func (f *fakePhone) recorded() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.ops...)
}

func (f *fakePhone) has(op string) bool {
	for _, o := range f.recorded() {
		if o == op {
			return true
		}
	}
	return false
}

// state emits a session-core call event.
func (f *fakePhone) state(sid phone.SessionID, dir phone.Direction, s phone.State, code int, reason string) {
	f.send(phone.CallEvent{
		Time: t0, Session: sid, Direction: dir, State: s, RemoteURI: f.remote, RemoteDisplay: "Bob",
		SIPCallID: "abc@host", Code: code, Reason: reason, Codec: "PCMU",
	})
}

func (f *fakePhone) Events() <-chan phone.Event { return f.events }

func (f *fakePhone) Dial(_ context.Context, target string, o phone.DialOptions) (phone.SessionID, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.dialErr != nil {
		return "", f.dialErr
	}
	f.next++
	sid := phone.SessionID(fmt.Sprintf("s%d", f.next))
	f.ops = append(f.ops, fmt.Sprintf("dial %s %s %s %s", sid, target, o.Account, o.Subject))
	return sid, nil
}

func (f *fakePhone) Accept(id phone.SessionID) error {
	f.record("accept %s", id)
	f.state(id, phone.DirectionIncoming, phone.StateActive, 200, "")
	return nil
}

func (f *fakePhone) Reject(id phone.SessionID, code int, reason string) error {
	f.record("reject %s %d %s", id, code, reason)
	f.state(id, phone.DirectionIncoming, phone.StateCancelled, code, "rejected")
	return nil
}

func (f *fakePhone) Forward(id phone.SessionID, target string) error {
	f.record("forward %s %s", id, target)
	f.state(id, phone.DirectionIncoming, phone.StateCancelled, 302, "forwarded")
	return nil
}

// Hangup ends the call like a peer answering BYE (the direction is only
// used for calls the Manager does not know).
func (f *fakePhone) Hangup(id phone.SessionID) error {
	f.record("hangup %s", id)
	f.state(id, phone.DirectionUnknown, phone.StateTerminated, 200, "local hangup")
	return nil
}

func (f *fakePhone) Hold(id phone.SessionID) error   { f.record("hold %s", id); return nil }
func (f *fakePhone) Resume(id phone.SessionID) error { f.record("resume %s", id); return nil }
func (f *fakePhone) Mute(id phone.SessionID, on bool) error {
	f.record("mute %s %v", id, on)
	return nil
}
func (f *fakePhone) SendDTMF(id phone.SessionID, digits string) error {
	f.record("dtmf %s %s", id, digits)
	return nil
}
func (f *fakePhone) Transfer(id phone.SessionID, target string) error {
	f.record("transfer %s %s", id, target)
	return nil
}
func (f *fakePhone) AttendedTransfer(id, consult phone.SessionID) error {
	f.record("attended %s %s", id, consult)
	return nil
}
func (f *fakePhone) AnswerTransfer(id phone.SessionID, accept bool) error {
	f.record("answer-transfer %s %v", id, accept)
	return nil
}

// SetSource plays the source to its end at once, like a very fast peer.
func (f *fakePhone) SetSource(id phone.SessionID, src audio.Source) error {
	if src == nil {
		f.record("source %s nil", id)
		return nil
	}
	f.record("source %s", id)
	frame := make([]int16, audio.FrameSamples)
	for range 10_000 {
		if err := src.ReadFrame(frame); err != nil {
			break
		}
	}
	return nil
}

func (f *fakePhone) Record(id phone.SessionID, path string) error {
	f.record("record %s %s", id, path)
	return nil
}

func (f *fakePhone) StopRecording(id phone.SessionID) error {
	f.record("stoprecording %s", id)
	return nil
}

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 123_000_000, time.UTC)

// syncBuffer is a bytes.Buffer safe for the printer's goroutines and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var _ io.Writer = (*syncBuffer)(nil)

// rig is a Manager on a fake phone with captured output.
type rig struct {
	m        *sessions.Manager
	fp       *fakePhone
	out, err *syncBuffer
}

func newRig(t *testing.T) *rig {
	t.Helper()
	fp := newFakePhone()
	m := sessions.New(sessions.WithClock(func() time.Time { return t0 }))
	if err := m.Start(fp); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return &rig{m: m, fp: fp, out: &syncBuffer{}, err: &syncBuffer{}}
}

func (r *rig) options(src string) Options {
	return Options{
		Events: "jsonl", Out: r.out, Err: r.err, Script: mustScript(src),
		Now: func() time.Time { return t0 },
	}
}

// events decodes the JSON lines printed so far.
func (r *rig) events(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(r.out.String()), "\n") {
		if line == "" {
			continue
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("line %q is not JSON: %v", line, err)
		}
		out = append(out, v)
	}
	return out
}

// find returns the printed events with the given fields.
func (r *rig) find(t *testing.T, fields map[string]any) []map[string]any {
	t.Helper()
	var out []map[string]any
next:
	for _, ev := range r.events(t) {
		for k, v := range fields {
			if ev[k] != v {
				continue next
			}
		}
		out = append(out, ev)
	}
	return out
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// result runs fn in a goroutine and returns a channel with its error.
func result(fn func() error) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- fn() }()
	return ch
}

func wait(t *testing.T, ch <-chan error) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(5 * time.Second):
		t.Fatal("mode did not return within 5s")
	}
	return nil
}
