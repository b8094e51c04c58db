// Command teaphone is a SIP softphone for the terminal: a full-screen phone
// (no subcommand), a headless auto-answer mode (answer), a one-shot dial mode
// (dial URI), an audio device lister (devices) and its version (version).
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
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/teaphone/teaphone/audio"
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

type usageError struct{ error }

const usage = `teaphone — a SIP softphone for the terminal

usage:
  teaphone [flags]                 the full-screen phone
  teaphone answer [flags]          answer every call (headless, JSON-lines events)
  teaphone dial [flags] URI        place one call (headless, JSON-lines events)
  teaphone devices                 list audio devices
  teaphone version                 version, Go version, PortAudio support (also --version)

Run "teaphone <command> -h" for the flags of a command.
`

// common are the flags every mode takes.
type common struct {
	config, listen, audio, rtpPorts, logFile string
	verbose                                  bool
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.config, "config", "", "config file (default "+config.DefaultPath()+")")
	fs.StringVar(&c.listen, "listen", "", "SIP listen address host:port (UDP and TCP), overrides sip.listen")
	fs.StringVar(&c.audio, "audio", "", "audio: portaudio | null | tone:HZ | file:PATH (overrides media.audio)")
	fs.StringVar(&c.rtpPorts, "rtp-ports", "", "RTP port range LOW-HIGH (overrides media.rtp_ports)")
	fs.StringVar(&c.logFile, "log-file", "", "log file (default "+config.DefaultLogFile()+"; - for stderr)")
	fs.BoolVar(&c.verbose, "verbose", false, "debug logging (SIP traces included)")
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	mode := "tui"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		mode, args = args[0], args[1:]
	}
	if mode == "tui" && len(args) > 0 && (args[0] == "--version" || args[0] == "-version") {
		mode = "version"
	}
	switch mode {
	case "tui", "answer", "dial":
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

	fs := flag.NewFlagSet("teaphone "+mode, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c common
	c.register(fs)
	var (
		events, scriptText, scriptFile, recordDir, account, subject string
		answerDelay, timeout                                        time.Duration
		reject, maxCalls                                            int
	)
	if mode != "tui" {
		fs.StringVar(&events, "events", "", "event output: jsonl | text | none (default jsonl, text on a terminal)")
		fs.StringVar(&scriptText, "script", "", "call script, commands separated by ; or newlines")
		fs.StringVar(&scriptFile, "script-file", "", "read the call script from a file")
		fs.StringVar(&recordDir, "record-dir", "", "record every call to a WAV in this directory (made if missing)")
	}
	if mode == "answer" {
		fs.DurationVar(&answerDelay, "answer-delay", 0, "ring this long before answering")
		fs.IntVar(&reject, "reject", 0, "refuse every call with this SIP code (e.g. 486) instead of answering")
		fs.IntVar(&maxCalls, "calls", 0, "exit after this many calls ended (0 = until interrupted)")
	}
	if mode == "dial" {
		fs.StringVar(&account, "account", "", "account to call from (default: the first)")
		fs.StringVar(&subject, "subject", "", "Subject header")
		fs.DurationVar(&timeout, "timeout", 0, "give up after this long (0 = no limit)")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	target := ""
	if mode == "dial" {
		if fs.NArg() != 1 {
			return usageError{errors.New("dial: want exactly one URI, e.g. teaphone dial sip:bob@example.com")}
		}
		target = fs.Arg(0)
	} else if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}

	cfg, err := loadConfig(c)
	if err != nil {
		return usageError{err}
	}
	logger, logFile, closeLog, err := openLog(cfg, c, mode)
	if err != nil {
		return usageError{err}
	}
	defer closeLog()
	if mode == "tui" && logFile != nil {
		// From here on nothing but Bubble Tea may write to the terminal.
		if restore, err := redirectStderr(logFile); err == nil {
			defer restore()
		}
	}
	phone.SetLibraryLogger(logger.With("component", "sipgo"))

	var sc script.Script
	if scriptFile != "" {
		b, err := os.ReadFile(scriptFile)
		if err != nil {
			return usageError{fmt.Errorf("script file: %w", err)}
		}
		scriptText = string(b)
	}
	if scriptText != "" {
		if sc, err = script.Parse(scriptText); err != nil {
			return usageError{fmt.Errorf("script: %w", err)}
		}
	}

	snd, err := openAudio(cfg, soundCard(cfg, cfg.Media.InputDevice, cfg.Media.OutputDevice, logger.With("component", "portaudio")))
	if err != nil {
		return err
	}
	defer snd.Device.Close()
	if snd.Fallback != nil {
		logger.Warn(snd.Notice(), "reason", snd.Fallback)
		if mode != "tui" {
			fmt.Fprintf(stderr, "teaphone: %s: %v\n", snd.Notice(), snd.Fallback)
		}
	}
	hub := device.NewHub(snd.Device)
	ringHub := hub
	if mode == "tui" && cfg.Media.RingDevice != "" && snd.soundCard {
		rd, err := soundCard(cfg, portaudio.NoDevice, cfg.Media.RingDevice, logger.With("component", "ring"))()
		if err != nil {
			return fmt.Errorf("ring device: %w", err)
		}
		defer rd.Close()
		ringHub = device.NewHub(rd)
	}

	accounts, err := phoneAccounts(ctx, cfg)
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
	low, high := cfg.Media.PortRange()
	ph, err := phone.New(phone.Options{
		Listen:       cfg.SIP.Listen,
		Transports:   cfg.SIP.Transports,
		Accounts:     accounts,
		RTPPortMin:   low,
		RTPPortMax:   high,
		Codecs:       cfg.Media.Codecs,
		UserAgent:    cfg.SIP.UserAgent,
		Handler:      mgr,
		Logger:       logger.With("component", "phone"),
		DeferTimeout: cfg.SIP.DeferTimeout.Duration,
		MaxCalls:     cfg.SIP.MaxCalls,
		DTMFInfo:     cfg.Media.DTMFMode == config.DTMFInfo,
		HoldC0:       cfg.Media.HoldStyle == config.HoldC0,
		Audio:        hubAudio{hub},
	})
	if err != nil {
		return usageError{err}
	}
	if err := mgr.Start(ph); err != nil {
		return err
	}
	defer mgr.Close()
	if err := ph.Start(ctx); err != nil {
		return err
	}
	// Ctrl-C (ctx), a quit key or the end of a dial: hang up every call,
	// un-REGISTER (Close does both, bounded in time), then stop.
	defer func() {
		_ = mgr.HangupAll()
		_ = ph.Close()
	}()
	logger.Info("teaphone started", "mode", mode, "listen", ph.LocalAddr(), "audio", snd.name, "config", cfg.File())

	if mode == "tui" {
		return runTUI(ctx, mgr, cfg, hub, ringHub, snd, logger)
	}
	// A person may run dial (or answer) on the sound card: they hear
	// ringback while their call rings. Nobody is there to hear a ring.
	tones := ringer.Start(mgr, ringer.Options{Ringback: hub})
	defer tones.Stop()
	ho := headless.Options{
		Events: events, Out: stdout, Err: stderr, Script: sc,
		AnswerDelay: answerDelay, RejectCode: reject, MaxCallsThenExit: maxCalls,
		Target: target, Account: account, Subject: subject, Timeout: timeout,
		RecordDir: recordDir, RecordTemplate: cfg.Media.RecordTemplate,
		Shutdown: func() {
			_ = mgr.HangupAll()
			_ = ph.Close()
		},
	}
	if ho.RecordDir == "" {
		ho.RecordDir = cfg.Media.RecordDir
	}
	if ho.Events == "" {
		ho.Events = headless.EventsJSONL
		if f, ok := stdout.(*os.File); ok && isTerminal(f) {
			ho.Events = headless.EventsText
		}
	}
	if mode == "answer" {
		return headless.RunAnswer(ctx, mgr, ho)
	}
	return headless.RunDial(ctx, mgr, ho)
}

func loadConfig(c common) (config.Config, error) {
	cfg, err := config.Load(c.config)
	if err != nil {
		return cfg, err
	}
	cfg.ApplyEnv(os.LookupEnv)
	cfg.ApplyOverrides(config.Overrides{Listen: c.listen, Audio: c.audio, RTPPorts: c.rtpPorts, LogFile: c.logFile})
	if err := cfg.Validate(); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// openLog opens the log: a file in every mode (nothing but Bubble Tea may
// write to the terminal in the TUI), stderr only when asked with --log-file -.
func openLog(cfg config.Config, c common, mode string) (*slog.Logger, *os.File, func(), error) {
	level := slog.LevelInfo
	if c.verbose {
		level = slog.LevelDebug
	}
	path := cfg.UI.LogPath()
	if path == "-" {
		if mode == "tui" {
			return nil, nil, nil, errors.New("--log-file -: the full-screen phone cannot log to the terminal")
		}
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})), nil, func() {}, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, nil, nil, fmt.Errorf("log file: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("log file: %w", err)
	}
	return slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: level})), f, func() { f.Close() }, nil
}

