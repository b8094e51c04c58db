package phone

import (
	"context"
	"net"
	"runtime"
	"testing"
	"time"
)

// TestNoLeaks: after calls with media, hold, DTMF, a transfer and Close,
// no goroutine and no RTP socket is left behind.
func TestNoLeaks(t *testing.T) {
	base := runtime.NumGoroutine()
	lo, hi := rtpRange()
	func() {
		hb := &handlerChan{calls: make(chan IncomingCall, 4), dec: Accept()}
		hc := &handlerChan{calls: make(chan IncomingCall, 4), dec: Accept()}
		a, err := New(Options{Listen: "127.0.0.1:0", RTPPortMin: lo, RTPPortMax: hi})
		if err != nil {
			t.Fatal(err)
		}
		b := newTestPhone(t, Options{Handler: hb, Audio: &toneAudio{hz: 440}, Transfer: TransferPolicy{Mode: TransferAlways}})
		c := newTestPhone(t, Options{Handler: hc})
		ta := &testPhone{Phone: a, t: t, done: make(chan struct{})}
		ta.cond = newCond(ta)
		if err := a.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		go ta.collect()
		ida, _ := connect(t, ta, b, hb)
		if err := a.Hold(ida); err != nil {
			t.Fatal(err)
		}
		if err := a.Resume(ida); err != nil {
			t.Fatal(err)
		}
		if err := a.SendDTMF(ida, "1"); err != nil {
			t.Fatal(err)
		}
		if err := a.Transfer(ida, c.uri("carol")); err != nil {
			t.Fatal(err)
		}
		ta.waitCall(ida, StateTerminated, wait)
		id2, _ := a.Dial(context.Background(), c.uri("carol"), DialOptions{})
		ta.waitCall(id2, StateActive, wait)
		a.Close() // hangs up id2
		<-ta.done
		b.Close()
		c.Close()
	}()
	// Every RTP port of the range can be bound again.
	for p := lo; p <= hi; p++ {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p})
		if err != nil {
			t.Errorf("RTP port %d still in use: %v", p, err)
			continue
		}
		c.Close()
	}
	var n int
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if n = runtime.NumGoroutine(); n <= base+2 {
			return
		}
	}
	buf := make([]byte, 1<<16)
	t.Errorf("%d goroutines before, %d after Close:\n%s", base, n, buf[:runtime.Stack(buf, true)])
}
