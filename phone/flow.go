package phone

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// A registration over TCP lives on one connection (RFC 5626 calls it a
// flow): the registrar reaches us through it, so when it goes the account
// is unreachable until it registers again. sipgo v1.7.3 tells only its own
// transaction layer when a connection closes (TransportTCP.onConnClose is
// unexported and set by NewTransactionLayer), so the registration watches
// the connection pool instead: sipgo removes a connection from it as soon
// as its reader sees the close. Pongs are seen through sipgo's read filter
// (sip.WithTransportLayerReadFilter), which gets every read before sipgo's
// reader drops the CRLFs.

// Timings of the flow watch.
const (
	// flowCheck is how often the connection pool is looked at: a lost
	// connection is noticed within this time.
	flowCheck = 250 * time.Millisecond
	// pongTimeout is RFC 5626 §4.4.1's: "If a pong is not received within
	// 10 seconds after sending a ping ..., then the client MUST treat the
	// flow as failed."
	pongTimeout = 10 * time.Second
)

// errFlowLost and errNoPong say why a registration's flow failed.
var (
	errFlowLost = errors.New("connection lost")
	errNoPong   = errors.New("keep-alive pong missing")
)

// pongTracker counts the pongs (a single CRLF, RFC 5626 §4.4.1) that
// arrive on the connections being watched. It is safe for concurrent use:
// sipgo calls filter from its connection readers.
type pongTracker struct {
	mu    sync.Mutex
	flows map[string]int // flowKey -> pongs seen; only watched flows
}

func newPongTracker() *pongTracker { return &pongTracker{flows: map[string]int{}} }

// filter is a sip.TransportReadFilter: it passes data on unchanged and
// counts a read of exactly one CRLF on a watched TCP or TLS connection as
// a pong. sipgo's reader skips such a read between messages; a CRLF that
// ends a line of a message split across reads could be miscounted, which
// only ever makes a flow look alive, never failed.
func (t *pongTracker) filter(info sip.TransportReadProps, data []byte) ([]byte, error) {
	if string(data) != "\r\n" || strings.EqualFold(info.Transport, "UDP") || info.LocalAddr == nil || info.RemoteAddr == nil {
		return data, nil
	}
	key := flowKey(info.LocalAddr, info.RemoteAddr)
	t.mu.Lock()
	if n, ok := t.flows[key]; ok {
		t.flows[key] = n + 1
	}
	t.mu.Unlock()
	return data, nil
}

// watch starts counting the pongs of flow key.
func (t *pongTracker) watch(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.flows[key]; !ok {
		t.flows[key] = 0
	}
}

// forget stops counting the pongs of flow key.
func (t *pongTracker) forget(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.flows, key)
}

// count is how many pongs flow key has had.
func (t *pongTracker) count(key string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.flows[key]
}

func flowKey(local, remote net.Addr) string { return local.String() + " " + remote.String() }

// tcpFlow is the connection a TCP or TLS registration went over, to the
// registrar at dest.
type tcpFlow struct {
	network string // sipgo's pool: "tcp" or "tls"
	dest    string
	conn    sip.Connection
	key     string
}

// flowFor returns the connection of sipgo's TCP or TLS pool (network) that
// goes to dest, and starts counting its pongs; prev, when it is that same
// connection, is returned as it is (its pong count goes on).
func (p *Phone) flowFor(network, dest string, prev *tcpFlow) (*tcpFlow, error) {
	c, err := p.ua.TransportLayer().GetConnection(network, dest)
	if err != nil {
		return nil, errFlowLost
	}
	_, _ = c.TryClose() // GetConnection took a reference
	if prev != nil && prev.conn == c {
		return prev, nil
	}
	r, ok := c.(interface{ RemoteAddr() net.Addr })
	if !ok {
		return nil, fmt.Errorf("registration connection to %s: %w", dest, errors.ErrUnsupported)
	}
	f := &tcpFlow{network: network, dest: dest, conn: c, key: flowKey(c.LocalAddr(), r.RemoteAddr())}
	p.pongs.watch(f.key)
	return f, nil
}

// alive reports whether f's connection is still the one sipgo uses to
// reach f.dest: sipgo's reader removes it from the pool once it has read
// the close (or a read error).
func (p *Phone) alive(f *tcpFlow) bool {
	c, err := p.ua.TransportLayer().GetConnection(f.network, f.dest)
	if err != nil {
		return false
	}
	_, _ = c.TryClose() // GetConnection took a reference
	return c == f.conn
}

// ping sends RFC 5626 §4.4.1's double CRLF on f and returns the pong
// count it had, to compare with once the pong is due.
func (p *Phone) ping(f *tcpFlow) (int, error) {
	n := p.pongs.count(f.key)
	w, ok := f.conn.(interface{ Write([]byte) (int, error) })
	if !ok {
		return n, fmt.Errorf("keep-alive to %s: %w", f.dest, errors.ErrUnsupported)
	}
	if _, err := w.Write(crlfPing); err != nil {
		return n, fmt.Errorf("%w: keep-alive not sent: %w", errFlowLost, err)
	}
	return n, nil
}

// fail closes f's connection (sipgo's reader then drops it from the pool)
// and stops counting its pongs.
func (p *Phone) fail(f *tcpFlow) {
	if c, ok := f.conn.(*sip.TCPConnection); ok {
		// The socket only: sipgo's reader then releases its references
		// as for any close (Close would zero them first, and sipgo would
		// warn that they went negative).
		_ = c.Conn.Close()
	} else {
		_ = f.conn.Close()
	}
	p.pongs.forget(f.key)
}

// release stops counting f's pongs, leaving the connection to sipgo.
func (p *Phone) release(f *tcpFlow) {
	if f != nil {
		p.pongs.forget(f.key)
	}
}
