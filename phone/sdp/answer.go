package sdp

import (
	"fmt"
	"slices"
	"strconv"

	psdp "github.com/pion/sdp/v3"
)

// Answer answers offer (RFC 3264 §6) for the local side l, which is willing
// to use localDir, and returns the answer, the offered audio stream (filled
// whenever the offer parsed, also with ErrNoCommonCodec or ErrAudioRejected)
// and the chosen codec.
//
// The audio stream is the one Parse selects. The chosen codec is the
// widest-band format of the offer that is enabled in l.Codecs (Opus, then
// G.722, then G.711), and among equals the first in the offerer's order:
// the offerer's preference wins between codecs of one class, and a call
// both sides can make wideband is wideband. The
// answer lists that codec and, if offered, telephone-event/8000, with the
// offerer's payload types and in the offerer's order (RFC 3264 §6.1). The
// direction is remote.Direction.Mirror().Intersect(localDir): for example a
// sendrecv offer answered while we hold (localDir SendOnly) gives sendonly,
// and a sendonly offer while we hold gives inactive. Every other m= section is
// rejected with port 0 (RFC 3264 §6). The answer carries a=rtcp-mux when
// the offer did and l.RTCPMux is set, and only then (RFC 5761 §5.1.1, RFC
// 8035 §3): multiplexing is then in use (remote.RTCPMux && l.RTCPMux).
// l.Version is incremented only when an answer is returned.
//
// With l.SRTP set, an offer with a usable a=crypto line is answered with
// ours (same tag and suite, our key) and remote.Crypto holds only the
// accepted line (see SRTP.AnswerKeys); the answer keeps the offer's profile.
// An RTP/SAVP offer without a usable line, or any offer without one when
// l.SRTP.Mandatory, fails with ErrNoCrypto; so does an RTP/SAVP offer when
// l.SRTP is nil. Without l.SRTP a=crypto lines are ignored.
//
// With l.DTLS set, only a DTLS-SRTP section (UDP/TLS/RTP/SAVP or SAVPF,
// RFC 5764 §8) with a=fingerprint is accepted (else ErrNoCrypto); the
// answer keeps its transport and carries our a=fingerprint and a=setup
// (active unless the offer is active, RFC 5763 §5; see LocalDTLS.Setup). Without l.DTLS (and l.SRTP),
// a DTLS offer is refused like an RTP/SAVP one.
//
// Errors: ErrInvalidLocal (l or localDir), ErrMalformed, ErrNoAudio,
// ErrAudioRejected (the audio stream has port 0), ErrNoCommonCodec and
// ErrNoCrypto.
func Answer(l *Local, offer []byte, localDir Direction) (answer []byte, remote Media, chosen Codec, err error) {
	if err := l.check(localDir); err != nil {
		return nil, Media{}, Codec{}, err
	}
	enabled, err := l.codecs()
	if err != nil {
		return nil, Media{}, Codec{}, err
	}
	sd, err := unmarshal(offer)
	if err != nil {
		return nil, Media{}, Codec{}, err
	}
	idx, err := selectAudio(sd, l.SRTP != nil || l.DTLS != nil)
	if err != nil {
		if _, serr := selectAudio(sd, true); serr == nil {
			err = fmt.Errorf("%w: only RTP/SAVP offered, SRTP is off", ErrNoCrypto)
		}
		return nil, Media{}, Codec{}, err
	}
	if l.SRTP != nil {
		if k := selectKeyed(sd); k >= 0 {
			idx = k
		}
	}
	if l.DTLS != nil {
		if k := selectDTLS(sd); k >= 0 {
			idx = k
		}
	}
	offered := sd.MediaDescriptions[idx]
	remote, err = parseMedia(sd, offered)
	if err != nil {
		return nil, Media{}, Codec{}, err
	}
	if remote.Port == 0 {
		return nil, remote, Codec{}, ErrAudioRejected
	}
	i := chooseCodec(remote.Codecs, enabled)
	if i < 0 {
		return nil, remote, Codec{}, fmt.Errorf("%w: offered %v, enabled %v", ErrNoCommonCodec, remote.Codecs, enabled)
	}
	chosen = remote.Codecs[i]
	var lines []Crypto
	var dtlsLines []psdp.Attribute
	if l.DTLS != nil {
		dtlsLines, err = answerDTLS(l.DTLS, remote)
	} else {
		lines, err = answerSRTP(l.SRTP, &remote)
	}
	if err != nil {
		return nil, remote, Codec{}, err
	}

	// RFC 3264 §6.1: the answer uses the offerer's payload types; the
	// formats keep the offer's relative order.
	md := &psdp.MediaDescription{MediaName: audioName(l.Port, remote.SAVP)}
	if remote.DTLS {
		// The offer's spelling, SAVP or SAVPF (RFC 3264 §6: the answer
		// keeps the offered transport).
		md.MediaName.Protos = slices.Clone(offered.MediaName.Protos)
	}
	// RFC 4733 §2.1: events on the audio's clock. An Opus offer with only
	// telephone-event/8000 (baresip's) keeps that one: its events are
	// still understood (only the digit matters to us), and ours go as SIP
	// INFO (the phone sends RFC 4733 only on a matching clock).
	dtmfPT, dtmfRate := remote.DTMFFor(chosen.Rate), chosen.Rate
	if dtmfPT < 0 {
		dtmfPT, dtmfRate = remote.DTMFPT, G711Rate
	}
	var added [128]bool
	for _, f := range offered.MediaName.Formats {
		pt, _ := parsePT(f) // parseMedia checked every format
		if added[pt] {
			continue
		}
		switch {
		case pt == chosen.PT:
			addCodec(md, pt, rtpmapValue(chosen.Name), localFmtp(chosen.Name))
		case int(pt) == dtmfPT:
			addCodec(md, pt, "telephone-event/"+strconv.Itoa(dtmfRate), "0-16")
		default:
			continue
		}
		added[pt] = true
	}
	addTail(md, l.ptime(), remote.Direction.Mirror().Intersect(localDir))
	muxed := remote.RTCPMux && l.RTCPMux
	if muxed {
		md.Attributes = append(md.Attributes, psdp.NewPropertyAttribute(attrRTCPMux))
	}
	addCrypto(md, lines)
	md.Attributes = append(md.Attributes, dtlsLines...)

	ans := l.session()
	if remote.ICE.On() {
		// RFC 8839 §4.2.1: ICE in the answer only when the offer did ICE.
		l.addICE(ans, md, muxed)
	}
	ans.MediaDescriptions = make([]*psdp.MediaDescription, len(sd.MediaDescriptions))
	for j, o := range sd.MediaDescriptions {
		if j == idx {
			ans.MediaDescriptions[j] = md
			continue
		}
		// RFC 3264 §6: a stream we do not accept stays in the answer, in
		// its place, with port 0 and the offered formats.
		ans.MediaDescriptions[j] = &psdp.MediaDescription{MediaName: psdp.MediaName{
			Media:   o.MediaName.Media,
			Protos:  o.MediaName.Protos,
			Formats: o.MediaName.Formats,
		}}
	}
	answer, err = ans.Marshal()
	if err != nil {
		return nil, remote, Codec{}, fmt.Errorf("sdp: marshal answer: %w", err)
	}
	return answer, remote, chosen, nil
}

