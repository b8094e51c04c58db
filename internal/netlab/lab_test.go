//go:build linux

package netlab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/teaphone/teaphone/internal/peertest"
)

// TestMain checks that the tests leave no goroutine behind (the echo servers,
// process waiters and Do's goroutines all end).
func TestMain(m *testing.M) {
	before := runtime.NumGoroutine()
	code := m.Run()
	if code == 0 {
		deadline := time.Now().Add(2 * time.Second)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before {
			buf := make([]byte, 1<<20)
			fmt.Fprintf(os.Stderr, "leak check: %d goroutines, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
			code = 1
		}
	}
	os.Exit(code)
}

func TestNATString(t *testing.T) {
	for _, tc := range []struct {
		n    NAT
		want string
	}{
		{NATUnknown, "NATUnknown"},
		{PortPreserving, "PortPreserving"},
		{Symmetric, "Symmetric"},
		{NAT(42), "NATUnknown"},
	} {
		if got := tc.n.String(); got != tc.want {
			t.Errorf("NAT(%d).String() = %q, want %q", int(tc.n), got, tc.want)
		}
	}
}

// listenUDP opens a UDP socket on addr inside ns, closed in t.Cleanup.
func listenUDP(t *testing.T, lab *Lab, ns Namespace, addr netip.AddrPort) *net.UDPConn {
	t.Helper()
	var conn *net.UDPConn
	err := lab.Do(ns, func() error {
		c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(addr))
		conn = c
		return err
	})
	if err != nil {
		t.Fatalf("listen %v in %s: %v", addr, ns.Name, err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// startEcho runs a UDP server on host port 7 that answers every datagram
// with the address it came from, as text; it stops in t.Cleanup.
func startEcho(t *testing.T, lab *Lab, host Namespace) netip.AddrPort {
	t.Helper()
	addr := netip.AddrPortFrom(host.Addr, 7)
	var conn *net.UDPConn
	if err := lab.Do(host, func() error {
		c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(addr))
		conn = c
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, 1500)
		for {
			_, from, err := conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				return // closed
			}
			_, _ = conn.WriteToUDPAddrPort([]byte(from.String()), from)
		}
	}()
	t.Cleanup(func() {
		conn.Close()
		wg.Wait()
	})
	return addr
}

// ask sends a datagram from conn to to (up to 3 times) and returns the
// first answer.
func ask(conn *net.UDPConn, to netip.AddrPort) (string, error) {
	buf := make([]byte, 1500)
	var err error
	for range 3 {
		if _, err = conn.WriteToUDPAddrPort([]byte("ping"), to); err != nil {
			continue
		}
		_ = conn.SetReadDeadline(time.Now().Add(time.Second))
		var n int
		var from netip.AddrPort
		n, from, err = conn.ReadFromUDPAddrPort(buf)
		if err == nil && from == to {
			return string(buf[:n]), nil
		}
	}
	return "", fmt.Errorf("no answer from %v: %v", to, err)
}

// TestNATSourceAddress: a datagram from the phone reaches an internet host
// from the router's public address; the port is kept with PortPreserving,
// and differs per destination with Symmetric.
func TestNATSourceAddress(t *testing.T) {
	for _, kind := range []NAT{PortPreserving, Symmetric} {
		t.Run(kind.String(), func(t *testing.T) {
			lab := New(t, Config{NAT: kind})
			a := startEcho(t, lab, lab.AddHost(t, "a"))
			b := startEcho(t, lab, lab.AddHost(t, "b"))
			phone := listenUDP(t, lab, lab.LAN(), netip.AddrPortFrom(lab.LAN().Addr, 5060))

			var seen []netip.AddrPort
			for _, server := range []netip.AddrPort{a, b} {
				s, err := ask(phone, server)
				if err != nil {
					t.Fatal(err)
				}
				ap, err := netip.ParseAddrPort(s)
				if err != nil {
					t.Fatalf("echo from %v: %q: %v", server, s, err)
				}
				t.Logf("%v sees the phone (%v) as %v", server, phone.LocalAddr(), ap)
				if ap.Addr() != lab.Router().Addr {
					t.Errorf("%v sees the phone from %v, want the router's public address %v", server, ap.Addr(), lab.Router().Addr)
				}
				seen = append(seen, ap)
			}
			switch kind {
			case PortPreserving:
				for _, ap := range seen {
					if ap.Port() != 5060 {
						t.Errorf("public port %d, want the phone's own 5060 (port-preserving NAT)", ap.Port())
					}
				}
			case Symmetric:
				if seen[0].Port() == seen[1].Port() {
					t.Errorf("both destinations see public port %d, want a port per destination (symmetric NAT)", seen[0].Port())
				}
			}
		})
	}
}

// TestBindingTimeout: with 3 s UDP conntrack timeouts, a binding left quiet
// for 5 s is gone (the server's packet to its old public port is dropped),
// while one kept alive every second still lets the server's packet in.
func TestBindingTimeout(t *testing.T) {
	const timeout = 3 * time.Second
	lab := New(t, Config{NAT: PortPreserving, UDPTimeout: timeout, UDPStreamTimeout: timeout})
	srvNS := lab.AddHost(t, "srv")
	server := listenUDP(t, lab, srvNS, netip.AddrPortFrom(srvNS.Addr, 5060))
	quiet := listenUDP(t, lab, lab.LAN(), netip.AddrPortFrom(lab.LAN().Addr, 5070))
	kept := listenUDP(t, lab, lab.LAN(), netip.AddrPortFrom(lab.LAN().Addr, 5080))
	serverAddr := netip.AddrPortFrom(srvNS.Addr, 5060)

	// Open both bindings; the server answers each, so both have seen a
	// reply.
	public := map[string]netip.AddrPort{}
	buf := make([]byte, 1500)
	for name, c := range map[string]*net.UDPConn{"quiet": quiet, "kept": kept} {
		if _, err := c.WriteToUDPAddrPort([]byte(name), serverAddr); err != nil {
			t.Fatal(err)
		}
		_ = server.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, from, err := server.ReadFromUDPAddrPort(buf)
		if err != nil {
			t.Fatalf("server: %v", err)
		}
		public[string(buf[:n])] = from
		if _, err := server.WriteToUDPAddrPort([]byte("welcome"), from); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, _, err := c.ReadFromUDPAddrPort(buf); err != nil {
			t.Fatalf("%s: no answer through the fresh binding: %v", name, err)
		}
	}
	t.Logf("public addresses: %v", public)

	// kept sends a keep-alive every second; quiet sends nothing.
	start := time.Now()
	for time.Since(start) < timeout+2*time.Second {
		time.Sleep(time.Second)
		if _, err := kept.WriteToUDPAddrPort([]byte("keep-alive"), serverAddr); err != nil {
			t.Fatal(err)
		}
	}

	for _, name := range []string{"quiet", "kept"} {
		if _, err := server.WriteToUDPAddrPort([]byte("incoming"), public[name]); err != nil {
			t.Fatal(err)
		}
	}
	_ = kept.SetReadDeadline(time.Now().Add(1500 * time.Millisecond))
	if _, _, err := kept.ReadFromUDPAddrPort(buf); err != nil {
		t.Errorf("kept-alive binding: the server's packet did not arrive: %v", err)
	}
	_ = quiet.SetReadDeadline(time.Now().Add(1500 * time.Millisecond))
	if n, from, err := quiet.ReadFromUDPAddrPort(buf); err == nil {
		t.Errorf("quiet binding, %v after its last packet: got %q from %v, want nothing (binding expired)", time.Since(start), buf[:n], from)
	}
}

func providerRecords(provider netip.Addr) Records {
	return Records{
		Hosts: []HostRecord{{Name: "sip.provider.test", Addrs: []netip.Addr{provider}}},
		SRV: []SRVRecord{{Name: "_sip._udp.provider.test", Target: "sip.provider.test",
			Port: 5060, Priority: 10, Weight: 20}},
		NAPTR: []NAPTRRecord{{Name: "provider.test", Order: 10, Preference: 50,
			Flags: "s", Service: "SIP+D2U", Replacement: "_sip._udp.provider.test"}},
	}
}

// TestDNS: the lab's dnsmasq answers SRV, A and NAPTR queries from the LAN
// (through the NAT), for Go code through Lab.Resolver and for programs
// through /etc/netns/LAN/resolv.conf; Go's default resolver, even inside
// Do, does not reach it.
func TestDNS(t *testing.T) {
	lab := New(t, Config{})
	provider := lab.AddHost(t, "provider")
	dns := lab.StartDNS(t, lab.Internet(), providerRecords(provider.Addr), lab.LAN())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r := lab.Resolver(lab.LAN())

	_, srvs, err := r.LookupSRV(ctx, "sip", "udp", "provider.test")
	if err != nil {
		t.Fatalf("SRV: %v", err)
	}
	if len(srvs) != 1 || *srvs[0] != (net.SRV{Target: "sip.provider.test.", Port: 5060, Priority: 10, Weight: 20}) {
		t.Errorf("SRV _sip._udp.provider.test: got %+v, want sip.provider.test.:5060 priority 10 weight 20", srvs)
	}
	addrs, err := r.LookupNetIP(ctx, "ip4", "sip.provider.test")
	if err != nil || len(addrs) != 1 || addrs[0] != provider.Addr {
		t.Errorf("A sip.provider.test: got %v, %v; want %v", addrs, err, provider.Addr)
	}
	if _, err := r.LookupNetIP(ctx, "ip4", "unknown.provider.test"); !isNotFound(err) {
		t.Errorf("A unknown.provider.test: got %v, want not found", err)
	}
	if !strings.Contains(dns.Process.Log(), "query[SRV] _sip._udp.provider.test from "+lab.Router().Addr.String()) {
		t.Errorf("dnsmasq did not log the SRV query from the router's public address:\n%s", dns.Process.Log())
	}

	t.Run("NAPTR", func(t *testing.T) {
		testNAPTR(t, lab, dns.Addr)
	})

	t.Run("resolv.conf", func(t *testing.T) {
		cmd := lab.Command(lab.LAN(), "getent", "ahostsv4", "sip.provider.test")
		cmd.WaitDelay = time.Second
		out, err := runWithTimeout(cmd, 5*time.Second)
		if err != nil || !strings.Contains(out, provider.Addr.String()) {
			t.Errorf("getent in the LAN namespace: %v\n%s", err, out)
		}
	})

	t.Run("DefaultResolver", func(t *testing.T) {
		var got []string
		var lookupErr error
		if err := lab.Do(lab.LAN(), func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			got, lookupErr = net.DefaultResolver.LookupHost(ctx, "sip.provider.test")
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		// Its A/AAAA queries run on goroutines outside the namespace and
		// go to the machine's own nameserver (see the package comment).
		t.Logf("net.DefaultResolver inside Do(LAN): %v, %v", got, lookupErr)
		for _, a := range got {
			if a == provider.Addr.String() {
				t.Errorf("net.DefaultResolver inside Do found the lab's record: the package comment says it cannot")
			}
		}
	})
}

func isNotFound(err error) bool {
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr) && dnsErr.IsNotFound
}

func runWithTimeout(cmd *exec.Cmd, d time.Duration) (string, error) {
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return "", err
	}
	timer := time.AfterFunc(d, func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	defer timer.Stop()
	err := cmd.Wait()
	return out.String(), err
}

// testNAPTR asks for provider.test's NAPTR record with a hand-made query
// (Go's resolver has no NAPTR lookup) from the LAN and checks the answer.
func testNAPTR(t *testing.T, lab *Lab, server netip.AddrPort) {
	var conn net.Conn
	if err := lab.Do(lab.LAN(), func() error {
		c, err := net.Dial("udp4", server.String())
		conn = c
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// RFC 1035 §4.1: header (ID 0x4e4c, RD, one question), QNAME, QTYPE
	// NAPTR (35), QCLASS IN.
	query := []byte{0x4e, 0x4c, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0}
	query = append(query, dnsName("provider.test")...)
	query = append(query, 0, 35, 0, 1)
	if _, err := conn.Write(query); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 1500)
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatalf("NAPTR query: %v", err)
	}
	ans := buf[:n]
	if n < 12 || ans[0] != 0x4e || ans[1] != 0x4c || ans[3]&0x0f != 0 || ans[6] != 0 || ans[7] != 1 {
		t.Fatalf("NAPTR answer: want ID 4e4c, RCODE 0, one answer; got % x", ans)
	}
	// RFC 3403 §4.1: ORDER, PREFERENCE, FLAGS, SERVICES, REGEXP,
	// REPLACEMENT (never compressed).
	rdata := []byte{0, 10, 0, 50, 1, 's', 7, 'S', 'I', 'P', '+', 'D', '2', 'U', 0}
	rdata = append(rdata, dnsName("_sip._udp.provider.test")...)
	if !strings.HasSuffix(string(ans), string(rdata)) {
		t.Errorf("NAPTR answer does not end with the record's RDATA % x:\n% x", rdata, ans)
	}
}

// dnsName encodes a domain name as DNS labels.
func dnsName(name string) []byte {
	var b []byte
	for _, l := range strings.Split(name, ".") {
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	return append(b, 0)
}

// TestTeardown: after a lab's cleanup no namespace, /etc/netns directory or
// process of it is left, and the lock is free.
func TestTeardown(t *testing.T) {
	var name string
	var sleepPID, dnsPID int
	t.Run("lab", func(t *testing.T) {
		lab := New(t, Config{NAT: Symmetric})
		name = lab.Name()
		provider := lab.AddHost(t, "provider")
		sleepPID = lab.Start(t, provider, "sleep", "60").PID()
		dnsPID = lab.StartDNS(t, provider, providerRecords(provider.Addr), lab.LAN(), provider).Process.PID()
		if n := len(labNamespaces(t, name)); n != 4 {
			t.Errorf("%d namespaces named %s*, want 4", n, name)
		}
	})
	if left := labNamespaces(t, name); len(left) > 0 {
		t.Errorf("namespaces left: %v", left)
	}
	if left, _ := filepath.Glob(filepath.Join(netnsEtcDir, name+"*")); len(left) > 0 {
		t.Errorf("/etc/netns directories left: %v", left)
	}
	for _, pid := range []int{sleepPID, dnsPID} {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("the lab's process (PID %d) still there: kill 0: %v", pid, err)
		}
	}
	f, err := os.OpenFile(lockPath, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		t.Errorf("lab lock still held: %v", err)
	}
}

// labNamespaces returns the names in /run/netns that begin with prefix.
func labNamespaces(t *testing.T, prefix string) []string {
	t.Helper()
	entries, err := os.ReadDir(netnsRunDir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			names = append(names, e.Name())
		}
	}
	return names
}

