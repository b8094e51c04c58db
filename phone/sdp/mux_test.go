package sdp

import (
	"strings"
	"testing"
)

// hasLine reports whether the description b has the line l.
func hasLine(b []byte, l string) bool {
	return strings.Contains("\r\n"+string(b), "\r\n"+l+"\r\n")
}

// TestOfferRTCPMux: with Local.RTCPMux an offer carries a=rtcp-mux and
// still names the separate RTCP port (RFC 5761 §5.1.1), which parses back;
// without it, neither attribute is written.
func TestOfferRTCPMux(t *testing.T) {
	for _, mux := range []bool{false, true} {
		l := &Local{Addr: "192.0.2.1", Port: 4000, RTCPMux: mux}
		offer, err := Offer(l, SendRecv, false)
		if err != nil {
			t.Fatal(err)
		}
		if hasLine(offer, "a=rtcp-mux") != mux || hasLine(offer, "a=rtcp:4001") != mux {
			t.Errorf("RTCPMux %v: offer\n%s", mux, offer)
		}
		m, err := Parse(offer)
		if err != nil {
			t.Fatal(err)
		}
		if m.RTCPMux != mux || m.Port != 4000 || m.RTCPPort != 4001 {
			t.Errorf("RTCPMux %v: parsed %+v", mux, m)
		}
	}
	// A port without a next one: a=rtcp-mux only.
	offer, err := Offer(&Local{Addr: "192.0.2.1", Port: 65535, RTCPMux: true}, SendRecv, false)
	if err != nil {
		t.Fatal(err)
	}
	if !hasLine(offer, "a=rtcp-mux") || strings.Contains(string(offer), "a=rtcp:") {
		t.Errorf("port 65535: offer\n%s", offer)
	}
}

// TestRTCPMuxNegotiation is the RFC 5761 §5.1.1 / RFC 8035 §3 table: the
// answer carries a=rtcp-mux iff the offer did and the answerer multiplexes,
// and both sides then agree on whether RTCP is multiplexed.
func TestRTCPMuxNegotiation(t *testing.T) {
	tests := []struct {
		offerMux, answerMux bool // what each side is willing to do
		want                bool // a=rtcp-mux in the answer, and mux in use
	}{
		{false, false, false},
		{false, true, false}, // RFC 8035: never in an answer to an offer without it
		{true, false, false}, // separate RTCP on the offered a=rtcp port
		{true, true, true},
	}
	for _, tt := range tests {
		uac := &Local{Addr: "192.0.2.1", Port: 4000, RTCPMux: tt.offerMux}
		uas := &Local{Addr: "192.0.2.2", Port: 6000, RTCPMux: tt.answerMux}
		offer, err := Offer(uac, SendRecv, false)
		if err != nil {
			t.Fatal(err)
		}
		ans, remote, _, err := Answer(uas, offer, SendRecv)
		if err != nil {
			t.Fatal(err)
		}
		if remote.RTCPMux != tt.offerMux {
			t.Errorf("offer mux %v: the answerer reads %v", tt.offerMux, remote.RTCPMux)
		}
		if got := hasLine(ans, "a=rtcp-mux"); got != tt.want {
			t.Errorf("offer mux %v, answerer mux %v: a=rtcp-mux in the answer %v, want %v\n%s", tt.offerMux, tt.answerMux, got, tt.want, ans)
		}
		if strings.Contains(string(ans), "a=rtcp:") {
			t.Errorf("the answer names an RTCP port:\n%s", ans)
		}
		m, _, err := ParseAnswer(ans)
		if err != nil {
			t.Fatal(err)
		}
		uacMux := tt.offerMux && m.RTCPMux
		uasMux := uas.RTCPMux && remote.RTCPMux
		if uacMux != tt.want || uasMux != tt.want {
			t.Errorf("offer mux %v, answerer mux %v: offerer muxes %v, answerer %v, want %v", tt.offerMux, tt.answerMux, uacMux, uasMux, tt.want)
		}
		if !tt.want && m.RTCPPort != 6001 {
			t.Errorf("separate RTCP: answerer's RTCP port %d, want 6001", m.RTCPPort)
		}
	}
}

// TestParseRTCPMux: a=rtcp-mux is a media-level attribute; at session
// level, or on another stream, it does not count.
func TestParseRTCPMux(t *testing.T) {
	tests := []struct {
		name string
		sdp  string
		want bool
	}{
		{"media level", audio("0", "rtcp-mux"), true},
		{"with a=rtcp on the RTP port", audio("0", "rtcp:5004", "rtcp-mux"), true},
		{"absent", audio("0", "rtcp-rsize"), false},
		{"session level", sdpOf(append(append([]string{}, head...), "a=rtcp-mux", "m=audio 5004 RTP/AVP 0")...), false},
		{"on the video stream", sdpOf(append(append([]string{}, head...), "m=audio 5004 RTP/AVP 0", "m=video 5006 RTP/AVP 96", "a=rtcp-mux")...), false},
	}
	for _, tt := range tests {
		m, err := Parse([]byte(tt.sdp))
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if m.RTCPMux != tt.want {
			t.Errorf("%s: RTCPMux %v, want %v", tt.name, m.RTCPMux, tt.want)
		}
	}
}

// TestRTCPMuxWithICE: RFC 5761 §5.1.3 — an offer with ICE and a=rtcp-mux
// has candidates for RTP and RTCP and the a=rtcp fallback port; an answer
// that accepts multiplexing has a candidate for RTP only, one that does
// not (an offer without a=rtcp-mux) keeps the RTCP candidate.
func TestRTCPMuxWithICE(t *testing.T) {
	l := iceLocal("198.51.100.1:40000")
	l.RTCPMux = true
	offer, err := Offer(l, SendRecv, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"a=rtcp-mux", "a=rtcp:40001", "a=candidate:H126 1 UDP 2130706431 198.51.100.1 40000 typ host", "a=candidate:H126 2 UDP 2130706430 198.51.100.1 40001 typ host"} {
		if !hasLine(offer, w) {
			t.Errorf("offer lacks %q:\n%s", w, offer)
		}
	}
	for _, offerMux := range []bool{true, false} {
		peer := &Local{Addr: "192.0.2.7", Port: 5004, RTCPMux: offerMux, ICE: &LocalICE{Ufrag: "peer", Pwd: "peerpeerpeerpeerpeerpeer"}}
		po, err := Offer(peer, SendRecv, false)
		if err != nil {
			t.Fatal(err)
		}
		ans, _, _, err := Answer(l, po, SendRecv)
		if err != nil {
			t.Fatal(err)
		}
		if hasLine(ans, "a=rtcp-mux") != offerMux || strings.Contains(string(ans), " 2 UDP ") == offerMux {
			t.Errorf("offer mux %v: answer\n%s", offerMux, ans)
		}
	}
}
