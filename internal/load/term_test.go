package load

import (
	"fmt"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/muesli/termenv"
)

// TestRenderStatus: the progress view at the start, mid-run with failures,
// while the last calls end and after an interrupt (testdata/TestRenderStatus/*.golden;
// go test -update rewrites them). No terminal: the view is a function of
// the status, drawn without colours.
func TestRenderStatus(t *testing.T) {
	bar := newTermModel(&Progress{}, termenv.Ascii).bar
	mid := Summary{Attempted: 500, Answered: 495, Failed: 5, Failures: map[string]int{"486": 3, OutcomeTimeout: 2},
		SetupP95: 3200 * time.Microsecond, MOSCalls: 495, MOSP50: 4.41}
	tests := []struct {
		name string
		s    Status
	}{
		{"start", Status{Target: "sip:bob@127.0.0.1:5060", Duration: time.Minute, Placing: true}},
		{"mid-run", Status{Target: "sip:bob@127.0.0.1:5060", Duration: time.Minute, Placed: 600, Up: 98,
			Summary: mid, Elapsed: 30 * time.Second, Placing: true}},
		{"calls bound", Status{Target: "sip:bob@127.0.0.1:5060", Calls: 200, Placed: 50, Up: 10,
			Summary: Summary{Attempted: 40, Answered: 40, SetupP95: time.Millisecond}, Elapsed: 5 * time.Second, Placing: true}},
		{"draining", Status{Target: "sip:bob@127.0.0.1:5060", Duration: time.Minute, Placed: 1200, Up: 50,
			Summary: Summary{Attempted: 1150, Answered: 1150, SetupP95: time.Millisecond, MOSCalls: 1150, MOSP50: 4.4}, Elapsed: 61 * time.Second}},
		{"interrupted", Status{Target: "sip:bob@127.0.0.1:5060", Duration: time.Minute, Placed: 300, Up: 100,
			Summary: Summary{Attempted: 200, Answered: 200, SetupP95: time.Millisecond}, Elapsed: 15 * time.Second, Interrupted: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			golden.RequireEqual(t, []byte(renderStatus(bar, tt.s)))
		})
	}
}

func TestStatusFraction(t *testing.T) {
	tests := []struct {
		s    Status
		want float64
	}{
		{Status{Placing: true}, 0},
		{Status{Placing: true, Calls: 200, Placed: 50}, 0.25},
		{Status{Placing: true, Duration: time.Minute, Elapsed: 15 * time.Second}, 0.25},
		{Status{Placing: true, Calls: 200, Placed: 100, Duration: time.Minute, Elapsed: 15 * time.Second}, 0.5},
		{Status{Placing: true, Duration: time.Minute, Elapsed: 2 * time.Minute}, 1},
		{Status{Placing: false, Calls: 200, Placed: 50}, 1},
	}
	for i, tt := range tests {
		if got := tt.s.Fraction(); got != tt.want {
			t.Errorf("%d: %+v: fraction %g, want %g", i, tt.s, got, tt.want)
		}
	}
	if r := (Status{Placed: 100, Elapsed: 5 * time.Second}).Rate(); r != 20 {
		t.Errorf("rate %g, want 20", r)
	}
}

// TestTermModel: a tick takes a snapshot of the run's Progress, the end of
// the run quits.
func TestTermModel(t *testing.T) {
	p := &Progress{}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p.begin(Options{Target: "sip:b@h", Calls: 4}, t0)
	p.placedOne()
	p.placedOne()
	p.answered()
	p.add(Result{Outcome: "486", Code: 486})
	m := newTermModel(p, termenv.Ascii)
	m.now = func() time.Time { return t0.Add(time.Second) }
	if m.Init() == nil {
		t.Fatal("Init: no tick")
	}
	next, cmd := m.Update(tickMsg{})
	m = next.(termModel)
	if cmd == nil || m.status.Placed != 2 || m.status.Up != 1 || m.status.Summary.Failed != 1 || m.status.Fraction() != 0.5 {
		t.Errorf("after a tick: status %+v, cmd %v", m.status, cmd)
	}
	next, cmd = m.Update(finishedMsg{})
	if !next.(termModel).done || cmd == nil || fmt.Sprint(cmd()) != fmt.Sprint(tea.Quit()) {
		t.Errorf("finished: done %v, cmd %v, want tea.Quit", next.(termModel).done, cmd)
	}
}
