//go:build unix

package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/teaphone/teaphone/internal/peertest"
)

// loadModeParams are the parameters of one "teaphone load" run.
type loadModeParams struct {
	Calls, Concurrent int
	Rate              float64
	Hold              time.Duration
}

func (p loadModeParams) String() string {
	return fmt.Sprintf("%d calls at %g/s, %d at a time, hold %s", p.Calls, p.Rate, p.Concurrent, p.Hold)
}

// loadModeCase is the "teaphone load" case of make bench, the same against
// every target: about 15 s each.
var loadModeCase = loadModeParams{Calls: 200, Concurrent: 50, Rate: 20, Hold: 5 * time.Second}

// loadSummary is the summary line of "teaphone load" (README.md, Load mode).
type loadSummary struct {
	Attempted int            `json:"attempted"`
	Answered  int            `json:"answered"`
	Failed    int            `json:"failed"`
	Failures  map[string]int `json:"failures"`
	SetupMs   struct {
		P50, P95, P99, Max float64
	} `json:"setup_ms"`
	Rx   uint64 `json:"rx_packets"`
	Lost int64  `json:"lost"`
	MOS  struct {
		Calls          int
		P50, Min, Mean float64
	} `json:"mos"`
	ElapsedS float64 `json:"elapsed_s"`
	Rate     float64 `json:"rate"`
}

// parseLoadSummary finds the summary line in the output of teaphone load.
func parseLoadSummary(out []byte) (loadSummary, error) {
	var s loadSummary
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		var probe struct{ Event string }
		if json.Unmarshal(sc.Bytes(), &probe) == nil && probe.Event == "summary" {
			return s, json.Unmarshal(sc.Bytes(), &s)
		}
	}
	return s, fmt.Errorf("no summary line in the output of teaphone load: %s", tail(string(out), 500))
}

// loadModeResult is one target under "teaphone load", with the target's
// own accounting next to what load reported.
type loadModeResult struct {
	Target string
	P      loadModeParams
	Load   loadSummary
	// LoadCPU and LoadMaxRSS (KiB) are the load process's (getrusage).
	LoadCPU    time.Duration
	LoadMaxRSS int64
	// Seen is the calls the target counted as answered, by its own
	// accounting (SeenHow says which).
	Seen    int
	SeenHow string
	// TargetRx is the RTP packets the target received, by its own count
	// (-1: unknown).
	TargetRx float64
	// CPU is the target's utime+stime from before the first call to
	// after the last ended (Wall); PeakRSS its VmHWM in KiB.
	CPU     time.Duration
	Wall    time.Duration
	PeakRSS int64
	Err     string // not measured: why
}

// CallSeconds is the time the answered calls were up, by the hold.
func (r loadModeResult) CallSeconds() float64 { return float64(r.Load.Answered) * r.P.Hold.Seconds() }

// PctPerCall is the target's CPU in percent of one core per call up: its
// CPU seconds over the call-seconds it carried.
func (r loadModeResult) PctPerCall() float64 {
	if cs := r.CallSeconds(); cs > 0 {
		return 100 * r.CPU.Seconds() / cs
	}
	return 0
}

// agreement compares what load reported with the target's accounting:
// nil when the answered calls are the calls the target saw answered.
func (r loadModeResult) agreement() error {
	if r.Load.Answered != r.Seen {
		return fmt.Errorf("%s: load reports %d calls answered, the target's own accounting (%s) %d: off by %+d",
			r.Target, r.Load.Answered, r.SeenHow, r.Seen, r.Seen-r.Load.Answered)
	}
	return nil
}

// loadTarget is an answering process started for a load run: its URI and
// how to read the calls it saw answered (called once the load is over;
// it may stop the process).
type loadTarget struct {
	p     *proc
	uri   string
	how   string
	count func() (int, error)
	rx    func() (float64, error) // nil: unknown
}

// runLoadModeCase runs loadModeCase against teaphone answer and baresip,
// one after the other, and fails when load and a target disagree on the
// calls answered.
func runLoadModeCase(t *testing.T, b bins) []loadModeResult {
	var rs []loadModeResult
	rtp := fmt.Sprintf("%d-%d", driverRTPLow, driverRTPHigh)
	t.Run("teaphone", func(t *testing.T) {
		r := runLoadMode(t, b, "teaphone", loadModeCase, rtp, func(t *testing.T) (loadTarget, error) {
			return startTeaphoneTarget(t, b, 2*loadModeCase.Concurrent, answerRTPLow, answerRTPHigh)
		})
		rs = append(rs, r)
	})
	t.Run("baresip", func(t *testing.T) {
		if why := needBin("baresip"); why != "" {
			rs = append(rs, loadModeResult{Target: "baresip", P: loadModeCase, Err: why})
			return
		}
		r := runLoadMode(t, b, "baresip", loadModeCase, rtp, func(t *testing.T) (loadTarget, error) {
			return startBaresipTarget(t, 2*loadModeCase.Concurrent, answerRTPLow, answerRTPHigh)
		})
		rs = append(rs, r)
	})
	for _, r := range rs {
		if r.Err != "" {
			t.Logf("%s: not measured: %s", r.Target, r.Err)
			continue
		}
		if err := r.agreement(); err != nil {
			t.Errorf("DISAGREEMENT: %v", err)
		}
	}
	return rs
}

