package phone

import (
	"crypto/x509"
	"log/slog"
	"time"

	"github.com/teaphone/teaphone/audio"
)

// AudioProvider supplies a new call's default audio: 20 ms frames at rate
// Hz, the negotiated codec's audio rate (8000, 16000 for G.722, 48000 for
// Opus). A source or sink at another rate must say so (audio.Rated): the
// phone then converts. release is called once when the call's media stops
// (or its rate changes, after which CallAudio is asked again).
type AudioProvider interface {
	CallAudio(id SessionID, rate int) (src audio.Source, sink audio.Sink, release func())
}

// Account is one SIP identity. Registrar and OutboundProxy may be "host:port"
// or a sip: URI; empty Registrar means "the AOR's host".
type Account struct {
	Name          string
	AOR           string // sip:user@domain
	DisplayName   string
	Registrar     string
	OutboundProxy string
	Username      string // digest user, defaults to the AOR user
	Password      string
	Register      bool
	Expires       time.Duration // requested registration lifetime
	// Encryption is this account's media policy; "" uses Options.Encryption.
	Encryption Encryption
	// TLSRootCAs replace the phone's TLSOptions.RootCAs for this
	// account's servers; nil means the phone's.
	TLSRootCAs *x509.CertPool
	// TLSNoVerify accepts any certificate from this account's servers and
	// from the domains its calls go to (tls.verify = false for the
	// account): for a lab only, logged at every connection.
	TLSNoVerify bool
	// MailboxSubscribe subscribes to the account's message summary (RFC
	// 3842) once it is registered; the NOTIFYs become MWIEvents. Mailbox
	// is the URI subscribed to, "" for the AOR.
	MailboxSubscribe bool
	Mailbox          string
}

// Options configure a Phone.
type Options struct {
	// Listen is the host:port of the SIP listeners (UDP and TCP on the same port).
	// Port 0 picks a free port (the same for UDP and TCP).
	Listen     string
	Transports []string // subset of "udp", "tcp"; default both (TLS, a client transport, is always there)
	// TLS configures TLS connections (sips: URIs, transport=tls).
	TLS TLSOptions
	// ListenTLS is the host:port of an optional TLS listener ("" = none;
	// port 0 picks one), serving TLS.Certificate. Registered accounts do
	// not need it: their provider's requests come over the connection the
	// phone opened.
	ListenTLS string
	Accounts  []Account
	// RTPPortMin/Max bound the RTP ports (even RTP port, RTCP = RTP+1).
	RTPPortMin, RTPPortMax int
	// Codecs in preference order: "PCMU", "PCMA" ("telephone-event" is always offered).
	Codecs    []string
	UserAgent string
	Handler   Handler
	Logger    *slog.Logger
	// DeferTimeout bounds a Defer decision without its own timeout (default 60 s).
	DeferTimeout time.Duration
	// Audio gives each call its default source (what the far end hears) and
	// sink (where the far end's audio goes); nil means silence and discard.
	Audio AudioProvider
	// HoldC0 offers hold the RFC 2543 way too (c=0.0.0.0) for old PBXs.
	HoldC0 bool
	// ICE makes offers, and answers to offers that do ICE, carry ICE-lite
	// credentials and candidates (RFC 8839), and answers the peer's
	// connectivity checks on the media ports (RFC 8445 §2.5, §7.3).
	ICE bool
	// NoRTCPMux stops offering and accepting RTP/RTCP multiplexing (RFC
	// 5761 a=rtcp-mux), which is otherwise used whenever the peer agrees,
	// so that one NAT binding carries RTP and RTCP.
	NoRTCPMux bool
	// Encryption is the media policy of calls (see Encryption); "" is
	// EncryptionNone.
	Encryption Encryption
	// Transfer decides on the transfers the party of a call asks of us
	// (REFER); the zero value refuses them all.
	Transfer TransferPolicy
	// DTMFInfo sends DTMF as SIP INFO even when telephone-event was negotiated.
	DTMFInfo bool
	// MinSE is the shortest session-timer interval we accept (RFC 4028
	// Min-SE; default 90 s): an INVITE asking for less gets 422.
	MinSE time.Duration
	// SessionExpires is the session-timer interval our INVITEs ask for
	// (RFC 4028 §7.1; at least MinSE); 0 asks for none, and a proxy or the
	// callee may still start a timer. A 422 raises it to the Min-SE it
	// names, once per call (§7.4).
	SessionExpires time.Duration
	// MaxCalls refuses new incoming calls with 486 beyond this many (0 = unlimited).
	MaxCalls int
	// Direct says whether INVITEs for a user that is none of the accounts'
	// are taken (direct calls, e.g. sip:anything@host:port) or refused
	// with ForeignURICode before anything rings (stranger.go).
	Direct DirectCalls
	// ForeignURICode is the status of a refused direct call: 404 (the
	// default) or 403.
	ForeignURICode int
	// NewCallRate is how many new incoming calls a second one source
	// address may start, NewCallBurst at once; more get 503 with
	// Retry-After before they ring (stranger.go). 0 is no limit.
	NewCallRate  float64
	NewCallBurst int
	// RTPTimeout ends with BYE (reason "no media") an answered call, held
	// by neither side, that receives no RTP for this long (0: never).
	RTPTimeout time.Duration
	// NAT tunes how registered accounts get through a NAT; the zero value
	// does nothing beyond rport, which every request asks for.
	NAT NATOptions
	// DNSServers ("host:port", or an address for port 53) answer the
	// NAPTR, SRV and A/AAAA lookups of a registrar or outbound proxy given
	// by name; empty means those of /etc/resolv.conf.
	DNSServers []string
}

// NATOptions tune NAT traversal for registered accounts, the way pjsua does it.
type NATOptions struct {
	// ContactRewrite re-registers an account with the address and port its
	// registrar saw (the received and rport of the REGISTER 2xx's Via)
	// when they differ from the Contact, removing the old binding; the
	// account's calls then carry that Contact too.
	ContactRewrite bool
	// KeepAlive is how often a registered account sends a keep-alive (a
	// double CRLF) to its registrar, so that the NAT binding it is reached
	// through stays open; 0 sends none.
	KeepAlive time.Duration
	// STUNServer ("host", "host:port", "stun:host") is asked for the
	// public address of each call's RTP socket when the phone's own address
	// is private and the peer is not: that address then goes into the SDP.
	// "" asks nobody.
	STUNServer string

	// pongTimeout replaces RFC 5626 §4.4.1's 10 s wait for a TCP pong
	// (tests shorten it); 0 is 10 s.
	pongTimeout time.Duration
}

// DialOptions tune one outgoing call.
type DialOptions struct {
	// Session is the ID the new session gets; "" mints one. A caller that
	// keeps its own records passes its ID, so the session's first event
	// already names something it knows.
	Session SessionID
	Account string            // account name to call from; "" = first account, or direct
	Subject string            // Subject header
	Headers map[string]string // extra headers (validated: no CR/LF)
}
