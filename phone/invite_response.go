package phone

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// The responses to our INVITE: provisional ones, failures, and 2xx that
// come after the transaction ended.

// maxProvisionalsPerWait is how many provisional responses one WaitAnswer
// reads before we restart it: sipgo's own limit is 10 responses in all.
const maxProvisionalsPerWait = 8

// errWaitAgain asks runOutgoing to call WaitAnswer again on the same
// INVITE transaction.
var errWaitAgain = errors.New("wait again for the answer")

// waitAnswer is cs.WaitAnswer, with a panic inside sipgo turned into an
// error. sipgo v1.7.3 (as v1.7.2) dereferences a nil response when the
// transaction layer closes while a CANCEL is in flight: inviteCancel reads
// the StatusCode of what Do returned, and Do returns no response and no
// error when the CANCEL's transaction ends without one.
func waitAnswer(ctx context.Context, cs *sipgo.DialogClientSession, opts sipgo.AnswerOptions) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: sipgo: %v", context.Canceled, r)
		}
	}()
	return cs.WaitAnswer(ctx, opts)
}

// onResponse surfaces provisional responses (100/180/183).
func (c *call) onResponse(res *sip.Response) error {
	if !res.IsProvisional() {
		return nil
	}
	c.mu.Lock()
	c.gotProvisional = true
	c.mu.Unlock()
	c.prackIfReliable(res)
	// Early media (RFC 3960): a provisional response with SDP answers our
	// offer; play what the far end sends (ringback, announcements) now.
	if len(res.Body()) > 0 && isSDP(res) {
		if err := c.media.applyAnswer(res.Body()); err == nil {
			c.media.start()
			c.media.update()
		}
	}
	switch {
	case res.StatusCode == 180 || res.StatusCode == 181 || res.StatusCode == 182:
		c.setState(StateRinging, res.StatusCode, res.Reason)
	case res.StatusCode == 183:
		// After a 180 the call keeps ringing (the table has no way back).
		c.setState(StateProceeding, res.StatusCode, res.Reason)
	case res.StatusCode == 100:
		if c.getState() == StateInitiating {
			c.setState(StateProceeding, res.StatusCode, res.Reason)
		}
	}
	return nil
}

func (c *call) outgoingFailed(cs *sipgo.DialogClientSession, err error) {
	var de *sipgo.ErrDialogResponse
	switch {
	case errors.As(err, &de):
		code, reason := de.Res.StatusCode, de.Res.Reason
		c.mu.Lock()
		local := c.localCancel
		c.mu.Unlock()
		if code == 487 && local {
			c.setState(StateCancelled, code, "cancelled")
			return
		}
		if code == 488 && c.media.dtlsOn() {
			reason += " (the peer refused DTLS-SRTP, which media.encryption = dtls-srtp requires)"
		} else if code == 488 && c.media.srtpMandatory() {
			// Our RTP/SAVP offer was refused: say why the call cannot be.
			reason += " (the peer refused SRTP, which media.encryption = srtp-mandatory requires)"
		} else if code == 488 && c.media.savpRetried() {
			reason += " (to our RTP/AVP and our RTP/SAVP offer)"
		}
		c.setState(StateFailed, code, reason)
	case errors.Is(err, context.Canceled):
		c.setState(StateCancelled, 487, "cancelled")
	default:
		// A 2xx that crossed our CANCEL: ACK it and hang up (RFC 3261 §9.1).
		if r := cs.InviteResponse; r != nil && r.IsSuccess() {
			if id, idErr := sip.DialogIDFromResponse(r); idErr == nil {
				cs.ID = id
			}
			_ = cs.Ack(context.Background())
			// cs.Bye would build the BYE without our listening socket.
			target := cs.InviteRequest.Recipient
			if ct := r.Contact(); ct != nil {
				target = ct.Address
			}
			bye := sip.NewRequest(sip.BYE, target)
			bye.SetTransport(cs.InviteRequest.Transport())
			c.p.fromListener(bye, c.transport)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = cs.WriteBye(ctx, bye)
			cancel()
			c.setState(StateCancelled, 487, "cancelled")
			return
		}
		msg := err.Error()
		code := 0
		if errors.Is(err, sip.ErrTransactionTimeout) {
			code, msg = 408, "Request Timeout (no answer from "+c.remoteURI+")"
		} else if errors.Is(err, sip.ErrTransactionTransport) {
			msg = "transport error: " + msg
		}
		c.setState(StateFailed, code, msg)
	}
}

// onUnhandledResponse sees responses no transaction waits for: a 2xx to an
// INVITE retransmitted after our transaction ended (our ACK was lost, or the
// call was cancelled before any provisional response: RFC 3261 §13.2.2.4).
func (p *Phone) onUnhandledResponse(res *sip.Response) {
	cseq := res.CSeq()
	if cseq == nil || cseq.MethodName != sip.INVITE || !res.IsSuccess() || res.CallID() == nil {
		return
	}
	p.mu.Lock()
	c := p.byCallID[res.CallID().Value()]
	p.mu.Unlock()
	if c != nil {
		c.onLate2xx(res)
	}
}
