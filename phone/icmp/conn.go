package icmp

import (
	"fmt"
	"net"
	"sync"
	"syscall"
	"time"
)

const (
	// reportQueueLen is how many Reports wait for a slow Handler before
	// more are dropped. A dropped Report costs little: while a client
	// transaction retransmits (RFC 3261 §17.1.1.2, Timer A) each copy of the
	// request bounces again and is reported again.
	reportQueueLen = 32
	// writeAttempts bounds the sends of one WriteTo: a send that failed
	// with another datagram's ICMP error is made again (see WriteTo).
	writeAttempts = 3
)

// Conn is a UDP socket that reports ICMP errors to a Handler and hides them
// from its reader and writers. It is a net.PacketConn; its methods may be
// called concurrently.
type Conn struct {
	uc  *net.UDPConn
	raw syscall.RawConn // the socket, for its error queue (Linux)

	reports chan Report   // nil: no Handler, or no reports on this system
	stop    chan struct{} // closed by Close: the delivery goroutine returns
	wg      sync.WaitGroup

	closeOnce sync.Once
	closeErr  error
}

// Wrap takes over uc: from now on it is read, written and closed through
// the returned Conn. On Linux it asks the kernel for the socket's ICMP
// errors (see the package documentation) and starts a goroutine that hands
// each Report to h; Close stops it. A nil h drops the Reports, while reads
// and writes still ignore the errors. Elsewhere the Conn only passes
// through. Wrap fails, leaving uc open, if the kernel refuses the options.
func Wrap(uc *net.UDPConn, h Handler) (*Conn, error) {
	raw, err := uc.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("icmp: %w", err)
	}
	if err := enable(raw); err != nil {
		return nil, fmt.Errorf("icmp: %s: %w", uc.LocalAddr(), err)
	}
	c := &Conn{uc: uc, raw: raw}
	if h != nil && reportsErrors {
		c.reports = make(chan Report, reportQueueLen)
		c.stop = make(chan struct{})
		c.wg.Add(1)
		go c.deliver(h)
	}
	return c, nil
}

// deliver hands the queued Reports to h until Close.
func (c *Conn) deliver(h Handler) {
	defer c.wg.Done()
	for {
		select {
		case r := <-c.reports:
			h.Report(r)
		case <-c.stop:
			return
		}
	}
}

// report queues r for the Handler, or drops it if the queue is full. It
// never blocks: it runs on the caller's read or write.
func (c *Conn) report(r Report) {
	if c.reports == nil {
		return
	}
	select {
	case c.reports <- r:
	default:
	}
}

// drain takes the ICMP errors waiting on the socket's error queue, which
// also clears its pending error, and reports them.
func (c *Conn) drain() { drainQueue(c.raw, c.report) }

// ReadFrom reads the next datagram, as net.PacketConn's ReadFrom. An ICMP
// error for an earlier datagram does not end the read: it is reported and
// the read goes on.
func (c *Conn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, addr, err := c.uc.ReadFrom(b)
		if err == nil || !pendingICMP(err) {
			return n, addr, err
		}
		// The socket's pending error, set by an ICMP error that is
		// waiting on the error queue: nothing was read.
		c.drain()
	}
}

// WriteTo sends b to addr, as net.PacketConn's WriteTo. When the send fails
// with the pending error of an ICMP error for an earlier datagram, nothing
// was sent (the kernel checks the pending error first): the error is
// reported and the send made again.
func (c *Conn) WriteTo(b []byte, addr net.Addr) (int, error) {
	n, err := c.uc.WriteTo(b, addr)
	for i := 1; i < writeAttempts && err != nil && pendingICMP(err); i++ {
		// A send that fails by itself (no route, a datagram too
		// large) fails again and returns its error.
		c.drain()
		n, err = c.uc.WriteTo(b, addr)
	}
	if err != nil && lostOnSend(err) {
		return len(b), nil
	}
	return n, err
}

// Close closes the socket, which ends any read or write, stops the delivery
// goroutine and waits for it (and for a Report being handled). Reports not
// yet handled are dropped. Calls after the first return the first's result.
func (c *Conn) Close() error {
	c.closeOnce.Do(func() {
		c.closeErr = c.uc.Close()
		if c.stop != nil {
			close(c.stop)
		}
		c.wg.Wait()
	})
	return c.closeErr
}

// LocalAddr returns the socket's local address, a *net.UDPAddr.
func (c *Conn) LocalAddr() net.Addr { return c.uc.LocalAddr() }

// SetDeadline sets the socket's read and write deadlines.
func (c *Conn) SetDeadline(t time.Time) error { return c.uc.SetDeadline(t) }

// SetReadDeadline sets the socket's read deadline.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.uc.SetReadDeadline(t) }

// SetWriteDeadline sets the socket's write deadline.
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.uc.SetWriteDeadline(t) }

var _ net.PacketConn = (*Conn)(nil)