// TestCleansUpKilledRun: New deletes a namespace (and its process and
// /etc/netns directory) that a killed run left.
func TestCleansUpKilledRun(t *testing.T) {
	need(t, "ip", "nft")
	stale := Prefix + "1-dead-lan"
	if err := run("", "ip", "netns", "add", stale); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = run("", "ip", "netns", "del", stale) }) // should New fail
	if _, err := os.Stat(netnsEtcDir); errors.Is(err, os.ErrNotExist) {
		t.Cleanup(func() { _ = os.Remove(netnsEtcDir) }) // if still empty
	}
	etc := filepath.Join(netnsEtcDir, stale)
	if err := os.MkdirAll(etc, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(etc) })
	sleeper := exec.Command("ip", "netns", "exec", stale, "sleep", "60")
	sleeper.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- sleeper.Wait() }()
	t.Cleanup(func() {
		_ = sleeper.Process.Kill()
		<-exited
	})
	deadline := time.Now().Add(5 * time.Second)
	for len(pidsIn(stale)) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond) // until ip has exec'ed into the namespace
	}

	New(t, Config{})

	if _, err := os.Stat(filepath.Join(netnsRunDir, stale)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale namespace %s still there: %v", stale, err)
	}
	if _, err := os.Stat(etc); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale %s still there: %v", etc, err)
	}
	select {
	case err := <-exited:
		exited <- err // for the cleanup
		t.Logf("the stale namespace's process ended: %v", err)
	case <-time.After(3 * time.Second):
		t.Errorf("the stale namespace's process (PID %d) was not killed", sleeper.Process.Pid)
	}
}

