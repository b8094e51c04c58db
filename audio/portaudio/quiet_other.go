//go:build !linux && cgo && !noportaudio

package portaudio

import "log/slog"

// quiet is a no-op where PortAudio does not use ALSA or JACK.
func quiet(*slog.Logger) {}
