package phone

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// natPeer makes fp a registrar and a callee: REGISTER gets 200 (Expires as
// asked), an INVITE to user "ring" rings until it is cancelled (the CANCEL
// is recorded), any other INVITE or re-INVITE gets 200 with SDP and
// Contact contact (fp's own address when zero), and ACK, BYE and INFO are
// recorded (BYE and INFO answered 200).
func natPeer(fp *fakePeer, srv *sipgo.Server, contact sip.Uri) {
	srv.OnRegister(func(req *sip.Request, tx sip.ServerTransaction) {
		fp.record(req)
		res := sip.NewResponseFromRequest(req, 200, "OK", nil)
		exp := sip.ExpiresHeader(60)
		if h := req.GetHeader("Expires"); h != nil && h.Value() == "0" {
			exp = 0
		}
		res.AppendHeader(&exp)
		_ = tx.Respond(res)
	})
	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		fp.record(req)
		if req.Recipient.User == "ring" {
			tx.OnCancel(func(r *sip.Request) { fp.record(r) })
			_ = tx.Respond(sip.NewResponseFromRequest(req, 180, "Ringing", nil))
			select {
			case <-tx.Done():
			case <-time.After(wait):
			}
			return
		}
		ct := contact
		if ct.Host == "" {
			ct = sip.Uri{Scheme: "sip", User: "peer", Host: "127.0.0.1", Port: mustPort(fp.addr)}
		}
		res := sip.NewResponseFromRequest(req, 200, "OK", peerSDP())
		if _, ok := req.To().Params.Get("tag"); !ok {
			res.To().Params.Add("tag", "peertag")
		}
		res.AppendHeader(&sip.ContactHeader{Address: ct})
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		_ = tx.Respond(res)
	})
	srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) { fp.record(req) })
	for _, m := range []sip.RequestMethod{sip.BYE, sip.INFO} {
		srv.OnRequest(m, func(req *sip.Request, tx sip.ServerTransaction) {
			fp.record(req)
			_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
		})
	}
}

