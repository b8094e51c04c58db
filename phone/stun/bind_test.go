package stun

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	pion "github.com/pion/stun/v3"

	"github.com/teaphone/teaphone/phone/stun/stuntest"
)

// startServer is a test STUN server answering with answer.
func startServer(t *testing.T, answer stuntest.Answer) *stuntest.Server {
	return stuntest.Start(t, answer)
}

func success(t *testing.T, req *pion.Message, ip net.IP, port int) []byte {
	a, _ := netip.AddrFromSlice(ip)
	return stuntest.Success(t, req, netip.AddrPortFrom(a.Unmap(), uint16(port)))
}

func client(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func ctx(t *testing.T, d time.Duration) context.Context {
	c, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return c
}

func TestBindReturnsTheMappedAddress(t *testing.T) {
	srv := startServer(t, func(_ int, req *pion.Message, src *net.UDPAddr) []byte {
		return success(t, req, net.IPv4(203, 0, 113, 7), src.Port+1000)
	})
	c := client(t)
	got, err := Bind(ctx(t, 5*time.Second), c, srv.Addr(), 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	want := netip.AddrPortFrom(netip.MustParseAddr("203.0.113.7"), uint16(c.LocalAddr().(*net.UDPAddr).Port+1000))
	if got != want {
		t.Fatalf("mapped %v, want %v", got, want)
	}
	// The socket is left usable: no read deadline.
	if err := c.SetReadDeadline(time.Now().Add(20 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
}

func TestBindRetransmits(t *testing.T) {
	srv := startServer(t, func(n int, req *pion.Message, src *net.UDPAddr) []byte {
		if n < 3 {
			return nil // the first two requests are lost
		}
		return success(t, req, src.IP, src.Port)
	})
	c := client(t)
	got, err := Bind(ctx(t, 5*time.Second), c, srv.Addr(), 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if got != c.LocalAddr().(*net.UDPAddr).AddrPort() {
		t.Fatalf("mapped %v, want the socket's own address", got)
	}
	if n := srv.Seen(); n < 3 {
		t.Fatalf("server saw %d requests, want 3", n)
	}
}

func TestBindMappedAddressOfAnRFC3489Server(t *testing.T) {
	srv := startServer(t, func(_ int, req *pion.Message, src *net.UDPAddr) []byte {
		m, _ := pion.Build(req, pion.BindingSuccess, &pion.MappedAddress{IP: net.IPv4(198, 51, 100, 1), Port: 4000})
		return m.Raw
	})
	got, err := Bind(ctx(t, 5*time.Second), client(t), srv.Addr(), 50*time.Millisecond)
	if err != nil || got.String() != "198.51.100.1:4000" {
		t.Fatalf("Bind = %v, %v; want 198.51.100.1:4000", got, err)
	}
}

func TestBindIgnoresWhatIsNotTheAnswer(t *testing.T) {
	srv := startServer(t, func(_ int, req *pion.Message, src *net.UDPAddr) []byte {
		// First a response to another transaction, then garbage, then the answer.
		other, _ := pion.Build(pion.TransactionID, pion.BindingSuccess, &pion.XORMappedAddress{IP: net.IPv4(192, 0, 2, 66), Port: 1})
		return other.Raw
	})
	c := client(t)
	stranger := client(t)
	go func() {
		// Someone else's packet to our port: an RTP packet from a stranger.
		_, _ = stranger.WriteToUDP([]byte{0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1}, c.LocalAddr().(*net.UDPAddr))
	}()
	_, err := Bind(ctx(t, 300*time.Millisecond), c, srv.Addr(), 50*time.Millisecond)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("Bind = %v, want ErrTimeout (no answer to our transaction)", err)
	}
}

func TestBindErrorResponse(t *testing.T) {
	srv := startServer(t, func(_ int, req *pion.Message, _ *net.UDPAddr) []byte {
		m, _ := pion.Build(req, pion.BindingError, pion.ErrorCodeAttribute{Code: pion.CodeServerError, Reason: []byte("busy")})
		return m.Raw
	})
	_, err := Bind(ctx(t, 5*time.Second), client(t), srv.Addr(), 50*time.Millisecond)
	if err == nil || errors.Is(err, ErrTimeout) {
		t.Fatalf("Bind = %v, want the server's error", err)
	}
}

func TestBindBadMappedAddress(t *testing.T) {
	srv := startServer(t, func(_ int, req *pion.Message, _ *net.UDPAddr) []byte {
		return success(t, req, net.IPv4zero, 5000)
	})
	if _, err := Bind(ctx(t, 5*time.Second), client(t), srv.Addr(), 50*time.Millisecond); err == nil {
		t.Fatal("Bind accepted 0.0.0.0 as a mapped address")
	}
}

func TestBindStopsAtTheDeadline(t *testing.T) {
	srv := startServer(t, func(int, *pion.Message, *net.UDPAddr) []byte { return nil })
	start := time.Now()
	_, err := Bind(ctx(t, 200*time.Millisecond), client(t), srv.Addr(), 20*time.Millisecond)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("Bind = %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Bind returned after %v, long past its 200ms deadline", d)
	}
}

func TestSplitServer(t *testing.T) {
	for _, tc := range []struct {
		in   string
		host string
		port int
		bad  bool
	}{
		{in: "stun.example.org", host: "stun.example.org", port: 3478},
		{in: "stun.example.org:19302", host: "stun.example.org", port: 19302},
		{in: "stun:192.0.2.1", host: "192.0.2.1", port: 3478},
		{in: "[2001:db8::1]:3479", host: "2001:db8::1", port: 3479},
		{in: "2001:db8::1", host: "2001:db8::1", port: 3478},
		{in: "", bad: true},
		{in: "host:0", bad: true},
		{in: "host:x", bad: true},
		{in: ":3478", bad: true},
	} {
		h, p, err := SplitServer(tc.in)
		if (err != nil) != tc.bad || (!tc.bad && (h != tc.host || p != tc.port)) {
			t.Errorf("SplitServer(%q) = %q, %d, %v", tc.in, h, p, err)
		}
	}
}
