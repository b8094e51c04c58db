package phone

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/teaphone/teaphone/phone/sdp"
)

// dialog is what both sipgo dialog sessions offer for in-dialog requests.
type dialog interface {
	Do(ctx context.Context, req *sip.Request) (*sip.Response, error)
	WriteRequest(req *sip.Request) error
}

// dialogLocked returns the call's dialog and the remote target (RFC 3261
// §12.2.1.1: the Contact of the remote party). c.mu must be held.
func (c *call) dialogLocked() (dialog, sip.Uri, error) {
	if c.cs != nil && c.cs.InviteResponse != nil {
		target := c.cs.InviteRequest.Recipient
		if ct := c.cs.InviteResponse.Contact(); ct != nil {
			target = ct.Address
		}
		return c.cs, target, nil
	}
	if c.ss != nil {
		target := c.ss.InviteRequest.Recipient
		if ct := c.ss.InviteRequest.Contact(); ct != nil {
			target = ct.Address
		}
		return c.ss, target, nil
	}
	return nil, sip.Uri{}, errors.New("no dialog")
}

// tags returns the Call-ID and our and the remote's dialog tags.
func (c *call) tags() (callID, local, remote string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cs != nil && c.cs.InviteResponse != nil {
		if f := c.cs.InviteRequest.From(); f != nil {
			local, _ = f.Params.Get("tag")
		}
		if t := c.cs.InviteResponse.To(); t != nil {
			remote, _ = t.Params.Get("tag")
		}
	} else if c.ss != nil {
		if t := c.ss.InviteRequest.To(); t != nil {
			local, _ = t.Params.Get("tag")
		}
		if f := c.ss.InviteRequest.From(); f != nil {
			remote, _ = f.Params.Get("tag")
		}
	}
	return c.sipCallID, local, remote
}

func (c *call) contactUser() string {
	if c.acct != nil {
		return c.acct.user()
	}
	return "teaphone"
}

// inDialog sends one request inside the dialog and returns the final response.
func (c *call) inDialog(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	c.mu.Lock()
	d, _, err := c.dialogLocked()
	c.mu.Unlock()
	if err != nil {
		return nil, err
	}
	ct := c.p.contactFor(c.contactUser(), c.transport)
	req.AppendHeader(&ct)
	return d.Do(ctx, req)
}

func (c *call) newRequest(method sip.RequestMethod) *sip.Request {
	c.mu.Lock()
	_, target, _ := c.dialogLocked()
	c.mu.Unlock()
	return sip.NewRequest(method, target)
}

func (p *Phone) activeCall(id SessionID) (*call, error) {
	c, err := p.lookup(id)
	if err != nil {
		return nil, err
	}
	if st := c.getState(); st != StateActive {
		return nil, fmt.Errorf("%w: session %s is %s", ErrWrongState, id, st)
	}
	return c, nil
}

// Hold puts the call on hold: a re-INVITE offering sendonly, or inactive when
// the remote already holds us (RFC 3264 §8.4).
func (p *Phone) Hold(id SessionID) error {
	c, err := p.activeCall(id)
	if err != nil {
		return err
	}
	return c.setHold(true)
}

// Resume takes the call off hold with a re-INVITE offering sendrecv.
func (p *Phone) Resume(id SessionID) error {
	c, err := p.activeCall(id)
	if err != nil {
		return err
	}
	return c.setHold(false)
}

func (c *call) setHold(hold bool) error {
	c.mu.Lock()
	if c.heldLocal == hold {
		c.mu.Unlock()
		return nil
	}
	c.mu.Unlock()
	dir := sdp.SendRecv
	if hold {
		dir = sdp.SendOnly
		if c.media.remoteHolds() {
			dir = sdp.Inactive
		}
	}
	if err := c.reinvite(dir); err != nil {
		verb := "resume"
		if hold {
			verb = "hold"
		}
		return fmt.Errorf("%s %s: %w", verb, c.id, err)
	}
	c.mu.Lock()
	c.heldLocal = hold
	c.mu.Unlock()
	reason := "resumed"
	if hold {
		reason = "held"
	}
	c.media.update()
	c.changed(reason)
	return nil
}

// errGlare is a 491 to our re-INVITE.
var errGlare = errors.New("491 Request Pending")

