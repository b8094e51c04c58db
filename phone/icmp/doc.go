// Package icmp tells the SIP layer at once when a UDP datagram it sent bounced
// off an ICMP error (destination port, host or network unreachable,
// administratively prohibited), instead of leaving a client transaction to
// retransmit until Timer B (32 s, RFC 3261 §17.1.1.2).
//
// RFC 3261 §18.4: host, network, port or protocol unreachable and parameter
// problem errors SHOULD make the transport layer inform its user that the
// send failed (source quench and TTL exceeded SHOULD be ignored), and
// §8.1.3.1: such a fatal transport error MUST be treated as a 503 (Service
// Unavailable) final response.
//
// [Wrap] turns a *net.UDPConn into a [Conn], a net.PacketConn to hand to
// sipgo's Server.ServeUDP. On Linux it sets IP_RECVERR (and IPV6_RECVERR on
// an IPv6 socket, which may also carry IPv4 as IPv4-mapped addresses) so that
// the kernel keeps every ICMP error for the socket, even an unconnected one,
// on the socket's error queue (ip(7), ipv6(7)). What the kernel then does,
// as the tests in conn_linux_test.go show:
//
//   - It also stores the error number in the socket's pending error: the
//     next recvfrom(2) fails once with it (ECONNREFUSED for a port
//     unreachable) even when datagrams are waiting, and a blocked read is
//     woken for it. sipgo's UDP read loop (sip/transport_udp.go,
//     readListenerConnection, v1.7.2 and v1.7.3) returns on any read error
//     other than net.ErrClosed: the listener leaves its connection pool and
//     nothing reads SIP on the socket any more. [Conn.ReadFrom] therefore
//     never returns such an error: it drains the error queue and reads on.
//   - If a sendto(2) comes first, it is that call that fails with the
//     pending error, and its datagram is not sent at all. [Conn.WriteTo]
//     drains the queue and sends again, so that one destination's ICMP error
//     is not taken for another's write failure.
//   - Each queued error (recvmsg(2) with MSG_ERRQUEUE) names the destination
//     address and port of the datagram that bounced (msg_name), the ICMP
//     type and code (struct sock_extended_err), the host or router that sent
//     the ICMP message (SO_EE_OFFENDER), and as data the start of the
//     datagram as the ICMP message quoted it: 520 bytes over IPv4 and 1184
//     over IPv6 when the sender is a Linux host. Draining the queue also
//     clears the pending error.
//
// Each queued error that means an unreachable destination becomes a
// [Report] (the others, such as time exceeded or packet too big, are only
// taken off the queue), handed to the [Handler] on a goroutine that the Conn
// owns, so that a slow handler never holds up reading SIP; [Conn.Close]
// stops it. Where the error comes from does not matter: the destination
// host (port unreachable), a router with no route or a reject route
// (network or host unreachable, administratively prohibited), or a router,
// or this host, that got no answer to ARP or neighbour discovery (host
// unreachable, after about 3 s). Routers and hosts limit the ICMP errors
// they send (Linux to about one a second for a given source, after a small
// burst), and firewalls may drop them: an error may come only for a
// retransmission, or never, and Timer B stays the last resort.
//
// sipgo asserts no interface on the PacketConn it serves (it only calls
// ReadFrom, WriteTo, LocalAddr and Close), so the Conn can stand in for the
// *net.UDPConn. sipgo's client sends UDP requests from the served socket
// when given WithClientConnectionAddr, and otherwise from unconnected
// sockets of its own: it never uses connected UDP sockets, on which the
// kernel would report ICMP errors even without IP_RECVERR. A Conn wrapping a
// connected socket works the same way.
//
// Elsewhere a Conn passes everything through and reports nothing: Windows
// sockets would fail a read after a port unreachable (WSAECONNRESET), but
// Go's net package turns that off for every UDP socket (SIO_UDP_CONNRESET,
// SIO_UDP_NETRESET); BSD and macOS do not report ICMP errors on unconnected
// UDP sockets at all.
package icmp
