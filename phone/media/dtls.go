package media

import (
	"net"
	"net/netip"
	"os"
	"sync"
	"time"
)

// DTLS-SRTP (RFC 5764) on the stream's RTP port: DTLS records arrive and
// leave on the RTP socket, told apart from RTP, RTCP and STUN by their
// first octet (RFC 7983 §7). The stream hands them to a DTLSTransport,
// a net.PacketConn that a DTLS implementation runs its handshake on; the
// keys it yields come back through SetSRTP.

const (
	// dtlsQueue bounds the records waiting in either direction: a
	// handshake flight is a few records; more is a flood, dropped (DTLS
	// retransmits).
	dtlsQueue = 32
	// dtlsMinLen is a DTLS record header (RFC 6347 §4.1): type, version,
	// epoch, sequence number and length.
	dtlsMinLen = 13
)

// isDTLS reports whether b is a DTLS record by its first octet, 20 to 63
// (RFC 7983 §7: the content types of RFC 5764 §5.1.2's demultiplexing),
// and long enough to carry a record header.
func isDTLS(b []byte) bool {
	return len(b) >= dtlsMinLen && b[0] >= 20 && b[0] <= 63
}

// dtlsPacket is one queued record.
type dtlsPacket struct {
	b    []byte
	from netip.AddrPort
}

// DTLSTransport is the DTLS side of a stream's RTP socket, a
// net.PacketConn: ReadFrom returns the DTLS records the stream received
// (any other datagram goes to RTP, RTCP or STUN), WriteTo queues a record
// that the stream's clock sends, at its next tick, to where RTP goes (the
// address argument is ignored: the peer's media address is the stream's).
// Close does not close the socket, which stays the stream's; the stream
// closes the transport when it closes.
type DTLSTransport struct {
	s    *Stream
	rtcp bool // the RTCP socket's (RFC 5764 §4.1.2: its own association)
	in   chan dtlsPacket
	done chan struct{}
	once sync.Once
	rd   deadline

	mu  sync.Mutex
	out [][]byte
}

func newDTLSTransport(s *Stream, rtcp bool) *DTLSTransport {
	return &DTLSTransport{s: s, rtcp: rtcp, in: make(chan dtlsPacket, dtlsQueue), done: make(chan struct{}), rd: newDeadline()}
}

// DTLS returns the stream's DTLS transport on the RTP port, nil unless
// StreamConfig.DTLS.
func (s *Stream) DTLS() *DTLSTransport { return s.dtls.Load() }

// DTLSRTCP returns the DTLS transport on the RTCP port, for RTCP that is
// not multiplexed (RFC 5764 §4.1.2: each component has its own
// association); nil unless StreamConfig.DTLS with an RTCP socket. Its
// records leave the RTCP socket at once, to the RTCP address.
func (s *Stream) DTLSRTCP() *DTLSTransport { return s.dtlsRTCP.Load() }

// RenewDTLS starts the stream over for a new DTLS association (RFC 5763
// §6.7, RFC 8842 §5: a changed fingerprint or transport asks for one):
// it drops the SRTP keys, so that nothing is sent or accepted until
// SetSRTP gives the new ones (no RTP in clear), and replaces the DTLS
// transports with fresh ones, closing the old (their records, and a
// handshake still on them, are dropped). It returns the new transports,
// nil when the stream has no DTLS or is closed; rtcp is nil without an
// RTCP association.
func (s *Stream) RenewDTLS() (rtp, rtcp *DTLSTransport) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.dtls.Load() == nil {
		return nil, nil
	}
	_ = s.SetSRTP(SRTPKeys{})
	rtp = newDTLSTransport(s, false)
	_ = s.dtls.Swap(rtp).Close()
	if old := s.dtlsRTCP.Load(); old != nil {
		rtcp = newDTLSTransport(s, true)
		s.dtlsRTCP.Store(rtcp)
		_ = old.Close()
	}
	return rtp, rtcp
}

// push hands a received record to the transport; it copies b and drops
// the record when the queue is full or the transport closed. It runs on
// the RTP receiver and never blocks.
func (t *DTLSTransport) push(b []byte, from netip.AddrPort) {
	select {
	case <-t.done:
		return
	default:
	}
	select {
	case t.in <- dtlsPacket{b: append([]byte(nil), b...), from: from}:
	default:
		t.s.garbage.Add(1)
	}
}

