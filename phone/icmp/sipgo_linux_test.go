//go:build linux

package icmp_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/teaphone/teaphone/phone/icmp"
	"golang.org/x/sys/unix"
)

const wait = 2 * time.Second

var discard = slog.New(slog.DiscardHandler)

// agent is a sipgo user agent serving one UDP socket, from which its client
// sends (WithClientConnectionAddr), as the phone runs it.
type agent struct {
	ua     *sipgo.UserAgent
	srv    *sipgo.Server
	cli    *sipgo.Client
	addr   string
	served chan struct{} // closed when ServeUDP returns
}

// newAgent serves conn, a socket bound to addr. It is stopped when the test
// ends.
func newAgent(t *testing.T, conn net.PacketConn, onOptions bool) *agent {
	t.Helper()
	addr := conn.LocalAddr().String()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("icmp-test"), sipgo.WithUserAgentHostname("127.0.0.1"),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(discard)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(discard)))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(discard))
	if err != nil {
		t.Fatal(err)
	}
	if onOptions {
		srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
			_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil))
		})
	}
	cli, err := sipgo.NewClient(ua, sipgo.WithClientLogger(discard), sipgo.WithClientHostname("127.0.0.1"),
		sipgo.WithClientConnectionAddr(addr))
	if err != nil {
		t.Fatal(err)
	}
	a := &agent{ua: ua, srv: srv, cli: cli, addr: addr, served: make(chan struct{})}
	go func() {
		defer close(a.served)
		_ = srv.ServeUDP(conn) // sipgo returns nil whatever ended the reads
	}()
	t.Cleanup(func() {
		_ = ua.Close()
		_ = conn.Close()
		select {
		case <-a.served:
		case <-time.After(wait):
			t.Error("ServeUDP did not return after Close")
		}
	})
	// Requests leave from the served socket once sipgo has put it in its
	// connection pool.
	for deadline := time.Now().Add(wait); ; time.Sleep(time.Millisecond) {
		if _, err := ua.TransportLayer().GetConnection("udp", addr); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("listener not in sipgo's connection pool")
		}
	}
	return a
}

func (a *agent) serving() bool {
	select {
	case <-a.served:
		return false
	default:
		_, err := a.ua.TransportLayer().GetConnection("udp", a.addr)
		return err == nil
	}
}

func listen(t *testing.T) *net.UDPConn {
	t.Helper()
	uc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	return uc
}

func deadPort(t *testing.T) int {
	t.Helper()
	uc := listen(t)
	port := uc.LocalAddr().(*net.UDPAddr).Port
	if err := uc.Close(); err != nil {
		t.Fatal(err)
	}
	return port
}

func nextReport(t *testing.T, ch <-chan icmp.Report) icmp.Report {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(wait):
		t.Fatal("no report")
	}
	return icmp.Report{}
}

// bounced reports whether r is about req: the report names req's
// destination (an IP address here: no DNS) and, when the ICMP error quoted
// enough of the datagram, carries req's Via branch, the client transaction's
// key (RFC 3261 §17.1.3).
func bounced(r icmp.Report, req *sip.Request) bool {
	dest, err := netip.ParseAddrPort(req.Destination())
	if err != nil || r.Addr != dest {
		return false
	}
	branch, _ := req.Via().Params.Get("branch")
	return len(r.Quote) == 0 || bytes.Contains(r.Quote, []byte("branch="+branch))
}

// TestSipgoStopsOnReadError pins down why the Conn hides ICMP errors from
// its reader: on a plain socket with IP_RECVERR, sipgo's UDP read loop
// stops at the first one and the listener leaves sipgo's connection pool.
func TestSipgoStopsOnReadError(t *testing.T) {
	uc := listen(t)
	raw, err := uc.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var serr error
	if err := raw.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_RECVERR, 1)
	}); err != nil || serr != nil {
		t.Fatal(err, serr)
	}
	a := newAgent(t, uc, false)
	req := sip.NewRequest(sip.OPTIONS, sip.Uri{User: "nobody", Host: "127.0.0.1", Port: deadPort(t)})
	tx, err := a.cli.TransactionRequest(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Terminate()
	select {
	case <-a.served:
	case <-time.After(wait):
		t.Fatal("sipgo kept serving after a read error: the Conn may no longer be needed for that")
	}
	if a.serving() {
		t.Error("listener still in the connection pool")
	}
}

