package phone

import (
	"context"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// TestMwiSubscribe: an account with MailboxSubscribe sends SUBSCRIBE
// Event: message-summary (Accept, Expires 3600) to its mailbox, refreshes
// it in the same dialog before the granted 2 s run out, and a NOTIFY of
// the subscription becomes an MWIEvent.
func TestMwiSubscribe(t *testing.T) {
	subs := make(chan *sip.Request, 4)
	tags := make(chan string, 4)
	fp := newFakePeer(t, func(fp *fakePeer, srv *sipgo.Server) {
		srv.OnSubscribe(func(req *sip.Request, tx sip.ServerTransaction) {
			fp.record(req)
			res := sip.NewResponseFromRequest(req, 200, "OK", nil)
			tag, _ := res.To().Params.Get("tag") // sipgo's own
			tags <- tag
			exp := sip.ExpiresHeader(2)
			res.AppendHeader(&exp)
			_ = tx.Respond(res)
			subs <- req
		})
	})
	a := newTestPhone(t, Options{Accounts: []Account{{
		Name: "office", AOR: "sip:alice@" + fp.addr, MailboxSubscribe: true, Mailbox: "sip:*97@" + fp.addr,
	}}})
	var first *sip.Request
	select {
	case first = <-subs:
	case <-time.After(wait):
		t.Fatal("no SUBSCRIBE")
	}
	notifier := <-tags
	if first.Recipient.User != "*97" || first.GetHeader("Event").Value() != "message-summary" ||
		first.GetHeader("Accept").Value() != "application/simple-message-summary" || first.GetHeader("Expires").Value() != "3600" {
		t.Errorf("SUBSCRIBE:\n%s", first)
	}
	// A NOTIFY of the subscription, in its dialog, to the SUBSCRIBE's Contact.
	notify := sip.NewRequest(sip.NOTIFY, first.Contact().Address)
	from := sip.FromHeader{Address: first.To().Address, Params: tagParams(notifier)}
	notify.AppendHeader(&from)
	to := first.From().AsTo()
	notify.AppendHeader(&to)
	notify.AppendHeader(sip.HeaderClone(first.CallID()))
	notify.AppendHeader(&sip.CSeqHeader{SeqNo: 1, MethodName: sip.NOTIFY})
	notify.AppendHeader(sip.NewHeader("Event", "message-summary"))
	notify.AppendHeader(sip.NewHeader("Subscription-State", "active;expires=2"))
	notify.AppendHeader(sip.NewHeader("Content-Type", "application/simple-message-summary"))
	notify.SetBody([]byte("Messages-Waiting: yes\r\nVoice-Message: 3/1\r\n"))
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	res, err := fp.cli.Do(ctx, notify)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("NOTIFY: %v %v", res, err)
	}
	if !a.waitFor(wait, func(ev Event) bool {
		e, ok := ev.(MWIEvent)
		return ok && e.Account == "office" && e.New == 3 && e.Old == 1
	}) {
		t.Fatalf("no MWIEvent: %s", a.dump())
	}
	var refresh *sip.Request
	select {
	case refresh = <-subs:
	case <-time.After(wait):
		t.Fatal("no refresh SUBSCRIBE")
	}
	if refresh.CallID().Value() != first.CallID().Value() || refresh.CSeq().SeqNo <= first.CSeq().SeqNo {
		t.Errorf("refresh not in the subscription's dialog:\n%s", refresh)
	}
	if tag, _ := refresh.To().Params.Get("tag"); tag != notifier {
		t.Errorf("refresh To tag %q, want %q", tag, notifier)
	}
}
