package phone

import (
	"fmt"
	"net"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// rawUDP is a scanner: it sends hand-written requests to a phone from one
// UDP socket and reads what comes back.
type rawUDP struct {
	t    *testing.T
	conn *net.UDPConn
	to   *net.UDPAddr
	seq  atomic.Int64
}

func newRawUDP(t *testing.T, phoneAddr string) *rawUDP {
	t.Helper()
	return newRawUDPFrom(t, phoneAddr, net.IPv4(127, 0, 0, 1))
}

// newRawUDPFrom is a scanner at the address ip (any of 127/8 on loopback).
func newRawUDPFrom(t *testing.T, phoneAddr string, ip net.IP) *rawUDP {
	t.Helper()
	to, err := net.ResolveUDPAddr("udp", phoneAddr)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &rawUDP{t: t, conn: conn, to: to}
}

// request writes a request for user (the Request-URI's and To's user, ""
// for none) and returns its Call-ID.
func (r *rawUDP) request(method, user string) string {
	r.t.Helper()
	n := r.seq.Add(1)
	me := r.conn.LocalAddr().String()
	target := r.to.String()
	if user != "" {
		target = user + "@" + target
	}
	ruri := "sip:" + target
	if method == "REGISTER" {
		ruri = "sip:" + r.to.String()
	}
	callID := fmt.Sprintf("scan-%d-%d", n, time.Now().UnixNano())
	msg := fmt.Sprintf("%s %s SIP/2.0\r\n"+
		"Via: SIP/2.0/UDP %s;branch=z9hG4bK-scan%d-%d;rport\r\n"+
		"Max-Forwards: 70\r\n"+
		"From: <sip:scanner@%s>;tag=s%d\r\n"+
		"To: <sip:%s>\r\n"+
		"Call-ID: %s\r\n"+
		"CSeq: 1 %s\r\n"+
		"Contact: <sip:scanner@%s>\r\n"+
		"Content-Length: 0\r\n\r\n",
		method, ruri, me, n, time.Now().UnixNano(), me, n, target, callID, method, me)
	if _, err := r.conn.WriteToUDP([]byte(msg), r.to); err != nil {
		r.t.Fatal(err)
	}
	return callID
}

// read returns the next response, or nil after d.
func (r *rawUDP) read(d time.Duration) *sip.Response {
	buf := make([]byte, 65536)
	_ = r.conn.SetReadDeadline(time.Now().Add(d))
	for {
		n, _, err := r.conn.ReadFromUDP(buf)
		if err != nil {
			return nil
		}
		msg, err := sip.ParseMessage(buf[:n])
		if err != nil {
			r.t.Errorf("unparsable answer: %v\n%s", err, buf[:n])
			continue
		}
		if res, ok := msg.(*sip.Response); ok {
			return res
		}
	}
}

// final returns the responses to callID up to its final one (nil if none
// came within d), and ACKs a non-2xx final response (RFC 3261 §17.1.1.3).
func (r *rawUDP) final(callID string, d time.Duration) []*sip.Response {
	var out []*sip.Response
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		res := r.read(time.Until(deadline))
		if res == nil {
			break
		}
		if res.CallID() == nil || res.CallID().Value() != callID {
			continue
		}
		out = append(out, res)
		if res.StatusCode >= 200 {
			if res.CSeq().MethodName == sip.INVITE {
				r.ack(res)
			}
			return out
		}
	}
	return nil
}

func (r *rawUDP) ack(res *sip.Response) {
	via := res.Via()
	msg := fmt.Sprintf("ACK %s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=%s\r\nMax-Forwards: 70\r\n"+
		"From: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d ACK\r\nContent-Length: 0\r\n\r\n",
		res.To().Address.String(), r.conn.LocalAddr(), via.Params.GetOr("branch", ""),
		res.From().Value(), res.To().Value(), res.CallID().Value(), res.CSeq().SeqNo)
	_, _ = r.conn.WriteToUDP([]byte(msg), r.to)
}

var (
	tagParam = regexp.MustCompile(`;tag=[^;>]*`)
)

