package sessions

import (
	"log/slog"
	"time"
)

// Defaults of the Manager's options.
const (
	DefaultHistoryLimit    = 200
	DefaultSubscriberLimit = 100_000
)

type config struct {
	autoHold        bool
	recordDir       string
	recordTemplate  string
	now             func() time.Time
	historyLimit    int
	subscriberLimit int
	ringTimeout     time.Duration
	log             *slog.Logger
}

// Option configures a Manager.
type Option func(*config)

// WithAutoHold holds the connected calls when the user answers or places
// another call (call waiting), as desk phones do.
func WithAutoHold(on bool) Option { return func(c *config) { c.autoHold = on } }

// WithRecording sets where SetRecording writes: dir and a file name template
// ("" = DefaultRecordTemplate).
func WithRecording(dir, template string) Option {
	return func(c *config) { c.recordDir, c.recordTemplate = dir, template }
}

// WithClock sets the clock used for timestamps the Manager makes itself
// (session-core events carry their own time).
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithHistoryLimit bounds History to the last n ended calls (default 200).
func WithHistoryLimit(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.historyLimit = n
		}
	}
}

// WithSubscriberLimit sets how many undelivered events a subscriber may have
// before it is cut off with ErrSlowSubscriber (default 100 000; 0 = no limit).
func WithSubscriberLimit(n int) Option {
	return func(c *config) {
		if n >= 0 {
			c.subscriberLimit = n
		}
	}
}

// WithRingTimeout sets how long a deferred or ignored incoming call rings
// before the session core refuses it (0 = the session core's default).
func WithRingTimeout(d time.Duration) Option {
	return func(c *config) {
		if d >= 0 {
			c.ringTimeout = d
		}
	}
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.log = l
		}
	}
}