// ParseAnswer parses the answer to one of our offers and returns its audio
// stream and the chosen codec: the first supported codec in the answer
// (RFC 3264 §6.1: the answerer lists its preference first). The caller
// should check that chosen is one it offered, with the same payload type.
// Our direction for the stream is then
// remote.Direction.Mirror().Intersect(offered direction) (RFC 3264 §6.1: the
// answerer can only narrow what was offered). RTCP is multiplexed when the
// offer had a=rtcp-mux and remote.RTCPMux is set (RFC 5761 §5.1.1); an
// answer with a=rtcp-mux to an offer without it is to be ignored (RFC 8035
// §3), which is the caller's part.
//
// Errors: ErrMalformed, ErrNoAudio, ErrAudioRejected (port 0, RFC 3264 §8.2)
// and ErrNoCommonCodec.
func ParseAnswer(answer []byte) (Media, Codec, error) {
	m, err := Parse(answer)
	if err != nil {
		return Media{}, Codec{}, err
	}
	if m.Port == 0 {
		return m, Codec{}, ErrAudioRejected
	}
	if len(m.Codecs) == 0 {
		return m, Codec{}, ErrNoCommonCodec
	}
	return m, m.Codecs[0], nil
}

// bandClass ranks a codec by the audio band it carries.
func bandClass(name string) int {
	switch name {
	case Opus:
		return 2
	case G722:
		return 1
	}
	return 0
}

// chooseCodec returns the index in offered of the answer's codec (see
// Answer), or -1 when none is enabled.
func chooseCodec(offered []Codec, enabled []string) int {
	best := -1
	for i, c := range offered {
		if !slices.Contains(enabled, c.Name) {
			continue
		}
		if best < 0 || bandClass(c.Name) > bandClass(offered[best].Name) {
			best = i
		}
	}
	return best
}
