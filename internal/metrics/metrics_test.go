package metrics

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/teaphone/teaphone/sessions"
)

var t0 = time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)

// call is a call snapshot in state s, created at t0.
func call(id string, dir sessions.Direction, s sessions.State) sessions.CallInfo {
	return sessions.CallInfo{ID: sessions.CallID(id), Direction: dir, State: s, CreatedAt: t0}
}

func callEv(c sessions.CallInfo) sessions.CallEvent { return sessions.CallEvent{Time: t0, Call: c} }

func TestAnsweredCall(t *testing.T) {
	m := New(nil)
	c := call("a", sessions.DirectionOutgoing, sessions.StateInitiating)
	m.apply(callEv(c))
	c.State = sessions.StateRinging
	m.apply(callEv(c))
	if v := testutil.ToFloat64(m.active); v != 0 {
		t.Fatalf("active while ringing = %v, want 0", v)
	}
	c.State, c.ConnectedAt = sessions.StateConnected, t0.Add(1500*time.Millisecond)
	m.apply(callEv(c))
	m.apply(callEv(c)) // a hold or mute: the same call, still connected
	if v := testutil.ToFloat64(m.active); v != 1 {
		t.Fatalf("active while connected = %v, want 1", v)
	}
	m.apply(sessions.MediaEvent{CallID: c.ID, Stats: sessions.MediaStats{RxPackets: 100, TxPackets: 110, Lost: 2}})
	m.apply(sessions.MediaEvent{CallID: c.ID, Stats: sessions.MediaStats{RxPackets: 250, TxPackets: 260, Lost: 1, JitterMs: 4, MOS: 4.3}})
	c.State, c.EndedAt, c.EndCode, c.EndReason = sessions.StateTerminated, t0.Add(10*time.Second), 200, "remote hangup"
	c.Stats = sessions.MediaStats{RxPackets: 251, TxPackets: 260, Lost: 1, JitterMs: 4, MOS: 4.3}
	m.apply(callEv(c))
	m.apply(callEv(c)) // a late duplicate counts nothing
	m.apply(sessions.MediaEvent{CallID: c.ID, Stats: sessions.MediaStats{RxPackets: 300}})

	for name, got := range map[string]float64{
		"active": testutil.ToFloat64(m.active),
		"rx":     testutil.ToFloat64(m.rxPackets),
		"tx":     testutil.ToFloat64(m.txPackets),
		"lost":   testutil.ToFloat64(m.lost),
		"total":  testutil.ToFloat64(m.total.WithLabelValues("outgoing", "answered")),
	} {
		want := map[string]float64{"active": 0, "rx": 251, "tx": 260, "lost": 2, "total": 1}[name]
		if got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	want := `
# HELP teaphone_call_setup_seconds Time from the INVITE sent or received to the answer, per answered call.
# TYPE teaphone_call_setup_seconds histogram
teaphone_call_setup_seconds_bucket{direction="outgoing",le="0.05"} 0
teaphone_call_setup_seconds_bucket{direction="outgoing",le="0.1"} 0
teaphone_call_setup_seconds_bucket{direction="outgoing",le="0.25"} 0
teaphone_call_setup_seconds_bucket{direction="outgoing",le="0.5"} 0
teaphone_call_setup_seconds_bucket{direction="outgoing",le="1"} 0
teaphone_call_setup_seconds_bucket{direction="outgoing",le="2"} 1
teaphone_call_setup_seconds_bucket{direction="outgoing",le="5"} 1
teaphone_call_setup_seconds_bucket{direction="outgoing",le="10"} 1
teaphone_call_setup_seconds_bucket{direction="outgoing",le="20"} 1
teaphone_call_setup_seconds_bucket{direction="outgoing",le="30"} 1
teaphone_call_setup_seconds_bucket{direction="outgoing",le="60"} 1
teaphone_call_setup_seconds_bucket{direction="outgoing",le="+Inf"} 1
teaphone_call_setup_seconds_sum{direction="outgoing"} 1.5
teaphone_call_setup_seconds_count{direction="outgoing"} 1
# HELP teaphone_call_mos E-model MOS estimate of each call with media, at its end.
# TYPE teaphone_call_mos histogram
teaphone_call_mos_bucket{le="1"} 0
teaphone_call_mos_bucket{le="2"} 0
teaphone_call_mos_bucket{le="2.5"} 0
teaphone_call_mos_bucket{le="3"} 0
teaphone_call_mos_bucket{le="3.5"} 0
teaphone_call_mos_bucket{le="3.8"} 0
teaphone_call_mos_bucket{le="4"} 0
teaphone_call_mos_bucket{le="4.2"} 0
teaphone_call_mos_bucket{le="4.3"} 1
teaphone_call_mos_bucket{le="4.4"} 1
teaphone_call_mos_bucket{le="4.5"} 1
teaphone_call_mos_bucket{le="+Inf"} 1
teaphone_call_mos_sum 4.3
teaphone_call_mos_count 1
`
	if err := testutil.CollectAndCompare(m.reg, strings.NewReader(want), "teaphone_call_setup_seconds", "teaphone_call_mos"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(m.jitter); n != 1 {
		t.Errorf("jitter series = %d, want 1", n)
	}
	if len(m.calls) != 0 {
		t.Errorf("%d calls still tracked after the end", len(m.calls))
	}
}

func TestResults(t *testing.T) {
	out, in := sessions.DirectionOutgoing, sessions.DirectionIncoming
	for _, tc := range []struct {
		dir      sessions.Direction
		state    sessions.State
		code     int
		declined bool
		want     string
	}{
		{out, sessions.StateFailed, 486, false, "486"},
		{out, sessions.StateCancelled, 487, false, "487"},
		{out, sessions.StateFailed, 0, false, "failed"},
		{out, sessions.StateFailed, 100, false, "failed"}, // not a final status
		{in, sessions.StateCancelled, 487, false, "missed"},
		{in, sessions.StateFailed, 480, false, "missed"},
		{in, sessions.StateCancelled, 302, false, "missed"}, // a defer's then-action: nobody answered
		{in, sessions.StateCancelled, 486, true, "486"},
		{in, sessions.StateCancelled, 603, true, "603"},
		{in, sessions.StateCancelled, 302, true, "302"},
	} {
		c := call("x", tc.dir, tc.state)
		c.EndCode, c.Declined = tc.code, tc.declined
		if got := Result(c); got != tc.want {
			t.Errorf("Result(%s %s %d declined=%v) = %q, want %q", tc.dir, tc.state, tc.code, tc.declined, got, tc.want)
		}
	}
	c := call("y", in, sessions.StateTerminated)
	c.ConnectedAt = t0
	if got := Result(c); got != ResultAnswered {
		t.Errorf("Result(connected) = %q, want answered", got)
	}
}

func TestUnansweredCallsCounted(t *testing.T) {
	m := New(nil)
	busy := call("busy", sessions.DirectionOutgoing, sessions.StateFailed)
	busy.EndCode = 486
	missed := call("missed", sessions.DirectionIncoming, sessions.StateCancelled)
	missed.EndCode = 487
	for _, c := range []sessions.CallInfo{busy, missed, busy} {
		m.apply(callEv(c))
	}
	if v := testutil.ToFloat64(m.total.WithLabelValues("outgoing", "486")); v != 1 {
		t.Errorf("outgoing 486 = %v, want 1", v)
	}
	if v := testutil.ToFloat64(m.total.WithLabelValues("incoming", "missed")); v != 1 {
		t.Errorf("incoming missed = %v, want 1", v)
	}
	if n := testutil.CollectAndCount(m.setup); n != 0 {
		t.Errorf("setup observed for unanswered calls: %d series", n)
	}
	if n := testutil.CollectAndCount(m.mos); n != 1 || testutil.ToFloat64(m.active) != 0 {
		t.Errorf("mos series %d, active %v", n, testutil.ToFloat64(m.active))
	}
}

func TestRegistration(t *testing.T) {
	m := New(nil)
	m.apply(sessions.RegistrationEvent{Account: "work", State: sessions.RegRegistering})
	m.apply(sessions.RegistrationEvent{Account: "home", State: sessions.RegRegistered})
	want := func(account string, v float64) {
		t.Helper()
		if got := testutil.ToFloat64(m.registered.WithLabelValues(account)); got != v {
			t.Errorf("registered{account=%q} = %v, want %v", account, got, v)
		}
	}
	want("work", 0)
	want("home", 1)
	m.apply(sessions.RegistrationEvent{Account: "work", State: sessions.RegRegistered})
	m.apply(sessions.RegistrationEvent{Account: "home", State: sessions.RegFailed})
	want("work", 1)
	want("home", 0)
}

func TestEndedSetForgetsTheOldest(t *testing.T) {
	s := newEndedSet(2)
	s.add("a")
	s.add("b")
	s.add("b")
	s.add("c")
	if s.has("a") || !s.has("b") || !s.has("c") {
		t.Errorf("after a, b, c with room for 2: a %v b %v c %v", s.has("a"), s.has("b"), s.has("c"))
	}
}

func TestListenAddr(t *testing.T) {
	for in, want := range map[string]string{
		"9464":            "127.0.0.1:9464",
		":9464":           "127.0.0.1:9464",
		"127.0.0.1:9464":  "127.0.0.1:9464",
		"0.0.0.0:9464":    "0.0.0.0:9464",
		"[::1]:9464":      "[::1]:9464",
		"localhost:9464":  "localhost:9464",
		"10.1.2.3:9464":   "10.1.2.3:9464",
		"nonsense":        "",
		"127.0.0.1:99999": "",
		"":                "",
	} {
		got, err := ListenAddr(in)
		if got != want || (err != nil) != (want == "") {
			t.Errorf("ListenAddr(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if !IsLoopback("127.0.0.1:1") || !IsLoopback("[::1]:1") || !IsLoopback("localhost:1") || IsLoopback("0.0.0.0:1") {
		t.Error("IsLoopback is wrong")
	}
}
