package sipaddr

import (
	"strings"
)

// DTMFDigits are the DTMF digits in RFC 4733 §3.2 event-code order: the
// event code of DTMFDigits[n] is n. No other key is a digit: RFC 4733 has
// no pause event, so dial-string pauses ("," or "p") are not accepted.
const DTMFDigits = "0123456789*#ABCD"

// IsDTMF reports whether r is a DTMF digit: 0-9, *, #, or A-D in either case.
func IsDTMF(r rune) bool {
	_, ok := DTMFEvent(r)
	return ok
}

// ParseDTMF checks a string of DTMF digits (IsDTMF) and returns it with
// A-D in upper case. An empty string is refused, and so is anything else,
// white space included; the error names the first bad character.
func ParseDTMF(s string) (string, error) {
	if s == "" {
		return "", errorf(ErrInvalidDTMF, "no digits")
	}
	for _, r := range s {
		if !IsDTMF(r) {
			return "", errorf(ErrInvalidDTMF, "invalid digit %q in %q (want 0-9 * # A-D)", r, s)
		}
	}
	return strings.ToUpper(s), nil
}

// DTMFEvent returns the RFC 4733 §3.2 event code of a digit (0-15; a-d as
// A-D); ok is false for anything that is not a DTMF digit.
func DTMFEvent(digit rune) (code uint8, ok bool) {
	if digit >= 'a' && digit <= 'd' {
		digit -= 'a' - 'A'
	}
	if digit < 0 || digit >= 0x80 {
		return 0, false
	}
	i := strings.IndexByte(DTMFDigits, byte(digit))
	if i < 0 {
		return 0, false
	}
	return uint8(i), true
}

// DTMFDigit returns the digit of an RFC 4733 §3.2 event code (A-D in upper
// case); ok is false for codes above 15, which are not digits (16 is flash).
func DTMFDigit(code uint8) (digit rune, ok bool) {
	if int(code) >= len(DTMFDigits) {
		return 0, false
	}
	return rune(DTMFDigits[code]), true
}