// TestSIPToDeadPort: a sipgo user agent on a Conn learns within
// milliseconds, not after Timer B (32 s), that a request went to a port
// where nothing listens, can abort the client transaction at once, and
// goes on serving.
func TestSIPToDeadPort(t *testing.T) {
	uc := listen(t)
	reports := make(chan icmp.Report, 16)
	conn, err := icmp.Wrap(uc, icmp.HandlerFunc(func(r icmp.Report) { reports <- r }))
	if err != nil {
		t.Fatal(err)
	}
	a := newAgent(t, conn, true)

	t.Run("INVITE transaction", func(t *testing.T) {
		req := sip.NewRequest(sip.INVITE, sip.Uri{User: "bob", Host: "127.0.0.1", Port: deadPort(t)})
		start := time.Now()
		tx, err := a.cli.TransactionRequest(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		r := nextReport(t, reports)
		elapsed := time.Since(start)
		t.Logf("%v after %v", r, elapsed)
		if elapsed > sip.Timer_A {
			t.Errorf("report after %v, later than the first retransmission (Timer A, %v)", elapsed, sip.Timer_A)
		}
		if r.Reason != icmp.ReasonPortUnreachable || !bounced(r, req) {
			t.Fatalf("report %v (quote %q) is not a port unreachable for %s", r, r.Quote, req.StartLine())
		}
		// Linux quotes 520 bytes of an IPv4 datagram: the request line
		// and the Via header at least.
		if !bytes.HasPrefix(r.Quote, []byte(req.StartLine()+"\r\nVia: ")) {
			t.Errorf("quote %q does not start with the request line and Via", r.Quote)
		}
		// Terminating the client transaction stops its retransmissions
		// and ends whoever waits on it.
		tx.Terminate()
		select {
		case <-tx.Done():
		case <-time.After(wait):
			t.Fatal("transaction not done after Terminate")
		}
		if !errors.Is(tx.Err(), sip.ErrTransactionCanceled) {
			t.Errorf("tx.Err() = %v, want %v", tx.Err(), sip.ErrTransactionCanceled)
		}
	})

	t.Run("INVITE dialog", func(t *testing.T) {
		// As the phone calls: WaitAnswer under a context that the ICMP
		// report cancels. With sipgo.WaitAnswerForceCancelErr as the cause
		// WaitAnswer returns at once; with any other cause it would wait
		// for a provisional response to CANCEL (RFC 3261 §9.1), that is
		// until Timer B.
		dua := sipgo.DialogUA{Client: a.cli, ContactHDR: sip.ContactHeader{Address: sip.Uri{User: "alice", Host: "127.0.0.1"}}}
		ctx, cancel := context.WithCancelCause(context.Background())
		defer cancel(nil)
		start := time.Now()
		cs, err := dua.Invite(ctx, sip.Uri{User: "bob", Host: "127.0.0.1", Port: deadPort(t)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer cs.Close()
		answered := make(chan error, 1)
		go func() { answered <- cs.WaitAnswer(ctx, sipgo.AnswerOptions{}) }()

		r := nextReport(t, reports)
		if r.Reason != icmp.ReasonPortUnreachable || !bounced(r, cs.InviteRequest) {
			t.Fatalf("report %v (quote %q) is not a port unreachable for %s", r, r.Quote, cs.InviteRequest.StartLine())
		}
		cancel(sipgo.WaitAnswerForceCancelErr)
		select {
		case err := <-answered:
			t.Logf("%v; WaitAnswer returned %v after %v", r, err, time.Since(start))
			if !errors.Is(err, context.Canceled) {
				t.Errorf("WaitAnswer = %v, want context.Canceled", err)
			}
		case <-time.After(wait):
			t.Fatal("WaitAnswer still waiting after the cancel")
		}
		if elapsed := time.Since(start); elapsed > time.Second {
			t.Errorf("the call failed after %v", elapsed)
		}
	})

	t.Run("still serving", func(t *testing.T) {
		if !a.serving() {
			t.Fatal("sipgo stopped serving the Conn")
		}
		peerConn := listen(t)
		peer := newAgent(t, peerConn, true)
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		req := sip.NewRequest(sip.OPTIONS, sip.Uri{Host: "127.0.0.1", Port: peerConn.LocalAddr().(*net.UDPAddr).Port})
		res, err := a.cli.Do(ctx, req)
		if err != nil || res.StatusCode != sip.StatusOK {
			t.Fatalf("OPTIONS to a live peer after the ICMP errors: %v, %v", res, err)
		}
		// And the peer reaches us: the response comes back to our Conn.
		req = sip.NewRequest(sip.OPTIONS, sip.Uri{Host: "127.0.0.1", Port: conn.LocalAddr().(*net.UDPAddr).Port})
		res, err = peer.cli.Do(ctx, req)
		if err != nil || res.StatusCode != sip.StatusOK {
			t.Fatalf("OPTIONS to us after the ICMP errors: %v, %v", res, err)
		}
	})
}
