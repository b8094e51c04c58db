// Package ctl is teaphone's control socket: a Unix socket through which
// other programs (and "teaphone ctl") drive a running teaphone — the TUI or
// a headless mode — and follow its events.
//
// The protocol is one JSON object per line both ways. A request is
//
//	{"id":"1","cmd":"dial sip:bob@example.com"}
//	{"id":"2","cmd":"hold","call":"1"}
//
// with commands in the call-script grammar (internal/script) plus dial,
// calls and events; "call" names the call (a line or a call ID) and may be
// left out when only one call could be meant. The reply carries the same id:
//
//	{"id":"1","ok":true,"call_id":"…","line":1}
//	{"id":"2","ok":false,"error":"…"}
//
// {"cmd":"events"} subscribes the connection to the events the headless
// modes print (the same JSON lines); replies and events then share the
// connection, events being the lines with an "event" field. A client that
// closes its side (shutdown SHUT_WR) gets the replies to what it sent, and
// then the connection ends: a client following events keeps its side open.
//
// Each connection has a bounded queue of lines to write. A client that lets
// it fill up (it does not read) is disconnected: the queue is replaced by
// one {"event":"ctl","error":"…"} line, written if the client reads within
// a few seconds, and the connection is closed. The phone never waits for a
// client.
package ctl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// Limits of the protocol.
const (
	// MaxLine bounds a request line; a longer one gets an error reply.
	MaxLine = 64 << 10
	// DefaultQueue is how many lines may wait to be written to a client
	// before it is disconnected.
	DefaultQueue = 4096
	// kickGrace is how long a disconnected client has to read the notice.
	kickGrace = 2 * time.Second
	// flushGrace is how long Close waits for a client to read what is
	// queued for it.
	flushGrace = time.Second
	// maxPath is the longest socket path (sun_path holds 108 bytes on
	// Linux, 104 on the BSDs, with a terminating NUL).
	maxPath = 103
)

// Request is one request line.
type Request struct {
	ID   json.RawMessage `json:"id,omitempty"`
	Cmd  string          `json:"cmd"`
	Call CallRef         `json:"call,omitempty"`
}

// CallRef names a call: a line or a call ID, written as a JSON string or a
// number ("call":2 is "call":"2").
type CallRef string

// UnmarshalJSON implements json.Unmarshaler.
func (r *CallRef) UnmarshalJSON(b []byte) error {
	var n json.Number
	if err := json.Unmarshal(b, &n); err == nil {
		*r = CallRef(n.String())
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New(`"call": want a line number or a call ID`)
	}
	*r = CallRef(s)
	return nil
}

// Result is the fields a successful command adds to its reply.
type Result map[string]any

// Handler runs the commands of the protocol (all but events). ctx ends when
// the server closes.
type Handler interface {
	Do(ctx context.Context, req Request) (Result, error)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, req Request) (Result, error)

// Do implements Handler.
func (f HandlerFunc) Do(ctx context.Context, req Request) (Result, error) { return f(ctx, req) }

// Options configure Listen.
type Options struct {
	// Queue bounds each client's queue of lines (0: DefaultQueue).
	Queue int
	// Log receives connection errors (nil: discarded).
	Log *slog.Logger
}

// Server is a listening control socket. Lines written to it (Write) go to
// every client subscribed to events. Close it when done.
type Server struct {
	path  string
	ln    *net.UnixListener
	h     Handler
	queue int
	log   *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	conns   map[*conn]struct{}
	closed  bool
	closeMu sync.Once
}

// Listen creates the socket at path (mode 0600) in a directory that passes
// CheckDir — made with mode 0700 when missing — and serves h on it. A stale
// socket at path (nobody listening) is replaced; a live one is an error.
func Listen(path string, h Handler, o Options) (*Server, error) {
	if len(path) > maxPath {
		return nil, fmt.Errorf("control socket %s: path too long (%d bytes; a Unix socket path holds %d)", path, len(path), maxPath)
	}
	if err := PrepareDir(filepath.Dir(path)); err != nil {
		return nil, err
	}
	if err := removeStale(path); err != nil {
		return nil, err
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	ln.SetUnlinkOnClose(true)
	if err := os.Chmod(path, 0o600); err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("control socket: %w", err)
	}
	if o.Queue <= 0 {
		o.Queue = DefaultQueue
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	s := &Server{path: path, ln: ln, h: h, queue: o.Queue, log: o.Log, conns: make(map[*conn]struct{})}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// removeStale removes a socket at path nobody listens on.
func removeStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("control socket: %w", err)
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("control socket %s: exists and is not a socket", path)
	}
	c, err := net.DialTimeout("unix", path, time.Second)
	if err == nil {
		_ = c.Close()
		return fmt.Errorf("control socket %s: in use by another teaphone", path)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("control socket %s: %w", path, err)
	}
	return os.Remove(path)
}

// Path returns the socket's path.
func (s *Server) Path() string { return s.path }

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			if s.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors, say: try again in a moment.
			s.log.Warn("ctl: accept", "err", err)
			select {
			case <-time.After(100 * time.Millisecond):
			case <-s.ctx.Done():
				return
			}
			continue
		}
		c := newConn(s, nc)
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			_ = nc.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.wg.Add(2)
		s.mu.Unlock()
		go c.read()
		go c.write()
	}
}

// Write sends p — one or more whole event lines — to every client
// subscribed to events, without waiting for any. It always succeeds, so a
// headless.Printer can write to it.
func (s *Server) Write(p []byte) (int, error) {
	line := append([]byte(nil), p...)
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		if c.subscribed() {
			c.send(line)
		}
	}
	return len(p), nil
}

func (s *Server) drop(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// Close stops accepting, removes the socket file, gives each client
// flushGrace at most to read what is queued for it, disconnects it, and
// waits for every goroutine of the server. It is idempotent.
func (s *Server) Close() error {
	var err error
	s.closeMu.Do(func() {
		s.cancel() // commands in progress
		s.mu.Lock()
		s.closed = true
		for c := range s.conns {
			c.finish()
		}
		s.mu.Unlock()
		err = s.ln.Close()
		s.wg.Wait()
	})
	return err
}
