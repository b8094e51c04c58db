package phone

import (
	"strings"
	"testing"

	"github.com/teaphone/teaphone/phone/sdp"
)

// muxSide is one end of a call's offer/answer (no Phone, no sockets).
func muxSide(port int, mux bool) *mediaState {
	return &mediaState{local: sdp.Local{Addr: "192.0.2.1", Port: port, RTCPMux: mux}, localDir: sdp.SendRecv}
}

func hasMux(b []byte) bool { return strings.Contains(string(b), "\r\na=rtcp-mux\r\n") }

// TestRTCPMuxNegotiationTable: both roles, each side with and without
// multiplexing: the offer carries a=rtcp-mux iff the offerer multiplexes,
// the answer iff the offer did and the answerer multiplexes (RFC 5761
// §5.1.1, RFC 8035 §3), and then both use it.
func TestRTCPMuxNegotiationTable(t *testing.T) {
	for _, offerer := range []bool{false, true} {
		for _, answerer := range []bool{false, true} {
			uac, uas := muxSide(4000, offerer), muxSide(6000, answerer)
			offer, err := uac.offer()
			if err != nil {
				t.Fatal(err)
			}
			ans, err := uas.answer(offer)
			if err != nil {
				t.Fatal(err)
			}
			if err := uac.applyAnswer(ans); err != nil {
				t.Fatal(err)
			}
			want := offerer && answerer
			if hasMux(offer) != offerer || hasMux(ans) != want || uac.mux != want || uas.mux != want {
				t.Errorf("offerer %v, answerer %v: a=rtcp-mux in offer %v, in answer %v; offerer muxes %v, answerer %v; want %v",
					offerer, answerer, hasMux(offer), hasMux(ans), uac.mux, uas.mux, want)
			}
		}
	}
}

// TestRTCPMuxUnofferedInAnswer: an answer with a=rtcp-mux to an offer
// without it (baresip 1.0 with rtcp_mux on writes it into every answer) is
// ignored (RFC 8035 §3).
func TestRTCPMuxUnofferedInAnswer(t *testing.T) {
	uac := muxSide(4000, false)
	if _, err := uac.offer(); err != nil {
		t.Fatal(err)
	}
	ans := "v=0\r\no=- 1 1 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\nt=0 0\r\nm=audio 5004 RTP/AVP 0\r\na=rtcp-mux\r\n"
	if err := uac.applyAnswer([]byte(ans)); err != nil {
		t.Fatal(err)
	}
	if uac.mux {
		t.Error("multiplexing an RTCP we did not offer to multiplex")
	}
}

// TestRTCPMuxReinvites: hold and resume re-INVITEs either way keep what
// the first exchange agreed (our re-offers carry a=rtcp-mux again, our
// answers follow the peer's); a peer's re-offer without a=rtcp-mux falls
// back to separate RTCP once answered (RFC 8858 §4.5), and a later one
// with it multiplexes again.
func TestRTCPMuxReinvites(t *testing.T) {
	us, peer := muxSide(4000, true), muxSide(6000, true)
	exchange := func(what string, from, to *mediaState, dir sdp.Direction) {
		t.Helper()
		from.setLocalDir(dir)
		offer, err := from.offer()
		if err != nil {
			t.Fatal(err)
		}
		ans, err := to.answer(offer)
		if err != nil {
			t.Fatal(err)
		}
		if err := from.applyAnswer(ans); err != nil {
			t.Fatal(err)
		}
		if hasMux(offer) != from.local.RTCPMux {
			t.Errorf("%s: a=rtcp-mux in the offer %v", what, hasMux(offer))
		}
	}
	check := func(what string, want bool) {
		t.Helper()
		if us.mux != want || peer.mux != want {
			t.Errorf("%s: we mux %v, the peer %v; want %v", what, us.mux, peer.mux, want)
		}
	}
	exchange("INVITE", us, peer, sdp.SendRecv)
	check("INVITE", true)
	exchange("our hold", us, peer, sdp.SendOnly)
	check("our hold", true)
	exchange("our resume", us, peer, sdp.SendRecv)
	check("our resume", true)
	exchange("peer's hold", peer, us, sdp.SendOnly)
	check("peer's hold", true)
	exchange("peer's resume", peer, us, sdp.SendRecv)
	check("peer's resume", true)

	peer.local.RTCPMux = false // e.g. a B2BUA moved the call elsewhere
	exchange("peer's re-offer without a=rtcp-mux", peer, us, sdp.SendRecv)
	check("peer's re-offer without a=rtcp-mux", false)
	peer.local.RTCPMux = true
	exchange("our re-offer", us, peer, sdp.SendOnly)
	check("our re-offer", true)
}
