package phone

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/teaphone/teaphone/audio"
	"github.com/teaphone/teaphone/audio/analyze"
	"github.com/teaphone/teaphone/audio/tone"
	"github.com/teaphone/teaphone/audio/wav"
)

// toneAudio sends a sine and keeps what it receives.
type toneAudio struct {
	hz   float64
	mu   sync.Mutex
	got  []int16
	done bool
}

func (t *toneAudio) CallAudio(SessionID, int) (audio.Source, audio.Sink, func()) {
	src := tone.NewSine(t.hz, 0.3)
	sink := audio.SinkFunc(func(f []int16) error {
		t.mu.Lock()
		if !t.done {
			t.got = append(t.got, f...)
		}
		t.mu.Unlock()
		return nil
	})
	return src, sink, func() {}
}

// after waits until at least n samples arrived after index from (bounded),
// and returns them.
func (t *toneAudio) after(from, n int) []int16 {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if got := t.received(); len(got)-from >= n {
			return got[from:]
		}
	}
	return t.received()[from:]
}

func (t *toneAudio) received() []int16 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]int16(nil), t.got...)
}

// assertTone checks that samples carry freq at a sane level in most 20 ms frames.
func assertTone(t *testing.T, who string, samples []int16, freq float64) {
	t.Helper()
	if len(samples) < 8000/2 {
		t.Fatalf("%s: only %d samples received", who, len(samples))
	}
	// Skip the start (jitter buffer fill, talkspurt onset).
	s := samples[len(samples)/4:]
	share := analyze.ToneShare(s, 8000, freq)
	active := analyze.ActiveFrames(s, 8000, -40)
	frames := len(s) / 160
	if share < 0.8 || active < frames*8/10 {
		t.Errorf("%s: %g Hz share %.2f, %d/%d frames above -40 dBFS (dominant %.0f Hz, %.1f dBFS)",
			who, freq, share, active, frames, analyze.DominantFrequency(s[:min(len(s), 4000)], 8000), analyze.DBFS(s))
	}
}

func TestTwoWayToneAndRecording(t *testing.T) {
	aAudio := &toneAudio{hz: 1000}
	bAudio := &toneAudio{hz: 440}
	h := &handlerChan{calls: make(chan IncomingCall, 4), dec: Accept()}
	a := newTestPhone(t, Options{Audio: aAudio})
	b := newTestPhone(t, Options{Audio: bAudio, Handler: h})
	ida, idb := connect(t, a, b, h)
	rec := filepath.Join(t.TempDir(), "call.wav")
	if err := a.Record(ida, rec); err != nil {
		t.Fatal(err)
	}
	bAudio.after(0, 12000)
	aAudio.after(0, 12000)
	if err := a.StopRecording(ida); err != nil {
		t.Fatal(err)
	}
	a.Hangup(ida)
	b.waitCall(idb, StateTerminated, wait)
	assertTone(t, "callee hears caller", bAudio.received(), 1000)
	assertTone(t, "caller hears callee", aAudio.received(), 440)

	samples, rate, ch, err := wav.ReadFile(rec)
	if err != nil || rate != 8000 || ch != 2 {
		t.Fatalf("recording: rate %d ch %d err %v", rate, ch, err)
	}
	left := make([]int16, 0, len(samples)/2)
	right := make([]int16, 0, len(samples)/2)
	for i := 0; i+1 < len(samples); i += 2 {
		left = append(left, samples[i])
		right = append(right, samples[i+1])
	}
	assertTone(t, "recording left (remote)", left, 440)
	assertTone(t, "recording right (local)", right, 1000)
}

func TestHoldStopsAudio(t *testing.T) {
	aAudio := &toneAudio{hz: 1000}
	bAudio := &toneAudio{hz: 440}
	h := &handlerChan{calls: make(chan IncomingCall, 4), dec: Accept()}
	a := newTestPhone(t, Options{Audio: aAudio})
	b := newTestPhone(t, Options{Audio: bAudio, Handler: h})
	ida, _ := connect(t, a, b, h)
	time.Sleep(600 * time.Millisecond)
	if err := a.Hold(ida); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	before := len(bAudio.received())
	time.Sleep(600 * time.Millisecond)
	heldPart := bAudio.received()[before:]
	// While held, b receives nothing from a (silence or concealment only).
	if db := analyze.DBFS(heldPart); len(heldPart) > 0 && db > -40 {
		t.Errorf("callee still hears audio while held: %.1f dBFS", db)
	}
	if err := a.Resume(ida); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	n := len(bAudio.received())
	assertTone(t, "after resume", bAudio.after(n, 8000), 1000)
	a.Hangup(ida)
}

func TestRFC4733DTMF(t *testing.T) {
	h := &handlerChan{calls: make(chan IncomingCall, 4), dec: Accept()}
	a := newTestPhone(t, Options{Audio: &toneAudio{hz: 1000}})
	b := newTestPhone(t, Options{Audio: &toneAudio{hz: 440}, Handler: h})
	ida, idb := connect(t, a, b, h)
	if err := a.SendDTMF(ida, "123#"); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(wait); len(b.digits(idb)) < 4 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if got := b.digits(idb); got != "123#" {
		t.Fatalf("received %q: %s", got, b.dump())
	}
	b.mu.Lock()
	for _, ev := range b.events {
		if d, ok := ev.(DTMFEvent); ok && d.Method != "rfc4733" {
			t.Errorf("digit %c by %s", d.Digit, d.Method)
		}
	}
	b.mu.Unlock()
	_ = context.Background
}

func TestConference(t *testing.T) {
	// a is the user; b (440 Hz) and c (1000 Hz) are the remote parties.
	bAudio := &toneAudio{hz: 440}
	cAudio := &toneAudio{hz: 1000}
	hb := &handlerChan{calls: make(chan IncomingCall, 4), dec: Accept()}
	hc := &handlerChan{calls: make(chan IncomingCall, 4), dec: Accept()}
	a := newTestPhone(t, Options{})
	b := newTestPhone(t, Options{Audio: bAudio, Handler: hb})
	c := newTestPhone(t, Options{Audio: cAudio, Handler: hc})
	ab, _ := connect(t, a, b, hb)
	ac, err := a.Dial(context.Background(), c.uri("carol"), DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	hc.next(t, a)
	a.waitCall(ac, StateActive, wait)
	if err := a.Conference(ab, ac); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	nb, nc := len(bAudio.received()), len(cAudio.received())
	assertTone(t, "b hears c", bAudio.after(nb, 8000), 1000)
	assertTone(t, "c hears b", cAudio.after(nc, 8000), 440)
	a.Hangup(ab)
	a.Hangup(ac)
}
