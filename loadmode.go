package main

import (
	"context"
	"io"
	"net"
	"os"

	"github.com/teaphone/teaphone/internal/config"
	"github.com/teaphone/teaphone/internal/headless"
	"github.com/teaphone/teaphone/internal/load"
	"github.com/teaphone/teaphone/internal/script"
	"github.com/teaphone/teaphone/sessions"
)

// loadAudio is what every call of load mode sends unless --audio (or
// $TEAPHONE_AUDIO) says otherwise: a load test has no use for the sound card.
const loadAudio = "tone:440"

// loadDefaults adapts the configuration to load mode: a tone as the audio,
// and a free SIP port unless one was asked for on the command line or in
// the environment (the configured one may be the user's phone's, in use).
func loadDefaults(cfg *config.Config) {
	if !cfg.Overridden("media.audio") {
		cfg.Media.Audio = loadAudio
	}
	if !cfg.Overridden("sip.listen") {
		host, _, err := net.SplitHostPort(cfg.SIP.Listen)
		if err == nil {
			cfg.SIP.Listen = net.JoinHostPort(host, "0")
		}
	}
}

// runLoad runs "teaphone load URI": incoming calls are refused, the calls
// placed go to f.target. On a terminal, without --events, a progress bar
// and the summary; else a line per call and the summary.
func runLoad(ctx context.Context, mgr *sessions.Manager, f flags, sc script.Script, stdout, stderr io.Writer) error {
	if err := mgr.SetRules(sessions.RejectAll(486)); err != nil {
		return err
	}
	o := load.Options{
		Target: f.target, Account: f.account,
		Rate: f.load.rate, Ramp: f.load.ramp, Concurrent: f.load.concurrent, Duration: f.load.duration, Calls: f.load.n,
		Hold: f.load.hold, Timeout: f.timeout, Script: sc,
		Events: f.events, Out: stdout, Err: stderr,
	}
	if f.events == "" {
		o.Events = headless.EventsJSONL
		if file, ok := stdout.(*os.File); ok && isTerminal(file) {
			_, err := load.RunTerminal(ctx, mgr, o, stdout, stderr)
			return err
		}
	}
	_, err := load.Run(ctx, mgr, o)
	return err
}
