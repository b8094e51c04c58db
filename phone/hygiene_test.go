package phone

import (
	"context"
	"strings"
	"testing"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// TestAnswersDoNotTellWhoExists: an INVITE for the account's user and one
// for a user that does not exist get the same kind of Contact (the user
// that was called), so a scanner cannot list accounts; and nothing we send
// names the product once user_agent is changed (Contact, Call-ID, SDP o=,
// Warning).
func TestAnswersDoNotTellWhoExists(t *testing.T) {
	fp := newFakePeer(t, func(fp *fakePeer, srv *sipgo.Server) {
		srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
			_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
		})
	})
	a := newTestPhone(t, Options{UserAgent: "Desk 42",
		Accounts: []Account{{Name: "erin", AOR: "sip:erin@127.0.0.1"}},
		Handler:  HandlerFunc(func(IncomingCall) Decision { return Accept() })})
	for _, user := range []string{"erin", "nobody"} {
		cs, _ := callPhone(t, fp, a, user, sip.Uri{})
		res := cs.InviteResponse
		if got := res.Contact().Address.User; got != user {
			t.Errorf("INVITE for %s: Contact user %q, want %q", user, got, user)
		}
		if text := res.String(); strings.Contains(strings.ToLower(text), "teaphone") {
			t.Errorf("INVITE for %s: the 200 names the product:\n%s", user, text)
		}
	}

	// Our own requests: the INVITE of a call (its Call-ID and SDP).
	invites := make(chan *sip.Request, 1)
	fp2 := newFakePeer(t, func(fp *fakePeer, srv *sipgo.Server) {
		srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
			invites <- req
			_ = tx.Respond(sip.NewResponseFromRequest(req, 486, "Busy Here", nil))
		})
	})
	if _, err := a.Dial(context.Background(), "sip:bob@"+fp2.addr, DialOptions{Account: "erin"}); err != nil {
		t.Fatal(err)
	}
	inv := <-invites
	if text := inv.String(); strings.Contains(strings.ToLower(text), "teaphone") {
		t.Errorf("our INVITE names the product:\n%s", text)
	}
	if strings.Contains(inv.CallID().Value(), "@") {
		t.Errorf("Call-ID %q carries a host part", inv.CallID().Value())
	}
}
