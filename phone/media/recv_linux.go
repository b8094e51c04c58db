//go:build linux

package media

import (
	"encoding/binary"
	"net"
	"net/netip"
	"strconv"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// On Linux no goroutine waits on a stream's RTP socket: the clock drains it
// at the start of the stream's tick with non-blocking recvmmsg(2), and an
// idle socket costs one system call per tick. The kernel stamps each
// datagram with its receive time (SO_TIMESTAMPNS), which stays its arrival
// time for the RFC 3550 A.8 jitter, the playout buffer and the source lock.
//
// The socket is also taken out of the runtime's poller: its descriptor is
// duplicated and the *net.UDPConn closed, and the clock sends RTP on the
// duplicate with sendto(2). A socket in the poller (edge-triggered, for
// reading and writing) would wake an idle thread of the process for every
// datagram received and for every one sent, with nothing to run.

const (
	// rxBatchLen is the vlen of one recvmmsg(2): a stream receives one
	// packet per 20 ms tick, a few when the network bunches them; a full
	// batch is followed by another.
	rxBatchLen = 4
	// rxDrainMax bounds the datagrams a stream takes in one tick, so that a
	// flood on one socket cannot hold up the clock; the rest wait in the
	// socket for the next tick.
	rxDrainMax = 64
	// rxCtrlLen has room for the timestamp's control message and one more
	// (an option the caller set on its socket).
	rxCtrlLen = 64
	// rxMaxAge bounds how long before the drain a datagram counts as having
	// arrived: a wall clock step between its arrival and the drain must not
	// move it further (see arrivalTime).
	rxMaxAge = 2 * time.Second
)

// rtpDrain is a stream's RTP socket once the clock drains it: the
// descriptor, the encoded address RTP was last sent to, and the name of
// the IPv6 scope its link-local remote was last seen on.
type rtpDrain struct {
	on     bool // false: s.rtpConn, read by a goroutine
	fd     int  // non-blocking, out of the runtime's poller
	v6     bool // an AF_INET6 socket: every destination is a sockaddr_in6
	dst    netip.AddrPort
	sa     [unix.SizeofSockaddrInet6]byte
	saLen  int // 0: dst not encoded (or not for this socket)
	zoneID uint32
	zone   string
}

// drainOnTick takes s's RTP socket for the clock: it duplicates the
// descriptor and closes s.rtpConn, which takes the socket out of the
// runtime's poller (its LocalAddr still answers). It asks the kernel to
// stamp each datagram with its receive time: SO_TIMESTAMPNS, else
// SO_TIMESTAMP (socket(7)); with neither, a datagram's arrival is the
// engine's clock at the drain. It reports false, leaving s.rtpConn alone,
// when the socket cannot be drained so. Start calls it with s.mu held,
// before s is on the clock.
func (s *Stream) drainOnTick() bool {
	raw, err := s.rtpConn.SyscallConn()
	if err != nil {
		return false
	}
	fd, domain := -1, 0
	var errno syscall.Errno
	var derr, serr error
	err = raw.Control(func(sfd uintptr) {
		// An empty recvmmsg(2) tells whether the system call is there
		// (a system call of its own on 386 since Linux 4.3) and allowed.
		if _, _, errno = unix.RawSyscall6(unix.SYS_RECVMMSG, sfd, 0, 0, unix.MSG_DONTWAIT, 0, 0); errno != 0 {
			return
		}
		if domain, derr = unix.GetsockoptInt(int(sfd), unix.SOL_SOCKET, unix.SO_DOMAIN); derr != nil {
			return
		}
		if fd, derr = unix.FcntlInt(sfd, unix.F_DUPFD_CLOEXEC, 0); derr != nil {
			return
		}
		serr = unix.SetsockoptInt(int(sfd), unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1)
		if serr != nil {
			serr = unix.SetsockoptInt(int(sfd), unix.SOL_SOCKET, unix.SO_TIMESTAMP, 1)
		}
	})
	if err != nil || errno != 0 || derr != nil {
		if fd >= 0 {
			_ = unix.Close(fd)
		}
		return false
	}
	if serr != nil {
		s.e.log.Warn("rtp socket: no receive timestamps; arrival times are the clock's at the drain", "err", serr)
	}
	// The duplicate keeps the socket open (and non-blocking: the flag is
	// the open file's).
	_ = s.rtpConn.Close()
	s.drain = rtpDrain{on: true, fd: fd, v6: domain == unix.AF_INET6}
	return true
}

// writeRTP sends one RTP packet to dst from the clock goroutine. It does
// not allocate. A full send buffer (EAGAIN) drops the packet rather than
// hold up the clock.
func (s *Stream) writeRTP(b []byte, dst netip.AddrPort) error {
	d := &s.drain
	if !d.on {
		_, err := s.rtpConn.WriteToUDPAddrPort(b, dst)
		return err
	}
	if dst != d.dst || d.saLen == 0 {
		d.dst = dst
		d.saLen = d.putSockaddr(dst)
		if d.saLen == 0 {
			return unix.EAFNOSUPPORT
		}
	}
	// The socket is non-blocking: the call never blocks (see recv).
	_, _, errno := unix.RawSyscall6(unix.SYS_SENDTO, uintptr(d.fd), uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)),
		0, uintptr(unsafe.Pointer(&d.sa[0])), uintptr(d.saLen))
	if errno != 0 {
		return errno
	}
	return nil
}

