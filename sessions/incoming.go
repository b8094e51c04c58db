package sessions

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/teaphone/teaphone/phone"
)

var _ phone.Handler = (*Manager)(nil)

// OnIncomingCall implements phone.Handler. It mints the CallID and line,
// records the call as Ringing, applies the Rules, publishes the call (with
// CallInfo.Decision saying what the rules did, so auto-answered calls are
// visible too) and returns the decision. A deferred call stays pending until
// Accept, Reject, Forward, the ring timeout or the caller's CANCEL; a
// delayed accept is a Defer plus a timer that accepts later.
func (m *Manager) OnIncomingCall(in phone.IncomingCall) phone.Decision {
	now := m.at(in.Received)
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return phone.Reject(480, "Temporarily Unavailable")
	}
	var c *call
	if id, ok := m.bySession[in.Session]; ok && in.Session != "" {
		c = m.calls[id] // asked twice about one session
	}
	if c == nil || c.info.State.Final() {
		c = m.newCallLocked(DirectionIncoming, now)
		if in.Session != "" {
			m.bindLocked(c, in.Session)
		}
	}
	prev := c.info.State
	if !c.info.State.Final() && c.info.State != StateConnected {
		c.info.State = StateRinging
	}
	setOnce(&c.info.RingingAt, now)
	setText(&c.info.Account, cleanText(in.Account, false))
	remote := in.RemoteURI
	if remote == "" {
		remote = in.From
	}
	setText(&c.info.RemoteURI, bareURI(remote))
	setText(&c.info.RemoteDisplay, displayNameFor(in.RemoteDisplay, in.RemoteURI, in.From, in.Headers))
	subject := in.Subject
	if subject == "" {
		subject = headerValue(in.Headers, "Subject", "s")
	}
	setText(&c.info.Subject, cleanText(subject, false))
	callID := in.SIPCallID
	if callID == "" {
		callID = headerValue(in.Headers, "Call-ID", "i")
	}
	setText(&c.info.SIPCallID, cleanText(callID, false))
	setText(&c.info.Codec, cleanText(in.Codec, false))
	setText(&c.info.SRTP, cleanText(in.SRTP, false))
	setText(&c.info.Transport, cleanText(in.Transport, false))
	stored := in
	c.incoming = &stored

	verdict := m.rules.Explain(CallFacts{
		From: c.info.RemoteURI, Display: c.info.RemoteDisplay, To: []string{in.To, in.RequestURI},
		Subject: c.info.Subject, Account: in.Account, Headers: incomingHeaders(in), At: now,
	})
	policy := verdict.Policy
	dec := policy.decision(m.cfg.ringTimeout)
	c.info.Decision = policy.String()
	c.info.Rule, c.info.RuleWhy = verdict.Rule, verdict.Why
	if verdict.Line > 0 {
		c.info.RuleWhy += fmt.Sprintf(" (line %d)", verdict.Line)
	}
	switch policy.Action {
	case ActionDefer, ActionIgnore:
		c.info.Pending = true
		c.info.Ignored = policy.Action == ActionIgnore
		if then := policy.Then; then != nil && policy.Action == ActionDefer {
			id, p := c.info.ID, *then
			c.timer = time.AfterFunc(policy.thenAfter(m.cfg.ringTimeout), func() { m.autoDecide(id, p) })
			c.timerIsThen = true
		}
	case ActionAccept:
		if policy.Delay > 0 {
			c.info.Pending = true
			id := c.info.ID
			c.timer = time.AfterFunc(policy.Delay, func() { m.autoDecide(id, Policy{Action: ActionAccept}) })
		}
	case ActionReject, ActionForward:
		c.info.Declined = true
	}
	// Commands for the call wait until the phone has the decision.
	ready := make(chan struct{})
	c.ready = ready
	m.publishCallLocked(c, prev, now)
	m.mu.Unlock()

	defer func() {
		m.mu.Lock()
		c.ready = nil
		close(ready)
		m.mu.Unlock()
	}()
	return dec
}

// setText stores v in *p unless v is empty.
func setText(p *string, v string) {
	if v != "" {
		*p = v
	}
}

// incomingHeaders are the headers rules match on: every header of the
// INVITE, else (a handler test's IncomingCall) the selected ones.
func incomingHeaders(in phone.IncomingCall) []phone.Header {
	if len(in.AllHeaders) > 0 {
		return in.AllHeaders
	}
	names := slices.Sorted(maps.Keys(in.Headers))
	out := make([]phone.Header, 0, len(names))
	for _, n := range names {
		out = append(out, phone.Header{Name: n, Value: in.Headers[n]})
	}
	return out
}

