package sessions

import (
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/teaphone/teaphone/phone"
)

// SRTPHandshaking is CallInfo.SRTP of a DTLS-SRTP call whose media
// waits for the handshake's keys: nothing is sent meanwhile.
const SRTPHandshaking = phone.SRTPHandshaking

// CallID is the stable, user-facing identity of a call: a UUID v4 string. It
// is minted as soon as the call exists (before any SIP message for outgoing
// calls) and appears in every event and command.
type CallID string

func newCallID() CallID { return CallID(uuid.NewString()) }

// Re-exported session-core types, so the UI and headless modes need not import phone.
type (
	// SessionID is the session core's identity of a SIP dialog.
	SessionID = phone.SessionID
	// MediaStats are per-call RTP/RTCP figures.
	MediaStats = phone.MediaStats
	// DialOptions tune one outgoing call (account, Subject, extra headers).
	DialOptions = phone.DialOptions
	// IncomingCall is the full description of an incoming INVITE (headers, SDP).
	IncomingCall = phone.IncomingCall
	// RegState is the registration state of one account.
	RegState = phone.RegState
)

// Registration states (re-exported from phone).
const (
	RegUnknown      = phone.RegUnknown
	RegRegistering  = phone.RegRegistering
	RegRegistered   = phone.RegRegistered
	RegFailed       = phone.RegFailed
	RegUnregistered = phone.RegUnregistered
)

// CallInfo is a snapshot of one call. It is kept after the call ends, for
// History. All fields are values: a CallInfo can be kept and shared freely.
type CallInfo struct {
	ID            CallID    `json:"call_id"`
	Line          int       `json:"line"` // small number for people, ≥ 1, reused after the call ends
	SessionID     SessionID `json:"-"`    // "" while an outgoing dial is in flight
	Direction     Direction `json:"direction"`
	State         State     `json:"state"`
	Account       string    `json:"account,omitempty"`
	RemoteURI     string    `json:"remote"`
	RemoteDisplay string    `json:"display_name,omitempty"` // sanitized: no control characters
	Subject       string    `json:"subject,omitempty"`
	SIPCallID     string    `json:"sip_call_id,omitempty"`
	Codec         string    `json:"codec,omitempty"`
	// SRTP is the suite protecting the media ("AES_CM_128_HMAC_SHA1_80",
	// "AES_CM_128_HMAC_SHA1_80 (DTLS)" when a DTLS handshake keyed it),
	// SRTPHandshaking while a DTLS-SRTP call's media waits for its keys,
	// "" for plain RTP.
	SRTP       string `json:"srtp"`
	Transport  string `json:"transport,omitempty"` // signalling: "UDP", "TCP" or "TLS"
	HeldLocal  bool   `json:"held_local"`          // we put the call on hold
	HeldRemote bool   `json:"held_remote"`         // the remote put us on hold
	Muted      bool   `json:"muted"`
	Recording  bool   `json:"recording"`

	// Pending is true while an incoming call awaits Accept/Reject/Forward.
	Pending bool `json:"pending,omitempty"`
	// Ignored is true after Ignore: the call keeps ringing without a prompt.
	Ignored bool `json:"ignored,omitempty"`
	// Decision tells how an incoming call was handled: "defer", "ignore",
	// "accept", "accept after 2s", "reject 486", "forward sip:…", and for
	// decisions taken later by a person: "accepted", "rejected 603", "forwarded sip:…".
	Decision string `json:"decision,omitempty"`
	// Rule names what decided an incoming call: the rule ("rules[2]",
	// counting from 0 as configuration errors do) or "default".
	Rule string `json:"rule,omitempty"`
	// RuleWhy says why: the rule's conditions ("from \"sip:alice@*\"",
	// "every call") with its configuration line, or "no rule matched".
	RuleWhy string `json:"rule_why,omitempty"`
	// Declined is true for an incoming call we refused or sent on (a rule,
	// a person, a hangup while it rang): not a missed call.
	Declined bool `json:"declined,omitempty"`

	CreatedAt   time.Time `json:"created_at,omitzero"`
	RingingAt   time.Time `json:"ringing_at,omitzero"`
	ConnectedAt time.Time `json:"connected_at,omitzero"`
	EndedAt     time.Time `json:"ended_at,omitzero"`
	EndReason   string    `json:"reason,omitempty"`
	EndCode     int       `json:"code,omitempty"`

	// Stats are the latest media statistics.
	Stats MediaStats `json:"-"`
	// Transfer is the progress of the latest transfer of this call (zero if none).
	Transfer TransferInfo `json:"-"`
	// ReplacedBy is set when this call ended because another call replaced it
	// (attended transfer, RFC 3891).
	ReplacedBy CallID `json:"replaced_by,omitempty"`
	// TransferredFrom is set on a call the session core placed itself while
	// executing a transfer request received on that call.
	TransferredFrom CallID `json:"transferred_from,omitempty"`
}

