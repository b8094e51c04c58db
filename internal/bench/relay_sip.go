//go:build unix

package bench

import (
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"strconv"
	"strings"
)

// sipMsg is a SIP message split into its start line, header lines and
// body (CRLF line ends; no header folding).
type sipMsg struct {
	start   string
	headers []string
	body    string
}

func parseSIP(s string) (*sipMsg, error) {
	head, body, ok := strings.Cut(s, "\r\n\r\n")
	if !ok {
		return nil, errors.New("no end of headers")
	}
	lines := strings.Split(head, "\r\n")
	return &sipMsg{start: lines[0], headers: lines[1:], body: body}, nil
}

func (m *sipMsg) String() string {
	var b strings.Builder
	b.WriteString(m.start + "\r\n")
	for _, h := range m.headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n" + m.body)
	return b.String()
}

func (m *sipMsg) isResponse() bool { return strings.HasPrefix(m.start, "SIP/2.0 ") }

// header returns the index of the first header named name (or its compact
// form) and its value, or -1.
func (m *sipMsg) header(name, compact string) (int, string) {
	for i, h := range m.headers {
		k, v, ok := strings.Cut(h, ":")
		if !ok {
			continue
		}
		k = strings.TrimSpace(k)
		if strings.EqualFold(k, name) || (compact != "" && strings.EqualFold(k, compact)) {
			return i, strings.TrimSpace(v)
		}
	}
	return -1, ""
}

// popFirstValue removes the first comma-separated value of header i and
// returns it (the whole line goes when it held one value).
func (m *sipMsg) popFirstValue(i int) string {
	k, v, _ := strings.Cut(m.headers[i], ":")
	first, rest, more := strings.Cut(v, ",")
	if more {
		m.headers[i] = k + ":" + rest
	} else {
		m.headers = append(m.headers[:i], m.headers[i+1:]...)
	}
	return strings.TrimSpace(first)
}

// route rewrites one datagram from src and returns it with its next hop.
func (r *relay) route(s string, src *net.UDPAddr) (string, *net.UDPAddr, error) {
	m, err := parseSIP(s)
	if err != nil {
		return "", nil, err
	}
	fromCallee := src.IP.Equal(r.callee.IP) && src.Port == r.callee.Port
	var dst *net.UDPAddr
	if m.isResponse() {
		i, top := m.header("Via", "v")
		if i < 0 || !strings.Contains(top, fmt.Sprintf("127.0.0.1:%d;", r.sipPort)) {
			return "", nil, errors.New("response without our Via")
		}
		m.popFirstValue(i)
		i, next := m.header("Via", "v")
		if i < 0 {
			return "", nil, errors.New("response with no Via left")
		}
		if dst, err = viaAddr(next); err != nil {
			return "", nil, err
		}
	} else {
		method, rest, _ := strings.Cut(m.start, " ")
		ruri, version, _ := strings.Cut(rest, " ")
		if i, rt := m.header("Route", ""); i >= 0 && strings.Contains(rt, fmt.Sprintf("127.0.0.1:%d", r.sipPort)) {
			// In-dialog request through our Record-Route (RFC 3261
			// §16.4): drop our Route, go to the next one or the R-URI.
			m.popFirstValue(i)
			next := ruri
			if j, rt2 := m.header("Route", ""); j >= 0 {
				next = strings.Trim(strings.TrimSpace(strings.SplitN(rt2, ",", 2)[0]), "<>")
			}
			if dst, err = uriAddr(next); err != nil {
				return "", nil, err
			}
		} else {
			// An initial request from the caller: to the callee.
			dst = r.callee
			if user, _, ok := strings.Cut(strings.TrimPrefix(ruri, "sip:"), "@"); ok {
				ruri = fmt.Sprintf("sip:%s@%s", user, r.callee)
			}
			m.start = method + " " + ruri + " " + version
			if method == "INVITE" {
				m.headers = append([]string{fmt.Sprintf("Record-Route: <sip:127.0.0.1:%d;lr>", r.sipPort)}, m.headers...)
			}
		}
		_, top := m.header("Via", "v")
		h := fnv.New64a()
		h.Write([]byte(top))
		via := fmt.Sprintf("Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-rly%x", r.sipPort, h.Sum64())
		m.headers = append([]string{via}, m.headers...)
	}
	if _, ct := m.header("Content-Type", "c"); strings.HasPrefix(strings.ToLower(ct), "application/sdp") && m.body != "" {
		side, toward := r.a, r.b // an SDP from the caller: the callee must send to b
		if fromCallee {
			side, toward = r.b, r.a
		}
		body, rtp, rtcp, err := rewriteSDP(m.body, toward.port())
		if err != nil {
			return "", nil, err
		}
		side.mu.Lock()
		side.peerRTP, side.peerRTCP = rtp, rtcp
		side.mu.Unlock()
		m.body = body
	}
	if i, _ := m.header("Content-Length", "l"); i >= 0 {
		m.headers[i] = "Content-Length: " + strconv.Itoa(len(m.body))
	}
	return m.String(), dst, nil
}

