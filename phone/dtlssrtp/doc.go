// Package dtlssrtp keys SRTP with a DTLS handshake (DTLS-SRTP, RFC 5763
// and RFC 5764) on top of github.com/pion/dtls/v3, over a packet
// connection the caller provides (in teaphone, the DTLS records
// demultiplexed from a call's RTP socket, RFC 7983).
//
// Both sides present self-signed certificates (RFC 5763 §5); what
// authenticates the peer is its certificate's fingerprint, which must match
// one of the a=fingerprint values of its SDP (RFC 8122 §5). The package does
// no SDP: the caller passes the fingerprints and the role (the a=setup
// outcome) in, and gets the SRTP master keys out.
package dtlssrtp
