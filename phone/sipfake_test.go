package phone

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// fakePeer is a bare sipgo server on 127.0.0.1 whose handlers a test sets.
type fakePeer struct {
	addr string
	srv  *sipgo.Server
	cli  *sipgo.Client
	mu   sync.Mutex
	reqs []*sip.Request
}

func newFakePeer(t *testing.T, setup func(fp *fakePeer, srv *sipgo.Server)) *fakePeer {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("fakepeer"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fp := &fakePeer{addr: conn.LocalAddr().String(), srv: srv}
	fp.cli, err = sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientConnectionAddr(fp.addr))
	if err != nil {
		t.Fatal(err)
	}
	setup(fp, srv)
	go srv.ServeUDP(conn)
	for i := 0; i < 200; i++ {
		if _, err := ua.TransportLayer().GetConnection("udp", fp.addr); err == nil {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Cleanup(func() { srv.Close(); ua.Close(); conn.Close() })
	return fp
}

func (fp *fakePeer) record(req *sip.Request) {
	fp.mu.Lock()
	fp.reqs = append(fp.reqs, req)
	fp.mu.Unlock()
}

func (fp *fakePeer) requests(method sip.RequestMethod) []*sip.Request {
	fp.mu.Lock()
	defer fp.mu.Unlock()
	var out []*sip.Request
	for _, r := range fp.reqs {
		if r.Method == method {
			out = append(out, r)
		}
	}
	return out
}

// TestManyProvisionalResponses: a callee that sends 12 provisional responses
// before its 200 (sipgo's WaitAnswer gives up after 10) is still answered and ACKed.
func TestManyProvisionalResponses(t *testing.T) {
	fp := newFakePeer(t, func(fp *fakePeer, srv *sipgo.Server) {
		srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
			fp.record(req)
			for i := 0; i < 12; i++ {
				res := sip.NewResponseFromRequest(req, 180, "Ringing", nil)
				_ = tx.Respond(res)
			}
			ans := []byte("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n")
			res := sip.NewResponseFromRequest(req, 200, "OK", ans)
			res.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "x", Host: "127.0.0.1", Port: mustPort(fp.addr)}})
			res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
			_ = tx.Respond(res)
			select {
			case <-tx.Acks():
			case <-time.After(5 * time.Second):
			}
		})
		srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) { fp.record(req) })
		srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
			fp.record(req)
			_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
		})
	})
	a := newTestPhone(t, Options{})
	id, err := a.Dial(context.Background(), "sip:x@"+fp.addr, DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a.waitCall(id, StateActive, wait)
	for deadline := time.Now().Add(wait); len(fp.requests(sip.ACK)) == 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if len(fp.requests(sip.ACK)) == 0 {
		t.Fatal("200 never ACKed")
	}
	a.Hangup(id)
	a.waitCall(id, StateTerminated, wait)
}

func mustPort(addr string) int {
	_, p, _ := net.SplitHostPort(addr)
	var n int
	fmt.Sscan(p, &n)
	return n
}

// TestOptionsAndUnknownDialog: OPTIONS gets 200 with Allow; a BYE, INFO or
// re-INVITE for a dialog we do not have gets 481 (RFC 3261 §12.2.2).
func TestOptionsAndUnknownDialog(t *testing.T) {
	a := newTestPhone(t, Options{})
	fp := newFakePeer(t, func(*fakePeer, *sipgo.Server) {})
	target := sip.Uri{Scheme: "sip", User: "bob", Host: "127.0.0.1", Port: mustPort(a.LocalAddr())}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()

	res, err := fp.cli.Do(ctx, sip.NewRequest(sip.OPTIONS, target))
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 || res.GetHeader("Allow") == nil || !strings.Contains(res.GetHeader("Allow").Value(), "INVITE") {
		t.Errorf("OPTIONS answer: %s", res.StartLine())
	}
	for _, m := range []sip.RequestMethod{sip.BYE, sip.INFO, sip.INVITE, sip.REFER, sip.NOTIFY} {
		req := sip.NewRequest(m, target)
		req.AppendHeader(&sip.ToHeader{Address: target, Params: tagParams("nosuchtag")})
		res, err := fp.cli.Do(ctx, req)
		if err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		if res.StatusCode != 481 {
			t.Errorf("%s for an unknown dialog: %d, want 481", m, res.StatusCode)
		}
	}
}

