package ui

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/charmbracelet/bubbles/help"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/teaphone/teaphone/sessions"
	"github.com/teaphone/teaphone/ui/components/dialer"
	"github.com/teaphone/teaphone/ui/components/sparkline"
	"github.com/teaphone/teaphone/ui/keys"
	"github.com/teaphone/teaphone/ui/styles"
)

// Limits of what the UI keeps.
const (
	logLimit    = 500
	dtmfLimit   = 24
	sparkWindow = time.Minute
)

// askKind is the modal question in progress, if any.
type askKind int

const (
	askNone     askKind = iota
	askForward          // forward target for a pending call
	askTransfer         // blind transfer target
	askConsult          // pick the consult call of an attended transfer
	askQuit             // calls are up: hang up all and quit?
)

// ask is a modal question: its kind, the call it is about, the line being
// edited (targets) and the picked consult call.
type ask struct {
	kind    askKind
	call    sessions.CallID
	input   dialer.Model
	consult sessions.CallID
}

// regEntry is one account in the status bar.
type regEntry struct {
	account    string
	state      sessions.RegState
	reason     string
	unverified bool // registered over TLS without checking the certificate
	voicemail  int  // new voice messages (RFC 3842 message summary)
}

// callExtra is what the UI keeps about a call beside its CallInfo.
type callExtra struct {
	mos      sparkline.Series
	dtmfSent string
	dtmfRecv string
	// dtmfTyped holds digits typed here and shown at once in dtmfSent whose
	// "sent" DTMFEvent has not come back yet: those events are not shown
	// again, while digits another client of the Manager sent (teaphone
	// ctl, a script) are.
	dtmfTyped string
}

// message is the one-line feedback under the dial line.
type message struct {
	text string
	err  bool
}

// Model is the root Bubble Tea model of the phone. Create it with New; run
// it with Run, or drive it directly (teatest, Update tests).
type Model struct {
	c    Client
	ctx  context.Context
	now  func() time.Time
	bell io.Writer

	keys    keys.KeyMap
	keyErr  error
	st      styles.Styles
	help    help.Model
	opts    Options
	width   int
	height  int
	clock   time.Time
	tickTag int
	level   struct { // the microphone's, read each tick (Options.InputLevel)
		dbfs float64
		ok   bool
	}

	regs     []regEntry
	calls    []sessions.CallInfo // not ended, by line
	extra    map[sessions.CallID]callExtra
	sel      sessions.CallID
	prevSel  sessions.CallID
	dial     dialer.Model
	ask      ask
	showHelp bool
	showLog  bool
	picker   picker      // the audio device picker (devices.go)
	hist     callHistory // the call history view (callhist.go)
	missed   missedBadge // the status bar's missed calls (missed.go)
	logs     []string
	msg      message
	quitting bool
	busy     bool      // a client command is running
	queue    []command // commands waiting for it, in key order
	panicked any

	events <-chan sessions.Event
	logCh  <-chan string
}

// New returns the phone's model for client c. It reads the current calls and
// registrations from c; events then keep it up to date (Options.Events, or
// the subscription Run makes). Subscribe before calling New, so that no
// event published in between is lost. New starts nothing: no goroutine, no
// subscription.
func New(c Client, o Options) Model {
	st := styles.Default()
	km, err := keys.New(o.Keys)
	now := o.Now
	if now == nil {
		now = time.Now
	}
	h := help.New()
	h.Styles.ShortKey = st.Help.Key
	h.Styles.ShortDesc = st.Help.Desc
	h.Styles.ShortSeparator = st.Help.Sep
	h.Styles.FullKey = st.Help.Key
	h.Styles.FullDesc = st.Help.Desc
	h.Styles.FullSeparator = st.Help.Sep
	h.Styles.Ellipsis = st.Help.Sep

	cands := make([]dialer.Candidate, len(o.Contacts))
	for i, ct := range o.Contacts {
		cands[i] = dialer.Candidate{Name: ct.Name, URI: ct.URI}
	}
	o.Contacts = append([]Contact(nil), o.Contacts...)

	d := dialer.New(st, "dial> ", o.History)
	d.Placeholder = "number or sip: URI, enter to dial"
	m := Model{
		c:       c,
		ctx:     context.Background(),
		now:     now,
		keys:    km,
		keyErr:  err,
		st:      st,
		help:    h,
		opts:    o,
		width:   80,
		height:  24,
		clock:   now(),
		extra:   map[sessions.CallID]callExtra{},
		dial:    d,
		showLog: true,
		events:  o.Events,
		logCh:   o.LogLines,
	}
	for _, a := range o.Accounts {
		m.regs = upsertReg(m.regs, regEntry{account: a})
	}
	if c != nil {
		for _, r := range c.Registrations() {
			m.regs = upsertReg(m.regs, regEntry{account: r.Account, state: r.State, reason: r.Reason, unverified: r.TLSUnverified})
		}
		for _, ci := range c.Calls() {
			m.calls = upsertCall(m.calls, ci)
		}
	}
	if err != nil {
		m.msg = message{text: err.Error(), err: true}
	}
	if o.AudioNotice != "" {
		m.logf("%s", o.AudioNotice)
	}
	for _, w := range o.Warnings {
		m.logf("warning: %s", w)
	}
	m.sel = reselect(m.calls, "", "")
	m.dial = m.dial.SetSize(m.width, 1)
	return m
}

