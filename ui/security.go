package ui

import (
	"strings"

	"github.com/teaphone/teaphone/sessions"
)

// What a call's encryption looks like on screen: a closed lock only when
// both the signalling hop (TLS) and the media (SRTP) are encrypted, an open
// lock when only one is, nothing when neither. The text says which.
const (
	lockClosed = "🔒"
	lockOpen   = "🔓"
)

// securityMark is the call list's mark for c, "" when nothing is
// encrypted.
func securityMark(c sessions.CallInfo) string {
	tls, srtp := c.Transport == "TLS", c.SRTP != ""
	switch {
	case tls && srtp:
		return lockClosed
	case tls || srtp:
		return lockOpen
	}
	return ""
}

// securityText is the call pane's line: which parts are encrypted and how.
func securityText(c sessions.CallInfo) string {
	tls, srtp := c.Transport == "TLS", c.SRTP != ""
	switch {
	case tls && srtp:
		return lockClosed + " TLS + SRTP (" + c.SRTP + ")"
	case srtp && strings.HasSuffix(c.SRTP, "(DTLS)"):
		// DTLS-SRTP: the keys never travel in the SDP, but the
		// fingerprints that authenticate the handshake do (RFC 5763 §8).
		return lockOpen + " SRTP (" + c.SRTP + "), signalling in clear (" + orDash(c.Transport) + "): fingerprints changeable on the way"
	case srtp:
		return lockOpen + " SRTP (" + c.SRTP + "), signalling in clear (" + orDash(c.Transport) + "): keys readable on the way"
	case tls:
		return lockOpen + " TLS, media in clear (RTP)"
	}
	return ""
}
