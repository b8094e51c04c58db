package sessions

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/teaphone/teaphone/phone"
)

// TestAutoHold: with call waiting on, answering or placing a call holds the
// connected calls first; without it nothing is held.
func TestAutoHold(t *testing.T) {
	for _, on := range []bool{true, false} {
		m, fp, sub := setup(t, WithAutoHold(on))
		id1, sid1 := dial(t, m, fp, sub)
		fp.emit(t, callEv(sid1, phone.DirectionOutgoing, phone.StateActive, 1))
		if ce := recvCall(t, sub); ce.Call.State != StateConnected {
			t.Fatalf("%+v", ce)
		}
		id2, d := incoming(t, m, sub, "in-2", "sip:carol@example.com")
		if d.Kind != phone.DecisionDefer {
			t.Fatalf("decision %+v", d)
		}
		if err := m.Accept(id2); err != nil {
			t.Fatal(err)
		}
		held := false
		for _, op := range fp.recorded() {
			held = held || strings.HasPrefix(op, "hold "+string(sid1))
		}
		if held != on {
			t.Errorf("auto-hold %v: first call held = %v (ops %v)", on, held, fp.recorded())
		}
		_ = id1
	}
}

// TestAutoHoldNotForRefused: a dial or an answer that is refused (a bad
// target, the phone says no, a call that is not pending) leaves the
// connected call as it was: nothing is held.
func TestAutoHoldNotForRefused(t *testing.T) {
	m, fp, sub := setup(t, WithAutoHold(true))
	_, sid1 := dial(t, m, fp, sub)
	fp.emit(t, callEv(sid1, phone.DirectionOutgoing, phone.StateActive, 1))
	if ce := recvCall(t, sub); ce.Call.State != StateConnected {
		t.Fatalf("%+v", ce)
	}
	if _, err := m.Dial(context.Background(), "sip:bad target\r\n", DialOptions{}); err == nil {
		t.Fatal("a bad target was dialled")
	}
	fp.mu.Lock()
	fp.dialErr = errFake
	fp.mu.Unlock()
	if _, err := m.Dial(context.Background(), "sip:carol@example.com", DialOptions{}); !errors.Is(err, errFake) {
		t.Fatalf("refused dial: %v", err)
	}
	if ce := recvCall(t, sub); ce.Call.State != StateInitiating {
		t.Fatalf("%+v", ce)
	}
	if ce := recvCall(t, sub); ce.Call.State != StateFailed {
		t.Fatalf("%+v", ce)
	}
	if err := m.Accept(CallID("no-such-call")); err == nil {
		t.Fatal("accepted a call that does not exist")
	}
	id2, _ := incoming(t, m, sub, "in-2", "sip:dave@example.com")
	fp.mu.Lock()
	fp.opErr = errFake
	fp.mu.Unlock()
	if err := m.Accept(id2); !errors.Is(err, errFake) {
		t.Fatalf("refused answer: %v", err)
	}
	for _, op := range fp.recorded() {
		if strings.HasPrefix(op, "hold ") {
			t.Fatalf("held after a refused dial or answer: %v", fp.recorded())
		}
	}
}
