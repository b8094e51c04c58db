// Command soakmon runs a load against a process and watches that process
// for leaks (package soak): scripts/soak.sh (make soak) uses it.
//
//	soakmon -pid PID -pprof 127.0.0.1:PORT -calls N -concurrent C -samples FILE -load-out FILE -- teaphone load …
//
// It samples the target once idle, starts the load command (its stdout goes
// to -load-out, its stderr to ours), samples every -every while the load
// runs (counting the load's "result" lines as calls done, and the calls up
// at the target from its events file), waits -settle after the load ended,
// samples the idle target again, writes every sample
// as a JSON line to -samples, and prints the load's summary line and the
// report. Exit status: 0 PASS and no failed call, 1 otherwise, 2 usage or
// setup.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/teaphone/teaphone/internal/soak"
)

func main() {
	os.Exit(run())
}

func run() int {
	pid := flag.Int("pid", 0, "pid of the target process")
	pprof := flag.String("pprof", "", "host:port of the target's --pprof")
	calls := flag.Int("calls", 0, "calls the load places (for the first/last thousand)")
	concurrent := flag.Int("concurrent", 0, "calls the load keeps in flight at most")
	every := flag.Duration("every", 10*time.Second, "sample period under load")
	settle := flag.Duration("settle", soak.DefaultWarmup, "wait after the load before the idle sample (SIP transactions outlive their calls by 32 s)")
	warmup := flag.Duration("warmup", soak.DefaultWarmup, "compare nothing sampled earlier in the load")
	samplesPath := flag.String("samples", "samples.jsonl", "write the samples here (JSON lines)")
	loadOut := flag.String("load-out", "load.jsonl", "write the load's stdout here")
	events := flag.String("target-events", "", "the target's JSON-lines events file (teaphone answer --events jsonl), for the calls up at each sample")
	flag.Parse()
	if *pid <= 0 || *pprof == "" || *calls <= 0 || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "soakmon: want -pid, -pprof, -calls and a load command after --")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m, err := newMonitor(soak.Target{PID: *pid, Pprof: *pprof}, *samplesPath, *events)
	if err != nil {
		fmt.Fprintln(os.Stderr, "soakmon:", err)
		return 2
	}
	defer m.close()
	if err := m.sample(ctx, soak.PhaseBefore, 0); err != nil {
		fmt.Fprintln(os.Stderr, "soakmon:", err)
		return 2
	}
	summary, loadErr := m.runLoad(ctx, flag.Args(), *loadOut, *every)
	if ctx.Err() != nil {
		fmt.Fprintln(os.Stderr, "soakmon: interrupted")
		return 1
	}
	select {
	case <-time.After(*settle):
	case <-ctx.Done():
		return 1
	}
	if err := m.sample(ctx, soak.PhaseAfter, int(m.done.Load())); err != nil {
		fmt.Fprintln(os.Stderr, "soakmon:", err)
	}
	fmt.Printf("load: %s\n", summary)
	rep := soak.Analyze(m.samples, soak.Run{Calls: *calls, Concurrent: *concurrent, Warmup: *warmup}, soak.DefaultTolerance)
	rep.Write(os.Stdout)
	fmt.Printf("samples: %s, load output: %s\n", *samplesPath, *loadOut)
	if loadErr != nil {
		fmt.Printf("calls: FAIL: the load ended with %v (failed calls by cause in its summary above)\n", loadErr)
	} else {
		fmt.Println("calls: PASS: no call failed")
	}
	if loadErr != nil || !rep.Pass {
		return 1
	}
	return 0
}

// monitor samples the target and keeps the samples.
type monitor struct {
	t       soak.Target
	out     *os.File
	events  *os.File // the target's events, read on as they grow; nil: none
	active  *soak.Active
	buf     []byte
	samples []soak.Sample
	done    atomic.Int64 // calls the load finished
	start   time.Time    // the load's start
}

func newMonitor(t soak.Target, path, events string) (*monitor, error) {
	m := &monitor{t: t, active: soak.NewActive(), buf: make([]byte, 1<<20)}
	if events != "" {
		f, err := os.Open(events)
		if err != nil {
			return nil, fmt.Errorf("target events: %w", err)
		}
		m.events = f
	}
	f, err := os.Create(path)
	if err != nil {
		m.close()
		return nil, fmt.Errorf("samples: %w", err)
	}
	m.out = f
	return m, nil
}

func (m *monitor) close() {
	if m.out != nil {
		_ = m.out.Close()
	}
	if m.events != nil {
		_ = m.events.Close()
	}
}

// callsUp reads the target's events written since the last sample and
// returns the calls up (0 without an events file).
func (m *monitor) callsUp() int {
	if m.events == nil {
		return 0
	}
	for {
		n, err := m.events.Read(m.buf)
		m.active.Feed(m.buf[:n])
		if err != nil || n == 0 {
			break
		}
	}
	return m.active.Count()
}

// sample takes one sample, keeps it, writes it to the file and a line on stderr.
func (m *monitor) sample(ctx context.Context, phase string, calls int) error {
	s, err := m.t.Sample(ctx)
	if err != nil {
		return err
	}
	now := time.Now()
	s.TS, s.Phase, s.Calls, s.Active = now.UTC().Format("2006-01-02T15:04:05.000Z"), phase, calls, m.callsUp()
	if !m.start.IsZero() {
		s.T = now.Sub(m.start).Round(100 * time.Millisecond).Seconds()
	}
	m.samples = append(m.samples, s)
	b, _ := json.Marshal(s)
	if _, err := m.out.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("samples: %w", err)
	}
	fmt.Fprintf(os.Stderr, "soakmon: %s\n", b)
	return nil
}

var resultMark = []byte(`"event":"result"`)
var summaryMark = []byte(`"event":"summary"`)

// runLoad runs the load command until it exits, sampling every period; it
// returns the load's summary line and its exit error.
func (m *monitor) runLoad(ctx context.Context, argv []string, outPath string, every time.Duration) (summary string, err error) {
	out, err := os.Create(outPath)
	if err != nil {
		return "", fmt.Errorf("load output: %w", err)
	}
	defer out.Close()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 30 * time.Second
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", fmt.Errorf("load: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("load: %w", err)
	}
	m.start = time.Now()
	var (
		wg   sync.WaitGroup
		last []byte
	)
	wg.Add(1)
	go func() { // owned: ends at the load's EOF, waited for below
		defer wg.Done()
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			_, _ = out.Write(append(line, '\n'))
			switch {
			case bytes.Contains(line, resultMark):
				m.done.Add(1)
			case bytes.Contains(line, summaryMark):
				last = bytes.Clone(line)
			}
		}
	}()
	exited := make(chan error, 1)
	go func() { // owned: ends when the load exits
		wg.Wait()
		exited <- cmd.Wait()
	}()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case err := <-exited:
			if len(last) == 0 {
				return "(no summary)", errors.Join(err, errors.New("the load printed no summary"))
			}
			return string(last), err
		case <-tick.C:
			if err := m.sample(ctx, soak.PhaseLoad, int(m.done.Load())); err != nil {
				fmt.Fprintln(os.Stderr, "soakmon:", err)
			}
		}
	}
}
