package ui

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/teaphone/teaphone/sessions"
)

// waitText waits until the program has drawn every one of texts.
func waitText(t *testing.T, tm *teatest.TestModel, texts ...string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		for _, s := range texts {
			if !bytes.Contains(b, []byte(s)) {
				return false
			}
		}
		return true
	}, teatest.WithDuration(3*time.Second), teatest.WithCheckInterval(5*time.Millisecond))
}

// waitCommands waits until the fake has recorded want (as a suffix).
func waitCommands(t *testing.T, f *fakeClient, want ...string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		got := f.Commands()
		if len(got) >= len(want) && slices.Equal(got[len(got)-len(want):], want) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("commands = %q, want suffix %q", f.Commands(), want)
}

func TestFlowDialHoldDTMFHangupAnswerQuit(t *testing.T) {
	f := newFake()
	ch := make(chan sessions.Event, 64)
	f.events = ch
	m := New(f, Options{Events: ch, Now: fixedNow, Accounts: []string{"work"}})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(80, 24))
	defer close(ch)

	// Dial: d opens the dial line.
	waitText(t, tm, "no calls")
	tm.Type("dsip:bob@example.com")
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	waitCommands(t, f, "Dial sip:bob@example.com")
	waitText(t, tm, "connected", "sip:bob@example.com")

	// Hold, then resume.
	tm.Type("h")
	waitCommands(t, f, "Hold out-1")
	waitText(t, tm, "[held]")
	tm.Type("h")
	waitCommands(t, f, "Resume out-1")

	// DTMF with local feedback.
	tm.Type("12#")
	waitCommands(t, f, "SendDTMF out-1 1", "SendDTMF out-1 2", "SendDTMF out-1 #")
	waitText(t, tm, "dtmf sent 12#")

	// Hang up.
	tm.Type("e")
	waitCommands(t, f, "Hangup out-1")
	waitText(t, tm, "calls (0)")

	// An incoming call rings, is answered.
	in := incoming("in-1", 1, "Alice", "sip:alice@example.com", "Hello")
	f.add(in)
	waitText(t, tm, "Incoming call", "Subject: Hello")
	tm.Type("a")
	waitCommands(t, f, "Accept in-1")
	waitText(t, tm, "connected")

	// Quit asks while a call is up, then hangs up everything.
	tm.Type("q")
	waitText(t, tm, "Hang up all and quit?")
	tm.Type("y")
	tm.WaitFinished(t, teatest.WithFinalTimeout(3*time.Second))
	waitCommands(t, f, "HangupAll")
	fm := tm.FinalModel(t).(Model)
	if !strings.Contains(strings.Join(fm.logs, "\n"), "line 1 connected Alice") {
		t.Errorf("log lacks the answered call:\n%s", strings.Join(fm.logs, "\n"))
	}
}

func TestFlowLogPane(t *testing.T) {
	lines := make(chan string, 4)
	m := New(newFake(), Options{Now: fixedNow, LogLines: lines})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(80, 24))
	lines <- "sip: REGISTER sent\x1b[31m"
	waitText(t, tm, "sip: REGISTER sent[31m")
	close(lines)
	tm.Send(tea.KeyMsg{Type: tea.KeyCtrlC})
	tm.WaitFinished(t, teatest.WithFinalTimeout(3*time.Second))
}

// TestFlowQuitFromIdle: q on the idle screen quits, as the README says;
// after d it is text in the dial line, and Esc gives it back.
func TestFlowQuitFromIdle(t *testing.T) {
	f := newFake()
	tm := teatest.NewTestModel(t, New(f, Options{Now: fixedNow}), teatest.WithInitialTermSize(80, 24))
	waitText(t, tm, "no calls", "q quit")
	tm.Type("dq")
	waitText(t, tm, "dial> q")
	tm.Send(tea.KeyMsg{Type: tea.KeyEsc})
	tm.Type("q")
	tm.WaitFinished(t, teatest.WithFinalTimeout(3*time.Second))
	if got := f.Commands(); !slices.Equal(got, []string{"HangupAll"}) {
		t.Errorf("commands = %q, want HangupAll only", got)
	}
}
