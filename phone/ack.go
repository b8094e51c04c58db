package phone

import (
	"context"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// ACKs of 2xx responses to our INVITEs (RFC 3261 §13.2.2.4). The ACK of a
// 2xx is not part of the INVITE's transaction: the UAC core sends it, and
// sends it again for each retransmission of the 2xx.

// ack acknowledges the 2xx to our re-INVITE inv: an ACK to the 2xx's
// Contact with the INVITE's CSeq number (not the dialog's latest: an INFO
// may have been sent since), the INVITE's route set, and a Via of its own.
// The 2xx's Contact is a target refresh (§12.2.1.2). The ACK is kept to
// answer retransmissions of the 2xx.
func (c *call) ack(inv *sip.Request, res *sip.Response) {
	if ct := res.Contact(); ct != nil {
		c.setRemoteTarget(ct.Address)
	}
	ack, err := c.writeAck(inv, res, inv.GetHeaders("Route"))
	if err != nil {
		c.p.log.Warn("ACK of re-INVITE", "session", c.id, "err", err)
		return
	}
	c.mu.Lock()
	c.lastAck = ack.Clone()
	c.mu.Unlock()
}

// writeAck builds and sends the ACK of res, a 2xx to our INVITE inv: to
// the 2xx's Contact, with inv's From, Call-ID and CSeq number, the 2xx's To,
// the given route set, a Via of its own, from the listening socket. It
// returns the ACK as sent.
func (c *call) writeAck(inv *sip.Request, res *sip.Response, routes []sip.Header) (*sip.Request, error) {
	target := inv.Recipient
	if ct := res.Contact(); ct != nil {
		target = ct.Address
	}
	ack := c.requestIn2xxDialog(sip.ACK, inv.CSeq().SeqNo, target, inv.From(), inv.CallID(), res, routes)
	cli, err := c.p.clientFor(c.transport)
	if err != nil {
		return nil, err
	}
	return ack, cli.WriteRequest(ack, sipgo.ClientRequestAddVia)
}

// requestIn2xxDialog builds a request in the dialog the 2xx res made: to
// target, with from and callID (our INVITE's, which res repeats), res's To
// (its tag names the dialog), CSeq seq, the route set routes, no body,
// leaving from the listening socket (RFC 3261 §12.2.1.1, §13.2.2.4).
func (c *call) requestIn2xxDialog(method sip.RequestMethod, seq uint32, target sip.Uri, from *sip.FromHeader,
	callID *sip.CallIDHeader, res *sip.Response, routes []sip.Header) *sip.Request {
	req := sip.NewRequest(method, target)
	req.AppendHeader(sip.HeaderClone(from))
	req.AppendHeader(sip.HeaderClone(res.To()))
	req.AppendHeader(sip.HeaderClone(callID))
	req.AppendHeader(&sip.CSeqHeader{SeqNo: seq, MethodName: method})
	maxFwd := sip.MaxForwardsHeader(70)
	req.AppendHeader(&maxFwd)
	for _, r := range routes {
		req.AppendHeader(sip.NewHeader("Route", r.Value()))
	}
	req.SetTransport(c.transport)
	req.SetBody(nil)
	c.p.fromListener(req, c.transport)
	return req
}

// routeSet is the route set a UAC takes from a dialog-creating response:
// its Record-Route headers in reverse order (RFC 3261 §12.1.2).
func routeSet(res *sip.Response) []sip.Header {
	rr := res.GetHeaders("Record-Route")
	routes := make([]sip.Header, 0, len(rr))
	for i := len(rr) - 1; i >= 0; i-- {
		routes = append(routes, rr[i])
	}
	return routes
}

// sendAsIs is a request option that sends a request exactly as built.
func sendAsIs(*sipgo.Client, *sip.Request) error { return nil }

// onLate2xx handles a 2xx to one of our INVITEs that no transaction waits
// for any more: our ACK was lost, and the 2xx is retransmitted.
func (c *call) onLate2xx(res *sip.Response) {
	if c.isStray2xx(res) {
		c.dropStray2xx(res)
		return
	}
	c.mu.Lock()
	cs, last := c.cs, c.lastAck
	answered := c.state == StateActive || c.state == StateTransferring
	c.mu.Unlock()
	if !answered {
		return
	}
	seq := res.CSeq().SeqNo
	if last != nil && last.CSeq().SeqNo == seq {
		if cli, err := c.p.clientFor(c.transport); err == nil {
			_ = cli.WriteRequest(last.Clone(), sendAsIs)
		}
		return
	}
	if cs != nil && cs.InviteRequest.CSeq().SeqNo == seq {
		// The first INVITE: sipgo rebuilds its ACK. Its dialog CSeq
		// counter is read and written back, so no other send may run.
		c.dialogMu.Lock()
		_ = cs.Ack(context.Background())
		c.dialogMu.Unlock()
	}
}
