package ui

import (
	"fmt"
	"math"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/teaphone/teaphone/sessions"
	"github.com/teaphone/teaphone/ui/components/sparkline"
	"github.com/teaphone/teaphone/ui/keys"
)

// details draws the selected call's pane: media figures and a MOS sparkline
// of the last minute.
func (m Model) details(w int) []string {
	c, ok := findCall(m.calls, m.sel)
	if !ok {
		return nil
	}
	s := m.st.Details
	x := m.extra[c.ID]
	title := fmt.Sprintf("line %d · %s", c.Line, c.Peer())
	out := []string{heading(m.st.Calls.Heading, title, w)}
	lbl := func(l string) string { return s.Label.Render(l + " ") }
	st := c.Stats
	codec := c.Codec
	if codec == "" {
		codec = st.Codec
	}
	var l1 string
	if st.RxPackets == 0 && st.MOS == 0 {
		l1 = lbl("codec") + s.Value.Render(orDash(codec)) + "  " + s.Label.Render("no media yet")
	} else {
		l1 = lbl("codec") + s.Value.Render(orDash(codec)) + "  " +
			lbl("jitter") + s.Value.Render(fmt.Sprintf("%.1f ms", st.JitterMs)) + "  " +
			lbl("loss") + s.Value.Render(fmt.Sprintf("%.1f%%", st.LossPct)) + "  " +
			lbl("rtt") + s.Value.Render(rtt(st.RTTMs)) + "  " +
			lbl("MOS") + m.mosStyle(st.MOS).Render(fmt.Sprintf("%.1f", st.MOS))
	}
	spark := sparkline.Render(x.mos.Values(), 30, 1, 4.5)
	var l2 []string
	if spark != "" {
		l2 = append(l2, lbl("MOS 1m")+s.Spark.Render(spark))
	}
	if x.dtmfSent != "" || x.dtmfRecv != "" {
		l2 = append(l2, lbl("dtmf sent")+s.Value.Render(orDash(x.dtmfSent))+" "+lbl(" recv")+s.Value.Render(orDash(x.dtmfRecv)))
	}
	if mic := m.micMeter(c); mic != "" {
		l2 = append(l2, lbl("mic")+s.Value.Render(mic))
	}
	if c.Subject != "" {
		l2 = append(l2, lbl("subject")+s.Value.Render(c.Subject))
	}
	if c.Rule != "" && c.Rule != "default" {
		l2 = append(l2, lbl("rule")+s.Value.Render(c.Rule+" ("+c.Decision+")"))
	}
	if sec := securityText(c); sec != "" {
		l2 = append(l2, s.Value.Render(sec))
	}
	if c.Transfer.Target != "" {
		l2 = append(l2, lbl("transfer")+s.Value.Render(c.Transfer.Target+" "+transferStatus(c.Transfer)))
	}
	return append(out, l1, strings.Join(l2, "  "))
}

// micMeter draws the microphone's level for a connected call (see
// Options.InputLevel): ten cells from -60 to 0 dBFS and the figure, so a
// person sees the microphone works before the far end complains; "muted"
// when the call is muted, "" when there is no meter.
func (m Model) micMeter(c sessions.CallInfo) string {
	if m.opts.InputLevel == nil || c.State != sessions.StateConnected {
		return ""
	}
	if c.Muted {
		return "muted"
	}
	db, ok := m.level.dbfs, m.level.ok
	if !ok {
		return ""
	}
	const cells = 10
	n := int(math.Round((db + 60) / 60 * cells))
	n = min(max(n, 0), cells)
	if db <= -60 {
		return strings.Repeat("░", cells) + " silent"
	}
	return strings.Repeat("█", n) + strings.Repeat("░", cells-n) + fmt.Sprintf(" %.0f dB", db)
}

func rtt(ms float64) string {
	if ms == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f ms", ms)
}

func (m Model) mosStyle(mos float64) lipgloss.Style {
	switch {
	case mos >= 4:
		return m.st.Details.Good
	case mos >= 3.5:
		return m.st.Details.Fair
	}
	return m.st.Details.Poor
}

