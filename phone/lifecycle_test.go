package phone

import (
	"context"
	"net"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestCloseAfterFailedStart: a Start that fails (its port is taken) rolls
// back what it opened, and Close after it returns without a panic; the
// phone cannot be started again.
func TestCloseAfterFailedStart(t *testing.T) {
	taken, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	before := runtime.NumGoroutine()
	p, err := New(Options{Listen: taken.LocalAddr().String()})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(context.Background()); err == nil {
		t.Fatal("Start on a taken port succeeded")
	}
	done := make(chan error, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				t.Errorf("Close after a failed Start panicked: %v", r)
			}
			close(done)
		}()
		done <- p.Close()
	}()
	select {
	case <-done:
	case <-time.After(wait):
		t.Fatal("Close after a failed Start hangs")
	}
	select {
	case _, ok := <-p.Events():
		if ok {
			t.Error("an event after a failed Start")
		}
	case <-time.After(wait):
		t.Fatal("event stream still open after Close")
	}
	if err := p.Start(context.Background()); err == nil {
		t.Error("a closed phone started again")
	}
	if _, err := p.Dial(context.Background(), "sip:x@127.0.0.1:9", DialOptions{}); err == nil {
		t.Error("a closed phone dialled")
	}
	waitGoroutines(t, before)
}

// TestFailedStartReleasesThePort: after a Start that failed on its TCP port,
// the UDP port it had bound is free again.
func TestFailedStartReleasesThePort(t *testing.T) {
	// A port free for UDP (other tests' sockets come and go on lo) whose
	// TCP side we hold.
	var tcp net.Listener
	var port int
	for range 50 {
		udp, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port = udp.LocalAddr().(*net.UDPAddr).Port
		tcp, err = net.Listen("tcp4", "127.0.0.1:"+strconv.Itoa(port))
		udp.Close()
		if err == nil {
			break
		}
	}
	if tcp == nil {
		t.Fatal("no port free for both UDP and TCP")
	}
	defer tcp.Close()
	p, err := New(Options{Listen: "127.0.0.1:" + strconv.Itoa(port)})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(context.Background()); err == nil {
		t.Fatal("Start with its TCP port taken succeeded")
	}
	p.Close()
	udp, err := net.ListenPacket("udp4", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatalf("UDP port still held after the failed Start: %v", err)
	}
	udp.Close()
}

// waitGoroutines waits until no more goroutines run than before (the
// runtime and the test framework keep a few of their own).
func waitGoroutines(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines left, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}

// TestZeroDecisionDoesNotAnswer: a handler that returns a zero Decision
// (it forgot to decide) leaves the call ringing, and the ring timeout
// refuses it: nothing answers a call by accident. A phone without a
// handler does the same.
func TestZeroDecisionDoesNotAnswer(t *testing.T) {
	for _, name := range []string{"zero decision", "no handler"} {
		t.Run(name, func(t *testing.T) {
			opts := Options{DeferTimeout: 300 * time.Millisecond}
			if name == "zero decision" {
				opts.Handler = HandlerFunc(func(IncomingCall) Decision { return Decision{} })
			}
			b := newTestPhone(t, opts)
			a := newTestPhone(t, Options{})
			id, err := a.Dial(context.Background(), b.uri("bob"), DialOptions{})
			if err != nil {
				t.Fatal(err)
			}
			a.waitCall(id, StateRinging, wait)
			ev := a.waitCall(id, StateFailed, wait)
			if ev.Code != 480 {
				t.Errorf("ended %d %q, want 480", ev.Code, ev.Reason)
			}
			for _, st := range a.states(id) {
				if st == StateActive {
					t.Fatalf("the call was answered: %v", a.states(id))
				}
			}
		})
	}
}

