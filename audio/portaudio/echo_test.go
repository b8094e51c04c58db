package portaudio

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/teaphone/teaphone/audio"
	"github.com/teaphone/teaphone/audio/aec"
	"github.com/teaphone/teaphone/audio/analyze"
)

func ms(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }

// TestAlignerTable drives the aligner with the reports of a simulated
// device pair and checks the offset it applies: the reference sample it
// gives with microphone sample j must be the one played when j was
// captured, plus the lead (never later than that by more than hystLate,
// and never earlier than that by more than hystEarly once settled).
//
// The simulated devices: playback writes a 10 ms chunk every 10 ms, the
// true play time of reference sample i being playAt + i/rate; capture
// reads a 20 ms buffer every 20 ms, microphone sample j captured at
// capAt + j/rate. Each report is what a real loop would see: the time it
// runs (late by the scheduling delay) and the device's queue (which the
// pulse plugin may report a period stale).
func TestAlignerTable(t *testing.T) {
	const rate = 8000
	type report struct {
		lateP, lateC time.Duration // scheduling delay of each report
		staleQ       time.Duration // the playback queue reported this much too full
	}
	for _, tc := range []struct {
		name           string
		playAt, capAt  time.Duration // true origins (see above)
		reports        func(k int) report
		gapAt          int           // after this many playback writes the device plays a gap (underflow)...
		gap            time.Duration // ...this long (0: none)
		lostAt         int           // after this many capture reads the device loses captured audio (overflow)...
		lost           time.Duration // ...this long
		queue          time.Duration // what playback keeps queued (0: 20 ms)
		stallAt        int           // the playback loop writes nothing for 10 ms from this step (0: never): the queue covers it
		wantFinalDelay time.Duration // the delay the aligner ends with (±1 sample)
	}{
		{name: "exact reports, 60 ms from speaker to microphone", playAt: ms(100), capAt: ms(160),
			reports: func(int) report { return report{} }, wantFinalDelay: ms(60)},
		{name: "zero delay", playAt: ms(100), capAt: ms(100),
			reports: func(int) report { return report{} }, wantFinalDelay: 0},
		{name: "scheduling jitter up to 4 ms on both sides", playAt: ms(100), capAt: ms(145),
			reports: func(k int) report {
				r := rand.New(rand.NewPCG(uint64(k), 1))
				return report{lateP: ms(4 * r.Float64()), lateC: ms(4 * r.Float64())}
			}, wantFinalDelay: ms(45)},
		{name: "pulse plugin: the queue reported a period stale every other write", playAt: ms(50), capAt: ms(130),
			reports: func(k int) report {
				if k%2 == 1 {
					return report{staleQ: ms(10)}
				}
				return report{}
			}, wantFinalDelay: ms(80)},
		{name: "an underflow plays a 30 ms gap: the reference stays early, then follows", playAt: ms(100), capAt: ms(180),
			reports: func(int) report { return report{} }, gapAt: 300, gap: ms(30), wantFinalDelay: ms(50)},
		{name: "an overflow loses 40 ms of capture: followed at once", playAt: ms(100), capAt: ms(180),
			reports: func(int) report { return report{} }, lostAt: 150, lost: ms(40), wantFinalDelay: ms(120)},
		{name: "playback keeps 5 ms queued, less than the lead: the reference leads only that far", playAt: ms(105), capAt: ms(160),
			reports: func(int) report { return report{} }, queue: ms(5), wantFinalDelay: ms(50)},
		{name: "the playback loop runs 10 ms late once: the alignment moves once at most, and not late", playAt: ms(100), capAt: ms(160),
			reports: func(int) report { return report{} }, stallAt: 500, wantFinalDelay: ms(60)},
		{name: "a 15 ms gap (under the hysteresis): kept early", playAt: ms(100), capAt: ms(180),
			reports: func(int) report { return report{} }, gapAt: 300, gap: ms(15), wantFinalDelay: ms(80)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newAligner(rate, echoLead)
			chunk, buf := rate/100, rate/50
			var written, converted int64
			playAt, capAt := tc.playAt, tc.capAt
			writes, reads := 0, 0
			lostDone := false
			var before int64 // the offset as the playback loop stalls
			changes, lastOffset := 0, int64(math.MinInt64)
			queue := tc.queue
			if queue == 0 {
				queue = ms(20)
			}
			// check runs as the stage takes each frame.
			check := func(now time.Duration) {
				if !a.ready {
					return
				}
				// The true offset: microphone sample j was captured when
				// reference sample j + (capAt - playAt)·rate played.
				truth0 := int64(math.Round((capAt - playAt).Seconds() * rate))
				if a.offset < truth0 {
					t.Fatalf("at %v: offset %d, the true one %d: the reference is late by %d samples", now, a.offset, truth0, truth0-a.offset)
				}
				// Settled, the reference leads by no more than the lead (or
				// what the playback queue allows), give or take hystEarly.
				want := min(truth0+a.lead, truth0+int64(queue.Seconds()*rate))
				if now > 2*time.Second && (tc.gap == 0 || writes > tc.gapAt+2*alignWindow) && a.offset > want+a.hystEarly+1 {
					t.Fatalf("at %v: offset %d, want %d", now, a.offset, want)
				}
			}
			for step := 0; step < 1000; step++ { // 10 s in 10 ms steps
				now := time.Duration(step) * 10 * time.Millisecond
				r := tc.reports(step)
				// Playback: keep queue queued: write while the last written
				// sample plays within it.
				if tc.stallAt > 0 && step == tc.stallAt {
					before = a.offset
				}
				stalled := tc.stallAt > 0 && step == tc.stallAt
				for !stalled && playAt+samplesDuration(int(written), rate) < now+queue {
					if writes == tc.gapAt && tc.gap > 0 {
						playAt += tc.gap
					}
					written += int64(chunk)
					writes++
					last := playAt + samplesDuration(int(written-1), rate)
					at := now + r.lateP
					a.played(at, written, last-at+r.staleQ, writes == tc.gapAt+1 && tc.gap > 0)
				}
				// Capture: read every whole buffer captured by now.
				for {
					if reads == tc.lostAt && tc.lost > 0 && !lostDone { // the device drops what it captured
						capAt += tc.lost
						lostDone = true
					}
					if capAt+samplesDuration(int(converted+int64(buf)-1), rate) > now {
						break
					}
					converted += int64(buf)
					reads++
					at := now + r.lateC
					last := capAt + samplesDuration(int(converted-1), rate)
					a.captured(at, converted, at-last, reads == tc.lostAt+1 && tc.lost > 0)
					// The stage takes the frame: the reference it may use
					// ends at written.
					slack := written - converted
					a.took(slack)
					if a.ready && a.offset > slack && !stalled {
						t.Fatalf("at %v: offset %d beyond the reference written (%d ahead of the frame)", now, a.offset, slack)
					}
					check(now)
					if a.ready && a.offset != lastOffset {
						if now > 2*time.Second {
							changes++
						}
						lastOffset = a.offset
					}
				}
			}
			if changes > 1 {
				t.Errorf("the offset changed %d times after the first 2 s, want at most once", changes)
			}
			if tc.stallAt > 0 {
				t.Logf("offset %d before the late write, %d at the end", before, a.offset)
			}
			if d := a.delay(); d < tc.wantFinalDelay-time.Second/rate || d > tc.wantFinalDelay+time.Second/rate {
				t.Errorf("final delay %v, want %v", d, tc.wantFinalDelay)
			}
		})
	}
}

