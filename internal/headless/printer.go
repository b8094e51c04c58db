package headless

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/teaphone/teaphone/sessions"
)

// Event output formats (Options.Events).
const (
	EventsJSONL = "jsonl" // one JSON object per line: the headless contract
	EventsText  = "text"  // one readable line per event
	EventsNone  = "none"  // nothing
)

// MediaInterval is the least time between two media events printed for
// one call.
const MediaInterval = 250 * time.Millisecond

// tsLayout is the contract's timestamp: UTC RFC 3339 with milliseconds.
const tsLayout = "2006-01-02T15:04:05.000Z"

// LogEvent is printed for a script's log command ("event":"log").
type LogEvent struct {
	Time    time.Time
	CallID  sessions.CallID
	Line    int
	Message string
}

// EventTime implements sessions.Event.
func (e LogEvent) EventTime() time.Time { return e.Time }

// Kind implements sessions.Event.
func (LogEvent) Kind() string { return "log" }

// Printer writes events to an io.Writer in one of the Events formats. It is
// safe for concurrent use; media events are limited to one per call per
// MediaInterval (event time). Write errors are kept (see Err), not returned:
// a closed stdout must not stop the phone.
type Printer struct {
	mu        sync.Mutex
	w         io.Writer
	format    string
	now       func() time.Time
	lastMedia map[sessions.CallID]time.Time
	lines     map[sessions.CallID]int
	err       error
}

// NewPrinter returns a Printer for format ("jsonl", "text" or "none"; ""
// means "jsonl"). now stamps events that carry no time (nil: time.Now).
func NewPrinter(w io.Writer, format string, now func() time.Time) (*Printer, error) {
	switch format {
	case "":
		format = EventsJSONL
	case EventsJSONL, EventsText, EventsNone:
	default:
		return nil, fmt.Errorf("events: unknown format %q (want jsonl, text or none)", format)
	}
	if now == nil {
		now = time.Now
	}
	if w == nil {
		w = io.Discard
	}
	return &Printer{
		w: w, format: format, now: now,
		lastMedia: make(map[sessions.CallID]time.Time),
		lines:     make(map[sessions.CallID]int),
	}, nil
}

// Err returns the first write error.
func (p *Printer) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// Print writes one event (a sessions event or a LogEvent).
func (p *Printer) Print(ev sessions.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := ev.EventTime()
	if t.IsZero() {
		t = p.now()
	}
	switch e := ev.(type) {
	case sessions.CallEvent:
		if e.Call.State.Final() {
			delete(p.lastMedia, e.Call.ID)
			delete(p.lines, e.Call.ID)
		} else {
			p.lines[e.Call.ID] = e.Call.Line
		}
	case sessions.MediaEvent:
		if last, ok := p.lastMedia[e.CallID]; ok && t.Sub(last) < MediaInterval && t.Sub(last) >= 0 {
			return
		}
		p.lastMedia[e.CallID] = t
	case sessions.ErrorEvent:
		if e.CallID != "" {
			ev = lineErrorEvent{ErrorEvent: e, line: p.lines[e.CallID]}
		}
	}
	var b []byte
	switch p.format {
	case EventsNone:
		return
	case EventsText:
		b = append([]byte(FormatText(ev, t)), '\n')
	default:
		b = append(FormatJSON(ev, t), '\n')
	}
	if _, err := p.w.Write(b); err != nil && p.err == nil {
		p.err = err
	}
}

// lineErrorEvent is an ErrorEvent with the line of its call, when known.
type lineErrorEvent struct {
	sessions.ErrorEvent
	line int
}

