package locator

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

// first makes the SRV draw deterministic: it always takes the first record
// left (weight 0 ones first, then zone order).
func first(int) int { return 0 }

// zone records shared by the cases; each case adds its own.
const hosts = `
sip1.example.test. A 192.0.2.1
sip2.example.test. A 192.0.2.2
sip3.example.test. A 192.0.2.3
dual.example.test. A 192.0.2.4
dual.example.test. AAAA 2001:db8::4
`

func TestLocate(t *testing.T) {
	tests := []struct {
		name       string
		zone       string
		q          Query
		transports []string // default UDP, TCP
		network    string   // default "ip"
		want       []string // Target.String of each target
		wantErr    error
		errHas     []string // substrings of the error text
		asked      []string // exact queries, when set
		notAsked   []string // queries that must not be made
	}{
		{
			name:  "IPv4 literal: UDP on 5060, no DNS",
			q:     Query{Host: "192.0.2.7"},
			want:  []string{"UDP 192.0.2.7:5060"},
			asked: []string{},
		},
		{
			name:  "IPv6 literal in brackets with port and transport=tcp",
			q:     Query{Host: "[2001:db8::7]", Port: 5070, Transport: "tcp"},
			want:  []string{"TCP [2001:db8::7]:5070"},
			asked: []string{},
		},
		{
			name:       "sips: IP literal: TLS on 5061",
			q:          Query{Host: "192.0.2.7", Secure: true},
			transports: []string{"udp", "tcp", "tls"},
			want:       []string{"TLS 192.0.2.7:5061"},
		},
		{
			name:    "sips: without TLS support",
			q:       Query{Host: "example.test", Secure: true},
			wantErr: ErrTransport,
			asked:   []string{},
		},
		{
			name:       "transport=tcp without TCP support",
			q:          Query{Host: "example.test", Transport: "tcp"},
			transports: []string{"udp"},
			wantErr:    ErrTransport,
			errHas:     []string{"example.test", "TCP"},
			asked:      []string{},
		},
		{
			name:       "sips: with transport=udp is invalid",
			q:          Query{Host: "example.test", Secure: true, Transport: "udp"},
			transports: []string{"udp", "tls"},
			wantErr:    ErrTransport,
		},
		{
			name: "port given: A/AAAA only, no NAPTR or SRV",
			zone: `pbx.example.test. A 192.0.2.10
			       pbx.example.test. NAPTR 10 10 "s" "SIP+D2U" "" _sip._udp.example.test.`,
			q:     Query{Host: "pbx.example.test", Port: 5080},
			want:  []string{"UDP 192.0.2.10:5080 (pbx.example.test)"},
			asked: []string{"A/AAAA pbx.example.test."},
		},
		{
			name: "NAPTR, then SRV, then A: order and preference honoured",
			zone: `example.test. NAPTR 20 10 "s" "SIP+D2U" "" _sip._udp.example.test.
			       example.test. NAPTR 10 20 "S" "SIP+D2T" "" _sip._tcp.example.test.
			       example.test. NAPTR 10 10 "s" "SIPS+D2T" "" _sips._tcp.example.test.
			       _sip._tcp.example.test. SRV 0 0 5060 sip1.example.test.
			       _sip._udp.example.test. SRV 0 0 5062 sip2.example.test.
			       _sips._tcp.example.test. SRV 0 0 5061 sip3.example.test.`,
			q:    Query{Host: "example.test"},
			want: []string{"TCP 192.0.2.1:5060 (sip1.example.test)", "UDP 192.0.2.2:5062 (sip2.example.test)"},
			// SIPS+D2T is skipped (no TLS) without being looked up.
			asked:  []string{"NAPTR example.test.", "SRV _sip._tcp.example.test.", "A/AAAA sip1.example.test.", "SRV _sip._udp.example.test.", "A/AAAA sip2.example.test."},
			errHas: nil,
		},
		{
			name: "NAPTR with TLS supported keeps SIPS+D2T first",
			zone: `example.test. NAPTR 10 20 "s" "SIP+D2U" "" _sip._udp.example.test.
			       example.test. NAPTR 10 10 "s" "SIPS+D2T" "" _sips._tcp.example.test.
			       _sip._udp.example.test. SRV 0 0 5060 sip2.example.test.
			       _sips._tcp.example.test. SRV 0 0 5061 sip3.example.test.`,
			q:          Query{Host: "example.test"},
			transports: []string{"udp", "tcp", "tls"},
			want:       []string{"TLS 192.0.2.3:5061 (sip3.example.test)", "UDP 192.0.2.2:5060 (sip2.example.test)"},
		},
		{
			name: "sips: URI keeps only SIPS+D2T NAPTR records",
			zone: `example.test. NAPTR 10 10 "s" "SIP+D2U" "" _sip._udp.example.test.
			       example.test. NAPTR 20 10 "s" "SIPS+D2T" "" _sips._tcp.example.test.
			       _sip._udp.example.test. SRV 0 0 5060 sip2.example.test.
			       _sips._tcp.example.test. SRV 0 0 5061 sip3.example.test.`,
			q:          Query{Host: "example.test", Secure: true},
			transports: []string{"udp", "tls"},
			want:       []string{"TLS 192.0.2.3:5061 (sip3.example.test)"},
		},
		{
			name: "NAPTR with a regexp is skipped, not evaluated",
			zone: `example.test. NAPTR 10 10 "u" "SIP+D2U" "!^.*$!sip:x@evil.test!" .
			       example.test. NAPTR 10 20 "s" "SIP+D2U" "!^.*$!_sip._udp.evil.test!" .
			       example.test. NAPTR 20 10 "s" "SIP+D2T" "" _sip._tcp.example.test.
			       _sip._tcp.example.test. SRV 0 0 5060 sip1.example.test.`,
			q:    Query{Host: "example.test"},
			want: []string{"TCP 192.0.2.1:5060 (sip1.example.test)"},
		},
		{
			name: "NAPTR only for transports we lack: SRV fallback",
			zone: `example.test. NAPTR 10 10 "s" "SIPS+D2T" "" _sips._tcp.example.test.
			       example.test. NAPTR 10 20 "s" "SIP+D2S" "" _sip._sctp.example.test.
			       _sip._udp.example.test. SRV 0 0 5060 sip2.example.test.`,
			q:    Query{Host: "example.test"},
			want: []string{"UDP 192.0.2.2:5060 (sip2.example.test)"},
		},
		{
			name: "SRV only: the caller's transports in its order",
			zone: `_sip._udp.example.test. SRV 0 0 5060 sip1.example.test.
			       _sip._udp.example.test. SRV 0 0 5060 sip3.example.test.
			       _sip._tcp.example.test. SRV 0 0 5070 sip2.example.test.`,
			q: Query{Host: "example.test"},
			want: []string{
				"UDP 192.0.2.1:5060 (sip1.example.test)",
				"UDP 192.0.2.3:5060 (sip3.example.test)",
				"TCP 192.0.2.2:5070 (sip2.example.test)",
			},
			asked: []string{"NAPTR example.test.", "SRV _sip._udp.example.test.", "A/AAAA sip1.example.test.", "A/AAAA sip3.example.test.", "SRV _sip._tcp.example.test.", "A/AAAA sip2.example.test."},
		},
		{
			name:    "IPv6 only",
			zone:    `_sip._udp.example.test. SRV 0 0 5060 dual.example.test.`,
			q:       Query{Host: "example.test"},
			network: "ip6",
			want:    []string{"UDP [2001:db8::4]:5060 (dual.example.test)"},
		},
		{
			name: "SRV only, TCP preferred, IPv4 only",
			zone: `_sip._udp.example.test. SRV 0 0 5060 dual.example.test.
			       _sip._tcp.example.test. SRV 0 0 5070 sip2.example.test.`,
			q:          Query{Host: "example.test"},
			transports: []string{"tcp", "udp"},
			network:    "ip4",
			want:       []string{"TCP 192.0.2.2:5070 (sip2.example.test)", "UDP 192.0.2.4:5060 (dual.example.test)"},
		},
		{
			name: "transport=tcp: that SRV name only",
			zone: `example.test. NAPTR 10 10 "s" "SIP+D2U" "" _sip._udp.example.test.
			       _sip._udp.example.test. SRV 0 0 5060 sip1.example.test.
			       _sip._tcp.example.test. SRV 0 0 5070 sip2.example.test.`,
			q:     Query{Host: "example.test", Transport: "TCP"},
			want:  []string{"TCP 192.0.2.2:5070 (sip2.example.test)"},
			asked: []string{"SRV _sip._tcp.example.test.", "A/AAAA sip2.example.test."},
		},
		{
			name: "sips: URI without NAPTR: _sips._tcp only",
			zone: `_sip._udp.example.test. SRV 0 0 5060 sip1.example.test.
			       _sips._tcp.example.test. SRV 0 0 5061 sip3.example.test.`,
			q:          Query{Host: "example.test", Secure: true},
			transports: []string{"udp", "tls"},
			want:       []string{"TLS 192.0.2.3:5061 (sip3.example.test)"},
			asked:      []string{"NAPTR example.test.", "SRV _sips._tcp.example.test.", "A/AAAA sip3.example.test."},
		},
		{
			name:  "A only: default port, default transport",
			zone:  `example.test. A 192.0.2.20`,
			q:     Query{Host: "example.test"},
			want:  []string{"UDP 192.0.2.20:5060 (example.test)"},
			asked: []string{"NAPTR example.test.", "SRV _sip._udp.example.test.", "SRV _sip._tcp.example.test.", "A/AAAA example.test."},
		},
		{
			name: "A fallback after NAPTR keeps the NAPTR transport",
			zone: `example.test. A 192.0.2.20
			       example.test. NAPTR 10 10 "s" "SIP+D2T" "" _sip._tcp.example.test.`,
			q:    Query{Host: "example.test"},
			want: []string{"TCP 192.0.2.20:5060 (example.test)"},
		},
		{
			name: "SRV priorities: lower first whatever the weight",
			zone: `_sip._udp.example.test. SRV 20 100 5060 sip1.example.test.
			       _sip._udp.example.test. SRV 10 1 5060 sip2.example.test.
			       _sip._udp.example.test. SRV 30 0 5060 sip3.example.test.`,
			q:          Query{Host: "example.test"},
			transports: []string{"udp"},
			want: []string{
				"UDP 192.0.2.2:5060 (sip2.example.test)",
				"UDP 192.0.2.1:5060 (sip1.example.test)",
				"UDP 192.0.2.3:5060 (sip3.example.test)",
			},
		},
		{
			name: "SRV target \".\": not available, no A fallback",
			zone: `example.test. A 192.0.2.20
			       _sip._udp.example.test. SRV 0 0 0 .
			       _sip._tcp.example.test. SRV 0 0 0 .`,
			q:        Query{Host: "example.test"},
			wantErr:  ErrUnavailable,
			errHas:   []string{"example.test", `_sip._udp.example.test: target "."`},
			notAsked: []string{"A/AAAA example.test."},
		},
		{
			name: "SRV \".\" for UDP, a server for TCP",
			zone: `_sip._udp.example.test. SRV 0 0 0 .
			       _sip._tcp.example.test. SRV 0 0 5060 sip1.example.test.`,
			q:    Query{Host: "example.test"},
			want: []string{"TCP 192.0.2.1:5060 (sip1.example.test)"},
		},
		{
			name:    "NXDOMAIN: one error naming the domain and each lookup",
			q:       Query{Host: "nowhere.example.test"},
			wantErr: ErrNotFound,
			errHas: []string{
				"locate nowhere.example.test: no SIP server found",
				"NAPTR nowhere.example.test: no such name",
				"SRV _sip._udp.nowhere.example.test: no such name",
				"SRV _sip._tcp.nowhere.example.test: no such name",
				"A/AAAA nowhere.example.test: no such host",
			},
		},
		{
			name: "SRV target without an address is skipped, the next one used",
			zone: `_sip._udp.example.test. SRV 10 0 5060 noaddr.example.test.
			       _sip._udp.example.test. SRV 20 0 5060 sip3.example.test.
			       _sip._udp.example.test. SRV 30 0 0 sip1.example.test.`,
			q:          Query{Host: "example.test"},
			transports: []string{"udp"},
			want:       []string{"UDP 192.0.2.3:5060 (sip3.example.test)"},
		},
		{
			name: "SRV targets all without an address: not found, no A fallback",
			zone: `example.test. A 192.0.2.20
			             _sip._udp.example.test. SRV 10 0 5060 noaddr.example.test.`,
			q:          Query{Host: "example.test"},
			transports: []string{"udp"},
			wantErr:    ErrNotFound,
			errHas:     []string{"_sip._udp.example.test -> noaddr.example.test: no such host"},
			notAsked:   []string{"A/AAAA example.test."},
		},
		{
			name:       "SERVFAIL on SRV: DNS error, no A fallback",
			zone:       `example.test. A 192.0.2.20`,
			q:          Query{Host: "example.test"},
			transports: []string{"udp"},
			wantErr:    ErrDNS,
			errHas:     []string{"answered SERVFAIL"},
			notAsked:   []string{"A/AAAA example.test."},
		},
		{
			name:    "not a host name",
			q:       Query{Host: "exa mple..test"},
			wantErr: ErrInvalid,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, hosts+tt.zone, func(s *testServer) {
				if tt.wantErr == ErrDNS {
					s.servfail["_sip._udp.example.test."] = true
				}
			})
			opts := []Option{WithServers(srv.addr), WithRandom(first)}
			if tt.transports != nil {
				opts = append(opts, WithTransports(tt.transports...))
			}
			if tt.network != "" {
				opts = append(opts, WithNetwork(tt.network))
			}
			r, err := New(opts...)
			if err != nil {
				t.Fatal(err)
			}
			got, err := r.Locate(context.Background(), tt.q)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatalf("err = %v", err)
			}
			for _, s := range tt.errHas {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
			var gotS []string
			for _, g := range got {
				gotS = append(gotS, g.String())
			}
			if !slices.Equal(gotS, tt.want) {
				t.Errorf("targets\n got %q\nwant %q", gotS, tt.want)
			}
			asked := srv.asked()
			if tt.asked != nil && !slices.Equal(asked, tt.asked) {
				t.Errorf("asked\n got %q\nwant %q", asked, tt.asked)
			}
			for _, q := range tt.notAsked {
				if slices.Contains(asked, q) {
					t.Errorf("asked %q, which it must not: %q", q, asked)
				}
			}
		})
	}
}

