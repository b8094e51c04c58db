package ui

import (
	"fmt"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/teaphone/teaphone/sessions"
)

// handleEvent applies one client-core event.
func (m Model) handleEvent(ev sessions.Event) (Model, tea.Cmd) {
	var cmd tea.Cmd
	switch e := ev.(type) {
	case sessions.CallEvent:
		m, cmd = m.applyCall(e)
	case sessions.RegistrationEvent:
		m.regs = upsertReg(m.regs, regEntry{account: e.Account, state: e.State, reason: e.Reason, unverified: e.TLSUnverified})
		m.logf("account %s %s%s", e.Account, e.State, reasonSuffix(e.Code, e.Reason))
	case sessions.MWIEvent:
		n := e.New
		if !e.Waiting {
			n = 0
		}
		m.regs = setVoicemail(m.regs, e.Account, n)
		m.logf("account %s voicemail %d new %d old", e.Account, e.New, e.Old)
	case sessions.DTMFEvent:
		m = m.applyDTMF(e)
	case sessions.MediaEvent:
		if i := indexOf(m.calls, e.CallID); i >= 0 {
			m.calls = append([]sessions.CallInfo(nil), m.calls...)
			m.calls[i].Stats = e.Stats
			if e.Stats.Codec != "" {
				m.calls[i].Codec = e.Stats.Codec
			}
		}
		if e.Stats.MOS > 0 {
			x := m.extra[e.CallID]
			x.mos.Window = sparkWindow
			x.mos = x.mos.Add(e.Time, e.Stats.MOS)
			m.extra = withExtra(m.extra, e.CallID, x)
		}
	case sessions.TransferEvent:
		m, cmd = m.applyTransfer(e)
	case sessions.ErrorEvent:
		m.msg = message{text: e.Err.Error(), err: true}
		m.logf("error: %v", e.Err)
	}
	return m, cmd
}

// applyCall updates the call list from a CallEvent and keeps the selection,
// the focus and any question consistent with it.
func (m Model) applyCall(e sessions.CallEvent) (Model, tea.Cmd) {
	ci := e.Call
	old, had := findCall(m.calls, ci.ID)
	newIncoming := promptable(ci) && (!had || !promptable(old))
	m.calls = upsertCall(m.calls, ci)
	if !had || old.State != ci.State {
		m.logf("line %d %s %s%s", ci.Line, ci.State, peerText(ci), endText(ci))
	}
	if had && !ci.Ended() { // holds from any client (keys, teaphone ctl)
		m.logHold(old, ci)
	}
	if ci.Ended() {
		m = m.noteMissed(ci)
		m.extra = withoutExtra(m.extra, ci.ID)
		if m.ask.kind != askNone && m.ask.kind != askQuit && (m.ask.call == ci.ID || m.ask.consult == ci.ID) {
			m.ask = ask{}
			m.msg = message{text: fmt.Sprintf("line %d ended", ci.Line), err: true}
		}
	}
	if m.ask.kind == askQuit && len(m.calls) == 0 {
		m.ask = ask{}
	}
	if !had && m.sel == "" {
		m.sel = ci.ID
	}
	m.sel = reselect(m.calls, m.sel, m.prevSel)
	if m.prevSel == m.sel {
		m.prevSel = ""
	}
	if focus := dialFocus(m.dial.Focused(), m.dial.Value(), newIncoming); focus != m.dial.Focused() {
		if focus {
			m.dial = m.dial.Focus()
		} else {
			m.dial = m.dial.Blur()
		}
	}
	if newIncoming {
		m.picker.open, m.hist.open = false, false // the prompt matters more
		m.msg = message{text: fmt.Sprintf("incoming call from %s", peerText(ci))}
		return m, bellCmd(m.bell)
	}
	return m, nil
}

// logHold logs a change of either side's hold.
func (m *Model) logHold(old, ci sessions.CallInfo) {
	switch {
	case !old.HeldLocal && ci.HeldLocal:
		m.logf("line %d held %s", ci.Line, peerText(ci))
	case old.HeldLocal && !ci.HeldLocal:
		m.logf("line %d resumed %s", ci.Line, peerText(ci))
	}
	switch {
	case !old.HeldRemote && ci.HeldRemote:
		m.logf("line %d held by %s", ci.Line, peerText(ci))
	case old.HeldRemote && !ci.HeldRemote:
		m.logf("line %d resumed by %s", ci.Line, peerText(ci))
	}
}

func (m *Model) addLog(l string) {
	l = strings.Map(func(r rune) rune {
		if r < ' ' && r != '\t' || r == 0x7f {
			return -1
		}
		return r
	}, l)
	m.logs = append(m.logs, l)
	if len(m.logs) > logLimit {
		m.logs = append([]string(nil), m.logs[len(m.logs)-logLimit:]...)
	}
}

// applyDTMF shows a digit received, or sent by any client of the Manager:
// a digit typed here is already shown (sendDTMF), so its event only
// consumes it from dtmfTyped; others (teaphone ctl, a script) are added
// and logged.
func (m Model) applyDTMF(e sessions.DTMFEvent) Model {
	x := m.extra[e.CallID]
	switch {
	case e.Received:
		x.dtmfRecv = lastRunes(x.dtmfRecv+e.Digit, dtmfLimit)
		m.logf("line %d DTMF %s received", e.Line, e.Digit)
	case x.dtmfTyped != "" && strings.EqualFold(x.dtmfTyped[:1], e.Digit):
		x.dtmfTyped = x.dtmfTyped[1:]
	default:
		x.dtmfSent = lastRunes(x.dtmfSent+e.Digit, dtmfLimit)
		m.logf("line %d DTMF %s sent", e.Line, e.Digit)
	}
	m.extra = withExtra(m.extra, e.CallID, x)
	return m
}
