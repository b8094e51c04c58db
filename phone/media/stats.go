package media

import (
	"net/netip"
	"time"
)

// Stats are one stream's RTP/RTCP figures. Counters are cumulative since
// the stream was created.
type Stats struct {
	Codec      string
	SSRC       uint32 // ours
	RemoteSSRC uint32 // locked remote source, 0 before one is accepted

	TxPackets, TxBytes uint64 // RTP sent (bytes = payload octets, as in an SR)
	RxPackets, RxBytes uint64 // valid RTP of the locked source (payload octets)

	// Lost is the cumulative number of packets lost (RFC 3550 A.3; negative
	// with duplicates). LossPct is Lost over the packets expected, in percent.
	Lost    int64
	LossPct float64
	// JitterMs is the interarrival jitter of received audio (RFC 3550 A.8).
	JitterMs float64
	// RTTMs is the round-trip time from RTCP LSR/DLSR (RFC 3550 §6.4.1), 0
	// while unknown.
	RTTMs float64
	// JitterBufferMs is the current playout delay.
	JitterBufferMs float64

	// What the remote reports about our stream (RFC 3550 §6.4 report block).
	RemoteLost     int64
	RemoteLossPct  float64 // fraction lost in its last interval, percent
	RemoteJitterMs float64

	DroppedGarbage uint64 // malformed, wrong version, unknown payload type
	DroppedForeign uint64 // another SSRC than the locked one
	// DroppedSRTP counts packets that failed SRTP/SRTCP authentication or
	// the replay check (RFC 3711 §3.3): forged, corrupted, replayed, under
	// another key, or plain.
	DroppedSRTP uint64
	// SRTP is the suite protecting the media ("AES_CM_128_HMAC_SHA1_80"),
	// "" for plain RTP.
	SRTP string

	RTCPSent, RTCPReceived uint64
	// RemoteBye is set once the remote source sent RTCP BYE.
	RemoteBye bool

	// LastRTP is when the last RTP packet of the locked source arrived
	// (the engine's clock, see WithNow); zero before the first.
	LastRTP time.Time

	// Remote is where RTP is sent now; Latched is set when that is the
	// source address of received RTP rather than the SDP address.
	Remote  netip.AddrPort
	Latched bool
	// RTCPMux is set while RTCP is multiplexed on the RTP port (RFC 5761).
	RTCPMux bool

	// MOS is a simplified E-model estimate (1..4.5); 0 before any audio
	// has been received.
	MOS float64
}

// MOS computes the simplified E-model estimate (a reduced form of the
// ITU-T G.107 E-model in common use by VoIP monitoring tools):
// EffLat = latency + 2·jitter + 10 ms;
// R = 93.2 − EffLat/40 when EffLat < 160 ms, else 93.2 − (EffLat − 120)/10;
// R −= 2.5·loss%; MOS = 1 + 0.035R + 7e-6·R(R−60)(100−R), clamped to 1..4.5.
func MOS(latency, jitter time.Duration, lossPct float64) float64 {
	eff := ms(latency) + 2*ms(jitter) + 10
	var r float64
	if eff < 160 {
		r = 93.2 - eff/40
	} else {
		r = 93.2 - (eff-120)/10
	}
	if lossPct > 0 {
		r -= 2.5 * lossPct
	}
	if r < 0 {
		r = 0
	}
	if r > 100 {
		r = 100
	}
	m := 1 + 0.035*r + 7e-6*r*(r-60)*(100-r)
	switch {
	case m < 1:
		m = 1
	case m > 4.5:
		m = 4.5
	}
	return m
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
