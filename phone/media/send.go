package media

import (
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/teaphone/teaphone/audio"
)

// tick runs one 20 ms frame of s: send, then play out one frame (see
// tickSend and tickPlay). The engine calls the halves itself.
func (s *Stream) tick(now time.Time, skipped int) (stats bool, digit rune) {
	stats, digit = s.tickSend(now, skipped)
	s.tickPlay(now)
	return stats, digit
}

// tickPlay plays out one frame of s on the clock goroutine: what the
// playout buffer has for now, decoded, concealed or silent, into the sink.
func (s *Stream) tickPlay(now time.Time) {
	t := &s.tx
	s.mu.Lock()
	if !s.started || s.closed || !s.recvOn {
		s.mu.Unlock()
		return
	}
	sink, codec, conceal, frame := s.sink, s.codec, s.conceal, s.info.frameSamples()
	n, st := s.jb.Pop(now, t.play[:])
	var next []byte
	if st == PlayoutLost {
		if _, ok := codec.(LossConcealer); ok {
			if ln, ok := s.jb.(lostNexter); ok {
				next = t.next[:ln.LostNext(t.next[:])]
			}
		}
	}
	s.mu.Unlock()
	if sink != nil {
		s.playFrame(sink, codec, conceal, st, t.play[:n], next, t.out[:frame])
	}
}

// tickSend runs the sending half of one 20 ms frame of s on the clock
// goroutine: send one RTP packet, and RTCP when due. skipped counts frames
// the clock dropped before this tick. It reports whether OnStats is due and
// the digit of a received RFC 4733 event whose end never came (0: none),
// for the caller to report after the tick.
func (s *Stream) tickSend(now time.Time, skipped int) (stats bool, digit rune) {
	t := &s.tx
	s.mu.Lock()
	if !s.started || s.closed {
		s.mu.Unlock()
		return false, 0
	}
	if !t.running {
		t.running = true
		t.marker = true
		// RFC 3550 §6.2: the first report after a randomised half interval.
		t.nextRTCP = now.Add(s.rtcpDelay() / 2)
		t.nextStats = now.Add(s.e.statsInterval)
	} else if skipped > 0 {
		// The clock skipped frames: keep the RTP clock on wall time and
		// start a new talkspurt.
		t.ts += uint32(skipped) * s.info.frameTS()
		t.marker = true
	}
	if s.markNext {
		t.marker = true
		s.markNext = false
	}
	dst := s.dst
	// DTLS-SRTP: nothing is sent before the keys (RFC 5764 §4.1.2).
	keyed := !s.needKeys || s.sec.Load() != nil
	sending := s.sendOn && s.dst.IsValid() && keyed
	if sending && !t.dtmf.active && t.gap == 0 && len(s.dtmfQ) > 0 && s.dtmfPT >= 0 {
		r := s.dtmfQ[0]
		copy(s.dtmfQ, s.dtmfQ[1:])
		s.dtmfQ = s.dtmfQ[:len(s.dtmfQ)-1]
		t.dtmf = dtmfTx{active: true, event: r.event, pt: uint8(s.dtmfPT), startTS: t.ts, frames: r.frames}
	}
	src, muted, codec, pt := s.src, s.muted, s.codec, s.pt
	frame, step := s.info.frameSamples(), s.info.frameTS()
	if s.rx.dtmfOpen && now.Sub(s.rx.dtmfLast) > dtmfRecvTimeout {
		// RFC 4733 §2.5.2 (receiver procedures): the end packets were lost.
		digit = s.rx.closeDTMFLocked()
	}
	s.mu.Unlock()

	s.flushDTLS(dst)
	if sending {
		s.sendFrame(dst, src, muted, codec, pt, t.pcm[:frame], step)
	}
	if !now.Before(t.nextRTCP) && keyed {
		s.sendRTCP(now, false)
		t.nextRTCP = now.Add(s.rtcpDelay())
	}
	if s.onStats != nil && !now.Before(t.nextStats) {
		stats = true
		t.nextStats = now.Add(s.e.statsInterval)
	}
	t.ts += step
	return stats, digit
}

