package main

import (
	"log/slog"

	"github.com/teaphone/teaphone/internal/config"
	"github.com/teaphone/teaphone/internal/metrics"
)

// serveMetrics serves the Prometheus metrics at metrics.listen (or
// --metrics), nil and a no-op stop when it is empty. The Metrics follow
// nothing until Start; stop closes the HTTP server and waits for it.
func serveMetrics(cfg config.Config, logger *slog.Logger) (m *metrics.Metrics, stop func(), err error) {
	if cfg.Metrics.Listen == "" {
		return nil, func() {}, nil
	}
	m = metrics.New(logger.With("component", "metrics"))
	srv, err := metrics.Serve(cfg.Metrics.Listen, m.Handler(), logger)
	if err != nil {
		return nil, nil, err
	}
	if !metrics.IsLoopback(srv.Addr()) {
		logger.Warn("metrics served beyond this machine: anyone who reaches the address reads the call figures", "addr", srv.Addr())
	}
	logger.Info("metrics listening", "url", "http://"+srv.Addr()+"/metrics")
	return m, func() { _ = srv.Close() }, nil
}
