// Package doctor is "teaphone doctor": it checks one account the way a
// support desk would, for the two commonest complaints of every softphone,
// "one-way audio" and "no incoming calls".
//
// Run locates the provider (RFC 3263), asks the STUN server (if
// nat.stun_server is set) how the NAT maps the SIP port and an RTP port,
// starts a phone with no audio, registers, compares our address with the
// one the registrar saw (Via received/rport) and the one STUN saw, and
// checks, right away and again after an idle pause, that a request sent to
// our own AOR through the provider reaches us. It returns Findings; Build
// turns them into a Report of readable lines, with no I/O, so the judgement
// is table-tested apart from the network.
package doctor
