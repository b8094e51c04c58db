package sdp

import (
	"errors"
	"strings"
	"testing"
)

// sdpOf joins lines with CRLF and ends with CRLF.
func sdpOf(lines ...string) string {
	return strings.Join(lines, "\r\n") + "\r\n"
}

// head is a session-level part with c=IN IP4 192.0.2.10.
var head = []string{
	"v=0",
	"o=- 1 1 IN IP4 192.0.2.10",
	"s=-",
	"c=IN IP4 192.0.2.10",
	"t=0 0",
}

// audio returns head plus an m=audio line on port 5004 with formats and
// media attributes.
func audio(formats string, attrs ...string) string {
	lines := append(append([]string{}, head...), "m=audio 5004 RTP/AVP "+formats)
	for _, a := range attrs {
		lines = append(lines, "a="+a)
	}
	return sdpOf(lines...)
}

// testLocal is the answering side used by most tests.
func testLocal() *Local {
	return &Local{Addr: "198.51.100.1", Port: 40000, SessionID: 777, Version: 10}
}

func checkErr(t *testing.T, err, want error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("error = %v, want %v", err, want)
	}
}

// realWorld holds representative descriptions written by other user agents.
var realWorld = map[string]string{
	// baresip 1.0 with opus, G.722 and G.711; LF only like some builds log.
	"baresip": strings.Join([]string{
		"v=0",
		"o=- 1513703591 2002716549 IN IP4 192.168.1.42",
		"s=-",
		"c=IN IP4 192.168.1.42",
		"t=0 0",
		"a=tool:baresip 1.0.0",
		"m=audio 10490 RTP/AVP 96 9 0 8 101",
		"b=AS:96",
		"a=rtpmap:96 opus/48000/2",
		"a=fmtp:96 stereo=1;sprop-stereo=1",
		"a=rtpmap:9 G722/8000",
		"a=rtpmap:0 PCMU/8000",
		"a=rtpmap:8 PCMA/8000",
		"a=rtpmap:101 telephone-event/8000",
		"a=fmtp:101 0-15",
		"a=sendrecv",
		"a=label:1",
		"a=ssrc:2356743234 cname:a9c4e2f0-5a1b-4c0e-9a1f-7e3b2d6c8f10",
		"a=rtcp-rsize",
		"a=ptime:20",
	}, "\n") + "\n",
	// Linphone with only G.711 and telephone-event on PT 96.
	"linphone-pt96": sdpOf(
		"v=0",
		"o=bob 2519 3742 IN IP4 192.168.0.20",
		"s=Talk",
		"c=IN IP4 192.168.0.20",
		"t=0 0",
		"a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics",
		"a=record:off",
		"m=audio 7078 RTP/AVP 8 0 96",
		"a=rtpmap:96 telephone-event/8000",
		"a=rtcp-fb:* trr-int 5000",
		"a=rtcp-fb:* ccm tmmbr",
	),
	// Linphone with many codecs and telephone-event at three clock rates.
	"linphone-multirate": sdpOf(
		"v=0",
		"o=alice 3251 1234 IN IP4 10.0.0.5",
		"s=Talk",
		"c=IN IP4 10.0.0.5",
		"t=0 0",
		"a=ice-pwd:31ec21eb38b2ec6d36e8dc7b",
		"a=ice-ufrag:0e8ad0e8",
		"m=audio 7078 RTP/AVP 96 97 98 0 8 18 101 99 100",
		"a=rtpmap:96 opus/48000/2",
		"a=fmtp:96 useinbandfec=1",
		"a=rtpmap:97 speex/16000",
		"a=fmtp:97 vbr=on",
		"a=rtpmap:98 speex/8000",
		"a=fmtp:98 vbr=on",
		"a=fmtp:18 annexb=yes",
		"a=rtpmap:101 telephone-event/48000",
		"a=rtpmap:99 telephone-event/16000",
		"a=rtpmap:100 telephone-event/8000",
		"a=rtcp:7079",
		"a=candidate:1 1 UDP 2130706431 10.0.0.5 7078 typ host",
		"a=rtcp-fb:* trr-int 1000",
		"a=rtcp-fb:* ccm tmmbr",
	),
	// Asterisk chan_pjsip offering PCMA first.
	"asterisk": sdpOf(
		"v=0",
		"o=- 1663329813 1663329813 IN IP4 203.0.113.10",
		"s=Asterisk",
		"c=IN IP4 203.0.113.10",
		"t=0 0",
		"m=audio 14562 RTP/AVP 8 0 3 101",
		"a=rtpmap:8 PCMA/8000",
		"a=rtpmap:0 PCMU/8000",
		"a=rtpmap:3 GSM/8000",
		"a=rtpmap:101 telephone-event/8000",
		"a=fmtp:101 0-16",
		"a=ptime:20",
		"a=maxptime:150",
		"a=sendrecv",
	),
	// Asterisk re-INVITE putting us on hold.
	"asterisk-hold": sdpOf(
		"v=0",
		"o=- 1663329813 1663329814 IN IP4 203.0.113.10",
		"s=Asterisk",
		"c=IN IP4 203.0.113.10",
		"t=0 0",
		"m=audio 14562 RTP/AVP 8 101",
		"a=rtpmap:8 PCMA/8000",
		"a=rtpmap:101 telephone-event/8000",
		"a=fmtp:101 0-16",
		"a=ptime:20",
		"a=maxptime:150",
		"a=sendonly",
	),
	// FreeSWITCH with comfort noise and an explicit a=rtcp.
	"freeswitch": sdpOf(
		"v=0",
		"o=FreeSWITCH 1700000000 1700000001 IN IP4 198.51.100.7",
		"s=FreeSWITCH",
		"c=IN IP4 198.51.100.7",
		"t=0 0",
		"m=audio 23456 RTP/AVP 0 8 101 13",
		"a=rtpmap:0 PCMU/8000",
		"a=rtpmap:8 PCMA/8000",
		"a=rtpmap:101 telephone-event/8000",
		"a=fmtp:101 0-16",
		"a=rtpmap:13 CN/8000",
		"a=ptime:20",
		"a=rtcp:23457 IN IP4 198.51.100.7",
	),
	// Old-style (RFC 2543) hold from a legacy PBX, no direction attribute.
	"legacy-hold-c0": sdpOf(
		"v=0",
		"o=CiscoSystemsSIP-GW-UserAgent 4160 4161 IN IP4 192.0.2.99",
		"s=SIP Call",
		"c=IN IP4 0.0.0.0",
		"t=0 0",
		"m=audio 18934 RTP/AVP 0 101",
		"c=IN IP4 0.0.0.0",
		"a=rtpmap:0 PCMU/8000",
		"a=rtpmap:101 telephone-event/8000",
		"a=fmtp:101 0-15",
		"a=ptime:20",
	),
	// SDES best-effort SRTP: an RTP/SAVP copy first, then plain RTP/AVP.
	"savp-then-avp": sdpOf(
		"v=0",
		"o=- 5 5 IN IP4 192.0.2.20",
		"s=-",
		"c=IN IP4 192.0.2.20",
		"t=0 0",
		"m=audio 6000 RTP/SAVP 0 8 101",
		"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz",
		"a=rtpmap:101 telephone-event/8000",
		"m=audio 6002 RTP/AVP 0 8 101",
		"a=rtpmap:101 telephone-event/8000",
	),
	// IPv6 only.
	"ipv6": sdpOf(
		"v=0",
		"o=- 9 9 IN IP6 2001:db8::20",
		"s=-",
		"c=IN IP6 2001:db8::20",
		"t=0 0",
		"m=audio 6000 RTP/AVP 8 110",
		"a=rtpmap:110 telephone-event/8000",
	),
	// Audio plus video: the video stream must come back with port 0.
	"audio-video": sdpOf(
		"v=0",
		"o=- 11 11 IN IP4 192.0.2.30",
		"s=-",
		"c=IN IP4 192.0.2.30",
		"t=0 0",
		"m=audio 7000 RTP/AVP 0 101",
		"a=rtpmap:101 telephone-event/8000",
		"m=video 7002 RTP/AVP 96 97",
		"a=rtpmap:96 H264/90000",
		"a=rtpmap:97 VP8/90000",
	),
}
