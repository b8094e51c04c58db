package locator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// Locate returns the servers to try for q, in order (RFC 3263 §4). The
// list is never empty when err is nil. An error names q's host and every
// lookup tried, and wraps ErrNotFound, ErrUnavailable, ErrDNS, ErrTransport
// or ErrInvalid.
func (r *Resolver) Locate(ctx context.Context, q Query) ([]Target, error) {
	loc, err := r.LocateTTL(ctx, q)
	return loc.Targets, err
}

// locate is Locate, with the smallest TTL of the records used.
func (r *Resolver) locate(ctx context.Context, q Query) ([]Target, minTTL, error) {
	var none minTTL
	host := strings.TrimSuffix(strings.TrimPrefix(q.Host, "["), "]")
	if host == "" {
		return nil, none, fmt.Errorf("locate: %w: empty host", ErrInvalid)
	}
	if q.Port < 0 || q.Port > 65535 {
		return nil, none, fmt.Errorf("locate %s: %w: port %d", host, ErrInvalid, q.Port)
	}
	transport, err := r.uriTransport(q)
	if err == nil && q.Secure && !r.supports(TLS) {
		err = fmt.Errorf("%w: a sips: URI needs TLS, which this phone does not use", ErrTransport)
	}
	if err != nil {
		return nil, none, fmt.Errorf("locate %s: %w", host, err)
	}

	// RFC 3263 §4.1, §4.2: a numeric host is the server; without a
	// transport parameter, UDP for sip: and TLS for sips:.
	if ip, err := netip.ParseAddr(host); err == nil {
		if transport == "" {
			transport = r.defaultTransport(q.Secure)
		}
		ip = ip.Unmap().WithZone("")
		return []Target{{Transport: transport, Addr: netip.AddrPortFrom(ip, port(q.Port, transport)), Host: ip.String()}}, none, nil
	}
	if _, ok := dns.IsDomainName(host); !ok || strings.HasPrefix(host, ".") {
		return nil, none, fmt.Errorf("locate %q: %w: not a domain name or IP address", host, ErrInvalid)
	}

	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	l := &lookup{r: r, ctx: ctx, host: host}

	// RFC 3263 §4.2: "If the TARGET was not a numeric IP address, but a port
	// is present in the URI, the client performs an A or AAAA record lookup
	// of the domain name", with the transport of §4.1.
	if q.Port != 0 {
		if transport == "" {
			transport = r.defaultTransport(q.Secure)
		}
		ts, err := l.hostAddrs(transport, uint16(q.Port))
		return ts, l.ttl, err
	}

	// RFC 3263 §4.1: a transport parameter decides; else NAPTR; else SRV
	// for the transports the client supports.
	var services []service
	if transport != "" {
		services = []service{l.srvService(transport, q.Secure)}
	} else {
		services = l.naptr(q.Secure)
		if len(services) == 0 {
			for _, t := range r.transports {
				if q.Secure && t != TLS {
					continue
				}
				services = append(services, l.srvService(t, q.Secure))
			}
		}
	}
	targets, found, failed := l.services(services)
	switch {
	case len(targets) > 0:
		return targets, l.ttl, nil
	case found:
		// RFC 2782: A/AAAA records are the fallback only when there are no
		// SRV records; a target of "." alone says the service is not there.
		if l.onlyDot {
			return nil, none, l.fail(ErrUnavailable)
		}
		return nil, none, l.fail(ErrNotFound)
	case failed:
		// No answer is not "no records": do not fall back to A/AAAA on a
		// DNS failure, which could send the request somewhere else.
		return nil, none, l.fail(ErrDNS)
	}
	// RFC 3263 §4.2: "If no SRV records were found, the client performs an
	// A or AAAA record lookup of the domain name", at the default port of
	// the transport determined so far.
	ts, err := l.hostAddrs(services[0].transport, 0)
	return ts, l.ttl, err
}

