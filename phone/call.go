package phone

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// call is one session: a SIP dialog (or the attempt to make one) with its
// offer/answer state and media.
type call struct {
	p         *Phone
	id        SessionID
	dir       Direction
	acct      *account
	transport string

	// ctx lives as long as the call: hang-up cancels it, so whatever the
	// call still waits for (a re-INVITE, a REFER, an INFO) is abandoned.
	ctx    context.Context
	cancel context.CancelCauseFunc

	// dialogMu serialises the requests we send inside the dialog, from the
	// CSeq number to the send: sipgo's dialog CSeq counter is a load and a
	// store, not safe for concurrent use. It is never held while waiting for
	// a response.
	dialogMu sync.Mutex
	// inbox runs the requests the remote sends in the dialog in CSeq order.
	inbox sequencer

	mu              sync.Mutex
	state           State
	heldLocal       bool
	heldRemote      bool
	muted           bool
	remoteURI       string
	remoteDisplay   string
	subject         string
	sipCallID       string
	fromTag         string // outgoing: our From tag, the same on every server tried
	replacedBy      SessionID
	cs              *sipgo.DialogClientSession
	ss              *sipgo.DialogServerSession
	dialogID        string
	gotProvisional  bool
	localCancel     bool
	cancelInvite    context.CancelCauseFunc
	inviteDest      string // host:port our INVITE is sent to (sip.Request.Destination)
	inviteLocated   bool   // that INVITE went to one of a located domain's servers (RFC 3263)
	inviteBounce    string // why that INVITE bounced (an ICMP error), "" if it did not
	decision        chan Decision
	pendingAnswer   []byte // incoming: our SDP answer, computed when the INVITE arrived
	media           mediaState
	rtp, rtcp       *net.UDPConn
	released        bool
	ended           chan struct{}
	offerPending    bool          // our re-INVITE is in flight (an incoming one gets 491)
	answerDue       time.Time     // our 2xx carried an offer: its answer comes in the ACK (zero: none due)
	remoteTarget    *sip.Uri      // the remote's latest Contact (RFC 3261 §12.2: target refresh)
	acked           chan struct{} // incoming: closed when the ACK of our 2xx arrived (or was given up on)
	answering       bool          // incoming: our 2xx is waiting for its ACK (ackwait.go)
	ackFault        string        // why that ACK set up no session, "" if it did (ackwait.go)
	ackOnce         sync.Once
	lastAck         *sip.Request   // the ACK of our latest re-INVITE's 2xx, for its retransmissions
	lastRSeq        uint32         // outgoing: the RSeq of the last reliable 18x we PRACKed
	reliable        *reliable      // incoming: our reliable 180, while it may be PRACKed
	uasTimer        sessionExpires // incoming: the session timer our 2xx agrees on
	uacAsk          uacAsk         // outgoing: the session timer our INVITE asks for
	refreshed       chan timerRole // the remote's refreshes, to the session timer
	sessionInterval time.Duration  // the session timer's interval in force, 0 = none
	transfer        *referState
	transferAsk     chan bool  // a transfer request waiting for AnswerTransfer (transferask.go)
	dtmfMu          sync.Mutex // one DTMF string at a time
	lastCode        int
	lastReason      string
	stateChanged    chan struct{}
	replaces        *call  // incoming INVITE with Replaces: the call it replaces
	host            net.IP // the address this call advertises (hostFor); nil: the default
	// contactUser is an incoming call's Contact user: the Request-URI's,
	// whatever was called, so that our answers look the same whether or
	// not the user exists (no account enumeration by scanners).
	contactUser    string
	ownContactUser bool
	strays         map[string]bool // To tag and CSeq of stray 2xx dialogs already ended (stray.go)
}

// errCallEnded is the cause of a call's context once the call has ended.
// It is sipgo's WaitAnswerForceCancelErr, which sipgo compares with ==: an
// INVITE still waiting for its answer when the call ends otherwise (an
// ICMP error, Close) stops waiting at once and sends no CANCEL, which would
// wait for a provisional response (RFC 3261 §9.1). A hang-up that wants the
// CANCEL cancels the INVITE's own context first.
var errCallEnded = sipgo.WaitAnswerForceCancelErr

// errHangup is the cause of a call's context when a hang-up abandons what
// the call was waiting for.
var errHangup = errors.New("hung up")

