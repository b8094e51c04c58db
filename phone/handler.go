package phone

import "time"

// IncomingCall describes a new incoming INVITE, handed to Handler.OnIncomingCall.
type IncomingCall struct {
	Session       SessionID
	Account       string // account whose AOR/contact the request matched, "" if direct
	RemoteURI     string // From URI
	RemoteDisplay string // From display name ("" if none)
	From          string // raw From header value
	To            string // raw To header value
	RequestURI    string
	Subject       string
	SIPCallID     string
	Headers       map[string]string // selected headers by canonical name (User-Agent, Call-Info, Alert-Info …)
	// AllHeaders are every header of the INVITE in order, as on the wire
	// (compact names stay compact), bounded: at most MaxIncomingHeaders,
	// each value cut at MaxHeaderValue bytes. Rules match on them.
	AllHeaders []Header
	SDP        []byte // the offer, nil for an offer-less INVITE
	Received   time.Time
	// Codec, SRTP and Transport are what the call's CallEvents will say
	// (the codec of our answer, "" for an offer-less INVITE), so that the
	// ringing event after the handler's changes nothing a person sees.
	Codec, SRTP, Transport string
}

// Header is one header field of a request: its name as written and its value.
type Header struct {
	Name, Value string
}

// Bounds of IncomingCall.AllHeaders: the values come from the network.
const (
	MaxIncomingHeaders = 100
	MaxHeaderValue     = 1024
)

// DecisionKind is what a Handler decides to do with an incoming call.
type DecisionKind int

// Decision kinds (rvoip CallDecision). The zero value is DecisionDefer, so a
// handler that forgets to decide leaves the call ringing (until a later
// Accept, Reject or Forward, or the ring timeout) and never answers it.
const (
	DecisionDefer   DecisionKind = iota // keep ringing until Accept/Reject/Forward or Timeout
	DecisionAccept                      // answer 200 with an SDP answer
	DecisionReject                      // final 4xx-6xx (Code, Reason)
	DecisionForward                     // 302 with Contact: Target
)

// Decision is the answer of a Handler.
type Decision struct {
	Kind    DecisionKind
	Code    int           // Reject: SIP status (default 486)
	Reason  string        // Reject: reason phrase (default from the code)
	Target  string        // Forward: SIP URI for the Contact of the 302
	Timeout time.Duration // Defer: ring at most this long, then reject 480 (0 = phone default)
}

// Accept answers the call at once.
func Accept() Decision { return Decision{Kind: DecisionAccept} }

// Reject refuses the call with a final status.
func Reject(code int, reason string) Decision {
	return Decision{Kind: DecisionReject, Code: code, Reason: reason}
}

// Defer keeps the call ringing until a later Accept/Reject/Forward or the timeout.
func Defer(timeout time.Duration) Decision { return Decision{Kind: DecisionDefer, Timeout: timeout} }

// Forward redirects the caller with 302 Moved Temporarily to target.
func Forward(target string) Decision { return Decision{Kind: DecisionForward, Target: target} }

// Handler decides what to do with incoming calls. OnIncomingCall runs on the
// INVITE's own goroutine, after the caller heard 180 and before the call's
// first event; it must return quickly (use Defer for slow decisions). A
// phone without a Handler defers every call.
type Handler interface {
	OnIncomingCall(call IncomingCall) Decision
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(call IncomingCall) Decision

// OnIncomingCall implements Handler.
func (f HandlerFunc) OnIncomingCall(call IncomingCall) Decision { return f(call) }