// TestTeardownReportsStrayProcess: a process started with Command and never
// stopped is killed by the teardown, which reports it.
func TestTeardownReportsStrayProcess(t *testing.T) {
	lab := New(t, Config{})
	host := lab.AddHost(t, "stray")
	cmd := lab.Command(host, "sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(5 * time.Second)
	for len(pidsIn(host.Name)) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond) // until ip has exec'ed into the namespace
	}

	// The teardown New registered runs again at the end and finds nothing
	// left to do.
	errs := lab.teardown(false, t.Logf)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), fmt.Sprint(cmd.Process.Pid)) {
		t.Errorf("teardown: got %v, want one error naming PID %d", errs, cmd.Process.Pid)
	}
	select {
	case err := <-exited:
		t.Logf("the stray process ended: %v", err)
	case <-time.After(3 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
		t.Errorf("the teardown did not kill the stray process")
	}
	if left := labNamespaces(t, lab.Name()); len(left) > 0 {
		t.Errorf("namespaces left: %v", left)
	}
}

// TestKamailio: peertest's Kamailio runs on a provider host and answers
// OPTIONS from the phone's LAN, which reach it from the router's public
// address.
func TestKamailio(t *testing.T) {
	lab := New(t, Config{})
	provider := lab.AddHost(t, "provider")
	k := lab.StartKamailio(t, provider, peertest.KamailioConfig{Users: map[string]string{"alice": "alicepw"}})
	if want := netip.AddrPortFrom(provider.Addr, 5060).String(); k.Addr() != want {
		t.Errorf("Kamailio's address %s, want %s", k.Addr(), want)
	}
	var code int
	if err := lab.Do(lab.LAN(), func() error {
		var err error
		code, err = peertest.ProbeOptions(k.Addr(), 5*time.Second)
		return err
	}); err != nil || code != 200 {
		t.Fatalf("OPTIONS from the LAN: %d, %v", code, err)
	}
	if want := "REQ OPTIONS sip:" + k.Addr() + " from " + lab.Router().Addr.String() + ":"; !strings.Contains(k.Log(), want) {
		t.Errorf("Kamailio's log lacks %q:\n%s", want, k.Log())
	}
}
