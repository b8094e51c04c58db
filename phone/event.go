package phone

import (
	"net/netip"
	"time"
)

// SessionID identifies one SIP session (dialog) inside a Phone. It is minted
// before any SIP message exists, so it is stable for the whole call.
type SessionID string

// Direction says who placed a call.
type Direction int

// Directions.
const (
	DirectionUnknown Direction = iota
	DirectionIncoming
	DirectionOutgoing
)

// String returns "incoming" or "outgoing".
func (d Direction) String() string {
	switch d {
	case DirectionIncoming:
		return "incoming"
	case DirectionOutgoing:
		return "outgoing"
	}
	return "unknown"
}

// State is the session-core state of a call (rvoip session-core shape). Hold
// is not a state: it is carried as the HeldLocal/HeldRemote flags.
type State int

// Session states.
const (
	StateUnknown      State = iota
	StateInitiating         // outgoing INVITE sent, nothing back yet
	StateProceeding         // outgoing: 100/183 without ringing; incoming: being transferred
	StateRinging            // outgoing: 180 received; incoming: we answered 180
	StateActive             // 2xx exchanged (ACK sent or received)
	StateTransferring       // a transfer we started is in progress
	StateTerminating        // BYE/CANCEL sent, waiting for the answer
	StateTerminated         // ended normally (BYE either side)
	StateCancelled          // ended before answer by CANCEL (either side) or by a Reject
	StateFailed             // ended before answer by a 4xx-6xx, a timeout or a transport error
)

var stateNames = [...]string{"unknown", "initiating", "proceeding", "ringing", "active", "transferring", "terminating", "terminated", "cancelled", "failed"}

// String returns the lower-case name of the state.
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "unknown"
}

// early reports whether the call is not answered yet (no confirmed dialog).
func (s State) early() bool {
	return s == StateInitiating || s == StateProceeding || s == StateRinging
}

// Final reports whether no further state can follow.
func (s State) Final() bool {
	return s == StateTerminated || s == StateCancelled || s == StateFailed
}

// RegState is the registration state of one account.
type RegState int

// Registration states.
const (
	RegUnknown RegState = iota
	RegRegistering
	RegRegistered
	RegFailed
	RegUnregistered
)

var regNames = [...]string{"unknown", "registering", "registered", "failed", "unregistered"}

// String returns the lower-case name used in events.
func (s RegState) String() string {
	if int(s) < len(regNames) {
		return regNames[s]
	}
	return "unknown"
}

// Event is one item of the Phone's lossless event stream. The concrete types
// are the *Event structs below.
type Event interface {
	EventTime() time.Time
}

// RegistrationEvent reports a registration state change of one account.
type RegistrationEvent struct {
	Time    time.Time
	Account string
	State   RegState
	Expires int    // seconds granted by the registrar (registered only)
	Code    int    // last SIP status code, 0 if none (e.g. transport error)
	Reason  string // human reason for failed
	// Server is where the last REGISTER went, as "UDP 192.0.2.1:5060
	// (sip1.example.com)": with a registrar given by name it changes when
	// one server fails and the next is tried. "" before the first REGISTER.
	Server string
	// Public is our address and port as the registrar saw our REGISTER
	// come from (the received and rport of its 2xx's Via, RFC 3581 §4):
	// behind a NAT, the NAT's public side. Registered only; invalid when
	// the registrar did not say.
	Public netip.AddrPort
	// TLSUnverified says the registration went over TLS without checking
	// the server's certificate (TLSOptions.NoVerify): encrypted, but to
	// whoever answered.
	TLSUnverified bool
}

