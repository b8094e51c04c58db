package ctl

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// echo answers every command with its text, "fail" with an error.
var echo = HandlerFunc(func(_ context.Context, req Request) (Result, error) {
	if req.Cmd == "fail" {
		return nil, errors.New("failed as asked")
	}
	return Result{"echo": req.Cmd, "call": req.Call}, nil
})

func listen(t *testing.T, o Options) (*Server, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "run", "teaphone-1.sock")
	s, err := Listen(path, echo, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, path
}

// client is a raw protocol client.
type client struct {
	t  *testing.T
	nc net.Conn
	sc *bufio.Scanner
}

func connect(t *testing.T, path string) *client {
	t.Helper()
	nc, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nc.Close() })
	sc := bufio.NewScanner(nc)
	sc.Buffer(nil, 1<<20)
	return &client{t: t, nc: nc, sc: sc}
}

func (c *client) send(line string) {
	c.t.Helper()
	if _, err := io.WriteString(c.nc, line+"\n"); err != nil {
		c.t.Fatal(err)
	}
}

// next reads one line as a JSON object.
func (c *client) next() map[string]any {
	c.t.Helper()
	_ = c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if !c.sc.Scan() {
		c.t.Fatalf("no line: %v", c.sc.Err())
	}
	var m map[string]any
	if err := json.Unmarshal(c.sc.Bytes(), &m); err != nil {
		c.t.Fatalf("line %q: %v", c.sc.Text(), err)
	}
	return m
}

func TestGarbageLinesGetErrorsAndTheConnectionStays(t *testing.T) {
	_, path := listen(t, Options{})
	c := connect(t, path)
	for _, tc := range []struct{ line, err string }{
		{"garbage", "malformed request"},
		{`{"cmd":`, "malformed request"},
		{`[1,2]`, "malformed request"},
		{`"hangup"`, "malformed request"},
		{`{"id":"x"}`, `missing "cmd"`},
		{strings.Repeat("x", MaxLine+10), "longer than"},
		{`{"id":"y","cmd":"fail"}`, "failed as asked"},
	} {
		c.send(tc.line)
		r := c.next()
		if r["ok"] != false || !strings.Contains(fmt.Sprint(r["error"]), tc.err) {
			t.Errorf("%.40q: reply %v, want an error with %q", tc.line, r, tc.err)
		}
	}
	c.send(`{"id":2,"cmd":"hold","call":"1"}`)
	if r := c.next(); r["ok"] != true || r["id"] != 2.0 || r["echo"] != "hold" || r["call"] != "1" {
		t.Fatalf("reply %v", r)
	}
	c.send(`{"id":3,"cmd":"hold","call":2}`)
	if r := c.next(); r["ok"] != true || r["call"] != "2" {
		t.Fatalf("call as a number: reply %v", r)
	}
	c.send(`{"id":4,"cmd":"hold","call":[2]}`)
	if r := c.next(); r["ok"] != false || !strings.Contains(fmt.Sprint(r["error"]), "want a line number") {
		t.Fatalf("call as a list: reply %v", r)
	}
}

