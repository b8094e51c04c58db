package ui

import (
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/teaphone/teaphone/sessions"
	"github.com/teaphone/teaphone/ui/components/dialer"
	"github.com/teaphone/teaphone/ui/keys"
)

// Update implements tea.Model. It only dispatches: each message type has its
// own method, and the decisions live in the pure functions of flow.go.
// A panic is caught, recorded for Run, and turned into a clean quit.
func (m Model) Update(msg tea.Msg) (res tea.Model, cmd tea.Cmd) {
	defer func() {
		if r := recover(); r != nil {
			m.panicked = fmt.Sprintf("%v\n%s", r, debug.Stack())
			res, cmd = m, tea.Quit
		}
	}()
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m = m.resize(msg.Width, msg.Height)
	case tea.KeyMsg:
		m, cmd = m.handleKey(msg)
	case EventMsg:
		m, cmd = m.handleEvent(msg.Event)
		cmd = tea.Batch(cmd, waitForEvent(m.ctx.Done(), m.events))
	case eventsClosedMsg:
		m.events = nil
		m.logf("event stream closed")
	case logLineMsg:
		m.addLog(string(msg))
		cmd = waitForLog(m.ctx.Done(), m.logCh)
	case logClosedMsg:
		m.logCh = nil
	case tickMsg:
		if msg.tag != m.tickTag {
			return m, nil
		}
		m.clock = msg.at
		if m.opts.InputLevel != nil {
			m.level.dbfs, m.level.ok = m.opts.InputLevel()
		}
		cmd = tick(m.tickTag, m.now)
	case resultMsg:
		m = m.handleResult(msg)
		if !msg.urgent {
			m, cmd = m.nextCommand()
		}
	case dialedMsg:
		m = m.handleDialed(msg)
	case devicesMsg, deviceTickMsg, deviceUsedMsg:
		m, cmd = m.handleDevices(msg)
	case historyMsg:
		m = m.handleHistory(msg)
	case unseenMsg:
		m = m.handleUnseen(msg)
	case markedSeenMsg:
		if msg.err != nil {
			m.logf("missed calls: %v", msg.err)
		}
	case panicMsg:
		m.panicked = msg.value
		return m, tea.Quit
	}
	return m, cmd
}

// activeKeys is the key map with what applies now enabled.
func (m Model) activeKeys() keys.KeyMap {
	km := enableKeys(m.keys, m.calls, m.sel, m.prevSel)
	km.Devices.SetEnabled(m.opts.ListDevices != nil)
	km.History.SetEnabled(m.opts.CallHistory != nil)
	km.Voicemail.SetEnabled(len(m.opts.Voicemail) > 0)
	return km
}

func (m Model) candidates() []dialer.Candidate {
	out := make([]dialer.Candidate, len(m.opts.Contacts))
	for i, c := range m.opts.Contacts {
		out[i] = dialer.Candidate{Name: c.Name, URI: c.URI}
	}
	return out
}

func (m Model) resize(w, h int) Model {
	m.width, m.height = w, h
	m.help.Width = w
	m.dial = m.dial.SetSize(w, 1)
	m.ask.input = m.ask.input.SetSize(w-4, 1)
	return m
}

// handleKey routes a key by mode: help screen, question, dial line, or
// call keys.
func (m Model) handleKey(k tea.KeyMsg) (Model, tea.Cmd) {
	if k.Type == tea.KeyRunes && len(k.Runes) > 1 && !k.Paste {
		return m.handleTyped(k)
	}
	km := m.activeKeys()
	switch {
	case m.quitting:
		return m, nil
	case m.showHelp:
		m.showHelp = false
		if key.Matches(k, km.Interrupt) {
			return m.quit()
		}
		return m, nil
	case m.picker.open:
		return m.handlePickerKey(k)
	case m.hist.open:
		return m.handleHistoryKey(k)
	case m.ask.kind != askNone:
		return m.handleAsk(k, km)
	case key.Matches(k, km.Interrupt):
		return m.quit()
	case m.dial.Focused():
		return m.handleDialKey(k, km)
	}
	if m, cmd, ok := m.transferKey(k, km); ok {
		return m, cmd
	}
	return m.handleCallKey(k, km)
}

