package ui

import (
	"fmt"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/teaphone/teaphone/sessions"
	"github.com/teaphone/teaphone/ui/keys"
)

// This file is the transfer question: the remote party of a call asks to
// transfer us (a REFER under calls.accept_transfer = "ask") and waits for
// the user. Like the incoming-call prompt, it is drawn from the calls'
// state (CallInfo.Transfer.Asking), so it comes back after another
// question and goes away when the request is answered, times out or the
// call ends.

// transferQuestion is the first call, by line, whose remote waits for an
// answer to its transfer request.
func transferQuestion(calls []sessions.CallInfo) (sessions.CallInfo, bool) {
	for _, c := range calls {
		if t := c.Transfer; t.Asking && !t.Outgoing && !t.Final && !c.Ended() {
			return c, true
		}
	}
	return sessions.CallInfo{}, false
}

// transferKey answers the transfer question with Confirm (accept) or Cancel
// (refuse). It reports false when there is no question or the key is
// neither, and the key then does what it does on the calls.
func (m Model) transferKey(k tea.KeyMsg, km keys.KeyMap) (Model, tea.Cmd, bool) {
	q, ok := transferQuestion(m.calls)
	if !ok {
		return m, nil, false
	}
	accept := key.Matches(k, km.Confirm)
	if !accept && !key.Matches(k, km.Cancel) {
		return m, nil, false
	}
	// The question goes at once; the outcome comes as TransferEvents.
	if i := indexOf(m.calls, q.ID); i >= 0 {
		m.calls = append([]sessions.CallInfo(nil), m.calls...)
		m.calls[i].Transfer.Asking = false
	}
	c, what := m.c, "refuse transfer"
	if accept {
		what = "accept transfer"
	}
	m.msg = message{text: fmt.Sprintf("line %d: %s to %s", q.Line, what, q.Transfer.Target)}
	m.logf("%s", m.msg.text)
	m, cmd := m.enqueue(what, q.ID, func() error { return c.AnswerTransfer(q.ID, accept) })
	return m, cmd, true
}

// transferBox is the transfer question's lines for boxView.
func (m Model) transferBox(q sessions.CallInfo, km keys.KeyMap, hint func(...key.Binding) string, withHelp func(key.Binding, string) key.Binding) []string {
	p := m.st.Prompt
	lines := []string{
		p.Title.Render(fmt.Sprintf("Transfer request · line %d", q.Line)),
		p.Who.Render(q.Peer()) + " asks to transfer you to " + p.URI.Render(q.Transfer.Target),
	}
	if left := q.Transfer.Deadline.Sub(m.clock); !q.Transfer.Deadline.IsZero() && left > 0 {
		lines = append(lines, p.Subject.Render(fmt.Sprintf("refused in %ds without an answer", int(left.Seconds()+0.5))))
	}
	if m.dial.Focused() {
		return append(lines, hint(withHelp(km.Leave, "leave the dial line, then answer")))
	}
	return append(lines, hint(withHelp(km.Confirm, "accept"), withHelp(km.Cancel, "refuse")))
}

// applyTransfer records a transfer's progress on its call and says it on
// the message line; a request that asks rings the bell, like a call.
func (m Model) applyTransfer(e sessions.TransferEvent) (Model, tea.Cmd) {
	if i := indexOf(m.calls, e.CallID); i >= 0 {
		m.calls = append([]sessions.CallInfo(nil), m.calls...)
		m.calls[i].Transfer = e.Transfer
	}
	t := e.Transfer
	m.msg = message{text: fmt.Sprintf("line %d transfer to %s: %s", e.Line, t.Target, transferStatus(t)), err: t.Final && t.Code >= 300}
	m.logf("%s", m.msg.text)
	if t.Asking {
		return m, bellCmd(m.bell)
	}
	return m, nil
}
