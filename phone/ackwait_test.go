package phone

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// TestAckFaultsEndTheCall: an answered call whose 200 gets no ACK, or
// whose offer-less INVITE's ACK carries no answer (svwar's scan), ends with
// a BYE instead of staying connected without media and holding a line.
func TestAckFaultsEndTheCall(t *testing.T) {
	ackTimeoutOverride = 1500 * time.Millisecond
	t.Cleanup(func() { ackTimeoutOverride = 0 })
	cases := []struct {
		name  string
		offer bool // the INVITE carries SDP
		ack   bool // the caller ACKs the 200
		want  string
	}{
		{"no ACK", true, false, "no ACK for our 200 OK"},
		{"offer-less INVITE, ACK without answer", false, true, "the ACK carried no SDP answer"},
		{"offer-less INVITE, no ACK", false, false, "no ACK for our 200 OK"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			byes := make(chan *sip.Request, 4)
			fp := newFakePeer(t, func(fp *fakePeer, srv *sipgo.Server) {
				srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
					byes <- req
					_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
				})
			})
			a := newTestPhone(t, Options{Handler: HandlerFunc(func(IncomingCall) Decision { return Accept() })})
			contact := sip.Uri{Scheme: "sip", User: "scan", Host: "127.0.0.1", Port: mustPort(fp.addr)}
			dua := sipgo.DialogUA{Client: fp.cli, ContactHDR: sip.ContactHeader{Address: contact}}
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			var body []byte
			var hdrs []sip.Header
			if tc.offer {
				body, hdrs = peerSDP(), []sip.Header{sip.NewHeader("Content-Type", "application/sdp")}
			}
			target := sip.Uri{Scheme: "sip", User: "100", Host: "127.0.0.1", Port: mustPort(a.LocalAddr())}
			cs, err := dua.Invite(ctx, target, body, hdrs...)
			if err != nil {
				t.Fatal(err)
			}
			defer cs.Close()
			if err := cs.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
				t.Fatal(err)
			}
			if !tc.offer && len(cs.InviteResponse.Body()) == 0 {
				t.Fatal("the 200 to an offer-less INVITE carries no offer")
			}
			if tc.ack {
				if err := cs.Ack(ctx); err != nil {
					t.Fatal(err)
				}
			}
			var got CallEvent
			if !a.waitFor(wait, func(ev Event) bool {
				ce, ok := ev.(CallEvent)
				if ok && ce.State.Final() {
					got = ce
					return true
				}
				return false
			}) {
				t.Fatalf("the call never ended: %s", a.dump())
			}
			if got.State != StateFailed || !strings.Contains(got.Reason, tc.want) {
				t.Errorf("call ended %v %q, want failed %q", got.State, got.Reason, tc.want)
			}
			select {
			case bye := <-byes:
				if bye.CallID().Value() != cs.InviteRequest.CallID().Value() {
					t.Errorf("BYE for Call-ID %s, want %s", bye.CallID().Value(), cs.InviteRequest.CallID().Value())
				}
			case <-time.After(wait):
				t.Fatal("no BYE")
			}
			n := -1 // the call leaves the phone's table just after its final event
			for deadline := time.Now().Add(time.Second); n != 0 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
				a.Phone.mu.Lock()
				n = len(a.Phone.calls)
				a.Phone.mu.Unlock()
			}
			if n != 0 {
				t.Errorf("%d calls left, want none", n)
			}
		})
	}
}
