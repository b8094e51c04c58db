// Package stun asks a STUN server (RFC 5389) from which public address and
// port a UDP socket's packets arrive: the address a NAT maps the socket to.
// The phone puts that address in its SDP so that a peer on the Internet can
// send media through the NAT, and "teaphone doctor" compares mappings to
// tell the kinds of NAT apart.
//
// Messages are encoded and decoded by github.com/pion/stun/v3; this package
// adds only the client transaction over a socket the caller owns (the RTP
// socket itself, so the mapping found is the one media will use), which the
// library's Client cannot do without taking the socket over.
package stun
