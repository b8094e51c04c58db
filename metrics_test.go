package main

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/teaphone/teaphone/phone"
)

// scrapeMetrics reads the samples at url by series as written ("name" or
// `name{label="v"}`); ok is false while nothing listens there.
func scrapeMetrics(t *testing.T, url string) (map[string]float64, bool) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return nil, false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	out := make(map[string]float64)
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[line[:i]] = v
		}
	}
	return out, true
}

// awaitMetrics scrapes url until ok holds (10 s at most).
func awaitMetrics(t *testing.T, url, what string, ok func(map[string]float64) bool) map[string]float64 {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var last map[string]float64
	for time.Now().Before(deadline) {
		if s, up := scrapeMetrics(t, url); up {
			if ok(s) {
				return s
			}
			last = s
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: never seen at %s; last scrape active %v rx %v", what, url,
		last["teaphone_calls_active"], last["teaphone_rtp_packets_received_total"])
	return nil
}

// emptyConfig writes an empty config file and returns it and a log path.
func emptyConfig(t *testing.T) (cfg, log string) {
	t.Helper()
	dir := t.TempDir()
	cfg = filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg, filepath.Join(dir, "teaphone.log")
}

// TestDialMetrics runs "teaphone dial --metrics" against a phone that
// answers and reads /metrics during the call; the server is gone once
// dial returns.
func TestDialMetrics(t *testing.T) {
	b := answeringPeer(t, 28400, 28499)

	cfg, logFile := emptyConfig(t)
	addr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	var out, errOut strings.Builder
	done := make(chan error, 1)
	go func() {
		done <- run(context.Background(), []string{"dial", "--config", cfg, "--log-file", logFile, "--audio", "null",
			"--listen", "127.0.0.1:0", "--rtp-ports", "28500-28599", "--events", "jsonl", "--metrics", addr,
			"--script", "wait 2s; hangup", "sip:bob@" + b.LocalAddr()}, &out, &errOut)
	}()
	url := "http://" + addr + "/metrics"
	s := awaitMetrics(t, url, "the call up with RTP", func(s map[string]float64) bool {
		return s["teaphone_calls_active"] == 1 && s["teaphone_rtp_packets_received_total"] > 0 && s["teaphone_rtp_packets_sent_total"] > 0
	})
	if s[`teaphone_call_setup_seconds_count{direction="outgoing"}`] != 1 {
		t.Errorf("no outgoing setup time observed")
	}
	if err := <-done; err != nil {
		t.Fatalf("teaphone dial: %v\nstderr: %s\nstdout: %s", err, errOut.String(), out.String())
	}
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Errorf("the metrics server still listens on %s after dial returned", addr)
	}
}

// TestAnswerMetrics runs "teaphone answer --metrics", calls it, and reads
// /metrics during and after the call.
func TestAnswerMetrics(t *testing.T) {
	a := caller(t, "sip:alice@example.com", 28600)
	cfg, logFile := emptyConfig(t)
	port, mport := freePort(t), freePort(t)
	for mport == port {
		mport = freePort(t)
	}
	addr := "127.0.0.1:" + strconv.Itoa(mport)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut strings.Builder
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"answer", "--config", cfg, "--log-file", logFile, "--audio", "null",
			"--listen", "127.0.0.1:" + strconv.Itoa(port), "--rtp-ports", "28700-28799", "--events", "jsonl",
			"--metrics", addr}, &out, &errOut)
	}()
	url := "http://" + addr + "/metrics"
	awaitMetrics(t, url, "the metrics server", func(map[string]float64) bool { return true })
	var id phone.SessionID
	for try := 0; ; try++ { // the metrics listen before the SIP listener does
		var err error
		if id, err = a.Dial(ctx, "sip:robot@127.0.0.1:"+strconv.Itoa(port), phone.DialOptions{}); err != nil {
			t.Fatal(err)
		}
		ev, ok := a.outcome(t, id, 10*time.Second)
		if ok && ev.State == phone.StateActive {
			break
		}
		if try == 50 || !ok || (ev.Code != 503 && ev.Code != 408 && !strings.Contains(ev.Reason, "refused")) {
			t.Fatalf("the call was not answered: %+v\nstderr: %s", ev, errOut.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	awaitMetrics(t, url, "the call up with RTP", func(s map[string]float64) bool {
		return s["teaphone_calls_active"] == 1 && s["teaphone_rtp_packets_received_total"] > 0
	})
	if err := a.Hangup(id); err != nil {
		t.Fatal(err)
	}
	s := awaitMetrics(t, url, "the call counted", func(s map[string]float64) bool {
		return s[`teaphone_calls_total{direction="incoming",result="answered"}`] == 1
	})
	if s["teaphone_calls_active"] != 0 || s["teaphone_call_mos_count"] != 1 {
		t.Errorf("after the call: active %v, MOS observations %v; want 0, 1", s["teaphone_calls_active"], s["teaphone_call_mos_count"])
	}
	cancel()
	<-done
}

// TestMetricsAddressInUse: a metrics address in use stops the start with
// an error naming it.
func TestMetricsAddressInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg, logFile := emptyConfig(t)
	var out, errOut strings.Builder
	err = run(context.Background(), []string{"answer", "--config", cfg, "--log-file", logFile, "--audio", "null",
		"--listen", "127.0.0.1:0", "--metrics", ln.Addr().String()}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), ln.Addr().String()) {
		t.Fatalf("run with --metrics on a port in use: %v, want an error naming %s", err, ln.Addr())
	}
	if code := exitCode(err, &errOut); code != 2 {
		t.Errorf("exit code %d, want 2", code)
	}
}
