// Package ui is teaphone's full-screen terminal phone: a Bubble Tea program
// on top of the client core (package sessions). Every key calls the same
// sessions.Manager commands as the headless scripts, so both behave alike.
//
// Layout, top to bottom: status bar (accounts, devices, mute/DND), call list,
// the selected call's details (codec, jitter, loss, RTT, MOS sparkline), the
// incoming-call prompt or the current question, the dial line, a message
// line, the log pane (toggled with l) and a help footer built from the key
// map.
//
// Modes keep typing safe: the dial line owns every printable key while it
// has focus (after d or :, or once a digit, +, * or # started a number with
// no call connected), so typing a URI never triggers a call key; Esc gives
// the keys back to the call list, where letters are call keys (q quits, also
// on the idle screen) and digits are DTMF on a connected call.
package ui

import (
	"context"
	"time"

	"github.com/teaphone/teaphone/sessions"
)

// Client is the part of the client core the UI drives. *sessions.Manager
// implements it; tests pass a fake.
type Client interface {
	Dial(ctx context.Context, target string, opts sessions.DialOptions) (sessions.CallID, error)
	Accept(id sessions.CallID) error
	Reject(id sessions.CallID, code int, reason string) error
	Forward(id sessions.CallID, target string) error
	Ignore(id sessions.CallID) error
	Hangup(id sessions.CallID) error
	Hold(id sessions.CallID) error
	Resume(id sessions.CallID) error
	Mute(id sessions.CallID) error
	Unmute(id sessions.CallID) error
	SendDTMF(id sessions.CallID, digits string) error
	Transfer(id sessions.CallID, target string) error
	AttendedTransfer(id, consult sessions.CallID) error
	AnswerTransfer(id sessions.CallID, accept bool) error
	SetRecording(id sessions.CallID, on bool) error
	HangupAll() error

	Calls() []sessions.CallInfo
	Registrations() []sessions.RegistrationInfo

	// Subscribe is used by Run when Options.Events is nil.
	Subscribe() *sessions.Subscription
}

// Conferencer is implemented by clients that can join two calls. The UI
// checks for it at run time; without it the conference key says
// "conference not available".
type Conferencer interface {
	Conference(a, b sessions.CallID) error
}

// RulesReader is implemented by clients that expose their answer rules
// (*sessions.Manager does); the status bar shows DND when incoming calls are
// rejected by default.
type RulesReader interface {
	Rules() sessions.Rules
}

// Contact is an address-book entry used by Tab completion in the dial line.
type Contact struct {
	Name string
	URI  string
}

// Options configure the UI. Every field is optional.
type Options struct {
	// Accounts are the account names shown in the status bar before their
	// first registration event.
	Accounts []string
	// AudioIn and AudioOut name the audio devices for the status bar.
	AudioIn, AudioOut string
	// AudioNotice, when set, says why there is no sound (such as "no sound
	// card — audio off"): the status bar shows it in place of the devices,
	// and it is the log pane's first line.
	AudioNotice string
	// Warnings are shown in the log pane at start (such as a config file
	// holding a password that others can read).
	Warnings []string
	// Keys remaps actions (see package keys: answer, reject, end, hold …)
	// to key names as Bubble Tea spells them ("a", "ctrl+x", "f5").
	Keys map[string][]string
	// Contacts feed Tab completion in the dial line.
	Contacts []Contact
	// History is the dial history, oldest first (↑ recalls the newest).
	History []string
	// LogLines feeds the log pane (optional). The UI stops reading when it
	// is closed.
	LogLines <-chan string
	// Events overrides the event source. When nil, Run subscribes to the
	// client and closes the subscription when it returns; the caller owns a
	// channel given here (tests and embedders that call New themselves).
	Events <-chan sessions.Event
	// Now is the clock (default time.Now); tests fix it for stable views.
	Now func() time.Time
	// DialOptions are passed to every Dial (account, Subject, headers).
	DialOptions sessions.DialOptions
	// Voicemail maps account names to the URI the voicemail key dials
	// (the account's voicemail setting); empty: the key is off.
	Voicemail map[string]string
	// Keypad, if set, plays the local feedback tone of a DTMF digit the
	// user sends. It runs in a command, never in Update.
	Keypad func(digit rune)
	// OnDial, if set, is told every target the user dials (main keeps the
	// dial history across runs with it). It runs in a command.
	OnDial func(typed string)
	// InputLevel, if set, is the microphone's level in dBFS (the loudest
	// frame since the last call; ok false while nothing reads it). The
	// call pane of a connected call shows it as a meter, read each tick.
	InputLevel func() (dbfs float64, ok bool)
	// ListDevices, if set, enables the audio device picker (key s): it
	// lists the devices and names those in use. The open picker calls it
	// about once a second, in a command, so a device plugged in shows up.
	ListDevices func() (AudioDevices, error)
	// UseDevice switches a role to the device named (for RoleRing, ""
	// plays the ring on the speaker), during a call too. It runs in a
	// command; its error, one sentence, is shown in the picker.
	UseDevice func(role DeviceRole, name string) error
	// CallHistory, if set, enables the call history view (key H): it
	// returns the recent calls, newest first. It runs in a command.
	CallHistory func() ([]HistoryEntry, error)
	// Missed, if set, feeds the status bar's missed-calls badge with the
	// unseen missed calls of earlier runs, and is told when the person
	// opens the history view (which marks them seen). Without it the
	// badge counts this run's missed calls only.
	Missed MissedCalls
}
