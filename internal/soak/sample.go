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
	TS         string `json:"ts"`
	Phase      string `json:"phase"`
	Calls      int    `json:"calls"` // calls the load had finished
	Goroutines int    `json:"goroutines"`
	FDs        int    `json:"fds"`
	RSSKiB     int64  `json:"rss_kib"`
	Threads    int    `json:"threads"`
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
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/debug/pprof/goroutine?debug=1", nil)
	if err != nil {
		return 0, fmt.Errorf("goroutines: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("goroutines: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("goroutines: %s", resp.Status)
	}
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil && line == "" {
		return 0, fmt.Errorf("goroutines: %w", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return parseGoroutineTotal(line)
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
