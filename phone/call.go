package phone

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// call is one session: a SIP dialog (or the attempt to make one) with its
// offer/answer state and media.
type call struct {
	p         *Phone
	id        SessionID
	dir       Direction
	acct      *account
	transport string

	// dialogMu serialises every request we send inside the dialog: sipgo's
	// CSeq counter is not safe for concurrent use (notes/sipgo.md §4).
	dialogMu sync.Mutex

	mu             sync.Mutex
	state          State
	heldLocal      bool
	heldRemote     bool
	muted          bool
	remoteURI      string
	remoteDisplay  string
	subject        string
	sipCallID      string
	replacedBy     SessionID
	cs             *sipgo.DialogClientSession
	ss             *sipgo.DialogServerSession
	dialogID       string
	gotProvisional bool
	localCancel    bool
	cancelInvite   context.CancelCauseFunc
	decision       chan Decision
	pendingAnswer  []byte // incoming: our SDP answer, computed when the INVITE arrived
	media          mediaState
	rtp, rtcp      *net.UDPConn
	released       bool
	ended          chan struct{}
	offerPending   bool     // our re-INVITE is in flight (an incoming one gets 491)
	remoteTarget   *sip.Uri // refreshed remote target (RFC 3261 §12.2)
	transfer       *referState
	dtmfMu         sync.Mutex // one DTMF string at a time
	lastCode       int
	lastReason     string
	stateChanged   chan struct{}
	replaces       *call // incoming INVITE with Replaces: the call it replaces
}

func (p *Phone) newCall(dir Direction, acct *account, transport string) (*call, error) {
	rtp, rtcp, err := p.ports.allocate()
	if err != nil {
		return nil, err
	}
	c := &call{
		p: p, id: p.newSessionID(), dir: dir, acct: acct, transport: transport,
		rtp: rtp, rtcp: rtcp, ended: make(chan struct{}),
	}
	c.media.init(p, c.id, rtp, rtcp)
	return c, nil
}

func (c *call) accountName() string {
	if c.acct == nil {
		return ""
	}
	return c.acct.cfg.Name
}

// snapshotLocked builds the event for the current state. c.mu must be held.
func (c *call) snapshotLocked(code int, reason string) CallEvent {
	return CallEvent{
		Time: time.Now(), Session: c.id, Direction: c.dir, State: c.state, Account: c.accountName(),
		RemoteURI: c.remoteURI, RemoteDisplay: c.remoteDisplay, Subject: c.subject, SIPCallID: c.sipCallID,
		HeldLocal: c.heldLocal, HeldRemote: c.heldRemote, Muted: c.muted, Codec: c.media.codecName(),
		Code: code, Reason: reason, ReplacedBy: c.replacedBy,
	}
}

// setState moves the call to st and emits a CallEvent. Once a final state is
// reached later transitions are ignored (the first cause wins). It reports
// whether the transition happened.
func (c *call) setState(st State, code int, reason string) bool {
	c.mu.Lock()
	if c.state.Final() || (c.state == st && !st.Final()) {
		c.mu.Unlock()
		return false
	}
	c.state = st
	c.lastCode, c.lastReason = code, reason
	if c.stateChanged != nil {
		close(c.stateChanged)
		c.stateChanged = nil
	}
	ev := c.snapshotLocked(code, reason)
	c.mu.Unlock()
	c.p.emit(ev)
	if st.Final() {
		close(c.ended)
		c.release()
	}
	return true
}

// changed emits a CallEvent for a change of flags (hold, mute, codec) without a state change.
func (c *call) changed(reason string) {
	c.mu.Lock()
	if c.state.Final() {
		c.mu.Unlock()
		return
	}
	ev := c.snapshotLocked(0, reason)
	c.mu.Unlock()
	c.p.emit(ev)
}

