// Command calldriver is the calling side of teaphone's load benchmark
// (internal/bench): one process, one phone.Phone, N simultaneous calls
// carrying two-way G.711 (PCMU) RTP to one target URI.
//
//	calldriver -target sip:bob@127.0.0.1:PORT -calls 500 -rtp-ports 30000-31999
//
// It places the calls (paced by -rate per second), prints
// "UP active=N failed=F" once every call is answered or has failed, then
// obeys commands on stdin, one per line:
//
//	stats   print "STATS active=N rx=.. tx=.. rxmin=.. lost=.." (per-call
//	        RTP counters summed over the active calls)
//	quit    hang up every call and exit (EOF on stdin does the same)
//
// Its audio is a precomputed 1 kHz table (no math per frame) and received
// audio is discarded, so it measures the SIP/RTP stack, not a device.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/teaphone/teaphone/audio"
	"github.com/teaphone/teaphone/phone"
)

// tableSource replays one second of a tone.
type tableSource struct {
	tab []int16
	pos int
}

func (s *tableSource) ReadFrame(dst []int16) error {
	for n := 0; n < len(dst); {
		c := copy(dst[n:], s.tab[s.pos:])
		n += c
		s.pos = (s.pos + c) % len(s.tab)
	}
	return nil
}

type discard struct{}

func (discard) WriteFrame([]int16) error { return nil }

type provider struct{ tab []int16 }

func (p provider) CallAudio(phone.SessionID, int) (audio.Source, audio.Sink, func()) {
	return &tableSource{tab: p.tab}, discard{}, func() {}
}

func main() {
	target := flag.String("target", "", "SIP URI to call N times")
	calls := flag.Int("calls", 100, "simultaneous calls")
	rate := flag.Int("rate", 100, "new calls per second")
	ports := flag.String("rtp-ports", "30000-31999", "RTP port range LOW-HIGH")
	upTimeout := flag.Duration("up-timeout", 60*time.Second, "give up waiting for answers after this long")
	flag.Parse()
	if *target == "" {
		fmt.Fprintln(os.Stderr, "calldriver: -target is required")
		os.Exit(2)
	}
	lo, hi, ok := strings.Cut(*ports, "-")
	low, err1 := strconv.Atoi(lo)
	high, err2 := strconv.Atoi(hi)
	if !ok || err1 != nil || err2 != nil {
		fmt.Fprintln(os.Stderr, "calldriver: bad -rtp-ports")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	tab := make([]int16, audio.SampleRate)
	for i := range tab {
		tab[i] = int16(8000 * math.Sin(2*math.Pi*1000*float64(i)/audio.SampleRate))
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	phone.SetLibraryLogger(logger)
	p, err := phone.New(phone.Options{
		Listen: "127.0.0.1:0", Transports: []string{"udp"},
		RTPPortMin: low, RTPPortMax: high, Codecs: []string{"PCMU"},
		UserAgent: "teaphone-calldriver", Logger: logger,
		Handler: phone.HandlerFunc(func(phone.IncomingCall) phone.Decision { return phone.Reject(486, "") }),
		Audio:   provider{tab},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "calldriver:", err)
		os.Exit(1)
	}
	if err := p.Start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "calldriver:", err)
		os.Exit(1)
	}

	var (
		mu     sync.Mutex
		active = map[phone.SessionID]bool{}
		failed = map[phone.SessionID]string{}
		ended  = 0
	)
	changed := make(chan struct{}, 1)
	go func() {
		for ev := range p.Events() {
			ce, ok := ev.(phone.CallEvent)
			if !ok {
				continue
			}
			mu.Lock()
			switch {
			case ce.State == phone.StateActive:
				active[ce.Session] = true
			case ce.State.Final():
				if active[ce.Session] {
					ended++
				} else {
					failed[ce.Session] = fmt.Sprintf("%d %s", ce.Code, ce.Reason)
				}
				delete(active, ce.Session)
			}
			mu.Unlock()
			select {
			case changed <- struct{}{}:
			default:
			}
		}
	}()

	start := time.Now()
	tick := time.NewTicker(time.Second / time.Duration(max(*rate, 1)))
	for i := 0; i < *calls && ctx.Err() == nil; i++ {
		if _, err := p.Dial(ctx, *target, phone.DialOptions{}); err != nil {
			mu.Lock()
			failed[phone.SessionID(fmt.Sprint("dial", i))] = err.Error()
			mu.Unlock()
		}
		<-tick.C
	}
	tick.Stop()
	deadline := time.After(*upTimeout)
wait:
	for {
		mu.Lock()
		done := len(active)+len(failed)+ended >= *calls
		mu.Unlock()
		if done {
			break
		}
		select {
		case <-changed:
		case <-time.After(200 * time.Millisecond):
		case <-deadline:
			break wait
		case <-ctx.Done():
			break wait
		}
	}
	mu.Lock()
	reasons := map[string]int{}
	for _, r := range failed {
		reasons[r]++
	}
	fmt.Printf("UP active=%d failed=%d ended=%d setup=%.1fs reasons=%v\n", len(active), len(failed), ended, time.Since(start).Seconds(), reasons)
	mu.Unlock()

	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			lines <- strings.TrimSpace(sc.Text())
		}
		close(lines)
	}()
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case l, ok := <-lines:
			if !ok || l == "quit" {
				break loop
			}
			if l == "stats" {
				mu.Lock()
				ids := make([]phone.SessionID, 0, len(active))
				for id := range active {
					ids = append(ids, id)
				}
				mu.Unlock()
				var rx, tx uint64
				var lost int64
				rxmin := uint64(math.MaxUint64)
				for _, id := range ids {
					st, err := p.Stats(id)
					if err != nil {
						continue
					}
					rx += st.RxPackets
					tx += st.TxPackets
					lost += st.Lost
					rxmin = min(rxmin, st.RxPackets)
				}
				if len(ids) == 0 {
					rxmin = 0
				}
				fmt.Printf("STATS active=%d rx=%d tx=%d rxmin=%d lost=%d\n", len(ids), rx, tx, rxmin, lost)
			}
		}
	}
	_ = p.Close()
	fmt.Println("BYE")
}
