package ringer

import "github.com/teaphone/teaphone/sessions"

// want is what the calls ask the sounder to play.
type want struct {
	// ring: an incoming call awaits a person's decision (pending and not
	// ignored: Ignore lets it ring on at the far end, silently here).
	ring bool
	// ringback: an outgoing call rings at the far end and no call is
	// connected (the person listens to that one).
	ringback bool
}

// wantFor returns the tones the calls ask for.
func wantFor(calls map[sessions.CallID]sessions.CallInfo) want {
	var w want
	connected := false
	for _, c := range calls {
		if c.Ended() {
			continue
		}
		w.ring = w.ring || (c.Pending && !c.Ignored)
		w.ringback = w.ringback || (c.Direction == sessions.DirectionOutgoing && c.State == sessions.StateRinging)
		connected = connected || c.State == sessions.StateConnected
	}
	w.ringback = w.ringback && !connected
	return w
}
