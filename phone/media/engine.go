package media

import (
	"io"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/teaphone/teaphone/audio"
)

// Defaults.
const (
	// DefaultRTCPInterval is the RFC 3550 §6.2 minimum report interval.
	DefaultRTCPInterval = 5 * time.Second
	// DefaultStatsInterval paces OnStats (a few per second at most).
	DefaultStatsInterval = 500 * time.Millisecond
	// maxLag is how far the clock may fall behind before it skips frames
	// instead of catching up with back-to-back ticks.
	maxLag = 5 * audio.FrameDuration

	// phaseMargin is how long after a device delivers a captured frame the
	// clock aims to tick (see FrameClock): enough for the delivery's own
	// jitter, so a tick does not come before the frame it should send.
	phaseMargin = 4 * time.Millisecond
	// phaseSlack is how far past phaseMargin the tick may drift before the
	// clock moves again.
	phaseSlack = 4 * time.Millisecond
	// phaseWindow is how many ticks the clock watches the device's phase
	// (the least lag counts: a late tick says nothing about the device)
	// before it moves.
	phaseWindow = 10
	// phaseStale is the age beyond which a device's last frame says
	// nothing about its phase (the device stalled or stopped).
	phaseStale = 5 * audio.FrameDuration
)

// FrameClock is implemented by an audio.Source whose frames come from a
// device on its own clock (a sound card's capture). LastFrameAt reports
// when the device delivered its latest frame (false: no phase known).
//
// The engine aligns its clock to the first such source it reads: it ticks
// a few milliseconds after the device delivers, so a captured frame is
// sent as soon as it exists instead of waiting up to a tick for the
// engine. The period stays 20 ms; only the phase moves, in one step when
// the device's phase is first seen (and again if the two clocks drift
// apart), so the streams' playout buffers see one short or long tick.
type FrameClock interface {
	LastFrameAt() (time.Time, bool)
}

