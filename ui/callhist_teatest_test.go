package ui

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"
)

// TestFlowCallHistory: H lists the recent calls, the missed one marked;
// j and enter call the selected one back and close the view.
func TestFlowCallHistory(t *testing.T) {
	f := newFake()
	m := New(f, Options{Now: fixedNow, CallHistory: func() ([]HistoryEntry, error) { return historyEntries, nil }})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(80, 24))

	waitText(t, tm, "no calls")
	tm.Type("H")
	waitText(t, tm, "call history", "› !← Nov 20 09:50  Alice Smith <sip:alice@example.com>", "missed",
		"Bob Jones <sip:bob@example.com>", "remote hangup 03:12", "enter call back")
	tm.Type("j")
	waitText(t, tm, "›  → Nov 20 08:00  Bob Jones")
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	waitText(t, tm, "dialing sip:bob@example.com")

	tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
	tm.WaitFinished(t, teatest.WithFinalTimeout(3*time.Second))
	fm := tm.FinalModel(t).(Model)
	if fm.hist.open {
		t.Error("the history view stayed open after the redial")
	}
	if got := f.Commands(); !slices.Contains(got, "Dial sip:bob@example.com") {
		t.Errorf("commands %q, want the redial of Bob", got)
	}
}

// TestCallHistoryOffOrFailing: without a history the key says so; a
// history that cannot be read says why in the view, and esc closes it.
func TestCallHistoryOffOrFailing(t *testing.T) {
	m, _ := feed(t, New(newFake(), Options{Now: fixedNow}), keyMsg("H"))
	if m.hist.open || !strings.Contains(m.msg.text, "call history is off") {
		t.Errorf("history open %v, message %q", m.hist.open, m.msg.text)
	}
	failing := func() ([]HistoryEntry, error) { return nil, errors.New("database is locked") }
	m, _ = feed(t, New(newFake(), Options{Now: fixedNow, CallHistory: failing}), keyMsg("H"))
	m, _ = feed(t, m, tea.WindowSizeMsg{Width: 80, Height: 24})
	if v := m.View(); !m.hist.open || !strings.Contains(v, "! database is locked") {
		t.Errorf("history open %v, view:\n%s", m.hist.open, v)
	}
	m, _ = feed(t, m, keyMsg("esc"))
	if m.hist.open {
		t.Error("esc did not close the history")
	}
}
