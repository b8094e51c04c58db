// Package sdp implements the SDP offer/answer model (RFC 3264) for one G.711
// audio stream, on top of github.com/pion/sdp/v3 for the RFC 4566 syntax.
//
// The package is pure: it turns bytes into values and values into bytes and
// does no I/O, so every rule is covered by table tests and fuzzing.
//
// A UAC sends [Offer] and reads the reply with [ParseAnswer]; a UAS receiving
// an offer calls [Answer]. Both sides keep one [Local] per call so that the
// o= line stays the same for the whole session except for its version, which
// every generated description increments (RFC 3264 §8).
//
// What is supported:
//
//   - audio over RTP/AVP with PCMU (PT 0) and PCMA (PT 8), recognised by static
//     payload type or by a=rtpmap name (case-insensitive, 8000 Hz, mono), on
//     any payload number;
//   - RFC 4733 telephone-event/8000 on whatever payload number the peer picked;
//   - the four directions (RFC 3264 §5.1, §6.1) at media or session level and
//     RFC 2543 style hold with c=0.0.0.0 (RFC 3264 §8.4);
//   - IPv4 and IPv6 connection addresses, a=ptime and a=rtcp (RFC 3605);
//   - RTP/RTCP multiplexing (RFC 5761 §5.1.1, RFC 8035): a=rtcp-mux offered
//     and accepted when [Local].RTCPMux is set;
//   - SRTP with SDES keys (RFC 4568, [SRTP]) on RTP/AVP or RTP/SAVP, and
//     DTLS-SRTP ([LocalDTLS]: UDP/TLS/RTP/SAVP and SAVPF, RFC 5764 §8, with
//     a=fingerprint, RFC 8122, and a=setup, RFC 4145 and RFC 5763 §5); the
//     handshake itself is the caller's.
//
// Other media sections (video, a second audio stream, SRTP profiles) are
// rejected in answers with port 0 as RFC 3264 §6 requires.
//
// Error mapping for a UAS: [ErrNoCommonCodec], [ErrNoAudio] and
// [ErrAudioRejected] mean 488 Not Acceptable Here; [ErrMalformed] means
// 400 Bad Request; [ErrInvalidLocal] is a bug or bad configuration on our side
// (500).
package sdp
