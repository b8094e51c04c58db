package ui_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
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
			t.Logf("%s events:\n%s", name, rp.describeEvents())
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

// describeEvents lists the events published so far, one per line.
func (rp *realPhone) describeEvents() string {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	var s strings.Builder
	for _, ev := range rp.events {
		switch e := ev.(type) {
		case sessions.CallEvent:
			fmt.Fprintf(&s, "call line %d %s→%s held=%v/%v pending=%v %s\n", e.Call.Line, e.Prev, e.Call.State,
				e.Call.HeldLocal, e.Call.HeldRemote, e.Call.Pending, e.Call.EndReason)
		case sessions.DTMFEvent:
			fmt.Fprintf(&s, "dtmf line %d %s received=%v %s\n", e.Line, e.Digit, e.Received, e.Method)
		case sessions.ErrorEvent:
			fmt.Fprintf(&s, "error %s: %v\n", e.CallID, e.Err)
		case sessions.MediaEvent:
			// high rate, not useful here
		default:
			fmt.Fprintf(&s, "%s %+v\n", ev.Kind(), ev)
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

// screen keeps everything the program drew. Bubble Tea redraws only the
// lines that changed, so a wait looks at the output after a mark taken
// before the key that causes the change (teatest.WaitFor alone would consume
// what it read, and a change drawn in the same frame as an earlier one
// would be lost to the next wait).
type screen struct {
	r   io.Reader
	buf bytes.Buffer
}

func (s *screen) read(t *testing.T) {
	t.Helper()
	if _, err := io.Copy(&s.buf, s.r); err != nil {
		t.Fatal(err)
	}
}

// mark returns the position after everything drawn so far.
func (s *screen) mark(t *testing.T) int {
	t.Helper()
	s.read(t)
	return s.buf.Len()
}

// wait polls until the output after since contains every one of texts.
func (s *screen) wait(t *testing.T, since int, texts ...string) {
	t.Helper()
	deadline := time.Now().Add(realWait)
	for {
		s.read(t)
		got := s.buf.Bytes()[since:]
		missing := ""
		for _, x := range texts {
			if !bytes.Contains(got, []byte(x)) {
				missing = x
				break
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("screen lacks %q after %s; drawn since the mark:\n%s", missing, realWait, tail(string(got), 4000))
		}
		time.Sleep(20 * time.Millisecond)
	}
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
	scr := &screen{r: tm.Output()}

	// Dial bob: d opens the dial line.
	scr.wait(t, 0, "no calls", "dial>")
	bobURI := bob.uri("bob")
	mark := scr.mark(t)
	tm.Type("d" + bobURI)
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
	scr.wait(t, mark, "1 out connected", bobURI, "line 1 · "+bobURI, "e end")

	// Hold: the UI marks the call, bob's core sees the remote hold.
	mark = scr.mark(t)
	tm.Type("h")
	scr.wait(t, mark, "[held]", "h resume")
	alice.waitCall(t, "held locally", func(c sessions.CallInfo) bool { return c.ID == out.ID && c.HeldLocal })
	bob.waitCall(t, "held by alice", func(c sessions.CallInfo) bool { return c.ID == in.ID && c.HeldRemote })

	// Resume: h again. (While we hold, the phone sends no RTP at all, so
	// RFC 4733 digits would wait for the resume: DTMF is checked after it.)
	mark = scr.mark(t)
	tm.Type("h")
	scr.wait(t, mark, "h hold")
	alice.waitCall(t, "resumed", func(c sessions.CallInfo) bool { return c.ID == out.ID && !c.HeldLocal })
	bob.waitCall(t, "resumed by alice", func(c sessions.CallInfo) bool { return c.ID == in.ID && !c.HeldRemote })

	// DTMF: digits are call keys on a connected call.
	mark = scr.mark(t)
	tm.Type("12")
	scr.wait(t, mark, "dtmf sent 12")
	deadline := time.Now().Add(realWait)
	for bob.dtmfReceived() != "12" {
		if time.Now().After(deadline) {
			t.Fatalf("bob received DTMF %q, want %q", bob.dtmfReceived(), "12")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A digit sent through the Manager itself, as teaphone ctl does, shows
	// too, and the typed ones are not shown twice.
	mark = scr.mark(t)
	if err := alice.mgr.SendDTMF(out.ID, "3"); err != nil {
		t.Fatalf("SendDTMF through the Manager: %v", err)
	}
	scr.wait(t, mark, "dtmf sent 123")

	// End: both sides see the call terminated, the UI is back to no calls.
	mark = scr.mark(t)
	tm.Type("e")
	scr.wait(t, mark, "calls (0)", "no calls")
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
	mark = scr.mark(t)
	aliceURI := alice.uri("alice")
	id2, err := bob.mgr.Dial(context.Background(), aliceURI, sessions.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ring := alice.waitCall(t, "ringing from bob", func(c sessions.CallInfo) bool {
		return c.Direction == sessions.DirectionIncoming && c.Pending && c.State == sessions.StateRinging
	})
	scr.wait(t, mark, "1 in  incoming", "Incoming call · line 1", "a answer")
	mark = scr.mark(t)
	tm.Type("a")
	alice.waitCall(t, "answered", func(c sessions.CallInfo) bool {
		return c.ID == ring.ID && c.State == sessions.StateConnected && !c.Pending
	})
	bob.waitCall(t, "answered by alice", func(c sessions.CallInfo) bool {
		return c.ID == id2 && c.State == sessions.StateConnected
	})
	scr.wait(t, mark, "1 in  connected", "e end")

	// Quit: with a call up the UI asks, then hangs up everything.
	mark = scr.mark(t)
	tm.Type("q")
	scr.wait(t, mark, "Hang up all and quit?")
	tm.Type("y")
	tm.WaitFinished(t, teatest.WithFinalTimeout(realWait))
	finished = true
	alice.waitNoCalls(t)
	bob.waitNoCalls(t)
	gone := bob.waitCall(t, "hung up by alice's quit", func(c sessions.CallInfo) bool { return c.ID == id2 && c.Ended() })
	if gone.State != sessions.StateTerminated {
		t.Errorf("bob's second call ended in %s, want terminated", gone.State)
	}
}

// TestCallRowKeepsMarks: on an 80-column terminal a long name and URI are
// shortened so that the call's hold, mute and recording marks stay visible.
func TestCallRowKeepsMarks(t *testing.T) {
	mgr := sessions.New() // not started: New only reads its (empty) state
	t.Cleanup(func() { _ = mgr.Close() })
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	var m tea.Model = ui.New(mgr, ui.Options{Now: func() time.Time { return now }})
	m, _ = m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	m, _ = m.Update(ui.EventMsg{Event: sessions.CallEvent{Time: now, Call: sessions.CallInfo{
		ID: "c-1", Line: 1, Direction: sessions.DirectionOutgoing, State: sessions.StateConnected,
		RemoteDisplay: "Dr. Alexandra Müller-Lüdenscheidt", RemoteURI: "sip:+4930123456789@sip.carrier.example.com",
		HeldLocal: true, HeldRemote: true, Muted: true, Recording: true,
		CreatedAt: now, ConnectedAt: now.Add(-time.Minute),
	}}})
	v := m.View()
	row := ""
	for _, l := range strings.Split(v, "\n") {
		if w := ansi.StringWidth(l); w > 80 {
			t.Errorf("line %q is %d wide", l, w)
		}
		if strings.Contains(l, " 1 out connected") {
			row = l
		}
	}
	want := "›  1 out connected       01:00  Dr. Alex…  [held] [held-by-remote] [muted] [rec]"
	if row != want {
		t.Errorf("call row\n%q, want\n%q; screen:\n%s", row, want, v)
	}
}