// waitRequests waits until fp has recorded n requests of method.
func (fp *fakePeer) waitRequests(t *testing.T, method sip.RequestMethod, n int) []*sip.Request {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		reqs := fp.requests(method)
		if len(reqs) >= n {
			return reqs
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d %s requests within %v, want %d", len(reqs), method, wait, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRportOnEveryRequest: every request the phone sends, whatever path
// builds it, asks for rport in its Via (RFC 3581 §3): REGISTER, INVITE, the
// ACK of its 2xx, a re-INVITE and its ACK, INFO, BYE from the caller's
// dialog, CANCEL, and BYE from the callee's dialog.
func TestRportOnEveryRequest(t *testing.T) {
	fp := newFakePeer(t, func(fp *fakePeer, srv *sipgo.Server) { natPeer(fp, srv, sip.Uri{}) })
	a := newTestPhone(t, Options{
		DTMFInfo: true,
		Handler:  HandlerFunc(func(IncomingCall) Decision { return Accept() }),
		Accounts: []Account{{Name: "t", AOR: "sip:alice@" + fp.addr, Register: true, Expires: time.Minute}},
	})
	fp.waitRequests(t, sip.REGISTER, 1)

	// Caller: INVITE, ACK, re-INVITE, its ACK, INFO, BYE.
	id, err := a.Dial(context.Background(), "sip:answer@"+fp.addr, DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a.waitCall(id, StateActive, wait)
	if err := a.Hold(id); err != nil {
		t.Fatal(err)
	}
	if err := a.SendDTMF(id, "1"); err != nil {
		t.Fatal(err)
	}
	a.waitFor(wait, func(ev Event) bool { e, ok := ev.(DTMFEvent); return ok && !e.Received })
	if err := a.Hangup(id); err != nil {
		t.Fatal(err)
	}
	a.waitCall(id, StateTerminated, wait)

	// CANCEL.
	id, err = a.Dial(context.Background(), "sip:ring@"+fp.addr, DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a.waitCall(id, StateRinging, wait)
	if err := a.Hangup(id); err != nil {
		t.Fatal(err)
	}
	fp.waitRequests(t, sip.CANCEL, 1)

	// Callee: the BYE of the dialog the far end created (called as the
	// registrar would: at the registered Contact's user).
	_, in := callPhone(t, fp, a, a.Phone.accounts[0].token, sip.Uri{})
	if err := a.Hangup(in); err != nil {
		t.Fatal(err)
	}
	fp.waitRequests(t, sip.BYE, 2)

	want := map[sip.RequestMethod]int{sip.REGISTER: 1, sip.INVITE: 3, sip.ACK: 2, sip.INFO: 1, sip.BYE: 2, sip.CANCEL: 1}
	for m, n := range want {
		reqs := fp.requests(m)
		if len(reqs) < n {
			t.Errorf("%d %s requests, want %d", len(reqs), m, n)
		}
		for i, r := range reqs {
			if v := r.Via(); v == nil || !v.Params.Has("rport") {
				t.Errorf("%s #%d: Via %v has no rport", m, i, v)
			}
		}
	}
}

// TestInDialogRequestsLeaveFromTheListener: requests to a remote target
// that never sent us anything (a Contact on another port than the INVITE's
// or the 200's source) leave from the phone's listening socket, as the
// initial requests do: a NAT binding or a peer's symmetric-response logic
// only knows that port. Both dialog roles are covered: re-INVITE, its ACK,
// INFO and BYE as caller; BYE as callee.
func TestInDialogRequestsLeaveFromTheListener(t *testing.T) {
	target := newFakePeer(t, func(fp *fakePeer, srv *sipgo.Server) { natPeer(fp, srv, sip.Uri{}) })
	targetURI := sip.Uri{Scheme: "sip", User: "peer", Host: "127.0.0.1", Port: mustPort(target.addr)}
	front := newFakePeer(t, func(fp *fakePeer, srv *sipgo.Server) { natPeer(fp, srv, targetURI) })
	a := newTestPhone(t, Options{
		DTMFInfo: true,
		Handler:  HandlerFunc(func(IncomingCall) Decision { return Accept() }),
	})

	id, err := a.Dial(context.Background(), "sip:answer@"+front.addr, DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a.waitCall(id, StateActive, wait)
	if err := a.Hold(id); err != nil {
		t.Fatal(err)
	}
	if err := a.SendDTMF(id, "1"); err != nil {
		t.Fatal(err)
	}
	a.waitFor(wait, func(ev Event) bool { e, ok := ev.(DTMFEvent); return ok && !e.Received })
	if err := a.Hangup(id); err != nil {
		t.Fatal(err)
	}
	a.waitCall(id, StateTerminated, wait)

	_, in := callPhone(t, front, a, "bob", targetURI)
	if err := a.Hangup(in); err != nil {
		t.Fatal(err)
	}
	target.waitRequests(t, sip.BYE, 2)

	port := mustPort(a.LocalAddr())
	for m, n := range map[sip.RequestMethod]int{sip.INVITE: 1, sip.ACK: 1, sip.INFO: 1, sip.BYE: 2} {
		reqs := target.requests(m)
		if len(reqs) < n {
			t.Errorf("%d %s requests at the remote target, want %d", len(reqs), m, n)
		}
		for i, r := range reqs {
			if got := mustPort(r.Source()); got != port {
				t.Errorf("%s #%d came from port %d (%s), want the listening port %d", m, i, got, r.Source(), port)
			}
		}
	}
}

func TestNATRewrite(t *testing.T) {
	via := func(s string) *sip.ViaHeader {
		h := &sip.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: "UDP", Host: "192.168.1.10", Port: 5060, Params: sip.NewParams()}
		for _, kv := range strings.Split(s, ";") {
			if k, v, _ := strings.Cut(kv, "="); k != "" {
				h.Params.Add(k, v)
			}
		}
		return h
	}
	lan := netip.MustParseAddrPort("192.168.1.10:5060")
	pub := netip.MustParseAddrPort("198.51.100.20:5060")
	server := netip.MustParseAddr("203.0.113.1")
	for _, tc := range []struct {
		name      string
		contact   netip.AddrPort
		transport string
		via       *sip.ViaHeader
		server    netip.Addr
		want      string // the new Contact address, "" for none
		err       bool
	}{
		{"no Via", lan, "UDP", nil, server, "", false},
		{"no received, no rport value", lan, "UDP", via("rport"), server, "", false},
		{"same address", lan, "UDP", via("received=192.168.1.10;rport=5060"), server, "", false},
		{"behind NAT", lan, "UDP", via("received=203.0.113.7;rport=40000"), server, "203.0.113.7:40000", false},
		{"received only", lan, "UDP", via("received=203.0.113.7"), server, "203.0.113.7:5060", false},
		{"rport only: same private host, other port", lan, "UDP", via("rport=40000"), server, "", false},
		{"port-preserving NAT, other port", lan, "UDP", via("received=203.0.113.7;rport=5060"), server, "203.0.113.7:5060", false},
		{"IPv4-mapped received", lan, "UDP", via("received=::ffff:203.0.113.7;rport=40000"), server, "203.0.113.7:40000", false},
		{"public Contact and registrar, private received", pub, "UDP", via("received=10.0.0.1;rport=5060"), server, "", false},
		{"private received, private registrar", lan, "UDP", via("received=10.0.0.1;rport=5060"), netip.MustParseAddr("10.0.0.254"), "10.0.0.1:5060", false},
		{"same private host, other port", lan, "UDP", via("received=192.168.1.10;rport=6000"), server, "", false},
		{"same public host, other port", pub, "UDP", via("received=198.51.100.20;rport=6000"), server, "198.51.100.20:6000", false},
		{"TCP: the connection's port alone", pub, "TCP", via("received=198.51.100.20;rport=49152"), server, "", false},
		{"TCP behind NAT", lan, "TCP", via("received=203.0.113.7;rport=49152"), server, "203.0.113.7:49152", false},
		{"carrier-grade NAT address kept out", pub, "UDP", via("received=100.64.1.2;rport=5060"), server, "", false},
		{"garbage received", lan, "UDP", via("received=not-an-ip;rport=40000"), server, "", true},
		{"empty received", lan, "UDP", via("received=;rport=40000"), server, "", true},
		{"rport zero", lan, "UDP", via("received=203.0.113.7;rport=0"), server, "", true},
		{"rport too big", lan, "UDP", via("received=203.0.113.7;rport=70000"), server, "", true},
		{"rport not a number", lan, "UDP", via("received=203.0.113.7;rport=40000x"), server, "", true},
		{"rport negative", lan, "UDP", via("received=203.0.113.7;rport=-1"), server, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, rewrite, err := natRewrite(tc.contact, tc.transport, tc.via, tc.server)
			if (err != nil) != tc.err {
				t.Fatalf("err = %v, want error %v", err, tc.err)
			}
			gotS := ""
			if rewrite {
				gotS = got.String()
			}
			if gotS != tc.want {
				t.Errorf("rewrite to %q, want %q", gotS, tc.want)
			}
		})
	}
}

// lockedBuffer collects a logger's output across goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// natRegistrar makes fp answer REGISTER 200 (Expires 60, or 0 as asked)
// with received and rport set in the response's Via, as a registrar does
// for a phone behind a NAT ("" leaves the parameter as the request had it).
func natRegistrar(fp *fakePeer, srv *sipgo.Server, received, rport string) {
	natPeer(fp, srv, sip.Uri{})
	srv.OnRegister(func(req *sip.Request, tx sip.ServerTransaction) {
		fp.record(req)
		res := sip.NewResponseFromRequest(req, 200, "OK", nil)
		if received != "" {
			res.Via().Params.Add("received", received)
		}
		if rport != "" {
			res.Via().Params.Add("rport", rport)
		}
		exp := sip.ExpiresHeader(60)
		if h := req.GetHeader("Expires"); h != nil && h.Value() == "0" {
			exp = 0
		}
		res.AppendHeader(&exp)
		_ = tx.Respond(res)
	})
}

// natPhone starts a phone with one account registering at fp and waits
// until it is registered.
func natPhone(t *testing.T, fp *fakePeer, nat NATOptions, log *lockedBuffer) *testPhone {
	t.Helper()
	opts := Options{
		NAT:      nat,
		Handler:  HandlerFunc(func(IncomingCall) Decision { return Accept() }),
		Accounts: []Account{{Name: "t", AOR: "sip:alice@" + fp.addr, Register: true, Expires: time.Minute}},
	}
	if log != nil {
		opts.Logger = slog.New(slog.NewTextHandler(log, nil))
	}
	a := newTestPhone(t, opts)
	if !a.waitFor(wait, func(ev Event) bool { r, ok := ev.(RegistrationEvent); return ok && r.State == RegRegistered }) {
		t.Fatalf("never registered: %s", a.dump())
	}
	return a
}

func contacts(r *sip.Request) []string {
	var out []string
	for _, h := range r.GetHeaders("Contact") {
		out = append(out, h.Value())
	}
	return out
}

// TestContactRewrite: a registrar that saw the REGISTER come from
// 203.0.113.7:40000 (received, rport) gets, in the same registration
// (Call-ID), a REGISTER binding sip:TOKEN@203.0.113.7:40000 and removing
// the private Contact (expires=0), pjsua's default rewrite. The account's
// INVITEs and 200s carry the public Contact from then on, and Close
// un-registers it.
func TestContactRewrite(t *testing.T) {
	fp := newFakePeer(t, func(fp *fakePeer, srv *sipgo.Server) { natRegistrar(fp, srv, "203.0.113.7", "40000") })
	a := natPhone(t, fp, NATOptions{ContactRewrite: true}, nil)
	token := a.Phone.accounts[0].token // the registered Contact's user (contactuser.go)
	private := "<sip:" + token + "@" + a.LocalAddr() + ">"
	public := "<sip:" + token + "@203.0.113.7:40000>"

	regs := fp.requests(sip.REGISTER)
	if len(regs) != 2 {
		t.Fatalf("%d REGISTERs before the registered event, want the first and the rewrite", len(regs))
	}
	for i, r := range regs {
		t.Logf("REGISTER %d: %s | Contact: %s", i, r.Via().Value(), strings.Join(contacts(r), ", "))
	}
	if got := contacts(regs[0]); len(got) != 1 || got[0] != private {
		t.Errorf("first REGISTER Contact %q, want %s", got, private)
	}
	if got := contacts(regs[1]); len(got) != 2 || got[0] != public || got[1] != private+";expires=0" {
		t.Errorf("rewrite REGISTER Contact %q, want %s and %s;expires=0", got, public, private)
	}
	if regs[1].CallID().Value() != regs[0].CallID().Value() || regs[1].CSeq().SeqNo <= regs[0].CSeq().SeqNo {
		t.Errorf("rewrite REGISTER is not the next request of the registration: Call-ID %s CSeq %d after %s %d",
			regs[1].CallID().Value(), regs[1].CSeq().SeqNo, regs[0].CallID().Value(), regs[0].CSeq().SeqNo)
	}
	if h := regs[1].GetHeader("Expires"); h == nil || h.Value() != "60" {
		t.Errorf("rewrite REGISTER Expires %v, want 60", h)
	}
	// The registered event says where the registrar saw us (for "teaphone doctor").
	if !a.waitFor(wait, func(ev Event) bool {
		r, ok := ev.(RegistrationEvent)
		return ok && r.State == RegRegistered && r.Public == netip.MustParseAddrPort("203.0.113.7:40000")
	}) {
		t.Errorf("no registered event with Public 203.0.113.7:40000: %s", a.dump())
	}

	id, err := a.Dial(context.Background(), "sip:answer@"+fp.addr, DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a.waitCall(id, StateActive, wait)
	if err := a.Hangup(id); err != nil {
		t.Fatal(err)
	}
	a.waitCall(id, StateTerminated, wait)
	invs := fp.requests(sip.INVITE)
	t.Logf("INVITE: %s | Contact: %s", invs[0].Via().Value(), strings.Join(contacts(invs[0]), ", "))
	if got := contacts(invs[0]); len(got) != 1 || got[0] != public {
		t.Errorf("INVITE Contact %q, want %s", got, public)
	}
	if got := contacts(fp.waitRequests(t, sip.BYE, 1)[0]); len(got) != 1 || got[0] != public {
		t.Errorf("BYE Contact %q, want %s", got, public)
	}

	dua := sipgo.DialogUA{Client: fp.cli, ContactHDR: sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "peer", Host: "127.0.0.1", Port: mustPort(fp.addr)}}}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	// The registrar sends calls to the Contact it holds: the token's.
	inv := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: token, Host: "127.0.0.1", Port: mustPort(a.LocalAddr())})
	inv.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	inv.SetBody(peerSDP())
	cs, err := dua.WriteInvite(ctx, inv)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	if err := cs.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		t.Fatal(err)
	}
	_ = cs.Ack(ctx)
	if ct := cs.InviteResponse.Contact(); ct == nil || ct.Value() != public {
		t.Errorf("200 to an incoming INVITE has Contact %v, want %s", ct, public)
	}

	a.Close()
	regs = fp.requests(sip.REGISTER)
	last := regs[len(regs)-1]
	if got := contacts(last); last.GetHeader("Expires").Value() != "0" || len(got) != 1 || got[0] != public {
		t.Errorf("un-REGISTER: Contact %q Expires %s, want %s and 0", got, last.GetHeader("Expires").Value(), public)
	}
}