// putSockaddr encodes dst for the socket (ip(7), ipv6(7)) and returns its
// length, 0 when the socket cannot send there: an IPv4 socket takes IPv4
// addresses, an IPv6 one any address (IPv4 as IPv4-mapped).
func (d *rtpDrain) putSockaddr(dst netip.AddrPort) int {
	clear(d.sa[:])
	a := dst.Addr()
	binary.BigEndian.PutUint16(d.sa[2:], dst.Port())
	if !d.v6 {
		if !a.Is4() {
			return 0
		}
		binary.NativeEndian.PutUint16(d.sa[:], unix.AF_INET)
		ip := a.As4()
		copy(d.sa[4:], ip[:])
		return unix.SizeofSockaddrInet4
	}
	binary.NativeEndian.PutUint16(d.sa[:], unix.AF_INET6)
	ip := a.As16()
	copy(d.sa[8:], ip[:])
	if z := a.Zone(); z != "" {
		binary.NativeEndian.PutUint32(d.sa[24:], zoneIndex(z))
	}
	return unix.SizeofSockaddrInet6
}

// zoneIndex is the index of the interface an IPv6 zone names (a name or a
// number), 0 when there is none; as net.UDPConn does.
func zoneIndex(zone string) uint32 {
	if ifi, err := net.InterfaceByName(zone); err == nil {
		return uint32(ifi.Index)
	}
	n, _ := strconv.ParseUint(zone, 10, 32)
	return uint32(n)
}

// closeRTP closes the RTP socket; Close calls it once no tick runs s.
func (s *Stream) closeRTP() {
	_ = s.rtpConn.Close()
	if s.drain.on {
		_ = unix.Close(s.drain.fd)
	}
}

// rxBatch holds the recvmmsg(2) vectors and buffers of one shard of the
// clock; the drains of its streams take turns with it on the shard's
// goroutine. The headers point into the batch itself, which never moves.
type rxBatch struct {
	msgs  [rxBatchLen]unix.Mmsghdr
	iovs  [rxBatchLen]unix.Iovec
	names [rxBatchLen][unix.SizeofSockaddrInet6]byte
	ctrl  [rxBatchLen][rxCtrlLen]byte
	bufs  [rxBatchLen][maxPacket]byte

	n     int           // datagrams the last recv took
	errno syscall.Errno // the last recv's error (EAGAIN: the socket was empty)
	calls uint64        // recvmmsg calls (tests and benchmarks)
}

