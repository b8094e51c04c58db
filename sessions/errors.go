package sessions

import (
	"errors"

	"github.com/teaphone/teaphone/internal/sipaddr"
)

// Sentinel errors returned (wrapped) by the Manager. Check them with errors.Is.
var (
	// ErrNoSuchCall means the CallID (or line) is not known to the Manager.
	ErrNoSuchCall = errors.New("no such call")
	// ErrCallEnded means the call exists in the history but has already ended.
	ErrCallEnded = errors.New("call ended")
	// ErrNotPending means the call is not an incoming call awaiting a decision.
	ErrNotPending = errors.New("call is not awaiting a decision")
	// ErrNotReady means the call has no SIP session yet (its dial is still in flight).
	ErrNotReady = errors.New("call not set up yet")
	// ErrInvalidTarget means a user-typed SIP target was refused before reaching SIP.
	ErrInvalidTarget = errors.New("invalid target")
	// ErrInvalidDigits means a DTMF string holds something other than 0-9 * # A-D.
	// It is sipaddr's sentinel, so the error of SendDTMF reads
	// "dtmf call 1: invalid digit 'x' in …" without saying "invalid" twice.
	ErrInvalidDigits = sipaddr.ErrInvalidDTMF
	// ErrInvalidCode means a rejection status code is outside 400-699.
	ErrInvalidCode = errors.New("invalid status code")
	// ErrInvalidRules means a Rules value failed validation.
	ErrInvalidRules = errors.New("invalid rules")
	// ErrClosed means the Manager has been closed.
	ErrClosed = errors.New("sessions closed")
	// ErrNotStarted means Start has not been called yet.
	ErrNotStarted = errors.New("sessions not started")
	// ErrAlreadyStarted means Start was called twice.
	ErrAlreadyStarted = errors.New("sessions already started")
	// ErrSlowSubscriber is reported by Subscription.Err when a subscriber fell so
	// far behind that it was cut off (its channel is closed; nothing was dropped
	// silently).
	ErrSlowSubscriber = errors.New("subscriber too slow")
)
