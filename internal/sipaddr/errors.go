package sipaddr

import (
	"errors"
	"fmt"
)

// Sentinels wrapped by every error of the package; test with errors.Is.
var (
	// ErrInvalidURI means a URI, host[:port] or dial target was refused.
	ErrInvalidURI = errors.New("invalid URI")
	// ErrInvalidNameAddr means a name-addr header value was refused.
	ErrInvalidNameAddr = errors.New("invalid name-addr")
	// ErrInvalidText means text holds a control character or invalid UTF-8.
	ErrInvalidText = errors.New("invalid text")
	// ErrInvalidDTMF means a string holds something other than DTMF digits.
	ErrInvalidDTMF = errors.New("invalid DTMF digits")
)

// addrError is a refusal: its message says what is wrong (callers put the
// input and where it came from in front), and it unwraps to a sentinel.
type addrError struct {
	kind error
	msg  string
}

func (e *addrError) Error() string { return e.msg }
func (e *addrError) Unwrap() error { return e.kind }

func errorf(kind error, format string, args ...any) error {
	return &addrError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

// rekind keeps the message of err but files it under kind, so a URI
// problem inside a name-addr reads the same and still unwraps to
// ErrInvalidNameAddr.
func rekind(kind, err error) error {
	return &addrError{kind: kind, msg: err.Error()}
}
