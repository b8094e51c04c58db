//go:build linux

package icmp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// reportsErrors: the Linux kernel keeps the ICMP errors of a UDP socket
// with IP_RECVERR on its error queue.
const reportsErrors = true

const (
	// quoteLen has room for the longest quote: the kernel quotes at most
	// 1280 bytes (the IPv6 minimum MTU) of ICMPv6 message, of which 1184
	// are the bounced datagram's payload.
	quoteLen = 1280
	// ctrlLen has room for one IP_RECVERR or IPV6_RECVERR control
	// message: a sock_extended_err and the offender's sockaddr_in6.
	ctrlLen = 128
	// drainMax bounds one drain of the error queue, which the socket's
	// receive buffer bounds anyway.
	drainMax = 64
	// sizeofExtendedErr is sizeof(struct sock_extended_err).
	sizeofExtendedErr = 16
)

// enable sets IP_RECVERR, and on an IPv6 socket IPV6_RECVERR as well: an
// IPv6 socket that is not IPV6_V6ONLY also sends IPv4 (as IPv4-mapped
// addresses), whose ICMP errors the kernel queues only with IP_RECVERR.
func enable(raw syscall.RawConn) error {
	var serr error
	err := raw.Control(func(fd uintptr) {
		domain, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_DOMAIN)
		if err != nil {
			serr = fmt.Errorf("getsockopt SO_DOMAIN: %w", err)
			return
		}
		if err := unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_RECVERR, 1); err != nil {
			serr = fmt.Errorf("setsockopt IP_RECVERR: %w", err)
			return
		}
		if domain == unix.AF_INET6 {
			if err := unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_RECVERR, 1); err != nil {
				serr = fmt.Errorf("setsockopt IPV6_RECVERR: %w", err)
			}
		}
	})
	if err != nil {
		return err
	}
	return serr
}

// pendingICMP reports whether err carries an error number that the kernel
// stores as a UDP socket's pending error when an ICMP error arrives (its
// tables icmp_err_convert and icmpv6_err_convert, and __udp4_lib_err):
// ECONNREFUSED (port unreachable); ENETUNREACH, EHOSTUNREACH, EHOSTDOWN,
// ENONET, ENOPROTOOPT, EOPNOTSUPP and EACCES (the other destination
// unreachables); EPROTO (parameter problem); and, for ICMP errors that are
// not Reported, EMSGSIZE (packet too big) and EHOSTUNREACH (time exceeded).
// Each of them would end sipgo's reads.
func pendingICMP(err error) bool {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return false
	}
	switch errno {
	case unix.ECONNREFUSED, unix.EHOSTUNREACH, unix.ENETUNREACH, unix.EHOSTDOWN, unix.ENONET,
		unix.ENOPROTOOPT, unix.EACCES, unix.EMSGSIZE, unix.EOPNOTSUPP, unix.EPROTO:
		return true
	}
	return false
}

// lostOnSend reports whether a failed send is one that a socket without
// IP_RECVERR reports as sent: with IP_RECVERR, udp_sendmsg returns ENOBUFS
// when a queue on the way out dropped the datagram, which is a datagram lost
// like any other (a client transaction retransmits it).
func lostOnSend(err error) bool {
	return errors.Is(err, unix.ENOBUFS)
}

// drainQueue reads the socket's error queue until it is empty (recvmsg(2)
// with MSG_ERRQUEUE, ip(7) IP_RECVERR), which also clears the pending
// error, and hands each ICMP error that means an unreachable destination to
// report.
func drainQueue(raw syscall.RawConn, report func(Report)) {
	var quote [quoteLen]byte
	var ctrl [ctrlLen]byte
	_ = raw.Control(func(fd uintptr) {
		for range drainMax {
			n, ctrln, _, from, err := unix.Recvmsg(int(fd), quote[:], ctrl[:], unix.MSG_ERRQUEUE|unix.MSG_DONTWAIT)
			if err != nil {
				return // EAGAIN: the queue is empty
			}
			if r, ok := parseQueued(quote[:n], ctrl[:ctrln], from); ok {
				report(r)
			}
		}
	})
}

// parseQueued decodes one message of the error queue: the bounced datagram's
// payload, the control message carrying its sock_extended_err, and
// msg_name, the datagram's destination. It reports false for an error that
// is not an unreachable destination, or that did not come from ICMP.
func parseQueued(payload, ctrl []byte, from unix.Sockaddr) (Report, bool) {
	msgs, err := unix.ParseSocketControlMessage(ctrl)
	if err != nil {
		return Report{}, false
	}
	for _, m := range msgs {
		if !(m.Header.Level == unix.SOL_IP && m.Header.Type == unix.IP_RECVERR) &&
			!(m.Header.Level == unix.SOL_IPV6 && m.Header.Type == unix.IPV6_RECVERR) {
			continue
		}
		origin, typ, code, offender, ok := parseExtendedErr(m.Data)
		if !ok {
			return Report{}, false
		}
		reason := reasonFor(origin, typ, code)
		addr, ok := addrPort(from)
		if reason == ReasonUnknown || !ok {
			return Report{}, false
		}
		return Report{Addr: addr, Reason: reason, From: offender, Quote: append([]byte(nil), payload...)}, true
	}
	return Report{}, false
}

// parseExtendedErr decodes a struct sock_extended_err (linux/errqueue.h:
// u32 ee_errno, u8 ee_origin, ee_type, ee_code, ee_pad, u32 ee_info, u32
// ee_data) and the sockaddr of SO_EE_OFFENDER that follows it.
func parseExtendedErr(b []byte) (origin, typ, code uint8, offender netip.Addr, ok bool) {
	if len(b) < sizeofExtendedErr {
		return 0, 0, 0, netip.Addr{}, false
	}
	origin, typ, code = b[4], b[5], b[6]
	sa := b[sizeofExtendedErr:]
	if len(sa) >= 2 {
		switch binary.NativeEndian.Uint16(sa) {
		case unix.AF_INET:
			if len(sa) >= unix.SizeofSockaddrInet4 {
				offender = netip.AddrFrom4([4]byte(sa[4:8]))
			}
		case unix.AF_INET6:
			if len(sa) >= unix.SizeofSockaddrInet6 {
				offender = netip.AddrFrom16([16]byte(sa[8:24])).Unmap()
			}
		}
	}
	return origin, typ, code, offender, true
}

// addrPort converts msg_name to a netip.AddrPort, unmapping IPv4-mapped
// addresses and naming the zone of a link-local one as the net package does.
func addrPort(sa unix.Sockaddr) (netip.AddrPort, bool) {
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port)), true
	case *unix.SockaddrInet6:
		a := netip.AddrFrom16(sa.Addr).Unmap()
		if a.Is6() && sa.ZoneId != 0 {
			a = a.WithZone(zoneName(sa.ZoneId))
		}
		return netip.AddrPortFrom(a, uint16(sa.Port)), true
	}
	return netip.AddrPort{}, false
}

// zoneName is the name of the interface with index id, else the index.
func zoneName(id uint32) string {
	if ifi, err := net.InterfaceByIndex(int(id)); err == nil {
		return ifi.Name
	}
	return strconv.FormatUint(uint64(id), 10)
}
