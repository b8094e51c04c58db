package ui

import (
	"strings"
	"testing"

	"github.com/teaphone/teaphone/sessions"
)

// TestLogHold: the log pane says when either side holds or resumes a call,
// whoever asked (a key, teaphone ctl, the other party).
func TestLogHold(t *testing.T) {
	f := regFake()
	bob := connected("c-1", 1, "Bob", "sip:bob@example.com", 0)
	f.calls[bob.ID] = bob
	m := newTestModel(f, Options{})
	steps := []func(){
		func() { bob.HeldLocal = true },
		func() { bob.HeldLocal = false },
		func() { bob.HeldRemote = true },
		func() { bob.HeldRemote = false },
	}
	for _, step := range steps {
		step()
		m, _ = feed(t, m, callEvent(bob))
	}
	got := strings.Join(m.logs, "\n")
	for _, want := range []string{"line 1 held Bob", "line 1 resumed Bob", "line 1 held by Bob", "line 1 resumed by Bob"} {
		if !strings.Contains(got, want) {
			t.Errorf("log lacks %q:\n%s", want, got)
		}
	}
}

// TestDTMFSentElsewhereShows: digits sent by another client of the Manager
// (teaphone ctl, a script) show in the call pane and the log like typed
// ones, and the "sent" events of typed digits do not show them twice.
func TestDTMFSentElsewhereShows(t *testing.T) {
	f := newFake()
	bob := connected("c-1", 1, "Bob", "sip:bob@example.com", 0)
	f.calls[bob.ID] = bob
	m := newTestModel(f, Options{})
	m, _ = feed(t, m, callEv(bob), keyMsg("1"), keyMsg("2"))
	sent := func(d string) EventMsg {
		return EventMsg{Event: sessions.DTMFEvent{Time: t0, CallID: "c-1", Line: 1, Digit: d, Method: "rfc4733"}}
	}
	steps := []struct {
		ev   EventMsg
		want string
	}{
		{sent("1"), "dtmf sent 12 "},   // typed here: already shown
		{sent("9"), "dtmf sent 129 "},  // teaphone ctl dtmf 9, between the typed ones
		{sent("2"), "dtmf sent 129 "},  // typed here
		{sent("#"), "dtmf sent 129# "}, // teaphone ctl again
	}
	for _, st := range steps {
		m, _ = feed(t, m, st.ev)
		if v := m.View(); !strings.Contains(v, st.want) {
			t.Fatalf("after %s sent: view lacks %q:\n%s", st.ev.Event.(sessions.DTMFEvent).Digit, st.want, v)
		}
	}
	got := strings.Join(m.logs, "\n")
	for _, want := range []string{"line 1 DTMF 9 sent", "line 1 DTMF # sent"} {
		if !strings.Contains(got, want) {
			t.Errorf("log lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "DTMF 1 sent") || strings.Contains(got, "DTMF 2 sent") {
		t.Errorf("typed digits logged as sent elsewhere:\n%s", got)
	}
}
