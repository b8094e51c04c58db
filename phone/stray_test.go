package phone

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// TestStray2xxIsAckedAndEnded: a 2xx with another To tag arrives for an
// INVITE whose client transaction is gone (its Via branch matches none: a
// replaced INVITE, or a fork answering after Timer M). RFC 3261
// §13.2.2.4: it is ACKed, and the dialog it made is ended with a BYE; the
// call in the first dialog goes on. Retransmissions of the stray 2xx are
// ACKed again, with no second BYE. (While the INVITE's transaction lives,
// 64·T1 after its 2xx, sipgo takes a forked 2xx itself and re-sends the
// first dialog's ACK: see the closing note of issue 11.)
func TestStray2xxIsAckedAndEnded(t *testing.T) {
	fp := newFakePeer(t, func(fp *fakePeer, srv *sipgo.Server) {
		srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
			fp.record(req)
			_ = tx.Respond(fp.sdpResponse(req, 200, "OK", "peer"))
			// The second branch of a fork answers too, sent as a proxy
			// would relay it: a plain datagram to the caller.
			fork := fp.sdpResponse(req, 200, "OK", "fork")
			fork.To().Params.Remove("tag")
			fork.To().Params.Add("tag", "fork2")
			fork.Via().Params.Remove("branch")
			fork.Via().Params.Add("branch", "z9hG4bKtransactiongone")
			go func() {
				conn, err := net.Dial("udp", req.Source())
				if err != nil {
					return
				}
				defer conn.Close()
				for i := 0; i < 2; i++ { // the 2xx and one retransmission
					time.Sleep(200 * time.Millisecond)
					_, _ = conn.Write([]byte(fork.String()))
				}
			}()
		})
		srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) { fp.record(req) })
		srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
			fp.record(req)
			_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
		})
	})
	a := newTestPhone(t, Options{})
	id, err := a.Dial(context.Background(), "sip:peer@"+fp.addr, DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a.waitCall(id, StateActive, wait)
	byes := fp.waitRequests(t, sip.BYE, 1)
	if tag, _ := byes[0].To().Params.Get("tag"); tag != "fork2" {
		t.Fatalf("BYE To tag %q, want fork2 (the stray dialog)", tag)
	}
	time.Sleep(500 * time.Millisecond) // the retransmission, and any further BYE
	var acks []string
	for _, r := range fp.requests(sip.ACK) {
		tag, _ := r.To().Params.Get("tag")
		acks = append(acks, tag)
	}
	forkAcks := 0
	for _, tag := range acks {
		if tag == "fork2" {
			forkAcks++
		}
	}
	if forkAcks != 2 {
		t.Errorf("ACKs by To tag %v: want 2 for fork2 (the 2xx and its retransmission)", acks)
	}
	if n := len(fp.requests(sip.BYE)); n != 1 {
		t.Errorf("%d BYEs, want 1", n)
	}
	if st := a.states(id); st[len(st)-1] != StateActive {
		t.Errorf("call states %v: the first dialog must go on", st)
	}
}

// TestLargeResponseOverUDP: an INVITE through proxies with long Via
// headers (copied into every response) makes our 200 OK larger than 1300
// bytes; it is still sent over UDP and the call connects.
func TestLargeResponseOverUDP(t *testing.T) {
	fp := newFakePeer(t, func(fp *fakePeer, srv *sipgo.Server) {
		srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) { fp.record(req) })
		srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
			_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
		})
	})
	a := newTestPhone(t, Options{ICE: true, Handler: HandlerFunc(func(IncomingCall) Decision { return Accept() })})
	var rr []sip.Header
	for i := 0; i < 6; i++ {
		rr = append(rr, sip.NewHeader("Via", "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK"+strings.Repeat("x", 200)+";rport"))
	}
	cs, _ := callPhone(t, fp, a, "alice", sip.Uri{}, rr...)
	if n := len(cs.InviteResponse.String()); n <= 1300 {
		t.Fatalf("the 200 OK is %d bytes: the test needs more than 1300", n)
	}
}

// TestRejectedCallEndsWithoutACK: a caller that never ACKs our rejection
// (a scanner sending raw INVITEs) does not keep the call ringing until the
// transaction gives up (64·T1): it ends when we answer.
func TestRejectedCallEndsWithoutACK(t *testing.T) {
	a := newTestPhone(t, Options{Handler: HandlerFunc(func(IncomingCall) Decision { return Reject(486, "") })})
	conn, err := net.Dial("udp", a.LocalAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	local := conn.LocalAddr().String()
	invite := "INVITE sip:100@" + a.LocalAddr() + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP " + local + ";branch=z9hG4bKscanner1\r\n" +
		"From: <sip:scanner@" + local + ">;tag=s1\r\nTo: <sip:100@" + a.LocalAddr() + ">\r\n" +
		"Call-ID: scanner-1\r\nCSeq: 1 INVITE\r\nContact: <sip:scanner@" + local + ">\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
	if _, err := conn.Write([]byte(invite)); err != nil {
		t.Fatal(err)
	}
	if !a.waitFor(5*time.Second, func(ev Event) bool {
		ce, ok := ev.(CallEvent)
		return ok && ce.SIPCallID == "scanner-1" && ce.State.Final()
	}) {
		t.Fatalf("the rejected call did not end before the ACK: %s", a.dump())
	}
	buf := make([]byte, 4096)
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("no 486 for the INVITE: %v", err)
		}
		if strings.HasPrefix(string(buf[:n]), "SIP/2.0 486") {
			break
		}
	}
}
