package phone

import (
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/emiago/sipgo/sip"
)

// DirectCalls says whether the phone takes INVITEs whose Request-URI user
// is none of its accounts' (Options.Direct).
type DirectCalls int

// Values of Options.Direct.
const (
	// DirectAuto takes direct calls when no account registers (a phone
	// used on a LAN or loopback), and refuses them otherwise: a
	// registered phone is called through its registrar, at its AOR's or
	// Contact's user.
	DirectAuto DirectCalls = iota
	// DirectAccept takes every INVITE, whatever user it is for.
	DirectAccept
	// DirectRefuse refuses INVITEs for a user that is no account's.
	DirectRefuse
)

// checkStrangerOptions fills the defaults of the options stranger.go reads.
func checkStrangerOptions(opts *Options) error {
	switch opts.ForeignURICode {
	case 0:
		opts.ForeignURICode = 404
	case 403, 404:
	default:
		return fmt.Errorf("foreign URI code %d: want 403 or 404", opts.ForeignURICode)
	}
	if opts.Direct < DirectAuto || opts.Direct > DirectRefuse {
		return fmt.Errorf("direct calls: unknown value %d", opts.Direct)
	}
	if opts.NewCallRate < 0 {
		return fmt.Errorf("new call rate %g: want 0 (no limit) or more", opts.NewCallRate)
	}
	return nil
}

// takesDirect reports whether INVITEs for users that are no account's are
// taken.
func (p *Phone) takesDirect() bool {
	switch p.opts.Direct {
	case DirectAccept:
		return true
	case DirectRefuse:
		return false
	}
	for _, a := range p.accounts {
		if a.cfg.Register {
			return false
		}
	}
	return true
}

// refuseStranger answers, before anything rings or a session exists, the
// new INVITE of a source that starts calls too fast, or one for a user
// that is none of ours when direct calls are off; it reports whether it
// did. Both answers are the same whatever user the INVITE names, so that
// they tell a scanner nothing about which accounts exist.
func (p *Phone) refuseStranger(req *sip.Request, tx sip.ServerTransaction) bool {
	// The foreign check comes first: a scan of user names (svwar) gets
	// one answer for every guess, never a 503 for some of them once the
	// rate limit bites, which would set them apart.
	if !p.takesDirect() && p.matchAccount(req) == nil {
		// RFC 3261 §21.4.5 (404: the user does not exist at the domain
		// in the Request-URI) or §21.4.4 (403), as configured.
		p.log.Debug("incoming call refused: not for one of our accounts", "from", req.Source())
		respond(tx, req, p.opts.ForeignURICode, statusText(p.opts.ForeignURICode))
		return true
	}
	src := sourceAddr(req.Source())
	if p.fromRegistrar(src) {
		// The calls a provider forwards all come from its address: they
		// are not one stranger's flood.
		return false
	}
	if ok, wait := p.limiter.allow(src.String(), time.Now()); !ok {
		// RFC 3261 §21.5.4: 503 for a temporary overload, with a
		// Retry-After (§20.33) telling when to try again. 486 would
		// say the callee is busy, which is not what happened.
		p.log.Debug("incoming call refused: too many from one source", "from", req.Source())
		res := sip.NewResponseFromRequest(req, 503, "Service Unavailable", nil)
		res.AppendHeader(sip.NewHeader("Retry-After", strconv.Itoa(retryAfter(wait))))
		_ = tx.Respond(res)
		return true
	}
	return false
}

// fromRegistrar reports whether src is the address an account's last
// successful REGISTER was answered from.
func (p *Phone) fromRegistrar(src netip.Addr) bool {
	for _, a := range p.accounts {
		a.mu.Lock()
		from := a.answeredFrom
		a.mu.Unlock()
		if ap, err := netip.ParseAddrPort(from); err == nil && src.IsValid() && ap.Addr().Unmap() == src {
			return true
		}
	}
	return false
}
