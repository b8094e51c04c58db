package phone

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// calleeDialog is a fake peer's side of a call our phone placed to it: the
// INVITE it answered, so that the peer can send requests of its own inside
// the dialog.
type calleeDialog struct {
	fp     *fakePeer
	invite *sip.Request
	tag    string
}

// answerAll makes srv answer every initial INVITE with 200 (Contact
// sip:first@peer) and every re-INVITE as the test says; it records the
// INVITE it answered.
func answerAll(fp *fakePeer, srv *sipgo.Server, got chan<- *sip.Request, onReInvite func(req *sip.Request, tx sip.ServerTransaction)) {
	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		fp.record(req)
		if _, ok := req.To().Params.Get("tag"); ok {
			onReInvite(req, tx)
			return
		}
		_ = tx.Respond(fp.sdpResponse(req, 200, "OK", "first"))
		got <- req
		select {
		case <-tx.Acks():
		case <-time.After(5 * time.Second):
		}
	})
	srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) { fp.record(req) })
	for _, m := range []sip.RequestMethod{sip.BYE, sip.INFO, sip.NOTIFY} {
		srv.OnRequest(m, func(req *sip.Request, tx sip.ServerTransaction) {
			fp.record(req)
			_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
		})
	}
}

func peerSDP() []byte {
	return []byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n")
}

// request builds a request of the peer inside the dialog, numbered cseq.
func (d *calleeDialog) request(method sip.RequestMethod, cseq uint32) *sip.Request {
	req := sip.NewRequest(method, d.invite.Contact().Address)
	from := sip.FromHeader{Address: d.invite.To().Address, Params: sip.NewParams()}
	from.Params.Add("tag", d.tag)
	req.AppendHeader(&from)
	to := d.invite.From().AsTo()
	req.AppendHeader(&to)
	req.AppendHeader(sip.HeaderClone(d.invite.CallID()))
	req.AppendHeader(&sip.CSeqHeader{SeqNo: cseq, MethodName: method})
	return req
}

// TestTargetRefresh: a re-INVITE from the remote with a new Contact moves
// the remote target (RFC 3261 §12.2.2); the INFO, the NOTIFY-free REFER
// path and the BYE we send afterwards go to the new target.
func TestTargetRefresh(t *testing.T) {
	got := make(chan *sip.Request, 1)
	fp := newFakePeer(t, func(fp *fakePeer, srv *sipgo.Server) {
		answerAll(fp, srv, got, func(req *sip.Request, tx sip.ServerTransaction) {
			_ = tx.Respond(sip.NewResponseFromRequest(req, 500, "unexpected", nil))
		})
	})
	a := newTestPhone(t, Options{DTMFInfo: true})
	id, err := a.Dial(context.Background(), "sip:x@"+fp.addr, DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d := &calleeDialog{fp: fp, invite: <-got, tag: "peertag"}
	a.waitCall(id, StateActive, wait)

	reinv := d.request(sip.INVITE, 1)
	reinv.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "second", Host: "127.0.0.1", Port: mustPort(fp.addr)}})
	reinv.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	reinv.SetBody(peerSDP())
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	res, err := fp.cli.Do(ctx, reinv)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("re-INVITE: %v %v", res, err)
	}
	ack := d.request(sip.ACK, 1)
	if err := fp.cli.WriteRequest(ack); err != nil {
		t.Fatal(err)
	}

	if err := a.SendDTMF(id, "5"); err != nil {
		t.Fatal(err)
	}
	a.waitFor(wait, func(ev Event) bool { e, ok := ev.(DTMFEvent); return ok && !e.Received })
	if err := a.Hangup(id); err != nil {
		t.Fatal(err)
	}
	a.waitCall(id, StateTerminated, wait)
	for _, m := range []sip.RequestMethod{sip.INFO, sip.BYE} {
		reqs := fp.requests(m)
		if len(reqs) != 1 {
			t.Fatalf("%d %s requests", len(reqs), m)
		}
		if u := reqs[0].Recipient.User; u != "second" {
			t.Errorf("%s went to %s, want the refreshed target sip:second@…", m, reqs[0].Recipient.String())
		}
	}
}

