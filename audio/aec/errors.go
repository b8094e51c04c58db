package aec

import "errors"

// ErrUnavailable is returned by New in a build without echo cancellation:
// built with CGO_ENABLED=0 or -tags nospeexdsp. Calls then go on without
// it (a headset needs none).
var ErrUnavailable = errors.New("aec: echo cancellation needs a build with cgo and libspeexdsp (libspeexdsp-dev); this build has none (CGO_ENABLED=0 or -tags nospeexdsp)")
