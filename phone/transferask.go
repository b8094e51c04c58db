package phone

import (
	"fmt"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// onReferRequest serves REFER. RFC 3515 §2.4.2 allows a REFER outside any
// dialog, from anyone; we follow only the party of one of our calls, so an
// out-of-dialog REFER (no To tag, RFC 3261 §12.1) is refused 403 Forbidden,
// and one naming a dialog we do not have gets 481 (routed, RFC 3261 §12.2.2).
func (p *Phone) onReferRequest() sipgo.RequestHandler {
	inDialog := p.routed(p.onRefer)
	return func(req *sip.Request, tx sip.ServerTransaction) {
		to := req.To()
		if to == nil {
			respond(tx, req, 400, "Bad Request (no To)")
			return
		}
		if tag, _ := to.Params.Get("tag"); tag == "" {
			p.log.Info("out-of-dialog REFER refused", "from", req.From())
			respond(tx, req, 403, "Forbidden (REFER outside a call)")
			return
		}
		inDialog(req, tx)
	}
}

// askTransfer waits until deadline for the user's answer to a transfer
// request that has been accepted 202 and told in a TransferEvent with
// Asking set (RFC 3515 §2.4.2: the approval may come after the 202; the
// result then goes in NOTIFYs, §2.4.4). Accepted, the transfer runs;
// refused or unanswered by the deadline, a final NOTIFY says "603 Declined"
// (§2.4.5, the status the target's refusal would have had). It returns when
// the call ends or the phone closes (the call's context).
func (c *call) askTransfer(t referTarget, answer chan bool, deadline time.Time) {
	p := c.p
	defer c.clearTransferAsk(answer)
	target := t.uri.String()
	c.notifyRefer(100, "Trying", false)
	wait := p.opts.Transfer.askTimeout()
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	reason := "refused"
	select {
	case ok := <-answer:
		if ok {
			c.clearTransferAsk(answer)
			c.executeTransfer(t.uri, t.headers)
			return
		}
	case <-timer.C:
		reason = "not answered in " + wait.String()
	case <-c.ctx.Done():
		return
	}
	p.log.Info("transfer refused", "session", c.id, "target", target, "reason", reason)
	c.notifyRefer(603, "Declined", true)
	p.emit(TransferEvent{Time: time.Now(), Session: c.id, Target: target, Code: 603, Reason: reason, Final: true})
}

// clearTransferAsk forgets the waiting request answer, if it is still c's.
func (c *call) clearTransferAsk(answer chan bool) {
	c.mu.Lock()
	if c.transferAsk == answer {
		c.transferAsk = nil
	}
	c.mu.Unlock()
}

// AnswerTransfer accepts or refuses the transfer request waiting on call id
// (a TransferEvent with Asking set). It fails when none is waiting: never
// asked, already answered, or timed out.
func (p *Phone) AnswerTransfer(id SessionID, accept bool) error {
	c, err := p.lookup(id)
	if err != nil {
		return err
	}
	c.mu.Lock()
	ch := c.transferAsk
	c.transferAsk = nil
	c.mu.Unlock()
	if ch == nil {
		return fmt.Errorf("%w: no transfer request is waiting on %s", ErrWrongState, id)
	}
	ch <- accept // buffered 1, and only the taker of ch sends
	return nil
}