// phoneAccounts translates the configured accounts for the session core,
// passwords resolved.
func phoneAccounts(ctx context.Context, cfg config.Config) ([]phone.Account, error) {
	var out []phone.Account
	for i, a := range cfg.Accounts {
		pw, err := a.ResolvePassword(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, phone.Account{
			Name: cfg.AccountName(i), AOR: a.AOR, DisplayName: a.DisplayName,
			Registrar: a.Registrar, OutboundProxy: a.OutboundProxy,
			Username: a.AuthUsername(), Password: pw, Register: a.Register,
			Expires: time.Duration(a.Expires) * time.Second,
		})
	}
	return out, nil
}

// openedAudio is the audio backend in use.
type openedAudio struct {
	device.Choice
	name      string // for the status bar and the log
	soundCard bool   // the device is the sound card
}

// openAudio opens the configured backend (see device.Choose): the sound
// card through card, or a headless one. The sound card counts as asked for
// when --audio or $TEAPHONE_AUDIO named it or a device is named; otherwise a
// machine without one runs with audio off.
func openAudio(cfg config.Config, card device.SoundCard) (openedAudio, error) {
	m := cfg.Media
	explicit := cfg.Overridden("media.audio") || m.InputDevice != "" || m.OutputDevice != ""
	c, err := device.Choose(m.Audio, explicit, card)
	if err != nil {
		return openedAudio{}, err
	}
	a := openedAudio{Choice: c, name: m.Audio}
	switch {
	case c.Fallback != nil:
		a.name = "null"
	case m.Audio == "" || m.Audio == config.AudioPortAudio:
		a.name, a.soundCard = "sound card", true
		if m.InputDevice != "" || m.OutputDevice != "" {
			a.name = m.InputDevice + "/" + m.OutputDevice
		}
	}
	return a, nil
}

