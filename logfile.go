package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/teaphone/teaphone/internal/config"
)

// openLog opens the log: a file in every mode (nothing but Bubble Tea may
// write to the terminal in the TUI), stderr only when asked with --log-file -.
func openLog(cfg config.Config, verbose bool, mode string) (*slog.Logger, *os.File, func(), error) {
	level := slog.LevelInfo
	if verbose {
		level = slog.LevelDebug
	}
	path := cfg.UI.LogPath()
	if path == "-" {
		if mode == "tui" {
			return nil, nil, nil, errors.New("--log-file -: the full-screen phone cannot log to the terminal")
		}
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})), nil, func() {}, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, nil, nil, fmt.Errorf("log file: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("log file: %w", err)
	}
	return slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: level})), f, func() { f.Close() }, nil
}
