package interop

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/teaphone/teaphone/internal/peertest"
	"github.com/teaphone/teaphone/phone"
)

// Session timers (RFC 4028) through Kamailio's sst module, which makes
// every call through it a timed session: it inserts Session-Expires into an
// INVITE without one, and into a 2xx without one (refresher=uac).

// sstInterval is the session interval the proxy imposes (seconds): short,
// so that a test sees several refreshes (every half interval) in ~15 s.
const sstInterval = 6

// sstSetup starts Kamailio with sst and a 3 s transaction timeout,
// teaphone registered as dave (accepting intervals down to 5 s) and baresip
// registered as alice.
func sstSetup(t *testing.T, opts phone.Options) (*peertest.Kamailio, *testPhone, *peertest.Baresip) {
	t.Helper()
	peertest.NeedBaresip(t)
	k := peertest.StartKamailio(t, peertest.KamailioConfig{Users: proxyUsers, RecordRoute: true, QOP: true,
		SessionTimer: sstInterval, TransactionTimeout: 3 * time.Second})
	acct := daveAccount(k, "davepw")
	acct.OutboundProxy = k.Addr()
	opts.Accounts = []phone.Account{acct}
	if opts.MinSE == 0 {
		opts.MinSE = 5 * time.Second
	}
	ph := startPhone(t, opts)
	alice := peertest.StartBaresip(t, peertest.BaresipConfig{User: "alice", Registrar: k.Addr(), Password: "alicepw"})
	ph.waitReg(0, phone.RegRegistered, waitLong)
	return k, ph, alice
}

// refreshesAt returns the in-dialog INVITEs baresip received since the
// byte offset since of its trace, and how many of them it answered 200.
func refreshesAt(b *peertest.Baresip, since int) (reinvites []ctlSIPMsg, ok int) {
	log := b.Log()
	reinvites = ctlFindSIP(log, since, func(m ctlSIPMsg) bool {
		return m.isRequest("INVITE") && strings.Contains(m.header("To"), "tag=")
	})
	for _, m := range ctlFindSIP(log, since, func(m ctlSIPMsg) bool { return m.isResponse(200, "INVITE") }) {
		for _, r := range reinvites {
			if m.header("CSeq") == r.header("CSeq") {
				ok++
				break
			}
		}
	}
	return reinvites, ok
}