func (c *call) getState() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// release frees the ports and the map entries. Idempotent.
func (c *call) release() {
	c.mu.Lock()
	if c.released {
		c.mu.Unlock()
		return
	}
	c.released = true
	dialogID, callID := c.dialogID, c.sipCallID
	c.mu.Unlock()
	c.media.stop()
	if c.rtp != nil {
		c.rtp.Close()
	}
	if c.rtcp != nil {
		c.rtcp.Close()
	}
	p := c.p
	p.mu.Lock()
	if p.calls[c.id] == c {
		delete(p.calls, c.id)
	}
	if dialogID != "" && p.byDialog[dialogID] == c {
		delete(p.byDialog, dialogID)
	}
	if callID != "" && p.byCallID[callID] == c {
		delete(p.byCallID, callID)
	}
	p.mu.Unlock()
}

func (c *call) setDialogID(id string) {
	c.mu.Lock()
	c.dialogID = id
	c.mu.Unlock()
	c.p.mu.Lock()
	c.p.byDialog[id] = c
	c.p.mu.Unlock()
}

// ---- outgoing ----

func (p *Phone) pickAccount(name string) (*account, error) {
	if name == "" {
		if len(p.accounts) > 0 {
			return p.accounts[0], nil
		}
		return nil, nil
	}
	for _, a := range p.accounts {
		if a.cfg.Name == name {
			return a, nil
		}
	}
	return nil, fmt.Errorf("%w: no account named %q", ErrInvalidInput, name)
}

// Dial places a call to target (a SIP URI, user@host, or a number completed
// with the account's domain). It returns as soon as the session exists;
// progress arrives as CallEvents.
func (p *Phone) Dial(ctx context.Context, target string, o DialOptions) (SessionID, error) {
	c, err := p.dial(target, o)
	if err != nil {
		return "", err
	}
	return c.id, nil
}

func (p *Phone) dial(target string, o DialOptions) (*call, error) {
	p.mu.Lock()
	ok := p.started && !p.closed
	p.mu.Unlock()
	if !ok {
		return nil, ErrClosed
	}
	acct, err := p.pickAccount(o.Account)
	if err != nil {
		return nil, err
	}
	domain := ""
	if acct != nil {
		domain = acct.domain()
	}
	uri, err := ResolveTarget(target, domain)
	if err != nil {
		return nil, fmt.Errorf("dial %q: %w", target, err)
	}
	if err := checkText("subject", o.Subject); err != nil {
		return nil, fmt.Errorf("dial %q: %w", target, err)
	}
	for k, v := range o.Headers {
		if err := ValidateHeader(k, v); err != nil {
			return nil, fmt.Errorf("dial %q: %w", target, err)
		}
	}
	transport := "UDP"
	if acct != nil {
		transport = acct.transport
	}
	if v, ok := uri.UriParams.Get("transport"); ok {
		transport = strings.ToUpper(v)
	}
	if _, err := p.clientFor(transport); err != nil {
		return nil, fmt.Errorf("dial %q: %w", target, err)
	}
	c, err := p.newCall(DirectionOutgoing, acct, transport)
	if err != nil {
		return nil, fmt.Errorf("dial %q: %w", target, err)
	}
	c.remoteURI = uri.String()
	c.subject = o.Subject
	c.sipCallID = sip.GenerateTagN(24) + "@teaphone"
	offer, err := c.media.offer()
	if err != nil {
		c.release()
		return nil, fmt.Errorf("dial %q: %w", target, err)
	}
	p.mu.Lock()
	p.calls[c.id] = c
	p.byCallID[c.sipCallID] = c
	p.mu.Unlock()
	c.setState(StateInitiating, 0, "")
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		c.runOutgoing(uri, offer, o)
	}()
	return c, nil
}

