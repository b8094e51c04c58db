package load

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/teaphone/teaphone/audio"
	"github.com/teaphone/teaphone/audio/device"
	"github.com/teaphone/teaphone/audio/tone"
	"github.com/teaphone/teaphone/internal/headless"
	"github.com/teaphone/teaphone/phone"
	"github.com/teaphone/teaphone/sessions"
)

// These tests place real calls between two phones on 127.0.0.1, each
// driven by a sessions.Manager as in main: the target answers (or refuses)
// every call and sends a tone, the load side sends a tone too.

type toneAudio struct{}

func (toneAudio) CallAudio(phone.SessionID, int) (audio.Source, audio.Sink, func()) {
	return tone.NewSine(440, 0.5), device.Discard, func() {}
}

// startPhone starts a phone on 127.0.0.1 with RTP ports [ports, ports+199]
// driven by a Manager with rules; it returns the Manager and the phone's
// SIP address.
func startPhone(t *testing.T, ports int, rules sessions.Rules) (*sessions.Manager, string) {
	t.Helper()
	mgr := sessions.New()
	p, err := phone.New(phone.Options{
		Listen: "127.0.0.1:0", Transports: []string{"udp"}, Codecs: []string{"PCMU"},
		RTPPortMin: ports, RTPPortMax: ports + 199, Handler: mgr, Audio: toneAudio{},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := mgr.Start(p); err != nil {
		t.Fatal(err)
	}
	if err := mgr.SetRules(rules); err != nil {
		t.Fatal(err)
	}
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = mgr.HangupAll()
		_ = p.Close()
		_ = mgr.Close()
	})
	return mgr, p.LocalAddr()
}

// lines parses the JSON lines of a run.
func lines(t *testing.T, out []byte) (results []resultJSON, summary summaryJSON) {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var probe struct{ Event string }
		if err := json.Unmarshal(sc.Bytes(), &probe); err != nil {
			t.Fatalf("not JSON: %q: %v", sc.Text(), err)
		}
		switch probe.Event {
		case "result":
			var r resultJSON
			_ = json.Unmarshal(sc.Bytes(), &r)
			results = append(results, r)
		case "summary":
			_ = json.Unmarshal(sc.Bytes(), &summary)
		default:
			t.Errorf("unexpected event %q", sc.Text())
		}
	}
	return results, summary
}

// TestRunAnswered: 20 calls at 10/s, 5 at a time, 1 s each, to a phone
// that answers them all: all answered, none failed, RTP received by every
// call, a line per call and the summary, and no watch left behind.
func TestRunAnswered(t *testing.T) {
	if testing.Short() {
		t.Skip("places 20 calls (about 5 s)")
	}
	_, target := startPhone(t, 21000, sessions.AcceptAll(0))
	mgr, _ := startPhone(t, 21200, sessions.RejectAll(486))
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	s, err := Run(ctx, mgr, Options{
		Target: "sip:load@" + target, Rate: 10, Concurrent: 5, Calls: 20, Hold: time.Second, Timeout: 5 * time.Second,
		Out: &out, Err: &errOut,
	})
	if err != nil {
		t.Fatalf("Run: %v (stderr %q)\n%s", err, errOut.String(), out.String())
	}
	if s.Attempted != 20 || s.Answered != 20 || s.Failed != 0 || len(s.Failures) != 0 {
		t.Errorf("summary %+v, want 20 attempted, 20 answered, 0 failed", s)
	}
	if s.RxMin == 0 {
		t.Errorf("a call received no RTP: rx min 0")
	}
	// 5 slots, calls of ~1 s: about 5 calls/s, never above 10.
	if el := time.Since(start); el < 3*time.Second || s.PlacedRate > 10.5 {
		t.Errorf("20 calls, 5 at a time, 1 s each took %s at %.1f calls/s: the rate or the slots were not kept", el, s.PlacedRate)
	}
	results, sum := lines(t, out.Bytes())
	if len(results) != 20 || sum.Attempted != 20 || sum.Answered != 20 || sum.Failed != 0 || sum.RxMin == 0 {
		t.Errorf("%d result lines, summary line %+v", len(results), sum)
	}
	seen := map[int]bool{}
	for _, r := range results {
		seen[r.N] = true
		if r.Outcome != OutcomeOK || !r.Answered || r.RxPackets == 0 || r.TxPackets == 0 || r.SIPCallID == "" {
			t.Errorf("call %d: %+v", r.N, r)
		}
		// G.711 on loopback, nothing lost: the estimator's R is 93.2 less
		// the playout delay and jitter over 40, so MOS ≈ 4.4 (4.5 at most).
		if r.MOS < 4.0 || r.MOS > 4.5 || r.Lost != 0 {
			t.Errorf("call %d: MOS %.2f lost %d, want 4.0..4.5 and none lost on loopback", r.N, r.MOS, r.Lost)
		}
	}
	if sum.MOS.Calls != 20 || sum.MOS.Min < 4.0 || sum.MOS.P50 < sum.MOS.Min || sum.MOS.Mean > 4.5 || sum.Rx == 0 || sum.Lost != 0 {
		t.Errorf("summary MOS %+v rx %d lost %d, want 20 calls with MOS 4.0..4.5 and none lost", sum.MOS, sum.Rx, sum.Lost)
	}
	t.Logf("summary: %s", FormatSummary("target", s))
	if len(seen) != 20 {
		t.Errorf("calls numbered %v, want 1..20 once each", seen)
	}
	if n := len(mgr.Calls()); n != 0 {
		t.Errorf("%d calls still up after Run", n)
	}
}

