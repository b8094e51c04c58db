package sipaddr

import (
	"strconv"
	"strings"
)

// URI is a sip: or sips: URI (RFC 3261 §19.1.1) or a tel: URI (RFC 3966).
// Parts are kept as written, percent escapes included, so String gives back
// what was parsed (with the scheme in lower case).
type URI struct {
	// Scheme is "sip", "sips" or "tel", in lower case.
	Scheme string
	// User is the user part of a sip:/sips: URI ("" when absent), or the
	// number of a tel: URI ("+1-555-0100", "*97").
	User string
	// Password follows the user after ":" (RFC 3261 §19.1.1 advises against
	// it, but it is legal); sip:/sips: only.
	Password string
	// Host is a host name, an IPv4 address or an IPv6 address without its
	// brackets; "" for tel:.
	Host string
	// Port is the port, 1-65535, or 0 when absent; sip:/sips: only.
	Port int
	// Params are the URI parameters (";transport=tcp", ";lr") in order.
	Params []Param
	// Headers is what follows "?" ("subject=hi&priority=urgent"), "" when
	// absent; sip:/sips: only.
	Headers string
}

// Param is one URI parameter; Value is "" for a parameter without "=".
type Param struct {
	Name, Value string
}

// HasSIPScheme reports whether s starts with "sip:" or "sips:", in any case.
func HasSIPScheme(s string) bool {
	return hasPrefixFold(s, "sip:") || hasPrefixFold(s, "sips:")
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// ParseURI parses a sip:, sips: or tel: URI, the scheme in any case. It is
// strict, because the result goes into request lines and headers: every
// character must be one RFC 3261 §25.1 (or RFC 3966 §3 for tel:) allows in
// its part, anything else percent-encoded, so white space, quotes, angle
// brackets, control characters and raw non-ASCII are refused. A sip: URI
// needs a host; its port, when given, is 1-65535.
func ParseURI(s string) (URI, error) {
	var u URI
	if err := CheckText(s); err != nil {
		return u, rekind(ErrInvalidURI, err)
	}
	if strings.ContainsAny(s, " \t<>\"") {
		return u, errorf(ErrInvalidURI, "must not contain spaces, '<', '>' or '\"'")
	}
	scheme, rest, ok := strings.Cut(s, ":")
	switch scheme = strings.ToLower(scheme); {
	case !ok:
		return u, errorf(ErrInvalidURI, "no sip:, sips: or tel: scheme")
	case scheme == "tel":
		return parseTel(rest)
	case scheme != "sip" && scheme != "sips":
		return u, errorf(ErrInvalidURI, "scheme %q: want sip:, sips: or tel:", scheme)
	}
	u.Scheme = scheme
	// RFC 3261 §25.1: "@" may appear only between userinfo and host; no
	// other part of a SIP URI allows it unescaped.
	if strings.Count(rest, "@") > 1 {
		return u, errorf(ErrInvalidURI, "more than one '@'")
	}
	if userinfo, hostpart, ok := strings.Cut(rest, "@"); ok {
		user, password, hasPassword := strings.Cut(userinfo, ":")
		if user == "" {
			return u, errorf(ErrInvalidURI, "empty user before '@'")
		}
		if err := checkChars(user, isUserChar, "user"); err != nil {
			return u, err
		}
		if hasPassword {
			if password == "" {
				return u, errorf(ErrInvalidURI, "empty password after ':'")
			}
			if err := checkChars(password, isPasswordChar, "password"); err != nil {
				return u, err
			}
		}
		u.User, u.Password = user, password
		rest = hostpart
	}
	rest, headers, hasHeaders := strings.Cut(rest, "?")
	hostport, params, hasParams := strings.Cut(rest, ";")
	host, port, err := ParseHostPort(hostport)
	if err != nil {
		return u, err
	}
	u.Host, u.Port = host, port
	if hasParams {
		if u.Params, err = parseParams(params, isParamChar); err != nil {
			return u, err
		}
	}
	if hasHeaders {
		if err := checkHeaders(headers); err != nil {
			return u, err
		}
		u.Headers = headers
	}
	return u, nil
}

// parseTel parses what follows "tel:" (RFC 3966 §3): a global number
// ("+" and digits) or a local one (hex digits, "*", "#"), either with the
// visual separators "-", ".", "(", ")", then parameters.
func parseTel(rest string) (URI, error) {
	u := URI{Scheme: "tel"}
	number, params, hasParams := strings.Cut(rest, ";")
	digits := strings.TrimPrefix(number, "+")
	n := 0
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		switch {
		case isDigit(c), number[0] != '+' && (isHex(c) || c == '*' || c == '#'):
			n++
		case c == '-' || c == '.' || c == '(' || c == ')':
		default:
			return u, errorf(ErrInvalidURI, "character %q is not allowed in a telephone number", c)
		}
	}
	if n == 0 {
		return u, errorf(ErrInvalidURI, "tel: URI without digits")
	}
	u.User = number
	if hasParams {
		var err error
		if u.Params, err = parseParams(params, isParamChar); err != nil {
			return u, err
		}
	}
	return u, nil
}

