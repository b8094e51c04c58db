package icmp

import (
	"errors"
	"net"
	"testing"
	"time"
)

// TestPassThrough: on every system a Conn reads, writes, keeps deadlines and
// closes like the socket it wraps.
func TestPassThrough(t *testing.T) {
	a, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	b, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	ca, err := Wrap(a, HandlerFunc(func(r Report) { t.Errorf("unexpected report %v", r) }))
	if err != nil {
		t.Fatal(err)
	}
	cb, err := Wrap(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cb.Close()
	if ca.LocalAddr().String() != a.LocalAddr().String() {
		t.Errorf("LocalAddr = %v, want %v", ca.LocalAddr(), a.LocalAddr())
	}
	if n, err := ca.WriteTo([]byte("hello"), cb.LocalAddr()); n != 5 || err != nil {
		t.Fatalf("WriteTo = %d, %v", n, err)
	}
	if err := cb.SetReadDeadline(time.Now().Add(2 * time.Second)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, from, err := cb.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "hello" || from.String() != ca.LocalAddr().String() {
		t.Errorf("ReadFrom = %q from %v, %v", buf[:n], from, err)
	}
	if _, ok := from.(*net.UDPAddr); !ok {
		t.Errorf("ReadFrom address is a %T, want *net.UDPAddr", from)
	}
	if err := cb.SetDeadline(time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	var ne net.Error
	if _, _, err := cb.ReadFrom(buf); !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("ReadFrom past the deadline = %v, want a timeout", err)
	}
	if err := cb.SetWriteDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := ca.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	if err := ca.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if _, _, err := ca.ReadFrom(buf); !errors.Is(err, net.ErrClosed) {
		t.Errorf("ReadFrom after Close = %v, want net.ErrClosed", err)
	}
	if _, err := ca.WriteTo(buf, cb.LocalAddr()); !errors.Is(err, net.ErrClosed) {
		t.Errorf("WriteTo after Close = %v, want net.ErrClosed", err)
	}
}
