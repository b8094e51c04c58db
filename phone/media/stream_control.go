package media

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/teaphone/teaphone/audio"
	"github.com/teaphone/teaphone/internal/sipaddr"
)

// SetRemote changes the remote RTP and RTCP addresses (a new SDP). It
// clears the symmetric-RTP latch and the source lock. A zero rtcp means
// rtp's port + 1.
func (s *Stream) SetRemote(rtp, rtcp netip.AddrPort) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setRemoteLocked(rtp, rtcp)
	s.rx.locked = false
	s.rx.haveCand = false
	s.rx.haveTransit = false
}

func (s *Stream) setRemoteLocked(rtp, rtcp netip.AddrPort) {
	rtp = unmap(rtp)
	rtcp = unmap(rtcp)
	if !rtcp.IsValid() && rtp.IsValid() && rtp.Port() != 0 && rtp.Port() < 65535 {
		// RFC 3550 §11: RTCP on the next port unless signalled otherwise.
		rtcp = netip.AddrPortFrom(rtp.Addr(), rtp.Port()+1)
	}
	if rtp.Port() == 0 {
		rtp = netip.AddrPort{}
	}
	s.sdpRTP, s.sdpRTCP = rtp, rtcp
	s.dst, s.dstRTCP = rtp, rtcp
	s.latched, s.rtcpLatch = false, false
}

// SetRTCPMux switches RTP/RTCP multiplexing (RFC 5761) after a
// re-negotiation. On, RTCP is sent on the RTP socket to where RTP goes
// (the RTP latch included) and RTCP is taken from the RTP socket only; off,
// RTCP is sent from the RTCP socket to the RTCP address and that socket is
// read (its goroutine starts the first time it is needed). RTCP that
// arrives on the RTP socket is understood either way.
func (s *Stream) SetRTCPMux(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mux = on
	if s.started {
		s.readRTCPLocked()
	}
}

// readRTCPLocked starts the RTCP socket's goroutine when the socket is in
// use (not multiplexed) and the goroutine does not run yet. Once started
// it runs until Close, also if multiplexing is switched on later.
func (s *Stream) readRTCPLocked() {
	if s.rtcpConn == nil || s.mux || s.rtcpRead || s.closed {
		return
	}
	s.rtcpRead = true
	s.wg.Add(1)
	go s.readRTCP()
}

// SetCodec changes the audio payload type, codec (with the far end's
// a=fmtp parameters for it) and the remote's telephone-event payload type
// (-1: none) after a re-negotiation. The same codec keeps its state; another
// one starts afresh, and one on another RTP clock gets a new jitter buffer.
// A codec at another audio rate needs a Source and Sink at that rate
// (CodecAudioRate): the caller sets them.
func (s *Stream) SetCodec(pt uint8, codec, fmtp string, dtmf int) error {
	info, ok := s.e.codecs[codec]
	if !ok {
		return fmt.Errorf("set codec: %w %q", ErrUnknownCodec, codec)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if pt&0x7f != s.pt {
		s.markNext = true
	}
	if codec != s.codecName {
		c, err := info.New(fmtp)
		if err != nil {
			return fmt.Errorf("set codec: %w", err)
		}
		if info.ClockRate != s.info.ClockRate || info.MaxPayload > s.info.MaxPayload {
			if jb := s.e.newPlayout(info); jb != nil {
				s.jb = jb
			}
		}
		if s.e.newConcealer != nil {
			s.conceal = s.e.newConcealer()
		}
		s.codec, s.info = c, info
	}
	s.pt, s.codecName = pt&0x7f, codec
	s.dtmfPT = dtmfPT(dtmf, pt)
	if s.dtmfPT < 0 {
		s.dtmfQ = s.dtmfQ[:0]
	}
	return nil
}

// AudioRate returns the rate of the frames the stream's Source and Sink
// work at: its codec's audio rate.
func (s *Stream) AudioRate() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.info.AudioRate
}

// CodecAudioRate returns the audio rate of a codec the engine knows (0 for
// one it does not).
func (e *Engine) CodecAudioRate(codec string) int { return e.codecs[codec].AudioRate }

// SetRecvDTMFPayloadTypes replaces the accepted telephone-event payload
// types.
func (s *Stream) SetRecvDTMFPayloadTypes(pts []uint8) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recvDTMF = append(s.recvDTMF[:0], pts...)
}

// SetDirection sets whether RTP is sent and whether received audio is
// played (RFC 3264 §5.1 sendrecv/sendonly/recvonly/inactive). RTCP goes on
// in every direction; while not receiving, nothing is written to the Sink. The first packet after sending resumes carries the
// marker bit (a new talkspurt).
func (s *Stream) SetDirection(send, recv bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if send && !s.sendOn {
		s.markNext = true
	}
	s.sendOn, s.recvOn = send, recv
}

// SetMute replaces the source's audio with encoded silence while on. The
// stream keeps sending, so NAT bindings stay open and the peer's jitter
// figures stay valid; the first packet after unmuting carries the marker.
func (s *Stream) SetMute(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.muted && !on {
		s.markNext = true
	}
	s.muted = on
}

// SetSource swaps the audio we send (nil: silence).
func (s *Stream) SetSource(src audio.Source) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.src = src
	s.setClock(src)
}

// frameClockBox holds a FrameClock for an atomic.Pointer.
type frameClockBox struct{ FrameClock }

// setClock records whether src is a FrameClock, for the engine's phase.
func (s *Stream) setClock(src audio.Source) {
	if fc, ok := src.(FrameClock); ok {
		s.clock.Store(&frameClockBox{fc})
	} else {
		s.clock.Store(nil)
	}
}

// SetSink swaps where received audio goes (nil: discarded).
func (s *Stream) SetSink(sink audio.Sink) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sink = sink
	s.setDevice(sink)
}

// deviceSinkBox holds a DeviceSink for an atomic.Pointer.
type deviceSinkBox struct{ DeviceSink }

// setDevice records whether sink is a DeviceSink, for the play schedule.
func (s *Stream) setDevice(sink audio.Sink) {
	if d, ok := sink.(DeviceSink); ok {
		s.dev.Store(&deviceSinkBox{d})
		s.e.sawDevice.Store(true)
	} else {
		s.dev.Store(nil)
	}
}

// SendDTMF queues one RFC 4733 digit (0-9 * # A-D) of the given tone
// length (0: DefaultDTMFDuration) on the remote's telephone-event payload
// type. Queued digits are sent one after another, separated by 60 ms of
// audio; while the stream does not send (hold), they wait.
func (s *Stream) SendDTMF(digit rune, dur time.Duration) error {
	ev, ok := sipaddr.DTMFEvent(digit)
	if !ok {
		return fmt.Errorf("send dtmf %q: %w", digit, ErrBadDigit)
	}
	if dur <= 0 {
		dur = DefaultDTMFDuration
	}
	frames := int((dur + audio.FrameDuration - 1) / audio.FrameDuration)
	// RFC 4733 §2.3: the duration field is 16 bit; keep one event below it.
	s.mu.Lock()
	defer s.mu.Unlock()
	frames = min(max(frames, 2), 0xffff/int(s.info.frameTS()))
	switch {
	case s.closed:
		return ErrClosed
	case s.dtmfPT < 0:
		return ErrNoDTMF
	case len(s.dtmfQ) >= dtmfQueueMax:
		return ErrDTMFQueueFull
	}
	s.dtmfQ = append(s.dtmfQ, dtmfReq{event: ev, frames: frames})
	return nil
}