// TestHangupDuringUnansweredReInvite: hanging up while our re-INVITE has no
// answer sends BYE at once (the re-INVITE is abandoned), not after Timer B.
func TestHangupDuringUnansweredReInvite(t *testing.T) {
	got := make(chan *sip.Request, 1)
	release := make(chan struct{})
	defer close(release)
	fp := newFakePeer(t, func(fp *fakePeer, srv *sipgo.Server) {
		answerAll(fp, srv, got, func(req *sip.Request, tx sip.ServerTransaction) {
			<-release // never answered while the test runs
		})
	})
	a := newTestPhone(t, Options{})
	id, err := a.Dial(context.Background(), "sip:x@"+fp.addr, DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	<-got
	a.waitCall(id, StateActive, wait)
	holdErr := make(chan error, 1)
	go func() { holdErr <- a.Hold(id) }()
	for deadline := time.Now().Add(wait); len(fp.requests(sip.INVITE)) < 2; {
		if time.Now().After(deadline) {
			t.Fatal("no re-INVITE")
		}
		time.Sleep(10 * time.Millisecond)
	}
	hungUp := time.Now()
	hangErr := make(chan error, 1)
	go func() { hangErr <- a.Hangup(id) }()
	// Timer B is 32 s: 3 s means the BYE did not wait for the re-INVITE.
	a.waitCall(id, StateTerminated, 3*time.Second)
	if err := <-hangErr; err != nil {
		t.Fatal(err)
	}
	if n := len(fp.requests(sip.BYE)); n != 1 {
		t.Fatalf("%d BYEs", n)
	}
	select {
	case err := <-holdErr:
		if err == nil {
			t.Error("the abandoned hold reported success")
		}
	case <-time.After(3 * time.Second):
		t.Error("Hold still waits after the hang-up")
	}
	t.Logf("BYE and end %v after the hang-up", time.Since(hungUp).Round(time.Millisecond))
}

// TestInfoDigitsInCSeqOrder: INFO digits sent back to back (each before the
// previous one is answered, as RFC 3261 allows for non-INVITE requests) are
// reported in CSeq order, and an INFO numbered below one already processed
// gets 500 (RFC 3261 §12.2.2).
func TestInfoDigitsInCSeqOrder(t *testing.T) {
	got := make(chan *sip.Request, 1)
	fp := newFakePeer(t, func(fp *fakePeer, srv *sipgo.Server) {
		answerAll(fp, srv, got, func(req *sip.Request, tx sip.ServerTransaction) {})
	})
	a := newTestPhone(t, Options{})
	id, err := a.Dial(context.Background(), "sip:x@"+fp.addr, DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d := &calleeDialog{fp: fp, invite: <-got, tag: "peertag"}
	a.waitCall(id, StateActive, wait)

	const digits = "147*0#"
	seq := uint32(100)
	for round := 0; round < 5; round++ {
		var txs []sip.ClientTransaction
		for _, dg := range digits {
			seq++
			req := d.request(sip.INFO, seq)
			req.AppendHeader(sip.NewHeader("Content-Type", "application/dtmf-relay"))
			req.SetBody([]byte(fmt.Sprintf("Signal=%c\r\nDuration=160\r\n", dg)))
			tx, err := fp.cli.TransactionRequest(context.Background(), req, sipgo.ClientRequestAddVia)
			if err != nil {
				t.Fatal(err)
			}
			txs = append(txs, tx)
		}
		for i, tx := range txs {
			select {
			case res := <-tx.Responses():
				if res.StatusCode != 200 {
					t.Fatalf("INFO %d: %d", i, res.StatusCode)
				}
			case <-time.After(wait):
				t.Fatalf("INFO %d unanswered", i)
			}
			tx.Terminate()
		}
		want := strings.Repeat(digits, round+1)
		for deadline := time.Now().Add(wait); len(a.receivedDigits(id)) < len(want) && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
		if got := a.receivedDigits(id); got != want {
			t.Fatalf("round %d: digits arrived as %q, want %q", round, got, want)
		}
	}

	late := d.request(sip.INFO, seq-3)
	late.AppendHeader(sip.NewHeader("Content-Type", "application/dtmf-relay"))
	late.SetBody([]byte("Signal=9\r\n"))
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	res, err := fp.cli.Do(ctx, late, sipgo.ClientRequestAddVia)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 500 {
		t.Errorf("INFO with a lower CSeq: %d, want 500", res.StatusCode)
	}
}

// receivedDigits returns the DTMF digits received on id, in event order.
func (tp *testPhone) receivedDigits(id SessionID) string {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	var b strings.Builder
	for _, ev := range tp.events {
		if e, ok := ev.(DTMFEvent); ok && e.Session == id && e.Received {
			b.WriteRune(e.Digit)
		}
	}
	return b.String()
}

// TestTransferFailureWakesWaiters: when a transfer we started fails, the
// call goes back to active through the state machine, so whoever waits for
// a state change wakes.
func TestTransferFailureWakesWaiters(t *testing.T) {
	p := newTestPhone(t, Options{})
	c, err := p.newCall("", DirectionOutgoing, nil, "UDP")
	if err != nil {
		t.Fatal(err)
	}
	defer c.release()
	for _, st := range []State{StateInitiating, StateActive, StateTransferring} {
		if !c.setState(st, 0, "") {
			t.Fatalf("cannot move to %s", st)
		}
	}
	r := &referState{target: "sip:carol@example.com"}
	c.transfer = r
	woke := c.stateCh()
	c.transferFailed(r, 486, "Busy Here")
	select {
	case <-woke:
	default:
		t.Fatal("a waiter on the call's state was not woken")
	}
	if st := c.getState(); st != StateActive {
		t.Errorf("state %s after a failed transfer, want active", st)
	}
	want := []State{StateInitiating, StateActive, StateTransferring, StateActive}
	for deadline := time.Now().Add(wait); len(p.states(c.id)) < len(want) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if states := p.states(c.id); !slices.Equal(states, want) {
		t.Errorf("events %v, want %v", states, want)
	}
}
