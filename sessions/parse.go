package sessions

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxTextRunes bounds display names, subjects and reasons kept from peers.
const maxTextRunes = 128

// maxTargetLen bounds a user-typed SIP target.
const maxTargetLen = 512

// ParseDisplayName splits a From/To/Contact header value (RFC 3261 §20.10
// name-addr or addr-spec) into its display name and URI:
//
//	"Alice \"Al\" Smith" <sip:alice@example.com>;tag=1  → `Alice "Al" Smith`, "sip:alice@example.com"
//	Bob Jones <sip:bob@example.com>                     → "Bob Jones", "sip:bob@example.com"
//	<sip:carol@example.com>                             → "", "sip:carol@example.com"
//	sip:dave@example.com;tag=9                          → "", "sip:dave@example.com"
//
// The display name is unescaped, trimmed and stripped of control characters,
// so it is safe to print on a terminal. Malformed input (an unterminated quote
// or angle bracket, spaces in a bare URI) yields an empty URI, and an empty
// display name unless one was readable; it never panics.
func ParseDisplayName(headerValue string) (display, uri string) {
	s := strings.TrimSpace(headerValue)
	if s == "" {
		return "", ""
	}
	if s[0] == '"' {
		name, rest, ok := readQuoted(s)
		if !ok {
			return "", ""
		}
		return cleanText(name, false), angleURI(strings.TrimSpace(rest))
	}
	if i := strings.IndexByte(s, '<'); i >= 0 {
		uri = angleURI(s[i:])
		if uri == "" {
			return "", ""
		}
		return cleanText(s[:i], true), uri
	}
	// addr-spec: header parameters (;tag=…) follow the URI (RFC 3261 §20).
	if strings.ContainsAny(s, "\"<>") || strings.IndexFunc(s, unicode.IsSpace) >= 0 || hasControl(s) {
		return "", ""
	}
	if i := strings.IndexByte(s, ';'); i >= 0 {
		s = s[:i]
	}
	return "", s
}

// readQuoted reads a quoted-string (RFC 3261 §25.1) at the start of s,
// resolving quoted-pairs. It returns the content and what follows the
// closing quote; ok is false when the quote is not terminated.
func readQuoted(s string) (content, rest string, ok bool) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
		case '"':
			return b.String(), s[i+1:], true
		default:
			b.WriteByte(c)
		}
	}
	return "", "", false
}

// angleURI returns the URI inside the "<…>" that s starts with, or "".
func angleURI(s string) string {
	if !strings.HasPrefix(s, "<") {
		return ""
	}
	j := strings.IndexByte(s, '>')
	if j < 0 {
		return ""
	}
	u := strings.TrimSpace(s[1:j])
	if u == "" || strings.ContainsAny(u, "<\"") || strings.IndexFunc(u, unicode.IsSpace) >= 0 || hasControl(u) {
		return ""
	}
	return u
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

func hasControl(s string) bool {
	return strings.IndexFunc(s, unicode.IsControl) >= 0
}

// NormalizeTarget checks a user-typed dial or transfer target and returns the
// URI to hand to SIP. It accepts a bare URI or user ("sip:bob@example.com",
// "bob@example.com", "100") and a pasted name-addr ("Bob <sip:bob@example.com>",
// from which the URI is taken). It refuses empty input, control characters
// (no CR/LF injection into headers), white space, quotes or brackets left in
// the URI, and overlong input; the error wraps ErrInvalidTarget.
func NormalizeTarget(target string) (string, error) {
	if hasControl(target) {
		return "", fmt.Errorf("%w: contains a control character", ErrInvalidTarget)
	}
	s := strings.TrimSpace(target)
	if s == "" {
		return "", fmt.Errorf("%w: empty", ErrInvalidTarget)
	}
	if len(s) > maxTargetLen {
		return "", fmt.Errorf("%w: longer than %d bytes", ErrInvalidTarget, maxTargetLen)
	}
	if s[0] == '"' || strings.ContainsAny(s, "<>") {
		_, u := ParseDisplayName(s)
		if u == "" {
			return "", fmt.Errorf("%w: %q is not a SIP address", ErrInvalidTarget, s)
		}
		s = u
	}
	if strings.ContainsAny(s, "\"<>") || strings.IndexFunc(s, unicode.IsSpace) >= 0 {
		return "", fmt.Errorf("%w: %q contains white space, quotes or brackets", ErrInvalidTarget, s)
	}
	return s, nil
}

// normalizeDigits checks a DTMF string (0-9 * # A-D, case-insensitive) and
// returns it upper-cased.
func normalizeDigits(digits string) (string, error) {
	if digits == "" {
		return "", fmt.Errorf("%w: empty", ErrInvalidDigits)
	}
	for _, r := range digits {
		switch {
		case r >= '0' && r <= '9', r == '*', r == '#', r >= 'A' && r <= 'D', r >= 'a' && r <= 'd':
		default:
			return "", fmt.Errorf("%w: %q", ErrInvalidDigits, r)
		}
	}
	return strings.ToUpper(digits), nil
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
