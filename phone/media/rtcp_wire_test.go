package media

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/pion/rtcp"
)

// TestDemux: RFC 5761 §4 on the second octet; RTP payload types used for
// audio and telephone-event, with and without the marker, stay RTP.
func TestDemux(t *testing.T) {
	for _, c := range []struct {
		b    []byte
		want packetKind
	}{
		{nil, kindRTP},
		{[]byte{0x80}, kindRTP},
		{[]byte{0x80, 0}, kindRTP},          // PCMU
		{[]byte{0x80, 0x80 | 8}, kindRTP},   // PCMA, marker
		{[]byte{0x80, 101}, kindRTP},        // telephone-event
		{[]byte{0x80, 0x80 | 101}, kindRTP}, // telephone-event, marker (229)
		{[]byte{0x80, 63}, kindRTP},
		{[]byte{0x80, 0x80 | 63}, kindRTP}, // 191
		{[]byte{0x80, 64}, kindRTCP},       // PT 64 without marker: never RTP
		{[]byte{0x80, 95}, kindRTCP},
		{[]byte{0x80, 96}, kindRTP},
		{[]byte{0x80, 192}, kindRTCP},
		{[]byte{0x80, rtcpSR}, kindRTCP},
		{[]byte{0x80, rtcpRR}, kindRTCP},
		{[]byte{0x80, rtcpBYE}, kindRTCP},
		{[]byte{0x80, 223}, kindRTCP},
		{[]byte{0x80, 224}, kindRTP}, // PT 96, marker
	} {
		if got := demux(c.b); got != c.want {
			t.Errorf("demux(% x) = %d, want %d", c.b, got, c.want)
		}
	}
}

// TestPutRTCPMatchesPion: putRTCP writes what pion/rtcp marshals for the
// same packets, byte for byte (SR and RR, with and without a report block,
// BYE, CNAMEs of every padding and the longest).
func TestPutRTCPMatchesPion(t *testing.T) {
	blk := &reportBlock{ssrc: 0x01020304, fraction: 25, lost: 0xfffffe, highest: 1<<16 | 65, jitter: 80, lsr: 0xabcdef01, dlsr: 32768}
	for _, cname := range []string{"", "a", "ab", "abc", "abcd", "teaphone@127.0.0.1", strings.Repeat("x", 255)} {
		for _, sr := range []bool{false, true} {
			for _, b := range []*reportBlock{nil, blk} {
				for _, bye := range []bool{false, true} {
					o := rtcpOut{ssrc: 0xdeadbeef, sr: sr, ntp: 0x1122334455667788, rtpTime: 160, packets: 7, octets: 1120, block: b, cname: cname, bye: bye}
					var pkts []rtcp.Packet
					var reports []rtcp.ReceptionReport
					if b != nil {
						reports = []rtcp.ReceptionReport{{SSRC: b.ssrc, FractionLost: b.fraction, TotalLost: b.lost, LastSequenceNumber: b.highest, Jitter: b.jitter, LastSenderReport: b.lsr, Delay: b.dlsr}}
					}
					if sr {
						pkts = append(pkts, &rtcp.SenderReport{SSRC: o.ssrc, NTPTime: o.ntp, RTPTime: o.rtpTime, PacketCount: o.packets, OctetCount: o.octets, Reports: reports})
					} else {
						pkts = append(pkts, &rtcp.ReceiverReport{SSRC: o.ssrc, Reports: reports})
					}
					pkts = append(pkts, rtcp.NewCNAMESourceDescription(o.ssrc, cname))
					if bye {
						pkts = append(pkts, &rtcp.Goodbye{Sources: []uint32{o.ssrc}})
					}
					want, err := rtcp.Marshal(pkts)
					if err != nil {
						t.Fatal(err)
					}
					buf := bytes.Repeat([]byte{0xee}, maxRTCPLen) // stale bytes must not leak
					got := buf[:putRTCP(buf, &o)]
					if !bytes.Equal(got, want) {
						t.Errorf("cname %d, sr %v, block %v, bye %v:\n got % x\nwant % x", len(cname), sr, b != nil, bye, got, want)
					}
					if !validRTCP(got) || !wellFormedRTCP(got) {
						t.Errorf("cname %d, sr %v: our packet fails our own checks", len(cname), sr)
					}
				}
			}
		}
	}
	// A longer CNAME is cut to the 255 octets an SDES item holds.
	buf := make([]byte, maxRTCPLen)
	o := rtcpOut{ssrc: 1, cname: strings.Repeat("y", 300)}
	pkts, err := rtcp.Unmarshal(buf[:putRTCP(buf, &o)])
	if err != nil {
		t.Fatal(err)
	}
	if got := pkts[1].(*rtcp.SourceDescription).Chunks[0].Items[0].Text; len(got) != 255 {
		t.Errorf("CNAME of %d octets", len(got))
	}
}

