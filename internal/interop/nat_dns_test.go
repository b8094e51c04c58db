//go:build linux

package interop

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/teaphone/teaphone/audio/analyze"
	"github.com/teaphone/teaphone/internal/netlab"
	"github.com/teaphone/teaphone/internal/peertest"
)

// Issue 11 in the NAT lab: the provider found through DNS (RFC 3263 SRV
// records served by the lab's dnsmasq), SRV failover, and the symmetric NAT.

// TestNATRegisterBySRVAndIncomingCall: teaphone behind the port-preserving
// NAT is configured with the domain provider.test only (AOR
// sip:alice@provider.test, registrar "provider.test", no port). The domain
// has no server of its own: its A record points at a web host where nothing
// listens for SIP, and _sip._udp.provider.test names sip.provider.test, the
// Kamailio host. teaphone must find Kamailio through the SRV record (an
// A-only lookup would register at the web host and fail), say so in the
// registration event's server field, and take the far end's call (bob, a
// teaphone that dials sip:alice@provider.test and so also locates Kamailio
// by SRV) with a tone each way — also after the NAT's timeouts have passed.
func TestNATRegisterBySRVAndIncomingCall(t *testing.T) {
	natScenario(t, natCase{keepalive: true, dns: natBySRV})
}

// TestNATSymmetricRegisterAndIncomingCall: the register-and-call scenario
// behind a symmetric NAT (nftables "masquerade random": a new public port for
// every destination), with Kamailio doing no NAT help. What works and why:
// the REGISTER's Via asks for rport, so Kamailio answers to the public port
// the router picked for the way to it; teaphone rewrites its Contact to that
// public address and port, and its keep-alives to Kamailio keep that binding,
// so Kamailio's INVITE comes in through it. The SDP still carries the
// private address (no STUN), and the router gives teaphone's RTP yet another
// public port (towards bob), which no one could predict: audio reaches
// teaphone only because the far end (teaphone dial) latches, sending its RTP
// back to where alice's RTP comes from. A tone each way, analysed, on both
// calls.
func TestNATSymmetricRegisterAndIncomingCall(t *testing.T) {
	natScenario(t, natCase{nat: netlab.Symmetric, keepalive: true})
}

// TestNATSRVFailoverRefused: provider.test has two SRV targets; the better
// one (priority 10) is a host where nothing listens on 5060, so it answers
// every SIP datagram with ICMP port unreachable (which the router passes
// back to the LAN as related to the REGISTER's binding). teaphone behind
// the NAT must leave that target at the ICMP error, register at the second
// one (priority 20, Kamailio) within the usual 15 s and name it in its
// registration event; and bob's call to sip:alice@provider.test, which meets
// the same dead target first, must fail over and connect with a tone each
// way.
func TestNATSRVFailoverRefused(t *testing.T) {
	natScenario(t, natCase{keepalive: true, dns: natSRVFailoverRefused})
}

// TestNATSRVFailoverDropped is TestNATSRVFailoverRefused with a better SRV
// target that silently drops everything (a firewall with policy drop): no
// ICMP, so only the transaction timeouts (64·T1 = 32 s for the REGISTER and
// for the INVITE) move teaphone on to the second target. One call only: the
// timeouts make it slow, and TestNATSRVFailoverRefused has the second call.
func TestNATSRVFailoverDropped(t *testing.T) {
	natScenario(t, natCase{keepalive: true, dns: natSRVFailoverDropped, oneCall: true})
}

// natDNS is how the phones of a NAT scenario find the provider.
type natDNS int

const (
	// natByAddr: Kamailio's IP:port, no DNS at all.
	natByAddr natDNS = iota
	// natBySRV: the domain provider.test; _sip._udp.provider.test names
	// sip.provider.test (Kamailio), provider.test's own A record a host
	// that runs nothing.
	natBySRV
	// natSRVFailoverRefused: natBySRV with a better SRV target,
	// dead.provider.test, on a host where nothing listens (ICMP port
	// unreachable).
	natSRVFailoverRefused
	// natSRVFailoverDropped: the same with a dead host that drops every
	// packet silently.
	natSRVFailoverDropped
)

// natDomain is the provider's domain in the lab's DNS.
const natDomain = "provider.test"

