package sdp_test

import (
	"fmt"

	"github.com/teaphone/teaphone/phone/sdp"
)

// A UAC offers, a UAS answers, and the UAC reads the answer.
func Example() {
	alice := &sdp.Local{Addr: "192.0.2.1", Port: 4000, SessionID: 1, Codecs: []string{"PCMA", "PCMU"}}
	bob := &sdp.Local{Addr: "198.51.100.2", Port: 6000, SessionID: 2}

	offer, err := sdp.Offer(alice, sdp.SendRecv, false)
	if err != nil {
		fmt.Println(err)
		return
	}
	answer, remote, chosen, err := sdp.Answer(bob, offer, sdp.SendRecv)
	if err != nil {
		fmt.Println(err) // a real UAS maps ErrNoCommonCodec etc. to 488
		return
	}
	fmt.Println("bob sends", chosen.Name, "to", remote.Addr, remote.Port, "DTMF PT", remote.DTMFPT)

	media, codec, err := sdp.ParseAnswer(answer)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("alice sends", codec.Name, "to", media.Addr, media.Port, "direction", media.Direction.Mirror())

	// Alice puts Bob on hold; Bob, still sendrecv, answers recvonly.
	hold, _ := sdp.Offer(alice, sdp.SendOnly, false)
	answer, _, _, _ = sdp.Answer(bob, hold, sdp.SendRecv)
	media, _, _ = sdp.ParseAnswer(answer)
	fmt.Println("on hold: bob is", media.Direction, "- alice version", alice.Version)
	// Output:
	// bob sends PCMA to 192.0.2.1 4000 DTMF PT 101
	// alice sends PCMA to 198.51.100.2 6000 direction sendrecv
	// on hold: bob is recvonly - alice version 2
}
