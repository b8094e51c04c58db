package ctl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/teaphone/teaphone/internal/headless"
	"github.com/teaphone/teaphone/internal/script"
	"github.com/teaphone/teaphone/sessions"
)

// Service is the control socket of a running phone: a Server running
// Commands on the Manager, and the goroutine that prints the Manager's
// events to the clients subscribed to them, in the headless JSON lines.
type Service struct {
	srv  *Server
	sub  *sessions.Subscription
	done chan struct{}
}

// Start serves the Manager on a control socket at path (see Listen).
func Start(path string, m *sessions.Manager, o Options) (*Service, error) {
	srv, err := Listen(path, Commands{M: m}, o)
	if err != nil {
		return nil, err
	}
	pr, err := headless.NewPrinter(srv, headless.EventsJSONL, nil)
	if err != nil {
		_ = srv.Close()
		return nil, err
	}
	s := &Service{srv: srv, sub: m.Subscribe(), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		for ev := range s.sub.C() {
			pr.Print(ev)
		}
	}()
	return s, nil
}

// Path returns the socket's path.
func (s *Service) Path() string { return s.srv.Path() }

// Close stops the event printer and the server, and removes the socket.
// Call it after closing the phone: the last events (calls hung up,
// accounts unregistered) still reach the clients, for a second at most.
func (s *Service) Close() error {
	select {
	case <-s.done: // the phone's event stream ended and all was printed
	case <-time.After(time.Second):
	}
	s.sub.Close()
	<-s.done
	return s.srv.Close()
}

// Commands runs the protocol's commands on a Manager: dial URI, calls, and
// the call-script commands that act at once (answer, reject, forward,
// ignore, hangup, hold, resume, mute, unmute, dtmf, transfer,
// transfer-attended, play, record).
type Commands struct {
	M *sessions.Manager
}

// controlCommands are the commands Commands runs ("events" is the Server's).
var controlCommands = []string{"dial", "calls", "events", "answer", "reject", "forward", "ignore", "hangup", "hold", "resume", "mute", "unmute",
	"dtmf", "transfer", "transfer-attended", "play", "record"}

// Do implements Handler.
func (c Commands) Do(ctx context.Context, req Request) (Result, error) {
	text := strings.TrimSpace(req.Cmd)
	name, rest := text, ""
	if i := strings.IndexFunc(text, func(r rune) bool { return unicode.IsSpace(r) || r == ';' || r == '#' }); i >= 0 {
		name, rest = text[:i], strings.TrimSpace(text[i:])
	}
	switch strings.ToLower(name) {
	case "dial":
		return c.dial(ctx, rest)
	case "calls":
		if rest != "" {
			return nil, fmt.Errorf("calls: unexpected argument %q", rest)
		}
		return Result{"calls": c.calls()}, nil
	}
	switch strings.ToLower(name) {
	case "wait", "expect", "log":
		return nil, fmt.Errorf("%s: only in call scripts (a control command acts at once)", strings.ToLower(name))
	}
	if !slices.Contains(controlCommands, strings.ToLower(name)) {
		return nil, fmt.Errorf("unknown command %q (want one of %s)", name, strings.Join(controlCommands, ", "))
	}
	sc, err := script.Parse(text)
	if err != nil {
		var se *script.Error
		if errors.As(err, &se) {
			return nil, errors.New(se.Msg) // one line: no "line 1:"
		}
		return nil, err
	}
	if len(sc.Commands) != 1 {
		return nil, fmt.Errorf("one command per request, got %d", len(sc.Commands))
	}
	cmd := sc.Commands[0]
	info, err := c.target(string(req.Call), cmd.Op)
	if err != nil {
		return nil, err
	}
	if err := c.exec(info.ID, cmd); err != nil {
		return nil, err
	}
	return Result{"call_id": info.ID, "line": info.Line}, nil
}

func (c Commands) dial(ctx context.Context, target string) (Result, error) {
	if strings.HasPrefix(target, `"`) {
		t, err := strconv.Unquote(target)
		if err != nil {
			return nil, fmt.Errorf("dial: bad quoted target %s", target)
		}
		target = t
	}
	if target == "" {
		return nil, errors.New("dial: want a target (dial sip:bob@example.com)")
	}
	id, err := c.M.Dial(ctx, target, sessions.DialOptions{})
	if err != nil {
		return nil, err
	}
	info, _ := c.M.Call(id)
	return Result{"call_id": id, "line": info.Line}, nil
}

// calls returns the calls that have not ended as headless call events.
func (c Commands) calls() []json.RawMessage {
	out := []json.RawMessage{}
	now := time.Now()
	for _, info := range c.M.Calls() {
		out = append(out, headless.FormatJSON(sessions.CallEvent{Time: now, Call: info, Prev: info.State}, now))
	}
	return out
}

// target finds the call a command is for: ref (a line or a call ID), else
// the only call that could be meant — the only ringing call for answer,
// reject, forward and ignore, the only call that has not ended for the others.
func (c Commands) target(ref string, op script.Op) (sessions.CallInfo, error) {
	if ref != "" {
		id, ok := c.M.Resolve(ref)
		if !ok {
			return sessions.CallInfo{}, fmt.Errorf("no call %q (want a line of a call that has not ended, or a call ID)", ref)
		}
		info, _ := c.M.Call(id)
		return info, nil
	}
	what, calls := "call", c.M.Calls()
	if op.ForRinging() {
		what, calls = "ringing call", c.M.Pending()
	}
	switch len(calls) {
	case 0:
		return sessions.CallInfo{}, fmt.Errorf("%s: no %s", op, what)
	case 1:
		return calls[0], nil
	}
	lines := make([]string, len(calls))
	for i, ci := range calls {
		lines[i] = strconv.Itoa(ci.Line)
	}
	return sessions.CallInfo{}, fmt.Errorf("%s: %d calls (lines %s): say which with \"call\" (teaphone ctl --call LINE)",
		op, len(calls), strings.Join(lines, ", "))
}

// exec runs a script command on the call id.
func (c Commands) exec(id sessions.CallID, cmd script.Command) error {
	m := c.M
	if handled, err := script.Control(m, id, cmd); handled {
		return err
	}
	switch cmd.Op {
	case script.OpAnswer:
		return m.Accept(id)
	case script.OpPlay:
		return m.PlayFile(id, cmd.Arg)
	case script.OpRecord:
		return m.Record(id, cmd.Arg)
	case script.OpRecordStart:
		return m.SetRecording(id, true)
	case script.OpRecordStop:
		return m.StopRecording(id)
	}
	return fmt.Errorf("%s: not a control command", cmd.Op)
}
