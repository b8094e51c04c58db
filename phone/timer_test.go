package phone

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

func TestParseSessionExpires(t *testing.T) {
	cases := []struct {
		v    string
		want sessionExpires
		ok   bool
	}{
		{"1800", sessionExpires{1800 * time.Second, ""}, true},
		{"90;refresher=uac", sessionExpires{90 * time.Second, "uac"}, true},
		{" 120 ; Refresher = UAS ", sessionExpires{120 * time.Second, "uas"}, true},
		{"600;x=y", sessionExpires{600 * time.Second, ""}, true},
		{"0", sessionExpires{}, false},
		{"-5", sessionExpires{}, false},
		{"abc", sessionExpires{}, false},
		{"90;refresher=both", sessionExpires{}, false},
		{"", sessionExpires{}, false},
	}
	for _, tc := range cases {
		got, ok := parseSessionExpires(tc.v)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseSessionExpires(%q) = %+v %v, want %+v %v", tc.v, got, ok, tc.want, tc.ok)
		}
	}
}

// FuzzParseSessionExpires: any value gives a positive interval and a known
// refresher, or nothing; what it gives prints back to itself.
func FuzzParseSessionExpires(f *testing.F) {
	for _, s := range []string{"1800", "90;refresher=uac", "1;refresher=", ";;", "4294967296"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		se, ok := parseSessionExpires(v)
		if !ok {
			return
		}
		if se.interval <= 0 || (se.refresher != "" && se.refresher != "uac" && se.refresher != "uas") {
			t.Fatalf("%q: %+v", v, se)
		}
		if back, ok := parseSessionExpires(se.String()); !ok || back != se {
			t.Fatalf("%q: %+v prints as %q", v, se, se.String())
		}
	})
}

// fakeCaller is a sipgo UA on loopback that calls a test phone with the
// headers a test gives, and answers the phone's in-dialog requests as the
// test says.
type fakeCaller struct {
	fp        *fakePeer
	reinvites atomic.Int32
}

func newFakeCaller(t *testing.T, answerReinvite func(n int32) int) *fakeCaller {
	fc := &fakeCaller{}
	fc.fp = newFakePeer(t, func(fp *fakePeer, srv *sipgo.Server) {
		srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
			fp.record(req)
			n := fc.reinvites.Add(1)
			code := answerReinvite(n)
			res := sip.NewResponseFromRequest(req, code, "", nil)
			if code == 200 {
				res = sip.NewResponseFromRequest(req, 200, "OK", peerSDP())
				res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
				if h := req.GetHeader("Session-Expires"); h != nil {
					res.AppendHeader(sip.NewHeader("Session-Expires", h.Value()))
				}
			}
			_ = tx.Respond(res)
		})
		srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) { fp.record(req) })
		srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
			fp.record(req)
			_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
		})
	})
	return fc
}

// call places a call to tp with the given headers and ACKs its 2xx.
func (fc *fakeCaller) call(t *testing.T, tp *testPhone, hdrs ...sip.Header) *sipgo.DialogClientSession {
	t.Helper()
	cs, _ := callPhone(t, fc.fp, tp, "bob", sip.Uri{}, hdrs...)
	return cs
}

// TestSessionTimerWeRefresh: a caller that makes us the refresher (RFC
// 4028 §9) gets a re-INVITE with Session-Expires every half interval; when
// a refresh is refused the call ends with BYE.
func TestSessionTimerWeRefresh(t *testing.T) {
	b := newTestPhone(t, Options{MinSE: time.Second, Handler: HandlerFunc(func(IncomingCall) Decision { return Accept() })})
	fc := newFakeCaller(t, func(n int32) int {
		if n <= 3 {
			return 200
		}
		return 481 // the fourth refresh is refused
	})
	cs := fc.call(t, b, sip.NewHeader("Supported", "timer"), sip.NewHeader("Session-Expires", "2;refresher=uas"))
	se := cs.InviteResponse.GetHeader("Session-Expires")
	if se == nil || se.Value() != "2;refresher=uas" {
		t.Fatalf("2xx Session-Expires %v", se)
	}
	ev := b.waitCall("", StateTerminated, 10*time.Second)
	if !strings.Contains(ev.Reason, "session refresh failed") {
		t.Errorf("ended %q", ev.Reason)
	}
	reinvites := fc.fp.requests(sip.INVITE)
	if len(reinvites) != 4 {
		t.Fatalf("%d refresh re-INVITEs, want 4", len(reinvites))
	}
	for _, r := range reinvites {
		if h := r.GetHeader("Session-Expires"); h == nil || h.Value() != "2;refresher=uac" {
			t.Errorf("refresh with Session-Expires %v", h)
		}
	}
	if len(fc.fp.requests(sip.BYE)) != 1 {
		t.Errorf("%d BYEs after the refused refresh", len(fc.fp.requests(sip.BYE)))
	}
}

// TestSessionTimerExpires: when the caller is the refresher and never
// refreshes, we end the call with BYE before the interval runs out (RFC
// 4028 §10), and our 2xx required the timer of the caller.
func TestSessionTimerExpires(t *testing.T) {
	b := newTestPhone(t, Options{MinSE: time.Second, Handler: HandlerFunc(func(IncomingCall) Decision { return Accept() })})
	fc := newFakeCaller(t, func(int32) int { return 200 })
	start := time.Now()
	cs := fc.call(t, b, sip.NewHeader("Supported", "timer"), sip.NewHeader("Session-Expires", "3"))
	if h := cs.InviteResponse.GetHeader("Session-Expires"); h == nil || h.Value() != "3;refresher=uac" {
		t.Errorf("2xx Session-Expires %v, want 3;refresher=uac", h)
	}
	if !hasOptionTag(cs.InviteResponse, "Require", "timer") {
		t.Error("2xx without Require: timer")
	}
	ev := b.waitCall("", StateTerminated, 10*time.Second)
	if !strings.Contains(ev.Reason, "session expired") {
		t.Errorf("ended %q", ev.Reason)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("ended after %v, the interval was 3 s", d)
	}
	if len(fc.fp.requests(sip.BYE)) != 1 {
		t.Errorf("%d BYEs", len(fc.fp.requests(sip.BYE)))
	}
}

// TestSessionTimerTooSmall: an interval below our Min-SE gets 422 naming
// it (RFC 4028 §8.1).
func TestSessionTimerTooSmall(t *testing.T) {
	b := newTestPhone(t, Options{Handler: HandlerFunc(func(IncomingCall) Decision { return Accept() })})
	fc := newFakeCaller(t, func(int32) int { return 200 })
	dua := sipgo.DialogUA{Client: fc.fp.cli, ContactHDR: sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "caller", Host: "127.0.0.1", Port: mustPort(fc.fp.addr)}}}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	cs, err := dua.Invite(ctx, sip.Uri{Scheme: "sip", User: "bob", Host: "127.0.0.1", Port: mustPort(b.LocalAddr())}, peerSDP(),
		sip.NewHeader("Content-Type", "application/sdp"), sip.NewHeader("Session-Expires", "30"))
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	err = cs.WaitAnswer(ctx, sipgo.AnswerOptions{})
	var de *sipgo.ErrDialogResponse
	if !errors.As(err, &de) || de.Res.StatusCode != 422 || de.Res.GetHeader("Min-SE") == nil || de.Res.GetHeader("Min-SE").Value() != "90" {
		t.Fatalf("answer %v", err)
	}
}
