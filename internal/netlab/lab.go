//go:build linux

package netlab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Prefix begins the name of every namespace a lab creates. A lab's names
// continue with the test process's PID and a random number (Lab.Name).
const Prefix = "teaphone-lab-"

// commandTimeout bounds each ip, nft and other setup command.
const commandTimeout = 10 * time.Second

// The lab's addresses; see the package comment.
var (
	lanNet      = netip.MustParsePrefix("10.77.0.0/24")
	gatewayAddr = netip.MustParseAddr("10.77.0.1")
	phoneAddr   = netip.MustParseAddr("10.77.0.2")
	internetNet = netip.MustParsePrefix("198.51.100.0/24")
	publicAddr  = netip.MustParseAddr("198.51.100.1")
	bridgeAddr  = netip.MustParseAddr("198.51.100.254")
	firstHost   = netip.MustParseAddr("198.51.100.10")
)

// maxHosts is how many hosts AddHost can add (198.51.100.10 up to .209).
const maxHosts = 200

// hostName is what AddHost accepts as a host's name.
var hostName = regexp.MustCompile(`^[a-z0-9]{1,12}$`)

// Config describes a lab's router.
type Config struct {
	// NAT is the router's kind of NAT; NATUnknown (the zero value) means
	// PortPreserving.
	NAT NAT
	// UDPTimeout sets the router's net.netfilter.nf_conntrack_udp_timeout
	// (whole seconds, at least 1): how long a UDP binding lives after its
	// last packet while it is not yet a "stream". Zero keeps the kernel's
	// default (30 s).
	UDPTimeout time.Duration
	// UDPStreamTimeout sets nf_conntrack_udp_timeout_stream, the same for a
	// binding that has seen packets both ways and is still used more than
	// 2 s after its first packet. Zero keeps the kernel's default (120 s
	// on current kernels).
	UDPStreamTimeout time.Duration
}

// Lab is a running network lab; New builds it.
type Lab struct {
	name     string // common prefix of the lab's namespace names
	dir      string // process logs
	lan      Namespace
	router   Namespace
	internet Namespace

	mu         sync.Mutex
	namespaces []Namespace // in creation order
	hosts      map[string]Namespace
	procs      []*Process
	etcDirs    []string // /etc/netns/NAME directories written
	etcNetns   bool     // /etc/netns itself was created by this lab
	dns        *DNS
}

// New builds a lab with a router configured by cfg, and tears it down in
// t.Cleanup. It waits for the machine-wide lab lock first and cleans up what
// a killed earlier run left. It skips the test when the lab cannot be built
// here (not root, ip or nft missing), or fails it if CI is "true".
func New(t testing.TB, cfg Config) *Lab {
	t.Helper()
	need(t, "ip", "nft")
	if cfg.NAT == NATUnknown {
		cfg.NAT = PortPreserving
	}
	if cfg.NAT != PortPreserving && cfg.NAT != Symmetric {
		t.Fatalf("netlab: unknown NAT kind %d", int(cfg.NAT))
	}
	for _, d := range []time.Duration{cfg.UDPTimeout, cfg.UDPStreamTimeout} {
		if d != 0 && d < time.Second {
			t.Fatalf("netlab: conntrack timeout %v: want 0 or at least 1s", d)
		}
	}
	lockFile, err := lock(LockTimeout)
	if err != nil {
		t.Fatal(err)
	}
	l := &Lab{
		name:  fmt.Sprintf("%s%d-%04x-", Prefix, os.Getpid(), rand.IntN(0x10000)),
		hosts: map[string]Namespace{},
	}
	t.Cleanup(func() {
		defer lockFile.Close() // releases the flock
		for _, err := range l.teardown(t.Failed(), t.Logf) {
			t.Error(err)
		}
	})
	if err := cleanStale(t.Logf); err != nil {
		t.Fatal(err)
	}
	l.dir, err = os.MkdirTemp("", "netlab")
	if err != nil {
		t.Fatalf("netlab: log directory: %v", err)
	}
	if err := l.build(cfg); err != nil {
		t.Fatalf("netlab: building the lab: %v", err)
	}
	return l
}

// Name returns the common beginning of the names of the lab's namespaces
// (Prefix, the test process's PID, a random number).
func (l *Lab) Name() string { return l.name }

// LAN returns the phone's namespace; its Addr is 10.77.0.2.
func (l *Lab) LAN() Namespace { return l.lan }

// Router returns the router's namespace; its Addr is the public (WAN)
// address 198.51.100.1, the source address the internet sees.
func (l *Lab) Router() Namespace { return l.router }

// Gateway returns the router's address on the LAN, 10.77.0.1.
func (l *Lab) Gateway() netip.Addr { return gatewayAddr }