func (c *call) runOutgoing(uri sip.Uri, offer []byte, o DialOptions) {
	p := c.p
	user := "teaphone"
	if c.acct != nil {
		user = c.acct.user()
	}
	dua, err := p.dialogUA(c.transport, user)
	if err != nil {
		c.setState(StateFailed, 0, err.Error())
		return
	}
	req := sip.NewRequest(sip.INVITE, uri)
	req.SetTransport(c.transport)
	var from *sip.FromHeader
	if c.acct != nil {
		from = c.acct.fromHeader()
	} else {
		from = &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: p.hostIP.String(), Port: p.port}, Params: tagParams(sip.GenerateTagN(16))}
	}
	req.AppendHeader(from)
	to := &sip.ToHeader{Address: sip.Uri{Scheme: uri.Scheme, User: uri.User, Host: uri.Host, Port: uri.Port}}
	req.AppendHeader(to)
	cid := sip.CallIDHeader(c.sipCallID)
	req.AppendHeader(&cid)
	contact := p.contactFor(user, c.transport)
	req.AppendHeader(&contact)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.AppendHeader(sip.NewHeader("Allow", allowMethods))
	req.AppendHeader(sip.NewHeader("Supported", "replaces"))
	req.AppendHeader(sip.NewHeader("User-Agent", p.opts.UserAgent))
	if o.Subject != "" {
		req.AppendHeader(sip.NewHeader("Subject", o.Subject))
	}
	for k, v := range o.Headers {
		req.AppendHeader(sip.NewHeader(k, v))
	}
	if c.acct != nil && c.acct.proxy != nil {
		route := sip.Uri{Scheme: "sip", Host: c.acct.proxy.Host, Port: c.acct.proxy.Port, UriParams: sip.NewParams()}
		route.UriParams.Add("lr", "")
		req.AppendHeader(&sip.RouteHeader{Address: route})
		req.SetDestination(hostPort(*c.acct.proxy))
	}
	req.SetBody(offer)

	ctx, cancel := context.WithCancelCause(p.ctx)
	defer cancel(nil)
	c.mu.Lock()
	if c.state.Final() { // hung up before we got here
		c.mu.Unlock()
		return
	}
	c.cancelInvite = cancel
	c.mu.Unlock()

	cs, err := dua.WriteInvite(ctx, req)
	if err != nil {
		c.setState(StateFailed, 0, "sending INVITE: "+err.Error())
		return
	}
	c.mu.Lock()
	c.cs = cs
	c.mu.Unlock()
	defer cs.Close()

	opts := sipgo.AnswerOptions{OnResponse: c.onResponse}
	if c.acct != nil && c.acct.cfg.Password != "" {
		opts.Username, opts.Password = c.acct.authUser(), c.acct.cfg.Password
	}
	for {
		err = waitAnswer(ctx, cs, opts)
		// sipgo gives up after 10 responses without sending CANCEL or ACK
		// (notes/sipgo.md §2): resume reading the same transaction.
		if err != nil && err.Error() == "more than 10 responses received" {
			continue
		}
		break
	}
	if err != nil {
		c.outgoingFailed(cs, err)
		return
	}
	// RFC 3261 §13.2.2.4: ACK every 2xx, even when we no longer want the call.
	if ackErr := cs.Ack(context.Background()); ackErr != nil {
		p.log.Warn("ACK failed", "session", c.id, "err", ackErr)
	}
	c.setDialogID(cs.ID)
	if err := c.media.applyAnswer(cs.InviteResponse.Body()); err != nil {
		p.log.Warn("bad SDP answer", "session", c.id, "err", err)
		c.bye(488, "Not Acceptable Here", "bad SDP answer: "+err.Error())
		return
	}
	c.mu.Lock()
	cancelled := c.localCancel || c.state.Final()
	c.mu.Unlock()
	if cancelled {
		// The 200 crossed our CANCEL: end the call we no longer want.
		c.sendBye()
		return
	}
	c.media.start()
	c.media.update() // after early media the 200 may change the stream
	c.setState(StateActive, cs.InviteResponse.StatusCode, cs.InviteResponse.Reason)
}

// waitAnswer is cs.WaitAnswer, with a panic inside sipgo turned into an
// error: v1.7.2 dereferences a nil response when the transaction layer
// closes while a CANCEL is in flight (dialog_client.go inviteCancel).
func waitAnswer(ctx context.Context, cs *sipgo.DialogClientSession, opts sipgo.AnswerOptions) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: sipgo: %v", context.Canceled, r)
		}
	}()
	return cs.WaitAnswer(ctx, opts)
}

