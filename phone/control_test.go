package phone

import (
	"context"
	"testing"
	"time"
)

// connect places a call from a to b (b accepts) and returns both session IDs.
func connect(t *testing.T, a, b *testPhone, h *handlerChan) (SessionID, SessionID) {
	t.Helper()
	id, err := a.Dial(context.Background(), b.uri("bob"), DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ic := h.next(t, a)
	a.waitCall(id, StateActive, wait)
	b.waitCall(ic.Session, StateActive, wait)
	return id, ic.Session
}

func (tp *testPhone) waitFlags(id SessionID, heldLocal, heldRemote bool) CallEvent {
	tp.t.Helper()
	var got CallEvent
	if !tp.waitFor(wait, func(ev Event) bool {
		ce, ok := ev.(CallEvent)
		if ok && ce.Session == id && ce.HeldLocal == heldLocal && ce.HeldRemote == heldRemote && ce.State == StateActive {
			got = ce
			return true
		}
		return false
	}) {
		tp.t.Fatalf("session %s never had held_local=%v held_remote=%v; events: %s", id, heldLocal, heldRemote, tp.dump())
	}
	return got
}

func TestHoldResumeBothWays(t *testing.T) {
	a, b, h := pair(t, Accept())
	ida, idb := connect(t, a, b, h)

	if err := a.Hold(ida); err != nil {
		t.Fatal(err)
	}
	a.waitFlags(ida, true, false)
	b.waitFlags(idb, false, true)

	// b holds too while held: its offer must be inactive (RFC 3264 §8.4).
	if err := b.Hold(idb); err != nil {
		t.Fatal(err)
	}
	b.waitFlags(idb, true, true)
	a.waitFlags(ida, true, true)

	if err := a.Resume(ida); err != nil {
		t.Fatal(err)
	}
	a.waitFlags(ida, false, true)
	b.waitFlags(idb, true, false)
	if err := b.Resume(idb); err != nil {
		t.Fatal(err)
	}
	b.waitFlags(idb, false, false)
	a.waitFlags(ida, false, false)

	a.Hangup(ida)
	b.waitCall(idb, StateTerminated, wait)
}

func TestHoldGlare(t *testing.T) {
	a, b, h := pair(t, Accept())
	ida, idb := connect(t, a, b, h)
	errs := make(chan error, 2)
	go func() { errs <- a.Hold(ida) }()
	go func() { errs <- b.Hold(idb) }()
	for i := 0; i < 2; i++ {
		select {
		case err := <-errs:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("hold never completed")
		}
	}
	a.waitFlags(ida, true, true)
	b.waitFlags(idb, true, true)
}

func TestDTMFOverInfo(t *testing.T) {
	a, b, h := pair(t, Accept())
	ida, idb := connect(t, a, b, h)
	if err := a.SendDTMF(ida, "12#"); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(wait); len(b.digits(idb)) < 3 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if got := b.digits(idb); got != "12#" {
		t.Fatalf("received %q; events %s", got, b.dump())
	}
	if err := a.SendDTMF(ida, "1x"); err == nil {
		t.Error("bad digit accepted")
	}
}

func TestBlindTransfer(t *testing.T) {
	hb := &handlerChan{calls: make(chan IncomingCall, 4), dec: Accept()}
	hc := &handlerChan{calls: make(chan IncomingCall, 4), dec: Accept()}
	a := newTestPhone(t, Options{})
	b := newTestPhone(t, Options{Handler: hb, Transfer: TransferPolicy{Mode: TransferAlways}})
	c := newTestPhone(t, Options{Handler: hc})
	ida, idb := connect(t, a, b, hb)

	if err := a.Transfer(ida, c.uri("carol")); err != nil {
		t.Fatal(err)
	}
	ic := hc.next(t, b)
	c.waitCall(ic.Session, StateActive, wait)
	if ev := a.waitCall(ida, StateTerminated, wait); ev.Reason != "transferred" {
		t.Errorf("transferor end = %+v", ev)
	}
	if ev := b.waitCall(idb, StateTerminated, wait); ev.Reason != "transferred" && ev.Reason != "remote hangup" {
		t.Errorf("transferee old call end = %+v", ev)
	}
	if !a.waitFor(wait, func(ev Event) bool {
		te, ok := te(ev)
		return ok && te.Final && te.Code == 200 && te.Outgoing
	}) {
		t.Errorf("no final transfer event at transferor: %s", a.dump())
	}
}

func te(ev Event) (TransferEvent, bool) {
	t, ok := ev.(TransferEvent)
	return t, ok
}

func TestBlindTransferFailureKeepsCall(t *testing.T) {
	hb := &handlerChan{calls: make(chan IncomingCall, 4), dec: Accept()}
	hc := &handlerChan{calls: make(chan IncomingCall, 4), dec: Reject(486, "Busy Here")}
	a := newTestPhone(t, Options{})
	b := newTestPhone(t, Options{Handler: hb, Transfer: TransferPolicy{Mode: TransferAlways}})
	c := newTestPhone(t, Options{Handler: hc})
	ida, _ := connect(t, a, b, hb)
	if err := a.Transfer(ida, c.uri("carol")); err != nil {
		t.Fatal(err)
	}
	if !a.waitFor(wait, func(ev Event) bool {
		te, ok := te(ev)
		return ok && te.Final && te.Code == 486
	}) {
		t.Fatalf("no failed transfer event: %s", a.dump())
	}
	a.waitCall(ida, StateActive, wait)
	if st := a.states(ida); st[len(st)-1] != StateActive {
		t.Errorf("call not kept: %v", st)
	}
}

func TestAttendedTransfer(t *testing.T) {
	hb := &handlerChan{calls: make(chan IncomingCall, 4), dec: Accept()}
	hc := &handlerChan{calls: make(chan IncomingCall, 4), dec: Accept()}
	a := newTestPhone(t, Options{})
	b := newTestPhone(t, Options{Handler: hb, Transfer: TransferPolicy{Mode: TransferAlways}})
	c := newTestPhone(t, Options{Handler: hc})
	ab, ba := connect(t, a, b, hb)
	if err := a.Hold(ab); err != nil {
		t.Fatal(err)
	}
	ac, err := a.Dial(context.Background(), c.uri("carol"), DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ca := hc.next(t, a).Session
	a.waitCall(ac, StateActive, wait)
	if err := a.AttendedTransfer(ab, ac); err != nil {
		t.Fatal(err)
	}
	// c gets an INVITE with Replaces: answered without ringing, old leg ended.
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("transferor: %s\ntransferee: %s", a.dump(), b.dump())
		}
	})
	if ev := c.waitCall(ca, StateTerminated, wait); ev.Reason != "replaced" || ev.ReplacedBy == "" {
		t.Errorf("replaced call end = %+v", ev)
	}
	a.waitCall(ab, StateTerminated, wait)
	a.waitCall(ac, StateTerminated, wait)
	b.waitCall(ba, StateTerminated, wait)
	// b and c now talk to each other.
	var newB SessionID
	b.waitFor(wait, func(ev Event) bool {
		if ce, ok := ev.(CallEvent); ok && ce.Session != ba && ce.State == StateActive && ce.Direction == DirectionOutgoing {
			newB = ce.Session
			return true
		}
		return false
	})
	if newB == "" {
		t.Fatalf("transferee placed no new call: %s", b.dump())
	}
	b.Hangup(newB)
}

