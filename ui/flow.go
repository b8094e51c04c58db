package ui

import (
	"sort"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/teaphone/teaphone/sessions"
	"github.com/teaphone/teaphone/ui/components/dialer"
	"github.com/teaphone/teaphone/ui/keys"
)

// This file holds the pure parts of the UI: functions of values, with no
// client, no clock and no Bubble Tea program, table-tested in flow_test.go.

// upsertReg replaces the entry of r.account or appends it.
func upsertReg(regs []regEntry, r regEntry) []regEntry {
	out := append([]regEntry(nil), regs...)
	for i := range out {
		if out[i].account == r.account {
			// A registration says nothing about the mailbox.
			r.voicemail = out[i].voicemail
			out[i] = r
			return out
		}
	}
	return append(out, r)
}

// setVoicemail returns regs with account's count of new voice messages set
// to n (the account added if it is not there yet).
func setVoicemail(regs []regEntry, account string, n int) []regEntry {
	out := append([]regEntry(nil), regs...)
	for i := range out {
		if out[i].account == account {
			out[i].voicemail = n
			return out
		}
	}
	return append(out, regEntry{account: account, voicemail: n})
}

// upsertCall returns calls with ci added or replaced (removed once ended),
// sorted by line.
func upsertCall(calls []sessions.CallInfo, ci sessions.CallInfo) []sessions.CallInfo {
	out := make([]sessions.CallInfo, 0, len(calls)+1)
	for _, c := range calls {
		if c.ID != ci.ID {
			out = append(out, c)
		}
	}
	if !ci.Ended() {
		out = append(out, ci)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Line < out[j].Line })
	return out
}

// findCall returns the call with id among calls.
func findCall(calls []sessions.CallInfo, id sessions.CallID) (sessions.CallInfo, bool) {
	if id == "" {
		return sessions.CallInfo{}, false
	}
	for _, c := range calls {
		if c.ID == id {
			return c, true
		}
	}
	return sessions.CallInfo{}, false
}

func indexOf(calls []sessions.CallInfo, id sessions.CallID) int {
	for i, c := range calls {
		if c.ID == id {
			return i
		}
	}
	return -1
}

// reselect keeps sel if it is still up, else falls back to prev, else to the
// first connected call that is not held, else to the first call.
func reselect(calls []sessions.CallInfo, sel, prev sessions.CallID) sessions.CallID {
	if _, ok := findCall(calls, sel); ok {
		return sel
	}
	if _, ok := findCall(calls, prev); ok {
		return prev
	}
	for _, c := range calls {
		if c.State == sessions.StateConnected && !c.Held() {
			return c.ID
		}
	}
	if len(calls) > 0 {
		return calls[0].ID
	}
	return ""
}

// moveSelection moves sel by delta through calls, wrapping around.
func moveSelection(calls []sessions.CallInfo, sel sessions.CallID, delta int) sessions.CallID {
	n := len(calls)
	if n == 0 {
		return ""
	}
	i := indexOf(calls, sel)
	if i < 0 {
		return calls[0].ID
	}
	return calls[((i+delta)%n+n)%n].ID
}

// promptable reports whether a call awaits a person's decision with a prompt.
func promptable(c sessions.CallInfo) bool {
	return c.Pending && !c.Ignored && !c.Ended()
}

// promptCall returns the incoming call the prompt is about (the lowest line
// awaiting a decision) and how many more are queued behind it.
func promptCall(calls []sessions.CallInfo) (sessions.CallInfo, int, bool) {
	var first sessions.CallInfo
	n := 0
	for _, c := range calls {
		if promptable(c) {
			if n == 0 {
				first = c
			}
			n++
		}
	}
	return first, max(n-1, 0), n > 0
}

// decisionTarget is the call answer/reject/forward act on: the prompt's call,
// else the selected call if it is pending (an ignored call can still be
// answered).
func decisionTarget(calls []sessions.CallInfo, sel sessions.CallID) (sessions.CallInfo, bool) {
	if c, _, ok := promptCall(calls); ok {
		return c, true
	}
	if c, ok := findCall(calls, sel); ok && c.Pending {
		return c, true
	}
	return sessions.CallInfo{}, false
}

// live reports whether a call is answered and usable for in-call keys.
func live(c sessions.CallInfo) bool {
	return c.State == sessions.StateConnected && !c.Ended()
}

// consultCandidates are the calls an attended transfer of sel can consult:
// the other answered calls.
func consultCandidates(calls []sessions.CallInfo, sel sessions.CallID) []sessions.CallInfo {
	var out []sessions.CallInfo
	for _, c := range calls {
		if c.ID != sel && live(c) {
			out = append(out, c)
		}
	}
	return out
}

// conferencePair picks the two calls to join: the selected one and the
// previously selected one if it is still answered, else the first other
// answered call.
func conferencePair(calls []sessions.CallInfo, sel, prev sessions.CallID) (a, b sessions.CallID, ok bool) {
	s, found := findCall(calls, sel)
	if !found || !live(s) {
		return "", "", false
	}
	if p, found := findCall(calls, prev); found && p.ID != sel && live(p) {
		return sel, prev, true
	}
	if others := consultCandidates(calls, sel); len(others) > 0 {
		return sel, others[0].ID, true
	}
	return "", "", false
}

// startsDial reports whether a key typed in command mode opens the dial line
// with itself as its first character: a digit, + or a feature code's * or
// #. Letters stay call keys (q quits); d or : open the dial line for a URI,
// and a paste opens it too.
func startsDial(runes []rune) bool {
	return len(runes) == 1 && strings.ContainsRune("0123456789+*#", runes[0])
}

