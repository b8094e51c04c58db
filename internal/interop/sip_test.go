package interop

// Issue 2: SIP interop with real software. Registration with digest auth at
// Kamailio, calls in both directions through Kamailio (401/407 challenges,
// Record-Route) and directly with baresip, reject and cancel, and the
// headless binary end to end.

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/teaphone/teaphone/internal/peertest"
	"github.com/teaphone/teaphone/phone"
)

// registeredContact reports whether ul.dump lists a contact of AoR user at
// 127.0.0.1:port (any contact for port "").
func registeredContact(t *testing.T, k *peertest.Kamailio, user string, port string) (bool, string) {
	t.Helper()
	dump, err := k.Registrations()
	if err != nil {
		t.Fatal(err)
	}
	section, ok := aorSection(dump, user)
	if !ok {
		return false, dump
	}
	if port == "" {
		// Any contact: its user is the account's secret token, not user.
		return strings.Contains(section, "Address: sip:"), dump
	}
	return strings.Contains(section, "@127.0.0.1:"+port), dump
}

// aorSection is the part of ul.dump listing the contacts of AoR user
// ("AoR: user" up to the next AoR); false when there is none.
func aorSection(dump, user string) (string, bool) {
	i := strings.Index(dump, "AoR: "+user+"\n")
	if i < 0 {
		return "", false
	}
	section := dump[i+len("AoR: "+user):]
	if j := strings.Index(section, "AoR: "); j >= 0 {
		section = section[:j]
	}
	return section, true
}

// contactAt strips a Contact ("<sip:user@host:port>", with or without the
// brackets) down to "host:port": teaphone registers a secret user.
func contactAt(contact string) string {
	c := strings.Trim(contact, "<>")
	if i := strings.LastIndex(c, "@"); i >= 0 {
		c = c[i+1:]
	}
	if i := strings.IndexAny(c, ";>"); i >= 0 {
		c = c[:i]
	}
	return c
}

func portOf(addr string) string {
	if i := strings.LastIndex(addr, ":"); i >= 0 {
		return addr[i+1:]
	}
	return addr
}

// TestRegisterAtKamailio: REGISTER with digest auth (401, qop=auth), the
// binding in Kamailio's usrloc, and the un-REGISTER on Close.
func TestRegisterAtKamailio(t *testing.T) {
	k := startProxy(t)
	start := time.Now()
	ph := startPhone(t, phone.Options{Accounts: []phone.Account{daveAccount(k, "davepw")}})
	re, _ := ph.waitReg(0, phone.RegRegistered, waitLong)
	t.Logf("registered after %v: %+v", time.Since(start).Round(time.Millisecond), re)
	if re.Account != "dave" || re.Expires <= 0 || re.Expires > 300 || re.Code != 200 {
		t.Errorf("registered event = %+v, want account dave, 0 < expires <= 300, code 200", re)
	}
	if _, _, ok := ph.waitEvent(0, 0, func(ev phone.Event) bool {
		r, ok := ev.(phone.RegistrationEvent)
		return ok && r.State == phone.RegFailed
	}); ok {
		t.Errorf("a failed registration event came before registered:%s", ph.dump())
	}
	if !strings.Contains(k.Log(), "REGISTER dave: auth rc=") {
		t.Errorf("Kamailio did not challenge dave's REGISTER (no 401 logged)")
	}
	port := portOf(ph.LocalAddr())
	var dump string
	if !waitUntil(waitShort, func() bool {
		var ok bool
		ok, dump = registeredContact(t, k, "dave", port)
		return ok
	}) {
		t.Fatalf("ul.dump has no contact of dave at port %s:\n%s", port, dump)
	}
	if !strings.Contains(dump, "teaphone") {
		t.Errorf("ul.dump shows no teaphone User-Agent for dave:\n%s", dump)
	}

	mark := ph.mark()
	closeStart := time.Now()
	ph.close()
	t.Logf("Close took %v", time.Since(closeStart).Round(time.Millisecond))
	if _, _, ok := ph.waitEvent(mark, 0, func(ev phone.Event) bool {
		r, ok := ev.(phone.RegistrationEvent)
		return ok && r.State == phone.RegUnregistered && r.Account == "dave"
	}); !ok {
		t.Errorf("no unregistered event after Close:%s", ph.dumpSince(mark))
	}
	if !waitUntil(waitShort, func() bool {
		ok, d := registeredContact(t, k, "dave", port)
		dump = d
		return !ok
	}) {
		t.Errorf("dave is still registered after Close (no un-REGISTER):\n%s", dump)
	}
	if !strings.Contains(k.Log(), "REGISTER dave OK contact=") || !strings.Contains(k.Log(), "expires=0") {
		t.Errorf("Kamailio log shows no REGISTER with expires=0 for dave")
	}
}