// The JSON shapes of the headless contract (README.md, Headless modes):
// scripts parse them, so fields may be added, never renamed.
type (
	callJSON struct {
		TS              string             `json:"ts"`
		Event           string             `json:"event"`
		CallID          sessions.CallID    `json:"call_id"`
		Line            int                `json:"line"`
		Direction       sessions.Direction `json:"direction"`
		State           sessions.State     `json:"state"`
		Remote          string             `json:"remote"`
		DisplayName     string             `json:"display_name"`
		SIPCallID       string             `json:"sip_call_id"`
		HeldLocal       bool               `json:"held_local"`
		HeldRemote      bool               `json:"held_remote"`
		Muted           bool               `json:"muted"`
		Recording       bool               `json:"recording"`
		Account         string             `json:"account,omitempty"`
		Subject         string             `json:"subject,omitempty"`
		Codec           string             `json:"codec,omitempty"`
		SRTP            string             `json:"srtp"` // suite ("… (DTLS)" once DTLS keyed it, "DTLS (handshaking)" before), "" for plain RTP
		Transport       string             `json:"transport,omitempty"`
		Decision        string             `json:"decision,omitempty"`
		Rule            string             `json:"rule,omitempty"`     // what decided: "rules[2]" or "default"
		RuleWhy         string             `json:"rule_why,omitempty"` // why it matched, with its line
		Reason          *string            `json:"reason,omitempty"`   // final states only
		Code            *int               `json:"code,omitempty"`     // final states only
		ReplacedBy      sessions.CallID    `json:"replaced_by,omitempty"`
		TransferredFrom sessions.CallID    `json:"transferred_from,omitempty"`
	}
	registrationJSON struct {
		TS      string `json:"ts"`
		Event   string `json:"event"`
		Account string `json:"account"`
		State   string `json:"state"`
		Expires int    `json:"expires,omitempty"`
		Code    int    `json:"code,omitempty"`
		Reason  string `json:"reason,omitempty"`
		Server  string `json:"server,omitempty"`
		Public  string `json:"public,omitempty"`
		// TLSUnverified: registered over TLS with tls.verify = false.
		TLSUnverified bool `json:"tls_unverified,omitempty"`
	}
	dtmfJSON struct {
		TS        string          `json:"ts"`
		Event     string          `json:"event"`
		CallID    sessions.CallID `json:"call_id"`
		Line      int             `json:"line"`
		Digit     string          `json:"digit"`
		Direction string          `json:"direction"` // received, sent
		Method    string          `json:"method"`
	}
	mediaJSON struct {
		TS        string          `json:"ts"`
		Event     string          `json:"event"`
		CallID    sessions.CallID `json:"call_id"`
		Line      int             `json:"line"`
		Codec     string          `json:"codec"`
		RxPackets uint64          `json:"rx_packets"`
		LossPct   num             `json:"loss_pct"`
		JitterMs  num             `json:"jitter_ms"`
		RTTMs     num             `json:"rtt_ms"`
		MOS       num             `json:"mos"`
		TxPackets uint64          `json:"tx_packets"`
		Lost      int64           `json:"lost"`
		RTCPMux   bool            `json:"rtcp_mux"`
		SRTP      string          `json:"srtp"`
	}
	transferJSON struct {
		TS        string          `json:"ts"`
		Event     string          `json:"event"`
		CallID    sessions.CallID `json:"call_id"`
		Line      int             `json:"line"`
		Target    string          `json:"target"`
		Direction string          `json:"direction"` // sent: we asked the remote; received: we execute the remote's request
		Code      int             `json:"code"`
		Reason    string          `json:"reason,omitempty"`
		Final     bool            `json:"final"`
		NewCallID sessions.CallID `json:"new_call_id,omitempty"`
		Asking    bool            `json:"asking,omitempty"` // a received request waits for the user
	}
	messageJSON struct { // error and log
		TS      string          `json:"ts"`
		Event   string          `json:"event"`
		CallID  sessions.CallID `json:"call_id,omitempty"`
		Line    int             `json:"line,omitempty"`
		Message string          `json:"message"`
	}
)

// num is a float printed with at most two decimals and always a decimal
// point ("0.0", "4.41").
type num float64

// MarshalJSON implements json.Marshaler.
func (n num) MarshalJSON() ([]byte, error) {
	v := float64(n)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		v = 0
	}
	v = math.Round(v*100)/100 + 0 // + 0 turns -0 into 0
	if v == 0 {
		v = 0
	}
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return []byte(s), nil
}

// FormatJSON returns the contract's JSON object for ev (no newline), with
// t as its "ts".
func FormatJSON(ev sessions.Event, t time.Time) []byte {
	ts := t.UTC().Format(tsLayout)
	var v any
	switch e := ev.(type) {
	case sessions.CallEvent:
		c := e.Call
		j := callJSON{
			TS: ts, Event: "call", CallID: c.ID, Line: c.Line, Direction: c.Direction, State: c.State,
			Remote: c.RemoteURI, DisplayName: c.RemoteDisplay, SIPCallID: c.SIPCallID,
			HeldLocal: c.HeldLocal, HeldRemote: c.HeldRemote, Muted: c.Muted, Recording: c.Recording,
			Account: c.Account, Subject: c.Subject, Codec: c.Codec, SRTP: c.SRTP, Transport: c.Transport, Decision: c.Decision,
			Rule: c.Rule, RuleWhy: c.RuleWhy,
			ReplacedBy: c.ReplacedBy, TransferredFrom: c.TransferredFrom,
		}
		if c.State.Final() {
			reason, code := c.EndReason, c.EndCode
			j.Reason, j.Code = &reason, &code
		}
		v = j
	case sessions.RegistrationEvent:
		v = registrationJSON{TS: ts, Event: "registration", Account: e.Account, State: e.State.String(),
			Expires: e.Expires, Code: e.Code, Reason: e.Reason, Server: e.Server, Public: e.Public,
			TLSUnverified: e.TLSUnverified}
	case sessions.DTMFEvent:
		v = dtmfJSON{TS: ts, Event: "dtmf", CallID: e.CallID, Line: e.Line, Digit: e.Digit,
			Direction: dtmfDirection(e.Received), Method: e.Method}
	case sessions.MediaEvent:
		s := e.Stats
		v = mediaJSON{TS: ts, Event: "media", CallID: e.CallID, Line: e.Line, Codec: s.Codec,
			RxPackets: s.RxPackets, LossPct: num(s.LossPct), JitterMs: num(s.JitterMs), RTTMs: num(s.RTTMs),
			MOS: num(s.MOS), TxPackets: s.TxPackets, Lost: s.Lost, RTCPMux: s.RTCPMux, SRTP: s.SRTP}
	case sessions.TransferEvent:
		x := e.Transfer
		v = transferJSON{TS: ts, Event: "transfer", CallID: e.CallID, Line: e.Line, Target: x.Target,
			Direction: transferDirection(x.Outgoing), Code: x.Code, Reason: x.Reason, Final: x.Final,
			NewCallID: x.NewCallID, Asking: x.Asking}
	case sessions.MWIEvent:
		v = mwiJSONOf(e, ts)
	case sessions.ErrorEvent:
		v = messageJSON{TS: ts, Event: "error", CallID: e.CallID, Message: errText(e.Err)}
	case lineErrorEvent:
		v = messageJSON{TS: ts, Event: "error", CallID: e.CallID, Line: e.line, Message: errText(e.Err)}
	case LogEvent:
		v = messageJSON{TS: ts, Event: "log", CallID: e.CallID, Line: e.Line, Message: e.Message}
	default:
		v = messageJSON{TS: ts, Event: ev.Kind(), Message: fmt.Sprint(ev)}
	}
	b, err := json.Marshal(v)
	if err != nil { // cannot happen with these types; keep the line valid JSON anyway
		b, _ = json.Marshal(messageJSON{TS: ts, Event: "error", Message: err.Error()})
	}
	return b
}

