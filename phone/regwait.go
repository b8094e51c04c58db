package phone

import (
	"fmt"
	"time"
)

// waitRefresh waits d, until the next REGISTER is due, or until the phone
// closes. With dest set and Options.NAT.KeepAlive above zero it sends a
// keep-alive to dest every KeepAlive meanwhile, so that a NAT keeps the
// binding the registrar and the calls it sends us depend on: over UDP from
// the listening socket, over TCP on flow, the registration's connection.
//
// With flow set it also watches that connection and returns early, with an
// error wrapping errFlowLost or errNoPong, when the flow has failed: the
// connection has closed, a ping could not be written, or — once the
// registrar has answered a ping — a ping got no pong in time (RFC 5626
// §4.4.1), in which case the connection is closed here.
func (p *Phone) waitRefresh(a *account, d time.Duration, dest string, flow *tcpFlow) error {
	t := time.NewTimer(d)
	defer t.Stop()
	var tick, check <-chan time.Time
	if every := p.opts.NAT.KeepAlive; every > 0 && dest != "" {
		tk := time.NewTicker(every)
		defer tk.Stop()
		tick = tk.C
	}
	if flow != nil {
		tk := time.NewTicker(flowCheck)
		defer tk.Stop()
		check = tk.C
	}
	var pong *time.Timer         // runs while a pong is awaited
	var pongDue <-chan time.Time // pong.C while it runs
	pongs := 0                   // the flow's pong count when the awaited ping left
	defer func() {
		if pong != nil {
			pong.Stop()
		}
	}()
	for {
		select {
		case <-p.ctx.Done():
			return nil
		case <-t.C:
			return nil
		case <-check:
			if !p.alive(flow) {
				return errFlowLost
			}
		case <-tick:
			if flow == nil {
				if err := p.keepAlive(dest); err != nil {
					p.log.Warn("keep-alive not sent", "account", a.cfg.Name, "err", err)
				}
				continue
			}
			n, err := p.ping(flow)
			if err != nil {
				p.fail(flow)
				return err
			}
			// RFC 5626 §4.4.1: a pong is awaited only from a registrar
			// that has answered pings on this flow before.
			if n > 0 && pongDue == nil {
				pong = time.NewTimer(p.pongTimeout())
				pongDue, pongs = pong.C, n
			}
		case <-pongDue:
			pongDue = nil
			if p.pongs.count(flow.key) == pongs {
				p.fail(flow)
				return fmt.Errorf("%w for %v: connection closed", errNoPong, p.pongTimeout())
			}
		}
	}
}

// pongTimeout is RFC 5626 §4.4.1's 10 s, unless a test shortened it.
func (p *Phone) pongTimeout() time.Duration {
	if d := p.opts.NAT.pongTimeout; d > 0 {
		return d
	}
	return pongTimeout
}

// sleepCtx waits d and reports true, or false when the phone closes first.
func (p *Phone) sleepCtx(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
