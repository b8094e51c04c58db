package phone

import (
	"time"

	"github.com/emiago/sipgo/sip"
)

// onUpdate answers UPDATE (RFC 3311) inside a dialog. Proxies and PBXes
// that refresh a session timer send UPDATE rather than re-INVITE when the
// other side allows it (RFC 4028 §9, and we list UPDATE in Allow): an
// UPDATE without a body is such a refresh and gets a 2xx stating the
// interval and refresher. With an SDP offer it changes the session like a
// re-INVITE does (hold, resume, a new address), answered in the 2xx. It is
// a target refresh request (RFC 3311 §5.2).
func (p *Phone) onUpdate(c *call, req *sip.Request, tx sip.ServerTransaction) {
	c.mu.Lock()
	st := c.state
	// RFC 3311 §5.2: an offer while one of ours awaits its answer is 491.
	pending := c.offerPending || (!c.answerDue.IsZero() && time.Since(c.answerDue) < 64*sip.T1)
	c.mu.Unlock()
	offer := req.Body()
	if len(offer) > 0 && pending {
		respond(tx, req, 491, "Request Pending")
		return
	}
	if st.Final() || st == StateTerminating {
		respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	if code, reason, hdrs := c.checkRefresh(req); code != 0 {
		res := sip.NewResponseFromRequest(req, code, reason, nil)
		for _, h := range hdrs {
			res.AppendHeader(h)
		}
		_ = tx.Respond(res)
		return
	}
	if ct := req.Contact(); ct != nil {
		c.setRemoteTarget(ct.Address)
	}
	var body []byte
	if len(offer) > 0 {
		ans, err := c.media.answer(offer)
		if err != nil {
			p.log.Info("UPDATE: SDP not acceptable", "session", c.id, "err", err)
			respond(tx, req, 488, "Not Acceptable Here")
			return
		}
		body = ans
	}
	contact := c.contact()
	res := sip.NewResponseFromRequest(req, 200, "OK", body)
	res.AppendHeader(&contact)
	if body != nil {
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	}
	if se, ok := c.refreshedBy(req); ok {
		// RFC 4028 §9: the 2xx to a refresh states the interval and refresher.
		for _, h := range timerHeaders(se) {
			res.AppendHeader(h)
		}
	}
	if err := tx.Respond(res); err != nil {
		p.log.Warn("UPDATE response", "session", c.id, "err", err)
		return
	}
	if body != nil {
		c.media.update()
		c.noteRemoteHold()
	}
}
