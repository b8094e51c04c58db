//go:build linux

package interop

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/teaphone/teaphone/internal/netlab"
	"github.com/teaphone/teaphone/internal/peertest"
)

// doctorLab is a lab for "teaphone doctor": Kamailio (no NAT help) on
// host "provider", found through DNS as provider.test (NAPTR, SRV), and
// coturn as STUN server on host "stun" (stun.provider.test), behind a
// router of the given kind with short UDP bindings (5 s, 8 s).
type doctorLab struct {
	lab      *netlab.Lab
	provider netlab.Namespace
	kam      *peertest.Kamailio
	bin, dir string
}

func newDoctorLab(t *testing.T, nat netlab.NAT) *doctorLab {
	t.Helper()
	lab := netlab.New(t, netlab.Config{NAT: nat, UDPTimeout: 5 * time.Second, UDPStreamTimeout: 8 * time.Second})
	provider := lab.AddHost(t, "provider")
	stunHost := lab.AddHost(t, "stun")
	k := lab.StartKamailio(t, provider, peertest.KamailioConfig{Users: map[string]string{"alice": "alicepw"}})
	lab.StartSTUN(t, stunHost)
	lab.StartDNS(t, lab.Internet(), netlab.Records{
		Hosts: []netlab.HostRecord{
			{Name: "sip.provider.test", Addrs: []netip.Addr{provider.Addr}},
			{Name: "stun.provider.test", Addrs: []netip.Addr{stunHost.Addr}},
		},
		SRV: []netlab.SRVRecord{{Name: "_sip._udp.provider.test", Target: "sip.provider.test", Port: 5060, Priority: 10, Weight: 10}},
		NAPTR: []netlab.NAPTRRecord{{Name: "provider.test", Order: 10, Preference: 50, Flags: "s", Service: "SIP+D2U",
			Replacement: "_sip._udp.provider.test"}},
	}, lab.LAN())
	return &doctorLab{lab: lab, provider: provider, kam: k, bin: teaphoneBinary(t), dir: t.TempDir()}
}

// doctor runs "teaphone doctor" in the LAN with an account at the provider
// (its AOR's domain is Kamailio's address, the only domain it serves; its
// outbound proxy sip:proxy is located through DNS) and returns its output
// and exit status.
func (d *doctorLab) doctor(t *testing.T, name, proxy, keepalive string, args ...string) (string, string) {
	t.Helper()
	cfg := filepath.Join(d.dir, name+".toml")
	text := fmt.Sprintf(`[sip]
listen = "%s:5060"
transports = ["udp"]

[[accounts]]
name = "alice"
aor = "sip:alice@%s"
outbound_proxy = "sip:%s"
password = "alicepw"

[media]
rtp_ports = [20000, 20099]

[nat]
contact_rewrite = true
keepalive = %q
stun_server = "stun.provider.test"
`, d.lab.LAN().Addr, d.provider.Addr, proxy, keepalive)
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(d.dir, name+".log")
	start := time.Now()
	p := d.lab.Start(t, d.lab.LAN(), d.bin, append([]string{"doctor", "--config", cfg, "--log-file", log, "--verbose"}, args...)...)
	select {
	case <-p.Done():
	case <-time.After(90 * time.Second):
		t.Fatalf("%s: teaphone doctor still running after 90s:\n%s\nlog tail:\n%s", name, p.Log(), tail(log, 60))
	}
	t.Logf("%s: teaphone doctor %s (%s, %v):\n%s", name, strings.Join(args, " "), p.ExitStatus(), time.Since(start).Round(100*time.Millisecond), p.Log())
	if t.Failed() {
		t.Logf("%s log tail:\n%s", name, tail(log, 60))
	}
	return p.Log(), p.ExitStatus()
}

// wantLines checks that out has each of want, in order.
func wantLines(t *testing.T, who, out string, want ...string) {
	t.Helper()
	rest := out
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Errorf("%s: missing (or out of order) %q", who, w)
			continue
		}
		rest = rest[i+len(w):]
	}
}

