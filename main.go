// Command teaphone is a SIP softphone for the terminal: a full-screen phone
// (no subcommand), a headless auto-answer mode (answer), a one-shot dial mode
// (dial URI), a load generator (load URI), an audio device lister (devices)
// and its version (version).
//
// main only wires things: flags → config → logging → audio backend → phone →
// sessions → ui or headless.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/teaphone/teaphone/audio/device"
	"github.com/teaphone/teaphone/audio/portaudio"
	"github.com/teaphone/teaphone/internal/config"
	"github.com/teaphone/teaphone/internal/headless"
	"github.com/teaphone/teaphone/internal/ringer"
	"github.com/teaphone/teaphone/internal/script"
	"github.com/teaphone/teaphone/internal/version"
	"github.com/teaphone/teaphone/phone"
	"github.com/teaphone/teaphone/sessions"
	"github.com/teaphone/teaphone/ui"
	"github.com/teaphone/teaphone/ui/history"
)

func main() {
	signal.Ignore(syscall.SIGPIPE)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// exitCode maps an error to the process exit status, in one place:
// 0 ok, 1 call or expect failed, 2 usage or configuration, 130 interrupted.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	var ee *headless.ExitError
	if errors.As(err, &ee) {
		return ee.Code // the reason is already on stderr
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintln(stderr, "teaphone:", err)
	var ue usageError
	if errors.As(err, &ue) {
		return headless.ExitUsage
	}
	return 1
}

// run is the whole program: flags → config → logging → audio backend →
// phone → sessions → ui or headless.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	mode, args := splitMode(args)
	switch mode {
	case "tui", "answer", "dial", "load":
	case "doctor":
		return runDoctor(ctx, args, stdout, stderr)
	case "ctl":
		return runCtl(ctx, args, stdout, stderr)
	case "history":
		return runHistory(ctx, args, stdout, stderr)
	case "rules":
		return runRules(args, stdout, stderr)
	case "devices":
		return listDevices(stdout)
	case "version":
		fmt.Fprint(stdout, version.Read(portaudio.Available))
		return nil
	case "help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return usageError{fmt.Errorf("unknown command %q", mode)}
	}
	f, err := parseFlags(mode, args, stderr)
	if err != nil {
		return err
	}

	cfg, err := loadConfig(f.common)
	if err != nil {
		return usageError{err}
	}
	if mode == "load" {
		loadDefaults(&cfg)
	}
	logger, logFile, closeLog, err := openLog(cfg, f.verbose, mode)
	if err != nil {
		return usageError{err}
	}
	defer closeLog()
	if f.pprof != "" {
		stopPprof, err := servePprof(f.pprof, logger)
		if err != nil {
			return usageError{err}
		}
		defer stopPprof()
	}
	met, stopMetrics, err := serveMetrics(cfg, logger)
	if err != nil {
		return usageError{err}
	}
	defer stopMetrics()
	if f.verbose {
		// --verbose: every SIP message as on the wire, in the log.
		var w io.Writer = stderr
		if logFile != nil {
			w = logFile
		}
		phone.TraceSIP(w)
		defer phone.TraceSIP(nil)
	}
	for _, w := range cfg.Warnings() {
		logger.Warn(w)
		if mode != "tui" {
			fmt.Fprintf(stderr, "teaphone: warning: %s\n", w)
		}
	}
	if mode == "tui" && logFile != nil {
		// From here on nothing but Bubble Tea may write to the terminal.
		if restore, err := redirectStderr(logFile); err == nil {
			defer restore()
		}
	}
	phone.SetLibraryLogger(logger.With("component", "sipgo"))
	sc, err := f.script()
	if err != nil {
		return err
	}

	snd, err := openAudio(cfg, soundCard(cfg, cfg.Media.InputDevice, cfg.Media.OutputDevice, logger.With("component", "portaudio")))
	if err != nil {
		return err
	}
	dev, sd := snd.Device, (*soundDevices)(nil)
	if mode == "tui" && snd.soundCard {
		// The device picker switches devices during calls.
		if sd, err = newSoundDevices(cfg, snd.Device, logger); err != nil {
			return err
		}
		dev = sd.main
		defer sd.Close()
	} else {
		defer snd.Device.Close()
	}
	if snd.Fallback != nil {
		logger.Warn(snd.Notice(), "reason", snd.Fallback)
		if mode != "tui" {
			fmt.Fprintf(stderr, "teaphone: %s: %v\n", snd.Notice(), snd.Fallback)
		}
	}
	hub := device.NewHub(dev)
	ringHub := hub
	if sd != nil {
		ringHub = device.NewHub(sd.ring) // media.ring_device, or the speaker
	}

	accounts, err := phoneAccounts(ctx, cfg)
	if err != nil {
		return usageError{err}
	}
	rules, err := configRules(cfg)
	if err != nil {
		return usageError{err}
	}
	recDir := cfg.Media.RecordDir
	if recDir == "" {
		recDir = "." // config.example.toml: empty = the current directory
	}
	mgr := sessions.New(
		sessions.WithLogger(logger.With("component", "sessions")),
		// Call waiting holds the current call when the user takes another;
		// a headless robot answers many calls at once and holds none.
		sessions.WithAutoHold(mode == "tui" && cfg.Calls.AutoHold),
		sessions.WithRecording(recDir, cfg.Media.RecordTemplate),
	)
	if sd != nil {
		sd.idle = func() bool { return len(mgr.Calls()) == 0 } // rescans close the streams for a moment
	}
	po, err := phoneOptions(cfg, accounts, logger)
	if err != nil {
		return usageError{err}
	}
	if po.Transfer, err = transferPolicy(cfg, mode); err != nil {
		return usageError{err}
	}
	po.Handler = mgr
	po.Audio = hubAudio{hub}
	ph, err := phone.New(po)
	if err != nil {
		return usageError{err}
	}
	if err := mgr.Start(ph); err != nil {
		return err
	}
	defer mgr.Close()
	if met != nil {
		if err := met.Start(mgr); err != nil {
			return err
		}
		defer met.Close()
	}
	// Subscribed before the phone listens: no call goes unrecorded. Stopped
	// after shutdown (deferred below, so run before) hung up the calls.
	hist := startHistory(cfg, mgr, mode, logger, stderr)
	defer hist.stop()
	// The rules in force before the mode sets its own: a call in the first
	// moments after the listeners open must not be left ringing with
	// nobody to decide (the Manager's zero rules defer every call).
	if err := mgr.SetRules(startRules(mode, rules)); err != nil {
		return usageError{err}
	}
	if err := ph.Start(ctx); err != nil {
		return err
	}
	warnings := cfg.Warnings()
	if mode != "load" {
		svc, warning, err := startCtl(f.ctlSocket, mgr, logger)
		if err != nil {
			_ = mgr.HangupAll()
			_ = ph.Close()
			return usageError{err}
		}
		if warning != "" {
			logger.Warn(warning)
			warnings = append(warnings, warning)
			if mode != "tui" {
				fmt.Fprintf(stderr, "teaphone: warning: %s\n", warning)
			}
		}
		if svc != nil {
			defer svc.Close() // after shutdown: the last events reach the clients
			logger.Info("control socket", "path", svc.Path())
		}
	}
	// Ctrl-C (ctx), a quit key or the end of a dial: hang up every call,
	// un-REGISTER (Close does both, bounded in time), then stop.
	shutdown := func() {
		_ = mgr.HangupAll()
		_ = ph.Close()
	}
	defer shutdown()
	logger.Info("teaphone started", "mode", mode, "listen", ph.LocalAddr(), "audio", snd.name, "config", cfg.File())

	switch mode {
	case "tui":
		return runTUI(ctx, mgr, cfg, warnings, rules, hub, ringHub, snd, sd, logger, hist)
	case "load":
		return runLoad(ctx, mgr, f, sc, stdout, stderr)
	}
	return runHeadless(ctx, mode, mgr, f, sc, cfg, rules, hub, shutdown, stdout, stderr)
}

