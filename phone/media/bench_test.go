package media

import (
	"bufio"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// benchStream is a started stream that is not on a clock (the benchmark
// drives it) sending to a socket nobody reads.
func benchStream(b *testing.B) *Stream {
	b.Helper()
	e := NewEngine(testEngineOptions()...)
	b.Cleanup(func() { _ = e.Close() })
	drain := listenUDP(b)
	s, err := e.NewStream(StreamConfig{
		RTP: listenUDP(b), Codec: "PCMU", DTMFPayloadType: 101,
		RecvDTMFPayloadTypes: []uint8{101},
		Remote:               addrOf(drain),
		Source:               &toneSource{freq: 1000, amp: 8000},
		Sink:                 discardSink{},
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	return s
}

// tableSource replays a precomputed one-second table, so that load
// measurements count the engine and not the math.Sin of a test tone.
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

// toneTable is one second of a tone (whole periods for integer Hz).
func toneTable(freq float64) []int16 {
	tab := make([]int16, 8000)
	_ = (&toneSource{freq: freq, amp: 8000}).ReadFrame(tab)
	return tab
}

type discardSink struct{}

func (discardSink) WriteFrame([]int16) error { return nil }

// BenchmarkSendPath: read a frame from the source, encode, write the RTP
// header, send one datagram.
func BenchmarkSendPath(b *testing.B) {
	s := benchStream(b)
	s.mu.Lock()
	dst, src, codec := s.dst, s.src, s.codec
	s.mu.Unlock()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		s.sendFrame(dst, src, false, codec, 0, s.tx.pcm[:160], 160)
		s.tx.ts += 160
	}
}

// BenchmarkReceivePath: validate an RTP packet, run the source lock and
// statistics, push it into the jitter buffer, pop, decode and play one frame.
func BenchmarkReceivePath(b *testing.B) {
	s := benchStream(b)
	from := netip.MustParseAddrPort("127.0.0.1:40000")
	s.SetRemote(from, netip.AddrPort{})
	pkt := rtpPacket(0, 0, 0, 7, false, make([]byte, 160))
	now := time.Now()
	var out [maxPacket]byte
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		putRTPHeader(pkt, false, 0, uint16(i), uint32(i*160), 7)
		now = now.Add(20 * time.Millisecond)
		s.handleRTP(pkt, from, now)
		s.mu.Lock()
		n, st := s.jb.Pop(now, out[:])
		s.mu.Unlock()
		s.playFrame(discardSink{}, s.codec, st, out[:n], nil, s.tx.out[:160])
	}
}

// BenchmarkTick: one full clock tick of one stream (send + playout).
func BenchmarkTick(b *testing.B) {
	s := benchStream(b)
	s.mu.Lock()
	s.started = true
	s.mu.Unlock()
	now := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		now = now.Add(20 * time.Millisecond)
		s.tick(now, 0)
	}
}

func BenchmarkParseRTP(b *testing.B) {
	pkt := rtpPacket(0, 1, 2, 3, true, make([]byte, 160))
	b.ReportAllocs()
	for range b.N {
		if _, _, ok := parseRTP(pkt); !ok {
			b.Fatal("parse")
		}
	}
}

// loadResult is what runLoad measured.
type loadResult struct {
	pairs          int
	wall           time.Duration
	cpu            time.Duration // user + system over the window
	rssBefore      int64         // kB
	rssAfter       int64
	rxMin, rxTotal uint64
	txTotal        uint64
	lost           int64
	goroutines     int
	skipped        uint64
}

// perPacket is the CPU time per RTP packet handled (sent or received).
func (r loadResult) perPacket() time.Duration {
	return r.cpu / time.Duration(max(r.rxTotal+r.txTotal, 1))
}

// nominalPct is the CPU per stream, in percent of one core, at the nominal
// 50 packets per second each way.
func (r loadResult) nominalPct() float64 {
	return 100 * r.perPacket().Seconds() * 100
}

func (r loadResult) String() string {
	streams := float64(2 * r.pairs)
	cpuPct := 100 * r.cpu.Seconds() / r.wall.Seconds()
	return fmt.Sprintf("%d calls = %d streams over %.1f s: process CPU %.1f%% of one core = %.4f%%/stream measured, %.2f µs/packet => %.4f%%/stream at 50+50 pkt/s; "+
		"RSS +%d kB = %.1f kB/stream; %d goroutines; rx %.1f pkt/s/stream (min %d pkts), tx %.1f pkt/s/stream, lost %d, clock skipped %d frames",
		r.pairs, 2*r.pairs, r.wall.Seconds(), cpuPct, cpuPct/streams, float64(r.perPacket().Nanoseconds())/1000, r.nominalPct(),
		r.rssAfter-r.rssBefore, float64(r.rssAfter-r.rssBefore)/streams, r.goroutines,
		float64(r.rxTotal)/streams/r.wall.Seconds(), r.rxMin, float64(r.txTotal)/streams/r.wall.Seconds(), r.lost, r.skipped)
}

func rssKB() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

