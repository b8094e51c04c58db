package ui

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/teaphone/teaphone/sessions"
)

// The real client core must fit the UI's interface.
var _ Client = (*sessions.Manager)(nil)

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return t0 }

// fakeClient records every command. When events is set it also plays the
// client core: commands change its calls and publish CallEvents there.
type fakeClient struct {
	mu     sync.Mutex
	cmds   []string
	calls  map[sessions.CallID]sessions.CallInfo
	regs   []sessions.RegistrationInfo
	events chan sessions.Event
	next   int
	err    error // returned by every command when set
}

func newFake() *fakeClient {
	return &fakeClient{calls: map[sessions.CallID]sessions.CallInfo{}}
}

func (f *fakeClient) record(format string, args ...any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cmds = append(f.cmds, fmt.Sprintf(format, args...))
	return f.err
}

// Commands returns what was called, in order.
func (f *fakeClient) Commands() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.cmds...)
}

// update changes a call and publishes it (when events is set).
func (f *fakeClient) update(id sessions.CallID, change func(*sessions.CallInfo)) {
	f.mu.Lock()
	c, ok := f.calls[id]
	if !ok {
		f.mu.Unlock()
		return
	}
	prev := c.State
	change(&c)
	if c.Ended() {
		delete(f.calls, id)
	} else {
		f.calls[id] = c
	}
	ch := f.events
	f.mu.Unlock()
	if ch != nil {
		ch <- sessions.CallEvent{Time: t0, Call: c, Prev: prev}
	}
}

// add registers a call and publishes it.
func (f *fakeClient) add(c sessions.CallInfo) {
	f.mu.Lock()
	f.calls[c.ID] = c
	ch := f.events
	f.mu.Unlock()
	if ch != nil {
		ch <- sessions.CallEvent{Time: t0, Call: c}
	}
}

func (f *fakeClient) Dial(_ context.Context, target string, _ sessions.DialOptions) (sessions.CallID, error) {
	if err := f.record("Dial %s", target); err != nil {
		return "", err
	}
	f.mu.Lock()
	f.next++
	id := sessions.CallID(fmt.Sprintf("out-%d", f.next))
	line := len(f.calls) + 1
	f.mu.Unlock()
	f.add(sessions.CallInfo{ID: id, Line: line, Direction: sessions.DirectionOutgoing, State: sessions.StateInitiating, RemoteURI: target, CreatedAt: t0})
	f.update(id, func(c *sessions.CallInfo) { c.State, c.ConnectedAt = sessions.StateConnected, t0 })
	return id, nil
}

func (f *fakeClient) Accept(id sessions.CallID) error {
	if err := f.record("Accept %s", id); err != nil {
		return err
	}
	f.update(id, func(c *sessions.CallInfo) {
		c.Pending, c.State, c.ConnectedAt = false, sessions.StateConnected, t0
	})
	return nil
}

func (f *fakeClient) Reject(id sessions.CallID, code int, _ string) error {
	if err := f.record("Reject %s %d", id, code); err != nil {
		return err
	}
	f.update(id, func(c *sessions.CallInfo) { c.Pending, c.State, c.EndedAt = false, sessions.StateCancelled, t0 })
	return nil
}

func (f *fakeClient) Forward(id sessions.CallID, target string) error {
	return f.record("Forward %s %s", id, target)
}

func (f *fakeClient) Ignore(id sessions.CallID) error {
	if err := f.record("Ignore %s", id); err != nil {
		return err
	}
	f.update(id, func(c *sessions.CallInfo) { c.Ignored = true })
	return nil
}

func (f *fakeClient) Hangup(id sessions.CallID) error {
	if err := f.record("Hangup %s", id); err != nil {
		return err
	}
	f.update(id, func(c *sessions.CallInfo) { c.State, c.EndedAt = sessions.StateTerminated, t0 })
	return nil
}

func (f *fakeClient) Hold(id sessions.CallID) error {
	if err := f.record("Hold %s", id); err != nil {
		return err
	}
	f.update(id, func(c *sessions.CallInfo) { c.HeldLocal = true })
	return nil
}

func (f *fakeClient) Resume(id sessions.CallID) error {
	if err := f.record("Resume %s", id); err != nil {
		return err
	}
	f.update(id, func(c *sessions.CallInfo) { c.HeldLocal = false })
	return nil
}

func (f *fakeClient) Mute(id sessions.CallID) error {
	if err := f.record("Mute %s", id); err != nil {
		return err
	}
	f.update(id, func(c *sessions.CallInfo) { c.Muted = true })
	return nil
}

func (f *fakeClient) Unmute(id sessions.CallID) error {
	if err := f.record("Unmute %s", id); err != nil {
		return err
	}
	f.update(id, func(c *sessions.CallInfo) { c.Muted = false })
	return nil
}

func (f *fakeClient) SendDTMF(id sessions.CallID, digits string) error {
	return f.record("SendDTMF %s %s", id, digits)
}

func (f *fakeClient) Transfer(id sessions.CallID, target string) error {
	return f.record("Transfer %s %s", id, target)
}

func (f *fakeClient) AttendedTransfer(id, consult sessions.CallID) error {
	return f.record("AttendedTransfer %s %s", id, consult)
}

func (f *fakeClient) AnswerTransfer(id sessions.CallID, accept bool) error {
	return f.record("AnswerTransfer %s %v", id, accept)
}