// autoDecide runs on the timer of a delayed accept, or of a defer whose
// timeout passed: it carries out p (accept, reject or forward). A defer's
// then-action is not a decision of the person: nobody answered, so the
// call counts as missed (as a phone that sends an unanswered call to
// voicemail shows it), and its Decision says "no answer: …".
func (m *Manager) autoDecide(id CallID, p Policy) {
	m.mu.Lock()
	c := m.calls[id]
	if m.closed || c == nil || c.timer == nil {
		m.mu.Unlock()
		return // closed, or a person decided first
	}
	c.timer = nil
	m.wg.Add(1)
	m.mu.Unlock()
	defer m.wg.Done()
	var err error
	switch p.Action {
	case ActionAccept:
		err = m.decide("accept", id, func(ph Phone, sid SessionID) error { return ph.Accept(sid) }, nil)
	case ActionReject:
		code, reason := p.code(), p.Reason
		err = m.decide("reject", id, func(ph Phone, sid SessionID) error { return ph.Reject(sid, code, reason) },
			func(c *call) { c.info.Decision = fmt.Sprintf("no answer: rejected %d", code) })
	case ActionForward:
		t, _ := NormalizeTarget(p.Target)
		err = m.decide("forward", id, func(ph Phone, sid SessionID) error { return ph.Forward(sid, t) },
			func(c *call) { c.info.Decision = "no answer: forwarded " + t })
	}
	if err != nil {
		m.publishError(id, err)
	}
}

// decide sends a decision about a pending call to the phone. mark records
// the decision on the call before the phone is asked (the phone's final
// event may come before send returns); it is undone if send fails.
func (m *Manager) decide(op string, id CallID, send func(Phone, SessionID) error, mark func(*call)) error {
	r, err := m.resolve(op, id, false)
	if err != nil {
		return err
	}
	m.mu.Lock()
	c := m.calls[id]
	if c == nil || !c.info.Pending || c.deciding {
		m.mu.Unlock()
		return opError(op, r.label, ErrNotPending)
	}
	c.deciding = true
	c.stopTimer()
	savedDecision, savedDeclined := c.info.Decision, c.info.Declined
	if mark != nil {
		mark(c)
	}
	m.mu.Unlock()

	err = send(r.ph, r.sid)

	m.mu.Lock()
	defer m.mu.Unlock()
	c.deciding = false
	if err != nil {
		if !c.info.State.Final() {
			c.info.Decision, c.info.Declined = savedDecision, savedDeclined
		}
		return opError(op, r.label, err)
	}
	if c.info.State.Final() || !c.info.Pending {
		return nil // it ended (or connected) while we asked
	}
	c.info.Pending = false
	c.info.Ignored = false
	m.publishCallLocked(c, c.info.State, m.cfg.now())
	return nil
}

// labelOf returns the line of id for error messages, or id itself.
func (m *Manager) labelOf(id CallID) string {
	if c, ok := m.Call(id); ok {
		return strconv.Itoa(c.Line)
	}
	return string(id)
}

// Accept answers a pending incoming call. The call becomes Connected when the
// phone reports it.
func (m *Manager) Accept(id CallID) error {
	err := m.decide("accept", id,
		func(ph Phone, sid SessionID) error { return ph.Accept(sid) },
		func(c *call) { c.info.Decision = "accepted" })
	if err != nil {
		return err
	}
	// The other calls go on hold once the answer is under way, never for
	// an answer that was refused.
	m.holdOthers(id)
	return nil
}

// Reject refuses a pending incoming call with code (0 = 486 Busy Here;
// 400-699) and an optional reason phrase.
func (m *Manager) Reject(id CallID, code int, reason string) error {
	if code == 0 {
		code = 486
	}
	if code < 400 || code > 699 {
		return opError("reject", m.labelOf(id), fmt.Errorf("%w %d (want 400-699)", ErrInvalidCode, code))
	}
	if err := checkText("reason", reason); err != nil {
		return opError("reject", m.labelOf(id), err)
	}
	return m.decide("reject", id,
		func(ph Phone, sid SessionID) error { return ph.Reject(sid, code, reason) },
		func(c *call) {
			c.info.Declined = true
			c.info.Decision = fmt.Sprintf("rejected %d", code)
		})
}

// Forward redirects a pending incoming call to target (302 Moved Temporarily).
func (m *Manager) Forward(id CallID, target string) error {
	t, err := NormalizeTarget(target)
	if err != nil {
		return opError("forward", m.labelOf(id), err)
	}
	return m.decide("forward", id,
		func(ph Phone, sid SessionID) error { return ph.Forward(sid, t) },
		func(c *call) {
			c.info.Declined = true
			c.info.Decision = "forwarded " + t
		})
}

// Ignore stops prompting for a pending incoming call: it keeps ringing at the
// caller until they give up or the ring timeout refuses it (or the
// then-action of the rule that deferred it is carried out), and it still
// counts as missed. It stays in Pending (with Ignored set), so a person can
// still Accept it.
func (m *Manager) Ignore(id CallID) error {
	r, err := m.resolve("ignore", id, false)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.calls[id]
	if c == nil || !c.info.Pending || c.deciding {
		return opError("ignore", r.label, ErrNotPending)
	}
	if !c.timerIsThen { // a defer's then-action (voicemail …) still happens
		c.stopTimer()
	}
	if !c.info.Ignored {
		c.info.Ignored = true
		c.info.Decision = "ignored"
		m.publishCallLocked(c, c.info.State, m.cfg.now())
	}
	return nil
}