// newCall makes a session with its RTP ports. id is the caller's session ID,
// or "" to mint one. The call is not yet known to the phone's maps.
func (p *Phone) newCall(id SessionID, dir Direction, acct *account, transport string) (*call, error) {
	rtp, rtcp, err := p.ports.allocate()
	if err != nil {
		return nil, err
	}
	if id == "" {
		id = p.newSessionID()
	}
	ctx, cancel := context.WithCancelCause(p.ctx)
	c := &call{
		p: p, id: id, dir: dir, acct: acct, transport: transport,
		ctx: ctx, cancel: cancel,
		rtp: rtp, rtcp: rtcp, ended: make(chan struct{}), acked: make(chan struct{}),
	}
	c.media.init(p, c.id, rtp, rtcp, p.encryption(acct))
	return c, nil
}

// domain is the domain a bare number or user is completed with: the
// account's, or none for a direct call.
func (c *call) domain() string {
	if c.acct == nil {
		return ""
	}
	return c.acct.domain()
}

func (c *call) accountName() string {
	if c.acct == nil {
		return ""
	}
	return c.acct.cfg.Name
}

// snapshotLocked builds the event for the current state. c.mu must be held.
func (c *call) snapshotLocked(code int, reason string) CallEvent {
	return CallEvent{
		Time: time.Now(), Session: c.id, Direction: c.dir, State: c.state, Account: c.accountName(),
		RemoteURI: c.remoteURI, RemoteDisplay: c.remoteDisplay, Subject: c.subject, SIPCallID: c.sipCallID,
		HeldLocal: c.heldLocal, HeldRemote: c.heldRemote, Muted: c.muted, Codec: c.media.codecName(), SRTP: c.media.srtpSuite(),
		Transport: c.transport,
		Code:      code, Reason: reason, ReplacedBy: c.replacedBy,
	}
}

// setState moves the call to st (when the transition table allows it) and
// emits a CallEvent; waiters on stateCh are woken. Once a final state is
// reached later transitions are ignored (the first cause wins). It reports
// whether the transition happened.
func (c *call) setState(st State, code int, reason string) bool {
	c.mu.Lock()
	if !canMove(c.state, st) {
		from := c.state
		c.mu.Unlock()
		if from != st && !from.Final() {
			c.p.log.Debug("call state change refused", "session", c.id, "from", from, "to", st, "reason", reason)
		}
		return false
	}
	c.state = st
	c.lastCode, c.lastReason = code, reason
	if c.stateChanged != nil {
		close(c.stateChanged)
		c.stateChanged = nil
	}
	ev := c.snapshotLocked(code, reason)
	c.mu.Unlock()
	c.p.emit(ev)
	if st.Final() {
		c.cancel(errCallEnded)
		close(c.ended)
		c.release()
	}
	return true
}

// changed emits a CallEvent for a change of flags (hold, mute, codec) without a state change.
func (c *call) changed(reason string) {
	c.mu.Lock()
	if c.state.Final() {
		c.mu.Unlock()
		return
	}
	ev := c.snapshotLocked(0, reason)
	c.mu.Unlock()
	c.p.emit(ev)
}

func (c *call) getState() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// release frees the ports and the map entries. Idempotent.
func (c *call) release() {
	c.mu.Lock()
	if c.released {
		c.mu.Unlock()
		return
	}
	c.released = true
	dialogID, callID := c.dialogID, c.sipCallID
	c.mu.Unlock()
	c.cancel(errCallEnded)
	c.media.stop()
	if c.rtp != nil {
		c.rtp.Close()
	}
	if c.rtcp != nil {
		c.rtcp.Close()
	}
	p := c.p
	p.mu.Lock()
	if p.calls[c.id] == c {
		delete(p.calls, c.id)
	}
	if dialogID != "" && p.byDialog[dialogID] == c {
		delete(p.byDialog, dialogID)
	}
	if callID != "" && p.byCallID[callID] == c {
		delete(p.byCallID, callID)
	}
	p.mu.Unlock()
}

func (c *call) setDialogID(id string) {
	c.mu.Lock()
	c.dialogID = id
	c.mu.Unlock()
	c.p.mu.Lock()
	c.p.byDialog[id] = c
	c.p.mu.Unlock()
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
