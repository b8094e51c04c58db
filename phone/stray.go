package phone

import (
	"context"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// A 2xx that answers one of our INVITEs but not the dialog the call lives
// in: a second answer of a forked INVITE (another To tag), or the answer of
// an INVITE we have replaced (a 422 retried with a longer interval, a
// failover to the next server after the first timed out). RFC 3261
// §13.2.2.4: the UAC ACKs every 2xx, and when it does not want the dialog
// the 2xx made, it sends BYE in it at once.

// strayBye bounds the BYE of a stray dialog.
const strayBye = 8 * time.Second

// isStray2xx reports whether res (a 2xx to an INVITE of this call's
// Call-ID) is not part of the call's current dialog.
func (c *call) isStray2xx(res *sip.Response) bool {
	c.mu.Lock()
	cs, last := c.cs, c.lastAck
	c.mu.Unlock()
	if cs == nil || cs.InviteResponse == nil {
		return true // no dialog yet (or never): the 2xx of an INVITE we gave up
	}
	ourTag, _ := cs.InviteResponse.To().Params.Get("tag")
	tag, _ := res.To().Params.Get("tag")
	if tag != ourTag {
		return true
	}
	seq := res.CSeq().SeqNo
	return seq != cs.InviteRequest.CSeq().SeqNo && (last == nil || last.CSeq().SeqNo != seq)
}

// dropStray2xx ACKs res and, the first time this dialog is seen, ends it
// with a BYE. Both go to the 2xx's Contact through the route set its
// Record-Route gives (reversed, RFC 3261 §12.1.2), from the listening
// socket.
func (c *call) dropStray2xx(res *sip.Response) {
	ct := res.Contact()
	if ct == nil || res.From() == nil || res.To() == nil {
		c.p.log.Warn("stray 2xx without Contact, From or To: not acknowledged", "session", c.id)
		return
	}
	cli, err := c.p.clientFor(c.transport)
	if err != nil {
		return
	}
	routes := routeSet(res)
	build := func(method sip.RequestMethod, seq uint32) *sip.Request {
		return c.requestIn2xxDialog(method, seq, ct.Address, res.From(), res.CallID(), res, routes)
	}
	seq := res.CSeq().SeqNo
	if err := cli.WriteRequest(build(sip.ACK, seq), sipgo.ClientRequestAddVia); err != nil {
		c.p.log.Warn("ACK of a stray 2xx", "session", c.id, "err", err)
	}
	tag, _ := res.To().Params.Get("tag")
	key := tag + " " + res.CSeq().Value()
	c.mu.Lock()
	if c.strays == nil {
		c.strays = map[string]bool{}
	}
	seen := c.strays[key]
	c.strays[key] = true
	c.mu.Unlock()
	if seen {
		return // a retransmission: ACKed again, BYE already sent
	}
	c.p.log.Info("a 2xx outside the call's dialog: ACK and BYE", "session", c.id, "to_tag", tag, "cseq", res.CSeq().Value())
	bye := build(sip.BYE, seq+1)
	c.p.spawn(func() {
		ctx, cancel := context.WithTimeout(context.Background(), strayBye)
		defer cancel()
		if _, err := cli.Do(ctx, bye, sipgo.ClientRequestAddVia); err != nil {
			c.p.log.Debug("BYE of a stray dialog", "session", c.id, "err", err)
		}
	})
}
