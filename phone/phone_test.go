package phone

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	SetLibraryLogger(slog.New(slog.DiscardHandler))
	os.Exit(m.Run())
}

// testPhone is a Phone on 127.0.0.1 with a recorded event stream.
type testPhone struct {
	*Phone
	t      *testing.T
	mu     sync.Mutex
	events []Event
	cond   *sync.Cond
	done   chan struct{}
}

// RTP port windows for test phones: 200 ports each, cycling below the
// kernel's ephemeral range (32768+) and below the peers' ports (20000+), so
// that tests running in parallel packages rarely meet; the allocator scans its
// whole window anyway.
var portBase = struct {
	sync.Mutex
	next int
}{next: 10000 + int(time.Now().UnixNano()%40)*200}

func rtpRange() (int, int) {
	portBase.Lock()
	defer portBase.Unlock()
	lo := portBase.next
	portBase.next += 200
	if portBase.next >= 19800 {
		portBase.next = 10000
	}
	return lo, lo + 199
}

func newTestPhone(t *testing.T, opts Options) *testPhone {
	t.Helper()
	if opts.Listen == "" {
		opts.Listen = "127.0.0.1:0"
	}
	if opts.RTPPortMin == 0 {
		opts.RTPPortMin, opts.RTPPortMax = rtpRange()
	}
	p, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	tp := &testPhone{Phone: p, t: t, done: make(chan struct{})}
	tp.cond = newCond(tp)
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	go tp.collect()
	t.Cleanup(func() {
		p.Close()
		<-tp.done
	})
	return tp
}

func newCond(tp *testPhone) *sync.Cond { return sync.NewCond(&tp.mu) }

// collect records the event stream until it closes.
func (tp *testPhone) collect() {
	defer close(tp.done)
	for ev := range tp.Events() {
		tp.mu.Lock()
		tp.events = append(tp.events, ev)
		tp.cond.Broadcast()
		tp.mu.Unlock()
	}
}

func (tp *testPhone) uri(user string) string {
	return fmt.Sprintf("sip:%s@%s", user, tp.LocalAddr())
}

// waitCall waits for a CallEvent of session id (any session if "") in state st.
func (tp *testPhone) waitCall(id SessionID, st State, d time.Duration) CallEvent {
	tp.t.Helper()
	var got CallEvent
	ok := tp.waitFor(d, func(ev Event) bool {
		ce, ok := ev.(CallEvent)
		if ok && (id == "" || ce.Session == id) && ce.State == st {
			got = ce
			return true
		}
		return false
	})
	if !ok {
		tp.t.Fatalf("no %s event for session %q within %v; events: %s", st, id, d, tp.dump())
	}
	return got
}

func (tp *testPhone) waitFor(d time.Duration, match func(Event) bool) bool {
	deadline := time.Now().Add(d)
	timer := time.AfterFunc(d, func() { tp.mu.Lock(); tp.cond.Broadcast(); tp.mu.Unlock() })
	defer timer.Stop()
	tp.mu.Lock()
	defer tp.mu.Unlock()
	for {
		for _, ev := range tp.events {
			if match(ev) {
				return true
			}
		}
		if time.Now().After(deadline) {
			return false
		}
		tp.cond.Wait()
	}
}

func (tp *testPhone) states(id SessionID) []State {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	var out []State
	for _, ev := range tp.events {
		if ce, ok := ev.(CallEvent); ok && ce.Session == id {
			if len(out) == 0 || out[len(out)-1] != ce.State {
				out = append(out, ce.State)
			}
		}
	}
	return out
}

func (tp *testPhone) dump() string {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	var b strings.Builder
	for _, ev := range tp.events {
		fmt.Fprintf(&b, "\n  %+v", ev)
	}
	return b.String()
}

// handlerChan passes incoming calls to the test and returns what it decides.
type handlerChan struct {
	calls chan IncomingCall
	dec   Decision
}

func (h *handlerChan) OnIncomingCall(c IncomingCall) Decision {
	select {
	case h.calls <- c:
	default:
	}
	return h.dec
}

func (h *handlerChan) next(t *testing.T, caller *testPhone) IncomingCall {
	t.Helper()
	select {
	case ic := <-h.calls:
		return ic
	case <-time.After(wait):
		t.Fatalf("no incoming call; caller events: %s", caller.dump())
	}
	return IncomingCall{}
}

func pair(t *testing.T, dec Decision) (*testPhone, *testPhone, *handlerChan) {
	h := &handlerChan{calls: make(chan IncomingCall, 4), dec: dec}
	a := newTestPhone(t, Options{})
	b := newTestPhone(t, Options{Handler: h})
	return a, b, h
}

const wait = 10 * time.Second

