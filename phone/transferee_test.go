package phone

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// referPeer is a scripted transferor: it calls the phone, then REFERs it
// inside that dialog. The NOTIFYs it gets are on notifies; an INVITE the
// phone sends it (a followed transfer to sip:carol@peer) is answered 486.
type referPeer struct {
	fp       *fakePeer
	tp       *testPhone
	cs       *sipgo.DialogClientSession
	sid      SessionID
	notifies chan *sip.Request
	invites  chan *sip.Request
}

func newReferPeer(t *testing.T, policy TransferPolicy) *referPeer {
	t.Helper()
	rp := &referPeer{notifies: make(chan *sip.Request, 8), invites: make(chan *sip.Request, 4)}
	rp.fp = newFakePeer(t, func(fp *fakePeer, srv *sipgo.Server) {
		srv.OnNotify(func(req *sip.Request, tx sip.ServerTransaction) {
			_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
			rp.notifies <- req
		})
		srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
			_ = tx.Respond(sip.NewResponseFromRequest(req, 486, "Busy Here", nil))
			rp.invites <- req
		})
		srv.OnAck(func(*sip.Request, sip.ServerTransaction) {})
		srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
			_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
		})
	})
	rp.tp = newTestPhone(t, Options{
		Handler:  HandlerFunc(func(IncomingCall) Decision { return Accept() }),
		Transfer: policy,
	})
	rp.cs, rp.sid = callPhone(t, rp.fp, rp.tp, "alice", sip.Uri{})
	return rp
}

// carol is a transfer target at the peer (it answers 486).
func (rp *referPeer) carol() string { return "sip:carol@" + rp.fp.addr }

// refer sends a REFER in the dialog and returns the status of its answer.
func (rp *referPeer) refer(t *testing.T, referTo ...string) int {
	t.Helper()
	req := sip.NewRequest(sip.REFER, rp.cs.InviteResponse.Contact().Address)
	for _, r := range referTo {
		req.AppendHeader(sip.NewHeader("Refer-To", r))
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	res, err := rp.cs.Do(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode
}

// finalNotify waits for the NOTIFY that ends the refer subscription and
// returns its sipfrag status.
func (rp *referPeer) finalNotify(t *testing.T, within time.Duration) int {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case n := <-rp.notifies:
			if strings.HasPrefix(n.GetHeader("Subscription-State").Value(), "terminated") {
				code, _ := parseSipfrag(n.Body())
				return code
			}
		case <-deadline:
			t.Fatalf("no final NOTIFY in %s: %s", within, rp.tp.dump())
			return 0
		}
	}
}

func (rp *referPeer) transferEvent(t *testing.T, match func(TransferEvent) bool) TransferEvent {
	t.Helper()
	var got TransferEvent
	if !rp.tp.waitFor(wait, func(ev Event) bool {
		te, ok := ev.(TransferEvent)
		if ok && te.Session == rp.sid && match(te) {
			got = te
			return true
		}
		return false
	}) {
		t.Fatalf("no such transfer event: %s", rp.tp.dump())
	}
	return got
}

