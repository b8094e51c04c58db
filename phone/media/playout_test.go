package media

import (
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestPlayPhase(t *testing.T) {
	ms := time.Millisecond
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return base.Add(d) }
	// arrivals returns n arrivals 20 ms apart from first, each shifted by
	// the matching jitter (missing: 0).
	arrivals := func(first time.Duration, n int, jitter ...time.Duration) []time.Duration {
		var a []time.Duration
		for i := range n {
			d := first + time.Duration(i)*20*ms
			if i < len(jitter) {
				d += jitter[i]
			}
			a = append(a, d)
		}
		return a
	}
	tests := []struct {
		name   string
		first  []time.Duration // arrivals that set the schedule
		then   []time.Duration // arrivals watched afterwards
		wantOn bool
		// wantAfter is how long after a packet arriving on the steady
		// phase (first[0] modulo 20 ms, moved by drift) the schedule ticks.
		steady    time.Duration
		wantAfter time.Duration
		wantMoves int
	}{
		{
			name:  "the first arrival sets the schedule playGuard after it",
			first: arrivals(3*ms, 1), then: arrivals(23*ms, 20),
			wantOn: true, steady: 3 * ms, wantAfter: playGuard,
		},
		{
			name:  "small jitter within the slack does not move it",
			first: arrivals(3*ms, 1), then: arrivals(23*ms, 10, 300*time.Microsecond, -time.Millisecond, 200*time.Microsecond),
			wantOn: true, steady: 3 * ms, wantAfter: playGuard,
		},
		{
			name:  "arrivals 3 ms later: the schedule follows them",
			first: arrivals(3*ms, 1), then: arrivals(26*ms, 10),
			wantOn: true, steady: 6 * ms, wantAfter: playGuard, wantMoves: 1,
		},
		{
			name:  "arrivals 5 ms earlier: the schedule follows them",
			first: arrivals(8*ms, 1), then: arrivals(23*ms, 10),
			wantOn: true, steady: 3 * ms, wantAfter: playGuard, wantMoves: 1,
		},
		{
			name:  "arrivals just after a tick of the old schedule (the wrap): it follows",
			first: arrivals(18*ms, 1), then: arrivals(40*ms, 10),
			wantOn: true, steady: 0, wantAfter: playGuard, wantMoves: 1,
		},
		{
			name:  "one late packet in a window does not move it",
			first: arrivals(3*ms, 1), then: arrivals(23*ms, 10, 0, 0, 0, 8*ms),
			wantOn: true, steady: 3 * ms, wantAfter: playGuard,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var p playPhase
			moves := -1 // the first set is not a move
			for _, a := range append(tc.first, tc.then...) {
				if p.observe(at(a), at(a+ms)) {
					moves++
				}
			}
			if p.on != tc.wantOn {
				t.Fatalf("on = %v", p.on)
			}
			if moves != tc.wantMoves {
				t.Errorf("moves = %d, want %d", moves, tc.wantMoves)
			}
			// A packet arriving on the steady phase, far later.
			arr := at(tc.steady + 1000*20*ms)
			if got := p.after(arr).Sub(arr); got != tc.wantAfter {
				t.Errorf("next tick %v after an arrival, want %v", got, tc.wantAfter)
			}
		})
	}
}

func TestPlayPhaseStale(t *testing.T) {
	var p playPhase
	base := time.Now()
	p.observe(base, base)
	if !p.on {
		t.Fatal("not on after an arrival")
	}
	if p.observe(base, base.Add(playStale+time.Millisecond)); p.on {
		t.Error("still on after the stream went quiet")
	}
	if p.observe(time.Time{}, base); p.on {
		t.Error("on without arrivals")
	}
	if !p.observe(base.Add(time.Second), base.Add(time.Second)) || !p.on {
		t.Error("not set again when packets come back")
	}
}

func TestPlayPhaseNext(t *testing.T) {
	ms := time.Millisecond
	base := time.Unix(100, 0)
	p := playPhase{on: true, at: base.Add(5 * ms)}
	for _, tc := range []struct{ t, want time.Duration }{
		{0, 5 * ms},
		{5 * ms, 25 * ms},
		{-time.Hour, -time.Hour + 5*ms},
		{time.Hour + 4*ms, time.Hour + 5*ms},
	} {
		if got := p.after(base.Add(tc.t)).Sub(base); got != tc.want {
			t.Errorf("after(%v) = %v, want %v", tc.t, got, tc.want)
		}
	}
	// next: the first tick more than half a frame after the last played.
	for _, tc := range []struct {
		name     string
		at, last time.Duration // the schedule's phase, the last tick played
		want     time.Duration // the next tick
	}{
		{"steady", 5 * ms, 5 * ms, 25 * ms},
		{"moved 1 ms later: not 1 ms after the last", 6 * ms, 5 * ms, 26 * ms},
		{"moved 8 ms earlier", -3 * ms, 5 * ms, 17 * ms},
		{"moved 12 ms earlier: that tick would come 8 ms after the last", -7 * ms, 5 * ms, 33 * ms},
		{"from a send tick 3 ms before the new phase", 8 * ms, 5 * ms, 28 * ms},
		{"from a send tick 12 ms before the new phase", 17 * ms, 5 * ms, 17 * ms},
	} {
		p := playPhase{on: true, at: base.Add(tc.at)}
		got := p.next(base.Add(tc.last)).Sub(base)
		if got != tc.want {
			t.Errorf("%s: next = %v, want %v", tc.name, got, tc.want)
		}
		if gap := got - tc.last; gap <= 10*ms || gap > 30*ms {
			t.Errorf("%s: ticks %v apart, want (10 ms, 30 ms]", tc.name, gap)
		}
	}
}

