package phone

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// tcpRegistrar is a registrar on a bare TCP listener, scripted per
// connection: it answers every REGISTER 200 (Expires 60, or 0 as asked);
// it closes the first connection after its first 200 when closeFirst is
// set (closeDelay later), and then the listener too when gone is set (the
// server is gone);
// it answers the first pongs pings of each connection with a CRLF (all of
// them when pongs < 0) and ignores the rest.
type tcpRegistrar struct {
	addr       string
	closeFirst bool
	closeDelay time.Duration
	closeAll   bool // every connection, after its first 200
	gone       bool
	pongs      int
	tls        *tls.Config // serve TLS with it (set by configure)

	ln    net.Listener
	mu    sync.Mutex
	regs  []*sip.Request // Source: the connection's remote address
	pings int
	eofs  []string // remote addresses of connections the phone closed
	conns int
}

func newTCPRegistrar(t *testing.T, configure func(*tcpRegistrar)) *tcpRegistrar {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &tcpRegistrar{addr: ln.Addr().String(), ln: ln, pongs: -1}
	if configure != nil {
		configure(r)
	}
	if r.tls != nil {
		ln = tls.NewListener(ln, r.tls)
		r.ln = ln
	}
	var wg sync.WaitGroup
	var open sync.Map
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			r.mu.Lock()
			r.conns++
			first := r.conns == 1
			r.mu.Unlock()
			open.Store(c, true)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				r.serve(c, first)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		open.Range(func(k, _ any) bool { k.(net.Conn).Close(); return true })
		wg.Wait()
	})
	return r
}

// serve reads one connection; REGISTERs have no body, so a message ends
// at its blank line.
func (r *tcpRegistrar) serve(c net.Conn, first bool) {
	var pending []byte
	buf := make([]byte, 65535)
	pinged := 0
	for {
		n, err := c.Read(buf)
		if err != nil {
			r.mu.Lock()
			r.eofs = append(r.eofs, c.RemoteAddr().String())
			r.mu.Unlock()
			return
		}
		pending = append(pending, buf[:n]...)
		for {
			if bytes.HasPrefix(pending, crlfPing) {
				pending = pending[4:]
				r.mu.Lock()
				r.pings++
				r.mu.Unlock()
				if pinged++; r.pongs < 0 || pinged <= r.pongs {
					_, _ = c.Write([]byte("\r\n"))
				}
				continue
			}
			end := bytes.Index(pending, crlfPing)
			if end < 0 {
				break
			}
			res := r.answer(pending[:end+4], c.RemoteAddr().String())
			pending = pending[end+4:]
			if res == nil {
				continue
			}
			_, _ = c.Write(res)
			if (first && r.closeFirst) || r.closeAll {
				time.Sleep(r.closeDelay)
				if r.gone {
					r.ln.Close()
				}
				return
			}
		}
	}
}

func (r *tcpRegistrar) answer(data []byte, from string) []byte {
	msg, err := sip.ParseMessage(data)
	req, ok := msg.(*sip.Request)
	if err != nil || !ok || req.Method != sip.REGISTER {
		return nil
	}
	req.SetSource(from)
	r.mu.Lock()
	r.regs = append(r.regs, req)
	r.mu.Unlock()
	res := sip.NewResponseFromRequest(req, 200, "OK", nil)
	exp := sip.ExpiresHeader(60)
	if h := req.GetHeader("Expires"); h != nil && h.Value() == "0" {
		exp = 0
	}
	res.AppendHeader(&exp)
	return []byte(res.String())
}

// waitRegs waits until the registrar has n REGISTERs and returns them.
func (r *tcpRegistrar) waitRegs(t *testing.T, n int) []*sip.Request {
	t.Helper()
	for deadline := time.Now().Add(wait); ; time.Sleep(10 * time.Millisecond) {
		r.mu.Lock()
		regs := append([]*sip.Request(nil), r.regs...)
		r.mu.Unlock()
		if len(regs) >= n {
			return regs
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d REGISTERs at %s within %v, want %d", len(regs), r.addr, wait, n)
		}
	}
}

// regEvents returns the account's registration events so far.
func (tp *testPhone) regEvents() []RegistrationEvent {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	var out []RegistrationEvent
	for _, ev := range tp.events {
		if r, ok := ev.(RegistrationEvent); ok {
			out = append(out, r)
		}
	}
	return out
}

// waitRegistered waits for the n-th registered event.
func (tp *testPhone) waitRegistered(n int) RegistrationEvent {
	tp.t.Helper()
	var got RegistrationEvent
	seen := 0
	if !tp.waitFor(wait, func(ev Event) bool {
		if r, ok := ev.(RegistrationEvent); ok && r.State == RegRegistered {
			if seen++; seen == n {
				got = r
				return true
			}
		}
		return false
	}) {
		tp.t.Fatalf("no registered event number %d within %v: %s", n, wait, tp.dump())
	}
	return got
}

