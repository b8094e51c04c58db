package phone

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/teaphone/teaphone/phone/sipcheck"
)

// Every read off the network goes through sipcheck before sipgo parses it
// (sipgo's read filter, sip.WithTransportLayerReadFilter), so that a
// malformed request is answered as RFC 3261 asks, or dropped, and never
// reaches the transaction layer, a handler or a rule: no malformed INVITE
// rings. A UDP datagram is one message (RFC 3261 §18.1.1); a TCP or TLS
// stream is cut into messages here (§18.3) and only whole, sound messages
// go on to sipgo's stream parser.

// screenPolicy is what the phone supports, as sipcheck needs to know it.
var screenPolicy = sipcheck.Policy{
	Supported: strings.Split(supportedTags, ", "),
	// §8.2.3: the bodies we read. Other methods' bodies are their
	// handlers' business (INFO, NOTIFY), or refused with the method.
	Accept: map[string][]string{
		"INVITE": {"application/sdp"},
		"UPDATE": {"application/sdp"},
		"PRACK":  {"application/sdp"},
	},
	Produces: map[string]string{"INVITE": "application/sdp", "UPDATE": "application/sdp"},
}

// streamIdle is how long the start of a message may wait for its end on a
// connection before it is forgotten (RFC 3261 §17's 64·T1).
const streamIdle = 32 * time.Second

// screen holds the partial messages of the stream connections. It is safe
// for concurrent use: sipgo calls filter from each connection's reader.
type screen struct {
	mu      sync.Mutex
	pending map[string]pendingBytes // flowKey -> start of a message
}

type pendingBytes struct {
	buf  []byte
	last time.Time
}

func newScreen() *screen { return &screen{pending: map[string]pendingBytes{}} }

// readFilter is the phone's sip.TransportReadFilter: pongs are counted
// (flow.go), then every message is screened.
func (p *Phone) readFilter(info sip.TransportReadProps, data []byte) ([]byte, error) {
	data, err := p.pongs.filter(info, data)
	if err != nil || len(data) == 0 {
		return data, err
	}
	switch strings.ToLower(info.Transport) {
	case "udp":
		return p.screenDatagram(info, data), nil
	case "tcp", "tls":
		return p.screenStream(info, data)
	}
	return data, nil
}

// screenDatagram passes a sound datagram on whole, and answers or drops
// the others. It must never fail: an error stops sipgo's UDP reader.
func (p *Phone) screenDatagram(info sip.TransportReadProps, data []byte) []byte {
	v := screenPolicy.Check(data, true)
	switch v.Action {
	case sipcheck.Pass:
		return data
	case sipcheck.Reject:
		// §18.2.2 (RFC 3581 §4): to the source address, at the Via's
		// port or the source port when it asks for rport.
		dest := sipcheck.Destination(data, info.RemoteAddr)
		if err := p.answerDatagram(data, v, info.RemoteAddr, dest); err != nil {
			p.log.Debug("malformed request not answered", "from", info.RemoteAddr, "verdict", v.String(), "err", err)
			return nil
		}
	}
	p.log.Debug("malformed request", "transport", "UDP", "from", info.RemoteAddr, "verdict", v.String())
	return nil
}

func (p *Phone) answerDatagram(data []byte, v sipcheck.Verdict, src net.Addr, dest string) error {
	res, err := sipcheck.Answer(data, v, src)
	if err != nil {
		return fmt.Errorf("build answer: %w", err)
	}
	to, err := net.ResolveUDPAddr("udp", dest) // an IP literal: no DNS
	if err != nil {
		return fmt.Errorf("answer destination %s: %w", dest, err)
	}
	if p.udpConn == nil {
		return errors.New("no UDP socket")
	}
	if _, err := p.udpConn.WriteTo(res, to); err != nil {
		return fmt.Errorf("send answer to %s: %w", dest, err)
	}
	return nil
}

