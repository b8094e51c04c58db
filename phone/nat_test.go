package phone

import (
	"context"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// natPeer makes fp a registrar and a callee: REGISTER gets 200 (Expires as
// asked), an INVITE to user "ring" rings until it is cancelled (the CANCEL
// is recorded), any other INVITE or re-INVITE gets 200 with SDP and
// Contact contact (fp's own address when zero), and ACK, BYE and INFO are
// recorded (BYE and INFO answered 200).
func natPeer(fp *fakePeer, srv *sipgo.Server, contact sip.Uri) {
	srv.OnRegister(func(req *sip.Request, tx sip.ServerTransaction) {
		fp.record(req)
		res := sip.NewResponseFromRequest(req, 200, "OK", nil)
		exp := sip.ExpiresHeader(60)
		if h := req.GetHeader("Expires"); h != nil && h.Value() == "0" {
			exp = 0
		}
		res.AppendHeader(&exp)
		_ = tx.Respond(res)
	})
	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		fp.record(req)
		if req.Recipient.User == "ring" {
			tx.OnCancel(func(r *sip.Request) { fp.record(r) })
			_ = tx.Respond(sip.NewResponseFromRequest(req, 180, "Ringing", nil))
			select {
			case <-tx.Done():
			case <-time.After(wait):
			}
			return
		}
		ct := contact
		if ct.Host == "" {
			ct = sip.Uri{Scheme: "sip", User: "peer", Host: "127.0.0.1", Port: mustPort(fp.addr)}
		}
		res := sip.NewResponseFromRequest(req, 200, "OK", peerSDP())
		if _, ok := req.To().Params.Get("tag"); !ok {
			res.To().Params.Add("tag", "peertag")
		}
		res.AppendHeader(&sip.ContactHeader{Address: ct})
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		_ = tx.Respond(res)
	})
	srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) { fp.record(req) })
	for _, m := range []sip.RequestMethod{sip.BYE, sip.INFO} {
		srv.OnRequest(m, func(req *sip.Request, tx sip.ServerTransaction) {
			fp.record(req)
			_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
		})
	}
}

// waitRequests waits until fp has recorded n requests of method.
func (fp *fakePeer) waitRequests(t *testing.T, method sip.RequestMethod, n int) []*sip.Request {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		reqs := fp.requests(method)
		if len(reqs) >= n {
			return reqs
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d %s requests within %v, want %d", len(reqs), method, wait, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRportOnEveryRequest: every request the phone sends, whatever path
// builds it, asks for rport in its Via (RFC 3581 §3): REGISTER, INVITE, the
// ACK of its 2xx, a re-INVITE and its ACK, INFO, BYE from the caller's
// dialog, CANCEL, and BYE from the callee's dialog.
func TestRportOnEveryRequest(t *testing.T) {
	fp := newFakePeer(t, func(fp *fakePeer, srv *sipgo.Server) { natPeer(fp, srv, sip.Uri{}) })
	a := newTestPhone(t, Options{
		DTMFInfo: true,
		Handler:  HandlerFunc(func(IncomingCall) Decision { return Accept() }),
		Accounts: []Account{{Name: "t", AOR: "sip:alice@" + fp.addr, Register: true, Expires: time.Minute}},
	})
	fp.waitRequests(t, sip.REGISTER, 1)

	// Caller: INVITE, ACK, re-INVITE, its ACK, INFO, BYE.
	id, err := a.Dial(context.Background(), "sip:answer@"+fp.addr, DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a.waitCall(id, StateActive, wait)
	if err := a.Hold(id); err != nil {
		t.Fatal(err)
	}
	if err := a.SendDTMF(id, "1"); err != nil {
		t.Fatal(err)
	}
	a.waitFor(wait, func(ev Event) bool { e, ok := ev.(DTMFEvent); return ok && !e.Received })
	if err := a.Hangup(id); err != nil {
		t.Fatal(err)
	}
	a.waitCall(id, StateTerminated, wait)

	// CANCEL.
	id, err = a.Dial(context.Background(), "sip:ring@"+fp.addr, DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a.waitCall(id, StateRinging, wait)
	if err := a.Hangup(id); err != nil {
		t.Fatal(err)
	}
	fp.waitRequests(t, sip.CANCEL, 1)

	// Callee: the BYE of the dialog the far end created.
	dua := sipgo.DialogUA{Client: fp.cli, ContactHDR: sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "peer", Host: "127.0.0.1", Port: mustPort(fp.addr)}}}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	inv := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: "alice", Host: "127.0.0.1", Port: mustPort(a.LocalAddr())})
	inv.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	inv.SetBody(peerSDP())
	cs, err := dua.WriteInvite(ctx, inv)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	if err := cs.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cs.Ack(ctx); err != nil {
		t.Fatal(err)
	}
	var in SessionID
	if !a.waitFor(wait, func(ev Event) bool {
		ce, ok := ev.(CallEvent)
		if ok && ce.Direction == DirectionIncoming && ce.State == StateActive {
			in = ce.Session
		}
		return in != ""
	}) {
		t.Fatalf("incoming call never active: %s", a.dump())
	}
	if err := a.Hangup(in); err != nil {
		t.Fatal(err)
	}
	fp.waitRequests(t, sip.BYE, 2)

	want := map[sip.RequestMethod]int{sip.REGISTER: 1, sip.INVITE: 3, sip.ACK: 2, sip.INFO: 1, sip.BYE: 2, sip.CANCEL: 1}
	for m, n := range want {
		reqs := fp.requests(m)
		if len(reqs) < n {
			t.Errorf("%d %s requests, want %d", len(reqs), m, n)
		}
		for i, r := range reqs {
			if v := r.Via(); v == nil || !v.Params.Has("rport") {
				t.Errorf("%s #%d: Via %v has no rport", m, i, v)
			}
		}
	}
}