// sendFrame sends this tick's RTP packet: a telephone-event packet while a
// DTMF event is on, else one frame of audio. It does not allocate.
func (s *Stream) sendFrame(dst netip.AddrPort, src audio.Source, muted bool, codec Codec, pt uint8, pcm []int16, step uint32) {
	t := &s.tx
	var n int
	if t.dtmf.active {
		n = s.buildDTMF(step)
	} else {
		if src != nil && !muted {
			if err := src.ReadFrame(pcm); err != nil {
				clear(pcm)
			}
		} else {
			clear(pcm)
		}
		if la, ok := codec.(LossAdapter); ok {
			if p := s.remoteLoss.Load(); p >= 0 {
				la.SetLossPercent(int(p))
			}
		}
		n = rtpHeaderLen + codec.Encode(t.buf[rtpHeaderLen:], pcm)
		putRTPHeader(t.buf[:], t.marker, pt, t.seq, t.ts, s.ssrc)
		t.marker = false
		if t.gap > 0 {
			t.gap--
		}
	}
	t.seq++
	b := t.buf[:n]
	if st := s.sec.Load(); st != nil {
		// RFC 3711 §3.3: protect; the header stays in clear.
		out, err := st.txRTP.EncryptRTP(t.sbuf[:0], b, &t.shdr)
		if err != nil {
			return
		}
		b = out
	}
	if err := s.writeRTP(b, dst); err == nil {
		s.txPackets.Add(1)
		s.txOctets.Add(uint64(n - rtpHeaderLen))
		t.sentSinceRR = true
	}
}

// buildDTMF writes the next packet of the current event into the send
// buffer and returns its length.
//
// RFC 4733 §2.5.1 (sender procedures): all packets of an event carry the
// event's start timestamp and a growing duration; the first has the marker
// bit; the final packet, with the E bit and the final duration, is sent
// three times. Sequence numbers go on as for audio. The audio timestamp keeps running meanwhile, so the next audio
// packet is stamped past the event and starts a new talkspurt.
func (s *Stream) buildDTMF(step uint32) int {
	t := &s.tx
	d := &t.dtmf
	d.k++
	end := d.k >= d.frames
	dur := d.k
	if end {
		dur = d.frames
	}
	putRTPHeader(t.buf[:], d.k == 1, d.pt, t.seq, d.startTS, s.ssrc)
	putDTMF(t.buf[rtpHeaderLen:], d.event, end, uint16(uint32(dur)*step))
	if d.k >= d.frames+2 {
		d.active = false
		t.gap = dtmfGapFrames
		t.marker = true
	}
	return rtpHeaderLen + dtmfPayloadLen
}

// playFrame decodes, conceals or silences one frame and writes it to sink.
// conceal is the stream's concealer (read under s.mu: SetCodec replaces
// it); out is the frame to fill (the codec's frame length); next is the packet
// after a lost frame when the codec conceals itself and it is here.
func (s *Stream) playFrame(sink audio.Sink, codec Codec, conceal Concealer, st PlayoutStatus, payload, next []byte, out []int16) {
	lc, selfConceal := codec.(LossConcealer)
	if selfConceal {
		conceal = nil // the codec's own concealment replaces ours
	}
	switch st {
	case PlayoutFrame:
		k := codec.Decode(out, payload)
		clear(out[min(max(k, 0), len(out)):])
		if conceal != nil {
			conceal.Good(out)
		}
	case PlayoutLost:
		switch {
		case selfConceal:
			k := lc.DecodeLost(out, next)
			clear(out[min(max(k, 0), len(out)):])
		case conceal != nil:
			conceal.Conceal(out)
		default:
			clear(out)
		}
	default:
		// Silence still goes through the concealer, which keeps its
		// history (and delay line) continuous.
		clear(out)
		if conceal != nil {
			conceal.Good(out)
		}
	}
	_ = sink.WriteFrame(out)
}

// rtcpDelay is the RFC 3550 §6.3.1 randomised interval: base × [0.5, 1.5].
func (s *Stream) rtcpDelay() time.Duration {
	base := s.e.rtcpInterval
	return base/2 + time.Duration(rand.Int64N(int64(base)))
}
