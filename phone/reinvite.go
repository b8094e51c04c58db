package phone

import (
	"time"

	"github.com/emiago/sipgo/sip"
)

// onReInvite answers an INVITE inside an existing dialog (hold/resume, codec
// or address change: RFC 3261 §14.2, RFC 3264 §8).
func (p *Phone) onReInvite(c *call, req *sip.Request, tx sip.ServerTransaction) {
	c.onReInvite(req, tx)
}

func (c *call) onReInvite(req *sip.Request, tx sip.ServerTransaction) {
	c.mu.Lock()
	cs, ss := c.cs, c.ss
	st := c.state
	// An ACK that never came stops blocking offers once the 2xx would
	// have timed out (64·T1, RFC 3261 §13.3.1.4).
	pending := c.offerPending || (!c.answerDue.IsZero() && time.Since(c.answerDue) < 64*sip.T1)
	c.mu.Unlock()
	if pending {
		// RFC 3261 §14.2: our own re-INVITE is in flight (glare), or the
		// offer of our last 2xx still waits for its answer in the ACK
		// (RFC 6337 §3.1: no new offer before the answer).
		respond(tx, req, 491, "Request Pending")
		return
	}
	if st != StateActive && st != StateTransferring {
		res := sip.NewResponseFromRequest(req, 500, "Server Internal Error", nil)
		res.AppendHeader(sip.NewHeader("Retry-After", "2"))
		_ = tx.Respond(res)
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
	var err error
	if ss != nil && c.dir == DirectionIncoming {
		err = ss.ReadRequest(req, tx)
	} else if cs != nil {
		err = cs.ReadRequest(req, tx)
	}
	if err != nil {
		respond(tx, req, 500, "Server Internal Error")
		return
	}
	// RFC 3261 §12.2.2: a re-INVITE is a target refresh request.
	if ct := req.Contact(); ct != nil {
		c.setRemoteTarget(ct.Address)
	}
	var body []byte
	if offer := req.Body(); len(offer) > 0 {
		body, err = c.media.answer(offer)
		if err != nil {
			res := sip.NewResponseFromRequest(req, 488, "Not Acceptable Here", nil)
			_ = tx.Respond(res)
			return
		}
	} else {
		// RFC 3261 §14.2: an INVITE without an offer gets our offer in the 2xx.
		body, err = c.media.offer()
		if err != nil {
			respond(tx, req, 500, "Server Internal Error")
			return
		}
		c.mu.Lock()
		c.answerDue = time.Now()
		c.mu.Unlock()
	}
	contact := c.contact()
	res := sip.NewResponseFromRequest(req, 200, "OK", body)
	res.AppendHeader(&contact)
	res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	res.AppendHeader(sip.NewHeader("Allow", allowMethods))
	if se, ok := c.refreshedBy(req); ok {
		// RFC 4028 §9: the 2xx to a refresh states the interval and refresher.
		for _, h := range timerHeaders(se) {
			res.AppendHeader(h)
		}
	}
	if err := tx.Respond(res); err != nil {
		c.p.log.Warn("re-INVITE response", "session", c.id, "err", err)
		return
	}
	c.media.update()
	c.noteRemoteHold()
}

// noteRemoteHold reports a change of the remote's hold after a new
// description (re-INVITE or UPDATE) took effect.
func (c *call) noteRemoteHold() {
	held := c.media.remoteHolds()
	c.mu.Lock()
	flagChanged := c.heldRemote != held
	c.heldRemote = held
	c.mu.Unlock()
	if flagChanged {
		reason := "resumed by remote"
		if held {
			reason = "held by remote"
		}
		c.changed(reason)
	}
}