// deviceCapture is a captureSink that says it plays on a device, and
// records when each frame was written and when the engine said a tick
// played out.
type deviceCapture struct {
	captureSink
	tmu    sync.Mutex
	times  []time.Time
	played []time.Time
}

func (d *deviceCapture) OnDevice() bool { return true }

func (d *deviceCapture) Played() {
	d.tmu.Lock()
	d.played = append(d.played, time.Now())
	d.tmu.Unlock()
}

func (d *deviceCapture) WriteFrame(src []int16) error {
	d.tmu.Lock()
	d.times = append(d.times, time.Now())
	d.tmu.Unlock()
	return d.captureSink.WriteFrame(src)
}

// stampedSource is a toneSource that records when each frame was read
// (sent).
type stampedSource struct {
	toneSource
	tmu   sync.Mutex
	times []time.Time
}

func (s *stampedSource) ReadFrame(dst []int16) error {
	s.tmu.Lock()
	s.times = append(s.times, time.Now())
	s.tmu.Unlock()
	return s.toneSource.ReadFrame(dst)
}

// TestPlaySchedule: a stream whose sink is on a device plays each frame
// just after it arrives (on the engine's play schedule), not at the next
// send tick, which comes anywhere up to 20 ms later; the audio is intact.
func TestPlaySchedule(t *testing.T) {
	src := &stampedSource{toneSource: toneSource{freq: 1000, amp: 8000}}
	a := newPeer(t, 1000, func(c *StreamConfig) { c.Source = src })
	dev := &deviceCapture{}
	b := newPeer(t, 440, func(c *StreamConfig) { c.Sink = dev })
	b.sink = &dev.captureSink
	connect(a, b)
	waitFor(t, 5*time.Second, "2 s of audio", func() bool { return b.s.Stats().RxPackets > 100 })
	checkTone(t, "b hears a", b, 1000, 8000)
	bs, as := b.e.Stats(), a.e.Stats()
	t.Logf("receiver engine %+v", bs)
	if bs.PlayTicks < 50 || bs.PlayMoves < 1 {
		t.Errorf("receiver engine %+v: want its play schedule running", bs)
	}
	if as.PlayTicks != 0 {
		t.Errorf("sender engine %+v: its sink is not on a device, want no play schedule", as)
	}

	// How long after the frame's send each of the last 40 writes came: the
	// median must be well under a frame (it is about playGuard; a frame
	// played on the next send tick waits 0-20 ms more, by the engines'
	// phases).
	dev.tmu.Lock()
	writes := slices.Clone(dev.times[len(dev.times)-40:])
	allWrites, played := slices.Clone(dev.times), slices.Clone(dev.played)
	dev.tmu.Unlock()
	// Played follows every write, before the next one.
	for i, w := range allWrites[:len(allWrites)-1] {
		j, _ := slices.BinarySearchFunc(played, w, func(a, b time.Time) int { return a.Compare(b) })
		if j == len(played) || !played[j].Before(allWrites[i+1]) {
			t.Fatalf("write %d at %v: no Played before the next write", i, w)
		}
	}
	if len(played) > len(allWrites)+1 {
		t.Errorf("%d Played calls for %d writes", len(played), len(allWrites))
	}
	src.tmu.Lock()
	sends := slices.Clone(src.times)
	src.tmu.Unlock()
	var waits []time.Duration
	for _, w := range writes {
		i, _ := slices.BinarySearchFunc(sends, w, func(a, b time.Time) int { return a.Compare(b) })
		if i > 0 {
			waits = append(waits, w.Sub(sends[i-1]))
		}
	}
	slices.Sort(waits)
	med := waits[len(waits)/2]
	t.Logf("send→play: median %v, min %v, max %v", med, waits[0], waits[len(waits)-1])
	if med > 12*time.Millisecond {
		t.Errorf("send→play median %v: frames wait for a later tick", med)
	}
}

// TestPlayScheduleFollowsTheTalkingCall: a held call on the device (its far
// end sends nothing), started first, does not keep the engine from playing
// the other call's frames just after they arrive.
func TestPlayScheduleFollowsTheTalkingCall(t *testing.T) {
	a := newPeer(t, 1000, nil)
	dev := &deviceCapture{}
	b := newPeer(t, 440, func(c *StreamConfig) { c.Sink = dev })
	b.sink = &dev.captureSink

	// The held call: on b's engine, sinking into the device, started first.
	quiet := listenUDP(t) // a far end that never sends
	rtp, rtcp := listenUDP(t), listenUDP(t)
	held, err := b.e.NewStream(StreamConfig{RTP: rtp, RTCP: rtcp, PayloadType: 0, Codec: "PCMU",
		Source: &toneSource{freq: 300, amp: 8000}, Sink: &deviceCapture{}})
	if err != nil {
		t.Fatal(err)
	}
	held.SetRemote(addrOf(quiet), netip.AddrPort{})
	held.Start()
	defer held.Close()

	connect(a, b)
	waitFor(t, 5*time.Second, "2 s of audio", func() bool { return b.s.Stats().RxPackets > 100 })
	checkTone(t, "b hears a", b, 1000, 8000)
	if bs := b.e.Stats(); bs.PlayTicks < 50 {
		t.Errorf("receiver engine %+v: want its play schedule running for the talking call", bs)
	}
}
