package ui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/teaphone/teaphone/sessions"
	"github.com/teaphone/teaphone/ui/keys"
)

// Smallest size drawn; the layout is designed for 80×24 and up, smaller
// terminals get a clipped view.
const (
	minWidth  = 20
	minHeight = 5
	// minPeerWidth is the least room a call row shortens the peer to (to
	// keep its marks); narrower rows are clipped at the edge instead.
	minPeerWidth = 6
)

// View implements tea.Model: status bar, calls, details, prompt or question,
// dial line, message, log pane and help footer, exactly the terminal's size.
func (m Model) View() (out string) {
	defer func() {
		if r := recover(); r != nil {
			out = fmt.Sprintf("teaphone: view error: %v", r)
		}
	}()
	if m.quitting {
		return ""
	}
	w, h := max(m.width, minWidth), max(m.height, minHeight)
	km := m.activeKeys()

	top := []string{m.statusBar(w)}
	footer := []string{m.footer(w, km)}
	if m.showHelp {
		body := m.fullHelp(w, km)
		return assemble(w, h, top, body, footer)
	}
	if m.picker.open {
		return assemble(w, h, top, m.pickerView(w, h-len(top)-len(footer)), footer)
	}
	if m.hist.open {
		return assemble(w, h, top, m.historyView(w, h-len(top)-len(footer)), footer)
	}

	box := m.boxView(w, km)
	fixed := 1 + 2 + len(box) + 2 // status, calls heading+1 row, box, dial+msg
	details := m.details(w)
	rows := len(m.calls)
	if rows == 0 {
		rows = 1
	}
	room := h - fixed - len(footer)
	if room-len(details) < rows-1 {
		details = nil
	}
	callRows := min(rows, max(1, room-len(details)+1))
	body := m.callList(w, callRows)
	body = append(body, details...)
	body = append(body, box...)
	body = append(body, m.dialView(w), m.messageView())
	if left := h - len(top) - len(footer) - len(body); left > 0 && m.showLog {
		body = append(body, m.logView(w, left)...)
	}
	return assemble(w, h, top, body, footer)
}

// assemble stacks the parts into exactly h lines of at most w cells.
func assemble(w, h int, top, body, footer []string) string {
	lines := append([]string(nil), top...)
	room := h - len(top) - len(footer)
	for i := 0; i < room; i++ {
		if i < len(body) {
			lines = append(lines, body[i])
		} else {
			lines = append(lines, "")
		}
	}
	lines = append(lines, footer...)
	for i, l := range lines {
		lines[i] = ansi.Truncate(l, w, "…")
	}
	return strings.Join(lines, "\n")
}

