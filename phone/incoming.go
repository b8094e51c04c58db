package phone

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/teaphone/teaphone/internal/sipaddr"
)

func (p *Phone) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to != nil {
		if _, ok := to.Params.Get("tag"); ok {
			p.routed(p.onReInvite)(req, tx)
			return
		}
	}
	p.mu.Lock()
	closed := p.closed
	n := len(p.calls)
	p.mu.Unlock()
	if closed {
		respond(tx, req, 503, "Service Unavailable")
		return
	}
	if p.refuseStranger(req, tx) {
		return
	}
	if p.opts.MaxCalls > 0 && n >= p.opts.MaxCalls {
		respond(tx, req, 486, "Busy Here")
		return
	}
	if req.From() == nil || req.CallID() == nil || req.Contact() == nil {
		respond(tx, req, 400, "Bad Request (missing From, Call-ID or Contact)")
		return
	}
	if tags := unsupportedRequired(req); len(tags) > 0 {
		// RFC 3261 §8.2.2.3: an extension we do not know is refused.
		res := sip.NewResponseFromRequest(req, 420, "Bad Extension", nil)
		res.AppendHeader(sip.NewHeader("Unsupported", strings.Join(tags, ", ")))
		_ = tx.Respond(res)
		return
	}
	if rep := req.GetHeader("Replaces"); rep != nil {
		p.onInviteReplaces(req, tx, rep.Value())
		return
	}
	p.acceptIncoming(req, tx, nil)
}

