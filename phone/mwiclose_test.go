package phone

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// mailboxPeer is a notifier for the message-summary tests: it hands on
// every SUBSCRIBE and answers it with answer's response (nil: never
// answers, the transaction times out).
func mailboxPeer(t *testing.T, answer func(*sip.Request) *sip.Response) (*fakePeer, chan *sip.Request) {
	t.Helper()
	subs := make(chan *sip.Request, 8)
	fp := newFakePeer(t, func(fp *fakePeer, srv *sipgo.Server) {
		srv.OnSubscribe(func(req *sip.Request, tx sip.ServerTransaction) {
			fp.record(req)
			subs <- req
			if res := answer(req); res != nil {
				_ = tx.Respond(res)
			}
		})
	})
	return fp, subs
}

// subscribed is the notifier's 200 granting an hour.
func subscribed(req *sip.Request) *sip.Response {
	return reply(req, 200, "OK", "Expires: 3600")
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
	fp, subs := mailboxPeer(t, subscribed)
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

// TestMwiUnsubscribeDigest: a notifier that challenges the un-SUBSCRIBE
// gets it again with credentials, still in the dialog.
func TestMwiUnsubscribeDigest(t *testing.T) {
	fp, subs := mailboxPeer(t, func(req *sip.Request) *sip.Response {
		if req.GetHeader("Expires").Value() == "0" && req.GetHeader("Authorization") == nil {
			return reply(req, 401, "Unauthorized", `WWW-Authenticate: Digest realm="test", nonce="abc", algorithm=MD5`)
		}
		return subscribed(req)
	})
	a := newTestPhone(t, Options{Accounts: []Account{{
		Name: "office", AOR: "sip:alice@" + fp.addr, MailboxSubscribe: true, Password: "secret",
	}}})
	first := nextSubscribe(t, subs, wait)
	time.Sleep(200 * time.Millisecond)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	var un []*sip.Request
	for len(subs) > 0 {
		un = append(un, <-subs)
	}
	if len(un) != 2 || un[1].GetHeader("Authorization") == nil || un[1].GetHeader("Expires").Value() != "0" ||
		un[1].CallID().Value() != first.CallID().Value() || un[1].CSeq().SeqNo <= un[0].CSeq().SeqNo {
		t.Errorf("want a challenged un-SUBSCRIBE sent again with credentials in the dialog of\n%s\ngot %d: %v", first, len(un), un)
	}
}

// TestMwiUnsubscribeBounded: a notifier that never answers the
// un-SUBSCRIBE does not hold Close beyond its bound.
func TestMwiUnsubscribeBounded(t *testing.T) {
	fp, subs := mailboxPeer(t, func(req *sip.Request) *sip.Response {
		if req.GetHeader("Expires").Value() == "0" {
			return nil
		}
		return subscribed(req)
	})
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
// in a new dialog (RFC 6665 §4.1.3), not at the next refresh an hour on;
// after reason=rejected it does not (this account never registers, so
// never).
func TestMwiTerminatedResubscribes(t *testing.T) {
	for _, tc := range []struct {
		reason string
		again  bool
	}{{"deactivated", true}, {"rejected", false}} {
		t.Run(tc.reason, func(t *testing.T) {
			fp, subs := mailboxPeer(t, subscribed)
			mailboxPhone(t, fp)
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
			notify.AppendHeader(sip.NewHeader("Subscription-State", "terminated;reason="+tc.reason))
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			res, err := fp.cli.Do(ctx, notify)
			if err != nil || res.StatusCode != 200 {
				t.Fatalf("NOTIFY: %v %v", res, err)
			}
			if !tc.again {
				select {
				case again := <-subs:
					t.Errorf("re-SUBSCRIBE after %s:\n%s", tc.reason, again)
				case <-time.After(1500 * time.Millisecond):
				}
				return
			}
			again := nextSubscribe(t, subs, 3*time.Second)
			if again.CallID().Value() == first.CallID().Value() {
				t.Errorf("re-SUBSCRIBE in the terminated dialog:\n%s", again)
			}
			if _, ok := again.To().Params.Get("tag"); ok || again.GetHeader("Expires").Value() != "3600" {
				t.Errorf("re-SUBSCRIBE not a new subscription:\n%s", again)
			}
		})
	}
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

// FuzzParseSubState: any Subscription-State a notifier sends parses
// without panicking into a lower-case state and a wait that is never
// negative.
func FuzzParseSubState(f *testing.F) {
	for _, s := range []string{"active;expires=3600", "terminated;reason=probation;retry-after=30",
		"Terminated; Reason=Timeout", "pending", ";;=", "terminated;retry-after=99999999999999999999", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		st := parseSubState(v)
		if st.state != strings.ToLower(st.state) || st.reason != strings.ToLower(st.reason) {
			t.Fatalf("%q: state %q reason %q not lower-cased", v, st.state, st.reason)
		}
		if wait, _ := afterTermination(st, time.Minute); wait < 0 {
			t.Fatalf("%q: negative wait %v", v, wait)
		}
	})
}
