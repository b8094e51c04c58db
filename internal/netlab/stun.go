//go:build linux

package netlab

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/teaphone/teaphone/phone/stun"
)

// stunReadyTimeout bounds how long StartSTUN waits for an answer.
const stunReadyTimeout = 10 * time.Second

// StartSTUN starts a STUN server (RFC 5389) inside ns: coturn's turnserver
// with --stun-only, no configuration file, no TLS/DTLS, no CLI, on ns.Addr
// port 3478 (UDP and TCP). It waits until the server answers a Binding
// request from inside ns and returns its address; the server is stopped in
// t.Cleanup. It skips (or under CI=true fails) the test when coturn is not
// installed.
func (l *Lab) StartSTUN(t testing.TB, ns Namespace) netip.AddrPort {
	t.Helper()
	need(t, "turnserver")
	addr := netip.AddrPortFrom(ns.Addr, stun.DefaultPort)
	p := l.Start(t, ns, "turnserver", "-n", "--stun-only", "--no-cli", "--no-tls", "--no-dtls",
		"-L", ns.Addr.String(), "-p", fmt.Sprint(stun.DefaultPort),
		"--log-file", "stdout", "--simple-log",
		"--pidfile", filepath.Join(l.dir, "turnserver-"+ns.Name+".pid"))
	deadline := time.Now().Add(stunReadyTimeout)
	var err error
	for time.Now().Before(deadline) {
		if p.Exited() {
			t.Fatalf("netlab: turnserver exited (%s):\n%s", p.ExitStatus(), p.Log())
		}
		if err = l.stunAsk(ns, addr); err == nil {
			return addr
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("netlab: STUN server on %v never answered: %v\n%s", addr, err, p.Log())
	return addr
}

// stunAsk sends one Binding request to server from a socket inside ns.
func (l *Lab) stunAsk(ns Namespace, server netip.AddrPort) error {
	var conn *net.UDPConn
	if err := l.Do(ns, func() error {
		var err error
		conn, err = net.ListenUDP("udp4", &net.UDPAddr{IP: ns.Addr.AsSlice()})
		return err
	}); err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err := stun.Bind(ctx, conn, server, 100*time.Millisecond)
	return err
}