func newRxBatch() *rxBatch {
	b := new(rxBatch)
	for i := range b.msgs {
		b.iovs[i].Base = &b.bufs[i][0]
		b.iovs[i].SetLen(maxPacket)
		h := &b.msgs[i].Hdr
		h.Name = &b.names[i][0]
		h.Iov = &b.iovs[i]
		h.SetIovlen(1)
		h.Control = &b.ctrl[i][0]
	}
	return b
}

// recv takes what it can of the datagrams waiting on fd with one
// non-blocking recvmmsg(2).
func (b *rxBatch) recv(fd int) {
	for i := range b.msgs {
		h := &b.msgs[i].Hdr
		h.Namelen = uint32(len(b.names[i]))
		h.SetControllen(rxCtrlLen)
		h.Flags = 0
	}
	// MSG_DONTWAIT: the call never blocks, so the scheduler need not know
	// of it (RawSyscall6 skips entersyscall and exitsyscall).
	n, _, errno := unix.RawSyscall6(unix.SYS_RECVMMSG, uintptr(fd), uintptr(unsafe.Pointer(&b.msgs[0])), rxBatchLen, unix.MSG_DONTWAIT, 0, 0)
	b.calls++
	b.n, b.errno = int(n), errno
	if errno != 0 {
		b.n = 0
	}
}

// drain takes what s's RTP socket holds and handles each datagram as the
// receive goroutine would, with the kernel's receive time as its arrival;
// it appends the DTMF digits received to digits, in order, for the caller
// to report after the tick. An empty socket costs one system call; only a
// full batch is followed by another, up to rxDrainMax datagrams. Any error
// ends the drain until the next tick: EAGAIN (nothing more), or an ICMP
// error the kernel reports once on the socket (ECONNREFUSED). Datagrams
// longer than maxPacket and unreadable source addresses are dropped as
// garbage. The caller makes sure that s is not closed meanwhile (see
// Engine.remove).
func (b *rxBatch) drain(s *Stream, digits []rune) []rune {
	d := &s.drain
	if !d.on {
		return digits
	}
	for taken := 0; taken < rxDrainMax; {
		if b.recv(d.fd); b.n == 0 {
			return digits
		}
		wall, now := time.Now(), s.e.now()
		for i := range b.n {
			m := &b.msgs[i]
			if m.Hdr.Flags&unix.MSG_TRUNC != 0 {
				s.garbage.Add(1)
				continue
			}
			from, ok := d.addrPort(b.names[i][:min(int(m.Hdr.Namelen), len(b.names[i]))])
			if !ok {
				s.garbage.Add(1)
				continue
			}
			at := arrivalTime(b.ctrl[i][:min(int(m.Hdr.Controllen), rxCtrlLen)], wall, now)
			d1, d2 := s.receiveRTP(b.bufs[i][:min(int(m.Len), maxPacket)], from, at)
			if d1 != 0 {
				digits = append(digits, d1)
			}
			if d2 != 0 {
				digits = append(digits, d2)
			}
		}
		taken += b.n
		if b.n < rxBatchLen {
			break
		}
	}
	return digits
}

// arrivalTime is when a datagram arrived, on the engine's clock: now less
// how long before wall (read together with now) the kernel stamped it. The
// age is read on the wall clock, like the stamp, but only over the short
// wait in the socket; the result keeps now's monotonic reading, so a wall
// clock step moves no arrival by more than rxMaxAge. Without a stamp the
// arrival is now.
func arrivalTime(ctrl []byte, wall, now time.Time) time.Time {
	ts, ok := rxTimestamp(ctrl)
	if !ok {
		return now
	}
	return now.Add(-min(max(wall.Sub(ts), 0), rxMaxAge))
}

