// Package locator turns the host part of a SIP URI into the ordered list of
// servers to try, as RFC 3263 §4 describes ("Locating SIP Servers"):
//
//   - an IP literal is the server itself, at the URI's port or the
//     transport's default (5060, 5061 for TLS);
//   - a domain with a port is looked up for A/AAAA records only;
//   - a domain without a port is looked up for NAPTR records (RFC 3403),
//     whose replacement names the SRV records to query; without usable NAPTR
//     records, for the SRV records _sip._udp, _sip._tcp and _sips._tcp that
//     the caller's transports allow; without SRV records, for A/AAAA records
//     at the default port.
//
// SRV records are ordered as RFC 2782 says (priority, then a weighted random
// draw) and each SRV target is resolved to its addresses. The result is a
// []Target the caller tries in order; [Failover] hands them out and
// remembers which failed. Failing over on a timeout, a transport error or a
// 503 is the caller's decision.
//
// NAPTR and SRV records come from github.com/miekg/dns, asking the servers
// of /etc/resolv.conf or those given with [WithServers]; A/AAAA records come
// from the standard library's resolver (so /etc/hosts still counts), which
// asks the same servers when [WithServers] is given.
//
// Only terminal NAPTR records ("S" flag) with an empty regular expression
// are used, as RFC 3263 §4.1 specifies for SIP: a record carrying a regexp
// is skipped, not evaluated.
package locator
