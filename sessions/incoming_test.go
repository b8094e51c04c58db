package sessions

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/teaphone/teaphone/phone"
)

func TestIncomingDeferThenAccept(t *testing.T) {
	m, fp, sub := setup(t)
	id, d := incoming(t, m, sub, "in1", `"Alice \"A\" Smith" <sip:alice@example.com>;tag=77`)
	if d.Kind != phone.DecisionDefer {
		t.Fatalf("decision %+v", d)
	}
	c, _ := m.Call(id)
	if c.RemoteDisplay != `Alice "A" Smith` || c.RemoteURI != "sip:alice@example.com" ||
		c.Subject != "Quarterly numbers" || c.SIPCallID != "abc@host" || !c.Pending || c.Decision != "defer" ||
		!c.CreatedAt.Equal(at(0)) || !c.RingingAt.Equal(at(0)) || c.Line != 1 {
		t.Fatalf("call info %+v", c)
	}
	if p := m.Pending(); len(p) != 1 || p[0].ID != id {
		t.Fatalf("Pending() = %+v", p)
	}
	if in, ok := m.Incoming(id); !ok || in.Headers["subject"] != "Quarterly numbers" {
		t.Fatalf("Incoming() = %+v %v", in, ok)
	}
	if st := m.Stats(); st.Pending != 1 || st.Incoming != 1 {
		t.Fatalf("stats %+v", st)
	}
	if err := m.Accept(id); err != nil {
		t.Fatal(err)
	}
	ce := recvCall(t, sub)
	if ce.Call.Pending || ce.Call.Decision != "accepted" || ce.Call.State != StateRinging {
		t.Fatalf("after accept %+v", ce)
	}
	if err := m.Accept(id); !errors.Is(err, ErrNotPending) {
		t.Fatalf("second accept: %v", err)
	}
	fp.emit(t, callEv("in1", phone.DirectionIncoming, phone.StateActive, 3))
	ce = recvCall(t, sub)
	if ce.Call.State != StateConnected || !ce.Call.ConnectedAt.Equal(at(3)) {
		t.Fatalf("connected %+v", ce)
	}
	if got := fp.recorded(); !slices.Equal(got, []string{"accept in1"}) {
		t.Fatalf("phone got %q", got)
	}
	if st := m.Stats(); st.Active != 1 || st.Pending != 0 {
		t.Fatalf("stats %+v", st)
	}
	if _, ok := m.Incoming(id); ok {
		t.Fatal("incoming details kept after answer")
	}
}

func TestIncomingDeferThenReject(t *testing.T) {
	m, fp, sub := setup(t)
	id, _ := incoming(t, m, sub, "in1", "sip:alice@example.com")
	if err := m.Reject(id, 99, ""); !errors.Is(err, ErrInvalidCode) || !strings.HasPrefix(err.Error(), "reject call 1: ") {
		t.Fatalf("bad code: %v", err)
	}
	if err := m.Reject(id, 486, "Busy\r\nX: y"); err == nil {
		t.Fatal("CRLF reason accepted")
	}
	// The phone reports the end before Reject returns; it still counts as declined.
	fp.onReject = func(sid phone.SessionID) {
		ev := callEv(sid, phone.DirectionIncoming, phone.StateCancelled, 2)
		ev.Code = 486
		fp.emit(t, ev)
		fp.flush(t)
	}
	if err := m.Reject(id, 0, ""); err != nil {
		t.Fatal(err)
	}
	var last CallEvent
	for last.Call.State != StateCancelled {
		last = recvCall(t, sub)
	}
	if last.Call.Decision != "rejected 486" || last.Call.EndCode != 486 {
		t.Fatalf("%+v", last)
	}
	if got := fp.recorded(); !slices.Equal(got, []string{"reject in1 486 "}) {
		t.Fatalf("phone got %q", got)
	}
	if st := m.Stats(); st.Declined != 1 || st.Missed != 0 || st.Pending != 0 || st.Active != 0 {
		t.Fatalf("stats %+v", st)
	}
	if len(m.Pending()) != 0 || len(m.Calls()) != 0 {
		t.Fatal("call still listed")
	}
}

