package sessions

import (
	"context"
	"errors"
	"math"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/teaphone/teaphone/phone"
)

func TestOutgoingLifecycleAndTimestampsSetOnce(t *testing.T) {
	m, fp, sub := setup(t)
	id, sid := dial(t, m, fp, sub)
	if _, err := uuid.Parse(string(id)); err != nil {
		t.Fatalf("CallID %q is not a UUID: %v", id, err)
	}
	if v, _ := uuid.Parse(string(id)); v.Version() != 4 {
		t.Fatalf("CallID version %d", v.Version())
	}

	out := phone.DirectionOutgoing
	fp.emit(t, callEv(sid, out, phone.StateRinging, 1))
	ce := recvCall(t, sub)
	if ce.Call.State != StateRinging || ce.Prev != StateInitiating || !ce.Call.RingingAt.Equal(at(1)) {
		t.Fatalf("ringing event %+v", ce)
	}
	fp.emit(t, callEv(sid, out, phone.StateRinging, 2)) // duplicate: no event, time kept
	ev := callEv(sid, out, phone.StateActive, 3)
	ev.Codec, ev.SIPCallID = "PCMU", "xyz@host"
	fp.emit(t, ev)
	ce = recvCall(t, sub)
	if ce.Call.State != StateConnected || ce.Prev != StateRinging || ce.Call.Codec != "PCMU" || ce.Call.SIPCallID != "xyz@host" {
		t.Fatalf("connected event %+v", ce)
	}
	// Hold both ways: still Connected, flags visible.
	ev = callEv(sid, out, phone.StateActive, 4)
	ev.HeldLocal = true
	fp.emit(t, ev)
	ce = recvCall(t, sub)
	if ce.Call.State != StateConnected || !ce.Call.HeldLocal || ce.Call.HeldRemote || ce.Prev != StateConnected {
		t.Fatalf("held event %+v", ce)
	}
	ev.HeldRemote, ev.Time = true, at(5)
	fp.emit(t, ev)
	if ce = recvCall(t, sub); !ce.Call.HeldRemote || !ce.Call.Held() {
		t.Fatalf("held remote event %+v", ce)
	}
	ev = callEv(sid, out, phone.StateActive, 6)
	ev.Muted = true
	fp.emit(t, ev)
	if ce = recvCall(t, sub); !ce.Call.Muted || ce.Call.HeldLocal {
		t.Fatalf("muted event %+v", ce)
	}
	fp.emit(t, callEv(sid, out, phone.StateActive, 7)) // re-announce: ConnectedAt kept
	recvCall(t, sub)                                   // muted cleared
	end := callEv(sid, out, phone.StateTerminated, 10)
	end.Code, end.Reason = 200, "remote hangup"
	fp.emit(t, end)
	ce = recvCall(t, sub)
	if ce.Call.State != StateTerminated || ce.Call.EndReason != "remote hangup" || ce.Call.EndCode != 200 {
		t.Fatalf("terminated event %+v", ce)
	}
	fp.emit(t, callEv(sid, out, phone.StateTerminated, 11)) // late duplicate
	fp.emit(t, callEv(sid, out, phone.StateActive, 12))     // late nonsense: a final state is final
	fp.flush(t)
	noEvent(t, sub)

	c, ok := m.Call(id)
	if !ok {
		t.Fatal("call forgotten")
	}
	if !c.RingingAt.Equal(at(1)) || !c.ConnectedAt.Equal(at(3)) || !c.EndedAt.Equal(at(10)) || c.State != StateTerminated {
		t.Fatalf("timestamps not set once: %+v", c)
	}
	if d := c.Duration(at(100)); d != 7*time.Second {
		t.Errorf("duration %v", d)
	}
	if len(m.Calls()) != 0 {
		t.Errorf("Calls() = %+v after the end", m.Calls())
	}
	if h := m.History(); len(h) != 1 || h[0].ID != id {
		t.Errorf("History() = %+v", h)
	}
	want := Stats{Total: 1, Outgoing: 1}
	if got := m.Stats(); got != want {
		t.Errorf("Stats() = %+v, want %+v", got, want)
	}
}