// rewriteSDP points the audio stream of an SDP at 127.0.0.1:port (RTCP at
// port+1) and returns where its author wants RTP and RTCP. ICE and
// rtcp-mux attributes go: the relay is the only path.
func rewriteSDP(body string, port int) (out string, rtp, rtcp *net.UDPAddr, err error) {
	lines := strings.Split(strings.TrimRight(body, "\r\n"), "\r\n")
	var kept []string
	host := ""
	peerPort, peerRTCP := 0, 0
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "c=IN IP4 "):
			// Session level, then the audio's own (which wins).
			host = strings.TrimSpace(strings.TrimPrefix(l, "c=IN IP4 "))
			l = "c=IN IP4 127.0.0.1"
		case strings.HasPrefix(l, "m=audio "):
			f := strings.Fields(l)
			if len(f) < 2 {
				return "", nil, nil, errors.New("bad m= line")
			}
			if peerPort, err = strconv.Atoi(f[1]); err != nil {
				return "", nil, nil, err
			}
			f[1] = strconv.Itoa(port)
			l = strings.Join(f, " ")
		case strings.HasPrefix(l, "a=rtcp:"):
			f := strings.Fields(strings.TrimPrefix(l, "a=rtcp:"))
			if len(f) > 0 {
				peerRTCP, _ = strconv.Atoi(f[0])
			}
			l = fmt.Sprintf("a=rtcp:%d", port+1)
		case strings.HasPrefix(l, "a=candidate"), strings.HasPrefix(l, "a=ice-"), l == "a=rtcp-mux", strings.HasPrefix(l, "a=end-of-candidates"):
			continue
		}
		kept = append(kept, l)
	}
	if peerPort == 0 || host == "" {
		return "", nil, nil, errors.New("SDP without audio address")
	}
	if peerRTCP == 0 {
		peerRTCP = peerPort + 1
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return "", nil, nil, fmt.Errorf("SDP address %q is not an IP", host)
	}
	return strings.Join(kept, "\r\n") + "\r\n", &net.UDPAddr{IP: ip, Port: peerPort}, &net.UDPAddr{IP: ip, Port: peerRTCP}, nil
}

// viaAddr is where a response goes for this Via value (RFC 3261 §18.2.2,
// rport as in RFC 3581).
func viaAddr(v string) (*net.UDPAddr, error) {
	f := strings.Fields(v) // "SIP/2.0/UDP" "host:port;params"
	if len(f) < 2 {
		return nil, fmt.Errorf("bad Via %q", v)
	}
	sentBy, params, _ := strings.Cut(strings.Join(f[1:], ""), ";")
	host, port := hostPort(sentBy)
	for _, p := range strings.Split(params, ";") {
		k, val, _ := strings.Cut(p, "=")
		switch strings.ToLower(k) {
		case "received":
			host = val
		case "rport":
			if n, err := strconv.Atoi(val); err == nil {
				port = n
			}
		}
	}
	return net.ResolveUDPAddr("udp4", net.JoinHostPort(host, strconv.Itoa(port)))
}

// uriAddr is the host:port of a sip: URI (5060 when it has no port).
func uriAddr(uri string) (*net.UDPAddr, error) {
	u := strings.TrimPrefix(strings.Trim(uri, "<>"), "sip:")
	if _, after, ok := strings.Cut(u, "@"); ok {
		u = after
	}
	u, _, _ = strings.Cut(u, ";")
	u, _, _ = strings.Cut(u, ">")
	host, port := hostPort(u)
	return net.ResolveUDPAddr("udp4", net.JoinHostPort(host, strconv.Itoa(port)))
}

func hostPort(s string) (string, int) {
	h, p, err := net.SplitHostPort(s)
	if err != nil {
		return s, 5060
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		return h, 5060
	}
	return h, n
}