// TestHalfClosedClient: a client that sends its request and closes its
// side (printf … | socat) still gets the reply, then the end.
func TestHalfClosedClient(t *testing.T) {
	_, path := listen(t, Options{})
	c := connect(t, path)
	c.send(`{"id":"1","cmd":"calls"}`)
	if err := c.nc.(*net.UnixConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if r := c.next(); r["id"] != "1" || r["ok"] != true {
		t.Fatalf("reply %v", r)
	}
	if c.sc.Scan() {
		t.Fatalf("more after the reply: %q", c.sc.Text())
	}
}

// TestFallbackDirectory: without XDG_RUNTIME_DIR the sockets go to a
// private directory of ours under the temporary directory.
func TestFallbackDirectory(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("XDG_RUNTIME_DIR", "")
	t.Setenv("TMPDIR", tmp)
	want := filepath.Join(tmp, fmt.Sprintf("teaphone-%d", os.Getuid()))
	if Dir() != want {
		t.Fatalf("Dir() = %q, want %q", Dir(), want)
	}
	s, err := Listen(SocketPath(42), echo, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fi, err := os.Stat(want)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("%s: %v, %v; want a 0700 directory", want, fi, err)
	}
	if got, err := Find(Dir()); err != nil || got != filepath.Join(want, "teaphone-42.sock") {
		t.Fatalf("Find: %q, %v", got, err)
	}
}

func TestReplyPutsIDAndOKFirst(t *testing.T) {
	got := string(Reply(json.RawMessage(`"1"`), Result{"line": 1, "call_id": "c", "ok": "x"}, nil))
	if want := `{"id":"1","ok":true,"call_id":"c","line":1}` + "\n"; got != want {
		t.Errorf("got %s want %s", got, want)
	}
	got = string(Reply(nil, nil, errors.New(`bad "x"`)))
	if want := `{"ok":false,"error":"bad \"x\""}` + "\n"; got != want {
		t.Errorf("got %s want %s", got, want)
	}
}

func TestTwoClientsAtOnce(t *testing.T) {
	s, path := listen(t, Options{})
	a, b := connect(t, path), connect(t, path)
	a.send(`{"id":"a","cmd":"events"}`)
	b.send(`{"id":"b","cmd":"events"}`)
	if r := a.next(); r["id"] != "a" || r["ok"] != true {
		t.Fatal(r)
	}
	if r := b.next(); r["id"] != "b" || r["ok"] != true {
		t.Fatal(r)
	}
	// Commands on both, interleaved with events.
	a.send(`{"id":"a1","cmd":"dial sip:x@y"}`)
	b.send(`{"id":"b1","cmd":"hangup"}`)
	if r := a.next(); r["id"] != "a1" || r["echo"] != "dial sip:x@y" {
		t.Fatal(r)
	}
	if r := b.next(); r["id"] != "b1" || r["echo"] != "hangup" {
		t.Fatal(r)
	}
	fmt.Fprintf(s, `{"event":"call","n":1}`+"\n")
	for _, c := range []*client{a, b} {
		if ev := c.next(); ev["event"] != "call" || ev["n"] != 1.0 {
			t.Fatal(ev)
		}
	}
	// A client that did not subscribe gets replies only.
	c := connect(t, path)
	fmt.Fprintf(s, `{"event":"call","n":2}`+"\n")
	c.send(`{"id":"c","cmd":"calls"}`)
	if r := c.next(); r["id"] != "c" {
		t.Fatalf("unsubscribed client got %v", r)
	}
}

// TestSlowClientDoesNotBlockOthers: a client that subscribes and never
// reads is disconnected once its queue is full (told so with one line if it
// reads later); the writer never waits and the other client gets every event.
func TestSlowClientDoesNotBlockOthers(t *testing.T) {
	const queue, events = 32, 2000
	s, path := listen(t, Options{Queue: queue})
	slow, fast := connect(t, path), connect(t, path)
	slow.send(`{"cmd":"events"}`)
	fast.send(`{"cmd":"events"}`)
	slow.next()
	fast.next()
	pad := strings.Repeat("x", 4000)
	for i := range events {
		done := make(chan struct{})
		go func() {
			defer close(done)
			fmt.Fprintf(s, `{"event":"media","n":%d,"pad":%q}`+"\n", i, pad)
		}()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			t.Fatalf("event %d: Write blocked", i)
		}
		if ev := fast.next(); ev["n"] != float64(i) {
			t.Fatalf("fast client got %v, want event %d", ev["n"], i)
		}
	}
	// The slow client: what fitted in the socket, then the notice, then EOF.
	_ = slow.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	var last string
	n := 0
	for slow.sc.Scan() {
		last = slow.sc.Text()
		n++
	}
	if !strings.Contains(last, `"event":"ctl"`) || !strings.Contains(last, "disconnected") {
		t.Errorf("slow client's last line %.100q (after %d lines; %v), want the notice", last, n, slow.sc.Err())
	}
	if n >= events {
		t.Errorf("slow client got %d lines: it was never cut off", n)
	}
}

func TestSocketMode0600AndCloseRemovesIt(t *testing.T) {
	base := runtime.NumGoroutine()
	dir := filepath.Join(t.TempDir(), "run")
	path := filepath.Join(dir, "teaphone-1.sock")
	s, err := Listen(path, echo, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]os.FileMode{dir: 0o700, path: 0o600} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %#o, want %#o", p, fi.Mode().Perm(), want)
		}
	}
	c := connect(t, path)
	c.send(`{"cmd":"events"}`)
	c.next()
	fmt.Fprintln(s, `{"event":"registration","state":"unregistered"}`)
	_ = s.Close()
	if ev := c.next(); ev["state"] != "unregistered" { // what was queued is delivered
		t.Errorf("last event %v", ev)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket left behind: %v", err)
	}
	if c.sc.Scan() {
		t.Errorf("connection still up after Close: %q", c.sc.Text())
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base {
		t.Errorf("%d goroutines left, %d before", n, base)
	}
}

