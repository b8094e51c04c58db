package phone

import (
	"context"
	"testing"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// TestMwiUnsolicitedNotify: a NOTIFY with Event: message-summary outside
// any dialog or subscription (as Asterisk sends them) is answered 200 and
// reported as an MWIEvent of the account; another event package is 489, a
// bad body 400, a summary for no account of ours 481.
func TestMwiUnsolicitedNotify(t *testing.T) {
	fp := newFakePeer(t, func(*fakePeer, *sipgo.Server) {})
	a := newTestPhone(t, Options{Accounts: []Account{{Name: "office", AOR: "sip:alice@" + fp.addr}}})
	port := mustPort(a.LocalAddr())
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	send := func(user, event, body string) int {
		t.Helper()
		target := sip.Uri{Scheme: "sip", User: user, Host: "127.0.0.1", Port: port}
		req := sip.NewRequest(sip.NOTIFY, target)
		req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: "127.0.0.1", Port: mustPort(fp.addr)}})
		req.AppendHeader(sip.NewHeader("Event", event))
		req.AppendHeader(sip.NewHeader("Subscription-State", "active"))
		req.AppendHeader(sip.NewHeader("Content-Type", "application/simple-message-summary"))
		req.SetBody([]byte(body))
		res, err := fp.cli.Do(ctx, req)
		if err != nil {
			t.Fatalf("NOTIFY %s: %v", event, err)
		}
		return res.StatusCode
	}
	body := "Messages-Waiting: yes\r\nMessage-Account: sip:*97@pbx\r\nVoice-Message: 3/1 (0/0)\r\n"
	if code := send("alice", "message-summary", body); code != 200 {
		t.Fatalf("message-summary NOTIFY: %d, want 200", code)
	}
	var got MWIEvent
	if !a.waitFor(wait, func(ev Event) bool {
		e, ok := ev.(MWIEvent)
		got = e
		return ok
	}) {
		t.Fatalf("no MWIEvent: %s", a.dump())
	}
	if got.Account != "office" || !got.Waiting || got.New != 3 || got.Old != 1 || got.MessageAccount != "sip:*97@pbx" {
		t.Errorf("MWIEvent %+v", got)
	}
	for _, tt := range []struct {
		user, event, body string
		want              int
	}{
		{"alice", "foo", body, 489},
		{"alice", "message-summary", "garbage", 400},
		{"alice", "message-summary", "", 200},
		{"mallory", "message-summary", body, 481},
	} {
		if code := send(tt.user, tt.event, tt.body); code != tt.want {
			t.Errorf("NOTIFY Event: %s to %s: %d, want %d", tt.event, tt.user, code, tt.want)
		}
	}
}
