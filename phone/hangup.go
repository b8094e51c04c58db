package phone

import (
	"context"
	"errors"
	"time"

	"github.com/emiago/sipgo"
)

// Hangup ends the session as its state requires: CANCEL an unanswered
// outgoing call, decline (603) an unanswered incoming call, BYE an active one.
func (p *Phone) Hangup(id SessionID) error {
	c, err := p.lookup(id)
	if err != nil {
		return err
	}
	c.hangup(603, "Decline", "local hangup")
	return nil
}

func (c *call) hangup(code int, reason, why string) {
	c.mu.Lock()
	st := c.state
	dir := c.dir
	cancel := c.cancelInvite
	dec := c.decision
	c.mu.Unlock()
	switch {
	case st.Final():
		return
	case dir == DirectionOutgoing && st.early():
		closing := c.p.isClosed()
		c.mu.Lock()
		c.localCancel = true
		force := closing && !c.gotProvisional
		c.mu.Unlock()
		if cancel != nil {
			if force {
				cancel(sipgo.WaitAnswerForceCancelErr)
			} else {
				cancel(nil) // sipgo sends CANCEL once a provisional response arrived (RFC 3261 §9.1)
			}
		}
		c.setState(StateCancelled, 487, "cancelled")
	case dir == DirectionIncoming && st.early():
		if dec != nil {
			select {
			case dec <- Reject(code, reason):
			default:
			}
		}
	default:
		c.bye(200, "", why)
	}
}

// bye sends BYE and ends the call.
func (c *call) bye(code int, reason, why string) {
	if !c.setState(StateTerminating, 0, why) {
		if c.getState() != StateTerminating {
			return
		}
	}
	err := c.sendBye()
	if err != nil {
		c.p.log.Warn("BYE failed", "session", c.id, "err", err)
		why += " (BYE: " + err.Error() + ")"
	}
	if reason == "" {
		reason = why
	}
	c.setState(StateTerminated, code, reason)
}

func (c *call) sendBye() error {
	c.dialogMu.Lock()
	defer c.dialogMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	c.mu.Lock()
	cs, ss := c.cs, c.ss
	c.mu.Unlock()
	if cs != nil {
		return cs.Bye(ctx)
	}
	if ss != nil {
		return ss.Bye(ctx)
	}
	return errors.New("no dialog")
}
