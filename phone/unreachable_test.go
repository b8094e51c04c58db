package phone

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/teaphone/teaphone/phone/icmp"
)

func TestBounced(t *testing.T) {
	quote := []byte("INVITE sip:bob@pbx.example SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK.1\r\nCall-ID: abc@teaphone\r\n")
	tests := []struct {
		name   string
		dest   string
		callID string
		r      icmp.Report
		want   bool
	}{
		{"same address", "192.0.2.1:5060", "x", icmp.Report{Addr: netip.MustParseAddrPort("192.0.2.1:5060")}, true},
		{"other port", "192.0.2.1:5060", "x", icmp.Report{Addr: netip.MustParseAddrPort("192.0.2.1:5062")}, false},
		{"other host", "192.0.2.1:5060", "x", icmp.Report{Addr: netip.MustParseAddrPort("192.0.2.2:5060")}, false},
		{"ipv6", "[2001:db8::1]:5060", "x", icmp.Report{Addr: netip.MustParseAddrPort("[2001:db8::1]:5060")}, true},
		{"ipv4-mapped destination", "[::ffff:192.0.2.1]:5060", "x", icmp.Report{Addr: netip.MustParseAddrPort("192.0.2.1:5060")}, true},
		{"name, Call-ID quoted", "pbx.example:5060", "abc@teaphone", icmp.Report{Addr: netip.MustParseAddrPort("192.0.2.1:5060"), Quote: quote}, true},
		{"name, other Call-ID", "pbx.example:5060", "def@teaphone", icmp.Report{Addr: netip.MustParseAddrPort("192.0.2.1:5060"), Quote: quote}, false},
		{"name, nothing quoted", "pbx.example:5060", "abc@teaphone", icmp.Report{Addr: netip.MustParseAddrPort("192.0.2.1:5060")}, false},
		{"no destination yet", "", "", icmp.Report{Addr: netip.MustParseAddrPort("192.0.2.1:5060"), Quote: quote}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := bounced(tt.dest, tt.callID, tt.r); got != tt.want {
				t.Errorf("bounced(%q, %q, %v) = %v, want %v", tt.dest, tt.callID, tt.r, got, tt.want)
			}
		})
	}
}

// TestDialDeadPort (issue 10): a call to a UDP port where nothing listens
// fails at once with 503 "port unreachable" (RFC 3261 §8.1.3.1), not after
// Timer B, and leaves the other calls alone.
func TestDialDeadPort(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("ICMP errors of unconnected UDP sockets are reported on Linux only")
	}
	a, b, h := pair(t, Accept())
	live, _ := connect(t, a, b, h)

	uc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	dead := uc.LocalAddr().(*net.UDPAddr).Port
	uc.Close()

	start := time.Now()
	id, err := a.Dial(context.Background(), fmt.Sprintf("sip:bob@127.0.0.1:%d", dead), DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ev := a.waitCall(id, StateFailed, wait)
	elapsed := time.Since(start)
	t.Logf("failed after %v: %d %s", elapsed, ev.Code, ev.Reason)
	if elapsed > time.Second {
		t.Errorf("the call failed after %v", elapsed)
	}
	if ev.Code != 503 || ev.Reason != "port unreachable" {
		t.Errorf("ended with %d %q, want 503 \"port unreachable\"", ev.Code, ev.Reason)
	}
	if got := a.states(id); len(got) != 2 || got[0] != StateInitiating {
		t.Errorf("states %v, want initiating then failed", got)
	}
	if st := a.states(live); st[len(st)-1] != StateActive {
		t.Errorf("the other call is %v", st[len(st)-1])
	}
	// The SIP socket is still served: the live call hangs up normally.
	if err := a.Hangup(live); err != nil {
		t.Fatal(err)
	}
	a.waitCall(live, StateTerminated, wait)
}

// TestDialLocatedDomainDeadPort (issue 11): a call to a domain whose better
// SRV server is a UDP port where nothing listens moves on to the next
// server when the ICMP error comes (RFC 3263 §4.3: a transport error), at
// once, and connects there, rather than failing with 503.
func TestDialLocatedDomainDeadPort(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("ICMP errors of unconnected UDP sockets are reported on Linux only")
	}
	uc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	dead := uc.LocalAddr().(*net.UDPAddr).Port
	uc.Close()
	h := &handlerChan{calls: make(chan IncomingCall, 4), dec: Accept()}
	b := newTestPhone(t, Options{Handler: h})
	zone := fmt.Sprintf(`
		_sip._udp.pbx.example.test. SRV 10 0 %d dead.pbx.example.test.
		_sip._udp.pbx.example.test. SRV 20 0 %d b.pbx.example.test.
		dead.pbx.example.test. A 127.0.0.1
		b.pbx.example.test. A 127.0.0.1`, dead, mustPort(b.LocalAddr()))
	a := newTestPhone(t, Options{Transports: []string{"udp"}, DNSServers: []string{dnsServer(t, zone)}})
	start := time.Now()
	id, err := a.Dial(context.Background(), "sip:bob@pbx.example.test", DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	h.next(t, a)
	a.waitCall(id, StateActive, wait)
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("connected after %v: the dead server was not left at its ICMP error", elapsed)
	}
	if got := a.states(id); got[0] != StateInitiating || got[len(got)-1] != StateActive {
		t.Errorf("states %v, want initiating … active", got)
	}
	a.Hangup(id)
	a.waitCall(id, StateTerminated, wait)
}

// TestRegisterLocatedRegistrarDeadPort (issue 11): a registrar domain whose
// better SRV server is a UDP port where nothing listens: the ICMP error
// ends that REGISTER at once (a transport error) and the next server
// registers us, within a second rather than after the REGISTER's 32 s
// timeout; the event names the second server.
func TestRegisterLocatedRegistrarDeadPort(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("ICMP errors of unconnected UDP sockets are reported on Linux only")
	}
	uc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	dead := uc.LocalAddr().(*net.UDPAddr).Port
	uc.Close()
	live := registrar(t, 200)
	zone := fmt.Sprintf(`
		_sip._udp.pbx.example.test. SRV 10 0 %d dead.pbx.example.test.
		_sip._udp.pbx.example.test. SRV 20 0 %d b.pbx.example.test.
		dead.pbx.example.test. A 127.0.0.1
		b.pbx.example.test. A 127.0.0.1`, dead, mustPort(live.addr))
	p, err := New(Options{Listen: "127.0.0.1:0", Transports: []string{"udp"}, DNSServers: []string{dnsServer(t, zone)},
		Accounts: []Account{{Name: "t", AOR: "sip:alice@example.test", Registrar: "pbx.example.test", Register: true, Expires: time.Minute}}})
	if err != nil {
		t.Fatal(err)
	}
	p.opts.RTPPortMin, p.opts.RTPPortMax = rtpRange()
	start := time.Now()
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
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
	for deadline := time.After(5 * time.Second); last.State != RegRegistered; {
		select {
		case last = <-regs:
			if last.State == RegFailed {
				t.Fatalf("registration failed: %+v", last)
			}
		case <-deadline:
			t.Fatalf("not registered after 5 s (the dead server's REGISTER was not ended by its ICMP error); last %+v", last)
		}
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("registered after %v", elapsed)
	}
	if want := fmt.Sprintf("UDP 127.0.0.1:%d (b.pbx.example.test)", mustPort(live.addr)); last.Server != want {
		t.Errorf("server %q, want %q", last.Server, want)
	}
}