// reinvite sends a re-INVITE offering dir, retrying after 491 (RFC 3261
// §14.1: the owner of the Call-ID waits 2.1-4 s, the other side 0-2 s).
func (c *call) reinvite(dir sdp.Direction) error {
	for attempt := 0; ; attempt++ {
		err := c.reinviteOnce(dir)
		if !errors.Is(err, errGlare) || attempt >= 3 {
			return err
		}
		var d time.Duration
		if c.dir == DirectionOutgoing {
			d = 2100*time.Millisecond + time.Duration(rand.Int64N(int64(1900*time.Millisecond)))
		} else {
			d = time.Duration(rand.Int64N(int64(2 * time.Second)))
		}
		select {
		case <-time.After(d):
		case <-c.ended:
			return errors.New("call ended")
		}
	}
}

func (c *call) reinviteOnce(dir sdp.Direction) error {
	c.dialogMu.Lock()
	defer c.dialogMu.Unlock()
	c.mu.Lock()
	if c.offerPending {
		c.mu.Unlock()
		return errGlare
	}
	c.offerPending = true
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.offerPending = false
		c.mu.Unlock()
	}()
	prev := c.media.getLocalDir()
	c.media.setLocalDir(dir)
	offer, err := c.media.offer()
	if err != nil {
		c.media.setLocalDir(prev)
		return err
	}
	req := c.newRequest(sip.INVITE)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.AppendHeader(sip.NewHeader("Allow", allowMethods))
	req.SetBody(offer)
	ctx, cancel := context.WithTimeout(context.Background(), 32*time.Second)
	defer cancel()
	res, err := c.inDialog(ctx, req)
	if err != nil {
		c.media.setLocalDir(prev)
		return err
	}
	if res.StatusCode == 491 {
		c.media.setLocalDir(prev)
		return errGlare
	}
	if !res.IsSuccess() {
		c.media.setLocalDir(prev)
		return fmt.Errorf("%d %s", res.StatusCode, res.Reason)
	}
	// RFC 3261 §13.2.2.4: ACK the 2xx to its Contact; sipgo takes the CSeq
	// from the dialog (notes/sipgo.md §4).
	target := req.Recipient
	if ct := res.Contact(); ct != nil {
		target = ct.Address
		c.setRemoteTarget(target)
	}
	ack := sip.NewRequest(sip.ACK, target)
	c.mu.Lock()
	d, _, _ := c.dialogLocked()
	c.mu.Unlock()
	if err := d.WriteRequest(ack); err != nil {
		c.p.log.Warn("ACK of re-INVITE", "session", c.id, "err", err)
	}
	if err := c.media.applyAnswer(res.Body()); err != nil {
		return fmt.Errorf("bad SDP answer: %w", err)
	}
	return nil
}

// setRemoteTarget records a target refresh (RFC 3261 §12.2.1.2). sipgo does
// not track it; we only use it for requests we build ourselves.
func (c *call) setRemoteTarget(u sip.Uri) {
	c.mu.Lock()
	c.remoteTarget = &u
	c.mu.Unlock()
}

// Mute stops sending the microphone (silence is sent instead) without
// touching the call or its hold state.
func (p *Phone) Mute(id SessionID, on bool) error {
	c, err := p.lookup(id)
	if err != nil {
		return err
	}
	c.mu.Lock()
	if c.state.Final() {
		c.mu.Unlock()
		return fmt.Errorf("%w: session %s has ended", ErrWrongState, id)
	}
	changed := c.muted != on
	c.muted = on
	c.mu.Unlock()
	c.media.setMute(on)
	if changed {
		reason := "unmuted"
		if on {
			reason = "muted"
		}
		c.changed(reason)
	}
	return nil
}

// SendDTMF sends digits: RFC 4733 events on the remote's telephone-event
// payload type when it was negotiated (and media runs), else SIP INFO with
// application/dtmf-relay. Digits are sent one after another in the background.
func (p *Phone) SendDTMF(id SessionID, digits string) error {
	c, err := p.activeCall(id)
	if err != nil {
		return err
	}
	digits = strings.ToUpper(digits)
	for _, d := range digits {
		if !isDTMF(d) {
			return fmt.Errorf("%w: %q is not a DTMF digit (0-9 * # A-D)", ErrInvalidInput, d)
		}
	}
	if digits == "" {
		return fmt.Errorf("%w: no digits", ErrInvalidInput)
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		c.dtmfMu.Lock()
		defer c.dtmfMu.Unlock()
		for _, d := range digits {
			if c.getState().Final() {
				return
			}
			method := "rfc4733"
			if !p.opts.DTMFInfo && c.media.sendDTMF(d) {
				// queued on the RTP stream
			} else {
				method = "info"
				if err := c.sendInfoDTMF(d); err != nil {
					p.emit(ErrorEvent{Time: time.Now(), Session: c.id, Err: fmt.Errorf("dtmf %c: %w", d, err)})
					return
				}
				// Space the digits as their tones would be (Duration=160 plus
				// a gap): PBXs and IVRs merge or drop INFOs sent back to back.
				time.Sleep(240 * time.Millisecond)
			}
			p.emit(DTMFEvent{Time: time.Now(), Session: c.id, Digit: d, Received: false, Method: method})
		}
	}()
	return nil
}