func (f *fakeClient) SetRecording(id sessions.CallID, on bool) error {
	if err := f.record("SetRecording %s %v", id, on); err != nil {
		return err
	}
	f.update(id, func(c *sessions.CallInfo) { c.Recording = on })
	return nil
}

func (f *fakeClient) HangupAll() error {
	if err := f.record("HangupAll"); err != nil {
		return err
	}
	f.mu.Lock()
	ids := make([]string, 0, len(f.calls))
	for id := range f.calls {
		ids = append(ids, string(id))
	}
	f.mu.Unlock()
	sort.Strings(ids)
	for _, id := range ids {
		f.update(sessions.CallID(id), func(c *sessions.CallInfo) { c.State, c.EndedAt = sessions.StateTerminated, t0 })
	}
	return nil
}

func (f *fakeClient) Calls() []sessions.CallInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]sessions.CallInfo, 0, len(f.calls))
	for _, c := range f.calls {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Line < out[j].Line })
	return out
}

func (f *fakeClient) Registrations() []sessions.RegistrationInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sessions.RegistrationInfo(nil), f.regs...)
}

func (f *fakeClient) Subscribe() *sessions.Subscription { return nil }

// confFake adds the optional Conference method.
type confFake struct{ *fakeClient }

func (f confFake) Conference(a, b sessions.CallID) error { return f.record("Conference %s %s", a, b) }

// Fixtures.

func incoming(id string, line int, display, uri, subject string) sessions.CallInfo {
	return sessions.CallInfo{
		ID: sessions.CallID(id), Line: line, Direction: sessions.DirectionIncoming,
		State: sessions.StateRinging, RemoteURI: uri, RemoteDisplay: display, Subject: subject,
		Pending: true, Decision: "defer", CreatedAt: t0.Add(-7 * time.Second), RingingAt: t0.Add(-7 * time.Second),
	}
}

func connected(id string, line int, display, uri string, since time.Duration) sessions.CallInfo {
	return sessions.CallInfo{
		ID: sessions.CallID(id), Line: line, Direction: sessions.DirectionOutgoing,
		State: sessions.StateConnected, RemoteURI: uri, RemoteDisplay: display, Codec: "PCMU",
		CreatedAt: t0.Add(-since - 5*time.Second), ConnectedAt: t0.Add(-since),
	}
}

func callEv(c sessions.CallInfo) EventMsg {
	return EventMsg{Event: sessions.CallEvent{Time: t0, Call: c}}
}

// keyMsg builds the KeyMsg Bubble Tea would deliver for a key name.
func keyMsg(s string) tea.KeyMsg {
	named := map[string]tea.KeyType{
		"enter": tea.KeyEnter, "esc": tea.KeyEsc, "tab": tea.KeyTab, "shift+tab": tea.KeyShiftTab,
		"up": tea.KeyUp, "down": tea.KeyDown, "left": tea.KeyLeft, "right": tea.KeyRight,
		"backspace": tea.KeyBackspace, "ctrl+c": tea.KeyCtrlC, "ctrl+u": tea.KeyCtrlU,
		"ctrl+w": tea.KeyCtrlW, "ctrl+a": tea.KeyCtrlA, "ctrl+e": tea.KeyCtrlE, "ctrl+k": tea.KeyCtrlK,
		"home": tea.KeyHome, "end": tea.KeyEnd, "delete": tea.KeyDelete, " ": tea.KeySpace,
	}
	if t, ok := named[s]; ok {
		return tea.KeyMsg{Type: t}
	}
	if rest, ok := strings.CutPrefix(s, "alt+"); ok {
		return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(rest), Alt: true}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}
}

// keysOf splits "a,b,enter" into key messages; "type:xyz" types each rune.
func keysOf(spec string) []tea.Msg {
	var out []tea.Msg
	for _, k := range strings.Split(spec, ",") {
		if k == "" {
			continue
		}
		if s, ok := strings.CutPrefix(k, "type:"); ok {
			for _, r := range s {
				out = append(out, keyMsg(string(r)))
			}
			continue
		}
		out = append(out, keyMsg(k))
	}
	return out
}

// drain runs cmd and returns the messages it produces, expanding batches.
// Commands that block (the clock tick, event waits) are abandoned after a
// short wait: their messages are not wanted in these tests.
func drain(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	ch := make(chan tea.Msg, 1)
	go func() { ch <- cmd() }()
	select {
	case msg := <-ch:
		switch msg := msg.(type) {
		case nil:
			return nil
		case tea.BatchMsg:
			var out []tea.Msg
			for _, c := range msg {
				out = append(out, drain(c)...)
			}
			return out
		}
		return []tea.Msg{msg}
	case <-time.After(50 * time.Millisecond):
		return nil
	}
}

// feed applies msgs to m in order, running the commands each produces and
// feeding their results (command outcomes) back, like the program would.
// It returns the final model and whether a quit was requested.
func feed(t *testing.T, m Model, msgs ...tea.Msg) (Model, bool) {
	t.Helper()
	quit := false
	queue := append([]tea.Msg(nil), msgs...)
	for len(queue) > 0 {
		msg := queue[0]
		queue = queue[1:]
		if _, ok := msg.(tea.QuitMsg); ok {
			quit = true
			continue
		}
		next, cmd := m.Update(msg)
		m = next.(Model)
		queue = append(queue, drain(cmd)...)
	}
	return m, quit
}
