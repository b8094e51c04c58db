package phone

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/teaphone/teaphone/phone/locator"
)

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
// progress arrives as CallEvents. o.Session, when set, is the session's ID
// (the caller can then route the session's first event); it must not be in
// use.
func (p *Phone) Dial(ctx context.Context, target string, o DialOptions) (SessionID, error) {
	c, err := p.dial(target, o)
	if err != nil {
		return "", err
	}
	return c.id, nil
}

func (p *Phone) dial(target string, o DialOptions) (*call, error) {
	if !p.running() {
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
	if err := checkText("session", string(o.Session)); err != nil {
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
	transport = uriTransport(uri, transport)
	if _, err := p.clientFor(transport); err != nil {
		return nil, fmt.Errorf("dial %q: %w", target, err)
	}
	c, err := p.newCall(o.Session, DirectionOutgoing, acct, transport)
	if err != nil {
		return nil, fmt.Errorf("dial %q: %w", target, err)
	}
	c.remoteURI = uri.String()
	c.subject = o.Subject
	c.sipCallID = sip.GenerateTagN(32) // no host part: it would name the product or the machine
	c.fromTag = sip.GenerateTagN(16)
	hop := c.firstHop(uri)
	c.useHost(p.hostFor(hostAddr(hop.Host)))
	if public, ok := p.stunMap(c.ctx, c.rtp, hostAddr(hop.Host)); ok {
		c.media.usePublic(public)
	}
	if se := p.opts.SessionExpires; se > 0 {
		c.uacAsk = uacAsk{interval: max(se, p.opts.MinSE), minSE: p.opts.MinSE}
	}
	offer, err := c.media.offer()
	if err != nil {
		c.release()
		return nil, fmt.Errorf("dial %q: %w", target, err)
	}
	if err := p.admit(c); err != nil {
		c.release()
		return nil, fmt.Errorf("dial %q: %w", target, err)
	}
	c.setState(StateInitiating, 0, "")
	if !p.spawn(func() { c.runOutgoing(uri, offer, o) }) {
		// Close came between: its snapshot has the call and ends it.
		c.setState(StateCancelled, 503, "phone closing")
		return nil, fmt.Errorf("dial %q: %w", target, ErrClosed)
	}
	return c, nil
}

// buildInvite makes the INVITE of an outgoing call for transport.
func (c *call) buildInvite(uri sip.Uri, offer []byte, o DialOptions, transport string) *sip.Request {
	p := c.p
	req := sip.NewRequest(sip.INVITE, uri)
	req.SetTransport(transport)
	var from *sip.FromHeader
	if c.acct != nil {
		from = c.acct.fromHeader()
		from.Params = tagParams(c.fromTag)
	} else {
		// No account, no identity: our address only, as pjsua does (a user
		// part would be made up, and it named the product).
		from = &sip.FromHeader{Address: sip.Uri{Scheme: "sip", Host: p.hostIP.String(), Port: p.port}, Params: tagParams(c.fromTag)}
	}
	req.AppendHeader(from)
	to := &sip.ToHeader{Address: sip.Uri{Scheme: uri.Scheme, User: uri.User, Host: uri.Host, Port: uri.Port}}
	req.AppendHeader(to)
	cid := sip.CallIDHeader(c.sipCallID)
	req.AppendHeader(&cid)
	contact := c.contact()
	req.AppendHeader(&contact)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.AppendHeader(sip.NewHeader("Allow", allowMethods))
	req.AppendHeader(sip.NewHeader("Supported", supportedTags))
	req.AppendHeader(sip.NewHeader("User-Agent", p.opts.UserAgent))
	for _, h := range c.inviteTimerHeaders() {
		req.AppendHeader(h)
	}
	c.mu.Lock()
	if c.uacAsk.cseq != 0 {
		req.AppendHeader(&sip.CSeqHeader{SeqNo: c.uacAsk.cseq, MethodName: sip.INVITE})
	}
	c.mu.Unlock()
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
	return req
}

// firstHop is where a request to uri goes first: the account's outbound
// proxy, else uri itself.
func (c *call) firstHop(uri sip.Uri) sip.Uri {
	if c.acct != nil && c.acct.proxy != nil {
		return *c.acct.proxy
	}
	return uri
}

// inviteServers returns where the INVITE may go, in order: the located
// servers of the first hop (the outbound proxy, else the Request-URI's
// host) when it is a name (RFC 3263 §4), or nil to let the address in the
// URI decide.
func (c *call) inviteServers(uri sip.Uri) (*locator.Failover, error) {
	hop := c.firstHop(uri)
	if hostAddr(hop.Host).IsValid() {
		return nil, nil
	}
	q := locator.Query{Host: hop.Host, Port: hop.Port, Secure: strings.EqualFold(hop.Scheme, "sips")}
	if v, ok := hop.UriParams.Get("transport"); ok {
		q.Transport = v
	}
	ctx, cancel := context.WithTimeout(c.ctx, locator.DefaultTimeout)
	defer cancel()
	targets, err := c.p.loc.Locate(ctx, q)
	if err != nil {
		return nil, err
	}
	c.p.log.Info("call located", "session", c.id, "host", hop.Host, "servers", targets)
	return locator.NewFailover(targets), nil
}

// failsOverInvite says whether an INVITE's outcome means "try the next
// server" (RFC 3263 §4.3): no response at all (a transport error or a
// timeout) or a 503, and nothing that says a server took the call.
func (c *call) failsOverInvite(err error) bool {
	c.mu.Lock()
	taken := c.gotProvisional || c.localCancel || c.state.Final()
	bounced := c.inviteBounce != ""
	c.mu.Unlock()
	if taken || err == nil {
		return false
	}
	if bounced {
		return true // an ICMP error: a transport error (RFC 3261 §18.4)
	}
	var de *sipgo.ErrDialogResponse
	if errors.As(err, &de) {
		return de.Res.StatusCode == sip.StatusServiceUnavailable
	}
	return errors.Is(err, sip.ErrTransactionTimeout) || errors.Is(err, sip.ErrTransactionTransport)
}

func (c *call) runOutgoing(uri sip.Uri, offer []byte, o DialOptions) {
	p := c.p
	servers, err := c.inviteServers(uri)
	if err != nil {
		c.setState(StateFailed, 0, err.Error())
		return
	}
	var server *locator.Target
	retry := false
	for {
		if servers != nil && !retry {
			t, ok := servers.Next()
			if !ok {
				c.setState(StateFailed, 503, servers.Err().Error())
				return
			}
			server = &t
		}
		err := c.inviteOnce(uri, offer, o, server)
		if err == nil {
			return
		}
		if retry = errors.Is(err, errRetryTimer); retry {
			continue // the same server, asking for the interval it wants
		}
		if retry = errors.Is(err, errRetrySAVP); retry {
			if offer, err = c.media.offer(); err != nil {
				c.setState(StateFailed, 0, "RTP/SAVP offer: "+err.Error())
				return
			}
			continue // the same server, offering RTP/SAVP
		}
		p.log.Warn("server failed the INVITE, trying the next", "session", c.id, "server", server, "err", err)
		servers.Fail(*server, err)
	}
}

// inviteOnce sends the INVITE (to server when one is given) and sees the
// call through to its answer or its end. It returns an error only when the
// server failed in a way that lets the next one be tried (failsOverInvite).
func (c *call) inviteOnce(uri sip.Uri, offer []byte, o DialOptions, server *locator.Target) error {
	p := c.p
	transport := c.transport
	if server != nil {
		transport = server.Transport
		c.mu.Lock()
		c.transport = transport
		c.mu.Unlock()
	}
	dua, err := p.dialogUA(c.acct, transport, c.host)
	if err != nil {
		c.setState(StateFailed, 0, err.Error())
		return nil
	}
	req := c.buildInvite(uri, offer, o, transport)
	if server != nil {
		req.SetDestination(server.Addr.String())
	}
	if strings.EqualFold(transport, "TLS") {
		if err := p.tlsConnect(c.ctx, req, p.callTLSPeer(c.acct, uri)); err != nil {
			c.setState(StateFailed, 0, err.Error())
			return nil
		}
	}

	ctx, cancel := context.WithCancelCause(c.ctx)
	defer cancel(nil)
	c.mu.Lock()
	if c.state.Final() { // hung up before we got here
		c.mu.Unlock()
		return nil
	}
	c.cancelInvite = cancel
	c.inviteDest = req.Destination()
	c.inviteLocated, c.inviteBounce = server != nil, ""
	c.mu.Unlock()

	cs, err := dua.WriteInvite(ctx, req)
	if err != nil {
		if server != nil && c.failsOverInvite(err) {
			return err
		}
		c.setState(StateFailed, 0, "sending INVITE: "+err.Error())
		return nil
	}
	c.mu.Lock()
	c.cs = cs
	c.mu.Unlock()
	defer cs.Close()

	var provisionals int
	opts := sipgo.AnswerOptions{OnResponse: func(res *sip.Response) error {
		if res.IsProvisional() {
			// sipgo's WaitAnswer gives up after 10 responses, sending
			// neither CANCEL nor ACK: stop it before, and wait again on
			// the same transaction.
			if provisionals++; provisionals >= maxProvisionalsPerWait {
				provisionals = 0
				_ = c.onResponse(res)
				return errWaitAgain
			}
		}
		return c.onResponse(res)
	}}
	if c.acct != nil && c.acct.cfg.Password != "" {
		opts.Username, opts.Password = c.acct.authUser(), c.acct.cfg.Password
	}
	for {
		err = waitAnswer(ctx, cs, opts)
		if !errors.Is(err, errWaitAgain) {
			break
		}
	}
	if err != nil {
		if c.retryAfter422(err) {
			return errRetryTimer
		}
		if c.retrySAVPAfter488(err) {
			return errRetrySAVP
		}
		if server != nil && c.failsOverInvite(err) {
			c.mu.Lock()
			if c.inviteBounce != "" {
				err = fmt.Errorf("%w: %s", sip.ErrTransactionTransport, c.inviteBounce)
			}
			c.mu.Unlock()
			return err
		}
		c.outgoingFailed(cs, err)
		return nil
	}
	// RFC 3261 §13.2.2.4: ACK every 2xx, even when we no longer want the call.
	if ackErr := c.ackFirst(cs); ackErr != nil {
		p.log.Warn("ACK failed", "session", c.id, "err", ackErr)
	}
	c.setDialogID(cs.ID)
	if ct := cs.InviteResponse.Contact(); ct != nil {
		c.setRemoteTarget(ct.Address)
	}
	if err := c.media.applyAnswer(cs.InviteResponse.Body()); err != nil {
		p.log.Warn("bad SDP answer", "session", c.id, "err", err)
		reason := "bad SDP answer: " + err.Error()
		if errors.Is(err, ErrSRTPRequired) || errors.Is(err, ErrDTLSRequired) {
			reason = err.Error()
		}
		// The call never became active (bye needs that): BYE the
		// dialog the 2xx made, and the call failed.
		if berr := c.sendBye(); berr != nil {
			p.log.Warn("BYE failed", "session", c.id, "err", berr)
		}
		c.setState(StateFailed, 488, reason)
		return nil
	}
	c.mu.Lock()
	cancelled := c.localCancel || c.state.Final()
	c.mu.Unlock()
	if cancelled {
		// The 200 crossed our CANCEL: end the call we no longer want.
		c.sendBye()
		return nil
	}
	c.media.start()
	c.media.update() // after early media the 200 may change the stream
	if c.setState(StateActive, cs.InviteResponse.StatusCode, cs.InviteResponse.Reason) {
		// RFC 4028 §7.2: a 2xx with Session-Expires sets the timer; we
		// refresh unless it names the callee.
		if se, present, ok := sessionExpiresOf(cs.InviteResponse); present && ok {
			c.startSessionTimer(se.interval, se.refresher != "uas")
		} else if present {
			p.log.Warn("bad Session-Expires in the 2xx: no session timer", "session", c.id)
		}
		c.startDTLS()
	}
	return nil
}
