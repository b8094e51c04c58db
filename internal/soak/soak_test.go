package soak

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/pprof"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
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
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	s, err := Target{PID: os.Getpid(), Pprof: addr}.Sample(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if s.Goroutines < 2 || s.FDs < 3 || s.RSSKiB < 1000 || s.Threads < 1 || s.HeapKiB < 100 || s.HeapKiB > s.RSSKiB {
		t.Errorf("sample %+v: implausible", s)
	}
	if _, err := (Target{PID: os.Getpid(), Pprof: "127.0.0.1:1"}).Sample(context.Background()); err == nil {
		t.Error("no pprof there: no error")
	}
}

func TestAnalyze(t *testing.T) {
	before := Sample{Phase: PhaseBefore, Goroutines: 18, FDs: 12, HeapKiB: 3000, RSSKiB: 20000}
	// A sample under load with up calls up, each holding 4 goroutines, 2
	// fds and 40 KiB of heap, on top of the leak-free rest.
	at := func(calls, up int) Sample {
		return Sample{Phase: PhaseLoad, Calls: calls, T: float64(calls) / 20, Active: up,
			Goroutines: 20 + 4*up, FDs: 14 + 2*up, HeapKiB: 6000 + 40*int64(up), RSSKiB: 35000}
	}
	with := func(s Sample, change func(*Sample)) Sample { change(&s); return s }
	after := func(g, fds int) Sample {
		return Sample{Phase: PhaseAfter, Calls: 10000, Goroutines: g, FDs: fds, RSSKiB: 40000}
	}
	tests := []struct {
		name    string
		samples []Sample
		pass    bool
		why     string // in the report
	}{
		{"flat", []Sample{before, at(500, 100), at(1000, 100), at(5000, 98), at(9500, 101), after(18, 12)}, true, "PASS"},
		{"more calls up at the end is not a leak", []Sample{before, at(1000, 20), at(3000, 120), at(5000, 60), at(7000, 100), at(9500, 200), after(18, 12)},
			true, "+720 raw,        +0 at equal load (4.0 per call up"},
		{"warm-up growth before the first thousand is fine", []Sample{before, with(at(400, 100), func(s *Sample) { s.RSSKiB = 25000 }),
			at(1200, 100), at(9800-100, 100), after(20, 14)}, true, "PASS"},
		{"goroutines grow", []Sample{before, at(1000, 100), with(at(5000, 100), func(s *Sample) { s.Goroutines += 100 }),
			with(at(9500, 100), func(s *Sample) { s.Goroutines += 200 }), after(18, 12)}, false, "goroutines grew by 200 at equal load"},
		{"goroutines grow while fewer calls are up", []Sample{before, at(1000, 100), at(3000, 50), at(5000, 100),
			with(at(9500, 60), func(s *Sample) { s.Goroutines += 150 }), after(18, 12)}, false, "goroutines grew by"},
		{"heap grows at a steady load (no fit on noise)", []Sample{before, at(1000, 100), with(at(2000, 99), func(s *Sample) { s.HeapKiB += 2000 }),
			with(at(5000, 100), func(s *Sample) { s.HeapKiB += 5000 }), with(at(9500, 100), func(s *Sample) { s.HeapKiB += 10000 }), after(18, 12)},
			false, "heap KiB grew by 10000 at equal load"},
		{"fds grow", []Sample{before, at(1000, 100), with(at(9500, 100), func(s *Sample) { s.FDs += 70 }), after(18, 12)}, false, "open fds grew by 70"},
		{"heap grows", []Sample{before, at(1000, 100), with(at(9500, 100), func(s *Sample) { s.HeapKiB += 20000 }), after(18, 12)}, false, "heap KiB grew by 20000"},
		{"memory grows", []Sample{before, at(1000, 100), with(at(9500, 100), func(s *Sample) { s.RSSKiB = 60000 }), after(18, 12)}, false, "RSS KiB grew by 25000"},
		{"goroutines left when idle", []Sample{before, at(1000, 100), at(9500, 100), after(60, 12)}, false, "60 goroutines where there were 18"},
		{"fds left when idle", []Sample{before, at(1000, 100), at(9500, 100), after(18, 40)}, false, "40 open fds where there were 12"},
		{"heap kept when idle", []Sample{before, at(1000, 100), at(9500, 100), with(after(18, 12), func(s *Sample) { s.HeapKiB = 9000 })},
			false, "a heap of 9000 KiB where there were 3000"},
		{"growth during the warm-up is not compared", []Sample{before, with(at(600, 100), func(s *Sample) { s.HeapKiB, s.T = 1000, 12 }),
			with(at(1000, 100), func(s *Sample) { s.HeapKiB, s.T = 2000, 20 }), at(2000, 100), at(9500, 100), after(18, 12)}, true, "after first 1000          2000"},
		{"calls left up", []Sample{before, at(1000, 100), at(9500, 100), with(after(18, 12), func(s *Sample) { s.Active = 3 })}, false, "3 calls still up"},
		{"too few samples", []Sample{before, at(1000, 100), after(18, 12)}, false, "fewer than two samples"},
		{"stopped early", []Sample{before, at(1000, 100), at(3000, 100), after(18, 12)}, false, "before the last 2000"},
		{"the ramp-down is not the last thousand", []Sample{before, at(1000, 100), at(9500, 100),
			with(at(9990, 5), func(s *Sample) { s.Goroutines = 5000 }), after(18, 12)}, true, "9500"},
	}
	for _, tt := range tests {
		r := Analyze(tt.samples, Run{Calls: 10000, Concurrent: 100, Warmup: 40 * time.Second}, DefaultTolerance)
		var b bytes.Buffer
		r.Write(&b)
		if r.Pass != tt.pass || !strings.Contains(b.String(), tt.why) {
			t.Errorf("%s: pass %v, want %v with %q:\n%s", tt.name, r.Pass, tt.pass, tt.why, b.String())
		}
	}
	// A short run: the window is a fifth of it.
	r := Analyze([]Sample{before, at(100, 50), at(400, 50), at(900, 50), after(18, 12)}, Run{Calls: 1000, Concurrent: 50}, DefaultTolerance)
	if r.Window != 200 || !r.Pass || r.First.Calls != 400 {
		t.Errorf("1000 calls: window %d, first at %v, pass %v (%v %v)", r.Window, r.First, r.Pass, r.Reasons, r.Inconclusive)
	}
}