// natProvider is the provider of a NAT scenario as the phones see it.
type natProvider struct {
	k      *peertest.Kamailio
	domain string // the host part of the AORs and the registrar: the domain, or Kamailio's IP:port
	stun   string // the lab's STUN server (ADDR:PORT) for c.stun, else ""
	server string // the registration event's server field for Kamailio
	dead   string // the dead SRV target's server string, "" without one
	// regWait bounds alice's registration (a dead first target costs a
	// REGISTER timeout), callWait bob's wait for the call to connect.
	regWait, callWait time.Duration
}

// natStartProvider starts the provider host with Kamailio, for c.stun a
// STUN server on a host of its own, and, for a c.dns other than natByAddr,
// the lab's DNS (serving clients) with the hosts its records name.
func natStartProvider(t *testing.T, lab *netlab.Lab, c natCase, clients ...netlab.Namespace) natProvider {
	t.Helper()
	dns := c.dns
	host := lab.AddHost(t, "provider")
	cfg := peertest.KamailioConfig{
		Users: map[string]string{"alice": "alicepw", "bob": "bobpw"},
		// In-dialog requests from bob must come through Kamailio, the only
		// address the NAT binding lets in.
		RecordRoute: true,
	}
	p := natProvider{regWait: 15 * time.Second, callWait: 10 * time.Second}
	if c.stun {
		p.stun = lab.StartSTUN(t, lab.AddHost(t, "stun")).String()
	}
	if dns == natByAddr {
		p.k = lab.StartKamailio(t, host, cfg)
		p.domain, p.server = p.k.Addr(), "UDP "+p.k.Addr()
		return p
	}
	cfg.Domains = []string{natDomain}
	p.k = lab.StartKamailio(t, host, cfg)
	p.domain = natDomain
	p.server = fmt.Sprintf("UDP %s (sip.%s)", p.k.Addr(), natDomain)
	www := lab.AddHost(t, "www") // provider.test's own A record: no SIP here
	recs := netlab.Records{
		Hosts: []netlab.HostRecord{
			{Name: natDomain, Addrs: []netip.Addr{www.Addr}},
			{Name: "sip." + natDomain, Addrs: []netip.Addr{host.Addr}},
		},
		SRV: []netlab.SRVRecord{{Name: "_sip._udp." + natDomain, Target: "sip." + natDomain, Port: 5060, Priority: 20, Weight: 10}},
	}
	if dns == natSRVFailoverRefused || dns == natSRVFailoverDropped {
		dead := lab.AddHost(t, "dead")
		if dns == natSRVFailoverDropped {
			natDropAll(t, lab, dead)
			// 64·T1 for the REGISTER and for the INVITE, then the second
			// target. (The refusing one is left at its ICMP error.)
			p.regWait, p.callWait = 45*time.Second, 45*time.Second
		}
		recs.Hosts = append(recs.Hosts, netlab.HostRecord{Name: "dead." + natDomain, Addrs: []netip.Addr{dead.Addr}})
		recs.SRV = append(recs.SRV, netlab.SRVRecord{Name: "_sip._udp." + natDomain, Target: "dead." + natDomain, Port: 5060, Priority: 10, Weight: 10})
		p.dead = fmt.Sprintf("UDP %s:5060 (dead.%s)", dead.Addr, natDomain)
	}
	lab.StartDNS(t, lab.Internet(), recs, clients...)
	return p
}

// natDropAll makes ns drop every packet it receives, silently.
func natDropAll(t *testing.T, lab *netlab.Lab, ns netlab.Namespace) {
	t.Helper()
	rules := "table inet blackhole {\n\tchain in {\n\t\ttype filter hook input priority filter; policy drop;\n\t}\n}\n"
	if err := lab.Run(ns, rules, "nft", "-f", "-"); err != nil {
		t.Fatal(err)
	}
}

// natCheckRegServer checks that alice's first "registered" event names
// want as its server, and that no event before it was a failure.
func natCheckRegServer(t *testing.T, evs []map[string]any, want string) {
	t.Helper()
	for _, ev := range evs {
		if ev["event"] != "registration" {
			continue
		}
		switch ev["state"] {
		case "failed":
			t.Errorf("registration failed before it succeeded: %v", ev)
		case "registered":
			t.Logf("registration event: %v", ev)
			if got := fmt.Sprint(ev["server"]); got != want {
				t.Errorf("registration event's server %q, want %q", got, want)
			}
			return
		}
	}
	t.Errorf("no registered event in %v", evs)
}