// TestAlignerSlackTwoValues: as the playback and capture loops' phases
// drift, the slack a frame finds takes two values, the smaller for a share
// of the frames that comes and goes; where it limits the offset, the
// offset settles on the smaller and stays, rather than swinging between
// them (each move makes the canceller adapt again).
func TestAlignerSlackTwoValues(t *testing.T) {
	a := newAligner(8000, echoLead)
	changes, last := -1, int64(math.MinInt64)
	for i := range 2000 {
		now := time.Duration(i) * 20 * time.Millisecond
		if i%4 == 0 { // reports put the estimate at 400 samples
			a.played(now, int64(i)*160, 0, false)
			a.captured(now, int64(i)*160-400+a.lead, 0, false)
		}
		slack := int64(320)
		if i%25 == 0 || i%100 < 15 {
			slack = 160
		}
		a.took(slack)
		if a.offset != last {
			changes++
			last = a.offset
		}
	}
	if changes > 1 || a.offset != 160 {
		t.Errorf("the offset changed %d times after it was first set, and ended at %d; want at most once, to 160", changes, a.offset)
	}
}

func TestAlignerNotReady(t *testing.T) {
	a := newAligner(16000, echoLead)
	if _, ok := a.refStart(0); ok || a.delay() != 0 {
		t.Error("ready before any report")
	}
	a.played(time.Second, 320, 20*time.Millisecond, false)
	if _, ok := a.refStart(0); ok {
		t.Error("ready with only the playback side reported")
	}
	a.captured(time.Second, 320, 0, false)
	// Microphone sample 319 was captured at 1 s, when reference sample
	// 319-320 played (319 plays 20 ms later); 10 ms of lead is 160 samples.
	if j, ok := a.refStart(1000); !ok || j != 1000-320+160 {
		t.Errorf("refStart(1000) = %d, %v; want %d", j, ok, 1000-320+160)
	}
}

