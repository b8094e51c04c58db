package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/teaphone/teaphone/internal/config"
	"github.com/teaphone/teaphone/internal/ctl"
	"github.com/teaphone/teaphone/internal/script"
)

// usageError is a mistake on the command line or in the configuration:
// exit status 2.
type usageError struct{ error }

const usage = `teaphone — a SIP softphone for the terminal

usage:
  teaphone [flags]                 the full-screen phone
  teaphone answer [flags]          answer every call (headless, JSON-lines events)
  teaphone dial [flags] URI        place one call (headless, JSON-lines events)
  teaphone load [flags] URI        place calls at a rate, N at a time, with RTP
                                   (a progress bar on a terminal, else JSON lines:
                                   one per call, then a summary)
  teaphone doctor [flags]          check an account: provider, registration, NAT,
                                   incoming requests, RTP (exit 1 when it cannot register)
  teaphone ctl [--socket PATH] [--call LINE] COMMAND…
                                   drive a running teaphone through its control
                                   socket (dial URI, hangup, hold, dtmf 12, calls,
                                   events …); prints the JSON reply
  teaphone history [flags]         the calls made and received, newest first
                                   (--missed, --since 24h, --json, --limit N)
  teaphone rules test [flags]      which [[rules]] table decides a call like this, and why
                                   (--from URI, --header "Name: value", --at 2026-12-06T09:00;
                                   no network)
  teaphone devices                 list audio devices
  teaphone version                 version, Go version, PortAudio support (also --version)

Run "teaphone <command> -h" for the flags of a command.
`

// splitMode returns the command ("tui" when there is none; "version" for
// --version) and the arguments after it.
func splitMode(args []string) (mode string, rest []string) {
	mode = "tui"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		mode, args = args[0], args[1:]
	}
	if mode == "tui" && len(args) > 0 && (args[0] == "--version" || args[0] == "-version") {
		mode = "version"
	}
	return mode, args
}

// common are the flags every mode takes (metrics: the phone's modes only).
type common struct {
	config, listen, audio, rtpPorts, logFile, pprof, metrics string
	verbose                                                  bool
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.config, "config", "", "config file (default "+config.DefaultPath()+")")
	fs.StringVar(&c.listen, "listen", "", "SIP listen address host:port (UDP and TCP), overrides sip.listen")
	fs.StringVar(&c.audio, "audio", "", "audio: portaudio | null | tone:HZ | file:PATH (overrides media.audio)")
	fs.StringVar(&c.rtpPorts, "rtp-ports", "", "RTP port range LOW-HIGH (overrides media.rtp_ports)")
	fs.StringVar(&c.logFile, "log-file", "", "log file (default "+config.DefaultLogFile()+"; - for stderr)")
	fs.BoolVar(&c.verbose, "verbose", false, "debug logging (SIP traces included)")
	fs.StringVar(&c.pprof, "pprof", "", "serve net/http/pprof on this host:port (e.g. 127.0.0.1:6060; keep it on loopback)")
}

// flags are the command line of the phone's modes (tui, answer, dial).
type flags struct {
	common
	events, scriptText, scriptFile, recordDir string // answer and dial
	answerDelay                               time.Duration
	reject, maxCalls                          int // answer
	account, subject                          string
	timeout                                   time.Duration
	target                                    string // dial, load
	load                                      loadFlags
	ctlSocket                                 string // tui, answer, dial
}

// loadFlags are the flags of load mode (see internal/load.Options).
type loadFlags struct {
	rate                 float64
	concurrent, n        int
	duration, hold, ramp time.Duration
	durationExplicit     bool
}

