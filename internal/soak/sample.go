// Package soak watches a process under load for leaks: it samples its
// goroutines (from net/http/pprof, teaphone's --pprof), open file
// descriptors and resident memory (from /proc), and turns the samples of a
// run into a report with a verdict (see Report). scripts/soak.sh (make
// soak) runs it with cmd/soakmon against "teaphone answer".
package soak

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Phases of a sample.
const (
	PhaseBefore = "idle_before" // the target is up, the load not started
	PhaseLoad   = "load"        // the load is running
	PhaseAfter  = "idle_after"  // the load ended and the target settled
)

// Sample is one look at the target process.
type Sample struct {
	TS         string  `json:"ts"`
	Phase      string  `json:"phase"`
	Calls      int     `json:"calls"`  // calls the load had finished
	T          float64 `json:"t_s"`    // seconds since the load started
	Active     int     `json:"active"` // calls up at the target (from its events)
	Goroutines int     `json:"goroutines"`
	FDs        int     `json:"fds"`
	HeapKiB    int64   `json:"heap_kib"` // live heap after a GC
	RSSKiB     int64   `json:"rss_kib"`
	Threads    int     `json:"threads"`
}

// Target is the process sampled: its pid and the address of its --pprof.
type Target struct {
	PID   int
	Pprof string // host:port
	// Proc is the proc file system ("" = /proc).
	Proc string
}

// Sample reads the target's goroutines, descriptors, RSS and threads.
func (t Target) Sample(ctx context.Context) (Sample, error) {
	var s Sample
	proc := t.Proc
	if proc == "" {
		proc = "/proc"
	}
	// Goroutines first: the kept-alive connection to the target's pprof
	// is then open in every sample, the first one included.
	var err error
	if s.Goroutines, err = goroutines(ctx, t.Pprof); err != nil {
		return s, fmt.Errorf("sample pid %d: %w", t.PID, err)
	}
	if s.HeapKiB, err = heapAlloc(ctx, t.Pprof); err != nil {
		return s, fmt.Errorf("sample pid %d: %w", t.PID, err)
	}
	dir := filepath.Join(proc, strconv.Itoa(t.PID))
	fds, err := os.ReadDir(filepath.Join(dir, "fd"))
	if err != nil {
		return s, fmt.Errorf("sample pid %d: %w", t.PID, err)
	}
	s.FDs = len(fds)
	f, err := os.Open(filepath.Join(dir, "status"))
	if err != nil {
		return s, fmt.Errorf("sample pid %d: %w", t.PID, err)
	}
	s.RSSKiB, s.Threads, err = parseStatus(f)
	f.Close()
	if err != nil {
		return s, fmt.Errorf("sample pid %d: %w", t.PID, err)
	}
	return s, nil
}

// parseStatus reads VmRSS (kB) and Threads from /proc/PID/status.
func parseStatus(r io.Reader) (rssKiB int64, threads int, err error) {
	sc := bufio.NewScanner(r)
	seen := 0
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(val)
		if len(fields) == 0 {
			continue
		}
		switch key {
		case "VmRSS":
			if rssKiB, err = strconv.ParseInt(fields[0], 10, 64); err != nil {
				return 0, 0, fmt.Errorf("VmRSS %q: %w", val, err)
			}
			seen++
		case "Threads":
			if threads, err = strconv.Atoi(fields[0]); err != nil {
				return 0, 0, fmt.Errorf("threads %q: %w", val, err)
			}
			seen++
		}
	}
	if err := sc.Err(); err != nil {
		return 0, 0, err
	}
	if seen < 2 {
		return 0, 0, errors.New("status: no VmRSS or Threads line (a zombie?)")
	}
	return rssKiB, threads, nil
}

// goroutines reads the goroutine count from the first line of
// /debug/pprof/goroutine?debug=1 on addr.
func goroutines(ctx context.Context, addr string) (int, error) {
	var n int
	err := get(ctx, addr, "/debug/pprof/goroutine?debug=1", func(r io.Reader) error {
		line, err := bufio.NewReader(r).ReadString('\n')
		if err != nil && line == "" {
			return err
		}
		n, err = parseGoroutineTotal(line)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("goroutines: %w", err)
	}
	return n, nil
}

// heapAlloc reads the live heap (runtime.MemStats.HeapAlloc right after a
// GC, which gc=1 asks for) from /debug/pprof/heap?gc=1&debug=1 on addr.
func heapAlloc(ctx context.Context, addr string) (int64, error) {
	var kib int64 = -1
	err := get(ctx, addr, "/debug/pprof/heap?gc=1&debug=1", func(r io.Reader) error {
		var err error
		kib, err = parseHeapAlloc(r)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("heap: %w", err)
	}
	return kib, nil
}

// parseHeapAlloc finds "# HeapAlloc = N" (bytes) and returns N in KiB.
func parseHeapAlloc(r io.Reader) (int64, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "# HeapAlloc = "); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("HeapAlloc %q: %w", v, err)
			}
			return n >> 10, nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("no HeapAlloc line")
}

// get fetches path from the pprof server at addr and hands the body to read
// (5 s at most); the rest of the body is drained, so the connection is kept.
func get(ctx context.Context, addr, path string, read func(io.Reader) error) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errors.New(resp.Status)
	}
	err = read(resp.Body)
	_, _ = io.Copy(io.Discard, resp.Body)
	return err
}

// parseGoroutineTotal parses "goroutine profile: total N".
func parseGoroutineTotal(line string) (int, error) {
	const prefix = "goroutine profile: total "
	rest, ok := strings.CutPrefix(strings.TrimSpace(line), prefix)
	if !ok {
		return 0, fmt.Errorf("goroutines: want %q…, got %q", prefix, line)
	}
	n, err := strconv.Atoi(rest)
	if err != nil {
		return 0, fmt.Errorf("goroutines: %q: %w", line, err)
	}
	return n, nil
}
