package sdp

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// mLines returns the m= lines of a description.
func mLines(b []byte) []string {
	var out []string
	for l := range strings.SplitSeq(string(b), "\r\n") {
		if strings.HasPrefix(l, "m=") {
			out = append(out, l)
		}
	}
	return out
}

func TestAnswerCodecs(t *testing.T) {
	tests := []struct {
		name    string
		offer   string
		enabled []string
		chosen  Codec
		mline   string // m= line of the answer
		dtmf    int    // DTMF PT in the answer
		wantErr error
	}{
		{name: "PCMU only", offer: audio("0"), chosen: pcmu, mline: "m=audio 40000 RTP/AVP 0", dtmf: -1},
		{name: "PCMA only", offer: audio("8"), chosen: pcma, mline: "m=audio 40000 RTP/AVP 8", dtmf: -1},
		{name: "PCMU then PCMA", offer: audio("0 8"), chosen: pcmu, mline: "m=audio 40000 RTP/AVP 0", dtmf: -1},
		{name: "PCMA then PCMU", offer: audio("8 0"), chosen: pcma, mline: "m=audio 40000 RTP/AVP 8", dtmf: -1},
		{
			name: "offerer order wins over ours", offer: audio("8 0"), enabled: []string{"PCMU", "PCMA"},
			chosen: pcma, mline: "m=audio 40000 RTP/AVP 8", dtmf: -1,
		},
		{
			name: "enabled list filters", offer: audio("8 0"), enabled: []string{"PCMU"},
			chosen: pcmu, mline: "m=audio 40000 RTP/AVP 0", dtmf: -1,
		},
		{
			name: "telephone-event 101", offer: audio("0 8 101", "rtpmap:101 telephone-event/8000", "fmtp:101 0-16"),
			chosen: pcmu, mline: "m=audio 40000 RTP/AVP 0 101", dtmf: 101,
		},
		{
			name: "telephone-event 96", offer: audio("8 96", "rtpmap:96 telephone-event/8000"),
			chosen: pcma, mline: "m=audio 40000 RTP/AVP 8 96", dtmf: 96,
		},
		{
			name: "telephone-event 110 listed first", offer: audio("110 0", "rtpmap:110 telephone-event/8000"),
			chosen: pcmu, mline: "m=audio 40000 RTP/AVP 110 0", dtmf: 110,
		},
		{
			name: "telephone-event at 48 kHz only is not DTMF for us", offer: audio("0 101", "rtpmap:101 telephone-event/48000"),
			chosen: pcmu, mline: "m=audio 40000 RTP/AVP 0", dtmf: -1,
		},
		{
			name: "dynamic PCMU with upper/lower case name", offer: audio("18 98 101", "rtpmap:98 pcmu/8000", "rtpmap:101 telephone-event/8000"),
			chosen: Codec{PT: 98, Name: PCMU, Rate: 8000}, mline: "m=audio 40000 RTP/AVP 98 101", dtmf: 101,
		},
		{
			name: "dynamic PCMA via rtpmap PcMa", offer: audio("97", "rtpmap:97 PcMa/8000"),
			chosen: Codec{PT: 97, Name: PCMA, Rate: 8000}, mline: "m=audio 40000 RTP/AVP 97", dtmf: -1,
		},
		{name: "unknown codecs only", offer: audio("18 9 3 96", "rtpmap:96 opus/48000/2"), wantErr: ErrNoCommonCodec},
		{name: "DTMF only", offer: audio("101", "rtpmap:101 telephone-event/8000"), wantErr: ErrNoCommonCodec},
		{name: "nothing enabled matches", offer: audio("8"), enabled: []string{"PCMU"}, wantErr: ErrNoCommonCodec},
		{name: "port 0", offer: strings.Replace(audio("0"), "5004", "0", 1), wantErr: ErrAudioRejected},
		{name: "no audio", offer: sdpOf(append(append([]string{}, head...), "m=video 5004 RTP/AVP 31")...), wantErr: ErrNoAudio},
		{name: "malformed", offer: "v=0\r\nx", wantErr: ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := testLocal()
			l.Codecs = tt.enabled
			ans, remote, chosen, err := Answer(l, []byte(tt.offer), SendRecv)
			if tt.wantErr != nil {
				checkErr(t, err, tt.wantErr)
				if ans != nil || l.Version != 10 {
					t.Errorf("answer %q, version %d after error", ans, l.Version)
				}
				if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrNoAudio) && remote.DTMFPT == 0 {
					t.Errorf("remote not filled on %v: %+v", err, remote)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if chosen != tt.chosen {
				t.Errorf("chosen = %v, want %v", chosen, tt.chosen)
			}
			if m := mLines(ans); len(m) != 1 || m[0] != tt.mline {
				t.Errorf("m= lines %q, want %q", m, tt.mline)
			}
			got, c, err := ParseAnswer(ans)
			if err != nil {
				t.Fatalf("ParseAnswer: %v\n%s", err, ans)
			}
			if c != tt.chosen || got.DTMFPT != tt.dtmf || len(got.Codecs) != 1 {
				t.Errorf("ParseAnswer = %+v, %v", got, c)
			}
			if got.Addr != l.Addr || got.Port != l.Port || got.Ptime != 20 || l.Version != 11 {
				t.Errorf("answer media %+v, version %d", got, l.Version)
			}
			if tt.dtmf >= 0 && !strings.Contains(string(ans), "a=rtpmap:"+strconv.Itoa(tt.dtmf)+" telephone-event/8000\r\n") {
				t.Errorf("no telephone-event rtpmap:\n%s", ans)
			}
		})
	}
}

