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

// mailboxUnsubscribeTimeout bounds the un-SUBSCRIBE at close, digest
// included: Close runs it beside the un-REGISTER and must not wait long
// for a notifier that has gone.
const mailboxUnsubscribeTimeout = 1500 * time.Millisecond

// mailboxMinLife: a termination by the notifier less than this after the
// previous one waits mailboxRetry at least, whatever its reason says.
const mailboxMinLife = 10 * time.Second

// mailboxDialog is the subscription's dialog as the subscriber keeps it.
type mailboxDialog struct {
	callID         sip.CallIDHeader
	fromTag, toTag string // toTag: the notifier's, "" until its 2xx
	cseq           uint32
}

func newMailboxDialog() mailboxDialog {
	return mailboxDialog{callID: sip.CallIDHeader(sip.GenerateTagN(32)), fromTag: sip.GenerateTagN(16), cseq: 1}
}

// mailboxLoop keeps a subscription to the message summary of a's mailbox
// (Account.Mailbox, else its AOR; RFC 3842 §3) once a is registered: a
// SUBSCRIBE with Expires: 3600, refreshed at 80 % of what the notifier
// grants, a new one after a failure or when the notifier terminates it
// (afterTermination). The NOTIFYs it brings are taken by onMessageSummary
// like unsolicited ones. When the phone closes it ends the subscription
// (unsubscribeMailbox) and returns.
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
	d := newMailboxDialog()
	a.mailbox.set(d.callID.Value())
	active := false // the notifier accepted d and has not ended it
	defer func() {
		a.mailbox.set("")
		if active {
			p.unsubscribeMailbox(a, target, &d)
		}
	}()
	ended := a.mailbox.endedC()
	var lastEnd time.Time // of the last termination by the notifier
	for {
		if !p.waitRegistered(a) {
			return
		}
		granted, tag, err := p.subscribeMailbox(p.ctx, a, target, &d, mailboxExpires)
		wait := granted * 4 / 5
		if err != nil {
			if p.ctx.Err() != nil {
				return
			}
			p.log.Info("mailbox subscription", "account", a.cfg.Name, "err", err)
			// A new subscription next time (a 481 says the old one is gone).
			d, active, wait = newMailboxDialog(), false, mailboxRetry
			a.mailbox.set(d.callID.Value())
		} else {
			d.toTag, active = tag, true
		}
		t := time.NewTimer(max(wait, time.Second))
		select {
		case <-p.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		case st := <-ended:
			t.Stop()
			// The notifier ended it (RFC 6665 §4.1.3): the dialog is
			// gone, the next SUBSCRIBE starts a new one.
			a.mu.Lock()
			regs := a.registrations
			a.mu.Unlock()
			d, active = newMailboxDialog(), false
			a.mailbox.set(d.callID.Value())
			delay, retry := afterTermination(st, mailboxRetry)
			if time.Since(lastEnd) < mailboxMinLife {
				// Ended again at once: a notifier that ends every
				// subscription must not make us loop.
				delay = max(delay, mailboxRetry)
			}
			lastEnd = time.Now()
			p.log.Info("mailbox subscription terminated", "account", a.cfg.Name, "reason", st.reason,
				"retry", retry, "after", delay)
			if !retry && !p.waitRegistration(a, regs) || retry && !p.sleepCtx(delay) {
				return
			}
		}
	}
}

// unsubscribeMailbox ends the subscription in its dialog: a SUBSCRIBE
// with Expires: 0 (RFC 6665 §4.1.2.3, RFC 3842 §4.1), a digest challenge
// answered once, all within mailboxUnsubscribeTimeout. The notifier's
// final NOTIFY (terminated) is answered by onMessageSummary if it comes
// before the transports close.
func (p *Phone) unsubscribeMailbox(a *account, target sip.Uri, d *mailboxDialog) {
	ctx, cancel := context.WithTimeout(context.Background(), mailboxUnsubscribeTimeout)
	defer cancel()
	if _, _, err := p.subscribeMailbox(ctx, a, target, d, 0); err != nil {
		p.log.Info("mailbox un-subscribe", "account", a.cfg.Name, "err", err)
	}
}

// waitRegistration waits for a registration of a after the regs-th one;
// false when the phone closes first (an account that does not register
// waits for that).
func (p *Phone) waitRegistration(a *account, regs uint64) bool {
	return p.pollAccount(a, func() bool { return a.cfg.Register && a.registrations > regs })
}

// waitRegistered waits until a is registered (at once for an account that
// does not register); false when the phone closes first.
func (p *Phone) waitRegistered(a *account) bool {
	return p.pollAccount(a, func() bool { return !a.cfg.Register || a.state == RegRegistered })
}

// pollAccount checks ok under a's lock every 200 ms until it holds (true)
// or the phone closes (false).
func (p *Phone) pollAccount(a *account, ok func() bool) bool {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		a.mu.Lock()
		done := ok()
		a.mu.Unlock()
		if done {
			return true
		}
		select {
		case <-p.ctx.Done():
			return false
		case <-t.C:
		}
	}
}

// subscribeMailbox sends one SUBSCRIBE of the subscription d asking for
// expires (answering a digest challenge once) and returns the granted
// lifetime and the notifier's To tag.
func (p *Phone) subscribeMailbox(ctx context.Context, a *account, target sip.Uri, d *mailboxDialog, expires time.Duration) (time.Duration, string, error) {
	transport := a.transport
	cli, err := p.clientFor(transport)
	if err != nil {
		return 0, "", err
	}
	req := sip.NewRequest(sip.SUBSCRIBE, target)
	req.SetTransport(transport)
	from := a.fromHeader()
	from.Params = tagParams(d.fromTag)
	to := &sip.ToHeader{Address: target, Params: sip.NewParams()}
	if d.toTag != "" {
		to.Params.Add("tag", d.toTag)
	}
	callID := d.callID
	req.AppendHeader(from)
	req.AppendHeader(to)
	req.AppendHeader(&callID)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: d.cseq, MethodName: sip.SUBSCRIBE})
	d.cseq++
	contact := p.contactAt(a, transport, p.hostFor(hostAddr(a.firstHop().Host)))
	req.AppendHeader(&contact)
	req.AppendHeader(sip.NewHeader("Event", "message-summary"))
	req.AppendHeader(sip.NewHeader("Accept", "application/simple-message-summary"))
	exp := sip.ExpiresHeader(uint32(expires / time.Second))
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
		d.cseq++
		res, err = cli.DoDigestAuth(tctx, req, res, sipgo.DigestAuth{Username: a.authUser(), Password: a.cfg.Password})
	}
	if err != nil {
		return 0, "", fmt.Errorf("subscribe %s: %w", a.cfg.Name, err)
	}
	if !res.IsSuccess() {
		return 0, "", fmt.Errorf("subscribe %s: %d %s", a.cfg.Name, res.StatusCode, res.Reason)
	}
	granted := expires
	if h := res.GetHeader("Expires"); h != nil {
		if d, err := deltaSeconds(h.Value()); err == nil && d < granted {
			granted = d
		}
	}
	tag, _ := res.To().Params.Get("tag")
	return granted, tag, nil
}
