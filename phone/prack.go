package phone

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Reliable provisional responses (RFC 3262), both roles.

// supportedTags is our Supported header (RFC 3261 §20.37): the extensions
// we understand, so a peer may require them.
const supportedTags = "replaces, 100rel, timer"

// hasOptionTag reports whether a Require or Supported header of m lists tag.
func hasOptionTag(m interface{ GetHeaders(string) []sip.Header }, header, tag string) bool {
	for _, h := range m.GetHeaders(header) {
		for _, t := range strings.Split(h.Value(), ",") {
			if strings.EqualFold(strings.TrimSpace(t), tag) {
				return true
			}
		}
	}
	return false
}

// unsupportedRequired returns the option tags of req's Require headers that
// we do not support (RFC 3261 §8.2.2.3: the request gets 420 with them in
// Unsupported).
func unsupportedRequired(req *sip.Request) []string {
	var out []string
	for _, h := range req.GetHeaders("Require") {
		for _, t := range strings.Split(h.Value(), ",") {
			t = strings.TrimSpace(t)
			if t != "" && !strings.EqualFold(t, "100rel") && !strings.EqualFold(t, "replaces") && !strings.EqualFold(t, "timer") {
				out = append(out, t)
			}
		}
	}
	return out
}

// parseRAck reads an RAck header value: "response-num CSeq-num Method"
// (RFC 3262 §7.2).
func parseRAck(v string) (rseq, cseq uint32, method string, ok bool) {
	f := strings.Fields(v)
	if len(f) != 3 {
		return 0, 0, "", false
	}
	r, err1 := strconv.ParseUint(f[0], 10, 32)
	c, err2 := strconv.ParseUint(f[1], 10, 32)
	if err1 != nil || err2 != nil || r == 0 {
		return 0, 0, "", false
	}
	return uint32(r), uint32(c), strings.ToUpper(f[2]), true
}

// ---- UAC: we sent the INVITE ----

// prackIfReliable answers a reliable provisional response to our INVITE
// with PRACK (RFC 3262 §4). It runs on the goroutine that reads the
// INVITE's responses (the one that writes sipgo's dialog), so building the
// PRACK races nothing; waiting for the PRACK's answer happens elsewhere.
// A retransmission (an RSeq already acknowledged) is dropped.
func (c *call) prackIfReliable(res *sip.Response) {
	if !hasOptionTag(res, "Require", "100rel") {
		return
	}
	h := res.GetHeader("RSeq")
	if h == nil {
		c.p.log.Warn("reliable provisional response without RSeq", "session", c.id, "status", res.StatusCode)
		return
	}
	rseq, err := strconv.ParseUint(strings.TrimSpace(h.Value()), 10, 32)
	if err != nil || rseq == 0 {
		c.p.log.Warn("bad RSeq", "session", c.id, "rseq", h.Value())
		return
	}
	c.mu.Lock()
	if c.lastRSeq != 0 && uint32(rseq) <= c.lastRSeq {
		c.mu.Unlock()
		return
	}
	c.lastRSeq = uint32(rseq)
	cs := c.cs
	c.mu.Unlock()
	if cs == nil {
		return
	}
	req := c.newRequest(sip.PRACK)
	req.AppendHeader(sip.NewHeader("RAck", fmt.Sprintf("%d %d INVITE", rseq, cs.InviteRequest.CSeq().SeqNo)))
	ctx, cancel := context.WithTimeout(c.ctx, 64*sip.T1)
	tx, err := c.send(ctx, req)
	if err != nil {
		cancel()
		c.p.log.Warn("PRACK", "session", c.id, "err", err)
		return
	}
	if !c.p.spawn(func() {
		defer cancel()
		defer tx.Terminate()
		for {
			select {
			case r := <-tx.Responses():
				if r.IsProvisional() {
					continue
				}
				if !r.IsSuccess() {
					c.p.log.Warn("PRACK refused", "session", c.id, "status", r.StatusCode)
				}
				return
			case <-tx.Done():
				return
			case <-ctx.Done():
				return
			}
		}
	}) {
		cancel()
		tx.Terminate()
	}
}

