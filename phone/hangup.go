package phone

import (
	"context"
	"fmt"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
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

// hangup ends the call now, whatever it waits for: CANCEL (outgoing,
// unanswered), the code and reason as the final response (incoming,
// unanswered), BYE (answered). A re-INVITE or REFER still without an answer
// is abandoned: the call's context is cancelled before the BYE goes out.
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
	case dir == DirectionOutgoing && (st == StateUnknown || st.early()):
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
	case dir == DirectionIncoming && (st == StateUnknown || st.early()):
		if dec != nil {
			select {
			case dec <- Reject(code, reason):
			default:
			}
		}
	default:
		c.cancel(errHangup)
		c.bye(200, "", why)
	}
}

// bye sends BYE and ends the call.
func (c *call) bye(code int, reason, why string) {
	// Only the caller that moves the call to Terminating sends the BYE: a
	// second hang-up racing it (the user, an RTP timeout, a failed refresh)
	// finds the call already terminating and leaves (one BYE per dialog).
	if !c.setState(StateTerminating, 0, why) {
		return
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

// ackWait bounds how long a BYE waits for the ACK of our 2xx: the 2xx is
// retransmitted at 0.5, 1 and 2 s (RFC 3261 §13.3.1.4), so an ACK that has
// not come by then is not coming.
const ackWait = 4 * time.Second

// sendBye sends BYE to the remote target and waits for its answer.
func (c *call) sendBye() error {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	if c.dir == DirectionIncoming {
		// RFC 3261 §15: the callee must not send BYE on a confirmed dialog
		// before the ACK of its 2xx has arrived (or the 2xx timed out).
		select {
		case <-c.acked:
		case <-time.After(ackWait):
		}
	}
	res, err := c.request(ctx, c.newRequest(sip.BYE))
	if err != nil {
		return err
	}
	if !res.IsSuccess() {
		return fmt.Errorf("BYE answered %d %s", res.StatusCode, res.Reason)
	}
	return nil
}