func (c *call) sendInfoDTMF(d rune) error {
	c.dialogMu.Lock()
	defer c.dialogMu.Unlock()
	req := c.newRequest(sip.INFO)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/dtmf-relay"))
	req.SetBody([]byte("Signal=" + string(d) + "\r\nDuration=160\r\n"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := c.inDialog(ctx, req)
	if err != nil {
		return err
	}
	if !res.IsSuccess() {
		return fmt.Errorf("INFO answered %d %s", res.StatusCode, res.Reason)
	}
	return nil
}

// ---- transfer (RFC 3515 REFER, RFC 3891 Replaces) ----

// Transfer blind-transfers the call to target: REFER with Refer-To and
// Referred-By. The call ends only after a final 2xx NOTIFY; on failure it is
// kept and a TransferEvent reports why.
func (p *Phone) Transfer(id SessionID, target string) error {
	c, err := p.activeCall(id)
	if err != nil {
		return err
	}
	domain := ""
	if c.acct != nil {
		domain = c.acct.domain()
	}
	uri, err := ResolveTarget(target, domain)
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
	c.p.wg.Add(1)
	go func() {
		defer c.p.wg.Done()
		c.runRefer(r, referTo)
	}()
	return nil
}

type referState struct {
	target  string
	notify  chan int // final sipfrag codes
	consult *call
}

func (c *call) runRefer(r *referState, referTo string) {
	p := c.p
	fail := func(code int, reason string) {
		c.mu.Lock()
		c.transfer = nil
		var ev *CallEvent
		if c.state == StateTransferring {
			// The call is kept: back to active before the failure is told.
			c.state = StateActive
			e := c.snapshotLocked(code, "transfer failed: "+reason)
			ev = &e
		}
		c.mu.Unlock()
		if ev != nil {
			p.emit(*ev)
		}
		p.emit(TransferEvent{Time: time.Now(), Session: c.id, Target: r.target, Outgoing: true, Code: code, Reason: reason, Final: true})
	}
	req := c.newRequest(sip.REFER)
	req.AppendHeader(sip.NewHeader("Refer-To", referTo))
	ct := c.p.contactFor(c.contactUser(), c.transport)
	by := "<" + ct.Address.String() + ">"
	if c.acct != nil {
		by = "<" + c.acct.aor.String() + ">"
	}
	req.AppendHeader(sip.NewHeader("Referred-By", by))
	c.dialogMu.Lock()
	ctx, cancel := context.WithTimeout(context.Background(), 32*time.Second)
	res, err := c.inDialog(ctx, req)
	cancel()
	c.dialogMu.Unlock()
	if err != nil {
		fail(0, err.Error())
		return
	}
	if !res.IsSuccess() {
		fail(res.StatusCode, res.Reason)
		return
	}
	p.emit(TransferEvent{Time: time.Now(), Session: c.id, Target: r.target, Outgoing: true, Code: res.StatusCode, Reason: res.Reason})
	// RFC 3515 §2.4.5: the result comes in NOTIFYs with message/sipfrag; the
	// NOTIFY may even precede the 202 (notes/sipgo.md §4): they are buffered.
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
func (p *Phone) onNotify(req *sip.Request, tx sip.ServerTransaction) {
	c := p.findDialog(req)
	if c == nil {
		respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
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

// onRefer executes a transfer asked of us (RFC 3515 §2.4.2): 202, NOTIFY 100,
// a new call to the Refer-To target (with its Replaces, if any), a final
// NOTIFY with the result, and the old call ended after a success.
func (p *Phone) onRefer(req *sip.Request, tx sip.ServerTransaction) {
	c := p.findDialog(req)
	if c == nil {
		respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	if c.getState() != StateActive {
		respond(tx, req, 491, "Request Pending")
		return
	}
	h := req.GetHeader("Refer-To")
	if h == nil {
		respond(tx, req, 400, "Bad Request (no Refer-To)")
		return
	}
	var uri sip.Uri
	params := sip.NewParams()
	if _, err := sip.ParseAddressValue(h.Value(), &uri, &params); err != nil || uri.Host == "" {
		respond(tx, req, 400, "Bad Request (Refer-To)")
		return
	}
	headers := map[string]string{}
	if rep, ok := uri.Headers.Get("Replaces"); ok && uri.Headers != nil {
		if v, err := url.QueryUnescape(rep); err == nil {
			rep = v
		}
		headers["Replaces"] = rep
	}
	if by := req.GetHeader("Referred-By"); by != nil {
		headers["Referred-By"] = by.Value()
	}
	for k, v := range headers {
		if ValidateHeader(k, v) != nil {
			respond(tx, req, 400, "Bad Request")
			return
		}
	}
	target := sip.Uri{Scheme: uri.Scheme, User: uri.User, Host: uri.Host, Port: uri.Port, UriParams: uri.UriParams}
	respond(tx, req, 202, "Accepted")
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		c.executeTransfer(target, headers)
	}()
}

func (c *call) executeTransfer(target sip.Uri, headers map[string]string) {
	p := c.p
	notify := func(code int, reason string, final bool) {
		req := c.newRequest(sip.NOTIFY)
		req.AppendHeader(sip.NewHeader("Event", "refer"))
		state := "active;expires=60"
		if final {
			state = "terminated;reason=noresource"
		}
		req.AppendHeader(sip.NewHeader("Subscription-State", state))
		req.AppendHeader(sip.NewHeader("Content-Type", "message/sipfrag;version=2.0"))
		req.SetBody([]byte("SIP/2.0 " + strconv.Itoa(code) + " " + reason + "\r\n"))
		c.dialogMu.Lock()
		defer c.dialogMu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := c.inDialog(ctx, req); err != nil {
			p.log.Info("NOTIFY", "session", c.id, "err", err)
		}
	}
	notify(100, "Trying", false)
	acctName := ""
	if c.acct != nil {
		acctName = c.acct.cfg.Name
	}
	nc, err := p.dial(target.String(), DialOptions{Account: acctName, Headers: headers})
	if err != nil {
		notify(503, "Service Unavailable", true)
		p.emit(TransferEvent{Time: time.Now(), Session: c.id, Target: target.String(), Code: 503, Reason: err.Error(), Final: true})
		return
	}
	newID := nc.id
	p.emit(TransferEvent{Time: time.Now(), Session: c.id, Target: target.String(), Code: 100, Reason: "transfer requested", NewSession: newID})
	// Wait for the new call to be answered or to fail.
	for {
		st := nc.getState()
		if st == StateActive {
			notify(200, "OK", true)
			p.emit(TransferEvent{Time: time.Now(), Session: c.id, Target: target.String(), Code: 200, Reason: "transferred", Final: true, NewSession: newID})
			// RFC 5589 §6: the transferor ends the old dialog after the final
			// NOTIFY; end it ourselves only if it does not.
			select {
			case <-c.ended:
			case <-time.After(2 * time.Second):
				c.bye(200, "transferred", "transferred")
			}
			return
		}
		if st.Final() {
			code, reason := nc.endCode()
			if code < 300 {
				code, reason = 487, "Request Terminated"
			}
			notify(code, reason, true)
			p.emit(TransferEvent{Time: time.Now(), Session: c.id, Target: target.String(), Code: code, Reason: reason, Final: true, NewSession: newID})
			return
		}
		select {
		case <-nc.ended:
		case <-nc.stateCh():
		case <-c.ended:
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// onInviteReplaces handles an INVITE with Replaces (RFC 3891 §3): when it
// names one of our confirmed dialogs, the new call is answered without
// ringing and the old one ended; otherwise 481.
func (p *Phone) onInviteReplaces(req *sip.Request, tx sip.ServerTransaction, value string) {
	parts := strings.Split(value, ";")
	callID := strings.TrimSpace(parts[0])
	var toTag, fromTag string
	for _, kv := range parts[1:] {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		switch strings.ToLower(k) {
		case "to-tag":
			toTag = v
		case "from-tag":
			fromTag = v
		}
	}
	p.mu.Lock()
	old := p.byCallID[callID]
	p.mu.Unlock()
	if old == nil {
		respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	_, local, remote := old.tags()
	if local != toTag || remote != fromTag || old.getState() != StateActive {
		respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	p.acceptIncoming(req, tx, old)
}

// endCode returns the code and reason of the call's final event.
func (c *call) endCode() (int, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastCode, c.lastReason
}

func (c *call) stateCh() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stateChanged == nil {
		c.stateChanged = make(chan struct{})
	}
	return c.stateChanged
}
