package phone

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// TestDialLocatedDomain: a call to sip:bob@pbx.example.test goes to the
// domain's SRV servers in order (RFC 3263): the first answers 503, the
// second (a phone) takes the call, with the same Call-ID and From tag.
func TestDialLocatedDomain(t *testing.T) {
	busy := newFakePeer(t, func(fp *fakePeer, srv *sipgo.Server) {
		srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
			fp.record(req)
			_ = tx.Respond(sip.NewResponseFromRequest(req, 503, "Service Unavailable", nil))
		})
	})
	h := &handlerChan{calls: make(chan IncomingCall, 4), dec: Accept()}
	b := newTestPhone(t, Options{Handler: h})
	zone := fmt.Sprintf(`
		_sip._udp.pbx.example.test. SRV 10 0 %d a.pbx.example.test.
		_sip._udp.pbx.example.test. SRV 20 0 %d b.pbx.example.test.
		a.pbx.example.test. A 127.0.0.1
		b.pbx.example.test. A 127.0.0.1`, mustPort(busy.addr), mustPort(b.LocalAddr()))
	a := newTestPhone(t, Options{Transports: []string{"udp"}, DNSServers: []string{dnsServer(t, zone)}})
	id, err := a.Dial(context.Background(), "sip:bob@pbx.example.test", DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	in := h.next(t, a)
	a.waitCall(id, StateActive, wait)
	first := busy.requests(sip.INVITE)
	if len(first) != 1 {
		t.Fatalf("the first server saw %d INVITEs", len(first))
	}
	if first[0].CallID().Value() != in.SIPCallID {
		t.Errorf("Call-ID changed between servers: %s, then %s", first[0].CallID().Value(), in.SIPCallID)
	}
	tag, _ := first[0].From().Params.Get("tag")
	if !strings.Contains(in.From, "tag="+tag) {
		t.Errorf("From tag changed between servers: %s, then %s", tag, in.From)
	}
	a.Hangup(id)
	a.waitCall(id, StateTerminated, wait)
}

// TestDialUnresolvedDomain: a call to a domain that does not resolve fails
// at once with a reason naming the domain.
func TestDialUnresolvedDomain(t *testing.T) {
	a := newTestPhone(t, Options{Transports: []string{"udp"}, DNSServers: []string{dnsServer(t, "x.example.test. A 127.0.0.1")}})
	id, err := a.Dial(context.Background(), "sip:bob@nowhere.example.test", DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ev := a.waitCall(id, StateFailed, wait)
	if !strings.Contains(ev.Reason, "nowhere.example.test") {
		t.Errorf("reason %q does not name the domain", ev.Reason)
	}
}
