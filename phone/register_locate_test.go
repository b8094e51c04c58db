package phone

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/miekg/dns"
)

// dnsServer answers from zone (zone-file lines) on 127.0.0.1 over UDP until
// the test ends, and returns its address.
func dnsServer(t *testing.T, zone string) string {
	return newDNSZone(t, zone).addr
}

// dnsZone is a DNS server on 127.0.0.1 (UDP) whose zone a test can change.
type dnsZone struct {
	addr string
	mu   sync.Mutex
	rrs  []dns.RR
}

func newDNSZone(t *testing.T, zone string) *dnsZone {
	t.Helper()
	z := &dnsZone{}
	z.set(t, zone)
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	z.addr = pc.LocalAddr().String()
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		m.Authoritative = true
		q, exists := req.Question[0], false
		z.mu.Lock()
		for _, rr := range z.rrs {
			if strings.EqualFold(rr.Header().Name, q.Name) {
				exists = true
				if rr.Header().Rrtype == q.Qtype {
					m.Answer = append(m.Answer, dns.Copy(rr))
				}
			}
		}
		z.mu.Unlock()
		if !exists {
			m.Rcode = dns.RcodeNameError
		}
		_ = w.WriteMsg(m)
	})}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go func() { _ = srv.ActivateAndServe() }()
	<-started
	t.Cleanup(func() { _ = srv.Shutdown() })
	return z
}

// set replaces the zone (zone-file lines).
func (z *dnsZone) set(t *testing.T, zone string) {
	t.Helper()
	var rrs []dns.RR
	for line := range strings.SplitSeq(zone, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			rr, err := dns.NewRR(line)
			if err != nil {
				t.Fatalf("zone line %q: %v", line, err)
			}
			rrs = append(rrs, rr)
		}
	}
	z.mu.Lock()
	z.rrs = rrs
	z.mu.Unlock()
}

// registrar is a fake registrar answering every REGISTER with code.
func registrar(t *testing.T, code int) *fakePeer {
	return newFakePeer(t, func(fp *fakePeer, srv *sipgo.Server) {
		srv.OnRegister(func(req *sip.Request, tx sip.ServerTransaction) {
			fp.record(req)
			reason := map[int]string{200: "OK", 503: "Service Unavailable"}[code]
			res := sip.NewResponseFromRequest(req, code, reason, nil)
			if code == 200 {
				exp := sip.ExpiresHeader(1)
				res.AppendHeader(&exp)
			}
			_ = tx.Respond(res)
		})
	})
}

// A registrar given by name is located through NAPTR/SRV/A (RFC 3263) and
// its servers tried in order: a 503 moves to the next one, which keeps the
// refreshes; the events name the server in use.
func TestRegisterLocatedRegistrar(t *testing.T) {
	tests := []struct {
		name      string
		codes     [2]int // what the SRV's first and second server answer
		host      string
		wantState RegState
		wantCode  int
		wantIn    []string // substrings of the last event's Server or Reason
	}{
		{"the second server after a 503", [2]int{503, 200}, "pbx.example.test", RegRegistered, 200, []string{"(b.pbx.example.test)"}},
		{"the first server when it answers", [2]int{200, 200}, "pbx.example.test", RegRegistered, 200, []string{"(a.pbx.example.test)"}},
		{"every server fails", [2]int{503, 503}, "pbx.example.test", RegFailed, 503, []string{"every server failed", "a.pbx.example.test", "b.pbx.example.test"}},
		{"a name that does not resolve", [2]int{200, 200}, "nowhere.example.test", RegFailed, 0, []string{"locate nowhere.example.test: no SIP server found", "SRV _sip._udp.nowhere.example.test: no such name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			first, second := registrar(t, tt.codes[0]), registrar(t, tt.codes[1])
			zone := fmt.Sprintf(`
				_sip._udp.pbx.example.test. SRV 10 0 %d a.pbx.example.test.
				_sip._udp.pbx.example.test. SRV 20 0 %d b.pbx.example.test.
				a.pbx.example.test. A 127.0.0.1
				b.pbx.example.test. A 127.0.0.1`, mustPort(first.addr), mustPort(second.addr))
			p, err := New(Options{Listen: "127.0.0.1:0", Transports: []string{"udp"}, DNSServers: []string{dnsServer(t, zone)},
				Accounts: []Account{{Name: "t", AOR: "sip:alice@example.test", Registrar: tt.host, Register: true, Expires: time.Second}}})
			if err != nil {
				t.Fatal(err)
			}
			p.opts.RTPPortMin, p.opts.RTPPortMax = rtpRange()
			if err := p.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			// Close waits until every event is read: read them all.
			regs := make(chan RegistrationEvent, 64)
			go func() {
				for ev := range p.Events() {
					if r, ok := ev.(RegistrationEvent); ok {
						select {
						case regs <- r:
						default:
						}
					}
				}
			}()
			defer p.Close()
			var last RegistrationEvent
			for deadline := time.After(wait); last.State != tt.wantState; {
				select {
				case last = <-regs:
				case <-deadline:
					t.Fatalf("no %v event; last %+v", tt.wantState, last)
				}
			}
			if last.Code != tt.wantCode {
				t.Errorf("code %d, want %d: %+v", last.Code, tt.wantCode, last)
			}
			for _, s := range tt.wantIn {
				if !strings.Contains(last.Server+" "+last.Reason, s) {
					t.Errorf("event %+v lacks %q", last, s)
				}
			}
			if tt.wantState != RegRegistered {
				return
			}
			// The server that answered keeps the refreshes.
			used, other := second, first
			if tt.codes[0] == 200 {
				used, other = first, second
			}
			before := len(other.requests(sip.REGISTER))
			for deadline := time.Now().Add(wait); len(used.requests(sip.REGISTER)) < 2 && time.Now().Before(deadline); {
				time.Sleep(20 * time.Millisecond)
			}
			if n := len(used.requests(sip.REGISTER)); n < 2 {
				t.Errorf("%d REGISTERs at the server in use, want a refresh", n)
			}
			if n := len(other.requests(sip.REGISTER)); n != before {
				t.Errorf("the other server got %d REGISTERs after registration, want %d", n, before)
			}
			if r := used.requests(sip.REGISTER)[0]; r.Recipient.Host != "example.test" && r.Recipient.Host != tt.host {
				t.Errorf("Request-URI %s, want the registrar's domain", r.Recipient.String())
			}
		})
	}
}

