package phone

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

// onRefer decides on a transfer asked of us in one of our dialogs (routed
// matched its Call-ID and tags, RFC 3261 §12.2.2, so it comes from the
// party of that call). RFC 3515 §2.4.2: the recipient "SHOULD request
// approval from the user to proceed (… an interactive query or … configured
// policy)" and "MAY decline" a request that is denied at once: Options.
// Transfer refuses it with 603 Decline, follows it (202, then
// executeTransfer) or asks (202, then askTransfer). A malformed or unsafe
// Refer-To is refused before the policy is asked (parseReferTo).
func (p *Phone) onRefer(c *call, req *sip.Request, tx sip.ServerTransaction) {
	if c.getState() != StateActive {
		respond(tx, req, 491, "Request Pending")
		return
	}
	t, err := parseReferTo(req, c.secureDialog(req))
	if err != nil {
		var re *referError
		if !errors.As(err, &re) {
			re = &referError{400, "Bad Request", err}
		}
		p.log.Info("REFER refused", "session", c.id, "code", re.code, "err", err)
		respond(tx, req, re.code, re.reason)
		raw := ""
		if h := req.GetHeader("Refer-To"); h != nil {
			raw = sanitizeWarning(h.Value())
		}
		p.emit(TransferEvent{Time: time.Now(), Session: c.id, Target: raw, Code: re.code, Reason: "refused: " + err.Error(), Final: true})
		return
	}
	target := t.uri.String()
	v := p.opts.Transfer.decide(t.uri)
	// One event per request that passed the checks, whatever the policy
	// says, so that a log of events shows each request and its outcome.
	req0 := TransferEvent{Time: time.Now(), Session: c.id, Target: target, Reason: "requested, " + v.String()}
	if v == verdictAsk {
		req0.Asking, req0.Deadline = true, req0.Time.Add(p.opts.Transfer.askTimeout())
	}
	switch v {
	case verdictFollow:
		p.emit(req0)
		respond(tx, req, 202, "Accepted")
		p.spawn(func() { c.executeTransfer(t.uri, t.headers) })
	case verdictAsk:
		ask := make(chan bool, 1)
		c.mu.Lock()
		busy := c.transferAsk != nil
		if !busy {
			c.transferAsk = ask
		}
		c.mu.Unlock()
		if busy {
			respond(tx, req, 491, "Request Pending (a transfer request is waiting)")
			return
		}
		respond(tx, req, 202, "Accepted")
		p.emit(req0)
		if !p.spawn(func() { c.askTransfer(t, ask, req0.Deadline) }) {
			c.clearTransferAsk(ask)
		}
	default:
		p.log.Info("REFER refused by policy", "session", c.id, "target", target, "mode", p.opts.Transfer.Mode)
		respond(tx, req, 603, "Decline")
		p.emit(req0)
		p.emit(TransferEvent{Time: time.Now(), Session: c.id, Target: target, Code: 603, Reason: "refused by policy", Final: true})
	}
}

// notifyRefer sends one NOTIFY of the implicit refer subscription (RFC 3515
// §2.4.4) with a message/sipfrag body (RFC 3420) carrying code and reason;
// final ends the subscription (§2.4.7).
func (c *call) notifyRefer(code int, reason string, final bool) {
	req := c.newRequest(sip.NOTIFY)
	req.AppendHeader(sip.NewHeader("Event", "refer"))
	state := "active;expires=60"
	if final {
		state = "terminated;reason=noresource"
	}
	req.AppendHeader(sip.NewHeader("Subscription-State", state))
	req.AppendHeader(sip.NewHeader("Content-Type", "message/sipfrag;version=2.0"))
	req.SetBody([]byte("SIP/2.0 " + strconv.Itoa(code) + " " + reason + "\r\n"))
	ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
	defer cancel()
	if _, err := c.request(ctx, req); err != nil {
		c.p.log.Info("NOTIFY", "session", c.id, "err", err)
	}
}

