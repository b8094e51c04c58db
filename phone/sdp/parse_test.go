package sdp

import (
	"reflect"
	"strings"
	"testing"
)

var (
	pcmu = Codec{PT: 0, Name: PCMU, Rate: 8000}
	pcma = Codec{PT: 8, Name: PCMA, Rate: 8000}
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		sdp  string
		want Media
	}{
		{
			name: "pcmu only, static without rtpmap",
			sdp:  audio("0"),
			want: Media{Addr: "192.0.2.10", Port: 5004, Codecs: []Codec{pcmu}, DTMFPT: -1, DTMF48: -1, Direction: SendRecv, RTCPPort: 5005},
		},
		{
			name: "pcma only",
			sdp:  audio("8", "rtpmap:8 PCMA/8000"),
			want: Media{Addr: "192.0.2.10", Port: 5004, Codecs: []Codec{pcma}, DTMFPT: -1, DTMF48: -1, Direction: SendRecv, RTCPPort: 5005},
		},
		{
			name: "order kept, unknown formats dropped",
			sdp:  audio("18 8 3 0 96", "rtpmap:18 G729/8000", "rtpmap:96 opus/48000/2"),
			want: Media{Addr: "192.0.2.10", Port: 5004, Codecs: []Codec{pcma, pcmu, {PT: 96, Name: Opus, Rate: 48000}}, DTMFPT: -1, DTMF48: -1, Direction: SendRecv, RTCPPort: 5005},
		},
		{
			name: "dynamic PT named pcmu, lower case",
			sdp:  audio("97 120", "rtpmap:97 pcmu/8000", "rtpmap:120 Telephone-Event/8000"),
			want: Media{Addr: "192.0.2.10", Port: 5004, Codecs: []Codec{{PT: 97, Name: PCMU, Rate: 8000}}, DTMFPT: 120, DTMF48: -1, Direction: SendRecv, RTCPPort: 5005},
		},
		{
			name: "rtpmap with channel count 1 accepted, 2 skipped",
			sdp:  audio("96 97", "rtpmap:96 PCMA/8000/2", "rtpmap:97 PCMA/8000/1"),
			want: Media{Addr: "192.0.2.10", Port: 5004, Codecs: []Codec{{PT: 97, Name: PCMA, Rate: 8000}}, DTMFPT: -1, DTMF48: -1, Direction: SendRecv, RTCPPort: 5005},
		},
		{
			name: "pcmu at another rate skipped",
			sdp:  audio("96 0", "rtpmap:96 PCMU/16000"),
			want: Media{Addr: "192.0.2.10", Port: 5004, Codecs: []Codec{pcmu}, DTMFPT: -1, DTMF48: -1, Direction: SendRecv, RTCPPort: 5005},
		},
		{
			name: "rtpmap overrides a static PT",
			sdp:  audio("0", "rtpmap:0 PCMA/8000"),
			want: Media{Addr: "192.0.2.10", Port: 5004, Codecs: []Codec{{PT: 0, Name: PCMA, Rate: 8000}}, DTMFPT: -1, DTMF48: -1, Direction: SendRecv, RTCPPort: 5005},
		},
		{
			name: "duplicate formats and rtpmaps: first wins",
			sdp:  audio("0 0 101 101", "rtpmap:101 telephone-event/8000", "rtpmap:101 PCMA/8000"),
			want: Media{Addr: "192.0.2.10", Port: 5004, Codecs: []Codec{pcmu}, DTMFPT: 101, DTMF48: -1, Direction: SendRecv, RTCPPort: 5005},
		},
		{
			name: "dynamic PT without rtpmap and dtmf at 16 kHz ignored",
			sdp:  audio("96 97 0", "rtpmap:97 telephone-event/16000"),
			want: Media{Addr: "192.0.2.10", Port: 5004, Codecs: []Codec{pcmu}, DTMFPT: -1, DTMF48: -1, Direction: SendRecv, RTCPPort: 5005},
		},
		{
			name: "rtpmap for a format not in m= ignored",
			sdp:  audio("0", "rtpmap:101 telephone-event/8000"),
			want: Media{Addr: "192.0.2.10", Port: 5004, Codecs: []Codec{pcmu}, DTMFPT: -1, DTMF48: -1, Direction: SendRecv, RTCPPort: 5005},
		},
		{
			name: "first telephone-event/8000 in m= order",
			sdp:  audio("0 110 96", "rtpmap:96 telephone-event/8000", "rtpmap:110 telephone-event/8000"),
			want: Media{Addr: "192.0.2.10", Port: 5004, Codecs: []Codec{pcmu}, DTMFPT: 110, DTMF48: -1, Direction: SendRecv, RTCPPort: 5005},
		},
		{
			name: "no supported codec is not a parse error",
			sdp:  audio("18 4"),
			want: Media{Addr: "192.0.2.10", Port: 5004, DTMFPT: -1, DTMF48: -1, Direction: SendRecv, RTCPPort: 5005},
		},
		{
			name: "ptime and rtcp with address",
			sdp:  audio("0", "ptime:30", "rtcp:6000 IN IP4 192.0.2.11"),
			want: Media{Addr: "192.0.2.10", Port: 5004, Codecs: []Codec{pcmu}, DTMFPT: -1, DTMF48: -1, Direction: SendRecv, Ptime: 30, RTCPPort: 6000},
		},
		{
			name: "media c= overrides session c=",
			sdp: sdpOf(append(append([]string{}, head...),
				"m=audio 5004 RTP/AVP 0", "c=IN IP4 192.0.2.99")...),
			want: Media{Addr: "192.0.2.99", Port: 5004, Codecs: []Codec{pcmu}, DTMFPT: -1, DTMF48: -1, Direction: SendRecv, RTCPPort: 5005},
		},
		{
			name: "media-level c= only",
			sdp:  sdpOf("v=0", "o=- 1 1 IN IP4 192.0.2.10", "s=-", "t=0 0", "m=audio 5004 RTP/AVP 0", "c=IN IP4 192.0.2.98"),
			want: Media{Addr: "192.0.2.98", Port: 5004, Codecs: []Codec{pcmu}, DTMFPT: -1, DTMF48: -1, Direction: SendRecv, RTCPPort: 5005},
		},
		{
			name: "ipv6",
			sdp:  sdpOf("v=0", "o=- 1 1 IN IP6 2001:db8::1", "s=-", "c=IN IP6 2001:DB8:0::1", "t=0 0", "m=audio 5004 RTP/AVP 0"),
			want: Media{Addr: "2001:db8::1", Port: 5004, Codecs: []Codec{pcmu}, DTMFPT: -1, DTMF48: -1, Direction: SendRecv, RTCPPort: 5005},
		},
		{
			name: "host name",
			sdp:  sdpOf("v=0", "o=- 1 1 IN IP4 pbx.example.com", "s=-", "c=IN IP4 media.example.com", "t=0 0", "m=audio 5004 RTP/AVP 0"),
			want: Media{Addr: "media.example.com", Port: 5004, Codecs: []Codec{pcmu}, DTMFPT: -1, DTMF48: -1, Direction: SendRecv, RTCPPort: 5005},
		},
		{
			name: "multicast with ttl",
			sdp:  sdpOf("v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 224.2.1.1/127", "t=0 0", "m=audio 5004 RTP/AVP 0"),
			want: Media{Addr: "224.2.1.1", Port: 5004, Codecs: []Codec{pcmu}, DTMFPT: -1, DTMF48: -1, Direction: SendRecv, RTCPPort: 5005},
		},
		{
			name: "session-level direction",
			sdp:  sdpOf(append(append([]string{}, head...), "a=sendonly", "m=audio 5004 RTP/AVP 0")...),
			want: Media{Addr: "192.0.2.10", Port: 5004, Codecs: []Codec{pcmu}, DTMFPT: -1, DTMF48: -1, Direction: SendOnly, RTCPPort: 5005},
		},
		{
			name: "media-level direction overrides session-level",
			sdp:  sdpOf(append(append([]string{}, head...), "a=inactive", "m=audio 5004 RTP/AVP 0", "a=recvonly")...),
			want: Media{Addr: "192.0.2.10", Port: 5004, Codecs: []Codec{pcmu}, DTMFPT: -1, DTMF48: -1, Direction: RecvOnly, RTCPPort: 5005},
		},
		{
			name: "c=0.0.0.0 without attribute is sendonly",
			sdp:  strings.Replace(audio("0"), "c=IN IP4 192.0.2.10", "c=IN IP4 0.0.0.0", 1),
			want: Media{Addr: "0.0.0.0", Port: 5004, Codecs: []Codec{pcmu}, DTMFPT: -1, DTMF48: -1, Direction: SendOnly, HoldC0: true, RTCPPort: 5005},
		},
		{
			name: "c=0.0.0.0 with sendonly",
			sdp:  strings.Replace(audio("0", "sendonly"), "c=IN IP4 192.0.2.10", "c=IN IP4 0.0.0.0", 1),
			want: Media{Addr: "0.0.0.0", Port: 5004, Codecs: []Codec{pcmu}, DTMFPT: -1, DTMF48: -1, Direction: SendOnly, HoldC0: true, RTCPPort: 5005},
		},
		{
			name: "c=0.0.0.0 with recvonly is inactive",
			sdp:  strings.Replace(audio("0", "recvonly"), "c=IN IP4 192.0.2.10", "c=IN IP4 0.0.0.0", 1),
			want: Media{Addr: "0.0.0.0", Port: 5004, Codecs: []Codec{pcmu}, DTMFPT: -1, DTMF48: -1, Direction: Inactive, HoldC0: true, RTCPPort: 5005},
		},
		{
			name: "c=0.0.0.0 with inactive",
			sdp:  strings.Replace(audio("0", "inactive"), "c=IN IP4 192.0.2.10", "c=IN IP4 0.0.0.0", 1),
			want: Media{Addr: "0.0.0.0", Port: 5004, Codecs: []Codec{pcmu}, DTMFPT: -1, DTMF48: -1, Direction: Inactive, HoldC0: true, RTCPPort: 5005},
		},
		{
			name: "c=IN IP6 :: is hold too",
			sdp:  sdpOf("v=0", "o=- 1 1 IN IP6 ::1", "s=-", "c=IN IP6 ::", "t=0 0", "m=audio 5004 RTP/AVP 0"),
			want: Media{Addr: "::", Port: 5004, Codecs: []Codec{pcmu}, DTMFPT: -1, DTMF48: -1, Direction: SendOnly, HoldC0: true, RTCPPort: 5005},
		},
		{
			name: "LF only, no final newline, trailing blanks, empty lines",
			sdp:  "v=0\no=- 1 1 IN IP4 192.0.2.10 \ns= \n\nc=IN IP4 192.0.2.10\t\nt=0 0\nm=audio 5004 RTP/AVP 0 8 \na=sendonly ",
			want: Media{Addr: "192.0.2.10", Port: 5004, Codecs: []Codec{pcmu, pcma}, DTMFPT: -1, DTMF48: -1, Direction: SendOnly, RTCPPort: 5005},
		},
		{
			name: "rejected audio: port 0 returned without error",
			sdp:  strings.Replace(audio("0"), "m=audio 5004", "m=audio 0", 1),
			want: Media{Addr: "192.0.2.10", Port: 0, Codecs: []Codec{pcmu}, DTMFPT: -1, DTMF48: -1, Direction: SendRecv},
		},
		{
			name: "first audio with a port wins over an earlier port 0",
			sdp: sdpOf(append(append([]string{}, head...),
				"m=audio 0 RTP/AVP 8", "m=video 5006 RTP/AVP 31", "m=audio 5008 RTP/AVP 0")...),
			want: Media{Addr: "192.0.2.10", Port: 5008, Codecs: []Codec{pcmu}, DTMFPT: -1, DTMF48: -1, Direction: SendRecv, RTCPPort: 5009},
		},
		{
			name: "port range ignored",
			sdp:  strings.Replace(audio("0"), "m=audio 5004", "m=audio 5004/2", 1),
			want: Media{Addr: "192.0.2.10", Port: 5004, Codecs: []Codec{pcmu}, DTMFPT: -1, DTMF48: -1, Direction: SendRecv, RTCPPort: 5005},
		},
		{
			name: "port 65535 has no implicit rtcp port",
			sdp:  strings.Replace(audio("0"), "m=audio 5004", "m=audio 65535", 1),
			want: Media{Addr: "192.0.2.10", Port: 65535, Codecs: []Codec{pcmu}, DTMFPT: -1, DTMF48: -1, Direction: SendRecv},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.sdp))
			if err != nil {
				t.Fatalf("Parse: %v\n%s", err, tt.sdp)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	rep := func(old, new string) string {
		return strings.Replace(audio("0 101", "rtpmap:101 telephone-event/8000"), old, new, 1)
	}
	tests := []struct {
		name string
		sdp  string
		want error
	}{
		{"empty", "", ErrMalformed},
		{"garbage", "hello world", ErrMalformed},
		{"binary", "\x00\xff\xfe=\x01", ErrMalformed},
		{"version only", "v=0\r\n", ErrMalformed},
		{"version 1", rep("v=0", "v=1"), ErrMalformed},
		{"missing o=", strings.Replace(audio("0"), "o=- 1 1 IN IP4 192.0.2.10\r\n", "", 1), ErrMalformed},
		{"missing t=", strings.Replace(audio("0"), "t=0 0\r\n", "", 1), ErrMalformed},
		{"no c= anywhere", strings.Replace(audio("0"), "c=IN IP4 192.0.2.10\r\n", "", 1), ErrMalformed},
		{"c= without address", rep("c=IN IP4 192.0.2.10", "c=IN IP4"), ErrMalformed},
		{"c= bad network", rep("c=IN IP4 192.0.2.10", "c=XX IP4 192.0.2.10"), ErrMalformed},
		{"c= IP4 with v6 address", rep("c=IN IP4 192.0.2.10", "c=IN IP4 2001:db8::1"), ErrMalformed},
		{"c= IP6 with v4 address", rep("c=IN IP4 192.0.2.10", "c=IN IP6 192.0.2.10"), ErrMalformed},
		{"c= bad v4 literal", rep("c=IN IP4 192.0.2.10", "c=IN IP4 300.1.1.1"), ErrMalformed},
		{"c= with zone", rep("c=IN IP4 192.0.2.10", "c=IN IP6 fe80::1%eth0"), ErrMalformed},
		{"c= junk", rep("c=IN IP4 192.0.2.10", "c=IN IP4 a_b!"), ErrMalformed},
		{"port too big", rep("m=audio 5004", "m=audio 70000"), ErrMalformed},
		{"port huge", rep("m=audio 5004", "m=audio 99999999999999999999999"), ErrMalformed},
		{"port negative", rep("m=audio 5004", "m=audio -1"), ErrMalformed},
		{"port text", rep("m=audio 5004", "m=audio abc"), ErrMalformed},
		{"format text", rep("RTP/AVP 0 101", "RTP/AVP 0 abc"), ErrMalformed},
		{"format 128", rep("RTP/AVP 0 101", "RTP/AVP 0 128"), ErrMalformed},
		{"format huge", rep("RTP/AVP 0 101", "RTP/AVP 0 184467440737095516160"), ErrMalformed},
		{"rtpmap without encoding", rep("a=rtpmap:101 telephone-event/8000", "a=rtpmap:101"), ErrMalformed},
		{"rtpmap bad pt", rep("a=rtpmap:101 telephone-event/8000", "a=rtpmap:x telephone-event/8000"), ErrMalformed},
		{"rtpmap pt 300", rep("a=rtpmap:101 telephone-event/8000", "a=rtpmap:300 telephone-event/8000"), ErrMalformed},
		{"rtpmap without rate", rep("a=rtpmap:101 telephone-event/8000", "a=rtpmap:101 telephone-event"), ErrMalformed},
		{"rtpmap bad rate", rep("a=rtpmap:101 telephone-event/8000", "a=rtpmap:101 telephone-event/8k"), ErrMalformed},
		{"rtpmap huge rate", rep("a=rtpmap:101 telephone-event/8000", "a=rtpmap:101 telephone-event/99999999999"), ErrMalformed},
		{"rtpmap zero rate", rep("a=rtpmap:101 telephone-event/8000", "a=rtpmap:101 telephone-event/0"), ErrMalformed},
		{"rtpmap empty name", rep("a=rtpmap:101 telephone-event/8000", "a=rtpmap:101 /8000"), ErrMalformed},
		{"rtpmap too many parts", rep("a=rtpmap:101 telephone-event/8000", "a=rtpmap:101 PCMU/8000/1/2"), ErrMalformed},
		{"ptime text", audio("0", "ptime:abc"), ErrMalformed},
		{"ptime zero", audio("0", "ptime:0"), ErrMalformed},
		{"ptime huge", audio("0", "ptime:99999999999999999999"), ErrMalformed},
		{"rtcp text", audio("0", "rtcp:abc"), ErrMalformed},
		{"rtcp too big", audio("0", "rtcp:70000"), ErrMalformed},
		{"too large", audio("0", strings.Repeat("x", MaxSize)), ErrMalformed},
		{"no media", sdpOf(head...), ErrNoAudio},
		{"video only", sdpOf(append(append([]string{}, head...), "m=video 5004 RTP/AVP 31")...), ErrNoAudio},
		{"avpf only", rep("RTP/AVP", "RTP/AVPF"), ErrNoAudio},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.sdp))
			checkErr(t, err, tt.want)
		})
	}
}
