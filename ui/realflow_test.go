package ui_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/teaphone/teaphone/internal/peertest"
	"github.com/teaphone/teaphone/phone"
	"github.com/teaphone/teaphone/sessions"
	"github.com/teaphone/teaphone/ui"
)

// The real-flow test drives the TUI against the real client core: two
// teaphones (phone.Phone + sessions.Manager, wired as main.go does) on
// 127.0.0.1 call each other. Everything is waited for by polling with a
// deadline; nothing sleeps for correctness.

// realWait bounds every wait: generous for a loaded 2-core machine running
// the race detector, short enough to fail a hung flow quickly.
const realWait = 15 * time.Second

// libLogger routes sipgo's global logger once for the whole test binary
// (sipgo keeps it in a global; it must not write to the test's stderr).
var libLogger sync.Once

// logBuf collects a teaphone's log for the failure report.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// realPhone is one teaphone's core: a phone.Phone on 127.0.0.1 driven by a
// sessions.Manager, with every event the Manager published kept for the
// assertions.
type realPhone struct {
	name string
	mgr  *sessions.Manager
	ph   *phone.Phone
	log  *logBuf

	mu     sync.Mutex
	events []sessions.Event
}

// startRealPhone wires a Manager and a Phone like main.go does (no
// accounts, silence as audio) and stops them in t.Cleanup: hang up every
// call, close the phone, then the Manager.
func startRealPhone(t *testing.T, name string, rules sessions.Rules) *realPhone {
	t.Helper()
	libLogger.Do(func() { phone.SetLibraryLogger(slog.New(slog.DiscardHandler)) })
	rtp, err := peertest.FreePorts(20, 2)
	if err != nil {
		t.Fatal(err)
	}
	rp := &realPhone{name: name, log: &logBuf{}}
	logger := slog.New(slog.NewTextHandler(rp.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	rp.mgr = sessions.New(sessions.WithLogger(logger.With("component", "sessions")))
	if err := rp.mgr.SetRules(rules); err != nil {
		t.Fatal(err)
	}
	rp.ph, err = phone.New(phone.Options{
		Listen:     "127.0.0.1:0",
		RTPPortMin: rtp,
		RTPPortMax: rtp + 19,
		UserAgent:  "teaphone-" + name,
		Handler:    rp.mgr,
		Logger:     logger.With("component", "phone"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := rp.mgr.Start(rp.ph); err != nil {
		t.Fatal(err)
	}
	// Record what the Manager publishes (DTMF, states) from the start.
	sub := rp.mgr.Subscribe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range sub.C() {
			rp.mu.Lock()
			rp.events = append(rp.events, ev)
			rp.mu.Unlock()
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() {
		_ = rp.mgr.HangupAll()
		_ = rp.ph.Close()
		cancel()
		_ = rp.mgr.Close()
		sub.Close()
		<-done
		if t.Failed() {
			t.Logf("%s log (tail):\n%s", name, tail(rp.log.String(), 6000))
		}
	})
	if err := rp.ph.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return rp
}

// uri is the address that reaches this phone directly (any user part is
// accepted when no account is configured).
func (rp *realPhone) uri(user string) string {
	return "sip:" + user + "@" + rp.ph.LocalAddr()
}

// dtmfReceived returns the digits of the received DTMFEvents so far.
func (rp *realPhone) dtmfReceived() string {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	var s strings.Builder
	for _, ev := range rp.events {
		if d, ok := ev.(sessions.DTMFEvent); ok && d.Received {
			s.WriteString(d.Digit)
		}
	}
	return s.String()
}

// waitCall polls the Manager until one call satisfies ok and returns it.
// Ended calls are searched in History too.
func (rp *realPhone) waitCall(t *testing.T, what string, ok func(sessions.CallInfo) bool) sessions.CallInfo {
	t.Helper()
	var seen []sessions.CallInfo
	deadline := time.Now().Add(realWait)
	for {
		seen = append(rp.mgr.Calls(), rp.mgr.History()...)
		for _, c := range seen {
			if ok(c) {
				return c
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no call %s after %s; calls: %s", rp.name, what, realWait, describeCalls(seen))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitNoCalls polls until the Manager has no call that has not ended.
func (rp *realPhone) waitNoCalls(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(realWait)
	for len(rp.mgr.Calls()) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%s: calls still up after %s: %s", rp.name, realWait, describeCalls(rp.mgr.Calls()))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func describeCalls(cs []sessions.CallInfo) string {
	if len(cs) == 0 {
		return "none"
	}
	var parts []string
	for _, c := range cs {
		parts = append(parts, fmt.Sprintf("{line %d %s %s %s pending=%v heldLocal=%v heldRemote=%v end=%q}",
			c.Line, c.Direction, c.State, c.RemoteURI, c.Pending, c.HeldLocal, c.HeldRemote, c.EndReason))
	}
	return strings.Join(parts, " ")
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// screen follows the program's output. teatest.WaitFor consumes what it
// reads, so each wait only sees what was drawn after the previous one: the
// assertions follow the flow step by step.
func waitScreen(t *testing.T, tm *teatest.TestModel, texts ...string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		for _, s := range texts {
			if !bytes.Contains(b, []byte(s)) {
				return false
			}
		}
		return true
	}, teatest.WithDuration(realWait), teatest.WithCheckInterval(20*time.Millisecond))
}

func TestRealFlowDialHoldDTMFHangupAnswer(t *testing.T) {
	// alice runs the TUI (rules as in main.go: every call waits for a
	// person); bob answers every call at once.
	alice := startRealPhone(t, "alice", sessions.DeferAll())
	bob := startRealPhone(t, "bob", sessions.AcceptAll(0))

	sub := alice.mgr.Subscribe()
	t.Cleanup(sub.Close)
	m := ui.New(alice.mgr, ui.Options{Events: sub.C(), Now: time.Now})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(80, 24))
	finished := false
	t.Cleanup(func() {
		if !finished {
			_ = tm.Quit()
			tm.WaitFinished(t, teatest.WithFinalTimeout(realWait))
		}
	})

	// Dial bob: the dial line has the keyboard while no call is up.
	waitScreen(t, tm, "no calls")
	bobURI := bob.uri("bob")
	tm.Type(bobURI)
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	out := alice.waitCall(t, "connected to bob", func(c sessions.CallInfo) bool {
		return c.Direction == sessions.DirectionOutgoing && c.State == sessions.StateConnected
	})
	if out.RemoteURI != bobURI {
		t.Errorf("alice's call goes to %q, want %q", out.RemoteURI, bobURI)
	}
	in := bob.waitCall(t, "connected from alice", func(c sessions.CallInfo) bool {
		return c.Direction == sessions.DirectionIncoming && c.State == sessions.StateConnected
	})
	if in.Decision != "accept" {
		t.Errorf("bob's decision = %q, want accept (AcceptAll)", in.Decision)
	}
	waitScreen(t, tm, "connected", bobURI, "line 1 · "+bobURI)

	// Hold: the UI marks the call, bob's core sees the remote hold.
	tm.Type("h")
	waitScreen(t, tm, "[held]")
	alice.waitCall(t, "held locally", func(c sessions.CallInfo) bool { return c.ID == out.ID && c.HeldLocal })
	bob.waitCall(t, "held by alice", func(c sessions.CallInfo) bool { return c.ID == in.ID && c.HeldRemote })

	// DTMF: digits are call keys on a connected call.
	tm.Type("12")
	waitScreen(t, tm, "dtmf sent", "12")
	deadline := time.Now().Add(realWait)
	for bob.dtmfReceived() != "12" {
		if time.Now().After(deadline) {
			t.Fatalf("bob received DTMF %q, want %q", bob.dtmfReceived(), "12")
		}
		time.Sleep(20 * time.Millisecond)
	}

	// End: both sides see the call terminated, the UI is back to no calls.
	tm.Type("e")
	waitScreen(t, tm, "calls (0)", "no calls")
	ended := alice.waitCall(t, "ended", func(c sessions.CallInfo) bool { return c.ID == out.ID && c.Ended() })
	if ended.State != sessions.StateTerminated {
		t.Errorf("alice's call ended in %s, want terminated", ended.State)
	}
	bobEnded := bob.waitCall(t, "ended", func(c sessions.CallInfo) bool { return c.ID == in.ID && c.Ended() })
	if bobEnded.State != sessions.StateTerminated {
		t.Errorf("bob's call ended in %s, want terminated", bobEnded.State)
	}
	alice.waitNoCalls(t)
	bob.waitNoCalls(t)

	// Answer: bob calls alice, the prompt shows, a answers.
	id2, err := bob.mgr.Dial(context.Background(), alice.uri("alice"), sessions.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ring := alice.waitCall(t, "ringing from bob", func(c sessions.CallInfo) bool {
		return c.Direction == sessions.DirectionIncoming && c.Pending && c.State == sessions.StateRinging
	})
	waitScreen(t, tm, "Incoming call · line 1", "a answer")
	tm.Type("a")
	alice.waitCall(t, "answered", func(c sessions.CallInfo) bool {
		return c.ID == ring.ID && c.State == sessions.StateConnected && !c.Pending
	})
	bob.waitCall(t, "answered by alice", func(c sessions.CallInfo) bool {
		return c.ID == id2 && c.State == sessions.StateConnected
	})
	waitScreen(t, tm, "connected")

	// Quit: with a call up the UI asks, then hangs up everything.
	tm.Type("q")
	waitScreen(t, tm, "Hang up all and quit?")
	tm.Type("y")
	tm.WaitFinished(t, teatest.WithFinalTimeout(realWait))
	finished = true
	alice.waitNoCalls(t)
	bob.waitNoCalls(t)
}
