package sessions

import (
	"slices"

	"github.com/teaphone/teaphone/phone"
)

// This file turns session-core events into CallInfo updates and client
// events. Everything here runs with Manager.mu held, on the pump goroutine
// or on a command that binds a session.

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
	// Unknown session: keep it while a Dial or an OnIncomingCall that may
	// own it is in flight, else adopt it as a call the session core made.
	if _, ok := m.orphans[sid]; ok || m.shouldWaitLocked(ev) {
		if !ok {
			m.orphanOrder = append(m.orphanOrder, sid)
		}
		m.orphans[sid] = append(m.orphans[sid], ev)
		return
	}
	m.adoptLocked(sid, []phone.Event{ev})
}

// shouldWaitLocked reports whether an event of an unknown session may still
// be claimed by a command in flight.
func (m *Manager) shouldWaitLocked(ev phone.Event) bool {
	if ce, ok := ev.(phone.CallEvent); ok {
		switch ce.Direction {
		case phone.DirectionIncoming:
			return m.handlersInFlight > 0
		case phone.DirectionOutgoing:
			return m.dialsInFlight > 0
		}
	}
	return m.handlersInFlight+m.dialsInFlight > 0
}

// flushOrphansLocked applies the events kept for sid to c, in order.
func (m *Manager) flushOrphansLocked(sid SessionID, c *call) {
	evs, ok := m.orphans[sid]
	if !ok {
		return
	}
	delete(m.orphans, sid)
	m.dropOrphanOrderLocked(sid)
	for _, ev := range evs {
		m.applyLocked(c, ev)
	}
}

func (m *Manager) dropOrphanOrderLocked(sid SessionID) {
	if i := slices.Index(m.orphanOrder, sid); i >= 0 {
		m.orphanOrder = slices.Delete(m.orphanOrder, i, i+1)
	}
}

// adoptWaitingLocked adopts the kept sessions nobody can claim any more.
func (m *Manager) adoptWaitingLocked() {
	for _, sid := range slices.Clone(m.orphanOrder) {
		evs, ok := m.orphans[sid]
		if !ok || m.shouldWaitLocked(evs[0]) {
			continue
		}
		delete(m.orphans, sid)
		m.dropOrphanOrderLocked(sid)
		m.adoptLocked(sid, evs)
	}
}

// adoptLocked creates a call for a session the session core started itself
// (a transfer it executes, an INVITE it handled without asking us) and
// applies its events. Events of a session with no call event are dropped.
func (m *Manager) adoptLocked(sid SessionID, evs []phone.Event) {
	var first *phone.CallEvent
	for _, ev := range evs {
		if ce, ok := ev.(phone.CallEvent); ok {
			first = &ce
			break
		}
	}
	if first == nil {
		for _, ev := range evs {
			if e, ok := ev.(phone.ErrorEvent); ok {
				m.publishLocked(ErrorEvent{Time: m.at(e.Time), Err: e.Err})
			}
		}
		m.cfg.log.Debug("sessions: events of unknown session dropped", "session", sid, "n", len(evs))
		return
	}
	c := m.newCallLocked(mapDirection(first.Direction), m.at(first.Time))
	m.bindLocked(c, sid)
	// The phone reports an incoming call ringing just before it asks
	// OnIncomingCall, which announces the call with its decision: do not
	// announce it twice.
	quiet := first.Direction == phone.DirectionIncoming && MapState(first.State) == StateRinging
	for i, ev := range evs {
		c.quiet = quiet && i == 0
		m.applyLocked(c, ev)
	}
	c.quiet = false
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
		a.Muted != b.Muted || a.Recording != b.Recording || a.Codec != b.Codec ||
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
			m.flushOrphansLocked(e.NewSession, nc)
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
		Updated: t,
	}
	m.regs[e.Account] = r
	m.publishLocked(RegistrationEvent{
		Time: t, Account: r.Account, State: r.State, Expires: r.Expires, Code: r.Code, Reason: r.Reason,
	})
}
