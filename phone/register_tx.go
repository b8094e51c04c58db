package phone

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/teaphone/teaphone/phone/locator"
)

// regResult is the outcome of one REGISTER transaction.
type regResult struct {
	granted time.Duration // the expiry the registrar granted our Contact
	code    int           // final status code, 0 when none came
	reason  string
	res     *sip.Response // the final response, nil when none came
	// transport is the one the REGISTER went over ("UDP", "TCP" or "TLS").
	transport string
}

// errAuthFailed reports a registrar that rejected our credentials: the
// REGISTER answered with them was challenged again.
var errAuthFailed = errors.New("authentication failed")

// errNoPassword reports a registrar that asks for credentials an account
// without a password cannot give.
var errNoPassword = errors.New("authentication required")

// register sends one REGISTER (with digest on 401/407) for the account's
// current Contact and returns the granted expiry. It goes to server when
// one is given, else where the registrar's or outbound proxy's URI says.
// remove, when set, is a Contact binding to delete in the same request
// (expires=0).
func (p *Phone) register(ctx context.Context, a *account, server *locator.Target, callID sip.CallIDHeader, fromTag string, cseq *uint32, expires time.Duration, remove *sip.ContactHeader) (regResult, error) {
	transport := a.transport
	if server != nil {
		transport = server.Transport
	}
	cli, err := p.clientFor(transport)
	if err != nil {
		return regResult{}, err
	}
	req := sip.NewRequest(sip.REGISTER, a.registrar)
	req.SetTransport(transport)
	from := a.fromHeader()
	from.Params = tagParams(fromTag)
	to := &sip.ToHeader{Address: from.Address, DisplayName: a.displayName()}
	req.AppendHeader(from)
	req.AppendHeader(to)
	req.AppendHeader(&callID)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: *cseq, MethodName: sip.REGISTER})
	*cseq++
	// Dual stack: the Contact is of the family the registrar is reached by.
	peer := hostAddr(a.firstHop().Host)
	if server != nil {
		peer = server.Addr.Addr()
	}
	host := p.hostFor(peer)
	a.mu.Lock()
	a.regHost = host
	a.mu.Unlock()
	contact := p.contactAt(a, transport, host)
	req.AppendHeader(&contact)
	if remove != nil {
		old := sip.ContactHeader{Address: remove.Address, Params: sip.NewParams()}
		old.Params.Add("expires", "0")
		req.AppendHeader(&old)
	}
	a.mu.Lock()
	if expires > 0 && expires < a.minExpires {
		expires = a.minExpires // what a 423 asked for (RFC 3261 §10.2.8)
	}
	a.mu.Unlock()
	exp := sip.ExpiresHeader(uint32(expires / time.Second))
	req.AppendHeader(&exp)
	req.AppendHeader(sip.NewHeader("Allow", allowMethods))
	req.AppendHeader(sip.NewHeader("User-Agent", p.opts.UserAgent))
	switch {
	case server != nil:
		req.SetDestination(server.Addr.String())
	case a.proxy != nil:
		req.SetDestination(hostPort(*a.proxy))
	}
	tctx, cancelTimeout := context.WithTimeout(ctx, 32*time.Second)
	defer cancelTimeout()
	rctx, cancel := context.WithCancelCause(tctx)
	defer cancel(nil)
	if strings.EqualFold(transport, "UDP") {
		defer a.watchBounce(req.Destination(), callID.Value(), cancel)()
	}
	if strings.EqualFold(transport, "TLS") {
		if err := p.tlsConnect(rctx, req, p.accountTLSPeer(a)); err != nil {
			return regResult{reason: err.Error(), transport: transport}, fmt.Errorf("register %s: %w", a.cfg.Name, err)
		}
	}
	res, err := cli.Do(rctx, req)
	if err != nil {
		return regResult{}, fmt.Errorf("register %s: %w", a.cfg.Name, regErr(rctx, err))
	}
	if res.StatusCode == sip.StatusUnauthorized || res.StatusCode == sip.StatusProxyAuthRequired {
		if a.cfg.Password == "" {
			return regResult{code: res.StatusCode, reason: res.Reason + " (no password configured)", res: res}, errNoPassword
		}
		if err := challengeErr(res); err != nil {
			// The server answered: its broken challenge is no reason
			// to fail over (RFC 3263 §4.3), nor to retry at once.
			r := regResult{code: res.StatusCode, reason: res.Reason + ": challenge not answered: " + err.Error(), res: res}
			return r, fmt.Errorf("register %s: %s", a.cfg.Name, r.reason)
		}
		*cseq++
		res, err = cli.DoDigestAuth(rctx, req, res, sipgo.DigestAuth{Username: a.authUser(), Password: a.cfg.Password})
		if err != nil {
			return regResult{}, fmt.Errorf("register %s: %w", a.cfg.Name, regErr(rctx, err))
		}
		// One answer to a challenge only: a second challenge means the
		// credentials are wrong, and answering it again would loop.
		if res.StatusCode == sip.StatusUnauthorized || res.StatusCode == sip.StatusProxyAuthRequired {
			return regResult{code: res.StatusCode, reason: fmt.Sprintf("authentication failed: %d %s (wrong username or password?)", res.StatusCode, res.Reason), res: res}, errAuthFailed
		}
	}
	r := regResult{granted: expires, code: res.StatusCode, reason: res.Reason, res: res, transport: transport}
	if res.StatusCode == statusIntervalTooBrief && expires > 0 {
		// RFC 3261 §10.2.8: retry with an expiry of at least Min-Expires.
		longer, err := minExpires(res, expires)
		if err != nil {
			r.reason = fmt.Sprintf("%s: %v", res.Reason, err)
			return r, fmt.Errorf("register %s: %d %s", a.cfg.Name, res.StatusCode, r.reason)
		}
		p.log.Info("registrar asks for a longer expiry: registering again", "account", a.cfg.Name, "expires", expires, "min_expires", longer)
		a.mu.Lock()
		a.minExpires = longer
		a.mu.Unlock()
		return p.register(ctx, a, server, callID, fromTag, cseq, longer, remove)
	}
	if !res.IsSuccess() {
		return r, fmt.Errorf("register %s: %d %s", a.cfg.Name, res.StatusCode, res.Reason)
	}
	granted, warns := grantedExpiry(res, contact, expires)
	for _, w := range warns {
		p.log.Warn("registrar's 2xx", "account", a.cfg.Name, "problem", w, "granted", granted)
	}
	r.granted = granted
	if granted == 0 && expires > 0 {
		// Our binding was not kept: registered in name only.
		r.reason = res.Reason + ", but expires=0: the registrar kept no binding"
		return r, fmt.Errorf("register %s: %s", a.cfg.Name, r.reason)
	}
	return r, nil
}

func hostPort(u sip.Uri) string {
	port := u.Port
	if port == 0 {
		port = int(sip.DefaultPort(strings.ToLower(uriTransport(u, "UDP"))))
	}
	return u.Host + ":" + strconv.Itoa(port)
}

func tagParams(tag string) sip.HeaderParams {
	p := sip.NewParams()
	p.Add("tag", tag)
	return p
}
