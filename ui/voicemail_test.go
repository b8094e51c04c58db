package ui

import (
	"slices"
	"strings"
	"testing"

	"github.com/teaphone/teaphone/sessions"
)

// TestVoicemailKey: v calls the voicemail of the account with new
// messages, else of the first account that has a voicemail; without any
// it says how to set one.
func TestVoicemailKey(t *testing.T) {
	o := testOpts
	o.Accounts = []string{"home", "work"}
	o.Voicemail = map[string]string{"home": "sip:*97@home.example", "work": "sip:*98@work.example"}

	f := regFake()
	m, _ := feed(t, newTestModel(f, o), keyMsg("v"))
	if got := f.Commands(); !slices.Contains(got, "Dial sip:*97@home.example") {
		t.Errorf("no new messages: commands %q, want the first account's voicemail", got)
	}
	if !strings.Contains(m.msg.text, "dialing voicemail sip:*97@home.example") {
		t.Errorf("message %q", m.msg.text)
	}

	f = regFake()
	m = newTestModel(f, o)
	m, _ = feed(t, m, EventMsg{Event: sessions.MWIEvent{Time: t0, Account: "work", Waiting: true, New: 2}})
	m, _ = feed(t, m, keyMsg("v"))
	if got := f.Commands(); !slices.Contains(got, "Dial sip:*98@work.example") {
		t.Errorf("work has 2 new: commands %q, want work's voicemail", got)
	}
	if !strings.Contains(m.msg.text, "voicemail") {
		t.Errorf("message %q", m.msg.text)
	}

	f = regFake()
	m, _ = feed(t, newTestModel(f, testOpts), keyMsg("v"))
	if got := f.Commands(); slices.ContainsFunc(got, func(c string) bool { return strings.HasPrefix(c, "Dial") }) {
		t.Errorf("no voicemail configured: commands %q, want no dial", got)
	}
	if !strings.Contains(m.msg.text, "no voicemail configured") {
		t.Errorf("no voicemail configured: message %q", m.msg.text)
	}
}