// uriTransport is the transport the URI's parameter asks for, "" when it
// has none (RFC 3263 §4.1: "If the URI specifies a transport protocol in the
// transport parameter, that transport protocol SHOULD be used").
func (r *Resolver) uriTransport(q Query) (string, error) {
	if q.Transport == "" {
		return "", nil
	}
	t := strings.ToUpper(q.Transport)
	switch {
	case t != UDP && t != TCP && t != TLS:
		return "", fmt.Errorf("%w: transport=%s is not udp, tcp or tls", ErrTransport, q.Transport)
	case q.Secure && t == UDP:
		// RFC 3261 §26.2.2: sips: means TLS all the way.
		return "", fmt.Errorf("%w: a sips: URI cannot use transport=udp", ErrTransport)
	case q.Secure || t == TLS:
		t = TLS
	}
	if !r.supports(t) {
		return "", fmt.Errorf("%w: the URI asks for %s, which this phone does not use", ErrTransport, t)
	}
	return t, nil
}

// defaultTransport is RFC 3263 §4.1's choice when nothing else decides:
// UDP for sip: ("the client SHOULD use UDP for a SIP URI"; the next one the
// caller supports when it has no UDP), TLS for sips: (Locate has checked
// that the caller has TLS).
func (r *Resolver) defaultTransport(secure bool) string {
	if secure {
		return TLS
	}
	if r.supports(UDP) {
		return UDP
	}
	for _, t := range r.transports {
		if t != TLS {
			return t
		}
	}
	return TLS
}

// port is the URI's port, else the transport's default.
func port(p int, transport string) uint16 {
	if p != 0 {
		return uint16(p)
	}
	return DefaultPort(transport)
}

// lookup is one Locate call's state: its deadline and the trail of what was
// tried, for the error.
type lookup struct {
	r       *Resolver
	ctx     context.Context
	host    string
	tried   []string
	onlyDot bool   // every SRV record set found had the single target "."
	ttl     minTTL // of the records the targets came from
}

func (l *lookup) note(format string, args ...any) {
	l.tried = append(l.tried, fmt.Sprintf(format, args...))
}

// fail builds Locate's error: the host, the kind of failure and the trail.
func (l *lookup) fail(kind error) error {
	return fmt.Errorf("locate %s: %w (tried %s)", l.host, kind, strings.Join(l.tried, "; "))
}

// srvService is the SRV name for a transport (RFC 3263 §4.1: "_sips" for
// TLS, whatever the URI's scheme, "_sip" otherwise).
func (l *lookup) srvService(transport string, secure bool) service {
	switch {
	case transport == TLS || secure:
		return service{transport: TLS, name: "_sips._tcp." + dns.Fqdn(l.host)}
	case transport == TCP:
		return service{transport: TCP, name: "_sip._tcp." + dns.Fqdn(l.host)}
	}
	return service{transport: UDP, name: "_sip._udp." + dns.Fqdn(l.host)}
}

