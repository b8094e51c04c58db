package phone

import (
	"errors"
	"fmt"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/teaphone/teaphone/internal/sipaddr"
)

// ErrInvalidInput is wrapped by every validation error: nothing is sent when
// a user-supplied URI, display name or header value is refused.
var ErrInvalidInput = errors.New("invalid input")

// checkText refuses control characters (CR, LF, NUL …) in a value that goes
// into a SIP header (sipaddr.CheckText, RFC 3261 §25.1): accepting them
// would let a user inject headers.
func checkText(what, v string) error {
	if err := sipaddr.CheckText(v); err != nil {
		return fmt.Errorf("%w: %s %v", ErrInvalidInput, what, err)
	}
	return nil
}

// ValidateDisplayName checks a display name for use in From/To. Quotes and
// backslashes are fine: the account escapes them (sipaddr.EscapeQuoted).
func ValidateDisplayName(v string) error {
	return checkText("display name", v)
}

// ValidateHeader checks an extra header name and value.
func ValidateHeader(name, value string) error {
	if name == "" {
		return fmt.Errorf("%w: empty header name", ErrInvalidInput)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		// RFC 3261 §25.1 token characters
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-.!%*_+`'~", c) >= 0) {
			return fmt.Errorf("%w: header name %q has character %q", ErrInvalidInput, name, c)
		}
	}
	return checkText("header "+name, value)
}

// ParseURI validates and parses a SIP URI typed by a user or read from the
// configuration (sipaddr.ParseURI). It accepts "sip:user@host[:port][;params]",
// "sips:…", and "user@host" (sip: is added). Control characters, spaces,
// angle brackets and tel: URIs are refused.
func ParseURI(s string) (sip.Uri, error) {
	if err := checkText("URI", s); err != nil {
		return sip.Uri{}, err
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return sip.Uri{}, fmt.Errorf("%w: empty URI", ErrInvalidInput)
	}
	if !sipaddr.HasSIPScheme(s) {
		if user, _, ok := strings.Cut(s, "@"); !ok || strings.Contains(user, ":") {
			return sip.Uri{}, fmt.Errorf("%w: URI %q: want a sip: or sips: URI", ErrInvalidInput, s)
		}
		s = "sip:" + s
	}
	u, err := sipaddr.ParseURI(s)
	if err != nil {
		return sip.Uri{}, fmt.Errorf("%w: URI %q: %v", ErrInvalidInput, s, err)
	}
	return toSIPGo(u)
}

// ResolveTarget turns what a user typed into a request URI
// (sipaddr.ResolveTarget): a full URI, a user@host, or a bare user/number
// or tel: URI, which needs an account domain. A name-addr is refused: the
// client core takes the URI out of a pasted one (sessions.NormalizeTarget).
func ResolveTarget(target, domain string) (sip.Uri, error) {
	if strings.ContainsAny(target, "<>\"") {
		return sip.Uri{}, fmt.Errorf("%w: target %q: want a URI, user or number, not a name-addr", ErrInvalidInput, strings.TrimSpace(target))
	}
	u, err := sipaddr.ResolveTarget(target, domain)
	if err != nil {
		return sip.Uri{}, fmt.Errorf("%w: target %q: %v", ErrInvalidInput, strings.TrimSpace(target), err)
	}
	return toSIPGo(u)
}

// hostPortOrURI parses a registrar/proxy given as host:port or as a sip: URI.
func hostPortOrURI(s string) (sip.Uri, error) {
	if sipaddr.HasSIPScheme(s) {
		return ParseURI(s)
	}
	if err := checkText("address", s); err != nil {
		return sip.Uri{}, err
	}
	host, port, err := sipaddr.ParseHostPort(s)
	if err != nil {
		return sip.Uri{}, fmt.Errorf("%w: %q: want host:port or a sip: URI (%v)", ErrInvalidInput, s, err)
	}
	return toSIPGo(sipaddr.URI{Scheme: "sip", Host: host, Port: port})
}

// toSIPGo hands a checked URI to sipgo's parser, which keeps IPv6 hosts in
// brackets and splits the parameters and headers into its own types.
func toSIPGo(u sipaddr.URI) (sip.Uri, error) {
	if u.Scheme != "sip" && u.Scheme != "sips" {
		return sip.Uri{}, fmt.Errorf("%w: URI %q: want a sip: or sips: URI", ErrInvalidInput, u.String())
	}
	var su sip.Uri
	if err := sip.ParseUri(u.String(), &su); err != nil {
		return sip.Uri{}, fmt.Errorf("%w: URI %q: %v", ErrInvalidInput, u.String(), err)
	}
	return su, nil
}
