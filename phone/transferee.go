package phone

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

// onRefer executes a transfer asked of us (RFC 3515 §2.4.2): 202, NOTIFY 100,
// a new call to the Refer-To target (with its Replaces, if any), a final
// NOTIFY with the result, and the old call ended after a success.
func (p *Phone) onRefer(c *call, req *sip.Request, tx sip.ServerTransaction) {
	if c.getState() != StateActive {
		respond(tx, req, 491, "Request Pending")
		return
	}
	h := req.GetHeader("Refer-To")
	if h == nil {
		respond(tx, req, 400, "Bad Request (no Refer-To)")
		return
	}
	var uri sip.Uri
	params := sip.NewParams()
	if _, err := sip.ParseAddressValue(h.Value(), &uri, &params); err != nil || uri.Host == "" {
		respond(tx, req, 400, "Bad Request (Refer-To)")
		return
	}
	headers := map[string]string{}
	if rep, ok := uri.Headers.Get("Replaces"); ok && uri.Headers != nil {
		if v, err := url.QueryUnescape(rep); err == nil {
			rep = v
		}
		headers["Replaces"] = rep
	}
	if by := req.GetHeader("Referred-By"); by != nil {
		headers["Referred-By"] = by.Value()
	}
	for k, v := range headers {
		if ValidateHeader(k, v) != nil {
			respond(tx, req, 400, "Bad Request")
			return
		}
	}
	target := sip.Uri{Scheme: uri.Scheme, User: uri.User, Host: uri.Host, Port: uri.Port, UriParams: uri.UriParams}
	respond(tx, req, 202, "Accepted")
	p.spawn(func() { c.executeTransfer(target, headers) })
}

func (c *call) executeTransfer(target sip.Uri, headers map[string]string) {
	p := c.p
	notify := func(code int, reason string, final bool) {
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
			p.log.Info("NOTIFY", "session", c.id, "err", err)
		}
	}
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
