// Package sipcheck screens the raw bytes of an incoming SIP message before
// the SIP stack parses it, so that a malformed request is answered the way
// RFC 3261 and RFC 4475 ask (400 naming the problem, 416, 420, 415, 406,
// 505, 513) or dropped when it cannot be answered, and never reaches a
// handler. It knows no sockets: Check judges one message, Answer builds the
// response, Destination says where a UDP answer goes, Frame cuts messages
// out of a stream.
package sipcheck

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// Action is what to do with a message.
type Action int

// The actions.
const (
	// Pass lets the message go on to the SIP stack.
	Pass Action = iota
	// Reject answers the message with Verdict.Code and drops it.
	Reject
	// Drop discards the message without an answer.
	Drop
)

// Verdict is the outcome of Check.
type Verdict struct {
	Action Action
	Code   int      // the status code of a Reject
	Reason string   // its reason phrase, naming the problem
	Header []string // extra header fields of the answer, "Name: value"
}

func (v Verdict) String() string {
	switch v.Action {
	case Pass:
		return "pass"
	case Drop:
		return "drop: " + v.Reason
	}
	return fmt.Sprintf("%d %s", v.Code, v.Reason)
}

// Policy is what the receiving UAS supports.
type Policy struct {
	// Supported lists the option tags understood in Require (§8.2.2.3).
	Supported []string
	// Accept gives, per method, the body types taken (§8.2.3); the bodies
	// of methods not listed are not looked at.
	Accept map[string][]string
	// Produces gives, per method, the body type of our answers: a request
	// whose Accept excludes it gets 406 (§21.4.7).
	Produces map[string]string
	// MaxSize is the largest message taken; larger ones get 513
	// (§21.5.8). 0 means DefaultMaxSize.
	MaxSize int
}

// DefaultMaxSize is the largest message taken when Policy.MaxSize is 0.
const DefaultMaxSize = 32 << 10

func bad(problem string) Verdict {
	return Verdict{Action: Reject, Code: 400, Reason: "Bad Request (" + clean(problem) + ")"}
}

func drop(why string) Verdict { return Verdict{Action: Drop, Reason: why} }

// Check judges one whole message: a UDP datagram (datagram true) or a
// message framed out of a stream by Frame.
func (p Policy) Check(raw []byte, datagram bool) Verdict {
	m, ok := split(raw)
	if !ok {
		return drop("not a SIP message")
	}
	if strings.HasPrefix(m.start, "SIP/") {
		// A response is never answered (RFC 3261 §8.1.3.1 discards the
		// bad ones): the SIP stack judges it.
		return Verdict{}
	}
	method, _, _ := strings.Cut(m.start, " ")
	if len(m.all("via")) == 0 || !m.headOK {
		// §8.2.6.2: an answer is routed by the Via; without one, or
		// without the end of the header, there is nothing to answer.
		return drop("no Via or no end of header")
	}
	v := p.check(m, method, len(raw), datagram)
	if v.Action == Pass {
		v = parsable(raw)
	}
	if v.Action == Reject && method == "ACK" {
		// §17.1.1.3: an ACK is never answered.
		return drop("ACK: " + v.Reason)
	}
	return v
}

func (p Policy) check(m message, method string, size int, datagram bool) Verdict {
	max := p.MaxSize
	if max == 0 {
		max = DefaultMaxSize
	}
	if size > max {
		return Verdict{Action: Reject, Code: 513, Reason: "Message Too Large"}
	}
	if v := requestLine(m.start); v.Action != Pass {
		return v
	}
	if v := headers(m, method); v.Action != Pass {
		return v
	}
	// §18.3: on a datagram, a Content-Length larger than the body is an
	// error (a stream's is framed by it: Frame waits for the rest).
	n, _ := strconv.Atoi(firstOr(m, "content-length", "0"))
	if datagram && n > len(m.body) {
		return bad("Content-Length larger than body")
	}
	if method == "ACK" || method == "CANCEL" {
		return Verdict{}
	}
	return p.extensions(m, method, n)
}

// requestLine checks Method SP Request-URI SP SIP-Version (RFC 3261 §7.1,
// §25.1: single spaces, no white space in the URI).
func requestLine(line string) Verdict {
	parts := strings.Split(line, " ")
	if len(parts) != 3 || !isToken(parts[0]) || parts[1] == "" || strings.ContainsAny(line, "\t") {
		return bad("malformed Request-Line")
	}
	if version := parts[2]; version != "SIP/2.0" {
		if strings.HasPrefix(version, "SIP/") {
			// §8.2.2 / §21.5.7
			return Verdict{Action: Reject, Code: 505, Reason: "Version Not Supported"}
		}
		return bad("malformed SIP-Version")
	}
	uri := parts[1]
	scheme, rest, ok := strings.Cut(uri, ":")
	if !ok || !isScheme(scheme) || rest == "" || strings.ContainsAny(uri, "<>\"") {
		return bad("malformed Request-URI")
	}
	if s := strings.ToLower(scheme); s != "sip" && s != "sips" {
		// §8.2.2.1
		return Verdict{Action: Reject, Code: 416, Reason: "Unsupported URI Scheme"}
	}
	if strings.Contains(uri[strings.LastIndexByte(uri, '@')+1:], "?") {
		// §19.1.1's table: headers are not allowed in a Request-URI.
		return bad("headers in Request-URI")
	}
	return Verdict{}
}

// single lists the header fields that may appear at most once (RFC 3261
// §7.3.1: only the comma-separated list fields may repeat).
var single = []string{"to", "from", "call-id", "cseq", "max-forwards", "content-length", "content-type", "expires", "date"}

