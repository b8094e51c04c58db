package sipcheck

import (
	"bytes"
	"strings"
)

// field is one header field, unfolded, its name in the long form and lower
// case ("l" becomes "content-length").
type field struct {
	name  string
	value string
}

// message is a request or response split into its parts, without judging it.
type message struct {
	start  string  // the start line, as received
	fields []field // the header fields in order
	body   []byte  // what follows the empty line
	headOK bool    // an empty line ends the header
}

// compact maps the compact forms of RFC 3261 §7.3.3 (and §20) to the long.
var compact = map[string]string{
	"i": "call-id", "m": "contact", "e": "content-encoding", "l": "content-length",
	"c": "content-type", "f": "from", "s": "subject", "k": "supported", "t": "to", "v": "via",
}

// split parses raw into its start line and header fields. Lines end in
// CRLF (RFC 3261 §7); a line that starts with white space continues the
// previous one (§7.3.1: folding). It reports false when raw has no line or a
// header line has no colon: no answer can be built from such bytes.
func split(raw []byte) (message, bool) {
	var m message
	head := raw
	if i := bytes.Index(raw, []byte("\r\n\r\n")); i >= 0 {
		head, m.body, m.headOK = raw[:i], raw[i+4:], true
	}
	lines := strings.Split(string(head), "\r\n")
	if len(lines) < 2 || lines[0] == "" {
		return m, false
	}
	m.start = lines[0]
	for _, l := range lines[1:] {
		if l != "" && (l[0] == ' ' || l[0] == '\t') {
			if len(m.fields) == 0 {
				return m, false
			}
			f := &m.fields[len(m.fields)-1]
			f.value = strings.TrimSpace(f.value + " " + strings.TrimSpace(l))
			continue
		}
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			return m, false
		}
		name = strings.ToLower(strings.TrimRight(name, " \t"))
		if long, ok := compact[name]; ok {
			name = long
		}
		m.fields = append(m.fields, field{name: name, value: strings.TrimSpace(value)})
	}
	return m, true
}

// all returns the values of every field called name, in order.
func (m message) all(name string) []string {
	var vs []string
	for _, f := range m.fields {
		if f.name == name {
			vs = append(vs, f.value)
		}
	}
	return vs
}

// get returns the value of the first field called name.
func (m message) get(name string) (string, bool) {
	for _, f := range m.fields {
		if f.name == name {
			return f.value, true
		}
	}
	return "", false
}

// isToken reports whether s is an RFC 3261 §25.1 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-.!%*_+`'~", c) >= 0) {
			return false
		}
	}
	return true
}

// isDigits reports whether s is 1*DIGIT.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// splitList splits a header value at the commas that are outside quoted
// strings and angle brackets (RFC 3261 §7.3.1: a list of values).
func splitList(v string) []string { return splitOutside(v, ',') }

// splitOutside splits v at each sep outside quoted strings and angle
// brackets, trimming white space around the parts.
func splitOutside(v string, sep byte) []string {
	var parts []string
	quoted, angle, escaped, from := false, false, false, 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case escaped:
			escaped = false
		case quoted && c == '\\':
			escaped = true
		case c == '"':
			quoted = !quoted
		case !quoted && c == '<':
			angle = true
		case !quoted && c == '>':
			angle = false
		case !quoted && !angle && c == sep:
			parts = append(parts, strings.TrimSpace(v[from:i]))
			from = i + 1
		}
	}
	return append(parts, strings.TrimSpace(v[from:]))
}

// isScheme reports whether s is an RFC 3261 §25.1 scheme:
// ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
func isScheme(s string) bool {
	if s == "" || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// badAddress says what is wrong with a name-addr or addr-spec (RFC 3261
// §20.10, §25.1: the From, To and Contact forms), or "" when nothing is.
// list says whether commas separate values (Contact) or may not appear
// outside brackets at all (From, To).
func badAddress(v string, list bool) string {
	quoted, escaped, lt := false, false, -1
	for i := 0; i < len(v) && lt < 0; i++ {
		c := v[i]
		switch {
		case escaped:
			escaped = false
		case quoted && c == '\\':
			escaped = true
		case c == '"':
			quoted = !quoted
		case !quoted && c == '<':
			lt = i
		}
	}
	if quoted {
		return "unterminated quoted string"
	}
	if lt < 0 {
		// addr-spec: "If the URI contains a comma, question mark or
		// semicolon, the URI MUST be enclosed in angle brackets" (§20.10);
		// a semicolon then starts the header parameters.
		uri, _, _ := strings.Cut(v, ";")
		uri = strings.TrimSpace(uri)
		bad := "?,"
		if list {
			bad = "?"
		}
		if strings.ContainsAny(uri, bad) {
			return "URI with ? or , not in <>"
		}
		if strings.ContainsAny(uri, " \t\"<>") {
			return "white space or quote in URI"
		}
		return ""
	}
	name := strings.TrimSpace(v[:lt])
	if name != "" && name[0] != '"' {
		// display-name = *(token LWS) / quoted-string
		for _, w := range strings.Fields(name) {
			if !isToken(w) {
				return "display name neither token nor quoted"
			}
		}
	}
	gt := strings.IndexByte(v[lt:], '>')
	if gt < 0 {
		return "< without >"
	}
	uri := v[lt+1 : lt+gt]
	if uri == "" || strings.ContainsAny(uri, " \t\"<") {
		return "white space in <URI>"
	}
	return ""
}
