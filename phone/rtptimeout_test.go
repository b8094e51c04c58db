package phone

import (
	"context"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

func TestRTPExpected(t *testing.T) {
	for _, tc := range []struct {
		name                       string
		st                         State
		heldLocal, heldRemote, rcv bool
		want                       bool
	}{
		{"active", StateActive, false, false, true, true},
		{"held by us", StateActive, true, false, true, false},
		{"held by the remote", StateActive, false, true, true, false},
		{"remote does not send", StateActive, false, false, false, false},
		{"ringing", StateRinging, false, false, true, false},
		{"early media", StateProceeding, false, false, true, false},
		{"transferring", StateTransferring, false, false, true, false},
		{"terminating", StateTerminating, false, false, true, false},
	} {
		if got := rtpExpected(tc.st, tc.heldLocal, tc.heldRemote, tc.rcv); got != tc.want {
			t.Errorf("%s: rtpExpected = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestRTPSilent(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	const timeout = 30 * time.Second
	for _, tc := range []struct {
		name             string
		now, last, since time.Time
		want             bool
	}{
		{"never any RTP, just answered", t0.Add(time.Second), time.Time{}, t0, false},
		{"never any RTP for the timeout", t0.Add(timeout), time.Time{}, t0, true},
		{"RTP a moment ago", t0.Add(time.Minute), t0.Add(time.Minute - time.Second), t0, false},
		{"RTP stopped long ago", t0.Add(time.Minute), t0.Add(time.Second), t0, true},
		{"just under the timeout", t0.Add(timeout - time.Millisecond), t0, t0, false},
		// Resumed (or answered) a moment ago: RTP from before (early
		// media, before the hold) does not count against the call.
		{"old RTP, just resumed", t0.Add(time.Hour), t0, t0.Add(time.Hour - time.Second), false},
		{"old RTP, resumed long ago", t0.Add(time.Hour), t0, t0.Add(time.Hour - timeout), true},
	} {
		if got := rtpSilent(tc.now, tc.last, tc.since, timeout); got != tc.want {
			t.Errorf("%s: rtpSilent = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestRTPTimeoutNoMedia: a call whose far end answers and never sends RTP
// is ended with BYE, reason "no media", once the timeout has passed.
func TestRTPTimeoutNoMedia(t *testing.T) {
	const timeout = 300 * time.Millisecond
	fp := newFakePeer(t, func(fp *fakePeer, srv *sipgo.Server) { natPeer(fp, srv, sip.Uri{}) })
	a := newTestPhone(t, Options{RTPTimeout: timeout})
	id, err := a.Dial(context.Background(), "sip:answer@"+fp.addr, DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	active := a.waitCall(id, StateActive, wait)
	ended := a.waitCall(id, StateTerminated, wait)
	if ended.Reason != "no media" {
		t.Errorf("ended with %d %q, want reason \"no media\"", ended.Code, ended.Reason)
	}
	if d := ended.Time.Sub(active.Time); d < timeout {
		t.Errorf("ended %v after answer, before the %v timeout", d, timeout)
	}
	fp.waitRequests(t, sip.BYE, 1)
}

// TestRTPTimeoutSparesLiveAndHeldCalls: a call with RTP both ways outlives
// the timeout many times over, and so does a held one (held on one side,
// held by the remote on the other), in which neither side sends.
func TestRTPTimeoutSparesLiveAndHeldCalls(t *testing.T) {
	const timeout = 400 * time.Millisecond // RTP gaps on a loaded test machine stay well below
	h := &handlerChan{calls: make(chan IncomingCall, 1), dec: Accept()}
	a := newTestPhone(t, Options{RTPTimeout: timeout})
	b := newTestPhone(t, Options{RTPTimeout: timeout, Handler: h})
	ida, idb := connect(t, a, b, h)
	time.Sleep(5 * timeout / 2)
	if err := a.Hold(ida); err != nil {
		t.Fatal(err)
	}
	a.waitFlags(ida, true, false)
	b.waitFlags(idb, false, true)
	time.Sleep(3 * timeout)
	for _, s := range []struct {
		tp *testPhone
		id SessionID
	}{{a, ida}, {b, idb}} {
		if st := s.tp.states(s.id); st[len(st)-1] != StateActive {
			t.Errorf("%s: states %v, want still active", s.id, st)
		}
	}
}
