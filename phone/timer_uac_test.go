package phone

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// fake422Callee answers every INVITE with answer(n, req) (n counts from 1):
// a 422 naming minSE, or a 200 that echoes the Session-Expires asked for
// with refresher=uac.
func fake422Callee(t *testing.T, answer func(n int, req *sip.Request) (code int, minSE string)) *fakePeer {
	n := 0
	return newFakePeer(t, func(fp *fakePeer, srv *sipgo.Server) {
		srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
			fp.record(req)
			if _, inDialog := req.To().Params.Get("tag"); inDialog {
				_ = tx.Respond(fp.sdpResponse(req, 200, "OK", "x"))
				return
			}
			n++
			code, minSE := answer(n, req)
			if code == 422 {
				res := sip.NewResponseFromRequest(req, 422, "Session Interval Too Small", nil)
				if minSE != "" {
					res.AppendHeader(sip.NewHeader("Min-SE", minSE))
				}
				_ = tx.Respond(res)
				return
			}
			res := fp.sdpResponse(req, 200, "OK", "x")
			if h := req.GetHeader("Session-Expires"); h != nil {
				res.AppendHeader(sip.NewHeader("Session-Expires", h.Value()+";refresher=uac"))
				res.AppendHeader(sip.NewHeader("Require", "timer"))
			}
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
}

// TestSessionTimer422Retry: our INVITE asks for Session-Expires; a 422
// with Min-SE makes us send it again once, to the same server, with
// Session-Expires and Min-SE raised to that Min-SE, the same Call-ID and
// From tag and the next CSeq (RFC 4028 §7.4); the 2xx makes us refresher.
func TestSessionTimer422Retry(t *testing.T) {
	fp := fake422Callee(t, func(n int, req *sip.Request) (int, string) {
		if se, _, _ := sessionExpiresOf(req); se.interval < 3*time.Second {
			return 422, "3"
		}
		return 200, ""
	})
	a := newTestPhone(t, Options{MinSE: time.Second, SessionExpires: 2 * time.Second})
	id, err := a.Dial(context.Background(), "sip:x@"+fp.addr, DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a.waitCall(id, StateActive, wait)
	invs := fp.requests(sip.INVITE)
	if len(invs) != 2 {
		t.Fatalf("%d INVITEs, want 2 (one retry after the 422)", len(invs))
	}
	first, retry := invs[0], invs[1]
	for _, c := range []struct {
		req        *sip.Request
		se, minSE  string
		cseq       uint32
		whichOfTwo string
	}{{first, "2", "1", 0, "first"}, {retry, "3", "3", 1, "retry"}} {
		if got := headerValue(c.req, "Session-Expires"); got != c.se {
			t.Errorf("%s INVITE: Session-Expires %q, want %q", c.whichOfTwo, got, c.se)
		}
		if got := headerValue(c.req, "Min-SE"); got != c.minSE {
			t.Errorf("%s INVITE: Min-SE %q, want %q", c.whichOfTwo, got, c.minSE)
		}
		if got := c.req.CSeq().SeqNo - first.CSeq().SeqNo; got != c.cseq {
			t.Errorf("%s INVITE: CSeq first+%d, want first+%d", c.whichOfTwo, got, c.cseq)
		}
	}
	if first.CallID().Value() != retry.CallID().Value() {
		t.Error("the retry has another Call-ID")
	}
	t1, _ := first.From().Params.Get("tag")
	t2, _ := retry.From().Params.Get("tag")
	if t1 != t2 {
		t.Errorf("From tags %q and %q differ", t1, t2)
	}
	// We are the refresher of a 3 s session: a re-INVITE within 1.5 s.
	deadline := time.Now().Add(4 * time.Second)
	for len(fp.requests(sip.INVITE)) < 3 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	invs = fp.requests(sip.INVITE)
	if len(invs) < 3 {
		t.Fatal("no refresh re-INVITE after the retried call connected")
	}
	if got := headerValue(invs[2], "Session-Expires"); got != "3;refresher=uac" {
		t.Errorf("refresh Session-Expires %q", got)
	}
	a.Hangup(id)
	a.waitCall(id, StateTerminated, wait)
}

// TestSessionTimer422NotRetried: a second 422, or one without a usable
// Min-SE, ends the call with the 422 — never a loop.
func TestSessionTimer422NotRetried(t *testing.T) {
	for _, c := range []struct {
		name     string
		minSE    string
		invites  int
		wantCode int
	}{
		{"second 422", "3", 2, 422},
		{"no Min-SE", "", 1, 422},
		{"garbage Min-SE", "soon", 1, 422},
	} {
		t.Run(c.name, func(t *testing.T) {
			fp := fake422Callee(t, func(int, *sip.Request) (int, string) { return 422, c.minSE })
			a := newTestPhone(t, Options{MinSE: time.Second, SessionExpires: 2 * time.Second})
			id, err := a.Dial(context.Background(), "sip:x@"+fp.addr, DialOptions{})
			if err != nil {
				t.Fatal(err)
			}
			ev := a.waitCall(id, StateFailed, wait)
			if ev.Code != c.wantCode {
				t.Errorf("failed with %d %q, want %d", ev.Code, ev.Reason, c.wantCode)
			}
			if n := len(fp.requests(sip.INVITE)); n != c.invites {
				t.Errorf("%d INVITEs, want %d", n, c.invites)
			}
		})
	}
}

// TestRefreshWithBadSessionExpires: a re-INVITE whose Session-Expires does
// not parse gets 400, one below our Min-SE gets 422 with our Min-SE (RFC
// 4028 §9); the call stays up and a good refresh still gets 200.
func TestRefreshWithBadSessionExpires(t *testing.T) {
	var log logBuf
	b := newTestPhone(t, Options{MinSE: 10 * time.Second, Logger: slog.New(slog.NewTextHandler(&log, nil)),
		Handler: HandlerFunc(func(IncomingCall) Decision { return Accept() })})
	fc := newFakeCaller(t, func(int32) int { return 200 })
	cs, in := callPhone(t, fc.fp, b, "bob", sip.Uri{})
	target := cs.InviteResponse.Contact().Address
	for _, c := range []struct {
		se    string
		code  int
		minSE string
	}{
		{"garbage", 400, ""},
		{"-5", 400, ""},
		{"99999999999999999999", 400, ""},
		{"30;refresher=nobody", 400, ""},
		{"4;refresher=uac", 422, "10"},
		{"30;refresher=uac", 200, ""},
	} {
		req := sip.NewRequest(sip.INVITE, target)
		req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		req.AppendHeader(sip.NewHeader("Session-Expires", c.se))
		req.SetBody(peerSDP())
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		res, err := cs.Do(ctx, req)
		cancel()
		if err != nil {
			t.Fatalf("Session-Expires %q: %v", c.se, err)
		}
		if res.StatusCode != c.code {
			t.Errorf("Session-Expires %q: %d %s, want %d", c.se, res.StatusCode, res.Reason, c.code)
		}
		if got := headerValue(res, "Min-SE"); got != c.minSE {
			t.Errorf("Session-Expires %q: Min-SE %q, want %q", c.se, got, c.minSE)
		}
		if res.IsSuccess() {
			ack := sip.NewRequest(sip.ACK, target)
			if err := cs.WriteRequest(ack); err != nil {
				t.Fatal(err)
			}
		}
	}
	if sts := b.states(in); sts[len(sts)-1] != StateActive {
		t.Fatalf("call states %v after the bad refreshes, want still active", sts)
	}
	if text := log.String(); !strings.Contains(text, "bad Session-Expires") || !strings.Contains(text, "below our Min-SE") {
		t.Errorf("the refused refreshes were not logged:\n%s", text)
	}
	b.Hangup(in)
	b.waitCall(in, StateTerminated, wait)
}

// logBuf is a log destination safe for concurrent writes.
type logBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