// acceptIncoming runs a new incoming call: 488 if no codec is common, 180,
// then the Handler's decision. With replaces set (RFC 3891) the call is
// answered at once and the replaced call ended.
func (p *Phone) acceptIncoming(req *sip.Request, tx sip.ServerTransaction, replaces *call) {
	acct := p.matchAccount(req)
	transport := strings.ToUpper(req.Transport())
	if transport != "TCP" && transport != "TLS" {
		transport = "UDP"
	}
	se, code := uasTimer(req, p.opts.MinSE)
	switch code {
	case 422:
		// RFC 4028 §8.1: too short; say what we accept.
		res := sip.NewResponseFromRequest(req, 422, "Session Interval Too Small", nil)
		res.AppendHeader(sip.NewHeader("Min-SE", strconv.Itoa(int(p.opts.MinSE/time.Second))))
		_ = tx.Respond(res)
		return
	case 400:
		respond(tx, req, 400, "Bad Request (Session-Expires)")
		return
	}
	c, err := p.newCall("", DirectionIncoming, acct, transport)
	if err != nil {
		p.log.Warn("incoming call refused", "err", err)
		respond(tx, req, 503, "Service Unavailable")
		return
	}
	c.useHost(p.hostFor(sourceAddr(req.Source())))
	c.mu.Lock()
	c.contactUser, c.ownContactUser = req.Recipient.User, true
	c.mu.Unlock()
	if public, ok := p.stunMap(c.ctx, c.rtp, sourceAddr(req.Source())); ok {
		c.media.usePublic(public)
	}
	// RFC 3264 §6: answer the offer now, so a codec mismatch is refused
	// with 488 before the phone rings.
	offer := req.Body()
	var answer []byte
	if len(offer) > 0 {
		answer, err = c.media.answer(offer)
		if err != nil {
			c.release()
			p.log.Info("incoming call: SDP not acceptable", "err", err)
			res := sip.NewResponseFromRequest(req, 488, "Not Acceptable Here", nil)
			res.AppendHeader(sip.NewHeader("Warning", `304 `+p.LocalAddr()+` "`+sanitizeWarning(err.Error())+`"`))
			_ = tx.Respond(res)
			return
		}
	} else {
		// Offer-less INVITE: we offer in the 200, the answer comes in the ACK (RFC 3261 §13.2.1).
		answer, err = c.media.offer()
		if err != nil {
			c.release()
			respond(tx, req, 500, "Server Internal Error")
			return
		}
		c.answerDue = time.Now()
	}
	dua, err := p.dialogUA(acct, transport, c.host)
	if err != nil {
		c.release()
		respond(tx, req, 500, "Server Internal Error")
		return
	}
	ss, err := dua.ReadInvite(req, tx)
	if err != nil {
		c.release()
		respond(tx, req, 400, "Bad Request")
		return
	}
	defer ss.Close()
	from := req.From()
	c.remoteURI = from.Address.String()
	c.remoteDisplay = from.DisplayName
	if na, err := sipaddr.ParseNameAddr(from.Value()); err == nil {
		c.remoteDisplay = na.Display // unescaped: sipgo keeps the backslashes of a quoted name
	}
	if h := req.GetHeader("Subject"); h != nil {
		c.subject = h.Value()
	}
	c.sipCallID = req.CallID().Value()
	c.ss = ss
	c.uasTimer = se
	c.pendingAnswer = answer
	c.decision = make(chan Decision, 1)
	c.dialogID = ss.ID
	if ct := req.Contact(); ct != nil {
		c.setRemoteTarget(ct.Address)
	}
	// RFC 3261 §12.1.1: the remote sequence number starts at the INVITE's.
	c.inbox.start(req.CSeq().SeqNo)
	if err := p.admit(c); err != nil {
		c.release()
		respond(tx, req, 503, "Service Unavailable")
		return
	}

	contact := c.contact()
	if replaces != nil {
		c.replaces = replaces
		c.answer(&contact)
		if c.getState() == StateActive {
			replaces.mu.Lock()
			replaces.replacedBy = c.id
			replaces.mu.Unlock()
			replaces.bye(200, "replaced", "replaced")
		}
		return
	}
	// RFC 3262 §3: a caller that requires 100rel gets a reliable 180.
	var err180 error
	if hasOptionTag(req, "Require", "100rel") {
		err180 = c.ringReliably(req.CSeq().SeqNo, &contact)
	} else {
		err180 = ss.Respond(180, "Ringing", nil, &contact)
	}
	if err180 != nil {
		c.setState(StateFailed, 0, "sending 180: "+err180.Error())
		return
	}
	// The handler learns of the call before anyone hears of it ringing, so
	// the call's first event names a session its owner already knows.
	dec := Defer(0)
	if p.opts.Handler != nil {
		hdrs := map[string]string{}
		for _, name := range []string{"User-Agent", "Call-Info", "Alert-Info", "Answer-Mode", "Referred-By", "P-Asserted-Identity"} {
			if h := req.GetHeader(name); h != nil {
				hdrs[name] = h.Value()
			}
		}
		var all []Header
		for _, h := range req.Headers() {
			if len(all) == MaxIncomingHeaders {
				break
			}
			v := h.Value()
			if len(v) > MaxHeaderValue {
				v = v[:MaxHeaderValue]
			}
			all = append(all, Header{Name: h.Name(), Value: v})
		}
		to := ""
		if req.To() != nil {
			to = req.To().Value()
		}
		dec = p.opts.Handler.OnIncomingCall(IncomingCall{
			Session: c.id, Account: c.accountName(), RemoteURI: c.remoteURI, RemoteDisplay: c.remoteDisplay,
			From: from.Value(), To: to, RequestURI: req.Recipient.String(), Subject: c.subject, SIPCallID: c.sipCallID,
			Headers: hdrs, AllHeaders: all, SDP: offer, Received: time.Now(),
			Codec: c.media.codecName(), SRTP: c.media.srtpSuite(), Transport: c.transport,
		})
	}
	c.setState(StateRinging, 180, "")
	c.decide(dec, &contact)
}

