package ui

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/teaphone/teaphone/ui/keys"
)

// This file is the call history view (key H): the recent calls, missed
// ones marked, Enter calls the selected one back. Main reads the history
// (Options.CallHistory); the UI only asks, in a command, and draws.

// HistoryEntry is one call the history view lists.
type HistoryEntry struct {
	Started  time.Time
	Incoming bool
	Missed   bool   // incoming, unanswered, not declined
	Remote   string // the URI Enter dials
	Display  string // the display name, "" if none
	Account  string
	Duration time.Duration // connected time, 0 if never answered
	Result   string        // "missed", "remote hangup", "486 Busy Here" …
}

// callHistory is the history view's state; open is false when it is closed.
type callHistory struct {
	open    bool
	tag     int // of the listing asked for by this opening
	loaded  bool
	entries []HistoryEntry
	cursor  int
	err     string
}

type historyMsg struct {
	tag     int
	entries []HistoryEntry
	err     error
}

// openHistory opens the view and reads the history in a command. It marks
// the missed calls seen (the badge goes), with the history off too: the
// person has looked, and nothing else would ever clear the badge.
func (m Model) openHistory() (Model, tea.Cmd) {
	m, mark := m.markSeen()
	read := m.opts.CallHistory
	if read == nil {
		m.msg = message{text: "the call history is off (see the log)", err: true}
		return m, mark
	}
	tag := m.hist.tag + 1
	m.hist = callHistory{open: true, tag: tag}
	return m, tea.Batch(mark, guard(func() tea.Msg {
		entries, err := read()
		return historyMsg{tag: tag, entries: entries, err: err}
	}))
}

func (m Model) handleHistory(msg historyMsg) Model {
	if msg.tag != m.hist.tag {
		return m
	}
	m.hist.loaded = true
	m.hist.entries, m.hist.cursor, m.hist.err = msg.entries, 0, ""
	if msg.err != nil {
		m.hist.err = msg.err.Error()
	}
	return m
}

// handleHistoryKey moves, redials and closes while the view is open.
func (m Model) handleHistoryKey(k tea.KeyMsg) (Model, tea.Cmd) {
	km := m.keys
	h := &m.hist
	switch {
	case key.Matches(k, km.Interrupt):
		h.open = false
		return m.quit()
	case key.Matches(k, km.Leave), key.Matches(k, km.History), key.Matches(k, km.Quit):
		h.open = false
	case key.Matches(k, km.Next):
		h.cursor = min(h.cursor+1, max(len(h.entries)-1, 0))
	case key.Matches(k, km.Prev):
		h.cursor = max(h.cursor-1, 0)
	case key.Matches(k, km.Submit):
		if h.cursor >= len(h.entries) {
			return m, nil
		}
		target := h.entries[h.cursor].Remote
		h.open = false
		m.msg = message{text: "dialing " + target + "…"}
		m.logf("dial %s (call history)", target)
		return m, dialCmd(m.ctx, m.c, target, m.opts.DialOptions)
	}
	return m, nil
}

// historyView draws the open view in h lines at most, scrolled to keep the
// cursor in sight.
func (m Model) historyView(w, h int) []string {
	hv, st := m.hist, m.st
	out := []string{heading(st.Help.Title, "call history", w)}
	switch {
	case !hv.loaded:
		return append(out, st.Help.Desc.Render("  reading the history…"))
	case hv.err != "":
		return append(out, st.Message.Error.Render(ansi.Truncate("! "+hv.err, w, "…")))
	case len(hv.entries) == 0:
		return append(out, st.Help.Desc.Render("  no calls yet"))
	}
	loc := m.now().Location()
	peers := make([]string, len(hv.entries))
	width := 0
	for i, e := range hv.entries {
		peers[i] = e.Remote
		if e.Display != "" {
			peers[i] = e.Display + " <" + e.Remote + ">"
		}
		peers[i] = printable(peers[i])
		width = min(max(width, ansi.StringWidth(peers[i])), w/2)
	}
	cursorAt := 0
	for i, e := range hv.entries {
		cur, dir := "  ", "→"
		if i == hv.cursor {
			cur = "› "
		}
		if e.Incoming {
			dir = "←"
		}
		mark := " "
		if e.Missed {
			mark = "!"
		}
		when := e.Started.In(loc).Format("Jan 02 15:04")
		dur := ""
		if e.Duration > 0 {
			dur = " " + fmtDuration(e.Duration)
		}
		peer := ansi.Truncate(peers[i], width, "…")
		peer += strings.Repeat(" ", width-ansi.StringWidth(peer))
		line := fmt.Sprintf("%s%s%s %s  %s  %s%s", cur, mark, dir, when, peer, printable(e.Result), dur)
		line = ansi.Truncate(line, w, "…")
		switch {
		case i == hv.cursor:
			line = st.Calls.Selected.Render(line)
			cursorAt = len(out)
		case e.Missed:
			line = st.Message.Error.Render(line)
		}
		out = append(out, line)
	}
	if over := cursorAt + 1 - h; over > 0 { // keep the heading, scroll the rest
		out = append(out[:1], out[1+over:]...)
	}
	return out
}

// historyHelp is the footer while the view is open.
func historyHelp(km keys.KeyMap) []key.Binding {
	with := func(b key.Binding, desc string) key.Binding {
		b.SetHelp(b.Help().Key, desc)
		return b
	}
	return []key.Binding{with(km.Submit, "call back"), with(km.Next, "down"), with(km.Prev, "up"), with(km.Leave, "close")}
}

// printable turns control characters (a history file anyone may have
// written) into spaces.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}
