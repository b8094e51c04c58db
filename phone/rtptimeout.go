package phone

import (
	"errors"
	"time"

	"github.com/teaphone/teaphone/phone/sdp"
)

// The RTP timeout (Options.RTPTimeout, as baresip's rtp_timeout): a
// connected call that should receive audio and has received none for that
// long has lost its far end (a NAT binding gone, a peer that crashed
// without BYE), and is ended with BYE.

// errNoMedia is the cause of a call's context when the RTP timeout ends it.
var errNoMedia = errors.New("no media")

// rtpExpected reports whether a call should be receiving RTP: answered,
// held by neither side, and its media says the remote sends to us.
func rtpExpected(st State, heldLocal, heldRemote, mediaRecv bool) bool {
	return st == StateActive && !heldLocal && !heldRemote && mediaRecv
}

// rtpSilent reports whether a call that has expected RTP since since, and
// last received some at last (zero: never), has had none for timeout at now.
func rtpSilent(now, last, since time.Time, timeout time.Duration) bool {
	if last.Before(since) {
		last = since
	}
	return now.Sub(last) >= timeout
}

// rtpStatus returns when RTP from the remote last arrived (zero: never)
// and whether the media expects some: a stream runs, we are not holding,
// and the remote's description sends to us at an address.
func (m *mediaState) rtpStatus() (last time.Time, recv bool) {
	m.mu.Lock()
	st := m.stream
	recv = st != nil && m.localDir == sdp.SendRecv && m.remote.Direction.Sends() && m.remote.Port != 0 && !m.remote.HoldC0
	m.mu.Unlock()
	if st == nil {
		return time.Time{}, false
	}
	return st.Stats().LastRTP, recv
}

// watchRTP checks every call a few times per timeout until the phone
// closes, and ends those silent for timeout. Start spawns it.
func (p *Phone) watchRTP(timeout time.Duration) {
	period := min(max(timeout/5, 20*time.Millisecond), 5*time.Second)
	tk := time.NewTicker(period)
	defer tk.Stop()
	since := map[SessionID]time.Time{} // when each call began to expect RTP
	for {
		select {
		case <-p.ctx.Done():
			return
		case now := <-tk.C:
			p.checkRTP(now, timeout, since)
		}
	}
}

func (p *Phone) checkRTP(now time.Time, timeout time.Duration, since map[SessionID]time.Time) {
	p.mu.Lock()
	calls := make([]*call, 0, len(p.calls))
	for _, c := range p.calls {
		calls = append(calls, c)
	}
	p.mu.Unlock()
	live := make(map[SessionID]bool, len(calls))
	for _, c := range calls {
		live[c.id] = true
		last, recv := c.media.rtpStatus()
		c.mu.Lock()
		expected := rtpExpected(c.state, c.heldLocal, c.heldRemote, recv)
		c.mu.Unlock()
		if !expected {
			delete(since, c.id)
			continue
		}
		s, ok := since[c.id]
		if !ok {
			since[c.id], s = now, now
		}
		if rtpSilent(now, last, s, timeout) {
			delete(since, c.id)
			p.log.Info("no RTP: hanging up", "session", c.id, "timeout", timeout, "last_rtp", last)
			p.spawn(c.endNoMedia)
		}
	}
	for id := range since {
		if !live[id] {
			delete(since, id)
		}
	}
}

// endNoMedia ends an answered call with BYE, reason "no media".
func (c *call) endNoMedia() {
	if c.getState() != StateActive {
		return // ended, held or transferring meanwhile
	}
	c.cancel(errNoMedia)
	c.bye(200, "no media", "no media")
}
