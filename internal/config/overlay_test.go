package config

import (
	"errors"
	"strings"
	"testing"
)

// envMap returns a lookup function over m, like os.LookupEnv.
func envMap(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func TestPrecedence(t *testing.T) {
	const file = `
[sip]
listen = "127.0.0.1:5070"

[[accounts]]
aor = "sip:alice@x.example"
password = "from-file"

[media]
rtp_ports = [30000, 30100]
audio = "null"

[ui]
log_file = "/tmp/file.log"
`
	type want struct {
		listen, audio, logFile, password string
		low, high                        int
	}
	fromFile := want{"127.0.0.1:5070", "null", "/tmp/file.log", "from-file", 30000, 30100}
	tests := []struct {
		name  string
		env   map[string]string
		flags Overrides
		want  want
	}{
		{"file only", nil, Overrides{}, fromFile},
		{"empty env and flags change nothing", map[string]string{EnvListen: "", EnvAudio: ""}, Overrides{}, fromFile},
		{
			name: "env beats file",
			env: map[string]string{
				EnvListen: ":6000", EnvRTPPorts: "40000-40100", EnvAudio: "tone:440",
				EnvPassword: "from-env", EnvLogFile: "/tmp/env.log",
			},
			want: want{":6000", "tone:440", "/tmp/env.log", "from-env", 40000, 40100},
		},
		{
			name:  "flags beat env",
			env:   map[string]string{EnvListen: ":6000", EnvRTPPorts: "40000-40100", EnvAudio: "tone:440", EnvLogFile: "/tmp/env.log"},
			flags: Overrides{Listen: ":7000", RTPPorts: "50000-50100", Audio: "file:in.wav", LogFile: "/tmp/flag.log"},
			want:  want{":7000", "file:in.wav", "/tmp/flag.log", "from-file", 50000, 50100},
		},
		{
			name:  "a flag beats env only for its own key",
			env:   map[string]string{EnvListen: ":6000", EnvAudio: "tone:440"},
			flags: Overrides{Audio: "portaudio"},
			want:  want{":6000", "portaudio", "/tmp/file.log", "from-file", 30000, 30100},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load(writeConfig(t, file))
			if err != nil {
				t.Fatal(err)
			}
			cfg.ApplyEnv(envMap(tt.env))
			cfg.ApplyOverrides(tt.flags)
			if err := cfg.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			low, high := cfg.Media.PortRange()
			got := want{cfg.SIP.Listen, cfg.Media.Audio, cfg.UI.LogFile, string(cfg.Accounts[0].Password), low, high}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestOverlayErrorsNameTheSource(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		flags Overrides
		want  string // "" = valid
	}{
		{"bad env listen", map[string]string{EnvListen: "nope"}, Overrides{},
			`$TEAPHONE_LISTEN: sip.listen: want host:port`},
		{"bad env ports syntax", map[string]string{EnvRTPPorts: "10000:20000"}, Overrides{},
			`$TEAPHONE_RTP_PORTS: media.rtp_ports: want LOW-HIGH such as "10000-20000", got "10000:20000"`},
		{"bad env ports range", map[string]string{EnvRTPPorts: "20001-30000"}, Overrides{},
			`$TEAPHONE_RTP_PORTS: media.rtp_ports: want an even low port`},
		{"bad env audio", map[string]string{EnvAudio: "tone:90000"}, Overrides{},
			`$TEAPHONE_AUDIO: media.audio: want tone:HZ`},
		{"bad flag ports", nil, Overrides{RTPPorts: "x"},
			`command line: media.rtp_ports: want LOW-HIGH`},
		{"bad flag audio", nil, Overrides{Audio: "speaker"},
			`command line: media.audio: want "portaudio"`},
		{"flag fixes a bad env value", map[string]string{EnvRTPPorts: "oops"}, Overrides{RTPPorts: "10000-10010"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, "[media]\nrtp_ports = [30000, 30100]\n")
			cfg, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			cfg.ApplyEnv(envMap(tt.env))
			cfg.ApplyOverrides(tt.flags)
			err = cfg.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate = %v\nwant it to contain %s", err, tt.want)
			}
			if strings.Contains(err.Error(), path) {
				t.Errorf("error blames the file for an overridden value: %v", err)
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.Source == "" || ce.Line != 0 {
				t.Errorf("want *Error with a Source and no Line, got %+v", ce)
			}
		})
	}
}

func TestApplyEnvPasswordWithoutAccount(t *testing.T) {
	cfg := Default()
	cfg.ApplyEnv(envMap(map[string]string{EnvPassword: "x"}))
	if len(cfg.Accounts) != 0 {
		t.Fatal("TEAPHONE_PASSWORD created an account")
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestOverlayDoesNotAffectCopies(t *testing.T) {
	base := Default()
	base.ApplyEnv(envMap(map[string]string{EnvListen: ":1"}))
	cp := base
	cp.ApplyOverrides(Overrides{RTPPorts: "bad"})
	if err := base.Validate(); err != nil {
		t.Fatalf("overlay on a copy leaked into the original: %v", err)
	}
	if base.src["media.rtp_ports"] != "" {
		t.Fatal("source map shared between copies")
	}
}

func TestOverridden(t *testing.T) {
	cfg, err := Load(writeConfig(t, "[media]\naudio = \"portaudio\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Overridden("media.audio") {
		t.Error("media.audio from the file counts as overridden")
	}
	env := cfg
	env.ApplyEnv(func(k string) (string, bool) { return map[string]string{EnvAudio: "portaudio"}[k], k == EnvAudio })
	if !env.Overridden("media.audio") {
		t.Errorf("media.audio from $%s does not count as overridden", EnvAudio)
	}
	flag := cfg
	flag.ApplyOverrides(Overrides{Audio: "portaudio"})
	if !flag.Overridden("media.audio") || flag.Overridden("sip.listen") {
		t.Error("--audio: want media.audio overridden, sip.listen not")
	}
}

func TestMetricsOverride(t *testing.T) {
	cfg, err := Load(writeConfig(t, "[metrics]\nlisten = \"127.0.0.1:9464\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.ApplyOverrides(Overrides{Metrics: "bad"})
	if cfg.Metrics.Listen != "bad" || !cfg.Overridden("metrics.listen") {
		t.Fatalf("--metrics: metrics.listen = %q, overridden %v", cfg.Metrics.Listen, cfg.Overridden("metrics.listen"))
	}
	err = cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), "command line") || !strings.Contains(err.Error(), "metrics.listen") {
		t.Errorf("Validate after --metrics bad: %v, want an error naming metrics.listen and the command line", err)
	}
}