// Internet returns the namespace holding the internet bridge; its Addr,
// 198.51.100.254, can serve too (e.g. StartDNS there).
func (l *Lab) Internet() Namespace { return l.internet }

// build creates the namespaces, links, addresses, routes and the router's
// NAT.
func (l *Lab) build(cfg Config) error {
	l.lan = Namespace{Name: l.name + "lan", Addr: phoneAddr}
	l.router = Namespace{Name: l.name + "router", Addr: publicAddr}
	l.internet = Namespace{Name: l.name + "inet", Addr: bridgeAddr}
	for _, ns := range []Namespace{l.lan, l.router, l.internet} {
		if err := l.addNamespace(ns); err != nil {
			return err
		}
	}
	lan, rtr, inet := l.lan.Name, l.router.Name, l.internet.Name
	steps := [][]string{
		// Each end is created inside its namespace: nothing ever appears
		// in the machine's own namespace.
		{"link", "add", "eth0", "netns", lan, "type", "veth", "peer", "name", "lan", "netns", rtr},
		{"link", "add", "wan", "netns", rtr, "type", "veth", "peer", "name", "router", "netns", inet},
		{"-n", inet, "link", "add", "br0", "type", "bridge"},
		{"-n", inet, "link", "set", "router", "master", "br0"},
		{"-n", inet, "addr", "add", prefixed(bridgeAddr, internetNet), "dev", "br0"},
		{"-n", inet, "link", "set", "br0", "up"},
		{"-n", inet, "link", "set", "router", "up"},
		{"-n", rtr, "addr", "add", prefixed(gatewayAddr, lanNet), "dev", "lan"},
		{"-n", rtr, "addr", "add", prefixed(publicAddr, internetNet), "dev", "wan"},
		{"-n", rtr, "link", "set", "lan", "up"},
		{"-n", rtr, "link", "set", "wan", "up"},
		{"-n", lan, "addr", "add", prefixed(phoneAddr, lanNet), "dev", "eth0"},
		{"-n", lan, "link", "set", "eth0", "up"},
		{"-n", lan, "route", "add", internetNet.String(), "via", gatewayAddr.String()},
	}
	for _, s := range steps {
		if err := run("", "ip", s...); err != nil {
			return err
		}
	}
	// The drop of unsolicited inbound packets sits in prerouting, before
	// conntrack confirms a new entry at the end of input/postrouting: a
	// packet from the internet to a public port without a binding never
	// creates one (it would take that port from the next outbound flow).
	ruleset := `table ip netlab {
	chain unsolicited {
		type filter hook prerouting priority mangle; policy accept;
		iifname "wan" ct state new,invalid drop
	}
	chain forwarding {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		iifname "lan" oifname "wan" accept
	}
	chain nat_out {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "wan" ` + cfg.NAT.masquerade() + `
	}
}
`
	if err := run(ruleset, "ip", "netns", "exec", rtr, "nft", "-f", "-"); err != nil {
		return err
	}
	// /proc/sys/net shows the namespace of the thread that opens the file.
	// The conntrack files exist once nftables has loaded nf_conntrack.
	sysctls := [][2]string{{"net/ipv4/ip_forward", "1"}}
	if cfg.UDPTimeout != 0 {
		sysctls = append(sysctls, [2]string{"net/netfilter/nf_conntrack_udp_timeout", seconds(cfg.UDPTimeout)})
	}
	if cfg.UDPStreamTimeout != 0 {
		sysctls = append(sysctls, [2]string{"net/netfilter/nf_conntrack_udp_timeout_stream", seconds(cfg.UDPStreamTimeout)})
	}
	return doIn(rtr, func() error {
		for _, s := range sysctls {
			if err := os.WriteFile(filepath.Join("/proc/sys", s[0]), []byte(s[1]), 0o644); err != nil {
				return fmt.Errorf("sysctl %s in the router: %w", s[0], err)
			}
		}
		return nil
	})
}

// AddHost adds a host named name (1 to 12 of [a-z0-9]) on the internet
// bridge, in a namespace of its own, with the next free address from
// 198.51.100.10 up. Like every lab namespace, it goes away at teardown.
func (l *Lab) AddHost(t testing.TB, name string) Namespace {
	t.Helper()
	ns, err := l.addHost(name)
	if err != nil {
		t.Fatalf("netlab: adding host %q: %v", name, err)
	}
	return ns
}