// TestRunRejected: every call refused with 486: counted as failed by code,
// none answered, exit status 1 with the reason on Err.
func TestRunRejected(t *testing.T) {
	if testing.Short() {
		t.Skip("places calls")
	}
	_, target := startPhone(t, 21400, sessions.RejectAll(486))
	mgr, _ := startPhone(t, 21600, sessions.RejectAll(486))
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Run(ctx, mgr, Options{
		Target: "sip:load@" + target, Rate: 20, Concurrent: 5, Calls: 10, Hold: time.Second, Timeout: 5 * time.Second,
		Out: &out, Err: &errOut,
	})
	var ee *headless.ExitError
	if !errors.As(err, &ee) || ee.Code != headless.ExitFailed {
		t.Fatalf("Run = %v, want an ExitError with ExitFailed", err)
	}
	if want := "10 of 10 calls failed\n"; errOut.String() != want {
		t.Errorf("stderr %q, want %q", errOut.String(), want)
	}
	if s.Attempted != 10 || s.Answered != 0 || s.Failed != 10 || !maps.Equal(s.Failures, map[string]int{"486": 10}) {
		t.Errorf("summary %+v, want 10 attempted, 0 answered, 10 failed: 486", s)
	}
	results, sum := lines(t, out.Bytes())
	if len(results) != 10 || !maps.Equal(sum.Failures, map[string]int{"486": 10}) {
		t.Errorf("%d result lines, summary failures %v", len(results), sum.Failures)
	}
	for _, r := range results {
		if r.Outcome != "486" || r.Code != 486 || r.Answered || r.Reason == "" {
			t.Errorf("call %d: %+v, want outcome 486", r.N, r)
		}
	}
}

// TestRunTimeout: a target that lets calls ring: each is cancelled after
// Timeout and counted as "timeout"; Run stays bounded.
func TestRunTimeout(t *testing.T) {
	if testing.Short() {
		t.Skip("places calls")
	}
	_, target := startPhone(t, 21800, sessions.DeferAll())
	mgr, _ := startPhone(t, 22000, sessions.RejectAll(486))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	s, err := Run(ctx, mgr, Options{
		Target: "sip:load@" + target, Rate: 50, Concurrent: 3, Calls: 3, Hold: time.Second, Timeout: 500 * time.Millisecond,
	})
	if err == nil || s.Failed != 3 || s.Failures[OutcomeTimeout] != 3 {
		t.Errorf("Run = %v, summary %+v; want 3 failed: timeout", err, s)
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("took %s", el)
	}
	if n := len(mgr.Calls()); n != 0 {
		t.Errorf("%d calls still up after Run", n)
	}
}

// TestWatcherReleases: the watches of placed calls are gone once their
// callers are done, so a long run keeps none.
func TestWatcherReleases(t *testing.T) {
	if testing.Short() {
		t.Skip("places calls")
	}
	_, target := startPhone(t, 22200, sessions.AcceptAll(0))
	mgr, _ := startPhone(t, 22400, sessions.RejectAll(486))
	o := Options{Target: "sip:load@" + target, Rate: 1, Concurrent: 1, Calls: 1, Hold: time.Second, Timeout: 5 * time.Second}
	if err := o.check(); err != nil {
		t.Fatal(err)
	}
	w := startWatcher(mgr)
	defer w.stop()
	cl := &caller{m: mgr, o: o, w: w}
	for n := 1; n <= 2; n++ {
		if r := cl.place(context.Background(), n); r.Outcome != OutcomeOK {
			t.Fatalf("call %d: %+v", n, r)
		}
	}
	if n := w.size(); n != 0 {
		t.Errorf("%d watches left after the calls ended", n)
	}
}