// TestRegisterWrongPassword: a wrong password ends in a failed registration
// with 401 and a readable reason, retried with a backoff, not in a loop.
func TestRegisterWrongPassword(t *testing.T) {
	k := startProxy(t)
	start := time.Now()
	ph := startPhone(t, phone.Options{Accounts: []phone.Account{daveAccount(k, "wrong")}})
	first, i := ph.waitReg(0, phone.RegFailed, waitShort)
	took := time.Since(start)
	t.Logf("failed after %v: %+v", took.Round(time.Millisecond), first)
	if first.Code != 401 || first.Account != "dave" || first.Reason == "" {
		t.Errorf("failed event = %+v, want account dave, code 401 and a reason", first)
	}
	if took > 5*time.Second {
		t.Errorf("the failure took %v to be reported", took)
	}
	// The next attempt comes after the backoff (2 s and more), not at once.
	second, _ := ph.waitReg(i+1, phone.RegFailed, waitShort)
	gap := second.Time.Sub(first.Time)
	t.Logf("second failure %v after the first: %+v", gap.Round(time.Millisecond), second)
	if gap < 1500*time.Millisecond {
		t.Errorf("retried after only %v: no backoff", gap)
	}
	if n := strings.Count(k.Log(), "REGISTER dave: auth rc="); n > 6 {
		t.Errorf("Kamailio saw %d unauthenticated REGISTERs from dave in %v: a loop", n, time.Since(start))
	}
	if ok, dump := registeredContact(t, k, "dave", portOf(ph.LocalAddr())); ok {
		t.Errorf("dave registered with a wrong password:\n%s", dump)
	}
}

// proxySetup is Kamailio, teaphone registered as dave and baresip registered
// as alice.
func proxySetup(t *testing.T, h *callHandler) (*peertest.Kamailio, *testPhone, *peertest.Baresip) {
	t.Helper()
	peertest.NeedBaresip(t)
	k := startProxy(t)
	opts := phone.Options{Accounts: []phone.Account{daveAccount(k, "davepw")}}
	if h != nil {
		opts.Handler = h
	}
	ph := startPhone(t, opts)
	alice := peertest.StartBaresip(t, peertest.BaresipConfig{User: "alice", Registrar: k.Addr(), Password: "alicepw"})
	ph.waitReg(0, phone.RegRegistered, waitLong)
	return k, ph, alice
}

