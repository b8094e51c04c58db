//go:build unix

package bench

import (
	"fmt"
	"strings"
)

// loadModeSummary is the table of the "teaphone load" case: what load
// reported of each target next to the target's own accounting, whether
// they agree, and the CPU ratio of the targets.
func loadModeSummary(rs []loadModeResult) string {
	if len(rs) == 0 {
		return ""
	}
	var s strings.Builder
	fmt.Fprintf(&s, "\n`teaphone load` against each target in the same run (%s; G.711, 127.0.0.1)\n", rs[0].P)
	s.WriteString("load's figures                                                   | the target's own accounting\n")
	fmt.Fprintf(&s, "%-9s %5s %5s %4s %-18s %-16s | %5s %-6s %7s %10s %8s\n",
		"target", "tried", "ans", "fail", "setup p50/p95/p99", "MOS p50/min/mean", "seen", "agree", "CPU s", "%core/call", "peak MiB")
	var tp, bs *loadModeResult
	for i := range rs {
		r := &rs[i]
		if r.Err != "" {
			fmt.Fprintf(&s, "%-9s not measured: %s\n", r.Target, oneLine(r.Err))
			continue
		}
		agree := "yes"
		if r.agreement() != nil {
			agree = fmt.Sprintf("NO %+d", r.Seen-r.Load.Answered)
		}
		fmt.Fprintf(&s, "%-9s %5d %5d %4d %-18s %-16s | %5d %-6s %7.2f %10.4f %8.1f\n",
			r.Target, r.Load.Attempted, r.Load.Answered, r.Load.Failed,
			fmt.Sprintf("%.1f/%.1f/%.1f ms", r.Load.SetupMs.P50, r.Load.SetupMs.P95, r.Load.SetupMs.P99),
			fmt.Sprintf("%.2f/%.2f/%.2f", r.Load.MOS.P50, r.Load.MOS.Min, r.Load.MOS.Mean),
			r.Seen, agree, r.CPU.Seconds(), r.PctPerCall(), float64(r.PeakRSS)/1024)
		if len(r.Load.Failures) > 0 {
			fmt.Fprintf(&s, "          failures %v\n", r.Load.Failures)
		}
		if err := r.agreement(); err != nil {
			fmt.Fprintf(&s, "          DISAGREE: %v\n", err)
		}
		switch r.Target {
		case "teaphone":
			tp = r
		case "baresip":
			bs = r
		}
	}
	s.WriteString("seen = calls answered by the target's own count (teaphone: teaphone_calls_total{result=\"answered\"} from its /metrics;\n")
	s.WriteString("baresip: its \"Call established\" lines); %core/call = the target's CPU seconds over the call-seconds it carried (answered × hold)\n")
	if tp != nil && bs != nil && tp.PctPerCall() > 0 {
		fmt.Fprintf(&s, "CPU per call: baresip/teaphone %.2f× (teaphone %.4f, baresip %.4f %%core/call)\n",
			bs.PctPerCall()/tp.PctPerCall(), tp.PctPerCall(), bs.PctPerCall())
	}
	return s.String()
}
