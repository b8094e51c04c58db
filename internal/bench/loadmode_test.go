//go:build unix

package bench

import (
	"strings"
	"testing"
	"time"
)

func TestParseLoadSummary(t *testing.T) {
	out := `{"ts":"x","event":"result","n":1,"outcome":"ok"}
{"ts":"x","event":"summary","target":"sip:b@h","attempted":200,"answered":198,"failed":2,"failures":{"486":2},"setup_ms":{"p50":0.8,"p95":2,"p99":4.3,"max":9},"rx_packets_min":240,"rx_packets":49000,"lost":3,"loss_pct":0.01,"mos":{"calls":198,"p50":4.4,"min":4.38,"mean":4.4},"elapsed_s":15.2,"rate":19.99}
`
	s, err := parseLoadSummary([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if s.Attempted != 200 || s.Answered != 198 || s.Failed != 2 || s.Failures["486"] != 2 || s.SetupMs.P99 != 4.3 ||
		s.Rx != 49000 || s.Lost != 3 || s.MOS.Calls != 198 || s.MOS.Min != 4.38 || s.Rate != 19.99 {
		t.Errorf("parsed %+v", s)
	}
	if _, err := parseLoadSummary([]byte("teaphone: usage\n")); err == nil {
		t.Error("no summary: no error")
	}
}

func TestLoadModeAgreement(t *testing.T) {
	r := loadModeResult{Target: "baresip", SeenHow: "lines", P: loadModeParams{Hold: 5 * time.Second}, CPU: 5 * time.Second}
	r.Load.Answered, r.Seen = 200, 200
	if err := r.agreement(); err != nil {
		t.Errorf("200 and 200: %v", err)
	}
	if got := r.PctPerCall(); got != 0.5 { // 5 s of CPU over 200 calls × 5 s
		t.Errorf("%%core/call %g, want 0.5", got)
	}
	r.Seen = 198
	err := r.agreement()
	if err == nil || !strings.Contains(err.Error(), "load reports 200 calls answered, the target's own accounting (lines) 198: off by -2") {
		t.Errorf("200 and 198: %v", err)
	}
	if (loadModeResult{}).PctPerCall() != 0 {
		t.Errorf("no calls: %%core/call %g, want 0", (loadModeResult{}).PctPerCall())
	}
}

func TestMetricValue(t *testing.T) {
	text := `# HELP teaphone_calls_total Calls ended
# TYPE teaphone_calls_total counter
teaphone_calls_total{direction="incoming",result="answered"} 200
teaphone_calls_total{direction="incoming",result="486"} 3
teaphone_rtp_packets_received_total 49876
`
	for sample, want := range map[string]float64{
		`teaphone_calls_total{direction="incoming",result="answered"}`: 200,
		"teaphone_rtp_packets_received_total":                          49876,
		`teaphone_calls_total{direction="outgoing",result="answered"}`: 0,
	} {
		if got, err := metricValue(text, sample); err != nil || got != want {
			t.Errorf("%s = %g, %v; want %g", sample, got, err, want)
		}
	}
}

func TestCountBaresipCalls(t *testing.T) {
	out := `call: answering call on line 1 from sip:192.0.2.2:43437 with 200
bob@127.0.0.1: Call established: sip:192.0.2.2:43437
call: answering call on line 2 from sip:192.0.2.2:43437 with 200
bob@127.0.0.1: Call established: sip:192.0.2.2:43437
sip:bob@127.0.0.1:16990: Call with sip:192.0.2.2:43437 terminated (duration: 2 secs)
`
	if n := countBaresipCalls(out); n != 2 {
		t.Errorf("%d calls, want 2", n)
	}
}

func TestLoadModeSummary(t *testing.T) {
	p := loadModeParams{Calls: 200, Concurrent: 50, Rate: 20, Hold: 5 * time.Second}
	tp := loadModeResult{Target: "teaphone", P: p, Seen: 200, CPU: 800 * time.Millisecond, PeakRSS: 37 << 10}
	tp.Load.Attempted, tp.Load.Answered = 200, 200
	bs := loadModeResult{Target: "baresip", P: p, Seen: 199, CPU: 4 * time.Second, PeakRSS: 15 << 10}
	bs.Load.Attempted, bs.Load.Answered = 200, 200
	s := loadModeSummary([]loadModeResult{tp, bs, {Target: "other", Err: "not installed: x"}})
	for _, want := range []string{
		"(200 calls at 20/s, 50 at a time, hold 5s; G.711, 127.0.0.1)",
		"teaphone    200   200    0",
		"|   200 yes       0.80     0.0800     37.0",
		"|   199 NO -1     4.00     0.4000     15.0",
		"DISAGREE: baresip: load reports 200 calls answered",
		"other     not measured: not installed: x",
		"CPU per call: baresip/teaphone 5.00×",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %q:\n%s", want, s)
		}
	}
	if loadModeSummary(nil) != "" {
		t.Error("no results: not empty")
	}
}

func TestMaxCallsStep(t *testing.T) {
	if p := maxCallsParams(1000); p.Hold != 15*time.Second || p.Concurrent != 1000 || p.Rate != 200 {
		t.Errorf("params of 1000: %+v, want hold 15s (5 s of placing + 10), 1000 at a time, 200/s", p)
	}
	ok := func(n int) maxCallsStep {
		st := maxCallsStep{N: n, R: loadModeResult{Target: "teaphone", P: maxCallsParams(n), Seen: n, TargetRx: -1}}
		st.R.Load.Attempted, st.R.Load.Answered = n, n
		st.R.Load.Rx = uint64(float64(n) * st.R.P.Hold.Seconds() * 50 * 0.95)
		st.R.Load.SetupMs.P99 = 20
		return st
	}
	if why := ok(500).shortfall(); why != "" {
		t.Errorf("a good step: %q", why)
	}
	tests := []struct {
		name   string
		change func(*maxCallsStep)
		want   string
	}{
		{"failed calls", func(st *maxCallsStep) { st.R.Load.Answered, st.R.Load.Failed = 490, 10 }, "490 of 500 calls answered"},
		{"little RTP back", func(st *maxCallsStep) { st.R.Load.Rx /= 2 }, "the load side received 48% of the RTP expected"},
		{"little RTP in", func(st *maxCallsStep) { st.R.TargetRx = float64(st.R.Load.Rx) / 2 }, "teaphone answer received 48%"},
		{"slow setup", func(st *maxCallsStep) { st.R.Load.SetupMs.P99 = 2500 }, "setup p99 2500 ms > 2s"},
		{"disagreement", func(st *maxCallsStep) { st.R.Seen = 499 }, "off by -1"},
		{"not measured", func(st *maxCallsStep) { st.R.Err = "boom\nmore" }, "not measured: boom"},
	}
	for _, tt := range tests {
		st := ok(500)
		tt.change(&st)
		if why := st.shortfall(); !strings.Contains(why, tt.want) {
			t.Errorf("%s: %q, want %q", tt.name, why, tt.want)
		}
	}
	s := maxCallsSummary([]maxCallsStep{ok(500), func() maxCallsStep { st := ok(1000); st.R.Load.SetupMs.P99 = 3000; return st }()})
	if !strings.Contains(s, "largest sustained: 500 calls") || !strings.Contains(s, "NOT sustained: setup p99 3000 ms") {
		t.Errorf("summary:\n%s", s)
	}
}
