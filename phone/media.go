package phone

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"time"

	"github.com/teaphone/teaphone/audio"
	"github.com/teaphone/teaphone/audio/file"
	"github.com/teaphone/teaphone/phone/media"
	"github.com/teaphone/teaphone/phone/sdp"
)

// start begins RTP once the first offer/answer exchange is complete.
func (m *mediaState) start() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stream != nil || m.stopped || !m.haveAns {
		return
	}
	m.rate = m.codecRateLocked()
	if m.p.opts.Audio != nil {
		m.defSrc, m.defSink, m.release = m.p.opts.Audio.CallAudio(m.id, m.rate)
	}
	remote, remoteRTCP := m.remoteAddrsLocked()
	id := m.id
	p := m.p
	dtls := m.dtls != nil
	st, err := p.engine.NewStream(media.StreamConfig{
		RTP: m.rtp, RTCP: m.rtcp, Remote: remote, RemoteRTCP: remoteRTCP,
		PayloadType: m.codec.PT, Codec: m.codec.Name, Fmtp: m.codec.Fmtp,
		DTMFPayloadType: m.remote.DTMFFor(m.codec.Rate), RecvDTMFPayloadTypes: m.recvDTMFLocked(),
		Source: m.sourceLocked(), Sink: m.sinkLocked(),
		ICE: m.ice, RTCPMux: m.mux, SRTP: m.mediaKeysLocked(), DTLS: m.dtls != nil,
		OnDTMF: func(d rune) {
			p.emit(DTMFEvent{Time: time.Now(), Session: id, Digit: d, Received: true, Method: "rfc4733"})
		},
		OnStats: func(s media.Stats) {
			p.emit(MediaEvent{Time: time.Now(), Session: id, Stats: convertStats(s, dtls)})
		},
	})
	if err != nil {
		p.log.Warn("media stream", "session", id, "err", err)
		p.emit(ErrorEvent{Time: time.Now(), Session: id, Err: fmt.Errorf("media: %w", err)})
		return
	}
	m.stream = st
	m.applyDirectionLocked()
	st.SetMute(m.muted)
	st.Start()
}

// update applies a changed description (re-INVITE either way).
func (m *mediaState) update() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stream == nil {
		return
	}
	remote, remoteRTCP := m.remoteAddrsLocked()
	if remote.IsValid() {
		m.stream.SetRemote(remote, remoteRTCP)
	}
	if err := m.stream.SetCodec(m.codec.PT, m.codec.Name, m.codec.Fmtp, m.remote.DTMFFor(m.codec.Rate)); err != nil {
		m.p.log.Warn("media codec", "session", m.id, "err", err)
	} else if r := m.codecRateLocked(); r != m.rate {
		m.changeRateLocked(r)
	}
	m.stream.SetRecvDTMFPayloadTypes(m.recvDTMFLocked())
	m.stream.SetRTCPMux(m.mux)
	// RFC 4568 §7.1.4: a re-offer may keep or change either key; a kept
	// key keeps its SRTP context (rollover counter, replay window).
	if err := m.stream.SetSRTP(m.mediaKeysLocked()); err != nil {
		m.p.log.Warn("srtp keys", "session", m.id, "err", err)
	}
	m.applyDirectionLocked()
	m.renewDTLSLocked()
}

// applyDirectionLocked sends only when both we and the remote want audio to
// flow that way (RFC 3264 §6.1); a c=0.0.0.0 peer gets nothing. While we hold
// the call (our offer is sendonly or inactive) the microphone is not sent and
// nothing is played, as every desk phone does: sendonly is only there to let
// a music-on-hold source play, and we have none.
func (m *mediaState) applyDirectionLocked() {
	holding := m.localDir != sdp.SendRecv
	send := !holding && m.localDir.Sends() && m.remote.Direction.Recvs() && !m.remote.HoldC0
	recv := !holding && m.localDir.Recvs() && m.remote.Direction.Sends()
	m.stream.SetDirection(send, recv)
}

func (m *mediaState) remoteAddrsLocked() (netip.AddrPort, netip.AddrPort) {
	if m.remote.Port == 0 || m.remote.HoldC0 {
		return netip.AddrPort{}, netip.AddrPort{}
	}
	addr, err := netip.ParseAddr(m.remote.Addr)
	if err != nil {
		ips, lerr := net.LookupIP(m.remote.Addr)
		if lerr != nil || len(ips) == 0 {
			return netip.AddrPort{}, netip.AddrPort{}
		}
		addr, _ = netip.AddrFromSlice(ips[0])
	}
	addr = addr.Unmap()
	rtcp := m.remote.RTCPPort
	if rtcp == 0 {
		rtcp = m.remote.Port + 1
	}
	return netip.AddrPortFrom(addr, uint16(m.remote.Port)), netip.AddrPortFrom(addr, uint16(rtcp))
}

