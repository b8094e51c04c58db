package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/teaphone/teaphone/internal/doctor"
	"github.com/teaphone/teaphone/internal/headless"
	"github.com/teaphone/teaphone/phone"
)

// doctorError is the one line naming what the doctor found broken (exit 1).
type doctorError struct{ problem string }

func (e doctorError) Error() string { return e.problem }

// doctorFlags are the command line of "teaphone doctor".
type doctorFlags struct {
	common
	account       string
	idle, timeout time.Duration
	json          bool
}

func parseDoctorFlags(args []string, stderr io.Writer) (doctorFlags, error) {
	fs := flag.NewFlagSet("teaphone doctor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f doctorFlags
	f.register(fs)
	fs.StringVar(&f.account, "account", "", "account to check (default: the first)")
	fs.DurationVar(&f.idle, "idle", doctor.DefaultIdle, "stay idle this long, then check that requests still reach us (0 = skip)")
	fs.DurationVar(&f.timeout, "timeout", doctor.DefaultTimeout, "give up on the checks after this long (the idle pause not counted)")
	fs.BoolVar(&f.json, "json", false, "print the findings as JSON")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return f, err
		}
		return f, usageError{err}
	}
	if fs.NArg() > 0 {
		return f, usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	if f.idle < 0 || f.timeout < 0 {
		return f, usageError{errors.New("doctor: --idle and --timeout must not be negative")}
	}
	return f, nil
}

// runDoctor is "teaphone doctor": the report goes to stdout, what it is
// waiting for to stderr when that is a terminal, the log to the log file.
func runDoctor(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseDoctorFlags(args, stderr)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(f.common)
	if err != nil {
		return usageError{err}
	}
	logger, _, closeLog, err := openLog(cfg, f.verbose, "doctor")
	if err != nil {
		return usageError{err}
	}
	defer closeLog()
	phone.SetLibraryLogger(logger.With("component", "sipgo"))
	accounts, err := phoneAccounts(ctx, cfg)
	if err != nil {
		return usageError{err}
	}
	po, err := phoneOptions(cfg, accounts, logger)
	if err != nil {
		return usageError{err}
	}
	var progress func(string)
	if file, ok := stderr.(*os.File); ok && isTerminal(file) {
		progress = func(s string) { fmt.Fprintf(stderr, "… %s\n", s) }
	}
	findings := doctor.Run(ctx, doctor.Options{
		Phone:    po,
		Account:  f.account,
		Idle:     f.idle,
		Timeout:  f.timeout,
		Logger:   logger.With("component", "doctor"),
		Progress: progress,
	})
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "teaphone doctor: interrupted")
		return &headless.ExitError{Code: headless.ExitInterrupted, Reason: "interrupted"}
	}
	rep := doctor.Build(findings)
	if f.json {
		err = rep.WriteJSON(stdout, findings)
	} else {
		err = rep.WriteText(stdout)
	}
	if err != nil {
		return fmt.Errorf("doctor: %w", err)
	}
	if rep.Failed() {
		return doctorError{rep.Problem}
	}
	return nil
}
