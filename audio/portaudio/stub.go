//go:build !cgo || noportaudio

package portaudio

// Available reports whether this build has PortAudio support (cgo and no
// noportaudio tag).
const Available = false

// Devices returns ErrUnavailable: this build has no PortAudio support.
func Devices() ([]Info, error) { return nil, ErrUnavailable }

// Open returns ErrUnavailable: this build has no PortAudio support.
func Open(Config) (*Device, error) { return nil, ErrUnavailable }