// TestDoctorPortPreservingNAT: behind the common home router, teaphone
// doctor finds the provider through DNS, registers, sees the NAT (the
// registrar and STUN both see the router's address with our port: an
// endpoint-independent mapping), gets a STUN answer on an RTP port, and its
// request to its own AOR comes back through Kamailio at once and after an
// idle pause longer than the router's UDP timeouts (keep-alives every 2 s);
// it exits 0. Without keep-alives the same pause loses the binding and the
// doctor says so (a warning: still exit 0). With a domain that does not
// resolve, and once Kamailio is gone, it exits 1 naming the problem.
func TestDoctorPortPreservingNAT(t *testing.T) {
	d := newDoctorLab(t, netlab.PortPreserving)
	out, status := d.doctor(t, "healthy", "provider.test", "2s", "--idle", "10s")
	if status != "exit status 0" {
		t.Errorf("healthy: %s, want exit status 0", status)
	}
	wantLines(t, "healthy", out,
		"✓ resolved provider.test → UDP 198.51.100.10:5060 (sip.provider.test)",
		"✓ registered at UDP 198.51.100.10:5060 (sip.provider.test)",
		"✓ behind NAT: we are 10.77.0.2:5060, the registrar sees 198.51.100.1:5060 (port kept)",
		"✓ NAT keeps your mapping: from the same local port the registrar and STUN (stun.provider.test) both see 198.51.100.1:5060",
		"✓ UDP comes back to RTP port 20000 (STUN answered; seen at 198.51.100.1:20000)",
		"✓ a request to our own address through the provider reached us",
		"✓ the NAT binding survived 10s idle (nat.keepalive 2s)")

	out, status = d.doctor(t, "no-keepalive", "provider.test", "0s", "--idle", "10s")
	if status != "exit status 0" {
		t.Errorf("no-keepalive: %s, want exit status 0 (a lost binding is a warning)", status)
	}
	wantLines(t, "no-keepalive", out,
		"✓ a request to our own address through the provider reached us",
		"! after 10s idle a request through the provider no longer reached us",
		"set nat.keepalive")

	out, status = d.doctor(t, "no-domain", "nowhere.test", "2s", "--idle", "0")
	if status != "exit status 1" || !strings.Contains(out, "✗ nowhere.test does not resolve") ||
		!strings.Contains(out, "teaphone: nowhere.test does not resolve") {
		t.Errorf("no-domain: %s, want exit status 1 naming nowhere.test", status)
	}

	d.kam.Stop()
	out, status = d.doctor(t, "provider-gone", "provider.test", "2s", "--idle", "0", "--timeout", "5s")
	// Kamailio's host is up: its kernel answers the REGISTER with ICMP
	// port unreachable, which ends the attempt at once.
	if status != "exit status 1" || !strings.Contains(out, "teaphone: nothing answers SIP at UDP 198.51.100.10:5060 (sip.provider.test) (ICMP port unreachable)") {
		t.Errorf("provider-gone: %s, want exit status 1 naming the server that refused", status)
	}
}

// TestDoctorSymmetricNAT: behind a NAT that maps each destination to a new
// public port, the registrar and the STUN server see different ports from
// the same local port: the doctor warns about a symmetric NAT, still sees
// STUN answer on an RTP port and requests come back through the
// registration's own binding; it exits 0.
func TestDoctorSymmetricNAT(t *testing.T) {
	d := newDoctorLab(t, netlab.Symmetric)
	out, status := d.doctor(t, "symmetric", "provider.test", "2s", "--idle", "10s")
	if status != "exit status 0" {
		t.Errorf("symmetric: %s, want exit status 0", status)
	}
	wantLines(t, "symmetric", out,
		"✓ registered at UDP 198.51.100.10:5060",
		"✓ behind NAT: we are 10.77.0.2:5060, the registrar sees 198.51.100.1:",
		"(port changed)",
		"! symmetric NAT (address-dependent mapping): from local port 5060 the registrar sees 198.51.100.1:",
		"✓ UDP comes back to RTP port 20000",
		"✓ a request to our own address through the provider reached us",
		"✓ the NAT binding survived 10s idle")
}
