package interop

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/teaphone/teaphone/audio"
	"github.com/teaphone/teaphone/audio/analyze"
	"github.com/teaphone/teaphone/audio/tone"
	"github.com/teaphone/teaphone/audio/wav"
	"github.com/teaphone/teaphone/internal/peertest"
	"github.com/teaphone/teaphone/phone"
)

// Helpers of the call-control interop tests (control_test.go). Every name
// starts with ctl so that they cannot clash with the other interop files.

// ctlWait bounds every wait for a SIP/peer reaction. Generous for a loaded
// 2-core machine; all waits poll or wake up on the event.
const ctlWait = 15 * time.Second

var ctlLibLogger sync.Once

// ctlLogBuf collects a phone's slog output; it is logged when the test fails.
type ctlLogBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *ctlLogBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *ctlLogBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// ctlPhone is a teaphone Phone on 127.0.0.1 whose event stream is recorded.
type ctlPhone struct {
	*phone.Phone
	t    *testing.T
	name string
	logs *ctlLogBuf

	mu      sync.Mutex
	events  []phone.Event
	changed chan struct{} // closed and replaced when events grow or the stream ends
	ended   bool
	done    chan struct{}

	closeOnce sync.Once
}

// ctlStartPhone starts a Phone listening on a free 127.0.0.1 port with its
// own RTP range. It is closed in t.Cleanup (or earlier by close).
func ctlStartPhone(t *testing.T, name string, opts phone.Options) *ctlPhone {
	t.Helper()
	ctlLibLogger.Do(func() { phone.SetLibraryLogger(slog.New(slog.DiscardHandler)) })
	port, err := peertest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	rtp, err := peertest.FreePorts(40, 2)
	if err != nil {
		t.Fatal(err)
	}
	opts.Listen = "127.0.0.1:" + strconv.Itoa(port)
	opts.RTPPortMin, opts.RTPPortMax = rtp, rtp+39
	if opts.UserAgent == "" {
		opts.UserAgent = "teaphone-interop"
	}
	if opts.Handler == nil {
		// A phone without a handler lets calls ring: these tests answer them.
		opts.Handler = phone.HandlerFunc(func(phone.IncomingCall) phone.Decision { return phone.Accept() })
	}
	logs := &ctlLogBuf{}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	p, err := phone.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	tp := &ctlPhone{Phone: p, t: t, name: name, logs: logs, changed: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(tp.done)
		for ev := range p.Events() {
			tp.mu.Lock()
			tp.events = append(tp.events, ev)
			close(tp.changed)
			tp.changed = make(chan struct{})
			tp.mu.Unlock()
		}
		tp.mu.Lock()
		tp.ended = true
		close(tp.changed)
		tp.changed = make(chan struct{})
		tp.mu.Unlock()
	}()
	t.Cleanup(func() {
		tp.close()
		if t.Failed() {
			t.Logf("teaphone %s events:%s\nteaphone %s log:\n%s", name, tp.dump(), name, ctlTail(tp.logs.String(), 16000))
		}
	})
	return tp
}

// close closes the phone and waits until its event stream is drained.
func (tp *ctlPhone) close() {
	tp.closeOnce.Do(func() {
		_ = tp.Close()
		select {
		case <-tp.done:
		case <-time.After(ctlWait):
			tp.t.Errorf("teaphone %s: event stream not closed %v after Close", tp.name, ctlWait)
		}
	})
}

// uri is the address at which peers reach this phone, with user.
func (tp *ctlPhone) uri(user string) string {
	return "sip:" + user + "@" + tp.LocalAddr()
}

func (tp *ctlPhone) mark() int {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return len(tp.events)
}

func (tp *ctlPhone) snapshot() []phone.Event {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return append([]phone.Event(nil), tp.events...)
}