// onResponse surfaces provisional responses (100/180/183).
func (c *call) onResponse(res *sip.Response) error {
	if !res.IsProvisional() {
		return nil
	}
	c.mu.Lock()
	c.gotProvisional = true
	c.mu.Unlock()
	// Early media (RFC 3960): a provisional response with SDP answers our
	// offer; play what the far end sends (ringback, announcements) now.
	if len(res.Body()) > 0 && isSDP(res) {
		if err := c.media.applyAnswer(res.Body()); err == nil {
			c.media.start()
			c.media.update()
		}
	}
	switch {
	case res.StatusCode == 180 || res.StatusCode == 181 || res.StatusCode == 182:
		c.setState(StateRinging, res.StatusCode, res.Reason)
	case res.StatusCode == 183:
		if c.getState() != StateRinging {
			c.setState(StateProceeding, res.StatusCode, res.Reason)
		}
	case res.StatusCode == 100:
		if c.getState() == StateInitiating {
			c.setState(StateProceeding, res.StatusCode, res.Reason)
		}
	}
	return nil
}

func (c *call) outgoingFailed(cs *sipgo.DialogClientSession, err error) {
	var de *sipgo.ErrDialogResponse
	switch {
	case errors.As(err, &de):
		code, reason := de.Res.StatusCode, de.Res.Reason
		c.mu.Lock()
		local := c.localCancel
		c.mu.Unlock()
		if code == 487 && local {
			c.setState(StateCancelled, code, "cancelled")
			return
		}
		c.setState(StateFailed, code, reason)
	case errors.Is(err, context.Canceled):
		c.setState(StateCancelled, 487, "cancelled")
	default:
		// A 2xx that crossed our CANCEL: ACK it and hang up (RFC 3261 §9.1).
		if r := cs.InviteResponse; r != nil && r.IsSuccess() {
			if id, idErr := sip.DialogIDFromResponse(r); idErr == nil {
				cs.ID = id
			}
			_ = cs.Ack(context.Background())
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = cs.Bye(ctx)
			cancel()
			c.setState(StateCancelled, 487, "cancelled")
			return
		}
		msg := err.Error()
		code := 0
		if errors.Is(err, sip.ErrTransactionTimeout) {
			code, msg = 408, "Request Timeout (no answer from "+c.remoteURI+")"
		} else if errors.Is(err, sip.ErrTransactionTransport) {
			msg = "transport error: " + msg
		}
		c.setState(StateFailed, code, msg)
	}
}

// onLate2xx handles a 2xx to our INVITE that no transaction waits for.
func (c *call) onLate2xx(res *sip.Response) {
	c.mu.Lock()
	cs := c.cs
	active := c.state == StateActive
	c.mu.Unlock()
	if cs == nil {
		return
	}
	if active {
		// Our ACK was lost: re-ACK (RFC 3261 §13.2.2.4).
		_ = cs.Ack(context.Background())
	}
}

// ---- hanging up ----

// Hangup ends the session as its state requires: CANCEL an unanswered
// outgoing call, decline (603) an unanswered incoming call, BYE an active one.
func (p *Phone) Hangup(id SessionID) error {
	c, err := p.lookup(id)
	if err != nil {
		return err
	}
	c.hangup(603, "Decline", "local hangup")
	return nil
}

func (c *call) hangup(code int, reason, why string) {
	c.mu.Lock()
	st := c.state
	dir := c.dir
	cancel := c.cancelInvite
	dec := c.decision
	c.mu.Unlock()
	switch {
	case st.Final():
		return
	case dir == DirectionOutgoing && st.early():
		closing := c.p.isClosed()
		c.mu.Lock()
		c.localCancel = true
		force := closing && !c.gotProvisional
		c.mu.Unlock()
		if cancel != nil {
			if force {
				cancel(sipgo.WaitAnswerForceCancelErr)
			} else {
				cancel(nil) // sipgo sends CANCEL once a provisional response arrived (RFC 3261 §9.1)
			}
		}
		c.setState(StateCancelled, 487, "cancelled")
	case dir == DirectionIncoming && st.early():
		if dec != nil {
			select {
			case dec <- Reject(code, reason):
			default:
			}
		}
	default:
		c.bye(200, "", why)
	}
}

