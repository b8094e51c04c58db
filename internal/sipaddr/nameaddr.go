package sipaddr

import (
	"strings"
	"unicode/utf8"
)

// NameAddr is a From, To, Contact or Refer-To header value (RFC 3261
// §20.10): an optional display name and an address, then header
// parameters such as the tag.
type NameAddr struct {
	// Display is the display name, unescaped ("" when absent). It is
	// returned as the peer wrote it: pass it through CheckText, or clean
	// it, before use.
	Display string
	// URI is the addr-spec. A sip:, sips: or tel: URI has passed ParseURI;
	// any other scheme (RFC 3261 §25.1 absoluteURI: "urn:", "mailto:")
	// holds printable ASCII only, without spaces, quotes or angle brackets.
	URI string
	// Params are the header parameters after the address, without the
	// first ";" ("tag=1;expires=60"), "" when there are none.
	Params string
}

// ParseNameAddr parses a name-addr (`"Alice" <sip:alice@example.com>;tag=1`,
// `Bob <sip:bob@example.com>`, `<sip:carol@example.com>`) or a bare
// addr-spec (`sip:dave@example.com;tag=9`, whose parameters are header
// parameters, RFC 3261 §20.10). A quoted display name may be written with
// quoted-pairs (RFC 3261 §25.1), which are resolved; an unquoted one is a
// list of words, which comes back separated by single spaces. On error the
// NameAddr is empty.
func ParseNameAddr(s string) (NameAddr, error) {
	var a NameAddr
	s = strings.Trim(s, " \t")
	if s == "" {
		return a, errorf(ErrInvalidNameAddr, "empty")
	}
	var rest string
	switch i := strings.IndexByte(s, '<'); {
	case s[0] == '"':
		display, after, err := unquote(s)
		if err != nil {
			return NameAddr{}, err
		}
		rest = strings.TrimLeft(after, " \t")
		if !strings.HasPrefix(rest, "<") {
			return NameAddr{}, errorf(ErrInvalidNameAddr, "no <address> after the display name")
		}
		a.Display = display
	case i >= 0:
		words := s[:i]
		if strings.ContainsAny(words, "\">") {
			return NameAddr{}, errorf(ErrInvalidNameAddr, "quote or '>' in an unquoted display name")
		}
		a.Display = strings.Join(strings.Fields(words), " ")
		rest = s[i:]
	default:
		// addr-spec without brackets: parameters after it belong to the
		// header, not to the URI (RFC 3261 §20.10).
		uri, params, _ := strings.Cut(s, ";")
		uri = strings.TrimRight(uri, " \t") // SEMI = SWS ";" SWS
		if err := checkAddrSpec(uri); err != nil {
			return NameAddr{}, err
		}
		a.URI = uri
		if err := a.setParams(params); err != nil {
			return NameAddr{}, err
		}
		return a, nil
	}
	end := strings.IndexByte(rest, '>')
	if end < 0 {
		return NameAddr{}, errorf(ErrInvalidNameAddr, "missing '>'")
	}
	if err := checkAddrSpec(rest[1:end]); err != nil {
		return NameAddr{}, err
	}
	a.URI = rest[1:end]
	after := strings.TrimLeft(rest[end+1:], " \t")
	if after != "" {
		if after[0] != ';' {
			return NameAddr{}, errorf(ErrInvalidNameAddr, "unexpected %q after the address", after)
		}
		if err := a.setParams(after[1:]); err != nil {
			return NameAddr{}, err
		}
	}
	return a, nil
}

func (a *NameAddr) setParams(p string) error {
	p = strings.Trim(p, " \t")
	if err := CheckText(p); err != nil {
		return rekind(ErrInvalidNameAddr, err)
	}
	if strings.ContainsAny(p, "<>") {
		return errorf(ErrInvalidNameAddr, "angle bracket in the header parameters")
	}
	a.Params = p
	return nil
}

// unquote reads the quoted-string s starts with (RFC 3261 §25.1), resolving
// quoted-pairs, and returns its content and what follows it.
func unquote(s string) (content, rest string, err error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
		case '"':
			return b.String(), s[i+1:], nil
		default:
			b.WriteByte(c)
		}
	}
	return "", "", errorf(ErrInvalidNameAddr, "unterminated quoted display name")
}

// checkAddrSpec checks the address of a name-addr: ParseURI for the
// schemes teaphone calls, printable ASCII for any other absoluteURI.
func checkAddrSpec(u string) error {
	if u == "" {
		return errorf(ErrInvalidNameAddr, "empty address")
	}
	scheme, _, ok := strings.Cut(u, ":")
	if !ok || !isScheme(scheme) {
		return errorf(ErrInvalidNameAddr, "address %q has no scheme", u)
	}
	switch strings.ToLower(scheme) {
	case "sip", "sips", "tel":
		if _, err := ParseURI(u); err != nil {
			return rekind(ErrInvalidNameAddr, err)
		}
		return nil
	}
	for i := 0; i < len(u); i++ {
		if c := u[i]; c <= ' ' || c >= 0x7f || c == '"' || c == '<' || c == '>' {
			return errorf(ErrInvalidNameAddr, "character %q is not allowed in the address", c)
		}
	}
	return nil
}

// isScheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (RFC 3261 §25.1).
func isScheme(s string) bool {
	if s == "" || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isAlphanum(c) && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

// String formats a as `"Display" <uri>;params`, always with angle brackets
// and with the display name quoted (EscapeQuoted). A display name cannot
// carry CR, LF or other control characters (no quoted-pair can hold CR or
// LF), so String writes each character CheckText refuses as a space, and
// invalid UTF-8 as U+FFFD: the result is always one header line.
// ParseNameAddr(a.String()) gives a back when a came from ParseNameAddr and
// its Display passes CheckText.
func (a NameAddr) String() string {
	var b strings.Builder
	if a.Display != "" {
		d := strings.Map(func(r rune) rune {
			if isControl(r) {
				return ' '
			}
			return r
		}, strings.ToValidUTF8(a.Display, string(utf8.RuneError)))
		b.WriteByte('"')
		b.WriteString(EscapeQuoted(d))
		b.WriteString(`" `)
	}
	b.WriteByte('<')
	b.WriteString(a.URI)
	b.WriteByte('>')
	if a.Params != "" {
		b.WriteByte(';')
		b.WriteString(a.Params)
	}
	return b.String()
}

// EscapeQuoted escapes the double quotes and backslashes of s as
// quoted-pairs, for use between the quotes of a quoted-string (RFC 3261
// §25.1). It does not check s; see CheckText.
func EscapeQuoted(s string) string {
	if !strings.ContainsAny(s, `"\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
