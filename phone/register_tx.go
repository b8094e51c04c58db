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
	// transport is the one the REGISTER went over ("UDP" or "TCP").
	transport string
}

// errAuthFailed reports a registrar that rejected our credentials: the
// REGISTER answered with them was challenged again.
var errAuthFailed = errors.New("authentication failed")

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
	contact := p.contactFor(a, transport)
	req.AppendHeader(&contact)
	if remove != nil {
		old := sip.ContactHeader{Address: remove.Address, Params: sip.NewParams()}
		old.Params.Add("expires", "0")
		req.AppendHeader(&old)
	}
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
	rctx, cancel := context.WithTimeout(ctx, 32*time.Second)
	defer cancel()
	res, err := cli.Do(rctx, req)
	if err != nil {
		return regResult{}, fmt.Errorf("register %s: %w", a.cfg.Name, err)
	}
	if res.StatusCode == sip.StatusUnauthorized || res.StatusCode == sip.StatusProxyAuthRequired {
		if a.cfg.Password == "" {
			return regResult{code: res.StatusCode, reason: res.Reason + " (no password configured)", res: res}, errors.New("authentication required")
		}
		*cseq++
		res, err = cli.DoDigestAuth(rctx, req, res, sipgo.DigestAuth{Username: a.authUser(), Password: a.cfg.Password})
		if err != nil {
			return regResult{}, fmt.Errorf("register %s: %w", a.cfg.Name, err)
		}
		if res.StatusCode == sip.StatusUnauthorized || res.StatusCode == sip.StatusProxyAuthRequired {
			return regResult{code: res.StatusCode, reason: res.Reason + " (wrong username or password?)", res: res}, errAuthFailed
		}
	}
	r := regResult{granted: expires, code: res.StatusCode, reason: res.Reason, res: res, transport: transport}
	if !res.IsSuccess() {
		return r, fmt.Errorf("register %s: %d %s", a.cfg.Name, res.StatusCode, res.Reason)
	}
	// RFC 3261 §10.2.4: the expiry granted is in our Contact's expires param, else Expires.
	if h := res.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil {
			r.granted = time.Duration(n) * time.Second
		}
	}
	for _, h := range res.GetHeaders("Contact") {
		ch, ok := h.(*sip.ContactHeader)
		if !ok || ch.Address.Host != contact.Address.Host || ch.Address.Port != contact.Address.Port || ch.Address.User != contact.Address.User {
			continue
		}
		if v, ok := ch.Params.Get("expires"); ok {
			if n, err := strconv.Atoi(v); err == nil {
				r.granted = time.Duration(n) * time.Second
			}
		}
	}
	return r, nil
}

func hostPort(u sip.Uri) string {
	port := u.Port
	if port == 0 {
		port = 5060
	}
	return u.Host + ":" + strconv.Itoa(port)
}

func tagParams(tag string) sip.HeaderParams {
	p := sip.NewParams()
	p.Add("tag", tag)
	return p
}
