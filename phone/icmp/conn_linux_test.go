//go:build linux

package icmp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// wait bounds every wait for the kernel in these tests: on loopback an ICMP
// error comes back within a millisecond.
const wait = 2 * time.Second

// listen binds a UDP socket, skipping the test where the address does not
// exist (a system without IPv6 loopback).
func listen(t *testing.T, network, ip string) *net.UDPConn {
	t.Helper()
	uc, err := net.ListenUDP(network, &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		t.Skipf("no %s socket on %s: %v", network, ip, err)
	}
	return uc
}

// deadAddr is an address where nothing listens: a port just bound and
// closed, which the kernel answers with a port unreachable.
func deadAddr(t *testing.T, network, ip string) *net.UDPAddr {
	t.Helper()
	uc := listen(t, network, ip)
	a := uc.LocalAddr().(*net.UDPAddr)
	if err := uc.Close(); err != nil {
		t.Fatal(err)
	}
	return a
}

func addrPortOf(a *net.UDPAddr) netip.AddrPort {
	return netip.AddrPortFrom(netip.MustParseAddr(a.IP.String()), uint16(a.Port))
}

// wrap wraps uc with a Handler that queues the Reports on the returned
// channel, and closes the Conn when the test ends.
func wrap(t *testing.T, uc *net.UDPConn) (*Conn, <-chan Report) {
	t.Helper()
	ch := make(chan Report, 64)
	c, err := Wrap(uc, HandlerFunc(func(r Report) { ch <- r }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c, ch
}

type datagram struct {
	data string
	from net.Addr
}

// reader reads a Conn on its own goroutine, as sipgo does, until the read
// fails; the first error ends it. Closing the Conn stops it.
type reader struct {
	data chan datagram
	err  chan error // the error that ended the reads
}

func startReader(t *testing.T, c *Conn) *reader {
	r := &reader{data: make(chan datagram, 64), err: make(chan error, 1)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		for {
			n, from, err := c.ReadFrom(buf)
			if err != nil {
				r.err <- err
				return
			}
			r.data <- datagram{string(buf[:n]), from}
		}
	}()
	t.Cleanup(func() {
		_ = c.Close()
		<-done
	})
	return r
}

// next returns the next datagram read, failing the test if the read
// failed or none came.
func (r *reader) next(t *testing.T) datagram {
	t.Helper()
	select {
	case d := <-r.data:
		return d
	case err := <-r.err:
		t.Fatalf("ReadFrom failed: %v", err)
	case <-time.After(wait):
		t.Fatal("no datagram read")
	}
	return datagram{}
}

func nextReport(t *testing.T, ch <-chan Report) Report {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(wait):
		t.Fatal("no report")
	}
	return Report{}
}

// waitPollErr waits until the socket polls with POLLERR: an ICMP error is
// queued and nothing has read it yet.
func waitPollErr(t *testing.T, uc *net.UDPConn) {
	t.Helper()
	raw, err := uc.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var revents int16
	err = raw.Control(func(fd uintptr) {
		fds := []unix.PollFd{{Fd: int32(fd)}}
		if _, err := unix.Poll(fds, int(wait/time.Millisecond)); err == nil {
			revents = fds[0].Revents
		}
	})
	if err != nil || revents&unix.POLLERR == 0 {
		t.Fatalf("socket did not poll POLLERR (revents %#x, %v)", revents, err)
	}
}

func TestPortUnreachable(t *testing.T) {
	tests := []struct {
		name            string
		network, ip     string // the wrapped socket
		destNet, destIP string // where nothing listens
	}{
		{"ipv4", "udp4", "127.0.0.1", "udp4", "127.0.0.1"},
		{"ipv6", "udp6", "::1", "udp6", "::1"},
		{"dual stack to ipv4", "udp", "::", "udp4", "127.0.0.1"},
		{"dual stack to ipv6", "udp", "::", "udp6", "::1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, reports := wrap(t, listen(t, tt.network, tt.ip))
			rd := startReader(t, c)
			dead := deadAddr(t, tt.destNet, tt.destIP)
			msg := []byte("OPTIONS sip:nobody@" + dead.String() + " SIP/2.0\r\n")

			start := time.Now()
			if _, err := c.WriteTo(msg, dead); err != nil {
				t.Fatal(err)
			}
			r := nextReport(t, reports)
			t.Logf("%v after %v", r, time.Since(start))
			if want := addrPortOf(dead); r.Addr != want {
				t.Errorf("Addr = %v, want %v", r.Addr, want)
			}
			if r.Reason != ReasonPortUnreachable {
				t.Errorf("Reason = %v, want port unreachable", r.Reason)
			}
			if r.From != r.Addr.Addr() {
				t.Errorf("From = %v, want the destination host %v", r.From, r.Addr.Addr())
			}
			if !bytes.Equal(r.Quote, msg) {
				t.Errorf("Quote = %q, want %q", r.Quote, msg)
			}
			if got := r.String(); got != "port unreachable: "+addrPortOf(dead).String() {
				t.Errorf("String() = %q", got)
			}
			select {
			case err := <-rd.err:
				t.Errorf("ReadFrom failed: %v", err)
			default:
			}
		})
	}
}