// TestContactNotRewritten: a received that is not an address or an rport
// that is not a port leaves the Contact alone with a warning in the log,
// and so does a phone with the rewrite off.
func TestContactNotRewritten(t *testing.T) {
	for _, tc := range []struct {
		name, received, rport string
		nat                   NATOptions
		warn                  string
	}{
		{"garbage received", "not-an-ip", "40000", NATOptions{ContactRewrite: true}, `via received \"not-an-ip\" is not an IP address`},
		{"rport out of range", "203.0.113.7", "70000", NATOptions{ContactRewrite: true}, `via rport \"70000\" is not a port number`},
		{"rewrite off", "203.0.113.7", "40000", NATOptions{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fp := newFakePeer(t, func(fp *fakePeer, srv *sipgo.Server) { natRegistrar(fp, srv, tc.received, tc.rport) })
			var log lockedBuffer
			a := natPhone(t, fp, tc.nat, &log)
			regs := fp.requests(sip.REGISTER)
			if len(regs) != 1 {
				t.Fatalf("%d REGISTERs, want 1 (no rewrite)", len(regs))
			}
			if got, want := contacts(regs[0]), "<sip:"+a.Phone.accounts[0].token+"@"+a.LocalAddr()+">"; len(got) != 1 || got[0] != want {
				t.Errorf("Contact %q, want %s", got, want)
			}
			if tc.warn != "" && !strings.Contains(log.String(), tc.warn) {
				t.Errorf("log has no warning %q:\n%s", tc.warn, log.String())
			}
		})
	}
}