func TestCountersNeverUnderflow(t *testing.T) {
	out, in := phone.DirectionOutgoing, phone.DirectionIncoming
	type step struct {
		state phone.State
		code  int
	}
	tests := []struct {
		name     string
		incoming bool
		steps    []step
		want     Stats
	}{
		{"remote BYE", false, []step{{phone.StateActive, 0}, {phone.StateTerminated, 200}}, Stats{Total: 1, Outgoing: 1}},
		{"network failure after answer", false, []step{{phone.StateActive, 0}, {phone.StateFailed, 408}}, Stats{Total: 1, Outgoing: 1, Failed: 1}},
		{"local hangup", false, []step{{phone.StateActive, 0}, {phone.StateTerminating, 0}, {phone.StateTerminated, 200}}, Stats{Total: 1, Outgoing: 1}},
		{"cancel before answer", false, []step{{phone.StateRinging, 180}, {phone.StateCancelled, 487}}, Stats{Total: 1, Outgoing: 1}},
		{"busy", false, []step{{phone.StateFailed, 486}}, Stats{Total: 1, Outgoing: 1, Failed: 1}},
		{"duplicate finals", false, []step{{phone.StateActive, 0}, {phone.StateTerminated, 200}, {phone.StateTerminated, 200}, {phone.StateFailed, 500}}, Stats{Total: 1, Outgoing: 1}},
		{"transfer then BYE", false, []step{{phone.StateActive, 0}, {phone.StateTransferring, 0}, {phone.StateTerminated, 200}}, Stats{Total: 1, Outgoing: 1}},
		{"incoming remote BYE", true, []step{{phone.StateActive, 0}, {phone.StateTerminated, 200}}, Stats{Total: 1, Incoming: 1}},
		{"incoming caller cancels", true, []step{{phone.StateCancelled, 487}}, Stats{Total: 1, Incoming: 1, Missed: 1}},
		{"incoming transport error", true, []step{{phone.StateActive, 0}, {phone.StateFailed, 503}}, Stats{Total: 1, Incoming: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, fp, sub := setup(t)
			var sid phone.SessionID
			dir := out
			if tt.incoming {
				dir = in
				sid = "in1"
				incoming(t, m, sub, sid, "sip:alice@example.com")
			} else {
				_, sid = dial(t, m, fp, sub)
			}
			for i, s := range tt.steps {
				ev := callEv(sid, dir, s.state, i+1)
				ev.Code = s.code
				fp.emit(t, ev)
				fp.flush(t)
				if st := m.Stats(); st.Active > 1 || st.Active == math.MaxUint64 {
					t.Fatalf("after %v: Active = %d", s.state, st.Active)
				}
				if s.state == phone.StateActive && m.Stats().Active != 1 {
					t.Fatalf("connected call not counted: %+v", m.Stats())
				}
			}
			if got := m.Stats(); got != tt.want {
				t.Errorf("Stats() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestDialErrors(t *testing.T) {
	m, fp, sub := setup(t)
	if _, err := m.Dial(context.Background(), "sip:bob@example.com\r\nX-Evil: 1", DialOptions{}); !errors.Is(err, ErrInvalidTarget) {
		t.Fatalf("CRLF target: %v", err)
	}
	if _, err := m.Dial(context.Background(), "sip:bob@example.com", DialOptions{Subject: "hi\nthere"}); err == nil {
		t.Fatal("CRLF subject accepted")
	}
	if ops := fp.recorded(); len(ops) != 0 {
		t.Fatalf("invalid input reached the phone: %v", ops)
	}
	noEvent(t, sub)

	fp.dialErr = errFake
	id, err := m.Dial(context.Background(), "sip:bob@example.com", DialOptions{})
	if !errors.Is(err, errFake) || id != "" || !strings.HasPrefix(err.Error(), "dial sip:bob@example.com: ") {
		t.Fatalf("Dial = %q, %v", id, err)
	}
	ce := recvCall(t, sub)
	if ce.Call.State != StateInitiating {
		t.Fatalf("first %+v", ce)
	}
	ce = recvCall(t, sub)
	if ce.Call.State != StateFailed || ce.Call.EndReason != "fake failure" || ce.Call.EndedAt.IsZero() {
		t.Fatalf("failed %+v", ce)
	}
	if st := m.Stats(); st.Failed != 1 || st.Active != 0 || st.Total != 1 {
		t.Fatalf("stats %+v", st)
	}
	if len(m.Calls()) != 0 || len(m.History()) != 1 {
		t.Fatal("failed dial must be in history only")
	}
}

func TestNotStartedAndClosed(t *testing.T) {
	m := New()
	if _, err := m.Dial(context.Background(), "sip:a@b", DialOptions{}); !errors.Is(err, ErrNotStarted) {
		t.Fatalf("Dial before Start: %v", err)
	}
	fp := newFakePhone()
	if err := m.Start(fp); err != nil {
		t.Fatal(err)
	}
	if err := m.Start(fp); !errors.Is(err, ErrAlreadyStarted) {
		t.Fatalf("second Start: %v", err)
	}
	_ = m.Close()
	_ = m.Close()
	if _, err := m.Dial(context.Background(), "sip:a@b", DialOptions{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Dial after Close: %v", err)
	}
	if d := m.OnIncomingCall(phone.IncomingCall{Session: "x"}); d.Kind != phone.DecisionReject {
		t.Fatalf("incoming after Close: %+v", d)
	}
	sub := m.Subscribe()
	if _, ok := <-sub.C(); ok {
		t.Fatal("subscription after Close delivers")
	}
	sub.Close()
	select {
	case <-m.Done():
	default:
		t.Fatal("Done not closed after Close")
	}
	if err := New().Close(); err != nil {
		t.Fatal(err)
	}
}

func TestCommandsByCallID(t *testing.T) {
	m, fp, sub := setup(t)
	id, sid := dial(t, m, fp, sub)
	id2, sid2 := dial(t, m, fp, sub)
	ok := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	ok(m.Hold(id))
	ok(m.Resume(id))
	ok(m.Mute(id))
	ok(m.Unmute(id))
	ok(m.SendDTMF(id, "12#a"))
	ok(m.Transfer(id, " sip:carol@example.com "))
	ok(m.AttendedTransfer(id, id2))
	s1, s2 := string(sid), string(sid2)
	want := []string{
		"dial " + s1 + " sip:bob@example.com", "dial " + s2 + " sip:bob@example.com",
		"hold " + s1, "resume " + s1, "mute " + s1 + " true", "mute " + s1 + " false", "dtmf " + s1 + " 12#A",
		"transfer " + s1 + " sip:carol@example.com", "attended " + s1 + " " + s2,
	}
	if got := fp.recorded(); !slices.Equal(got, want) {
		t.Fatalf("phone got %q\nwant %q", got, want)
	}
	_ = sid
	_ = sid2

	// Validation before SIP.
	if err := m.SendDTMF(id, "12x"); !errors.Is(err, ErrInvalidDigits) || !strings.HasPrefix(err.Error(), "dtmf call 1: ") {
		t.Errorf("bad digits: %v", err)
	}
	if err := m.Transfer(id, "sip:x@y\r\nVia: z"); !errors.Is(err, ErrInvalidTarget) {
		t.Errorf("bad transfer target: %v", err)
	}
	if err := m.AttendedTransfer(id, id); err == nil {
		t.Error("transfer to itself accepted")
	}
	if len(fp.recorded()) != len(want) {
		t.Fatalf("invalid commands reached the phone: %q", fp.recorded()[len(want):])
	}

	// Errors from the phone are wrapped with the operation and line.
	fp.mu.Lock()
	fp.opErr = errFake
	fp.mu.Unlock()
	err := m.Hold(id2)
	if !errors.Is(err, errFake) || err.Error() != "hold call 2: fake failure" {
		t.Errorf("Hold error %q", err)
	}

	// Unknown and ended calls.
	err = m.Hold("nope")
	if !errors.Is(err, ErrNoSuchCall) || err.Error() != "hold call nope: no such call" {
		t.Errorf("unknown: %v", err)
	}
	for _, f := range []func(CallID) error{m.Hangup, m.Resume, m.Mute, m.Unmute, m.Accept, m.Ignore,
		func(id CallID) error { return m.Reject(id, 0, "") },
		func(id CallID) error { return m.Forward(id, "sip:x@y") },
		func(id CallID) error { return m.SendDTMF(id, "1") },
		func(id CallID) error { return m.Transfer(id, "sip:x@y") },
		func(id CallID) error { return m.AttendedTransfer(id, "nope") },
		func(id CallID) error { return m.SetRecording(id, true) },
	} {
		if err := f(CallID(uuid.NewString())); !errors.Is(err, ErrNoSuchCall) {
			t.Errorf("unknown call: %v", err)
		}
	}
	fp.emit(t, callEv(sid, phone.DirectionOutgoing, phone.StateFailed, 1))
	fp.flush(t)
	if err := m.Hold(id); !errors.Is(err, ErrCallEnded) {
		t.Errorf("ended call: %v", err)
	}
	if err := m.Accept(id2); !errors.Is(err, ErrNotPending) {
		t.Errorf("accept of an outgoing call: %v", err)
	}
}

func TestRecordingFlag(t *testing.T) {
	m, fp, sub := setup(t)
	id, _ := dial(t, m, fp, sub)
	if err := m.SetRecording(id, true); err == nil {
		t.Fatal("recording without a directory accepted")
	}
	if err := m.setRecordingFlag(id, true); err != nil {
		t.Fatal(err)
	}
	if ce := recvCall(t, sub); !ce.Call.Recording {
		t.Fatalf("%+v", ce)
	}
	_ = m.setRecordingFlag(id, true) // no change, no event
	noEvent(t, sub)
}

func TestLineNumbersReused(t *testing.T) {
	m, fp, sub := setup(t)
	ids := make([]CallID, 3)
	sids := make([]phone.SessionID, 3)
	for i := range ids {
		ids[i], sids[i] = dial(t, m, fp, sub)
		if c, _ := m.Call(ids[i]); c.Line != i+1 {
			t.Fatalf("call %d on line %d", i, c.Line)
		}
	}
	fp.emit(t, callEv(sids[1], phone.DirectionOutgoing, phone.StateTerminated, 1))
	recvCall(t, sub)
	if _, ok := m.CallByLine(2); ok {
		t.Fatal("line 2 still taken")
	}
	id4, _ := dial(t, m, fp, sub)
	if c, _ := m.Call(id4); c.Line != 2 {
		t.Fatalf("new call on line %d, want 2", c.Line)
	}
	if got, ok := m.Resolve("2"); !ok || got != id4 {
		t.Fatalf("Resolve(2) = %v %v", got, ok)
	}
	if got, ok := m.Resolve(string(ids[0])); !ok || got != ids[0] {
		t.Fatalf("Resolve(uuid) = %v %v", got, ok)
	}
	if _, ok := m.Resolve("9"); ok {
		t.Fatal("Resolve(9)")
	}
	// The ended call keeps its line in history.
	if c, _ := m.Call(ids[1]); c.Line != 2 || c.State != StateTerminated {
		t.Fatalf("ended call %+v", c)
	}
	lines := []int{}
	for _, c := range m.Calls() {
		lines = append(lines, c.Line)
	}
	if !slices.Equal(lines, []int{1, 2, 3}) {
		t.Fatalf("Calls() lines %v", lines)
	}
	for _, sid := range []phone.SessionID{sids[0], sids[2], "s4"} {
		fp.emit(t, callEv(sid, phone.DirectionOutgoing, phone.StateTerminated, 2))
		recvCall(t, sub)
	}
	id5, _ := dial(t, m, fp, sub)
	if c, _ := m.Call(id5); c.Line != 1 {
		t.Fatalf("after all ended, new call on line %d", c.Line)
	}
}

func TestHangupAll(t *testing.T) {
	m, fp, sub := setup(t)
	_, s1 := dial(t, m, fp, sub)
	_, s2 := dial(t, m, fp, sub)
	incoming(t, m, sub, "in9", "sip:alice@example.com")
	_, s3 := dial(t, m, fp, sub)
	fp.emit(t, callEv(s3, phone.DirectionOutgoing, phone.StateTerminated, 1))
	fp.flush(t)
	if err := m.HangupAll(); err != nil {
		t.Fatal(err)
	}
	got := fp.recorded()[3:]
	slices.Sort(got)
	want := []string{"hangup in9", "hangup " + string(s1), "hangup " + string(s2)}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("hangups %q, want %q", got, want)
	}
	fp.emit(t, callEv("in9", phone.DirectionIncoming, phone.StateCancelled, 2))
	fp.flush(t)
	if st := m.Stats(); st.Declined != 1 || st.Missed != 0 {
		t.Fatalf("hung-up incoming call counted as %+v", st)
	}
}

func TestHangupWhileDialing(t *testing.T) {
	m, fp, sub := setup(t)
	release := make(chan struct{})
	fp.onDial = func(phone.SessionID) { <-release }
	done := make(chan CallID)
	go func() {
		id, _ := m.Dial(context.Background(), "sip:bob@example.com", DialOptions{})
		done <- id
	}()
	ce := recvCall(t, sub)
	if err := m.Hold(ce.Call.ID); !errors.Is(err, ErrNotReady) {
		t.Fatalf("hold while dialing: %v", err)
	}
	if err := m.Hangup(ce.Call.ID); err != nil {
		t.Fatal(err)
	}
	close(release)
	if id := <-done; id != ce.Call.ID {
		t.Fatalf("Dial returned %q, event had %q", id, ce.Call.ID)
	}
	sid := "dial " + string(ce.Call.SessionID)
	if got := fp.recorded(); !slices.Equal(got, []string{sid + " sip:bob@example.com", "hangup " + string(ce.Call.SessionID)}) {
		t.Fatalf("phone got %q", got)
	}
}

// Events the phone emits for a session before Dial returns its ID are kept
// and applied to the right call, in order.
func TestEventsBeforeDialReturns(t *testing.T) {
	m, fp, sub := setup(t)
	fp.onDial = func(sid phone.SessionID) {
		fp.emit(t, callEv(sid, phone.DirectionOutgoing, phone.StateInitiating, 1))
		fp.emit(t, callEv(sid, phone.DirectionOutgoing, phone.StateRinging, 2))
		fp.emit(t, phone.DTMFEvent{Session: sid, Digit: '5', Received: true, Method: "rfc4733"})
		fp.flush(t)
	}
	id, err := m.Dial(context.Background(), "sip:bob@example.com", DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ce := recvCall(t, sub); ce.Call.ID != id || ce.Call.State != StateInitiating {
		t.Fatalf("%+v", ce)
	}
	if ce := recvCall(t, sub); ce.Call.ID != id || ce.Call.State != StateRinging || ce.Prev != StateInitiating {
		t.Fatalf("%+v", ce)
	}
	if d, ok := recv(t, sub).(DTMFEvent); !ok || d.CallID != id || d.Digit != "5" || !d.Received || d.Line != 1 {
		t.Fatalf("dtmf %+v", d)
	}
	if st := m.Stats(); st.Total != 1 {
		t.Fatalf("session adopted twice: %+v", st)
	}
}

// A session the phone made on its own (no Dial, no handler: a transfer it
// executes, an INVITE with Replaces it answered) is adopted and announced
// at its first event; events of a session never seen are dropped.
func TestAdoptUnknownSession(t *testing.T) {
	m, fp, sub := setup(t)
	ev := callEv("x1", phone.DirectionIncoming, phone.StateActive, 1)
	ev.RemoteURI = `"Eve" <sip:eve@example.com>`
	fp.emit(t, ev)
	ce := recvCall(t, sub)
	if ce.Call.Direction != DirectionIncoming || ce.Call.Line != 1 || ce.Call.State != StateConnected ||
		ce.Call.RemoteDisplay != "Eve" || ce.Call.RemoteURI != "sip:eve@example.com" || ce.Prev != StateUnknown {
		t.Fatalf("adopted %+v", ce)
	}
	fp.emit(t, ev) // the same state again changes nothing
	fp.flush(t)
	noEvent(t, sub)
	fp.emit(t, callEv("x2", phone.DirectionOutgoing, phone.StateInitiating, 2))
	if ce := recvCall(t, sub); ce.Call.Direction != DirectionOutgoing || ce.Call.Line != 2 || ce.Prev != StateUnknown {
		t.Fatalf("adopted outgoing %+v", ce)
	}
	// Media or DTMF of a session never seen is dropped, errors are published.
	fp.emit(t, phone.MediaEvent{Session: "ghost"})
	fp.emit(t, phone.DTMFEvent{Session: "ghost", Digit: '1'})
	fp.emit(t, phone.ErrorEvent{Session: "ghost", Err: errFake})
	if e, ok := recv(t, sub).(ErrorEvent); !ok || e.CallID != "" || !errors.Is(e.Err, errFake) {
		t.Fatalf("error event %+v", e)
	}
	if st := m.Stats(); st.Total != 2 || st.Incoming != 1 || st.Outgoing != 1 {
		t.Fatalf("ghost adopted: %+v", st)
	}
}

func TestTransferEvents(t *testing.T) {
	m, fp, sub := setup(t)
	id, sid := dial(t, m, fp, sub)
	fp.emit(t, callEv(sid, phone.DirectionOutgoing, phone.StateActive, 1))
	recvCall(t, sub)
	fp.emit(t, callEv(sid, phone.DirectionOutgoing, phone.StateTransferring, 2))
	if ce := recvCall(t, sub); ce.Call.State != StateProceeding || ce.Call.ConnectedAt.IsZero() {
		t.Fatalf("transferring %+v", ce)
	}
	fp.emit(t, phone.TransferEvent{Session: sid, Target: "sip:carol@example.com", Outgoing: true, Code: 180})
	te, ok := recv(t, sub).(TransferEvent)
	if !ok || te.CallID != id || te.Transfer.Code != 180 || !te.Transfer.Active() {
		t.Fatalf("transfer %+v", te)
	}
	// A transfer we execute creates a new call.
	fp.emit(t, phone.TransferEvent{Session: sid, Target: "sip:dave@example.com", NewSession: "t1"})
	ce := recvCall(t, sub)
	if ce.Call.TransferredFrom != id || ce.Call.Direction != DirectionOutgoing || ce.Call.RemoteURI != "sip:dave@example.com" {
		t.Fatalf("new call %+v", ce)
	}
	te = recv(t, sub).(TransferEvent)
	if te.Transfer.NewCallID != ce.Call.ID {
		t.Fatalf("transfer event %+v", te)
	}
	fp.emit(t, callEv("t1", phone.DirectionOutgoing, phone.StateRinging, 3))
	if c := recvCall(t, sub); c.Call.ID != ce.Call.ID || c.Call.State != StateRinging {
		t.Fatalf("%+v", c)
	}
	if c, _ := m.Call(id); c.Transfer.NewCallID != ce.Call.ID {
		t.Fatalf("CallInfo.Transfer %+v", c.Transfer)
	}
}

func TestRegistrationsAndMedia(t *testing.T) {
	m, fp, sub := setup(t)
	fp.emit(t, phone.RegistrationEvent{Time: at(1), Account: "work", State: phone.RegRegistered, Expires: 300, Code: 200, Server: "UDP 192.0.2.1:5060 (a.pbx.example.com)",
		Public: netip.MustParseAddrPort("203.0.113.7:40123")})
	fp.emit(t, phone.RegistrationEvent{Time: at(2), Account: "home", State: phone.RegFailed, Code: 403, Reason: "Forbidden\x1b"})
	r := recv(t, sub).(RegistrationEvent)
	if r.Account != "work" || r.State != RegRegistered || r.Expires != 300 || r.Kind() != "registration" || r.Server != "UDP 192.0.2.1:5060 (a.pbx.example.com)" || r.Public != "203.0.113.7:40123" {
		t.Fatalf("%+v", r)
	}
	recv(t, sub)
	regs := m.Registrations()
	if len(regs) != 2 || regs[0].Account != "home" || regs[0].Reason != "Forbidden" || regs[1].State != RegRegistered || regs[1].Server == "" {
		t.Fatalf("%+v", regs)
	}
	id, sid := dial(t, m, fp, sub)
	fp.emit(t, phone.MediaEvent{Session: sid, Stats: phone.MediaStats{Codec: "PCMA", RxPackets: 250, MOS: 4.4}})
	me := recv(t, sub).(MediaEvent)
	if me.CallID != id || me.Stats.RxPackets != 250 || me.Kind() != "media" {
		t.Fatalf("%+v", me)
	}
	if c, _ := m.Call(id); c.Stats.MOS != 4.4 || c.Codec != "PCMA" {
		t.Fatalf("%+v", c)
	}
}

func TestHistoryBounded(t *testing.T) {
	m, fp, sub := setup(t, WithHistoryLimit(3))
	var ids []CallID
	for range 5 {
		id, sid := dial(t, m, fp, sub)
		ids = append(ids, id)
		fp.emit(t, callEv(sid, phone.DirectionOutgoing, phone.StateTerminated, 1))
		recvCall(t, sub)
	}
	h := m.History()
	if len(h) != 3 || h[0].ID != ids[2] || h[2].ID != ids[4] {
		t.Fatalf("history %+v", h)
	}
	if _, ok := m.Call(ids[0]); ok {
		t.Fatal("evicted call still known")
	}
}

func TestWaitState(t *testing.T) {
	m, fp, sub := setup(t)
	id, sid := dial(t, m, fp, sub)
	go func() {
		fp.events <- callEv(sid, phone.DirectionOutgoing, phone.StateRinging, 1)
		fp.events <- callEv(sid, phone.DirectionOutgoing, phone.StateActive, 2)
	}()
	c, err := m.WaitState(context.Background(), id, StateConnected)
	if err != nil || c.State != StateConnected {
		t.Fatalf("WaitState = %+v, %v", c, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := m.WaitState(ctx, id, StateTerminated); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("timeout: %v", err)
	}
	if _, err := m.WaitState(context.Background(), id, StateConnected); err != nil {
		t.Fatalf("already connected: %v", err)
	}
	go func() { fp.events <- callEv(sid, phone.DirectionOutgoing, phone.StateFailed, 3) }()
	if _, err := m.WaitState(context.Background(), id, StateTerminated); !errors.Is(err, ErrCallEnded) {
		t.Fatalf("ended in failed: %v", err)
	}
	if _, err := m.WaitState(context.Background(), "nope", StateTerminated); !errors.Is(err, ErrNoSuchCall) {
		t.Fatalf("unknown: %v", err)
	}
}

func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	for range 3 {
		fp := newFakePhone()
		m := New()
		if err := m.Start(fp); err != nil {
			t.Fatal(err)
		}
		_ = m.SetRules(AcceptAll(time.Hour)) // a timer that must be stopped
		subs := []*Subscription{m.Subscribe(), m.Subscribe(), m.Subscribe()}
		subs[0].Close()
		m.OnIncomingCall(phone.IncomingCall{Session: "a", RemoteURI: "sip:a@b"})
		m.OnIncomingCall(phone.IncomingCall{Session: "b", RemoteURI: "sip:a@b"})
		fp.emit(t, callEv("a", phone.DirectionIncoming, phone.StateRinging, 1))
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		for _, s := range subs {
			if _, ok := <-s.C(); ok {
				// drain what was delivered before Close
				for range s.C() {
				}
			}
		}
		if got := fp.recorded(); len(got) != 0 {
			t.Fatalf("timer fired after Close: %q", got)
		}
	}
	eventually(t, "goroutines to end", func() bool { return runtime.NumGoroutine() <= before })
}

// The phone closing its stream ends every subscription after delivering
// what was queued.
func TestPhoneStreamEnd(t *testing.T) {
	m, fp, sub := setup(t)
	slow := m.Subscribe()
	id, sid := dial(t, m, fp, sub)
	fp.emit(t, callEv(sid, phone.DirectionOutgoing, phone.StateTerminated, 1))
	close(fp.events)
	<-m.Done()
	var got []State
	for ev := range slow.C() {
		got = append(got, ev.(CallEvent).Call.State)
	}
	if !slices.Equal(got, []State{StateInitiating, StateTerminated}) {
		t.Fatalf("slow subscriber got %v", got)
	}
	if c, _ := m.Call(id); c.State != StateTerminated {
		t.Fatalf("%+v", c)
	}
	late := m.Subscribe()
	if _, ok := <-late.C(); ok {
		t.Fatal("late subscriber got an event")
	}
}

// TestTransferRequestAsked: a transfer request that waits for the user
// reaches subscribers with Asking and its deadline, and AnswerTransfer
// passes the user's answer to the phone for that call's session.
func TestTransferRequestAsked(t *testing.T) {
	m, fp, sub := setup(t)
	id, sid := dial(t, m, fp, sub)
	fp.emit(t, callEv(sid, phone.DirectionOutgoing, phone.StateActive, 1))
	recvCall(t, sub)
	fp.emit(t, phone.TransferEvent{Time: at(2), Session: sid, Target: "sip:carol@example.com", Reason: "requested, ask", Asking: true, Deadline: at(32)})
	te, ok := recv(t, sub).(TransferEvent)
	if !ok || te.CallID != id || !te.Transfer.Asking || !te.Transfer.Deadline.Equal(at(32)) {
		t.Fatalf("transfer request %+v", te)
	}
	if c, _ := m.Call(id); !c.Transfer.Asking {
		t.Fatalf("CallInfo.Transfer %+v", c.Transfer)
	}
	if err := m.AnswerTransfer(id, true); err != nil {
		t.Fatal(err)
	}
	if err := m.AnswerTransfer("nosuchcall", false); err == nil {
		t.Error("answer for an unknown call taken")
	}
	want := "answer-transfer " + string(sid) + " true"
	if ops := fp.recorded(); !slices.Contains(ops, want) {
		t.Errorf("phone got %q, want %q among them", ops, want)
	}
}

func TestMwiForwarded(t *testing.T) {
	_, fp, sub := setup(t)
	fp.emit(t, phone.MWIEvent{Time: at(1), Account: "work", Waiting: true, New: 3, Old: 1, MessageAccount: "sip:*97@pbx\x1b"})
	e := recv(t, sub).(MWIEvent)
	if e.Account != "work" || !e.Waiting || e.New != 3 || e.Old != 1 || e.Kind() != "mwi" || e.MessageAccount != "sip:*97@pbx" {
		t.Fatalf("%+v", e)
	}
}