// waitFrom waits up to d for the first event at index since or later that
// match accepts.
func (tp *ctlPhone) waitFrom(since int, d time.Duration, match func(phone.Event) bool) (phone.Event, bool) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		tp.mu.Lock()
		for i := max(since, 0); i < len(tp.events); i++ {
			if match(tp.events[i]) {
				ev := tp.events[i]
				tp.mu.Unlock()
				return ev, true
			}
		}
		changed, ended := tp.changed, tp.ended
		tp.mu.Unlock()
		if ended {
			return nil, false
		}
		select {
		case <-changed:
		case <-timer.C:
			return nil, false
		}
	}
}

// waitCall waits for a CallEvent of session id (any session if "") in state
// st from index since on.
func (tp *ctlPhone) waitCall(since int, id phone.SessionID, st phone.State) phone.CallEvent {
	tp.t.Helper()
	ev, ok := tp.waitFrom(since, ctlWait, func(ev phone.Event) bool {
		ce, ok := ev.(phone.CallEvent)
		return ok && (id == "" || ce.Session == id) && ce.State == st
	})
	if !ok {
		tp.t.Fatalf("teaphone %s: no %s event for session %q within %v; events:%s", tp.name, st, id, ctlWait, tp.dump())
	}
	return ev.(phone.CallEvent)
}

// waitIncomingActive waits for an incoming call to become active and returns it.
func (tp *ctlPhone) waitIncomingActive(since int) phone.CallEvent {
	tp.t.Helper()
	ev, ok := tp.waitFrom(since, ctlWait, func(ev phone.Event) bool {
		ce, ok := ev.(phone.CallEvent)
		return ok && ce.Direction == phone.DirectionIncoming && ce.State == phone.StateActive
	})
	if !ok {
		tp.t.Fatalf("teaphone %s: no incoming call became active within %v; events:%s", tp.name, ctlWait, tp.dump())
	}
	return ev.(phone.CallEvent)
}

// waitFlags waits for an active CallEvent of id with these hold flags.
func (tp *ctlPhone) waitFlags(since int, id phone.SessionID, heldLocal, heldRemote bool) phone.CallEvent {
	tp.t.Helper()
	ev, ok := tp.waitFrom(since, ctlWait, func(ev phone.Event) bool {
		ce, ok := ev.(phone.CallEvent)
		return ok && ce.Session == id && ce.State == phone.StateActive && ce.HeldLocal == heldLocal && ce.HeldRemote == heldRemote
	})
	if !ok {
		tp.t.Fatalf("teaphone %s: session %s never active with held_local=%v held_remote=%v; events:%s", tp.name, id, heldLocal, heldRemote, tp.dump())
	}
	return ev.(phone.CallEvent)
}

// waitTransfer waits for a TransferEvent of session id that match accepts.
func (tp *ctlPhone) waitTransfer(since int, id phone.SessionID, what string, match func(phone.TransferEvent) bool) phone.TransferEvent {
	tp.t.Helper()
	ev, ok := tp.waitFrom(since, ctlWait, func(ev phone.Event) bool {
		te, ok := ev.(phone.TransferEvent)
		return ok && te.Session == id && match(te)
	})
	if !ok {
		tp.t.Fatalf("teaphone %s: no transfer event (%s) for %s within %v; events:%s", tp.name, what, id, ctlWait, tp.dump())
	}
	return ev.(phone.TransferEvent)
}

// sentDTMF returns the digits this phone reports as sent on id, with their methods.
func (tp *ctlPhone) sentDTMF(id phone.SessionID) (digits string, methods []string) {
	for _, ev := range tp.snapshot() {
		if d, ok := ev.(phone.DTMFEvent); ok && d.Session == id && !d.Received {
			digits += string(d.Digit)
			methods = append(methods, d.Method)
		}
	}
	return digits, methods
}

func (tp *ctlPhone) dump() string {
	var b strings.Builder
	for _, ev := range tp.snapshot() {
		fmt.Fprintf(&b, "\n  %T %+v", ev, ev)
	}
	return b.String()
}

// ctlFinish closes the flow: no session may be left in the phone, every
// session seen must have ended with a final state, and after Close the
// goroutine count must come back to baseline (taken before the phone was
// started, after the peers were).
func ctlFinish(t *testing.T, tp *ctlPhone, baseline int) {
	t.Helper()
	ctlFinishAll(t, baseline, tp)
}