// rawRegistrar is a registrar on a bare socket, so that it also sees what
// a SIP stack drops: keep-alives. It answers every REGISTER 200 (Expires
// 60, or 0 as asked) and, over TCP, every double-CRLF ping with a CRLF.
type rawRegistrar struct {
	addr  string
	mu    sync.Mutex
	regs  []*sip.Request
	pings []string // remote address of each keep-alive
}

func (r *rawRegistrar) answer(data []byte, from string) []byte {
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

func (r *rawRegistrar) ping(from string) {
	r.mu.Lock()
	r.pings = append(r.pings, from)
	r.mu.Unlock()
}

func (r *rawRegistrar) counts() (regs, pings int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.regs), len(r.pings)
}

// newRawUDPRegistrar serves on 127.0.0.1; a datagram of CRLFs only is a keep-alive.
func newRawUDPRegistrar(t *testing.T) *rawRegistrar {
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &rawRegistrar{addr: conn.LocalAddr().String()}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 65535)
		for {
			n, from, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			if len(bytes.Trim(buf[:n], "\r\n")) == 0 {
				if string(buf[:n]) == "\r\n\r\n" {
					r.ping(from.String())
				}
				continue
			}
			if res := r.answer(buf[:n], from.String()); res != nil {
				_, _ = conn.WriteTo(res, from)
			}
		}
	}()
	t.Cleanup(func() { conn.Close(); <-done })
	return r
}

