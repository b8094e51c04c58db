// Package netlab builds a network lab in Linux network namespaces, for tests
// that must show a phone working behind a NAT router and finding its
// provider through DNS, on one machine and without touching the machine's
// own network.
//
// A lab is:
//
//	LAN namespace          router namespace                  internet namespace
//	eth0 10.77.0.2/24 ──── lan 10.77.0.1/24                  br0 198.51.100.254/24
//	(the phone)            wan 198.51.100.1/24 ─────────────  ├─ host "provider" 198.51.100.10
//	                       NAT (nftables), forwarding,        ├─ host "bob"      198.51.100.11
//	                       short UDP conntrack timeouts       └─ …  (AddHost, each its own namespace)
//
// 198.51.100.0/24 (TEST-NET-2) and 10.77.0.0/24 exist only inside the lab.
// No namespace has a link to the machine's own network nor a route beyond
// these two networks; the LAN routes only 198.51.100.0/24, through the
// router, and the internet has no route to the LAN, so replies reach the
// phone only through the router's NAT. The router drops unsolicited inbound
// packets before conntrack confirms them, so a stray packet never takes a
// public port.
//
// Code runs inside a namespace in two ways. Do runs a Go function on an OS
// thread moved into the namespace: sockets opened there (a sipgo phone's,
// an echo server's) stay in that namespace for their whole life, whichever
// goroutine uses them later. Command and Start run a program through "ip
// netns exec", which also bind-mounts /etc/netns/NAME/resolv.conf (written
// by StartDNS) over /etc/resolv.conf for that program.
//
// Only what runs on Do's own thread is inside the namespace: goroutines that
// f or the code it calls start run on other threads, in the machine's own
// namespace. That matters for DNS. Go's resolver (net.DefaultResolver, also
// within Do) reads the machine's /etc/resolv.conf, since setns moves a
// thread's network but not the process's files; its SRV lookup then fails
// inside the namespace (the machine's nameserver is unreachable from there),
// and worse, its host lookup runs the A and AAAA queries on goroutines of
// their own, which ask the machine's real nameserver from outside the lab.
// The same holds for any socket a library opens later from its own
// goroutines (a TCP dial, say): open sockets inside Do, or run the program
// with Command. For Go code of the test process use Lab.Resolver(ns): its
// Dial opens every DNS socket inside ns and sends every query to the lab's
// dnsmasq, whatever the machine's resolv.conf says.
//
// Only one lab exists on a machine at a time: New takes a flock on
// /run/teaphone-netlab.lock (waiting up to LockTimeout), then deletes what a
// killed earlier run left (namespaces named with Prefix, their processes,
// their /etc/netns directories). The teardown, in t.Cleanup, also runs when
// the test fails: it stops the lab's processes by PID, kills (and reports)
// any other process still inside a lab namespace, deletes the namespaces and
// the /etc/netns directories, and releases the lock.
//
// Building a lab needs root and the programs ip (iproute2) and nft
// (nftables), and StartDNS needs dnsmasq (dnsmasq-base); without them the
// test is skipped, except when the environment variable CI is "true", where
// it fails. Every wait in the package has a deadline.
//
// New, AddHost, Start and StartDNS must be called from the test goroutine
// (they may call t.Fatal or t.Skip); Do, Command and Resolver may be used
// from any goroutine.
package netlab