func (m Model) statusBar(w int) string {
	s := m.st.Status
	parts := []string{s.Title.Render(" teaphone ")}
	var flags []string
	for _, c := range m.calls {
		if c.Muted {
			flags = append(flags, "MUTED")
			break
		}
	}
	if rr, ok := m.c.(RulesReader); ok && rr.Rules().Default.Action == sessions.ActionReject {
		flags = append(flags, "DND")
	}
	if len(flags) > 0 {
		parts = append(parts, s.Flag.Render(strings.Join(flags, " ")))
	}
	if missed := m.missedText(); missed != "" {
		parts = append(parts, s.Flag.Render(missed))
	}
	for _, r := range m.regs {
		st := s.Pending
		switch r.state {
		case sessions.RegRegistered:
			st = s.Registered
		case sessions.RegFailed:
			st = s.Failed
		}
		txt := r.state.String()
		switch {
		case r.state == sessions.RegUnknown:
			txt = "not registered"
		case r.state == sessions.RegFailed && r.reason != "":
			// What to act on ("authentication failed", "no server
			// answered for provider.test"): the log pane has the rest.
			txt += " (" + r.reason + ")"
		case r.state == sessions.RegRegistered && r.unverified:
			// tls.verify = false: as loud as a failure.
			txt += " (TLS NOT VERIFIED)"
			st = s.Failed
		}
		parts = append(parts, s.Account.Render(r.account+": ")+st.Render(txt))
		if r.voicemail > 0 {
			parts = append(parts, s.Flag.Render(fmt.Sprintf("voicemail %d new", r.voicemail)))
		}
	}
	switch {
	case m.opts.AudioNotice != "":
		parts = append(parts, s.Flag.Render(m.opts.AudioNotice))
	case m.opts.AudioIn != "" || m.opts.AudioOut != "":
		parts = append(parts, s.Device.Render("in: "+orDash(m.opts.AudioIn)+"  out: "+orDash(m.opts.AudioOut)))
	}
	line := strings.Join(parts, s.Bar.Render(" │ "))
	line = ansi.Truncate(line, w, "…")
	if pad := w - ansi.StringWidth(line); pad > 0 {
		line += s.Bar.Render(strings.Repeat(" ", pad))
	}
	return line
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func heading(style lipgloss.Style, title string, w int) string {
	t := "── " + title + " "
	return style.Render(t + strings.Repeat("─", max(0, w-ansi.StringWidth(t))))
}

// callList draws the heading and n rows of calls, scrolled to keep the
// selected call visible.
func (m Model) callList(w, n int) []string {
	s := m.st.Calls
	out := []string{heading(s.Heading, fmt.Sprintf("calls (%d)", len(m.calls)), w)}
	if len(m.calls) == 0 {
		return append(out, s.Empty.Render(fmt.Sprintf("  no calls: type a number, or %s for a URI, then enter", m.keys.Dial.Help().Key)))
	}
	start := 0
	if i := indexOf(m.calls, m.sel); i >= n {
		start = i - n + 1
	}
	for _, c := range m.calls[start:min(len(m.calls), start+n)] {
		out = append(out, m.callRow(c, w))
	}
	return out
}

func (m Model) callRow(c sessions.CallInfo, w int) string {
	s := m.st.Calls
	marker := "  "
	if c.ID == m.sel {
		marker = "› "
	}
	dir := "out"
	if c.Direction == sessions.DirectionIncoming {
		dir = "in "
	}
	state, stStyle := stateText(c), s.Row
	switch {
	case c.Pending || c.State == sessions.StateRinging:
		stStyle = s.Ringing
	case c.State == sessions.StateConnected:
		stStyle = s.Connected
	}
	marks := strings.Join(callMarks(c), " ")
	head := fmt.Sprintf("%s%2d %s ", marker, c.Line, dir)
	stateCol := fmt.Sprintf("%-12s", state)
	timeCol := fmt.Sprintf(" %8s  ", fmtDuration(m.callTime(c)))
	if marks != "" {
		marks = "  " + marks
	}
	// The marks (held, muted, recording) matter more than the end of a long
	// name or URI: shorten the peer so they stay on an 80-column screen.
	peer := peerText(c)
	if room := w - ansi.StringWidth(head+stateCol+timeCol+marks); room >= minPeerWidth {
		peer = ansi.Truncate(peer, room, "…")
	}
	tail := timeCol + peer + marks
	if c.ID == m.sel {
		return s.Selected.Render(head + stateCol + tail)
	}
	return s.Row.Render(head) + stStyle.Render(stateCol) + s.Row.Render(tail)
}

func stateText(c sessions.CallInfo) string {
	switch {
	case c.Pending && c.Ignored:
		return "ignored"
	case c.Pending:
		return "incoming"
	case c.Transfer.Active():
		return "transferring"
	}
	return c.State.String()
}

func callMarks(c sessions.CallInfo) []string {
	var out []string
	if lock := securityMark(c); lock != "" {
		out = append(out, lock)
	}
	if c.HeldLocal {
		out = append(out, "[held]")
	}
	if c.HeldRemote {
		out = append(out, "[held-by-remote]")
	}
	if c.Muted {
		out = append(out, "[muted]")
	}
	if c.Recording {
		out = append(out, "[rec]")
	}
	return out
}

// callTime is the connected time, or the time since the call appeared
// before it is answered.
func (m Model) callTime(c sessions.CallInfo) time.Duration {
	if !c.ConnectedAt.IsZero() {
		return c.Duration(m.clock)
	}
	if c.CreatedAt.IsZero() || m.clock.Before(c.CreatedAt) {
		return 0
	}
	return m.clock.Sub(c.CreatedAt)
}

func fmtDuration(d time.Duration) string {
	d = d.Truncate(time.Second)
	h, mi, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%02d", h, mi, s)
	}
	return fmt.Sprintf("%02d:%02d", mi, s)
}