func (l *Lab) addHost(name string) (Namespace, error) {
	if !hostName.MatchString(name) {
		return Namespace{}, errors.New("want 1 to 12 of [a-z0-9]")
	}
	l.mu.Lock()
	_, dup := l.hosts[name]
	n := len(l.hosts)
	l.mu.Unlock()
	if dup {
		return Namespace{}, errors.New("a host of that name exists")
	}
	if n >= maxHosts {
		return Namespace{}, fmt.Errorf("at most %d hosts", maxHosts)
	}
	addr := firstHost
	for range n {
		addr = addr.Next()
	}
	ns := Namespace{Name: l.name + "h-" + name, Addr: addr}
	if err := l.addNamespace(ns); err != nil {
		return Namespace{}, err
	}
	port := "h-" + name // the bridge port in the internet namespace
	inet := l.internet.Name
	steps := [][]string{
		{"link", "add", "eth0", "netns", ns.Name, "type", "veth", "peer", "name", port, "netns", inet},
		{"-n", inet, "link", "set", port, "master", "br0"},
		{"-n", inet, "link", "set", port, "up"},
		{"-n", ns.Name, "addr", "add", prefixed(addr, internetNet), "dev", "eth0"},
		{"-n", ns.Name, "link", "set", "eth0", "up"},
	}
	for _, s := range steps {
		if err := run("", "ip", s...); err != nil {
			return Namespace{}, err
		}
	}
	l.mu.Lock()
	l.hosts[name] = ns
	l.mu.Unlock()
	return ns, nil
}

// addNamespace creates ns (recording it for the teardown first) with its
// loopback up.
func (l *Lab) addNamespace(ns Namespace) error {
	l.mu.Lock()
	l.namespaces = append(l.namespaces, ns)
	l.mu.Unlock()
	if err := run("", "ip", "netns", "add", ns.Name); err != nil {
		return err
	}
	return run("", "ip", "-n", ns.Name, "link", "set", "lo", "up")
}

// has reports whether ns is one of the lab's namespaces.
func (l *Lab) has(ns Namespace) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, n := range l.namespaces {
		if n.Name == ns.Name {
			return true
		}
	}
	return false
}

// Do runs f on an OS thread inside ns and waits for it. Sockets f opens
// belong to ns for their whole life, so f typically opens them and returns,
// and the test uses them afterwards from any goroutine. f runs on a
// goroutine of its own: it must not call t.Fatal (Do then returns an
// error), and goroutines it starts run outside ns. A panic in f is repeated
// in the caller.
func (l *Lab) Do(ns Namespace, f func() error) error {
	if !l.has(ns) {
		return fmt.Errorf("netlab: %q is not a namespace of this lab", ns.Name)
	}
	return doIn(ns.Name, f)
}

// Command returns a command that runs name with args inside ns through "ip
// netns exec" (which execs the program, so the PID is the program's). The
// program sees /etc/netns/NS/resolv.conf, if StartDNS wrote one, as
// /etc/resolv.conf. It leads a process group of its own and is killed
// should the test process die. The caller owns it: start it, stop it and
// wait for it (the lab's teardown kills, and reports as an error, any
// process it finds still inside a lab namespace). Start does all of that.
func (l *Lab) Command(ns Namespace, name string, args ...string) *exec.Cmd {
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns.Name, name}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	return cmd
}

// Run runs name with args inside ns (see Command) to its end, with stdin
// (if not empty) as its input, and kills it after 10 s. The error carries
// the program's output.
func (l *Lab) Run(ns Namespace, stdin, name string, args ...string) error {
	if !l.has(ns) {
		return fmt.Errorf("netlab: %q is not a namespace of this lab", ns.Name)
	}
	return run(stdin, "ip", append([]string{"netns", "exec", ns.Name, name}, args...)...)
}

// Start starts name with args inside ns (see Command), its output to a log
// file, and stops it in t.Cleanup (and at the lab's teardown at the latest).
// When the test failed, the teardown logs the end of its output.
func (l *Lab) Start(t testing.TB, ns Namespace, name string, args ...string) *Process {
	t.Helper()
	p, err := l.start(ns, name, args...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Stop(); err != nil {
			t.Error(err)
		}
	})
	return p
}

func (l *Lab) start(ns Namespace, name string, args ...string) (*Process, error) {
	if !l.has(ns) {
		return nil, fmt.Errorf("netlab: %q is not a namespace of this lab", ns.Name)
	}
	l.mu.Lock()
	logPath := filepath.Join(l.dir, fmt.Sprintf("%d-%s-%s.log", len(l.procs)+1, strings.TrimPrefix(ns.Name, l.name), filepath.Base(name)))
	l.mu.Unlock()
	p, err := startProcess(l.Command(ns, name, args...), name, logPath)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.procs = append(l.procs, p)
	l.mu.Unlock()
	return p, nil
}

// run runs a setup command (stdin, if not empty, as its input) with a
// deadline, returning its output in the error.
func run(stdin, name string, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// prefixed returns "ADDR/BITS" for an address in prefix p.
func prefixed(a netip.Addr, p netip.Prefix) string {
	return netip.PrefixFrom(a, p.Bits()).String()
}

// seconds returns d in whole seconds, rounded up.
func seconds(d time.Duration) string {
	return strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10)
}