// enableKeys returns km with each call key enabled only when it applies to
// the calls and selection, and the help texts of toggles following the
// selected call's state (hold/resume, mute/unmute, record/stop).
func enableKeys(km keys.KeyMap, calls []sessions.CallInfo, sel, prev sessions.CallID) keys.KeyMap {
	s, hasSel := findCall(calls, sel)
	_, hasDecision := decisionTarget(calls, sel)
	_, _, hasPrompt := promptCall(calls)
	on := hasSel && live(s)
	_, _, pair := conferencePair(calls, sel, prev)

	km.Answer.SetEnabled(hasDecision)
	km.Reject.SetEnabled(hasDecision)
	km.Decline.SetEnabled(hasDecision)
	km.Forward.SetEnabled(hasDecision)
	km.Defer.SetEnabled(hasPrompt)
	km.End.SetEnabled(hasSel)
	km.Hold.SetEnabled(on)
	km.Mute.SetEnabled(on)
	km.Record.SetEnabled(on)
	km.DTMF.SetEnabled(on)
	km.Transfer.SetEnabled(on)
	km.AttendedTransfer.SetEnabled(on && len(consultCandidates(calls, sel)) > 0)
	km.Conference.SetEnabled(pair)
	km.Next.SetEnabled(len(calls) > 1)
	km.Prev.SetEnabled(len(calls) > 1)

	toggle := func(b *key.Binding, cond bool, off, onDesc string) {
		desc := off
		if cond {
			desc = onDesc
		}
		b.SetHelp(b.Help().Key, desc)
	}
	toggle(&km.Hold, s.HeldLocal, km.Hold.Help().Desc, "resume")
	toggle(&km.Mute, s.Muted, km.Mute.Help().Desc, "unmute")
	toggle(&km.Record, s.Recording, km.Record.Help().Desc, "stop rec")
	return km
}

// askOutcome is what a step of a question produced.
type askOutcome int

const (
	askContinue askOutcome = iota // still asking
	askDone                       // answered: act on it
	askCancel                     // abandoned
)

// stepAsk feeds one key to the question a. Targets are edited with the
// dial-line editor (Tab completes from cands, ↑/↓ browse the history); the
// consult pick moves with the call-switching keys.
func stepAsk(a ask, k tea.KeyMsg, km keys.KeyMap, calls []sessions.CallInfo, cands []dialer.Candidate) (ask, askOutcome) {
	switch a.kind {
	case askQuit:
		switch {
		case key.Matches(k, km.Confirm), key.Matches(k, km.Interrupt), key.Matches(k, km.Quit):
			return a, askDone
		case key.Matches(k, km.Cancel):
			return ask{}, askCancel
		}
		return a, askContinue
	case askConsult:
		cs := consultCandidates(calls, a.call)
		if len(cs) == 0 {
			return ask{}, askCancel
		}
		if _, ok := findCall(cs, a.consult); !ok {
			a.consult = cs[0].ID
		}
		switch {
		case key.Matches(k, km.Submit):
			return a, askDone
		case key.Matches(k, km.Leave):
			return ask{}, askCancel
		case key.Matches(k, km.Next):
			a.consult = moveSelection(cs, a.consult, 1)
		case key.Matches(k, km.Prev):
			a.consult = moveSelection(cs, a.consult, -1)
		}
		return a, askContinue
	case askForward, askTransfer:
		switch {
		case key.Matches(k, km.Submit):
			if strings.TrimSpace(a.input.Value()) == "" {
				return a, askContinue
			}
			return a, askDone
		case key.Matches(k, km.Leave):
			return ask{}, askCancel
		case key.Matches(k, km.Complete):
			a.input = a.input.Complete(cands)
		case key.Matches(k, km.HistoryPrev):
			a.input = a.input.HistoryPrev()
		case key.Matches(k, km.HistoryNext):
			a.input = a.input.HistoryNext()
		default:
			a.input, _ = a.input.Update(k)
		}
		return a, askContinue
	}
	return ask{}, askCancel
}

// dialFocus decides whether the dial line should own the keyboard after the
// calls changed: it is never grabbed from the call keys (so q still quits
// once the last call ended) nor taken away while the person is typing, but
// released to the call keys when a call starts ringing in and the line is
// empty (so a answers at once).
func dialFocus(focused bool, dialText string, newIncoming bool) bool {
	if newIncoming && dialText == "" {
		return false
	}
	return focused
}

// dialVoicemail calls the voicemail of the account with new messages (the
// first such in the status bar), else of the first account that has one.
func (m Model) dialVoicemail() (Model, tea.Cmd) {
	account, uri := "", ""
	for _, r := range m.regs {
		if u, ok := m.opts.Voicemail[r.account]; ok && r.voicemail > 0 {
			account, uri = r.account, u
			break
		}
	}
	if uri == "" {
		for _, name := range m.opts.Accounts {
			if u, ok := m.opts.Voicemail[name]; ok {
				account, uri = name, u
				break
			}
		}
	}
	if uri == "" {
		m.msg = message{text: "no voicemail configured (accounts.voicemail)", err: true}
		return m, nil
	}
	o := m.opts.DialOptions
	o.Account = account
	m.msg = message{text: "dialing voicemail " + uri + "…"}
	m.logf("dial %s (voicemail of %s)", uri, account)
	return m, dialCmd(m.ctx, m.c, uri, o)
}
