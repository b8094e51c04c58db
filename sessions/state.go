package sessions

import (
	"fmt"

	"github.com/teaphone/teaphone/phone"
)

// State is the client-facing state of a call. Hold is not a state: see
// CallInfo.HeldLocal and CallInfo.HeldRemote.
type State int

// Client call states: the "state" of call events in the headless modes
// (README.md, Headless modes) and of the TUI's call list; the set follows
// the client-core of the rvoip project.
const (
	// StateUnknown is the zero value; no call is ever published in it.
	StateUnknown State = iota
	// StateInitiating: an outgoing INVITE is (about to be) sent, nothing back yet.
	StateInitiating
	// StateRinging: the remote is alerting (outgoing 180) or an incoming call
	// is ringing here, awaiting a decision or an answer.
	StateRinging
	// StateConnected: the call is answered. It stays Connected while held;
	// check HeldLocal / HeldRemote.
	StateConnected
	// StateProceeding: an outgoing call got 100/183 without ringing, or a
	// transfer of this call is in progress (see CallInfo.Transfer).
	StateProceeding
	// StateTerminating: BYE or CANCEL sent, waiting for the answer.
	StateTerminating
	// StateTerminated: the call ended normally (BYE from either side).
	StateTerminated
	// StateCancelled: the call ended before answer by CANCEL or a rejection.
	StateCancelled
	// StateFailed: the call ended before answer by a 4xx-6xx, a timeout or a
	// transport error.
	StateFailed
)

var stateNames = [...]string{
	StateUnknown:     "unknown",
	StateInitiating:  "initiating",
	StateRinging:     "ringing",
	StateConnected:   "connected",
	StateProceeding:  "proceeding",
	StateTerminating: "terminating",
	StateTerminated:  "terminated",
	StateCancelled:   "cancelled",
	StateFailed:      "failed",
}

// String returns the lower-case name used in events ("connected", …).
func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "unknown"
}

// Final reports whether the call is over (Terminated, Cancelled or Failed).
func (s State) Final() bool {
	return s == StateTerminated || s == StateCancelled || s == StateFailed
}

// MarshalText implements encoding.TextMarshaler, so JSON carries the name.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *State) UnmarshalText(b []byte) error {
	v, err := ParseState(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// ParseState returns the State named s (as printed by String). "unknown" is
// not accepted.
func ParseState(s string) (State, error) {
	for i, n := range stateNames {
		if i != int(StateUnknown) && n == s {
			return State(i), nil
		}
	}
	return StateUnknown, fmt.Errorf("unknown call state %q", s)
}

// MapState maps a session-core state to the client state (rvoip client-core
// table). Active becomes Connected; Transferring becomes Proceeding (the
// transfer's progress is in CallInfo.Transfer). Hold never changes the state.
func MapState(s phone.State) State {
	switch s {
	case phone.StateInitiating:
		return StateInitiating
	case phone.StateProceeding:
		return StateProceeding
	case phone.StateRinging:
		return StateRinging
	case phone.StateActive:
		return StateConnected
	case phone.StateTransferring:
		return StateProceeding
	case phone.StateTerminating:
		return StateTerminating
	case phone.StateTerminated:
		return StateTerminated
	case phone.StateCancelled:
		return StateCancelled
	case phone.StateFailed:
		return StateFailed
	}
	return StateUnknown
}

// Direction says who placed a call: "incoming" or "outgoing".
type Direction string

// Directions.
const (
	DirectionIncoming Direction = "incoming"
	DirectionOutgoing Direction = "outgoing"
)

func mapDirection(d phone.Direction) Direction {
	switch d {
	case phone.DirectionIncoming:
		return DirectionIncoming
	case phone.DirectionOutgoing:
		return DirectionOutgoing
	}
	return ""
}
