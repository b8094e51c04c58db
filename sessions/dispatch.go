package sessions

import (
	"github.com/teaphone/teaphone/phone"
)

// This file turns session-core events into CallInfo updates and client
// events. Everything here runs with Manager.mu held, on the pump goroutine.

func sessionOf(ev phone.Event) SessionID {
	switch e := ev.(type) {
	case phone.CallEvent:
		return e.Session
	case phone.DTMFEvent:
		return e.Session
	case phone.MediaEvent:
		return e.Session
	case phone.TransferEvent:
		return e.Session
	case phone.ErrorEvent:
		return e.Session
	}
	return ""
}

// dispatchLocked routes one session-core event.
func (m *Manager) dispatchLocked(ev phone.Event) {
	switch e := ev.(type) {
	case phone.RegistrationEvent:
		m.registrationLocked(e)
		return
	case phone.MWIEvent:
		m.publishLocked(MWIEvent{
			Time: m.at(e.Time), Account: e.Account, Waiting: e.Waiting,
			New: e.New, Old: e.Old, UrgentNew: e.UrgentNew, UrgentOld: e.UrgentOld,
			MessageAccount: cleanText(e.MessageAccount, false),
		})
		return
	case phone.ErrorEvent:
		if e.Session == "" {
			m.publishLocked(ErrorEvent{Time: m.at(e.Time), Err: e.Err})
			return
		}
	}
	sid := sessionOf(ev)
	if sid == "" {
		m.cfg.log.Debug("sessions: event without session dropped", "event", ev)
		return
	}
	if id, ok := m.bySession[sid]; ok {
		if c := m.calls[id]; c != nil {
			m.applyLocked(c, ev)
			return
		}
	}
	// Dial binds its session before the phone is asked, and the phone asks
	// OnIncomingCall before it reports a call: a session still unknown is
	// one the session core made itself (a transfer it executes, an INVITE
	// with Replaces it answered without asking).
	m.adoptLocked(sid, ev)
}

// adoptLocked creates a call for a session the session core started itself
// and applies its first event. Other events of an unknown session are
// dropped (errors are published).
func (m *Manager) adoptLocked(sid SessionID, ev phone.Event) {
	first, ok := ev.(phone.CallEvent)
	if !ok {
		if e, ok := ev.(phone.ErrorEvent); ok {
			m.publishLocked(ErrorEvent{Time: m.at(e.Time), Err: e.Err})
		}
		m.cfg.log.Debug("sessions: event of unknown session dropped", "session", sid)
		return
	}
	c := m.newCallLocked(mapDirection(first.Direction), m.at(first.Time))
	m.bindLocked(c, sid)
	m.applyLocked(c, ev)
}

// applyLocked applies one event of c's session.
func (m *Manager) applyLocked(c *call, ev phone.Event) {
	switch e := ev.(type) {
	case phone.CallEvent:
		m.applyCallLocked(c, e)
	case phone.DTMFEvent:
		m.publishLocked(DTMFEvent{
			Time: m.at(e.Time), CallID: c.info.ID, Line: c.info.Line,
			Digit: string(e.Digit), Received: e.Received, Method: e.Method,
		})
	case phone.MediaEvent:
		c.info.Stats = e.Stats
		if c.info.Codec == "" {
			c.info.Codec = cleanText(e.Stats.Codec, false)
		}
		m.publishLocked(MediaEvent{Time: m.at(e.Time), CallID: c.info.ID, Line: c.info.Line, Stats: e.Stats})
	case phone.TransferEvent:
		m.applyTransferLocked(c, e)
	case phone.ErrorEvent:
		m.publishLocked(ErrorEvent{Time: m.at(e.Time), CallID: c.info.ID, Err: e.Err})
	}
}