// TestReferOutsideDialog: a REFER from someone with no call with us is
// refused: 403 without a To tag (out of dialog), 481 for a dialog we do
// not have; neither makes the phone call anyone.
func TestReferOutsideDialog(t *testing.T) {
	rp := newReferPeer(t, TransferPolicy{Mode: TransferAlways})
	target := sip.Uri{Scheme: "sip", User: "alice", Host: "127.0.0.1", Port: mustPort(rp.tp.LocalAddr())}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for _, tc := range []struct {
		tag  string
		want int
	}{{"", 403}, {"nosuchtag", 481}} {
		req := sip.NewRequest(sip.REFER, target)
		if tc.tag != "" {
			req.AppendHeader(&sip.ToHeader{Address: target, Params: tagParams(tc.tag)})
		}
		req.AppendHeader(sip.NewHeader("Refer-To", "<"+rp.carol()+">"))
		res, err := rp.fp.cli.Do(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != tc.want {
			t.Errorf("REFER with To tag %q: %d, want %d", tc.tag, res.StatusCode, tc.want)
		}
	}
	select {
	case inv := <-rp.invites:
		t.Errorf("the phone followed an out-of-dialog REFER: %s", inv.StartLine())
	case <-time.After(300 * time.Millisecond):
	}
}

// TestReferInDialogPolicy: in the dialog, "always" follows (202, then an
// INVITE to the target, whose 486 is the final NOTIFY); "never" and a
// target outside the allow-list get 603 and no INVITE.
func TestReferInDialogPolicy(t *testing.T) {
	t.Run("always follows", func(t *testing.T) {
		rp := newReferPeer(t, TransferPolicy{Mode: TransferAlways})
		if code := rp.refer(t, "<"+rp.carol()+">"); code != 202 {
			t.Fatalf("REFER: %d, want 202", code)
		}
		select {
		case inv := <-rp.invites:
			if inv.Recipient.User != "carol" {
				t.Errorf("INVITE to %s", inv.Recipient.String())
			}
		case <-time.After(wait):
			t.Fatal("no INVITE to the target")
		}
		if code := rp.finalNotify(t, wait); code != 486 {
			t.Errorf("final NOTIFY %d, want 486", code)
		}
	})
	for _, tc := range []struct {
		name   string
		policy TransferPolicy
	}{
		{"never refuses", TransferPolicy{Mode: TransferNever}},
		{"outside the allow-list", TransferPolicy{Mode: TransferNever, Allow: []string{"sip:*@pbx.example"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rp := newReferPeer(t, tc.policy)
			if code := rp.refer(t, "<"+rp.carol()+">"); code != 603 {
				t.Fatalf("REFER: %d, want 603", code)
			}
			if te := rp.transferEvent(t, func(te TransferEvent) bool { return te.Final }); te.Code != 603 {
				t.Errorf("event %+v, want a final 603", te)
			}
			select {
			case inv := <-rp.invites:
				t.Errorf("refused transfer placed a call: %s", inv.StartLine())
			case <-time.After(300 * time.Millisecond):
			}
		})
	}
	t.Run("inside the allow-list", func(t *testing.T) {
		rp := newReferPeer(t, TransferPolicy{Mode: TransferNever, Allow: []string{"sip:carol@127.0.0.1:*"}})
		if code := rp.refer(t, "<"+rp.carol()+">"); code != 202 {
			t.Fatalf("REFER: %d, want 202", code)
		}
		if code := rp.finalNotify(t, wait); code != 486 {
			t.Errorf("final NOTIFY %d, want 486", code)
		}
	})
}

// TestReferUnsafeTarget: an injection attempt, a foreign scheme, and a
// sip: target in a dialog set up with a sips: From are refused before any
// policy (even "always"), and nobody is called.
func TestReferUnsafeTarget(t *testing.T) {
	rp := newReferPeer(t, TransferPolicy{Mode: TransferAlways})
	for _, tc := range []struct {
		referTo []string
		want    int
	}{
		{[]string{"<" + rp.carol() + "?Replaces=x%0D%0AX-Evil%3A%201>"}, 400},
		{[]string{"<tel:+15551234>"}, 416},
		{[]string{"<" + rp.carol() + ">", "<" + rp.carol() + ">"}, 400},
	} {
		if code := rp.refer(t, tc.referTo...); code != tc.want {
			t.Errorf("Refer-To %q: %d, want %d", tc.referTo, code, tc.want)
		}
	}
	select {
	case inv := <-rp.invites:
		t.Errorf("unsafe REFER placed a call: %s", inv.StartLine())
	case <-time.After(300 * time.Millisecond):
	}
}

// TestReferDowngradeRefused: the dialog's remote is a sips: URI, so a REFER
// to a sip: target would leave sips: (RFC 5630 §3.1.3): 603.
func TestReferDowngradeRefused(t *testing.T) {
	fp := newFakePeer(t, func(fp *fakePeer, srv *sipgo.Server) {
		srv.OnAck(func(*sip.Request, sip.ServerTransaction) {})
		srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
			_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
		})
	})
	tp := newTestPhone(t, Options{
		Handler:  HandlerFunc(func(IncomingCall) Decision { return Accept() }),
		Transfer: TransferPolicy{Mode: TransferAlways},
	})
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sips", User: "peer", Host: "127.0.0.1"}, Params: tagParams("fromtag")}
	cs, _ := callPhone(t, fp, tp, "alice", sip.Uri{}, from)
	rp := &referPeer{fp: fp, tp: tp, cs: cs}
	if code := rp.refer(t, "<sip:carol@"+fp.addr+">"); code != 603 {
		t.Errorf("sip: target in a sips: dialog: %d, want 603", code)
	}
}

// TestReferAsk: with "ask" the REFER is accepted 202 at once and a
// TransferEvent asks; refusing (or not answering) ends the subscription
// with a 603 NOTIFY and places no call; accepting follows the transfer.
func TestReferAsk(t *testing.T) {
	t.Run("refused", func(t *testing.T) {
		rp := newReferPeer(t, TransferPolicy{Mode: TransferAsk})
		if code := rp.refer(t, "<"+rp.carol()+">"); code != 202 {
			t.Fatalf("REFER: %d, want 202", code)
		}
		q := rp.transferEvent(t, func(te TransferEvent) bool { return te.Asking })
		if q.Target != rp.carol() || q.Deadline.IsZero() {
			t.Errorf("question %+v", q)
		}
		if err := rp.tp.AnswerTransfer(rp.sid, false); err != nil {
			t.Fatal(err)
		}
		if code := rp.finalNotify(t, wait); code != 603 {
			t.Errorf("final NOTIFY %d, want 603", code)
		}
		if err := rp.tp.AnswerTransfer(rp.sid, true); err == nil {
			t.Error("a second answer was taken")
		}
		select {
		case inv := <-rp.invites:
			t.Errorf("refused transfer placed a call: %s", inv.StartLine())
		case <-time.After(300 * time.Millisecond):
		}
	})
	t.Run("accepted", func(t *testing.T) {
		rp := newReferPeer(t, TransferPolicy{Mode: TransferAsk})
		if code := rp.refer(t, "<"+rp.carol()+">"); code != 202 {
			t.Fatalf("REFER: %d, want 202", code)
		}
		rp.transferEvent(t, func(te TransferEvent) bool { return te.Asking })
		if err := rp.tp.AnswerTransfer(rp.sid, true); err != nil {
			t.Fatal(err)
		}
		if code := rp.finalNotify(t, wait); code != 486 {
			t.Errorf("final NOTIFY %d, want 486 (the target's answer)", code)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		rp := newReferPeer(t, TransferPolicy{Mode: TransferAsk, AskTimeout: 300 * time.Millisecond})
		if code := rp.refer(t, "<"+rp.carol()+">"); code != 202 {
			t.Fatalf("REFER: %d, want 202", code)
		}
		if code := rp.finalNotify(t, wait); code != 603 {
			t.Errorf("final NOTIFY %d, want 603", code)
		}
		te := rp.transferEvent(t, func(te TransferEvent) bool { return te.Final })
		if te.Code != 603 || !strings.Contains(te.Reason, "not answered") {
			t.Errorf("outcome %+v", te)
		}
	})
}
