package sdp

import "errors"

var (
	// ErrMalformed reports a description that does not follow RFC 4566 or
	// carries a value this package interprets but cannot use (a bad c=
	// address, port, a=rtpmap, a=ptime or a=rtcp, or input larger than
	// MaxSize). A UAS answers such an offer with 400.
	ErrMalformed = errors.New("sdp: malformed description")

	// ErrNoAudio reports a description without an m=audio section using the
	// RTP/AVP or RTP/SAVP profile. A UAS answers such an offer with 488.
	ErrNoAudio = errors.New("sdp: no RTP/AVP audio stream")

	// ErrAudioRejected reports that the audio stream has port 0, i.e. it was
	// disabled by the offerer or rejected by the answerer (RFC 3264 §5.1, §6).
	ErrAudioRejected = errors.New("sdp: audio stream rejected (port 0)")

	// ErrNoCommonCodec reports that no PCMU or PCMA format (among the ones
	// enabled in Local.Codecs) was offered or answered. A UAS answers such
	// an offer with 488.
	ErrNoCommonCodec = errors.New("sdp: no common codec")

	// ErrNoCrypto reports an SRTP negotiation that failed: an RTP/SAVP or
	// DTLS-SRTP offer while SRTP is off, no usable a=crypto line (RFC 4568)
	// where SRTP is required, or, with DTLS-SRTP on, an offer that is not
	// DTLS-SRTP or lacks a=fingerprint or a usable a=setup.
	// A UAS answers such an offer with 488.
	ErrNoCrypto = errors.New("sdp: no usable SRTP key")

	// ErrInvalidLocal reports a Local or Direction argument that cannot
	// produce a valid description (empty address, port out of range, unknown
	// codec name, DTMF payload type outside 96-127, unknown direction).
	ErrInvalidLocal = errors.New("sdp: invalid local parameters")
)
