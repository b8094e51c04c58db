//go:build linux

package netlab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// dnsReadyTimeout bounds how long StartDNS waits for dnsmasq to answer.
const dnsReadyTimeout = 10 * time.Second

// errNoDNS is what a Resolver's queries fail with before StartDNS.
var errNoDNS = errors.New("netlab: the lab has no DNS server (StartDNS)")

// DNS is the lab's DNS server, a dnsmasq started by StartDNS.
type DNS struct {
	// Addr is where it answers over UDP and TCP: its namespace's address,
	// port 53.
	Addr netip.AddrPort
	// Process is the dnsmasq process; its log has every query
	// (--log-queries).
	Process *Process
}

// StartDNS starts dnsmasq inside ns, listening on ns.Addr port 53, serving
// recs and nothing else (other names get NXDOMAIN; it has no upstream),
// and waits until it answers. For each of clients it writes
// /etc/netns/NAME/resolv.conf pointing at it, which programs started there
// with Command or Start read as /etc/resolv.conf; the teardown removes those
// files. Go code of the test process uses Resolver instead. A lab has one
// DNS server; dnsmasq is stopped in t.Cleanup. It skips (or under CI=true
// fails) the test when dnsmasq is not installed.
func (l *Lab) StartDNS(t testing.TB, ns Namespace, recs Records, clients ...Namespace) *DNS {
	t.Helper()
	need(t, "dnsmasq")
	recArgs, err := recs.args()
	if err != nil {
		t.Fatalf("netlab: DNS: %v", err)
	}
	l.mu.Lock()
	started := l.dns != nil
	l.mu.Unlock()
	if started {
		t.Fatal("netlab: the lab has a DNS server already")
	}
	for _, c := range clients {
		if !l.has(c) {
			t.Fatalf("netlab: DNS client %q is not a namespace of this lab", c.Name)
		}
		if err := l.writeResolvConf(c, ns.Addr); err != nil {
			t.Fatal(err)
		}
	}
	args := append([]string{
		"--keep-in-foreground",
		"--conf-file=/dev/null", // no /etc/dnsmasq.conf
		"--no-resolv",           // no upstream from /etc/resolv.conf
		"--no-hosts",            // nor the machine's /etc/hosts
		"--no-poll",
		"--local=/#/", // whatever is not in recs: NXDOMAIN, never forwarded
		"--bind-interfaces",
		"--listen-address=" + ns.Addr.String(),
		"--port=53",
		"--user=root", // no change of user: nothing to depend on
		"--pid-file=",
		"--log-facility=-",
		"--log-queries",
	}, recArgs...)
	p := l.Start(t, ns, "dnsmasq", args...)
	d := &DNS{Addr: netip.AddrPortFrom(ns.Addr, 53), Process: p}
	if err := waitDNS(l.resolver(ns, d.Addr), p); err != nil {
		t.Fatalf("netlab: dnsmasq in %s: %v\n%s", ns.Name, err, p.Log())
	}
	l.mu.Lock()
	l.dns = d
	l.mu.Unlock()
	return d
}

// writeResolvConf writes /etc/netns/NAME/resolv.conf for ns, recording the
// directory (and /etc/netns, if it creates that) for the teardown first.
func (l *Lab) writeResolvConf(ns Namespace, server netip.Addr) error {
	dir := filepath.Join(netnsEtcDir, ns.Name)
	l.mu.Lock()
	if _, err := os.Stat(netnsEtcDir); errors.Is(err, os.ErrNotExist) {
		l.etcNetns = true
	}
	l.etcDirs = append(l.etcDirs, dir)
	l.mu.Unlock()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("netlab: %w", err)
	}
	conf := "# written by teaphone's netlab for the lab's dnsmasq\nnameserver " + server.String() + "\n"
	if err := os.WriteFile(filepath.Join(dir, "resolv.conf"), []byte(conf), 0o644); err != nil {
		return fmt.Errorf("netlab: %w", err)
	}
	return nil
}

// waitDNS waits until the server r asks answers a query (NXDOMAIN for a name
// it does not serve is an answer).
func waitDNS(r *net.Resolver, p *Process) error {
	deadline := time.Now().Add(dnsReadyTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		_, err := r.LookupHost(ctx, "netlab-ready.invalid")
		cancel()
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
			return nil
		}
		if p.Exited() {
			return fmt.Errorf("exited (%s)", p.ExitStatus())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer within %v (last: %v)", dnsReadyTimeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Resolver returns a resolver for Go code of the test process that asks the
// lab's DNS server from inside ns: its Dial opens each DNS socket (UDP, or
// TCP for a truncated answer) inside ns and connects it to the server,
// whatever address the machine's /etc/resolv.conf names. The machine's
// resolv.conf still supplies the options (ndots, search, timeout,
// attempts), and for host lookups the machine's /etc/hosts is read first.
// Before StartDNS its lookups fail.
func (l *Lab) Resolver(ns Namespace) *net.Resolver {
	return l.resolver(ns, netip.AddrPort{})
}

// resolver is Resolver, asking server if it is valid, the lab's DNS
// otherwise.
func (l *Lab) resolver(ns Namespace, server netip.AddrPort) *net.Resolver {
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			addr := server
			if !addr.IsValid() {
				l.mu.Lock()
				if l.dns != nil {
					addr = l.dns.Addr
				}
				l.mu.Unlock()
				if !addr.IsValid() {
					return nil, errNoDNS
				}
			}
			var conn net.Conn
			err := l.Do(ns, func() error {
				var d net.Dialer
				c, err := d.DialContext(ctx, network, addr.String())
				conn = c
				return err
			})
			return conn, err
		},
	}
}
