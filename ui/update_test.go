package ui

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/teaphone/teaphone/sessions"
)

func newTestModel(c Client, o Options) Model {
	if o.Now == nil {
		o.Now = fixedNow
	}
	m := New(c, o)
	next, _ := m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	return next.(Model)
}

func TestUpdateCommands(t *testing.T) {
	ring := incoming("in-1", 1, "Alice", "sip:alice@example.com", "")
	bob := connected("c-1", 1, "Bob", "sip:bob@example.com", 0)
	held := bob
	held.HeldLocal = true
	muted := bob
	muted.Muted = true
	carol := connected("c-2", 2, "Carol", "sip:carol@example.com", 0)

	tests := []struct {
		name  string
		calls []sessions.CallInfo
		keys  string
		want  []string
	}{
		{"a answers the ringing call", []sessions.CallInfo{ring}, "a", []string{"Accept in-1"}},
		{"r rejects with 486", []sessions.CallInfo{ring}, "r", []string{"Reject in-1 486"}},
		{"alt+r declines with 603", []sessions.CallInfo{ring}, "alt+r", []string{"Reject in-1 603"}},
		{"i ignores", []sessions.CallInfo{ring}, "i", []string{"Ignore in-1"}},
		{"f asks the forward target", []sessions.CallInfo{ring}, "f,type:sip:desk@example.com,enter", []string{"Forward in-1 sip:desk@example.com"}},
		{"forward can be cancelled", []sessions.CallInfo{ring}, "f,type:sip:x@y,esc", nil},
		{"h holds", []sessions.CallInfo{bob}, "h", []string{"Hold c-1"}},
		{"h resumes a held call", []sessions.CallInfo{held}, "h", []string{"Resume c-1"}},
		{"m mutes", []sessions.CallInfo{bob}, "m", []string{"Mute c-1"}},
		{"m unmutes", []sessions.CallInfo{muted}, "m", []string{"Unmute c-1"}},
		{"R records", []sessions.CallInfo{bob}, "R", []string{"SetRecording c-1 true"}},
		{"e ends", []sessions.CallInfo{bob}, "e", []string{"Hangup c-1"}},
		{"digits while connected are DTMF", []sessions.CallInfo{bob}, "1,2,#,*,A", []string{"SendDTMF c-1 1", "SendDTMF c-1 2", "SendDTMF c-1 #", "SendDTMF c-1 *", "SendDTMF c-1 A"}},
		{"t asks the transfer target", []sessions.CallInfo{bob}, "t,type:200,enter", []string{"Transfer c-1 200"}},
		{"T picks the consult call", []sessions.CallInfo{bob, carol}, "T,enter", []string{"AttendedTransfer c-1 c-2"}},
		{"T on the other call", []sessions.CallInfo{bob, carol}, "j,T,enter", []string{"AttendedTransfer c-2 c-1"}},
		{"answer key does nothing without a ringing call", []sessions.CallInfo{bob}, "a,r,f,i", nil},
		{"call keys do nothing on a ringing call", []sessions.CallInfo{ring}, "h,m,t,R,1", nil},
		{"d then typing never triggers call keys", []sessions.CallInfo{bob}, "d,type:harm@example.com,enter", []string{"Dial harm@example.com"}},
		{"a digit on a held-free idle selection starts dialing", nil, "type:100,enter", []string{"Dial 100"}},
		{"esc leaves the dial line, then keys act", []sessions.CallInfo{bob}, "d,type:hm,esc,h", []string{"Hold c-1"}},
		{"ctrl+c with no calls hangs up all and quits", nil, "ctrl+c", []string{"HangupAll"}},
		{"q on the idle screen quits", nil, "q", []string{"HangupAll"}},
		{"esc leaves what was typed, then q quits", nil, "type:12,esc,q", []string{"HangupAll"}},
		{"q is text once the dial line is open", nil, "d,type:quentin@example.com,enter", []string{"Dial quentin@example.com"}},
		{": opens the dial line too", nil, ":,type:qa@example.com,enter", []string{"Dial qa@example.com"}},
		{"q is text after a first digit; esc, then q quits", nil, "type:1q,esc,q", []string{"HangupAll"}},
		{"letters on the idle screen are not typed", nil, "type:bob,enter", nil},
		{"* starts a feature code", nil, "type:*97,enter", []string{"Dial *97"}},
		{"q with calls asks first: no", []sessions.CallInfo{bob}, "q,n", nil},
		{"q with calls asks first: yes", []sessions.CallInfo{bob}, "q,y", []string{"HangupAll"}},
		{"q twice quits", []sessions.CallInfo{bob}, "q,q", []string{"HangupAll"}},
		{"help swallows the next key", []sessions.CallInfo{bob}, "?,h", nil},
		{"dial line refuses bad targets", nil, "d,type:bob smith,enter", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			for _, c := range tc.calls {
				f.calls[c.ID] = c
			}
			_, _ = feed(t, newTestModel(f, Options{}), keysOf(tc.keys)...)
			if got := f.Commands(); !slices.Equal(got, tc.want) {
				t.Errorf("commands = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestQuitRequestsProgramExit(t *testing.T) {
	f := newFake()
	f.calls["c-1"] = connected("c-1", 1, "Bob", "sip:bob@example.com", 0)
	m := newTestModel(f, Options{})
	m, quit := feed(t, m, keyMsg("q"))
	if quit || m.ask.kind != askQuit {
		t.Fatalf("q with a call up: quit=%v ask=%v, want a question", quit, m.ask.kind)
	}
	if !strings.Contains(m.View(), "Hang up all and quit?") {
		t.Errorf("view lacks the quit question:\n%s", m.View())
	}
	_, quit = feed(t, m, keyMsg("y"))
	if !quit {
		t.Fatal("y did not quit")
	}
}

func TestIncomingFlow(t *testing.T) {
	f := newFake()
	m := newTestModel(f, Options{})
	if m.dial.Focused() {
		t.Fatal("idle: the keys should be call keys (q quits) until the user dials")
	}
	in1 := incoming("in-1", 1, "Alice", "sip:alice@example.com", "Lunch?")
	in2 := incoming("in-2", 2, "", "sip:+4930123@carrier.example", "")
	m, _ = feed(t, m, callEv(in1), callEv(in2))
	if m.dial.Focused() {
		t.Error("an incoming call with an empty dial line should give the keys to the prompt")
	}
	v := m.View()
	for _, want := range []string{"Incoming call · line 1", "Alice", "Subject: Lunch?", "(+1 waiting)"} {
		if !strings.Contains(v, want) {
			t.Errorf("prompt lacks %q:\n%s", want, v)
		}
	}
	// Answer the first: the prompt moves to the second, still ringing.
	m, _ = feed(t, m, keyMsg("a"))
	if got := f.Commands(); !slices.Equal(got, []string{"Accept in-1"}) {
		t.Fatalf("commands = %q", got)
	}
	ans := in1
	ans.Pending, ans.State, ans.ConnectedAt = false, sessions.StateConnected, t0
	m, _ = feed(t, m, callEv(ans))
	if m.sel != "in-1" {
		t.Errorf("answered call should be selected, got %q", m.sel)
	}
	if pc, _, ok := promptCall(m.calls); !ok || pc.ID != "in-2" {
		t.Errorf("prompt should move to in-2, got %v %v", pc.ID, ok)
	}
	// Reject the second: the prompt goes.
	m, _ = feed(t, m, keyMsg("r"))
	rej := in2
	rej.Pending, rej.State, rej.EndedAt = false, sessions.StateCancelled, t0
	m, _ = feed(t, m, callEv(rej))
	if _, _, ok := promptCall(m.calls); ok {
		t.Error("the prompt stays after the last pending call was rejected")
	}
	if len(m.calls) != 1 {
		t.Errorf("calls = %d, want 1", len(m.calls))
	}
}

func TestIncomingWhileTypingKeepsDialFocus(t *testing.T) {
	f := newFake()
	m := newTestModel(f, Options{})
	m, _ = feed(t, m, keysOf("d,type:sip:ann")...)
	m, _ = feed(t, m, callEv(incoming("in-1", 1, "Alice", "sip:alice@example.com", "")))
	if !m.dial.Focused() {
		t.Fatal("typing must keep the dial line focused when a call comes in")
	}
	m, _ = feed(t, m, keysOf("type:a@x")...) // the "a" is text, not answer
	if len(f.Commands()) != 0 || m.dial.Value() != "sip:anna@x" {
		t.Fatalf("commands %q, dial %q", f.Commands(), m.dial.Value())
	}
	if !strings.Contains(m.View(), "leave the dial line, then answer") {
		t.Errorf("prompt should say how to answer:\n%s", m.View())
	}
	m, _ = feed(t, m, keyMsg("esc"), keyMsg("a"))
	if got := f.Commands(); !slices.Equal(got, []string{"Accept in-1"}) {
		t.Errorf("commands = %q", got)
	}
}

func TestSelectionAndConference(t *testing.T) {
	f := newFake()
	a := connected("c-1", 1, "Bob", "sip:bob@example.com", 0)
	b := connected("c-2", 2, "Carol", "sip:carol@example.com", 0)
	f.calls[a.ID], f.calls[b.ID] = a, b
	m := newTestModel(f, Options{})
	if m.sel != "c-1" {
		t.Fatalf("initial selection %q", m.sel)
	}
	m, _ = feed(t, m, keyMsg("tab"))
	if m.sel != "c-2" {
		t.Fatalf("tab → %q", m.sel)
	}
	m, _ = feed(t, m, keyMsg("c"))
	if !strings.Contains(m.msg.text, "conference not available") || len(f.Commands()) != 0 {
		t.Errorf("without Conferencer: msg %q, commands %q", m.msg.text, f.Commands())
	}
	m2 := newTestModel(confFake{f}, Options{})
	m2, _ = feed(t, m2, keyMsg("j"), keyMsg("c"))
	if got := f.Commands(); !slices.Equal(got, []string{"Conference c-2 c-1"}) {
		t.Errorf("commands = %q", got)
	}
	_ = m2
}

func TestCommandErrorShown(t *testing.T) {
	f := newFake()
	f.err = errors.New("boom")
	f.calls["c-1"] = connected("c-1", 1, "Bob", "sip:bob@example.com", 0)
	m := newTestModel(f, Options{})
	m, _ = feed(t, m, keyMsg("h"))
	if !m.msg.err || !strings.Contains(m.msg.text, "hold line 1: boom") {
		t.Errorf("message = %+v", m.msg)
	}
}

func TestEventsUpdateView(t *testing.T) {
	f := newFake()
	m := newTestModel(f, Options{Accounts: []string{"work"}})
	c := connected("c-1", 1, "Bob", "sip:bob@example.com", 0)
	m, _ = feed(t, m,
		EventMsg{Event: sessions.RegistrationEvent{Time: t0, Account: "work", State: sessions.RegRegistered}},
		callEv(c),
		EventMsg{Event: sessions.MediaEvent{Time: t0, CallID: "c-1", Line: 1, Stats: sessions.MediaStats{Codec: "PCMA", RxPackets: 10, JitterMs: 2.5, MOS: 4.2}}},
		EventMsg{Event: sessions.DTMFEvent{Time: t0, CallID: "c-1", Line: 1, Digit: "7", Received: true}},
		EventMsg{Event: sessions.ErrorEvent{Time: t0, Err: errors.New("transport down")}},
	)
	v := m.View()
	for _, want := range []string{"work: registered", "PCMA", "2.5 ms", "4.2", "recv 7", "transport down"} {
		if !strings.Contains(v, want) {
			t.Errorf("view lacks %q:\n%s", want, v)
		}
	}
	ended := c
	ended.State, ended.EndedAt = sessions.StateTerminated, t0
	m, _ = feed(t, m, callEv(ended))
	if len(m.calls) != 0 || m.dial.Focused() {
		t.Errorf("after the last call ended: %d calls, dial focused %v; want the call keys (q quits)", len(m.calls), m.dial.Focused())
	}
	if _, quit := feed(t, m, keyMsg("q")); !quit {
		t.Error("q after the last call ended did not quit")
	}
}

func TestRemappedKeys(t *testing.T) {
	f := newFake()
	f.calls["in-1"] = incoming("in-1", 1, "Alice", "sip:alice@example.com", "")
	m := newTestModel(f, Options{Keys: map[string][]string{"answer": {"y", "f5"}}})
	_, _ = feed(t, m, keyMsg("a"), keyMsg("y"))
	if got := f.Commands(); !slices.Equal(got, []string{"Accept in-1"}) {
		t.Errorf("commands = %q", got)
	}
	bad := newTestModel(f, Options{Keys: map[string][]string{"fly": {"x"}}})
	if !bad.msg.err || !strings.Contains(bad.msg.text, `unknown action "fly"`) {
		t.Errorf("bad key config message = %+v", bad.msg)
	}
}

func TestStaleTickDropped(t *testing.T) {
	m := newTestModel(newFake(), Options{})
	next, cmd := m.Update(tickMsg{tag: m.tickTag + 1, at: t0.Add(time.Hour)})
	if cmd != nil || !next.(Model).clock.Equal(t0) {
		t.Error("a stale tick must be ignored")
	}
	next, cmd = m.Update(tickMsg{tag: m.tickTag, at: t0.Add(time.Hour)})
	if cmd == nil || !next.(Model).clock.Equal(t0.Add(time.Hour)) {
		t.Error("a current tick must advance the clock and re-arm")
	}
}

func TestUpdatePanicQuits(t *testing.T) {
	m := newTestModel(panicClient{newFake()}, Options{})
	next, _ := m.Update(keyMsg("1"))
	next, cmd := next.(Model).Update(keyMsg("enter"))
	msgs := drain(cmd)
	if len(msgs) != 1 {
		t.Fatalf("msgs = %v", msgs)
	}
	final, cmd := next.(Model).Update(msgs[0])
	if final.(Model).panicked == nil {
		t.Fatal("panic not recorded")
	}
	if _, ok := cmd().(tea.QuitMsg); !ok {
		t.Error("panic must quit")
	}
}

type panicClient struct{ *fakeClient }

func (panicClient) Dial(context.Context, string, sessions.DialOptions) (sessions.CallID, error) {
	panic("dial exploded")
}

func TestCommandsRunOneAtATime(t *testing.T) {
	f := newFake()
	f.calls["c-1"] = connected("c-1", 1, "Bob", "sip:bob@example.com", 0)
	m := newTestModel(f, Options{})
	var cmds []tea.Cmd
	for _, k := range []string{"1", "2", "3"} {
		next, cmd := m.Update(keyMsg(k))
		m = next.(Model)
		cmds = append(cmds, cmd)
	}
	if cmds[0] == nil || cmds[1] != nil || cmds[2] != nil || len(m.queue) != 2 {
		t.Fatalf("want one command running and two queued, got %d queued", len(m.queue))
	}
	m, _ = feed(t, m, drain(cmds[0])...)
	if got := f.Commands(); !slices.Equal(got, []string{"SendDTMF c-1 1", "SendDTMF c-1 2", "SendDTMF c-1 3"}) {
		t.Errorf("commands = %q", got)
	}
	if m.busy || len(m.queue) != 0 {
		t.Error("queue not drained")
	}
}

type dndFake struct{ *fakeClient }

func (dndFake) Rules() sessions.Rules { return sessions.RejectAll(0) }

func TestStatusBarFlags(t *testing.T) {
	f := newFake()
	c := connected("c-1", 1, "Bob", "sip:bob@example.com", 0)
	c.Muted = true
	f.calls[c.ID] = c
	v := newTestModel(dndFake{f}, Options{}).View()
	if first := strings.SplitN(v, "\n", 2)[0]; !strings.Contains(first, "MUTED DND") {
		t.Errorf("status bar %q lacks MUTED DND", first)
	}
}

// TestKeypadToneAndDialHistory: a DTMF digit plays its local tone through
// Options.Keypad; a dialled target is handed to Options.OnDial.
func TestKeypadToneAndDialHistory(t *testing.T) {
	var mu sync.Mutex
	var tones []rune
	var dialed []string
	o := Options{
		Keypad: func(d rune) { mu.Lock(); tones = append(tones, d); mu.Unlock() },
		OnDial: func(s string) { mu.Lock(); dialed = append(dialed, s); mu.Unlock() },
	}
	f := newFake()
	bob := connected("c-1", 1, "Bob", "sip:bob@example.com", 0)
	f.calls[bob.ID] = bob
	_, _ = feed(t, newTestModel(f, o), keysOf("1,#")...)
	f2 := newFake()
	_, _ = feed(t, newTestModel(f2, o), keysOf("type:100,enter")...)
	mu.Lock()
	defer mu.Unlock()
	if string(tones) != "1#" {
		t.Errorf("keypad tones %q, want 1#", string(tones))
	}
	if !slices.Equal(dialed, []string{"100"}) {
		t.Errorf("dial history %q, want [100]", dialed)
	}
}

// TestIdleRunesAtOnce: a terminal delivers a paste, and keys typed faster
// than it reads, in one key message; on the idle screen a paste opens the
// dial line with all of it, and typed keys act one by one, as typed.
func TestIdleRunesAtOnce(t *testing.T) {
	tests := []struct {
		name string
		key  tea.KeyMsg
		want []string
	}{
		{"pasted URI", tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("sip:quentin@example.com"), Paste: true}, []string{"Dial sip:quentin@example.com"}},
		{"number read at once", tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("100")}, []string{"Dial 100"}},
		{"letters read at once are not typed", tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("bob")}, nil},
		{"d and a URI read at once", tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("dquentin@example.com")}, []string{"Dial quentin@example.com"}},
		{"q read with more keys quits", tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("xq1")}, []string{"HangupAll"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			_, _ = feed(t, newTestModel(f, Options{}), tc.key, keyMsg("enter"))
			if got := f.Commands(); !slices.Equal(got, tc.want) {
				t.Errorf("commands = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestHangupDoesNotWaitForTheQueue: with a hold still running (its re-INVITE
// unanswered) and digits queued behind it, e hangs up at once, and the
// call's queued commands are dropped.
func TestHangupDoesNotWaitForTheQueue(t *testing.T) {
	f := newFake()
	f.calls["c-1"] = connected("c-1", 1, "Bob", "sip:bob@example.com", 0)
	m := newTestModel(f, Options{})
	var cmds []tea.Cmd
	for _, k := range []string{"h", "1", "2", "e"} {
		next, cmd := m.Update(keyMsg(k))
		m = next.(Model)
		cmds = append(cmds, cmd)
	}
	if cmds[0] == nil || cmds[1] != nil || cmds[2] != nil {
		t.Fatal("want the hold running and two digits queued")
	}
	if cmds[3] == nil {
		t.Fatal("the hang-up waits behind the hold")
	}
	if len(m.queue) != 0 {
		t.Errorf("%d commands of the hung-up call still queued", len(m.queue))
	}
	m, _ = feed(t, m, drain(cmds[3])...)
	if got := f.Commands(); !slices.Equal(got, []string{"Hangup c-1"}) {
		t.Errorf("commands = %q, want the hang-up alone (the hold has not returned)", got)
	}
	if !m.busy {
		t.Error("the hang-up's result ended the hold's turn")
	}
}

// TestRegistrationFailureShowsItsReason: the status bar says why an account
// is not registered, not only that it failed.
func TestRegistrationFailureShowsItsReason(t *testing.T) {
	m := newTestModel(newFake(), Options{Accounts: []string{"work"}})
	m, _ = feed(t, m, EventMsg{Event: sessions.RegistrationEvent{Time: t0, Account: "work", State: sessions.RegFailed,
		Code: 403, Reason: "authentication failed"}})
	if v := m.View(); !strings.Contains(v, "work: failed (authentication failed)") {
		t.Fatalf("status bar lacks the reason:\n%s", v)
	}
}

// TestStartupWarningsInTheLogPane: warnings given at start (a config file
// others can read) are in the log pane.
func TestStartupWarningsInTheLogPane(t *testing.T) {
	m := newTestModel(newFake(), Options{Warnings: []string{"config.toml holds a password and other users can read it"}})
	if v := m.View(); !strings.Contains(v, "warning: config.toml holds a password") {
		t.Fatalf("log pane lacks the warning:\n%s", v)
	}
}

// TestRegistrationTLSUnverified: an account registered over TLS without
// checking the certificate (tls.verify = false) says so in the status bar.
func TestRegistrationTLSUnverified(t *testing.T) {
	m := newTestModel(newFake(), Options{Accounts: []string{"work"}})
	m, _ = feed(t, m, EventMsg{Event: sessions.RegistrationEvent{Time: t0, Account: "work", State: sessions.RegRegistered,
		Code: 200, Reason: "OK", TLSUnverified: true}})
	if v := m.View(); !strings.Contains(v, "work: registered (TLS NOT VERIFIED)") {
		t.Fatalf("status bar does not say TLS is unverified:\n%s", v)
	}
}

// TestCallEncryptionShown: a closed lock for TLS and SRTP, an open one for
// either alone (the pane says which), nothing for neither.
func TestCallEncryptionShown(t *testing.T) {
	for _, tc := range []struct {
		name, transport, srtp string
		mark, pane            string
	}{
		{"both", "TLS", "AES_CM_128_HMAC_SHA1_80", "🔒", "🔒 TLS + SRTP (AES_CM_128_HMAC_SHA1_80)"},
		{"SRTP only", "UDP", "AES_CM_128_HMAC_SHA1_80", "🔓", "🔓 SRTP (AES_CM_128_HMAC_SHA1_80), signalling in clear (UDP)"},
		{"DTLS-SRTP only", "UDP", "AES_CM_128_HMAC_SHA1_80 (DTLS)", "🔓", "🔓 SRTP (AES_CM_128_HMAC_SHA1_80 (DTLS)), signalling in clear (UDP)"},
		{"TLS + DTLS-SRTP", "TLS", "AES_CM_128_HMAC_SHA1_80 (DTLS)", "🔒", "🔒 TLS + SRTP (AES_CM_128_HMAC_SHA1_80 (DTLS))"},
		{"TLS only", "TLS", "", "🔓", "🔓 TLS, media in clear"},
		{"neither", "UDP", "", "", ""},
		{"DTLS handshake", "UDP", sessions.SRTPHandshaking, "", "DTLS-SRTP handshake: no media until its keys, signalling in clear (UDP)"},
		{"TLS + DTLS handshake", "TLS", sessions.SRTPHandshaking, "🔓", "🔓 TLS, DTLS-SRTP handshake: no media until its keys"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newTestModel(newFake(), Options{})
			c := connected("c-1", 1, "Bob", "sip:bob@example.com", 0)
			c.Transport, c.SRTP = tc.transport, tc.srtp
			m, _ = feed(t, m, callEv(c))
			v := m.View()
			if tc.mark == "" {
				if strings.Contains(v, "🔒") || strings.Contains(v, "🔓") {
					t.Fatalf("a lock for a call with nothing encrypted:\n%s", v)
				}
				if !strings.Contains(v, tc.pane) {
					t.Fatalf("want %q in the pane:\n%s", tc.pane, v)
				}
				return
			}
			if !strings.Contains(v, tc.pane) || strings.Count(v, tc.mark) < 2 {
				t.Fatalf("want %q in the list and %q in the pane:\n%s", tc.mark, tc.pane, v)
			}
		})
	}
}
