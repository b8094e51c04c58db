package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DefaultHistoryKeep is history.keep's default: a year.
const DefaultHistoryKeep = "365d"

// History is the [history] table: the call history database.
type History struct {
	// Enabled keeps every call (direction, peer, times, how it ended, codec,
	// MOS) in the database; `teaphone history` lists them.
	Enabled bool `toml:"enabled"`
	// File is the SQLite database; "" means
	// $XDG_DATA_HOME/teaphone/history.db (~/.local/share/teaphone/history.db).
	File string `toml:"file"`
	// Keep is how long a call stays in the history after it ended: days
	// ("365d") or a Go duration ("720h"); "0" keeps every call. Older rows
	// are deleted at start and once a day.
	Keep string `toml:"keep"`
}

// KeepDuration is Keep as a duration (0: keep everything). Keep must have
// passed Validate; an invalid one keeps everything.
func (h History) KeepDuration() time.Duration {
	d, err := ParseKeep(h.Keep)
	if err != nil {
		return 0
	}
	return d
}

// ParseKeep reads a history.keep value: "0", whole days ("365d") or a Go
// duration ("720h"); "" is the default.
func ParseKeep(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "":
		s = DefaultHistoryKeep
	case "0":
		return 0, nil
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 0 || days > 100*365 {
			return 0, fmt.Errorf("want days like \"365d\" (0..36500), got %q", s)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("want a duration like \"365d\" or \"720h\", or \"0\" to keep every call, got %q", s)
	}
	if d < 0 {
		return 0, errors.New("want 0 or more, got " + s)
	}
	return d, nil
}

func (v *validator) history() {
	d, err := ParseKeep(v.c.History.Keep)
	if err != nil {
		v.addf("history.keep", "%v", err)
		return
	}
	if d != 0 && d < time.Hour {
		v.addf("history.keep", "want 0 (keep every call) or at least 1h, got %s", v.c.History.Keep)
	}
}