// bye sends BYE and ends the call.
func (c *call) bye(code int, reason, why string) {
	if !c.setState(StateTerminating, 0, why) {
		if c.getState() != StateTerminating {
			return
		}
	}
	err := c.sendBye()
	if err != nil {
		c.p.log.Warn("BYE failed", "session", c.id, "err", err)
		why += " (BYE: " + err.Error() + ")"
	}
	if reason == "" {
		reason = why
	}
	c.setState(StateTerminated, code, reason)
}

func (c *call) sendBye() error {
	c.dialogMu.Lock()
	defer c.dialogMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	c.mu.Lock()
	cs, ss := c.cs, c.ss
	c.mu.Unlock()
	if cs != nil {
		return cs.Bye(ctx)
	}
	if ss != nil {
		return ss.Bye(ctx)
	}
	return errors.New("no dialog")
}

// ---- incoming ----

func (p *Phone) matchAccount(req *sip.Request) *account {
	for _, a := range p.accounts {
		if strings.EqualFold(a.user(), req.Recipient.User) {
			return a
		}
	}
	return nil
}

func (p *Phone) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to != nil {
		if _, ok := to.Params.Get("tag"); ok {
			p.onReInvite(req, tx)
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
	if p.opts.MaxCalls > 0 && n >= p.opts.MaxCalls {
		respond(tx, req, 486, "Busy Here")
		return
	}
	if req.From() == nil || req.CallID() == nil || req.Contact() == nil {
		respond(tx, req, 400, "Bad Request (missing From, Call-ID or Contact)")
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
	if transport != "TCP" {
		transport = "UDP"
	}
	user := "teaphone"
	if acct != nil {
		user = acct.user()
	}
	c, err := p.newCall(DirectionIncoming, acct, transport)
	if err != nil {
		p.log.Warn("incoming call refused", "err", err)
		respond(tx, req, 503, "Service Unavailable (no RTP port)")
		return
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
			res.AppendHeader(sip.NewHeader("Warning", `304 teaphone "`+sanitizeWarning(err.Error())+`"`))
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
	}
	dua, err := p.dialogUA(transport, user)
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
	if h := req.GetHeader("Subject"); h != nil {
		c.subject = h.Value()
	}
	c.sipCallID = req.CallID().Value()
	c.ss = ss
	c.pendingAnswer = answer
	c.decision = make(chan Decision, 1)
	c.dialogID = ss.ID
	p.mu.Lock()
	p.calls[c.id] = c
	p.byDialog[ss.ID] = c
	p.byCallID[c.sipCallID] = c
	p.mu.Unlock()

	contact := p.contactFor(user, transport)
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
	if err := ss.Respond(180, "Ringing", nil, &contact); err != nil {
		c.setState(StateFailed, 0, "sending 180: "+err.Error())
		return
	}
	c.setState(StateRinging, 180, "")

	var dec Decision
	if p.opts.Handler != nil {
		hdrs := map[string]string{}
		for _, name := range []string{"User-Agent", "Call-Info", "Alert-Info", "Answer-Mode", "Referred-By", "P-Asserted-Identity"} {
			if h := req.GetHeader(name); h != nil {
				hdrs[name] = h.Value()
			}
		}
		to := ""
		if req.To() != nil {
			to = req.To().Value()
		}
		dec = p.opts.Handler.OnIncomingCall(IncomingCall{
			Session: c.id, Account: c.accountName(), RemoteURI: c.remoteURI, RemoteDisplay: c.remoteDisplay,
			From: from.Value(), To: to, RequestURI: req.Recipient.String(), Subject: c.subject, SIPCallID: c.sipCallID,
			Headers: hdrs, SDP: offer, Received: time.Now(),
		})
	} else {
		dec = Accept()
	}
	c.decide(dec, &contact)
}

// decide carries out the decision for a ringing incoming call, waiting for a
// later one while deferred. It runs on the INVITE's goroutine, which must not
// return before the final response (notes/sipgo.md §1).
func (c *call) decide(dec Decision, contact *sip.ContactHeader) {
	ss := c.ss
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
			_ = ss.Respond(code, reason, nil)
			c.setState(StateCancelled, code, reason)
			return
		case DecisionForward:
			uri, err := ParseURI(dec.Target)
			if err != nil {
				c.p.emit(ErrorEvent{Time: time.Now(), Session: c.id, Err: fmt.Errorf("forward: %w", err)})
				dec = Defer(0)
				continue
			}
			// RFC 3261 §21.3.3: 302 with the new location in Contact.
			_ = ss.Respond(302, "Moved Temporarily", nil, &sip.ContactHeader{Address: uri})
			c.setState(StateCancelled, 302, "forwarded to "+uri.String())
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
				_ = ss.Respond(480, "Temporarily Unavailable", nil)
				c.setState(StateFailed, 480, "no answer (timeout)")
				return
			case <-c.p.ctx.Done():
				_ = ss.Respond(503, "Service Unavailable", nil)
				c.setState(StateCancelled, 503, "phone closing")
				return
			}
		default:
			dec = Reject(500, "Server Internal Error")
		}
	}
}