// RFC 3264 §6.1 direction rules: the answer is the mirror of the offer,
// restricted by what we want (localDir).
func TestAnswerDirection(t *testing.T) {
	want := map[[2]Direction]Direction{
		{SendRecv, SendRecv}: SendRecv, {SendRecv, SendOnly}: SendOnly, {SendRecv, RecvOnly}: RecvOnly, {SendRecv, Inactive}: Inactive,
		{SendOnly, SendRecv}: RecvOnly, {SendOnly, SendOnly}: Inactive, {SendOnly, RecvOnly}: RecvOnly, {SendOnly, Inactive}: Inactive,
		{RecvOnly, SendRecv}: SendOnly, {RecvOnly, SendOnly}: SendOnly, {RecvOnly, RecvOnly}: Inactive, {RecvOnly, Inactive}: Inactive,
		{Inactive, SendRecv}: Inactive, {Inactive, SendOnly}: Inactive, {Inactive, RecvOnly}: Inactive, {Inactive, Inactive}: Inactive,
	}
	for k, w := range want {
		remote, local := k[0], k[1]
		t.Run(remote.String()+"/"+local.String(), func(t *testing.T) {
			ans, rm, _, err := Answer(testLocal(), []byte(audio("0", remote.String())), local)
			if err != nil {
				t.Fatal(err)
			}
			if rm.Direction != remote {
				t.Errorf("remote direction %v, want %v", rm.Direction, remote)
			}
			got, err := Parse(ans)
			if err != nil {
				t.Fatal(err)
			}
			if got.Direction != w {
				t.Errorf("answer direction %v, want %v", got.Direction, w)
			}
		})
	}
}

func TestAnswerHold(t *testing.T) {
	tests := []struct {
		name     string
		offer    string
		localDir Direction
		remote   Direction
		holdC0   bool
		answer   Direction
	}{
		{"c=0.0.0.0 no attribute", strings.ReplaceAll(audio("0"), "192.0.2.10", "0.0.0.0"), SendRecv, SendOnly, true, RecvOnly},
		{"c=0.0.0.0 sendrecv", strings.ReplaceAll(audio("0", "sendrecv"), "192.0.2.10", "0.0.0.0"), SendRecv, SendOnly, true, RecvOnly},
		{"c=0.0.0.0 and we hold too", strings.ReplaceAll(audio("0"), "192.0.2.10", "0.0.0.0"), SendOnly, SendOnly, true, Inactive},
		{"c=0.0.0.0 inactive", strings.ReplaceAll(audio("0", "inactive"), "192.0.2.10", "0.0.0.0"), SendRecv, Inactive, true, Inactive},
		{"session-level sendonly", sdpOf(append(append([]string{}, head...), "a=sendonly", "m=audio 5004 RTP/AVP 0")...), SendRecv, SendOnly, false, RecvOnly},
		{"session-level inactive, media recvonly", sdpOf(append(append([]string{}, head...), "a=inactive", "m=audio 5004 RTP/AVP 0", "a=recvonly")...), SendRecv, RecvOnly, false, SendOnly},
		{"resume after hold", audio("0", "sendrecv"), SendRecv, SendRecv, false, SendRecv},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ans, rm, _, err := Answer(testLocal(), []byte(tt.offer), tt.localDir)
			if err != nil {
				t.Fatal(err)
			}
			if rm.Direction != tt.remote || rm.HoldC0 != tt.holdC0 {
				t.Errorf("remote %v hold %v, want %v %v", rm.Direction, rm.HoldC0, tt.remote, tt.holdC0)
			}
			got, err := Parse(ans)
			if err != nil {
				t.Fatal(err)
			}
			if got.Direction != tt.answer || got.HoldC0 {
				t.Errorf("answer %v (hold %v), want %v", got.Direction, got.HoldC0, tt.answer)
			}
		})
	}
}

