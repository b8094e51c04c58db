package sipcheck

import (
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"regexp"
	"strconv"
	"strings"
)

// Answer builds the response of verdict v (a Reject) to raw, as a stateless
// UAS does (RFC 3261 §8.2.7): the Via fields, From, To, Call-ID and CSeq
// are copied (§8.2.6.2), the top Via gets received, and rport when it asks
// for it (§18.2.1, RFC 3581 §4), from src (nil on a stream: not added), and
// the To gets a tag when it has none, the same for every retransmission.
func Answer(raw []byte, v Verdict, src net.Addr) ([]byte, error) {
	m, ok := split(raw)
	if !ok || v.Action != Reject {
		return nil, errors.New("sipcheck: nothing to answer")
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "SIP/2.0 %d %s\r\n", v.Code, clean2(v.Reason))
	top := true
	for _, f := range m.fields {
		value := f.value
		switch f.name {
		case "via":
			if top && src != nil {
				value = received(value, src)
			}
			top = false
		case "to":
			if !hasTag(value) {
				value += ";tag=" + tagFor(m)
			}
		case "from", "call-id", "cseq":
		default:
			continue
		}
		fmt.Fprintf(&b, "%s: %s\r\n", canonical[f.name], clean2(value))
	}
	for _, h := range v.Header {
		fmt.Fprintf(&b, "%s\r\n", clean2(h))
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	return b.Bytes(), nil
}

var canonical = map[string]string{"via": "Via", "to": "To", "from": "From", "call-id": "Call-ID", "cseq": "CSeq"}

// hasTag reports whether a To value has a tag parameter (§19.3) after its
// URI: after the > of a name-addr, after the first ; of an addr-spec.
func hasTag(to string) bool {
	params := to
	if i := strings.LastIndexByte(to, '>'); i >= 0 {
		params = to[i+1:]
	} else if i := strings.IndexByte(to, ';'); i >= 0 {
		params = to[i:]
	} else {
		return false
	}
	return tagParam.MatchString(params)
}

var tagParam = regexp.MustCompile(`(?i);\s*tag\s*=`)

// tagFor derives a To tag from the request, so that a retransmission gets
// the same (§8.2.7: a stateless UAS's tags must be stable).
func tagFor(m message) string {
	h := fnv.New64a()
	for _, name := range []string{"call-id", "from", "cseq"} {
		h.Write([]byte(firstOr(m, name, "")))
	}
	for _, v := range m.all("via") {
		h.Write([]byte(v))
	}
	return strconv.FormatUint(h.Sum64(), 36)
}

// received adds received, and rport's value when it is asked for, to the
// first via-parm of a Via value (§18.2.1, RFC 3581 §4).
func received(via string, src net.Addr) string {
	ip, port := hostPort(src)
	if ip == "" {
		return via
	}
	hops := splitList(via)
	hop := hops[0]
	params := ";received=" + ip
	if rport.MatchString(hop) {
		hop = rport.ReplaceAllString(hop, "$1")
		params += ";rport=" + port
	}
	hops[0] = hop + params
	return strings.Join(hops, ", ")
}

// rport matches a value-less rport parameter.
var rport = regexp.MustCompile(`(?i);\s*rport\s*(;|$)`)

// Destination is where the UDP answer to raw goes (§18.2.2): the source
// address, and the port of the rport parameter (RFC 3581 §4) when the top
// Via asks for it, else the Via's sent-by port, else 5060. A Via that
// cannot be read gets the source port.
func Destination(raw []byte, src net.Addr) string {
	ip, port := hostPort(src)
	m, _ := split(raw)
	via, ok := m.get("via")
	if !ok || !goodVia(splitList(via)[0]) {
		return net.JoinHostPort(ip, port)
	}
	hop := splitList(via)[0]
	if rport.MatchString(hop) {
		return net.JoinHostPort(ip, port)
	}
	sentBy, _, _ := strings.Cut(hop, ";")
	hostport := strings.Fields(strings.Split(sentBy, "/")[2])[1]
	if _, p, err := net.SplitHostPort(hostport); err == nil {
		if n, err := strconv.Atoi(p); err == nil && n > 0 && n < 65536 {
			return net.JoinHostPort(ip, p)
		}
	}
	return net.JoinHostPort(ip, "5060")
}

func hostPort(a net.Addr) (string, string) {
	if a == nil {
		return "", ""
	}
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return "", ""
	}
	return host, port
}

// clean2 makes a copied value fit for a header line: one line, no NUL.
func clean2(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// Errors of Frame.
var (
	// ErrTooLarge: the message (or its header so far) exceeds the limit.
	ErrTooLarge = errors.New("sipcheck: message too large")
	// ErrNoLength: the Content-Length cannot be read, so the end of the
	// message cannot be found (RFC 3261 §18.3).
	ErrNoLength = errors.New("sipcheck: Content-Length unreadable on a stream")
)

// Frame cuts the first message out of buf, read from a stream (RFC 3261
// §18.3: the header ends at the empty line and Content-Length gives the
// body's length; CRLFs between messages are keep-alives, RFC 5626 §3.5.1).
// It returns the message and how many bytes of buf it used; (nil, n, nil)
// when only n keep-alive bytes could be used yet. On ErrTooLarge and
// ErrNoLength, msg is the header so far, to answer before giving up the
// stream.
func Frame(buf []byte, max int) (msg []byte, n int, err error) {
	if max == 0 {
		max = DefaultMaxSize
	}
	for n < len(buf) && (buf[n] == '\r' || buf[n] == '\n') {
		n++
	}
	if n > 0 {
		return nil, n, nil
	}
	end := bytes.Index(buf, []byte("\r\n\r\n"))
	if end < 0 {
		if len(buf) > max {
			return buf, 0, ErrTooLarge
		}
		return nil, 0, nil
	}
	end += 4
	m, _ := split(buf[:end])
	length := 0
	if v, ok := m.get("content-length"); ok {
		if length, err = strconv.Atoi(v); err != nil || length < 0 || !isDigits(v) {
			return buf[:end], 0, ErrNoLength
		}
	}
	if end+length > max {
		return buf[:end], 0, ErrTooLarge
	}
	if len(buf) < end+length {
		return nil, 0, nil
	}
	return buf[:end+length], end + length, nil
}
