package metrics

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/teaphone/teaphone/phone"
	"github.com/teaphone/teaphone/sessions"
)

// fakePhone is a session core that only has an event stream; the Manager
// adopts the calls it reports.
type fakePhone struct {
	sessions.Phone
	events chan phone.Event
}

func (f *fakePhone) Events() <-chan phone.Event { return f.events }

// eventually waits until cond holds (2 s at most).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: never", what)
		}
	}
}

// TestStartFollowsTheManager: Start takes what the Manager knows already
// (a registration, a connected call), then follows its events on its
// goroutine, which ends with the event stream; Close waits for it.
func TestStartFollowsTheManager(t *testing.T) {
	fp := &fakePhone{events: make(chan phone.Event, 16)}
	mgr := sessions.New()
	if err := mgr.Start(fp); err != nil {
		t.Fatal(err)
	}
	defer mgr.Close()
	fp.events <- phone.RegistrationEvent{Account: "work", State: phone.RegRegistered}
	fp.events <- phone.CallEvent{Session: "s1", Direction: phone.DirectionIncoming, State: phone.StateActive}
	eventually(t, "the Manager sees the call", func() bool { return len(mgr.Calls()) == 1 })
	eventually(t, "the Manager sees the registration", func() bool { return len(mgr.Registrations()) == 1 })

	m := New(nil)
	if err := m.Start(mgr); err != nil {
		t.Fatal(err)
	}
	if v := testutil.ToFloat64(m.registered.WithLabelValues("work")); v != 1 {
		t.Errorf("registered{work} from the snapshot = %v, want 1", v)
	}
	if v := testutil.ToFloat64(m.active); v != 1 {
		t.Errorf("active from the snapshot = %v, want 1", v)
	}
	fp.events <- phone.MediaEvent{Session: "s1", Stats: phone.MediaStats{RxPackets: 50, TxPackets: 40}}
	fp.events <- phone.CallEvent{Session: "s1", Direction: phone.DirectionIncoming, State: phone.StateTerminated, Code: 200}
	fp.events <- phone.RegistrationEvent{Account: "work", State: phone.RegUnregistered}
	close(fp.events) // the phone closed: the subscription ends, and the goroutine
	<-m.done
	m.Close()
	m.Close()
	for name, c := range map[string]struct{ got, want float64 }{
		"active":         {testutil.ToFloat64(m.active), 0},
		"incoming total": {testutil.ToFloat64(m.total.WithLabelValues("incoming", "answered")), 1},
		"rx":             {testutil.ToFloat64(m.rxPackets), 50},
		"tx":             {testutil.ToFloat64(m.txPackets), 40},
		"registered":     {testutil.ToFloat64(m.registered.WithLabelValues("work")), 0},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", name, c.got, c.want)
		}
	}
	// A call connected before Start still has its setup time: the
	// snapshot carries when it began and when it was answered.
	if n := testutil.CollectAndCount(m.setup); n != 1 {
		t.Errorf("setup time series = %d, want 1 (incoming)", n)
	}
}

// TestCloseBeforeTheEnd: Close ends the goroutine while the phone runs.
func TestCloseBeforeTheEnd(t *testing.T) {
	fp := &fakePhone{events: make(chan phone.Event)}
	mgr := sessions.New()
	if err := mgr.Start(fp); err != nil {
		t.Fatal(err)
	}
	defer mgr.Close()
	m := New(nil)
	m.Close() // not started: nothing to stop
	if err := m.Start(mgr); err != nil {
		t.Fatal(err)
	}
	m.Close()
	select {
	case <-m.done:
	default:
		t.Fatal("Close returned before the goroutine ended")
	}
}
