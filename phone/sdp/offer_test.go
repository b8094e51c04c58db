package sdp

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestOfferText(t *testing.T) {
	l := &Local{Addr: "192.0.2.1", Port: 4000, SessionID: 42, Username: "teaphone"}
	got, err := Offer(l, SendRecv, false)
	if err != nil {
		t.Fatal(err)
	}
	want := sdpOf(
		"v=0",
		"o=teaphone 42 1 IN IP4 192.0.2.1",
		"s=-",
		"c=IN IP4 192.0.2.1",
		"t=0 0",
		"m=audio 4000 RTP/AVP 0 8 101",
		"a=rtpmap:0 PCMU/8000",
		"a=rtpmap:8 PCMA/8000",
		"a=rtpmap:101 telephone-event/8000",
		"a=fmtp:101 0-16",
		"a=ptime:20",
		"a=sendrecv",
	)
	if string(got) != want {
		t.Errorf("Offer =\n%s\nwant\n%s", got, want)
	}
}

func TestOffer(t *testing.T) {
	tests := []struct {
		name   string
		local  Local
		dir    Direction
		holdC0 bool
		want   Media
	}{
		{
			name:  "defaults",
			local: Local{Addr: "192.0.2.1", Port: 4000},
			dir:   SendRecv,
			want:  Media{Addr: "192.0.2.1", Port: 4000, Codecs: []Codec{pcmu, pcma}, DTMFPT: 101, DTMF48: -1, Direction: SendRecv, Ptime: 20, RTCPPort: 4001},
		},
		{
			name:  "preference PCMA first, duplicates and case folded",
			local: Local{Addr: "192.0.2.1", Port: 4000, Codecs: []string{"pcma", "PCMU", "PCMA"}, DTMFPT: 96, Ptime: 30},
			dir:   SendRecv,
			want:  Media{Addr: "192.0.2.1", Port: 4000, Codecs: []Codec{pcma, pcmu}, DTMFPT: 96, DTMF48: -1, Direction: SendRecv, Ptime: 30, RTCPPort: 4001},
		},
		{
			name:  "PCMU only, DTMF 127",
			local: Local{Addr: "192.0.2.1", Port: 4000, Codecs: []string{"PCMU"}, DTMFPT: 127},
			dir:   RecvOnly,
			want:  Media{Addr: "192.0.2.1", Port: 4000, Codecs: []Codec{pcmu}, DTMFPT: 127, DTMF48: -1, Direction: RecvOnly, Ptime: 20, RTCPPort: 4001},
		},
		{
			name:  "hold with sendonly",
			local: Local{Addr: "192.0.2.1", Port: 4000},
			dir:   SendOnly,
			want:  Media{Addr: "192.0.2.1", Port: 4000, Codecs: []Codec{pcmu, pcma}, DTMFPT: 101, DTMF48: -1, Direction: SendOnly, Ptime: 20, RTCPPort: 4001},
		},
		{
			name:   "hold with sendonly and c=0.0.0.0",
			local:  Local{Addr: "192.0.2.1", Port: 4000},
			dir:    SendOnly,
			holdC0: true,
			want:   Media{Addr: "0.0.0.0", Port: 4000, Codecs: []Codec{pcmu, pcma}, DTMFPT: 101, DTMF48: -1, Direction: SendOnly, HoldC0: true, Ptime: 20, RTCPPort: 4001},
		},
		{
			name:   "inactive and c=0.0.0.0",
			local:  Local{Addr: "192.0.2.1", Port: 4000},
			dir:    Inactive,
			holdC0: true,
			want:   Media{Addr: "0.0.0.0", Port: 4000, Codecs: []Codec{pcmu, pcma}, DTMFPT: 101, DTMF48: -1, Direction: Inactive, HoldC0: true, Ptime: 20, RTCPPort: 4001},
		},
		{
			name:   "holdC0 ignored for sendrecv",
			local:  Local{Addr: "192.0.2.1", Port: 4000},
			dir:    SendRecv,
			holdC0: true,
			want:   Media{Addr: "192.0.2.1", Port: 4000, Codecs: []Codec{pcmu, pcma}, DTMFPT: 101, DTMF48: -1, Direction: SendRecv, Ptime: 20, RTCPPort: 4001},
		},
		{
			name:  "ipv6",
			local: Local{Addr: "2001:db8::1", Port: 4000},
			dir:   SendRecv,
			want:  Media{Addr: "2001:db8::1", Port: 4000, Codecs: []Codec{pcmu, pcma}, DTMFPT: 101, DTMF48: -1, Direction: SendRecv, Ptime: 20, RTCPPort: 4001},
		},
		{
			name:  "IPv4-mapped address written as IPv4",
			local: Local{Addr: "::ffff:192.0.2.1", Port: 4000},
			dir:   SendRecv,
			want:  Media{Addr: "192.0.2.1", Port: 4000, Codecs: []Codec{pcmu, pcma}, DTMFPT: 101, DTMF48: -1, Direction: SendRecv, Ptime: 20, RTCPPort: 4001},
		},
		{
			name:  "host name",
			local: Local{Addr: "phone.example.net", Port: 4000},
			dir:   SendRecv,
			want:  Media{Addr: "phone.example.net", Port: 4000, Codecs: []Codec{pcmu, pcma}, DTMFPT: 101, DTMF48: -1, Direction: SendRecv, Ptime: 20, RTCPPort: 4001},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := tt.local
			b, err := Offer(&l, tt.dir, tt.holdC0)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Parse(b)
			if err != nil {
				t.Fatalf("Parse(Offer): %v\n%s", err, b)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(Offer) =\n%+v\nwant\n%+v\n%s", got, tt.want, b)
			}
			if l.SessionID == 0 || l.Version != 1 {
				t.Errorf("SessionID %d, Version %d after first offer", l.SessionID, l.Version)
			}
			// The o= line keeps our real address, also with c=0.0.0.0.
			addr, typ := tt.want.Addr, "IP4"
			if tt.want.HoldC0 {
				addr = tt.local.Addr
			}
			if strings.Contains(addr, ":") {
				typ = "IP6"
			}
			if o := " IN " + typ + " " + addr + "\r\n"; !strings.Contains(string(b), o) {
				t.Errorf("no %q in\n%s", o, b)
			}
		})
	}
}

