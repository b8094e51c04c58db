package ringer_test

import (
	"context"
	"testing"
	"time"

	"github.com/teaphone/teaphone/audio"
	"github.com/teaphone/teaphone/audio/analyze"
	"github.com/teaphone/teaphone/audio/device"
	"github.com/teaphone/teaphone/audio/mix"
	"github.com/teaphone/teaphone/audio/tone"
	"github.com/teaphone/teaphone/internal/ringer"
	"github.com/teaphone/teaphone/phone"
	"github.com/teaphone/teaphone/sessions"
)

// These tests run two phones over 127.0.0.1 and listen to the device the
// Ringer plays on.

// playDevice is a device whose playback mixer the test reads itself.
type playDevice struct{ mixer *mix.Mixer }

func (d playDevice) Source() audio.Source { return tone.Silence{} }
func (d playDevice) Sink() audio.Sink     { return device.Discard }
func (d playDevice) Playback() *mix.Mixer { return d.mixer }
func (d playDevice) Close() error         { return nil }

// listen reads the device's playback for d, on the device's 20 ms clock.
func (d playDevice) listen(dur time.Duration) []int16 {
	var out []int16
	frame := make([]int16, audio.FrameSamples)
	for end := time.Now().Add(dur); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		_ = d.mixer.ReadFrame(frame)
		out = append(out, frame...)
	}
	return out
}

// newPhone starts a phone on 127.0.0.1. A phone that no client core
// follows (mgr nil) has its event stream drained here: it is lossless, so
// an unread stream would stall the phone.
func newPhone(t *testing.T, ports int, h phone.Handler, mgr *sessions.Manager) *phone.Phone {
	t.Helper()
	p, err := phone.New(phone.Options{Listen: "127.0.0.1:0", RTPPortMin: ports, RTPPortMax: ports + 99, Handler: h})
	if err != nil {
		t.Fatal(err)
	}
	if mgr != nil {
		if err := mgr.Start(p); err != nil {
			t.Fatal(err)
		}
	} else {
		go func() {
			for range p.Events() {
			}
		}()
	}
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Close()
		if mgr != nil {
			_ = mgr.Close()
		}
	})
	return p
}

// TestRingback: while an outgoing call rings the user hears ringback
// (440+480 Hz), and it stops when the call is answered.
func TestRingback(t *testing.T) {
	dev := playDevice{mix.NewMixer(audio.FrameSamples)}
	mgr := sessions.New()
	newPhone(t, 19800, mgr, mgr)
	incoming := make(chan phone.SessionID, 1)
	callee := newPhone(t, 19900, phone.HandlerFunc(func(in phone.IncomingCall) phone.Decision {
		incoming <- in.Session
		return phone.Defer(0)
	}), nil)
	r := ringer.Start(mgr, ringer.Options{Ringback: device.NewHub(dev)})
	defer r.Stop()

	id, err := mgr.Dial(context.Background(), "sip:bob@"+callee.LocalAddr(), sessions.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sid := <-incoming
	if _, err := mgr.WaitState(context.Background(), id, sessions.StateRinging); err != nil {
		t.Fatal(err)
	}
	ring := dev.listen(1500 * time.Millisecond)
	if s := analyze.ToneShare(ring, 8000, 440) + analyze.ToneShare(ring, 8000, 480); s < 0.8 || analyze.DBFS(ring) < -30 {
		t.Errorf("no ringback while ringing: 440+480 Hz share %.2f, %.1f dBFS", s, analyze.DBFS(ring))
	}
	if err := callee.Accept(sid); err != nil {
		t.Fatal(err)
	}
	if _, err := mgr.WaitState(context.Background(), id, sessions.StateConnected); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if after := dev.listen(500 * time.Millisecond); analyze.DBFS(after) > -50 {
		t.Errorf("ringback still playing after answer: %.1f dBFS", analyze.DBFS(after))
	}
}

// TestRingUntilTheCallerHangsUp: an incoming call that waits for a person
// rings (800+1000 Hz) until the caller gives up.
func TestRingUntilTheCallerHangsUp(t *testing.T) {
	dev := playDevice{mix.NewMixer(audio.FrameSamples)}
	mgr := sessions.New() // defers every call to a person, like the TUI
	b := newPhone(t, 19800, mgr, mgr)
	caller := newPhone(t, 19900, nil, nil)
	r := ringer.Start(mgr, ringer.Options{Ring: device.NewHub(dev)})
	defer r.Stop()

	sid, err := caller.Dial(context.Background(), "sip:bob@"+b.LocalAddr(), phone.DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(mgr.Pending()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if len(mgr.Pending()) == 0 {
		t.Fatal("the call did not arrive")
	}
	ring := dev.listen(400 * time.Millisecond) // the first burst
	if s := analyze.ToneShare(ring, 8000, 800) + analyze.ToneShare(ring, 8000, 1000); s < 0.8 || analyze.DBFS(ring) < -30 {
		t.Errorf("no ring while the call waits: 800+1000 Hz share %.2f, %.1f dBFS", s, analyze.DBFS(ring))
	}
	if err := caller.Hangup(sid); err != nil {
		t.Fatal(err)
	}
	for len(mgr.Calls()) > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	if after := dev.listen(1500 * time.Millisecond); analyze.DBFS(after) > -50 {
		t.Errorf("still ringing after the caller hung up: %.1f dBFS", analyze.DBFS(after))
	}
}
