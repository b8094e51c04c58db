//go:build unix

package bench

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/teaphone/teaphone/internal/config"
)

// The max-calls case (TEAPHONE_BENCH_MAXCALLS=1): how many simultaneous
// calls one "teaphone answer" process sustains, which bounds
// sip.max_calls (config.MaxCallsCeiling). Each step places N calls at
// maxCallsRate with a hold long enough for all N to be up together for
// maxCallsOverlap, from one "teaphone load" process on the same machine.
const (
	maxCallsRate    = 200.0
	maxCallsOverlap = 10 * time.Second
	// A step is sustained when every call was answered, each side got at
	// least this share of the RTP the other sent (50 packets/s), and the
	// setup p99 stayed under maxCallsSetupP99.
	maxCallsRxShare  = 0.9
	maxCallsSetupP99 = 2 * time.Second
	ptimePerSecond   = 50 // G.711 at 20 ms
)

// maxCallsSteps are the simultaneous calls tried, in order
// (TEAPHONE_BENCH_MAXCALLS_STEPS=500,1000 overrides them).
var maxCallsSteps = []int{500, 1000, 2000, 3000, 4000}

// RTP ports of the max-calls case: 5000 calls a side.
const (
	maxAnswerRTP = "10000-19998"
	maxLoadRTP   = "50000-59998"
)

// maxCallsStep is one step of the case.
type maxCallsStep struct {
	N int
	R loadModeResult
}

// params are the load parameters of a step of n calls.
func maxCallsParams(n int) loadModeParams {
	place := time.Duration(float64(n) / maxCallsRate * float64(time.Second))
	return loadModeParams{Calls: n, Concurrent: n, Rate: maxCallsRate, Hold: (place + maxCallsOverlap).Round(time.Second)}
}

// RxShare is the share of the expected RTP (hold × 50/s per answered call)
// that the load side received from the target.
func (st maxCallsStep) RxShare() float64 {
	want := float64(st.R.Load.Answered) * st.R.P.Hold.Seconds() * ptimePerSecond
	if want == 0 {
		return 0
	}
	return float64(st.R.Load.Rx) / want
}

// TargetRxShare is the same for what the target received (-1: unknown).
func (st maxCallsStep) TargetRxShare() float64 {
	want := float64(st.R.Load.Answered) * st.R.P.Hold.Seconds() * ptimePerSecond
	if st.R.TargetRx < 0 || want == 0 {
		return -1
	}
	return st.R.TargetRx / want
}

// shortfall says why the step was not sustained ("" when it was).
func (st maxCallsStep) shortfall() string {
	r := st.R
	switch {
	case r.Err != "":
		return "not measured: " + oneLine(r.Err)
	case r.Load.Failed > 0 || r.Load.Answered < st.N:
		return fmt.Sprintf("%d of %d calls answered, failures %v", r.Load.Answered, st.N, r.Load.Failures)
	case st.RxShare() < maxCallsRxShare:
		return fmt.Sprintf("the load side received %.0f%% of the RTP expected", 100*st.RxShare())
	case st.TargetRxShare() >= 0 && st.TargetRxShare() < maxCallsRxShare:
		return fmt.Sprintf("teaphone answer received %.0f%% of the RTP expected", 100*st.TargetRxShare())
	case r.Load.SetupMs.P99 > float64(maxCallsSetupP99.Milliseconds()):
		return fmt.Sprintf("setup p99 %.0f ms > %s", r.Load.SetupMs.P99, maxCallsSetupP99)
	case r.agreement() != nil:
		return r.agreement().Error()
	}
	return ""
}

// runMaxCalls runs the steps until one is not sustained.
func runMaxCalls(t *testing.T, b bins) []maxCallsStep {
	steps := maxCallsSteps
	if v := os.Getenv("TEAPHONE_BENCH_MAXCALLS_STEPS"); v != "" {
		steps = nil
		for _, f := range strings.Split(v, ",") {
			if n, err := strconv.Atoi(strings.TrimSpace(f)); err == nil && n > 0 {
				steps = append(steps, n)
			}
		}
	}
	lo, hi, _ := strings.Cut(maxAnswerRTP, "-")
	rtpLow, _ := strconv.Atoi(lo)
	rtpHigh, _ := strconv.Atoi(hi)
	var out []maxCallsStep
	for _, n := range steps {
		var st maxCallsStep
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			st = maxCallsStep{N: n}
			if n > config.MaxCallsCeiling {
				st.R = loadModeResult{Target: "teaphone", P: maxCallsParams(n),
					Err: fmt.Sprintf("above sip.max_calls' ceiling %d (raise config.MaxCallsCeiling to measure further)", config.MaxCallsCeiling)}
				return
			}
			st.R = runLoadMode(t, b, "teaphone", maxCallsParams(n), maxLoadRTP, func(t *testing.T) (loadTarget, error) {
				return startTeaphoneTarget(t, b, min(2*n, config.MaxCallsCeiling), rtpLow, rtpHigh)
			})
			t.Logf("%d calls: %s", n, st.line())
		})
		out = append(out, st)
		if st.shortfall() != "" {
			break
		}
	}
	return out
}

func (st maxCallsStep) line() string {
	r := st.R
	if r.Err != "" {
		return "not measured: " + oneLine(r.Err)
	}
	tgt := "?"
	if v := st.TargetRxShare(); v >= 0 {
		tgt = fmt.Sprintf("%.0f%%", 100*v)
	}
	return fmt.Sprintf("hold %s: answered %d/%d, setup p50/p99 %.1f/%.1f ms, RTP received load %.0f%% (lost %d) answer %s, MOS p50 %.2f min %.2f, "+
		"answer CPU %.1f s = %.4f %%core/call, peak RSS %.0f MiB; load CPU %.1f s, max RSS %.0f MiB",
		r.P.Hold, r.Load.Answered, st.N, r.Load.SetupMs.P50, r.Load.SetupMs.P99, 100*st.RxShare(), r.Load.Lost, tgt, r.Load.MOS.P50, r.Load.MOS.Min,
		r.CPU.Seconds(), r.PctPerCall(), float64(r.PeakRSS)/1024, r.LoadCPU.Seconds(), float64(r.LoadMaxRSS)/1024)
}

// maxCallsSummary is the table of the max-calls case.
func maxCallsSummary(steps []maxCallsStep) string {
	if len(steps) == 0 {
		return ""
	}
	var s strings.Builder
	fmt.Fprintf(&s, "\nSimultaneous calls one `teaphone answer` sustains (TEAPHONE_BENCH_MAXCALLS=1): N calls at %g/s, all up together for %s,\n", maxCallsRate, maxCallsOverlap)
	fmt.Fprintf(&s, "from one `teaphone load` on the same machine; sustained = all answered, ≥ %.0f%% of the RTP each way, setup p99 ≤ %s\n", 100*maxCallsRxShare, maxCallsSetupP99)
	best := 0
	for _, st := range steps {
		verdict := "sustained"
		if why := st.shortfall(); st.R.Err != "" {
			verdict = "stopped here"
		} else if why != "" {
			verdict = "NOT sustained: " + why
		} else {
			best = st.N
		}
		fmt.Fprintf(&s, "%5d  %s\n       %s\n", st.N, st.line(), verdict)
	}
	fmt.Fprintf(&s, "largest sustained: %d calls (sip.max_calls ceiling: %d)\n", best, config.MaxCallsCeiling)
	return s.String()
}
