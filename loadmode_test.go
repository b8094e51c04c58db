package main

import (
	"io"
	"testing"
	"time"

	"github.com/teaphone/teaphone/internal/config"
)

func TestParseLoadFlags(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		target   string
		duration time.Duration
		calls    int
		rate     float64
		err      bool
	}{
		{"defaults", []string{"sip:a@h"}, "sip:a@h", time.Minute, 0, 20, false},
		{"flags after the URI", []string{"sip:a@h", "--rate", "50", "--calls", "10000"}, "sip:a@h", 0, 10000, 50, false},
		{"flags before the URI", []string{"--calls", "5", "sip:a@h"}, "sip:a@h", 0, 5, 20, false},
		{"calls and duration", []string{"sip:a@h", "--calls", "5", "--duration", "10s"}, "sip:a@h", 10 * time.Second, 5, 20, false},
		{"no URI", []string{"--rate", "5"}, "", 0, 0, 0, true},
		{"two URIs", []string{"sip:a@h", "--rate", "5", "sip:b@h"}, "", 0, 0, 0, true},
		{"unknown flag after the URI", []string{"sip:a@h", "--reject", "486"}, "", 0, 0, 0, true},
		{"ramp and script after the URI", []string{"sip:a@h", "--ramp", "10s", "--script", "wait 1s; dtmf 1"}, "sip:a@h", time.Minute, 0, 20, false},
	}
	for _, tt := range tests {
		f, err := parseFlags("load", tt.args, io.Discard)
		if tt.err {
			if err == nil {
				t.Errorf("%s: no error", tt.name)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if f.target != tt.target || f.load.duration != tt.duration || f.load.n != tt.calls || f.load.rate != tt.rate {
			t.Errorf("%s: target %q duration %s calls %d rate %g, want %q %s %d %g", tt.name,
				f.target, f.load.duration, f.load.n, f.load.rate, tt.target, tt.duration, tt.calls, tt.rate)
		}
	}
}

func TestLoadDefaults(t *testing.T) {
	cfg := config.Default()
	cfg.SIP.Listen = "0.0.0.0:5060"
	loadDefaults(&cfg)
	if cfg.Media.Audio != loadAudio || cfg.SIP.Listen != "0.0.0.0:0" {
		t.Errorf("audio %q listen %q, want %q and a free port", cfg.Media.Audio, cfg.SIP.Listen, loadAudio)
	}
	cfg = config.Default()
	cfg.ApplyOverrides(config.Overrides{Listen: "127.0.0.1:7000", Audio: "null"})
	loadDefaults(&cfg)
	if cfg.Media.Audio != "null" || cfg.SIP.Listen != "127.0.0.1:7000" {
		t.Errorf("overridden: audio %q listen %q, want null and 127.0.0.1:7000", cfg.Media.Audio, cfg.SIP.Listen)
	}
}

func TestParseLoadRampScript(t *testing.T) {
	f, err := parseFlags("load", []string{"sip:a@h", "--ramp", "10s", "--script", "wait 1s; hangup", "--audio", "tone:300"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := f.script()
	if err != nil || f.load.ramp != 10*time.Second || len(sc.Commands) != 2 || f.audio != "tone:300" {
		t.Errorf("ramp %s script %v (%v) audio %q, want 10s, 2 commands, tone:300", f.load.ramp, sc, err, f.audio)
	}
}
