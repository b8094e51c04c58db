//go:build cgo && !noopus

package opus

import (
	"fmt"

	hraban "gopkg.in/hraban/opus.v2"
)

// Available reports whether this build has Opus (cgo, libopus, no noopus
// tag).
const Available = true

// Encoder encodes 48 kHz mono frames into Opus payloads. It is not safe
// for concurrent use.
type Encoder struct {
	enc *hraban.Encoder
}

// NewEncoder returns an encoder for VoIP (libopus OPUS_APPLICATION_VOIP)
// set up by c.
func NewEncoder(c EncoderConfig) (*Encoder, error) {
	enc, err := hraban.NewEncoder(SampleRate, 1, hraban.AppVoIP)
	if err != nil {
		return nil, fmt.Errorf("opus encoder: %w", err)
	}
	e := &Encoder{enc: enc}
	bw := hraban.Fullband
	if c.MaxBandwidth != 0 {
		bw = hrabanBandwidth(BandwidthFor(int(c.MaxBandwidth)))
	}
	bitrate := c.Bitrate
	if bitrate == 0 {
		bitrate = DefaultBitrate
	}
	loss := c.LossPercent
	if c.FEC && loss == 0 {
		loss = DefaultLossPercent
	}
	for _, set := range []struct {
		what string
		err  error
	}{
		{"max bandwidth", enc.SetMaxBandwidth(bw)},
		{"bitrate", enc.SetBitrate(bitrate)},
		{"in-band FEC", enc.SetInBandFEC(c.FEC)},
		{"packet loss", enc.SetPacketLossPerc(loss)},
		{"DTX", enc.SetDTX(c.DTX)},
	} {
		if set.err != nil {
			return nil, fmt.Errorf("opus encoder %s: %w", set.what, set.err)
		}
	}
	return e, nil
}

// hrabanBandwidth converts a Bandwidth to the binding's constant.
func hrabanBandwidth(b Bandwidth) hraban.Bandwidth {
	switch b {
	case Narrowband:
		return hraban.Narrowband
	case Mediumband:
		return hraban.Mediumband
	case Wideband:
		return hraban.Wideband
	case SuperWideband:
		return hraban.SuperWideband
	}
	return hraban.Fullband
}

// Encode encodes one frame of pcm (2.5, 5, 10, 20, 40 or 60 ms:
// FrameSamples for teaphone's 20 ms) into dst and returns the payload
// length. dst should hold MaxPayload bytes. With DTX on, a frame of
// silence may encode to 1 or 2 bytes, which need not be sent (RFC 7587
// §3.1.3).
func (e *Encoder) Encode(dst []byte, pcm []int16) (int, error) {
	// The binding writes up to cap(dst): limit it to len(dst).
	return e.enc.Encode(pcm, dst[:len(dst):len(dst)])
}

// SetLossPercent tells the encoder the packet loss the peer reports (RTCP
// receiver reports), so that the FEC copy matches it.
func (e *Encoder) SetLossPercent(percent int) error {
	return e.enc.SetPacketLossPerc(min(max(percent, 0), 100))
}

// Decoder decodes Opus payloads into 48 kHz mono; a stereo stream is mixed
// down (RFC 7587 §6.1: a receiver that said stereo=0 must still take it).
// It is not safe for concurrent use.
type Decoder struct {
	dec *hraban.Decoder
}

// NewDecoder returns a decoder at 48 kHz mono.
func NewDecoder() (*Decoder, error) {
	dec, err := hraban.NewDecoder(SampleRate, 1)
	if err != nil {
		return nil, fmt.Errorf("opus decoder: %w", err)
	}
	return &Decoder{dec: dec}, nil
}

// Decode decodes payload into dst and returns the number of samples: 960
// for a 20 ms packet. dst must hold the whole packet: MaxFrameSamples takes
// any packet a peer may send, whatever its ptime.
func (d *Decoder) Decode(dst []int16, payload []byte) (int, error) {
	if len(payload) == 0 {
		return 0, ErrEmptyPayload
	}
	// The binding decodes up to cap(dst): limit it to len(dst).
	return d.dec.Decode(payload, dst[:len(dst):len(dst)])
}

// DecodeFEC rebuilds a lost frame from the FEC copy in next, the packet
// that follows it (RFC 6716 §2.1.7, RFC 7587 §3.3), and returns len(dst).
// dst must be exactly as long as the lost audio (FrameSamples for one lost
// 20 ms packet; a multiple of 2.5 ms). When next has no FEC copy, libopus
// conceals instead (as Conceal). Decode next itself afterwards as usual.
func (d *Decoder) DecodeFEC(dst []int16, next []byte) (int, error) {
	if len(next) == 0 {
		return 0, ErrEmptyPayload
	}
	if err := d.dec.DecodeFEC(next, dst[:len(dst):len(dst)]); err != nil {
		return 0, err
	}
	return len(dst), nil
}

// Conceal fills dst with the decoder's packet loss concealment (RFC 6716
// §4.4) for a lost frame whose successor has not arrived, and returns
// len(dst). dst must be as long as the lost audio: a multiple of 2.5 ms
// (120 samples), FrameSamples for one 20 ms packet. Unlike G.711
// concealment it extrapolates from the decoder's state: pitch, spectrum and
// a fade over successive losses.
func (d *Decoder) Conceal(dst []int16) (int, error) {
	if err := d.dec.DecodePLC(dst[:len(dst):len(dst)]); err != nil {
		return 0, err
	}
	return len(dst), nil
}