// handleTyped takes keys that the terminal delivered in one read (typed
// faster than it was read) one by one, as they were typed: "dq" opens the
// dial line and types a q into it.
func (m Model) handleTyped(k tea.KeyMsg) (Model, tea.Cmd) {
	cmds := make([]tea.Cmd, 0, len(k.Runes))
	for _, r := range k.Runes {
		var cmd tea.Cmd
		m, cmd = m.handleKey(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: k.Alt})
		cmds = append(cmds, cmd)
	}
	return m, tea.Batch(cmds...)
}

// handleDialKey edits the dial line: every printable key is text here.
func (m Model) handleDialKey(k tea.KeyMsg, km keys.KeyMap) (Model, tea.Cmd) {
	switch {
	case key.Matches(k, km.Submit):
		return m.dialTyped()
	case key.Matches(k, km.HistoryPrev):
		m.dial = m.dial.HistoryPrev()
	case key.Matches(k, km.HistoryNext):
		m.dial = m.dial.HistoryNext()
	case key.Matches(k, km.Complete):
		m.dial = m.dial.Complete(m.candidates())
	case key.Matches(k, km.Leave):
		if len(m.calls) == 0 {
			m.dial = m.dial.Reset() // nothing to come back to: drop the text
		}
		m.dial = m.dial.Blur()
	case m.dial.Value() == "" && key.Matches(k, km.Help):
		m.showHelp = true
	default:
		m.dial, _ = m.dial.Update(k)
	}
	return m, nil
}

func (m Model) dialTyped() (Model, tea.Cmd) {
	typed := strings.TrimSpace(m.dial.Value())
	if typed == "" {
		return m, nil
	}
	target, err := sessions.NormalizeTarget(typed)
	if err != nil {
		m.msg = message{text: fmt.Sprintf("cannot dial %q: %v", typed, err), err: true}
		return m, nil
	}
	m.dial = m.dial.Push(typed).Blur()
	m.msg = message{text: "dialing " + target + "…"}
	m.logf("dial %s", target)
	cmd := dialCmd(m.ctx, m.c, target, m.opts.DialOptions)
	if f := m.opts.OnDial; f != nil {
		cmd = tea.Batch(cmd, guard(func() tea.Msg { f(typed); return nil }))
	}
	return m, cmd
}

// handleCallKey runs the call keys (command mode).
func (m Model) handleCallKey(k tea.KeyMsg, km keys.KeyMap) (Model, tea.Cmd) {
	sel, _ := findCall(m.calls, m.sel)
	dt, _ := decisionTarget(m.calls, m.sel)
	c := m.c
	switch {
	case key.Matches(k, km.Help):
		m.showHelp = true
	case key.Matches(k, km.Quit):
		return m.quit()
	case key.Matches(k, km.Log):
		m.showLog = !m.showLog
	case key.Matches(k, m.keys.Devices): // disabled in the help without a sound card, but it says so
		return m.openPicker()
	case key.Matches(k, m.keys.History): // disabled in the help without a history, but it says so
		return m.openHistory()
	case key.Matches(k, m.keys.Voicemail): // disabled in the help without a voicemail, but it says so
		return m.dialVoicemail()
	case key.Matches(k, km.Dial):
		m.dial = m.dial.Focus()
	case key.Matches(k, km.Answer):
		m = m.selectCall(dt.ID)
		return m.enqueue("answer", dt.ID, func() error { return c.Accept(dt.ID) })
	case key.Matches(k, km.Decline):
		return m.enqueue("decline", dt.ID, func() error { return c.Reject(dt.ID, 603, "Decline") })
	case key.Matches(k, km.Reject):
		return m.enqueue("reject", dt.ID, func() error { return c.Reject(dt.ID, 486, "Busy Here") })
	case key.Matches(k, km.Forward):
		m.ask = m.newAsk(askForward, dt.ID)
	case key.Matches(k, km.Defer):
		return m.enqueue("ignore", dt.ID, func() error { return c.Ignore(dt.ID) })
	case key.Matches(k, km.End):
		return m.hangup(sel.ID, func() error { return c.Hangup(sel.ID) })
	case key.Matches(k, km.Hold):
		if sel.HeldLocal {
			return m.enqueue("resume", sel.ID, func() error { return c.Resume(sel.ID) })
		}
		return m.enqueue("hold", sel.ID, func() error { return c.Hold(sel.ID) })
	case key.Matches(k, km.Mute):
		if sel.Muted {
			return m.enqueue("unmute", sel.ID, func() error { return c.Unmute(sel.ID) })
		}
		return m.enqueue("mute", sel.ID, func() error { return c.Mute(sel.ID) })
	case key.Matches(k, km.Record):
		on := !sel.Recording
		return m.enqueue("record", sel.ID, func() error { return c.SetRecording(sel.ID, on) })
	case key.Matches(k, km.Transfer):
		m.ask = m.newAsk(askTransfer, sel.ID)
	case key.Matches(k, km.AttendedTransfer):
		m.ask = ask{kind: askConsult, call: sel.ID, consult: consultCandidates(m.calls, sel.ID)[0].ID}
	case key.Matches(k, km.Conference):
		return m.conference()
	case key.Matches(k, km.Next):
		m = m.selectCall(moveSelection(m.calls, m.sel, 1))
	case key.Matches(k, km.Prev):
		m = m.selectCall(moveSelection(m.calls, m.sel, -1))
	case key.Matches(k, km.DTMF):
		return m.sendDTMF(sel, string(k.Runes))
	case k.Type == tea.KeyRunes && !k.Alt && (k.Paste || startsDial(k.Runes)):
		m.dial = m.dial.Focus().Insert(string(k.Runes))
	}
	return m, nil
}