// shape is what a response tells a scanner, without what differs from
// one request to the next: the status, the reason and every header but
// Via, Call-ID, CSeq and Content-Length, with tags and the user parts of
// URIs (the user the scanner asked for) blanked.
func shape(res *sip.Response, user string) string {
	lines := []string{fmt.Sprintf("%d %s", res.StatusCode, res.Reason)}
	for _, h := range res.Headers() {
		switch strings.ToLower(h.Name()) {
		case "via", "call-id", "cseq", "content-length":
			continue
		}
		v := h.Value()
		switch strings.ToLower(h.Name()) {
		case "from", "to":
			// The scanner's own addresses, echoed: only whether a tag
			// was added tells something.
			v = "(echoed)"
			if tagParam.MatchString(h.Value()) {
				v += ";tag=T"
			}
		default:
			// The user asked for, echoed in our Contact, is the
			// scanner's; any other user is ours and must not differ.
			v = tagParam.ReplaceAllString(v, ";tag=T")
			if user == "" {
				v = strings.ReplaceAll(v, "<sip:", "<sip:U@")
			} else {
				v = strings.ReplaceAll(v, "sip:"+user+"@", "sip:U@")
			}
		}
		lines = append(lines, h.Name()+": "+v)
	}
	slices.Sort(lines[1:])
	return strings.Join(lines, "\n")
}

// shapes is the shape of each response of a request, in order.
func shapes(rs []*sip.Response, user string) string {
	var out []string
	for _, r := range rs {
		out = append(out, shape(r, user))
	}
	return strings.Join(out, "\n--\n")
}

// TestEnumerationGetsOneAnswer is svwar's scan of a phone with a
// registering account: REGISTER, OPTIONS and INVITE for the account's
// user, for other users and for none. Every user gets the same answer
// (status, reason and every header but the per-request ones), the
// account's own user at our address included, so the scan lists nobody;
// only an INVITE for the Contact the account registered (its secret user,
// contactuser.go), as its registrar sends them, rings (see
// TestDirectCallsAnswerAlike for the phone that takes direct calls).
func TestEnumerationGetsOneAnswer(t *testing.T) {
	rang := make(chan IncomingCall, 16)
	p := newTestPhone(t, Options{
		// Registering to nowhere: the phone is a registered one (direct
		// calls off by default) without a registrar in the test.
		Accounts: []Account{{Name: "erin", AOR: "sip:erin@127.0.0.1:9", Register: true, Expires: time.Hour}},
		Handler: HandlerFunc(func(ic IncomingCall) Decision {
			rang <- ic
			return Reject(486, "")
		}),
	})
	users := []string{"erin", "alice", "100", "admin", "root", ""}
	for _, method := range []string{"REGISTER", "OPTIONS", "INVITE"} {
		got := map[string]string{}
		for _, user := range users {
			sc := newRawUDP(t, p.LocalAddr())
			rs := sc.final(sc.request(method, user), 3*time.Second)
			if rs == nil {
				t.Fatalf("%s for %q: no final answer", method, user)
			}
			got[user] = shapes(rs, user)
		}
		want := got["alice"]
		t.Logf("%s answers:\n%s", method, want)
		for _, user := range users {
			if got[user] != want {
				t.Errorf("%s for %q is answered differently from one for alice:\n%s\n---- alice:\n%s", method, user, got[user], want)
			}
		}
		for user, answer := range got {
			if versionish.MatchString(answer) {
				t.Errorf("%s for %q: an answer carries a version or an OS:\n%s", method, user, answer)
			}
		}
		if method == "INVITE" {
			token := p.Phone.accounts[0].token
			sc := newRawUDP(t, p.LocalAddr())
			rs := sc.final(sc.request("INVITE", token), 3*time.Second)
			if got := shapes(rs, token); !strings.HasPrefix(got, "180 ") && !strings.Contains(got, "\n--\n180 ") {
				t.Errorf("INVITE for the registered Contact did not ring:\n%s", got)
			}
		}
		if method == "OPTIONS" && !strings.Contains(want+"\n", "\nUser-Agent: teaphone\n") {
			t.Errorf("OPTIONS: want User-Agent: teaphone and nothing more, got:\n%s", want)
		}
		if method == "INVITE" && !strings.HasPrefix(want, "404 Not Found") {
			t.Errorf("INVITE for a stranger: %s, want 404 Not Found", want)
		}
	}
	for len(rang) > 0 {
		if ic := <-rang; !strings.Contains(ic.RequestURI, ":"+p.Phone.accounts[0].token+"@") {
			t.Errorf("a call for %s rang", ic.RequestURI)
		}
	}
}

