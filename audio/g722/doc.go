// Package g722 is the ITU-T G.722 wideband codec at 64 kbit/s (mode 1):
// sub-band ADPCM turning 16 kHz 16-bit mono linear PCM into one octet per
// pair of samples, so a 20 ms frame of FrameSamples (320) samples becomes
// FrameBytes (160) octets.
//
// It is written here from the Recommendation (G.722 09/2012: the QMF of
// clauses 3.1, 4.4 and 5, the lower sub-band 6-bit ADPCM whose predictor
// adapts on the embedded 4-bit code, the higher sub-band 2-bit ADPCM,
// with the block names of clause 6 in the comments) because no maintained
// Go module for it is served to this project. The arithmetic follows the
// public-domain reference structure that libavcodec and spandsp share, and
// the tests hold it bit-exact to ffmpeg's encoder and decoder.
//
// The API has the shape of audio/g711: an Encoder and a Decoder keep the
// state of one direction, Encode and Decode convert what fits in dst and
// src, return the count and never allocate:
//
//	enc := g722.NewEncoder()
//	n := enc.Encode(payload[:g722.FrameBytes], frame) // frame: 320 samples
//
// RTP: G.722 is static payload type 9 with an 8000 Hz RTP clock although
// it samples at 16 kHz, an error kept for compatibility (RFC 3551 §4.5.2),
// so the timestamp advances by 160 per 20 ms frame and SDP says
// "a=rtpmap:9 G722/8000".
package g722

// Stream constants for the SDP and media layers.
const (
	// SampleRate is the audio sampling rate, Hz.
	SampleRate = 16000
	// RTPClockRate is the RTP timestamp clock of G.722, Hz: 8000, half the
	// sampling rate (RFC 3551 §4.5.2).
	RTPClockRate = 8000
	// PayloadType is the static RTP payload type of G.722 (RFC 3551 Table 4).
	PayloadType = 9
	// FrameSamples is the number of 16 kHz samples in 20 ms.
	FrameSamples = SampleRate / 50 // 320
	// FrameBytes is the number of encoded octets in 20 ms (64 kbit/s).
	FrameBytes = FrameSamples / 2 // 160
)
