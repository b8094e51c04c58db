package ui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/muesli/termenv"

	"github.com/teaphone/teaphone/sessions"
)

func init() {
	// Golden files are colour-free and stable.
	lipgloss.SetColorProfile(termenv.Ascii)
}

var testOpts = Options{
	Accounts: []string{"work", "home"},
	AudioIn:  "USB Headset",
	AudioOut: "USB Headset",
	Now:      fixedNow,
	Contacts: []Contact{{Name: "Dave Desk", URI: "sip:dave@example.com"}},
	History:  []string{"sip:bob@example.com", "100"},
	ListDevices: func() (AudioDevices, error) {
		return AudioDevices{Devices: []AudioDevice{
			{Name: "default", Input: true, Output: true},
			{Name: "USB Headset", Input: true, Output: true},
			{Name: "HDMI 0", Output: true},
		}, Input: "USB Headset", Output: "USB Headset"}, nil
	},
	UseDevice:   func(DeviceRole, string) error { return nil },
	CallHistory: func() ([]HistoryEntry, error) { return historyEntries, nil },
}

// historyEntries are the calls the history view shows, newest first.
var historyEntries = []HistoryEntry{
	{Started: t0.Add(-10 * time.Minute), Incoming: true, Missed: true, Remote: "sip:alice@example.com",
		Display: "Alice Smith", Account: "work", Result: "missed"},
	{Started: t0.Add(-2 * time.Hour), Remote: "sip:bob@example.com", Display: "Bob Jones", Account: "work",
		Duration: 3*time.Minute + 12*time.Second, Result: "remote hangup"},
	{Started: t0.Add(-26 * time.Hour), Remote: "sip:carol@example.org", Account: "home", Result: "486 Busy Here"},
	{Started: t0.Add(-50 * time.Hour), Incoming: true, Remote: "sip:+4930123456@carrier.example",
		Duration: 47 * time.Second, Result: "local hangup"},
}

func regFake() *fakeClient {
	f := newFake()
	f.regs = []sessions.RegistrationInfo{
		{Account: "work", State: sessions.RegRegistered, Expires: 300},
		{Account: "home", State: sessions.RegRegistering},
	}
	return f
}

// screens builds each golden screen from a fake and a few keys.
func screens(t *testing.T) map[string]Model {
	t.Helper()
	out := map[string]Model{}

	out["idle"] = New(regFake(), testOpts)

	f := regFake()
	f.calls["in-1"] = incoming("in-1", 1, "Alice Smith", "sip:alice@example.com", "Lunch on Friday?")
	f.calls["in-2"] = incoming("in-2", 2, "", "sip:+4930123456@carrier.example", "")
	out["ringing"] = New(f, testOpts)

	f = regFake()
	ruled := incoming("in-3", 1, "Carol", "sip:carol@example.org", "")
	ruled.Decision, ruled.Rule = "defer 20s, then forward sip:voicemail@pbx.example.com", "rules[3]"
	ruled.RuleWhy = "hours 18:00-08:00 weekdays [fri] (Europe/Berlin) (line 24)"
	f.calls["in-3"] = ruled
	out["ringing_rule"] = New(f, testOpts)

	f = regFake()
	bob := connected("c-1", 1, "Bob Jones", "sip:bob@example.com", 3*time.Minute+12*time.Second)
	bob.HeldLocal = true
	carol := connected("c-2", 2, "", "sip:carol@example.org", 47*time.Second)
	carol.Direction = sessions.DirectionIncoming
	carol.Recording = true
	carol.Muted = true
	f.calls[bob.ID], f.calls[carol.ID] = bob, carol
	m := New(f, testOpts)
	var msgs []tea.Msg
	for i := 0; i < 12; i++ {
		msgs = append(msgs, EventMsg{Event: sessions.MediaEvent{
			Time: t0.Add(time.Duration(i-12) * 5 * time.Second), CallID: "c-2", Line: 2,
			Stats: sessions.MediaStats{Codec: "PCMU", RxPackets: 2400, JitterMs: 3.4, LossPct: 0.8, RTTMs: 24.6, MOS: 3.6 + float64(i%4)*0.2},
		}})
	}
	msgs = append(msgs, keyMsg("4"), keyMsg("2"),
		EventMsg{Event: sessions.DTMFEvent{Time: t0, CallID: "c-2", Line: 2, Digit: "9", Received: true}})
	m, _ = feed(t, m, msgs...)
	out["two_calls"] = m

	tr, _ := feed(t, m, keysOf("t,type:sip:dave")...)
	out["transfer"] = tr

	hp, _ := feed(t, m, keyMsg("?"))
	out["help"] = hp

	dv, _ := feed(t, m, keyMsg("s"))
	dv, _ = feed(t, dv, keyMsg("down"), keyMsg("down"))
	out["devices"] = dv

	hv, _ := feed(t, New(regFake(), testOpts), keyMsg("H"))
	hv, _ = feed(t, hv, keyMsg("j"))
	out["history"] = hv

	vm, _ := feed(t, New(regFake(), testOpts), EventMsg{Event: sessions.MWIEvent{Time: t0, Account: "work", Waiting: true, New: 3, Old: 1}})
	out["voicemail"] = vm

	mo := testOpts
	mo.Missed = &fakeMissed{unseen: []sessions.CallID{"old-1", "old-2"}}
	ms := New(regFake(), mo)
	ms, _ = feed(t, ms, append(drain(ms.loadUnseen()), callEvent(ended("in-9", false, "defer")))...)
	out["missed"] = ms
	return out
}

