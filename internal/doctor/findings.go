package doctor

import (
	"net/netip"
	"time"
)

// Findings are the facts Run gathered; a zero part was not checked.
type Findings struct {
	Account string `json:"account"`
	// Err is a failure before anything could be checked (bad account,
	// a socket that cannot be bound, a phone that does not start).
	Err     string     `json:"error,omitempty"`
	Resolve Resolution `json:"resolve"`
	// Local is our SIP address (the listener's).
	Local netip.AddrPort `json:"local"`
	// STUNServer is nat.stun_server, "" when not set.
	STUNServer string `json:"stun_server,omitempty"`
	// SIPMapping and RTPMapping are what STUN saw of the SIP port and of
	// one RTP port, asked before the phone started.
	SIPMapping Mapping      `json:"sip_mapping"`
	RTPMapping Mapping      `json:"rtp_mapping"`
	Register   Registration `json:"register"`
	// Reach is a request to our AOR through the provider right after
	// registering; ReachIdle the same after Idle without calls.
	Reach     Probe         `json:"reach"`
	Idle      time.Duration `json:"idle_ns"`
	ReachIdle Probe         `json:"reach_after_idle"`
	// ContactRewrite and KeepAlive are the account's nat settings.
	ContactRewrite bool          `json:"contact_rewrite"`
	KeepAlive      time.Duration `json:"keepalive_ns"`
}

// Resolution is where the account's requests go (RFC 3263).
type Resolution struct {
	Host    string   `json:"host"`              // the outbound proxy's or registrar's host
	Literal bool     `json:"literal,omitempty"` // Host is an IP address: no DNS
	Targets []string `json:"targets,omitempty"` // "UDP 192.0.2.1:5060 (sip.example.com)", in order
	Err     string   `json:"error,omitempty"`
}

// Mapping is one STUN Binding exchange (RFC 5389) from a local port.
type Mapping struct {
	Local  netip.AddrPort `json:"local"`
	Public netip.AddrPort `json:"public"` // invalid when no answer
	Err    string         `json:"error,omitempty"`
}

// Asked reports whether the exchange was tried.
func (m Mapping) Asked() bool { return m.Public.IsValid() || m.Err != "" }

// Registration is the outcome of the first REGISTER.
type Registration struct {
	Done   bool           `json:"done"` // a final outcome came (else Err says why not)
	OK     bool           `json:"ok"`
	Server string         `json:"server,omitempty"`
	Public netip.AddrPort `json:"public"` // where the registrar saw us (Via received/rport)
	Code   int            `json:"code,omitempty"`
	Reason string         `json:"reason,omitempty"`
	Err    string         `json:"error,omitempty"`
}

// Probe is one OPTIONS to our own AOR through the provider.
type Probe struct {
	Asked   bool   `json:"asked"`
	Arrived bool   `json:"arrived"`
	Code    int    `json:"code,omitempty"`
	Reason  string `json:"reason,omitempty"`
	Err     string `json:"error,omitempty"` // could not be sent
}