// RFC 3264 §6: every offered m= line is answered, in order; the ones we do
// not take get port 0.
func TestAnswerRejectsOtherStreams(t *testing.T) {
	tests := []struct {
		name   string
		offer  string
		mlines []string
	}{
		{
			name:   "video after audio",
			offer:  realWorld["audio-video"],
			mlines: []string{"m=audio 40000 RTP/AVP 0 101", "m=video 0 RTP/AVP 96 97"},
		},
		{
			name: "video first, then two audio streams, then application",
			offer: sdpOf(append(append([]string{}, head...),
				"m=video 5000 RTP/AVP 31",
				"m=audio 5004 RTP/AVP 8",
				"m=audio 5006 RTP/AVP 0",
				"m=application 5008 UDP/BFCP *",
			)...),
			mlines: []string{"m=video 0 RTP/AVP 31", "m=audio 40000 RTP/AVP 8", "m=audio 0 RTP/AVP 0", "m=application 0 UDP/BFCP *"},
		},
		{
			name:   "SRTP copy rejected, RTP/AVP copy taken",
			offer:  realWorld["savp-then-avp"],
			mlines: []string{"m=audio 0 RTP/SAVP 0 8 101", "m=audio 40000 RTP/AVP 0 101"},
		},
		{
			name: "earlier disabled audio stream stays disabled",
			offer: sdpOf(append(append([]string{}, head...),
				"m=audio 0 RTP/AVP 0",
				"m=audio 5006 RTP/AVP 8",
			)...),
			mlines: []string{"m=audio 0 RTP/AVP 0", "m=audio 40000 RTP/AVP 8"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ans, _, _, err := Answer(testLocal(), []byte(tt.offer), SendRecv)
			if err != nil {
				t.Fatal(err)
			}
			if got := mLines(ans); !reflect.DeepEqual(got, tt.mlines) {
				t.Errorf("m= lines\n%q\nwant\n%q", got, tt.mlines)
			}
			if _, _, err := ParseAnswer(ans); err != nil {
				t.Errorf("ParseAnswer: %v", err)
			}
		})
	}
}

func TestAnswerInvalidLocal(t *testing.T) {
	l := testLocal()
	if _, _, _, err := Answer(l, []byte(audio("0")), DirectionUnknown); !errors.Is(err, ErrInvalidLocal) {
		t.Errorf("unknown direction: %v", err)
	}
	l.Codecs = []string{"speex"}
	if _, _, _, err := Answer(l, []byte(audio("0")), SendRecv); !errors.Is(err, ErrInvalidLocal) {
		t.Errorf("unknown codec: %v", err)
	}
	if _, _, _, err := Answer(nil, []byte(audio("0")), SendRecv); !errors.Is(err, ErrInvalidLocal) {
		t.Errorf("nil Local: %v", err)
	}
}

func TestParseAnswerErrors(t *testing.T) {
	tests := []struct {
		name string
		sdp  string
		want error
	}{
		{"rejected", strings.Replace(audio("0"), "5004", "0", 1), ErrAudioRejected},
		{"no supported codec", audio("18"), ErrNoCommonCodec},
		{"no audio", sdpOf(head...), ErrNoAudio},
		{"malformed", "v=0\r\no=x\r\n", ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := ParseAnswer([]byte(tt.sdp))
			checkErr(t, err, tt.want)
		})
	}
}

