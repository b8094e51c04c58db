package locator

import (
	"context"
	"time"

	"github.com/miekg/dns"
)

// Location is what LocateTTL found.
type Location struct {
	Targets []Target
	// TTL is the smallest time to live of the DNS records the targets
	// were found through (NAPTR, SRV, A/AAAA), valid when HasTTL: after
	// it the servers may have moved (RFC 3263 §4 leaves caching to the
	// DNS's own rules, RFC 1035 §3.2.1). HasTTL is false when no record
	// gave one: an IP literal, or a name the system resolver answered
	// from its hosts file.
	TTL    time.Duration
	HasTTL bool
}

// LocateTTL is Locate, telling also how long its answer holds.
func (r *Resolver) LocateTTL(ctx context.Context, q Query) (Location, error) {
	targets, ttl, err := r.locate(ctx, q)
	if err != nil {
		return Location{}, err
	}
	return Location{Targets: targets, TTL: ttl.d, HasTTL: ttl.ok}, nil
}

// minTTL keeps the smallest TTL seen.
type minTTL struct {
	d  time.Duration
	ok bool
}

func (m *minTTL) see(secs uint32) {
	d := time.Duration(secs) * time.Second
	if !m.ok || d < m.d {
		m.d, m.ok = d, true
	}
}

// addrTTL notes the TTL of name's A/AAAA records. The standard resolver,
// which gives the addresses (in RFC 6724 order, hosts file included), does
// not tell TTLs, so the records are asked for once more here; a name the
// DNS does not know (a hosts file entry) or a failed query notes nothing.
func (l *lookup) addrTTL(name string) {
	var types []uint16
	if l.r.network != "ip6" {
		types = append(types, dns.TypeA)
	}
	if l.r.network != "ip4" {
		types = append(types, dns.TypeAAAA)
	}
	for _, qt := range types {
		rrs, err := l.r.exchange(l.ctx, name, qt)
		if err != nil {
			continue
		}
		for _, rr := range rrs {
			if h := rr.Header(); h.Rrtype == qt {
				l.ttl.see(h.Ttl)
			}
		}
	}
}