// TestDirectCallsAnswerAlike: with direct calls on, every user's INVITE
// rings the same way (the 180 and the handler's refusal alike).
func TestDirectCallsAnswerAlike(t *testing.T) {
	p := newTestPhone(t, Options{
		Direct:   DirectAccept,
		Accounts: []Account{{Name: "erin", AOR: "sip:erin@127.0.0.1:9", Register: true, Expires: time.Hour}},
		Handler:  HandlerFunc(func(IncomingCall) Decision { return Reject(486, "") }),
	})
	var want string
	for _, user := range []string{"alice", "erin", "100", ""} {
		sc := newRawUDP(t, p.LocalAddr())
		rs := sc.final(sc.request("INVITE", user), 3*time.Second)
		got := shapes(rs, user)
		if want == "" {
			want = got
			t.Logf("INVITE answers:\n%s", got)
			if !strings.Contains(got, "180 Ringing") || !strings.Contains(got, "486 Busy Here") {
				t.Errorf("INVITE for %q: want 180 then 486, got:\n%s", user, got)
			}
		}
		if got != want {
			t.Errorf("INVITE for %q is answered differently:\n%s\n---- first:\n%s", user, got, want)
		}
	}
}

// versionish finds a version or an OS in a User-Agent or Server header.
var versionish = regexp.MustCompile(`(?i)(user-agent|server): .*([0-9]+\.[0-9]+|linux|darwin|windows|go1|sipgo)`)

// TestForeignURIRefused: direct calls follow the accounts (refused when
// one registers, taken otherwise, or as configured), with the configured
// code, and no session is made for a refused one.
func TestForeignURIRefused(t *testing.T) {
	registering := []Account{{Name: "erin", AOR: "sip:erin@127.0.0.1:9", Register: true, Expires: time.Hour}}
	quiet := []Account{{Name: "erin", AOR: "sip:erin@127.0.0.1:9"}}
	tests := []struct {
		name     string
		accounts []Account
		direct   DirectCalls
		code     int
		user     string
		want     int // final status; 486 = it rang
	}{
		{"no account: loopback calls work", nil, DirectAuto, 0, "anything", 486},
		{"quiet account: direct calls work", quiet, DirectAuto, 0, "anything", 486},
		{"registering: stranger refused", registering, DirectAuto, 0, "anything", 404},
		{"registering: account's Contact rings", registering, DirectAuto, 0, "TOKEN", 486},
		{"registering: account's user at our address refused", registering, DirectAuto, 0, "erin", 404},
		{"registering: 403 as configured", registering, DirectAuto, 403, "nobody", 403},
		{"registering: direct on", registering, DirectAccept, 0, "anything", 486},
		{"quiet: direct off", quiet, DirectRefuse, 0, "", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rang atomic.Int32
			p := newTestPhone(t, Options{Accounts: tt.accounts, Direct: tt.direct, ForeignURICode: tt.code,
				Handler: HandlerFunc(func(IncomingCall) Decision { rang.Add(1); return Reject(486, "") })})
			user := tt.user
			if user == "TOKEN" { // the user of the Contact it registered
				user = p.Phone.accounts[0].token
			}
			sc := newRawUDP(t, p.LocalAddr())
			rs := sc.final(sc.request("INVITE", user), 3*time.Second)
			if rs == nil {
				t.Fatal("no final answer")
			}
			if got := rs[len(rs)-1].StatusCode; got != tt.want {
				t.Errorf("INVITE for %q: %d, want %d", tt.user, got, tt.want)
			}
			if tt.want != 486 && rang.Load() != 0 {
				t.Errorf("a refused call reached the handler")
			}
		})
	}
	if _, err := New(Options{ForeignURICode: 486}); err == nil {
		t.Error("ForeignURICode 486 accepted")
	}
}