// Held reports whether the call is on hold either way.
func (c CallInfo) Held() bool { return c.HeldLocal || c.HeldRemote }

// Ended reports whether the call is over.
func (c CallInfo) Ended() bool { return c.State.Final() }

// Missed reports whether the call is a missed call: incoming, ended without
// being answered, and not Declined. The call history, the TUI's
// missed-calls badge and Stats count these alike.
func (c CallInfo) Missed() bool {
	return c.Direction == DirectionIncoming && c.Ended() && c.ConnectedAt.IsZero() && !c.Declined
}

// EndCause says how the call ended, for a person: "486 Busy Here",
// "remote hangup", else its state ("cancelled").
func (c CallInfo) EndCause() string {
	switch {
	case c.EndCode != 0 && c.EndReason != "":
		return strconv.Itoa(c.EndCode) + " " + c.EndReason
	case c.EndCode != 0:
		return strconv.Itoa(c.EndCode)
	case c.EndReason != "":
		return c.EndReason
	}
	return c.State.String()
}

// Peer returns the display name if there is one, else the remote URI.
func (c CallInfo) Peer() string {
	if c.RemoteDisplay != "" {
		return c.RemoteDisplay
	}
	return c.RemoteURI
}

// Duration is the connected time of the call at now (up to EndedAt once the
// call ended), 0 if it never connected.
func (c CallInfo) Duration(now time.Time) time.Duration {
	if c.ConnectedAt.IsZero() {
		return 0
	}
	end := now
	if !c.EndedAt.IsZero() {
		end = c.EndedAt
	}
	if end.Before(c.ConnectedAt) {
		return 0
	}
	return end.Sub(c.ConnectedAt)
}

// TransferInfo is the progress of a transfer (RFC 3515 NOTIFY sipfrag).
type TransferInfo struct {
	Target   string
	Outgoing bool // true: we asked the remote to transfer; false: we execute the remote's request
	Code     int  // sipfrag status (100, 180, 200, 486 …), 0 for "requested"
	Reason   string
	Final    bool
	// NewCallID is the call created by executing a transfer we received.
	NewCallID CallID
	// Asking is set while the remote's transfer request waits for the
	// user (AnswerTransfer) until Deadline, when it is refused.
	Asking   bool
	Deadline time.Time
}

// Active reports whether a transfer has started and not reached a final status.
func (t TransferInfo) Active() bool { return t.Target != "" && !t.Final }

// RegistrationInfo is the latest registration state of one account.
type RegistrationInfo struct {
	Account string
	State   RegState
	Expires int    // seconds granted by the registrar
	Code    int    // last SIP status code, 0 if none
	Reason  string // human reason when failed
	// Server is where the last REGISTER went ("UDP 192.0.2.1:5060
	// (sip1.example.com)"), "" before the first.
	Server string
	// Public is our address and port as the registrar saw the REGISTER
	// come (its Via received/rport, RFC 3581), "" when unknown: behind a
	// NAT, the router's public side.
	Public string
	// TLSUnverified: registered over TLS without checking the server's
	// certificate (tls.verify = false).
	TLSUnverified bool
	Updated       time.Time
}

// Stats are the Manager's call counters. They never underflow: a call that
// connected is counted in Active until it ends, exactly once, however it ends
// (local hangup, remote BYE, network failure, replacement).
type Stats struct {
	Total    uint64 // calls ever seen
	Incoming uint64 // incoming calls ever seen
	Outgoing uint64 // outgoing calls ever seen
	Active   uint64 // calls connected now (answered and not yet ended)
	Pending  uint64 // incoming calls awaiting a decision now
	Failed   uint64 // outgoing calls that ended in Failed (including dial errors)
	Missed   uint64 // incoming calls that ended unanswered and were not declined by us
	Declined uint64 // incoming calls we rejected or forwarded (rules or a person)
}
