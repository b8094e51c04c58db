package interop

// RTP/RTCP multiplexing (RFC 5761) with baresip 1.0, which multiplexes when
// its rtcp_mux is on and the other side's SDP has a=rtcp-mux.

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/teaphone/teaphone/internal/peertest"
	"github.com/teaphone/teaphone/phone"
)

// udpRxQueue returns the receive queue, in bytes, of each IPv4 UDP socket
// bound to a local port in [lo, hi] (/proc/net/udp, proc(5)).
func udpRxQueue(t *testing.T, lo, hi int) map[int]int {
	t.Helper()
	f, err := os.Open("/proc/net/udp")
	if err != nil {
		t.Skipf("no /proc/net/udp: %v", err)
	}
	defer f.Close()
	out := map[int]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// sl local_address rem_address st tx_queue:rx_queue ...
		fs := strings.Fields(sc.Text())
		if len(fs) < 5 || !strings.Contains(fs[1], ":") {
			continue
		}
		_, hexPort, _ := strings.Cut(fs[1], ":")
		port, err := strconv.ParseUint(hexPort, 16, 16)
		if err != nil || int(port) < lo || int(port) > hi {
			continue
		}
		_, rxq, _ := strings.Cut(fs[4], ":")
		n, _ := strconv.ParseUint(rxq, 16, 32)
		out[int(port)] = int(n)
	}
	return out
}

// sdpOf returns the SDP body of the first message in msgs that match.
func sdpOfMsg(msgs []ctlSIPMsg, match func(ctlSIPMsg) bool) string {
	for _, m := range msgs {
		if match(m) && strings.Contains(m.body(), "m=audio") {
			return m.body()
		}
	}
	return ""
}

// TestRTCPMuxWithBaresip: calls both ways with baresip multiplexing and
// not, and one where teaphone does not offer it: each connects with the
// tone heard both ways; RTCP flows both ways (teaphone measures an RTT
// from baresip's reports, baresip reports CALL_RTCP from ours); the SDP
// carries a=rtcp-mux as RFC 5761 §5.1.1 and RFC 8035 say; and multiplexing
// is used exactly when both sides want it. Muxed, teaphone's RTCP sockets
// get nothing (their receive queues stay empty while nothing reads them):
// every report came in on the RTP port.
func TestRTCPMuxWithBaresip(t *testing.T) {
	peertest.NeedBaresip(t)
	for _, tc := range []struct {
		name        string
		bareMux     bool // baresip's rtcp_mux
		noMux       bool // teaphone's Options.NoRTCPMux
		callers     []string
		wantMuxed   bool
		wantAnswers bool // a=rtcp-mux in the answer
	}{
		{name: "baresip muxes", bareMux: true, callers: []string{"teaphone", "baresip"}, wantMuxed: true, wantAnswers: true},
		{name: "baresip does not mux", callers: []string{"teaphone", "baresip"}},
		// baresip 1.0 with rtcp_mux on answers an offer without
		// a=rtcp-mux without it (RFC 8035 §3), and does not multiplex.
		{name: "teaphone does not offer", bareMux: true, noMux: true, callers: []string{"teaphone"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bob := peertest.StartBaresip(t, peertest.BaresipConfig{User: "bob", AudioSource: "ausine,440", RTCPMux: tc.bareMux})
			au := &sineAudio{hz: 1000}
			h := newCallHandler(phone.Accept())
			lo, err := peertest.FreePorts(40, 2)
			if err != nil {
				t.Fatal(err)
			}
			ph := startPhone(t, phone.Options{Audio: au, Handler: h, NoRTCPMux: tc.noMux, RTPPortMin: lo, RTPPortMax: lo + 39})
			for _, caller := range tc.callers {
				t.Run(caller+" calls", func(t *testing.T) {
					rtcpMuxCall(t, bob, ph, h, au, caller, tc.wantMuxed, tc.wantAnswers, !tc.noMux, lo)
				})
			}
		})
	}
}