// applyCallLocked merges a session-core CallEvent into c and publishes a
// CallEvent when something a person sees changed.
func (m *Manager) applyCallLocked(c *call, e phone.CallEvent) {
	if c.info.State.Final() {
		// A final state is final; late events may only fill in the cause.
		if c.info.EndReason == "" {
			c.info.EndReason = cleanText(e.Reason, false)
		}
		if c.info.EndCode == 0 {
			c.info.EndCode = e.Code
		}
		return
	}
	before := c.info
	t := m.at(e.Time)
	if c.info.Direction == "" {
		c.info.Direction = mapDirection(e.Direction)
	}
	if e.Account != "" {
		c.info.Account = cleanText(e.Account, false)
	}
	if e.RemoteURI != "" {
		c.info.RemoteURI = bareURI(e.RemoteURI)
	}
	if d := cleanText(e.RemoteDisplay, false); d != "" {
		c.info.RemoteDisplay = d
	} else if c.info.RemoteDisplay == "" {
		c.info.RemoteDisplay, _ = ParseDisplayName(e.RemoteURI)
	}
	if s := cleanText(e.Subject, false); s != "" {
		c.info.Subject = s
	}
	if s := cleanText(e.SIPCallID, false); s != "" {
		c.info.SIPCallID = s
	}
	if s := cleanText(e.Codec, false); s != "" {
		c.info.Codec = s
	}
	if e.State == phone.StateActive || e.SRTP != "" {
		// A re-INVITE may turn SRTP on or off; an ending call keeps it.
		c.info.SRTP = cleanText(e.SRTP, false)
	}
	if s := cleanText(e.Transport, false); s != "" {
		c.info.Transport = s
	}
	c.info.HeldLocal, c.info.HeldRemote, c.info.Muted = e.HeldLocal, e.HeldRemote, e.Muted
	if e.ReplacedBy != "" {
		if id, ok := m.bySession[e.ReplacedBy]; ok {
			c.info.ReplacedBy = id
		}
	}
	if s := MapState(e.State); s != StateUnknown {
		m.setStateLocked(c, s, t, e.Code, e.Reason)
	}
	if visibleChange(before, c.info) {
		m.publishCallLocked(c, before.State, t)
	}
}

// visibleChange reports whether a CallEvent is due between two snapshots.
func visibleChange(a, b CallInfo) bool {
	return a.State != b.State || a.HeldLocal != b.HeldLocal || a.HeldRemote != b.HeldRemote ||
		a.Muted != b.Muted || a.Recording != b.Recording || a.Codec != b.Codec || a.SRTP != b.SRTP ||
		a.Transport != b.Transport ||
		a.Pending != b.Pending || a.Ignored != b.Ignored || a.ReplacedBy != b.ReplacedBy
}

func (m *Manager) applyTransferLocked(c *call, e phone.TransferEvent) {
	t := m.at(e.Time)
	ti := TransferInfo{
		Target:   cleanText(e.Target, false),
		Outgoing: e.Outgoing,
		Code:     e.Code,
		Reason:   cleanText(e.Reason, false),
		Final:    e.Final,
		Asking:   e.Asking,
		Deadline: e.Deadline,
	}
	if e.NewSession != "" {
		if id, ok := m.bySession[e.NewSession]; ok {
			ti.NewCallID = id
			if nc := m.calls[id]; nc != nil && nc.info.TransferredFrom == "" {
				nc.info.TransferredFrom = c.info.ID
			}
		} else {
			nc := m.newCallLocked(DirectionOutgoing, t)
			nc.info.State = StateInitiating
			nc.info.RemoteURI = bareURI(e.Target)
			nc.info.TransferredFrom = c.info.ID
			m.bindLocked(nc, e.NewSession)
			m.publishCallLocked(nc, StateUnknown, t)
			ti.NewCallID = nc.info.ID
		}
	}
	c.info.Transfer = ti
	m.publishLocked(TransferEvent{Time: t, CallID: c.info.ID, Line: c.info.Line, Transfer: ti})
}

func (m *Manager) registrationLocked(e phone.RegistrationEvent) {
	t := m.at(e.Time)
	r := RegistrationInfo{
		Account: e.Account,
		State:   e.State,
		Expires: e.Expires,
		Code:    e.Code,
		Reason:  cleanText(e.Reason, false),
		Server:  cleanText(e.Server, false),
		Updated: t,
		// A lab's tls.verify = false, shown as loudly as a failure.
		TLSUnverified: e.TLSUnverified,
	}
	if e.Public.IsValid() {
		r.Public = e.Public.String()
	}
	m.regs[e.Account] = r
	m.publishLocked(RegistrationEvent{
		Time: t, Account: r.Account, State: r.State, Expires: r.Expires, Code: r.Code, Reason: r.Reason, Server: r.Server,
		Public: r.Public, TLSUnverified: r.TLSUnverified,
	})
}