// TestRegistrationRefreshAndUnregister: a registrar granting 1 s sees fresh
// REGISTER transactions (new branch, CSeq+1, same Call-ID) before expiry, and
// an un-REGISTER (Expires: 0) on Close.
func TestRegistrationRefreshAndUnregister(t *testing.T) {
	fp := newFakePeer(t, func(fp *fakePeer, srv *sipgo.Server) {
		srv.OnRegister(func(req *sip.Request, tx sip.ServerTransaction) {
			fp.record(req)
			res := sip.NewResponseFromRequest(req, 200, "OK", nil)
			exp := sip.ExpiresHeader(1)
			if h := req.GetHeader("Expires"); h != nil && h.Value() == "0" {
				exp = 0
			}
			res.AppendHeader(&exp)
			_ = tx.Respond(res)
		})
	})
	p, err := New(Options{Listen: "127.0.0.1:0", Accounts: []Account{{
		Name: "t", AOR: "sip:alice@" + fp.addr, Register: true, Expires: time.Second,
	}}})
	if err != nil {
		t.Fatal(err)
	}
	p.opts.RTPPortMin, p.opts.RTPPortMax = rtpRange()
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	var evs []RegistrationEvent
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range p.Events() {
			if r, ok := ev.(RegistrationEvent); ok {
				evs = append(evs, r)
			}
		}
	}()
	for deadline := time.Now().Add(wait); len(fp.requests(sip.REGISTER)) < 3 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	p.Close()
	<-done
	regs := fp.requests(sip.REGISTER)
	if len(regs) < 4 {
		t.Fatalf("%d REGISTERs, want 3 refreshes and an un-REGISTER", len(regs))
	}
	branches := map[string]bool{}
	for i, r := range regs {
		br, _ := r.Via().Params.Get("branch")
		if branches[br] {
			t.Errorf("REGISTER %d reuses branch %s (a retransmission, not a refresh)", i, br)
		}
		branches[br] = true
		if r.CallID().Value() != regs[0].CallID().Value() {
			t.Errorf("REGISTER %d changed Call-ID", i)
		}
		if i > 0 && r.CSeq().SeqNo <= regs[i-1].CSeq().SeqNo {
			t.Errorf("REGISTER %d CSeq %d not above %d", i, r.CSeq().SeqNo, regs[i-1].CSeq().SeqNo)
		}
	}
	if last := regs[len(regs)-1]; last.GetHeader("Expires").Value() != "0" {
		t.Errorf("last REGISTER Expires %s, want 0", last.GetHeader("Expires").Value())
	}
	if len(evs) == 0 || evs[len(evs)-1].State != RegUnregistered {
		t.Errorf("events %+v, want unregistered last", evs)
	}
	sawRegistered := false
	for _, e := range evs {
		sawRegistered = sawRegistered || (e.State == RegRegistered && e.Expires == 1)
	}
	if !sawRegistered {
		t.Errorf("no registered event with expires 1: %+v", evs)
	}
}

// TestEarlyMedia: a 183 with SDP starts RTP at once (RFC 3960): the far
// end's announcement can be heard and our stream reaches its address before
// any 200; the call then fails with 486 and the stream stops.
func TestEarlyMedia(t *testing.T) {
	rtp, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer rtp.Close()
	release := make(chan struct{})
	fp := newFakePeer(t, func(fp *fakePeer, srv *sipgo.Server) {
		srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
			ans := []byte(fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 0\r\na=sendrecv\r\n", mustPort(rtp.LocalAddr().String())))
			res := sip.NewResponseFromRequest(req, 183, "Session Progress", ans)
			res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
			_ = tx.Respond(res)
			<-release
			_ = tx.Respond(sip.NewResponseFromRequest(req, 486, "Busy Here", nil))
		})
	})
	a := newTestPhone(t, Options{Audio: &toneAudio{hz: 1000}})
	id, err := a.Dial(context.Background(), "sip:x@"+fp.addr, DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a.waitCall(id, StateProceeding, wait)
	_ = rtp.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, 1500)
	n, _, err := rtp.ReadFrom(buf)
	close(release)
	if err != nil || n < 12 || buf[0]>>6 != 2 {
		t.Fatalf("no RTP during early media: n=%d err=%v", n, err)
	}
	if ev := a.waitCall(id, StateFailed, wait); ev.Code != 486 {
		t.Errorf("%+v", ev)
	}
}

// callPhone makes fp call user at tp as a UAC whose Contact is contact
// (fp's own address when zero), with hdrs added to the INVITE; it ACKs the
// 2xx and returns the dialog and the phone's session once that is active.
func callPhone(t *testing.T, fp *fakePeer, tp *testPhone, user string, contact sip.Uri, hdrs ...sip.Header) (*sipgo.DialogClientSession, SessionID) {
	t.Helper()
	if contact.Host == "" {
		contact = sip.Uri{Scheme: "sip", User: "peer", Host: "127.0.0.1", Port: mustPort(fp.addr)}
	}
	dua := sipgo.DialogUA{Client: fp.cli, ContactHDR: sip.ContactHeader{Address: contact}}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	target := sip.Uri{Scheme: "sip", User: user, Host: "127.0.0.1", Port: mustPort(tp.LocalAddr())}
	hdrs = append(hdrs, sip.NewHeader("Content-Type", "application/sdp"))
	cs, err := dua.Invite(ctx, target, peerSDP(), hdrs...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	if err := cs.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cs.Ack(ctx); err != nil {
		t.Fatal(err)
	}
	callID := cs.InviteRequest.CallID().Value()
	var in SessionID
	if !tp.waitFor(wait, func(ev Event) bool {
		ce, ok := ev.(CallEvent)
		if ok && ce.SIPCallID == callID && ce.State == StateActive {
			in = ce.Session
		}
		return in != ""
	}) {
		t.Fatalf("incoming call never active: %s", tp.dump())
	}
	return cs, in
}

// sdpResponse is fp's answer to an INVITE req: code with peerSDP, the To
// tag "peertag" (unless req is in a dialog already) and Contact
// sip:user@fp.
func (fp *fakePeer) sdpResponse(req *sip.Request, code int, reason, user string) *sip.Response {
	res := sip.NewResponseFromRequest(req, code, reason, peerSDP())
	if _, ok := req.To().Params.Get("tag"); !ok {
		res.To().Params.Add("tag", "peertag")
	}
	res.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: "127.0.0.1", Port: mustPort(fp.addr)}})
	res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	return res
}
