package interop

import (
	"testing"
	"time"

	"github.com/teaphone/teaphone/internal/peertest"
	"github.com/teaphone/teaphone/phone"
)

// TestKamailioRestartDuringCall: the registrar (Kamailio, over TCP) goes
// away in the middle of a call through it and comes back on the same
// port. The account says at once that it lost its registration; the call,
// whose media flows directly between the phones, goes on; the account is
// registered again within one backoff period of Kamailio's return; the
// call then ends normally through the new Kamailio.
func TestKamailioRestartDuringCall(t *testing.T) {
	peertest.NeedBaresip(t)
	k := startProxy(t)
	acct := daveAccount(k, "davepw")
	acct.Registrar = "sip:" + k.Addr() + ";transport=tcp"
	au := &sineAudio{hz: 1000}
	ph := startPhone(t, phone.Options{Accounts: []phone.Account{acct}, Audio: au})
	alice := peertest.StartBaresip(t, peertest.BaresipConfig{User: "alice", Registrar: k.Addr(), Password: "alicepw", AudioSource: "ausine,440"})
	_, i := ph.waitReg(0, phone.RegRegistered, waitLong)

	pm := ph.mark()
	id, _, bm := dialBaresipAt(t, ph, alice, k.URI("alice"), waitLong)

	port := k.Port
	k.Stop()
	lost, j, ok := ph.waitEvent(i+1, waitShort, func(ev phone.Event) bool {
		r, ok := ev.(phone.RegistrationEvent)
		return ok && r.State != phone.RegRegistered
	})
	if !ok {
		t.Fatalf("no registration change after Kamailio stopped:%s", ph.dumpSince(i))
	}
	t.Logf("registrar gone: %+v", lost)
	heard := len(au.received())
	time.Sleep(2 * time.Second) // Kamailio stays down: the call must not notice
	if got := len(au.received()) - heard; got < 8000 {
		t.Errorf("%d samples received in the 2 s without Kamailio, want the call's audio to go on", got)
	}

	k2 := peertest.StartKamailio(t, peertest.KamailioConfig{Users: proxyUsers, RecordRoute: true, QOP: true, Port: port})
	back := time.Now()
	// The backoff after 2 s down is at most 4 s (2 s doubling, plus a
	// quarter of jitter): one period and a round trip.
	if _, _, ok := ph.waitEvent(j+1, 8*time.Second, func(ev phone.Event) bool {
		r, ok := ev.(phone.RegistrationEvent)
		return ok && r.State == phone.RegRegistered
	}); !ok {
		t.Fatalf("not registered again within 8 s of Kamailio's return:%s\nKamailio:\n%s", ph.dumpSince(j), k2.Log())
	}
	t.Logf("registered again %v after Kamailio came back", time.Since(back).Round(time.Millisecond))
	for _, ev := range ph.eventsSince(pm) {
		if ce, ok := ev.(phone.CallEvent); ok && ce.Session == id && ce.State.Final() {
			t.Fatalf("the call ended while the registrar was away: %+v", ce)
		}
	}
	time.Sleep(time.Second) // and it still carries audio once the registrar is back
	hangupAndWait(t, ph, alice, id, bm)
	checkTone(t, "teaphone hears baresip across the restart", au.received()[heard:], 440, 2)
}