// naptr looks up the host's NAPTR records and returns the SRV names they
// lead to, best first (RFC 3263 §4.1, RFC 3403 §4.1: "order" ascending,
// then "preference" ascending), keeping only transports the caller
// supports. A failed query is noted and gives nothing: the SRV fallback
// follows, since some resolvers mishandle NAPTR.
func (l *lookup) naptr(secure bool) []service {
	rrs, err := l.r.exchange(l.ctx, l.host, dns.TypeNAPTR)
	if err != nil {
		l.note("NAPTR %s: %s", l.host, reason(err))
		return nil
	}
	var recs []*dns.NAPTR
	for _, rr := range rrs {
		if n, ok := rr.(*dns.NAPTR); ok {
			recs = append(recs, n)
			l.ttl.see(n.Hdr.Ttl)
		}
	}
	if len(recs) == 0 {
		l.note("NAPTR %s: no records", l.host)
		return nil
	}
	slices.SortStableFunc(recs, func(a, b *dns.NAPTR) int {
		if a.Order != b.Order {
			return int(a.Order) - int(b.Order)
		}
		return int(a.Preference) - int(b.Preference)
	})
	var out []service
	for _, n := range recs[:min(len(recs), maxNAPTR)] {
		s, err := naptrService(n.Flags, n.Service, n.Regexp, n.Replacement, secure)
		switch {
		case err != nil:
			l.note("NAPTR %s %q skipped: %v", l.host, n.Service, err)
		case !l.r.supports(s.transport):
			l.note("NAPTR %s %q skipped: this phone does not use %s", l.host, n.Service, s.transport)
		case !slices.Contains(out, s):
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		l.note("NAPTR %s: no usable record, trying SRV", l.host)
	}
	return out
}

// services resolves each SRV name in turn to its targets. found reports
// that some name had SRV records (even "."), failed that some query got no
// usable answer.
func (l *lookup) services(svcs []service) (targets []Target, found, failed bool) {
	l.onlyDot = true
	for _, s := range svcs {
		ts, f, err := l.service(s)
		if err != nil {
			failed = true
			continue
		}
		found = found || f
		for _, t := range ts {
			if len(targets) < maxTargets && !slices.Contains(targets, t) {
				targets = append(targets, t)
			}
		}
	}
	return targets, found, failed
}

// service queries one SRV name and resolves its records, in RFC 2782
// order, to targets; a target whose name has no address is noted and
// skipped.
func (l *lookup) service(s service) (targets []Target, found bool, err error) {
	rrs, err := l.r.exchange(l.ctx, s.name, dns.TypeSRV)
	if err != nil {
		if errors.Is(err, errNXDomain) {
			l.note("SRV %s: no such name", bare(s.name))
			return nil, false, nil
		}
		l.note("SRV %s: %s", bare(s.name), reason(err))
		return nil, false, err
	}
	var recs []srv
	for _, rr := range rrs {
		if r, ok := rr.(*dns.SRV); ok {
			recs = append(recs, srv{priority: r.Priority, weight: r.Weight, port: r.Port, target: r.Target})
			l.ttl.see(r.Hdr.Ttl)
		}
	}
	if len(recs) == 0 {
		l.note("SRV %s: no records", bare(s.name))
		return nil, false, nil
	}
	// RFC 2782: 'A Target of "." means that the service is decidedly not
	// available at this domain.'
	if len(recs) == 1 && recs[0].target == "." {
		l.note("SRV %s: target \".\" (service not available)", bare(s.name))
		return nil, true, nil
	}
	l.onlyDot = false
	for _, rec := range orderSRV(recs[:min(len(recs), maxSRV)], l.r.intN) {
		name, err := srvName(rec.target)
		if err != nil || rec.port == 0 {
			l.note("SRV %s: record %d %d %d %q skipped", bare(s.name), rec.priority, rec.weight, rec.port, rec.target)
			continue
		}
		addrs, err := l.addrs(name)
		if err != nil {
			l.note("SRV %s -> %s: %s", bare(s.name), bare(name), reason(err))
			continue
		}
		for _, a := range addrs[:min(len(addrs), maxAddrsPerSRV)] {
			targets = append(targets, Target{Transport: s.transport, Addr: netip.AddrPortFrom(a, rec.port), Host: bare(name)})
		}
	}
	return targets, true, nil
}

// hostAddrs is the A/AAAA lookup of the URI's host itself, at port p or
// the transport's default.
func (l *lookup) hostAddrs(transport string, p uint16) ([]Target, error) {
	if p == 0 {
		p = DefaultPort(transport)
	}
	addrs, err := l.addrs(l.host)
	if err != nil {
		l.note("A/AAAA %s: %s", l.host, reason(err))
		var de *net.DNSError
		if errors.As(err, &de) && de.IsNotFound {
			return nil, l.fail(ErrNotFound)
		}
		return nil, l.fail(ErrDNS)
	}
	var out []Target
	for _, a := range addrs[:min(len(addrs), maxTargets)] {
		out = append(out, Target{Transport: transport, Addr: netip.AddrPortFrom(a, p), Host: bare(l.host)})
	}
	return out, nil
}

// addrs resolves a name to its addresses of the configured family, in the
// standard resolver's order, without duplicates.
func (l *lookup) addrs(name string) ([]netip.Addr, error) {
	ips, err := l.r.ip.LookupNetIP(l.ctx, l.r.network, name)
	if err != nil {
		return nil, err
	}
	var out []netip.Addr
	for _, ip := range ips {
		ip = ip.Unmap()
		if !slices.Contains(out, ip) {
			out = append(out, ip)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no address")
	}
	l.addrTTL(name)
	return out, nil
}

// reason is an error as the trail shows it: without the standard
// resolver's "lookup NAME on SERVER:" prefix, which names a server it may
// not have asked (WithServers redirects it).
func reason(err error) string {
	var de *net.DNSError
	switch {
	case errors.As(err, &de):
		if de.IsTimeout {
			return "no answer in time"
		}
		return de.Err
	case errors.Is(err, context.DeadlineExceeded):
		return "no answer in time"
	}
	return err.Error()
}

// bare is a name as Target.Host and the trail show it: no trailing dot.
func bare(name string) string { return strings.TrimSuffix(name, ".") }