func TestView(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		for name, m := range screens(t) {
			t.Run(fmt.Sprintf("%s_%dx%d", name, size[0], size[1]), func(t *testing.T) {
				next, _ := m.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
				v := next.(Model).View()
				lines := strings.Split(v, "\n")
				if len(lines) != size[1] {
					t.Errorf("view has %d lines, want %d", len(lines), size[1])
				}
				for i, l := range lines {
					if w := ansi.StringWidth(l); w > size[0] {
						t.Errorf("line %d is %d wide: %q", i, w, l)
					}
				}
				golden.RequireEqual(t, []byte(v))
			})
		}
	}
}

func TestViewSmallTerminal(t *testing.T) {
	for name, m := range screens(t) {
		next, _ := m.Update(tea.WindowSizeMsg{Width: 20, Height: 5})
		v := next.(Model).View()
		lines := strings.Split(v, "\n")
		if len(lines) != 5 {
			t.Errorf("%s: %d lines, want 5", name, len(lines))
		}
		for _, l := range lines {
			if w := ansi.StringWidth(l); w > 20 {
				t.Errorf("%s: line %q is %d wide", name, l, w)
			}
		}
	}
}

// TestViewAudioNotice: without a sound card the status bar and the log say
// that audio is off.
func TestViewAudioNotice(t *testing.T) {
	m := newTestModel(newFake(), Options{AudioIn: "sound card", AudioOut: "sound card", AudioNotice: "no sound card — audio off"})
	v := m.View()
	lines := strings.Split(v, "\n")
	if !strings.Contains(lines[0], "no sound card — audio off") || strings.Contains(lines[0], "in: ") {
		t.Errorf("status bar %q: want the notice in place of the devices", lines[0])
	}
	if !strings.Contains(strings.Join(lines[1:], "\n"), "10:00:00 no sound card — audio off") {
		t.Errorf("log pane lacks the notice:\n%s", v)
	}
}

// TestMicMeter: the call pane of a connected call shows the microphone's
// level as the tick last read it, "muted" for a muted call, and nothing
// without a meter or before the first reading.
func TestMicMeter(t *testing.T) {
	f := regFake()
	bob := connected("c-1", 1, "Bob Jones", "sip:bob@example.com", time.Minute)
	f.calls[bob.ID] = bob
	level, ok := -23.0, true
	opts := testOpts
	opts.InputLevel = func() (float64, bool) { return level, ok }
	m := New(f, opts)
	if v := m.View(); strings.Contains(v, "mic ") {
		t.Errorf("a meter before the first tick:\n%s", v)
	}
	tickNow := func() {
		m, _ = feed(t, m, tickMsg{tag: m.tickTag, at: t0})
	}
	tickNow()
	if v := m.View(); !strings.Contains(v, "mic ██████░░░░ -23 dB") {
		t.Errorf("no meter at -23 dBFS:\n%s", v)
	}
	level = -75
	tickNow()
	if v := m.View(); !strings.Contains(v, "mic ░░░░░░░░░░ silent") {
		t.Errorf("no silent meter:\n%s", v)
	}
	ok = false
	tickNow()
	if v := m.View(); strings.Contains(v, "mic ") {
		t.Errorf("a meter while nothing reads the microphone:\n%s", v)
	}
	bob.Muted = true
	f.calls[bob.ID] = bob
	ok = true
	m = New(f, opts)
	tickNow()
	if v := m.View(); !strings.Contains(v, "mic muted") {
		t.Errorf("a muted call's pane does not say so:\n%s", v)
	}
}

// TestMwiStatusBar: the status bar says "voicemail 3 new" after the
// account while new messages wait, through a registration
// refresh, and nothing once they are heard.
func TestMwiStatusBar(t *testing.T) {
	m := newTestModel(regFake(), testOpts)
	status := func() string { return strings.Split(m.View(), "\n")[0] }
	m, _ = feed(t, m, EventMsg{Event: sessions.MWIEvent{Time: t0, Account: "work", Waiting: true, New: 3, Old: 1}})
	if s := status(); !strings.Contains(s, "work: registered │ voicemail 3 new") {
		t.Errorf("status bar %q: want the voicemail count after work", s)
	}
	m, _ = feed(t, m, EventMsg{Event: sessions.RegistrationEvent{Time: t0, Account: "work", State: sessions.RegRegistered}})
	if s := status(); !strings.Contains(s, "voicemail 3 new") {
		t.Errorf("status bar %q: a registration dropped the voicemail count", s)
	}
	m, _ = feed(t, m, EventMsg{Event: sessions.MWIEvent{Time: t0, Account: "work", Waiting: false, Old: 4}})
	if s := status(); strings.Contains(s, "voicemail") {
		t.Errorf("status bar %q: voicemail shown with no new message", s)
	}
}
