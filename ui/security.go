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

// dtlsWaiting is the call pane's word for a DTLS-SRTP handshake under way.
const dtlsWaiting = "DTLS-SRTP handshake: no media until its keys"

// securityMark is the call list's mark for c, "" when nothing is
// encrypted.
func securityMark(c sessions.CallInfo) string {
	tls, srtp := c.Transport == "TLS", c.SRTP != "" && c.SRTP != sessions.SRTPHandshaking
	switch {
	case tls && srtp:
		return lockClosed
	case tls || srtp:
		return lockOpen
	}
	return ""
}

// securityText is the call pane's line: which parts are encrypted and how.
//
// While a DTLS-SRTP handshake runs (after the answer, or for a new
// association) the media is not encrypted yet but nothing is sent
// either: no lock for the media, and the line says it waits.
func securityText(c sessions.CallInfo) string {
	tls, srtp := c.Transport == "TLS", c.SRTP != ""
	switch {
	case c.SRTP == sessions.SRTPHandshaking && tls:
		return lockOpen + " TLS, " + dtlsWaiting
	case c.SRTP == sessions.SRTPHandshaking:
		return dtlsWaiting + ", signalling in clear (" + orDash(c.Transport) + ")"
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
