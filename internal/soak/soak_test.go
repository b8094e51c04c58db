package soak

import (
	"bytes"
	"context"
	"net/http/httptest"
	"net/http/pprof"
	"os"
	"runtime"
	"strings"
	"testing"
)

func TestParseStatus(t *testing.T) {
	status := "Name:\tteaphone\nState:\tS (sleeping)\nVmPeak:\t 1290712 kB\nVmRSS:\t   23412 kB\nRssAnon:\t 10000 kB\nThreads:\t9\n"
	rss, threads, err := parseStatus(strings.NewReader(status))
	if err != nil || rss != 23412 || threads != 9 {
		t.Errorf("parseStatus = %d, %d, %v; want 23412, 9, nil", rss, threads, err)
	}
	if _, _, err := parseStatus(strings.NewReader("Name:\tzombie\nState:\tZ (zombie)\nThreads:\t1\n")); err == nil {
		t.Error("a status without VmRSS: no error")
	}
	if _, _, err := parseStatus(strings.NewReader("VmRSS:\tlots kB\nThreads:\t1\n")); err == nil {
		t.Error("a bad VmRSS: no error")
	}
}

func TestParseGoroutineTotal(t *testing.T) {
	for line, want := range map[string]int{"goroutine profile: total 18\n": 18, "goroutine profile: total 4031": 4031} {
		if n, err := parseGoroutineTotal(line); err != nil || n != want {
			t.Errorf("%q: %d, %v; want %d", line, n, err, want)
		}
	}
	for _, bad := range []string{"", "heap profile: 1: 2 [3: 4] @ heap/1048576", "goroutine profile: total many"} {
		if _, err := parseGoroutineTotal(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// TestSampleSelf samples this test process through a real pprof handler.
func TestSampleSelf(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	srv := httptest.NewServer(pprof.Handler("goroutine"))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	// The handler serves the goroutine profile at any path.
	s, err := Target{PID: os.Getpid(), Pprof: addr}.Sample(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if s.Goroutines < 2 || s.FDs < 3 || s.RSSKiB < 1000 || s.Threads < 1 {
		t.Errorf("sample %+v: implausible", s)
	}
	if _, err := (Target{PID: os.Getpid(), Pprof: "127.0.0.1:1"}).Sample(context.Background()); err == nil {
		t.Error("no pprof there: no error")
	}
}

func TestAnalyze(t *testing.T) {
	before := Sample{Phase: PhaseBefore, Goroutines: 18, FDs: 12, RSSKiB: 20000}
	load := func(calls, g, fds int, rss int64) Sample {
		return Sample{Phase: PhaseLoad, Calls: calls, Goroutines: g, FDs: fds, RSSKiB: rss}
	}
	after := func(g, fds int) Sample {
		return Sample{Phase: PhaseAfter, Calls: 10000, Goroutines: g, FDs: fds, RSSKiB: 40000}
	}
	tests := []struct {
		name    string
		samples []Sample
		pass    bool
		why     string // in the verdict
	}{
		{"flat", []Sample{before, load(500, 900, 220, 30000), load(1000, 1000, 230, 35000), load(5000, 1010, 228, 36000),
			load(9500, 990, 232, 36500), after(18, 12)}, true, "PASS"},
		{"warm-up growth before the first thousand is fine", []Sample{before, load(400, 300, 100, 25000), load(1200, 1000, 230, 35000),
			load(9800, 1050, 235, 37000), after(20, 14)}, true, "PASS"},
		{"goroutines grow", []Sample{before, load(1000, 1000, 230, 35000), load(5000, 1100, 230, 35000), load(9500, 1200, 230, 35000),
			after(18, 12)}, false, "goroutines grew from 1000 to 1200"},
		{"fds grow", []Sample{before, load(1000, 1000, 230, 35000), load(9500, 1000, 300, 35000), after(18, 12)}, false, "open fds grew from 230 to 300"},
		{"memory grows", []Sample{before, load(1000, 1000, 230, 35000), load(9500, 1000, 230, 60000), after(18, 12)}, false, "RSS KiB grew from 35000 to 60000"},
		{"goroutines left when idle", []Sample{before, load(1000, 1000, 230, 35000), load(9500, 1000, 230, 35000), after(60, 12)},
			false, "60 goroutines where there were 18"},
		{"fds left when idle", []Sample{before, load(1000, 1000, 230, 35000), load(9500, 1000, 230, 35000), after(18, 40)},
			false, "40 open fds where there were 12"},
		{"too few samples", []Sample{before, load(1000, 1000, 230, 35000), after(18, 12)}, false, "fewer than two samples"},
		{"stopped early", []Sample{before, load(1000, 1000, 230, 35000), load(3000, 1000, 230, 35000), after(18, 12)}, false, "before the last 2000"},
		{"the ramp-down is not the last thousand", []Sample{before, load(1000, 1000, 230, 35000), load(9500, 1000, 230, 35000),
			load(9990, 30, 15, 35000), after(18, 12)}, true, "9500"},
	}
	for _, tt := range tests {
		r := Analyze(tt.samples, 10000, 100, DefaultTolerance)
		var b bytes.Buffer
		r.Write(&b)
		if r.Pass != tt.pass || !strings.Contains(b.String(), tt.why) {
			t.Errorf("%s: pass %v, want %v with %q:\n%s", tt.name, r.Pass, tt.pass, tt.why, b.String())
		}
	}
	// A short run: the window is a fifth of it.
	r := Analyze([]Sample{before, load(100, 50, 20, 30000), load(400, 52, 21, 30000), load(900, 51, 20, 30100), after(18, 12)}, 1000, 50, DefaultTolerance)
	if r.Window != 200 || !r.Pass || r.First.Calls != 400 {
		t.Errorf("1000 calls: window %d, first at %v, pass %v (%v %v)", r.Window, r.First, r.Pass, r.Reasons, r.Inconclusive)
	}
}
