// Package keys holds the teaphone UI's key map: one key.Binding per action,
// each with its help text, remappable from the configuration by action name.
package keys

import (
	"fmt"
	"sort"
	"strings"

	"github.com/charmbracelet/bubbles/key"
)

// Action names accepted in the configuration (Options.Keys).
const (
	Answer           = "answer"
	Reject           = "reject"
	End              = "end"
	Hold             = "hold"
	Mute             = "mute"
	Transfer         = "transfer"
	AttendedTransfer = "attended_transfer"
	Conference       = "conference"
	Record           = "record"
	Next             = "next"
	Prev             = "prev"
	Help             = "help"
	Quit             = "quit"
	Dial             = "dial"
	Forward          = "forward"
	Defer            = "defer"
	Log              = "log"
	Devices          = "devices"
	History          = "history"
	Voicemail        = "voicemail"
)

// Actions lists every remappable action, in help order.
var Actions = []string{
	Answer, Reject, Forward, Defer, End, Hold, Mute, Record, Transfer,
	AttendedTransfer, Conference, Next, Prev, Dial, Log, Devices, History, Voicemail, Help, Quit,
}

// KeyMap is every binding of the UI. Context keys start enabled; the UI
// enables and disables them (SetEnabled) for what applies at the moment, so
// the help never shows a key that would do nothing.
type KeyMap struct {
	// Call keys (command mode).
	Answer, Reject, Decline, Forward, Defer key.Binding
	End, Hold, Mute, Record                 key.Binding
	Transfer, AttendedTransfer, Conference  key.Binding
	Next, Prev                              key.Binding
	DTMF                                    key.Binding // help only: digits 0-9 * # A-D
	Dial, Log, Help, Quit                   key.Binding
	Devices                                 key.Binding // the audio device picker
	History                                 key.Binding // the call history
	Voicemail                               key.Binding // dial the account's voicemail

	// Line editing (dial line and target questions).
	Submit, HistoryPrev, HistoryNext, Complete, Leave key.Binding

	// Questions.
	Confirm, Cancel key.Binding

	// Interrupt quits from any mode (Ctrl-C), asking first when calls are up.
	Interrupt key.Binding
}

// Default returns the default key map: one letter per action, the same
// letters as baresip's menu for answer (a), dial (d), mute (m), transfer
// (t, T) and quit (q).
func Default() KeyMap {
	b := func(keys []string, helpKey, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(helpKey, desc))
	}
	return KeyMap{
		Answer:           b([]string{"a"}, "a", "answer"),
		Reject:           b([]string{"r"}, "r", "reject"),
		Decline:          b([]string{"alt+r"}, "alt+r", "decline"),
		Forward:          b([]string{"f"}, "f", "forward"),
		Defer:            b([]string{"i"}, "i", "ignore"),
		End:              b([]string{"e"}, "e", "end"),
		Hold:             b([]string{"h"}, "h", "hold"),
		Mute:             b([]string{"m"}, "m", "mute"),
		Record:           b([]string{"R"}, "R", "record"),
		Transfer:         b([]string{"t"}, "t", "transfer"),
		AttendedTransfer: b([]string{"T"}, "T", "attended transfer"),
		Conference:       b([]string{"c"}, "c", "conference"),
		Next:             b([]string{"tab", "j", "down"}, "tab/j", "next"),
		Prev:             b([]string{"shift+tab", "k", "up"}, "S-tab/k", "prev"),
		DTMF:             b(strings.Split("0123456789*#ABCD", ""), "0-9*#", "dtmf"),
		Dial:             b([]string{"d", ":"}, "d", "dial"),
		Log:              b([]string{"l"}, "l", "log"),
		Devices:          b([]string{"s"}, "s", "sound devices"),
		History:          b([]string{"H"}, "H", "call history"),
		Voicemail:        b([]string{"v"}, "v", "voicemail"),
		Help:             b([]string{"?"}, "?", "help"),
		Quit:             b([]string{"q"}, "q", "quit"),

		Submit:      b([]string{"enter"}, "enter", "dial"),
		HistoryPrev: b([]string{"up"}, "↑/↓", "history"),
		HistoryNext: b([]string{"down"}, "↓", "history"),
		Complete:    b([]string{"tab"}, "tab", "complete"),
		Leave:       b([]string{"esc"}, "esc", "leave"),

		Confirm: b([]string{"y", "enter"}, "y", "yes"),
		Cancel:  b([]string{"n", "esc"}, "n/esc", "no"),

		Interrupt: b([]string{"ctrl+c"}, "ctrl+c", "quit"),
	}
}

// New returns the default key map with the bindings of remap applied
// (action name → keys, as in the configuration). An unknown action or an
// empty key list is an error naming it; the help shows the first key.
func New(remap map[string][]string) (KeyMap, error) {
	km := Default()
	names := make([]string, 0, len(remap))
	for n := range remap {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		ks := remap[name]
		b := km.binding(name)
		if b == nil {
			return km, fmt.Errorf("keys: unknown action %q (want one of %s)", name, strings.Join(Actions, ", "))
		}
		if len(ks) == 0 {
			return km, fmt.Errorf("keys: action %q: no keys", name)
		}
		b.SetKeys(ks...)
		b.SetHelp(strings.Join(ks, "/"), b.Help().Desc)
		if name == Reject {
			alt := make([]string, len(ks))
			for i, k := range ks {
				alt[i] = "alt+" + k
			}
			km.Decline.SetKeys(alt...)
			km.Decline.SetHelp(alt[0], km.Decline.Help().Desc)
		}
	}
	return km, nil
}

// binding returns the binding of a configurable action, nil if unknown.
func (k *KeyMap) binding(action string) *key.Binding {
	switch action {
	case Answer:
		return &k.Answer
	case Reject:
		return &k.Reject
	case End:
		return &k.End
	case Hold:
		return &k.Hold
	case Mute:
		return &k.Mute
	case Transfer:
		return &k.Transfer
	case AttendedTransfer:
		return &k.AttendedTransfer
	case Conference:
		return &k.Conference
	case Record:
		return &k.Record
	case Next:
		return &k.Next
	case Prev:
		return &k.Prev
	case Help:
		return &k.Help
	case Quit:
		return &k.Quit
	case Dial:
		return &k.Dial
	case Forward:
		return &k.Forward
	case Defer:
		return &k.Defer
	case Log:
		return &k.Log
	case Devices:
		return &k.Devices
	case History:
		return &k.History
	case Voicemail:
		return &k.Voicemail
	}
	return nil
}

// ShortHelp implements help.KeyMap: the keys most useful now (disabled
// bindings are skipped by the help view).
func (k KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{
		k.Answer, k.Reject, k.Forward, k.Defer, k.End, k.Hold, k.Mute,
		k.Transfer, k.Next, k.Dial, k.Help, k.Quit,
	}
}

// FullHelp implements help.KeyMap: every binding, grouped in columns.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Answer, k.Reject, k.Decline, k.Forward, k.Defer},
		{k.End, k.Hold, k.Mute, k.Record, k.DTMF},
		{k.Transfer, k.AttendedTransfer, k.Conference, k.Next, k.Prev},
		{k.Dial, k.Log, k.Devices, k.History, k.Voicemail, k.Help, k.Quit, k.Interrupt},
	}
}

// DialHelp returns the bindings that apply while a line is being edited.
func (k KeyMap) DialHelp() []key.Binding {
	return []key.Binding{k.Submit, k.HistoryPrev, k.Complete, k.Leave, k.Interrupt}
}