// ReadFrom implements net.PacketConn.
func (t *DTLSTransport) ReadFrom(b []byte) (int, net.Addr, error) {
	select {
	case <-t.done:
		return 0, nil, net.ErrClosed
	case <-t.rd.wait():
		return 0, nil, os.ErrDeadlineExceeded
	default:
	}
	select {
	case p := <-t.in:
		return copy(b, p.b), net.UDPAddrFromAddrPort(p.from), nil
	case <-t.done:
		return 0, nil, net.ErrClosed
	case <-t.rd.wait():
		return 0, nil, os.ErrDeadlineExceeded
	}
}

// WriteTo implements net.PacketConn: it queues b for the clock (see
// DTLSTransport), or sends it on the RTCP socket. A full queue drops b, as
// a full socket buffer would.
func (t *DTLSTransport) WriteTo(b []byte, _ net.Addr) (int, error) {
	select {
	case <-t.done:
		return 0, net.ErrClosed
	default:
	}
	if t.rtcp {
		// The RTCP socket stays a *net.UDPConn: safe from any goroutine,
		// and open until the stream closes, after this transport.
		t.s.mu.Lock()
		dst := t.s.dstRTCP
		t.s.mu.Unlock()
		if !dst.IsValid() {
			return len(b), nil
		}
		return t.s.rtcpConn.WriteToUDPAddrPort(b, dst)
	}
	t.mu.Lock()
	if len(t.out) < dtlsQueue {
		t.out = append(t.out, append([]byte(nil), b...))
	}
	t.mu.Unlock()
	return len(b), nil
}

// take returns the queued records and empties the queue.
func (t *DTLSTransport) take() [][]byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := t.out
	t.out = nil
	return out
}

// Close implements net.PacketConn; it is idempotent. Pending and later
// reads and writes fail with net.ErrClosed.
func (t *DTLSTransport) Close() error {
	t.once.Do(func() { close(t.done) })
	return nil
}

// LocalAddr implements net.PacketConn: the RTP (or RTCP) socket's address.
func (t *DTLSTransport) LocalAddr() net.Addr {
	if t.rtcp {
		return t.s.rtcpConn.LocalAddr()
	}
	return t.s.rtpConn.LocalAddr()
}

// RemoteAddr is where the records go: the stream's current RTP (or RTCP)
// destination (invalid before one is known).
func (t *DTLSTransport) RemoteAddr() net.Addr {
	t.s.mu.Lock()
	defer t.s.mu.Unlock()
	if t.rtcp {
		return net.UDPAddrFromAddrPort(t.s.dstRTCP)
	}
	return net.UDPAddrFromAddrPort(t.s.dst)
}

// SetDeadline implements net.PacketConn (writes never block).
func (t *DTLSTransport) SetDeadline(d time.Time) error { return t.SetReadDeadline(d) }

// SetReadDeadline implements net.PacketConn; it also wakes a pending read.
func (t *DTLSTransport) SetReadDeadline(d time.Time) error {
	t.rd.set(d)
	return nil
}

// SetWriteDeadline implements net.PacketConn; writes never block.
func (t *DTLSTransport) SetWriteDeadline(time.Time) error { return nil }

// flushDTLS sends the queued records to dst on the clock goroutine,
// before the tick's RTP.
func (s *Stream) flushDTLS(dst netip.AddrPort) {
	t := s.dtls.Load()
	if t == nil || !dst.IsValid() {
		return
	}
	for _, b := range t.take() {
		if err := s.writeRTP(b, dst); err != nil {
			s.e.log.Debug("dtls: send", "to", dst, "err", err)
		}
	}
}

// deadline is a read deadline that wakes waiters when it passes, as
// net.Pipe's: wait returns a channel closed once the deadline is over.
type deadline struct {
	mu     sync.Mutex
	timer  *time.Timer
	cancel chan struct{} // closed when the deadline passed
}

func newDeadline() deadline { return deadline{cancel: make(chan struct{})} }

// set sets the deadline; the zero time means none.
func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil && !d.timer.Stop() {
		<-d.cancel // the timer fired: wait for it to close cancel
	}
	d.timer = nil
	closed := isClosed(d.cancel)
	if t.IsZero() {
		if closed {
			d.cancel = make(chan struct{})
		}
		return
	}
	if dur := time.Until(t); dur > 0 {
		if closed {
			d.cancel = make(chan struct{})
		}
		c := d.cancel
		d.timer = time.AfterFunc(dur, func() { close(c) })
		return
	}
	if !closed {
		close(d.cancel)
	}
}

// wait returns the channel closed when the deadline passes.
func (d *deadline) wait() chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cancel
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
