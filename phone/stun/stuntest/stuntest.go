// Package stuntest runs a STUN server (RFC 5389 Binding only) on 127.0.0.1
// for tests: the phone's STUN client, the SDP address it feeds, and
// "teaphone doctor" are tested against it.
package stuntest

import (
	"net"
	"net/netip"
	"sync/atomic"
	"testing"

	pion "github.com/pion/stun/v3"
)

// Answer builds the raw response to the n-th Binding request req (from
// 1) that came from src; nil drops the request.
type Answer func(n int, req *pion.Message, src *net.UDPAddr) []byte

// Server is a running test STUN server.
type Server struct {
	conn *net.UDPConn
	seen atomic.Int32
}

// Start runs a server answering with answer until the test ends; a nil
// answer gives every request a success with its source as the mapped
// address (what a server sees without NAT).
func Start(t testing.TB, answer Answer) *Server {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	if answer == nil {
		answer = func(_ int, req *pion.Message, src *net.UDPAddr) []byte {
			return Success(t, req, src.AddrPort())
		}
	}
	s := &Server{conn: conn}
	done := make(chan struct{})
	t.Cleanup(func() { conn.Close(); <-done })
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			n, src, err := conn.ReadFromUDP(buf)
			if err != nil {
				return
			}
			req := &pion.Message{Raw: append([]byte(nil), buf[:n]...)}
			if req.Decode() != nil {
				continue
			}
			if b := answer(int(s.seen.Add(1)), req, src); b != nil {
				_, _ = conn.WriteToUDP(b, src)
			}
		}
	}()
	return s
}

// Addr is the server's address.
func (s *Server) Addr() netip.AddrPort { return s.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

// Seen is how many Binding requests arrived.
func (s *Server) Seen() int { return int(s.seen.Load()) }

// Success is a Binding success to req with XOR-MAPPED-ADDRESS mapped and a
// FINGERPRINT.
func Success(t testing.TB, req *pion.Message, mapped netip.AddrPort) []byte {
	m, err := pion.Build(req, pion.BindingSuccess,
		&pion.XORMappedAddress{IP: mapped.Addr().Unmap().AsSlice(), Port: int(mapped.Port())}, pion.Fingerprint)
	if err != nil {
		t.Error(err)
		return nil
	}
	return m.Raw
}
