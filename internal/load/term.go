package load

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/progress"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/muesli/termenv"

	"github.com/teaphone/teaphone/sessions"
)

// tickEvery is how often the progress view is redrawn.
const tickEvery = 200 * time.Millisecond

// barWidth is the width of the progress bar, percentage included.
const barWidth = 40

// RunTerminal is Run with a progress bar on out (a terminal) instead of a
// line per call: placed, answered, failed, calls up, rate and setup p95,
// redrawn five times a second, then the summary on one line. Nothing else
// may write to the terminal meanwhile: o.Out and o.Err are ignored, the
// reason of a failed run is written to errOut once the bar is gone. The
// terminal stays as it is (no raw mode): Ctrl-C is the process's SIGINT,
// which ends ctx; the bar then says it is hanging up the calls up.
func RunTerminal(ctx context.Context, m *sessions.Manager, o Options, out, errOut io.Writer) (Summary, error) {
	var reason bytes.Buffer
	o.Out, o.Err, o.Events = io.Discard, &reason, EventsNone
	o.Progress = &Progress{}
	if err := o.check(); err != nil {
		fmt.Fprintln(errOut, err)
		return Run(ctx, m, o) // the same usage error, the same way
	}
	prog := tea.NewProgram(newTermModel(o.Progress, termenv.ColorProfile()),
		tea.WithOutput(out), tea.WithInput(nil), tea.WithoutSignalHandler())
	var (
		s    Summary
		err  error
		done = make(chan struct{})
	)
	go func() {
		defer close(done)
		s, err = Run(ctx, m, o)
		prog.Send(finishedMsg{})
	}()
	if _, perr := prog.Run(); perr != nil {
		fmt.Fprintf(errOut, "load: progress display: %v\n", perr)
	}
	<-done
	fmt.Fprintln(out, "summary "+FormatSummary(o.Target, s))
	_, _ = errOut.Write(reason.Bytes())
	return s, err
}

// finishedMsg: Run returned, the program quits.
type finishedMsg struct{}

// tickMsg redraws the view.
type tickMsg struct{}

// termModel is the Bubble Tea model of the progress display: it polls
// the run's Progress on a tick.
type termModel struct {
	p      *Progress
	bar    progress.Model
	status Status
	now    func() time.Time
	done   bool
}

func newTermModel(p *Progress, profile termenv.Profile) termModel {
	bar := progress.New(progress.WithWidth(barWidth), progress.WithColorProfile(profile), progress.WithSolidFill("4"))
	return termModel{p: p, bar: bar, now: time.Now, status: Status{Placing: true}}
}

func tick() tea.Cmd { return tea.Tick(tickEvery, func(time.Time) tea.Msg { return tickMsg{} }) }

// Init implements tea.Model.
func (m termModel) Init() tea.Cmd { return tick() }

// Update implements tea.Model.
func (m termModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg.(type) {
	case tickMsg:
		m.status = m.p.Snapshot(m.now())
		return m, tick()
	case finishedMsg:
		m.status = m.p.Snapshot(m.now())
		m.done = true
		return m, tea.Quit
	}
	return m, nil
}

// View implements tea.Model.
func (m termModel) View() string { return renderStatus(m.bar, m.status) }

// renderStatus draws a status: the target and time, the bar, the counts.
func renderStatus(bar progress.Model, s Status) string {
	var b strings.Builder
	sm := s.Summary
	bound := ""
	if s.Duration > 0 {
		bound = " of " + s.Duration.Round(time.Second).String()
	}
	fmt.Fprintf(&b, "load %s  %s%s\n", s.Target, s.Elapsed.Round(time.Second), bound)
	b.WriteString(bar.ViewAs(s.Fraction()))
	b.WriteString("\n")
	fmt.Fprintf(&b, "placed %d  answered %d  failed %d  up %d  rate %.1f/s  setup p95 %s",
		s.Placed, sm.Answered+s.Up, sm.Failed, s.Up, s.Rate(), fmtMs(sm.SetupP95))
	if sm.MOSCalls > 0 {
		fmt.Fprintf(&b, "  MOS %.2f", sm.MOSP50)
	}
	b.WriteString("\n")
	if keys := sm.failureKeys(); len(keys) > 0 {
		var fails []string
		for _, k := range keys {
			fails = append(fails, fmt.Sprintf("%s×%d", k, sm.Failures[k]))
		}
		b.WriteString("failures " + strings.Join(fails, " ") + "\n")
	}
	switch {
	case s.Interrupted:
		fmt.Fprintf(&b, "interrupted: hanging up %d calls\n", s.Placed-sm.Attempted)
	case !s.Placing:
		fmt.Fprintf(&b, "placing done: waiting for %d calls\n", s.Placed-sm.Attempted)
	default:
		b.WriteString("Ctrl-C stops placing calls and hangs up\n")
	}
	return b.String()
}

func fmtMs(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1fms", ms(d))
}
