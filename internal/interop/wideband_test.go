package interop

// Issue 14: wideband calls with baresip's g722 and opus modules. A 6 kHz
// tone cannot cross a narrowband (8 kHz) call: arriving, analysed on the
// samples at the receiver's rate, it proves the call is wideband from one
// end to the other.

import (
	"context"
	"math"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/teaphone/teaphone/audio"
	"github.com/teaphone/teaphone/audio/analyze"
	"github.com/teaphone/teaphone/audio/opus"
	"github.com/teaphone/teaphone/audio/tone"
	"github.com/teaphone/teaphone/audio/wav"
	"github.com/teaphone/teaphone/internal/peertest"
	"github.com/teaphone/teaphone/phone"
)

// rateAudio gives every call a sine at the call's rate and keeps what the
// call receives, with its rate.
type rateAudio struct {
	hz   float64
	mu   sync.Mutex
	got  []int16
	rate int
}

// CallAudio implements phone.AudioProvider.
func (a *rateAudio) CallAudio(_ phone.SessionID, rate int) (audio.Source, audio.Sink, func()) {
	a.mu.Lock()
	a.rate, a.got = rate, nil
	a.mu.Unlock()
	sink := ratedSink{rate: rate, f: func(f []int16) {
		a.mu.Lock()
		a.got = append(a.got, f...)
		a.mu.Unlock()
	}}
	return tone.NewSineAt(a.hz, 0.3, rate), sink, func() {}
}

func (a *rateAudio) received() ([]int16, int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]int16(nil), a.got...), a.rate
}

type ratedSink struct {
	rate int
	f    func([]int16)
}

func (s ratedSink) WriteFrame(f []int16) error { s.f(f); return nil }
func (s ratedSink) SampleRate() int            { return s.rate }

// checkToneAt is checkTone for samples at rate Hz.
func checkToneAt(t *testing.T, who string, samples []int16, rate int, freq, minSeconds float64) {
	t.Helper()
	if len(samples) > rate/5 {
		samples = samples[rate/5:]
	}
	frame := rate / 50
	frames := len(samples) / frame
	share := analyze.ToneShare(samples, rate, freq)
	active := analyze.ActiveFrames(samples, rate, -40)
	dominant := analyze.DominantFrequency(samples[:min(len(samples), rate)], rate)
	t.Logf("%s: %.2f s at %d Hz, %g Hz share %.2f, %d/%d frames above -40 dBFS, dominant %.1f Hz, level %.1f dBFS",
		who, float64(len(samples))/float64(rate), rate, freq, share, active, frames, dominant, analyze.DBFS(samples))
	if share < 0.5 {
		t.Errorf("%s: %g Hz share %.2f < 0.5 (dominant %.1f Hz)", who, freq, share, dominant)
	}
	if float64(active) < minSeconds*50 || active < frames/2 {
		t.Errorf("%s: only %d of %d frames above -40 dBFS, want >= %.0f and half", who, active, frames, minSeconds*50)
	}
	if math.Abs(dominant-freq) > freq*0.02 {
		t.Errorf("%s: dominant frequency %.1f Hz, want %g Hz", who, dominant, freq)
	}
}

// readRecordingAny reads baresip's newest received-audio recording at its
// own rate, mixed down to mono.
func readRecordingAny(t *testing.T, b *peertest.Baresip) ([]int16, int) {
	t.Helper()
	path, err := b.LatestRecording("dec")
	if err != nil {
		t.Fatal(err)
	}
	samples, rate, ch, err := wav.ReadFile(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if ch > 1 {
		mono := make([]int16, len(samples)/ch)
		for i := range mono {
			var s int
			for c := range ch {
				s += int(samples[i*ch+c])
			}
			mono[i] = int16(s / ch)
		}
		samples = mono
	}
	return samples, rate
}

// TestWidebandWithBaresip: G.722 and Opus calls with baresip, each side
// calling; teaphone sends 6 kHz when it calls and 1 kHz when called,
// baresip the other one; both tones arrive at the far side's rate (16 kHz
// for G.722, 48 kHz for Opus) and the call event names the codec.
func TestWidebandWithBaresip(t *testing.T) {
	peertest.NeedBaresip(t)
	for _, tc := range []struct {
		codec, baresip string
		rate           int
	}{
		{"G722", "g722", 16000},
		{"opus", "opus", 48000},
	} {
		t.Run(tc.codec, func(t *testing.T) {
			if tc.codec == "opus" && !opus.Available {
				t.Skip("this build has no Opus (cgo)")
			}
			for _, caller := range []string{"teaphone", "baresip"} {
				t.Run(caller+" calls", func(t *testing.T) {
					ours, theirs := 6000.0, 1000.0
					if caller == "baresip" {
						ours, theirs = 1000, 6000
					}
					bob := peertest.StartBaresip(t, peertest.BaresipConfig{User: "bob", AudioSource: "ausine," + strconv.Itoa(int(theirs)), Codecs: tc.baresip})
					au := &rateAudio{hz: ours}
					h := newCallHandler(phone.Accept())
					ph := startPhone(t, phone.Options{Audio: au, Handler: h, Codecs: []string{tc.codec, "PCMU"}})
					bm, pm := bob.Mark(), ph.mark()
					var id phone.SessionID
					if caller == "teaphone" {
						var err error
						if id, err = ph.Dial(context.Background(), bob.URI(), phone.DialOptions{}); err != nil {
							t.Fatal(err)
						}
					} else {
						if err := bob.Dial(ph.uri("dave")); err != nil {
							t.Fatal(err)
						}
						id = h.next(t, waitShort).Session
					}
					act := ph.waitCall(pm, id, phone.StateActive, waitShort)
					if _, err := bob.WaitEvent(bm, "CALL_ESTABLISHED", waitShort); err != nil {
						t.Fatal(err)
					}
					if act.Codec != tc.codec {
						t.Errorf("call event codec %q, want %q", act.Codec, tc.codec)
					}
					time.Sleep(1500 * time.Millisecond) // audio before DTMF: inherent
					// DTMF both ways: baresip offers telephone-event only on
					// the 8 kHz clock, so on Opus teaphone sends SIP INFO
					// (RFC 4733 §2.1: events use the audio's clock).
					if err := ph.SendDTMF(id, "12"); err != nil {
						t.Fatal(err)
					}
					var gotDigits string
					if !waitUntil(waitShort, func() bool { gotDigits = bob.DTMFReceived(bm); return len(gotDigits) >= 2 }) || gotDigits != "12" {
						t.Errorf("baresip received DTMF %q, want \"12\"", gotDigits)
					}
					if err := bob.SendDTMF("34"); err != nil {
						t.Fatal(err)
					}
					var digits string
					waitUntil(waitShort, func() bool {
						digits = ""
						for _, d := range ph.digits(id, true) {
							digits += string(d.Digit)
						}
						return len(digits) >= 2
					})
					if digits != "34" {
						t.Errorf("teaphone received DTMF %q, want \"34\"", digits)
					}
					time.Sleep(1500 * time.Millisecond) // audio: inherent
					hangupAndWait(t, ph, bob, id, bm)
					got, rate := au.received()
					if rate != tc.rate {
						t.Errorf("teaphone's call audio at %d Hz, want %d", rate, tc.rate)
					}
					checkToneAt(t, "teaphone hears baresip", got, rate, theirs, 2)
					rec, brate := readRecordingAny(t, bob)
					if brate < 16000 {
						t.Errorf("baresip decoded at %d Hz: not wideband", brate)
					}
					checkToneAt(t, "baresip hears teaphone", rec, brate, ours, 2)
				})
			}
		})
	}
}
