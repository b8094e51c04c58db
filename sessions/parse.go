package sessions

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/teaphone/teaphone/internal/sipaddr"
)

// maxTextRunes bounds display names, subjects and reasons kept from peers.
const maxTextRunes = 128

// ParseDisplayName splits a From/To/Contact header value (RFC 3261 §20.10
// name-addr or addr-spec, read by sipaddr.ParseNameAddr) into its display
// name and URI:
//
//	"Alice \"Al\" Smith" <sip:alice@example.com>;tag=1  → `Alice "Al" Smith`, "sip:alice@example.com"
//	Bob Jones <sip:bob@example.com>                     → "Bob Jones", "sip:bob@example.com"
//	<sip:carol@example.com>                             → "", "sip:carol@example.com"
//	sip:dave@example.com;tag=9                          → "", "sip:dave@example.com"
//
// The display name is trimmed and stripped of control characters, so it is
// safe to print on a terminal. Malformed input (an unterminated quote or
// angle bracket, a display name without an address, spaces or a bad port in
// the URI) yields two empty strings; it never panics.
func ParseDisplayName(headerValue string) (display, uri string) {
	a, err := sipaddr.ParseNameAddr(headerValue)
	if err != nil {
		return "", ""
	}
	return cleanText(a.Display, false), a.URI
}

// cleanText makes peer-supplied text safe for a terminal: invalid UTF-8,
// control characters (ESC, CR, LF …) and invisible format characters (bidi
// overrides) are dropped or turned into spaces, surrounding space is trimmed,
// and the result is bounded to maxTextRunes. With collapse, runs of white
// space become one space (unquoted display names are LWS-separated tokens).
func cleanText(s string, collapse bool) string {
	var b strings.Builder
	n := 0
	space := false
	for _, r := range strings.TrimSpace(s) {
		switch {
		case r == utf8.RuneError:
			continue
		case unicode.IsSpace(r):
			if collapse {
				space = true
				continue
			}
			r = ' '
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r) && r != '\u200d':
			continue
		}
		if n >= maxTextRunes {
			break
		}
		if space {
			b.WriteByte(' ')
			n++
			space = false
		}
		b.WriteRune(r)
		n++
	}
	return strings.TrimSpace(b.String())
}

// NormalizeTarget checks a user-typed dial or transfer target and returns
// what to hand to the phone (sipaddr.NormalizeTarget): a URI
// ("sip:bob@example.com", "tel:+15550100"), a user at a host
// ("bob@example.com") or a user of the account's domain ("100"); from a
// pasted name-addr ("Bob <sip:bob@example.com>") the URI is taken. It
// refuses empty input, control characters (no CR/LF injection into
// headers), white space, quotes or brackets left in the URI, other schemes,
// and overlong input; the error wraps ErrInvalidTarget.
func NormalizeTarget(target string) (string, error) {
	t, err := sipaddr.NormalizeTarget(target)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidTarget, err)
	}
	return t, nil
}

// checkText refuses text that must not go into a SIP header
// (sipaddr.CheckText: CR, LF and other control characters).
func checkText(what, s string) error {
	if err := sipaddr.CheckText(s); err != nil {
		return fmt.Errorf("%s %w", what, err)
	}
	return nil
}

// headerValue returns the first non-empty value among names in headers,
// matching header names case-insensitively.
func headerValue(headers map[string]string, names ...string) string {
	for _, n := range names {
		if v, ok := headers[n]; ok && strings.TrimSpace(v) != "" {
			return v
		}
		for k, v := range headers {
			if strings.EqualFold(k, n) && strings.TrimSpace(v) != "" {
				return v
			}
		}
	}
	return ""
}

// displayNameFor picks the display name of an incoming call: the one the
// session core parsed, else the one in RemoteURI if it is a name-addr, else
// the From header (rvoip extract_display_name strategy).
func displayNameFor(display, remoteURI, from string, headers map[string]string) string {
	if d := cleanText(display, false); d != "" {
		return d
	}
	if d, _ := ParseDisplayName(remoteURI); d != "" {
		return d
	}
	if from == "" {
		from = headerValue(headers, "From", "f")
	}
	d, _ := ParseDisplayName(from)
	return d
}

// bareURI returns the URI of a header value or URI string (angle brackets
// and header parameters removed), or s trimmed when it cannot be parsed.
func bareURI(s string) string {
	if _, u := ParseDisplayName(s); u != "" {
		return u
	}
	return cleanText(s, false)
}
