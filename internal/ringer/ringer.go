// Package ringer is the phone's own sounder. It plays the ring tone while an
// incoming call waits for a person's decision and ringback while an outgoing
// call rings at the far end, following the client core's events (package
// sessions) on one goroutine in the order they were published: a tone never
// outlives the call state that asked for it, however quickly the states
// change. It also makes the keypad's DTMF feedback (Keypad).
package ringer

import (
	"time"

	"github.com/teaphone/teaphone/audio"
	"github.com/teaphone/teaphone/audio/tone"
	"github.com/teaphone/teaphone/sessions"
)

// Player plays tones on an audio device; *device.Hub is one. PlayTone mixes
// src into the device's playback until src ends or stop is called; stop is
// idempotent.
type Player interface {
	PlayTone(src audio.Source) (stop func())
}

// Client is the part of the client core a Ringer follows; *sessions.Manager
// is one.
type Client interface {
	Subscribe() *sessions.Subscription
	Calls() []sessions.CallInfo
}

// Options say where the tones play. A nil Player leaves its tone out.
type Options struct {
	// Ring plays the ring tone: the ring device if there is one, else the
	// sound card.
	Ring Player
	// Ringback plays ringback, with the calls' audio.
	Ringback Player
	// Region selects the ringback cadence ("" is tone.RegionUS).
	Region tone.Region
}

// Ringer plays the tones the calls ask for until Stop: the ring tone while
// an incoming call is pending (not ignored), ringback while an outgoing call
// rings and none is connected.
type Ringer struct {
	sub  *sessions.Subscription
	done chan struct{}
}

// Start subscribes to c's events, then reads its calls (so that no event
// published in between is lost), and from then on plays the tones the calls
// ask for. Stop it when done.
func Start(c Client, o Options) *Ringer {
	sub := c.Subscribe()
	calls := c.Calls()
	r := &Ringer{sub: sub, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		follow(sub.C(), calls, o)
	}()
	return r
}

// Stop ends the subscription, silences the tones and waits for the
// Ringer's goroutine to end. It is idempotent.
func (r *Ringer) Stop() {
	r.sub.Close()
	<-r.done
}

// follow plays the tones calls ask for, then keeps them in step with every
// call event until events is closed; it silences them before it returns.
func follow(events <-chan sessions.Event, calls []sessions.CallInfo, o Options) {
	known := make(map[sessions.CallID]sessions.CallInfo, len(calls))
	for _, c := range calls {
		track(known, c)
	}
	var p playing
	defer p.stop()
	p.set(wantFor(known), o)
	for ev := range events {
		if ce, ok := ev.(sessions.CallEvent); ok {
			track(known, ce.Call)
			p.set(wantFor(known), o)
		}
	}
}

// track records c in known, or forgets it once it ended.
func track(known map[sessions.CallID]sessions.CallInfo, c sessions.CallInfo) {
	if c.Ended() {
		delete(known, c.ID)
		return
	}
	known[c.ID] = c
}

// playing holds the stop functions of the tones that play (nil: silent).
type playing struct {
	ring, ringback func()
}

// set starts and stops tones to match w.
func (p *playing) set(w want, o Options) {
	p.ring = toggle(p.ring, w.ring, o.Ring, func() audio.Source { return tone.Ring() })
	p.ringback = toggle(p.ringback, w.ringback, o.Ringback, func() audio.Source { return tone.Ringback(o.Region) })
}

func (p *playing) stop() { p.set(want{}, Options{}) }

// toggle starts src on pl when on and not playing, stops it when off and
// playing; it returns the new stop function.
func toggle(stop func(), on bool, pl Player, src func() audio.Source) func() {
	switch {
	case on && stop == nil && pl != nil:
		return pl.PlayTone(src())
	case !on && stop != nil:
		stop()
		return nil
	}
	return stop
}

// keypadTone is how long the local feedback of a DTMF digit plays.
const keypadTone = 120 * time.Millisecond

// Keypad returns the function that plays the local feedback tone of a DTMF
// digit on p (ui.Options.Keypad). Unknown digits play nothing.
func Keypad(p Player) func(digit rune) {
	return func(d rune) {
		if t, err := tone.NewDTMF(d, keypadTone, 0); err == nil {
			p.PlayTone(t) // the tone ends by itself
		}
	}
}