// TestCallFromBaresipViaKamailio: alice (baresip) calls sip:dave@KAM, Kamailio
// looks up teaphone's registration; either side hangs up.
func TestCallFromBaresipViaKamailio(t *testing.T) {
	h := newCallHandler(phone.Accept())
	k, ph, alice := proxySetup(t, h)

	for _, side := range []string{"baresip", "teaphone"} {
		t.Run(side+" hangs up", func(t *testing.T) {
			bm, pm := alice.Mark(), ph.mark()
			start := time.Now()
			if err := alice.Dial(k.URI("dave")); err != nil {
				t.Fatal(err)
			}
			ic := h.next(t, waitLong)
			if ic.Account != "dave" || !strings.Contains(ic.RemoteURI, "alice@127.0.0.1") {
				t.Errorf("incoming call = account %q from %q, want dave from alice", ic.Account, ic.RemoteURI)
			}
			ph.waitCall(pm, ic.Session, phone.StateRinging, waitShort)
			act := ph.waitCall(pm, ic.Session, phone.StateActive, waitShort)
			if act.Direction != phone.DirectionIncoming || act.Codec != "PCMU" {
				t.Errorf("active event = %+v, want incoming PCMU", act)
			}
			if _, err := alice.WaitEvent(bm, "CALL_ESTABLISHED", waitShort); err != nil {
				t.Fatal(err)
			}
			t.Logf("established after %v", time.Since(start).Round(time.Millisecond))

			if side == "baresip" {
				if err := alice.Hangup(); err != nil {
					t.Fatal(err)
				}
				end := ph.waitFinal(pm, ic.Session, waitShort)
				if end.State != phone.StateTerminated || end.Reason != "remote hangup" || end.Code != 200 {
					t.Errorf("end event = %s %d %q, want terminated 200 \"remote hangup\"", end.State, end.Code, end.Reason)
				}
				if _, err := alice.WaitEvent(bm, "CALL_CLOSED", waitShort); err != nil {
					t.Fatal(err)
				}
			} else {
				if err := ph.Hangup(ic.Session); err != nil {
					t.Fatal(err)
				}
				ev, err := alice.WaitEvent(bm, "CALL_CLOSED", waitShort)
				if err != nil {
					t.Fatal(err)
				}
				if ev.Param != "Connection reset by peer" {
					t.Errorf("baresip CALL_CLOSED %q, want \"Connection reset by peer\" (our BYE)", ev.Param)
				}
				if end := ph.waitFinal(pm, ic.Session, waitShort); end.State != phone.StateTerminated {
					t.Errorf("end event = %+v, want terminated", end)
				}
			}
			if got := ph.callStates(ic.Session); !containsState(got, phone.StateRinging) || !containsState(got, phone.StateActive) {
				t.Errorf("states = %v, want ringing and active", got)
			}
		})
	}
}

