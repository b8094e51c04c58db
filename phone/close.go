package phone

import (
	"sync"
	"time"

	"github.com/emiago/sipgo"
)

// Close hangs up every call, un-REGISTERs every account (bounded in time),
// stops the transports and closes the event stream. It is idempotent, and
// safe after a failed Start.
func (p *Phone) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	live := p.live
	p.closed = true
	calls := make([]*call, 0, len(p.calls))
	for _, c := range p.calls {
		calls = append(calls, c)
	}
	p.mu.Unlock()
	if !live {
		p.events.close()
		<-p.events.done
		return nil
	}
	// Hang up every call at once: a peer that has gone away must not make
	// the others wait for its BYE to time out.
	var hangups sync.WaitGroup
	for _, c := range calls {
		hangups.Add(1)
		go func(c *call) {
			defer hangups.Done()
			c.hangup(603, "Decline", "phone closing")
		}(c)
	}
	waitTimeout(&hangups, 5*time.Second)
	// Registration loops see the cancel and un-REGISTER before they return;
	// INVITEs still waiting for a first response stop waiting at once.
	p.cancel(sipgo.WaitAnswerForceCancelErr)
	waitTimeout(&p.regWG, 6*time.Second)
	// A CANCEL must wait for a provisional response (RFC 3261 §9.1), up to
	// Timer B: give calls a moment, then stop the transaction layer, which
	// ends whatever still waits.
	waitTimeout(&p.wg, 2*time.Second)
	_ = p.srv.Close()
	_ = p.ua.Close()
	waitTimeout(&p.wg, 5*time.Second)
	for _, c := range calls {
		c.release()
	}
	p.engine.Close()
	p.closeListeners()
	waitTimeout(&p.srvWG, 2*time.Second)
	p.events.close()
	<-p.events.done
	return nil
}

func waitTimeout(wg *sync.WaitGroup, d time.Duration) bool {
	ch := make(chan struct{})
	go func() { wg.Wait(); close(ch) }()
	select {
	case <-ch:
		return true
	case <-time.After(d):
		return false
	}
}