func TestOptionsCheck(t *testing.T) {
	good := Options{Target: "sip:a@127.0.0.1", Rate: 1, Concurrent: 1, Calls: 1, Hold: time.Second, Timeout: time.Second}
	tests := []struct {
		name   string
		change func(*Options)
		want   string // "" = valid
	}{
		{"good", func(*Options) {}, ""},
		{"duration only", func(o *Options) { o.Calls, o.Duration = 0, time.Minute }, ""},
		{"no target", func(o *Options) { o.Target = "" }, "missing target"},
		{"bad target", func(o *Options) { o.Target = "sip:" }, "load"},
		{"zero rate", func(o *Options) { o.Rate = 0 }, "rate 0"},
		{"no slots", func(o *Options) { o.Concurrent = 0 }, "concurrent 0"},
		{"no bound", func(o *Options) { o.Calls = 0 }, "--duration or --calls"},
		{"short hold", func(o *Options) { o.Hold = 500 * time.Millisecond }, "hold 500ms"},
		{"no timeout", func(o *Options) { o.Timeout = 0 }, "timeout 0s"},
		{"bad events", func(o *Options) { o.Events = "xml" }, `unknown format "xml"`},
	}
	for _, tt := range tests {
		o := good
		tt.change(&o)
		err := o.check()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want != "" && (err == nil || !bytes.Contains([]byte(err.Error()), []byte(tt.want))):
			t.Errorf("%s: error %v, want one with %q", tt.name, err, tt.want)
		}
	}
}

// TestRunInterrupted: the run's context ends mid-call (Ctrl-C): the calls
// in progress are hung up at once and counted as interrupted, not failed;
// Run returns ExitInterrupted promptly.
func TestRunInterrupted(t *testing.T) {
	if testing.Short() {
		t.Skip("places calls")
	}
	_, target := startPhone(t, 22600, sessions.AcceptAll(0))
	mgr, _ := startPhone(t, 22800, sessions.RejectAll(486))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(1500*time.Millisecond, cancel)
	start := time.Now()
	s, err := Run(ctx, mgr, Options{
		Target: "sip:load@" + target, Rate: 10, Concurrent: 3, Duration: time.Minute, Hold: 30 * time.Second, Timeout: 5 * time.Second,
	})
	var ee *headless.ExitError
	if !errors.As(err, &ee) || ee.Code != headless.ExitInterrupted {
		t.Errorf("Run = %v, want ExitInterrupted", err)
	}
	if s.Attempted != 3 || s.Interrupted != 3 || s.Failed != 0 || s.Answered != 3 {
		t.Errorf("summary %+v, want 3 attempted, answered and interrupted, none failed", s)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("Run took %s after an interrupt at 1.5 s", el)
	}
	if n := len(mgr.Calls()); n != 0 {
		t.Errorf("%d calls still up after Run", n)
	}
}

// TestRunTerminal: the progress display draws the bar and the counts
// (here into a buffer, not a terminal), prints no JSON line, ends with the
// summary line, and the reason of a failed run comes after it on errOut.
func TestRunTerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("places calls")
	}
	_, target := startPhone(t, 23400, sessions.RejectAll(503))
	mgr, _ := startPhone(t, 23600, sessions.RejectAll(486))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	s, err := RunTerminal(ctx, mgr, Options{
		Target: "sip:load@" + target, Rate: 10, Concurrent: 2, Calls: 4, Hold: time.Second, Timeout: 5 * time.Second,
	}, &out, &errOut)
	if err == nil || s.Failures["503"] != 4 {
		t.Fatalf("RunTerminal = %v, summary %+v, want 4 failed: 503", err, s)
	}
	o := out.String()
	for _, want := range []string{"load sip:load@", "placed 4", "failed 4", "failures 503×4", "summary sip:load@" + target + ": attempted 4 answered 0 failed 4 [503×4]"} {
		if !strings.Contains(o, want) {
			t.Errorf("output lacks %q:\n%s", want, o)
		}
	}
	if strings.Contains(o, `"event"`) {
		t.Errorf("JSON on the terminal:\n%s", o)
	}
	if errOut.String() != "4 of 4 calls failed\n" {
		t.Errorf("errOut %q", errOut.String())
	}
}
