// Package interop proves that teaphone talks to real SIP software: baresip
// as the peer phone and Kamailio as registrar/proxy with digest auth, all on
// 127.0.0.1 (package peertest starts and configures them).
//
// This file holds the helpers shared by every test of the package:
//
//   - startPhone: a teaphone phone.Phone on 127.0.0.1 with its own RTP range,
//     a debug log file (tail logged on failure), a recorded event stream
//     (*testPhone: mark, waitEvent, waitCall, waitFinal, waitReg, callStates,
//     digits) and a check that no ErrorEvent was emitted;
//   - callHandler: a phone.Handler that hands incoming calls to the test;
//   - sineAudio: an AudioProvider sending a sine and capturing what arrives;
//   - startProxy / daveAccount: Kamailio with users alice, bob, dave;
//   - teaphoneBinary / newTeaphoneCmd / newTeaphoneCmdConfig: the teaphone
//     command, built once, run as a subprocess for the headless tests;
//   - waitUntil, tail: polling and log helpers.
package interop

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/teaphone/teaphone/audio"
	"github.com/teaphone/teaphone/audio/tone"
	"github.com/teaphone/teaphone/internal/peertest"
	"github.com/teaphone/teaphone/phone"
)

// Timeouts of the interop tests: generous, since they run next to other
// builds on small machines; every wait polls.
const (
	waitShort = 10 * time.Second // a SIP state change
	waitLong  = 15 * time.Second // a state change that needs a proxy round or two
)

// binDir holds the teaphone binary built once per test process.
var binDir string