// Init implements tea.Model: it starts the clock and the event and log feeds.
func (m Model) Init() tea.Cmd {
	return tea.Batch(tick(m.tickTag, m.now), waitForEvent(m.ctx.Done(), m.events), waitForLog(m.ctx.Done(), m.logCh),
		m.loadUnseen())
}

// Messages.

// EventMsg carries one client-core event into Update. Run delivers the
// subscription's events as EventMsgs; tests may send them directly.
type EventMsg struct{ Event sessions.Event }

type eventsClosedMsg struct{}

type logLineMsg string

type logClosedMsg struct{}

type tickMsg struct {
	tag int
	at  time.Time
}

// resultMsg reports the outcome of a client command (the UI's one error
// message type: errors are rendered in one place, the message line).
type resultMsg struct {
	what string
	call sessions.CallID
	err  error
	// urgent: the command ran beside the queue (a hang-up), so its result
	// does not start the next queued command.
	urgent bool
}

// dialedMsg reports that Dial returned.
type dialedMsg struct {
	target string
	call   sessions.CallID
	err    error
}

// Commands. Every closure captures values (the client interface, IDs,
// strings), never the Model.

// guard runs f, turning a panic into an error result so the UI can quit
// cleanly and restore the terminal.
func guard(f func() tea.Msg) tea.Cmd {
	return func() (msg tea.Msg) {
		defer func() {
			if r := recover(); r != nil {
				msg = panicMsg{value: r}
			}
		}()
		return f()
	}
}

type panicMsg struct{ value any }

// waitForEvent delivers the next event; Update re-arms it after each one.
// It gives up when done is closed (Run returned), so no goroutine outlives
// the program.
func waitForEvent(done <-chan struct{}, ch <-chan sessions.Event) tea.Cmd {
	if ch == nil {
		return nil
	}
	return guard(func() tea.Msg {
		select {
		case ev, ok := <-ch:
			if !ok {
				return eventsClosedMsg{}
			}
			return EventMsg{Event: ev}
		case <-done:
			return nil
		}
	})
}

// waitForLog delivers the next log line, like waitForEvent.
func waitForLog(done <-chan struct{}, ch <-chan string) tea.Cmd {
	if ch == nil {
		return nil
	}
	return guard(func() tea.Msg {
		select {
		case l, ok := <-ch:
			if !ok {
				return logClosedMsg{}
			}
			return logLineMsg(l)
		case <-done:
			return nil
		}
	})
}

func tick(tag int, now func() time.Time) tea.Cmd {
	return tea.Tick(time.Second, func(time.Time) tea.Msg { return tickMsg{tag: tag, at: now()} })
}

// do runs one client command and reports its result.
func do(what string, id sessions.CallID, f func() error) tea.Cmd {
	return guard(func() tea.Msg { return resultMsg{what: what, call: id, err: f()} })
}

// doNow runs a command beside the queue.
func doNow(what string, id sessions.CallID, f func() error) tea.Cmd {
	return guard(func() tea.Msg { return resultMsg{what: what, call: id, err: f(), urgent: true} })
}

func dialCmd(ctx context.Context, c Client, target string, o sessions.DialOptions) tea.Cmd {
	return guard(func() tea.Msg {
		id, err := c.Dial(ctx, target, o)
		return dialedMsg{target: target, call: id, err: err}
	})
}

func quitCmd(c Client) tea.Cmd {
	return guard(func() tea.Msg {
		_ = c.HangupAll()
		return tea.Quit()
	})
}

// bellCmd rings the terminal bell on w, the program's own output (the one
// byte the UI writes outside the renderer; Bubble Tea v1 has no bell API).
func bellCmd(w io.Writer) tea.Cmd {
	if w == nil {
		return nil
	}
	return guard(func() tea.Msg {
		_, _ = io.WriteString(w, "\a")
		return nil
	})
}

// logf appends a line to the log pane.
func (m *Model) logf(format string, args ...any) {
	line := m.clock.Format("15:04:05") + " " + fmt.Sprintf(format, args...)
	m.logs = append(m.logs, line)
	if len(m.logs) > logLimit {
		m.logs = append([]string(nil), m.logs[len(m.logs)-logLimit:]...)
	}
}