// parseFlags parses the arguments of mode; -h prints the flags on stderr
// and returns flag.ErrHelp.
func parseFlags(mode string, args []string, stderr io.Writer) (flags, error) {
	fs := flag.NewFlagSet("teaphone "+mode, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f flags
	f.register(fs)
	fs.StringVar(&f.metrics, "metrics", "", "serve Prometheus metrics at http://ADDR/metrics (host:port, or a port for 127.0.0.1; overrides metrics.listen)")
	switch mode {
	case "tui":
	case "load":
		fs.StringVar(&f.events, "events", "", "output: jsonl | text | none (default jsonl, a progress bar on a terminal)")
	default:
		fs.StringVar(&f.events, "events", "", "event output: jsonl | text | none (default jsonl, text on a terminal)")
	}
	if mode == "tui" || mode == "answer" || mode == "dial" {
		fs.StringVar(&f.ctlSocket, "ctl-socket", "", "control socket (default "+ctl.SocketPath(os.Getpid())+`; "off": none)`)
	}
	if mode == "answer" || mode == "dial" || mode == "load" {
		fs.StringVar(&f.scriptText, "script", "", "call script, commands separated by ; or newlines")
		fs.StringVar(&f.scriptFile, "script-file", "", "read the call script from a file")
	}
	if mode == "answer" || mode == "dial" {
		fs.StringVar(&f.recordDir, "record-dir", "", "record every call to a WAV in this directory (made if missing)")
	}
	if mode == "answer" {
		fs.DurationVar(&f.answerDelay, "answer-delay", 0, "ring this long before answering")
		fs.IntVar(&f.reject, "reject", 0, "refuse every call with this SIP code (e.g. 486) instead of answering")
		fs.IntVar(&f.maxCalls, "calls", 0, "exit after this many calls ended (0 = until interrupted)")
	}
	if mode == "dial" {
		fs.StringVar(&f.account, "account", "", "account to call from (default: the first)")
		fs.StringVar(&f.subject, "subject", "", "Subject header")
		fs.DurationVar(&f.timeout, "timeout", 0, "give up after this long (0 = no limit)")
	}
	if mode == "load" {
		fs.StringVar(&f.account, "account", "", "account to call from (default: the first)")
		fs.Float64Var(&f.load.rate, "rate", 20, "calls started per second at most")
		fs.IntVar(&f.load.concurrent, "concurrent", 100, "calls in progress at once at most")
		fs.DurationVar(&f.load.duration, "duration", 60*time.Second, "stop placing calls after this long (0 = no limit; with --calls and no --duration: no limit)")
		fs.IntVar(&f.load.n, "calls", 0, "stop after placing this many calls (0 = no limit)")
		fs.DurationVar(&f.load.hold, "hold", 2*time.Second, "how long each answered call stays up, with RTP, before we hang up (at least 1s; a --script replaces it)")
		fs.DurationVar(&f.load.ramp, "ramp", 0, "raise the rate linearly from 1 call/s to --rate over this long (0 = --rate from the start)")
		fs.DurationVar(&f.timeout, "timeout", 10*time.Second, "give up a call not answered within this long (counted as failed)")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return f, err
		}
		return f, usageError{err}
	}
	if mode == "load" && fs.NArg() > 1 {
		// teaphone load URI --rate 20: flags after the URI too.
		uri := fs.Arg(0)
		if err := fs.Parse(fs.Args()[1:]); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return f, err
			}
			return f, usageError{err}
		}
		if fs.NArg() > 0 {
			return f, usageError{fmt.Errorf("load: want exactly one URI, got %q and %q", uri, fs.Arg(0))}
		}
		f.target = uri
	}
	if mode == "load" {
		fs.Visit(func(fl *flag.Flag) { f.load.durationExplicit = f.load.durationExplicit || fl.Name == "duration" })
		if f.load.n > 0 && !f.load.durationExplicit {
			f.load.duration = 0 // --calls alone: as long as it takes
		}
	}
	if mode == "load" && f.target != "" {
		return f, nil
	}
	if mode == "dial" || mode == "load" {
		if fs.NArg() != 1 {
			return f, usageError{fmt.Errorf("%s: want exactly one URI, e.g. teaphone %s sip:bob@example.com", mode, mode)}
		}
		f.target = fs.Arg(0)
	} else if fs.NArg() > 0 {
		return f, usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	return f, nil
}

// script reads and parses the call script of --script or --script-file.
func (f flags) script() (script.Script, error) {
	text := f.scriptText
	if f.scriptFile != "" {
		b, err := os.ReadFile(f.scriptFile)
		if err != nil {
			return script.Script{}, usageError{fmt.Errorf("script file: %w", err)}
		}
		text = string(b)
	}
	if text == "" {
		return script.Script{}, nil
	}
	sc, err := script.Parse(text)
	if err != nil {
		return sc, usageError{fmt.Errorf("script: %w", err)}
	}
	return sc, nil
}
