package ui

import (
	"strings"
	"testing"
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
