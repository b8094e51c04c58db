package locator

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"

	"github.com/miekg/dns"
)

// ednsSize is the UDP payload size we advertise (EDNS0, RFC 6891): the
// size the DNS flag day 2020 settled on, big enough for most NAPTR and SRV
// sets; a truncated answer is asked again over TCP.
const ednsSize = 1232

// errNXDomain is a server's authoritative "no such name" (RCODE 3).
var errNXDomain = errors.New("no such name")

// dnsServers returns the servers to ask: the configured ones, else those of
// resolv.conf (read each time: it changes when the network does), else the
// local resolver as glibc would (resolv.conf(5): "If no nameserver entries
// are present, the default is to use the name server on the local
// machine"), also when there is no resolv.conf at all.
func (r *Resolver) dnsServers() ([]string, error) {
	if len(r.servers) > 0 {
		return r.servers, nil
	}
	port := "53"
	var names []string
	cfg, err := dns.ClientConfigFromFile(r.resolvConf)
	switch {
	case err == nil:
		port, names = cfg.Port, cfg.Servers
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("read DNS servers: %w", err)
	}
	var out []string
	for _, s := range names {
		if a, err := serverAddr(s, port); err == nil {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		out = []string{net.JoinHostPort("127.0.0.1", port), net.JoinHostPort("::1", port)}
	}
	return out, nil
}

// exchange asks one question and returns the answer section: the servers
// are asked in turn, round the list up to attempts times, until one gives an
// answer that is not SERVFAIL or REFUSED. An empty answer (NODATA) is not an
// error; NXDOMAIN is errNXDomain.
func (r *Resolver) exchange(ctx context.Context, name string, qtype uint16) ([]dns.RR, error) {
	servers, err := r.dnsServers()
	if err != nil {
		return nil, err
	}
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.SetEdns0(ednsSize, false)
	var last error
	for range attempts {
		for _, s := range servers {
			if err := ctx.Err(); err != nil {
				if last == nil {
					last = err
				}
				return nil, last
			}
			in, err := r.ask(ctx, m, s)
			if err != nil {
				last = err
				continue
			}
			switch in.Rcode {
			case dns.RcodeSuccess:
				return in.Answer, nil
			case dns.RcodeNameError:
				return nil, errNXDomain
			}
			last = fmt.Errorf("%s answered %s", s, dns.RcodeToString[in.Rcode])
		}
	}
	return nil, last
}

// ask puts m to one server over UDP, and again over TCP when the answer
// came back truncated (RFC 7766 §5).
func (r *Resolver) ask(ctx context.Context, m *dns.Msg, server string) (*dns.Msg, error) {
	ctx, cancel := context.WithTimeout(ctx, tryTimeout)
	defer cancel()
	in, _, err := r.udp.ExchangeContext(ctx, m, server)
	if err == nil && in.Truncated {
		in, _, err = r.tcp.ExchangeContext(ctx, m, server)
	}
	if err != nil {
		var ne net.Error
		if (errors.As(err, &ne) && ne.Timeout()) || errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("no answer from %s", server)
		}
		return nil, fmt.Errorf("asking %s: %w", server, err)
	}
	return in, nil
}