// Engine runs the shared 20 ms media clock for any number of streams.
type Engine struct {
	log           *slog.Logger
	now           func() time.Time
	statsInterval time.Duration
	rtcpInterval  time.Duration
	codecs        map[string]CodecInfo
	newPlayout    func(CodecInfo) PlayoutBuffer
	newConcealer  func() Concealer
	workers       int
	minPerShard   int
	rtpReaders    bool // a goroutine per stream reads RTP, even where the clock could drain it

	// mu may be taken with a stream's mu held (Stream.Start), never the
	// other way round.
	mu      sync.Mutex
	active  []*Stream // started, not closed
	streams map[*Stream]struct{}
	closed  bool

	// tickMu is held by the clock goroutine for the duration of a tick, so
	// that Stream.Close can wait for an in-flight tick to finish.
	tickMu   sync.Mutex
	snapshot []*Stream // clock goroutine only
	shards   []*shard  // shards[0] runs on the clock goroutine
	shardWG  sync.WaitGroup

	ticks   atomic.Uint64 // clock ticks run
	skips   atomic.Uint64 // frames skipped because the clock fell behind
	lateMax atomic.Int64  // worst lateness of a tick, ns
	shifts  atomic.Uint64 // phase moves
	// play schedule (see DeviceSink)
	playTicks atomic.Uint64
	playMoves atomic.Uint64
	sawDevice atomic.Bool // a stream's sink was once a DeviceSink
	devs      []*Stream   // deviceArrival's scratch (clock goroutine)

	done      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// NewEngine creates an engine and starts its clock goroutine.
func NewEngine(opts ...EngineOption) *Engine {
	e := &Engine{
		log:           slog.New(slog.NewTextHandler(io.Discard, nil)),
		now:           time.Now,
		statsInterval: DefaultStatsInterval,
		rtcpInterval:  DefaultRTCPInterval,
		codecs:        defaultCodecs(),
		newPlayout:    defaultPlayout,
		newConcealer:  defaultConcealer,
		streams:       make(map[*Stream]struct{}),
		done:          make(chan struct{}),
		workers:       runtime.GOMAXPROCS(0),
		minPerShard:   minPerShard,
	}
	for _, o := range opts {
		o(e)
	}
	e.shards = make([]*shard, e.workers)
	for i := range e.shards {
		e.shards[i] = &shard{e: e, jobs: make(chan shardJob, 1), rx: newRxBatch()}
		if i > 0 {
			e.wg.Add(1)
			go e.shards[i].work()
		}
	}
	e.wg.Add(1)
	go e.run()
	return e
}

// Close closes every stream of the engine, stops the clock goroutine and
// waits for it. It is idempotent.
func (e *Engine) Close() error {
	e.closeOnce.Do(func() {
		e.mu.Lock()
		e.closed = true
		all := make([]*Stream, 0, len(e.streams))
		for s := range e.streams {
			all = append(all, s)
		}
		e.mu.Unlock()
		for _, s := range all {
			_ = s.Close()
		}
		close(e.done)
		e.wg.Wait()
	})
	return nil
}

// run is the clock goroutine: it ticks on the absolute schedule
// start + n·20 ms.
func (e *Engine) run() {
	defer e.wg.Done()
	defer func() {
		for _, sh := range e.shards[1:] {
			close(sh.jobs)
		}
	}()
	start := time.Now()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var n int64
	var ph phase
	var pp playPhase
	var lastPlay time.Time // the last tick that played out
	for {
		n++
		target := start.Add(time.Duration(n) * audio.FrameDuration)
		d := time.Until(target)
		skipped := 0
		if d < -maxLag {
			// Far behind (machine suspended, GC storm): skip the missed
			// frames rather than bursting them.
			miss := int64(-d / audio.FrameDuration)
			n += miss
			skipped = int(miss)
			e.skips.Add(uint64(miss))
			target = start.Add(time.Duration(n) * audio.FrameDuration)
		}
		if pp.on {
			// Play ticks due before this send tick (see DeviceSink).
			for {
				pt := pp.next(lastPlay)
				if !pt.Before(target) {
					break
				}
				if time.Until(pt) < -maxLag {
					lastPlay = time.Now() // far behind: skip the missed ones
					continue
				}
				if !e.sleepUntil(timer, pt) {
					return
				}
				lastPlay = pt
				e.playTicks.Add(1)
				e.tick(max(time.Since(pt), 0), 0, partPlay)
			}
		}
		if !e.sleepUntil(timer, target) {
			return
		}
		if shift := ph.check(e.frameClock()); shift != 0 {
			// Follow the capture device: tick again at the new phase
			// (a shift is never more than a frame later).
			start = start.Add(shift)
			n--
			e.shifts.Add(1)
			ph.shifted = true
			continue
		}
		late := max(time.Since(target), 0)
		if ph.shifted {
			ph.shifted = false // a tick moved is not late
		} else if int64(late) > e.lateMax.Load() {
			e.lateMax.Store(int64(late))
		}
		e.ticks.Add(1)
		if pp.on {
			e.tick(late, skipped, partSend)
		} else {
			e.tick(late, skipped, partAll)
		}
		wasOn := pp.on
		if pp.observe(e.deviceArrival(), time.Now()) {
			e.playMoves.Add(1)
			if !wasOn {
				lastPlay = target // this tick played
			}
		}
	}
}

// sleepUntil waits for t on timer; false when the engine is closing.
func (e *Engine) sleepUntil(timer *time.Timer, t time.Time) bool {
	if d := time.Until(t); d > 0 {
		timer.Reset(d)
		select {
		case <-timer.C:
			return true
		case <-e.done:
			return false
		}
	}
	select {
	case <-e.done:
		return false
	default:
		return true
	}
}

// deviceArrival returns when the latest packet of the first active stream
// that receives into a DeviceSink and had a packet within playStale
// arrived (zero: no such stream). The play schedule follows it (see
// playPhase); a held call, whose far end sends nothing, does not stop it
// for the call that is talking. It assumes the engine's clock (see
// WithNow) is the wall clock. It belongs to the clock goroutine.
func (e *Engine) deviceArrival() time.Time {
	if !e.sawDevice.Load() {
		return time.Time{} // a headless engine: no scan of its streams
	}
	e.mu.Lock()
	devs := e.devs[:0]
	for _, s := range e.active {
		if b := s.dev.Load(); b != nil && b.OnDevice() {
			devs = append(devs, s)
		}
	}
	e.mu.Unlock()
	now := e.now()
	var at time.Time
	for _, s := range devs {
		s.mu.Lock()
		last, ok := s.rx.lastPkt, s.recvOn && s.rx.locked
		s.mu.Unlock()
		if ok && now.Sub(last) <= playStale {
			at = last
			break
		}
	}
	clear(devs)
	e.devs = devs[:0]
	return at
}

// frameClock returns the FrameClock source of the first active stream
// that has one, or nil.
func (e *Engine) frameClock() FrameClock {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, s := range e.active {
		if b := s.clock.Load(); b != nil {
			return b.FrameClock
		}
	}
	return nil
}

// tick serves every active stream once, then runs due callbacks. late is
// how far behind its schedule the tick runs: streams see the scheduled time,
// so ticks that catch up after a stall stay 20 ms apart for the playout
// buffers.
func (e *Engine) tick(late time.Duration, skipped int, part tickPart) {
	e.tickMu.Lock()
	e.mu.Lock()
	e.snapshot = append(e.snapshot[:0], e.active...)
	e.mu.Unlock()
	now := e.now().Add(-late)
	n := len(e.snapshot)
	w := min(len(e.shards), max(n/e.minPerShard, 1))
	chunk := (n + w - 1) / w
	e.shardWG.Add(w - 1)
	for i := 1; i < w; i++ {
		e.shards[i].jobs <- shardJob{streams: e.snapshot[i*chunk : min((i+1)*chunk, n)], now: now, skipped: skipped, part: part}
	}
	e.shards[0].run(shardJob{streams: e.snapshot[:min(chunk, n)], now: now, skipped: skipped, part: part})
	e.shardWG.Wait()
	if part != partSend && e.sawDevice.Load() {
		for _, s := range e.snapshot {
			if b := s.dev.Load(); b != nil {
				b.Played()
			}
		}
	}
	clear(e.snapshot)
	e.tickMu.Unlock()
	for _, sh := range e.shards[:w] {
		sh.callbacks()
	}
}

func (e *Engine) activate(s *Stream) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.active = append(e.active, s)
}

