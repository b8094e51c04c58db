//go:build !cgo || noopus

package opus

// Available reports whether this build has Opus (cgo, libopus, no noopus
// tag).
const Available = false

// Encoder is the Opus encoder; this build has none (see ErrUnavailable).
type Encoder struct{}

// NewEncoder returns ErrUnavailable: this build has no Opus.
func NewEncoder(EncoderConfig) (*Encoder, error) { return nil, ErrUnavailable }

// Encode returns ErrUnavailable.
func (*Encoder) Encode([]byte, []int16) (int, error) { return 0, ErrUnavailable }

// SetLossPercent returns ErrUnavailable.
func (*Encoder) SetLossPercent(int) error { return ErrUnavailable }

// Decoder is the Opus decoder; this build has none (see ErrUnavailable).
type Decoder struct{}

// NewDecoder returns ErrUnavailable: this build has no Opus.
func NewDecoder() (*Decoder, error) { return nil, ErrUnavailable }

// Decode returns ErrUnavailable.
func (*Decoder) Decode([]int16, []byte) (int, error) { return 0, ErrUnavailable }

// DecodeFEC returns ErrUnavailable.
func (*Decoder) DecodeFEC([]int16, []byte) (int, error) { return 0, ErrUnavailable }

// Conceal returns ErrUnavailable.
func (*Decoder) Conceal([]int16) (int, error) { return 0, ErrUnavailable }
