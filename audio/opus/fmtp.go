package opus

import (
	"fmt"
	"strconv"
	"strings"
)

// Params are the Opus format parameters of an SDP a=fmtp line (RFC 7587
// §6.1). Each side states what it prefers to *receive*; the sender honours
// the other side's values ([ConfigFor]). The zero value is what an fmtp
// line with no parameters means.
type Params struct {
	// MaxPlaybackRate is the highest audio sample rate the receiver will
	// play, 8000-48000 Hz; 0 means not given (48000). The sender limits the
	// coded bandwidth to it.
	MaxPlaybackRate int
	// SpropMaxCaptureRate is the highest rate the sender captures at; 0
	// means not given.
	SpropMaxCaptureRate int
	// MaxAverageBitrate caps the sender's average bitrate, 6000-510000
	// bit/s; 0 means not given.
	MaxAverageBitrate int
	// Stereo: the receiver prefers stereo (stereo=1). teaphone sends and
	// plays mono and states stereo=0.
	Stereo bool
	// SpropStereo: the sender is likely to send stereo.
	SpropStereo bool
	// CBR: the receiver prefers constant bitrate.
	CBR bool
	// UseInbandFEC: the receiver can use Opus in-band FEC (RFC 6716
	// §2.1.7) and prefers the sender to add it.
	UseInbandFEC bool
	// UseDTX: the receiver prefers discontinuous transmission.
	UseDTX bool
}

// LocalParams are the parameters teaphone states for what it receives:
// full band, mono, in-band FEC wanted, no DTX.
func LocalParams() Params {
	return Params{MaxPlaybackRate: SampleRate, UseInbandFEC: true}
}

// PlaybackRate returns MaxPlaybackRate, or 48000 when it is not given.
func (p Params) PlaybackRate() int {
	if p.MaxPlaybackRate == 0 {
		return SampleRate
	}
	return p.MaxPlaybackRate
}

// ParseFmtp parses the parameter part of an Opus a=fmtp line (what follows
// "a=fmtp:<pt> "), such as "maxplaybackrate=16000;stereo=0;useinbandfec=1".
// Parameter names are case-insensitive, spaces around ';' and '=' are
// ignored, unknown parameters are skipped. A known parameter with a value
// out of its range is an error naming it; the other parameters are still
// returned, so a caller may go on with the default for the bad one.
func ParseFmtp(s string) (Params, error) {
	var p Params
	var first error
	for field := range strings.SplitSeq(s, ";") {
		name, value, _ := strings.Cut(field, "=")
		name = strings.ToLower(strings.TrimSpace(name))
		value = strings.TrimSpace(value)
		var err error
		switch name {
		case "maxplaybackrate":
			p.MaxPlaybackRate, err = rate(value, 8000, 48000)
		case "sprop-maxcapturerate":
			p.SpropMaxCaptureRate, err = rate(value, 8000, 48000)
		case "maxaveragebitrate":
			p.MaxAverageBitrate, err = rate(value, 6000, 510000)
		case "stereo":
			p.Stereo, err = flag(value)
		case "sprop-stereo":
			p.SpropStereo, err = flag(value)
		case "cbr":
			p.CBR, err = flag(value)
		case "useinbandfec":
			p.UseInbandFEC, err = flag(value)
		case "usedtx":
			p.UseDTX, err = flag(value)
		}
		if err != nil && first == nil {
			first = fmt.Errorf("opus fmtp %s=%q: %w", name, value, err)
		}
	}
	return p, first
}

// rate parses a decimal integer in [lo, hi].
func rate(s string, lo, hi int) (int, error) {
	v, err := strconv.Atoi(s)
	if err != nil || v < lo || v > hi {
		return 0, fmt.Errorf("want an integer from %d to %d", lo, hi)
	}
	return v, nil
}

// flag parses the 0/1 value of a boolean parameter.
func flag(s string) (bool, error) {
	switch s {
	case "0":
		return false, nil
	case "1":
		return true, nil
	}
	return false, fmt.Errorf("want 0 or 1")
}

// FormatFmtp formats p as the parameter part of an a=fmtp line, in the
// order of RFC 7587 §6.1. stereo and useinbandfec are always written (peers
// differ in what they assume when they are missing); the other parameters
// only when they are given or not at their default.
// ParseFmtp(FormatFmtp(p)) == p for every p ParseFmtp can return.
func FormatFmtp(p Params) string {
	var b strings.Builder
	add := func(name string, v int) {
		if b.Len() > 0 {
			b.WriteByte(';')
		}
		b.WriteString(name)
		b.WriteByte('=')
		b.WriteString(strconv.Itoa(v))
	}
	bit := func(v bool) int {
		if v {
			return 1
		}
		return 0
	}
	if p.MaxPlaybackRate != 0 {
		add("maxplaybackrate", p.MaxPlaybackRate)
	}
	if p.SpropMaxCaptureRate != 0 {
		add("sprop-maxcapturerate", p.SpropMaxCaptureRate)
	}
	if p.MaxAverageBitrate != 0 {
		add("maxaveragebitrate", p.MaxAverageBitrate)
	}
	add("stereo", bit(p.Stereo))
	if p.SpropStereo {
		add("sprop-stereo", 1)
	}
	if p.CBR {
		add("cbr", 1)
	}
	add("useinbandfec", bit(p.UseInbandFEC))
	if p.UseDTX {
		add("usedtx", 1)
	}
	return b.String()
}
