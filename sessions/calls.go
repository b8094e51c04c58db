package sessions

import "time"

// newCallLocked mints a CallID and the lowest free line for a new call and counts it.
func (m *Manager) newCallLocked(dir Direction, t time.Time) *call {
	line := 1
	for m.lines[line] != "" {
		line++
	}
	c := &call{info: CallInfo{ID: newCallID(), Line: line, Direction: dir, CreatedAt: t}}
	m.lines[line] = c.info.ID
	m.calls[c.info.ID] = c
	m.stats.Total++
	switch dir {
	case DirectionIncoming:
		m.stats.Incoming++
	case DirectionOutgoing:
		m.stats.Outgoing++
	}
	return c
}

func (m *Manager) bindLocked(c *call, sid SessionID) {
	if old, ok := m.bySession[sid]; ok && old != c.info.ID {
		m.cfg.log.Warn("sessions: session rebound", "session", sid, "old", old, "new", c.info.ID)
	}
	c.info.SessionID = sid
	m.bySession[sid] = c.info.ID
}

// setStateLocked moves c to s, setting timestamps once and keeping the counters.
func (m *Manager) setStateLocked(c *call, s State, t time.Time, code int, reason string) {
	c.info.State = s
	switch {
	case s == StateRinging:
		setOnce(&c.info.RingingAt, t)
	case s == StateConnected:
		setOnce(&c.info.ConnectedAt, t)
		c.info.Pending = false
		c.incoming = nil
		c.stopTimer()
		if !c.countedActive {
			c.countedActive = true
			m.stats.Active++
		}
	case s.Final():
		m.endLocked(c, t, code, reason)
	}
}

// endLocked finishes a call that reached a final state. It runs once per call.
func (m *Manager) endLocked(c *call, t time.Time, code int, reason string) {
	setOnce(&c.info.EndedAt, t)
	if r := cleanText(reason, false); r != "" {
		c.info.EndReason = r
	}
	if code != 0 {
		c.info.EndCode = code
	}
	if c.countedActive {
		c.countedActive = false
		if m.stats.Active > 0 {
			m.stats.Active--
		}
	}
	switch {
	case c.info.Direction == DirectionIncoming && c.info.ConnectedAt.IsZero():
		if c.info.Declined {
			m.stats.Declined++
		} else {
			m.stats.Missed++
		}
	case c.info.Direction == DirectionOutgoing && c.info.State == StateFailed:
		m.stats.Failed++
	}
	c.info.Pending = false
	c.incoming = nil
	c.stopTimer()
	if m.lines[c.info.Line] == c.info.ID {
		delete(m.lines, c.info.Line)
	}
	m.history = append(m.history, c.info.ID)
	for len(m.history) > m.cfg.historyLimit {
		old := m.calls[m.history[0]]
		m.history[0] = ""
		m.history = m.history[1:]
		if old == nil {
			continue
		}
		delete(m.calls, old.info.ID)
		if old.info.SessionID != "" && m.bySession[old.info.SessionID] == old.info.ID {
			delete(m.bySession, old.info.SessionID)
		}
	}
}

func setOnce(p *time.Time, t time.Time) {
	if p.IsZero() {
		*p = t
	}
}