func TestReplacesWithoutMatch481(t *testing.T) {
	a, b, _ := pair(t, Accept())
	id, err := a.Dial(context.Background(), b.uri("bob"), DialOptions{Headers: map[string]string{"Replaces": "nope@x;to-tag=1;from-tag=2"}})
	if err != nil {
		t.Fatal(err)
	}
	if ev := a.waitCall(id, StateFailed, wait); ev.Code != 481 {
		t.Errorf("got %+v", ev)
	}
}

// digits returns the DTMF digits received on a session so far.
func (tp *testPhone) digits(id SessionID) string {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	var out []rune
	for _, ev := range tp.events {
		if d, ok := ev.(DTMFEvent); ok && d.Session == id && d.Received {
			out = append(out, d.Digit)
		}
	}
	return string(out)
}

// TestDTMFWhileHeld: RTP is not sent while we hold, so digits go as SIP INFO
// at once instead of waiting in the stream until the call is resumed.
func TestDTMFWhileHeld(t *testing.T) {
	a, b, h := pair(t, Accept())
	ida, idb := connect(t, a, b, h)
	if err := a.Hold(ida); err != nil {
		t.Fatal(err)
	}
	if err := a.SendDTMF(ida, "34"); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(wait); len(b.digits(idb)) < 2 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if got := b.digits(idb); got != "34" {
		t.Fatalf("held: received %q, want 34", got)
	}
}

// TestHangupWhileTransferring: an answered call whose transfer is still
// pending is ended with BYE, not treated as unanswered.
func TestHangupWhileTransferring(t *testing.T) {
	hb := &handlerChan{calls: make(chan IncomingCall, 4), dec: Accept()}
	hc := &handlerChan{calls: make(chan IncomingCall, 4), dec: Defer(0)}
	a := newTestPhone(t, Options{})
	b := newTestPhone(t, Options{Handler: hb, Transfer: TransferPolicy{Mode: TransferAlways}})
	c := newTestPhone(t, Options{Handler: hc})
	ida, idb := connect(t, a, b, hb)
	if err := a.Transfer(ida, c.uri("carol")); err != nil {
		t.Fatal(err)
	}
	a.waitCall(ida, StateTransferring, wait)
	hc.next(t, b) // carol rings and does not answer
	if err := a.Hangup(ida); err != nil {
		t.Fatal(err)
	}
	if ev := a.waitCall(ida, StateTerminated, wait); ev.Reason != "local hangup" {
		t.Errorf("%+v", ev)
	}
	if ev := b.waitCall(idb, StateTerminated, wait); ev.Reason != "remote hangup" {
		t.Errorf("%+v", ev)
	}
}
