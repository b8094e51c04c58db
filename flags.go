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
  teaphone doctor [flags]          check an account: provider, registration, NAT,
                                   incoming requests, RTP (exit 1 when it cannot register)
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

// common are the flags every mode takes.
type common struct {
	config, listen, audio, rtpPorts, logFile, pprof string
	verbose                                         bool
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
	target                                    string // dial
}

// parseFlags parses the arguments of mode; -h prints the flags on stderr
// and returns flag.ErrHelp.
func parseFlags(mode string, args []string, stderr io.Writer) (flags, error) {
	fs := flag.NewFlagSet("teaphone "+mode, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f flags
	f.register(fs)
	if mode != "tui" {
		fs.StringVar(&f.events, "events", "", "event output: jsonl | text | none (default jsonl, text on a terminal)")
		fs.StringVar(&f.scriptText, "script", "", "call script, commands separated by ; or newlines")
		fs.StringVar(&f.scriptFile, "script-file", "", "read the call script from a file")
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
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return f, err
		}
		return f, usageError{err}
	}
	if mode == "dial" {
		if fs.NArg() != 1 {
			return f, usageError{errors.New("dial: want exactly one URI, e.g. teaphone dial sip:bob@example.com")}
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