// remove takes s off the clock and waits for an in-flight tick to finish.
func (e *Engine) remove(s *Stream) {
	e.mu.Lock()
	for i, a := range e.active {
		if a == s {
			last := len(e.active) - 1
			e.active[i] = e.active[last]
			e.active[last] = nil
			e.active = e.active[:last]
			break
		}
	}
	delete(e.streams, s)
	e.mu.Unlock()
	e.tickMu.Lock()
	//lint:ignore SA2001 an empty critical section waits for the running tick
	e.tickMu.Unlock()
}

// EngineStats describe the health of the shared clock.
type EngineStats struct {
	Streams int           // started streams on the clock
	Ticks   uint64        // ticks run
	Skipped uint64        // frames skipped because the clock fell > 100 ms behind
	MaxLate time.Duration // worst lateness of a tick against its schedule
	Shifts  uint64        // phase moves to follow a capture device (FrameClock)
	// PlayTicks counts the ticks of the play schedule (ticks that only
	// play out, see DeviceSink); PlayMoves counts the times that schedule
	// was set or moved to follow the arrivals.
	PlayTicks, PlayMoves uint64
}

// Stats returns the clock's figures.
func (e *Engine) Stats() EngineStats {
	e.mu.Lock()
	n := len(e.active)
	e.mu.Unlock()
	return EngineStats{
		Streams: n,
		Ticks:   e.ticks.Load(),
		Skipped: e.skips.Load(),
		MaxLate: time.Duration(e.lateMax.Load()),
		Shifts:  e.shifts.Load(),

		PlayTicks: e.playTicks.Load(),
		PlayMoves: e.playMoves.Load(),
	}
}
