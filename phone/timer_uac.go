package phone

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Session timers as the caller (RFC 4028 §7) and the checks of a refresh
// we receive (§9, which a re-INVITE in a dialog follows too).

// uacAsk is what our INVITE asks for: Session-Expires (0: none) and the
// Min-SE we send with it. A 422 raises both, once.
type uacAsk struct {
	interval time.Duration
	minSE    time.Duration
	retried  bool   // we already retried after a 422
	cseq     uint32 // the CSeq number of the retry (RFC 3261 §8.1.3.5: the next one)
}

// inviteTimerHeaders are the timer headers of our INVITE (RFC 4028 §7.1):
// Session-Expires when we ask for an interval, without a refresher (the
// callee may pick one), and Min-SE when it is not the default 90 s.
func (c *call) inviteTimerHeaders() []sip.Header {
	c.mu.Lock()
	ask := c.uacAsk
	c.mu.Unlock()
	if ask.interval <= 0 {
		return nil
	}
	hs := []sip.Header{sip.NewHeader("Session-Expires", strconv.Itoa(int(ask.interval/time.Second)))}
	if ask.minSE > 0 && ask.minSE != defaultMinSE {
		hs = append(hs, sip.NewHeader("Min-SE", strconv.Itoa(int(ask.minSE/time.Second))))
	}
	return hs
}

// errRetryTimer asks runOutgoing to send the INVITE again to the same
// server, with the larger session interval a 422 asked for.
var errRetryTimer = errors.New("422: retry with a larger Session-Expires")

// retryAfter422 reports whether err is a 422 Session Interval Too Small
// that we retry (RFC 4028 §7.4): once per call, with Session-Expires and
// Min-SE raised to the 422's Min-SE. A 422 without a usable Min-SE, or a
// second one, ends the call with the 422.
func (c *call) retryAfter422(err error) bool {
	var de *sipgo.ErrDialogResponse
	if !errors.As(err, &de) || de.Res.StatusCode != 422 {
		return false
	}
	h := de.Res.GetHeader("Min-SE")
	if h == nil {
		c.p.log.Warn("422 without Min-SE: not retried", "session", c.id)
		return false
	}
	v, _, _ := strings.Cut(h.Value(), ";") // Min-SE may carry generic params
	secs, perr := strconv.ParseUint(strings.TrimSpace(v), 10, 32)
	if perr != nil || secs == 0 {
		c.p.log.Warn("422 with a bad Min-SE: not retried", "session", c.id, "min_se", h.Value())
		return false
	}
	minSE := time.Duration(secs) * time.Second
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.uacAsk.retried {
		c.p.log.Warn("second 422: not retried", "session", c.id, "min_se", minSE)
		return false
	}
	c.uacAsk.retried = true
	if cs := de.Res.CSeq(); cs != nil {
		c.uacAsk.cseq = cs.SeqNo + 1
	}
	c.uacAsk.interval = max(c.uacAsk.interval, minSE)
	c.uacAsk.minSE = max(c.uacAsk.minSE, minSE)
	c.p.log.Info("422 Session Interval Too Small: retrying", "session", c.id, "session_expires", c.uacAsk.interval)
	return true
}

// checkRefresh vets the Session-Expires of a re-INVITE (RFC 4028 §9): a
// value that does not parse gets 400, one below our Min-SE gets 422 with
// our Min-SE. It returns 0 when the request may be answered.
func (c *call) checkRefresh(req *sip.Request) (code int, reason string, hdrs []sip.Header) {
	se, present, ok := sessionExpiresOf(req)
	switch {
	case !present:
		return 0, "", nil
	case !ok:
		c.p.log.Warn("re-INVITE with a bad Session-Expires: 400", "session", c.id, "value", headerValue(req, "Session-Expires", "x"))
		return 400, "Bad Request (Session-Expires)", nil
	case se.interval < c.p.opts.MinSE:
		c.p.log.Warn("re-INVITE with a Session-Expires below our Min-SE: 422", "session", c.id, "interval", se.interval, "min_se", c.p.opts.MinSE)
		return 422, "Session Interval Too Small", []sip.Header{sip.NewHeader("Min-SE", strconv.Itoa(int(c.p.opts.MinSE/time.Second)))}
	}
	return 0, "", nil
}

// headerValue is the value of the first of names that m carries, or "".
func headerValue(m interface{ GetHeader(string) sip.Header }, names ...string) string {
	for _, n := range names {
		if h := m.GetHeader(n); h != nil {
			return h.Value()
		}
	}
	return ""
}
