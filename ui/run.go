package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	tea "github.com/charmbracelet/bubbletea"
)

// ErrPanic wraps a panic caught in the UI; the terminal was restored first.
var ErrPanic = errors.New("ui: panic")

// Run opens the full-screen phone on the terminal (alternate screen) and
// returns when the user quits or ctx is done. Every call still up is hung up
// (HangupAll) and the terminal is restored on every exit path, a panic
// included (then the error wraps ErrPanic). It returns nil when the user
// quit, ctx.Err() when ctx ended first.
func Run(ctx context.Context, c Client, o Options) error {
	return run(ctx, c, o, os.Stdin, os.Stdout, tea.WithAltScreen())
}

// run is Run with the terminal's input and output given (tests).
func run(ctx context.Context, c Client, o Options, in io.Reader, out io.Writer, extra ...tea.ProgramOption) (err error) {
	if c == nil {
		return errors.New("ui: nil client")
	}
	// The program's own context ends when run returns, releasing the
	// goroutines that wait on the event and log feeds.
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Subscribe first, then let New read the calls and registrations: an
	// event published in between is delivered, not lost. Events the
	// snapshot already reflects are applied again, in order, so the model
	// ends up at the latest state either way.
	if o.Events == nil {
		if sub := c.Subscribe(); sub != nil {
			defer sub.Close()
			o.Events = sub.C()
		}
	}
	m := New(c, o)
	m.ctx = pctx
	m.bell = out
	defer func() { _ = c.HangupAll() }()
	opts := append([]tea.ProgramOption{tea.WithContext(ctx), tea.WithInput(in), tea.WithOutput(out)}, extra...)
	p := tea.NewProgram(m, opts...)
	defer func() {
		if r := recover(); r != nil {
			// Bubble Tea restores the terminal when it shuts down; make sure
			// it did, then report.
			p.Kill()
			_ = p.ReleaseTerminal()
			err = fmt.Errorf("%w: %v", ErrPanic, r)
		}
	}()
	final, err := p.Run()
	if fm, ok := final.(Model); ok && fm.panicked != nil {
		return fmt.Errorf("%w: %v", ErrPanic, fm.panicked)
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("ui: %w", err)
	}
	return nil
}