// codecRateLocked is the audio rate of the negotiated codec.
func (m *mediaState) codecRateLocked() int {
	return max(m.p.engine.CodecAudioRate(m.codec.Name), audio.SampleRate)
}

// changeRateLocked moves the call to another audio rate after a codec
// change: new default audio at that rate (a recording keeps its own rate,
// see recorder).
func (m *mediaState) changeRateLocked(rate int) {
	m.p.log.Info("media rate changes", "session", m.id, "from", m.rate, "to", rate)
	m.rate = rate
	if m.p.opts.Audio != nil {
		if m.release != nil {
			m.release()
		}
		m.defSrc, m.defSink, m.release = m.p.opts.Audio.CallAudio(m.id, rate)
	}
	m.rewireLocked()
}

func (m *mediaState) recvDTMFLocked() []uint8 {
	var pts []uint8
	for _, pt := range []int{m.remote.DTMFPT, m.remote.DTMF48} {
		if pt >= 0 {
			pts = append(pts, uint8(pt))
		}
	}
	ours := m.local.DTMFPT
	if ours == 0 {
		ours = 101
	}
	if !slices.Contains(pts, ours) {
		pts = append(pts, ours)
	}
	if ours+1 <= 127 && !slices.Contains(pts, ours+1) {
		pts = append(pts, ours+1) // our telephone-event/48000 (sdp.Offer)
	}
	return pts
}

func (m *mediaState) sourceLocked() audio.Source {
	src := m.src
	if src == nil {
		src = m.defSrc
	}
	src = m.adaptSource(src)
	if m.confIn != nil {
		src = withClock(&mixSource{a: src, b: m.confIn}, src)
	}
	if m.rec != nil {
		return withClock(m.rec.localTap(src), src)
	}
	return src
}

// withClock returns wrapper, a source that reads inner, as a
// media.FrameClock when inner is one (a sound card's capture), so that the
// engine still ticks just after the device delivers when a call is
// recorded or in a conference.
func withClock(wrapper, inner audio.Source) audio.Source {
	if fc, ok := inner.(media.FrameClock); ok {
		return clockedSource{Source: wrapper, clock: fc}
	}
	return wrapper
}

// clockedSource is a source with the FrameClock of the source it wraps.
type clockedSource struct {
	audio.Source
	clock media.FrameClock
}

// LastFrameAt implements media.FrameClock.
func (c clockedSource) LastFrameAt() (time.Time, bool) { return c.clock.LastFrameAt() }

func (m *mediaState) sinkLocked() audio.Sink {
	sink := m.sink
	if sink == nil {
		sink = m.defSink
	}
	sink = m.adaptSink(sink)
	if m.confOut != nil {
		sink = teeSink{a: sink, b: m.confOut}
	}
	if m.rec != nil {
		return m.rec.remoteTap(sink)
	}
	return sink
}

func (m *mediaState) rewireLocked() {
	if m.stream != nil {
		m.stream.SetSource(m.sourceLocked())
		m.stream.SetSink(m.sinkLocked())
	}
}

// stop ends the stream (RTCP BYE) and releases the default audio.
func (m *mediaState) stop() {
	m.mu.Lock()
	if m.stopped {
		m.mu.Unlock()
		return
	}
	m.stopped = true
	st, release, rec, src := m.stream, m.release, m.rec, m.src
	m.stream, m.release, m.rec, m.src = nil, nil, nil, nil
	m.mu.Unlock()
	if st != nil {
		_ = st.Close()
	}
	if release != nil {
		release()
	}
	if rec != nil {
		_ = rec.close()
	}
	closeIfCloser(src)
}

func closeIfCloser(v any) {
	if c, ok := v.(io.Closer); ok && v != nil {
		_ = c.Close()
	}
}

func (m *mediaState) setMute(on bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.muted = on
	if m.stream != nil {
		m.stream.SetMute(on)
	}
}