// walked is what our walker takes from a compound packet: SRs, RRs and
// BYEs in order, as text, to compare with pion.
func walked(b []byte) string {
	var sb strings.Builder
	it := rtcpIter{b: b}
	for {
		pt, count, body, ok := it.next()
		if !ok {
			return sb.String()
		}
		switch pt {
		case rtcpSR, rtcpRR:
			p, _ := parseSender(pt, count, body)
			writeSender(&sb, p.sr, p.ssrc, p.ntp)
			for i := range len(p.blocks) / reportLen {
				r := block(p.blocks, i)
				writeBlock(&sb, r.ssrc, r.fraction, r.lost, r.highest, r.jitter, r.lsr, r.dlsr)
			}
		case rtcpBYE:
			srcs, _ := byeSources(count, body)
			sb.WriteString("bye")
			for i := 0; i < len(srcs); i += 4 {
				sb.WriteString(" " + hex32(binary.BigEndian.Uint32(srcs[i:])))
			}
			sb.WriteString("\n")
		}
	}
}

// pionWalked is walked's text from pion's parse.
func pionWalked(pkts []rtcp.Packet) string {
	var sb strings.Builder
	for _, p := range pkts {
		var reports []rtcp.ReceptionReport
		switch p := p.(type) {
		case *rtcp.SenderReport:
			writeSender(&sb, true, p.SSRC, p.NTPTime)
			reports = p.Reports
		case *rtcp.ReceiverReport:
			writeSender(&sb, false, p.SSRC, 0)
			reports = p.Reports
		case *rtcp.Goodbye:
			sb.WriteString("bye")
			for _, s := range p.Sources {
				sb.WriteString(" " + hex32(s))
			}
			sb.WriteString("\n")
		}
		for _, r := range reports {
			writeBlock(&sb, r.SSRC, r.FractionLost, r.TotalLost, r.LastSequenceNumber, r.Jitter, r.LastSenderReport, r.Delay)
		}
	}
	return sb.String()
}

func writeSender(sb *strings.Builder, sr bool, ssrc uint32, ntp uint64) {
	if sr {
		sb.WriteString("sr " + hex32(ssrc) + " " + hex32(uint32(ntp>>32)) + hex32(uint32(ntp)) + "\n")
	} else {
		sb.WriteString("rr " + hex32(ssrc) + "\n")
	}
}

func writeBlock(sb *strings.Builder, ssrc uint32, frac uint8, lost, hi, jit, lsr, dlsr uint32) {
	for _, v := range []uint32{ssrc, uint32(frac), lost, hi, jit, lsr, dlsr} {
		sb.WriteString(" " + hex32(v))
	}
	sb.WriteString("\n")
}

func hex32(v uint32) string {
	const digits = "0123456789abcdef"
	var b [8]byte
	for i := range b {
		b[7-i] = digits[v>>(4*i)&0xf]
	}
	return string(b[:])
}

// FuzzRTCPWire checks the allocation-free RTCP walker (validRTCP,
// wellFormedRTCP, rtcpIter, parseSender, block, byeSources) against
// pion/rtcp on any input: it never panics, and when both accept a compound
// packet they read the same senders, NTP times, report blocks and BYE
// sources. Our own packets (putRTCP) round-trip.
func FuzzRTCPWire(f *testing.F) {
	sr, _ := rtcp.Marshal([]rtcp.Packet{
		&rtcp.SenderReport{SSRC: 5, NTPTime: 1 << 40, Reports: []rtcp.ReceptionReport{{SSRC: 1, TotalLost: 0xffffff, LastSenderReport: 7, Delay: 9}}},
		rtcp.NewCNAMESourceDescription(5, "x"),
		&rtcp.Goodbye{Sources: []uint32{5, 6}, Reason: "bye"},
	})
	f.Add(sr)
	rr, _ := rtcp.Marshal([]rtcp.Packet{&rtcp.ReceiverReport{SSRC: 5, Reports: []rtcp.ReceptionReport{{SSRC: 1}, {SSRC: 2, FractionLost: 3}}}})
	f.Add(rr)
	f.Add([]byte{0x80, rtcpRR, 0, 1, 0, 0, 0, 5})
	f.Add([]byte{0x81, rtcpRR, 0, 1, 0, 0, 0, 5})
	f.Add([]byte{0x80, rtcpRR, 0, 1, 0, 0, 0, 5, 0xa1, rtcpBYE, 0, 1, 0, 0, 0, 5})
	f.Fuzz(func(t *testing.T, b []byte) {
		ours := validRTCP(b) && wellFormedRTCP(b)
		got := ""
		if ours {
			got = walked(b)
		}
		pkts, err := rtcp.Unmarshal(b)
		if !ours || err != nil {
			return
		}
		if want := pionWalked(pkts); got != want {
			t.Fatalf("walker:\n%s\npion:\n%s", got, want)
		}
	})
}