// answer sends 200 OK with our SDP and waits for the ACK.
func (c *call) answer(contact *sip.ContactHeader) {
	ss := c.ss
	if ss.Context().Err() != nil {
		c.setState(StateCancelled, 487, "cancelled by caller")
		return
	}
	err := ss.Respond(200, "OK", c.pendingAnswer, contact,
		sip.NewHeader("Content-Type", "application/sdp"),
		sip.NewHeader("Allow", allowMethods),
		sip.NewHeader("Supported", "replaces"),
		sip.NewHeader("User-Agent", c.p.opts.UserAgent))
	if err != nil {
		if ss.Context().Err() != nil {
			c.setState(StateCancelled, 487, "cancelled by caller")
			return
		}
		c.setState(StateFailed, 0, "answering: "+err.Error())
		return
	}
	c.media.start()
	c.setState(StateActive, 200, "")
}

func (c *call) pending() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dir == DirectionIncoming && c.decision != nil && (c.state == StateRinging)
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
	if _, err := ParseURI(target); err != nil {
		return fmt.Errorf("forward: %w", err)
	}
	return p.decideLater(id, Forward(target))
}

// ---- in-dialog routing ----

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

func (p *Phone) onInfo(req *sip.Request, tx sip.ServerTransaction) {
	c := p.findDialog(req)
	if c == nil {
		respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = strings.ToLower(strings.TrimSpace(h.Value()))
	}
	switch {
	case strings.HasPrefix(ct, "application/dtmf-relay"):
		digit, ok := parseDTMFRelay(string(req.Body()))
		if !ok {
			respond(tx, req, 400, "Bad Request (no Signal)")
			return
		}
		respond(tx, req, 200, "OK")
		p.emit(DTMFEvent{Time: time.Now(), Session: c.id, Digit: digit, Received: true, Method: "info"})
	case strings.HasPrefix(ct, "application/dtmf"):
		d := strings.TrimSpace(string(req.Body()))
		if len(d) != 1 || !isDTMF(rune(d[0])) {
			respond(tx, req, 400, "Bad Request")
			return
		}
		respond(tx, req, 200, "OK")
		p.emit(DTMFEvent{Time: time.Now(), Session: c.id, Digit: rune(d[0]), Received: true, Method: "info"})
	case len(req.Body()) == 0:
		respond(tx, req, 200, "OK") // keep-alive INFO
	default:
		respond(tx, req, 415, "Unsupported Media Type")
	}
}

// parseDTMFRelay reads "Signal=5\r\nDuration=160" (application/dtmf-relay).
func parseDTMFRelay(body string) (rune, bool) {
	for _, line := range strings.FieldsFunc(body, func(r rune) bool { return r == '\n' || r == '\r' }) {
		k, v, ok := strings.Cut(line, "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "signal") {
			continue
		}
		v = strings.ToUpper(strings.TrimSpace(v))
		switch v {
		case "10":
			return '*', true
		case "11":
			return '#', true
		}
		if len(v) == 1 && isDTMF(rune(v[0])) {
			return rune(v[0]), true
		}
		return 0, false
	}
	return 0, false
}

func isDTMF(r rune) bool {
	return r >= '0' && r <= '9' || r == '*' || r == '#' || r >= 'A' && r <= 'D'
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