// RFC 3264 §8: the o= line stays, its version grows by one per description.
func TestVersionIncrements(t *testing.T) {
	l := &Local{Addr: "192.0.2.1", Port: 4000, Version: 5}
	var ids []string
	step := func(b []byte, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		o, _, _ := strings.Cut(strings.SplitN(string(b), "\r\n", 3)[1], " IN ")
		ids = append(ids, o)
	}
	step(Offer(l, SendRecv, false))
	id := l.SessionID
	step(Offer(l, SendOnly, true))
	a, _, _, err := Answer(l, []byte(audio("0")), SendRecv)
	step(a, err)
	step(Offer(l, SendRecv, false))
	if l.SessionID != id {
		t.Errorf("SessionID changed from %d to %d", id, l.SessionID)
	}
	if l.Version != 9 {
		t.Errorf("Version = %d, want 9", l.Version)
	}
	for i, o := range ids {
		want := "o=- " + strconv.FormatUint(id, 10) + " " + strconv.Itoa(6+i)
		if o != want {
			t.Errorf("description %d: %q, want %q", i, o, want)
		}
	}
	// A failed call leaves the version alone.
	if _, err := Offer(l, DirectionUnknown, false); err == nil {
		t.Fatal("Offer with unknown direction succeeded")
	}
	if _, _, _, err := Answer(l, []byte(audio("18")), SendRecv); !errors.Is(err, ErrNoCommonCodec) {
		t.Fatalf("Answer: %v", err)
	}
	if l.Version != 9 {
		t.Errorf("Version = %d after failures, want 9", l.Version)
	}
}

func TestOfferInvalid(t *testing.T) {
	ok := Local{Addr: "192.0.2.1", Port: 4000}
	tests := []struct {
		name string
		mod  func(l *Local)
		dir  Direction
	}{
		{"unknown direction", func(*Local) {}, DirectionUnknown},
		{"direction out of range", func(*Local) {}, Direction(9)},
		{"port 0", func(l *Local) { l.Port = 0 }, SendRecv},
		{"port too big", func(l *Local) { l.Port = 65536 }, SendRecv},
		{"empty address", func(l *Local) { l.Addr = "" }, SendRecv},
		{"bad address", func(l *Local) { l.Addr = "not an address" }, SendRecv},
		{"zone", func(l *Local) { l.Addr = "fe80::1%eth0" }, SendRecv},
		{"unspecified v4", func(l *Local) { l.Addr = "0.0.0.0" }, SendRecv},
		{"unspecified v6", func(l *Local) { l.Addr = "::" }, SendRecv},
		{"unspecified mapped", func(l *Local) { l.Addr = "::ffff:0.0.0.0" }, SendRecv},
		{"unknown codec", func(l *Local) { l.Codecs = []string{"PCMU", "G729"} }, SendRecv},
		{"static DTMF PT", func(l *Local) { l.DTMFPT = 95 }, SendRecv},
		{"DTMF PT over 127", func(l *Local) { l.DTMFPT = 128 }, SendRecv},
		{"user name with space", func(l *Local) { l.Username = "tea phone" }, SendRecv},
		{"user name with control byte", func(l *Local) { l.Username = "tea\x00" }, SendRecv},
		{"negative ptime", func(l *Local) { l.Ptime = -1 }, SendRecv},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := ok
			tt.mod(&l)
			_, err := Offer(&l, tt.dir, false)
			checkErr(t, err, ErrInvalidLocal)
			if l.Version != 0 || l.SessionID != 0 {
				t.Errorf("Local changed on error: %+v", l)
			}
		})
	}
	_, err := Offer(nil, SendRecv, false)
	checkErr(t, err, ErrInvalidLocal)
}
