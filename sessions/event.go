package sessions

import "time"

// Event is one item delivered to subscribers. The concrete types are the
// *Event structs in this file; switch on them with a type switch.
type Event interface {
	// EventTime is when the event happened.
	EventTime() time.Time
	// Kind is the event name used by the headless contract: "call",
	// "registration", "dtmf", "media", "transfer", "mwi" or "error".
	Kind() string
}

// CallEvent is published when a call appears and on every change of its
// state, of its held/muted/recording flags, codec, pending/ignored status or
// transfer progress. It is never dropped.
type CallEvent struct {
	Time time.Time
	Call CallInfo // snapshot after the change
	Prev State    // state before the change (StateUnknown for a new call)
}

// RegistrationEvent reports a registration state change of one account.
type RegistrationEvent struct {
	Time    time.Time
	Account string
	State   RegState
	Expires int
	Code    int
	Reason  string
	Server  string // where the REGISTER went (see RegistrationInfo.Server)
	Public  string // our address as the registrar saw it (see RegistrationInfo.Public)
	// TLSUnverified: see RegistrationInfo.TLSUnverified.
	TLSUnverified bool
}

// DTMFEvent reports one DTMF digit sent or received on a call.
type DTMFEvent struct {
	Time     time.Time
	CallID   CallID
	Line     int
	Digit    string // one of 0-9 * # A-D
	Received bool   // true: from the remote; false: we sent it
	Method   string // "rfc4733" or "info"
}

// MediaEvent carries media statistics of one call. Media events are the only
// events that may be coalesced: a subscriber that falls behind gets the
// latest figures per call, not every sample.
type MediaEvent struct {
	Time   time.Time
	CallID CallID
	Line   int
	Stats  MediaStats
}

// TransferEvent reports transfer progress on a call.
type TransferEvent struct {
	Time     time.Time
	CallID   CallID
	Line     int
	Transfer TransferInfo
}

// ErrorEvent reports an error that is not tied to a state change. CallID is
// empty when the error concerns no particular call.
type ErrorEvent struct {
	Time   time.Time
	CallID CallID
	Err    error
}

// MWIEvent reports an account's message-waiting state (RFC 3842): the
// voice messages waiting in its mailbox. Published on every NOTIFY, never
// dropped.
type MWIEvent struct {
	Time                           time.Time
	Account                        string
	Waiting                        bool
	New, Old, UrgentNew, UrgentOld int
	MessageAccount                 string // the voicemail URI, "" if not given
}

// EventTime implements Event.
func (e MWIEvent) EventTime() time.Time { return e.Time }

// Kind implements Event.
func (MWIEvent) Kind() string { return "mwi" }

// EventTime implements Event.
func (e CallEvent) EventTime() time.Time { return e.Time }

// EventTime implements Event.
func (e RegistrationEvent) EventTime() time.Time { return e.Time }

// EventTime implements Event.
func (e DTMFEvent) EventTime() time.Time { return e.Time }

// EventTime implements Event.
func (e MediaEvent) EventTime() time.Time { return e.Time }

// EventTime implements Event.
func (e TransferEvent) EventTime() time.Time { return e.Time }

// EventTime implements Event.
func (e ErrorEvent) EventTime() time.Time { return e.Time }

// Kind implements Event.
func (CallEvent) Kind() string { return "call" }

// Kind implements Event.
func (RegistrationEvent) Kind() string { return "registration" }

// Kind implements Event.
func (DTMFEvent) Kind() string { return "dtmf" }

// Kind implements Event.
func (MediaEvent) Kind() string { return "media" }

// Kind implements Event.
func (TransferEvent) Kind() string { return "transfer" }

// Kind implements Event.
func (ErrorEvent) Kind() string { return "error" }
