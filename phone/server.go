package phone

import (
	"strings"

	"github.com/emiago/sipgo/sip"
)

// findDialog looks a request up by dialog ID, UAS side first then UAC side
// (notes/sipgo.md §4).
func (p *Phone) findDialog(req *sip.Request) *call {
	p.mu.Lock()
	defer p.mu.Unlock()
	if id, err := sip.DialogIDFromRequestUAS(req); err == nil {
		if c := p.byDialog[id]; c != nil {
			return c
		}
	}
	if id, err := sip.DialogIDFromRequestUAC(req); err == nil {
		if c := p.byDialog[id]; c != nil {
			return c
		}
	}
	return nil
}

func (p *Phone) onAck(req *sip.Request, tx sip.ServerTransaction) {
	c := p.findDialog(req)
	if c == nil {
		return
	}
	c.mu.Lock()
	ss := c.ss
	c.mu.Unlock()
	if ss != nil {
		_ = ss.ReadAck(req, tx)
	}
	if body := req.Body(); len(body) > 0 {
		// Answer to the offer we sent in a 200 (offer-less INVITE or re-INVITE).
		if err := c.media.applyAnswer(body); err != nil {
			p.log.Warn("bad SDP in ACK", "session", c.id, "err", err)
		} else {
			c.media.update()
			c.changed("")
		}
	}
}

func (p *Phone) onBye(req *sip.Request, tx sip.ServerTransaction) {
	c := p.findDialog(req)
	if c == nil {
		respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	c.mu.Lock()
	cs, ss := c.cs, c.ss
	c.mu.Unlock()
	// The call is over from now on: nothing (a Close racing with this BYE)
	// may send a BYE of its own any more.
	c.setState(StateTerminated, 200, "remote hangup")
	var err error
	if ss != nil && c.dir == DirectionIncoming {
		err = ss.ReadBye(req, tx)
	} else if cs != nil {
		err = cs.ReadBye(req, tx)
	}
	if err != nil {
		p.log.Info("BYE", "session", c.id, "err", err)
		respond(tx, req, 200, "OK")
	}
}

func (p *Phone) onCancel(req *sip.Request, tx sip.ServerTransaction) {
	// A CANCEL that matches a pending INVITE is handled by the transaction
	// layer; whatever reaches us matches nothing (RFC 3261 §9.2).
	respond(tx, req, 481, "Call/Transaction Does Not Exist")
}

func (p *Phone) onOptions(req *sip.Request, tx sip.ServerTransaction) {
	res := sip.NewResponseFromRequest(req, 200, "OK", nil)
	res.AppendHeader(sip.NewHeader("Allow", allowMethods))
	res.AppendHeader(sip.NewHeader("Accept", "application/sdp"))
	res.AppendHeader(sip.NewHeader("Supported", "replaces"))
	res.AppendHeader(sip.NewHeader("User-Agent", p.opts.UserAgent))
	_ = tx.Respond(res)
}

func isSDP(m interface{ ContentType() *sip.ContentTypeHeader }) bool {
	ct := m.ContentType()
	return ct != nil && strings.HasPrefix(strings.ToLower(ct.Value()), "application/sdp")
}

func respond(tx sip.ServerTransaction, req *sip.Request, code int, reason string) {
	_ = tx.Respond(sip.NewResponseFromRequest(req, code, reason, nil))
}

func sanitizeWarning(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == '"' || r == '\\' {
			return ' '
		}
		return r
	}, s)
}

func (p *Phone) registerHandlers() {
	p.srv.OnInvite(p.onInvite)
	p.srv.OnAck(p.onAck)
	p.srv.OnBye(p.onBye)
	p.srv.OnCancel(p.onCancel)
	p.srv.OnOptions(p.onOptions)
	p.srv.OnInfo(p.onInfo)
	p.srv.OnRefer(p.onRefer)
	p.srv.OnNotify(p.onNotify)
	p.srv.OnUpdate(func(req *sip.Request, tx sip.ServerTransaction) {
		if p.findDialog(req) == nil {
			respond(tx, req, 481, "Call/Transaction Does Not Exist")
			return
		}
		respond(tx, req, 501, "Not Implemented")
	})
	p.srv.OnMessage(func(req *sip.Request, tx sip.ServerTransaction) {
		respond(tx, req, 405, "Method Not Allowed")
	})
}

// allowMethods is what we answer in Allow (RFC 3261 §20.5).
const allowMethods = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, REFER, NOTIFY, UPDATE"
