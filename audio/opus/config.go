package opus

import "errors"

// Frame format and RTP clock.
const (
	// SampleRate is the rate teaphone encodes and decodes at, and the RTP
	// clock rate of Opus whatever the audio bandwidth (RFC 7587 §4.1): an
	// SDP rtpmap always says opus/48000/2.
	SampleRate = 48000
	// FrameSamples is one 20 ms mono frame at 48 kHz.
	FrameSamples = SampleRate / 50 // 960
	// MaxFrameSamples is the longest a packet may decode to: 120 ms
	// (RFC 6716 §3.2.5). A Decode buffer this long takes any peer's ptime.
	MaxFrameSamples = SampleRate * 120 / 1000 // 5760
	// MaxPayload is a payload buffer that holds any packet the encoder
	// makes for a 20 ms frame (RFC 6716 §3.4 [R2]: at most 1275 bytes per
	// frame, plus the TOC byte).
	MaxPayload = 1276
	// DefaultBitrate is the encoder bitrate unless the peer caps it: enough
	// for wideband speech with room for the FEC copy (RFC 6716 §2.1.7).
	DefaultBitrate = 32000
	// DefaultLossPercent is the packet loss the encoder expects until RTCP
	// reports tell better; it sizes the FEC copy.
	DefaultLossPercent = 10
)

// ErrUnavailable is returned by the constructors of a build without Opus:
// built with CGO_ENABLED=0 or -tags noopus. Calls then use G.711 or G.722.
var ErrUnavailable = errors.New("opus: Opus needs a build with cgo and libopus (libopus-dev); this build has none (CGO_ENABLED=0 or -tags noopus)")

// ErrEmptyPayload is returned by Decode and DecodeFEC for an empty payload:
// an Opus packet is at least one byte (RFC 6716 §3.4 [R1]). Treat the
// frame as lost and call Conceal.
var ErrEmptyPayload = errors.New("opus: empty payload")

// Bandwidth is an Opus audio bandwidth (RFC 6716 §2).
type Bandwidth int

// Audio bandwidths, by the sample rate that carries them.
const (
	Narrowband    Bandwidth = 8000  // 4 kHz audio
	Mediumband    Bandwidth = 12000 // 6 kHz
	Wideband      Bandwidth = 16000 // 8 kHz
	SuperWideband Bandwidth = 24000 // 12 kHz
	Fullband      Bandwidth = 48000 // 20 kHz
)

// BandwidthFor returns the widest bandwidth a receiver playing at rate Hz
// can use: RFC 7587 §6.1 maps maxplaybackrate to the encoder's maximum
// bandwidth (below 8000 still narrowband).
func BandwidthFor(rate int) Bandwidth {
	switch {
	case rate <= 8000:
		return Narrowband
	case rate <= 12000:
		return Mediumband
	case rate <= 16000:
		return Wideband
	case rate <= 24000:
		return SuperWideband
	}
	return Fullband
}

// EncoderConfig sets up an Encoder.
type EncoderConfig struct {
	// MaxBandwidth limits the coded audio bandwidth; 0 means Fullband.
	MaxBandwidth Bandwidth
	// Bitrate in bit/s; 0 means DefaultBitrate.
	Bitrate int
	// FEC adds in-band forward error correction: each packet carries a
	// coarser copy of the previous frame (RFC 6716 §2.1.7), which the
	// receiver decodes when that frame was lost (Decoder.DecodeFEC).
	FEC bool
	// LossPercent is the expected packet loss (0-100), sizing the FEC copy;
	// 0 with FEC means DefaultLossPercent.
	LossPercent int
	// DTX stops sending during silence (RFC 6716 §2.1.9, RFC 7587 §3.1.3).
	DTX bool
}

// ConfigFor returns the encoder set-up for a peer whose a=fmtp said remote
// (RFC 7587 §6.1): bandwidth up to its maxplaybackrate, bitrate under its
// maxaveragebitrate, FEC when it asked for useinbandfec=1 (with the default
// useinbandfec=0 FEC stays off: the parameter is the receiver's
// preference), DTX only when it asked for usedtx=1. Mono always: a stereo=1
// receiver also plays mono (§6.1 "stereo"). cbr=1 is not honoured: the
// encoder stays VBR, which every Opus decoder plays.
func ConfigFor(remote Params) EncoderConfig {
	c := EncoderConfig{
		MaxBandwidth: BandwidthFor(remote.PlaybackRate()),
		Bitrate:      DefaultBitrate,
		FEC:          remote.UseInbandFEC,
		DTX:          remote.UseDTX,
	}
	if remote.MaxAverageBitrate != 0 {
		c.Bitrate = min(c.Bitrate, remote.MaxAverageBitrate)
	}
	if c.FEC {
		c.LossPercent = DefaultLossPercent
	}
	return c
}
