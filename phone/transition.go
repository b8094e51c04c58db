package phone

// The call state machine. Every state change of a call goes through
// setState, which asks canMove; nothing writes call.state directly.
//
//	outgoing: initiating → proceeding → ringing → active
//	incoming: ringing → active (an INVITE with Replaces: straight to active)
//	active ⇄ transferring (a transfer we started fails: back to active)
//	active, transferring → terminating (our BYE is out) → terminated
//
// An unanswered call ends cancelled (CANCEL either side, a rejection, a
// forward) or failed (a 4xx-6xx, a timeout, a transport error). A remote BYE
// may end a call in any state that is not final. Final states are final: the
// first cause wins.

// transitions lists, for each state, the states a call may move to next.
var transitions = map[State][]State{
	StateUnknown:      {StateInitiating, StateRinging, StateActive, StateCancelled, StateFailed},
	StateInitiating:   {StateProceeding, StateRinging, StateActive, StateTerminated, StateCancelled, StateFailed},
	StateProceeding:   {StateRinging, StateActive, StateTerminated, StateCancelled, StateFailed},
	StateRinging:      {StateActive, StateTerminated, StateCancelled, StateFailed},
	StateActive:       {StateTransferring, StateTerminating, StateTerminated},
	StateTransferring: {StateActive, StateTerminating, StateTerminated},
	StateTerminating:  {StateTerminated},
}

// canMove reports whether a call in state from may move to state to.
func canMove(from, to State) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}