func TestCallAcceptAndHangupEachSide(t *testing.T) {
	for _, side := range []string{"caller", "callee"} {
		t.Run(side+" hangs up", func(t *testing.T) {
			a, b, h := pair(t, Accept())
			id, err := a.Dial(context.Background(), b.uri("bob"), DialOptions{Subject: "hello"})
			if err != nil {
				t.Fatal(err)
			}
			ic := h.next(t, a)
			if ic.Subject != "hello" || !strings.Contains(ic.RemoteURI, "sip:127.0.0.1:") {
				t.Errorf("incoming call = %+v", ic)
			}
			a.waitCall(id, StateActive, wait)
			bActive := b.waitCall(ic.Session, StateActive, wait)
			if bActive.Codec != "PCMU" || bActive.Direction != DirectionIncoming {
				t.Errorf("callee active event = %+v", bActive)
			}
			if side == "caller" {
				if err := a.Hangup(id); err != nil {
					t.Fatal(err)
				}
				a.waitCall(id, StateTerminated, wait)
				ev := b.waitCall(ic.Session, StateTerminated, wait)
				if ev.Reason != "remote hangup" || ev.Code != 200 {
					t.Errorf("callee end = %+v", ev)
				}
			} else {
				if err := b.Hangup(ic.Session); err != nil {
					t.Fatal(err)
				}
				ev := a.waitCall(id, StateTerminated, wait)
				if ev.Reason != "remote hangup" {
					t.Errorf("caller end = %+v", ev)
				}
				b.waitCall(ic.Session, StateTerminated, wait)
			}
			want := []State{StateInitiating, StateProceeding, StateRinging, StateActive, StateTerminated}
			got := a.states(id)
			if side == "caller" {
				want = []State{StateInitiating, StateProceeding, StateRinging, StateActive, StateTerminating, StateTerminated}
			}
			// 100 Trying comes only after 200 ms, and sipgo handles each response
			// on its own goroutine: a 180 overtaken by the 200 is ignored.
			if !sameStates(removeState(removeState(got, StateProceeding), StateRinging), removeState(removeState(want, StateProceeding), StateRinging)) {
				t.Errorf("caller states = %v, want %v; events: %s", got, want, a.dump())
			}
		})
	}
}

func sameStates(a, b []State) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func removeState(s []State, x State) []State {
	var out []State
	for _, v := range s {
		if v != x {
			out = append(out, v)
		}
	}
	return out
}