// screenStream adds data to what the connection had pending, and returns
// the whole, sound messages in it for sipgo; the others are answered on
// the connection, or dropped. When the stream cannot be cut any more (a
// Content-Length that cannot be read, a message over the size limit) the
// error makes sipgo close the connection, as its own parser would.
func (p *Phone) screenStream(info sip.TransportReadProps, data []byte) ([]byte, error) {
	if info.LocalAddr == nil || info.RemoteAddr == nil {
		return data, nil
	}
	key := flowKey(info.LocalAddr, info.RemoteAddr)
	p.screen.mu.Lock()
	pend, had := p.screen.pending[key]
	p.screen.mu.Unlock()
	if !had && len(bytes.Trim(data, "\r\n")) == 0 {
		return data, nil // keep-alive between messages: sipgo pongs a ping
	}
	buf := append(pend.buf, data...)
	var out []byte
	for {
		msg, n, err := sipcheck.Frame(buf, screenPolicy.MaxSize)
		if err != nil {
			p.forgetStream(key)
			v := sipcheck.Verdict{Action: sipcheck.Reject, Code: 513, Reason: "Message Too Large"}
			if errors.Is(err, sipcheck.ErrNoLength) {
				v = screenPolicy.Check(msg, false)
			}
			p.answerStream(info, msg, v)
			return nil, fmt.Errorf("screen %s stream from %s: %w", info.Transport, info.RemoteAddr, err)
		}
		if n == 0 {
			break
		}
		buf = buf[n:]
		if msg == nil {
			continue // keep-alive CRLFs between messages
		}
		v := screenPolicy.Check(msg, false)
		if v.Action == sipcheck.Pass {
			out = append(out, msg...)
			continue
		}
		p.answerStream(info, msg, v)
	}
	p.keepStream(key, buf)
	return out, nil
}

// answerStream answers msg on its connection when v says so.
func (p *Phone) answerStream(info sip.TransportReadProps, msg []byte, v sipcheck.Verdict) {
	p.log.Debug("malformed request", "transport", info.Transport, "from", info.RemoteAddr, "verdict", v.String())
	if v.Action != sipcheck.Reject {
		return
	}
	res, err := sipcheck.Answer(msg, v, nil)
	if err == nil {
		err = p.writeConn(strings.ToLower(info.Transport), info.RemoteAddr.String(), res)
	}
	if err != nil {
		p.log.Debug("malformed request not answered", "from", info.RemoteAddr, "err", err)
	}
}

// writeConn writes b on the connection of sipgo's pool that goes to addr.
func (p *Phone) writeConn(network, addr string, b []byte) error {
	c, err := p.ua.TransportLayer().GetConnection(network, addr)
	if err != nil {
		return fmt.Errorf("connection to %s: %w", addr, err)
	}
	defer func() { _, _ = c.TryClose() }() // GetConnection took a reference
	w, ok := c.(interface{ Write([]byte) (int, error) })
	if !ok {
		return fmt.Errorf("connection to %s: %w", addr, errors.ErrUnsupported)
	}
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("write to %s: %w", addr, err)
	}
	return nil
}

// keepStream keeps the start of a message until the rest comes, and
// forgets those of connections that have been quiet too long (sipgo does
// not tell when a connection closes).
func (p *Phone) keepStream(key string, rest []byte) {
	now := time.Now()
	p.screen.mu.Lock()
	defer p.screen.mu.Unlock()
	if len(rest) == 0 {
		delete(p.screen.pending, key)
	} else {
		p.screen.pending[key] = pendingBytes{buf: append([]byte(nil), rest...), last: now}
	}
	for k, pb := range p.screen.pending {
		if now.Sub(pb.last) > streamIdle {
			delete(p.screen.pending, k)
		}
	}
}

func (p *Phone) forgetStream(key string) {
	p.screen.mu.Lock()
	defer p.screen.mu.Unlock()
	delete(p.screen.pending, key)
}