// FormatText returns one readable line for ev (no newline).
func FormatText(ev sessions.Event, t time.Time) string {
	ts := t.UTC().Format(tsLayout)
	var s string
	switch e := ev.(type) {
	case sessions.CallEvent:
		c := e.Call
		s = fmt.Sprintf("call %d %s %s %s", c.Line, c.Direction, c.State, peer(c))
		for _, f := range []struct {
			on   bool
			name string
		}{{c.HeldLocal, "held"}, {c.HeldRemote, "held-by-remote"}, {c.Muted, "muted"}, {c.Recording, "recording"}} {
			if f.on {
				s += " [" + f.name + "]"
			}
		}
		if c.State.Final() {
			s += fmt.Sprintf(": %d %s", c.EndCode, c.EndReason)
		} else if c.Decision != "" && c.State == sessions.StateRinging {
			s += " (" + c.Decision
			if c.Rule != "" {
				s += ", " + c.Rule
			}
			s += ")"
		}
	case sessions.RegistrationEvent:
		s = fmt.Sprintf("registration %s %s", e.Account, e.State)
		if e.Expires > 0 {
			s += fmt.Sprintf(" (expires %ds)", e.Expires)
		}
		if e.Code != 0 || e.Reason != "" {
			s += fmt.Sprintf(": %d %s", e.Code, e.Reason)
		}
		if e.Server != "" {
			s += " via " + e.Server
		}
	case sessions.MWIEvent:
		s = mwiText(e)
	case sessions.DTMFEvent:
		s = fmt.Sprintf("dtmf %d %s %s (%s)", e.Line, dtmfDirection(e.Received), e.Digit, e.Method)
	case sessions.MediaEvent:
		m := e.Stats
		s = fmt.Sprintf("media %d %s rx %d loss %.1f%% jitter %.1fms rtt %.1fms MOS %.1f",
			e.Line, m.Codec, m.RxPackets, m.LossPct, m.JitterMs, m.RTTMs, m.MOS)
	case sessions.TransferEvent:
		x := e.Transfer
		s = fmt.Sprintf("transfer %d %s %s %d %s", e.Line, transferDirection(x.Outgoing), x.Target, x.Code, x.Reason)
		if x.Final {
			s += " (final)"
		}
	case sessions.ErrorEvent:
		s = "error: " + errText(e.Err)
	case lineErrorEvent:
		s = fmt.Sprintf("error %d: %s", e.line, errText(e.Err))
	case LogEvent:
		s = fmt.Sprintf("log %d: %s", e.Line, e.Message)
	default:
		s = fmt.Sprintf("%s %v", ev.Kind(), ev)
	}
	return ts + " " + clean(strings.TrimRight(s, " "))
}

func peer(c sessions.CallInfo) string {
	if c.RemoteDisplay != "" {
		return strconv.Quote(c.RemoteDisplay) + " <" + c.RemoteURI + ">"
	}
	return c.RemoteURI
}

func dtmfDirection(received bool) string {
	if received {
		return "received"
	}
	return "sent"
}

func transferDirection(outgoing bool) string {
	if outgoing {
		return "sent"
	}
	return "received"
}

func errText(err error) string {
	if err == nil {
		return "unknown error"
	}
	return err.Error()
}

// clean replaces control characters, so a line stays one line on a terminal.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return ' '
		}
		return r
	}, s)
}