// farEnd returns n samples at rate of a speech-like signal: band-passed
// noise under a syllable envelope, and voiced stretches (harmonics of a
// gliding pitch), about -20 dBFS while talking. Deterministic for a seed.
func farEnd(n, rate int, seed uint64) []int16 {
	r := rand.New(rand.NewPCG(seed, 7))
	hp := math.Exp(-2 * math.Pi * 200 / float64(rate))
	lp := math.Exp(-2 * math.Pi * 3000 / float64(rate))
	var x1, y1, z, phase float64
	s := make([]int16, n)
	for i := range s {
		ts := float64(i) / float64(rate)
		x := r.NormFloat64()
		y := hp * (y1 + x - x1)
		x1, y1 = x, y
		z = (1-lp)*y + lp*z
		env := math.Max(0, math.Sin(2*math.Pi*2.1*ts)) * (0.6 + 0.4*math.Sin(2*math.Pi*0.37*ts))
		f0 := 120 + 40*math.Sin(2*math.Pi*0.7*ts)
		phase += 2 * math.Pi * f0 / float64(rate)
		var v float64
		for h := 1.0; h <= 8 && h*f0 < 0.45*float64(rate); h++ {
			v += math.Sin(h*phase) / h
		}
		voiced := 0.5 + 0.5*math.Sin(2*math.Pi*0.9*ts)
		s[i] = audio.Int16(env * (6000*(1-voiced)*z + 2500*voiced*v))
	}
	return s
}

