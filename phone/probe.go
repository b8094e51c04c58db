package phone

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/teaphone/teaphone/phone/locator"
)

// ProbeResult is what Probe saw.
type ProbeResult struct {
	// Arrived says our own OPTIONS, routed by the registrar to the Contact
	// it holds for us, reached the listening socket.
	Arrived bool
	// Code and Reason are the OPTIONS's final response (after digest
	// authentication); Code is 0 when none came in time.
	Code   int
	Reason string
	// Server is where the OPTIONS went (host:port).
	Server string
}

// Hop returns what the account's requests are located from (RFC 3263 §4):
// its outbound proxy's URI, else its registrar's.
func (p *Phone) Hop(account string) (locator.Query, error) {
	a := p.accountByName(account)
	if a == nil {
		return locator.Query{}, fmt.Errorf("hop: %w: no account %q", ErrInvalidInput, account)
	}
	return a.hop, nil
}

// Probe asks whether the account can be reached now the way an incoming
// call reaches it. It sends an OPTIONS for the account's own AOR to the
// server that answered its last REGISTER, which routes it (RFC 3261 §16.5)
// to the Contact it holds for us; Arrived says whether that request came in
// on the listening socket. The OPTIONS leaves from a socket of its own, not
// from the listening one, so the probe opens no NAT binding for the
// listener: only the registration's binding, kept by keep-alives, lets it
// in. A 401/407 is answered with the account's credentials. Probe waits at
// most until ctx ends; it needs a registered UDP account.
func (p *Phone) Probe(ctx context.Context, account string) (ProbeResult, error) {
	a := p.accountByName(account)
	if a == nil {
		return ProbeResult{}, fmt.Errorf("probe: %w: no account %q", ErrInvalidInput, account)
	}
	if !p.running() {
		return ProbeResult{}, fmt.Errorf("probe %s: %w", account, ErrClosed)
	}
	if a.transport != "UDP" {
		return ProbeResult{}, fmt.Errorf("probe %s: %w: only UDP accounts", account, errors.ErrUnsupported)
	}
	a.mu.Lock()
	server := a.answeredFrom
	a.mu.Unlock()
	if server == "" {
		return ProbeResult{}, fmt.Errorf("probe %s: not registered", account)
	}
	res := ProbeResult{Server: server}

	ua, err := sipgo.NewUA(sipgo.WithUserAgent(p.opts.UserAgent), sipgo.WithUserAgentHostname(p.hostIP.String()))
	if err != nil {
		return res, fmt.Errorf("probe %s: %w", account, err)
	}
	defer func() { _ = ua.Close() }()
	cli, err := sipgo.NewClient(ua, sipgo.WithClientLogger(p.log), sipgo.WithClientHostname(p.hostIP.String()), sipgo.WithClientNAT())
	if err != nil {
		return res, fmt.Errorf("probe %s: %w", account, err)
	}
	aor := sip.Uri{Scheme: "sip", User: a.aor.User, Host: a.aor.Host, Port: a.aor.Port}
	req := sip.NewRequest(sip.OPTIONS, aor)
	req.SetTransport("UDP")
	req.SetDestination(server)
	req.AppendHeader(a.fromHeader())
	req.AppendHeader(&sip.ToHeader{Address: aor})
	callID := sip.CallIDHeader("probe-" + sip.GenerateTagN(26))
	req.AppendHeader(&callID)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: sip.OPTIONS})
	req.AppendHeader(sip.NewHeader("User-Agent", p.opts.UserAgent))

	arrived := p.expectProbe(string(callID))
	defer p.forgetProbe(string(callID))
	type outcome struct {
		r   *sip.Response
		err error
	}
	done := make(chan outcome, 1)
	dctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		r, err := cli.Do(dctx, req)
		if err == nil && (r.StatusCode == sip.StatusUnauthorized || r.StatusCode == sip.StatusProxyAuthRequired) && a.cfg.Password != "" {
			r, err = cli.DoDigestAuth(dctx, req, r, sipgo.DigestAuth{Username: a.authUser(), Password: a.cfg.Password})
		}
		done <- outcome{r, err}
	}()
	// The answer is ours (arrival first) or the provider's; either way the
	// arrival has happened by the time a 2xx comes back. After an arrival
	// the answer gets a little longer: it is only for the report.
	var out outcome
	select {
	case out = <-done:
	case <-arrived:
		t := time.NewTimer(2 * time.Second)
		select {
		case out = <-done:
		case <-t.C:
			cancel()
			out = <-done
		}
		t.Stop()
	}
	select {
	case <-arrived:
		res.Arrived = true
	default:
	}
	if out.r != nil {
		res.Code, res.Reason = out.r.StatusCode, out.r.Reason
	}
	return res, nil
}

// setAnsweredFrom records where the account's last REGISTER 2xx came from.
func (a *account) setAnsweredFrom(source string) {
	a.mu.Lock()
	a.answeredFrom = source
	a.mu.Unlock()
}

// accountByName returns the account called name, nil if none.
func (p *Phone) accountByName(name string) *account {
	for _, a := range p.accounts {
		if a.cfg.Name == name {
			return a
		}
	}
	return nil
}

// expectProbe registers a probe's Call-ID; the channel is closed when an
// OPTIONS with it arrives.
func (p *Phone) expectProbe(callID string) <-chan struct{} {
	ch := make(chan struct{})
	p.mu.Lock()
	if p.probes == nil {
		p.probes = map[string]chan struct{}{}
	}
	p.probes[callID] = ch
	p.mu.Unlock()
	return ch
}

func (p *Phone) forgetProbe(callID string) {
	p.mu.Lock()
	delete(p.probes, callID)
	p.mu.Unlock()
}

// probeArrived notes an incoming OPTIONS that may be one of our probes.
func (p *Phone) probeArrived(req *sip.Request) {
	id := req.CallID()
	if id == nil || !strings.HasPrefix(id.Value(), "probe-") {
		return
	}
	p.mu.Lock()
	ch, ok := p.probes[id.Value()]
	delete(p.probes, id.Value())
	p.mu.Unlock()
	if ok {
		close(ch)
	}
}
