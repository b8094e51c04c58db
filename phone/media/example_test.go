package media_test

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/teaphone/teaphone/phone/media"
)

// One engine per process; one stream per call. The sockets come from the
// port allocator; addresses and payload types from the SDP answer.
func Example() {
	eng := media.NewEngine()
	defer eng.Close()

	rtp, _ := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	rtcp, _ := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	s, err := eng.NewStream(media.StreamConfig{
		RTP: rtp, RTCP: rtcp,
		Remote:               netip.MustParseAddrPort("127.0.0.1:40000"),
		PayloadType:          0,
		Codec:                "PCMU",
		DTMFPayloadType:      101,
		RecvDTMFPayloadTypes: []uint8{101},
		Source:               nil, // capture device or file; nil sends silence
		Sink:                 nil, // playback device or mixer; nil discards
		OnDTMF:               func(d rune) { /* queue a DTMF event */ },
		OnStats:              func(st media.Stats) { /* queue a media event */ },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	s.Start()
	_ = s.SendDTMF('5', 0) // queued; sent on the clock
	s.SetDirection(false, true)
	s.SetDirection(true, true)
	_ = s.Close() // RTCP BYE, sockets closed
}
