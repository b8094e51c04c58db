package phone

import (
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// The ACK of the 2xx that answers an incoming call can fail to set up the
// session in two ways, and either would leave a call "connected" with no
// media and nothing to end it (a scanner's offer-less INVITE, or a caller
// that vanished, pinned an answer-mode line for good):
//
//   - no ACK comes. RFC 3261 §13.3.1.4: after retransmitting the 2xx for
//     64*T1 without an ACK "the dialog is confirmed, but the session SHOULD
//     be terminated ... with a BYE". sipgo's wait for the ACK
//     (DialogServerSession.Respond) never gives up (its 64*T1 timer is made
//     again at each retransmission), so watchAck ends it.
//   - the INVITE had no offer, our 2xx carried one, and the ACK brings no
//     usable answer. RFC 3261 §13.2.2.4: that ACK MUST carry the answer, and
//     a UAC that cannot accept our offer answers and sends BYE at once; a
//     session without an answer has no media, so we send the BYE.
//
// For a re-INVITE's ACK without an answer the session goes on as it was.

// ackTimeout is how long our 2xx waits for its ACK: 64*T1 (RFC 3261
// §13.3.1.4), read when the wait starts, unless ackTimeoutOverride is set
// (by tests, which cannot wait 32 s).
func ackTimeout() time.Duration {
	if ackTimeoutOverride > 0 {
		return ackTimeoutOverride
	}
	return 64 * sip.T1
}

var ackTimeoutOverride time.Duration

// watchAck ends ss's wait for the ACK of our 2xx after ackTimeout, noting
// why in c.ackFault. The returned stop ends the watch (call it once
// Respond has returned).
func (c *call) watchAck(ss *sipgo.DialogServerSession) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	timeout := ackTimeout()
	go func() {
		defer close(finished)
		t := time.NewTimer(timeout)
		defer t.Stop()
		select {
		case <-c.acked:
			return
		case <-done:
			return
		case <-t.C:
		}
		c.mu.Lock()
		c.ackFault = "no ACK for our 200 OK within " + timeout.String()
		c.mu.Unlock()
		c.ackOnce.Do(func() { close(c.acked) })
		// sipgo's Respond returns once it sees the dialog confirmed: give it
		// the INVITE's own CSeq, as an ACK would carry.
		ack := sip.NewRequest(sip.ACK, ss.InviteRequest.Recipient)
		cseq := *ss.InviteRequest.CSeq()
		cseq.MethodName = sip.ACK
		ack.AppendHeader(&cseq)
		_ = ss.ReadAck(ack, nil)
	}()
	return func() {
		close(done)
		<-finished
	}
}

// ackWithoutAnswer records that the ACK of a 2xx carrying our offer brought
// no answer (body empty) or an unusable one (bad).
func (c *call) ackWithoutAnswer(body []byte, bad error) {
	why := "the ACK carried no SDP answer to our offer"
	if len(body) > 0 {
		why = "the ACK's SDP answer is unusable: " + bad.Error()
	}
	c.mu.Lock()
	initial := c.answering
	if initial {
		c.ackFault = why
	}
	c.mu.Unlock()
	if !initial {
		c.p.log.Warn("re-INVITE: "+why+"; the session goes on as it was", "session", c.id)
	}
}

// takeAckFault waits (briefly: the ACK handler is finishing) until the ACK
// has been read or given up on, and returns what went wrong, "" if nothing.
func (c *call) takeAckFault() string {
	select {
	case <-c.acked:
	case <-time.After(time.Second):
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.answering = false
	return c.ackFault
}

// endUnacked ends a call whose 2xx got no ACK or an ACK without an answer:
// BYE (the dialog exists), then the call fails with why.
func (c *call) endUnacked(why string) {
	c.p.log.Info("incoming call ended: "+why, "session", c.id)
	if err := c.sendBye(); err != nil {
		why += " (BYE: " + err.Error() + ")"
	}
	c.setState(StateFailed, 0, why)
}
