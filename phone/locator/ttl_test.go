package locator

import (
	"context"
	"testing"
	"time"
)

// LocateTTL says how long its answer holds: the smallest TTL of the
// NAPTR, SRV and A/AAAA records the targets came from; nothing for an IP
// literal.
func TestLocateTTL(t *testing.T) {
	for _, tc := range []struct {
		name    string
		zone    string
		q       Query
		want    time.Duration
		wantTTL bool
	}{
		{
			name: "SRV shorter than A",
			zone: `_sip._udp.example.test. 30 SRV 0 0 5060 sip1.example.test.
				sip1.example.test. 600 A 192.0.2.1`,
			q: Query{Host: "example.test"}, want: 30 * time.Second, wantTTL: true,
		},
		{
			name: "A shorter than SRV",
			zone: `_sip._udp.example.test. 3600 SRV 0 0 5060 sip1.example.test.
				sip1.example.test. 60 A 192.0.2.1`,
			q: Query{Host: "example.test"}, want: time.Minute, wantTTL: true,
		},
		{
			name: "NAPTR shortest",
			zone: `example.test. 5 NAPTR 10 10 "s" "SIP+D2U" "" _sip._udp.example.test.
				_sip._udp.example.test. 300 SRV 0 0 5060 sip1.example.test.
				sip1.example.test. 300 A 192.0.2.1`,
			q: Query{Host: "example.test"}, want: 5 * time.Second, wantTTL: true,
		},
		{
			name: "A only, with a port",
			zone: `example.test. 120 A 192.0.2.9`,
			q:    Query{Host: "example.test", Port: 5070}, want: 2 * time.Minute, wantTTL: true,
		},
		{
			name: "TTL 0 is a TTL",
			zone: `example.test. 0 A 192.0.2.9`,
			q:    Query{Host: "example.test", Port: 5070}, want: 0, wantTTL: true,
		},
		{name: "IP literal", q: Query{Host: "192.0.2.7"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t, tc.zone)
			r, err := New(WithServers(srv.addr), WithNetwork("ip4"), WithRandom(first))
			if err != nil {
				t.Fatal(err)
			}
			loc, err := r.LocateTTL(context.Background(), tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if len(loc.Targets) == 0 || loc.HasTTL != tc.wantTTL || loc.TTL != tc.want {
				t.Errorf("got %d targets, TTL %v (known %v); want TTL %v (known %v)", len(loc.Targets), loc.TTL, loc.HasTTL, tc.want, tc.wantTTL)
			}
		})
	}
}
