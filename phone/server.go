package phone

import (
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// findDialog looks a request up by dialog ID, UAS side first then UAC side:
// sipgo builds the ID from the To tag first on the UAS side and from the
// From tag first on the UAC side, and a request may come for a dialog in
// which we play either role.
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

// routed wraps the handler of a request sent inside a dialog: 481 when the
// dialog is not ours (RFC 3261 §12.2.2), 500 when its CSeq is lower than
// one already processed (§12.2.2), else the handler runs once every request
// of the dialog numbered below it has run.
func (p *Phone) routed(handle func(c *call, req *sip.Request, tx sip.ServerTransaction)) sipgo.RequestHandler {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		c := p.findDialog(req)
		if c == nil {
			respond(tx, req, 481, "Call/Transaction Does Not Exist")
			return
		}
		seq := req.CSeq().SeqNo
		if !c.inbox.enter(seq) {
			respond(tx, req, 500, "Server Internal Error (CSeq out of order)")
			return
		}
		defer c.inbox.leave(seq)
		handle(c, req, tx)
	}
}

// onAck takes the ACK of a 2xx we sent. ACKs carry the number of their
// INVITE, so they bypass the CSeq order.
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
	c.mu.Lock()
	due := !c.answerDue.IsZero()
	c.answerDue = time.Time{}
	c.mu.Unlock()
	body := req.Body()
	var bad error
	if len(body) > 0 {
		// Answer to the offer we sent in a 200 (offer-less INVITE or re-INVITE).
		if bad = c.media.applyAnswer(body); bad == nil {
			c.media.update()
			c.changed("")
		}
	}
	if due && (len(body) == 0 || bad != nil) {
		c.ackWithoutAnswer(body, bad)
	}
	c.ackOnce.Do(func() { close(c.acked) })
}

func (p *Phone) onBye(c *call, req *sip.Request, tx sip.ServerTransaction) {
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
	p.probeArrived(req)
	res := sip.NewResponseFromRequest(req, 200, "OK", nil)
	res.AppendHeader(sip.NewHeader("Allow", allowMethods))
	res.AppendHeader(sip.NewHeader("Accept", "application/sdp"))
	res.AppendHeader(sip.NewHeader("Supported", supportedTags))
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

// handlers returns the handler of each method we serve. Requests inside a
// dialog go through routed, which runs them in CSeq order.
func (p *Phone) handlers() map[sip.RequestMethod]sipgo.RequestHandler {
	return map[sip.RequestMethod]sipgo.RequestHandler{
		sip.INVITE:  p.onInvite,
		sip.ACK:     p.onAck,
		sip.BYE:     p.routed(p.onBye),
		sip.CANCEL:  p.onCancel,
		sip.OPTIONS: p.onOptions,
		sip.INFO:    p.routed(p.onInfo),
		sip.REFER:   p.onReferRequest(),
		sip.NOTIFY:  p.onNotifyRequest(),
		sip.PRACK:   p.routed(p.onPrack),
		sip.UPDATE:  p.routed(p.onUpdate),
		sip.MESSAGE: methodNotAllowed,
	}
}

func (p *Phone) registerHandlers() {
	for method, h := range p.handlers() {
		p.srv.OnRequest(method, h)
	}
	p.srv.OnNoRoute(methodNotAllowed)
}

// methodNotAllowed answers a method we do not take (REGISTER, MESSAGE,
// SUBSCRIBE, …) with 405 and the methods we do (RFC 3261 §8.2.1: "The UAS
// MUST also add an Allow header field to the 405").
func methodNotAllowed(req *sip.Request, tx sip.ServerTransaction) {
	res := sip.NewResponseFromRequest(req, 405, "Method Not Allowed", nil)
	res.AppendHeader(sip.NewHeader("Allow", allowMethods))
	_ = tx.Respond(res)
}

// allowMethods is what we answer in Allow (RFC 3261 §20.5).
const allowMethods = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, REFER, NOTIFY, UPDATE, PRACK"