func TestCallRejected486(t *testing.T) {
	a, b, h := pair(t, Reject(486, "Busy Here"))
	id, err := a.Dial(context.Background(), b.uri("bob"), DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ic := h.next(t, a)
	ev := a.waitCall(id, StateFailed, wait)
	if ev.Code != 486 || ev.Reason != "Busy Here" {
		t.Errorf("caller = %+v", ev)
	}
	be := b.waitCall(ic.Session, StateCancelled, wait)
	if be.Code != 486 {
		t.Errorf("callee = %+v", be)
	}
}

func TestDeferThenAccept(t *testing.T) {
	a, b, h := pair(t, Defer(0))
	id, _ := a.Dial(context.Background(), b.uri("bob"), DialOptions{})
	ic := h.next(t, a)
	a.waitCall(id, StateRinging, wait)
	if err := b.Accept(ic.Session); err != nil {
		t.Fatal(err)
	}
	a.waitCall(id, StateActive, wait)
	b.waitCall(ic.Session, StateActive, wait)
	if err := b.Accept(ic.Session); !errors.Is(err, ErrWrongState) {
		t.Errorf("second accept err = %v", err)
	}
}

func TestDeferThenRejectAndTimeout(t *testing.T) {
	t.Run("reject", func(t *testing.T) {
		a, b, h := pair(t, Defer(0))
		id, _ := a.Dial(context.Background(), b.uri("bob"), DialOptions{})
		ic := h.next(t, a)
		b.waitCall(ic.Session, StateRinging, wait)
		if err := b.Reject(ic.Session, 603, "Decline"); err != nil {
			t.Fatal(err)
		}
		if ev := a.waitCall(id, StateFailed, wait); ev.Code != 603 {
			t.Errorf("caller = %+v", ev)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		a, b, h := pair(t, Defer(300*time.Millisecond))
		id, _ := a.Dial(context.Background(), b.uri("bob"), DialOptions{})
		ic := h.next(t, a)
		if ev := b.waitCall(ic.Session, StateFailed, wait); ev.Code != 480 {
			t.Errorf("callee = %+v", ev)
		}
		if ev := a.waitCall(id, StateFailed, wait); ev.Code != 480 {
			t.Errorf("caller = %+v", ev)
		}
	})
}

func TestForward302(t *testing.T) {
	a, b, h := pair(t, Forward("sip:carol@127.0.0.1:5999"))
	id, _ := a.Dial(context.Background(), b.uri("bob"), DialOptions{})
	ic := h.next(t, a)
	if ev := a.waitCall(id, StateFailed, wait); ev.Code != 302 {
		t.Errorf("caller = %+v", ev)
	}
	if ev := b.waitCall(ic.Session, StateCancelled, wait); ev.Code != 302 || !strings.Contains(ev.Reason, "carol") {
		t.Errorf("callee = %+v", ev)
	}
}

func TestCancelWhileRinging(t *testing.T) {
	a, b, h := pair(t, Defer(0))
	id, _ := a.Dial(context.Background(), b.uri("bob"), DialOptions{})
	ic := h.next(t, a)
	a.waitCall(id, StateRinging, wait)
	if err := a.Hangup(id); err != nil {
		t.Fatal(err)
	}
	a.waitCall(id, StateCancelled, wait)
	ev := b.waitCall(ic.Session, StateCancelled, wait)
	if ev.Code != 487 || ev.Reason != "cancelled by caller" {
		t.Errorf("callee = %+v", ev)
	}
}

func TestCancelBeforeAnyResponse(t *testing.T) {
	// A "peer" that never answers: a bound UDP socket nobody reads.
	sink, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	a := newTestPhone(t, Options{})
	id, err := a.Dial(context.Background(), "sip:nobody@"+sink.LocalAddr().String(), DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a.waitCall(id, StateInitiating, wait)
	if err := a.Hangup(id); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	a.waitCall(id, StateCancelled, wait)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("cancel took %v", d)
	}
}

func TestNoCommonCodec488(t *testing.T) {
	a := newTestPhone(t, Options{Codecs: []string{"PCMA"}})
	b := newTestPhone(t, Options{Codecs: []string{"PCMU"}, Handler: HandlerFunc(func(IncomingCall) Decision { return Accept() })})
	id, _ := a.Dial(context.Background(), b.uri("bob"), DialOptions{})
	if ev := a.waitCall(id, StateFailed, wait); ev.Code != 488 {
		t.Errorf("caller = %+v", ev)
	}
}

func TestMaxCalls486(t *testing.T) {
	a := newTestPhone(t, Options{})
	b := newTestPhone(t, Options{MaxCalls: 1, Handler: HandlerFunc(func(IncomingCall) Decision { return Defer(0) })})
	id1, _ := a.Dial(context.Background(), b.uri("bob"), DialOptions{})
	a.waitCall(id1, StateRinging, wait)
	id2, _ := a.Dial(context.Background(), b.uri("bob"), DialOptions{})
	if ev := a.waitCall(id2, StateFailed, wait); ev.Code != 486 {
		t.Errorf("second call = %+v", ev)
	}
}

func TestDialRefusesInjection(t *testing.T) {
	a := newTestPhone(t, Options{})
	for _, target := range []string{
		"sip:bob@127.0.0.1\r\nX-Evil: 1",
		"bob\n@127.0.0.1",
		"<sip:bob@127.0.0.1>",
		"",
		"12345", // no account, no domain
	} {
		if _, err := a.Dial(context.Background(), target, DialOptions{}); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("Dial(%q) err = %v, want ErrInvalidInput", target, err)
		}
	}
	if _, err := a.Dial(context.Background(), "sip:bob@127.0.0.1:9", DialOptions{Subject: "hi\r\nX: y"}); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("subject injection err = %v", err)
	}
	if _, err := a.Dial(context.Background(), "sip:bob@127.0.0.1:9", DialOptions{Headers: map[string]string{"X-A": "1\n2"}}); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("header injection err = %v", err)
	}
}

func TestTCPCall(t *testing.T) {
	a, b, h := pair(t, Accept())
	id, err := a.Dial(context.Background(), b.uri("bob")+";transport=tcp", DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ic := h.next(t, a)
	a.waitCall(id, StateActive, wait)
	b.waitCall(ic.Session, StateActive, wait)
	b.Hangup(ic.Session)
	a.waitCall(id, StateTerminated, wait)
}

// TestUnregisteredAccountDirectCalls: an account with register=false still
// places and receives direct calls, with its identity in From.
func TestUnregisteredAccountDirectCalls(t *testing.T) {
	h := &handlerChan{calls: make(chan IncomingCall, 4), dec: Accept()}
	a := newTestPhone(t, Options{Accounts: []Account{{Name: "home", AOR: "sip:alice@example.invalid", DisplayName: "Alice", Register: false}}})
	b := newTestPhone(t, Options{Handler: h, Accounts: []Account{{Name: "desk", AOR: "sip:bob@example.invalid", Register: false}}})
	id, err := a.Dial(context.Background(), b.uri("bob"), DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ic := h.next(t, a)
	if ic.RemoteURI != "sip:alice@example.invalid" || ic.RemoteDisplay != "Alice" || ic.Account != "desk" {
		t.Errorf("incoming = %+v", ic)
	}
	if ev := a.waitCall(id, StateActive, wait); ev.Account != "home" {
		t.Errorf("outgoing account = %q", ev.Account)
	}
	a.Hangup(id)
	b.waitCall(ic.Session, StateTerminated, wait)
}
