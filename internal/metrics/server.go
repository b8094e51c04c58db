package metrics

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DefaultHost is the host of a listen address written without one
// (":9464", "9464"): the metrics stay on loopback unless an address says
// otherwise.
const DefaultHost = "127.0.0.1"

// ListenAddr completes a metrics listen address: a bare port ("9464") or
// an empty host (":9464") gets DefaultHost; an explicit host is kept, a
// non-loopback one included.
func ListenAddr(s string) (string, error) {
	if s != "" && strings.Trim(s, "0123456789") == "" {
		s = ":" + s
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return "", fmt.Errorf("want host:port such as \"127.0.0.1:9464\" or a port, got %q", s)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return "", fmt.Errorf("port %q is not a number in 0..65535", port)
	}
	if host == "" {
		host = DefaultHost
	}
	return net.JoinHostPort(host, port), nil
}

// IsLoopback reports whether addr (host:port) names only this machine:
// a loopback IP or "localhost".
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Server serves a handler at /metrics on one listener, on a goroutine of
// its own until Close.
type Server struct {
	srv  *http.Server
	addr string
	done chan struct{}
}

// Serve listens on addr (completed by ListenAddr) and serves h at /metrics.
// An address in use is an error naming it.
func Serve(addr string, h http.Handler, logger *slog.Logger) (*Server, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	full, err := ListenAddr(addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	ln, err := net.Listen("tcp", full)
	if err != nil {
		return nil, fmt.Errorf("metrics: cannot listen on %s: %w", full, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", h)
	s := &Server{
		srv:  &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second},
		addr: ln.Addr().String(),
		done: make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Warn("metrics server stopped", "err", err)
		}
	}()
	return s, nil
}

// Addr is the address the server listens on (the port chosen when 0 was asked).
func (s *Server) Addr() string { return s.addr }

// Close stops the listener and the connections, and waits for the
// server's goroutine. It is idempotent.
func (s *Server) Close() error {
	err := s.srv.Close()
	<-s.done
	return err
}
