package ui

import (
	"bytes"
	"context"
	"errors"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/teaphone/teaphone/phone"
	"github.com/teaphone/teaphone/sessions"
)

// syncBuffer is an output the renderer and the bell may write concurrently.
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

func runAsync(ctx context.Context, c Client, o Options) (*io.PipeWriter, *syncBuffer, chan error) {
	in, w := io.Pipe()
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, c, o, in, out)
		_ = in.Close()
	}()
	return w, out, done
}

func wait(t *testing.T, done chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(5 * time.Second):
		t.Fatal("run did not return")
		return nil
	}
}

func TestRunQuitHangsUp(t *testing.T) {
	f := newFake()
	w, out, done := runAsync(context.Background(), f, Options{Now: fixedNow})
	time.Sleep(50 * time.Millisecond)
	_, _ = w.Write([]byte{3}) // ctrl+c, no calls: quits at once
	if err := wait(t, done); err != nil {
		t.Fatalf("run: %v", err)
	}
	if got := f.Commands(); !slices.Contains(got, "HangupAll") {
		t.Errorf("commands %q lack HangupAll", got)
	}
	if !bytes.Contains([]byte(out.String()), []byte("dial>")) {
		t.Errorf("nothing drawn: %q", out.String())
	}
}

func TestRunContextDone(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	f := newFake()
	_, _, done := runAsync(ctx, f, Options{Now: fixedNow})
	time.Sleep(50 * time.Millisecond)
	cancel()
	if err := wait(t, done); !errors.Is(err, context.Canceled) {
		t.Errorf("run = %v, want context.Canceled", err)
	}
	if !slices.Contains(f.Commands(), "HangupAll") {
		t.Error("calls must be hung up when ctx ends")
	}
}

func TestRunPanicRestoresAndReports(t *testing.T) {
	f := panicClient{newFake()}
	w, _, done := runAsync(context.Background(), f, Options{Now: fixedNow})
	time.Sleep(50 * time.Millisecond)
	_, _ = w.Write([]byte("100\r"))
	err := wait(t, done)
	if !errors.Is(err, ErrPanic) {
		t.Fatalf("run = %v, want ErrPanic", err)
	}
}

func TestRunSubscribesToTheRealManager(t *testing.T) {
	mgr := sessions.New()
	defer func() { _ = mgr.Close() }()
	w, _, done := runAsync(context.Background(), mgr, Options{Now: fixedNow})
	time.Sleep(50 * time.Millisecond)
	_, _ = w.Write([]byte{3})
	if err := wait(t, done); err != nil {
		t.Fatalf("run: %v", err)
	}
}

func TestRunLeavesNoGoroutines(t *testing.T) {
	// A first run starts os/signal's process-wide loop; count after it.
	w0, _, done0 := runAsync(context.Background(), newFake(), Options{Now: fixedNow})
	time.Sleep(50 * time.Millisecond)
	_, _ = w0.Write([]byte{3})
	_ = wait(t, done0)
	time.Sleep(1100 * time.Millisecond) // its last clock tick
	before := runtime.NumGoroutine()
	lines := make(chan string) // never closed: run must not leave a reader behind
	ch := make(chan sessions.Event)
	w, _, done := runAsync(context.Background(), newFake(), Options{Now: fixedNow, LogLines: lines, Events: ch})
	time.Sleep(50 * time.Millisecond)
	_, _ = w.Write([]byte{3})
	if err := wait(t, done); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Second) // the clock tick may take up to 1 s to fire
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines left (before %d):\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}

// stubPhone is a session core with only an event stream, which the test
// plays.
type stubPhone struct {
	sessions.Phone
	events chan phone.Event
}

func (p stubPhone) Events() <-chan phone.Event { return p.events }

// lateRegistration is the real client core where a registration completes
// just after the UI read the registrations: a REGISTER 200 that arrives
// while the UI starts.
type lateRegistration struct {
	*sessions.Manager
	events chan phone.Event
	once   sync.Once
}

func (c *lateRegistration) Registrations() []sessions.RegistrationInfo {
	regs := c.Manager.Registrations()
	c.once.Do(func() {
		c.events <- phone.RegistrationEvent{Time: t0, Account: "work", State: sessions.RegRegistered, Expires: 300, Code: 200}
		for len(c.Manager.Registrations()) == 0 { // published
			time.Sleep(time.Millisecond)
		}
	})
	return regs
}

// TestRunSubscribesBeforeItReads: an event published while the UI starts
// (between its reading the calls and registrations and its first event)
// is not lost: the status bar shows the account registered.
func TestRunSubscribesBeforeItReads(t *testing.T) {
	ph := stubPhone{events: make(chan phone.Event)}
	mgr := sessions.New()
	if err := mgr.Start(ph); err != nil {
		t.Fatal(err)
	}
	defer func() { close(ph.events); _ = mgr.Close() }()
	c := &lateRegistration{Manager: mgr, events: ph.events}
	w, out, done := runAsync(context.Background(), c, Options{Now: fixedNow, Accounts: []string{"work"}})
	deadline := time.Now().Add(3 * time.Second)
	for !strings.Contains(out.String(), "work: registered") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	_, _ = w.Write([]byte{3})
	if err := wait(t, done); err != nil {
		t.Fatalf("run: %v", err)
	}
	if !strings.Contains(out.String(), "work: registered") {
		t.Errorf("the registration that completed while the UI started was lost:\n%s", out.String())
	}
}
