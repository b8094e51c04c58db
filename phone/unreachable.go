package phone

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/teaphone/teaphone/phone/icmp"
)

// watchICMP wraps the SIP UDP socket so that an ICMP error for one of our
// INVITEs fails the call at once rather than after Timer B (issue 10). If
// the kernel refuses, calls to a dead port wait for Timer B as before.
func (p *Phone) watchICMP(uc *net.UDPConn) net.PacketConn {
	c, err := icmp.Wrap(uc, icmp.HandlerFunc(p.onUnreachable))
	if err != nil {
		p.log.Warn("ICMP errors on the SIP socket will not end calls", "err", err)
		return uc
	}
	return c
}

// onUnreachable fails every outgoing UDP call still waiting for a final
// response to its INVITE that went where r says nothing can be reached.
// It runs on the icmp.Conn's goroutine.
func (p *Phone) onUnreachable(r icmp.Report) {
	p.log.Info("ICMP error for a SIP datagram", "dest", r.Addr, "reason", r.Reason, "from", r.From)
	p.regBounced(r)
	p.mu.Lock()
	var hit []*call
	for _, c := range p.calls {
		if c.inviteBounced(r) {
			hit = append(hit, c)
		}
	}
	p.mu.Unlock()
	for _, c := range hit {
		c.unreachable(r)
	}
}

// inviteBounced reports whether r is about c's INVITE.
func (c *call) inviteBounced(r icmp.Report) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	callID := c.sipCallID
	if c.inviteLocated {
		callID = "" // every server gets the same Call-ID: only the address names this attempt
	}
	return c.dir == DirectionOutgoing && c.state.early() && c.cancelInvite != nil &&
		strings.EqualFold(c.transport, "UDP") && bounced(c.inviteDest, callID, r)
}

// bounced reports whether r is about a request with Call-ID callID sent to
// dest (host:port, as sip.Request.Destination gives it): r names dest, or
// the start of the datagram that the ICMP error quoted carries callID. The
// quote is what finds a request whose destination is a name that sipgo
// resolved.
func bounced(dest, callID string, r icmp.Report) bool {
	if ap, err := netip.ParseAddrPort(dest); err == nil && netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()) == r.Addr {
		return true
	}
	return callID != "" && bytes.Contains(r.Quote, []byte(callID))
}

// unreachable ends c, an outgoing call whose INVITE bounced. RFC 3261
// §8.1.3.1: a fatal transport error (an ICMP error on UDP, §18.4) is
// treated as a 503 response. The state is set first so that it, not the
// cancel, is the call's end reason; the cause WaitAnswerForceCancelErr makes
// sipgo's WaitAnswer return at once and terminate the INVITE transaction
// without a CANCEL, which would wait for a provisional response (§9.1) that
// cannot come.
//
// An INVITE to one of a located domain's servers is different: the ICMP
// error is a transport error after which the next server is tried (RFC 3263
// §4.3), so the attempt is only stopped, and runOutgoing moves on (or fails
// the call once no server is left).
func (c *call) unreachable(r icmp.Report) {
	c.mu.Lock()
	cancel := c.cancelInvite
	located := c.inviteLocated
	if located {
		c.inviteBounce = r.Reason.String()
	}
	c.mu.Unlock()
	if located {
		if cancel != nil {
			cancel(sipgo.WaitAnswerForceCancelErr)
		}
		return
	}
	if c.setState(StateFailed, 503, r.Reason.String()) && cancel != nil {
		cancel(sipgo.WaitAnswerForceCancelErr)
	}
}

// regInFlight is a UDP REGISTER waiting for its answer.
type regInFlight struct {
	dest   string // host:port it was sent to (sip.Request.Destination)
	callID string
	cancel context.CancelCauseFunc
}

// regErr is err, or the ICMP error that ended the REGISTER (regBounced),
// which is a transport error (RFC 3261 §18.4) and so makes a located
// registrar's next server be tried (failsOver).
func regErr(ctx context.Context, err error) error {
	var b errBounced
	if errors.As(context.Cause(ctx), &b) {
		return fmt.Errorf("%w: %s", sip.ErrTransactionTransport, string(b))
	}
	return err
}

// watchBounce makes the account's UDP REGISTER to dest (with Call-ID
// callID) one that an ICMP error cancels (regBounced); the function it
// returns forgets it.
func (a *account) watchBounce(dest, callID string, cancel context.CancelCauseFunc) func() {
	a.mu.Lock()
	a.inFlight = &regInFlight{dest: dest, callID: callID, cancel: cancel}
	a.mu.Unlock()
	return func() {
		a.mu.Lock()
		a.inFlight = nil
		a.mu.Unlock()
	}
}

// errBounced is the cause a REGISTER is cancelled with when an ICMP error
// says where it went nothing can be reached.
type errBounced string

func (e errBounced) Error() string { return string(e) }

// regBounced ends the UDP REGISTER of each account that went where r says
// nothing can be reached, rather than letting it wait for its timeout
// (64·T1). It runs on the icmp.Conn's goroutine.
func (p *Phone) regBounced(r icmp.Report) {
	for _, a := range p.accounts {
		a.mu.Lock()
		f := a.inFlight
		a.mu.Unlock()
		if f != nil && bounced(f.dest, f.callID, r) {
			f.cancel(errBounced(r.Reason.String()))
		}
	}
}
