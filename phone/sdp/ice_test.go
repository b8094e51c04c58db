package sdp

import (
	"net/netip"
	"strings"
	"testing"
)

// baresipICE is what baresip 1.0 with medianat=ice offered in a test run:
// credentials at session level, candidates per component and family.
var baresipICE = sdpOf(
	"v=0",
	"o=- 2226446747 303146914 IN IP4 127.0.0.1",
	"s=-",
	"c=IN IP4 127.0.0.1",
	"t=0 0",
	"a=tool:baresip 1.0.0",
	"a=ice-ufrag:O7NI6PL",
	"a=ice-pwd:zChPiwcaBEhpl4gUuWA7tkGMLbVhrLc",
	"m=audio 26952 RTP/AVP 0 8 101",
	"c=IN IP4 192.0.2.2",
	"a=rtpmap:0 PCMU/8000",
	"a=rtpmap:8 PCMA/8000",
	"a=rtpmap:101 telephone-event/8000",
	"a=fmtp:101 0-15",
	"a=rtcp:26953 IN IP4 192.0.2.2",
	"a=sendrecv",
	"a=candidate:c0000202 1 UDP 2113929471 192.0.2.2 26952 typ host",
	"a=candidate:c0000202 2 UDP 2113929470 192.0.2.2 26953 typ host",
	"a=candidate:020000fd 1 UDP 2113929471 fd00::2 26952 typ host",
	"a=candidate:020000fd 2 UDP 2113929470 fd00::2 26953 typ host",
)

func TestParseICE(t *testing.T) {
	for _, tc := range []struct {
		name string
		sdp  string
		want ICE
	}{
		{"baresip", baresipICE, ICE{Ufrag: "O7NI6PL", Pwd: "zChPiwcaBEhpl4gUuWA7tkGMLbVhrLc", Candidates: 4}},
		{"no ICE", audio("0"), ICE{}},
		{"lite, media-level credentials", sdpOf(append(append([]string{}, head...), "a=ice-lite",
			"m=audio 5004 RTP/AVP 0", "a=ice-ufrag:abcd", "a=ice-pwd:0123456789012345678901",
			"a=candidate:1 1 UDP 1 192.0.2.10 5004 typ host")...),
			ICE{Ufrag: "abcd", Pwd: "0123456789012345678901", Lite: true, Candidates: 1}},
		{"password too short", audio("0", "ice-ufrag:abcd", "ice-pwd:short", "candidate:1 1 UDP 1 192.0.2.10 5004 typ host"),
			ICE{Candidates: 1}},
		{"bad characters", audio("0", "ice-ufrag:ab cd", "ice-pwd:0123456789012345678901!", "candidate:1 1 UDP 1 192.0.2.10 5004 typ host"),
			ICE{Candidates: 1}},
		{"malformed candidates not counted", audio("0", "ice-ufrag:abcd", "ice-pwd:0123456789012345678901",
			"candidate:1 0 UDP 1 192.0.2.10 5004 typ host", "candidate:1 1 UDP x 192.0.2.10 5004 typ host",
			"candidate:1 1 UDP 1 192.0.2.10 5004 type host", "candidate:garbage"),
			ICE{Ufrag: "abcd", Pwd: "0123456789012345678901"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Parse([]byte(tc.sdp))
			if err != nil {
				t.Fatal(err)
			}
			if m.ICE != tc.want {
				t.Fatalf("ICE = %+v, want %+v", m.ICE, tc.want)
			}
		})
	}
}

func iceLocal(host string) *Local {
	l := testLocal()
	l.ICE = &LocalICE{Ufrag: "tEaP", Pwd: "p4ssw0rdp4ssw0rdp4ssw0", Host: netip.MustParseAddrPort(host)}
	return l
}

func TestOfferWritesICELite(t *testing.T) {
	for _, tc := range []struct {
		name, host string
		noRTCP     bool
		want       []string
	}{
		{name: "host only", host: "198.51.100.1:40000", want: []string{
			"a=ice-lite",
			"a=ice-ufrag:tEaP", "a=ice-pwd:p4ssw0rdp4ssw0rdp4ssw0",
			"a=candidate:H126 1 UDP 2130706431 198.51.100.1 40000 typ host",
			"a=candidate:H126 2 UDP 2130706430 198.51.100.1 40001 typ host",
		}},
		{name: "behind NAT (STUN)", host: "10.0.0.7:30000", want: []string{
			"a=candidate:H126 1 UDP 2130706431 10.0.0.7 30000 typ host",
			"a=candidate:S100 1 UDP 1694498815 198.51.100.1 40000 typ srflx raddr 10.0.0.7 rport 30000",
			"a=candidate:H126 2 UDP 2130706430 10.0.0.7 30001 typ host",
		}},
		{name: "rtcp-mux", host: "198.51.100.1:40000", noRTCP: true, want: []string{
			"a=candidate:H126 1 UDP 2130706431 198.51.100.1 40000 typ host",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := iceLocal(tc.host)
			l.ICE.NoRTCP = tc.noRTCP
			b, err := Offer(l, SendRecv, false)
			if err != nil {
				t.Fatal(err)
			}
			s := string(b)
			for _, w := range tc.want {
				if !strings.Contains(s, w+"\r\n") {
					t.Errorf("offer lacks %q:\n%s", w, s)
				}
			}
			if tc.noRTCP && strings.Contains(s, " 2 UDP ") {
				t.Errorf("rtcp-mux offer has RTCP candidates:\n%s", s)
			}
			// What we write, we read back as ICE.
			m, err := Parse(b)
			if err != nil || !m.ICE.On() || !m.ICE.Lite {
				t.Fatalf("our offer parses as ICE %+v (%v)", m.ICE, err)
			}
		})
	}
}

func TestAnswerICEOnlyToICE(t *testing.T) {
	ans, remote, _, err := Answer(iceLocal("198.51.100.1:40000"), []byte(baresipICE), SendRecv)
	if err != nil {
		t.Fatal(err)
	}
	if !remote.ICE.On() || !strings.Contains(string(ans), "a=ice-ufrag:tEaP\r\n") || !strings.Contains(string(ans), "a=ice-lite\r\n") {
		t.Fatalf("answer to an ICE offer without our ICE:\n%s", ans)
	}
	ans, _, _, err = Answer(iceLocal("198.51.100.1:40000"), []byte(audio("0")), SendRecv)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(ans), "ice") || strings.Contains(string(ans), "candidate") {
		t.Fatalf("answer to an offer without ICE carries ICE:\n%s", ans)
	}
}