func TestUnsafeDirectoriesRefused(t *testing.T) {
	tmp := t.TempDir()
	open := filepath.Join(tmp, "open")
	if err := os.Mkdir(open, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	if _, err := Listen(filepath.Join(open, "teaphone-1.sock"), echo, Options{}); err == nil || !strings.Contains(err.Error(), "writable") {
		t.Errorf("0777 directory: %v, want refused as writable", err)
	}
	group := filepath.Join(tmp, "group")
	_ = os.Mkdir(group, 0o700)
	_ = os.Chmod(group, 0o770)
	if err := CheckDir(group); err == nil {
		t.Error("0770 directory accepted")
	}
	link := filepath.Join(tmp, "link")
	private := filepath.Join(tmp, "private")
	_ = os.Mkdir(private, 0o700)
	if err := os.Symlink(private, link); err != nil {
		t.Fatal(err)
	}
	if err := CheckDir(link); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("symbolic link: %v, want refused", err)
	}
	if os.Getuid() == 0 {
		other := filepath.Join(tmp, "other")
		_ = os.Mkdir(other, 0o700)
		if err := os.Chown(other, 4242, 4242); err != nil {
			t.Fatal(err)
		}
		if err := CheckDir(other); err == nil || !strings.Contains(err.Error(), "owned by uid 4242") {
			t.Errorf("directory of another user: %v, want refused", err)
		}
	}
}

func TestStaleSocketReplacedLiveOneRefused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	path := filepath.Join(dir, "teaphone-1.sock")
	s, err := Listen(path, echo, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Listen(path, echo, Options{}); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("second Listen on a live socket: %v", err)
	}
	_ = s.Close()
	// A crash leaves the file: make one nobody listens on.
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	_ = ln.Close()
	s, err = Listen(path, echo, Options{})
	if err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	_ = s.Close()
}

func TestFindAndClient(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := Find(dir); !errors.Is(err, ErrNoSocket) {
		t.Errorf("no directory: %v", err)
	}
	s1, err := Listen(filepath.Join(dir, "teaphone-1.sock"), echo, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s1.Close()
	got, err := Find(dir)
	if err != nil || got != s1.Path() {
		t.Fatalf("Find: %q, %v", got, err)
	}
	ctx := context.Background()
	r, err := Do(ctx, got, Request{Cmd: "hold", Call: "2"})
	if err != nil || !r.OK || !strings.Contains(string(r.Raw), `"echo":"hold"`) {
		t.Fatalf("Do: %+v %s, %v", r, r.Raw, err)
	}
	r, err = Do(ctx, got, Request{Cmd: "fail"})
	if err != nil || r.OK || r.Error != "failed as asked" {
		t.Fatalf("Do fail: %+v, %v", r, err)
	}

	// Follow prints events until its context ends.
	fctx, cancel := context.WithCancel(ctx)
	out := chanWriter(make(chan string, 100))
	done := make(chan error, 1)
	go func() { done <- Follow(fctx, got, out) }()
	deadline := time.Now().Add(5 * time.Second)
wait:
	for {
		fmt.Fprintln(s1, `{"event":"call","n":1}`) // until the subscription is in place
		select {
		case line := <-out:
			if strings.Contains(line, `"events":true`) {
				continue // the reply comes first
			}
			if line != `{"event":"call","n":1}`+"\n" {
				t.Fatalf("Follow wrote %q", line)
			}
			break wait
		case <-time.After(50 * time.Millisecond):
			if time.Now().After(deadline) {
				t.Fatal("Follow printed nothing")
			}
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Follow after cancel: %v", err)
	}

	s2, err := Listen(filepath.Join(dir, "teaphone-2.sock"), echo, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if _, err := Find(dir); err == nil || !strings.Contains(err.Error(), "2 teaphones") {
		t.Errorf("Find with two: %v", err)
	}
}

// chanWriter sends each Write to the channel (dropped when it is full).
type chanWriter chan string

func (w chanWriter) Write(p []byte) (int, error) {
	select {
	case w <- string(p):
	default:
	}
	return len(p), nil
}

// TestGoneSubscriberDropped: a subscriber that goes away is dropped at
// once, not at the next event.
func TestGoneSubscriberDropped(t *testing.T) {
	s, path := listen(t, Options{})
	c := connect(t, path)
	c.send(`{"cmd":"events"}`)
	c.next()
	_ = c.nc.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		s.mu.Lock()
		n := len(s.conns)
		s.mu.Unlock()
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d connections still held", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
