package opus

import (
	"strings"
	"testing"
)

func TestParseFmtp(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Params
		wantErr string // substring; "" for none
	}{
		{in: "", want: Params{}},
		{in: "minptime=10;useinbandfec=1", want: Params{UseInbandFEC: true}},
		{in: "maxplaybackrate=16000;stereo=0;useinbandfec=1", want: Params{MaxPlaybackRate: 16000, UseInbandFEC: true}},
		{in: " MaxPlaybackRate = 8000 ; sprop-stereo=1;usedtx=1; cbr=1",
			want: Params{MaxPlaybackRate: 8000, SpropStereo: true, UseDTX: true, CBR: true}},
		{in: "maxaveragebitrate=20000;sprop-maxcapturerate=24000;stereo=1",
			want: Params{MaxAverageBitrate: 20000, SpropMaxCaptureRate: 24000, Stereo: true}},
		{in: "useinbandfec=1;useinbandfec=0", want: Params{}}, // the last one wins
		{in: "x-unknown=7;;=;useinbandfec=1", want: Params{UseInbandFEC: true}},
		{in: "maxplaybackrate=4000;useinbandfec=1", want: Params{UseInbandFEC: true}, wantErr: "maxplaybackrate"},
		{in: "maxplaybackrate=96000", want: Params{}, wantErr: "from 8000 to 48000"},
		{in: "maxaveragebitrate=abc;usedtx=1", want: Params{UseDTX: true}, wantErr: "maxaveragebitrate"},
		{in: "stereo=2;useinbandfec=1", want: Params{UseInbandFEC: true}, wantErr: "stereo"},
		{in: "useinbandfec=yes", want: Params{}, wantErr: "0 or 1"},
		{in: "useinbandfec", want: Params{}, wantErr: "useinbandfec"},
	} {
		got, err := ParseFmtp(tc.in)
		if got != tc.want {
			t.Errorf("ParseFmtp(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("ParseFmtp(%q): unexpected error %v", tc.in, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("ParseFmtp(%q): error %v, want one containing %q", tc.in, err, tc.wantErr)
		}
	}
}

func TestFormatFmtp(t *testing.T) {
	for _, tc := range []struct {
		in   Params
		want string
	}{
		{Params{}, "stereo=0;useinbandfec=0"},
		{LocalParams(), "maxplaybackrate=48000;stereo=0;useinbandfec=1"},
		{Params{MaxPlaybackRate: 16000, MaxAverageBitrate: 24000, UseInbandFEC: true, UseDTX: true},
			"maxplaybackrate=16000;maxaveragebitrate=24000;stereo=0;useinbandfec=1;usedtx=1"},
		{Params{SpropMaxCaptureRate: 8000, Stereo: true, SpropStereo: true, CBR: true},
			"sprop-maxcapturerate=8000;stereo=1;sprop-stereo=1;cbr=1;useinbandfec=0"},
	} {
		got := FormatFmtp(tc.in)
		if got != tc.want {
			t.Errorf("FormatFmtp(%+v) = %q, want %q", tc.in, got, tc.want)
		}
		back, err := ParseFmtp(got)
		if err != nil || back != tc.in {
			t.Errorf("ParseFmtp(%q) = %+v, %v; want %+v", got, back, err, tc.in)
		}
	}
}

func TestBandwidthFor(t *testing.T) {
	for rate, want := range map[int]Bandwidth{
		0: Narrowband, 8000: Narrowband, 11025: Mediumband, 12000: Mediumband, 16000: Wideband,
		22050: SuperWideband, 24000: SuperWideband, 32000: Fullband, 48000: Fullband,
	} {
		if got := BandwidthFor(rate); got != want {
			t.Errorf("BandwidthFor(%d) = %d, want %d", rate, got, want)
		}
	}
}

func TestConfigFor(t *testing.T) {
	for _, tc := range []struct {
		fmtp string
		want EncoderConfig
	}{
		// No parameters: full band, no FEC (useinbandfec=0 is the default), no DTX.
		{"", EncoderConfig{MaxBandwidth: Fullband, Bitrate: DefaultBitrate}},
		{"maxplaybackrate=16000;stereo=0;useinbandfec=1",
			EncoderConfig{MaxBandwidth: Wideband, Bitrate: DefaultBitrate, FEC: true, LossPercent: DefaultLossPercent}},
		{"maxplaybackrate=8000;maxaveragebitrate=12000;usedtx=1",
			EncoderConfig{MaxBandwidth: Narrowband, Bitrate: 12000, DTX: true}},
		{"maxaveragebitrate=64000;stereo=1", EncoderConfig{MaxBandwidth: Fullband, Bitrate: DefaultBitrate}},
	} {
		p, err := ParseFmtp(tc.fmtp)
		if err != nil {
			t.Fatal(err)
		}
		if got := ConfigFor(p); got != tc.want {
			t.Errorf("ConfigFor(%q) = %+v, want %+v", tc.fmtp, got, tc.want)
		}
	}
}

// FuzzParseFmtp: ParseFmtp never panics, what it returns formats to a line
// that parses back to the same Params without error.
func FuzzParseFmtp(f *testing.F) {
	for _, s := range []string{
		"", "maxplaybackrate=16000;stereo=0;useinbandfec=1", "useinbandfec=1; usedtx=1",
		"maxaveragebitrate=510000;cbr=1;sprop-stereo=1;sprop-maxcapturerate=8000", "stereo=2;;=;x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, _ := ParseFmtp(s)
		line := FormatFmtp(p)
		back, err := ParseFmtp(line)
		if err != nil || back != p {
			t.Fatalf("ParseFmtp(%q) = %+v; formatted %q parses to %+v, %v", s, p, line, back, err)
		}
	})
}
