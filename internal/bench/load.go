//go:build unix

package bench

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/teaphone/teaphone/internal/peertest"
)

// Load measurement windows: after every call is up, warm up, then measure.
const (
	loadWarm   = 3 * time.Second
	loadWindow = 10 * time.Second
)

// loadResult is one answering process under N calls.
type loadResult struct {
	Peer       string // "teaphone" or "baresip"
	Want       int    // calls asked for
	Active     int    // calls up during the window
	Failed     string // why some calls did not come up ("" if none)
	Wall       time.Duration
	CPU        time.Duration // answering process utime+stime over the window
	DriverCPU  time.Duration // calling process over the same window
	RSSBase    int64         // KiB, answering process idle before the calls
	RSS        int64         // KiB at the end of the window
	Threads    int
	RxPerCallS float64 // RTP packets/s per call received by the driver (from the answerer)
	TxPerCallS float64 // sent by the driver
	RxMin      uint64  // fewest packets any call received since it started
	Lost       int64
	Err        string // not measured: why
}

// PctPerCall is the answering side's CPU in percent of one core per call.
func (r loadResult) PctPerCall() float64 {
	if r.Active == 0 || r.Wall == 0 {
		return 0
	}
	return 100 * r.CPU.Seconds() / r.Wall.Seconds() / float64(r.Active)
}

// KiBPerCall is the answering side's RSS growth per call.
func (r loadResult) KiBPerCall() float64 {
	if r.Active == 0 {
		return 0
	}
	return float64(r.RSS-r.RSSBase) / float64(r.Active)
}

func (r loadResult) String() string {
	if r.Err != "" {
		return fmt.Sprintf("%s %d calls: not measured: %s", r.Peer, r.Want, r.Err)
	}
	s := fmt.Sprintf("%s answering %d/%d calls over %.1f s: CPU %.2f s = %.1f%% of one core = %.4f%%/call; RSS %d→%d KiB = %.1f KiB/call; %d threads; "+
		"driver got %.1f pkt/s/call (fewest on one call: %d in total), sent %.1f pkt/s/call, lost %d; driver CPU %.1f%% of one core",
		r.Peer, r.Active, r.Want, r.Wall.Seconds(), r.CPU.Seconds(), 100*r.CPU.Seconds()/r.Wall.Seconds(), r.PctPerCall(),
		r.RSSBase, r.RSS, r.KiBPerCall(), r.Threads, r.RxPerCallS, r.RxMin, r.TxPerCallS, r.Lost,
		100*r.DriverCPU.Seconds()/r.Wall.Seconds())
	if r.Failed != "" {
		s += "; failed calls: " + r.Failed
	}
	return s
}

// bins are the binaries built once per TestBench run.
type bins struct{ teaphone, driver string }

func buildBins(t *testing.T) bins {
	t.Helper()
	dir := t.TempDir()
	b := bins{teaphone: filepath.Join(dir, "teaphone"), driver: filepath.Join(dir, "calldriver")}
	for _, x := range []struct{ out, pkg string }{
		{b.teaphone, "github.com/teaphone/teaphone"},
		{b.driver, "github.com/teaphone/teaphone/internal/bench/cmd/calldriver"},
	} {
		out, err := exec.Command("go", "build", "-o", x.out, x.pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go build %s: %v\n%s", x.pkg, err, out)
		}
	}
	return b
}

// RTP port ranges: the allocators skip ports in use, so these only need to be
// large enough (2 ports per call and side, plus slack).
const (
	driverRTPLow  = 40000
	driverRTPHigh = 42998
	answerRTPLow  = 43000
	answerRTPHigh = 45998
)

// startTeaphoneAnswer starts "teaphone answer" with the given audio spec and
// extra config; it returns the process and its SIP port.
func startTeaphoneAnswer(t *testing.T, bin, audio string, maxCalls, rtpLow, rtpHigh int, extraMedia string, env []string) (*proc, int, error) {
	t.Helper()
	return startTeaphoneAnswerCodecs(t, bin, audio, `"PCMU"`, maxCalls, rtpLow, rtpHigh, extraMedia, env)
}