// TestTCPConnectionLost: a registrar that closes the registration's TCP
// connection gets a new REGISTER at once, on a new connection, long before
// the refresh (Expires 60); the UI is told "connection lost:
// re-registering" in between. When the server is gone with its
// connection, the next SRV target takes the registration.
func TestTCPConnectionLost(t *testing.T) {
	for _, delay := range []time.Duration{0, 500 * time.Millisecond} {
		t.Run(fmt.Sprintf("the registrar closes %v after the 200", delay), func(t *testing.T) {
			testConnectionClosed(t, delay)
		})
	}
	t.Run("the registrar closes every connection", func(t *testing.T) {
		reg := newTCPRegistrar(t, func(r *tcpRegistrar) { r.closeAll = true })
		newTestPhone(t, Options{
			Transports: []string{"tcp"},
			Accounts:   []Account{{Name: "t", AOR: "sip:alice@example.test", Registrar: "sip:" + reg.addr + ";transport=tcp", Register: true, Expires: time.Minute}},
		})
		reg.waitRegs(t, 2) // the first loss: at once
		time.Sleep(1500 * time.Millisecond)
		reg.mu.Lock()
		n := len(reg.regs)
		reg.mu.Unlock()
		if n != 2 {
			t.Errorf("%d REGISTERs 1.5 s after the second, want 2: a second loss in a row waits 2 s", n)
		}
		reg.waitRegs(t, 3)
	})
	t.Run("the server is gone", func(t *testing.T) {
		first := newTCPRegistrar(t, func(r *tcpRegistrar) { r.closeFirst, r.gone = true, true })
		second := newTCPRegistrar(t, nil)
		zone := fmt.Sprintf(`
			_sip._tcp.pbx.example.test. SRV 10 0 %d a.pbx.example.test.
			_sip._tcp.pbx.example.test. SRV 20 0 %d b.pbx.example.test.
			a.pbx.example.test. A 127.0.0.1
			b.pbx.example.test. A 127.0.0.1`, mustPort(first.addr), mustPort(second.addr))
		a := newTestPhone(t, Options{
			Transports: []string{"tcp"}, DNSServers: []string{dnsServer(t, zone)},
			Accounts: []Account{{Name: "t", AOR: "sip:alice@example.test", Registrar: "pbx.example.test", Register: true, Expires: time.Minute}},
		})
		if ev := a.waitRegistered(1); !strings.Contains(ev.Server, "a.pbx.example.test") {
			t.Fatalf("first registration at %q, want a.pbx.example.test", ev.Server)
		}
		second.waitRegs(t, 1)
		if ev := a.waitRegistered(2); !strings.Contains(ev.Server, "b.pbx.example.test") {
			t.Errorf("registration after the loss at %q, want b.pbx.example.test", ev.Server)
		}
		assertLostEvent(t, a, "connection lost: re-registering", "a.pbx.example.test")
	})
}

// testConnectionClosed: the registrar closes the registration's connection
// delay after its 200.
func testConnectionClosed(t *testing.T, delay time.Duration) {
	reg := newTCPRegistrar(t, func(r *tcpRegistrar) { r.closeFirst, r.closeDelay = true, delay })
	a := newTestPhone(t, Options{
		Transports: []string{"tcp"},
		Accounts:   []Account{{Name: "t", AOR: "sip:alice@example.test", Registrar: "sip:" + reg.addr + ";transport=tcp", Register: true, Expires: time.Minute}},
	})
	a.waitRegistered(1)
	start := time.Now()
	regs := reg.waitRegs(t, 2)
	t.Logf("second REGISTER %v after the first registration", time.Since(start))
	if regs[1].Source() == regs[0].Source() {
		t.Errorf("second REGISTER on the closed connection %s, want a new one", regs[0].Source())
	}
	if regs[1].CallID().Value() != regs[0].CallID().Value() || regs[1].CSeq().SeqNo <= regs[0].CSeq().SeqNo {
		t.Errorf("re-REGISTER is not the next request of the registration")
	}
	a.waitRegistered(2)
	assertLostEvent(t, a, "connection lost: re-registering", reg.addr)
}

// assertLostEvent checks that the events go registered, registering with
// reason (naming server), registered.
func assertLostEvent(t *testing.T, a *testPhone, reason, server string) {
	t.Helper()
	var states []string
	found := false
	for _, ev := range a.regEvents() {
		states = append(states, ev.State.String())
		if ev.State == RegRegistering && ev.Reason == reason && strings.Contains(ev.Server, server) {
			found = true
		}
	}
	if !found {
		t.Errorf("no registering event with reason %q and server %s: %s", reason, server, a.dump())
	}
	if got := strings.Join(states, " "); !strings.Contains(got, "registered registering registered") {
		t.Errorf("registration states %q, want registered, registering, registered", got)
	}
}