// Offer -> Answer -> ParseAnswer agrees on the codec, the DTMF payload type
// and the direction.
func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name      string
		uac, uas  []string
		uacDTMF   uint8
		uacDir    Direction
		uasDir    Direction
		wantCodec string
		wantDir   Direction // the UAS's direction in the answer
	}{
		{name: "defaults", uacDir: SendRecv, uasDir: SendRecv, wantCodec: PCMU, wantDir: SendRecv},
		{name: "UAC prefers PCMA", uac: []string{PCMA, PCMU}, uacDir: SendRecv, uasDir: SendRecv, wantCodec: PCMA, wantDir: SendRecv},
		{name: "UAS has PCMA only", uas: []string{PCMA}, uacDir: SendRecv, uasDir: SendRecv, wantCodec: PCMA, wantDir: SendRecv},
		{name: "DTMF 96", uacDTMF: 96, uacDir: SendRecv, uasDir: SendRecv, wantCodec: PCMU, wantDir: SendRecv},
		{name: "UAC holds", uacDTMF: 110, uacDir: SendOnly, uasDir: SendRecv, wantCodec: PCMU, wantDir: RecvOnly},
		{name: "both hold", uacDir: SendOnly, uasDir: SendOnly, wantCodec: PCMU, wantDir: Inactive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			uac := &Local{Addr: "192.0.2.1", Port: 4000, Codecs: tt.uac, DTMFPT: tt.uacDTMF}
			uas := &Local{Addr: "2001:db8::2", Port: 6000, Codecs: tt.uas}
			offer, err := Offer(uac, tt.uacDir, false)
			if err != nil {
				t.Fatal(err)
			}
			ans, _, chosen, err := Answer(uas, offer, tt.uasDir)
			if err != nil {
				t.Fatal(err)
			}
			m, c, err := ParseAnswer(ans)
			if err != nil {
				t.Fatal(err)
			}
			if c != chosen || c.Name != tt.wantCodec {
				t.Errorf("UAS chose %v, UAC sees %v, want %s", chosen, c, tt.wantCodec)
			}
			dtmf := int(tt.uacDTMF)
			if dtmf == 0 {
				dtmf = DefaultDTMFPT
			}
			if m.DTMFPT != dtmf {
				t.Errorf("DTMF PT %d, want %d", m.DTMFPT, dtmf)
			}
			if m.Direction != tt.wantDir || m.Addr != "2001:db8::2" || m.Port != 6000 {
				t.Errorf("answer media %+v", m)
			}
			// What the UAC then does: mirror the answer, within its own offer.
			if got := m.Direction.Mirror().Intersect(tt.uacDir); got != tt.wantDir.Mirror() {
				t.Errorf("UAC direction %v, want %v", got, tt.wantDir.Mirror())
			}
		})
	}
}

// TestWidebandOfferAnswer: our offer lists Opus (RFC 7587 rtpmap and fmtp),
// G.722 on its static type and telephone-event on both clocks; an answer
// takes the widest band both sides enable, the offerer's order deciding
// between equals, and keeps the telephone-event on the chosen codec's clock.
func TestWidebandOfferAnswer(t *testing.T) {
	l := testLocal()
	l.Codecs = []string{"opus", "G722", "PCMU"}
	offer, err := Offer(l, SendRecv, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"m=audio 40000 RTP/AVP 111 9 0 101 102", "a=rtpmap:111 opus/48000/2", "a=fmtp:111 maxplaybackrate=48000;stereo=0;useinbandfec=1",
		"a=rtpmap:9 G722/8000", "a=rtpmap:101 telephone-event/8000", "a=rtpmap:102 telephone-event/48000"} {
		if !strings.Contains(string(offer), want+"\r\n") {
			t.Errorf("offer lacks %q:\n%s", want, offer)
		}
	}
	m, err := Parse(offer)
	if err != nil || len(m.Codecs) != 3 || m.Codecs[0].Fmtp == "" || m.DTMFFor(48000) != 102 || m.DTMFFor(8000) != 101 {
		t.Fatalf("Parse(offer) = %+v, %v", m, err)
	}
	for _, tc := range []struct {
		enabled []string
		offer   string
		want    string
		dtmf    string
	}{
		{[]string{"PCMU", "PCMA", "G722", "opus"}, audio("0 8 9 96 101 102", "rtpmap:96 opus/48000/2", "rtpmap:101 telephone-event/8000", "rtpmap:102 telephone-event/48000"), "96 opus/48000", "a=rtpmap:102 telephone-event/48000"},
		// baresip: Opus with telephone-event on the 8 kHz clock only.
		{[]string{"opus", "PCMU"}, audio("96 9 0 101", "rtpmap:96 opus/48000/2", "rtpmap:101 telephone-event/8000"), "96 opus/48000", "a=rtpmap:101 telephone-event/8000"},
		{[]string{"PCMU", "G722"}, audio("0 8 9 96 101", "rtpmap:96 opus/48000/2", "rtpmap:101 telephone-event/8000"), "9 G722/8000", "a=rtpmap:101 telephone-event/8000"},
		{[]string{"PCMU", "PCMA"}, audio("8 0 9", "rtpmap:9 G722/8000"), "8 PCMA/8000", ""},
	} {
		l := testLocal()
		l.Codecs = tc.enabled
		ans, _, chosen, err := Answer(l, []byte(tc.offer), SendRecv)
		if err != nil {
			t.Fatal(err)
		}
		if chosen.String() != tc.want {
			t.Errorf("enabled %v: chose %v, want %s", tc.enabled, chosen, tc.want)
		}
		if tc.dtmf != "" && !strings.Contains(string(ans), tc.dtmf+"\r\n") {
			t.Errorf("enabled %v: answer lacks %q:\n%s", tc.enabled, tc.dtmf, ans)
		}
	}
}
