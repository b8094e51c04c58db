package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/teaphone/teaphone/internal/ctl"
	"github.com/teaphone/teaphone/internal/headless"
	"github.com/teaphone/teaphone/sessions"
)

const ctlUsage = `usage: teaphone ctl [--socket PATH] [--call LINE] COMMAND…

Sends one command to a running teaphone (the full-screen phone, answer or
dial) through its control socket and prints the JSON reply; exits 1 when
the reply says ok:false. "teaphone ctl events" prints the phone's events
(the JSON lines of the headless modes) until interrupted. Each argument
reaches the phone as given (teaphone ctl reject 480 "Not now", teaphone ctl
play "my file.wav"); a single argument is the whole command, as written in
a call script.

Commands: dial URI · calls · answer · reject [CODE [REASON]] · hangup · hold ·
resume · mute · unmute · dtmf DIGITS · transfer URI · transfer-attended LINE ·
play FILE · record FILE|start|stop · events

Flags:
`

// runCtl is "teaphone ctl".
func runCtl(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("teaphone ctl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	socket := fs.String("socket", "", "control socket (default: that of the one teaphone running, in "+ctl.Dir()+")")
	call := fs.String("call", "", "the call, by line or call ID (default: the only call)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), ctlUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return usageError{errors.New("ctl: want a command, e.g. teaphone ctl hangup")}
	}
	path := *socket
	if path == "" {
		var err error
		if path, err = ctl.Find(ctl.Dir()); err != nil {
			return fmt.Errorf("ctl: %w", err)
		}
	}
	cmd := ctl.JoinArgs(fs.Args())
	if strings.EqualFold(cmd, "events") {
		return ctl.Follow(ctx, path, stdout)
	}
	r, err := ctl.Do(ctx, path, ctl.Request{Cmd: cmd, Call: ctl.CallRef(*call)})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s\n", r.Raw)
	if !r.OK {
		fmt.Fprintln(stderr, "teaphone ctl:", r.Error)
		return &headless.ExitError{Code: headless.ExitFailed, Reason: r.Error}
	}
	return nil
}

// startCtl opens the control socket of a running phone: at path, nowhere
// when path is "off" (nil). Without a path it is ctl.SocketPath(pid), and a
// failure there is only a warning — the phone runs without a socket —
// while a path asked for must work.
func startCtl(path string, mgr *sessions.Manager, logger *slog.Logger) (svc *ctl.Service, warning string, err error) {
	asked := path != ""
	switch path {
	case "off", "none":
		return nil, "", nil
	case "":
		path = ctl.SocketPath(os.Getpid())
	}
	svc, err = ctl.Start(path, mgr, ctl.Options{Log: logger.With("component", "ctl")})
	switch {
	case err == nil:
		return svc, "", nil
	case asked:
		return nil, "", fmt.Errorf("%w (--ctl-socket off runs without one)", err)
	}
	return nil, fmt.Sprintf("no control socket: %v (teaphone ctl cannot reach this phone; --ctl-socket PATH puts it elsewhere)", err), nil
}