// CallEvent reports a state change (or a change of hold flags, codec …) of one session.
type CallEvent struct {
	Time          time.Time
	Session       SessionID
	Direction     Direction
	State         State
	Account       string // account name used, "" for direct calls
	RemoteURI     string // remote party URI (From for incoming, To/target for outgoing)
	RemoteDisplay string // display name of the remote party, "" if none
	Subject       string
	SIPCallID     string
	HeldLocal     bool // we put the call on hold
	HeldRemote    bool // the remote party put us on hold
	Muted         bool
	Codec         string // negotiated codec, "" before negotiation
	// SRTP is the suite protecting the media ("AES_CM_128_HMAC_SHA1_80",
	// "AES_CM_128_HMAC_SHA1_80 (DTLS)" when a DTLS handshake keyed it),
	// SRTPHandshaking while a DTLS-SRTP call's media waits for the
	// handshake (nothing is sent then), "" for plain RTP. Keys are never
	// in events.
	SRTP      string
	Transport string // signalling transport to the first hop: "UDP", "TCP" or "TLS"
	Code      int    // SIP status code that caused this state (e.g. 486, 200 for BYE), 0 if none
	Reason    string // human-readable cause ("remote hangup", "Busy Here", …)
	// ReplacedBy is set when this session ended because another session replaced it
	// (attended transfer, RFC 3891).
	ReplacedBy SessionID
}

// DTMFEvent reports one DTMF digit sent or received.
type DTMFEvent struct {
	Time     time.Time
	Session  SessionID
	Digit    rune   // 0-9 * # A-D
	Received bool   // true: from the remote; false: we sent it
	Method   string // "rfc4733" or "info"
}

// SRTPHandshaking is CallEvent.SRTP of a DTLS-SRTP call whose media
// waits for the handshake's keys (RFC 5764 §4.1.2: nothing is sent
// before them), after the answer and again during a new association.
const SRTPHandshaking = "DTLS (handshaking)"

// MediaStats are per-call RTP/RTCP figures.
type MediaStats struct {
	Codec       string
	RxPackets   uint64
	TxPackets   uint64
	RxBytes     uint64
	TxBytes     uint64
	Lost        int64   // cumulative packets lost (RFC 3550 A.3)
	LossPct     float64 // cumulative loss in percent
	JitterMs    float64 // interarrival jitter (RFC 3550 A.8)
	RTTMs       float64 // from RTCP LSR/DLSR, 0 when unknown
	MOS         float64 // E-model estimate, 0 before enough data
	Dropped     uint64  // garbage/foreign packets dropped
	JitterDelay float64 // current jitter buffer delay in ms
	RemoteAddr  string
	RTCPMux     bool // RTCP multiplexed on the RTP port (RFC 5761)
	// SRTP is the suite protecting the media, with " (DTLS)" when a
	// DTLS handshake keyed it (as CallEvent's), "" for plain RTP and
	// before the DTLS keys.
	SRTP string
	// DroppedSRTP counts packets that failed SRTP authentication or the
	// replay check (forged, corrupted, replayed, another key).
	DroppedSRTP uint64
}

// MediaEvent carries coalesced media statistics (a few per second at most).
type MediaEvent struct {
	Time    time.Time
	Session SessionID
	Stats   MediaStats
}

// TransferEvent reports transfer progress (RFC 3515 NOTIFY sipfrag) for a
// transfer we started (Outgoing true) or one we are executing (Outgoing false).
type TransferEvent struct {
	Time     time.Time
	Session  SessionID
	Target   string
	Outgoing bool
	Code     int // sipfrag status (100, 180, 200, 486 …), 0 for "requested"
	Reason   string
	Final    bool
	// NewSession is the session created by executing a transfer we received.
	NewSession SessionID
	// Asking is set on the event of a transfer request that waits for the
	// user (TransferAsk): answer it with AnswerTransfer before Deadline.
	Asking   bool
	Deadline time.Time
}

// ErrorEvent reports an error that is not tied to a state change.
type ErrorEvent struct {
	Time    time.Time
	Session SessionID // may be empty
	Err     error
}

// EventTime implements Event.
func (e RegistrationEvent) EventTime() time.Time { return e.Time }

// EventTime implements Event.
func (e CallEvent) EventTime() time.Time { return e.Time }

// EventTime implements Event.
func (e DTMFEvent) EventTime() time.Time { return e.Time }

// EventTime implements Event.
func (e MediaEvent) EventTime() time.Time { return e.Time }

// EventTime implements Event.
func (e TransferEvent) EventTime() time.Time { return e.Time }

// EventTime implements Event.
func (e ErrorEvent) EventTime() time.Time { return e.Time }
