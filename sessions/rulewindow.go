package sessions

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/teaphone/teaphone/internal/rulesyntax"
)

// Window is a time-of-day and weekday window of a Rule, in Location (nil =
// local time). Its zero value is always open.
//
// Hours run from Start (inclusive) to End (exclusive), in minutes after
// midnight; End < Start wraps midnight ("18:00-08:00"). Weekdays, when set,
// are the days a window may start on: with hours that wrap midnight, the
// early hours belong to the day before, so "Fri 18:00-08:00" is open from
// Friday 18:00 to Saturday 08:00, and not from Friday 00:00 to 08:00.
// Without hours, Weekdays are whole days.
type Window struct {
	// HasHours is false when the window has no hours (all day).
	HasHours   bool
	Start, End int // minutes after midnight, 0..1440
	// Weekdays are the days the window starts on; empty = every day.
	Weekdays []time.Weekday
	Location *time.Location
}

// IsZero reports whether the window is always open.
func (w Window) IsZero() bool { return !w.HasHours && len(w.Weekdays) == 0 }

// check reports hours out of range and unknown weekdays.
func (w Window) check() error {
	if w.HasHours && (w.Start < 0 || w.Start >= 24*60 || w.End <= 0 || w.End > 24*60 || w.Start == w.End) {
		return fmt.Errorf("hours %d-%d: want minutes 0..1439 to 1..1440, start and end apart", w.Start, w.End)
	}
	for _, d := range w.Weekdays {
		if d < time.Sunday || d > time.Saturday {
			return fmt.Errorf("weekday %d out of range", d)
		}
	}
	return nil
}

// Contains reports whether t falls in the window, and if not, why.
func (w Window) Contains(t time.Time) (bool, string) {
	if w.Location != nil {
		t = t.In(w.Location)
	}
	day := t.Weekday()
	if w.HasHours {
		now := t.Hour()*60 + t.Minute()
		in := false
		switch {
		case w.Start < w.End:
			in = now >= w.Start && now < w.End
		case now >= w.Start: // wraps midnight: the evening part
			in = true
		case now < w.End: // the morning part belongs to yesterday's window
			in = true
			day = (day + 6) % 7
		}
		if !in {
			return false, fmt.Sprintf("%s is outside hours %s", t.Format("15:04 MST"), w.hoursText())
		}
	}
	if len(w.Weekdays) > 0 && !slices.Contains(w.Weekdays, day) {
		if w.HasHours && day != t.Weekday() {
			return false, fmt.Sprintf("%s %s is in the window of %s, not in weekdays %s",
				rulesyntax.WeekdayName(t.Weekday()), t.Format("15:04"), rulesyntax.WeekdayName(day), w.weekdaysText())
		}
		return false, fmt.Sprintf("%s is not in weekdays %s", rulesyntax.WeekdayName(day), w.weekdaysText())
	}
	return true, ""
}

func (w Window) hoursText() string {
	return fmt.Sprintf("%02d:%02d-%02d:%02d", w.Start/60, w.Start%60, w.End/60, w.End%60)
}

func (w Window) weekdaysText() string {
	names := make([]string, len(w.Weekdays))
	for i, d := range w.Weekdays {
		names[i] = rulesyntax.WeekdayName(d)
	}
	return "[" + strings.Join(names, " ") + "]"
}

// String describes the window as the config writes it:
// "hours 18:00-08:00 weekdays [fri] (Europe/Berlin)".
func (w Window) String() string {
	var parts []string
	if w.HasHours {
		parts = append(parts, "hours "+w.hoursText())
	}
	if len(w.Weekdays) > 0 {
		parts = append(parts, "weekdays "+w.weekdaysText())
	}
	if w.Location != nil && len(parts) > 0 {
		parts = append(parts, "("+w.Location.String()+")")
	}
	return strings.Join(parts, " ")
}
