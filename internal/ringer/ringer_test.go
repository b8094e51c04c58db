package ringer

import (
	"sync"
	"testing"
	"time"

	"github.com/teaphone/teaphone/audio"
	"github.com/teaphone/teaphone/sessions"
)

// fakePlayer counts the tones it was asked to play and those still playing.
type fakePlayer struct {
	mu             sync.Mutex
	started, alive int
}

func (p *fakePlayer) PlayTone(audio.Source) func() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.started++
	p.alive++
	return sync.OnceFunc(func() {
		p.mu.Lock()
		p.alive--
		p.mu.Unlock()
	})
}

func (p *fakePlayer) counts() (started, alive int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.started, p.alive
}

// rig runs follow on a channel it feeds one event at a time.
type rig struct {
	t              *testing.T
	ring, ringback *fakePlayer
	events         chan sessions.Event
	done           chan struct{}
}

func newRig(t *testing.T, calls ...sessions.CallInfo) *rig {
	r := &rig{t: t, ring: &fakePlayer{}, ringback: &fakePlayer{}, events: make(chan sessions.Event), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		follow(r.events, calls, Options{Ring: r.ring, Ringback: r.ringback})
	}()
	t.Cleanup(r.close)
	return r
}

// send delivers the calls' events in order, and returns once follow has
// acted on the last one (it took a further event: the channel is unbuffered).
func (r *rig) send(calls ...sessions.CallInfo) {
	for _, c := range calls {
		r.events <- sessions.CallEvent{Time: time.Now(), Call: c}
	}
	r.events <- sessions.ErrorEvent{Time: time.Now()} // not a call event: ignored
}

func (r *rig) close() {
	select {
	case <-r.done:
		return
	default:
	}
	close(r.events)
	<-r.done
}

// expect checks how often each tone started and whether it plays now.
func (r *rig) expect(what string, ringStarts, ringAlive, backStarts, backAlive int) {
	r.t.Helper()
	rs, ra := r.ring.counts()
	bs, ba := r.ringback.counts()
	if rs != ringStarts || ra != ringAlive || bs != backStarts || ba != backAlive {
		r.t.Errorf("%s: ring started %d playing %d, ringback started %d playing %d; want %d %d, %d %d",
			what, rs, ra, bs, ba, ringStarts, ringAlive, backStarts, backAlive)
	}
}

var (
	ringing = sessions.CallInfo{ID: "in-1", Line: 1, Direction: sessions.DirectionIncoming, State: sessions.StateRinging, Pending: true}
	dialing = sessions.CallInfo{ID: "out-1", Line: 2, Direction: sessions.DirectionOutgoing, State: sessions.StateInitiating}
)

func with(c sessions.CallInfo, change func(*sessions.CallInfo)) sessions.CallInfo {
	change(&c)
	return c
}

// TestRingStopsWhenTheCallerGivesUpAtOnce: the ring tone's start and stop
// follow the call's states in order however fast they come, so a caller
// who hangs up at once never leaves the phone ringing.
func TestRingStopsWhenTheCallerGivesUpAtOnce(t *testing.T) {
	r := newRig(t)
	for i := range 100 {
		r.send(ringing, with(ringing, func(c *sessions.CallInfo) { c.Pending, c.State = false, sessions.StateCancelled }))
		r.expect("after ringing then cancelled", i+1, 0, 0, 0)
	}
}

func TestRingFollowsTheDecision(t *testing.T) {
	r := newRig(t)
	r.send(ringing)
	r.expect("ringing", 1, 1, 0, 0)
	r.send(with(ringing, func(c *sessions.CallInfo) { c.Ignored = true }))
	r.expect("ignored", 1, 0, 0, 0)
	r.send(with(ringing, func(c *sessions.CallInfo) { c.Ignored, c.Pending, c.State = false, false, sessions.StateConnected }))
	r.expect("answered", 1, 0, 0, 0)
}

func TestRingbackUntilAnswered(t *testing.T) {
	r := newRig(t)
	r.send(dialing)
	r.expect("dialing", 0, 0, 0, 0)
	r.send(with(dialing, func(c *sessions.CallInfo) { c.State = sessions.StateRinging }))
	r.expect("ringing at the far end", 0, 0, 1, 1)
	r.send(with(dialing, func(c *sessions.CallInfo) { c.State = sessions.StateConnected }))
	r.expect("answered", 0, 0, 1, 0)
}

// TestCallsBeforeTheFirstEventRing: a call pending when the Ringer starts
// rings before any event arrives, and every tone stops when the event
// stream ends.
func TestCallsBeforeTheFirstEventRing(t *testing.T) {
	r := newRig(t, ringing)
	r.send()
	r.expect("pending at start", 1, 1, 0, 0)
	r.close()
	r.expect("after the stream ended", 1, 0, 0, 0)
}

// TestStartStop: Start subscribes to the client core, Stop ends it and
// waits; Stop is idempotent and fine after the client core closed.
func TestStartStop(t *testing.T) {
	mgr := sessions.New()
	r := Start(mgr, Options{Ring: &fakePlayer{}, Ringback: &fakePlayer{}})
	r.Stop()
	r.Stop()

	r = Start(mgr, Options{})
	_ = mgr.Close()
	r.Stop()
}

func TestKeypad(t *testing.T) {
	p := &fakePlayer{}
	play := Keypad(p)
	play('5')
	play('x') // not a DTMF digit
	if started, _ := p.counts(); started != 1 {
		t.Errorf("keypad tones started %d, want 1", started)
	}
}
