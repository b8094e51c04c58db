package locator

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Defaults of a Resolver.
const (
	// DefaultTimeout bounds one Locate call, every lookup included.
	DefaultTimeout = 5 * time.Second
	// DefaultResolvConf is where the DNS servers are read from.
	DefaultResolvConf = "/etc/resolv.conf"

	// tryTimeout bounds one question to one server; each server is asked
	// up to attempts times (resolv.conf's default "attempts:2"), so one lost
	// datagram costs a second, not the whole budget.
	tryTimeout = time.Second
	attempts   = 2
	// Bounds on what one answer can make us do.
	maxNAPTR       = 16 // NAPTR records considered
	maxSRV         = 16 // SRV records used per name
	maxAddrsPerSRV = 8  // addresses used per SRV target
	maxTargets     = 32 // targets returned
)

// Resolver locates SIP servers. It is safe for concurrent use.
type Resolver struct {
	servers    []string // host:port; nil reads resolvConf on each Locate
	resolvConf string
	transports []string // supported, in order of preference
	network    string   // "ip", "ip4" or "ip6"
	timeout    time.Duration
	intN       func(n int) int

	udp, tcp *dns.Client
	ip       *net.Resolver
}

// Option configures a Resolver.
type Option func(*Resolver)

// WithServers makes the Resolver ask these DNS servers ("host:port", or a
// bare address for port 53) for every record, A/AAAA included, instead of
// those of resolv.conf: tests use it, and so do network namespaces whose
// resolver differs from the host's.
func WithServers(addrs ...string) Option {
	return func(r *Resolver) { r.servers = append([]string(nil), addrs...) }
}

// WithResolvConf reads the DNS servers from path instead of
// /etc/resolv.conf. WithServers wins over it.
func WithResolvConf(path string) Option {
	return func(r *Resolver) { r.resolvConf = path }
}

// WithTransports names the transports the caller can use ("udp", "tcp",
// "tls"), in its order of preference: NAPTR records for others are skipped,
// and without NAPTR records the SRV names are queried in this order. The
// default is UDP then TCP.
func WithTransports(ts ...string) Option {
	return func(r *Resolver) { r.transports = append([]string(nil), ts...) }
}

// WithNetwork restricts addresses to one family: "ip4", "ip6", or "ip" for
// both (the default). A caller whose socket is IPv4 only passes "ip4".
func WithNetwork(network string) Option {
	return func(r *Resolver) { r.network = network }
}

// WithTimeout bounds each Locate call (default DefaultTimeout).
func WithTimeout(d time.Duration) Option {
	return func(r *Resolver) { r.timeout = d }
}

// WithRandom replaces the random source of the SRV weighted draw: intN
// returns a number in [0, n). It must be safe for concurrent use if the
// Resolver is used concurrently.
func WithRandom(intN func(n int) int) Option {
	return func(r *Resolver) { r.intN = intN }
}

// New builds a Resolver. Nothing is read or asked until Locate.
func New(opts ...Option) (*Resolver, error) {
	r := &Resolver{
		resolvConf: DefaultResolvConf,
		transports: []string{UDP, TCP},
		network:    "ip",
		timeout:    DefaultTimeout,
		intN:       rand.IntN,
	}
	for _, o := range opts {
		o(r)
	}
	for i, t := range r.transports {
		u := strings.ToUpper(t)
		if u != UDP && u != TCP && u != TLS {
			return nil, fmt.Errorf("%w: transport %q (want udp, tcp or tls)", ErrInvalid, t)
		}
		r.transports[i] = u
	}
	if len(r.transports) == 0 {
		return nil, fmt.Errorf("%w: no transport", ErrInvalid)
	}
	switch r.network {
	case "ip", "ip4", "ip6":
	default:
		return nil, fmt.Errorf("%w: network %q (want ip, ip4 or ip6)", ErrInvalid, r.network)
	}
	if r.timeout <= 0 {
		return nil, fmt.Errorf("%w: timeout %v", ErrInvalid, r.timeout)
	}
	for i, s := range r.servers {
		addr, err := serverAddr(s, "53")
		if err != nil {
			return nil, err
		}
		r.servers[i] = addr
	}
	r.udp = &dns.Client{Net: "udp", UDPSize: ednsSize}
	r.tcp = &dns.Client{Net: "tcp"}
	r.ip = &net.Resolver{}
	if len(r.servers) > 0 {
		r.ip = &net.Resolver{PreferGo: true, Dial: r.dialServers()}
	}
	return r, nil
}

// serverAddr makes host:port of a server given as an address, with or
// without a port.
func serverAddr(s, port string) (string, error) {
	if _, _, err := net.SplitHostPort(s); err == nil {
		return s, nil
	}
	host := strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	if net.ParseIP(strings.SplitN(host, "%", 2)[0]) == nil {
		return "", fmt.Errorf("%w: DNS server %q is not an address", ErrInvalid, s)
	}
	return net.JoinHostPort(host, port), nil
}

// dialServers is the standard resolver's Dial when the servers are given:
// whatever server it meant to ask, it asks ours, taking them in turn.
func (r *Resolver) dialServers() func(ctx context.Context, network, _ string) (net.Conn, error) {
	return func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		var err error
		for _, s := range r.servers {
			var c net.Conn
			if c, err = d.DialContext(ctx, network, s); err == nil {
				return c, nil
			}
		}
		return nil, err
	}
}

// supports reports whether the caller can use transport t.
func (r *Resolver) supports(t string) bool {
	for _, s := range r.transports {
		if s == t {
			return true
		}
	}
	return false
}

// LookupAddr resolves a host name (or an IP literal) to its addresses of
// network ("ip4", "ip6" or "ip"), asking the Resolver's DNS servers: for a
// server that is not SIP, such as a STUN server.
func (r *Resolver) LookupAddr(ctx context.Context, network, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a.Unmap()}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	ips, err := r.ip.LookupNetIP(ctx, network, host)
	if err != nil {
		return nil, fmt.Errorf("resolving %s: %s: %w", host, reason(err), ErrDNS)
	}
	if len(ips) == 0 {
		return nil, fmt.Errorf("resolving %s: no %s address", host, network)
	}
	for i := range ips {
		ips[i] = ips[i].Unmap()
	}
	return ips, nil
}
