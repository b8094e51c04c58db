package sessions

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/teaphone/teaphone/internal/sipaddr"
)

// opError formats command errors as "hold call 2: …" (label is the line, or
// the CallID when the call is unknown).
func opError(op, label string, err error) error {
	return fmt.Errorf("%s call %s: %w", op, label, err)
}

func errEndedIn(s State) error { return fmt.Errorf("%w (%s)", ErrCallEnded, s) }

// resolved is a call looked up for a command.
type resolved struct {
	ph    Phone
	sid   SessionID
	label string
}

// resolve finds the session of id for op. It waits while OnIncomingCall for
// the call is still running, so a command never reaches the phone before
// the phone knows what was decided. allowDialing accepts an outgoing call
// whose dial is in flight instead of refusing it with ErrNotReady.
func (m *Manager) resolve(op string, id CallID, allowDialing bool) (resolved, error) {
	for {
		m.mu.RLock()
		c, ok := m.calls[id]
		if !ok {
			m.mu.RUnlock()
			return resolved{}, opError(op, string(id), ErrNoSuchCall)
		}
		r := resolved{ph: m.ph, sid: c.info.SessionID, label: strconv.Itoa(c.info.Line)}
		state, ready, closed, dialing := c.info.State, c.ready, m.closed, c.dialing
		m.mu.RUnlock()
		switch {
		case closed:
			return r, opError(op, r.label, ErrClosed)
		case r.ph == nil:
			return r, opError(op, r.label, ErrNotStarted)
		case state.Final():
			return r, opError(op, r.label, errEndedIn(state))
		}
		if ready != nil {
			select {
			case <-ready:
				continue
			case <-m.stop:
				return r, opError(op, r.label, ErrClosed)
			}
		}
		if (dialing || r.sid == "") && !allowDialing {
			return r, opError(op, r.label, ErrNotReady)
		}
		return r, nil
	}
}

// do runs a phone command on the session of id.
func (m *Manager) do(op string, id CallID, fn func(ph Phone, sid SessionID) error) error {
	r, err := m.resolve(op, id, false)
	if err != nil {
		return err
	}
	if err := fn(r.ph, r.sid); err != nil {
		return opError(op, r.label, err)
	}
	return nil
}

// Dial places a call to target (a SIP URI, a user of the account's domain,
// or a pasted name-addr; see NormalizeTarget) and returns its CallID at once;
// the call is published in StateInitiating before the phone is asked, and
// its progress arrives as CallEvents. The phone's session is named after the
// CallID before the phone is asked, so its first event finds the call. If
// the phone refuses the dial, the call ends in StateFailed (it stays in
// History) and the error is returned. With WithAutoHold, the connected
// calls go on hold once the phone has taken the dial, never for a refused
// one.
func (m *Manager) Dial(ctx context.Context, target string, opts DialOptions) (CallID, error) {
	t, err := NormalizeTarget(target)
	if err != nil {
		return "", fmt.Errorf("dial: %w", err)
	}
	if err := errors.Join(checkText("subject", opts.Subject), checkText("account", opts.Account)); err != nil {
		return "", fmt.Errorf("dial %s: %w", t, err)
	}
	for k, v := range opts.Headers {
		if err := errors.Join(checkText("header name", k), checkText(fmt.Sprintf("header %q", k), v)); err != nil {
			return "", fmt.Errorf("dial %s: %w", t, err)
		}
	}
	m.mu.Lock()
	switch {
	case m.closed:
		err = ErrClosed
	case m.ph == nil:
		err = ErrNotStarted
	}
	if err != nil {
		m.mu.Unlock()
		return "", fmt.Errorf("dial %s: %w", t, err)
	}
	ph := m.ph
	now := m.cfg.now()
	c := m.newCallLocked(DirectionOutgoing, now)
	id := c.info.ID
	c.info.State = StateInitiating
	c.info.RemoteURI = t
	c.info.Account = opts.Account
	c.info.Subject = cleanText(opts.Subject, false)
	c.dialing = true
	opts.Session = SessionID(id)
	m.bindLocked(c, opts.Session)
	m.publishCallLocked(c, StateUnknown, now)
	m.mu.Unlock()

	sid, err := ph.Dial(ctx, t, opts)

	m.mu.Lock()
	c.dialing = false
	if err != nil {
		if !c.info.State.Final() {
			prev := c.info.State
			now := m.cfg.now()
			m.setStateLocked(c, StateFailed, now, 0, err.Error())
			m.publishCallLocked(c, prev, now)
		}
		m.mu.Unlock()
		return "", fmt.Errorf("dial %s: %w", t, err)
	}
	if sid != opts.Session {
		m.bindLocked(c, sid) // a phone that names sessions itself
	}
	hangup := c.hangupRequested && !c.info.State.Final()
	line := c.info.Line
	m.mu.Unlock()
	if hangup {
		if err := ph.Hangup(sid); err != nil {
			m.publishError(id, opError("hangup", strconv.Itoa(line), err))
		}
		return id, nil
	}
	m.holdOthers(id)
	return id, nil
}

