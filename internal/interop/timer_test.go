package interop

import (
	"context"
	"strings"
	"testing"
	"time"

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

// hasEvent reports whether evs holds an event of type typ.
func hasEvent(evs []peertest.Event, typ string) bool {
	for _, e := range evs {
		if e.Type == typ {
			return true
		}
	}
	return false
}