// newRawTCPRegistrar serves one connection at a time on 127.0.0.1;
// REGISTERs have no body, so a message ends at its blank line.
func newRawTCPRegistrar(t *testing.T) *rawRegistrar {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &rawRegistrar{addr: ln.Addr().String()}
	var wg sync.WaitGroup
	var conns sync.Map
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Store(c, true)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				var pending []byte
				buf := make([]byte, 65535)
				for {
					n, err := c.Read(buf)
					if err != nil {
						return
					}
					pending = append(pending, buf[:n]...)
					for {
						if bytes.HasPrefix(pending, []byte("\r\n\r\n")) {
							r.ping(c.RemoteAddr().String())
							_, _ = c.Write([]byte("\r\n"))
							pending = pending[4:]
							continue
						}
						end := bytes.Index(pending, []byte("\r\n\r\n"))
						if end < 0 {
							break
						}
						if res := r.answer(pending[:end+4], c.RemoteAddr().String()); res != nil {
							_, _ = c.Write(res)
						}
						pending = pending[end+4:]
					}
				}
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		conns.Range(func(k, _ any) bool { k.(net.Conn).Close(); return true })
		wg.Wait()
	})
	return r
}

// TestKeepAlive: a registered account sends a double CRLF to its
// registrar every nat.keepalive, over UDP from the SIP listening port and
// over TCP on the registration's connection (RFC 5626 §4.4.1), and stops
// once the phone closes (after its un-REGISTER); with 0 it sends none.
func TestKeepAlive(t *testing.T) {
	const every = 200 * time.Millisecond
	for _, tc := range []struct {
		name      string
		transport string
		keepAlive time.Duration
		want      int // at least this many keep-alives in the window
	}{
		{"udp", "udp", every, 3},
		{"tcp", "tcp", every, 3},
		{"off", "udp", 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var reg *rawRegistrar
			registrar := ""
			if tc.transport == "tcp" {
				reg = newRawTCPRegistrar(t)
				registrar = "sip:" + reg.addr + ";transport=tcp"
			} else {
				reg = newRawUDPRegistrar(t)
				registrar = reg.addr
			}
			a := newTestPhone(t, Options{
				NAT:      NATOptions{KeepAlive: tc.keepAlive},
				Accounts: []Account{{Name: "t", AOR: "sip:alice@example.test", Registrar: registrar, Register: true, Expires: time.Minute}},
			})
			if !a.waitFor(wait, func(ev Event) bool { r, ok := ev.(RegistrationEvent); return ok && r.State == RegRegistered }) {
				t.Fatalf("never registered: %s", a.dump())
			}
			time.Sleep(time.Duration(tc.want+1) * every)
			if tc.want == 0 {
				time.Sleep(3 * every)
			}
			a.Close()
			regs, pings := reg.counts()
			if pings < tc.want || (tc.want == 0 && pings != 0) {
				t.Errorf("%d keep-alives, want %d or more (0 when off)", pings, tc.want)
			}
			if regs != 2 {
				t.Errorf("%d REGISTERs, want the registration and the un-REGISTER", regs)
			}
			reg.mu.Lock()
			for i, from := range reg.pings {
				if tc.transport == "udp" && mustPort(from) != mustPort(a.LocalAddr()) {
					t.Errorf("keep-alive %d from %s, want the SIP listening port %d", i, from, mustPort(a.LocalAddr()))
				}
				if tc.transport == "tcp" && from != reg.regs[0].Source() {
					t.Errorf("keep-alive %d on connection from %s, want the REGISTER's %s", i, from, reg.regs[0].Source())
				}
			}
			reg.mu.Unlock()
			time.Sleep(2 * every)
			if _, after := reg.counts(); after != pings {
				t.Errorf("%d keep-alives after Close", after-pings)
			}
		})
	}
}
