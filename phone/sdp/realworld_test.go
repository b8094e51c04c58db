package sdp

import (
	"reflect"
	"testing"
)

func TestRealWorld(t *testing.T) {
	tests := []struct {
		name   string
		remote Media
		chosen Codec
		mlines []string
		answer Direction
	}{
		{
			name:   "baresip",
			remote: Media{Addr: "192.168.1.42", Port: 10490, Codecs: []Codec{{PT: 96, Name: Opus, Rate: 48000, Fmtp: "stereo=1;sprop-stereo=1"}, {PT: 9, Name: G722, Rate: 8000}, pcmu, pcma}, DTMFPT: 101, DTMF48: -1, Direction: SendRecv, Ptime: 20, RTCPPort: 10491},
			chosen: pcmu,
			mlines: []string{"m=audio 40000 RTP/AVP 0 101"},
			answer: SendRecv,
		},
		{
			name:   "linphone-pt96",
			remote: Media{Addr: "192.168.0.20", Port: 7078, Codecs: []Codec{pcma, pcmu}, DTMFPT: 96, DTMF48: -1, Direction: SendRecv, RTCPPort: 7079},
			chosen: pcma,
			mlines: []string{"m=audio 40000 RTP/AVP 8 96"},
			answer: SendRecv,
		},
		{
			name: "linphone-multirate",
			remote: Media{Addr: "10.0.0.5", Port: 7078, Codecs: []Codec{{PT: 96, Name: Opus, Rate: 48000, Fmtp: "useinbandfec=1"}, pcmu, pcma}, DTMFPT: 100, DTMF48: 101, Direction: SendRecv, RTCPPort: 7079,
				ICE: ICE{Ufrag: "0e8ad0e8", Pwd: "31ec21eb38b2ec6d36e8dc7b", Candidates: 1}},
			chosen: pcmu,
			mlines: []string{"m=audio 40000 RTP/AVP 0 100"},
			answer: SendRecv,
		},
		{
			name:   "asterisk",
			remote: Media{Addr: "203.0.113.10", Port: 14562, Codecs: []Codec{pcma, pcmu}, DTMFPT: 101, DTMF48: -1, Direction: SendRecv, Ptime: 20, RTCPPort: 14563},
			chosen: pcma,
			mlines: []string{"m=audio 40000 RTP/AVP 8 101"},
			answer: SendRecv,
		},
		{
			name:   "asterisk-hold",
			remote: Media{Addr: "203.0.113.10", Port: 14562, Codecs: []Codec{pcma}, DTMFPT: 101, DTMF48: -1, Direction: SendOnly, Ptime: 20, RTCPPort: 14563},
			chosen: pcma,
			mlines: []string{"m=audio 40000 RTP/AVP 8 101"},
			answer: RecvOnly,
		},
		{
			name:   "freeswitch",
			remote: Media{Addr: "198.51.100.7", Port: 23456, Codecs: []Codec{pcmu, pcma}, DTMFPT: 101, DTMF48: -1, Direction: SendRecv, Ptime: 20, RTCPPort: 23457},
			chosen: pcmu,
			mlines: []string{"m=audio 40000 RTP/AVP 0 101"},
			answer: SendRecv,
		},
		{
			name:   "legacy-hold-c0",
			remote: Media{Addr: "0.0.0.0", Port: 18934, Codecs: []Codec{pcmu}, DTMFPT: 101, DTMF48: -1, Direction: SendOnly, HoldC0: true, Ptime: 20, RTCPPort: 18935},
			chosen: pcmu,
			mlines: []string{"m=audio 40000 RTP/AVP 0 101"},
			answer: RecvOnly,
		},
		{
			name:   "savp-then-avp",
			remote: Media{Addr: "192.0.2.20", Port: 6002, Codecs: []Codec{pcmu, pcma}, DTMFPT: 101, DTMF48: -1, Direction: SendRecv, RTCPPort: 6003},
			chosen: pcmu,
			mlines: []string{"m=audio 0 RTP/SAVP 0 8 101", "m=audio 40000 RTP/AVP 0 101"},
			answer: SendRecv,
		},
		{
			name:   "ipv6",
			remote: Media{Addr: "2001:db8::20", Port: 6000, Codecs: []Codec{pcma}, DTMFPT: 110, DTMF48: -1, Direction: SendRecv, RTCPPort: 6001},
			chosen: pcma,
			mlines: []string{"m=audio 40000 RTP/AVP 8 110"},
			answer: SendRecv,
		},
		{
			name:   "audio-video",
			remote: Media{Addr: "192.0.2.30", Port: 7000, Codecs: []Codec{pcmu}, DTMFPT: 101, DTMF48: -1, Direction: SendRecv, RTCPPort: 7001},
			chosen: pcmu,
			mlines: []string{"m=audio 40000 RTP/AVP 0 101", "m=video 0 RTP/AVP 96 97"},
			answer: SendRecv,
		},
	}
	if len(tests) != len(realWorld) {
		t.Fatalf("%d cases for %d descriptions", len(tests), len(realWorld))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			offer, ok := realWorld[tt.name]
			if !ok {
				t.Fatalf("no description %q", tt.name)
			}
			parsed, err := Parse([]byte(offer))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(parsed, tt.remote) {
				t.Errorf("Parse =\n%+v\nwant\n%+v", parsed, tt.remote)
			}
			ans, remote, chosen, err := Answer(testLocal(), []byte(offer), SendRecv)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(remote, parsed) || chosen != tt.chosen {
				t.Errorf("Answer remote %+v chosen %v", remote, chosen)
			}
			if got := mLines(ans); !reflect.DeepEqual(got, tt.mlines) {
				t.Errorf("m= lines %q, want %q\n%s", got, tt.mlines, ans)
			}
			m, c, err := ParseAnswer(ans)
			if err != nil {
				t.Fatal(err)
			}
			if c != tt.chosen || m.Direction != tt.answer {
				t.Errorf("ParseAnswer: %v %v, want %v %v", c, m.Direction, tt.chosen, tt.answer)
			}
		})
	}
}