// boxView draws the question in progress, else the transfer question, else
// the incoming-call prompt.
func (m Model) boxView(w int, km keys.KeyMap) []string {
	p := m.st.Prompt
	var lines []string
	hint := func(bs ...key.Binding) string {
		var parts []string
		for _, b := range bs {
			if b.Enabled() {
				parts = append(parts, p.Key.Render(b.Help().Key)+" "+b.Help().Desc)
			}
		}
		return strings.Join(parts, " · ")
	}
	withHelp := func(b key.Binding, desc string) key.Binding {
		b.SetHelp(b.Help().Key, desc)
		return b
	}
	c, _ := findCall(m.calls, m.ask.call)
	switch m.ask.kind {
	case askQuit:
		lines = []string{
			p.Title.Render(fmt.Sprintf("%d call(s) up. Hang up all and quit?", len(m.calls))),
			hint(withHelp(km.Confirm, "hang up and quit"), withHelp(km.Cancel, "stay")),
		}
	case askForward, askTransfer:
		verb := "Forward"
		if m.ask.kind == askTransfer {
			verb = "Transfer"
		}
		lines = []string{
			p.Title.Render(fmt.Sprintf("%s line %d (%s) to:", verb, c.Line, c.Peer())),
			m.ask.input.View(),
			hint(withHelp(km.Submit, strings.ToLower(verb)), km.Complete, withHelp(km.HistoryPrev, "history"), withHelp(km.Leave, "cancel")),
		}
	case askConsult:
		lines = []string{p.Title.Render(fmt.Sprintf("Attended transfer of line %d (%s): consult which call?", c.Line, c.Peer()))}
		for _, o := range consultCandidates(m.calls, m.ask.call) {
			mark := "  "
			if o.ID == m.ask.consult {
				mark = "› "
			}
			lines = append(lines, fmt.Sprintf("%sline %d  %s", mark, o.Line, peerText(o)))
		}
		lines = append(lines, hint(withHelp(km.Submit, "transfer"), withHelp(km.Next, "choose"), withHelp(km.Leave, "cancel")))
	default:
		if q, ok := transferQuestion(m.calls); ok {
			lines = m.transferBox(q, km, hint, withHelp)
			break
		}
		pc, waiting, ok := promptCall(m.calls)
		if !ok {
			return nil
		}
		title := fmt.Sprintf("Incoming call · line %d", pc.Line)
		if pc.Account != "" {
			title += " · to " + pc.Account
		}
		if waiting > 0 {
			title += p.Queue.Render(fmt.Sprintf("  (+%d waiting)", waiting))
		}
		who := p.URI.Render(pc.RemoteURI)
		if pc.RemoteDisplay != "" {
			who = p.Who.Render(pc.RemoteDisplay) + "  " + p.URI.Render("<"+pc.RemoteURI+">")
		}
		lines = []string{p.Title.Render(title), who}
		if pc.Subject != "" {
			lines = append(lines, p.Subject.Render("Subject: "+pc.Subject))
		}
		if r := ruleText(pc); r != "" {
			lines = append(lines, p.Subject.Render(r))
		}
		if m.dial.Focused() {
			lines = append(lines, hint(withHelp(km.Leave, "leave the dial line, then answer")))
		} else {
			lines = append(lines, hint(km.Answer, withHelp(km.Reject, "reject (486)"),
				withHelp(km.Decline, "decline (603)"), km.Forward, km.Defer))
		}
	}
	for i, l := range lines {
		lines[i] = ansi.Truncate(l, w-4, "…")
	}
	return strings.Split(p.Box.Width(w-2).Render(strings.Join(lines, "\n")), "\n")
}

func (m Model) dialView(w int) string {
	if !m.dial.Focused() && m.dial.Value() == "" {
		return m.st.Dial.Label.Render(m.dial.Prompt) + m.st.Dial.Hint.Render(fmt.Sprintf("(%s to dial)", m.keys.Dial.Help().Key))
	}
	return ansi.Truncate(m.dial.View(), w, "…")
}

func (m Model) messageView() string {
	if m.msg.text == "" {
		return ""
	}
	if m.msg.err {
		return m.st.Message.Error.Render("! " + m.msg.text)
	}
	return m.st.Message.Info.Render(m.msg.text)
}

func (m Model) logView(w, n int) []string {
	if n < 2 {
		return nil
	}
	out := []string{heading(m.st.Log.Heading, "log", w)}
	logs := m.logs
	if len(logs) > n-1 {
		logs = logs[len(logs)-(n-1):]
	}
	for _, l := range logs {
		out = append(out, m.st.Log.Line.Render(ansi.Truncate(l, w, "…")))
	}
	return out
}

// ruleText says which [[rules]] table decided an incoming call and what it
// does: "defer 20s, then forward sip:vm@pbx — rules[3]: hours 18:00-08:00
// (line 24)"; "" when no rule did (the default: the person decides).
func ruleText(c sessions.CallInfo) string {
	if c.Rule == "" || c.Rule == "default" {
		return ""
	}
	s := c.Decision + " — " + c.Rule
	if c.RuleWhy != "" {
		s += ": " + c.RuleWhy
	}
	return s
}
