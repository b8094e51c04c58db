package ui

import (
	"errors"
	"fmt"
	"slices"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/teaphone/teaphone/sessions"
)

// command is a client command waiting for its turn.
type command struct {
	what string
	call sessions.CallID
	run  func() error
}

// enqueue runs client commands one at a time, in key order (DTMF digits,
// hold then resume …), like a script would: the next one starts when the
// previous one reported its result.
func (m Model) enqueue(what string, id sessions.CallID, f func() error) (Model, tea.Cmd) {
	if m.busy {
		m.queue = append(slices.Clone(m.queue), command{what: what, call: id, run: f})
		return m, nil
	}
	m.busy = true
	return m, do(what, id, f)
}

// hangup runs a hang-up at once, beside the queue: a command still waiting
// for the network (a hold the far end does not answer) must not hold it
// back, and the session core abandons that command when the call ends.
// The call's queued commands are dropped.
func (m Model) hangup(id sessions.CallID, f func() error) (Model, tea.Cmd) {
	kept := make([]command, 0, len(m.queue))
	for _, c := range m.queue {
		if c.call != id {
			kept = append(kept, c)
		}
	}
	m.queue = kept
	return m, doNow("hang up", id, f)
}

// nextCommand starts the next queued command, if any.
func (m Model) nextCommand() (Model, tea.Cmd) {
	m.busy = false
	if len(m.queue) == 0 {
		return m, nil
	}
	c := m.queue[0]
	m.queue = slices.Clone(m.queue[1:])
	return m.enqueue(c.what, c.call, c.run)
}

// handleResult shows a command's outcome on the message line and in the log.
func (m Model) handleResult(r resultMsg) Model {
	line := ""
	if c, ok := findCall(m.calls, r.call); ok {
		line = fmt.Sprintf(" line %d", c.Line)
	}
	if r.err != nil {
		m.msg = message{text: fmt.Sprintf("%s%s: %v", r.what, line, r.err), err: true}
		m.logf("%s%s failed: %v", r.what, line, r.err)
		if r.what == "dtmf" {
			// No "sent" event will come back for what failed.
			x := m.extra[r.call]
			x.dtmfTyped = ""
			m.extra = withExtra(m.extra, r.call, x)
		}
		return m
	}
	if r.what != "dtmf" {
		m.msg = message{text: r.what + line}
	}
	return m
}

func (m Model) handleDialed(d dialedMsg) Model {
	if d.err != nil {
		m.msg = message{text: d.err.Error(), err: true}
		m.logf("dial %s failed: %v", d.target, d.err)
		if errors.Is(d.err, sessions.ErrInvalidTarget) {
			m.dial = m.dial.Focus()
		}
		return m
	}
	if _, ok := findCall(m.calls, d.call); ok || d.call != "" {
		m = m.selectCall(d.call)
	}
	return m
}