// runLoad runs pairs two-way G.711 calls over loopback between two engines
// (one per "phone") and measures the process CPU time and RSS over dur
// after a warm-up. With suite set, every call is protected by SRTP.
func runLoad(tb testing.TB, pairs int, warm, dur time.Duration, suite string) loadResult {
	tb.Helper()
	res := loadResult{pairs: pairs, rssBefore: rssKB()}
	ea := NewEngine(testEngineOptions()...)
	eb := NewEngine(testEngineOptions()...)
	defer eb.Close()
	defer ea.Close()
	var all []*Stream
	tabs := map[float64][]int16{1000: toneTable(1000), 440: toneTable(440)}
	var ka, kb SRTPKeys
	if suite != "" {
		ka, kb = testKeys(suite)
	}
	mk := func(e *Engine, freq float64, k SRTPKeys) (*Stream, netip.AddrPort, netip.AddrPort) {
		rtp, rtcp := listenUDP(tb), listenUDP(tb)
		s, err := e.NewStream(StreamConfig{
			SRTP: k,
			RTP:  rtp, RTCP: rtcp, Codec: "PCMU", DTMFPayloadType: 101,
			RecvDTMFPayloadTypes: []uint8{101},
			Source:               &tableSource{tab: tabs[freq]},
			Sink:                 discardSink{},
		})
		if err != nil {
			tb.Fatal(err)
		}
		all = append(all, s)
		return s, addrOf(rtp), addrOf(rtcp)
	}
	for range pairs {
		a, artp, artcp := mk(ea, 1000, ka)
		b, brtp, brtcp := mk(eb, 440, kb)
		a.SetRemote(brtp, brtcp)
		b.SetRemote(artp, artcp)
		a.Start()
		b.Start()
	}
	time.Sleep(warm)
	rx0 := make([]uint64, len(all))
	tx0 := make([]uint64, len(all))
	for i, s := range all {
		st := s.Stats()
		rx0[i], tx0[i] = st.RxPackets, st.TxPackets
	}
	sk0 := ea.Stats().Skipped + eb.Stats().Skipped
	b, isBench := tb.(*testing.B)
	if isBench {
		b.StartTimer()
	}
	c0, t0 := rusageCPU(), time.Now()
	time.Sleep(dur)
	res.cpu, res.wall = rusageCPU()-c0, time.Since(t0)
	if isBench {
		b.StopTimer()
	}
	res.rssAfter = rssKB()
	res.goroutines = runtime.NumGoroutine()
	res.skipped = ea.Stats().Skipped + eb.Stats().Skipped - sk0
	res.rxMin = ^uint64(0)
	for i, s := range all {
		st := s.Stats()
		d := st.RxPackets - rx0[i]
		res.txTotal += st.TxPackets - tx0[i]
		res.rxTotal += d
		res.rxMin = min(res.rxMin, d)
		res.lost += st.Lost
	}
	return res
}

// BenchmarkCalls100 runs 100 two-way calls; each iteration is one 20 ms
// frame of wall time. It reports CPU per stream as a percentage of one core.
func BenchmarkCalls100(b *testing.B) { benchCalls(b, "") }

// BenchmarkCalls100SRTP is BenchmarkCalls100 with every call protected by
// SRTP (AES_CM_128_HMAC_SHA1_80, the suite every SDES peer offers first).
func BenchmarkCalls100SRTP(b *testing.B) { benchCalls(b, SuiteAESCM128SHA1x80) }

func benchCalls(b *testing.B, suite string) {
	b.StopTimer() // only the measurement window counts
	dur := time.Duration(b.N) * 20 * time.Millisecond
	// 4 s of warm-up: every stream has sent and received its first RTCP
	// report (RFC 3550 §6.2: at most 1.5 × 5 s / 2), so one-time per-source
	// state (SRTCP contexts too) is made before the measurement.
	r := runLoad(b, 100, 4*time.Second, dur, suite)
	b.ReportMetric(100*r.cpu.Seconds()/r.wall.Seconds()/200, "%cpu/stream")
	b.ReportMetric(r.nominalPct(), "%cpu/stream@50pps")
	b.ReportMetric(float64(r.perPacket().Nanoseconds()), "ns-cpu/pkt")
	b.ReportMetric(float64(r.rssAfter-r.rssBefore)/200, "kB/stream")
	b.Log(r)
}

// TestLoadCalls runs TEAPHONE_LOAD two-way calls (e.g. 1000) for
// TEAPHONE_LOAD_SECONDS (default 10) and logs CPU and RSS per call;
// TEAPHONE_LOAD_SRTP=AES_CM_128_HMAC_SHA1_80 (or another suite) protects
// them with SRTP.
func TestLoadCalls(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("TEAPHONE_LOAD"))
	if n <= 0 {
		t.Skip("set TEAPHONE_LOAD=<calls> to run")
	}
	secs, _ := strconv.Atoi(os.Getenv("TEAPHONE_LOAD_SECONDS"))
	if secs <= 0 {
		secs = 10
	}
	r := runLoad(t, n, 2*time.Second, time.Duration(secs)*time.Second, os.Getenv("TEAPHONE_LOAD_SRTP"))
	t.Log(r)
	// On a loaded machine the clock may skip frames (it never bursts more
	// than 100 ms); every stream must still carry audio.
	if r.rxMin == 0 {
		t.Errorf("a stream received nothing")
	}
	if r.skipped > 0 {
		t.Logf("the clock fell behind and skipped %d frames (machine load?)", r.skipped)
	}
}
