package stun

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"

	pion "github.com/pion/stun/v3"
)

// Retransmission defaults of RFC 5389 §7.2.1: the first request is resent
// after RTO, each wait doubling, Rc requests in all; after the last the
// client waits Rm·RTO.
const (
	DefaultRTO = 500 * time.Millisecond
	rc         = 7
	rm         = 16
)

// ErrTimeout is returned when no answer came before the context ended or
// the retransmissions ran out.
var ErrTimeout = errors.New("stun: no answer")

// maxMessage bounds what we read: a Binding response is under 100 bytes.
const maxMessage = 1500

// Bind sends a Binding request from conn to server and returns the mapped
// address of the success response (XOR-MAPPED-ADDRESS, or MAPPED-ADDRESS
// from an RFC 3489 server). Requests are retransmitted as RFC 5389 §7.2.1
// says, starting at rto (DefaultRTO if 0), until ctx ends.
//
// Nobody else may read conn meanwhile: Bind reads it, discards packets that
// are not the answer (from another address, not STUN, another
// transaction), and leaves it with no read deadline.
func Bind(ctx context.Context, conn *net.UDPConn, server netip.AddrPort, rto time.Duration) (netip.AddrPort, error) {
	if rto <= 0 {
		rto = DefaultRTO
	}
	req, err := pion.Build(pion.TransactionID, pion.BindingRequest, pion.Fingerprint)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("stun: building request: %w", err)
	}
	defer func() { _ = conn.SetReadDeadline(time.Time{}) }()
	dst := net.UDPAddrFromAddrPort(server)
	buf := make([]byte, maxMessage)
	wait := rto
	for i := 0; i < rc; i++ {
		if _, err := conn.WriteToUDP(req.Raw, dst); err != nil {
			return netip.AddrPort{}, fmt.Errorf("stun: request to %s: %w", server, err)
		}
		if i == rc-1 {
			wait = rm * rto
		}
		until := time.Now().Add(wait)
		if d, ok := ctx.Deadline(); ok && d.Before(until) {
			until = d
		}
		addr, err := await(conn, buf, server, req.TransactionID, until)
		if err == nil {
			return addr, nil
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			return netip.AddrPort{}, err
		}
		if expired(ctx) {
			break
		}
		wait *= 2
	}
	return netip.AddrPort{}, fmt.Errorf("%w from %s", ErrTimeout, server)
}

// await reads conn until until for the response to transaction id from
// server. It returns os.ErrDeadlineExceeded (wrapped) when none came.
func await(conn *net.UDPConn, buf []byte, server netip.AddrPort, id [pion.TransactionIDSize]byte, until time.Time) (netip.AddrPort, error) {
	if err := conn.SetReadDeadline(until); err != nil {
		return netip.AddrPort{}, fmt.Errorf("stun: %w", err)
	}
	for {
		n, from, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return netip.AddrPort{}, err
			}
			return netip.AddrPort{}, fmt.Errorf("stun: reading the answer: %w", err)
		}
		if unmap(from) != unmap(server) || !pion.IsMessage(buf[:n]) {
			continue
		}
		addr, ok, err := parseResponse(buf[:n], id)
		if !ok {
			continue
		}
		return addr, err
	}
}

// parseResponse decodes b as the answer to transaction id. ok is false when
// b is not that answer (another transaction, or not a response): the
// caller goes on waiting. An error response, or a success without a mapped
// address, is ok with an error.
func parseResponse(b []byte, id [pion.TransactionIDSize]byte) (addr netip.AddrPort, ok bool, err error) {
	m := &pion.Message{Raw: append([]byte(nil), b...)}
	if err := m.Decode(); err != nil || m.TransactionID != id || m.Type.Method != pion.MethodBinding {
		return netip.AddrPort{}, false, nil
	}
	switch m.Type.Class {
	case pion.ClassSuccessResponse:
	case pion.ClassErrorResponse:
		var code pion.ErrorCodeAttribute
		if err := code.GetFrom(m); err != nil {
			return netip.AddrPort{}, true, errors.New("stun: error response without an error code")
		}
		return netip.AddrPort{}, true, fmt.Errorf("stun: server answered %d %s", code.Code, code.Reason)
	default:
		return netip.AddrPort{}, false, nil
	}
	// RFC 5389 §15.5: a FINGERPRINT, when present, must match.
	if m.Contains(pion.AttrFingerprint) {
		if err := pion.Fingerprint.Check(m); err != nil {
			return netip.AddrPort{}, false, nil
		}
	}
	var xor pion.XORMappedAddress
	if err := xor.GetFrom(m); err == nil {
		return toAddrPort(xor.IP, xor.Port)
	}
	var plain pion.MappedAddress
	if err := plain.GetFrom(m); err == nil {
		return toAddrPort(plain.IP, plain.Port)
	}
	return netip.AddrPort{}, true, errors.New("stun: success response without a mapped address")
}

func toAddrPort(ip net.IP, port int) (netip.AddrPort, bool, error) {
	a, ok := netip.AddrFromSlice(ip)
	if !ok || port < 1 || port > 65535 || !a.IsValid() || a.IsUnspecified() {
		return netip.AddrPort{}, true, fmt.Errorf("stun: mapped address %v:%d is not usable", ip, port)
	}
	return netip.AddrPortFrom(a.Unmap(), uint16(port)), true, nil
}

// expired reports whether ctx is done or its deadline has passed.
func expired(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	d, ok := ctx.Deadline()
	return ok && !time.Now().Before(d)
}

func unmap(a netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
}