// TestCallToBaresipViaKamailio: teaphone (dave) calls sip:alice@KAM; the
// INVITE is challenged with 407, and the BYE of either side follows the
// Record-Route through Kamailio.
func TestCallToBaresipViaKamailio(t *testing.T) {
	k, ph, alice := proxySetup(t, nil)
	for _, side := range []string{"teaphone", "baresip"} {
		t.Run(side+" hangs up", func(t *testing.T) {
			bm, pm := alice.Mark(), ph.mark()
			logStart := len(k.Log())
			start := time.Now()
			id, err := ph.Dial(context.Background(), k.URI("alice"), phone.DialOptions{})
			if err != nil {
				t.Fatal(err)
			}
			act := ph.waitCall(pm, id, phone.StateActive, waitLong)
			t.Logf("active after %v", time.Since(start).Round(time.Millisecond))
			if act.Account != "dave" || act.Direction != phone.DirectionOutgoing || act.Codec != "PCMU" {
				t.Errorf("active event = %+v, want outgoing from dave, PCMU", act)
			}
			est, err := alice.WaitEvent(bm, "CALL_ESTABLISHED", waitShort)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(est.PeerURI, "dave@127.0.0.1") {
				t.Errorf("alice sees the call from %q, want dave", est.PeerURI)
			}
			klog := k.Log()[logStart:]
			if !strings.Contains(klog, "INVITE from dave: auth rc=") || !strings.Contains(klog, "INVITE for alice -> ") {
				t.Errorf("Kamailio did not challenge (407) and relay the INVITE from dave:\n%s", klog)
			}

			byeMark := len(k.Log())
			var byeFrom string
			if side == "teaphone" {
				byeFrom = "from " + ph.LocalAddr()
				if err := ph.Hangup(id); err != nil {
					t.Fatal(err)
				}
				if end := ph.waitFinal(pm, id, waitShort); end.State != phone.StateTerminated {
					t.Errorf("end event = %+v, want terminated", end)
				}
				if got := ph.callStates(id); !containsState(got, phone.StateTerminating) {
					t.Errorf("states = %v, want terminating before terminated", got)
				}
			} else {
				byeFrom = "from 127.0.0.1:" + strconv.Itoa(alice.SIPPort)
				if err := alice.Hangup(); err != nil {
					t.Fatal(err)
				}
				end := ph.waitFinal(pm, id, waitShort)
				if end.State != phone.StateTerminated || end.Reason != "remote hangup" || end.Code != 200 {
					t.Errorf("end event = %s %d %q, want terminated 200 \"remote hangup\"", end.State, end.Code, end.Reason)
				}
			}
			if _, err := alice.WaitEvent(bm, "CALL_CLOSED", waitShort); err != nil {
				t.Fatal(err)
			}
			// The BYE went through Kamailio (loose_route → RELAY logs REQ and RPL).
			var byeLog string
			if !waitUntil(waitShort, func() bool {
				byeLog = k.Log()[byeMark:]
				return strings.Contains(byeLog, "REQ BYE ") && strings.Contains(byeLog, "RPL 200 OK for BYE")
			}) {
				t.Errorf("Kamailio did not relay the BYE (Record-Route not followed):\n%s", byeLog)
			}
			for _, line := range strings.Split(byeLog, "\n") {
				if strings.Contains(line, "REQ BYE ") && !strings.Contains(line, byeFrom) {
					t.Errorf("BYE not %s: %s", byeFrom, line)
				}
			}
		})
	}
	t.Run("unregistered callee 404", func(t *testing.T) {
		pm := ph.mark()
		id, err := ph.Dial(context.Background(), k.URI("bob"), phone.DialOptions{})
		if err != nil {
			t.Fatal(err)
		}
		end := ph.waitFinal(pm, id, waitLong)
		if end.State != phone.StateFailed || end.Code != 404 || end.Reason != "Not Found" {
			t.Errorf("end event = %s %d %q, want failed 404 \"Not Found\"", end.State, end.Code, end.Reason)
		}
	})
}