func TestIncomingDeferTimeout(t *testing.T) {
	m, fp, sub := setup(t, WithRingTimeout(30*time.Second))
	id, d := incoming(t, m, sub, "in1", "sip:alice@example.com")
	if d.Kind != phone.DecisionDefer || d.Timeout != 30*time.Second {
		t.Fatalf("decision %+v", d)
	}
	ev := callEv("in1", phone.DirectionIncoming, phone.StateFailed, 30)
	ev.Code, ev.Reason = 480, "ring timeout"
	fp.emit(t, ev)
	ce := recvCall(t, sub)
	if ce.Call.State != StateFailed || ce.Call.Pending || ce.Call.EndReason != "ring timeout" {
		t.Fatalf("%+v", ce)
	}
	if st := m.Stats(); st.Missed != 1 || st.Pending != 0 || st.Failed != 0 {
		t.Fatalf("stats %+v", st)
	}
	if err := m.Accept(id); !errors.Is(err, ErrCallEnded) {
		t.Fatalf("accept after timeout: %v", err)
	}
	if _, ok := m.CallByLine(1); ok {
		t.Fatal("line not freed")
	}
}

func TestIncomingForwardAndIgnore(t *testing.T) {
	m, fp, sub := setup(t)
	id, _ := incoming(t, m, sub, "in1", "sip:alice@example.com")
	if err := m.Forward(id, "sip:x@y\r\nVia: z"); !errors.Is(err, ErrInvalidTarget) {
		t.Fatalf("bad forward: %v", err)
	}
	if err := m.Forward(id, "<sip:voicemail@example.com>"); err != nil {
		t.Fatal(err)
	}
	if ce := recvCall(t, sub); ce.Call.Decision != "forwarded sip:voicemail@example.com" || ce.Call.Pending {
		t.Fatalf("%+v", ce)
	}
	id2, _ := incoming(t, m, sub, "in2", "sip:bob@example.com")
	if c, _ := m.Call(id2); c.Line != 2 {
		t.Fatalf("second call on line %d", c.Line)
	}
	if err := m.Ignore(id2); err != nil {
		t.Fatal(err)
	}
	if ce := recvCall(t, sub); !ce.Call.Ignored || !ce.Call.Pending {
		t.Fatalf("%+v", ce)
	}
	if p := m.Pending(); len(p) != 1 || !p[0].Ignored {
		t.Fatalf("Pending() = %+v", p)
	}
	fp.emit(t, callEv("in1", phone.DirectionIncoming, phone.StateCancelled, 1))
	fp.emit(t, callEv("in2", phone.DirectionIncoming, phone.StateCancelled, 1))
	fp.flush(t)
	if got := fp.recorded(); !slices.Equal(got, []string{"forward in1 sip:voicemail@example.com"}) {
		t.Fatalf("phone got %q", got)
	}
	if st := m.Stats(); st.Declined != 1 || st.Missed != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestDelayedAutoAccept(t *testing.T) {
	m, fp, sub := setup(t)
	if err := m.SetRules(AcceptAll(20 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	id, d := incoming(t, m, sub, "in1", "sip:alice@example.com")
	if d.Kind != phone.DecisionDefer || d.Timeout <= 20*time.Millisecond {
		t.Fatalf("decision %+v", d)
	}
	if c, _ := m.Call(id); c.Decision != "accept after 20ms" || !c.Pending {
		t.Fatalf("%+v", c)
	}
	ce := recvCall(t, sub)
	if ce.Call.Pending || time.Since(start) < 20*time.Millisecond {
		t.Fatalf("accepted too early or not at all: %+v", ce)
	}
	if got := fp.recorded(); !slices.Equal(got, []string{"accept in1"}) {
		t.Fatalf("phone got %q", got)
	}

	// A person deciding first stops the timer.
	if err := m.SetRules(AcceptAll(30 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	id2, _ := incoming(t, m, sub, "in2", "sip:bob@example.com")
	if err := m.Reject(id2, 603, "Decline"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(60 * time.Millisecond)
	if got := fp.recorded(); !slices.Equal(got, []string{"accept in1", "reject in2 603 Decline"}) {
		t.Fatalf("phone got %q", got)
	}
}

func TestImmediateRules(t *testing.T) {
	m, fp, sub := setup(t)
	_ = m.SetRules(Rules{
		Rules: []Rule{
			{Match: "*@spam.example", Policy: Policy{Action: ActionReject, Code: 603}},
			{Match: "sip:boss@*", Policy: Policy{Action: ActionForward, Target: "sip:me@mobile"}},
		},
		Default: Policy{Action: ActionAccept},
	})
	_, d := incoming(t, m, sub, "a", "sip:x@spam.example")
	if d.Kind != phone.DecisionReject || d.Code != 603 {
		t.Fatalf("%+v", d)
	}
	_, d = incoming(t, m, sub, "b", "<sip:boss@corp>")
	if d.Kind != phone.DecisionForward || d.Target != "sip:me@mobile" {
		t.Fatalf("%+v", d)
	}
	id, d := incoming(t, m, sub, "c", "sip:friend@example.com")
	if c, _ := m.Call(id); d.Kind != phone.DecisionAccept || c.Pending || c.Decision != "accept" {
		t.Fatalf("%+v %+v", d, c)
	}
	for _, sid := range []phone.SessionID{"a", "b"} {
		fp.emit(t, callEv(sid, phone.DirectionIncoming, phone.StateCancelled, 1))
	}
	fp.emit(t, callEv("c", phone.DirectionIncoming, phone.StateActive, 1))
	fp.flush(t)
	if st := m.Stats(); st.Declined != 2 || st.Active != 1 || st.Missed != 0 || st.Pending != 0 {
		t.Fatalf("stats %+v", st)
	}
	if len(fp.recorded()) != 0 {
		t.Fatalf("phone got %q", fp.recorded())
	}
	if err := m.SetRules(RejectAll(99)); !errors.Is(err, ErrInvalidRules) {
		t.Fatalf("invalid rules accepted: %v", err)
	}
	if m.Rules().Default.Action != ActionAccept {
		t.Fatal("invalid rules replaced valid ones")
	}
}

// A command issued while OnIncomingCall is still running waits for it, so
// the phone never gets Accept before it knows the call was deferred.
func TestCommandWaitsForHandler(t *testing.T) {
	m, fp, sub := setup(t)
	id, _ := incoming(t, m, sub, "in1", "sip:a@b")
	// Put the call back in the "handler still running" state.
	ready := make(chan struct{})
	m.mu.Lock()
	m.calls[id].ready = ready
	m.mu.Unlock()
	accepted := make(chan error)
	go func() { accepted <- m.Accept(id) }()
	select {
	case err := <-accepted:
		t.Fatalf("Accept did not wait for the handler: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	if got := fp.recorded(); len(got) != 0 {
		t.Fatalf("phone got %q while the handler ran", got)
	}
	m.mu.Lock()
	m.calls[id].ready = nil
	close(ready)
	m.mu.Unlock()
	if err := <-accepted; err != nil {
		t.Fatal(err)
	}
	if got := fp.recorded(); !slices.Equal(got, []string{"accept in1"}) {
		t.Fatalf("phone got %q", got)
	}
}

func TestSanitizedPeerText(t *testing.T) {
	m, _, sub := setup(t)
	m.OnIncomingCall(phone.IncomingCall{
		Session: "in1", RemoteURI: "sip:m@evil", RemoteDisplay: "Mal\x1b]0;pwned\x07lory",
		Subject: "hi\r\nthere", SIPCallID: "id\x00x",
	})
	c := recvCall(t, sub).Call
	if c.RemoteDisplay != "Mal]0;pwnedlory" || c.Subject != "hi  there" || c.SIPCallID != "idx" {
		t.Fatalf("%q %q %q", c.RemoteDisplay, c.Subject, c.SIPCallID)
	}
}

// The phone asks the handler before it reports an incoming call ringing
// (many calls at once, each on its own goroutine): each call is announced
// exactly once, by the handler, pending, and its ringing event changes
// nothing a person sees.
func TestIncomingAnnouncedOnceByHandler(t *testing.T) {
	m, fp, sub := setup(t)
	const n = 50
	for i := range n {
		sid := phone.SessionID("r" + strconv.Itoa(i))
		go func() {
			m.OnIncomingCall(phone.IncomingCall{Session: sid, RemoteURI: "sip:a@b", Codec: "PCMU", SRTP: "AES_CM_128_HMAC_SHA1_80", Transport: "TLS"})
			fp.events <- phone.CallEvent{Time: at(1), Session: sid, Direction: phone.DirectionIncoming,
				State: phone.StateRinging, RemoteURI: "sip:a@b", Codec: "PCMU", SRTP: "AES_CM_128_HMAC_SHA1_80", Transport: "TLS"}
		}()
	}
	seen := map[CallID]bool{}
	for range n {
		ce := recvCall(t, sub)
		if seen[ce.Call.ID] || !ce.Call.Pending || ce.Prev != StateUnknown {
			t.Fatalf("announced twice or not pending: %+v", ce)
		}
		seen[ce.Call.ID] = true
	}
	fp.flush(t)
	noEvent(t, sub)
	if st := m.Stats(); st.Total != n || st.Pending != n {
		t.Fatalf("stats %+v", st)
	}
}
