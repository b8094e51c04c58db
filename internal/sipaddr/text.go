package sipaddr

import (
	"unicode/utf8"
)

// CheckText checks text bound for a SIP header value: a display name, a
// subject, a reason phrase, a user agent, a user name. RFC 3261 §25.1 lets
// such values hold UTF-8 text and linear white space (SP, HTAB) but no other
// control character; a CR or LF would end the header line and let whoever
// wrote the text add headers of their own. CheckText refuses invalid UTF-8,
// the C0 controls other than HTAB, DEL and the C1 controls (U+0080-U+009F,
// which some terminals obey as escape sequences).
func CheckText(s string) error {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size <= 1 {
				return errorf(ErrInvalidText, "not valid UTF-8")
			}
		}
		if isControl(r) {
			return errorf(ErrInvalidText, "must not contain CR, LF or other control characters (found %U)", r)
		}
	}
	return nil
}

// isControl reports whether r is a control character CheckText refuses.
func isControl(r rune) bool {
	return r < 0x20 && r != '\t' || r >= 0x7f && r <= 0x9f
}
