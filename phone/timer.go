package phone

import (
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Session timers (RFC 4028). A call whose INVITE exchange agreed on a
// Session-Expires interval is refreshed by a re-INVITE from the refresher
// every half interval; the other side ends it with BYE when no refresh came
// before the interval ran out (less min(32 s, interval/3), §10).

// defaultMinSE is the smallest interval we accept (RFC 4028 §5: 90 s).
const defaultMinSE = 90 * time.Second

// sessionExpires is a parsed Session-Expires header (RFC 4028 §4):
// "delta-seconds [;refresher=uac|uas]".
type sessionExpires struct {
	interval  time.Duration
	refresher string // "uac", "uas" or "" when absent
}

// parseSessionExpires reads a Session-Expires value; ok is false for a
// value that is not a positive number of seconds or names another refresher.
func parseSessionExpires(v string) (sessionExpires, bool) {
	parts := strings.Split(v, ";")
	secs, err := strconv.ParseUint(strings.TrimSpace(parts[0]), 10, 32)
	if err != nil || secs == 0 {
		return sessionExpires{}, false
	}
	se := sessionExpires{interval: time.Duration(secs) * time.Second}
	for _, p := range parts[1:] {
		k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		if !strings.EqualFold(strings.TrimSpace(k), "refresher") {
			continue
		}
		switch r := strings.ToLower(strings.TrimSpace(val)); r {
		case "uac", "uas":
			se.refresher = r
		default:
			return sessionExpires{}, false
		}
	}
	return se, true
}

func (se sessionExpires) String() string {
	s := strconv.Itoa(int(se.interval / time.Second))
	if se.refresher != "" {
		s += ";refresher=" + se.refresher
	}
	return s
}

// sessionExpiresOf returns m's Session-Expires (or its compact form x).
func sessionExpiresOf(m interface{ GetHeader(string) sip.Header }) (sessionExpires, bool, bool) {
	h := m.GetHeader("Session-Expires")
	if h == nil {
		h = m.GetHeader("x")
	}
	if h == nil {
		return sessionExpires{}, false, true
	}
	se, ok := parseSessionExpires(h.Value())
	return se, true, ok
}

// uasTimer decides the timer of an INVITE we answer (RFC 4028 §9): none
// when it asks for none; 422 when its interval is below minSE; else its
// interval, and the refresher it names, or the caller when it supports
// timers, or us.
func uasTimer(req *sip.Request, minSE time.Duration) (se sessionExpires, code int) {
	asked, present, ok := sessionExpiresOf(req)
	switch {
	case !present:
		return sessionExpires{}, 0
	case !ok:
		return sessionExpires{}, 400
	case asked.interval < minSE:
		return sessionExpires{}, 422
	}
	if asked.refresher == "" {
		asked.refresher = "uas"
		if hasOptionTag(req, "Supported", "timer") {
			asked.refresher = "uac"
		}
	}
	return asked, 0
}

// timerHeaders are the headers of a 2xx that agreed on se: Session-Expires,
// and Require: timer when the caller refreshes (RFC 4028 §9).
func timerHeaders(se sessionExpires) []sip.Header {
	if se.interval == 0 {
		return nil
	}
	hs := []sip.Header{sip.NewHeader("Session-Expires", se.String())}
	if se.refresher == "uac" {
		hs = append(hs, sip.NewHeader("Require", "timer"))
	}
	return hs
}

// expiryMargin is how long before the interval runs out the side that does
// not refresh gives up on the session (RFC 4028 §10).
func expiryMargin(interval time.Duration) time.Duration {
	return min(32*time.Second, interval/3)
}

// startSessionTimer runs the call's session timer: we refresh when
// weRefresh, else we wait for the remote's refreshes (refreshed) and end
// the call when none comes in time. It stops when the call ends.
func (c *call) startSessionTimer(interval time.Duration, weRefresh bool) {
	if interval <= 0 {
		return
	}
	c.mu.Lock()
	if c.refreshed == nil {
		c.refreshed = make(chan timerRole, 1)
	}
	refreshed := c.refreshed
	c.sessionInterval = interval
	c.mu.Unlock()
	c.p.spawn(func() {
		for {
			wait := interval - expiryMargin(interval)
			if weRefresh {
				wait = interval / 2
			}
			timer := time.NewTimer(wait)
			select {
			case <-c.ctx.Done():
				timer.Stop()
				return
			case r := <-refreshed:
				// A refresh came from the remote: start again, with the
				// roles it asked for.
				timer.Stop()
				interval, weRefresh = r.interval, r.weRefresh
				c.mu.Lock()
				c.sessionInterval = interval
				c.mu.Unlock()
				continue
			case <-timer.C:
			}
			if !weRefresh {
				c.p.log.Info("session expired: no refresh", "session", c.id, "interval", interval)
				c.cancel(errHangup)
				c.bye(200, "session expired", "session expired (no refresh)")
				return
			}
			if err := c.reinvite(c.media.getLocalDir()); err != nil {
				// RFC 4028 §10: a refresh that fails ends the session.
				c.p.log.Warn("session refresh failed", "session", c.id, "err", err)
				c.cancel(errHangup)
				c.bye(200, "session refresh failed", "session refresh failed: "+err.Error())
				return
			}
		}
	})
}

// timerRole is a session timer restarted by a refresh.
type timerRole struct {
	interval  time.Duration
	weRefresh bool
}

// refreshedBy records a refresh the remote sent (a re-INVITE, RFC 4028
// §9): the timer starts again with its interval, or the one in force when
// it names none, and with the refresher it names (the remote when none).
func (c *call) refreshedBy(req *sip.Request) (sessionExpires, bool) {
	c.mu.Lock()
	ch, current := c.refreshed, c.sessionInterval
	c.mu.Unlock()
	if ch == nil {
		return sessionExpires{}, false
	}
	se, present, ok := sessionExpiresOf(req)
	if !present || !ok {
		se = sessionExpires{interval: current}
	}
	if se.refresher == "" {
		se.refresher = "uac"
	}
	c.restartTimer(timerRole{interval: se.interval, weRefresh: se.refresher == "uas"})
	return se, true
}

// restartTimer hands the session timer its new interval and role.
func (c *call) restartTimer(r timerRole) {
	c.mu.Lock()
	ch := c.refreshed
	c.mu.Unlock()
	if ch == nil || r.interval <= 0 {
		return
	}
	select {
	case ch <- r:
	default:
		select {
		case <-ch:
		default:
		}
		select {
		case ch <- r:
		default:
		}
	}
}