// TestConnectedSocket: the kernel reports ICMP errors on a connected socket
// the same way.
func TestConnectedSocket(t *testing.T) {
	dead := deadAddr(t, "udp4", "127.0.0.1")
	uc, err := net.DialUDP("udp4", nil, dead)
	if err != nil {
		t.Fatal(err)
	}
	c, reports := wrap(t, uc)
	rd := startReader(t, c)
	if _, err := uc.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if r := nextReport(t, reports); r.Addr != addrPortOf(dead) || r.Reason != ReasonPortUnreachable {
		t.Errorf("report %v, want port unreachable: %v", r, dead)
	}
	select {
	case err := <-rd.err:
		t.Errorf("ReadFrom failed: %v", err)
	default:
	}
}

// TestReadsOnAfterError: datagrams waiting when the ICMP error comes, and
// those that come after it, are all read, and the reader never sees the
// error.
func TestReadsOnAfterError(t *testing.T) {
	uc := listen(t, "udp4", "127.0.0.1")
	c, reports := wrap(t, uc)
	peer := listen(t, "udp4", "127.0.0.1")
	defer peer.Close()

	// Before any reader: the datagram waits, then the pending error comes.
	if _, err := peer.WriteTo([]byte("before"), uc.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	dead := deadAddr(t, "udp4", "127.0.0.1")
	if _, err := uc.WriteTo([]byte("x"), dead); err != nil { // around the Conn: no drain
		t.Fatal(err)
	}
	waitPollErr(t, uc)

	rd := startReader(t, c)
	if d := rd.next(t); d.data != "before" || d.from.String() != peer.LocalAddr().String() {
		t.Errorf("read %q from %v, want \"before\" from %v", d.data, d.from, peer.LocalAddr())
	}
	if r := nextReport(t, reports); r.Addr != addrPortOf(dead) {
		t.Errorf("report for %v, want %v", r.Addr, dead)
	}
	if _, err := peer.WriteTo([]byte("after"), uc.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	if d := rd.next(t); d.data != "after" {
		t.Errorf("read %q, want \"after\"", d.data)
	}
}

// TestWriteAfterError: a send that comes before any read after an ICMP
// error still goes out, and the error is reported by the send.
func TestWriteAfterError(t *testing.T) {
	uc := listen(t, "udp4", "127.0.0.1")
	c, reports := wrap(t, uc) // no reader
	live := listen(t, "udp4", "127.0.0.1")
	defer live.Close()
	dead := deadAddr(t, "udp4", "127.0.0.1")

	if _, err := c.WriteTo([]byte("x"), dead); err != nil {
		t.Fatal(err)
	}
	waitPollErr(t, uc)
	if n, err := c.WriteTo([]byte("to live"), live.LocalAddr()); err != nil || n != len("to live") {
		t.Fatalf("WriteTo after the ICMP error = %d, %v", n, err)
	}
	if err := live.SetReadDeadline(time.Now().Add(wait)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, _, err := live.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "to live" {
		t.Errorf("live socket read %q, %v", buf[:n], err)
	}
	if r := nextReport(t, reports); r.Addr != addrPortOf(dead) || r.Reason != ReasonPortUnreachable {
		t.Errorf("report %v, want port unreachable: %v", r, dead)
	}
}

// TestWriteOwnError: a send that fails by itself returns its error, even
// one the kernel also uses for ICMP errors.
func TestWriteOwnError(t *testing.T) {
	c, reports := wrap(t, listen(t, "udp4", "127.0.0.1"))
	live := listen(t, "udp4", "127.0.0.1")
	defer live.Close()
	_, err := c.WriteTo(make([]byte, 70000), live.LocalAddr()) // larger than any UDP datagram
	if !errors.Is(err, unix.EMSGSIZE) {
		t.Errorf("WriteTo of 70000 bytes = %v, want EMSGSIZE", err)
	}
	select {
	case r := <-reports:
		t.Errorf("unexpected report %v", r)
	default:
	}
}

// TestManyErrors: ICMP errors mixed with datagrams to read; every error is
// reported once and every datagram read.
func TestManyErrors(t *testing.T) {
	const n = 16 // under the kernel's burst of ICMP messages (icmp_msgs_burst)
	uc := listen(t, "udp4", "127.0.0.1")
	c, reports := wrap(t, uc)
	rd := startReader(t, c)
	peer := listen(t, "udp4", "127.0.0.1")
	defer peer.Close()

	want := map[netip.AddrPort]bool{}
	for i := range n {
		dead := deadAddr(t, "udp4", "127.0.0.1")
		want[addrPortOf(dead)] = true
		if _, err := c.WriteTo([]byte("x"), dead); err != nil {
			t.Fatal(err)
		}
		if _, err := peer.WriteTo([]byte{byte(i)}, uc.LocalAddr()); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		if d := rd.next(t); d.data != string([]byte{byte(i)}) {
			t.Errorf("datagram %d: read %q", i, d.data)
		}
	}
	for range want {
		r := nextReport(t, reports)
		if !want[r.Addr] {
			t.Errorf("unexpected or repeated report %v", r)
		}
		delete(want, r.Addr)
	}
}

// TestClose: Close waits for a Report being handled, stops the delivery
// goroutine, and ends a read with net.ErrClosed (on which sipgo's read
// loop stops quietly).
func TestClose(t *testing.T) {
	uc := listen(t, "udp4", "127.0.0.1")
	in, release := make(chan struct{}), make(chan struct{})
	c, err := Wrap(uc, HandlerFunc(func(Report) {
		close(in)
		<-release
	}))
	if err != nil {
		t.Fatal(err)
	}
	readErr := make(chan error, 1)
	go func() {
		_, _, err := c.ReadFrom(make([]byte, 64))
		readErr <- err
	}()
	if _, err := c.WriteTo([]byte("x"), deadAddr(t, "udp4", "127.0.0.1")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-in:
	case <-time.After(wait):
		t.Fatal("no report")
	}
	closed := make(chan error, 1)
	go func() { closed <- c.Close() }()
	select {
	case err := <-readErr:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("ReadFrom after Close = %v, want net.ErrClosed", err)
		}
	case <-time.After(wait):
		t.Fatal("Close did not end the read")
	}
	select {
	case <-closed:
		t.Fatal("Close returned while the Handler was running")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close = %v", err)
		}
	case <-time.After(wait):
		t.Fatal("Close did not return")
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	// The goroutine has called wg.Done; give it a moment to be gone.
	buf := make([]byte, 1<<20)
	for deadline := time.Now().Add(wait); ; time.Sleep(time.Millisecond) {
		stacks := string(buf[:runtime.Stack(buf, true)])
		if !strings.Contains(stacks, "(*Conn).deliver") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery goroutine still running:\n%s", stacks)
		}
	}
}

// TestNilHandler: without a Handler the errors are still hidden from the
// reader, and no goroutine is started.
func TestNilHandler(t *testing.T) {
	uc := listen(t, "udp4", "127.0.0.1")
	c, err := Wrap(uc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.reports != nil || c.stop != nil {
		t.Error("a Conn without Handler has a delivery queue")
	}
	peer := listen(t, "udp4", "127.0.0.1")
	defer peer.Close()
	if _, err := c.WriteTo([]byte("x"), deadAddr(t, "udp4", "127.0.0.1")); err != nil {
		t.Fatal(err)
	}
	waitPollErr(t, uc)
	rd := startReader(t, c)
	if _, err := peer.WriteTo([]byte("still here"), uc.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	if d := rd.next(t); d.data != "still here" {
		t.Errorf("read %q", d.data)
	}
}

// TestKernel pins down the kernel behaviour the package relies on (see the
// package documentation), on sockets that are not wrapped.
func TestKernel(t *testing.T) {
	readErr := func(uc *net.UDPConn, d time.Duration) error {
		if err := uc.SetReadDeadline(time.Now().Add(d)); err != nil {
			return err
		}
		_, _, err := uc.ReadFrom(make([]byte, 64))
		return err
	}
	recvErr := func(t *testing.T, uc *net.UDPConn) {
		raw, err := uc.SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		if err := enable(raw); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("unconnected socket without IP_RECVERR reports nothing", func(t *testing.T) {
		uc := listen(t, "udp4", "127.0.0.1")
		defer uc.Close()
		if _, err := uc.WriteTo([]byte("x"), deadAddr(t, "udp4", "127.0.0.1")); err != nil {
			t.Fatal(err)
		}
		if err := readErr(uc, 100*time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("read = %v, want a timeout", err)
		}
	})
	t.Run("the pending error fails the next read, before waiting data", func(t *testing.T) {
		uc := listen(t, "udp4", "127.0.0.1")
		defer uc.Close()
		recvErr(t, uc)
		if _, err := uc.WriteTo([]byte("data"), uc.LocalAddr()); err != nil {
			t.Fatal(err)
		}
		if _, err := uc.WriteTo([]byte("x"), deadAddr(t, "udp4", "127.0.0.1")); err != nil {
			t.Fatal(err)
		}
		waitPollErr(t, uc)
		if err := readErr(uc, wait); !errors.Is(err, unix.ECONNREFUSED) {
			t.Errorf("read = %v, want ECONNREFUSED", err)
		}
		if err := readErr(uc, wait); err != nil {
			t.Errorf("second read = %v, want the data", err)
		}
		waitPollErr(t, uc) // still queued: only the pending error was cleared
	})
	t.Run("the pending error fails the next send, which is not sent", func(t *testing.T) {
		uc := listen(t, "udp4", "127.0.0.1")
		defer uc.Close()
		recvErr(t, uc)
		live := listen(t, "udp4", "127.0.0.1")
		defer live.Close()
		if _, err := uc.WriteTo([]byte("x"), deadAddr(t, "udp4", "127.0.0.1")); err != nil {
			t.Fatal(err)
		}
		waitPollErr(t, uc)
		if _, err := uc.WriteTo([]byte("first"), live.LocalAddr()); !errors.Is(err, unix.ECONNREFUSED) {
			t.Errorf("send = %v, want ECONNREFUSED", err)
		}
		if _, err := uc.WriteTo([]byte("second"), live.LocalAddr()); err != nil {
			t.Errorf("second send = %v", err)
		}
		if err := live.SetReadDeadline(time.Now().Add(wait)); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 64)
		if n, _, err := live.ReadFrom(buf); err != nil || string(buf[:n]) != "second" {
			t.Errorf("live socket read %q, %v; want only \"second\"", buf[:n], err)
		}
	})
}

func TestParseExtendedErr(t *testing.T) {
	ee := func(origin, typ, code uint8, sa []byte) []byte {
		b := make([]byte, sizeofExtendedErr, sizeofExtendedErr+len(sa))
		binary.NativeEndian.PutUint32(b, uint32(unix.ECONNREFUSED))
		b[4], b[5], b[6] = origin, typ, code
		return append(b, sa...)
	}
	sin := func(ip [4]byte) []byte {
		b := make([]byte, unix.SizeofSockaddrInet4)
		binary.NativeEndian.PutUint16(b, unix.AF_INET)
		copy(b[4:], ip[:])
		return b
	}
	sin6 := func(ip [16]byte) []byte {
		b := make([]byte, unix.SizeofSockaddrInet6)
		binary.NativeEndian.PutUint16(b, unix.AF_INET6)
		copy(b[8:], ip[:])
		return b
	}
	tests := []struct {
		name              string
		b                 []byte
		origin, typ, code uint8
		offender          netip.Addr
		ok                bool
	}{
		{"ipv4 offender", ee(originICMP, 3, 3, sin([4]byte{192, 0, 2, 1})), originICMP, 3, 3, netip.MustParseAddr("192.0.2.1"), true},
		{"ipv6 offender", ee(originICMP6, 1, 4, sin6(netip.MustParseAddr("2001:db8::1").As16())), originICMP6, 1, 4, netip.MustParseAddr("2001:db8::1"), true},
		{"ipv4-mapped offender", ee(originICMP, 3, 1, sin6(netip.MustParseAddr("::ffff:192.0.2.9").As16())), originICMP, 3, 1, netip.MustParseAddr("192.0.2.9"), true},
		{"no offender", ee(originICMP, 3, 0, nil), originICMP, 3, 0, netip.Addr{}, true},
		{"unspecified family", ee(originICMP, 3, 0, make([]byte, 16)), originICMP, 3, 0, netip.Addr{}, true},
		{"short offender", ee(originICMP6, 1, 0, sin6([16]byte{})[:10]), originICMP6, 1, 0, netip.Addr{}, true},
		{"short", make([]byte, sizeofExtendedErr-1), 0, 0, 0, netip.Addr{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			origin, typ, code, offender, ok := parseExtendedErr(tt.b)
			if origin != tt.origin || typ != tt.typ || code != tt.code || offender != tt.offender || ok != tt.ok {
				t.Errorf("parseExtendedErr = %d %d %d %v %v, want %d %d %d %v %v",
					origin, typ, code, offender, ok, tt.origin, tt.typ, tt.code, tt.offender, tt.ok)
			}
		})
	}
}

// TestConstants: the values this package spells out are the kernel's.
func TestConstants(t *testing.T) {
	if originICMP != unix.SO_EE_ORIGIN_ICMP || originICMP6 != unix.SO_EE_ORIGIN_ICMP6 {
		t.Error("origin constants differ from linux/errqueue.h")
	}
	if sizeofExtendedErr != binary.Size(unix.SockExtendedErr{}) {
		t.Errorf("sizeofExtendedErr = %d, want %d", sizeofExtendedErr, binary.Size(unix.SockExtendedErr{}))
	}
}
