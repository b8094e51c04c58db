package media

import (
	"fmt"
	"sync/atomic"

	"github.com/teaphone/teaphone/audio"
	"github.com/teaphone/teaphone/audio/g711"
	"github.com/teaphone/teaphone/audio/g722"
	"github.com/teaphone/teaphone/audio/opus"
)

// CodecInfo describes one payload format the engine can send and receive:
// its rates and a constructor for the per-stream codec (G.722 and Opus
// keep state between frames, so every stream gets its own).
type CodecInfo struct {
	// Name is the SDP encoding name ("PCMU", "G722", "opus").
	Name string
	// AudioRate is the rate of the PCM frames the codec takes and gives
	// (20 ms frames of AudioRate/50 samples): the call's audio rate.
	AudioRate int
	// ClockRate is the RTP timestamp rate (RFC 3551 §4.5.2: 8000 for
	// G.722 although its audio is 16 kHz; RFC 7587 §4.1: 48000 for Opus).
	ClockRate int
	// MaxPayload is the largest payload of one 20 ms packet, in bytes.
	MaxPayload int
	// New returns a fresh codec for one stream; fmtp is the far end's
	// a=fmtp parameters for the format ("" when none).
	New func(fmtp string) (Codec, error)
}

// frameSamples is the length of the codec's 20 ms PCM frame.
func (c CodecInfo) frameSamples() int { return audio.FrameSamplesAt(c.AudioRate) }

// frameTS is the RTP timestamp increment of one 20 ms frame.
func (c CodecInfo) frameTS() uint32 { return uint32(c.ClockRate / 50) }

// LossConcealer is implemented by a Codec that fills lost frames itself
// instead of the stream's Concealer (Opus: RFC 6716 §2.1.7 in-band FEC
// from the next packet when it is already here, else the decoder's own
// concealment). next is the payload of the packet after the lost one, or
// nil. It returns the samples written to dst.
type LossConcealer interface {
	DecodeLost(dst []int16, next []byte) int
}

// LossAdapter is implemented by a Codec whose encoder adapts to the loss
// the far end reports in RTCP (RFC 3550 §6.4.1 fraction lost): Opus sizes
// its FEC copy with it.
type LossAdapter interface {
	SetLossPercent(percent int)
}

// stateless wraps a Codec that keeps no state as a constructor.
func stateless(c Codec) func(string) (Codec, error) {
	return func(string) (Codec, error) { return c, nil }
}

// defaultCodecs are the codecs every engine knows: G.711 µ-law and A-law
// (RFC 3551 §4.5.14, static payload types 0 and 8), G.722 (§4.5.2, static
// type 9), and Opus (RFC 7587, dynamic type) when this build has it.
func defaultCodecs() map[string]CodecInfo {
	m := map[string]CodecInfo{
		"PCMU": {Name: "PCMU", AudioRate: 8000, ClockRate: 8000, MaxPayload: 160,
			New: stateless(CodecFuncs{EncodeFunc: g711.EncodeUlaw, DecodeFunc: g711.DecodeUlaw})},
		"PCMA": {Name: "PCMA", AudioRate: 8000, ClockRate: 8000, MaxPayload: 160,
			New: stateless(CodecFuncs{EncodeFunc: g711.EncodeAlaw, DecodeFunc: g711.DecodeAlaw})},
		"G722": {Name: "G722", AudioRate: g722.SampleRate, ClockRate: g722.RTPClockRate, MaxPayload: 160,
			New: func(string) (Codec, error) { return &g722Codec{enc: g722.NewEncoder(), dec: g722.NewDecoder()}, nil }},
	}
	if opus.Available {
		m["opus"] = CodecInfo{Name: "opus", AudioRate: opus.SampleRate, ClockRate: opus.SampleRate, MaxPayload: opus.MaxPayload,
			New: newOpusCodec}
	}
	return m
}

// g722Codec is one stream's G.722 encoder and decoder.
type g722Codec struct {
	enc *g722.Encoder
	dec *g722.Decoder
}

func (c *g722Codec) Encode(dst []byte, src []int16) int { return c.enc.Encode(dst, src) }
func (c *g722Codec) Decode(dst []int16, src []byte) int { return c.dec.Decode(dst, src) }

// opusCodec is one stream's Opus encoder and decoder.
type opusCodec struct {
	enc  *opus.Encoder
	dec  *opus.Decoder
	loss int
	fec  atomic.Uint64 // lost frames rebuilt from the next packet's FEC copy
}

// newOpusCodec sets the encoder up for what the far end said it receives
// (RFC 7587 §6.1, opus.ConfigFor), with in-band FEC enabled when it asked
// for it but an expected loss of 0 until its RTCP reports say otherwise:
// libopus codes the FEC copy only for an expected loss above 0, and the
// copy is not free (at 32 kbit/s, 10 % expected loss takes a clean call's
// speech from 0.6 % to 1.5 % of frames under 4 dB spectral SNR in the
// quality bench's measure; 0 % costs nothing).
func newOpusCodec(fmtp string) (Codec, error) {
	p, _ := opus.ParseFmtp(fmtp) // a bad parameter keeps its default
	cfg := opus.ConfigFor(p)
	enc, err := opus.NewEncoder(cfg)
	if err != nil {
		return nil, fmt.Errorf("opus: %w", err)
	}
	if err := enc.SetLossPercent(0); err != nil {
		return nil, fmt.Errorf("opus: %w", err)
	}
	dec, err := opus.NewDecoder()
	if err != nil {
		return nil, fmt.Errorf("opus: %w", err)
	}
	return &opusCodec{enc: enc, dec: dec}, nil
}

func (c *opusCodec) Encode(dst []byte, src []int16) int {
	n, err := c.enc.Encode(dst, src)
	if err != nil {
		return 0
	}
	return n
}

func (c *opusCodec) Decode(dst []int16, src []byte) int {
	n, err := c.dec.Decode(dst, src)
	if err != nil {
		return c.DecodeLost(dst, nil)
	}
	return n
}

// DecodeLost implements LossConcealer.
func (c *opusCodec) DecodeLost(dst []int16, next []byte) int {
	if len(next) > 0 {
		if n, err := c.dec.DecodeFEC(dst, next); err == nil {
			c.fec.Add(1)
			return n
		}
	}
	n, err := c.dec.Conceal(dst)
	if err != nil {
		return 0
	}
	return n
}

// SetLossPercent implements LossAdapter: the far end's reported loss,
// plus one point of margin when there is any, sizes the FEC copy. It only
// calls into libopus when the figure changes.
func (c *opusCodec) SetLossPercent(p int) {
	if p > 0 {
		p++
	}
	p = min(max(p, 0), 100)
	if p != c.loss {
		c.loss = p
		_ = c.enc.SetLossPercent(p)
	}
}