// TestDirectCalls: no proxy. baresip dials teaphone's direct URI and hangs
// up; teaphone dials baresip and hangs up.
func TestDirectCalls(t *testing.T) {
	peertest.NeedBaresip(t)
	h := newCallHandler(phone.Accept())
	ph := startPhone(t, phone.Options{Handler: h})
	bob := peertest.StartBaresip(t, peertest.BaresipConfig{User: "bob"})

	t.Run("baresip calls", func(t *testing.T) {
		bm, pm := bob.Mark(), ph.mark()
		if err := bob.Dial(ph.uri("bob")); err != nil {
			t.Fatal(err)
		}
		ic := h.next(t, waitShort)
		if ic.Account != "" || !strings.Contains(ic.RemoteURI, "bob@127.0.0.1:"+strconv.Itoa(bob.SIPPort)) {
			t.Errorf("incoming call = account %q from %q", ic.Account, ic.RemoteURI)
		}
		ph.waitCall(pm, ic.Session, phone.StateActive, waitShort)
		if _, err := bob.WaitEvent(bm, "CALL_ESTABLISHED", waitShort); err != nil {
			t.Fatal(err)
		}
		if err := bob.Hangup(); err != nil {
			t.Fatal(err)
		}
		end := ph.waitFinal(pm, ic.Session, waitShort)
		if end.State != phone.StateTerminated || end.Reason != "remote hangup" || end.Code != 200 {
			t.Errorf("end event = %s %d %q, want terminated 200 \"remote hangup\"", end.State, end.Code, end.Reason)
		}
		if _, err := bob.WaitEvent(bm, "CALL_CLOSED", waitShort); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("teaphone calls", func(t *testing.T) {
		bm, pm := bob.Mark(), ph.mark()
		id, err := ph.Dial(context.Background(), bob.URI(), phone.DialOptions{})
		if err != nil {
			t.Fatal(err)
		}
		act := ph.waitCall(pm, id, phone.StateActive, waitShort)
		if act.Account != "" || act.RemoteURI != bob.URI() {
			t.Errorf("active event = %+v", act)
		}
		if _, err := bob.WaitEvent(bm, "CALL_ESTABLISHED", waitShort); err != nil {
			t.Fatal(err)
		}
		if err := ph.Hangup(id); err != nil {
			t.Fatal(err)
		}
		if end := ph.waitFinal(pm, id, waitShort); end.State != phone.StateTerminated {
			t.Errorf("end event = %+v, want terminated", end)
		}
		ev, err := bob.WaitEvent(bm, "CALL_CLOSED", waitShort)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Param != "Connection reset by peer" {
			t.Errorf("baresip CALL_CLOSED %q, want \"Connection reset by peer\"", ev.Param)
		}
	})
}

// TestRejectAndCancel: teaphone rejects baresip's call with 486; teaphone
// cancels its ringing call to baresip.
func TestRejectAndCancel(t *testing.T) {
	peertest.NeedBaresip(t)
	t.Run("reject 486", func(t *testing.T) {
		h := newCallHandler(phone.Reject(486, "Busy Here"))
		ph := startPhone(t, phone.Options{Handler: h})
		bob := peertest.StartBaresip(t, peertest.BaresipConfig{User: "bob"})
		bm, pm := bob.Mark(), ph.mark()
		if err := bob.Dial(ph.uri("bob")); err != nil {
			t.Fatal(err)
		}
		ic := h.next(t, waitShort)
		ev, err := bob.WaitEvent(bm, "CALL_CLOSED", waitShort)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(ev.Param, "486") {
			t.Errorf("baresip CALL_CLOSED %q, want 486", ev.Param)
		}
		end := ph.waitFinal(pm, ic.Session, waitShort)
		if end.State != phone.StateCancelled || end.Code != 486 || end.Reason != "Busy Here" {
			t.Errorf("end event = %s %d %q, want cancelled 486 \"Busy Here\"", end.State, end.Code, end.Reason)
		}
		if _, err := bob.WaitEvent(bm, "CALL_ESTABLISHED", 0); err == nil {
			t.Errorf("baresip established a rejected call")
		}
	})
	t.Run("cancel", func(t *testing.T) {
		ph := startPhone(t, phone.Options{})
		bob := peertest.StartBaresip(t, peertest.BaresipConfig{User: "bob", AnswerMode: "manual"})
		bm, pm := bob.Mark(), ph.mark()
		id, err := ph.Dial(context.Background(), bob.URI(), phone.DialOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := bob.WaitEvent(bm, "CALL_INCOMING", waitShort); err != nil {
			t.Fatal(err)
		}
		ph.waitCall(pm, id, phone.StateRinging, waitShort)
		start := time.Now()
		if err := ph.Hangup(id); err != nil {
			t.Fatal(err)
		}
		end := ph.waitFinal(pm, id, waitShort)
		t.Logf("cancelled after %v: %+v", time.Since(start).Round(time.Millisecond), end)
		if end.State != phone.StateCancelled {
			t.Errorf("end event = %s %d %q, want cancelled", end.State, end.Code, end.Reason)
		}
		closed, err := bob.WaitEvent(bm, "CALL_CLOSED", waitShort)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("baresip CALL_CLOSED %q", closed.Param)
		if _, err := bob.WaitEvent(bm, "CALL_ESTABLISHED", 0); err == nil {
			t.Errorf("baresip established a cancelled call")
		}
	})
}

// ---- the headless binary ----

// callEvents returns the "call" events of the JSON lines, and the media ones.
func callEvents(evs []map[string]any) (calls, media []map[string]any) {
	for _, e := range evs {
		switch e["event"] {
		case "call":
			calls = append(calls, e)
		case "media":
			media = append(media, e)
		}
	}
	return calls, media
}

// stateSeq returns the successive distinct states of the call events.
func stateSeq(calls []map[string]any) []string {
	var out []string
	for _, c := range calls {
		s, _ := c["state"].(string)
		if len(out) == 0 || out[len(out)-1] != s {
			out = append(out, s)
		}
	}
	return out
}

func rtpPortsFlag(t *testing.T) string {
	t.Helper()
	lo, err := peertest.FreePorts(40, 2)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%d-%d", lo, lo+39)
}

// TestHeadlessAnswer: "teaphone answer --calls 1" answers baresip's call,
// reports ringing → connected → terminated (remote hangup, 200) with media
// and dtmf events in JSON lines, and exits 0.
func TestHeadlessAnswer(t *testing.T) {
	peertest.NeedBaresip(t)
	bob := peertest.StartBaresip(t, peertest.BaresipConfig{User: "bob"})
	port, err := peertest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	tc := newTeaphoneCmd(t, "answer", "--listen", addr, "--audio", "tone:440", "--rtp-ports", rtpPortsFlag(t), "--calls", "1")
	start := time.Now()
	tc.start(t)
	if code, err := peertest.ProbeOptions(addr, waitShort); err != nil || code != 200 {
		t.Fatalf("teaphone answer does not answer OPTIONS: %d %v", code, err)
	}
	t.Logf("teaphone answer ready after %v", time.Since(start).Round(time.Millisecond))
	bm := bob.Mark()
	if err := bob.Dial("sip:teaphone@" + addr); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.WaitEvent(bm, "CALL_ESTABLISHED", waitShort); err != nil {
		t.Fatal(err)
	}
	est := time.Now()
	time.Sleep(time.Second) // baresip DTMF 1-2 s after CALL_ESTABLISHED is known to work; sooner was never tried
	if err := bob.SendDTMF("1#"); err != nil {
		t.Fatal(err)
	}
	// Let media flow and the digits arrive: a media event, two dtmf events
	// and about 2 s of call.
	if !waitUntil(waitShort, func() bool {
		out := tc.stdout.String()
		return strings.Contains(out, `"event":"media"`) && strings.Count(out, `"event":"dtmf"`) >= 2 && time.Since(est) >= 2*time.Second
	}) {
		t.Errorf("no media event or not two dtmf events within %v", waitShort)
	}
	if err := bob.Hangup(); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.WaitEvent(bm, "CALL_CLOSED", waitShort); err != nil {
		t.Fatal(err)
	}
	closed := time.Now()
	if code := tc.wait(t, waitShort); code != 0 {
		t.Errorf("teaphone answer exited %d, want 0", code)
	}
	t.Logf("teaphone answer exited %v after the call closed", time.Since(closed).Round(time.Millisecond))
	calls, media := callEvents(tc.jsonEvents(t))
	if len(calls) == 0 {
		t.Fatalf("no call events on stdout")
	}
	id := calls[0]["call_id"]
	for _, c := range calls {
		if c["call_id"] != id {
			t.Errorf("call event of another call: %v", c)
		}
	}
	seq := stateSeq(calls)
	if want := []string{"ringing", "connected", "terminated"}; strings.Join(seq, " ") != strings.Join(want, " ") {
		t.Errorf("call states %v, want %v", seq, want)
	}
	ringing := 0
	for _, c := range calls {
		if c["state"] == "ringing" {
			ringing++
		}
	}
	if ringing != 1 {
		t.Errorf("%d ringing events, want 1 (the second said nothing new): %v", ringing, calls)
	}
	last := calls[len(calls)-1]
	if last["reason"] != "remote hangup" || last["code"] != float64(200) || last["direction"] != "incoming" {
		t.Errorf("last call event = %v, want incoming, reason \"remote hangup\", code 200", last)
	}
	if !strings.Contains(fmt.Sprint(calls[0]["remote"]), "bob@127.0.0.1") {
		t.Errorf("remote = %v, want bob", calls[0]["remote"])
	}
	var rx float64
	for _, m := range media {
		if m["call_id"] != id || m["codec"] != "PCMU" {
			t.Errorf("media event = %v, want call %v, PCMU", m, id)
		}
		if v, _ := m["rx_packets"].(float64); v > rx {
			rx = v
		}
	}
	if len(media) == 0 || rx < 25 {
		t.Errorf("%d media events, at most %v packets received; want some, and >= 25 packets", len(media), rx)
	}
	var digits string
	for _, e := range tc.jsonEvents(t) {
		if e["event"] != "dtmf" {
			continue
		}
		digits += fmt.Sprint(e["digit"])
		if e["call_id"] != id || e["direction"] != "received" || e["method"] != "rfc4733" {
			t.Errorf("dtmf event = %v, want call %v, received, rfc4733", e, id)
		}
	}
	if digits != "1#" {
		t.Errorf("dtmf events carry %q, want \"1#\"", digits)
	}
}

// TestHeadlessDial: "teaphone dial URI --script 'wait 1s; hangup'" to
// baresip exits 0; a call baresip rejects (486) exits 1 with the reason on
// stderr.
func TestHeadlessDial(t *testing.T) {
	peertest.NeedBaresip(t)
	t.Run("hangup by script", func(t *testing.T) {
		bob := peertest.StartBaresip(t, peertest.BaresipConfig{User: "bob"})
		bm := bob.Mark()
		tc := newTeaphoneCmd(t, "dial", "--listen", "127.0.0.1:0", "--audio", "tone:1000", "--rtp-ports", rtpPortsFlag(t),
			"--timeout", "20s", "--script", "wait 1s; hangup", bob.URI())
		start := time.Now()
		tc.start(t)
		if _, err := bob.WaitEvent(bm, "CALL_ESTABLISHED", waitShort); err != nil {
			t.Fatal(err)
		}
		if code := tc.wait(t, waitLong); code != 0 {
			t.Errorf("teaphone dial exited %d, want 0; stderr: %s", code, tc.stderr.String())
		}
		t.Logf("teaphone dial done after %v", time.Since(start).Round(time.Millisecond))
		ev, err := bob.WaitEvent(bm, "CALL_CLOSED", waitShort)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Param != "Connection reset by peer" {
			t.Errorf("baresip CALL_CLOSED %q, want \"Connection reset by peer\"", ev.Param)
		}
		calls, _ := callEvents(tc.jsonEvents(t))
		seq := stateSeq(calls)
		if len(seq) < 2 || seq[len(seq)-1] != "terminated" || !containsString(seq, "connected") {
			t.Errorf("call states %v, want ... connected ... terminated", seq)
		}
		if len(calls) > 0 {
			if c := calls[0]; c["direction"] != "outgoing" || c["remote"] != bob.URI() {
				t.Errorf("first call event = %v, want outgoing to %s", c, bob.URI())
			}
			if last := calls[len(calls)-1]; last["code"] == nil || last["reason"] == nil {
				t.Errorf("final call event without reason/code: %v", last)
			}
		}
	})
	t.Run("rejected 486", func(t *testing.T) {
		bob := peertest.StartBaresip(t, peertest.BaresipConfig{User: "bob", AnswerMode: "manual"})
		bm := bob.Mark()
		tc := newTeaphoneCmd(t, "dial", "--listen", "127.0.0.1:0", "--audio", "null", "--rtp-ports", rtpPortsFlag(t),
			"--timeout", "20s", bob.URI())
		tc.start(t)
		if _, err := bob.WaitEvent(bm, "CALL_INCOMING", waitShort); err != nil {
			t.Fatal(err)
		}
		if err := bob.Hangup(); err != nil { // unanswered: 486 Rejected
			t.Fatal(err)
		}
		if code := tc.wait(t, waitLong); code != 1 {
			t.Errorf("teaphone dial exited %d, want 1", code)
		}
		t.Logf("stderr: %q", tc.stderr.String())
		if stderr := tc.stderr.String(); !strings.Contains(stderr, "486") {
			t.Errorf("stderr %q does not give the reason (486)", stderr)
		}
		calls, _ := callEvents(tc.jsonEvents(t))
		if len(calls) == 0 {
			t.Fatal("no call events")
		}
		last := calls[len(calls)-1]
		if last["state"] != "failed" || last["code"] != float64(486) {
			t.Errorf("last call event = %v, want failed 486", last)
		}
		if containsString(stateSeq(calls), "connected") {
			t.Errorf("a rejected call connected: %v", stateSeq(calls))
		}
	})
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestHeadlessDialViaKamailio: "teaphone dial" with an account from the
// config file registers at Kamailio, answers the 407 of its INVITE to alice
// and un-REGISTERs on exit.
func TestHeadlessDialViaKamailio(t *testing.T) {
	peertest.NeedBaresip(t)
	k := startProxy(t)
	alice := peertest.StartBaresip(t, peertest.BaresipConfig{User: "alice", Registrar: k.Addr(), Password: "alicepw"})
	config := fmt.Sprintf(`[[accounts]]
name = "dave"
aor = %q
registrar = %q
password = "davepw"
`, k.URI("dave"), k.Addr())
	bm := alice.Mark()
	tc := newTeaphoneCmdConfig(t, config, "dial", "--listen", "127.0.0.1:0", "--audio", "tone:1000", "--rtp-ports", rtpPortsFlag(t),
		"--timeout", "20s", "--script", "wait 1s; hangup", k.URI("alice"))
	start := time.Now()
	tc.start(t)
	if _, err := alice.WaitEvent(bm, "CALL_ESTABLISHED", waitLong); err != nil {
		t.Fatal(err)
	}
	if code := tc.wait(t, waitLong); code != 0 {
		t.Errorf("teaphone dial exited %d, want 0; stderr: %s", code, tc.stderr.String())
	}
	t.Logf("teaphone dial via Kamailio done after %v", time.Since(start).Round(time.Millisecond))
	if _, err := alice.WaitEvent(bm, "CALL_CLOSED", waitShort); err != nil {
		t.Fatal(err)
	}
	evs := tc.jsonEvents(t)
	var regStates []string
	for _, e := range evs {
		if e["event"] == "registration" {
			if e["account"] != "dave" {
				t.Errorf("registration event of account %v, want dave", e["account"])
			}
			regStates = append(regStates, fmt.Sprint(e["state"]))
		}
	}
	if !containsString(regStates, "registered") {
		t.Errorf("registration states %v, want registered", regStates)
	}
	calls, _ := callEvents(evs)
	seq := stateSeq(calls)
	if !containsString(seq, "connected") || len(seq) == 0 || seq[len(seq)-1] != "terminated" {
		t.Errorf("call states %v, want ... connected ... terminated", seq)
	}
	for _, c := range calls {
		// The first event (initiating, published before the phone picked the
		// default account) carries no account; the later ones must.
		if c["state"] != "initiating" && c["account"] != "dave" {
			t.Errorf("%v event from account %v, want dave", c["state"], c["account"])
		}
	}
	klog := k.Log()
	for _, want := range []string{"REGISTER dave OK", "INVITE from dave: auth rc=", "INVITE for alice -> ", "REQ BYE "} {
		if !strings.Contains(klog, want) {
			t.Errorf("Kamailio log lacks %q", want)
		}
	}
	// On exit the binary un-REGISTERs (Close does it before returning).
	var dump string
	if !waitUntil(waitShort, func() bool {
		var ok bool
		ok, dump = registeredContact(t, k, "dave", "")
		return !ok
	}) {
		t.Errorf("dave still registered after teaphone dial exited:\n%s", dump)
	}
}