// checkFailover checks, when the provider has a dead first SRV target,
// that the log at path (who's) says it tried that target and went on to the
// next: msg is the log message of the failover.
func (p natProvider) checkFailover(t *testing.T, who, path, msg string) {
	t.Helper()
	if p.dead == "" {
		return
	}
	l := grepLine(readFile(path), msg)
	if !strings.Contains(l, strings.TrimPrefix(p.dead, "UDP ")) {
		t.Errorf("%s: no failover from %s in the log (line %q)", who, p.dead, l)
		return
	}
	t.Logf("%s: %s", who, l)
}

// natBaresipCall has baresip b call uri, waits until the call is
// established, keeps it up for 2 s, hangs up and returns what b heard (its
// recording of the call).
func natBaresipCall(t *testing.T, b *peertest.Baresip, n int, uri string, within time.Duration) []int16 {
	t.Helper()
	m := b.Mark()
	if err := b.Dial(uri); err != nil {
		t.Fatalf("call %d: %v", n, err)
	}
	if _, err := b.WaitEvent(m, "CALL_ESTABLISHED", within); err != nil {
		t.Fatalf("call %d: baresip: %v", n, err)
	}
	time.Sleep(2 * time.Second)
	if err := b.Hangup(); err != nil {
		t.Fatalf("call %d: %v", n, err)
	}
	if _, err := b.WaitEvent(m, "CALL_CLOSED", 5*time.Second); err != nil {
		t.Fatalf("call %d: baresip: %v", n, err)
	}
	return readRecording(t, b)
}

// TestNATBaresipFarEndOneWayAudio: the register-and-call scenario with a
// baresip 1.0 as the far end (on its own internet host, registered at
// Kamailio, calling sip:alice@KAMAILIO). SIP works through the NAT, also
// after the idle pause, and baresip hears alice's 440 Hz. But teaphone's SDP
// carries its private address (c=IN IP4 10.77.0.2: no STUN), and baresip
// does not latch: it logs "incoming rtp for 'audio' established, receiving
// from 198.51.100.1:20000" yet keeps sending to 10.77.0.2, which the
// internet cannot route ("Network is unreachable"). So alice hears nothing:
// with a far end that does not do symmetric RTP, audio into the NAT needs
// the public address in teaphone's SDP (STUN) or a media relay at the
// provider. The test checks that silence, so it fails (and must become a
// tone check) the day either end changes.
func TestNATBaresipFarEndOneWayAudio(t *testing.T) {
	natScenario(t, natCase{keepalive: true, baresip: true})
}

// natCheckBaresipOneWay checks what TestNATBaresipFarEndOneWayAudio
// describes: alice (who heard heard, and whose events since the call began
// are evs) got no RTP from baresip b, and b was offered alice's private
// address and could not send there.
func natCheckBaresipOneWay(t *testing.T, n int, b *peertest.Baresip, heard []int16, evs []map[string]any, private string) {
	t.Helper()
	if active := analyze.ActiveFrames(heard, 8000, -40); active != 0 || natMaxRx(evs) != 0 {
		t.Errorf("call %d: alice heard baresip (%d active frames, %v RTP packets): the far end latches now, or teaphone's SDP has its public address; check the tone instead",
			n, active, natMaxRx(evs))
	}
	log := b.Log()
	for _, want := range []string{"c=IN IP4 " + private, "receiving from ", "Network is unreachable"} {
		if !strings.Contains(log, want) {
			t.Errorf("call %d: baresip's log lacks %q", n, want)
		}
	}
	t.Logf("call %d: alice heard nothing from baresip; baresip: %s; %s", n, grepLine(log, "receiving from "), grepLine(log, "Network is unreachable"))
}

// TestNATBaresipFarEndSTUN is TestNATBaresipFarEndOneWayAudio with
// nat.stun_server (the lab's coturn): teaphone asks
// from its RTP socket how the NAT maps it and offers that public address in
// its SDP, so baresip's RTP, sent where the SDP says, comes in through the
// port-preserving NAT's binding (which teaphone's own RTP to baresip has
// opened) — a tone each way, analysed, with a far end that does not latch.
func TestNATBaresipFarEndSTUN(t *testing.T) {
	natScenario(t, natCase{keepalive: true, baresip: true, stun: true})
}

// natCheckSDPAddr checks that the SDP baresip got from alice (in its SIP
// trace, log) names the public address, not the private one.
func natCheckSDPAddr(t *testing.T, n int, log, public, private string) {
	t.Helper()
	if !strings.Contains(log, "c=IN IP4 "+public) || strings.Contains(log, "c=IN IP4 "+private) {
		t.Errorf("call %d: alice's SDP at baresip: want c=IN IP4 %s, never %s", n, public, private)
	}
}