// ctlFinishAll is ctlFinish for several phones of one test: each is checked
// and closed, then the goroutine count is compared with the baseline taken
// before the first of them was started.
func ctlFinishAll(t *testing.T, baseline int, phones ...*ctlPhone) {
	t.Helper()
	for _, tp := range phones {
		ctlCheckSessions(t, tp)
		tp.close()
	}
	ctlCheckGoroutines(t, baseline)
}

// ctlCheckSessions checks that every session tp reported ended in a final
// state and is no longer known to the phone.
func ctlCheckSessions(t *testing.T, tp *ctlPhone) {
	t.Helper()
	sessions := map[phone.SessionID]phone.State{}
	var order []phone.SessionID
	for _, ev := range tp.snapshot() {
		if ce, ok := ev.(phone.CallEvent); ok {
			if _, seen := sessions[ce.Session]; !seen {
				order = append(order, ce.Session)
			}
			sessions[ce.Session] = ce.State
		}
	}
	if len(order) == 0 {
		t.Errorf("teaphone %s: no call events at all", tp.name)
	}
	for _, id := range order {
		if st := sessions[id]; !st.Final() {
			t.Errorf("teaphone %s: session %s last state %s, not final", tp.name, id, st)
		}
		// The phone drops a session right after its final event.
		deadline := time.Now().Add(ctlWait)
		for {
			_, err := tp.Stats(id)
			if errors.Is(err, phone.ErrNoSuchSession) {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("teaphone %s: session %s still known to the phone (Stats err %v)", tp.name, id, err)
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// ctlGoroutineSlack tolerates goroutines that are not the phone's: a
// peertest command timer, the runtime's own.
const ctlGoroutineSlack = 2

func ctlCheckGoroutines(t *testing.T, baseline int) {
	t.Helper()
	deadline := time.Now().Add(ctlWait)
	for runtime.NumGoroutine() > baseline+ctlGoroutineSlack {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Errorf("goroutine leak: %d goroutines after Close, %d before the phone started:\n%s",
				runtime.NumGoroutine(), baseline, buf[:runtime.Stack(buf, true)])
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ctlToneAudio sends a sine on every call and keeps what each call receives.
type ctlToneAudio struct {
	hz  float64
	mu  sync.Mutex
	got map[phone.SessionID][]int16
}

func ctlNewToneAudio(hz float64) *ctlToneAudio {
	return &ctlToneAudio{hz: hz, got: map[phone.SessionID][]int16{}}
}

func (a *ctlToneAudio) CallAudio(id phone.SessionID, _ int) (audio.Source, audio.Sink, func()) {
	sink := audio.SinkFunc(func(f []int16) error {
		a.mu.Lock()
		a.got[id] = append(a.got[id], f...)
		a.mu.Unlock()
		return nil
	})
	return tone.NewSine(a.hz, 0.3), sink, func() {}
}

// received returns the number of samples id received so far, for marks.
func (a *ctlToneAudio) received(id phone.SessionID) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.got[id])
}

// since returns what id received from sample index from on.
func (a *ctlToneAudio) since(id phone.SessionID, from int) []int16 {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.got[id]
	if from > len(s) {
		return nil
	}
	return append([]int16(nil), s[from:]...)
}

// waitSamples waits until id has received n samples after from.
func (a *ctlToneAudio) waitSamples(id phone.SessionID, from, n int) []int16 {
	deadline := time.Now().Add(ctlWait)
	for a.received(id)-from < n && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	return a.since(id, from)
}

// waitOnset waits for the first 20 ms frame above -40 dBFS that id
// receives at sample index from or later and returns its index.
func (a *ctlToneAudio) waitOnset(id phone.SessionID, from int) (int, bool) {
	const frame = audio.SampleRate / 50
	deadline := time.Now().Add(ctlWait)
	for i := from; ; {
		s := a.since(id, i)
		for ; len(s) >= frame; s, i = s[frame:], i+frame {
			if analyze.DBFS(s[:frame]) > -40 {
				return i, true
			}
		}
		if time.Now().After(deadline) {
			return 0, false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ctlAssertTone checks that 8 kHz samples carry freq at a sane level in at
// least half of the 20 ms frames (the first quarter is skipped: jitter
// buffer fill). Loose on purpose: these tests are about call control, and
// a loaded machine delays RTP in bursts.
func ctlAssertTone(t *testing.T, who string, samples []int16, freq float64) {
	t.Helper()
	if len(samples) < audio.SampleRate/2 {
		t.Errorf("%s: only %d samples (%.2f s) of audio", who, len(samples), float64(len(samples))/audio.SampleRate)
		return
	}
	s := samples[len(samples)/4:]
	share := analyze.ToneShare(s, audio.SampleRate, freq)
	active := analyze.ActiveFrames(s, audio.SampleRate, -40)
	frames := len(s) / (audio.SampleRate / 50)
	if share < 0.5 || active < frames/2 {
		t.Errorf("%s: %g Hz share %.2f, %d/%d frames above -40 dBFS (dominant %.0f Hz, %.1f dBFS)",
			who, freq, share, active, frames,
			analyze.DominantFrequency(s[:min(len(s), 4000)], audio.SampleRate), analyze.DBFS(s))
	}
}

// ctlAssertRecording checks a baresip -dec.wav recording for freq.
func ctlAssertRecording(t *testing.T, who string, b *peertest.Baresip, freq float64) {
	t.Helper()
	path, err := b.LatestRecording("dec")
	if err != nil {
		t.Errorf("%s: %v", who, err)
		return
	}
	samples, rate, ch, err := wav.ReadFile(path)
	if err != nil {
		t.Errorf("%s: %s: %v", who, path, err)
		return
	}
	if rate != audio.SampleRate || ch != 1 {
		t.Errorf("%s: %s is %d Hz, %d channels; want 8000 Hz mono", who, path, rate, ch)
		return
	}
	ctlAssertTone(t, who+" ("+path+")", samples, freq)
}

// ctlWaitAudioDir polls baresip's audio_debug until it shows "dir=want".
func ctlWaitAudioDir(t *testing.T, b *peertest.Baresip, who, want string) {
	t.Helper()
	deadline := time.Now().Add(ctlWait)
	var out string
	var err error
	for {
		out, err = b.AudioDebug()
		if err == nil && strings.Contains(out, "dir="+want+" ") {
			return
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: audio_debug never showed dir=%s within %v (err %v):\n%s", who, want, ctlWait, err, out)
}

// ctlPeerRxTime returns how much audio baresip has received on its current
// call ("rx: … time = 1.880 sec" of audio_debug). It keeps counting after
// a hold/resume, unlike the recording (baresip stops recording received
// audio after any hold or resume, though RTP keeps flowing).
func ctlPeerRxTime(t *testing.T, b *peertest.Baresip) float64 {
	t.Helper()
	out, err := b.AudioDebug()
	if err != nil {
		t.Fatal(err)
	}
	_, rx, ok := strings.Cut(out, " rx: ")
	if ok {
		if _, v, ok := strings.Cut(rx, "time = "); ok {
			if strings.HasPrefix(v, "(not started)") {
				return 0
			}
			f := strings.Fields(v)
			if len(f) > 0 {
				if sec, err := strconv.ParseFloat(f[0], 64); err == nil {
					return sec
				}
			}
		}
	}
	t.Fatalf("no rx time in audio_debug:\n%s", out)
	return 0
}

// ctlWaitPeerReceives waits until baresip's rx time has grown by at least
// d seconds over from: teaphone's RTP reaches it.
func ctlWaitPeerReceives(t *testing.T, b *peertest.Baresip, who string, from, d float64) {
	t.Helper()
	deadline := time.Now().Add(ctlWait)
	for {
		now := ctlPeerRxTime(t, b)
		if now-from >= d {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%s: baresip received %.2f s of audio in %v, want %.2f s", who, now-from, ctlWait, d)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ctlWaitPeer waits for a baresip event or fails the test.
func ctlWaitPeer(t *testing.T, b *peertest.Baresip, who string, since int, typ string) peertest.Event {
	t.Helper()
	ev, err := b.WaitEvent(since, typ, ctlWait)
	if err != nil {
		t.Fatalf("%s: %v", who, err)
	}
	return ev
}

// ctlSIPMsg is one SIP message of baresip's -s trace.
type ctlSIPMsg struct {
	Proto    string // "UDP", "TCP"
	Src, Dst string // "127.0.0.1:PORT"
	Start    string // first line, e.g. "INVITE sip:… SIP/2.0" or "SIP/2.0 200 OK"
	Text     string // the whole message
}

// header returns the value of the first header called name ("" if none).
func (m ctlSIPMsg) header(name string) string {
	for _, line := range strings.Split(m.Text, "\n")[1:] {
		line = strings.TrimRight(line, "\r")
		if line == "" {
			break // end of the headers
		}
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// body returns what follows the blank line.
func (m ctlSIPMsg) body() string {
	if _, b, ok := strings.Cut(m.Text, "\r\n\r\n"); ok {
		return b
	}
	return ""
}

// isRequest reports whether m is a method request (e.g. "INVITE").
func (m ctlSIPMsg) isRequest(method string) bool {
	return strings.HasPrefix(m.Start, method+" ")
}

// isResponse reports whether m is a response with code to a request of method.
func (m ctlSIPMsg) isResponse(code int, method string) bool {
	return strings.HasPrefix(m.Start, "SIP/2.0 "+strconv.Itoa(code)+" ") &&
		strings.HasSuffix(m.header("CSeq"), " "+method)
}

// ctlTrace parses the SIP messages of baresip's -s trace that start at byte
// offset since or later. Each is printed as ESC[36;1m "#", a line
// "UDP SRC -> DST", the message, then ESC[;m.
func ctlTrace(log string, since int) []ctlSIPMsg {
	if since > len(log) {
		return nil
	}
	const open, closing = "\x1b[36;1m#\n", "\x1b[;m"
	var out []ctlSIPMsg
	chunks := strings.Split(log[since:], open)
	for _, c := range chunks[1:] {
		c, _, _ = strings.Cut(c, closing)
		first, msg, ok := strings.Cut(c, "\n")
		if !ok {
			continue
		}
		var m ctlSIPMsg
		f := strings.Fields(first)
		if len(f) == 4 && f[2] == "->" {
			m.Proto, m.Src, m.Dst = f[0], f[1], f[3]
		}
		m.Text = msg
		m.Start = strings.TrimRight(strings.SplitN(msg, "\n", 2)[0], "\r")
		out = append(out, m)
	}
	return out
}

// ctlFindSIP returns the messages of the trace from since on that match.
func ctlFindSIP(log string, since int, match func(ctlSIPMsg) bool) []ctlSIPMsg {
	var out []ctlSIPMsg
	for _, m := range ctlTrace(log, since) {
		if match(m) {
			out = append(out, m)
		}
	}
	return out
}

// ctlCheckTransport checks that every SIP message in baresip's trace went
// over proto ("UDP" or "TCP").
func ctlCheckTransport(t *testing.T, b *peertest.Baresip, proto string) {
	t.Helper()
	msgs := ctlTrace(b.Log(), 0)
	if len(msgs) == 0 {
		t.Errorf("no SIP messages in baresip's trace")
	}
	for _, m := range msgs {
		if m.Proto != proto {
			t.Errorf("%s over %q, want %s", m.Start, m.Proto, proto)
		}
	}
}

// ctlLinphoneMsgLine is the line belle-sip writes before each whole SIP
// message in linphonec's debug log: "message sent to [UDP://ADDR], size:
// [N] bytes" or "received [N] new bytes from [UDP://ADDR]:". Over UDP the N
// bytes that follow are exactly one message.
var ctlLinphoneMsgLine = regexp.MustCompile(`belle-sip-message-channel \[[^\]]*\]: (?:message sent to \[(\w+)://([^\]]+)\], size: \[(\d+)\] bytes|received \[(\d+)\] new bytes from \[(\w+)://([^\]]+)\]:)\n`)

// ctlLinphoneTrace parses the SIP messages of linphonec's debug log (see
// peertest.Linphonec.DebugLog) from byte offset since on. self is
// linphonec's own address, "127.0.0.1:PORT". Only UDP is parsed: over TCP
// belle-sip logs stream chunks, not messages.
func ctlLinphoneTrace(log, self string, since int) []ctlSIPMsg {
	if since > len(log) {
		return nil
	}
	log = log[since:]
	var out []ctlSIPMsg
	for _, loc := range ctlLinphoneMsgLine.FindAllStringSubmatchIndex(log, -1) {
		sub := func(i int) string {
			if loc[2*i] < 0 {
				return ""
			}
			return log[loc[2*i]:loc[2*i+1]]
		}
		var m ctlSIPMsg
		size := sub(3)
		if size != "" {
			m.Proto, m.Src, m.Dst = sub(1), self, sub(2)
		} else {
			size = sub(4)
			m.Proto, m.Src, m.Dst = sub(5), sub(6), self
		}
		n, err := strconv.Atoi(size)
		if err != nil || m.Proto != "UDP" || loc[1]+n > len(log) {
			continue // not one whole message (yet)
		}
		m.Text = log[loc[1] : loc[1]+n]
		m.Start = strings.TrimRight(strings.SplitN(m.Text, "\n", 2)[0], "\r")
		out = append(out, m)
	}
	return out
}

// ctlWaitLinphoneSIP waits until linphonec's debug log from since on holds a
// message that match accepts, and returns it.
func ctlWaitLinphoneSIP(t *testing.T, l *peertest.Linphonec, since int, what string, match func(ctlSIPMsg) bool) ctlSIPMsg {
	t.Helper()
	self := "127.0.0.1:" + strconv.Itoa(l.SIPPort)
	deadline := time.Now().Add(ctlWait)
	for {
		log := l.DebugLog()
		for _, m := range ctlLinphoneTrace(log, self, since) {
			if match(m) {
				return m
			}
		}
		if time.Now().After(deadline) {
			var starts []string
			for _, m := range ctlLinphoneTrace(log, self, since) {
				starts = append(starts, m.Src+" -> "+m.Dst+": "+m.Start)
			}
			t.Fatalf("%s: not in linphonec's SIP trace within %v; messages:\n%s", what, ctlWait, strings.Join(starts, "\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ctlWriteToneWAV writes secs seconds of a freq sine as a 16-bit 8 kHz mono
// WAV, for a peer that plays a file (linphonec loops it).
func ctlWriteToneWAV(t *testing.T, path string, freq float64, secs int) {
	t.Helper()
	w, err := wav.Create(path, audio.SampleRate, 1)
	if err != nil {
		t.Fatal(err)
	}
	src := tone.NewSine(freq, 0.3)
	frame := make([]int16, audio.SampleRate/50)
	for i := 0; i < secs*50; i++ {
		if err := src.ReadFrame(frame); err != nil {
			w.Close()
			t.Fatal(err)
		}
		if err := w.WriteFrames(frame); err != nil {
			w.Close()
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// ctlLinphoneRecording waits until linphonec's recording at path holds at
// least one second of 8 kHz mono audio and returns its samples. linphonec
// 5.1 finalises the file when the call ends, and its data chunk size counts
// the 44-byte header too, so the reader finds the file "truncated" by 44
// bytes: that error is expected, the samples before it are whole.
func ctlLinphoneRecording(t *testing.T, path string) []int16 {
	t.Helper()
	deadline := time.Now().Add(ctlWait)
	for {
		samples, rate, ch, err := wav.ReadFile(path)
		if errors.Is(err, wav.ErrTruncated) {
			err = nil
		}
		if err == nil && (rate != audio.SampleRate || ch != 1) {
			t.Fatalf("%s is %d Hz, %d channels; want 8000 Hz mono", path, rate, ch)
		}
		if err == nil && len(samples) >= audio.SampleRate {
			return samples
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d samples within %v (err %v), want at least 1 s", path, len(samples), ctlWait, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func ctlTail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