// TestTCPPongMissing: RFC 5626 §4.4.1. A registrar that has answered pings
// with pongs and then stops gets its flow failed once a pong is overdue:
// the phone closes the connection and re-registers on a new one. One that
// never answered a ping is not expected to: its flow stays.
func TestTCPPongMissing(t *testing.T) {
	const every = 100 * time.Millisecond
	start := func(t *testing.T, pongs int) (*testPhone, *tcpRegistrar) {
		reg := newTCPRegistrar(t, func(r *tcpRegistrar) { r.pongs = pongs })
		a := newTestPhone(t, Options{
			Transports: []string{"tcp"},
			NAT:        NATOptions{KeepAlive: every, pongTimeout: 3 * every},
			Accounts:   []Account{{Name: "t", AOR: "sip:alice@example.test", Registrar: "sip:" + reg.addr + ";transport=tcp", Register: true, Expires: time.Minute}},
		})
		a.waitRegistered(1)
		return a, reg
	}
	t.Run("pongs stop", func(t *testing.T) {
		a, reg := start(t, 2)
		regs := reg.waitRegs(t, 2)
		if regs[1].Source() == regs[0].Source() {
			t.Errorf("re-REGISTER on the old connection %s", regs[0].Source())
		}
		reg.mu.Lock()
		eofs, pings := reg.eofs, reg.pings
		reg.mu.Unlock()
		if len(eofs) == 0 || eofs[0] != regs[0].Source() {
			t.Errorf("connections closed by the phone %q, want %s", eofs, regs[0].Source())
		}
		if pings < 3 {
			t.Errorf("%d pings before the flow failed, want 2 answered and 1 not", pings)
		}
		a.waitRegistered(2)
		assertLostEvent(t, a, "keep-alive pong missing for 300ms: connection closed: re-registering", reg.addr)
	})
	t.Run("never a pong", func(t *testing.T) {
		_, reg := start(t, 0)
		for deadline := time.Now().Add(wait); ; time.Sleep(10 * time.Millisecond) {
			reg.mu.Lock()
			pings := reg.pings
			reg.mu.Unlock()
			if pings >= 8 { // 800 ms: past the 300 ms a pong would be due in
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d pings within %v", pings, wait)
			}
		}
		reg.mu.Lock()
		defer reg.mu.Unlock()
		if len(reg.regs) != 1 || len(reg.eofs) != 0 {
			t.Errorf("%d REGISTERs and %d connections closed, want 1 and 0: a registrar that never answered pings is not expected to", len(reg.regs), len(reg.eofs))
		}
	})
}

// TestPongTrackerFilter: only a read of exactly one CRLF on a watched TCP
// connection counts as a pong, and every read passes on unchanged.
func TestPongTrackerFilter(t *testing.T) {
	local := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5060}
	remote := &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 5061}
	other := &net.TCPAddr{IP: net.IPv4(192, 0, 2, 2), Port: 5061}
	tr := newPongTracker()
	key := flowKey(local, remote)
	tr.watch(key)
	for _, tc := range []struct {
		name      string
		transport string
		remote    net.Addr
		data      string
		want      int // count after this read
	}{
		{"pong", "TCP", remote, "\r\n", 1},
		{"ping echoed back is not a pong", "TCP", remote, "\r\n\r\n", 1},
		{"message", "TCP", remote, "SIP/2.0 200 OK\r\n", 1},
		{"udp", "UDP", remote, "\r\n", 1},
		{"unwatched connection", "TCP", other, "\r\n", 1},
		{"nil address", "TCP", nil, "\r\n", 1},
		{"second pong", "TCP", remote, "\r\n", 2},
	} {
		out, err := tr.filter(sip.TransportReadProps{Transport: tc.transport, LocalAddr: local, RemoteAddr: tc.remote}, []byte(tc.data))
		if err != nil || string(out) != tc.data {
			t.Errorf("%s: filter returned %q, %v; want the data unchanged", tc.name, out, err)
		}
		if got := tr.count(key); got != tc.want {
			t.Errorf("%s: %d pongs, want %d", tc.name, got, tc.want)
		}
	}
	if got := tr.count(flowKey(local, other)); got != 0 {
		t.Errorf("unwatched connection counted %d pongs", got)
	}
	tr.forget(key)
	if _, _ = tr.filter(sip.TransportReadProps{Transport: "TCP", LocalAddr: local, RemoteAddr: remote}, []byte("\r\n")); tr.count(key) != 0 || len(tr.flows) != 0 {
		t.Errorf("a forgotten flow is still counted: %v", tr.flows)
	}
}
