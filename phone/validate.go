package phone

import (
	"errors"
	"fmt"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// ErrInvalidInput is wrapped by every validation error: nothing is sent when
// a user-supplied URI, display name or header value is refused.
var ErrInvalidInput = errors.New("invalid input")

// checkText refuses control characters (CR, LF, NUL …) in a value that goes
// into a SIP header: RFC 3261 §25.1 allows none of them in header values, and
// accepting them would let a user inject headers.
func checkText(what, v string) error {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < 0x20 && c != '\t' || c == 0x7f {
			return fmt.Errorf("%w: %s contains a control character (0x%02x)", ErrInvalidInput, what, c)
		}
	}
	return nil
}

// ValidateDisplayName checks a display name for use in From/To.
func ValidateDisplayName(v string) error {
	if err := checkText("display name", v); err != nil {
		return err
	}
	if strings.ContainsAny(v, "\"\\") {
		return fmt.Errorf("%w: display name %q contains a quote or backslash", ErrInvalidInput, v)
	}
	return nil
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
// configuration. It accepts "sip:user@host[:port][;params]", "sips:…", and
// "user@host" (sip: is added). Control characters, spaces and angle brackets
// are refused.
func ParseURI(s string) (sip.Uri, error) {
	var u sip.Uri
	if err := checkText("URI", s); err != nil {
		return u, err
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return u, fmt.Errorf("%w: empty URI", ErrInvalidInput)
	}
	if strings.ContainsAny(s, " <>\"") {
		return u, fmt.Errorf("%w: URI %q contains a space, quote or angle bracket", ErrInvalidInput, s)
	}
	low := strings.ToLower(s)
	if !strings.HasPrefix(low, "sip:") && !strings.HasPrefix(low, "sips:") {
		if strings.Contains(low, ":") && !strings.Contains(low, "@") {
			return u, fmt.Errorf("%w: URI %q: want a sip: or sips: URI", ErrInvalidInput, s)
		}
		s = "sip:" + s
	}
	if err := sip.ParseUri(s, &u); err != nil {
		return u, fmt.Errorf("%w: URI %q: %v", ErrInvalidInput, s, err)
	}
	if u.Host == "" {
		return u, fmt.Errorf("%w: URI %q has no host", ErrInvalidInput, s)
	}
	return u, nil
}

// ResolveTarget turns what a user typed into a request URI: a full URI, a
// user@host, or a bare user/number which needs an account domain.
func ResolveTarget(target, domain string) (sip.Uri, error) {
	t := strings.TrimSpace(target)
	if err := checkText("target", t); err != nil {
		return sip.Uri{}, err
	}
	low := strings.ToLower(t)
	if !strings.HasPrefix(low, "sip:") && !strings.HasPrefix(low, "sips:") && !strings.Contains(t, "@") {
		if t == "" {
			return sip.Uri{}, fmt.Errorf("%w: empty target", ErrInvalidInput)
		}
		if domain == "" {
			return sip.Uri{}, fmt.Errorf("%w: %q is not a SIP URI and no account gives a domain to call it at", ErrInvalidInput, t)
		}
		t = t + "@" + domain
	}
	return ParseURI(t)
}

// hostPortOrURI parses a registrar/proxy given as host:port or as a sip: URI.
func hostPortOrURI(s string) (sip.Uri, error) {
	low := strings.ToLower(s)
	if strings.HasPrefix(low, "sip:") || strings.HasPrefix(low, "sips:") {
		return ParseURI(s)
	}
	var u sip.Uri
	if err := checkText("address", s); err != nil {
		return u, err
	}
	if err := sip.ParseUri("sip:"+s, &u); err != nil || u.Host == "" || u.User != "" {
		return u, fmt.Errorf("%w: %q: want host:port or a sip: URI", ErrInvalidInput, s)
	}
	return u, nil
}