// soundCard opens the sound card's input and output devices with PortAudio.
func soundCard(cfg config.Config, input, output string, logger *slog.Logger) device.SoundCard {
	return func() (device.Device, error) {
		d, err := portaudio.Open(portaudio.Config{
			Input: input, Output: output,
			Latency: cfg.Media.AudioLatency.Duration,
			Logger:  logger,
		})
		if err != nil {
			return nil, err
		}
		return d, nil
	}
}

// hubAudio gives every call the shared device: the microphone to send, a
// playback input for what it receives.
type hubAudio struct{ hub *device.Hub }

func (h hubAudio) CallAudio(phone.SessionID) (audio.Source, audio.Sink, func()) {
	return h.hub.CallAudio()
}

func listDevices(stdout io.Writer) error {
	devs, err := portaudio.Devices()
	if err != nil {
		return err
	}
	if len(devs) == 0 {
		fmt.Fprintln(stdout, "no audio devices found (no sound card, and no sound server reachable)")
		return nil
	}
	for _, d := range devs {
		marks := ""
		if d.DefaultInput {
			marks += " [default input]"
		}
		if d.DefaultOutput {
			marks += " [default output]"
		}
		fmt.Fprintf(stdout, "%3d  %-40s %-6s in:%-3d out:%-3d %6.0f Hz%s\n", d.Index, d.Name, d.HostAPI,
			d.MaxInputChannels, d.MaxOutputChannels, d.DefaultSampleRate, marks)
	}
	return nil
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// runTUI runs the full-screen phone: every incoming call waits for the
// person, the ring tone plays on ringHub and ringback and keypad tones with
// the calls on hub, and the dial history is kept across runs.
func runTUI(ctx context.Context, mgr *sessions.Manager, cfg config.Config, hub, ringHub *device.Hub, snd openedAudio, logger *slog.Logger) error {
	names := make([]string, len(cfg.Accounts))
	for i := range cfg.Accounts {
		names[i] = cfg.AccountName(i)
	}
	var contacts []ui.Contact
	for _, c := range cfg.Contacts {
		contacts = append(contacts, ui.Contact{Name: c.Name, URI: c.URI})
	}
	if err := mgr.SetRules(sessions.DeferAll()); err != nil {
		return err
	}
	tones := ringer.Start(mgr, ringer.Options{Ring: ringHub, Ringback: hub})
	defer tones.Stop()
	hist := history.Open(history.DefaultPath(), logger.With("component", "history"))
	return ui.Run(ctx, mgr, ui.Options{
		Accounts: names, AudioIn: snd.name, AudioOut: snd.name, AudioNotice: snd.Notice(),
		Keys: cfg.UI.Keys, Contacts: contacts,
		History: hist.Load(), OnDial: hist.Add, Keypad: ringer.Keypad(hub),
	})
}
