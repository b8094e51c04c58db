package interop

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"

	"github.com/teaphone/teaphone/audio/g711"
)

// scriptPeer is a SIP peer the test scripts, for behaviour no installed
// peer has (baresip 1.0 knows neither 100rel nor session timers, and
// always answers): a sipgo user agent on one UDP socket of 127.0.0.1 whose
// handlers the test sets, recording every request it gets.
type scriptPeer struct {
	addr string // "127.0.0.1:PORT"
	cli  *sipgo.Client

	mu   sync.Mutex
	reqs []*sip.Request
}

// startScriptPeer starts a scripted peer; setup registers its handlers.
// It stops in t.Cleanup.
func startScriptPeer(t *testing.T, setup func(sp *scriptPeer, srv *sipgo.Server)) *scriptPeer {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("scriptpeer"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sp := &scriptPeer{addr: conn.LocalAddr().String()}
	sp.cli, err = sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientConnectionAddr(sp.addr))
	if err != nil {
		t.Fatal(err)
	}
	setup(sp, srv)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.ServeUDP(conn)
	}()
	waitUntil(time.Second, func() bool {
		_, err := ua.TransportLayer().GetConnection("udp", sp.addr)
		return err == nil
	})
	t.Cleanup(func() {
		srv.Close()
		ua.Close()
		conn.Close()
		<-done
	})
	return sp
}

func (sp *scriptPeer) record(req *sip.Request) {
	sp.mu.Lock()
	sp.reqs = append(sp.reqs, req)
	sp.mu.Unlock()
}

// requests returns the requests of method received so far.
func (sp *scriptPeer) requests(method sip.RequestMethod) []*sip.Request {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	var out []*sip.Request
	for _, r := range sp.reqs {
		if r.Method == method {
			out = append(out, r)
		}
	}
	return out
}

// contact is the peer's Contact for user.
func (sp *scriptPeer) contact(user string) *sip.ContactHeader {
	host, port, _ := net.SplitHostPort(sp.addr)
	p, _ := strconv.Atoi(port)
	return &sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: host, Port: p}}
}

// respond answers req with code; with sdp, as application/sdp, and with
// the To tag "scripted" when req has none.
func (sp *scriptPeer) respond(tx sip.ServerTransaction, req *sip.Request, code int, reason string, sdp []byte, hdrs ...sip.Header) error {
	res := sip.NewResponseFromRequest(req, code, reason, sdp)
	if _, ok := req.To().Params.Get("tag"); !ok && code > 100 {
		res.To().Params.Add("tag", "scripted")
	}
	if code > 100 && code < 300 {
		res.AppendHeader(sp.contact("peer"))
	}
	if sdp != nil {
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	}
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	return tx.Respond(res)
}

// rtpTone is the media end of a scripted peer: a UDP socket on 127.0.0.1
// that, once started, sends a PCMU sine every 20 ms to the remote it is
// given, and keeps what arrives (decoded).
type rtpTone struct {
	conn *net.UDPConn
	hz   float64

	mu   sync.Mutex
	got  []int16
	stop chan struct{}
	wg   sync.WaitGroup
}

// newRTPTone opens the socket; the test's cleanup stops everything.
func newRTPTone(t *testing.T, hz float64) *rtpTone {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	r := &rtpTone{conn: c, hz: hz, stop: make(chan struct{})}
	r.wg.Add(1)
	go r.receive()
	t.Cleanup(func() {
		close(r.stop)
		c.Close()
		r.wg.Wait()
	})
	return r
}

// sdp is an offer or answer for PCMU on this socket.
func (r *rtpTone) sdp() []byte {
	port := r.conn.LocalAddr().(*net.UDPAddr).Port
	return []byte(fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
		"m=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=ptime:20\r\na=sendrecv\r\n", port))
}

// sendTo starts sending the tone to the RTP address of the SDP body.
func (r *rtpTone) sendTo(t *testing.T, body []byte) {
	t.Helper()
	to, err := sdpAudioAddr(string(body))
	if err != nil {
		t.Fatal(err)
	}
	r.wg.Add(1)
	go r.send(to)
}

func (r *rtpTone) send(to *net.UDPAddr) {
	defer r.wg.Done()
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SSRC: rand.Uint32(),
		SequenceNumber: uint16(rand.Uint32()), Timestamp: rand.Uint32(), Marker: true}}
	pcm := make([]int16, 160)
	pkt.Payload = make([]byte, 160)
	start := time.Now()
	for n := 0; ; n++ {
		for i := range pcm {
			s := float64(n*160+i) / 8000
			pcm[i] = int16(8000 * math.Sin(2*math.Pi*r.hz*s))
		}
		g711.EncodeUlaw(pkt.Payload, pcm)
		if b, err := pkt.Marshal(); err == nil {
			_, _ = r.conn.WriteToUDP(b, to)
		}
		pkt.Marker = false
		pkt.SequenceNumber++
		pkt.Timestamp += 160
		select {
		case <-r.stop:
			return
		case <-time.After(time.Until(start.Add(time.Duration(n+1) * 20 * time.Millisecond))):
		}
	}
}

func (r *rtpTone) receive() {
	defer r.wg.Done()
	buf := make([]byte, 1500)
	for {
		n, _, err := r.conn.ReadFromUDP(buf)
		if err != nil {
			return
		}
		var pkt rtp.Packet
		if pkt.Unmarshal(buf[:n]) != nil || pkt.PayloadType != 0 {
			continue
		}
		pcm := make([]int16, len(pkt.Payload))
		g711.DecodeUlaw(pcm, pkt.Payload)
		r.mu.Lock()
		r.got = append(r.got, pcm...)
		r.mu.Unlock()
	}
}

// received returns the samples that arrived so far.
func (r *rtpTone) received() []int16 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int16(nil), r.got...)
}

// sdpAudioAddr is where an SDP body wants its audio: the c= address (media
// level over session level) and the m=audio port.
func sdpAudioAddr(body string) (*net.UDPAddr, error) {
	var host string
	port := -1
	for _, line := range strings.Split(body, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "c=IN IP4 "), strings.HasPrefix(line, "c=IN IP6 "):
			host = strings.Fields(line[len("c=IN IP4 "):])[0]
		case strings.HasPrefix(line, "m=audio "):
			f := strings.Fields(line)
			if len(f) > 1 {
				port, _ = strconv.Atoi(f[1])
			}
		}
	}
	ip := net.ParseIP(host)
	if ip == nil || port <= 0 {
		return nil, fmt.Errorf("no audio address in SDP:\n%s", body)
	}
	return &net.UDPAddr{IP: ip, Port: port}, nil
}