func (m *Manager) publishError(id CallID, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.publishLocked(ErrorEvent{Time: m.cfg.now(), CallID: id, Err: err})
}

// Hangup ends a call whatever its state: CANCEL while ringing out, a
// rejection (603) for a pending incoming call (counted as declined, not
// missed), BYE once connected. Hanging up a call whose dial is still in
// flight ends it as soon as the dial returns.
func (m *Manager) Hangup(id CallID) error {
	r, err := m.resolve("hangup", id, true)
	if err != nil {
		return err
	}
	m.mu.Lock()
	c := m.calls[id]
	if c == nil {
		m.mu.Unlock()
		return opError("hangup", r.label, ErrNoSuchCall)
	}
	if c.dialing {
		c.hangupRequested = true
		m.mu.Unlock()
		return nil
	}
	r.sid = c.info.SessionID
	savedDeclined := c.info.Declined
	if c.info.Direction == DirectionIncoming && c.info.ConnectedAt.IsZero() {
		c.info.Declined = true // the phone's final event may come before we return
	}
	m.mu.Unlock()
	if err := r.ph.Hangup(r.sid); err != nil {
		m.mu.Lock()
		if !c.info.State.Final() {
			c.info.Declined = savedDeclined
		}
		m.mu.Unlock()
		return opError("hangup", r.label, err)
	}
	return nil
}

// HangupAll hangs up every call that has not ended (Ctrl-C). Calls that end
// on their own meanwhile are not errors.
func (m *Manager) HangupAll() error {
	var errs []error
	for _, c := range m.Calls() {
		if err := m.Hangup(c.ID); err != nil && !errors.Is(err, ErrCallEnded) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Hold puts the call on hold (re-INVITE sendonly). HeldLocal follows in a CallEvent.
func (m *Manager) Hold(id CallID) error {
	return m.do("hold", id, func(ph Phone, sid SessionID) error { return ph.Hold(sid) })
}

// Resume takes the call off hold.
func (m *Manager) Resume(id CallID) error {
	return m.do("resume", id, func(ph Phone, sid SessionID) error { return ph.Resume(sid) })
}

// Mute stops sending our audio on the call. Muted follows in a CallEvent.
func (m *Manager) Mute(id CallID) error {
	return m.do("mute", id, func(ph Phone, sid SessionID) error { return ph.Mute(sid, true) })
}

// Unmute sends our audio again.
func (m *Manager) Unmute(id CallID) error {
	return m.do("unmute", id, func(ph Phone, sid SessionID) error { return ph.Mute(sid, false) })
}

// SendDTMF sends digits (0-9 * # A-D, case-insensitive) on the call.
func (m *Manager) SendDTMF(id CallID, digits string) error {
	return m.do("dtmf", id, func(ph Phone, sid SessionID) error {
		d, err := sipaddr.ParseDTMF(digits)
		if err != nil {
			return err
		}
		return ph.SendDTMF(sid, d)
	})
}

// Transfer asks the remote party to call target instead (blind transfer, REFER).
// Progress arrives as TransferEvents.
func (m *Manager) Transfer(id CallID, target string) error {
	return m.do("transfer", id, func(ph Phone, sid SessionID) error {
		t, err := NormalizeTarget(target)
		if err != nil {
			return err
		}
		return ph.Transfer(sid, t)
	})
}

// AttendedTransfer connects the remote party of id to the remote party of
// consult (REFER with Replaces, RFC 3891); both calls then end.
func (m *Manager) AttendedTransfer(id, consult CallID) error {
	cr, err := m.resolve("transfer to", consult, false)
	if err != nil {
		return err
	}
	return m.do("transfer", id, func(ph Phone, sid SessionID) error {
		if sid == cr.sid {
			return errors.New("cannot transfer a call to itself")
		}
		if err := ph.AttendedTransfer(sid, cr.sid); err != nil {
			return fmt.Errorf("to call %s: %w", cr.label, err)
		}
		return nil
	})
}

// AnswerTransfer accepts or refuses the transfer the remote party of the
// call asked for (a TransferEvent with Transfer.Asking set). The outcome
// arrives as TransferEvents.
func (m *Manager) AnswerTransfer(id CallID, accept bool) error {
	op := "refuse transfer"
	if accept {
		op = "accept transfer"
	}
	return m.do(op, id, func(ph Phone, sid SessionID) error { return ph.AnswerTransfer(sid, accept) })
}

// setRecordingFlag records whether the call is being recorded and publishes
// a CallEvent when it changes.
func (m *Manager) setRecordingFlag(id CallID, on bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.calls[id]
	if !ok {
		return opError("record", string(id), ErrNoSuchCall)
	}
	if c.info.State.Final() {
		return opError("record", strconv.Itoa(c.info.Line), errEndedIn(c.info.State))
	}
	if c.info.Recording != on {
		prev := c.info.State
		c.info.Recording = on
		m.publishCallLocked(c, prev, m.cfg.now())
	}
	return nil
}