// runHeadless runs answer or dial mode. A person may run them on the sound
// card: they hear ringback while their call rings (nobody is there to hear
// a ring).
func runHeadless(ctx context.Context, mode string, mgr *sessions.Manager, f flags, sc script.Script, cfg config.Config,
	rules []sessions.Rule, hub *device.Hub, shutdown func(), stdout, stderr io.Writer) error {
	tones := ringer.Start(mgr, ringer.Options{Ringback: hub})
	defer tones.Stop()
	ho := headless.Options{
		Events: f.events, Out: stdout, Err: stderr, Script: sc,
		AnswerDelay: f.answerDelay, RejectCode: f.reject, MaxCallsThenExit: f.maxCalls,
		Target: f.target, Account: f.account, Subject: f.subject, Timeout: f.timeout,
		RecordDir: f.recordDir, RecordTemplate: cfg.Media.RecordTemplate,
		Shutdown: shutdown, Rules: rules,
	}
	if ho.RecordDir == "" {
		ho.RecordDir = cfg.Media.RecordDir
	}
	if ho.Events == "" {
		ho.Events = headless.EventsJSONL
		if file, ok := stdout.(*os.File); ok && isTerminal(file) {
			ho.Events = headless.EventsText
		}
	}
	if mode == "answer" {
		return headless.RunAnswer(ctx, mgr, ho)
	}
	return headless.RunDial(ctx, mgr, ho)
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// runTUI runs the full-screen phone: every incoming call no [[rules]] decides waits for the
// person, the ring tone plays on ringHub and ringback and keypad tones with
// the calls on hub, and the dial history is kept across runs.
func runTUI(ctx context.Context, mgr *sessions.Manager, cfg config.Config, warnings []string, rules []sessions.Rule, hub, ringHub *device.Hub, snd openedAudio, sd *soundDevices, logger *slog.Logger, calls phoneHistory) error {
	names := make([]string, len(cfg.Accounts))
	voicemail := map[string]string{}
	for i, a := range cfg.Accounts {
		names[i] = cfg.AccountName(i)
		if a.Voicemail != "" {
			voicemail[names[i]] = a.Voicemail
		}
	}
	var contacts []ui.Contact
	for _, c := range cfg.Contacts {
		contacts = append(contacts, ui.Contact{Name: c.Name, URI: c.URI})
	}
	tones := ringer.Start(mgr, ringer.Options{Ring: ringHub, Ringback: hub})
	defer tones.Stop()
	hist := history.Open(history.DefaultPath(), logger.With("component", "history"))
	if calls.warning != "" {
		warnings = append(warnings, calls.warning)
	}
	o := ui.Options{
		Accounts: names, AudioIn: snd.name, AudioOut: snd.name, AudioNotice: snd.Notice(), Warnings: warnings,
		Keys: cfg.UI.Keys, Contacts: contacts,
		History: hist.Load(), OnDial: hist.Add, Keypad: ringer.Keypad(hub),
		InputLevel: hub.InputLevel, CallHistory: calls.recent(ctx), Missed: calls.missed(ctx), Voicemail: voicemail,
	}
	if sd != nil {
		o.AudioIn, o.AudioOut, _ = sd.names()
		o.ListDevices, o.UseDevice = sd.List, sd.Use
	}
	return ui.Run(ctx, mgr, o)
}