// TestInviteFlood: 200 INVITEs within a second from one address start at
// most burst + rate·elapsed calls; the others get 503 with a Retry-After,
// before they ring.
func TestInviteFlood(t *testing.T) {
	const rate, burst = 5, 10
	var rang atomic.Int32
	p := newTestPhone(t, Options{NewCallRate: rate, NewCallBurst: burst,
		Handler: HandlerFunc(func(IncomingCall) Decision { rang.Add(1); return Reject(486, "") })})
	sc := newRawUDP(t, p.LocalAddr())
	start := time.Now()
	sent := map[string]bool{}
	for i := range 200 { // one every 5 ms: 200 in a second
		time.Sleep(time.Until(start.Add(time.Duration(i) * 5 * time.Millisecond)))
		sent[sc.request("INVITE", fmt.Sprintf("u%d", i))] = true
	}
	sending := time.Since(start)
	codes := map[int]int{}
	answered := map[string]bool{}
	var last time.Time // every INVITE answered was taken in by then
	for len(answered) < len(sent) {
		res := sc.read(3 * time.Second)
		if res == nil {
			break
		}
		id := res.CallID().Value()
		if res.StatusCode < 200 || answered[id] {
			continue
		}
		answered[id], last = true, time.Now()
		codes[res.StatusCode]++
		if res.StatusCode == 503 {
			if h := res.GetHeader("Retry-After"); h == nil || h.Value() == "" || h.Value() == "0" {
				t.Errorf("503 without a Retry-After: %v", h)
			}
		}
		if res.StatusCode != 503 {
			sc.ack(res)
		}
	}
	// The bucket refills until the last INVITE is taken in, which may be
	// later than it was sent on a loaded machine.
	allowed := burst + int(rate*last.Sub(start).Seconds()+1)
	t.Logf("%d INVITEs sent in %s, answered within %s: %v, %d rang (at most %d allowed)", len(sent),
		sending.Round(time.Millisecond), last.Sub(start).Round(time.Millisecond), codes, rang.Load(), allowed)
	if n := int(rang.Load()); n > allowed || n < burst {
		t.Errorf("%d calls rang, want %d..%d", n, burst, allowed)
	}
	// UDP loses some on a loaded machine (either socket's buffer); what
	// is answered is refused with 503, or rang.
	if codes[503]+int(rang.Load()) != len(answered) || len(answered) < len(sent)/2 {
		t.Errorf("%d of %d INVITEs answered: %v; want most, each refused with 503 or rung", len(answered), len(sent), codes)
	}
	if n := p.limiter.size(); n != 1 {
		t.Errorf("limiter remembers %d sources, want 1", n)
	}
}

// TestRegistrarNotLimited: the calls a provider forwards all come from the
// address its REGISTER answers came from; they are not limited as a
// stranger's are.
func TestRegistrarNotLimited(t *testing.T) {
	fp := newFakePeer(t, func(fp *fakePeer, srv *sipgo.Server) {
		srv.OnRegister(func(req *sip.Request, tx sip.ServerTransaction) {
			res := sip.NewResponseFromRequest(req, 200, "OK", nil)
			exp := sip.ExpiresHeader(300)
			res.AppendHeader(&exp)
			_ = tx.Respond(res)
		})
	})
	p := newTestPhone(t, Options{NewCallRate: 1, NewCallBurst: 1,
		Accounts: []Account{{Name: "erin", AOR: "sip:erin@" + fp.addr, Register: true, Expires: 300 * time.Second}},
		Handler:  HandlerFunc(func(IncomingCall) Decision { return Reject(486, "") })})
	for deadline := time.Now().Add(wait); ; time.Sleep(10 * time.Millisecond) {
		p.accounts[0].mu.Lock()
		from := p.accounts[0].answeredFrom
		p.accounts[0].mu.Unlock()
		if from != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("not registered")
		}
	}
	for _, tt := range []struct {
		from net.IP
		want []int
	}{
		{net.IPv4(127, 0, 0, 1), []int{486, 486, 486}}, // the registrar's address
		{net.IPv4(127, 0, 0, 2), []int{486, 503, 503}}, // a stranger's
	} {
		sc := newRawUDPFrom(t, p.LocalAddr(), tt.from)
		var got []int
		for range tt.want {
			rs := sc.final(sc.request("INVITE", p.accounts[0].token), 3*time.Second)
			if rs == nil {
				t.Fatalf("from %s: no final answer", tt.from)
			}
			got = append(got, rs[len(rs)-1].StatusCode)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("INVITEs from %s: %v, want %v", tt.from, got, tt.want)
		}
	}
}

// TestMethodNotAllowedHasAllow: a method we do not take gets 405 with
// the methods we do (RFC 3261 §8.2.1), whoever it is for.
func TestMethodNotAllowedHasAllow(t *testing.T) {
	p := newTestPhone(t, Options{})
	for _, method := range []string{"REGISTER", "MESSAGE", "SUBSCRIBE", "PUBLISH"} {
		sc := newRawUDP(t, p.LocalAddr())
		rs := sc.final(sc.request(method, "alice"), 3*time.Second)
		if len(rs) == 0 {
			t.Fatalf("%s: no answer", method)
		}
		res := rs[len(rs)-1]
		allow := res.GetHeader("Allow")
		if res.StatusCode != 405 || allow == nil || !strings.Contains(allow.Value(), "INVITE") {
			t.Errorf("%s: %d %s, Allow %v; want 405 with Allow", method, res.StatusCode, res.Reason, allow)
		}
	}
}