func TestParseHeapAlloc(t *testing.T) {
	profile := "heap profile: 3: 4096 [9: 9000] @ heap/1048576\n1: 1024 [1: 1024] @ 0x1 0x2\n\n# runtime.MemStats\n# Alloc = 4194304\n# TotalAlloc = 9999999\n# HeapAlloc = 4194304\n# HeapSys = 8388608\n"
	if kib, err := parseHeapAlloc(strings.NewReader(profile)); err != nil || kib != 4096 {
		t.Errorf("parseHeapAlloc = %d, %v; want 4096", kib, err)
	}
	if _, err := parseHeapAlloc(strings.NewReader("goroutine profile: total 3\n")); err == nil {
		t.Error("no HeapAlloc: no error")
	}
}

func TestActive(t *testing.T) {
	a := NewActive()
	stream := `{"ts":"…","event":"registration","account":"x","state":"registered"}
{"ts":"…","event":"call","call_id":"a","line":1,"direction":"incoming","state":"ringing"}
{"ts":"…","event":"call","call_id":"b","line":2,"direction":"incoming","state":"ringing"}
{"ts":"…","event":"call","call_id":"a","line":1,"direction":"incoming","state":"connected"}
{"ts":"…","event":"media","call_id":"a","line":1,"codec":"PCMU","rx_packets":25}
{"ts":"…","event":"call","call_id":"c","line":3,"direction":"incoming","state":"ringing"}
{"ts":"…","event":"call","call_id":"b","line":2,"direction":"incoming","state":"cancelled","reason":"","code":487}
{"ts":"…","event":"call","call_id":"a","line":1,"direction":"incoming","state":"terminated","reason":"remote hangup","code":200}
not json
{"ts":"…","event":"call","call_id":"d","line":4,"direction":"incoming","state":"failed","code":486}
{"ts":"…","event":"call","call_id":"e","line":5,"direction":"incoming","state":"connected"}
`
	// In pieces that cut lines anywhere.
	for i := 0; i < len(stream); i += 37 {
		a.Feed([]byte(stream[i:min(i+37, len(stream))]))
	}
	if a.Count() != 2 { // c ringing, e connected
		t.Errorf("%d calls up, want 2", a.Count())
	}
	a.Feed([]byte(`{"event":"call","call_id":"e","state":"terminated"}`))
	if a.Count() != 2 {
		t.Errorf("an unfinished line counted: %d up", a.Count())
	}
	a.Feed([]byte("\n"))
	if a.Count() != 1 {
		t.Errorf("%d calls up, want 1", a.Count())
	}
}
