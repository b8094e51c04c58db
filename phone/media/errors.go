package media

import "errors"

// Errors returned by the engine and its streams.
var (
	ErrClosed        = errors.New("media: closed")
	ErrNoConn        = errors.New("media: no RTP socket")
	ErrUnknownCodec  = errors.New("media: unknown codec")
	ErrNoPlayout     = errors.New("media: no jitter buffer available")
	ErrBadDigit      = errors.New("media: not a DTMF digit")
	ErrNoDTMF        = errors.New("media: no telephone-event payload type negotiated")
	ErrDTMFQueueFull = errors.New("media: DTMF queue full")
)