// startTeaphoneAnswerCodecs is startTeaphoneAnswer with media.codecs set to
// codecs (the inside of the TOML array, e.g. `"PCMU"`).
func startTeaphoneAnswerCodecs(t *testing.T, bin, audio, codecs string, maxCalls, rtpLow, rtpHigh int, extraMedia string, env []string, args ...string) (*proc, int, error) {
	t.Helper()
	dir := t.TempDir()
	port, err := peertest.FreePorts(1, 1)
	if err != nil {
		return nil, 0, err
	}
	cfg := fmt.Sprintf(`[sip]
listen = "127.0.0.1:%d"
transports = ["udp"]
max_calls = %d
# The load comes from one address, faster than a stranger may call.
max_new_calls_per_s = 0
[media]
rtp_ports = [%d, %d]
codecs = [%s]
audio = %q
%s`, port, maxCalls, rtpLow, rtpHigh, codecs, audio, extraMedia)
	path := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		return nil, 0, err
	}
	cmd := exec.Command(bin, append([]string{"answer", "--config", path, "--events", answerEvents, "--log-file", filepath.Join(dir, "teaphone.log")}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	p, err := startProc(t, "teaphone answer", cmd)
	if err != nil {
		return nil, 0, err
	}
	// Ready when the SIP port answers OPTIONS.
	if code, err := peertest.ProbeOptions(fmt.Sprintf("127.0.0.1:%d", port), 10*time.Second); err != nil {
		b, _ := os.ReadFile(filepath.Join(dir, "teaphone.log"))
		return nil, 0, fmt.Errorf("teaphone answer not ready: %v (code %d)\n%s\n%s", err, code, tail(p.out.String(), 800), tail(string(b), 1500))
	}
	return p, port, nil
}

var statsRE = regexp.MustCompile(`STATS active=(\d+) rx=(\d+) tx=(\d+) rxmin=(\d+) lost=(-?\d+)`)

type driverStats struct {
	active        int
	rx, tx, rxmin uint64
	lost          int64
}

// driverCmd asks the driver for its counters and parses the answer.
func driverStatsNow(d *proc, in io.Writer) (driverStats, error) {
	n := strings.Count(d.out.String(), "STATS ")
	if _, err := io.WriteString(in, "stats\n"); err != nil {
		return driverStats{}, err
	}
	end := time.Now().Add(10 * time.Second)
	for time.Now().Before(end) {
		out := d.out.String()
		if strings.Count(out, "STATS ") > n && strings.HasSuffix(strings.TrimRight(out, " "), "\n") {
			m := statsRE.FindAllStringSubmatch(out, -1)
			last := m[len(m)-1]
			var s driverStats
			s.active, _ = strconv.Atoi(last[1])
			s.rx, _ = strconv.ParseUint(last[2], 10, 64)
			s.tx, _ = strconv.ParseUint(last[3], 10, 64)
			s.rxmin, _ = strconv.ParseUint(last[4], 10, 64)
			s.lost, _ = strconv.ParseInt(last[5], 10, 64)
			return s, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return driverStats{}, fmt.Errorf("driver did not answer stats")
}

var upRE = regexp.MustCompile(`UP active=(\d+) failed=(\d+) ended=(\d+) setup=([\d.]+)s reasons=map\[(.*)\]`)

// runLoad measures one answering process (started by start, which returns
// it and the URI to call) under n calls from the driver.
func runLoad(t *testing.T, b bins, peer string, n int, start func(t *testing.T) (*proc, string, error)) (res loadResult) {
	res = loadResult{Peer: peer, Want: n}
	ans, uri, err := start(t)
	if err != nil {
		res.Err = err.Error()
		return res
	}
	time.Sleep(time.Second)
	res.RSSBase, _ = procRSS(ans.pid())

	cmd := exec.Command(b.driver, "-target", uri, "-calls", strconv.Itoa(n), "-rate", "100",
		"-rtp-ports", fmt.Sprintf("%d-%d", driverRTPLow, driverRTPHigh), "-up-timeout", "40s")
	in, err := cmd.StdinPipe()
	if err != nil {
		res.Err = err.Error()
		return res
	}
	drv, err := startProc(t, "calldriver", cmd)
	if err != nil {
		res.Err = err.Error()
		return res
	}
	defer func() {
		_, _ = io.WriteString(in, "quit\n")
		_ = in.Close()
		select {
		case <-drv.done:
		case <-time.After(15 * time.Second):
		}
		drv.stop()
		ans.stop()
	}()
	if err := drv.waitOutput("UP ", 60*time.Second); err != nil {
		res.Err = err.Error()
		return res
	}
	time.Sleep(100 * time.Millisecond)
	m := upRE.FindStringSubmatch(drv.out.String())
	if m == nil {
		res.Err = "driver: unparsable UP line: " + tail(drv.out.String(), 300)
		return res
	}
	up, _ := strconv.Atoi(m[1])
	if m[2] != "0" {
		res.Failed = fmt.Sprintf("%s failed (%s)", m[2], m[5])
	}
	if strings.Contains(ans.out.String(), "could not assign linenumber") {
		res.Failed += ": baresip says \"call: could not assign linenumber\" (baresip 1.0 numbers calls 1..255)"
	}
	t.Logf("%s: %d of %d calls up in %s s", peer, up, n, m[4])
	if up == 0 {
		res.Err = "no call came up: " + res.Failed
		return res
	}
	time.Sleep(loadWarm)
	if ans.exited() {
		res.Err = "answering process exited: " + tail(ans.out.String(), 500)
		return res
	}
	s0, err := driverStatsNow(drv, in)
	if err != nil {
		res.Err = err.Error()
		return res
	}
	c0, _ := procCPU(ans.pid())
	d0, _ := procCPU(drv.pid())
	t0 := time.Now()
	time.Sleep(loadWindow)
	c1, err1 := procCPU(ans.pid())
	d1, _ := procCPU(drv.pid())
	res.Wall = time.Since(t0)
	res.RSS, _ = procRSS(ans.pid())
	res.Threads = procThreads(ans.pid())
	if err1 != nil {
		res.Err = "answering process gone: " + err1.Error()
		return res
	}
	s1, err := driverStatsNow(drv, in)
	if err != nil {
		res.Err = err.Error()
		return res
	}
	res.CPU, res.DriverCPU = c1-c0, d1-d0
	res.Active = min(s0.active, s1.active)
	if s1.active != s0.active {
		res.Failed += fmt.Sprintf("; %d calls dropped during the window", s0.active-s1.active)
	}
	calls := float64(max(s1.active, 1)) * res.Wall.Seconds()
	res.RxPerCallS = float64(s1.rx-s0.rx) / calls
	res.TxPerCallS = float64(s1.tx-s0.tx) / calls
	res.RxMin = s1.rxmin
	res.Lost = s1.lost
	return res
}

// answerEvents is the --events format of the answering teaphone: "none", as
// nobody reads them (baresip's ctrl_tcp has no client either). Set
// TEAPHONE_BENCH_EVENTS=jsonl to include the cost of printing events (media
// statistics of every call, 4 per second each).
var answerEvents = func() string {
	if v := os.Getenv("TEAPHONE_BENCH_EVENTS"); v != "" {
		return v
	}
	return "none"
}()