// footer is the short help of the current mode, built from the key map.
func (m Model) footer(w int, km keys.KeyMap) string {
	with := func(b key.Binding, desc string) key.Binding {
		b.SetHelp(b.Help().Key, desc)
		return b
	}
	var bs []key.Binding
	switch {
	case m.showHelp:
		bs = []key.Binding{with(km.Leave, "close help")}
	case m.picker.open:
		bs = pickerHelp(km)
	case m.hist.open:
		bs = historyHelp(km)
	case m.ask.kind == askQuit:
		bs = []key.Binding{with(km.Confirm, "quit"), with(km.Cancel, "stay")}
	case m.ask.kind == askConsult:
		bs = []key.Binding{with(km.Submit, "transfer"), with(km.Next, "choose"), with(km.Leave, "cancel")}
	case m.ask.kind != askNone:
		bs = []key.Binding{with(km.Submit, "ok"), km.Complete, km.HistoryPrev, with(km.Leave, "cancel")}
	case m.dial.Focused():
		bs = km.DialHelp()
	default:
		bs = km.ShortHelp()
		if _, _, ok := promptCall(m.calls); ok {
			bs = []key.Binding{km.Answer, km.Reject, km.Decline, km.Forward, km.Defer, km.Help, km.Quit}
		}
	}
	hm := m.help
	hm.Width = w
	return hm.ShortHelpView(bs)
}

// fullHelp is the ? screen: every binding, those that do not apply now
// marked as such.
func (m Model) fullHelp(w int, km keys.KeyMap) []string {
	h := m.st.Help
	out := []string{heading(h.Title, "keys (any key closes)", w)}
	var cells []string
	for _, col := range km.FullHelp() {
		for _, b := range col {
			k := fmt.Sprintf("%-10s", b.Help().Key)
			if b.Enabled() {
				cells = append(cells, h.Key.Render(k)+" "+h.Desc.Render(b.Help().Desc))
			} else {
				cells = append(cells, h.Disabled.Render(k)+" "+h.Disabled.Render(b.Help().Desc+" (n/a now)"))
			}
		}
	}
	colW := max(30, w/2-1)
	half := (len(cells) + 1) / 2
	for i := 0; i < half; i++ {
		left := cells[i]
		line := left + strings.Repeat(" ", max(1, colW-ansi.StringWidth(left)))
		if i+half < len(cells) {
			line += cells[i+half]
		}
		out = append(out, line)
	}
	d := km.DialHelp()
	out = append(out, "",
		heading(h.Title, "dial line and questions", w),
		fmt.Sprintf("%s %s · %s %s · %s %s · %s %s", h.Key.Render(d[0].Help().Key), h.Desc.Render("dial / ok"),
			h.Key.Render(d[1].Help().Key), h.Desc.Render("history"), h.Key.Render(d[2].Help().Key), h.Desc.Render("complete"),
			h.Key.Render(d[3].Help().Key), h.Desc.Render("leave / cancel")),
		h.Desc.Render("In the dial line every printable key is text. Digits 0-9 * # A-D are DTMF on a"),
		h.Desc.Render("connected call; otherwise a digit, +, * or # starts dialing."),
	)
	return out
}