// rxTimestamp finds the kernel's receive time among a datagram's control
// messages (cmsg(3)): SCM_TIMESTAMPNS, a timespec, or SCM_TIMESTAMP, a
// timeval, both at level SOL_SOCKET (socket(7)). It does not allocate; it
// reports false when there is none or the messages are malformed.
func rxTimestamp(b []byte) (time.Time, bool) {
	hdr := unix.CmsgLen(0) // struct cmsghdr, aligned
	for len(b) >= hdr {
		var n uint64 // cmsg_len, a size_t
		if unix.SizeofPtr == 8 {
			n = binary.NativeEndian.Uint64(b)
		} else {
			n = uint64(binary.NativeEndian.Uint32(b))
		}
		if n < uint64(hdr) || n > uint64(len(b)) {
			return time.Time{}, false
		}
		level := int32(binary.NativeEndian.Uint32(b[unix.SizeofPtr:]))
		typ := int32(binary.NativeEndian.Uint32(b[unix.SizeofPtr+4:]))
		if level == unix.SOL_SOCKET && (typ == unix.SCM_TIMESTAMPNS || typ == unix.SCM_TIMESTAMP) {
			sec, frac, ok := timeWords(b[hdr:n])
			if !ok || (sec == 0 && frac == 0) {
				return time.Time{}, false
			}
			if typ == unix.SCM_TIMESTAMP {
				frac *= int64(time.Microsecond)
			}
			return time.Unix(sec, frac), true
		}
		// CMSG_NXTHDR: the next header starts at the aligned end.
		next := (n + unix.SizeofPtr - 1) &^ (unix.SizeofPtr - 1)
		if next >= uint64(len(b)) {
			break
		}
		b = b[next:]
	}
	return time.Time{}, false
}

// timeWords decodes a timespec or timeval: two native 64-bit words, or two
// 32-bit ones where time_t is 32 bits.
func timeWords(b []byte) (sec, frac int64, ok bool) {
	switch len(b) {
	case 16:
		return int64(binary.NativeEndian.Uint64(b)), int64(binary.NativeEndian.Uint64(b[8:])), true
	case 8:
		return int64(int32(binary.NativeEndian.Uint32(b))), int64(int32(binary.NativeEndian.Uint32(b[4:]))), true
	}
	return 0, 0, false
}

// addrPort decodes the sockaddr_in or sockaddr_in6 (ip(7), ipv6(7)) that
// recvmmsg wrote; false for anything else. An IPv6 scope is named as the
// net package names it, looked up only when it changes, so that the steady
// state does not allocate.
func (d *rtpDrain) addrPort(b []byte) (netip.AddrPort, bool) {
	if len(b) < 4 {
		return netip.AddrPort{}, false
	}
	port := binary.BigEndian.Uint16(b[2:])
	switch binary.NativeEndian.Uint16(b) { // sa_family
	case unix.AF_INET:
		if len(b) < unix.SizeofSockaddrInet4 {
			return netip.AddrPort{}, false
		}
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[4:8])), port), true
	case unix.AF_INET6:
		if len(b) < unix.SizeofSockaddrInet6 {
			return netip.AddrPort{}, false
		}
		a := netip.AddrFrom16([16]byte(b[8:24]))
		if id := binary.NativeEndian.Uint32(b[24:]); id != 0 {
			a = a.WithZone(d.zoneName(id))
		}
		return netip.AddrPortFrom(a, port), true
	}
	return netip.AddrPort{}, false
}

// zoneName names the interface of IPv6 scope id (its index), or gives the
// number when there is no such interface, as net.UDPConn does.
func (d *rtpDrain) zoneName(id uint32) string {
	if id != d.zoneID || d.zone == "" {
		d.zoneID = id
		if ifi, err := net.InterfaceByIndex(int(id)); err == nil {
			d.zone = ifi.Name
		} else {
			d.zone = strconv.FormatUint(uint64(id), 10)
		}
	}
	return d.zone
}
