package ui

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/teaphone/teaphone/sessions"
)

// fakeMissed is Options.Missed: the unseen missed calls of earlier runs,
// and the markings it was told of.
type fakeMissed struct {
	mu     sync.Mutex
	unseen []sessions.CallID
	marks  []time.Time
}

func (f *fakeMissed) Unseen() ([]sessions.CallID, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sessions.CallID(nil), f.unseen...), nil
}

func (f *fakeMissed) MarkSeen(at time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.marks = append(f.marks, at)
	f.unseen = nil
	return nil
}

func (f *fakeMissed) Marks() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.marks...)
}

// ended returns an incoming call that rang and ended: answered or not,
// with the decision taken.
func ended(id string, answered bool, decision string) sessions.CallInfo {
	c := incoming(id, 1, "", "sip:"+id+"@example.com", "")
	c.Pending, c.State, c.EndedAt, c.Decision = false, sessions.StateCancelled, t0, decision
	if answered {
		c.State, c.ConnectedAt = sessions.StateTerminated, t0.Add(-time.Minute)
	}
	return c
}

func callEvent(c sessions.CallInfo) EventMsg {
	return EventMsg{Event: sessions.CallEvent{Time: t0, Call: c}}
}

func statusLine(m Model) string { return strings.Split(m.View(), "\n")[0] }

// TestFlowMissedBadge: the status bar counts the unseen missed calls of
// an earlier run (Options.Missed) and of this one; H opens the history,
// marks them seen (now) and the badge goes; a call missed afterwards
// brings it back.
func TestFlowMissedBadge(t *testing.T) {
	f := newFake()
	ch := make(chan sessions.Event, 16)
	mc := &fakeMissed{unseen: []sessions.CallID{"old-1"}}
	m := New(f, Options{Events: ch, Now: fixedNow, Missed: mc,
		CallHistory: func() ([]HistoryEntry, error) { return historyEntries, nil }})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(80, 24))
	defer close(ch)

	waitText(t, tm, "1 missed")
	ch <- sessions.CallEvent{Time: t0, Call: incoming("in-1", 1, "Alice", "sip:alice@example.com", "")}
	ch <- sessions.CallEvent{Time: t0, Call: ended("in-1", false, "defer")}
	waitText(t, tm, "2 missed")
	// Answered, rejected, forwarded: not missed.
	rejected, forwarded := ended("in-3", false, "rejected 603"), ended("in-4", false, "forwarded sip:voicemail@example.com")
	rejected.Declined, forwarded.Declined = true, true
	for _, c := range []sessions.CallInfo{ended("in-2", true, "accepted"), rejected, forwarded} {
		ch <- sessions.CallEvent{Time: t0, Call: c}
	}
	tm.Type("H")
	waitText(t, tm, "call history", "Alice Smith")
	tm.Send(tea.KeyMsg{Type: tea.KeyEsc})
	waitText(t, tm, "no calls")
	ch <- sessions.CallEvent{Time: t0, Call: ended("in-5", false, "ignored")}
	waitText(t, tm, "1 missed")

	tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
	tm.WaitFinished(t, teatest.WithFinalTimeout(3*time.Second))
	fm := tm.FinalModel(t).(Model)
	if got := fm.missed.count(); got != 1 || !fm.missed.unseen["in-5"] {
		t.Errorf("unseen %v, want in-5 only", fm.missed.unseen)
	}
	if got := mc.Marks(); !slices.Equal(got, []time.Time{t0}) {
		t.Errorf("MarkSeen calls %v, want one at %v", got, t0)
	}
}

// TestMissedBadgeCounts: a call counts once however many events say it
// ended; an answer of Unseen that arrives after the person looked is
// stale; without Options.Missed the badge counts this run's calls.
func TestMissedBadgeCounts(t *testing.T) {
	m := newTestModel(regFake(), Options{CallHistory: func() ([]HistoryEntry, error) { return nil, nil }})
	if s := statusLine(m); strings.Contains(s, "missed") {
		t.Errorf("status bar %q: a badge with nothing missed", s)
	}
	m, _ = feed(t, m, callEvent(ended("a", false, "defer")), callEvent(ended("a", false, "defer")),
		callEvent(ended("b", false, "ignored")))
	if s := statusLine(m); !strings.Contains(s, "teaphone  │ 2 missed │ work: registered") {
		t.Errorf("status bar %q: want 2 missed before the accounts", s)
	}
	gen := m.missed.gen
	m, _ = feed(t, m, keyMsg("H"))
	if s := statusLine(m); strings.Contains(s, "missed") {
		t.Errorf("status bar %q: the badge outlived the history view", s)
	}
	m, _ = feed(t, m, keyMsg("esc"), callEvent(ended("a", false, "defer"))) // a late repeat of a seen one
	if s := statusLine(m); strings.Contains(s, "missed") {
		t.Errorf("status bar %q: a seen call counted again", s)
	}
	m, _ = feed(t, m, unseenMsg{gen: gen, ids: []sessions.CallID{"old"}})
	if n := m.missed.count(); n != 0 {
		t.Errorf("a stale Unseen answer counted %d", n)
	}
	m, _ = feed(t, m, unseenMsg{gen: m.missed.gen, ids: []sessions.CallID{"old", "a"}})
	if n := m.missed.count(); n != 2 {
		t.Errorf("count %d after a current Unseen answer, want 2", n)
	}

	// With the history off, H says so and still clears the badge.
	m = newTestModel(regFake(), Options{})
	m, _ = feed(t, m, callEvent(ended("c", false, "defer")))
	if s := statusLine(m); !strings.Contains(s, "1 missed") {
		t.Errorf("status bar %q: want 1 missed", s)
	}
	m, _ = feed(t, m, keyMsg("H"))
	if s := statusLine(m); strings.Contains(s, "missed") || !strings.Contains(m.msg.text, "history is off") {
		t.Errorf("status bar %q, message %q: want no badge and the history off", s, m.msg.text)
	}
}