// parseParams splits "a=1;b" into parameters (RFC 3261 §19.1.1
// uri-parameters, RFC 3966 par): each name and value non-empty.
func parseParams(s string, ok func(byte) bool) ([]Param, error) {
	var out []Param
	for _, p := range strings.Split(s, ";") {
		name, value, hasValue := strings.Cut(p, "=")
		if name == "" {
			return nil, errorf(ErrInvalidURI, "empty parameter name")
		}
		if hasValue && value == "" {
			return nil, errorf(ErrInvalidURI, "parameter %q has an empty value", name)
		}
		if err := checkChars(name, ok, "parameter"); err != nil {
			return nil, err
		}
		if err := checkChars(value, ok, "parameter"); err != nil {
			return nil, err
		}
		out = append(out, Param{Name: name, Value: value})
	}
	return out, nil
}

// checkHeaders checks "h1=v1&h2=v2" (RFC 3261 §19.1.1 headers).
func checkHeaders(s string) error {
	for _, h := range strings.Split(s, "&") {
		name, value, ok := strings.Cut(h, "=")
		if !ok || name == "" {
			return errorf(ErrInvalidURI, "header %q: want name=value", h)
		}
		if err := checkChars(name, isHeaderChar, "header"); err != nil {
			return err
		}
		if err := checkChars(value, isHeaderChar, "header"); err != nil {
			return err
		}
	}
	return nil
}

// checkChars checks that every byte of s is allowed by ok or is part of a
// percent escape "%" HEXDIG HEXDIG (RFC 3261 §25.1 escaped).
func checkChars(s string, ok func(byte) bool, part string) error {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return errorf(ErrInvalidURI, "bad percent escape in the %s part", part)
			}
			i += 2
		case c >= 0x80:
			return errorf(ErrInvalidURI, "non-ASCII character in the %s part (percent-encode it)", part)
		case !ok(c):
			return errorf(ErrInvalidURI, "character %q is not allowed in the %s part", c, part)
		}
	}
	return nil
}

// Character classes of RFC 3261 §25.1.
func isDigit(c byte) bool    { return c >= '0' && c <= '9' }
func isAlpha(c byte) bool    { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isAlphanum(c byte) bool { return isAlpha(c) || isDigit(c) }
func isHex(c byte) bool      { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// isUnreserved: alphanum / mark.
func isUnreserved(c byte) bool { return isAlphanum(c) || strings.IndexByte("-_.!~*'()", c) >= 0 }

// isUserChar: unreserved / user-unreserved.
func isUserChar(c byte) bool { return isUnreserved(c) || strings.IndexByte("&=+$,;?/", c) >= 0 }

// isPasswordChar: unreserved / "&" / "=" / "+" / "$" / ",".
func isPasswordChar(c byte) bool { return isUnreserved(c) || strings.IndexByte("&=+$,", c) >= 0 }

// isParamChar: param-unreserved / unreserved (RFC 3966 paramchar is the same set).
func isParamChar(c byte) bool { return isUnreserved(c) || strings.IndexByte("[]/:&+$", c) >= 0 }

// isHeaderChar: hnv-unreserved / unreserved.
func isHeaderChar(c byte) bool { return isUnreserved(c) || strings.IndexByte("[]/?:+$", c) >= 0 }

// String formats u; ParseURI(u.String()) gives u back for every u that
// ParseURI returned.
func (u URI) String() string {
	var b strings.Builder
	b.WriteString(u.Scheme)
	b.WriteByte(':')
	if u.Scheme == "tel" {
		b.WriteString(u.User)
	} else {
		if u.User != "" {
			b.WriteString(u.User)
			if u.Password != "" {
				b.WriteByte(':')
				b.WriteString(u.Password)
			}
			b.WriteByte('@')
		}
		b.WriteString(u.HostPort())
	}
	for _, p := range u.Params {
		b.WriteByte(';')
		b.WriteString(p.Name)
		if p.Value != "" {
			b.WriteByte('=')
			b.WriteString(p.Value)
		}
	}
	if u.Headers != "" {
		b.WriteByte('?')
		b.WriteString(u.Headers)
	}
	return b.String()
}

// HostPort returns host[:port], with an IPv6 address in brackets.
func (u URI) HostPort() string {
	h := u.Host
	if strings.Contains(h, ":") {
		h = "[" + h + "]"
	}
	if u.Port != 0 {
		h += ":" + strconv.Itoa(u.Port)
	}
	return h
}

// Param returns the value of the first parameter named name, compared
// without regard to case (RFC 3261 §19.1.4); ok is false when there is none.
func (u URI) Param(name string) (value string, ok bool) {
	for _, p := range u.Params {
		if strings.EqualFold(p.Name, name) {
			return p.Value, true
		}
	}
	return "", false
}
