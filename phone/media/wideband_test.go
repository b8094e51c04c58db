package media

import (
	"math"
	"net/netip"
	"testing"
	"time"

	"github.com/teaphone/teaphone/audio/opus"
)

// rateTone is a sine source at a given rate.
type rateTone struct {
	freq, rate, amp float64
	n               int
}

func (s *rateTone) ReadFrame(dst []int16) error {
	for i := range dst {
		dst[i] = int16(s.amp * math.Sin(2*math.Pi*s.freq*float64(s.n)/s.rate))
		s.n++
	}
	return nil
}

// powerAt is the Goertzel power of freq in x sampled at rate.
func powerAt(x []int16, freq, rate float64) float64 {
	k := 2 * math.Cos(2*math.Pi*freq/rate)
	var s1, s2 float64
	for _, v := range x {
		s0 := float64(v) + k*s1 - s2
		s2, s1 = s1, s0
	}
	return (s1*s1 + s2*s2 - k*s1*s2) / float64(len(x)*len(x))
}

// TestWidebandCodecs sends a 6 kHz tone — above what an 8 kHz call can
// carry — over G.722 and Opus and checks it arrives: frames of the codec's
// rate, the tone's frequency dominant, its level within a few dB. The RTP
// timestamps advance by the codec's clock (160 a packet for G.722 although
// its frames hold 320 samples; 960 for Opus).
func TestWidebandCodecs(t *testing.T) {
	cases := []struct {
		name, codec string
		pt          uint8
		rate        float64
		tsStep      uint32
		tolDB       float64
	}{
		{"G.722", "G722", 9, 16000, 160, 2},
		{"Opus", "opus", 111, 48000, 960, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.codec == "opus" && !opus.Available {
				t.Skip("this build has no Opus (cgo)")
			}
			set := func(c *StreamConfig) {
				c.PayloadType, c.Codec, c.Fmtp = tc.pt, tc.codec, "useinbandfec=1"
			}
			a := newPeer(t, 0, set)
			b := newPeer(t, 0, set)
			src := &rateTone{freq: 6000, rate: tc.rate, amp: 8000}
			a.s.SetSource(src)
			r := newRelay(t)
			r.start(a.rtp, b.rtp)
			via := addrOf(r.conn)
			a.s.SetRemote(via, netip.AddrPort{})
			b.s.SetRemote(via, netip.AddrPort{})
			a.s.Start()
			b.s.Start()
			if got := b.s.AudioRate(); got != int(tc.rate) {
				t.Fatalf("AudioRate %d, want %v", got, tc.rate)
			}
			waitFor(t, 4*time.Second, "audio", func() bool { return b.s.Stats().RxPackets > 40 })
			frame := int(tc.rate) / 50
			x := b.sink.last(frame * 15)
			if len(x)%frame != 0 {
				t.Fatalf("sink got %d samples, not whole %d-sample frames", len(x), frame)
			}
			p6 := powerAt(x, 6000, tc.rate)
			var total float64
			for _, v := range x {
				total += float64(v) * float64(v)
			}
			total /= float64(len(x))
			// A sine of amplitude A has power A²/2; Goertzel/N² gives A²/4.
			if p6 < 0.5*total/2 {
				t.Errorf("6 kHz carries %.0f of %.0f: not the dominant tone", p6*2, total)
			}
			if lvl := 10 * math.Log10(total/(8000*8000/2)); math.Abs(lvl) > tc.tolDB {
				t.Errorf("level %.1f dB from the sent tone's, want within ±%v dB", lvl, tc.tolDB)
			}
			pk := r.packets()
			var steps []uint32
			for i := 1; i < len(pk) && len(steps) < 5; i++ {
				if pk[i].fromA && pk[i-1].fromA && pk[i].rtp && pk[i-1].rtp && pk[i].h.seq == pk[i-1].h.seq+1 {
					steps = append(steps, pk[i].h.ts-pk[i-1].h.ts)
				}
			}
			for _, s := range steps {
				if s != tc.tsStep {
					t.Fatalf("RTP timestamp steps %v, want %d", steps, tc.tsStep)
				}
			}
		})
	}
}

// TestOpusFECRebuildsLostFrames drops every fifth Opus packet between two
// streams: the receiver rebuilds each lost frame from the FEC copy in the
// next packet (RFC 6716 §2.1.7) when that packet is already buffered, and
// the tone keeps its level.
func TestOpusFECRebuildsLostFrames(t *testing.T) {
	if !opus.Available {
		t.Skip("this build has no Opus (cgo)")
	}
	set := func(c *StreamConfig) { c.PayloadType, c.Codec, c.Fmtp = 111, "opus", "useinbandfec=1" }
	a := newPeer(t, 0, set)
	b := newPeer(t, 0, set)
	a.s.SetSource(&rateTone{freq: 1000, rate: 48000, amp: 8000})
	r := newRelay(t)
	r.drop = func(n int) bool { return n > 10 && n%5 == 0 }
	r.start(a.rtp, b.rtp)
	via := addrOf(r.conn)
	a.s.SetRemote(via, netip.AddrPort{})
	b.s.SetRemote(via, netip.AddrPort{})
	a.s.Start()
	b.s.Start()
	waitFor(t, 5*time.Second, "FEC used", func() bool {
		b.s.mu.Lock()
		defer b.s.mu.Unlock()
		return b.s.codec.(*opusCodec).fec.Load() >= 5
	})
	x := b.sink.last(960 * 25)
	var total float64
	for _, v := range x {
		total += float64(v) * float64(v)
	}
	total /= float64(len(x))
	if lvl := 10 * math.Log10(total/(8000*8000/2)); lvl < -3 {
		t.Errorf("level %.1f dB under the sent tone's with 20 %% loss and FEC", lvl)
	}
}