func TestMain(m *testing.M) {
	// sipgo keeps its logger in a global; the phones log through their own.
	phone.SetLibraryLogger(slog.New(slog.DiscardHandler))
	dir, err := os.MkdirTemp("", "teaphone-interop-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// ---- teaphone phones ----

// testPhone is a started teaphone Phone whose events are all recorded.
type testPhone struct {
	*phone.Phone
	t       testing.TB
	logPath string

	mu     sync.Mutex
	cond   *sync.Cond
	events []phone.Event
	ended  bool // the event stream was closed (after Close)
	done   chan struct{}
}

// startPhone starts a phone on 127.0.0.1:0 (unless opts.Listen is set) with
// an RTP range of its own and a debug log in a temporary directory. Without
// a handler it answers every call (a phone without one lets calls ring). It
// is closed in t.Cleanup; on failure the tail of its log is logged.
func startPhone(t testing.TB, opts phone.Options) *testPhone {
	t.Helper()
	if opts.Listen == "" {
		opts.Listen = "127.0.0.1:0"
	}
	if opts.Handler == nil {
		opts.Handler = phone.HandlerFunc(func(phone.IncomingCall) phone.Decision { return phone.Accept() })
	}
	if opts.RTPPortMin == 0 {
		lo, err := peertest.FreePorts(40, 2)
		if err != nil {
			t.Fatal(err)
		}
		opts.RTPPortMin, opts.RTPPortMax = lo, lo+39
	}
	logPath := filepath.Join(t.TempDir(), "teaphone.log")
	lf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(lf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	p, err := phone.New(opts)
	if err != nil {
		lf.Close()
		t.Fatal(err)
	}
	tp := &testPhone{Phone: p, t: t, logPath: logPath, done: make(chan struct{})}
	tp.cond = sync.NewCond(&tp.mu)
	if err := p.Start(context.Background()); err != nil {
		lf.Close()
		t.Fatal(err)
	}
	go func() {
		defer close(tp.done)
		for ev := range p.Events() {
			tp.mu.Lock()
			tp.events = append(tp.events, ev)
			tp.cond.Broadcast()
			tp.mu.Unlock()
		}
		tp.mu.Lock()
		tp.ended = true
		tp.cond.Broadcast()
		tp.mu.Unlock()
	}()
	t.Cleanup(func() {
		tp.close()
		// No interop flow of these tests should produce an error event.
		for _, ev := range tp.eventsSince(0) {
			if e, ok := ev.(phone.ErrorEvent); ok {
				t.Errorf("teaphone error event: session %q: %v", e.Session, e.Err)
			}
		}
		if t.Failed() {
			t.Logf("teaphone events:%s", tp.dump())
			t.Logf("teaphone log tail:\n%s", tail(logPath, 60))
		}
		lf.Close()
	})
	return tp
}

// close closes the phone and waits until its event stream has been drained.
func (tp *testPhone) close() {
	_ = tp.Close()
	<-tp.done
}

// uri returns the phone's direct address sip:user@127.0.0.1:PORT.
func (tp *testPhone) uri(user string) string {
	return fmt.Sprintf("sip:%s@%s", user, tp.LocalAddr())
}

// mark returns the number of events so far, a "since" for the waits.
func (tp *testPhone) mark() int {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return len(tp.events)
}

// eventsSince returns a copy of the events from index since on.
func (tp *testPhone) eventsSince(since int) []phone.Event {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	if since > len(tp.events) {
		return nil
	}
	return append([]phone.Event(nil), tp.events[since:]...)
}

// waitEvent waits up to d for the first event from index since on that
// matches, and returns it with its index.
func (tp *testPhone) waitEvent(since int, d time.Duration, match func(phone.Event) bool) (phone.Event, int, bool) {
	deadline := time.Now().Add(d)
	timer := time.AfterFunc(d, func() {
		tp.mu.Lock()
		tp.cond.Broadcast()
		tp.mu.Unlock()
	})
	defer timer.Stop()
	tp.mu.Lock()
	defer tp.mu.Unlock()
	for i := since; ; {
		for ; i < len(tp.events); i++ {
			if match(tp.events[i]) {
				return tp.events[i], i, true
			}
		}
		if tp.ended || !time.Now().Before(deadline) {
			return nil, -1, false
		}
		tp.cond.Wait()
	}
}

// waitCall waits for a CallEvent of session id ("" = any) in state st from
// index since on; it fails the test on timeout.
func (tp *testPhone) waitCall(since int, id phone.SessionID, st phone.State, d time.Duration) phone.CallEvent {
	tp.t.Helper()
	ev, _, ok := tp.waitEvent(since, d, func(ev phone.Event) bool {
		ce, ok := ev.(phone.CallEvent)
		return ok && (id == "" || ce.Session == id) && ce.State == st
	})
	if !ok {
		tp.t.Fatalf("teaphone: no %s event for session %q within %v; events since %d:%s", st, id, d, since, tp.dumpSince(since))
	}
	return ev.(phone.CallEvent)
}

// waitFinal waits for the final CallEvent of session id and returns it.
func (tp *testPhone) waitFinal(since int, id phone.SessionID, d time.Duration) phone.CallEvent {
	tp.t.Helper()
	ev, _, ok := tp.waitEvent(since, d, func(ev phone.Event) bool {
		ce, ok := ev.(phone.CallEvent)
		return ok && ce.Session == id && ce.State.Final()
	})
	if !ok {
		tp.t.Fatalf("teaphone: session %q did not end within %v; events since %d:%s", id, d, since, tp.dumpSince(since))
	}
	return ev.(phone.CallEvent)
}

// waitReg waits for a RegistrationEvent in state st from index since on and
// returns it with its index; it fails the test on timeout.
func (tp *testPhone) waitReg(since int, st phone.RegState, d time.Duration) (phone.RegistrationEvent, int) {
	tp.t.Helper()
	ev, i, ok := tp.waitEvent(since, d, func(ev phone.Event) bool {
		re, ok := ev.(phone.RegistrationEvent)
		return ok && re.State == st
	})
	if !ok {
		tp.t.Fatalf("teaphone: no registration %s event within %v; events since %d:%s", st, d, since, tp.dumpSince(since))
	}
	return ev.(phone.RegistrationEvent), i
}

// callStates returns the successive distinct states of session id.
func (tp *testPhone) callStates(id phone.SessionID) []phone.State {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	var out []phone.State
	for _, ev := range tp.events {
		if ce, ok := ev.(phone.CallEvent); ok && ce.Session == id {
			if len(out) == 0 || out[len(out)-1] != ce.State {
				out = append(out, ce.State)
			}
		}
	}
	return out
}

// digits returns the DTMF events of session id in the given direction.
func (tp *testPhone) digits(id phone.SessionID, received bool) []phone.DTMFEvent {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	var out []phone.DTMFEvent
	for _, ev := range tp.events {
		if d, ok := ev.(phone.DTMFEvent); ok && d.Session == id && d.Received == received {
			out = append(out, d)
		}
	}
	return out
}

func (tp *testPhone) dump() string { return tp.dumpSince(0) }

func (tp *testPhone) dumpSince(since int) string {
	var b strings.Builder
	for _, ev := range tp.eventsSince(since) {
		fmt.Fprintf(&b, "\n  %T %+v", ev, ev)
	}
	return b.String()
}

// containsState reports whether states holds st.
func containsState(states []phone.State, st phone.State) bool {
	for _, s := range states {
		if s == st {
			return true
		}
	}
	return false
}

// ---- incoming calls ----

// callHandler hands every incoming call to the test (calls) and answers it
// with the current decision (Accept unless set otherwise).
type callHandler struct {
	calls chan phone.IncomingCall
	mu    sync.Mutex
	dec   phone.Decision
}

func newCallHandler(dec phone.Decision) *callHandler {
	return &callHandler{calls: make(chan phone.IncomingCall, 8), dec: dec}
}

// OnIncomingCall implements phone.Handler.
func (h *callHandler) OnIncomingCall(c phone.IncomingCall) phone.Decision {
	select {
	case h.calls <- c:
	default:
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.dec
}

// next waits for the next incoming call.
func (h *callHandler) next(t testing.TB, d time.Duration) phone.IncomingCall {
	t.Helper()
	select {
	case c := <-h.calls:
		return c
	case <-time.After(d):
		t.Fatalf("teaphone: no incoming call within %v", d)
	}
	return phone.IncomingCall{}
}

// ---- audio ----

// sineAudio gives every call a sine source (hz, 0.3 of full scale) and keeps
// the frames received (the far end's audio) of all calls.
type sineAudio struct {
	hz  float64
	mu  sync.Mutex
	got []int16
}

// CallAudio implements phone.AudioProvider.
func (a *sineAudio) CallAudio(phone.SessionID, int) (audio.Source, audio.Sink, func()) {
	sink := audio.SinkFunc(func(f []int16) error {
		a.mu.Lock()
		a.got = append(a.got, f...)
		a.mu.Unlock()
		return nil
	})
	return tone.NewSine(a.hz, 0.3), sink, func() {}
}

// received returns a copy of the samples received so far (8 kHz mono).
func (a *sineAudio) received() []int16 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]int16(nil), a.got...)
}

// ---- Kamailio ----

// proxyUsers are the Kamailio users of every proxy test.
var proxyUsers = map[string]string{"alice": "alicepw", "bob": "bobpw", "dave": "davepw"}

// startProxy starts Kamailio with users alice, bob and dave, qop=auth and
// Record-Route.
func startProxy(t *testing.T) *peertest.Kamailio {
	t.Helper()
	peertest.NeedKamailio(t)
	return peertest.StartKamailio(t, peertest.KamailioConfig{Users: proxyUsers, RecordRoute: true, QOP: true})
}

// daveAccount is teaphone's account "dave" at Kamailio k, registering with
// password pw.
func daveAccount(k *peertest.Kamailio, pw string) phone.Account {
	return phone.Account{Name: "dave", AOR: k.URI("dave"), Registrar: k.Addr(), Password: pw, Register: true}
}

// ---- the teaphone binary ----

var (
	buildOnce sync.Once
	buildErr  error
)

// teaphoneBinary builds the teaphone command once per test process and
// returns its path.
func teaphoneBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(binDir, "teaphone")
	buildOnce.Do(func() {
		cmd := exec.Command("go", "build", "-o", bin, "github.com/teaphone/teaphone")
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return bin
}

// teaphoneCmd is the teaphone binary prepared by newTeaphoneCmd with args
// in a fresh directory: an empty config file (so nothing of the user's
// configuration applies), no TEAPHONE_* environment, a verbose log file,
// stdout and stderr captured.
type teaphoneCmd struct {
	*exec.Cmd
	dir            string
	stdout, stderr *syncBuffer
	waitDone       chan struct{}
	waitErr        error
}

func newTeaphoneCmd(t *testing.T, args ...string) *teaphoneCmd {
	t.Helper()
	return newTeaphoneCmdConfig(t, "# interop test: defaults only\n", args...)
}

// newTeaphoneCmdConfig is newTeaphoneCmd with the given config file text.
func newTeaphoneCmdConfig(t *testing.T, config string, args ...string) *teaphoneCmd {
	t.Helper()
	bin := teaphoneBinary(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	full := append([]string{args[0], "--config", cfg, "--log-file", filepath.Join(dir, "teaphone.log"), "--verbose"}, args[1:]...)
	cmd := exec.Command(bin, full...)
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TEAPHONE_") && !strings.HasPrefix(kv, "XDG_DATA_HOME=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	// The call history of these calls stays in the test's directory.
	cmd.Env = append(cmd.Env, "XDG_DATA_HOME="+filepath.Join(dir, "data"))
	tc := &teaphoneCmd{Cmd: cmd, dir: dir, stdout: &syncBuffer{}, stderr: &syncBuffer{}, waitDone: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = tc.stdout, tc.stderr
	return tc
}

// start starts the command; it is stopped (SIGTERM, then SIGKILL) and waited
// for in t.Cleanup, where its output and log tail are logged on failure.
func (tc *teaphoneCmd) start(t *testing.T) {
	t.Helper()
	if err := tc.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		tc.waitErr = tc.Wait()
		close(tc.waitDone)
	}()
	t.Cleanup(func() {
		select {
		case <-tc.waitDone:
		default:
			_ = tc.Process.Signal(os.Interrupt)
			select {
			case <-tc.waitDone:
			case <-time.After(5 * time.Second):
				_ = tc.Process.Kill()
				<-tc.waitDone
			}
		}
		if t.Failed() {
			t.Logf("teaphone %v stdout:\n%s\nstderr:\n%s\nlog tail:\n%s", tc.Args[1:], tc.stdout.String(),
				tc.stderr.String(), tail(filepath.Join(tc.dir, "teaphone.log"), 60))
		}
	})
}

// wait waits up to d for the process to exit and returns its exit code.
func (tc *teaphoneCmd) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-tc.waitDone:
	case <-time.After(d):
		t.Fatalf("teaphone %v still running after %v", tc.Args[1:], d)
	}
	if tc.waitErr != nil {
		if ee, ok := tc.waitErr.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		t.Fatalf("teaphone: %v", tc.waitErr)
	}
	return 0
}

// jsonEvents parses the JSON lines on stdout; a line that is not a JSON
// object fails the test (the headless contract).
func (tc *teaphoneCmd) jsonEvents(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(tc.stdout.String()))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Errorf("stdout line is not JSON: %q: %v", line, err)
			continue
		}
		out = append(out, m)
	}
	return out
}

// syncBuffer is a bytes.Buffer safe for a writing process and a reading test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// ---- misc ----

// tail returns the last n lines of the file at path.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// waitUntil polls cond every 50 ms until it is true or d has passed.
func waitUntil(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}