// TestInDialogRequestsLeaveFromTheListener: requests to a remote target
// that never sent us anything (a Contact on another port than the INVITE's
// or the 200's source) leave from the phone's listening socket, as the
// initial requests do: a NAT binding or a peer's symmetric-response logic
// only knows that port. Both dialog roles are covered: re-INVITE, its ACK,
// INFO and BYE as caller; BYE as callee.
func TestInDialogRequestsLeaveFromTheListener(t *testing.T) {
	target := newFakePeer(t, func(fp *fakePeer, srv *sipgo.Server) { natPeer(fp, srv, sip.Uri{}) })
	targetURI := sip.Uri{Scheme: "sip", User: "peer", Host: "127.0.0.1", Port: mustPort(target.addr)}
	front := newFakePeer(t, func(fp *fakePeer, srv *sipgo.Server) { natPeer(fp, srv, targetURI) })
	a := newTestPhone(t, Options{
		DTMFInfo: true,
		Handler:  HandlerFunc(func(IncomingCall) Decision { return Accept() }),
	})

	id, err := a.Dial(context.Background(), "sip:answer@"+front.addr, DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a.waitCall(id, StateActive, wait)
	if err := a.Hold(id); err != nil {
		t.Fatal(err)
	}
	if err := a.SendDTMF(id, "1"); err != nil {
		t.Fatal(err)
	}
	a.waitFor(wait, func(ev Event) bool { e, ok := ev.(DTMFEvent); return ok && !e.Received })
	if err := a.Hangup(id); err != nil {
		t.Fatal(err)
	}
	a.waitCall(id, StateTerminated, wait)

	dua := sipgo.DialogUA{Client: front.cli, ContactHDR: sip.ContactHeader{Address: targetURI}}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	inv := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: "bob", Host: "127.0.0.1", Port: mustPort(a.LocalAddr())})
	inv.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	inv.SetBody(peerSDP())
	cs, err := dua.WriteInvite(ctx, inv)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	if err := cs.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cs.Ack(ctx); err != nil {
		t.Fatal(err)
	}
	var in SessionID
	if !a.waitFor(wait, func(ev Event) bool {
		ce, ok := ev.(CallEvent)
		if ok && ce.Direction == DirectionIncoming && ce.State == StateActive {
			in = ce.Session
		}
		return in != ""
	}) {
		t.Fatalf("incoming call never active: %s", a.dump())
	}
	if err := a.Hangup(in); err != nil {
		t.Fatal(err)
	}
	target.waitRequests(t, sip.BYE, 2)

	port := mustPort(a.LocalAddr())
	for m, n := range map[sip.RequestMethod]int{sip.INVITE: 1, sip.ACK: 1, sip.INFO: 1, sip.BYE: 2} {
		reqs := target.requests(m)
		if len(reqs) < n {
			t.Errorf("%d %s requests at the remote target, want %d", len(reqs), m, n)
		}
		for i, r := range reqs {
			if got := mustPort(r.Source()); got != port {
				t.Errorf("%s #%d came from port %d (%s), want the listening port %d", m, i, got, r.Source(), port)
			}
		}
	}
}