// sendDTMF queues an RFC 4733 event; false when telephone-event was not
// negotiated or no stream runs (the caller falls back to SIP INFO).
func (m *mediaState) sendDTMF(d rune) bool {
	m.mu.Lock()
	st := m.stream
	// RFC 4733 events ride the RTP stream: only while it is sending (not
	// while we hold or the remote does not receive). SIP INFO does the rest.
	ok := m.remote.DTMFFor(m.codec.Rate) >= 0 && m.localDir == sdp.SendRecv && m.remote.Direction.Recvs() && !m.remote.HoldC0
	m.mu.Unlock()
	if st == nil || !ok {
		return false
	}
	if err := st.SendDTMF(d, 0); err != nil {
		return false
	}
	// The event takes 160 ms of tone plus its end packets: pace the digits.
	time.Sleep(media.DefaultDTMFDuration + 80*time.Millisecond)
	return true
}

// convertStats is s for events and Stats; dtls marks the suite as the
// call event does.
func convertStats(s media.Stats, dtls bool) MediaStats {
	if dtls {
		s.SRTP = dtlsLabel(s.SRTP)
	}
	remote := ""
	if s.Remote.IsValid() {
		remote = s.Remote.String()
	}
	return MediaStats{
		Codec: s.Codec, RxPackets: s.RxPackets, TxPackets: s.TxPackets, RxBytes: s.RxBytes, TxBytes: s.TxBytes,
		Lost: s.Lost, LossPct: s.LossPct, JitterMs: s.JitterMs, RTTMs: s.RTTMs, MOS: s.MOS,
		Dropped: s.DroppedGarbage + s.DroppedForeign, JitterDelay: s.JitterBufferMs, RemoteAddr: remote,
		RTCPMux: s.RTCPMux, SRTP: s.SRTP, DroppedSRTP: s.DroppedSRTP,
	}
}

// ---- control by session ----

// SetSource changes what the far end hears (nil: back to the default). The
// phone owns src from now on and closes it (if it is an io.Closer) when it is
// replaced or the call ends.
func (p *Phone) SetSource(id SessionID, src audio.Source) error {
	c, err := p.lookup(id)
	if err != nil {
		return err
	}
	m := &c.media
	m.mu.Lock()
	old := m.src
	m.src = src
	m.rewireLocked()
	m.mu.Unlock()
	if old != src {
		closeIfCloser(old)
	}
	return nil
}

// SetSink changes where the far end's audio goes (nil: back to the default).
func (p *Phone) SetSink(id SessionID, sink audio.Sink) error {
	c, err := p.lookup(id)
	if err != nil {
		return err
	}
	m := &c.media
	m.mu.Lock()
	m.sink = sink
	m.rewireLocked()
	m.mu.Unlock()
	return nil
}

// Record writes the call to a stereo WAV: the remote party on the left
// channel, our side on the right.
func (p *Phone) Record(id SessionID, path string) error {
	c, err := p.lookup(id)
	if err != nil {
		return err
	}
	m := &c.media
	m.mu.Lock()
	rate := m.rate
	if rate == 0 && m.haveAns {
		rate = m.codecRateLocked()
	}
	m.mu.Unlock()
	w, err := file.CreateStereoAt(path, max(rate, audio.SampleRate))
	if err != nil {
		return fmt.Errorf("record %s: %w", id, err)
	}
	m.mu.Lock()
	if m.stopped {
		m.mu.Unlock()
		w.Close()
		return fmt.Errorf("%w: session %s has ended", ErrWrongState, id)
	}
	old := m.rec
	m.rec = &recorder{w: w}
	m.rewireLocked()
	m.mu.Unlock()
	if old != nil {
		_ = old.close()
	}
	return nil
}

// StopRecording finishes the WAV of the call.
func (p *Phone) StopRecording(id SessionID) error {
	c, err := p.lookup(id)
	if err != nil {
		return err
	}
	m := &c.media
	m.mu.Lock()
	rec := m.rec
	m.rec = nil
	m.rewireLocked()
	m.mu.Unlock()
	if rec == nil {
		return fmt.Errorf("%w: session %s is not recording", ErrWrongState, id)
	}
	return rec.close()
}

// Stats returns the current media figures of a call.
func (p *Phone) Stats(id SessionID) (MediaStats, error) {
	c, err := p.lookup(id)
	if err != nil {
		return MediaStats{}, err
	}
	c.media.mu.Lock()
	st, dtls := c.media.stream, c.media.dtls != nil
	c.media.mu.Unlock()
	if st == nil {
		return MediaStats{}, errors.New("no media yet")
	}
	return convertStats(st.Stats(), dtls), nil
}