func rtcpMuxCall(t *testing.T, bob *peertest.Baresip, ph *testPhone, h *callHandler, au *sineAudio,
	caller string, wantMuxed, wantAnswers, weOffer bool, lo int) {
	bm, pm, trace, heard := bob.Mark(), ph.mark(), len(bob.Log()), len(au.received())
	id := startDirectCall(t, ph, bob, h, caller)
	ph.waitCall(pm, id, phone.StateActive, waitShort)
	if _, err := bob.WaitEvent(bm, "CALL_ESTABLISHED", waitShort); err != nil {
		t.Fatal(err)
	}
	// RTCP both ways: our RTT needs baresip's report on our SR (reports
	// every 5 s or so on both sides); baresip's CALL_RTCP comes from ours.
	var st phone.MediaStats
	if !waitUntil(20*time.Second, func() bool {
		st, _ = ph.Stats(id)
		return st.RTTMs > 0
	}) {
		t.Errorf("no RTT from baresip's RTCP after 20 s: %+v", st)
	}
	if _, err := bob.WaitEvent(bm, "CALL_RTCP", waitShort); err != nil {
		t.Errorf("baresip got no RTCP from teaphone: %v", err)
	}
	t.Logf("teaphone stats: %+v", st)
	if st.RTCPMux != wantMuxed {
		t.Errorf("teaphone multiplexes %v, want %v", st.RTCPMux, wantMuxed)
	}
	if wantMuxed {
		// Nothing reads our RTCP sockets now: had anything arrived there
		// it would wait in their queues.
		rtcpPorts := 0
		for port, q := range udpRxQueue(t, lo, lo+39) {
			if port%2 == 1 {
				rtcpPorts++
				if q != 0 {
					t.Errorf("%d bytes arrived at teaphone's RTCP port %d", q, port)
				}
			}
		}
		if rtcpPorts == 0 {
			t.Errorf("no RTCP socket of teaphone in %d-%d", lo, lo+39)
		}
	}
	if wantMuxed {
		rtcpMuxHoldResume(t, bob, ph, id, caller)
	}
	hangupAndWait(t, ph, bob, id, bm)

	msgs := ctlTrace(bob.Log()[trace:], 0)
	fromBob := func(m ctlSIPMsg) bool { return m.Src == "127.0.0.1:"+strconv.Itoa(bob.SIPPort) }
	fromUs := func(m ctlSIPMsg) bool { return !fromBob(m) }
	offerFrom, answerFrom := fromUs, fromBob
	if caller == "baresip" {
		offerFrom, answerFrom = fromBob, fromUs
	}
	offer, answer := sdpOfMsg(msgs, offerFrom), sdpOfMsg(msgs, answerFrom)
	if offer == "" || answer == "" {
		t.Fatalf("offer or answer missing from baresip's trace:\n%s", bob.Log()[trace:])
	}
	offerMux := strings.Contains(offer, "a=rtcp-mux\r\n")
	if caller == "teaphone" && (offerMux != weOffer || strings.Contains(offer, "a=rtcp:") != weOffer) {
		t.Errorf("teaphone's offer (a=rtcp-mux and a=rtcp: %v):\n%s", weOffer, offer)
	}
	if got := strings.Contains(answer, "a=rtcp-mux\r\n"); got != wantAnswers {
		t.Errorf("a=rtcp-mux in the answer %v, want %v:\n%s", got, wantAnswers, answer)
	}
	log := bob.Log()[trace:]
	if got := strings.Contains(log, "RTP/RTCP multiplexing enabled"); got != wantMuxed {
		t.Errorf("baresip multiplexes %v, want %v", got, wantMuxed)
	}
	if strings.Contains(log, "drop incoming RTCP packet on RTP port") {
		t.Error("baresip dropped RTCP that teaphone sent to its RTP port without multiplexing")
	}
	checkTone(t, fmt.Sprintf("baresip hears teaphone (mux %v)", wantMuxed), readRecording(t, bob), 1000, 2)
	checkTone(t, fmt.Sprintf("teaphone hears baresip (mux %v)", wantMuxed), au.received()[heard:], 440, 2)
	time.Sleep(1100 * time.Millisecond) // baresip names recordings by the second
}

// rtcpMuxHoldResume has the caller hold and resume the call (re-INVITEs
// from that side) and checks that multiplexing stays on, in the SDP of
// every re-INVITE and its answer and in teaphone's stream, and that our
// RTCP still reaches baresip.
func rtcpMuxHoldResume(t *testing.T, bob *peertest.Baresip, ph *testPhone, id phone.SessionID, caller string) {
	t.Helper()
	trace := len(bob.Log())
	for _, hold := range []bool{true, false} {
		pm := ph.mark()
		if caller == "teaphone" {
			var err error
			if hold {
				err = ph.Hold(id)
			} else {
				err = ph.Resume(id)
			}
			if err != nil {
				t.Fatal(err)
			}
		} else {
			var err error
			if hold {
				err = bob.Hold()
			} else {
				err = bob.Resume()
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, _, ok := ph.waitEvent(pm, waitShort, func(ev phone.Event) bool {
				c, ok := ev.(phone.CallEvent)
				return ok && c.Session == id && c.HeldRemote == hold
			}); !ok {
				t.Fatalf("teaphone did not see baresip's hold=%v", hold)
			}
		}
	}
	bm := bob.Mark()
	// Our event for baresip's resume may come before baresip logs our 200.
	var bodies []string
	waitUntil(waitShort, func() bool {
		bodies = bodies[:0]
		for _, m := range ctlTrace(bob.Log()[trace:], 0) {
			if b := m.body(); strings.Contains(b, "m=audio") {
				bodies = append(bodies, m.Start+"\n"+b)
			}
		}
		return len(bodies) >= 4
	})
	if len(bodies) < 4 {
		t.Errorf("%d SDP bodies in the re-INVITEs, want 4", len(bodies))
	}
	for _, b := range bodies {
		if !strings.Contains(b, "a=rtcp-mux\r\n") {
			t.Errorf("without a=rtcp-mux after hold/resume:\n%s", b)
		}
	}
	if st, _ := ph.Stats(id); !st.RTCPMux {
		t.Errorf("teaphone stopped multiplexing after %s's hold and resume", caller)
	}
	// Our reports still reach baresip, on its RTP port.
	if _, err := bob.WaitEvent(bm, "CALL_RTCP", waitShort); err != nil {
		t.Errorf("baresip got no RTCP from teaphone after the resume: %v", err)
	}
}
