package sessions

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"strconv"
)

// snapshotsLocked returns the calls accepted by keep, sorted by line.
func (m *Manager) snapshotsLocked(keep func(*call) bool) []CallInfo {
	var out []CallInfo
	for _, c := range m.calls {
		if keep(c) {
			out = append(out, c.info)
		}
	}
	slices.SortFunc(out, func(a, b CallInfo) int { return cmp.Compare(a.Line, b.Line) })
	return out
}

// Calls returns the calls that have not ended (pending incoming calls
// included), sorted by line.
func (m *Manager) Calls() []CallInfo {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.snapshotsLocked(func(c *call) bool { return !c.info.State.Final() })
}

// Pending returns the incoming calls awaiting a decision, sorted by line.
func (m *Manager) Pending() []CallInfo {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.snapshotsLocked(func(c *call) bool { return c.info.Pending })
}

// Call returns a snapshot of the call, which may have ended (while it is in History).
func (m *Manager) Call(id CallID) (CallInfo, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if c, ok := m.calls[id]; ok {
		return c.info, true
	}
	return CallInfo{}, false
}

// CallByLine returns the call that has not ended and holds line.
func (m *Manager) CallByLine(line int) (CallInfo, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if c, ok := m.calls[m.lines[line]]; ok {
		return c.info, true
	}
	return CallInfo{}, false
}

// Resolve turns what a person or script typed into a CallID: a line number
// of a call that has not ended ("2") or a CallID.
func (m *Manager) Resolve(ref string) (CallID, bool) {
	if line, err := strconv.Atoi(ref); err == nil {
		c, ok := m.CallByLine(line)
		return c.ID, ok
	}
	c, ok := m.Call(CallID(ref))
	return c.ID, ok
}

// History returns the ended calls still kept (see WithHistoryLimit), oldest first.
func (m *Manager) History() []CallInfo {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]CallInfo, 0, len(m.history))
	for _, id := range m.history {
		if c, ok := m.calls[id]; ok {
			out = append(out, c.info)
		}
	}
	return out
}

// Incoming returns the full description (headers, SDP) of an incoming call
// still awaiting a decision or an answer.
func (m *Manager) Incoming(id CallID) (IncomingCall, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	c, ok := m.calls[id]
	if !ok || c.incoming == nil {
		return IncomingCall{}, false
	}
	in := *c.incoming
	in.Headers = maps.Clone(in.Headers)
	in.AllHeaders = slices.Clone(in.AllHeaders)
	in.SDP = slices.Clone(in.SDP)
	return in, true
}

// Registrations returns the latest registration state of each account, by name.
func (m *Manager) Registrations() []RegistrationInfo {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]RegistrationInfo, 0, len(m.regs))
	for _, r := range m.regs {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b RegistrationInfo) int { return cmp.Compare(a.Account, b.Account) })
	return out
}

// Stats returns a snapshot of the counters.
func (m *Manager) Stats() Stats {
	m.mu.RLock()
	defer m.mu.RUnlock()
	s := m.stats
	for _, c := range m.calls {
		if c.info.Pending {
			s.Pending++
		}
	}
	return s
}

// SetRules replaces the rules applied to new incoming calls.
func (m *Manager) SetRules(r Rules) error {
	if err := r.Validate(); err != nil {
		return err
	}
	r.Rules = slices.Clone(r.Rules)
	m.mu.Lock()
	m.rules = r
	m.mu.Unlock()
	return nil
}

// Rules returns the rules in force.
func (m *Manager) Rules() Rules {
	m.mu.RLock()
	defer m.mu.RUnlock()
	r := m.rules
	r.Rules = slices.Clone(r.Rules)
	return r
}

// WaitState waits until the call is in one of states and returns its
// snapshot. It fails with ErrCallEnded if the call ends in another state,
// and with ctx's error on timeout — handy for scripts ("expect state
// connected within 5s").
func (m *Manager) WaitState(ctx context.Context, id CallID, states ...State) (CallInfo, error) {
	sub := m.Subscribe()
	defer sub.Close()
	info, ok := m.Call(id)
	if !ok {
		return CallInfo{}, opError("wait for", string(id), ErrNoSuchCall)
	}
	for {
		if slices.Contains(states, info.State) {
			return info, nil
		}
		if info.State.Final() {
			return info, opError("wait for", strconv.Itoa(info.Line), errEndedIn(info.State))
		}
		select {
		case <-ctx.Done():
			return info, opError("wait for", strconv.Itoa(info.Line), ctx.Err())
		case ev, ok := <-sub.C():
			if !ok {
				return info, opError("wait for", strconv.Itoa(info.Line), ErrClosed)
			}
			if ce, ok := ev.(CallEvent); ok && ce.Call.ID == id {
				info = ce.Call
			}
		}
	}
}
