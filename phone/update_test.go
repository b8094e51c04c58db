package phone

import (
	"context"
	"strings"
	"testing"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// TestUpdate: UPDATE inside a dialog (RFC 3311). Without a body it is a
// session refresh (RFC 4028 §9) and its 2xx states interval and refresher;
// a bad Session-Expires gets 400 and the call goes on; with an SDP offer
// (sendonly: the peer holds us) the 2xx answers it (recvonly) and the call
// reports the remote hold.
func TestUpdate(t *testing.T) {
	fp := newFakePeer(t, func(fp *fakePeer, srv *sipgo.Server) {
		srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
			_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
		})
	})
	a := newTestPhone(t, Options{Handler: HandlerFunc(func(IncomingCall) Decision { return Accept() })})
	cs, in := callPhone(t, fp, a, "alice", sip.Uri{},
		sip.NewHeader("Supported", "timer"), sip.NewHeader("Session-Expires", "120;refresher=uac"))
	if got := cs.InviteResponse.GetHeader("Session-Expires"); got == nil || !strings.HasPrefix(got.Value(), "120") {
		t.Fatalf("the 2xx to the INVITE has Session-Expires %v, want 120", got)
	}
	target := cs.InviteResponse.Contact().Address
	update := func(se string, body []byte) *sip.Response {
		t.Helper()
		req := sip.NewRequest(sip.UPDATE, target)
		if se != "" {
			req.AppendHeader(sip.NewHeader("Session-Expires", se))
		}
		if body != nil {
			req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
			req.SetBody(body)
		}
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		res, err := cs.Do(ctx, req)
		if err != nil {
			t.Fatalf("UPDATE: %v", err)
		}
		return res
	}

	res := update("120;refresher=uac", nil)
	if res.StatusCode != 200 {
		t.Fatalf("refresh by UPDATE: %d %s, want 200", res.StatusCode, res.Reason)
	}
	if got := res.GetHeader("Session-Expires"); got == nil || got.Value() != "120;refresher=uac" {
		t.Errorf("the 2xx to the refresh has Session-Expires %v, want 120;refresher=uac", got)
	}
	if len(res.Body()) != 0 {
		t.Errorf("the 2xx to a refresh without offer carries a body:\n%s", res.Body())
	}

	if res := update("garbage", nil); res.StatusCode != 400 {
		t.Errorf("UPDATE with a bad Session-Expires: %d, want 400", res.StatusCode)
	}

	hold := []byte(strings.Replace(string(peerSDP()), "t=0 0\r\n", "t=0 0\r\na=sendonly\r\n", 1))
	res = update("", hold)
	if res.StatusCode != 200 || !strings.Contains(string(res.Body()), "a=recvonly") {
		t.Fatalf("UPDATE with a hold offer: %d, body:\n%s", res.StatusCode, res.Body())
	}
	if !a.waitFor(wait, func(ev Event) bool {
		ce, ok := ev.(CallEvent)
		return ok && ce.Session == in && ce.HeldRemote
	}) {
		t.Fatalf("no held-by-remote event after the UPDATE: %s", a.dump())
	}
	if st := a.states(in); st[len(st)-1] != StateActive {
		t.Fatalf("call states %v: want still active", st)
	}
}