func TestFailsOver(t *testing.T) {
	tests := []struct {
		code int
		err  error
		want bool
	}{
		{0, sip.ErrTransactionTimeout, true},
		{0, sip.ErrTransactionTransport, true},
		{0, fmt.Errorf("dial tcp 127.0.0.1:1: connect: connection refused"), true},
		{503, fmt.Errorf("register t: 503 Service Unavailable"), true},
		{200, nil, false},
		{403, fmt.Errorf("register t: 403 Forbidden"), false},
		{401, fmt.Errorf("authentication failed"), false},
		{500, fmt.Errorf("register t: 500 Server Internal Error"), false},
	}
	for _, tt := range tests {
		if got := failsOver(tt.code, tt.err); got != tt.want {
			t.Errorf("failsOver(%d, %v) = %v, want %v", tt.code, tt.err, got, tt.want)
		}
	}
}

// TestContactRewriteStaysOnTheServer (issue 11): the contact rewrite's
// REGISTER goes to the server whose answer taught us the public address,
// even when the DNS records had TTL 0 (dnsmasq's default for its own
// records): it is not located again and sent to the better server that has
// just failed.
func TestContactRewriteStaysOnTheServer(t *testing.T) {
	busy := registrar(t, 503)
	nat := newFakePeer(t, func(fp *fakePeer, srv *sipgo.Server) { natRegistrar(fp, srv, "203.0.113.7", "40000") })
	zone := fmt.Sprintf(`
		_sip._udp.pbx.example.test. 0 IN SRV 10 0 %d a.pbx.example.test.
		_sip._udp.pbx.example.test. 0 IN SRV 20 0 %d b.pbx.example.test.
		a.pbx.example.test. 0 IN A 127.0.0.1
		b.pbx.example.test. 0 IN A 127.0.0.1`, mustPort(busy.addr), mustPort(nat.addr))
	a := newTestPhone(t, Options{Transports: []string{"udp"}, DNSServers: []string{dnsServer(t, zone)},
		NAT:      NATOptions{ContactRewrite: true},
		Accounts: []Account{{Name: "t", AOR: "sip:alice@example.test", Registrar: "pbx.example.test", Register: true, Expires: time.Minute}}})
	regs := nat.waitRequests(t, sip.REGISTER, 2)
	if got := contacts(regs[1]); len(got) != 2 || !strings.Contains(got[0], "203.0.113.7:40000") {
		t.Fatalf("second REGISTER at b: Contacts %v, want the public one first", got)
	}
	if !a.waitFor(wait, func(ev Event) bool { r, ok := ev.(RegistrationEvent); return ok && r.State == RegRegistered }) {
		t.Fatalf("never registered: %s", a.dump())
	}
	if n := len(busy.requests(sip.REGISTER)); n != 1 {
		t.Errorf("the failed server got %d REGISTERs, want 1 (the rewrite went there too?)", n)
	}
}