// A truncated UDP answer is asked again over TCP.
func TestLocateTruncated(t *testing.T) {
	srv := startServer(t, hosts+`
		example.test. NAPTR 10 10 "s" "SIP+D2T" "" _sip._tcp.example.test.
		_sip._tcp.example.test. SRV 0 0 5060 sip1.example.test.`,
		func(s *testServer) { s.truncate = true })
	r, err := New(WithServers(srv.addr))
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.Locate(context.Background(), Query{Host: "example.test"})
	if err != nil {
		t.Fatal(err)
	}
	want := Target{Transport: TCP, Addr: netip.MustParseAddrPort("192.0.2.1:5060"), Host: "sip1.example.test"}
	if len(got) != 1 || got[0] != want {
		t.Fatalf("got %v, want [%v]", got, want)
	}
}

// A server that never answers costs the timeout, not more, and the error
// says so.
func TestLocateSilentServer(t *testing.T) {
	for _, q := range []Query{{Host: "example.test"}, {Host: "example.test", Port: 5060}} {
		r, err := New(WithServers(silentServer(t)), WithTimeout(400*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err = r.Locate(context.Background(), q)
		took := time.Since(start)
		if !errors.Is(err, ErrDNS) {
			t.Errorf("%+v: err = %v, want ErrDNS", q, err)
		}
		if err != nil && !strings.Contains(err.Error(), "no answer") {
			t.Errorf("%+v: error %q does not say no answer came", q, err)
		}
		if took > 2*time.Second {
			t.Errorf("%+v: took %v with a 400ms timeout", q, took)
		}
	}
}

// The caller's context bounds Locate too.
func TestLocateCancelled(t *testing.T) {
	r, err := New(WithServers(silentServer(t)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := r.Locate(ctx, Query{Host: "example.test"}); err == nil {
		t.Fatal("no error from a silent server")
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("took %v after a 200ms deadline", took)
	}
}
