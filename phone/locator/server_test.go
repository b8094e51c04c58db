package locator

import (
	"net"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// testServer is an in-process DNS server on 127.0.0.1 (UDP and TCP on the
// same random port) answering from a zone written as zone-file lines.
type testServer struct {
	addr string
	rrs  []dns.RR

	// servfail names answer SERVFAIL; truncate makes every UDP answer come
	// back truncated and empty, so the client must ask again over TCP.
	servfail map[string]bool
	truncate bool

	mu      sync.Mutex
	queries []string // "TYPE name." in arrival order
}

// startServer parses zone (one record per line, "$ORIGIN"-free, absolute
// names) and serves it until the test ends.
func startServer(t *testing.T, zone string, configure ...func(*testServer)) *testServer {
	t.Helper()
	s := &testServer{servfail: map[string]bool{}}
	for line := range strings.SplitSeq(zone, "\n") {
		if line = strings.TrimSpace(line); line == "" || strings.HasPrefix(line, ";") {
			continue
		}
		rr, err := dns.NewRR(line)
		if err != nil {
			t.Fatalf("zone line %q: %v", line, err)
		}
		s.rrs = append(s.rrs, rr)
	}
	for _, c := range configure {
		c(s)
	}
	pc, ln := listenPair(t)
	s.addr = pc.LocalAddr().String()
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: s}, {Listener: ln, Handler: s}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go func() { _ = srv.ActivateAndServe() }()
		<-started
		t.Cleanup(func() { _ = srv.Shutdown() })
	}
	return s
}

// listenPair opens a UDP socket and a TCP listener on the same free port.
func listenPair(t *testing.T) (net.PacketConn, net.Listener) {
	t.Helper()
	for range 20 {
		pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp4", pc.LocalAddr().String())
		if err == nil {
			return pc, ln
		}
		pc.Close()
	}
	t.Fatal("no port free for both UDP and TCP")
	return nil, nil
}

// ServeDNS answers from the zone: the records of the name and type asked,
// NODATA when the name has records of other types only, NXDOMAIN when it has
// none. Answers are authoritative, as the standard resolver wants an empty
// answer to be.
func (s *testServer) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	q := req.Question[0]
	s.mu.Lock()
	s.queries = append(s.queries, dns.TypeToString[q.Qtype]+" "+strings.ToLower(q.Name))
	s.mu.Unlock()
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative, m.RecursionAvailable = true, true
	_, udp := w.RemoteAddr().(*net.UDPAddr)
	switch {
	case s.servfail[strings.ToLower(q.Name)]:
		m.Rcode = dns.RcodeServerFailure
	case s.truncate && udp:
		m.Truncated = true
	default:
		exists := false
		for _, rr := range s.rrs {
			if !strings.EqualFold(rr.Header().Name, q.Name) {
				continue
			}
			exists = true
			if rr.Header().Rrtype == q.Qtype {
				m.Answer = append(m.Answer, dns.Copy(rr))
			}
		}
		if !exists {
			m.Rcode = dns.RcodeNameError
		}
	}
	_ = w.WriteMsg(m)
}

// asked returns the queries seen so far, A and AAAA merged as "A/AAAA".
func (s *testServer) asked() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, q := range s.queries {
		if typ, name, _ := strings.Cut(q, " "); typ == "A" || typ == "AAAA" {
			q = "A/AAAA " + name
		}
		if len(out) == 0 || out[len(out)-1] != q {
			out = append(out, q)
		}
	}
	return out
}

// silentServer is a UDP socket that reads every query and never answers.
func silentServer(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 2048)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	return pc.LocalAddr().String()
}

func writeFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o644) }
