package phone

import (
	"context"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// mailboxPeer is a notifier for the message-summary tests: it answers
// every SUBSCRIBE 200 (Expires 3600) while answer is true, and hands each
// one on.
func mailboxPeer(t *testing.T, answer func(*sip.Request) bool) (*fakePeer, chan *sip.Request) {
	t.Helper()
	subs := make(chan *sip.Request, 8)
	fp := newFakePeer(t, func(fp *fakePeer, srv *sipgo.Server) {
		srv.OnSubscribe(func(req *sip.Request, tx sip.ServerTransaction) {
			fp.record(req)
			subs <- req
			if !answer(req) {
				return // never answers: the transaction times out
			}
			res := sip.NewResponseFromRequest(req, 200, "OK", nil)
			exp := sip.ExpiresHeader(3600)
			res.AppendHeader(&exp)
			_ = tx.Respond(res)
		})
	})
	return fp, subs
}

func nextSubscribe(t *testing.T, subs chan *sip.Request, d time.Duration) *sip.Request {
	t.Helper()
	select {
	case req := <-subs:
		return req
	case <-time.After(d):
		t.Fatalf("no SUBSCRIBE within %v", d)
		return nil
	}
}

func mailboxPhone(t *testing.T, fp *fakePeer) *testPhone {
	return newTestPhone(t, Options{Accounts: []Account{{
		Name: "office", AOR: "sip:alice@" + fp.addr, MailboxSubscribe: true, Mailbox: "sip:*97@" + fp.addr,
	}}})
}

// TestMwiUnsubscribeOnClose: Close ends the subscription with a SUBSCRIBE
// in its dialog (same Call-ID and From tag, the notifier's To tag, a
// higher CSeq) with Expires: 0 (RFC 6665 §4.1.2.3).
func TestMwiUnsubscribeOnClose(t *testing.T) {
	fp, subs := mailboxPeer(t, func(*sip.Request) bool { return true })
	a := mailboxPhone(t, fp)
	first := nextSubscribe(t, subs, wait)
	time.Sleep(200 * time.Millisecond) // the 200 reached the phone
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	var un *sip.Request
	select {
	case un = <-subs:
	default:
		t.Fatalf("Close sent no SUBSCRIBE; requests: %v", fp.requests(sip.SUBSCRIBE))
	}
	fromTag, _ := first.From().Params.Get("tag")
	unFrom, _ := un.From().Params.Get("tag")
	unTo, hasTo := un.To().Params.Get("tag")
	if un.GetHeader("Expires").Value() != "0" || un.CallID().Value() != first.CallID().Value() ||
		unFrom != fromTag || !hasTo || unTo == "" || un.CSeq().SeqNo <= first.CSeq().SeqNo ||
		un.GetHeader("Event").Value() != "message-summary" {
		t.Errorf("un-SUBSCRIBE not Expires: 0 in the dialog of\n%s\ngot\n%s", first, un)
	}
}

// TestMwiUnsubscribeBounded: a notifier that never answers the
// un-SUBSCRIBE does not hold Close beyond its bound.
func TestMwiUnsubscribeBounded(t *testing.T) {
	fp, subs := mailboxPeer(t, func(req *sip.Request) bool { return req.GetHeader("Expires").Value() != "0" })
	a := mailboxPhone(t, fp)
	nextSubscribe(t, subs, wait)
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	if un := nextSubscribe(t, subs, time.Second); un.GetHeader("Expires").Value() != "0" {
		t.Errorf("not an un-SUBSCRIBE:\n%s", un)
	}
	if took > mailboxUnsubscribeTimeout+time.Second {
		t.Errorf("Close took %v with a silent notifier, want about %v at most", took, mailboxUnsubscribeTimeout)
	}
}

// TestMwiTerminatedResubscribes: a NOTIFY with Subscription-State:
// terminated;reason=deactivated makes the phone subscribe again at once,
// in a new dialog (RFC 6665 §4.1.3), not at the next refresh an hour on.
func TestMwiTerminatedResubscribes(t *testing.T) {
	fp, subs := mailboxPeer(t, func(*sip.Request) bool { return true })
	a := mailboxPhone(t, fp)
	first := nextSubscribe(t, subs, wait)
	time.Sleep(200 * time.Millisecond)
	notify := sip.NewRequest(sip.NOTIFY, first.Contact().Address)
	from := sip.FromHeader{Address: first.To().Address, Params: tagParams("notifier")}
	notify.AppendHeader(&from)
	to := first.From().AsTo()
	notify.AppendHeader(&to)
	notify.AppendHeader(sip.HeaderClone(first.CallID()))
	notify.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: sip.NOTIFY})
	notify.AppendHeader(sip.NewHeader("Event", "message-summary"))
	notify.AppendHeader(sip.NewHeader("Subscription-State", "terminated;reason=deactivated"))
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	res, err := fp.cli.Do(ctx, notify)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("NOTIFY: %v %v", res, err)
	}
	again := nextSubscribe(t, subs, 3*time.Second)
	if again.CallID().Value() == first.CallID().Value() {
		t.Errorf("re-SUBSCRIBE in the terminated dialog:\n%s", again)
	}
	if _, ok := again.To().Params.Get("tag"); ok || again.GetHeader("Expires").Value() != "3600" {
		t.Errorf("re-SUBSCRIBE not a new subscription:\n%s", again)
	}
	_ = a
}

// TestAfterTermination: when to subscribe again after a notifier's
// Subscription-State: terminated, per RFC 6665 §4.1.3.
func TestAfterTermination(t *testing.T) {
	const def = time.Minute
	for _, tc := range []struct {
		header string
		wait   time.Duration
		retry  bool
	}{
		{"terminated;reason=deactivated", 0, true},
		{"terminated;reason=deactivated;retry-after=90", 0, true}, // no semantics
		{"Terminated; Reason=Timeout", 0, true},
		{"terminated;reason=probation", def, true},
		{"terminated;reason=probation;retry-after=30", 30 * time.Second, true},
		{"terminated;reason=giveup;retry-after=600", 10 * time.Minute, true},
		{"terminated;reason=giveup", def, true},
		{"terminated;reason=rejected", 0, false},
		{"terminated;reason=rejected;retry-after=5", 0, false},
		{"terminated;reason=noresource", 0, false},
		{"terminated;reason=invariant", 0, false},
		{"terminated", def, true},
		{"terminated;retry-after=20", 20 * time.Second, true},
		{"terminated;reason=moved-to-mars;retry-after=7", 7 * time.Second, true},
		{"terminated;reason=probation;retry-after=soon", def, true}, // a bad value is ignored
	} {
		st := parseSubState(tc.header)
		if st.state != "terminated" {
			t.Errorf("%q: state %q", tc.header, st.state)
		}
		wait, retry := afterTermination(st, def)
		if wait != tc.wait || retry != tc.retry {
			t.Errorf("%q: wait %v retry %v, want %v %v", tc.header, wait, retry, tc.wait, tc.retry)
		}
	}
}