// TestDialRacingClose: every Dial that returns a session while Close runs
// is ended by Close and reported: its final event is on the stream before
// the stream closes.
func TestDialRacingClose(t *testing.T) {
	// A peer that never answers: each INVITE waits for Close.
	hole, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hole.Close()
	go func() {
		buf := make([]byte, 4096)
		for {
			if _, _, err := hole.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	target := "sip:x@" + hole.LocalAddr().String()
	for i := 0; i < 40; i++ {
		lo, hi := rtpRange()
		p, err := New(Options{Listen: "127.0.0.1:0", RTPPortMin: lo, RTPPortMax: hi})
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		final := map[SessionID]bool{}
		collected := make(chan struct{})
		go func() {
			defer close(collected)
			for ev := range p.Events() {
				if ce, ok := ev.(CallEvent); ok && ce.State.Final() {
					final[ce.Session] = true
				}
			}
		}()
		var ids []SessionID
		var mu sync.Mutex
		var wg sync.WaitGroup
		start := make(chan struct{})
		for j := 0; j < 6; j++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				if id, err := p.Dial(context.Background(), target, DialOptions{}); err == nil {
					mu.Lock()
					ids = append(ids, id)
					mu.Unlock()
				}
			}()
		}
		close(start)
		// Close lands at a different point of the dials in each round.
		time.Sleep(time.Duration(i%10) * 30 * time.Microsecond)
		p.Close()
		wg.Wait()
		<-collected
		for _, id := range ids {
			if !final[id] {
				t.Fatalf("round %d: session %s was dialled and never ended", i, id)
			}
		}
	}
}

// TestDialWithSessionID: the caller's session ID names the session from its
// first event; an ID in use is refused.
func TestDialWithSessionID(t *testing.T) {
	a, b, h := pair(t, Accept())
	id, err := a.Dial(context.Background(), b.uri("bob"), DialOptions{Session: "mine-1"})
	if err != nil {
		t.Fatal(err)
	}
	if id != "mine-1" {
		t.Fatalf("session %q, want mine-1", id)
	}
	h.next(t, a)
	a.waitCall("mine-1", StateActive, wait)
	if _, err := a.Dial(context.Background(), b.uri("bob"), DialOptions{Session: "mine-1"}); err == nil {
		t.Error("a second session with the same ID was made")
	}
	a.mu.Lock()
	first := a.events[0].(CallEvent)
	a.mu.Unlock()
	if first.Session != "mine-1" || first.State != StateInitiating {
		t.Errorf("first event %+v", first)
	}
}

// TestHandlerBeforeRinging: the handler is asked before the call's ringing
// event, so its owner knows the session when the first event names it.
func TestHandlerBeforeRinging(t *testing.T) {
	var bp atomic.Pointer[testPhone]
	var seenBefore atomic.Int32
	h := HandlerFunc(func(in IncomingCall) Decision {
		b := bp.Load()
		b.mu.Lock()
		for _, ev := range b.events {
			if ce, ok := ev.(CallEvent); ok && ce.Session == in.Session {
				seenBefore.Add(1)
			}
		}
		b.mu.Unlock()
		return Accept()
	})
	b := newTestPhone(t, Options{Handler: h})
	bp.Store(b)
	a := newTestPhone(t, Options{})
	id, err := a.Dial(context.Background(), b.uri("bob"), DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a.waitCall(id, StateActive, wait)
	ev := b.waitCall("", StateActive, wait)
	if seenBefore.Load() != 0 {
		t.Errorf("%d events of the session before the handler was asked", seenBefore.Load())
	}
	if st := b.states(ev.Session); len(st) < 2 || st[0] != StateRinging {
		t.Errorf("callee states %v, want ringing first", st)
	}
}

// TestHangupWhileHandlerDecides: a hang-up that comes while the handler is
// still deciding refuses the call, even when the handler then says Accept.
func TestHangupWhileHandlerDecides(t *testing.T) {
	asked := make(chan SessionID, 1)
	release := make(chan struct{})
	b := newTestPhone(t, Options{Handler: HandlerFunc(func(in IncomingCall) Decision {
		asked <- in.Session
		<-release
		return Accept()
	})})
	a := newTestPhone(t, Options{})
	id, err := a.Dial(context.Background(), b.uri("bob"), DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sid := <-asked
	if err := b.Hangup(sid); err != nil {
		t.Fatal(err)
	}
	close(release)
	ev := a.waitCall(id, StateFailed, wait)
	if ev.Code != 603 {
		t.Errorf("caller saw %d %q, want 603", ev.Code, ev.Reason)
	}
	b.waitCall(sid, StateCancelled, wait)
}
