package phone

import "testing"

func TestCanMove(t *testing.T) {
	cases := []struct {
		from, to State
		want     bool
	}{
		{StateUnknown, StateInitiating, true},   // we dial
		{StateUnknown, StateRinging, true},      // an INVITE rings
		{StateUnknown, StateActive, true},       // an INVITE with Replaces is answered at once
		{StateUnknown, StateCancelled, true},    // the caller gave up while the handler decided
		{StateUnknown, StateTerminating, false}, // no dialog to BYE
		{StateInitiating, StateProceeding, true},
		{StateInitiating, StateRinging, true},
		{StateInitiating, StateActive, true}, // a 200 without a provisional
		{StateInitiating, StateFailed, true},
		{StateProceeding, StateRinging, true},
		{StateRinging, StateProceeding, false}, // a 183 after a 180 keeps ringing
		{StateRinging, StateActive, true},
		{StateRinging, StateCancelled, true},
		{StateRinging, StateTerminating, false},
		{StateActive, StateTransferring, true},
		{StateActive, StateTerminating, true},
		{StateActive, StateTerminated, true}, // remote BYE
		{StateActive, StateCancelled, false}, // an answered call is not cancelled
		{StateActive, StateRinging, false},
		{StateTransferring, StateActive, true}, // the transfer failed: the call is kept
		{StateTransferring, StateTerminating, true},
		{StateTerminating, StateTerminated, true},
		{StateTerminating, StateActive, false},
		{StateTerminated, StateActive, false},
		{StateCancelled, StateTerminated, false},
		{StateFailed, StateFailed, false},
	}
	for _, tc := range cases {
		if got := canMove(tc.from, tc.to); got != tc.want {
			t.Errorf("canMove(%s, %s) = %v, want %v", tc.from, tc.to, got, tc.want)
		}
	}
}

// TestTransitionTableShape: final states have no way out, every other state
// can end, and nothing moves to the state it is in or back to unknown.
func TestTransitionTableShape(t *testing.T) {
	all := []State{StateUnknown, StateInitiating, StateProceeding, StateRinging, StateActive,
		StateTransferring, StateTerminating, StateTerminated, StateCancelled, StateFailed}
	for _, from := range all {
		canEnd := false
		for _, to := range all {
			ok := canMove(from, to)
			if ok && from.Final() {
				t.Errorf("%s is final but may move to %s", from, to)
			}
			if ok && (to == from || to == StateUnknown) {
				t.Errorf("%s may move to %s", from, to)
			}
			canEnd = canEnd || (ok && to.Final())
		}
		if !from.Final() && !canEnd {
			t.Errorf("a call in %s can never end", from)
		}
	}
}