func (m Model) newAsk(kind askKind, id sessions.CallID) ask {
	in := dialer.New(m.st, "to> ", m.dial.History()).Focus().SetSize(m.width-4, 1)
	in.Placeholder = "number or sip: URI, enter to confirm"
	return ask{kind: kind, call: id, input: in}
}

func (m Model) selectCall(id sessions.CallID) Model {
	if id != "" && id != m.sel {
		m.prevSel, m.sel = m.sel, id
	}
	return m
}

func (m Model) sendDTMF(c sessions.CallInfo, digit string) (Model, tea.Cmd) {
	x := m.extra[c.ID]
	x.dtmfSent = lastRunes(x.dtmfSent+digit, dtmfLimit)
	x.dtmfTyped = lastRunes(x.dtmfTyped+digit, dtmfLimit)
	m.extra = withExtra(m.extra, c.ID, x)
	m.msg = message{text: fmt.Sprintf("DTMF %s → line %d", digit, c.Line)}
	cl, kp := m.c, m.opts.Keypad
	return m.enqueue("dtmf", c.ID, func() error {
		if kp != nil {
			for _, d := range digit {
				kp(d)
			}
		}
		return cl.SendDTMF(c.ID, digit)
	})
}

func (m Model) conference() (Model, tea.Cmd) {
	a, b, ok := conferencePair(m.calls, m.sel, m.prevSel)
	conf, can := m.c.(Conferencer)
	if !ok || !can {
		m.msg = message{text: "conference not available", err: true}
		return m, nil
	}
	return m.enqueue("conference", a, func() error { return conf.Conference(a, b) })
}

func (m Model) quit() (Model, tea.Cmd) {
	if len(m.calls) > 0 {
		m.ask = ask{kind: askQuit}
		return m, nil
	}
	m.quitting = true
	return m, quitCmd(m.c)
}

// handleAsk feeds a key to the current question and acts on its answer.
func (m Model) handleAsk(k tea.KeyMsg, km keys.KeyMap) (Model, tea.Cmd) {
	a, out := stepAsk(m.ask, k, km, m.calls, m.candidates())
	m.ask = a
	if out != askDone {
		return m, nil
	}
	m.ask = ask{}
	c, id := m.c, a.call
	switch a.kind {
	case askQuit:
		m.quitting = true
		return m, quitCmd(c)
	case askConsult:
		consult := a.consult
		return m.enqueue("attended transfer", id, func() error { return c.AttendedTransfer(id, consult) })
	case askForward, askTransfer:
		target, err := sessions.NormalizeTarget(a.input.Value())
		if err != nil {
			m.ask = a
			m.msg = message{text: fmt.Sprintf("bad target %q: %v", a.input.Value(), err), err: true}
			return m, nil
		}
		m.dial = m.dial.Push(target)
		if a.kind == askForward {
			return m.enqueue("forward", id, func() error { return c.Forward(id, target) })
		}
		return m.enqueue("transfer", id, func() error { return c.Transfer(id, target) })
	}
	return m, nil
}