func (c *call) executeTransfer(target sip.Uri, headers map[string]string) {
	p := c.p
	notify := c.notifyRefer
	notify(100, "Trying", false)
	acctName := ""
	if c.acct != nil {
		acctName = c.acct.cfg.Name
	}
	nc, err := p.dial(target.String(), DialOptions{Account: acctName, Headers: headers})
	if err != nil {
		notify(503, "Service Unavailable", true)
		p.emit(TransferEvent{Time: time.Now(), Session: c.id, Target: target.String(), Code: 503, Reason: err.Error(), Final: true})
		return
	}
	newID := nc.id
	p.emit(TransferEvent{Time: time.Now(), Session: c.id, Target: target.String(), Code: 100, Reason: "transfer requested", NewSession: newID})
	// Wait for the new call to be answered or to fail.
	for {
		st := nc.getState()
		if st == StateActive {
			notify(200, "OK", true)
			p.emit(TransferEvent{Time: time.Now(), Session: c.id, Target: target.String(), Code: 200, Reason: "transferred", Final: true, NewSession: newID})
			// RFC 5589 §6: the transferor ends the old dialog after the final
			// NOTIFY; end it ourselves only if it does not.
			select {
			case <-c.ended:
			case <-time.After(2 * time.Second):
				c.bye(200, "transferred", "transferred")
			}
			return
		}
		if st.Final() {
			code, reason := nc.endCode()
			if code < 300 {
				code, reason = 487, "Request Terminated"
			}
			notify(code, reason, true)
			p.emit(TransferEvent{Time: time.Now(), Session: c.id, Target: target.String(), Code: code, Reason: reason, Final: true, NewSession: newID})
			return
		}
		select {
		case <-nc.ended:
		case <-nc.stateCh():
		case <-c.ended:
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// onInviteReplaces handles an INVITE with Replaces (RFC 3891 §3): when it
// names one of our confirmed dialogs, the new call is answered without
// ringing and the old one ended; otherwise 481.
func (p *Phone) onInviteReplaces(req *sip.Request, tx sip.ServerTransaction, value string) {
	if len(req.GetHeaders("Replaces")) > 1 {
		// RFC 3891 §3: more than one Replaces header is a 400.
		respond(tx, req, 400, "Bad Request (more than one Replaces)")
		return
	}
	rep, ok := parseReplaces(value)
	if !ok {
		respond(tx, req, 400, "Bad Request (Replaces)")
		return
	}
	p.mu.Lock()
	old := p.byCallID[rep.callID]
	p.mu.Unlock()
	if old == nil {
		respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	_, local, remote := old.tags()
	if local != rep.toTag || remote != rep.fromTag || old.getState() != StateActive {
		respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	p.acceptIncoming(req, tx, old)
}

// replaces is the value of a Replaces header (RFC 3891 §6.1): the dialog
// the new INVITE is to replace, as seen from the side that receives it.
type replaces struct {
	callID, toTag, fromTag string
	earlyOnly              bool
}

// parseReplaces reads "callid;to-tag=x;from-tag=y[;early-only]". The Call-ID
// and both tags are required; parameter names are case-insensitive, unknown
// parameters are ignored (RFC 3891 §6.1, RFC 3261 §7.3.1).
func parseReplaces(value string) (replaces, bool) {
	parts := strings.Split(value, ";")
	r := replaces{callID: strings.TrimSpace(parts[0])}
	if r.callID == "" || strings.ContainsAny(r.callID, " \t\r\n") {
		return replaces{}, false
	}
	for _, kv := range parts[1:] {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "to-tag":
			r.toTag = strings.TrimSpace(v)
		case "from-tag":
			r.fromTag = strings.TrimSpace(v)
		case "early-only":
			r.earlyOnly = true
		}
	}
	if r.toTag == "" || r.fromTag == "" {
		return replaces{}, false
	}
	return r, true
}