// runLoadMode runs teaphone load with p against the target start starts.
func runLoadMode(t *testing.T, b bins, name string, p loadModeParams, rtpPorts string, start func(t *testing.T) (loadTarget, error)) loadModeResult {
	r := loadModeResult{Target: name, P: p, SeenHow: "?", TargetRx: -1}
	tg, err := start(t)
	if err != nil {
		r.Err = err.Error()
		return r
	}
	r.SeenHow = tg.how
	defer tg.p.stop()
	time.Sleep(500 * time.Millisecond)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "load.toml")
	if err := os.WriteFile(cfg, []byte("[media]\ncodecs = [\"PCMU\"]\n"), 0o644); err != nil {
		r.Err = err.Error()
		return r
	}
	c0, err := procCPU(tg.p.pid())
	if err != nil {
		r.Err = "target gone: " + err.Error()
		return r
	}
	t0 := time.Now()
	var out, errOut bytes.Buffer
	cmd := exec.Command(b.teaphone, "load", tg.uri, "--config", cfg, "--log-file", filepath.Join(dir, "load.log"),
		"--rtp-ports", rtpPorts, "--events", "none", "--calls", strconv.Itoa(p.Calls), "--rate", strconv.FormatFloat(p.Rate, 'g', -1, 64),
		"--concurrent", strconv.Itoa(p.Concurrent), "--hold", p.Hold.String(), "--timeout", "10s")
	cmd.Stdout, cmd.Stderr, cmd.Dir = &out, &errOut, dir
	err = cmd.Run()
	var ee *exec.ExitError
	if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 1) { // 1: some call failed, the summary says which
		r.Err = fmt.Sprintf("teaphone load: %v: %s", err, tail(errOut.String(), 500))
		return r
	}
	if st := cmd.ProcessState; st != nil {
		r.LoadCPU = st.UserTime() + st.SystemTime()
		if ru, ok := st.SysUsage().(*syscall.Rusage); ok {
			r.LoadMaxRSS = ru.Maxrss
		}
	}
	if r.Load, err = parseLoadSummary(out.Bytes()); err != nil {
		r.Err = err.Error()
		return r
	}
	time.Sleep(time.Second) // the last BYEs answered, the target idle again
	c1, err := procCPU(tg.p.pid())
	if err != nil {
		r.Err = "target gone: " + err.Error()
		return r
	}
	r.CPU, r.Wall = c1-c0, time.Since(t0)
	r.PeakRSS, _ = procPeakRSS(tg.p.pid())
	if tg.rx != nil {
		if v, err := tg.rx(); err == nil {
			r.TargetRx = v
		}
	}
	if r.Seen, err = tg.count(); err != nil {
		r.Err = "the target's accounting: " + err.Error()
	}
	return r
}

// startTeaphoneTarget starts teaphone answer with its Prometheus metrics
// on: the calls it saw answered are teaphone_calls_total{direction=
// "incoming",result="answered"} (calls ended after being answered).
func startTeaphoneTarget(t *testing.T, b bins, maxCalls, rtpLow, rtpHigh int) (loadTarget, error) {
	mport, err := peertest.FreePorts(1, 1)
	if err != nil {
		return loadTarget{}, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", mport)
	p, port, err := startTeaphoneAnswerCodecs(t, b.teaphone, "tone:440", `"PCMU"`, maxCalls, rtpLow, rtpHigh, "", nil, "--metrics", addr)
	if err != nil {
		return loadTarget{}, err
	}
	return loadTarget{p: p, uri: fmt.Sprintf("sip:bob@127.0.0.1:%d", port), how: "teaphone_calls_total answered",
		count: func() (int, error) {
			v, err := scrapeMetric(addr, `teaphone_calls_total{direction="incoming",result="answered"}`)
			return int(v), err
		},
		rx: func() (float64, error) { return scrapeMetric(addr, "teaphone_rtp_packets_received_total") },
	}, nil
}

// scrapeMetric reads one sample of the Prometheus text at addr.
func scrapeMetric(addr, sample string) (float64, error) {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + addr + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	return metricValue(string(body), sample)
}

// metricValue finds sample ("name{labels}") in Prometheus text; a
// counter never incremented is absent, which is 0.
func metricValue(text, sample string) (float64, error) {
	for _, l := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(l, sample+" "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return 0, nil
}

// startBaresipTarget starts baresip auto-answering: the calls it saw
// answered are its "Call established" lines, counted once it was stopped
// (its output is flushed when it exits).
func startBaresipTarget(t *testing.T, maxCalls, rtpLow, rtpHigh int) (loadTarget, error) {
	port, err := peertest.FreePorts(3, 2)
	if err != nil {
		return loadTarget{}, err
	}
	p, err := startBaresip(t, baresipOpts{User: "bob", SIPPort: port, Ctrl: port + 2,
		RTPMin: rtpLow, RTPMax: rtpHigh, MaxCalls: maxCalls, Audio: "ausine"})
	if err != nil {
		return loadTarget{}, err
	}
	return loadTarget{p: p, uri: fmt.Sprintf("sip:bob@127.0.0.1:%d", port), how: `"Call established" lines`,
		count: func() (int, error) {
			p.stop()
			return countBaresipCalls(p.out.String()), nil
		}}, nil
}

// countBaresipCalls counts the calls baresip 1.0 reports answered
// ("bob@127.0.0.1: Call established: sip:…").
func countBaresipCalls(out string) int { return strings.Count(out, ": Call established: ") }

// procPeakRSS returns VmHWM of pid (peak resident set) in KiB.
func procPeakRSS(pid int) (int64, error) { return procStatusKiB(pid, "VmHWM:") }
