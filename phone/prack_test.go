package phone

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// TestPrackToReliable183: a callee that sends 183 with Require: 100rel
// gets a PRACK naming it (RAck: RSeq, the INVITE's CSeq, INVITE) before it
// answers; a retransmitted 183 is not PRACKed again; the ACK of the 200
// carries the INVITE's CSeq number, not the PRACK's (RFC 3262 §4, RFC 3261
// §13.2.2.4).
func TestPrackToReliable183(t *testing.T) {
	pracks := make(chan *sip.Request, 4)
	fp := newFakePeer(t, func(fp *fakePeer, srv *sipgo.Server) {
		srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
			fp.record(req)
			if !hasOptionTag(req, "Supported", "100rel") {
				_ = tx.Respond(sip.NewResponseFromRequest(req, 421, "Extension Required", nil))
				return
			}
			prog := fp.sdpResponse(req, 183, "Session Progress", "x")
			prog.AppendHeader(sip.NewHeader("Require", "100rel"))
			prog.AppendHeader(sip.NewHeader("RSeq", "7"))
			_ = tx.Respond(prog)
			_ = tx.Respond(prog) // a retransmission
			select {
			case <-pracks:
			case <-time.After(5 * time.Second):
				_ = tx.Respond(sip.NewResponseFromRequest(req, 500, "no PRACK", nil))
				return
			}
			_ = tx.Respond(fp.sdpResponse(req, 200, "OK", "x"))
			select {
			case <-tx.Acks():
			case <-time.After(5 * time.Second):
			}
		})
		srv.OnPrack(func(req *sip.Request, tx sip.ServerTransaction) {
			fp.record(req)
			_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
			pracks <- req
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
	inv := fp.requests(sip.INVITE)[0]
	prs := fp.requests(sip.PRACK)
	if len(prs) != 1 {
		t.Fatalf("%d PRACKs, want 1 (the retransmitted 183 is not PRACKed again)", len(prs))
	}
	want := "7 " + strconv.FormatUint(uint64(inv.CSeq().SeqNo), 10) + " INVITE"
	if got := prs[0].GetHeader("RAck").Value(); got != want {
		t.Errorf("RAck %q, want %q", got, want)
	}
	if tag, _ := prs[0].To().Params.Get("tag"); tag != "peertag" {
		t.Errorf("PRACK outside the early dialog: To %s", prs[0].To().Value())
	}
	acks := fp.requests(sip.ACK)
	if len(acks) == 0 {
		t.Fatal("200 never ACKed")
	}
	if acks[0].CSeq().SeqNo != inv.CSeq().SeqNo {
		t.Errorf("ACK CSeq %d, want the INVITE's %d", acks[0].CSeq().SeqNo, inv.CSeq().SeqNo)
	}
	a.Hangup(id)
	a.waitCall(id, StateTerminated, wait)
}

// TestReliable180BetweenPhones: a caller that requires 100rel gets a
// reliable 180 from teaphone, PRACKs it, and the call connects.
func TestReliable180BetweenPhones(t *testing.T) {
	a, b, h := pair(t, Defer(0))
	id, err := a.Dial(context.Background(), b.uri("bob"), DialOptions{Headers: map[string]string{"Require": "100rel"}})
	if err != nil {
		t.Fatal(err)
	}
	in := h.next(t, a)
	a.waitCall(id, StateRinging, wait)
	b.mu.Lock()
	callee := b.calls[in.Session]
	b.mu.Unlock()
	if callee == nil {
		t.Fatal("callee's call gone")
	}
	callee.mu.Lock()
	r := callee.reliable
	callee.mu.Unlock()
	if r == nil {
		t.Fatal("the 180 was not sent reliably")
	}
	select {
	case <-r.acked:
	case <-time.After(wait):
		t.Fatal("the reliable 180 was never PRACKed")
	}
	if err := b.Accept(in.Session); err != nil {
		t.Fatal(err)
	}
	a.waitCall(id, StateActive, wait)
	a.Hangup(id)
	b.waitCall(in.Session, StateTerminated, wait)
}

// TestUnknownRequire420: an INVITE that requires an extension we do not
// know gets 420 Bad Extension naming it (RFC 3261 §8.2.2.3).
func TestUnknownRequire420(t *testing.T) {
	a := newTestPhone(t, Options{})
	fp := newFakePeer(t, func(*fakePeer, *sipgo.Server) {})
	target := sip.Uri{Scheme: "sip", User: "bob", Host: "127.0.0.1", Port: mustPort(a.LocalAddr())}
	req := sip.NewRequest(sip.INVITE, target)
	req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "x", Host: "127.0.0.1", Port: mustPort(fp.addr)}})
	req.AppendHeader(sip.NewHeader("Require", "100rel, foo-bar"))
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	res, err := fp.cli.Do(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 420 || res.GetHeader("Unsupported") == nil || !strings.Contains(res.GetHeader("Unsupported").Value(), "foo-bar") {
		t.Errorf("%s Unsupported=%v", res.StartLine(), res.GetHeader("Unsupported"))
	}
}

func TestParseRAck(t *testing.T) {
	cases := []struct {
		v          string
		rseq, cseq uint32
		method     string
		ok         bool
	}{
		{"776656 1 INVITE", 776656, 1, "INVITE", true},
		{" 1  2  invite ", 1, 2, "INVITE", true},
		{"0 1 INVITE", 0, 0, "", false},
		{"1 INVITE", 0, 0, "", false},
		{"x 1 INVITE", 0, 0, "", false},
		{"1 99999999999 INVITE", 0, 0, "", false},
	}
	for _, tc := range cases {
		r, c, m, ok := parseRAck(tc.v)
		if r != tc.rseq || c != tc.cseq || m != tc.method || ok != tc.ok {
			t.Errorf("parseRAck(%q) = %d %d %q %v", tc.v, r, c, m, ok)
		}
	}
}

// FuzzParseRAck: any RAck value gives three fields or nothing.
func FuzzParseRAck(f *testing.F) {
	for _, s := range []string{"1 1 INVITE", "4294967295 4294967295 X", "", "1 2 3 4"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		r, _, m, ok := parseRAck(v)
		if ok && (r == 0 || m == "") {
			t.Fatalf("%q: %d %q", v, r, m)
		}
	})
}
