package media

import "time"

// tickCalls are the user callbacks one stream's tick asked for; they run
// after the tick, outside every lock, in order: OnDTMF for each digit of
// the shard's digits[d0:d1] (received in the tick, then an event whose end
// never came), then OnStats.
type tickCalls struct {
	s      *Stream
	stats  bool
	d0, d1 int
}

// minPerShard is the least number of streams worth another worker.
const minPerShard = 128

// shard serves part of the streams in a tick.
type shard struct {
	e      *Engine
	jobs   chan shardJob
	rx     *rxBatch    // receive buffers for the drains of its streams
	calls  []tickCalls // callbacks due after the tick
	digits []rune      // DTMF digits to report after the tick (see tickCalls)
}

type shardJob struct {
	streams []*Stream
	now     time.Time
	skipped int
	part    tickPart
}

// tickPart is what a tick does for each stream: all of it, or, while the
// engine plays out on a schedule of its own (see DeviceSink), only the
// sending or only the playing half.
type tickPart uint8

const (
	partAll  tickPart = iota // drain, send, play out
	partSend                 // send one frame, RTCP, statistics
	partPlay                 // drain and play out one frame
)

// work is a worker goroutine; it ends when the clock goroutine closes jobs.
func (sh *shard) work() {
	defer sh.e.wg.Done()
	for j := range sh.jobs {
		sh.run(j)
		sh.e.shardWG.Done()
	}
}

// run serves its part of a tick. Each stream first takes what its RTP
// socket holds (where the clock drains it, see rxBatch), so that a packet
// that arrived before the tick is played in it, then sends and plays one
// frame.
func (sh *shard) run(j shardJob) {
	for _, s := range j.streams {
		d0 := len(sh.digits)
		var stats bool
		var digit rune
		if j.part != partSend {
			sh.digits = sh.rx.drain(s, sh.digits)
		}
		if j.part != partPlay {
			stats, digit = s.tickSend(j.now, j.skipped)
		}
		if j.part != partSend {
			// After the send: a recorder pairs each received frame with
			// the frame just sent.
			s.tickPlay(j.now)
		}
		if digit != 0 {
			sh.digits = append(sh.digits, digit)
		}
		if stats || len(sh.digits) > d0 {
			sh.calls = append(sh.calls, tickCalls{s: s, stats: stats, d0: d0, d1: len(sh.digits)})
		}
	}
}

// callbacks runs the callbacks the last tick asked for; the caller holds no
// lock.
func (sh *shard) callbacks() {
	for i, c := range sh.calls {
		if c.s.onDTMF != nil {
			for _, d := range sh.digits[c.d0:c.d1] {
				c.s.onDTMF(d)
			}
		}
		if c.stats && c.s.onStats != nil {
			c.s.onStats(c.s.Stats())
		}
		sh.calls[i].s = nil
	}
	sh.calls = sh.calls[:0]
	sh.digits = sh.digits[:0]
}