// ackFirst acknowledges the 2xx to our first INVITE. After a PRACK,
// sipgo's own ACK would carry the PRACK's CSeq number (it numbers every
// request it builds from the dialog's latest), so the ACK is built here:
// the INVITE's CSeq number, the 2xx's To, the route set from the 2xx's
// Record-Route in reverse (RFC 3261 §12.1.2, §13.2.2.4).
func (c *call) ackFirst(cs *sipgo.DialogClientSession) error {
	c.mu.Lock()
	pracked := c.lastRSeq != 0
	c.mu.Unlock()
	if !pracked {
		c.dialogMu.Lock()
		defer c.dialogMu.Unlock()
		return cs.Ack(context.Background())
	}
	_, err := c.writeAck(cs.InviteRequest, cs.InviteResponse, routeSet(cs.InviteResponse))
	return err
}

// ---- UAS: we received the INVITE ----

// reliable is the state of our reliable 180 (RFC 3262 §3).
type reliable struct {
	rseq   uint32
	cseq   uint32        // the INVITE's CSeq number
	acked  chan struct{} // closed when its PRACK arrived
	closed bool
}

// ringReliably sends 180 Ringing with Require: 100rel and an RSeq, and
// retransmits it at T1, 2·T1 … (capped at T2) until the PRACK arrives, the
// call is answered or ends. With no PRACK after 64·T1 the INVITE is
// refused with 504, as RFC 3262 §3 says (a 5xx).
func (c *call) ringReliably(inviteCSeq uint32, contact *sip.ContactHeader) error {
	r := &reliable{rseq: 1 + rand.Uint32N(1<<30), cseq: inviteCSeq, acked: make(chan struct{})}
	c.mu.Lock()
	c.reliable = r
	c.mu.Unlock()
	send := func() error {
		return c.ss.Respond(180, "Ringing", nil, contact,
			sip.NewHeader("Require", "100rel"),
			sip.NewHeader("RSeq", strconv.FormatUint(uint64(r.rseq), 10)),
			sip.NewHeader("Allow", allowMethods))
	}
	if err := send(); err != nil {
		return err
	}
	c.p.spawn(func() {
		interval := sip.T1
		deadline := time.NewTimer(64 * sip.T1)
		defer deadline.Stop()
		for {
			select {
			case <-r.acked:
				return
			case <-c.ctx.Done():
				return
			case <-deadline.C:
				c.p.log.Warn("no PRACK for the reliable 180", "session", c.id)
				select {
				case c.decision <- Reject(504, "Server Time-out (no PRACK)"):
				default:
				}
				return
			case <-time.After(interval):
				if st := c.getState(); st != StateUnknown && st != StateRinging {
					return // answered or ended: no more 180s
				}
				_ = send()
				interval = min(2*interval, sip.T2)
			}
		}
	})
	return nil
}

// onPrack takes the PRACK of our reliable 180: 200 when it names it
// (RAck: its RSeq, the INVITE's CSeq number, INVITE), else 481 (RFC 3262 §3).
func (p *Phone) onPrack(c *call, req *sip.Request, tx sip.ServerTransaction) {
	c.mu.Lock()
	r := c.reliable
	c.mu.Unlock()
	h := req.GetHeader("RAck")
	if r == nil || h == nil {
		respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	rseq, cseq, method, ok := parseRAck(h.Value())
	if !ok {
		respond(tx, req, 400, "Bad Request (RAck)")
		return
	}
	if rseq != r.rseq || cseq != r.cseq || method != "INVITE" {
		respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	respond(tx, req, 200, "OK")
	c.mu.Lock()
	if !r.closed {
		r.closed = true
		close(r.acked)
	}
	c.mu.Unlock()
}
