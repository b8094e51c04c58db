package load

import (
	"maps"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/teaphone/teaphone/sessions"
)

// Outcomes of a call that are not a SIP status code (Result.Outcome).
const (
	OutcomeOK          = "ok"          // answered, RTP received, hung up by us
	OutcomeTimeout     = "timeout"     // not answered within Options.Timeout (cancelled)
	OutcomeNoMedia     = "no_media"    // answered, but no RTP received during the hold
	OutcomeDropped     = "dropped"     // answered, then ended by the far end (or the phone) before the hold was over
	OutcomeScript      = "script"      // answered, then the call script failed (an expect not met, a command refused)
	OutcomeError       = "error"       // refused locally or ended without a SIP code (transport error)
	OutcomeInterrupted = "interrupted" // the run was stopped (Ctrl-C) before the call was over; not a failure
)

// Result is what became of one call.
type Result struct {
	N         int // 1-based, in order of placing
	CallID    sessions.CallID
	SIPCallID string
	// Outcome is OutcomeOK, another Outcome* or the SIP status code that
	// refused the call ("486").
	Outcome   string
	Answered  bool
	Code      int    // the final SIP code, when there was one
	Reason    string // why it failed or ended
	Setup     time.Duration
	RxPackets uint64
	TxPackets uint64
	// Lost is the RTP packets lost on the way to us (RFC 3550 A.3), MOS
	// the phone's E-model estimate of the received audio (1..4.5; 0: no
	// audio received), both from the call's last media statistics.
	Lost int64
	MOS  float64
}

// Failed reports whether the call counts as a failure.
func (r Result) Failed() bool { return r.Outcome != OutcomeOK && r.Outcome != OutcomeInterrupted }

// outcomeOf names how a call that was not answered ended: its SIP code,
// or OutcomeError when it has none.
func outcomeOf(code int) string {
	if code >= 300 {
		return strconv.Itoa(code)
	}
	return OutcomeError
}

// Summary totals a run.
type Summary struct {
	Attempted   int
	Answered    int
	Failed      int
	Interrupted int
	// Failures counts failed calls by Outcome.
	Failures map[string]int
	// Setup percentiles over the answered calls: time from dialling to
	// the 200 OK.
	SetupP50, SetupP95, SetupP99, SetupMax time.Duration
	// RxMin is the fewest RTP packets an answered call received; Rx and
	// Lost the packets received and lost by all of them.
	RxMin uint64
	Rx    uint64
	Lost  int64
	// MOS of the received audio over the answered calls that received
	// some (MOSCalls): median, lowest and mean.
	MOSCalls                int
	MOSP50, MOSMin, MOSMean float64
	// Elapsed is the whole run; PlacedRate the calls started per second
	// between the first and the last.
	Elapsed    time.Duration
	PlacedRate float64
}

// tally adds up results as they come, keeping only the counts and the
// setup times (a long run does not keep every Result).
type tally struct {
	s      Summary
	setups []time.Duration
	mos    []float64
}

func newTally() *tally { return &tally{s: Summary{Failures: map[string]int{}, RxMin: math.MaxUint64}} }

func (t *tally) add(r Result) {
	s := &t.s
	s.Attempted++
	if r.Answered {
		s.Answered++
		t.setups = append(t.setups, r.Setup)
		s.RxMin = min(s.RxMin, r.RxPackets)
		s.Rx += r.RxPackets
		s.Lost += max(r.Lost, 0)
		if r.MOS > 0 {
			t.mos = append(t.mos, r.MOS)
		}
	}
	switch {
	case r.Outcome == OutcomeInterrupted:
		s.Interrupted++
	case r.Failed():
		s.Failed++
		s.Failures[r.Outcome]++
	}
}

// summary returns the totals so far; elapsed is the length of the run.
func (t *tally) summary(elapsed time.Duration) Summary {
	s := t.s
	s.Failures = maps.Clone(t.s.Failures)
	s.Elapsed = elapsed
	if s.Answered == 0 {
		s.RxMin = 0
	}
	setups := slices.Sorted(slices.Values(t.setups))
	s.SetupP50 = percentile(setups, 50)
	s.SetupP95 = percentile(setups, 95)
	s.SetupP99 = percentile(setups, 99)
	if len(setups) > 0 {
		s.SetupMax = setups[len(setups)-1]
	}
	s.MOSCalls, s.MOSP50, s.MOSMin, s.MOSMean = mosStats(t.mos)
	return s
}

// mosStats returns how many estimates there are, their median
// (nearest rank, the lower of two), lowest and mean; zeros for none.
func mosStats(v []float64) (n int, p50, lo, mean float64) {
	if len(v) == 0 {
		return 0, 0, 0, 0
	}
	sorted := slices.Sorted(slices.Values(v))
	var sum float64
	for _, x := range sorted {
		sum += x
	}
	return len(sorted), sorted[(len(sorted)-1)/2], sorted[0], sum / float64(len(sorted))
}

// LossPct is the share of the RTP packets sent to the answered calls that
// were lost, in percent.
func (s Summary) LossPct() float64 {
	if s.Lost <= 0 {
		return 0
	}
	return 100 * float64(s.Lost) / (float64(s.Rx) + float64(s.Lost))
}

// percentile returns the nearest-rank p-th percentile (0 < p <= 100) of
// sorted: the smallest value with at least p% of the values at or below
// it; 0 for none.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// failureKeys returns the failure outcomes in a stable order.
func (s Summary) failureKeys() []string {
	return slices.Sorted(maps.Keys(s.Failures))
}