// headers checks the fields every request has (§8.1.1) and the syntax of
// the ones the stack relies on.
func headers(m message, method string) Verdict {
	for _, name := range single {
		if len(m.all(name)) > 1 {
			return bad("more than one " + name)
		}
	}
	for _, name := range []string{"to", "from", "call-id", "cseq"} {
		if len(m.all(name)) == 0 {
			return bad("missing " + name)
		}
	}
	// §20.16, §8.1.1.5: CSeq is a number below 2**31 and the method of
	// the request.
	num, cseqMethod, _ := strings.Cut(firstOr(m, "cseq", ""), " ")
	if n, err := strconv.ParseUint(num, 10, 32); !isDigits(num) || err != nil || n >= 1<<31 {
		return bad("CSeq number out of range")
	}
	if strings.TrimSpace(cseqMethod) != method {
		return bad("CSeq method does not match")
	}
	// §20.14, §20.22, §20.19: the scalars are numbers in range.
	scalars := []struct {
		name string
		max  uint64
	}{{"content-length", 1<<32 - 1}, {"max-forwards", 255}, {"expires", 1<<32 - 1}}
	for _, s := range scalars {
		if v, ok := m.get(s.name); ok {
			if n, err := strconv.ParseUint(v, 10, 64); !isDigits(v) || err != nil || n > s.max {
				return bad(s.name + " not a number in range")
			}
		}
	}
	for _, v := range m.all("via") {
		for _, hop := range splitList(v) {
			if !goodVia(hop) {
				return bad("malformed Via")
			}
		}
	}
	if d, ok := m.get("date"); ok && !strings.HasSuffix(d, " GMT") {
		// §20.17: rfc1123-date, always in GMT.
		return bad("Date not in GMT")
	}
	for _, name := range []string{"to", "from"} {
		if why := badAddress(firstOr(m, name, ""), false); why != "" {
			return bad(name + ": " + why)
		}
	}
	for _, v := range m.all("contact") {
		for _, c := range splitList(v) {
			if c == "*" {
				continue
			}
			if why := badAddress(c, true); why != "" {
				return bad("contact: " + why)
			}
		}
	}
	return Verdict{}
}

// goodVia checks one via-parm: SIP / 2.0 / transport sent-by *(; param)
// (§20.42, §25.1; SLASH allows white space around it).
func goodVia(hop string) bool {
	parts := splitOutside(hop, ';')
	proto := strings.Split(parts[0], "/")
	if len(proto) != 3 || strings.TrimSpace(proto[0]) != "SIP" || strings.TrimSpace(proto[1]) != "2.0" {
		return false
	}
	rest := strings.Fields(proto[2])
	if len(rest) != 2 || !isToken(rest[0]) {
		return false
	}
	for _, param := range parts[1:] {
		name, _, _ := strings.Cut(param, "=")
		if !isToken(strings.TrimSpace(name)) {
			return false
		}
	}
	return true
}

// extensions checks what the UAS must support: Require (§8.2.2.3), the
// body type (§8.2.3) and Accept (§21.4.7).
func (p Policy) extensions(m message, method string, bodyLen int) Verdict {
	var unsupported []string
	for _, v := range m.all("require") {
		for _, tag := range splitList(v) {
			if !containsFold(p.Supported, tag) {
				unsupported = append(unsupported, tag)
			}
		}
	}
	if len(unsupported) > 0 {
		return Verdict{Action: Reject, Code: 420, Reason: "Bad Extension",
			Header: []string{"Unsupported: " + strings.Join(unsupported, ", ")}}
	}
	if types, ok := p.Accept[method]; ok && bodyLen > 0 {
		ct, _, _ := strings.Cut(firstOr(m, "content-type", ""), ";")
		if !containsFold(types, strings.TrimSpace(ct)) {
			return Verdict{Action: Reject, Code: 415, Reason: "Unsupported Media Type",
				Header: []string{"Accept: " + strings.Join(types, ", ")}}
		}
	}
	if want, ok := p.Produces[method]; ok {
		if v, ok := m.get("accept"); ok && v != "" && !accepts(v, want) {
			return Verdict{Action: Reject, Code: 406, Reason: "Not Acceptable (we answer " + want + ")"}
		}
	}
	return Verdict{}
}

// accepts reports whether an Accept value takes media type t (§20.1:
// media ranges, with "*" wildcards).
func accepts(accept, t string) bool {
	typ, _, _ := strings.Cut(t, "/")
	for _, r := range splitList(accept) {
		r, _, _ = strings.Cut(r, ";")
		r = strings.ToLower(strings.TrimSpace(r))
		if r == "*/*" || r == typ+"/*" || r == t {
			return true
		}
	}
	return false
}

// parsable asks sipgo's parser and transaction keying, which a message must
// get through to reach a handler: what they refuse is answered here rather
// than dropped in silence.
func parsable(raw []byte) (v Verdict) {
	defer func() {
		if r := recover(); r != nil {
			v = bad("unparsable")
		}
	}()
	msg, err := sip.NewParser().ParseSIP(raw)
	if err != nil {
		return bad(err.Error())
	}
	if req, ok := msg.(*sip.Request); ok {
		if _, err := sip.ServerTxKeyMake(req); err != nil {
			return bad("no From tag")
		}
	}
	return Verdict{}
}

// clean makes text fit for a reason phrase: one line, printable, short.
func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r >= 0x7f || r == '(' || r == ')' {
			return ' '
		}
		return r
	}, s)
	if len(s) > 60 {
		s = s[:60]
	}
	return strings.TrimSpace(s)
}

func firstOr(m message, name, def string) string {
	if v, ok := m.get(name); ok {
		return v
	}
	return def
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
