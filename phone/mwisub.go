package phone

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// mailboxExpires is the subscription lifetime asked for (RFC 3842 §4.1
// leaves it to the subscriber; an hour is what phones ask).
const mailboxExpires = time.Hour

// mailboxRetry is how long a failed SUBSCRIBE waits before the next try.
const mailboxRetry = time.Minute

// mailboxLoop keeps a subscription to the message summary of a's mailbox
// (Account.Mailbox, else its AOR; RFC 3842 §3) once a is registered: a
// SUBSCRIBE with Expires: 3600, refreshed at 80 % of what the notifier
// grants, a new one after a failure. The NOTIFYs it brings are taken by
// onMessageSummary like unsolicited ones. It returns when the phone closes.
func (p *Phone) mailboxLoop(a *account) {
	target := a.aor
	if a.cfg.Mailbox != "" {
		u, err := ParseURI(a.cfg.Mailbox)
		if err != nil {
			p.log.Warn("mailbox subscription: bad mailbox URI", "account", a.cfg.Name, "err", err)
			return
		}
		target = u
	}
	callID := sip.CallIDHeader(sip.GenerateTagN(32))
	fromTag, toTag := sip.GenerateTagN(16), ""
	var cseq uint32 = 1
	for {
		if !p.waitRegistered(a) {
			return
		}
		granted, tag, err := p.subscribeMailbox(p.ctx, a, target, callID, fromTag, toTag, &cseq)
		wait := granted * 4 / 5
		if err != nil {
			if p.ctx.Err() != nil {
				return
			}
			p.log.Info("mailbox subscription", "account", a.cfg.Name, "err", err)
			// A new subscription next time (a 481 says the old one is gone).
			callID, fromTag, tag = sip.CallIDHeader(sip.GenerateTagN(32)), sip.GenerateTagN(16), ""
			wait = mailboxRetry
		}
		toTag = tag
		select {
		case <-p.ctx.Done():
			return
		case <-time.After(max(wait, time.Second)):
		}
	}
}

// waitRegistered waits until a is registered (at once for an account that
// does not register); false when the phone closes first.
func (p *Phone) waitRegistered(a *account) bool {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		a.mu.Lock()
		ok := !a.cfg.Register || a.state == RegRegistered
		a.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-p.ctx.Done():
			return false
		case <-t.C:
		}
	}
}

// subscribeMailbox sends one SUBSCRIBE of the subscription (answering a
// digest challenge once) and returns the granted lifetime and the
// notifier's To tag.
func (p *Phone) subscribeMailbox(ctx context.Context, a *account, target sip.Uri, callID sip.CallIDHeader, fromTag, toTag string, cseq *uint32) (time.Duration, string, error) {
	transport := a.transport
	cli, err := p.clientFor(transport)
	if err != nil {
		return 0, "", err
	}
	req := sip.NewRequest(sip.SUBSCRIBE, target)
	req.SetTransport(transport)
	from := a.fromHeader()
	from.Params = tagParams(fromTag)
	to := &sip.ToHeader{Address: target, Params: sip.NewParams()}
	if toTag != "" {
		to.Params.Add("tag", toTag)
	}
	req.AppendHeader(from)
	req.AppendHeader(to)
	req.AppendHeader(&callID)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: *cseq, MethodName: sip.SUBSCRIBE})
	*cseq++
	contact := p.contactAt(a, transport, p.hostFor(hostAddr(a.firstHop().Host)))
	req.AppendHeader(&contact)
	req.AppendHeader(sip.NewHeader("Event", "message-summary"))
	req.AppendHeader(sip.NewHeader("Accept", "application/simple-message-summary"))
	exp := sip.ExpiresHeader(uint32(mailboxExpires / time.Second))
	req.AppendHeader(&exp)
	req.AppendHeader(sip.NewHeader("Allow", allowMethods))
	req.AppendHeader(sip.NewHeader("User-Agent", p.opts.UserAgent))
	a.mu.Lock()
	from2 := a.answeredFrom
	a.mu.Unlock()
	switch {
	case a.proxy != nil:
		req.SetDestination(hostPort(*a.proxy))
	case a.cfg.Register && from2 != "":
		req.SetDestination(from2) // where the registration went
	}
	tctx, cancel := context.WithTimeout(ctx, 32*time.Second)
	defer cancel()
	if strings.EqualFold(transport, "TLS") {
		if err := p.tlsConnect(tctx, req, p.accountTLSPeer(a)); err != nil {
			return 0, "", fmt.Errorf("subscribe %s: %w", a.cfg.Name, err)
		}
	}
	res, err := cli.Do(tctx, req)
	if err == nil && (res.StatusCode == sip.StatusUnauthorized || res.StatusCode == sip.StatusProxyAuthRequired) && a.cfg.Password != "" {
		*cseq++
		res, err = cli.DoDigestAuth(tctx, req, res, sipgo.DigestAuth{Username: a.authUser(), Password: a.cfg.Password})
	}
	if err != nil {
		return 0, "", fmt.Errorf("subscribe %s: %w", a.cfg.Name, err)
	}
	if !res.IsSuccess() {
		return 0, "", fmt.Errorf("subscribe %s: %d %s", a.cfg.Name, res.StatusCode, res.Reason)
	}
	granted := mailboxExpires
	if h := res.GetHeader("Expires"); h != nil {
		if d, err := deltaSeconds(h.Value()); err == nil && d < granted {
			granted = d
		}
	}
	tag, _ := res.To().Params.Get("tag")
	return granted, tag, nil
}