// decide carries out the decision for a ringing incoming call, waiting for a
// later one while deferred. It runs on the INVITE's handler goroutine,
// which must not return before the final response: sipgo terminates the
// INVITE server transaction when the handler returns.
func (c *call) decide(dec Decision, contact *sip.ContactHeader) {
	ss := c.ss
	// A hang-up (or Close) while the handler was deciding queued a
	// rejection: it wins over what the handler said.
	select {
	case queued := <-c.decision:
		if queued.Kind == DecisionReject || dec.Kind == DecisionDefer {
			dec = queued
		}
	default:
	}
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		switch dec.Kind {
		case DecisionAccept:
			c.answer(contact)
			return
		case DecisionReject:
			code, reason := dec.Code, dec.Reason
			if code < 400 || code > 699 {
				code = 486
			}
			if reason == "" {
				reason = statusText(code)
			}
			// The call ends now: sipgo's Respond then waits for the ACK of
			// the final response (up to 64·T1), which a scanner never sends.
			c.setState(StateCancelled, code, reason)
			// Our Contact, not sipgo's default one: a refusal names the
			// user called, as the 180 did, whoever that is.
			_ = ss.Respond(code, reason, nil, contact)
			return
		case DecisionForward:
			uri, err := ResolveTarget(dec.Target, c.domain())
			if err != nil {
				c.p.emit(ErrorEvent{Time: time.Now(), Session: c.id, Err: fmt.Errorf("forward: %w", err)})
				dec = Defer(0)
				continue
			}
			// RFC 3261 §21.3.3: 302 with the new location in Contact.
			c.setState(StateCancelled, 302, "forwarded to "+uri.String())
			_ = ss.Respond(302, "Moved Temporarily", nil, &sip.ContactHeader{Address: uri})
			return
		case DecisionDefer:
			if timer == nil {
				d := dec.Timeout
				if d <= 0 {
					d = c.p.opts.DeferTimeout
				}
				timer = time.NewTimer(d)
			}
			select {
			case dec = <-c.decision:
				continue
			case <-ss.Context().Done():
				c.setState(StateCancelled, 487, "cancelled by caller")
				return
			case <-timer.C:
				c.setState(StateFailed, 480, "no answer (timeout)")
				_ = ss.Respond(480, "Temporarily Unavailable", nil, contact)
				return
			case <-c.p.ctx.Done():
				c.setState(StateCancelled, 503, "phone closing")
				_ = ss.Respond(503, "Service Unavailable", nil, contact)
				return
			}
		default:
			c.p.log.Warn("unknown decision: the call keeps ringing", "session", c.id, "kind", dec.Kind)
			dec = Defer(0)
		}
	}
}

// answer sends 200 OK with our SDP and waits for the ACK; a call whose
// ACK never comes, or brings no answer to our offer, ends (ackwait.go).
func (c *call) answer(contact *sip.ContactHeader) {
	ss := c.ss
	if ss.Context().Err() != nil {
		c.setState(StateCancelled, 487, "cancelled by caller")
		return
	}
	hdrs := append([]sip.Header{contact,
		sip.NewHeader("Content-Type", "application/sdp"),
		sip.NewHeader("Allow", allowMethods),
		sip.NewHeader("Supported", supportedTags),
		sip.NewHeader("User-Agent", c.p.opts.UserAgent)}, timerHeaders(c.uasTimer)...)
	c.mu.Lock()
	c.answering = true
	c.mu.Unlock()
	stop := c.watchAck(ss)
	err := ss.Respond(200, "OK", c.pendingAnswer, hdrs...)
	stop()
	if err != nil {
		if ss.Context().Err() != nil {
			c.setState(StateCancelled, 487, "cancelled by caller")
			return
		}
		c.setState(StateFailed, 0, "answering: "+err.Error())
		return
	}
	if why := c.takeAckFault(); why != "" {
		c.endUnacked(why)
		return
	}
	c.media.start()
	if c.setState(StateActive, 200, "") {
		c.startSessionTimer(c.uasTimer.interval, c.uasTimer.refresher == "uas")
		c.startDTLS()
	}
}

func (c *call) pending() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	// Unknown: the handler is still deciding; its Defer will read this.
	return c.dir == DirectionIncoming && c.decision != nil && (c.state == StateUnknown || c.state == StateRinging)
}

func (p *Phone) decideLater(id SessionID, d Decision) error {
	c, err := p.lookup(id)
	if err != nil {
		return err
	}
	if !c.pending() {
		return fmt.Errorf("%w: session %s is not a ringing incoming call", ErrWrongState, id)
	}
	select {
	case c.decision <- d:
		return nil
	default:
		return fmt.Errorf("%w: a decision for %s is already pending", ErrWrongState, id)
	}
}

// Accept answers a ringing (deferred) incoming call.
func (p *Phone) Accept(id SessionID) error { return p.decideLater(id, Accept()) }

// Reject refuses a ringing (deferred) incoming call with code and reason.
func (p *Phone) Reject(id SessionID, code int, reason string) error {
	if code < 400 || code > 699 {
		return fmt.Errorf("%w: reject code %d is not 4xx-6xx", ErrInvalidInput, code)
	}
	if err := checkText("reason", reason); err != nil {
		return err
	}
	return p.decideLater(id, Reject(code, reason))
}

// Forward redirects a ringing (deferred) incoming call to target with 302.
func (p *Phone) Forward(id SessionID, target string) error {
	c, err := p.lookup(id)
	if err != nil {
		return err
	}
	if _, err := ResolveTarget(target, c.domain()); err != nil {
		return fmt.Errorf("forward: %w", err)
	}
	return p.decideLater(id, Forward(target))
}
