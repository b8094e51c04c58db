package phone

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Transfer blind-transfers the call to target: REFER with Refer-To and
// Referred-By. The call ends only after a final 2xx NOTIFY; on failure it is
// kept and a TransferEvent reports why.
func (p *Phone) Transfer(id SessionID, target string) error {
	c, err := p.activeCall(id)
	if err != nil {
		return err
	}
	uri, err := ResolveTarget(target, c.domain())
	if err != nil {
		return fmt.Errorf("transfer %s: %w", id, err)
	}
	return c.refer(uri.String(), "<"+uri.String()+">", nil)
}

// AttendedTransfer connects the remote party of id with the remote party of
// consult (RFC 5589 §7): REFER to id's peer with a Refer-To that carries
// Replaces for our dialog with consult (RFC 3891 §3). Both our calls end after
// the final 2xx NOTIFY.
func (p *Phone) AttendedTransfer(id, consult SessionID) error {
	if id == consult {
		return fmt.Errorf("%w: a call cannot be transferred to itself", ErrInvalidInput)
	}
	a, err := p.activeCall(id)
	if err != nil {
		return err
	}
	cc, err := p.activeCall(consult)
	if err != nil {
		return err
	}
	callID, local, remote := cc.tags()
	cc.mu.Lock()
	_, target, derr := cc.dialogLocked()
	cc.mu.Unlock()
	if derr != nil {
		return derr
	}
	// The Replaces header names the dialog at the transfer target: to-tag is
	// the target's tag (our remote tag), from-tag ours (RFC 3891 §3).
	replaces := callID + ";to-tag=" + remote + ";from-tag=" + local
	t := target
	t.UriParams = nil
	t.Headers = nil
	referTo := "<" + t.String() + "?Replaces=" + url.QueryEscape(replaces) + ">"
	return a.refer(t.String(), referTo, cc)
}

func (c *call) refer(display, referTo string, consult *call) error {
	c.mu.Lock()
	if c.transfer != nil {
		c.mu.Unlock()
		return fmt.Errorf("%w: a transfer of %s is already in progress", ErrWrongState, c.id)
	}
	r := &referState{target: display, notify: make(chan int, 8), consult: consult}
	c.transfer = r
	c.mu.Unlock()
	c.setState(StateTransferring, 0, "transferring to "+display)
	if !c.p.spawn(func() { c.runRefer(r, referTo) }) {
		c.transferFailed(r, 503, "phone closing")
		return ErrClosed
	}
	return nil
}

// transferFailed ends a transfer we started that did not succeed: the call
// is kept, back to active (through setState, so waiters wake), before the
// failure is told.
func (c *call) transferFailed(r *referState, code int, reason string) {
	c.mu.Lock()
	if c.transfer == r {
		c.transfer = nil
	}
	c.mu.Unlock()
	c.setState(StateActive, code, "transfer failed: "+reason)
	c.p.emit(TransferEvent{Time: time.Now(), Session: c.id, Target: r.target, Outgoing: true, Code: code, Reason: reason, Final: true})
}

type referState struct {
	target  string
	notify  chan int // final sipfrag codes
	consult *call
}

func (c *call) runRefer(r *referState, referTo string) {
	p := c.p
	fail := func(code int, reason string) { c.transferFailed(r, code, reason) }
	req := c.newRequest(sip.REFER)
	req.AppendHeader(sip.NewHeader("Refer-To", referTo))
	ct := c.contact()
	by := "<" + ct.Address.String() + ">"
	if c.acct != nil {
		by = "<" + c.acct.aor.String() + ">"
	}
	req.AppendHeader(sip.NewHeader("Referred-By", by))
	ctx, cancel := context.WithTimeout(c.ctx, 64*sip.T1)
	res, err := c.request(ctx, req)
	cancel()
	if err != nil {
		fail(0, err.Error())
		return
	}
	if !res.IsSuccess() {
		fail(res.StatusCode, res.Reason)
		return
	}
	p.emit(TransferEvent{Time: time.Now(), Session: c.id, Target: r.target, Outgoing: true, Code: res.StatusCode, Reason: res.Reason})
	// RFC 3515 §2.4.5: the result comes in NOTIFYs with message/sipfrag. A
	// NOTIFY can reach us before the 202 (the transferee sends both at
	// once): r.notify buffers the codes from the moment the REFER is sent.
	timeout := time.NewTimer(60 * time.Second)
	defer timeout.Stop()
	for {
		select {
		case code := <-r.notify:
			if code < 200 {
				continue
			}
			if code >= 300 {
				fail(code, "transfer target answered "+strconv.Itoa(code))
				return
			}
			c.mu.Lock()
			c.transfer = nil
			c.mu.Unlock()
			p.emit(TransferEvent{Time: time.Now(), Session: c.id, Target: r.target, Outgoing: true, Code: code, Reason: "transferred", Final: true})
			c.bye(200, "transferred", "transferred")
			if r.consult != nil {
				// The target normally ends the replaced dialog itself; make sure.
				select {
				case <-r.consult.ended:
				case <-time.After(2 * time.Second):
					r.consult.bye(200, "transferred", "transferred")
				}
			}
			return
		case <-timeout.C:
			fail(408, "no final NOTIFY")
			return
		case <-c.ended:
			return
		}
	}
}

// onNotify takes transfer progress (RFC 3515 §2.4.4) for calls we transfer.
func (p *Phone) onNotify(c *call, req *sip.Request, tx sip.ServerTransaction) {
	ev := ""
	if h := req.GetHeader("Event"); h != nil {
		ev = strings.ToLower(strings.TrimSpace(strings.SplitN(h.Value(), ";", 2)[0]))
	}
	if ev != "refer" {
		respond(tx, req, 489, "Bad Event")
		return
	}
	code, ok := parseSipfrag(req.Body())
	if !ok {
		respond(tx, req, 400, "Bad Request (sipfrag)")
		return
	}
	respond(tx, req, 200, "OK")
	c.mu.Lock()
	r := c.transfer
	c.mu.Unlock()
	if r == nil {
		return
	}
	if code < 200 {
		p.emit(TransferEvent{Time: time.Now(), Session: c.id, Target: r.target, Outgoing: true, Code: code, Reason: "progress"})
	}
	select {
	case r.notify <- code:
	default:
	}
}

// parseSipfrag reads the status of "SIP/2.0 200 OK" (RFC 3420).
func parseSipfrag(body []byte) (int, bool) {
	line := strings.TrimSpace(strings.SplitN(string(body), "\n", 2)[0])
	f := strings.Fields(line)
	if len(f) < 2 || !strings.HasPrefix(strings.ToUpper(f[0]), "SIP/") {
		return 0, false
	}
	code, err := strconv.Atoi(f[1])
	if err != nil || code < 100 || code > 699 {
		return 0, false
	}
	return code, true
}