// TestSessionTimerViaKamailioSST: a call between teaphone and baresip
// through Kamailio's sst (interval 6 s), each side calling once, lives
// through 15 s — five half-intervals — because teaphone refreshes it: the
// proxy named the caller refresher in the 2xx when teaphone called, and
// teaphone, as callee of a caller (baresip 1.0) that does not support
// timers, takes the refresher role itself (RFC 4028 §9). Every refresh is a
// re-INVITE with Session-Expires that baresip answers 200.
func TestSessionTimerViaKamailioSST(t *testing.T) {
	h := newCallHandler(phone.Accept())
	k, ph, alice := sstSetup(t, phone.Options{Handler: h})
	for _, caller := range []string{"teaphone", "baresip"} {
		t.Run(caller+" calls", func(t *testing.T) {
			bm, pm, trace := alice.Mark(), ph.mark(), len(alice.Log())
			var id phone.SessionID
			if caller == "teaphone" {
				var err error
				if id, err = ph.Dial(context.Background(), k.URI("alice"), phone.DialOptions{}); err != nil {
					t.Fatal(err)
				}
			} else {
				if err := alice.Dial(k.URI("dave")); err != nil {
					t.Fatal(err)
				}
				id = h.next(t, waitLong).Session
			}
			ph.waitCall(pm, id, phone.StateActive, waitLong)
			if _, err := alice.WaitEvent(bm, "CALL_ESTABLISHED", waitShort); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			// The initial INVITE baresip saw: the proxy's Session-Expires
			// when teaphone called (it asks for none itself).
			if caller == "teaphone" {
				invs := ctlFindSIP(alice.Log(), trace, func(m ctlSIPMsg) bool { return m.isRequest("INVITE") })
				if len(invs) == 0 || invs[0].header("Session-Expires") != "6" {
					t.Errorf("initial INVITE at baresip without the proxy's Session-Expires: 6")
				}
			}
			time.Sleep(15 * time.Second)
			reinvites, answered := refreshesAt(alice, trace)
			t.Logf("%d refresh re-INVITEs in %v, %d answered 200", len(reinvites), time.Since(start).Round(time.Second), answered)
			if len(reinvites) < 4 || answered < len(reinvites)-1 {
				t.Errorf("%d refreshes (%d answered) in 15 s of a 6 s session, want ≥ 4 answered", len(reinvites), answered)
			}
			for _, r := range reinvites {
				if se := r.header("Session-Expires"); !strings.HasPrefix(se, "6") {
					t.Errorf("refresh re-INVITE with Session-Expires %q", se)
				}
			}
			if evs := alice.Events(bm); hasEvent(evs, "CALL_CLOSED") {
				t.Fatalf("baresip's call closed during the refreshes")
			}
			if st := ph.callStates(id); st[len(st)-1] != phone.StateActive {
				t.Fatalf("teaphone's call is %v", st)
			}
			if err := ph.Hangup(id); err != nil {
				t.Fatal(err)
			}
			ph.waitFinal(pm, id, waitShort)
			if _, err := alice.WaitEvent(bm, "CALL_CLOSED", waitShort); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestSessionTimer422ViaKamailio: teaphone asks for 5 s, below the proxy's
// minimum (6 s); Kamailio's sst answers 422 with Min-SE: 6, and teaphone
// sends the INVITE again asking for 6 s with Min-SE: 6 (RFC 4028 §7.4),
// which the proxy relays to baresip: the call connects, and only the
// retried INVITE ever reached baresip.
func TestSessionTimer422ViaKamailio(t *testing.T) {
	k, ph, alice := sstSetup(t, phone.Options{SessionExpires: 5 * time.Second, MinSE: 5 * time.Second})
	pm, trace, klog := ph.mark(), len(alice.Log()), len(k.Log())
	id, _, _ := dialBaresipAt(t, ph, alice, k.URI("alice"), waitLong)
	invs := ctlFindSIP(alice.Log(), trace, func(m ctlSIPMsg) bool { return m.isRequest("INVITE") })
	if len(invs) != 1 || invs[0].header("Session-Expires") != "6" || invs[0].header("Min-SE") != "6" {
		t.Errorf("baresip got %d INVITEs, want 1 with Session-Expires and Min-SE 6", len(invs))
		for _, m := range invs {
			t.Logf("INVITE: Session-Expires %q Min-SE %q", m.header("Session-Expires"), m.header("Min-SE"))
		}
	}
	// Each INVITE is challenged afresh: 407, 422, 407, relayed.
	if got := k.Log()[klog:]; strings.Count(got, "REQ INVITE ") != 4 || !strings.Contains(got, "below 6 -> 422") {
		t.Errorf("Kamailio did not see 4 INVITEs (407, 422, 407, relayed):\n%s", got)
	}
	if err := ph.Hangup(id); err != nil {
		t.Fatal(err)
	}
	ph.waitFinal(pm, id, waitShort)
}

// TestSessionTimerRefreshUnanswered: teaphone calls a scripted peer
// through Kamailio's sst (interval 6 s); the peer answers the INVITE but
// never its refreshes. The proxy gives up on the first refresh after its
// 3 s transaction timeout (408), and teaphone ends the call with a BYE
// (RFC 4028 §10) and reports why: 3 s + 3 s after the call connected.
func TestSessionTimerRefreshUnanswered(t *testing.T) {
	k := peertest.StartKamailio(t, peertest.KamailioConfig{Users: proxyUsers, RecordRoute: true, QOP: true,
		SessionTimer: sstInterval, TransactionTimeout: 3 * time.Second})
	media := newRTPTone(t, 440)
	sp := startScriptPeer(t, func(sp *scriptPeer, srv *sipgo.Server) {
		srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
			sp.record(req)
			if _, inDialog := req.To().Params.Get("tag"); inDialog {
				return // a refresh: never answered
			}
			_ = sp.respond(tx, req, 200, "OK", media.sdp())
			select {
			case <-tx.Acks():
			case <-time.After(5 * time.Second):
			}
		})
		srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) { sp.record(req) })
		srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
			sp.record(req)
			_ = sp.respond(tx, req, 200, "OK", nil)
		})
	})
	acct := daveAccount(k, "davepw")
	acct.OutboundProxy, acct.Register = k.Addr(), false
	ph := startPhone(t, phone.Options{MinSE: 5 * time.Second, Accounts: []phone.Account{acct}})
	pm := ph.mark()
	id, err := ph.Dial(context.Background(), "sip:mute@"+sp.addr, phone.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ph.waitCall(pm, id, phone.StateActive, waitLong)
	start := time.Now()
	end := ph.waitFinal(pm, id, 20*time.Second)
	took := time.Since(start)
	t.Logf("ended after %v: %s %d %q", took.Round(100*time.Millisecond), end.State, end.Code, end.Reason)
	if end.State != phone.StateTerminated || end.Reason != "session refresh failed" {
		t.Errorf("end %s %d %q, want terminated: session refresh failed", end.State, end.Code, end.Reason)
	}
	// The terminating event says why: the proxy's 408 to the refresh.
	ev, _, ok := ph.waitEvent(pm, 0, func(ev phone.Event) bool {
		ce, ok := ev.(phone.CallEvent)
		return ok && ce.Session == id && ce.State == phone.StateTerminating
	})
	if !ok {
		t.Error("no terminating event")
	} else if why := ev.(phone.CallEvent).Reason; !strings.Contains(why, "408") {
		t.Errorf("terminating because %q, want the 408 named", why)
	}
	if took < 5*time.Second || took > 9*time.Second {
		t.Errorf("ended %v after the answer, want ≈ 6 s (3 s to the refresh + the proxy's 3 s)", took)
	}
	cseqs := map[uint32]bool{}
	for _, r := range sp.requests(sip.INVITE)[1:] {
		cseqs[r.CSeq().SeqNo] = true
		if se := r.GetHeader("Session-Expires"); se == nil || se.Value() != "6;refresher=uac" {
			t.Errorf("refresh with Session-Expires %v, want 6;refresher=uac", se)
		}
	}
	if len(cseqs) != 1 {
		t.Errorf("%d refresh re-INVITEs, want 1 (the call ends when it fails)", len(cseqs))
	}
	if !waitUntil(waitShort, func() bool { return len(sp.requests(sip.BYE)) == 1 }) {
		t.Errorf("the peer got %d BYEs, want 1 through the proxy", len(sp.requests(sip.BYE)))
	}
	if bye := sp.requests(sip.BYE); len(bye) == 1 && !strings.Contains(bye[0].Via().Host+":"+strconv.Itoa(bye[0].Via().Port), k.Addr()) {
		t.Errorf("BYE did not come through the proxy: top Via %s", bye[0].Via().Value())
	}
}

// hasEvent reports whether evs holds an event of type typ.
func hasEvent(evs []peertest.Event, typ string) bool {
	for _, e := range evs {
		if e.Type == typ {
			return true
		}
	}
	return false
}
