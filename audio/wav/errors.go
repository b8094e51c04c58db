package wav

import "errors"

// Errors returned by the reader and writer. Most are wrapped with detail;
// test for them with errors.Is.
var (
	// ErrNotWAV means the input does not start with a RIFF/WAVE header.
	ErrNotWAV = errors.New("wav: not a RIFF WAVE file")
	// ErrUnsupported means a valid WAV file uses an encoding, sample size
	// or channel count this package does not read.
	ErrUnsupported = errors.New("wav: unsupported format")
	// ErrMalformed means the header or chunk structure is inconsistent.
	ErrMalformed = errors.New("wav: malformed file")
	// ErrTruncated means the file ended before the sizes in its header said
	// it would. Samples read before the cut are still delivered.
	ErrTruncated = errors.New("wav: truncated file")
	// ErrTooLarge means a writer would exceed the 4 GiB RIFF size limit.
	ErrTooLarge = errors.New("wav: file too large for RIFF")
	// ErrClosed means the reader or writer was used after Close.
	ErrClosed = errors.New("wav: use after close")
)
