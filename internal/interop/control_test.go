package interop

import (
	"runtime"
	"testing"
	"time"

	"github.com/teaphone/teaphone/internal/peertest"
	"github.com/teaphone/teaphone/phone"
)

func TestCtlExplore(t *testing.T) {
	bob := peertest.StartBaresip(t, peertest.BaresipConfig{User: "bob"})
	base := runtime.NumGoroutine()
	tp := ctlStartPhone(t, "alice", phone.Options{Audio: newCtlToneAudio(1000)})
	m := bob.Mark()
	if err := bob.Dial(tp.uri("alice")); err != nil {
		t.Fatal(err)
	}
	ctlWaitPeer(t, bob, "bob", m, "CALL_ESTABLISHED")
	ce := tp.waitIncomingActive(0)
	time.Sleep(time.Second)
	out, _ := bob.AudioDebug()
	t.Logf("before hold: %s", out)
	lm := len(bob.Log())
	pm := tp.mark()
	if err := bob.Hold(); err != nil {
		t.Fatal(err)
	}
	tp.waitFlags(pm, ce.Session, false, true)
	time.Sleep(500 * time.Millisecond)
	out, _ = bob.AudioDebug()
	t.Logf("after hold: %s", out)
	t.Logf("LOG: %q", bob.Log()[lm:])
	if err := bob.Resume(); err != nil {
		t.Fatal(err)
	}
	tp.waitFlags(pm, ce.Session, false, false)
	time.Sleep(500 * time.Millisecond)
	out, _ = bob.AudioDebug()
	t.Logf("after resume: %s", out)
	m = bob.Mark()
	bob.Hangup()
	ctlWaitPeer(t, bob, "bob", m, "CALL_CLOSED")
	tp.waitCall(0, ce.Session, phone.StateTerminated)
	ctlFinish(t, tp, base)
}