// simCall runs the echo stage as Open wires it, on simulated devices at
// devRate (the stage at 8 kHz): the playback loop writes far-end chunks,
// the microphone captures their echo through a room (a direct path at
// half level, then decaying reflections) after the delays the devices
// report plus unreported latency, and the capture conversion feeds the
// stage. It returns what went into the stage and what came out, at 8 kHz.
// With lateRef the playback loop's reports reach the stage lateRef late,
// as if the speaker's queue were that much longer: the stage's reference
// then comes after the echo.
func simCall(t testing.TB, devRate int, secs float64, unreported, lateRef time.Duration, near []int16) (in, out []int16) {
	t.Helper()
	var now time.Duration
	var queued, pending int
	rec := &frameRecorder{}
	chunk, buf := devRate/100, devRate/50
	e, err := newEchoStage(echoConfig{
		rate: audio.SampleRate, frame: audio.FrameSamples, tail: DefaultEchoTail, noiseSuppress: true,
		outRate: devRate, outCh: 1, outChunk: chunk,
		outAvail: func() (int, error) { return 4*chunk - queued, nil },
		inRate:   devRate, inAvail: func() (int, error) { return pending, nil },
		next: rec, clock: func() time.Duration { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer e.close()
	tee := &frameRecorder{next: e}
	conv, err := newCaptureConv(devRate, audio.SampleRate, 1, buf, tee)
	if err != nil {
		t.Fatal(err)
	}
	n := int(secs * float64(devRate))
	far := farEnd(n, devRate, 3)
	// The microphone: the speaker's sound after the room and the
	// unreported latency. Speaker sample i sounds at i/devRate (the
	// playback below keeps 20 ms queued), microphone sample m is the
	// sound at m/devRate.
	d := int(unreported.Seconds() * float64(devRate))
	rg := rand.New(rand.NewPCG(5, 6))
	h := make([]float64, devRate*60/1000)
	h[0] = 0.5
	for k := 1; k < len(h); k++ {
		h[k] = 0.25 * math.Exp(-float64(k)/(float64(devRate)*0.015)) * (2*rg.Float64() - 1)
	}
	mic := make([]int16, n)
	for m := range mic {
		var v float64
		for k, hk := range h {
			if i := m - d - k; i >= 0 {
				v += hk * float64(far[i])
			}
		}
		if near != nil && m < len(near) {
			v += float64(near[m])
		}
		mic[m] = audio.Int16(v)
	}
	const lead = 20 * time.Millisecond // the playback queue
	written, read := 0, 0
	for step := 0; written < n-chunk; step++ {
		now = time.Duration(step) * time.Millisecond
		// Write while the last written sample plays within lead.
		for written < n-chunk && samplesDuration(written, devRate) < now+lead {
			written += chunk
			queued = written - int(now.Seconds()*float64(devRate))
			e.played(far[written-chunk : written])
			now += lateRef
			e.wrote(false)
			now -= lateRef
		}
		// Read each buffer once it is captured.
		for read+buf <= min(n, int(now.Seconds()*float64(devRate))) {
			pending = int(now.Seconds()*float64(devRate)) - read - buf
			conv.push(mic[read : read+buf])
			read += buf
			e.captured(conv.n, false)
		}
	}
	return tee.all, rec.all
}

type frameRecorder struct {
	all  []int16
	next audio.Sink
}

func (r *frameRecorder) WriteFrame(f []int16) error {
	r.all = append(r.all, f...)
	if r.next != nil {
		return r.next.WriteFrame(f)
	}
	return nil
}

func energy16(x []int16) float64 {
	var e float64
	for _, v := range x {
		e += float64(v) * float64(v)
	}
	return e
}

func requireAEC(t testing.TB) {
	t.Helper()
	if !aec.Available {
		t.Skip("this build has no echo cancellation (audio/aec needs cgo and libspeexdsp)")
	}
}

// TestEchoStageCancels: on simulated devices (8 and 16 kHz, with 25 ms of
// latency they do not report), the stage aligned by their reports takes
// the echo down by well over 20 dB after 4 s; told that the speaker's
// queue is 60 ms longer than it is (a reference that comes after the
// echo), it cancels almost nothing: the alignment is what makes it work.
func TestEchoStageCancels(t *testing.T) {
	requireAEC(t)
	for _, tc := range []struct {
		devRate int
		lateRef time.Duration
		min     float64
		max     float64
	}{
		{8000, 0, 20, 99},
		{16000, 0, 20, 99},
		{8000, 60 * time.Millisecond, -99, 10},
	} {
		t.Run(fmt.Sprintf("%dHz late %v", tc.devRate, tc.lateRef), func(t *testing.T) {
			in, out := simCall(t, tc.devRate, 8, 25*time.Millisecond, tc.lateRef, nil)
			from := 4 * audio.SampleRate
			erle := 10 * math.Log10(energy16(in[from:])/energy16(out[from:]))
			t.Logf("ERLE %.1f dB over 4-8 s", erle)
			if erle < tc.min || erle > tc.max {
				t.Errorf("ERLE %.1f dB, want %.0f..%.0f", erle, tc.min, tc.max)
			}
		})
	}
}

// TestEchoStageNoAllocations: a period's work (two playback chunks, a
// capture read, a frame through the canceller) allocates nothing.
func TestEchoStageNoAllocations(t *testing.T) {
	requireAEC(t)
	for _, rate := range []int{8000, 48000} {
		e, err := newEchoStage(echoConfig{
			rate: rate, frame: rate / 50, tail: DefaultEchoTail, noiseSuppress: true,
			outRate: 48000, outCh: 2, outChunk: 480, outAvail: func() (int, error) { return 480, nil },
			inRate: 48000, inAvail: func() (int, error) { return 0, nil },
			next: audio.SinkFunc(func([]int16) error { return nil }),
		})
		if err != nil {
			t.Fatal(err)
		}
		chunk := make([]int16, 2*480)
		frame := farEnd(rate/50, rate, 1)
		if a := testing.AllocsPerRun(100, func() {
			e.played(chunk)
			e.played(chunk)
			e.wrote(false)
			e.captured(0, false)
			e.WriteFrame(frame)
		}); a != 0 {
			t.Errorf("%d Hz: %.1f allocations per frame, want 0", rate, a)
		}
		e.close()
	}
}

// BenchmarkEchoStage: ns/op is the stage's work for one 20 ms frame at the
// stage's rate (the device at the same rate, mono): two 10 ms playback
// chunks into the reference, a capture report, and the frame through the
// canceller (200 ms tail, residual echo and noise suppression).
//
//	go test -run '^$' -bench EchoStage -benchmem ./audio/portaudio/
func BenchmarkEchoStage(b *testing.B) {
	for _, rate := range []int{8000, 16000, 48000} {
		b.Run(fmt.Sprintf("%dHz", rate), func(b *testing.B) {
			requireAEC(b)
			f := rate / 50
			e, err := newEchoStage(echoConfig{
				rate: rate, frame: f, tail: DefaultEchoTail, noiseSuppress: true,
				outRate: rate, outCh: 1, outChunk: f / 2, outAvail: func() (int, error) { return f / 2, nil },
				inRate: rate, inAvail: func() (int, error) { return 0, nil },
				next: audio.SinkFunc(func([]int16) error { return nil }),
			})
			if err != nil {
				b.Fatal(err)
			}
			defer e.close()
			far := farEnd(rate, rate, 1)
			mic := make([]int16, len(far))
			for i, v := range far { // a 30 ms echo at half level
				if j := i + rate*3/100; j < len(mic) {
					mic[j] = v / 2
				}
			}
			frame := make([]int16, f)
			frames := len(far) / f
			i := 0
			for b.Loop() {
				k := i % frames * f
				e.played(far[k : k+f/2])
				e.played(far[k+f/2 : k+f])
				e.wrote(false)
				e.captured(0, false)
				copy(frame, mic[k:k+f])
				e.WriteFrame(frame)
				i++
			}
		})
	}
}

// TestEchoStageDelay: the stage delays the microphone by its canceller's
// frame, 10 ms (the post-filter's overlap-add), not by a whole 20 ms frame.
func TestEchoStageDelay(t *testing.T) {
	requireAEC(t)
	for _, rate := range []int{8000, 16000} {
		rec := &frameRecorder{}
		e, err := newEchoStage(echoConfig{
			rate: rate, frame: rate / 50, tail: DefaultEchoTail, noiseSuppress: true,
			outRate: rate, outCh: 1, outChunk: rate / 100, outAvail: func() (int, error) { return 0, nil },
			inRate: rate, inAvail: func() (int, error) { return 0, nil }, next: rec,
		})
		if err != nil {
			t.Fatal(err)
		}
		near := farEnd(3*rate, rate, 8)
		silence := make([]int16, rate/100)
		for off := 0; off+rate/50 <= len(near); off += rate / 50 {
			e.played(silence)
			e.played(silence)
			e.wrote(false)
			e.captured(0, false)
			e.WriteFrame(near[off : off+rate/50])
		}
		e.close()
		lag, peak := analyze.CrossCorrelateDelay(near[rate:], rec.all[rate:], rate/20)
		t.Logf("%d Hz: the microphone comes out %d samples (%v) later (correlation %.2f)", rate, lag, samplesDuration(lag, rate), peak)
		if lag > rate/100 || peak < 0.8 {
			t.Errorf("%d Hz: the stage delays the microphone by %d samples (correlation %.2f), want at most %d", rate, lag, peak, rate/100)
		}
	}
}
